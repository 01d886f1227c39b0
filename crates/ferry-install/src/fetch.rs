//! Getting wheels into the unpacked-wheel store: from the store itself when the file was seen
//! before, else downloaded, hash-checked and unpacked.

use std::path::PathBuf;
use std::sync::Arc;

use ferry_index::{redact, HttpClient};
use sha2::{Digest, Sha256, Sha384, Sha512};
use url::Url;

use crate::store::{now_secs, Provenance, Store};
use crate::InstallError;

/// A wheel to fetch.
#[derive(Debug, Clone)]
pub struct WheelSource {
    pub name: String,
    pub version: String,
    pub filename: String,
    pub url: Url,
    /// The sha256 the index gave (lowercase hex).
    pub sha256: Option<String>,
    /// Hashes the user gave with `--hash` (`algorithm:hex`); the file must match one.
    pub user_hashes: Vec<String>,
    /// The index or find-links location that listed it.
    pub index: String,
}

/// A wheel in the store.
#[derive(Debug, Clone)]
pub struct FetchedWheel {
    pub archive: PathBuf,
    pub sha256: String,
    pub provenance: Option<Provenance>,
    /// Whether it came from the store without a download.
    pub cached: bool,
}

/// Progress of downloads; implemented by the command line.
pub trait FetchReporter: Send + Sync {
    fn download_started(&self, _name: &str, _size: Option<u64>) {}
    fn download_finished(&self, _name: &str, _bytes: u64) {}
}

/// A reporter that says nothing.
#[derive(Debug, Default)]
pub struct Silent;
impl FetchReporter for Silent {}

fn user_sha256(hashes: &[String]) -> Vec<String> {
    hashes
        .iter()
        .filter_map(|h| {
            h.strip_prefix("sha256:")
                .or_else(|| h.strip_prefix("sha256="))
        })
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Fetches one wheel into the store.
pub async fn fetch_wheel(
    http: &HttpClient,
    store: &Store,
    source: &WheelSource,
    reporter: Arc<dyn FetchReporter>,
) -> Result<FetchedWheel, InstallError> {
    let user = user_sha256(&source.user_hashes);
    if let (Some(index), false) = (&source.sha256, user.is_empty()) {
        if !user.contains(index) {
            return Err(InstallError::HashMismatch {
                name: source.name.clone(),
                url: redact(&source.url),
                expected: format!(
                    "one of the --hash values given for it ({})",
                    source.user_hashes.join(", ")
                ),
                actual: format!("sha256 {index} (according to its index)"),
            });
        }
    }
    // A hash known up front names the archive directly.
    let known = source
        .sha256
        .clone()
        .or_else(|| user.first().cloned())
        .or_else(|| {
            if source.user_hashes.is_empty() {
                store.lookup_url(&redact(&source.url))
            } else {
                None
            }
        });
    if let Some(sha) = &known {
        if let Some(archive) = store.get(sha) {
            return Ok(FetchedWheel {
                archive,
                sha256: sha.clone(),
                provenance: store.provenance(sha),
                cached: true,
            });
        }
    }

    reporter.download_started(&source.name, None);
    let bytes = if source.url.scheme() == "file" {
        let path = source
            .url
            .to_file_path()
            .map_err(|()| InstallError::BadUrl(source.url.to_string()))?;
        tokio::fs::read(&path)
            .await
            .map_err(|err| InstallError::Io {
                action: "read",
                path,
                source: err,
            })?
    } else {
        http.get(&source.url, "").await?.body
    };
    reporter.download_finished(&source.name, bytes.len() as u64);

    let source = source.clone();
    let store = store.clone();
    tokio::task::spawn_blocking(move || verify_and_unpack(&store, &source, &bytes))
        .await
        .map_err(|e| InstallError::Cache(format!("unpacking task failed: {e}")))?
}

fn verify_and_unpack(
    store: &Store,
    source: &WheelSource,
    bytes: &[u8],
) -> Result<FetchedWheel, InstallError> {
    let sha256 = hex(&Sha256::digest(bytes));
    if let Some(expected) = &source.sha256 {
        if expected != &sha256 {
            return Err(InstallError::HashMismatch {
                name: source.name.clone(),
                url: redact(&source.url),
                expected: format!("sha256 {expected} (as its index lists it)"),
                actual: format!("sha256 {sha256}"),
            });
        }
    }
    if !source.user_hashes.is_empty() {
        let matches = source.user_hashes.iter().any(|given| {
            let Some((algorithm, value)) = given.split_once([':', '=']) else {
                return false;
            };
            let value = value.to_ascii_lowercase();
            match algorithm.to_ascii_lowercase().as_str() {
                "sha256" => value == sha256,
                "sha384" => value == hex(&Sha384::digest(bytes)),
                "sha512" => value == hex(&Sha512::digest(bytes)),
                _ => false,
            }
        });
        if !matches {
            return Err(InstallError::HashMismatch {
                name: source.name.clone(),
                url: redact(&source.url),
                expected: format!("one of {}", source.user_hashes.join(", ")),
                actual: format!("sha256 {sha256}"),
            });
        }
    }
    let provenance = Provenance {
        filename: source.filename.clone(),
        url: redact(&source.url),
        index: source.index.clone(),
        downloaded_at: now_secs(),
        size: bytes.len() as u64,
        sha256: sha256.clone(),
    };
    let archive = store.unpack(bytes, &provenance)?;
    Ok(FetchedWheel {
        archive,
        sha256,
        provenance: Some(provenance),
        cached: false,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
