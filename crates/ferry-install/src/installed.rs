//! What is already installed: `*.dist-info` directories (and the `*.egg-info` ones older tools
//! left), read the way pip reads them.

use std::collections::HashSet;
use std::path::PathBuf;
use std::str::FromStr;

use ferry_input::normalize_name;
use ferry_input::pep508_rs::Requirement;
use serde::{Deserialize, Serialize};

use crate::record::RecordEntry;
use crate::InstallError;

/// How an installed distribution describes itself on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistKind {
    /// `NAME-VERSION.dist-info/` (wheel installs, modern tools).
    DistInfo,
    /// `NAME-VERSION.egg-info/` directory or file (setuptools, distutils).
    EggInfo,
}

/// One installed distribution.
#[derive(Debug, Clone)]
pub struct InstalledDist {
    /// The name as its metadata spells it (`Jinja2`).
    pub name: String,
    /// The normalized name (`jinja2`).
    pub normalized: String,
    pub version: String,
    /// The `.dist-info` / `.egg-info` directory (or an `.egg-info` file).
    pub path: PathBuf,
    /// The directory holding it (site-packages).
    pub location: PathBuf,
    pub kind: DistKind,
    /// The core metadata text (METADATA or PKG-INFO).
    pub metadata: String,
}

/// PEP 610 `direct_url.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectUrl {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdirectory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir_info: Option<DirInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_info: Option<ArchiveInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcs_info: Option<VcsInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirInfo {
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub editable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ArchiveInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashes: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VcsInfo {
    pub vcs: String,
    pub commit_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_revision: Option<String>,
}

impl DirectUrl {
    /// The PEP 440 direct reference pip's `freeze` writes: `name @ url[#fragments]`, with the
    /// VCS and commit for VCS installs.
    pub fn to_requirement(&self, name: &str) -> String {
        let mut text = format!("{name} @ ");
        let mut fragments = Vec::new();
        if let Some(vcs) = &self.vcs_info {
            text.push_str(&format!("{}+{}@{}", vcs.vcs, self.url, vcs.commit_id));
        } else {
            text.push_str(&self.url);
            if let Some(hash) = self.archive_info.as_ref().and_then(|a| a.hash.as_ref()) {
                fragments.push(hash.clone());
            }
        }
        if let Some(subdirectory) = &self.subdirectory {
            fragments.push(format!("subdirectory={subdirectory}"));
        }
        if !fragments.is_empty() {
            text.push('#');
            text.push_str(&fragments.join("&"));
        }
        text
    }

    pub fn is_editable(&self) -> bool {
        self.dir_info.as_ref().is_some_and(|d| d.editable)
    }
}

/// The header fields of a core metadata text, in order, with continuation lines joined.
pub fn metadata_fields(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':') {
            fields.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    fields
}

impl InstalledDist {
    /// The first value of a metadata field (case-insensitive key).
    pub fn field(&self, key: &str) -> Option<String> {
        metadata_fields(&self.metadata)
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// Every value of a multiple-use metadata field.
    pub fn fields(&self, key: &str) -> Vec<String> {
        metadata_fields(&self.metadata)
            .into_iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
            .collect()
    }

    /// The declared dependencies: `Requires-Dist`, or an egg-info's `requires.txt`.
    /// Unparseable entries are skipped (a broken installed package must not stop listing).
    pub fn requires(&self) -> Vec<Requirement> {
        let mut out = Vec::new();
        let dist_values = self.fields("Requires-Dist");
        if !dist_values.is_empty() || self.kind == DistKind::DistInfo {
            for value in dist_values {
                if let Ok(req) = Requirement::from_str(&value) {
                    out.push(req);
                }
            }
            return out;
        }
        // requires.txt: plain lines, then `[extra]` or `[extra:marker]` / `[:marker]` sections.
        let Ok(text) = fs_err::read_to_string(self.path.join("requires.txt")) else {
            return out;
        };
        let mut section: Option<(String, String)> = None;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                let (extra, marker) = inner.split_once(':').unwrap_or((inner, ""));
                section = Some((extra.trim().to_string(), marker.trim().to_string()));
                continue;
            }
            let mut conditions = Vec::new();
            if let Some((extra, marker)) = &section {
                if !extra.is_empty() {
                    conditions.push(format!("extra == \"{extra}\""));
                }
                if !marker.is_empty() {
                    conditions.push(format!("({marker})"));
                }
            }
            let text = if conditions.is_empty() {
                line.to_string()
            } else {
                format!("{line} ; {}", conditions.join(" and "))
            };
            if let Ok(req) = Requirement::from_str(&text) {
                out.push(req);
            }
        }
        out
    }

    /// The installed files from RECORD (dist-info) or `installed-files.txt` (egg-info), with
    /// paths relative to [`InstalledDist::location`]. `None` when there is no such list.
    pub fn record(&self) -> Result<Option<Vec<RecordEntry>>, InstallError> {
        match self.kind {
            DistKind::DistInfo => {
                let path = self.path.join("RECORD");
                match fs_err::read_to_string(&path) {
                    Ok(text) => Ok(Some(crate::record::parse(&text, &path)?)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(source) => Err(InstallError::Io {
                        action: "read",
                        path,
                        source,
                    }),
                }
            }
            DistKind::EggInfo => {
                let path = self.path.join("installed-files.txt");
                let Ok(text) = fs_err::read_to_string(&path) else {
                    return Ok(None);
                };
                let egg_dir = self
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let mut entries: Vec<RecordEntry> = text
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| RecordEntry::path_only(format!("{egg_dir}/{l}")))
                    .collect();
                entries.push(RecordEntry::path_only(format!(
                    "{egg_dir}/installed-files.txt"
                )));
                Ok(Some(entries))
            }
        }
    }

    /// `direct_url.json` (PEP 610), if present and readable.
    pub fn direct_url(&self) -> Option<DirectUrl> {
        let text = fs_err::read_to_string(self.path.join("direct_url.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The `INSTALLER` file's first line.
    pub fn installer(&self) -> Option<String> {
        let text = fs_err::read_to_string(self.path.join("INSTALLER")).ok()?;
        text.lines()
            .next()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
    }

    /// Whether the user asked for it by name (PEP 376 `REQUESTED`).
    pub fn requested(&self) -> bool {
        self.path.join("REQUESTED").exists()
    }

    /// Where the project of an editable install lives: from `direct_url.json`, or for an old
    /// `setup.py develop` install, the directory an `.egg-link` file points to.
    pub fn editable_location(&self) -> Option<PathBuf> {
        if let Some(direct) = self.direct_url().filter(DirectUrl::is_editable) {
            return url_to_path(&direct.url);
        }
        let link = self.location.join(format!("{}.egg-link", self.name));
        let text = fs_err::read_to_string(link).ok()?;
        text.lines().next().map(|l| PathBuf::from(l.trim()))
    }
}

/// The local path of a `file:` URL (percent-decoded).
pub fn url_to_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("file://")?;
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Some(PathBuf::from(String::from_utf8_lossy(&out).into_owned()))
}

/// Reads the installed distributions in `dirs` (site-packages directories, searched in order;
/// a name found twice keeps the first, as Python's import path would). Unreadable entries are
/// skipped with a debug log.
pub fn scan(dirs: &[PathBuf]) -> Vec<InstalledDist> {
    let mut seen_dirs = HashSet::new();
    let mut seen_names = HashSet::new();
    let mut found = Vec::new();
    for dir in dirs {
        if !seen_dirs.insert(dir.clone()) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            let (kind, stem) = if let Some(stem) = file_name.strip_suffix(".dist-info") {
                (DistKind::DistInfo, stem)
            } else if let Some(stem) = file_name.strip_suffix(".egg-info") {
                (DistKind::EggInfo, stem)
            } else {
                continue;
            };
            let path = entry.path();
            let metadata_file = match kind {
                DistKind::DistInfo => path.join("METADATA"),
                DistKind::EggInfo if path.is_dir() => path.join("PKG-INFO"),
                DistKind::EggInfo => path.clone(),
            };
            let Ok(metadata) = std::fs::read_to_string(&metadata_file) else {
                tracing::debug!("skipping {}: no readable metadata", path.display());
                continue;
            };
            let fields = metadata_fields(&metadata);
            let get = |key: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v.clone())
            };
            let mut parts = stem.splitn(3, '-');
            let file_dist = parts.next().unwrap_or_default().to_string();
            let file_version = parts.next().map(str::to_string);
            let Some(name) = get("Name").or_else(|| Some(file_dist).filter(|n| !n.is_empty()))
            else {
                continue;
            };
            let Some(version) = get("Version").or(file_version) else {
                continue;
            };
            let normalized = normalize_name(&name);
            if !seen_names.insert(normalized.clone()) {
                continue;
            }
            found.push(InstalledDist {
                name,
                normalized,
                version,
                path,
                location: dir.clone(),
                kind,
                metadata,
            });
        }
    }
    found.sort_by(|a, b| a.normalized.cmp(&b.normalized));
    found
}

/// Finds an installed distribution by (any spelling of) its name.
pub fn find<'a>(dists: &'a [InstalledDist], name: &str) -> Option<&'a InstalledDist> {
    let normalized = normalize_name(name);
    dists.iter().find(|d| d.normalized == normalized)
}
