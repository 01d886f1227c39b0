//! PEP 751 lock files (`pylock.toml`): written from a resolution ([`render`], `ferry lock`),
//! and read back into the packages to install ([`read`], `ferry install -r pylock.toml`,
//! `ferry sync`) without asking an index anything.
//!
//! ferry writes what pip's `pip lock` writes: a lock for one environment, each package with
//! the one file chosen for it (its wheel, or its sdist) with the URL, sha256, size and upload
//! time, or its direct source (`vcs`, `directory`, `archive`). It reads any PEP 751 lock: a
//! package whose `marker` does not hold is skipped, the best of its wheels for the target's
//! tags is taken (else its sdist, built), and what cannot install here is one error listing
//! every reason.

use std::collections::BTreeMap;
use std::path::Path;

use ferry_index::{DistFile, DistFilename, Hashes, IndexClient, IndexError, ProjectFile};
use ferry_types::PackageName;
use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;

use crate::{Parent, ResolveError, ResolvedPackage, Target};

/// Whether `path` names a PEP 751 lock file: `pylock.toml` or `pylock.<name>.toml`.
pub fn is_lock_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| {
            name == "pylock.toml"
                || (name.starts_with("pylock.") && name.ends_with(".toml") && name.len() > 12)
        })
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Lock {
    lock_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    environments: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requires_python: Option<String>,
    created_by: String,
    #[serde(default)]
    packages: Vec<Package>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Package {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requires_python: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    index: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vcs: Option<VcsSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    directory: Option<DirectorySource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    archive: Option<FileSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sdist: Option<FileSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wheels: Option<Vec<FileSource>>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upload_time: Option<toml::value::Datetime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subdirectory: Option<String>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct VcsSource {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requested_revision: Option<String>,
    commit_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subdirectory: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct DirectorySource {
    path: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    editable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subdirectory: Option<String>,
}

/// The text of a lock of `packages` (sorted by name), for `requires_python` when given. Files
/// the index listed without a sha256 are hashed (read or downloaded) now: PEP 751 requires
/// hashes.
pub async fn render(
    client: &IndexClient,
    packages: &[ResolvedPackage],
    requires_python: Option<String>,
) -> Result<String, IndexError> {
    let mut out = Vec::new();
    for package in packages {
        let mut entry = Package {
            name: package.name.to_string(),
            version: Some(package.version.to_string()),
            ..Package::default()
        };
        let file = &package.file.file;
        if let Some(vcs) = &package.vcs {
            entry.vcs = Some(VcsSource {
                kind: vcs.vcs.as_str().to_string(),
                url: Some(vcs.repository.clone()),
                path: None,
                requested_revision: vcs.requested_revision.clone(),
                commit_id: vcs.commit.clone(),
                subdirectory: vcs.subdirectory.clone(),
            });
        } else if let Some(dir) = package
            .direct_url
            .as_ref()
            .and_then(|u| u.to_file_path().ok())
            .filter(|p| p.is_dir())
        {
            entry.directory = Some(DirectorySource {
                path: dir.display().to_string(),
                editable: package.editable,
                subdirectory: ferry_types::subdirectory_of(&file.url),
            });
        } else {
            let sha256 = crate::pins::file_sha256(client, file).await?;
            let source = FileSource {
                name: Some(file.filename.clone()),
                upload_time: file
                    .upload_time
                    .as_deref()
                    .and_then(|t| t.parse::<toml::value::Datetime>().ok()),
                url: Some(ferry_types::vcs::strip_credentials(&file.url)),
                path: None,
                size: file.size,
                subdirectory: None,
                hashes: BTreeMap::from([("sha256".to_string(), sha256)]),
            };
            if package.direct_url.is_some() {
                entry.archive = Some(FileSource {
                    name: None,
                    subdirectory: ferry_types::subdirectory_of(&file.url),
                    ..source
                });
            } else {
                entry.index = url::Url::parse(&package.file.source)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))
                    .map(|u| ferry_types::vcs::strip_credentials(&u));
                match package.file.name {
                    DistFilename::Wheel(_) => entry.wheels = Some(vec![source]),
                    DistFilename::Sdist(_) => entry.sdist = Some(source),
                }
            }
        }
        out.push(entry);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    let lock = Lock {
        lock_version: "1.0".into(),
        environments: None,
        requires_python,
        created_by: "ferry".into(),
        packages: out,
    };
    Ok(toml::to_string(&lock).expect("a lock serializes"))
}

/// Why a lock cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("could not read the lock file `{}`: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is not a PEP 751 lock file: {message}", path.display())]
    Invalid {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("`{}` cannot be installed on this interpreter (Python {python}):\n{}", path.display(), reasons.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    Unusable {
        path: std::path::PathBuf,
        python: String,
        reasons: Vec<String>,
    },
}

/// The packages of the lock at `path` that apply to `target`, as the installer takes them: the
/// best wheel for the target's tags, else the sdist (built); direct sources through the same
/// path as requirements by location (`vcs`, `directory`, `archive`).
pub fn read(
    handle: &Handle,
    options: &crate::ResolveOptions,
    path: &Path,
    target: &Target,
) -> Result<Vec<ResolvedPackage>, ResolveError> {
    let invalid = |message: String| {
        ResolveError::Lock(LockError::Invalid {
            path: path.to_path_buf(),
            message,
        })
    };
    let text = fs_err::read_to_string(path).map_err(|source| {
        ResolveError::Lock(LockError::Read {
            path: path.to_path_buf(),
            source,
        })
    })?;
    let lock: Lock = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    if !lock.lock_version.starts_with("1.") && lock.lock_version != "1" {
        return Err(invalid(format!(
            "lock-version {} (ferry reads 1.x)",
            lock.lock_version
        )));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let python = target.python_version.clone();
    let fits = |spec: &str| -> Result<bool, ResolveError> {
        let specifiers: pep440_rs::VersionSpecifiers = spec
            .parse()
            .map_err(|e| invalid(format!("requires-python `{spec}`: {e}")))?;
        Ok(specifiers.contains(&python))
    };
    let mut reasons = Vec::new();
    if let Some(spec) = &lock.requires_python {
        if !fits(spec)? {
            reasons.push(format!("the lock requires Python {spec}"));
        }
    }
    if let Some(environments) = &lock.environments {
        let mut any = false;
        for text in environments {
            let marker: pep508_rs::MarkerTree = text
                .parse()
                .map_err(|e| invalid(format!("environments `{text}`: {e}")))?;
            any |= marker.evaluate(&target.markers, &[]);
        }
        if !any {
            reasons.push(format!(
                "none of its environments matches this one: {}",
                environments.join("; ")
            ));
        }
    }
    let mut packages = Vec::new();
    for package in &lock.packages {
        if let Some(text) = &package.marker {
            let marker: pep508_rs::MarkerTree = text
                .parse()
                .map_err(|e| invalid(format!("{}: marker `{text}`: {e}", package.name)))?;
            if !marker.evaluate(&target.markers, &[]) {
                tracing::debug!("{}: its marker `{text}` does not hold here", package.name);
                continue;
            }
        }
        let label = match &package.version {
            Some(version) => format!("{} {version}", package.name),
            None => package.name.clone(),
        };
        if let Some(spec) = &package.requires_python {
            if !fits(spec)? {
                reasons.push(format!("{label} requires Python {spec}"));
                continue;
            }
        }
        match choose(package, base, target, &label) {
            Ok(Chosen::File(file)) => {
                let mut found = index_package(package, file, &label)?;
                found.parents = requested(path);
                packages.push(found);
            }
            Ok(Chosen::Direct(url)) => {
                let editable = package.directory.as_ref().is_some_and(|d| d.editable);
                let found =
                    crate::direct::direct(handle, options, Some(&package.name), url, editable)?;
                packages.push(ResolvedPackage {
                    name: PackageName::new(&found.name),
                    version: found.file.name.version().clone(),
                    extras: Default::default(),
                    file: found.file,
                    all_files: Vec::new(),
                    metadata: found.metadata.map(std::sync::Arc::new),
                    parents: requested(path),
                    direct_url: Some(found.url),
                    editable: found.editable,
                    vcs: found.vcs,
                });
            }
            Err(reason) => reasons.push(reason),
        }
    }
    if !reasons.is_empty() {
        return Err(ResolveError::Lock(LockError::Unusable {
            path: path.to_path_buf(),
            python: python.to_string(),
            reasons,
        }));
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(packages)
}

fn requested(path: &Path) -> std::collections::BTreeSet<Parent> {
    std::collections::BTreeSet::from([Parent::Requested(format!("-r {}", path.display()))])
}

enum Chosen<'a> {
    File(&'a FileSource),
    Direct(url::Url),
}

/// Which of `package`'s sources to install here.
fn choose<'a>(
    package: &'a Package,
    base: &Path,
    target: &Target,
    label: &str,
) -> Result<Chosen<'a>, String> {
    if let Some(vcs) = &package.vcs {
        let repository = match (&vcs.url, &vcs.path) {
            (Some(url), _) => url.clone(),
            (None, Some(path)) => format!("file://{}", base.join(path).display()),
            (None, None) => {
                return Err(format!("{label}: its vcs source has neither url nor path"))
            }
        };
        let mut text = format!("{}+{repository}@{}", vcs.kind, vcs.commit_id);
        if let Some(sub) = &vcs.subdirectory {
            text.push_str(&format!("#subdirectory={sub}"));
        }
        return url::Url::parse(&text)
            .map(Chosen::Direct)
            .map_err(|e| format!("{label}: `{text}`: {e}"));
    }
    if let Some(dir) = &package.directory {
        let path = base.join(&dir.path);
        let mut url = url::Url::from_directory_path(&path)
            .map_err(|()| format!("{label}: `{}` is not a usable path", path.display()))?;
        let trimmed = url.path().trim_end_matches('/').to_string();
        url.set_path(&trimmed);
        if let Some(sub) = &dir.subdirectory {
            url.set_fragment(Some(&format!("subdirectory={sub}")));
        }
        return Ok(Chosen::Direct(url));
    }
    if let Some(archive) = &package.archive {
        let mut url = file_url(archive, base).map_err(|e| format!("{label}: {e}"))?;
        let mut fragment = Vec::new();
        if let Some(sha256) = archive.hashes.get("sha256") {
            fragment.push(format!("sha256={sha256}"));
        }
        if let Some(sub) = &archive.subdirectory {
            fragment.push(format!("subdirectory={sub}"));
        }
        if !fragment.is_empty() {
            url.set_fragment(Some(&fragment.join("&")));
        }
        return Ok(Chosen::Direct(url));
    }
    let wheels = package.wheels.as_deref().unwrap_or_default();
    let best = wheels
        .iter()
        .filter_map(|wheel| {
            let name = wheel_name(wheel)?;
            let parsed = ferry_index::WheelFilename::parse(&name)?;
            let priority = target.tags.best(
                parsed
                    .tags
                    .iter()
                    .map(|(p, a, pl)| (p.as_str(), a.as_str(), pl.as_str())),
            )?;
            Some((priority, wheel))
        })
        .min_by_key(|(priority, _)| *priority);
    if let Some((_, wheel)) = best {
        return Ok(Chosen::File(wheel));
    }
    if let Some(sdist) = &package.sdist {
        return Ok(Chosen::File(sdist));
    }
    if wheels.is_empty() {
        return Err(format!(
            "{label} has no source to install from (no wheels, sdist, archive, directory or vcs)"
        ));
    }
    Err(format!(
        "{label}: none of its {} wheels suits this interpreter ({}), and it has no sdist",
        wheels.len(),
        wheels
            .iter()
            .filter_map(wheel_name)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

fn wheel_name(wheel: &FileSource) -> Option<String> {
    wheel.name.clone().or_else(|| {
        let from = wheel.url.as_deref().or(wheel.path.as_deref())?;
        Some(from.rsplit('/').next()?.to_string())
    })
}

fn file_url(file: &FileSource, base: &Path) -> Result<url::Url, String> {
    match (&file.url, &file.path) {
        (Some(url), _) => url::Url::parse(url).map_err(|e| format!("`{url}`: {e}")),
        (None, Some(path)) => url::Url::from_file_path(base.join(path))
            .map_err(|()| format!("`{path}` is not a usable path")),
        (None, None) => Err("a file with neither url nor path".into()),
    }
}

/// A package from an index, as the resolver would have given it.
fn index_package(
    package: &Package,
    file: &FileSource,
    label: &str,
) -> Result<ResolvedPackage, ResolveError> {
    let bad = |message: String| ResolveError::Unsupported(format!("{label}: {message}"));
    let base = Path::new(".");
    let url = file_url(file, base).map_err(&bad)?;
    let filename = file
        .name
        .clone()
        .or_else(|| url.path_segments()?.next_back().map(str::to_string))
        .ok_or_else(|| bad("a file without a name".into()))?;
    let name = DistFilename::parse(&filename, &package.name)
        .ok_or_else(|| bad(format!("`{filename}` is not a file of {}", package.name)))?;
    if let Some(version) = &package.version {
        let locked: pep440_rs::Version = version
            .parse()
            .map_err(|e| bad(format!("version `{version}`: {e}")))?;
        if &locked != name.version() {
            return Err(bad(format!("`{filename}` is not version {version}")));
        }
    }
    let sha256 = file.hashes.get("sha256").map(|h| h.to_ascii_lowercase());
    if sha256.is_none() {
        return Err(bad(format!(
            "`{filename}` has no sha256 in the lock (ferry checks every locked file)"
        )));
    }
    let dist = DistFile {
        filename,
        url,
        hashes: Hashes {
            sha256,
            ..Hashes::default()
        },
        requires_python: package.requires_python.clone(),
        yanked: None,
        core_metadata: ferry_index::CoreMetadata::Unavailable,
        size: file.size,
        upload_time: file.upload_time.map(|t| t.to_string()),
        provenance: None,
    };
    Ok(ResolvedPackage {
        name: PackageName::new(&package.name),
        version: name.version().clone(),
        extras: Default::default(),
        file: ProjectFile {
            file: dist,
            name,
            source: package.index.clone().unwrap_or_default(),
        },
        all_files: Vec::new(),
        metadata: None,
        parents: Default::default(),
        direct_url: None,
        editable: false,
        vcs: None,
    })
}
