//! Installing wheels into Python environments, and reading what is installed.
//!
//! Takes resolved wheel files (URL, hashes, where they were listed) and a target [`Scheme`],
//! and gives an environment where each package is either fully installed or untouched:
//!
//! - [`fetch`] gets each wheel into the unpacked-wheel [`store`] in the cache (downloaded once
//!   and unpacked while it arrives, every entry checked, the archive kept only once the file's
//!   hash matches the index's and the user's `--hash`es); [`prefetch`] starts those fetches
//!   while the resolver is still deciding, and the store keeps the wheels the resolver must
//!   download whole for their metadata;
//! - [`wheel`] installs an unpacked wheel per the binary distribution format (scheme
//!   directories, `.data`, `#!python`, entry-point launchers, RECORD, INSTALLER, REQUESTED,
//!   direct_url.json), linking files from the store;
//! - [`txn`] holds the per-environment lock and the journal that rolls back a failed or
//!   killed install;
//! - [`uninstall`] removes distributions from their RECORD; [`compile`] writes bytecode.
//!
//! [`plan`] compares a resolution with what is installed and lists the wheels to fetch;
//! [`report`] writes pip's installation report.
//!
//! [`installed`] reads the `*.dist-info` and `*.egg-info` directories already in an
//! environment, for planning, uninstalling, `freeze`, `list`, `show` and `check`.

pub mod apply;
pub mod attest;
pub mod check;
pub mod compile;
pub mod conda;
mod fault;
pub mod fetch;
mod files;
pub mod inspect;
pub mod installed;
pub mod inventory;
pub mod plan;
pub mod prefetch;
pub mod record;
pub mod report;
pub mod scheme;
pub mod store;
pub mod txn;
pub mod uninstall;
mod unzip;
pub mod views;
pub mod wheel;

use std::path::PathBuf;

pub use apply::{apply, Applied, ApplyOptions, InstallReporter};
pub use installed::{scan, DirectUrl, DistKind, InstalledDist};
pub use prefetch::Prefetch;
pub use record::RecordEntry;
pub use scheme::{Layout, Scheme};
pub use store::{Provenance, Store};
pub use txn::{EnvLock, LockReporter, Session, Transaction};
pub use wheel::{Installer, LinkMode, WheelToInstall};

/// `map_err` for an I/O error while doing `action` to `path`.
pub(crate) fn io_error(
    action: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> InstallError {
    let path = path.to_path_buf();
    move |source| InstallError::Io {
        action,
        path,
        source,
    }
}

/// Errors from fetching, installing and uninstalling; each names the file, URL or package.
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
    #[error("the wheel {filename} is broken: {message}")]
    BrokenWheel { filename: String, message: String },
    #[error("cannot install from `{}`: {message}", path.display())]
    BadWheelFile { path: PathBuf, message: String },
    #[error("hash mismatch for {name} ({url}): expected {expected}, got {actual}")]
    HashMismatch {
        name: String,
        url: String,
        expected: String,
        actual: String,
    },
    #[error("cannot uninstall {name} {version}: `{}` has no {what} listing its files (remove its files by hand, or overwrite it with `ferry install --ignore-installed --no-deps {name}`)", path.display())]
    NoRecord {
        name: String,
        version: String,
        path: PathBuf,
        what: &'static str,
    },
    #[error(transparent)]
    Build(#[from] ferry_types::BuildError),
    #[error("{} builds failed:\n\n{}", .0.len(), .0.join("\n\n"))]
    Builds(Vec<String>),
    #[error("hashes are required (a requirement has --hash, or --require-hashes was given), but these have none: {0}. Add a --hash for each (ferry compile --generate-hashes writes them)")]
    HashesRequired(String),
    #[error("{0}")]
    Scheme(String),
    #[error("could not byte-compile with {}: {message}", python.display())]
    Compile { python: PathBuf, message: String },
    #[error("`{0}` is not a usable file URL")]
    BadUrl(String),
    #[error("cache error: {0}")]
    Cache(String),
    #[error(transparent)]
    Index(#[from] ferry_index::IndexError),
    #[error("--verify-attestations refuses {name} {version}: {reason}")]
    Unattested {
        name: String,
        version: String,
        reason: String,
    },
    #[error("--verify-attestations refuses it: {0}")]
    Attestation(#[from] ferry_index::AttestationError),
}

/// Entry points for the fuzz targets (`crates/ferry-fuzz`): the wheel readers, which are
/// otherwise internal. Not part of the library's interface.
#[doc(hidden)]
pub mod fuzzing {
    use std::path::Path;

    /// Unpacks `bytes` as a wheel archive into `dir` with the streaming reader (as a download
    /// is), then with the seekable one (as a local file is); returns how many entries each
    /// read, or why it refused.
    pub fn unzip(bytes: &[u8], dir: &Path) -> (Result<usize, String>, Result<usize, String>) {
        let describe = |e: crate::unzip::UnzipError| match e {
            crate::unzip::UnzipError::Unsupported(m) | crate::unzip::UnzipError::Broken(m) => m,
            crate::unzip::UnzipError::Io { action, path, .. } => {
                format!("{action} {}", path.display())
            }
        };
        let stream_dir = dir.join("stream");
        let seek_dir = dir.join("seek");
        let streamed = crate::unzip::unzip_stream(crate::unzip::ReadChunks(bytes), &stream_dir)
            .map(|e| e.len())
            .map_err(describe);
        let seeked = crate::unzip::unzip_seekable(std::io::Cursor::new(bytes), &seek_dir)
            .map(|e| e.len())
            .map_err(describe);
        (streamed, seeked)
    }
}
