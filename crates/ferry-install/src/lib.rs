//! Installing wheels into Python environments, and reading what is installed.
//!
//! Takes resolved distribution files (wheels, fetched by the caller) and a target [`Scheme`],
//! and gives an environment where each package is either fully installed (its files in place,
//! then its `RECORD`) or untouched. Wheels are unpacked once into a content-addressed store in
//! the cache and linked from there. [`installed`] reads the `*.dist-info` and `*.egg-info`
//! directories already in an environment, for planning, uninstalling, `freeze`, `list`, `show`
//! and `check`.

pub mod installed;
pub mod record;

use std::path::PathBuf;

pub use installed::{scan, DirectUrl, DistKind, InstalledDist};
pub use record::RecordEntry;

/// Errors from installing and uninstalling; each names the file or package involved.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("could not {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a valid RECORD file: {message}", path.display())]
    BadRecord { path: PathBuf, message: String },
}
