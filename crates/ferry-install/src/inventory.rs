//! What is in the cache and where each entry came from, for `ferry cache info|list|remove|
//! purge`. Reads the records each bucket keeps beside its entries: the store's
//! `<sha256>.json` provenance, the build cache's and the kept files' `origin.json`, the HTTP
//! cache's headers, the metadata files' own Name and Version, and the VCS cache's `remotes/`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use ferry_cache::{Bucket, Cache};
use serde::Serialize;

/// What kind of artifact an entry is (`--kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A downloaded wheel, unpacked in the store (`archive-v1`).
    Wheel,
    /// A wheel ferry built (`built-v1`).
    Built,
    /// A distribution file kept whole by `download`/`wheel` (`files-v1`).
    File,
    /// An index page or metadata file in the HTTP cache (`http-v1`).
    Page,
    /// Core metadata of a distribution file (`metadata-v1`).
    Metadata,
    /// A version-control checkout of one commit (`vcs-v1/*/checkouts`).
    Checkout,
    /// A version-control repository (`vcs-v1/*/db`).
    Repository,
    /// A PEP 740 provenance object `install --verify-attestations` verified
    /// (`attestations-v1`).
    Attestation,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Wheel,
        Kind::Built,
        Kind::File,
        Kind::Page,
        Kind::Metadata,
        Kind::Checkout,
        Kind::Repository,
        Kind::Attestation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Wheel => "wheel",
            Kind::Built => "built",
            Kind::File => "file",
            Kind::Page => "page",
            Kind::Metadata => "metadata",
            Kind::Checkout => "checkout",
            Kind::Repository => "repository",
            Kind::Attestation => "attestation",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Where an entry came from. Every URL is without credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EntryOrigin {
    /// The file or page URL it was downloaded from, or the repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The index or find-links location that listed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// For a build: the sdist URL or path, or the project directory, it was built from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The sha256 of the file (a build: of its sdist, when known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// A checkout's commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl std::fmt::Display for EntryOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(source) = &self.source {
            parts.push(format!("built from {source}"));
        }
        if let Some(url) = &self.url {
            parts.push(url.clone());
        }
        if let Some(commit) = &self.commit {
            parts.push(format!("commit {commit}"));
        }
        if let Some(index) = &self.index {
            parts.push(format!("listed by {index}"));
        }
        if let Some(sha256) = &self.sha256 {
            parts.push(format!("sha256 {}", &sha256[..sha256.len().min(16)]));
        }
        f.write_str(&parts.join(", "))
    }
}

/// One artifact in the cache.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub kind: Kind,
    /// The project (or, for a page, what the URL names; for a repository, its URL's last part).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The file name of a wheel or distribution file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    pub path: PathBuf,
    /// Bytes: the wheel or file for wheels, built wheels and files; the entry on disk otherwise.
    pub size: u64,
    pub origin: EntryOrigin,
    /// Seconds since the epoch it was last used (or written).
    pub last_used: u64,
    /// For an unpacked wheel: how many other places (environments) hard-link its files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<u64>,
}

/// When an entry was last used: its record file's modification time, which ferry sets when
/// it uses the entry (`ferry_cache::mark_used`); access times would move with every listing.
fn used(meta: &std::fs::Metadata) -> u64 {
    u64::try_from(meta.mtime()).unwrap_or(0)
}

fn used_path(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| used(&m))
}

fn dirs(path: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(path) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// The bytes of every file under `path`.
pub fn disk_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries.flatten().map(|e| disk_size(&e.path())).sum()
}

/// `name-version` parts of a wheel or sdist file name.
fn name_version(filename: &str) -> (String, Option<String>) {
    let stem = filename
        .strip_suffix(".whl")
        .or_else(|| filename.strip_suffix(".tar.gz"))
        .or_else(|| filename.strip_suffix(".zip"))
        .unwrap_or(filename);
    let mut parts = stem.splitn(3, '-');
    let name = parts.next().unwrap_or(stem).to_string();
    (
        ferry_index::normalize_name(&name),
        parts.next().map(str::to_string),
    )
}

fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn text(value: &serde_json::Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Every entry of the cache, by kind then name.
pub fn list(cache: &Cache) -> Vec<Entry> {
    let mut out = Vec::new();
    wheels(cache, &mut out);
    built(cache, &mut out);
    files(cache, &mut out);
    pages(cache, &mut out);
    metadata(cache, &mut out);
    vcs(cache, &mut out);
    attestations(cache, &mut out);
    out.sort_by(|a, b| {
        (a.kind, &a.name, &a.version, &a.path).cmp(&(b.kind, &b.name, &b.version, &b.path))
    });
    out
}

fn wheels(cache: &Cache, out: &mut Vec<Entry>) {
    let store = crate::Store::new(cache);
    for (dir, provenance) in store.list() {
        let Ok(meta) = std::fs::metadata(&dir) else {
            continue;
        };
        let sha = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The dist-info's METADATA is linked into every environment that has the wheel.
        let dist_info = dirs(&dir)
            .into_iter()
            .find(|d| d.extension().is_some_and(|e| e == "dist-info"));
        let links = dist_info
            .as_ref()
            .and_then(|d| std::fs::metadata(d.join("METADATA")).ok())
            .map(|m| m.nlink().saturating_sub(1));
        let (filename, (name, version), size, origin) = match provenance {
            Some(p) => {
                // A wheel ferry built was "listed" by its build: say what it was built from.
                let origin = match p.index.strip_prefix("built from ") {
                    // (Its own sha256 names its directory; the build cache's entry has the
                    // sdist's.)
                    Some(source) => EntryOrigin {
                        source: Some(source.to_string()),
                        ..EntryOrigin::default()
                    },
                    None => EntryOrigin {
                        url: Some(p.url.clone()),
                        index: Some(p.index.clone()).filter(|i| !i.is_empty()),
                        sha256: Some(p.sha256.clone()),
                        ..EntryOrigin::default()
                    },
                };
                (
                    Some(p.filename.clone()),
                    name_version(&p.filename),
                    p.size,
                    origin,
                )
            }
            None => {
                let label = dist_info
                    .as_ref()
                    .and_then(|d| d.file_stem())
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| sha.clone());
                (
                    None,
                    name_version(&label),
                    disk_size(&dir),
                    EntryOrigin {
                        sha256: Some(sha.clone()),
                        ..EntryOrigin::default()
                    },
                )
            }
        };
        let last_used = used_path(&dir.with_extension("json")).unwrap_or_else(|| used(&meta));
        out.push(Entry {
            kind: Kind::Wheel,
            name,
            version,
            filename,
            path: dir,
            size,
            origin,
            last_used,
            links,
        });
    }
}

fn built(cache: &Cache, out: &mut Vec<Entry>) {
    // `<key>/<target>/origin.json`, or `tree-*/<stamp>/<target>/origin.json`.
    fn walk(dir: &Path, depth: usize, out: &mut Vec<Entry>) {
        if dir.join("origin.json").is_file() {
            let Some(origin) = read_json(&dir.join("origin.json")) else {
                return;
            };
            let wheel = text(&origin, "wheel").unwrap_or_default();
            let path = dir.join(&wheel);
            let Ok(meta) = std::fs::metadata(&path) else {
                return;
            };
            let (name, version) = name_version(&wheel);
            out.push(Entry {
                kind: Kind::Built,
                name,
                version,
                filename: Some(wheel),
                path: dir.to_path_buf(),
                size: meta.len(),
                origin: EntryOrigin {
                    source: text(&origin, "source"),
                    sha256: text(&origin, "sha256"),
                    ..EntryOrigin::default()
                },
                last_used: used_path(&dir.join("origin.json")).unwrap_or_else(|| used(&meta)),
                links: None,
            });
            return;
        }
        if depth < 3 {
            for child in dirs(dir) {
                walk(&child, depth + 1, out);
            }
        }
    }
    walk(&cache.bucket(Bucket::Built), 0, out);
}

fn files(cache: &Cache, out: &mut Vec<Entry>) {
    for dir in dirs(&cache.bucket(Bucket::Files)) {
        let origin = read_json(&dir.join("origin.json")).unwrap_or_default();
        let Some(filename) = text(&origin, "filename") else {
            continue;
        };
        let Ok(meta) = std::fs::metadata(dir.join(&filename)) else {
            continue;
        };
        let (name, version) = name_version(&filename);
        out.push(Entry {
            kind: Kind::File,
            name,
            version,
            filename: Some(filename),
            path: dir.clone(),
            size: meta.len(),
            origin: EntryOrigin {
                url: text(&origin, "url"),
                index: text(&origin, "index"),
                sha256: dir.file_name().map(|n| n.to_string_lossy().into_owned()),
                ..EntryOrigin::default()
            },
            last_used: used_path(&dir.join("origin.json")).unwrap_or_else(|| used(&meta)),
            links: None,
        });
    }
}

fn attestations(cache: &Cache, out: &mut Vec<Entry>) {
    let Ok(entries) = std::fs::read_dir(cache.bucket(Bucket::Attestations)) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let record = read_json(&path).unwrap_or_default();
        let (Some(filename), Ok(meta)) = (text(&record, "filename"), entry.metadata()) else {
            continue;
        };
        let (name, version) = name_version(&filename);
        out.push(Entry {
            kind: Kind::Attestation,
            name,
            version,
            filename: Some(filename),
            path,
            size: meta.len(),
            origin: EntryOrigin {
                url: text(&record, "url"),
                sha256: text(&record, "sha256"),
                ..EntryOrigin::default()
            },
            last_used: used(&meta),
            links: None,
        });
    }
}

fn pages(cache: &Cache, out: &mut Vec<Entry>) {
    for page in ferry_index::cached_pages(cache) {
        let last_used = std::fs::metadata(&page.path)
            .map(|m| used(&m))
            .unwrap_or(page.stored_at);
        // `.../simple/<project>/` names its project; a metadata file, its distribution.
        let name = url::Url::parse(&page.url)
            .ok()
            .and_then(|u| {
                u.path_segments()?
                    .rfind(|s| !s.is_empty())
                    .map(str::to_string)
            })
            .map(|last| match last.strip_suffix(".metadata") {
                Some(file) => name_version(file).0,
                None => ferry_index::normalize_name(&last),
            })
            .unwrap_or_else(|| page.url.clone());
        out.push(Entry {
            kind: Kind::Page,
            name,
            version: None,
            filename: None,
            path: page.path,
            size: page.size,
            origin: EntryOrigin {
                url: Some(page.url),
                ..EntryOrigin::default()
            },
            last_used,
            links: None,
        });
    }
}

fn metadata(cache: &Cache, out: &mut Vec<Entry>) {
    let Ok(entries) = std::fs::read_dir(cache.bucket(Bucket::Metadata)) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(key) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".metadata"))
            .map(str::to_string)
        else {
            continue;
        };
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let header = |field: &str| {
            text.lines()
                .take_while(|l| !l.is_empty())
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .map(|v| v.trim().to_string())
        };
        out.push(Entry {
            kind: Kind::Metadata,
            name: ferry_index::normalize_name(&header("Name").unwrap_or_else(|| key.clone())),
            version: header("Version"),
            filename: None,
            path: path.clone(),
            size: meta.len(),
            origin: EntryOrigin {
                // Keyed by the distribution file's sha256, or by its URL when unhashed.
                sha256: Some(key.clone()).filter(|k| !k.starts_with("url-")),
                ..EntryOrigin::default()
            },
            last_used: used(&meta),
            links: None,
        });
    }
}

fn vcs(cache: &Cache, out: &mut Vec<Entry>) {
    let root = cache.bucket(Bucket::Vcs);
    for system in dirs(&root) {
        let remote = |key: &Path| {
            key.file_name()
                .and_then(|k| std::fs::read_to_string(system.join("remotes").join(k)).ok())
                .map(|s| s.trim().to_string())
        };
        let short = |url: &Option<String>| {
            url.as_deref()
                .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
                .map(|last| last.trim_end_matches(".git").to_string())
                .unwrap_or_default()
        };
        for db in dirs(&system.join("db")) {
            let url = remote(&db);
            let Ok(meta) = std::fs::metadata(&db) else {
                continue;
            };
            out.push(Entry {
                kind: Kind::Repository,
                name: short(&url),
                version: None,
                filename: None,
                size: disk_size(&db),
                path: db,
                origin: EntryOrigin {
                    url,
                    ..EntryOrigin::default()
                },
                last_used: used(&meta),
                links: None,
            });
        }
        for key in dirs(&system.join("checkouts")) {
            let url = remote(&key);
            for commit_dir in dirs(&key) {
                let Ok(meta) = std::fs::metadata(&commit_dir) else {
                    continue;
                };
                let commit = commit_dir
                    .file_name()
                    .map(|c| c.to_string_lossy().into_owned());
                out.push(Entry {
                    kind: Kind::Checkout,
                    name: short(&url),
                    version: None,
                    filename: None,
                    size: disk_size(&commit_dir),
                    path: commit_dir,
                    origin: EntryOrigin {
                        url: url.clone(),
                        commit,
                        ..EntryOrigin::default()
                    },
                    last_used: used(&meta),
                    links: None,
                });
            }
        }
    }
}

/// A bucket's location, size and entry count (`ferry cache info`).
#[derive(Debug, Clone, Serialize)]
pub struct BucketInfo {
    pub name: &'static str,
    pub path: PathBuf,
    pub size: u64,
    pub entries: usize,
}

/// Every bucket, with what it holds.
pub fn info(cache: &Cache) -> Vec<BucketInfo> {
    let entries = list(cache);
    let count = |kinds: &[Kind]| entries.iter().filter(|e| kinds.contains(&e.kind)).count();
    let buckets: [(&'static str, Bucket, usize); 11] = [
        (
            "index pages (HTTP cache)",
            Bucket::Http,
            count(&[Kind::Page]),
        ),
        ("metadata", Bucket::Metadata, count(&[Kind::Metadata])),
        (
            "unpacked wheels (store)",
            Bucket::Archive,
            count(&[Kind::Wheel]),
        ),
        ("built wheels", Bucket::Built, count(&[Kind::Built])),
        ("downloaded files", Bucket::Files, count(&[Kind::File])),
        (
            "verified provenance",
            Bucket::Attestations,
            count(&[Kind::Attestation]),
        ),
        (
            "version control",
            Bucket::Vcs,
            count(&[Kind::Checkout, Kind::Repository]),
        ),
        (
            "wheels kept for their metadata",
            Bucket::Downloads,
            dirs(&cache.bucket(Bucket::Downloads)).len(),
        ),
        (
            "wheel URLs",
            Bucket::Wheels,
            std::fs::read_dir(cache.bucket(Bucket::Wheels)).map_or(0, |d| d.count()),
        ),
        (
            "interpreters",
            Bucket::Interpreter,
            std::fs::read_dir(cache.bucket(Bucket::Interpreter)).map_or(0, |d| d.count()),
        ),
        (
            "builds in progress",
            Bucket::Builds,
            dirs(&cache.bucket(Bucket::Builds)).len(),
        ),
    ];
    buckets
        .into_iter()
        .map(|(name, bucket, entries)| {
            let path = cache.bucket(bucket);
            BucketInfo {
                name,
                size: disk_size(&path),
                path,
                entries,
            }
        })
        .collect()
}

/// Removes `entries` (an unpacked wheel with its provenance record); gives how many were
/// removed and the bytes freed. Environments that hard-link a removed wheel keep their files.
pub fn remove(entries: &[Entry]) -> std::io::Result<(usize, u64)> {
    let mut removed = 0;
    let mut freed = 0;
    for entry in entries {
        let size = disk_size(&entry.path);
        let result = if entry.path.is_dir() {
            std::fs::remove_dir_all(&entry.path)
        } else {
            std::fs::remove_file(&entry.path)
        };
        match result {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        }
        if entry.kind == Kind::Wheel {
            let _ = std::fs::remove_file(entry.path.with_extension("json"));
        }
        removed += 1;
        freed += size;
    }
    Ok((removed, freed))
}

/// What interrupted runs left behind: staging directories and partial downloads (`.tmp-*`,
/// `.download-*`, anywhere up to four levels down) and build working directories. Only safe
/// to remove under the cache's exclusive lock, when no ferry process is running.
pub fn leftovers(cache: &Cache) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".tmp-") || name.starts_with(".download-") {
                out.push(entry.path());
            } else if depth < 4 && entry.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&entry.path(), depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(cache.root(), 0, &mut out);
    let builds = cache.bucket(Bucket::Builds);
    if let Ok(entries) = std::fs::read_dir(&builds) {
        out.extend(entries.flatten().map(|e| e.path()));
    }
    out.sort();
    out.dedup();
    out
}

/// Removes `paths` (files or directories); gives how many and the bytes freed.
pub fn remove_paths(paths: &[PathBuf]) -> std::io::Result<(usize, u64)> {
    let mut removed = 0;
    let mut freed = 0;
    for path in paths {
        let size = disk_size(path);
        let result = if path.is_dir() {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        };
        match result {
            Ok(()) => {
                removed += 1;
                freed += size;
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok((removed, freed))
}

/// Whether `name` matches the glob `pattern` (`*` any run, `?` one character), compared as
/// normalized project names.
pub fn matches(pattern: &str, name: &str) -> bool {
    fn glob(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
            (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let pattern = ferry_index::normalize_name(pattern);
    glob(
        pattern.as_bytes(),
        ferry_index::normalize_name(name).as_bytes(),
    )
}
