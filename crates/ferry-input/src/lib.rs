//! What the user asks for, before any network: pip's configuration and requirements.
//!
//! Takes the process environment (`PIP_*` variables, `PIP_CONFIG_FILE`, `XDG_CONFIG_*`, `HOME`,
//! `VIRTUAL_ENV`) and pip's configuration files, and gives a [`PipConfig`] that answers "what
//! did the user configure for option X of command Y" with pip's precedence: environment
//! variables over `[command]` sections over `[global]`, and within a section, later files
//! (global, then user, then site) over earlier ones. Command-line flags sit above all of this
//! and are applied by the caller.
//!
//! [`RequirementsSpec`] reads requirements and constraints from pip requirements files (with
//! their nested files and options) and from `pyproject.toml`, each entry remembering where it
//! was written.

mod config;
mod requirements;

pub use config::{
    edit_file, level_files, ConfigLevel, ConfigSource, ConfigValue, Layer, PipConfig,
};
pub use pep508_rs;
pub use requirements::{
    is_unnamed, normalize_extra, normalize_name, parse_requirement, FileOptions, Origin,
    RequirementEntry, RequirementsSpec, SourceEntry,
};

use std::path::PathBuf;

/// Errors reading configuration; each names the file or variable at fault.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("could not read pip configuration file `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} line {line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("invalid requirement `{text}` in {origin}: {message}")]
    Requirement {
        text: String,
        origin: String,
        message: String,
    },
    #[error("in hash-checking mode (--require-hashes, or a requirement with --hash) {0}")]
    HashMode(String),
    #[error("--extra {extra}: {message}")]
    UnknownExtra { extra: String, message: String },
    #[error("`{name}` is not a valid {kind} (from {source_desc}): {value:?}")]
    BadValue {
        name: String,
        kind: &'static str,
        value: String,
        source_desc: String,
    },
}
