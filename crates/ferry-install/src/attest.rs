//! `--verify-attestations`: every file to install or download must come from an index that
//! serves its PEP 740 provenance, and that provenance must verify for the file (see
//! `ferry_index::verify_provenance`). Gives, per package, the publishers it proves and the
//! provenance object itself, which install keeps in the cache's `attestations-v1` bucket
//! (keyed by the file's sha256, never in the environment) for `ferry show` to verify again.

use std::collections::BTreeMap;
use std::path::Path;

use ferry_cache::{Bucket, Cache};
use ferry_index::{HttpClient, Publisher};
use ferry_resolve::ResolvedPackage;
use serde::{Deserialize, Serialize};

use crate::InstallError;

/// What `--verify-attestations` established about one package's file.
#[derive(Debug, Clone)]
pub struct Attested {
    pub filename: String,
    /// The file's sha256, which the provenance attests.
    pub sha256: String,
    /// Where the provenance came from (without credentials).
    pub url: String,
    pub publishers: Vec<Publisher>,
    /// The provenance object as the index served it.
    pub provenance: Vec<u8>,
}

/// An `attestations-v1/<file sha256>.json` record.
#[derive(Serialize, Deserialize)]
struct Kept {
    filename: String,
    sha256: String,
    /// Where the provenance came from (without credentials).
    url: String,
    /// Seconds since the epoch when install verified it.
    verified_at: u64,
    provenance: serde_json::Value,
}

/// The record of `sha256`'s provenance in the cache; `None` for anything but a sha256 in hex
/// (the digest comes from an index page or from the environment, and names a file here).
fn kept_path(cache_root: &Path, sha256: &str) -> Option<std::path::PathBuf> {
    let hex = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    hex.then(|| {
        cache_root
            .join(Bucket::Attestations.dir_name())
            .join(format!("{}.json", sha256.to_ascii_lowercase()))
    })
}

/// Keeps each verified provenance in the cache, after the install that checked it succeeded.
pub fn keep(cache: &Cache, attested: &BTreeMap<String, Attested>) -> Result<(), InstallError> {
    let now = crate::files::now_secs();
    for a in attested.values() {
        let provenance = serde_json::from_slice(&a.provenance)
            .map_err(|e| InstallError::Cache(format!("provenance of {}: {e}", a.filename)))?;
        let record = Kept {
            filename: a.filename.clone(),
            sha256: a.sha256.clone(),
            url: a.url.clone(),
            verified_at: now,
            provenance,
        };
        let Some(path) = kept_path(cache.root(), &a.sha256) else {
            continue;
        };
        let bytes = serde_json::to_vec(&record).unwrap_or_default();
        ferry_cache::write_atomic(&path, &bytes).map_err(|e| InstallError::Cache(e.to_string()))?;
    }
    Ok(())
}

/// The media type PEP 740 gives provenance objects.
const PROVENANCE_ACCEPT: &str = "application/vnd.pypi.integrity.v1+json, application/json;q=0.9";

/// Fetches and verifies the provenance of each package's chosen file, all at once; the first
/// package that has none, or whose provenance does not verify, fails the whole run.
pub fn verify_all(
    handle: &tokio::runtime::Handle,
    http: &HttpClient,
    packages: &[&ResolvedPackage],
) -> Result<BTreeMap<String, Attested>, InstallError> {
    let checks = packages.iter().map(|package| verify_one(http, package));
    let results = handle.block_on(futures::future::join_all(checks));
    let mut out = BTreeMap::new();
    for (package, result) in packages.iter().zip(results) {
        out.insert(package.name.to_string(), result?);
    }
    Ok(out)
}

async fn verify_one(
    http: &HttpClient,
    package: &ResolvedPackage,
) -> Result<Attested, InstallError> {
    let file = &package.file.file;
    let refuse = |reason: String| InstallError::Unattested {
        name: package.name.to_string(),
        version: package.version.to_string(),
        reason,
    };
    if package.direct_url.is_some() || package.vcs.is_some() {
        return Err(refuse(
            "it was asked for by location, and only an index serves provenance".into(),
        ));
    }
    let Some(sha256) = &file.hashes.sha256 else {
        return Err(refuse(format!(
            "{} gives no sha256 for {}, which the provenance would be checked against",
            package.file.source, file.filename
        )));
    };
    let fetched = match &file.provenance {
        Some(url) => http.get_cached(url, PROVENANCE_ACCEPT).await?,
        // No `provenance` key on the page: the index's integrity endpoint, if it has one.
        None => {
            let integrity = integrity_url(&package.file.source, package, &file.filename);
            let found = match &integrity {
                Some(url) => http.get_cached(url, PROVENANCE_ACCEPT).await.ok(),
                None => None,
            };
            found.ok_or_else(|| {
                refuse(format!(
                    "{} lists no provenance for {} (PEP 740){}",
                    package.file.source,
                    file.filename,
                    integrity.map_or(String::new(), |u| format!(
                        ", and {} did not give one",
                        ferry_index::redact_str(u.as_str())
                    ))
                ))
            })?
        }
    };
    let publishers = ferry_index::verify_provenance(&fetched.body, &file.filename, sha256)?;
    Ok(Attested {
        filename: file.filename.clone(),
        sha256: sha256.clone(),
        url: fetched.url.to_string(),
        publishers,
        provenance: fetched.body,
    })
}

/// The integrity endpoint an index may serve provenance from when its pages do not link it:
/// `/integrity/PROJECT/VERSION/FILENAME/provenance` at the index's host. Credentials are left
/// out of the URL (the HTTP client adds those it holds for the host).
fn integrity_url(index: &str, package: &ResolvedPackage, filename: &str) -> Option<url::Url> {
    let mut url = url::Url::parse(index).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.set_path("/");
    url.path_segments_mut().ok()?.extend([
        "integrity",
        package.name.as_str(),
        &package.version.to_string(),
        filename,
        "provenance",
    ]);
    Some(url)
}

/// The publishers the provenance kept in the cache for an installed distribution proves,
/// checked again now, for the file its `provenance_url.json` says was installed. `None` when
/// there is nothing to show: no `provenance_url.json` (not installed from an index), or no
/// kept provenance for its file (installed without `--verify-attestations`, or the cache was
/// cleared since).
pub fn installed_publishers(
    dist: &crate::InstalledDist,
    cache_root: &Path,
) -> Option<Result<Vec<Publisher>, String>> {
    let origin = dist.provenance_url()?;
    let sha256 = origin.archive_info.hashes.get("sha256")?;
    let path = kept_path(cache_root, sha256)?;
    let bytes = fs_err::read(&path).ok()?;
    let Some(filename) = url::Url::parse(&origin.url)
        .ok()
        .and_then(|u| ferry_index::filename_of(&u))
    else {
        return Some(Err(format!(
            "provenance_url.json's url {} names no file",
            origin.url
        )));
    };
    let kept: Kept = match serde_json::from_slice(&bytes) {
        Ok(kept) => kept,
        Err(e) => return Some(Err(format!("{} is damaged: {e}", path.display()))),
    };
    let provenance = serde_json::to_vec(&kept.provenance).unwrap_or_default();
    Some(ferry_index::verify_provenance(&provenance, &filename, sha256).map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::kept_path;
    use std::path::Path;

    #[test]
    fn only_a_hex_sha256_names_a_kept_record() {
        let root = Path::new("/cache");
        let hex = "AB".repeat(32);
        assert_eq!(
            kept_path(root, &hex).unwrap(),
            root.join("attestations-v1")
                .join(format!("{}.json", "ab".repeat(32)))
        );
        for bad in ["", "../../etc/passwd", &"g".repeat(64), &"a".repeat(63)] {
            assert!(kept_path(root, bad).is_none(), "{bad}");
        }
    }
}
