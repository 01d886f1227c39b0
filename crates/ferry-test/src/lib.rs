//! ferry's test harness (dev-only).
//!
//! Takes nothing from the outside world beyond the interpreters installed on the machine, and
//! gives tests what they need to exercise ferry for real, hermetically:
//!
//! - [`TestContext`]: a temporary directory with its own `HOME`, cache and config, and a
//!   [`std::process::Command`] for the `ferry` binary that runs inside it.
//! - [`WheelBuilder`] / [`SdistBuilder`]: valid distributions built in code (METADATA, WHEEL,
//!   RECORD with sha256, entry points, `.data` directories, any tags), plus ways to break them.
//! - [`IndexServer`]: a package index on 127.0.0.1 speaking PEP 503 HTML and PEP 691 JSON,
//!   with PEP 658 metadata, yanked files, requires-python, range requests and ETags, and fault
//!   switches (status codes, dropped connections, truncated bodies, wrong hashes, delays, basic
//!   auth) for the failure paths.
//! - [`pythons`]: the CPython interpreters installed on this machine, for tests that must run
//!   against each of them.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod context;
mod dist;
pub mod git;
mod http;
mod index;
mod project;
pub mod pythons;
mod tls;

pub use context::{RunOutput, TestContext};
pub use dist::{normalize_name, BuiltFile, SdistBuilder, WheelBuilder};
pub use git::{GitRepo, GitServer};
pub use http::{http_get, HttpResponse};
pub use index::{Fault, FaultKind, FileOptions, IndexServer, PageFormat, RequestRecord};
pub use project::Project;
pub use tls::{ServerCert, TestCa};

/// The two wheels the PEP 751 lock fixtures of pip and uv were written for
/// (`crates/ferry/tests/fixtures/locks`; `cargo run -p ferry --example lock_fixture_wheels DIR`
/// writes them for regenerating those fixtures). They must not change: the fixtures pin their
/// hashes.
pub fn lock_fixture_wheels() -> Vec<BuiltFile> {
    vec![
        WheelBuilder::new("fixpkg", "1.0")
            .requires_dist("fixdep>=2")
            .file("fixpkg.py", "FROM = 'lock'\n")
            .build(),
        WheelBuilder::new("fixdep", "2.0")
            .file("fixdep.py", "")
            .build(),
    ]
}

/// Hex-encoded sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
