//! Where each kind of installed file goes: the install scheme of the target.

use std::path::{Path, PathBuf};

use ferry_python::{Interpreter, SchemePaths};

use crate::InstallError;

/// The directories of an installation target, plus the interpreter that will run its scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    pub purelib: PathBuf,
    pub platlib: PathBuf,
    pub scripts: PathBuf,
    pub data: PathBuf,
    /// `.data/headers` of a project `NAME` go to `<headers>/NAME`.
    pub headers: PathBuf,
    /// The interpreter written into script shebangs.
    pub python: PathBuf,
}

/// Which installation target, beside the environment itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Layout {
    /// The interpreter's own environment (a virtual environment or, with `--system`, the
    /// interpreter's installation).
    #[default]
    Environment,
    /// `--user`: the user scheme under `PYTHONUSERBASE` or `~/.local`.
    User,
    /// `--prefix DIR`: the prefix scheme under DIR.
    Prefix(PathBuf),
    /// `--target DIR`: packages directly in DIR, scripts in DIR/bin (pip's home scheme).
    Target(PathBuf),
}

fn missing(what: &str, interpreter: &Interpreter) -> InstallError {
    InstallError::Scheme(format!(
        "{} does not say where its {what} directory is",
        interpreter.path().display()
    ))
}

impl Scheme {
    /// The scheme for `layout`, optionally under `--root DIR`.
    pub fn new(
        interpreter: &Interpreter,
        layout: &Layout,
        root: Option<&Path>,
    ) -> Result<Self, InstallError> {
        let info = interpreter.info();
        let (major, minor, _) = interpreter.version();
        let python = info.executable.clone();
        let get = |paths: &SchemePaths, base: &Path, what: &str| -> Result<PathBuf, InstallError> {
            let value = match what {
                "purelib" => &paths.purelib,
                "platlib" => &paths.platlib,
                "scripts" => &paths.scripts,
                "data" => &paths.data,
                _ => &paths.include,
            };
            value
                .as_deref()
                .map(|v| base.join(v))
                .ok_or_else(|| missing(what, interpreter))
        };
        // purelib, platlib, scripts and data of `paths` under `base`; headers set by the caller.
        let under =
            |paths: &SchemePaths, base: &Path, python: PathBuf| -> Result<Scheme, InstallError> {
                Ok(Scheme {
                    purelib: get(paths, base, "purelib")?,
                    platlib: get(paths, base, "platlib")?,
                    scripts: get(paths, base, "scripts")?,
                    data: get(paths, base, "data")?,
                    headers: PathBuf::new(),
                    python,
                })
            };
        let scheme = match layout {
            Layout::Environment => {
                let paths = &info.paths;
                let here = Path::new("");
                let headers = if interpreter.is_virtualenv() {
                    info.prefix
                        .join("include")
                        .join("site")
                        .join(format!("python{major}.{minor}"))
                } else {
                    get(paths, here, "include")?
                };
                Scheme {
                    headers,
                    ..under(paths, here, python)?
                }
            }
            Layout::User => {
                if interpreter.is_virtualenv() {
                    return Err(InstallError::Scheme(
                        "--user installs are not visible inside a virtual environment; install into the environment instead, or name a base interpreter with --python".into(),
                    ));
                }
                let paths = info.user_scheme.as_ref().ok_or_else(|| {
                    InstallError::Scheme(format!(
                        "{} has no user scheme",
                        interpreter.path().display()
                    ))
                })?;
                let base = user_base()?;
                Scheme {
                    headers: get(paths, &base, "include")?,
                    ..under(paths, &base, python)?
                }
            }
            Layout::Prefix(dir) => {
                let base = absolute(dir);
                let paths = &info.prefix_scheme;
                Scheme {
                    headers: get(paths, &base, "include")?,
                    ..under(paths, &base, python)?
                }
            }
            Layout::Target(dir) => {
                let base = absolute(dir);
                Scheme {
                    purelib: base.clone(),
                    platlib: base.clone(),
                    scripts: base.join("bin"),
                    data: base.clone(),
                    headers: base.join("include").join("python"),
                    python,
                }
            }
        };
        Ok(match root {
            Some(root) => scheme.under_root(&absolute(root)),
            None => scheme,
        })
    }

    /// Every directory re-rooted under `root` (`--root`), as pip's change_root does.
    fn under_root(self, root: &Path) -> Self {
        let reroot = |p: PathBuf| {
            let relative: PathBuf = p
                .components()
                .filter(|c| {
                    !matches!(
                        c,
                        std::path::Component::RootDir | std::path::Component::Prefix(_)
                    )
                })
                .collect();
            root.join(relative)
        };
        Scheme {
            purelib: reroot(self.purelib),
            platlib: reroot(self.platlib),
            scripts: reroot(self.scripts),
            data: reroot(self.data),
            headers: reroot(self.headers),
            python: self.python,
        }
    }

    /// Every directory of the scheme: removing files never removes these (or their parents).
    pub fn roots(&self) -> Vec<PathBuf> {
        vec![
            self.purelib.clone(),
            self.platlib.clone(),
            self.scripts.clone(),
            self.data.clone(),
            self.headers.clone(),
        ]
    }

    /// The site directories to read installed distributions from.
    pub fn site_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.purelib.clone()];
        if self.platlib != self.purelib {
            dirs.push(self.platlib.clone());
        }
        dirs
    }
}

/// `PYTHONUSERBASE`, else `~/.local` (POSIX).
fn user_base() -> Result<PathBuf, InstallError> {
    if let Some(base) = std::env::var_os("PYTHONUSERBASE").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(base));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|home| PathBuf::from(home).join(".local"))
        .ok_or_else(|| InstallError::Scheme("--user needs HOME or PYTHONUSERBASE to be set".into()))
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}
