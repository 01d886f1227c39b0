//! `--verify-attestations`: every file to install or download must come from an index that
//! serves its PEP 740 provenance, and that provenance must verify for the file (see
//! `ferry_index::verify_provenance`). Gives, per package, the publishers it proves and the
//! provenance object itself, which install keeps in the dist-info as `provenance.json`.

use std::collections::BTreeMap;

use ferry_index::{HttpClient, Publisher};
use ferry_resolve::ResolvedPackage;

use crate::InstallError;

/// What `--verify-attestations` established about one package's file.
#[derive(Debug, Clone)]
pub struct Attested {
    pub filename: String,
    pub publishers: Vec<Publisher>,
    /// The provenance object as the index served it.
    pub provenance: Vec<u8>,
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

/// The publishers a `provenance.json` kept in a dist-info proves, checked again now, for the
/// file `provenance_url.json` says was installed.
pub fn installed_publishers(dist: &crate::InstalledDist) -> Option<Result<Vec<Publisher>, String>> {
    let bytes = fs_err::read(dist.path.join("provenance.json")).ok()?;
    let Some(origin) = dist.provenance_url() else {
        return Some(Err(
            "provenance_url.json, which names the file, is missing".into()
        ));
    };
    let Some(filename) = url::Url::parse(&origin.url)
        .ok()
        .and_then(|u| ferry_index::filename_of(&u))
    else {
        return Some(Err(format!(
            "provenance_url.json's url {} names no file",
            origin.url
        )));
    };
    let Some(sha256) = origin.archive_info.hashes.get("sha256") else {
        return Some(Err("provenance_url.json gives no sha256".into()));
    };
    Some(ferry_index::verify_provenance(&bytes, &filename, sha256).map_err(|e| e.to_string()))
}
