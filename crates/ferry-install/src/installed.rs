//! What is already installed: `*.dist-info` directories (and the `*.egg-info` ones older tools
//! left), read the way pip reads them.

use std::collections::HashSet;
use std::path::PathBuf;

use ferry_input::normalize_name;
use ferry_input::pep508_rs::Requirement;
use serde::{Deserialize, Serialize};

use ferry_types::{DistVersion, PackageName};

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
    pub normalized: PackageName,
    pub version: DistVersion,
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

/// PEP 710 `provenance_url.json` (a draft): where a distribution installed from an index
/// was downloaded from. Written only when there is no `direct_url.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceUrl {
    /// The file downloaded (the wheel, or the sdist a wheel was built from), without
    /// credentials.
    pub url: String,
    /// The index (or find-links location) that listed it.
    pub index_url: String,
    pub archive_info: ProvenanceArchive,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ProvenanceArchive {
    #[serde(default)]
    pub hashes: std::collections::BTreeMap<String, String>,
}

/// Where an installed distribution came from, as `ferry show` (`Source:`) and `ferry list
/// --format json` (`source`) report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// From an index or find-links (PEP 710).
    Index {
        url: String,
        index_url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
    },
    /// From a URL or path the user gave (PEP 610).
    Direct {
        url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        vcs: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
        editable: bool,
    },
    /// Installed by conda (`conda-meta/*.json`).
    Conda { channel: String, url: String },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Index {
                url,
                index_url,
                sha256,
            } => {
                write!(f, "{url} (from {index_url}")?;
                if let Some(sha256) = sha256 {
                    write!(f, ", sha256 {sha256}")?;
                }
                f.write_str(")")
            }
            Origin::Direct {
                url,
                vcs,
                commit,
                sha256,
                editable,
            } => {
                match (vcs, commit) {
                    (Some(vcs), Some(commit)) => write!(f, "{vcs}+{url}@{commit}")?,
                    _ => f.write_str(url)?,
                }
                if let Some(sha256) = sha256 {
                    write!(f, " (sha256 {sha256})")?;
                }
                if *editable {
                    f.write_str(" (editable)")?;
                }
                Ok(())
            }
            Origin::Conda { channel, url } => write!(f, "conda channel {channel} ({url})"),
        }
    }
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
    ferry_types::metadata::fields(text)
}

/// The header fields as Python's `email` parser gives them (see
/// [`ferry_types::metadata::raw_fields`]).
pub fn raw_metadata_fields(text: &str) -> Vec<(String, String)> {
    ferry_types::metadata::raw_fields(text)
}

/// The parts of a `/`-separated path as Python's `PurePosixPath.parts` gives them: `/` first
/// for an absolute path, no empty or `.` parts.
fn path_parts(path: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    if path.starts_with('/') {
        parts.push("/");
    }
    parts.extend(path.split('/').filter(|p| !p.is_empty() && *p != "."));
    parts
}

fn join_parts(parts: &[&str]) -> String {
    match parts.split_first() {
        None => ".".to_string(),
        Some((&"/", rest)) => format!("/{}", rest.join("/")),
        Some(_) => parts.join("/"),
    }
}

/// `str(pathlib.PurePosixPath(path))`.
fn pure_path(path: &str) -> String {
    // POSIX keeps exactly two leading slashes, and folds three or more into one.
    if path.starts_with("//") && !path.starts_with("///") {
        return format!("/{}", join_parts(&path_parts(&path[1..])));
    }
    join_parts(&path_parts(path))
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

    /// The first value of a metadata field exactly as Python's `email` parser returns it (what
    /// pip prints): the first line without leading blanks, continuation lines kept verbatim
    /// with their newlines and indentation.
    pub fn raw_field(&self, key: &str) -> Option<String> {
        raw_metadata_fields(&self.metadata)
            .into_iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// Every value of a multiple-use field, raw as in [`InstalledDist::raw_field`].
    pub fn raw_fields(&self, key: &str) -> Vec<String> {
        raw_metadata_fields(&self.metadata)
            .into_iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
            .collect()
    }

    /// The declared dependencies as PEP 508 strings, as pip reads them: the `Requires-Dist`
    /// values, or for an egg-info without them, its `requires.txt` turned into requirements
    /// with `extra == "..."` (normalized) and section markers.
    pub fn requirement_texts(&self) -> Vec<String> {
        let dist_values: Vec<String> = self
            .raw_fields("Requires-Dist")
            .into_iter()
            .map(|v| v.trim().to_string())
            .collect();
        if !dist_values.is_empty() || self.kind == DistKind::DistInfo {
            return dist_values;
        }
        // requires.txt: plain lines, then `[extra]` or `[extra:marker]` / `[:marker]` sections.
        let Ok(text) = fs_err::read_to_string(self.path.join("requires.txt")) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let (mut extra, mut marker) = (String::new(), String::new());
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') && line.ends_with(']') {
                let inner = line.trim_matches(|c| c == '[' || c == ']');
                let (e, m) = inner.split_once(':').unwrap_or((inner, ""));
                extra = normalize_name(e);
                marker = m.to_string();
                continue;
            }
            out.push(match (extra.is_empty(), marker.is_empty()) {
                (true, true) => line.to_string(),
                (true, false) => format!("{line} ; {marker}"),
                (false, true) => format!("{line} ; extra == \"{extra}\""),
                (false, false) => format!("{line} ; ({marker}) and extra == \"{extra}\""),
            });
        }
        out
    }

    /// The declared dependencies ([`InstalledDist::requirement_texts`]), parsed.
    /// Unparseable entries are skipped (a broken installed package must not stop listing).
    pub fn requires(&self) -> Vec<Requirement> {
        self.requirement_texts()
            .iter()
            .filter_map(|text| ferry_types::parse_requirement(text).ok())
            .collect()
    }

    /// The files the distribution says it installed, as pip's `show --files` lists them:
    /// RECORD paths, else `installed-files.txt` entries made relative to
    /// [`InstalledDist::location`]; normalized like Python's `pathlib` (no `.` parts, no
    /// repeated or trailing slashes), unsorted. `None` when there is no such list.
    pub fn declared_files(&self) -> Option<Vec<String>> {
        if let Ok(text) = fs_err::read_to_string(self.path.join("RECORD")) {
            let record = self.path.join("RECORD");
            let paths: Vec<String> = match crate::record::parse(&text, &record) {
                Ok(entries) => entries.into_iter().map(|e| e.path).collect(),
                // Not valid CSV: take what precedes the first comma, as far as it goes.
                Err(_) => text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| l.split(',').next().unwrap_or_default().to_string())
                    .collect(),
            };
            return Some(paths.iter().map(|p| pure_path(p)).collect());
        }
        let text = fs_err::read_to_string(self.path.join("installed-files.txt")).ok()?;
        let info: Vec<String> = self
            .path
            .strip_prefix(&self.location)
            .ok()
            .map(|rel| {
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        Some(
            text.lines()
                .filter(|l| !l.is_empty())
                .map(|line| {
                    if info.is_empty() {
                        return line.to_string();
                    }
                    // Entries are relative to the egg-info directory: climb out of it.
                    let mut base = info.clone();
                    let mut parts: Vec<&str> = path_parts(line);
                    while parts.first() == Some(&"..") {
                        if base.is_empty() || base.last().is_some_and(|p| p == "..") {
                            base.push("..".to_string());
                        } else {
                            base.pop();
                        }
                        parts.remove(0);
                    }
                    if parts.first() == Some(&"/") {
                        base.clear();
                    }
                    let joined: Vec<&str> = base
                        .iter()
                        .map(String::as_str)
                        .chain(parts.iter().copied())
                        .collect();
                    join_parts(&joined)
                })
                .collect(),
        )
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

    /// `provenance_url.json` (PEP 710), if present and readable.
    pub fn provenance_url(&self) -> Option<ProvenanceUrl> {
        let text = fs_err::read_to_string(self.path.join("provenance_url.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Where it came from: conda's record of it (in a conda environment), else
    /// `direct_url.json`, else `provenance_url.json`; `None` when nothing says (pip does not
    /// record where an index install came from).
    pub fn origin(&self) -> Option<Origin> {
        // conda's record wins: in a conda environment, what conda installed is conda's.
        if let Some(record) = crate::conda::record_of(self) {
            return Some(Origin::Conda {
                channel: record.channel,
                url: record.url,
            });
        }
        if let Some(direct) = self.direct_url() {
            let vcs = direct.vcs_info.as_ref();
            let sha256 = direct
                .archive_info
                .as_ref()
                .and_then(|a| a.hashes.as_ref())
                .and_then(|h| h.get("sha256").cloned());
            return Some(Origin::Direct {
                url: direct.url.clone(),
                vcs: vcs.map(|v| v.vcs.clone()),
                commit: vcs.map(|v| v.commit_id.clone()),
                sha256,
                editable: direct.is_editable(),
            });
        }
        if let Some(provenance) = self.provenance_url() {
            return Some(Origin::Index {
                url: provenance.url,
                index_url: provenance.index_url,
                sha256: provenance.archive_info.hashes.get("sha256").cloned(),
            });
        }
        None
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

/// The local path of a `file:` URL (percent-decoded), as pip derives it: the host must be
/// empty or `localhost`, and a query or fragment is not part of the path.
pub fn url_to_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("file:")?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let path = match rest.strip_prefix("//") {
        Some(after) => {
            let (host, path) = after.split_at(after.find('/').unwrap_or(after.len()));
            if !host.is_empty() && !host.eq_ignore_ascii_case("localhost") {
                return None;
            }
            path
        }
        None => rest,
    };
    Some(PathBuf::from(ferry_types::percent_decode(path)))
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
            let normalized = PackageName::new(&name);
            if !seen_names.insert(normalized.clone()) {
                continue;
            }
            found.push(InstalledDist {
                name,
                normalized,
                version: DistVersion::new(&version),
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
    let normalized = PackageName::new(name);
    dists.iter().find(|d| d.normalized == normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(dir: &std::path::Path, name: &str, files: &[(&str, &str)]) -> InstalledDist {
        let path = dir.join(name);
        fs_err::create_dir_all(&path).unwrap();
        for (file, text) in files {
            fs_err::write(path.join(file), text).unwrap();
        }
        scan(&[dir.to_path_buf()]).into_iter().next().unwrap()
    }

    #[test]
    fn installed_raw_fields_keep_what_the_email_parser_keeps() {
        let fields = raw_metadata_fields(
            "Name: x\nSummary: a  \nLicense: MIT\n        more\nFoo:bar\n\nBody: no\n",
        );
        assert_eq!(
            fields,
            [
                ("Name".to_string(), "x".to_string()),
                ("Summary".to_string(), "a  ".to_string()),
                ("License".to_string(), "MIT\n        more".to_string()),
                ("Foo".to_string(), "bar".to_string()),
            ]
        );
    }

    #[test]
    fn installed_egg_info_requirements_and_files_read_like_pip() {
        let dir = tempfile::tempdir().unwrap();
        let egg = dist(
            dir.path(),
            "old-1.0-py3.egg-info",
            &[
                ("PKG-INFO", "Metadata-Version: 1.0\nName: old\nVersion: 1.0\n"),
                (
                    "requires.txt",
                    "a>=1\n[Test_X]\nb\n[:sys_platform == \"win32\"]\nc\n[doc:python_version<\"3\"]\nd\n",
                ),
                (
                    "installed-files.txt",
                    "../old/__init__.py\nPKG-INFO\n../../../bin/old\n./x//y/\n",
                ),
            ],
        );
        assert_eq!(
            egg.requirement_texts(),
            [
                "a>=1",
                "b ; extra == \"test-x\"",
                "c ; sys_platform == \"win32\"",
                "d ; (python_version<\"3\") and extra == \"doc\"",
            ]
        );
        assert_eq!(egg.requires().len(), 4);
        assert_eq!(
            egg.declared_files().unwrap(),
            [
                "old/__init__.py",
                "old-1.0-py3.egg-info/PKG-INFO",
                "../../bin/old",
                "old-1.0-py3.egg-info/x/y",
            ]
        );
    }

    #[test]
    fn installed_record_paths_are_normalized_and_absent_records_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let with = dist(
            dir.path(),
            "a-1.dist-info",
            &[
                ("METADATA", "Name: a\nVersion: 1\n"),
                ("RECORD", "a/./b//c.py,sha256=x,1\n\"a,b.py\",,\n"),
            ],
        );
        assert_eq!(with.declared_files().unwrap(), ["a/b/c.py", "a,b.py"]);
        let dir = tempfile::tempdir().unwrap();
        let without = dist(
            dir.path(),
            "b-1.dist-info",
            &[("METADATA", "Name: b\nVersion: 1\n")],
        );
        assert_eq!(without.declared_files(), None);
    }

    #[test]
    fn installed_file_urls_become_paths() {
        assert_eq!(
            url_to_path("file:///srv/a%20b?x#y"),
            Some(PathBuf::from("/srv/a b"))
        );
        assert_eq!(
            url_to_path("file://localhost/srv"),
            Some(PathBuf::from("/srv"))
        );
        assert_eq!(url_to_path("file:/srv"), Some(PathBuf::from("/srv")));
        assert_eq!(url_to_path("file://host/srv"), None);
    }
}
