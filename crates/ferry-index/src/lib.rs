//! The index client: everything ferry learns about packages comes through here.
//!
//! Takes where to look ([`IndexSettings`]: `--index-url`, `--extra-index-url`, `--find-links`,
//! `--no-index`, resolved against pip's configuration by the caller) and how to talk HTTP
//! ([`HttpSettings`]: certificates, trusted hosts, timeouts, retries, offline/refresh), and
//! gives, for a project name, the distribution files every source offers ([`ProjectFiles`]),
//! each with its URL, hashes, `requires-python`, yanked status and PEP 658 metadata
//! availability, plus [`IndexClient::metadata`] to read a wheel's core metadata as cheaply as
//! the index allows (PEP 658 file, else HTTP range requests, else the whole file).
//!
//! Pages are parsed by their response's `Content-Type` (PEP 691 JSON or PEP 503 HTML), and
//! responses are cached on disk with RFC 9111 semantics under the `http-v1` cache bucket.
//! Passwords never reach a log or an error message: every URL shown is redacted.

mod attest;
mod auth;
mod cache;
mod client;
mod filename;
mod find_links;
mod http;
mod keyring;
mod metadata;
mod settings;
mod simple;
mod url_util;

pub use attest::{
    fuzz_internals as fuzz_attestation_internals, verify_provenance, AttestationError, Publisher,
};
pub use auth::Netrc;
pub use cache::{cached_pages, CachedPage};
pub use client::{
    parse_page, IndexClient, IndexSettings, IndexStrategy, IndexUrl, PageReport, ProjectFile,
    ProjectFiles, SIMPLE_ACCEPT,
};
pub use filename::{DistFilename, SdistFilename, WheelFilename};
pub use http::{
    DownloadObserver, Downloaded, FetchOrigin, Fetched, HttpClient, HttpSettings, StreamObserver,
};
pub use keyring::KeyringProvider;
pub use metadata::{MetadataSource, WholeWheels};
pub use settings::{client_for, resolve_settings, IndexOptions};
pub use simple::{
    filename_of, parse_html, parse_json, CoreMetadata, DistFile, Hashes, ProjectPage,
};
pub use url_util::{normalize_name, redact, redact_str};

use std::path::PathBuf;

/// Errors from talking to indexes. Every URL in a message is redacted.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("request to {url} failed{}", attempts_suffix(*attempts))]
    Request {
        url: String,
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} answered HTTP {status}{}", attempts_suffix(*attempts))]
    Status {
        url: String,
        status: u16,
        attempts: u32,
    },
    #[error("{url} requires authentication (HTTP 401): put credentials in the index URL (https://USER:PASSWORD@host/...), in ~/.netrc, or in a keyring (--keyring-provider; the subprocess provider needs https://USER@host/...)")]
    Unauthorized { url: String },
    #[error("{url} rejected the credentials given for it (HTTP {status})")]
    Forbidden { url: String, status: u16 },
    #[error("the response from {url} ended early: {got} of {expected} bytes{}", attempts_suffix(*attempts))]
    Truncated {
        url: String,
        got: u64,
        expected: u64,
        attempts: u32,
    },
    #[error(
        "hash mismatch for {url}: the index promised sha256 {expected}, the file has {actual}"
    )]
    HashMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("could not parse the index page {url}: {message}")]
    Parse { url: String, message: String },
    #[error("{url} speaks simple API version {version}, but ferry understands only 1.x")]
    ApiVersion { url: String, version: String },
    #[error("{url} is not in the cache, and --offline forbids fetching it")]
    Offline { url: String },
    #[error("could not load TLS settings from `{}`: {message}", path.display())]
    Tls { path: PathBuf, message: String },
    #[error("could not set up HTTP: {0}")]
    Client(String),
    #[error("`{url}` is not a valid URL: {message}")]
    BadUrl { url: String, message: String },
    #[error("no distribution file for `{name}` was found on {sources}")]
    NotFound { name: String, sources: String },
    #[error("could not read {} from `{}`", what, path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write the download of {url} to `{}`", path.display())]
    Write {
        url: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not read the core metadata of {url}: {message}")]
    Metadata { url: String, message: String },
    #[error(transparent)]
    Cache(#[from] ferry_cache::CacheError),
}

fn attempts_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}
