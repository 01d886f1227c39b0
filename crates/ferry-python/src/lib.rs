//! Python interpreters: finding them, asking them about themselves, and making virtual
//! environments from them.
//!
//! Takes a request for an interpreter (`--python`: a path, a venv directory, a version such as
//! `3.12`, or nothing) plus the process environment (`VIRTUAL_ENV`, `CONDA_PREFIX`, `PATH`,
//! pyenv), and gives an [`Interpreter`]: version, implementation, prefixes, install paths, the
//! PEP 508 marker environment, the PEP 425 wheel tags it supports in priority order ([`tags`]),
//! and whether it is externally managed (PEP 668). Interpreter facts come from one run of the
//! interpreter with an embedded script and are cached by path and modification time, so a
//! warm lookup never starts Python.
//!
//! [`venv`] creates PEP 405 virtual environments from an interpreter.

mod discovery;
mod externally_managed;
mod interpreter;
mod retarget;
pub mod tags;
pub mod venv;

pub use discovery::{
    find_environment, find_install_target, find_interpreter, find_target, EnvironmentSource,
    InstallTarget, PythonRequest, TargetPolicy, VersionRequest,
};
pub use externally_managed::ExternallyManaged;
pub use interpreter::{Interpreter, InterpreterInfo, MarkerEnvironment, SchemePaths};
pub use retarget::PLATFORMS;
pub use tags::{Tag, TagFacts, Tags};

use std::path::PathBuf;

/// Everything that can go wrong finding or querying an interpreter. Every variant names the
/// interpreter, file or request at fault.
#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    #[error("no Python interpreter at `{}`: the path does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error("`{}` is a directory but not a Python environment: it has no `bin/python` (or `Scripts/python.exe`)", path.display())]
    NotAnEnvironment { path: PathBuf },
    #[error("could not run `{}` to query it as a Python interpreter", path.display())]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a working Python interpreter: querying it failed ({status}){}", path.display(), stderr_suffix(stderr))]
    QueryFailed {
        path: PathBuf,
        status: String,
        stderr: String,
    },
    #[error("`{}` did not answer like a Python interpreter: its query output is not valid ({message})", path.display())]
    BadQueryOutput { path: PathBuf, message: String },
    #[error("no Python interpreter matching `{request}` was found (searched {searched})")]
    NoMatch { request: String, searched: String },
    #[error("{0}")]
    NoEnvironment(String),
    #[error("the environment at `{}` is externally managed (PEP 668); pass --break-system-packages to modify it anyway.\n\n{message}", prefix.display())]
    ExternallyManaged { prefix: PathBuf, message: String },
    #[error(transparent)]
    Cache(#[from] ferry_cache::CacheError),
    #[error(transparent)]
    Venv(#[from] Box<venv::VenvError>),
    #[error("could not read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        // The last lines carry the actual error; keep the message to a paragraph.
        let tail: Vec<&str> = trimmed.lines().rev().take(3).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(": {}", tail.join(" | "))
    }
}
