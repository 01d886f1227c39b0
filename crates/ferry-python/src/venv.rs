//! Creating PEP 405 virtual environments.
//!
//! A new environment is assembled in a hidden staging directory beside its final path and
//! renamed into place, so a failure part-way leaves nothing behind, and `--clear` swaps the old
//! environment out only once the new one is complete. Re-running on an existing environment
//! without `--clear` refreshes its links, `pyvenv.cfg` and scripts and keeps what is installed,
//! as `python -m venv` does.

use std::path::{Component, Path, PathBuf};
use std::process::Command;

use crate::interpreter::absolute;
use crate::Interpreter;

/// Options of `ferry venv`.
#[derive(Debug, Clone, Default)]
pub struct VenvOptions {
    /// The prompt shown while active; `None` for the directory name, `"."` for the working
    /// directory's name.
    pub prompt: Option<String>,
    /// Let the environment see the base interpreter's site-packages.
    pub system_site_packages: bool,
    /// Replace an existing environment instead of refreshing it.
    pub clear: bool,
}

/// What happened to the target directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenvAction {
    Created,
    Replaced,
    Refreshed,
}

/// A created environment.
#[derive(Debug, Clone)]
pub struct Venv {
    pub root: PathBuf,
    /// `bin/python` inside the environment.
    pub python: PathBuf,
    pub scripts: PathBuf,
    pub site_packages: PathBuf,
    pub action: VenvAction,
}

/// Errors from creating an environment; each names the path or interpreter at fault.
#[derive(Debug, thiserror::Error)]
pub enum VenvError {
    #[error("{implementation} {version} at `{}` cannot create virtual environments: PEP 405 environments need Python 3.3 or newer", interpreter.display())]
    UnsupportedPython {
        interpreter: PathBuf,
        implementation: String,
        version: String,
    },
    #[error("`{}` exists and is not a directory; refusing to replace it with a virtual environment", path.display())]
    NotADirectory { path: PathBuf },
    #[error("`{}` is a non-empty directory that is not a virtual environment (it has no pyvenv.cfg); refusing to overwrite it. Choose another path, or empty it first", path.display())]
    NotAVenv { path: PathBuf },
    #[error("the interpreter reported no site-packages directory inside a new environment for `{}`", interpreter.display())]
    NoScheme { interpreter: PathBuf },
    #[error("creating virtual environments is not supported on this platform yet")]
    UnsupportedPlatform,
    #[error("could not create the virtual environment at `{}`: {action} `{}` failed", root.display(), path.display())]
    Io {
        root: PathBuf,
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("installing pip into `{}` with ensurepip failed ({status}){}", root.display(), crate::stderr_suffix(stderr))]
    Seed {
        root: PathBuf,
        status: String,
        stderr: String,
    },
}

/// Creates (or refreshes) a virtual environment at `path` from `base`.
pub fn create(path: &Path, base: &Interpreter, options: &VenvOptions) -> Result<Venv, VenvError> {
    if !cfg!(unix) {
        return Err(VenvError::UnsupportedPlatform);
    }
    let (major, minor, _) = base.version();
    if (major, minor) < (3, 3) {
        return Err(VenvError::UnsupportedPython {
            interpreter: base.path().to_path_buf(),
            implementation: base.implementation_display().to_string(),
            version: base.version_string().to_string(),
        });
    }
    let root = normalize(&absolute(path));
    let layout = Layout::new(base, &root)?;

    let mode = match fs_err::symlink_metadata(&root) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Mode::Create,
        Err(source) => return Err(io_err(&root, "inspecting", &root, source)),
        Ok(meta) if !meta.is_dir() => return Err(VenvError::NotADirectory { path: root }),
        Ok(_) => {
            if root.join("pyvenv.cfg").is_file() {
                if options.clear {
                    Mode::Replace
                } else {
                    Mode::Refresh
                }
            } else if is_empty_dir(&root) {
                Mode::Create
            } else {
                return Err(VenvError::NotAVenv { path: root });
            }
        }
    };

    match mode {
        Mode::Refresh => {
            layout.write(&root, &root, base, options)?;
        }
        Mode::Create | Mode::Replace => {
            let parent = root.parent().unwrap_or(Path::new("/")).to_path_buf();
            let created_parent = create_parents(&root, &parent)?;
            let result = stage_and_swap(&root, &parent, mode, |staging| {
                layout.write(staging, &root, base, options)
            });
            if result.is_err() {
                if let Some(top) = created_parent {
                    let _ = fs_err::remove_dir_all(top);
                }
            }
            result?;
        }
    }

    Ok(Venv {
        python: root.join(&layout.scripts).join("python"),
        scripts: root.join(&layout.scripts),
        site_packages: root.join(&layout.purelib),
        root,
        action: match mode {
            Mode::Create => VenvAction::Created,
            Mode::Replace => VenvAction::Replaced,
            Mode::Refresh => VenvAction::Refreshed,
        },
    })
}

/// Installs pip into the environment with the interpreter's bundled `ensurepip`.
pub fn seed_pip(venv: &Venv) -> Result<(), VenvError> {
    let output = Command::new(&venv.python)
        .args(["-m", "ensurepip", "--upgrade", "--default-pip"])
        .env_remove("PYTHONPATH")
        .env_remove("PIP_REQUIRE_VIRTUALENV")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| io_err(&venv.root, "running", &venv.python, source))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(VenvError::Seed {
            root: venv.root.clone(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Create,
    Replace,
    Refresh,
}

/// Where things go inside the environment, from the interpreter's own venv scheme.
struct Layout {
    scripts: PathBuf,
    purelib: PathBuf,
    platlib: PathBuf,
    lib64: bool,
    prompt_default: String,
}

impl Layout {
    fn new(base: &Interpreter, root: &Path) -> Result<Self, VenvError> {
        let scheme = &base.info().venv_scheme;
        let no_scheme = || VenvError::NoScheme {
            interpreter: base.path().to_path_buf(),
        };
        let purelib = PathBuf::from(scheme.purelib.clone().ok_or_else(no_scheme)?);
        let platlib = scheme
            .platlib
            .clone()
            .map_or_else(|| purelib.clone(), PathBuf::from);
        let scripts = PathBuf::from(scheme.scripts.clone().unwrap_or_else(|| "bin".into()));
        let markers = base.markers();
        let lib64 = base.info().pointer_size == 64
            && markers.os_name == "posix"
            && markers.sys_platform != "darwin"
            && purelib.starts_with("lib");
        let prompt_default = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "venv".into());
        Ok(Self {
            scripts,
            purelib,
            platlib,
            lib64,
            prompt_default,
        })
    }

    /// Writes the environment's files into `dir`: the environment's final path `root` itself
    /// when refreshing in place, or a staging directory otherwise. Paths written into files
    /// always name `root`, so a staging directory can simply be renamed into place.
    fn write(
        &self,
        dir: &Path,
        root: &Path,
        base: &Interpreter,
        options: &VenvOptions,
    ) -> Result<(), VenvError> {
        let err = |action, path: &Path, source| io_err(root, action, path, source);
        for rel in [
            &self.scripts,
            &self.purelib,
            &self.platlib,
            &PathBuf::from("include"),
        ] {
            let path = dir.join(rel);
            fs_err::create_dir_all(&path).map_err(|e| err("creating", &path, e))?;
        }
        if self.lib64 {
            replace_symlink(Path::new("lib"), &dir.join("lib64"))
                .map_err(|e| err("linking", &dir.join("lib64"), e))?;
        }

        // Interpreter links: `python` points at the base interpreter, the rest at `python`.
        let bin = dir.join(&self.scripts);
        let base_exe = base.base_executable();
        replace_symlink(base_exe, &bin.join("python"))
            .map_err(|e| err("linking", &bin.join("python"), e))?;
        let (major, minor, _) = base.version();
        let mut aliases = vec![format!("python{major}"), format!("python{major}.{minor}")];
        if base.info().implementation == "pypy" {
            aliases.extend([
                "pypy".to_string(),
                format!("pypy{major}"),
                format!("pypy{major}.{minor}"),
            ]);
        }
        for alias in aliases {
            let link = bin.join(alias);
            replace_symlink(Path::new("python"), &link).map_err(|e| err("linking", &link, e))?;
        }

        let prompt = match options.prompt.as_deref() {
            None => self.prompt_default.clone(),
            Some(".") => std::env::current_dir()
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| self.prompt_default.clone()),
            Some(p) => p.to_string(),
        };

        let cfg = pyvenv_cfg(base, options, &prompt);
        write_file(&dir.join("pyvenv.cfg"), cfg.as_bytes(), false)
            .map_err(|e| err("writing", &dir.join("pyvenv.cfg"), e))?;

        let scripts = [
            ("activate", include_str!("activate/activate.sh")),
            ("activate.fish", include_str!("activate/activate.fish")),
            ("activate.csh", include_str!("activate/activate.csh")),
            ("Activate.ps1", include_str!("activate/activate.ps1")),
        ];
        let bin_dir = root.join(&self.scripts);
        for (name, template) in scripts {
            let text = render(template, root, &bin_dir, &self.scripts, &prompt);
            let path = bin.join(name);
            write_file(&path, text.as_bytes(), false).map_err(|e| err("writing", &path, e))?;
        }

        let gitignore = dir.join(".gitignore");
        write_file(
            &gitignore,
            b"# Written by ferry: keep this virtual environment out of git.\n*\n",
            false,
        )
        .map_err(|e| err("writing", &gitignore, e))?;
        Ok(())
    }
}

fn pyvenv_cfg(base: &Interpreter, options: &VenvOptions, prompt: &str) -> String {
    let base_exe = base.base_executable();
    let home = base_exe.parent().unwrap_or(Path::new("/"));
    let mut cfg = format!(
        "home = {}\nimplementation = {}\nversion_info = {}\nversion = {}\ninclude-system-site-packages = {}\nexecutable = {}\n",
        home.display(),
        base.implementation_display(),
        base.version_string(),
        base.version_string(),
        options.system_site_packages,
        base_exe.display(),
    );
    if options.prompt.is_some() {
        cfg.push_str(&format!("prompt = {prompt}\n"));
    }
    cfg.push_str(&format!("ferry = {}\n", env!("CARGO_PKG_VERSION")));
    cfg
}

fn render(template: &str, root: &Path, bin_dir: &Path, bin_name: &Path, prompt: &str) -> String {
    let venv = root.to_string_lossy();
    template
        .replace("{{BIN_DIR}}", &bin_dir.to_string_lossy())
        .replace("{{BIN_NAME}}", &bin_name.to_string_lossy())
        .replace("{{VENV_SH}}", &quote_sh(&venv))
        .replace("{{PROMPT_SH}}", &quote_sh(prompt))
        .replace("{{VENV_FISH}}", &quote_fish(&venv))
        .replace("{{PROMPT_FISH}}", &quote_fish(prompt))
        .replace("{{VENV_CSH}}", &quote_csh(&venv))
        .replace("{{PROMPT_CSH}}", &quote_csh(prompt))
        .replace("{{VENV_PS}}", &quote_ps(&venv))
        .replace("{{PROMPT_PS}}", &quote_ps(prompt))
}

fn quote_sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn quote_fish(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

fn quote_csh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''").replace('!', r"\!"))
}

fn quote_ps(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Builds the environment in a staging directory next to `root`, then moves it into place;
/// with `Mode::Replace` the old environment is moved aside first and deleted only afterwards.
fn stage_and_swap(
    root: &Path,
    parent: &Path,
    mode: Mode,
    build: impl FnOnce(&Path) -> Result<(), VenvError>,
) -> Result<(), VenvError> {
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "venv".into());
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.ferry-new-"))
        .tempdir_in(parent)
        .map_err(|e| io_err(root, "creating a staging directory in", parent, e))?;
    set_mode(staging.path(), 0o755)
        .map_err(|e| io_err(root, "setting permissions on", staging.path(), e))?;
    build(staging.path())?;

    let staging = staging.keep();
    let cleanup = |e| {
        let _ = fs_err::remove_dir_all(&staging);
        e
    };
    if mode == Mode::Replace {
        let trash = tempfile::Builder::new()
            .prefix(&format!(".{name}.ferry-old-"))
            .tempdir_in(parent)
            .map_err(|e| cleanup(io_err(root, "creating a directory in", parent, e)))?
            .keep();
        // `trash` is an empty directory; renaming the old environment over it swaps it aside.
        fs_err::rename(root, &trash).map_err(|e| cleanup(io_err(root, "moving aside", root, e)))?;
        if let Err(e) = fs_err::rename(&staging, root) {
            let _ = fs_err::rename(&trash, root);
            return Err(cleanup(io_err(root, "moving into place", &staging, e)));
        }
        if let Err(e) = fs_err::remove_dir_all(&trash) {
            tracing::warn!(
                "could not remove the old environment at {}: {e}",
                trash.display()
            );
        }
    } else {
        fs_err::rename(&staging, root)
            .map_err(|e| cleanup(io_err(root, "moving into place", &staging, e)))?;
    }
    Ok(())
}

/// Creates the missing ancestors of `root`; returns the topmost one created, to remove on failure.
fn create_parents(root: &Path, parent: &Path) -> Result<Option<PathBuf>, VenvError> {
    let topmost_missing = parent
        .ancestors()
        .take_while(|p| fs_err::symlink_metadata(p).is_err())
        .last()
        .map(Path::to_path_buf);
    fs_err::create_dir_all(parent).map_err(|e| io_err(root, "creating", parent, e))?;
    Ok(topmost_missing)
}

fn is_empty_dir(path: &Path) -> bool {
    fs_err::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

/// Writes a file via a temporary file and rename, so refreshing an environment that is in use
/// never exposes a half-written script.
fn write_file(path: &Path, contents: &[u8], executable: bool) -> std::io::Result<()> {
    ferry_cache::write_atomic(path, contents).map_err(|e| match e {
        ferry_cache::CacheError::Write { source, .. }
        | ferry_cache::CacheError::Create { source, .. }
        | ferry_cache::CacheError::Lock { source, .. } => source,
        ferry_cache::CacheError::NoCacheDir => std::io::Error::other("no cache dir"),
    })?;
    set_mode(path, if executable { 0o755 } else { 0o644 })
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Points `link` at `target`, replacing whatever is there atomically.
fn replace_symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        if fs_err::read_link(link).is_ok_and(|current| current == target) {
            return Ok(());
        }
        let parent = link.parent().unwrap_or(Path::new("."));
        let temp = parent.join(format!(
            ".{}.ferry-link-{}",
            link.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&temp);
        fs_err::os::unix::fs::symlink(target, &temp)?;
        fs_err::rename(&temp, link)
    }
    #[cfg(not(unix))]
    {
        let _ = (target, link);
        Err(std::io::Error::other("symlinks are not supported here"))
    }
}

fn io_err(root: &Path, action: &'static str, path: &Path, source: std::io::Error) -> VenvError {
    VenvError::Io {
        root: root.to_path_buf(),
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Removes `.` and `..` components without touching the filesystem.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_awkward_paths() {
        assert_eq!(quote_sh("/tmp/it's here"), r"'/tmp/it'\''s here'");
        assert_eq!(quote_fish(r"a\b'c"), r"'a\\b\'c'");
        assert_eq!(quote_ps("it's"), "'it''s'");
        assert_eq!(quote_csh("wow!"), r"'wow\!'");
    }

    #[test]
    fn normalize_drops_dots() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
    }
}
