//! The CPython interpreters installed on this machine (through pyenv, else `python3` on PATH).

use std::path::PathBuf;
use std::process::Command;

/// One installed interpreter.
#[derive(Debug, Clone)]
pub struct InstalledPython {
    /// Its version, e.g. `3.12.1`.
    pub version: String,
    /// `(major, minor)`.
    pub major_minor: (u32, u32),
    /// Path to the interpreter executable.
    pub path: PathBuf,
}

/// pyenv's root: `PYENV_ROOT`, else `~/.pyenv`, if it exists.
pub fn pyenv_root() -> Option<PathBuf> {
    std::env::var_os("PYENV_ROOT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")))
        .filter(|p| p.join("versions").is_dir())
}

/// Every installed CPython, oldest first. pyenv's CPython builds (plain version directory
/// names) are listed; without pyenv, the `python3` on PATH.
pub fn all() -> Vec<InstalledPython> {
    let mut found = Vec::new();
    if let Some(root) = pyenv_root() {
        if let Ok(entries) = fs_err::read_dir(root.join("versions")) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some(major_minor) = parse_version(&name) else {
                    continue;
                };
                let bin = entry.path().join("bin");
                let exe = [
                    format!("python{}.{}", major_minor.0, major_minor.1),
                    "python".into(),
                ]
                .into_iter()
                .map(|n| bin.join(n))
                .find(|p| p.is_file());
                if let Some(path) = exe {
                    found.push(InstalledPython {
                        version: name,
                        major_minor,
                        path,
                    });
                }
            }
        }
    }
    if found.is_empty() {
        if let Some(python) = from_path("python3") {
            found.push(python);
        }
    }
    found.sort_by_key(|p| version_key(&p.version));
    found
}

/// Installed CPythons that can host a PEP 405 virtual environment (3.3+).
pub fn venv_capable() -> Vec<InstalledPython> {
    all()
        .into_iter()
        .filter(|p| p.major_minor >= (3, 3))
        .collect()
}

/// The oldest and the newest venv-capable CPython (the same one if only one is installed).
pub fn oldest_and_newest() -> Vec<InstalledPython> {
    let all = venv_capable();
    let mut out = Vec::new();
    if let Some(first) = all.first() {
        out.push(first.clone());
    }
    if let Some(last) = all
        .last()
        .filter(|l| all.len() > 1 && l.version != all[0].version)
    {
        out.push(last.clone());
    }
    out
}

/// The newest venv-capable CPython.
pub fn newest() -> InstalledPython {
    venv_capable().pop().expect("a CPython 3.3+ is installed")
}

/// The oldest venv-capable CPython.
pub fn oldest() -> InstalledPython {
    venv_capable()
        .into_iter()
        .next()
        .expect("a CPython 3.3+ is installed")
}

/// The newest installed CPython with a working pip, for tests that compare against pip.
pub fn with_pip() -> Option<InstalledPython> {
    venv_capable().into_iter().rev().find(|p| {
        Command::new(&p.path)
            .args(["-m", "pip", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn from_path(name: &str) -> Option<InstalledPython> {
    let out = Command::new(name)
        .args([
            "-c",
            "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut lines = text.lines();
    let version = lines.next()?.to_string();
    let path = PathBuf::from(lines.next()?);
    Some(InstalledPython {
        major_minor: parse_version(&version)?,
        version,
        path,
    })
}

fn parse_version(name: &str) -> Option<(u32, u32)> {
    let mut parts = name.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    // Only plain CPython builds like 3.12.1 (not pypy3.10-7.3, 3.12-dev, miniconda...).
    let patch = parts.next()?;
    patch.parse::<u32>().ok()?;
    Some((major, minor))
}

fn version_key(v: &str) -> Vec<u32> {
    v.split('.').filter_map(|p| p.parse().ok()).collect()
}
