//! Packages conda installed: in a conda environment (a prefix with `conda-meta/`), each
//! package conda manages has a `conda-meta/<name>-<version>-<build>.json` record listing its
//! channel, its file URL and every file it put in the prefix. A Python distribution belongs to
//! the record whose `files` include its `.dist-info` (or `.egg-info`) directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;

use crate::InstalledDist;

/// What conda recorded about a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondaRecord {
    /// conda's package name (not always the Python project's).
    pub name: String,
    pub version: String,
    /// The channel's name when conda gave one (`schannel`), else its URL.
    pub channel: String,
    /// The package file conda installed.
    pub url: String,
}

#[derive(Deserialize)]
struct RawRecord {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    schannel: Option<String>,
    #[serde(default)]
    url: String,
    #[serde(default)]
    files: Vec<String>,
}

/// Each prefix's records by the metadata directories their files include, read once per run.
type ByDir = HashMap<PathBuf, Arc<CondaRecord>>;

fn prefixes() -> &'static Mutex<HashMap<PathBuf, Arc<ByDir>>> {
    static PREFIXES: OnceLock<Mutex<HashMap<PathBuf, Arc<ByDir>>>> = OnceLock::new();
    PREFIXES.get_or_init(Mutex::default)
}

/// The conda environment `path` is in: its nearest ancestor with a `conda-meta` directory.
pub fn prefix_of(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|dir| dir.join("conda-meta").is_dir())
        .map(Path::to_path_buf)
}

fn read_prefix(prefix: &Path) -> ByDir {
    let mut by_dir = ByDir::new();
    let Ok(entries) = std::fs::read_dir(prefix.join("conda-meta")) else {
        return by_dir;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(raw) = serde_json::from_str::<RawRecord>(&text) else {
            tracing::debug!("{}: not a conda package record", path.display());
            continue;
        };
        let record = Arc::new(CondaRecord {
            name: raw.name,
            version: raw.version,
            channel: raw
                .schannel
                .filter(|c| !c.is_empty())
                .unwrap_or(raw.channel),
            url: raw.url,
        });
        for file in &raw.files {
            // `lib/python3.X/site-packages/pkg-1.0.dist-info/METADATA` → the directory.
            let mut parts = Path::new(file).ancestors().skip(1);
            if let Some(dir) = parts.find(|d| {
                d.extension()
                    .is_some_and(|e| e == "dist-info" || e == "egg-info")
            }) {
                by_dir.insert(dir.to_path_buf(), Arc::clone(&record));
            } else if file.ends_with(".egg-info") {
                by_dir.insert(PathBuf::from(file), Arc::clone(&record));
            }
        }
    }
    by_dir
}

/// conda's record of `dist`, if a conda environment holds it and conda installed it.
pub fn record_of(dist: &InstalledDist) -> Option<CondaRecord> {
    let prefix = prefix_of(&dist.location)?;
    let relative = dist.path.strip_prefix(&prefix).ok()?.to_path_buf();
    let by_dir = {
        let mut cache = prefixes().lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            cache
                .entry(prefix.clone())
                .or_insert_with(|| Arc::new(read_prefix(&prefix))),
        )
    };
    by_dir.get(&relative).map(|record| (**record).clone())
}
