//! The build frontend (PEP 517/518/660): turns a source tree or a source distribution into a
//! wheel, an sdist or an editable wheel by calling the project's build backend.
//!
//! Takes a source tree ([`BuildSystem::read`] finds its backend, with pip's setuptools
//! fallback), or an sdist archive ([`sdist::unpack`], checked entry by entry), and an
//! interpreter. Gives the built file. With isolation (the default, as in pip), each build runs
//! in a throwaway virtual environment made from the target interpreter, into which
//! `build-system.requires` and the backend's `get_requires_for_build_*` answer are installed
//! through [`BuildRequirements`] — implemented by whoever can resolve and install (the `ferry`
//! binary), so this crate depends on neither the resolver nor the installer. Without
//! isolation the target interpreter runs the backend as it is. Hooks run in a subprocess
//! through a small embedded runner ([`hooks`]); their output reaches a [`BuildReporter`] and,
//! when a hook fails, the error's last lines.
//!
//! [`vcs`] checks version-control requirements out (git, hg, svn, bzr) into the VCS cache.
//!
//! [`SourceBuilder`] ([`context`]) puts it to work: it implements the build seam
//! (`ferry_types::BuildContext`) for the resolver and the installer, and [`BuildRequirements`]
//! with `ferry-resolve` and `ferry-install`, and keeps built wheels in the build cache.

pub mod context;
mod flight;
pub mod hooks;
mod pyproject;
pub mod sdist;
pub mod vcs;

use std::path::{Path, PathBuf};

pub use context::{EnvironmentPolicy, SourceBuilder};
pub use ferry_types::interrupt::TempWork;
pub use hooks::{ConfigSettings, Hooks, Kind};
pub use pyproject::BuildSystem;

/// What went wrong in a build; each names the project, file or hook at fault.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("`{}` is not a Python project: it has no pyproject.toml, setup.py or setup.cfg", path.display())]
    NotAProject { path: PathBuf },
    #[error(transparent)]
    Vcs(#[from] vcs::VcsError),
    #[error("`{}` is not a usable pyproject.toml: {message}", path.display())]
    Pyproject { path: PathBuf, message: String },
    #[error("could not {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not run the build interpreter `{}`", python.display())]
    Spawn {
        python: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the build backend `{backend}` of {project} could not be imported: {message}")]
    BackendUnavailable {
        project: String,
        backend: String,
        message: String,
    },
    #[error("building {project} failed: the backend's {hook} hook exited with {status}. Its last lines of output:\n{tail}")]
    HookFailed {
        project: String,
        hook: String,
        status: String,
        tail: String,
    },
    #[error("the build backend of {project} has no {hook} hook")]
    MissingHook { project: String, hook: String },
    #[error("the build backend of {project} gave a bad answer to {hook}: {message}")]
    BadAnswer {
        project: String,
        hook: String,
        message: String,
    },
    #[error("could not download {project}: {message}")]
    Download { project: String, message: String },
    #[error("could not set up the build environment of {project}: {message}")]
    Environment { project: String, message: String },
    #[error("refusing to unpack `{}`: {message}", archive.display())]
    UnsafeArchive { archive: PathBuf, message: String },
    #[error("`{}` is not a usable wheel: {message}", path.display())]
    BadWheel { path: PathBuf, message: String },
}

/// Receives a backend's output lines as they come, on reader threads.
pub type OutputSink = Box<dyn Fn(&str) + Send>;

/// Progress and backend output of builds; implemented by the command line.
pub trait BuildReporter: Sync {
    /// A hook of `project`'s backend starts.
    fn hook_started(&self, _project: &str, _hook: &str) {}
    /// The build environment of `project` (isolated: a new venv with `build-system.requires`
    /// installed) is ready, `elapsed` after it was started.
    fn environment_ready(&self, _project: &str, _elapsed: std::time::Duration) {}
    /// A wheel of `project` is ready at `wheel`: built now, or found in the build cache.
    fn built(&self, _project: &str, _wheel: &Path, _cached: bool) {}
    /// `--no-clean`: the build directory of `project` is kept at `dir`.
    fn kept(&self, _project: &str, _dir: &Path) {}
    /// Where the backend's output lines go as they come (`-v`), if anywhere. Called once per
    /// hook; the sink runs on reader threads.
    fn output_sink(&self) -> Option<OutputSink> {
        None
    }
}

/// A reporter that shows nothing.
pub struct Quiet;

impl BuildReporter for Quiet {}

/// Installs requirements into a build environment; implemented by whoever can resolve and
/// install (the `ferry` binary), which breaks the cycle between the frontend and the resolver.
pub trait BuildRequirements: Sync {
    /// Installs `requirements` (PEP 508 strings) into the virtual environment at `venv`, whose
    /// interpreter is `python`.
    fn install(&self, venv: &Path, python: &Path, requirements: &[String]) -> Result<(), String>;
}

/// How builds run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// Run the backend in the target interpreter instead of a fresh environment
    /// (`--no-build-isolation`).
    pub no_isolation: bool,
    /// `--config-settings` / `-C`.
    pub config_settings: ConfigSettings,
    /// Keep the build directory (`--no-clean`).
    pub keep: bool,
    /// `--check-build-dependencies`: without isolation, the target must already hold every
    /// `build-system.requires`, in versions that fit.
    pub check_build_deps: bool,
    /// Where builds' working directories (build environments, unpacked sdists) are made; the
    /// system's temporary directory when `None`. [`SourceBuilder`] puts them in the cache,
    /// beside the store its environments are linked from.
    pub work_root: Option<PathBuf>,
}

impl BuildOptions {
    /// A new working directory under [`BuildOptions::work_root`], prefixed `prefix`.
    pub fn temp_dir(&self, prefix: &str) -> Result<TempWork, BuildError> {
        let root = self.work_root.clone().unwrap_or_else(std::env::temp_dir);
        fs_err::create_dir_all(&root).map_err(|source| BuildError::Io {
            action: "create",
            path: root.clone(),
            source,
        })?;
        tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(&root)
            .map(TempWork::new)
            .map_err(|source| BuildError::Io {
                action: "create a directory in",
                path: root,
                source,
            })
    }
}

/// The frontend for one target interpreter.
pub struct Frontend<'a> {
    /// The interpreter the result is for; build environments are made from it.
    pub interpreter: &'a ferry_python::Interpreter,
    pub requirements: &'a dyn BuildRequirements,
    pub options: &'a BuildOptions,
    pub reporter: &'a dyn BuildReporter,
}

/// A build's working directory: removed when dropped, unless kept (`--no-clean`).
pub struct WorkDir {
    work: Option<TempWork>,
    path: PathBuf,
}

impl WorkDir {
    fn new(options: &BuildOptions) -> Result<Self, BuildError> {
        let work = options.temp_dir("ferry-build-")?;
        if options.keep {
            let path = work.keep();
            return Ok(Self { work: None, path });
        }
        let path = work.path().to_path_buf();
        Ok(Self {
            work: Some(work),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the directory stays after the build.
    pub fn kept(&self) -> bool {
        self.work.is_none()
    }
}

/// A tree with its backend's interpreter ready (the build environment made and filled): the
/// backend can be asked for the metadata and then for the build, as pip does, without making
/// a second environment.
pub struct Prepared {
    work: WorkDir,
    python: PathBuf,
    path_prefix: Vec<PathBuf>,
    system: BuildSystem,
    tree: PathBuf,
    project: String,
}

impl Prepared {
    /// The working directory (which holds the build environment).
    pub fn work(&self) -> &Path {
        self.work.path()
    }

    /// The backend's name (`build-system.build-backend`, or pip's fallback).
    pub fn backend(&self) -> &str {
        &self.system.backend
    }
}

impl Frontend<'_> {
    /// Builds `kind` from the source tree `tree` into `out_dir` and returns the file.
    /// `project` names the tree in messages.
    pub fn build(
        &self,
        tree: &Path,
        project: &str,
        kind: Kind,
        out_dir: &Path,
    ) -> Result<PathBuf, BuildError> {
        let prepared = self.prepare(tree, project, kind)?;
        self.build_prepared(&prepared, kind, out_dir)
    }

    /// Builds `kind` with a backend readied by [`Frontend::prepare`].
    pub fn build_prepared(
        &self,
        prepared: &Prepared,
        kind: Kind,
        out_dir: &Path,
    ) -> Result<PathBuf, BuildError> {
        fs_err::create_dir_all(out_dir).map_err(|source| BuildError::Io {
            action: "create",
            path: out_dir.to_path_buf(),
            source,
        })?;
        self.hooks(prepared).build(kind, out_dir)
    }

    /// The core metadata of what a `kind` build of `tree` would give (wheel or editable).
    pub fn metadata(&self, tree: &Path, project: &str, kind: Kind) -> Result<String, BuildError> {
        let prepared = self.prepare(tree, project, kind)?;
        self.metadata_prepared(&prepared, kind)
    }

    /// The core metadata of a `kind` build, from a backend readied by [`Frontend::prepare`].
    pub fn metadata_prepared(&self, prepared: &Prepared, kind: Kind) -> Result<String, BuildError> {
        let scratch = prepared.work().join("metadata");
        fs_err::create_dir_all(&scratch).map_err(|source| BuildError::Io {
            action: "create",
            path: scratch.clone(),
            source,
        })?;
        self.hooks(prepared).metadata(kind, &scratch)
    }

    fn hooks<'b>(&'b self, prepared: &Prepared) -> Hooks<'b> {
        Hooks {
            python: prepared.python.clone(),
            tree: prepared.tree.clone(),
            system: prepared.system.clone(),
            project: prepared.project.clone(),
            config_settings: &self.options.config_settings,
            path_prefix: prepared.path_prefix.clone(),
            reporter: self.reporter,
        }
    }

    /// Reads the tree's build system and readies the interpreter that runs its backend:
    /// a new environment with every build requirement installed, or the target itself.
    pub fn prepare(&self, tree: &Path, project: &str, kind: Kind) -> Result<Prepared, BuildError> {
        let work = WorkDir::new(self.options)?;
        if work.kept() {
            self.reporter.kept(project, work.path());
        }
        let started = std::time::Instant::now();
        let system = BuildSystem::read(tree)?;
        let env_error = |message: String| BuildError::Environment {
            project: project.to_string(),
            message,
        };
        let (python, path_prefix, venv) = if self.options.no_isolation {
            if self.options.check_build_deps {
                check_build_deps(self.interpreter, &system.requires).map_err(env_error)?;
            }
            (self.interpreter.path().to_path_buf(), Vec::new(), None)
        } else {
            let options = ferry_python::venv::VenvOptions::default();
            let venv =
                ferry_python::venv::create(&work.path().join("env"), self.interpreter, &options)
                    .map_err(|e| env_error(e.to_string()))?;
            if !system.requires.is_empty() {
                self.requirements
                    .install(&venv.root, &venv.python, &system.requires)
                    .map_err(env_error)?;
            }
            (venv.python.clone(), vec![venv.scripts.clone()], Some(venv))
        };
        let prepared = Prepared {
            work,
            python,
            path_prefix,
            system,
            tree: tree.to_path_buf(),
            project: project.to_string(),
        };
        if let Some(venv) = venv {
            self.reporter.environment_ready(project, started.elapsed());
            let extra = self.hooks(&prepared).get_requires(kind)?;
            if !extra.is_empty() {
                self.requirements
                    .install(&venv.root, &venv.python, &extra)
                    .map_err(env_error)?;
            }
        }
        Ok(prepared)
    }
}

/// pip's `--check-build-dependencies`: every requirement of `requires` (PEP 508, markers
/// evaluated for `interpreter`) installed in `interpreter`'s environment in a version that
/// fits; otherwise a message naming the missing and the conflicting ones.
fn check_build_deps(
    interpreter: &ferry_python::Interpreter,
    requires: &[String],
) -> Result<(), String> {
    use std::str::FromStr;
    let env = interpreter.markers().to_pep508()?;
    let mut wanted = Vec::new();
    for text in requires {
        let requirement =
            ferry_types::parse_requirement::<pep508_rs::VerbatimUrl>(text).map_err(|e| {
                format!("build-system.requires has `{text}`, which is not a requirement: {e}")
            })?;
        if requirement.evaluate_markers(&env, &[]) {
            wanted.push((text.clone(), requirement));
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = wanted.iter().map(|(_, r)| r.name.to_string()).collect();
    let script = "import json, sys\ntry:\n    from importlib.metadata import version, PackageNotFoundError\nexcept ImportError:\n    print('{}'); sys.exit(0)\nout = {}\nfor name in sys.argv[1:]:\n    try:\n        out[name] = version(name)\n    except PackageNotFoundError:\n        out[name] = None\nprint(json.dumps(out))\n";
    let output = std::process::Command::new(interpreter.path())
        .args(["-c", script])
        .args(&names)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("could not run {}: {e}", interpreter.path().display()))?;
    let found: std::collections::HashMap<String, Option<String>> =
        serde_json::from_slice(&output.stdout).unwrap_or_default();
    let mut missing = Vec::new();
    let mut conflicting = Vec::new();
    for (text, requirement) in &wanted {
        match found.get(&requirement.name.to_string()).cloned().flatten() {
            None => missing.push(format!("'{text}'")),
            Some(version) => {
                let fits = match &requirement.version_or_url {
                    Some(pep508_rs::VersionOrUrl::VersionSpecifier(specifiers)) => {
                        pep508_rs::pep440_rs::Version::from_str(&version)
                            .map(|v| specifiers.contains(&v))
                            .unwrap_or(false)
                    }
                    _ => true,
                };
                if !fits {
                    conflicting.push(format!("{} {version} (wanted: '{text}')", requirement.name));
                }
            }
        }
    }
    let mut problems = Vec::new();
    if !missing.is_empty() {
        problems.push(format!(
            "missing from {}: {}",
            interpreter.path().display(),
            missing.join(", ")
        ));
    }
    if !conflicting.is_empty() {
        problems.push(format!(
            "installed in versions that do not fit: {}",
            conflicting.join(", ")
        ));
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(format!(
            "--check-build-dependencies with --no-build-isolation: build dependencies {}; install them, or leave out --check-build-dependencies",
            problems.join("; and ")
        )),
    }
}

/// The `METADATA` text of a built wheel.
pub fn wheel_metadata(wheel: &Path) -> Result<String, BuildError> {
    use std::io::Read;
    let bad = |message: String| BuildError::BadWheel {
        path: wheel.to_path_buf(),
        message,
    };
    let file = fs_err::File::open(wheel).map_err(|source| BuildError::Io {
        action: "open",
        path: wheel.to_path_buf(),
        source,
    })?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(e.to_string()))?;
    let mut name = None;
    for index in 0..zip.len() {
        let entry = zip.by_index_raw(index).map_err(|e| bad(e.to_string()))?;
        let entry_name = entry.name().map_err(|e| bad(e.to_string()))?;
        let mut parts = entry_name.split('/');
        if let (Some(top), Some("METADATA"), None) = (parts.next(), parts.next(), parts.next()) {
            if top.ends_with(".dist-info") {
                name = Some(entry_name.to_string());
                break;
            }
        }
    }
    let name = name.ok_or_else(|| bad("it has no .dist-info/METADATA".into()))?;
    let mut text = String::new();
    zip.by_name(&name)
        .map_err(|e| bad(e.to_string()))?
        .read_to_string(&mut text)
        .map_err(|e| bad(e.to_string()))?;
    Ok(text)
}
