//! Shared helpers for the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use ferry_test::{pythons::InstalledPython, IndexServer, TestContext};

pub fn ctx() -> TestContext {
    TestContext::new(env!("CARGO_BIN_EXE_ferry"))
}

/// The path of an installed CPython with pip, as a string for command lines.
pub fn python_with_pip() -> String {
    ferry_test::pythons::with_pip()
        .expect("a CPython with pip")
        .path
        .display()
        .to_string()
}

/// Runs `python -c code` and returns trimmed stdout, panicking with stderr on failure.
pub fn python_output(python: &Path, code: &str) -> String {
    let out = Command::new(python)
        .args(["-c", code])
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{} -c failed: {}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Lists a directory tree (relative paths, sorted) to show that a failed command changed nothing.
pub fn snapshot(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(base).unwrap().display().to_string());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(base, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A directory under the target's test scratch space, made once by `make` and reused across
/// runs. nextest runs each test in its own process, so a file lock (not a mutex) keeps two tests
/// from making it at once; `.complete` marks a directory that `make` finished.
pub fn made_once(name: &str, make: impl FnOnce(&Path)) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(dir.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    let done = dir.join(".complete");
    if !done.is_file() {
        let _ = std::fs::remove_dir_all(&dir);
        make(&dir);
        std::fs::write(&done, "").unwrap();
    }
    dir
}

/// A directory holding the newest `packaging` that supports `python`, installed once from the
/// package index (found through pip's own configuration) and reused across runs.
pub fn packaging_for(python: &InstalledPython) -> PathBuf {
    let (major, minor) = python.major_minor;
    made_once(&format!("packaging/py{major}.{minor}"), |dir| {
        let installer =
            ferry_test::pythons::with_pip().expect("a CPython with pip to fetch packaging");
        let out = Command::new(&installer.path)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--only-binary=:all:",
            ])
            .args(["--python-version", &format!("{major}.{minor}"), "--target"])
            .arg(dir)
            .arg("packaging")
            .output()
            .expect("run pip");
        assert!(
            out.status.success(),
            "installing packaging for Python {major}.{minor} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    })
}

/// A new virtual environment made by ferry (with pip when `seed`).
pub fn make_venv(ctx: &TestContext, name: &str, python: &Path, seed: bool) -> PathBuf {
    let mut cmd = ctx.ferry(["venv", name, "--python"]);
    cmd.arg(python);
    if seed {
        cmd.arg("--seed");
    }
    ctx.run(&mut cmd).success();
    ctx.work().join(name)
}

/// The purelib directory of `venv`, as its interpreter says.
pub fn site_packages(venv: &Path) -> PathBuf {
    PathBuf::from(python_output(
        &venv.join("bin/python"),
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
    ))
}

/// `ferry install -i SERVER --python VENV ARGS...`.
pub fn install(ctx: &TestContext, venv: &Path, server: &IndexServer, args: &[&str]) -> Command {
    let mut cmd = ctx.ferry(["install", "-i", &server.url(), "--python"]);
    cmd.arg(venv).args(args);
    cmd
}
