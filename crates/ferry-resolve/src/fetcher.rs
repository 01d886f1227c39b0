//! Fetching what the solver asks about, once, in parallel, ahead of time where possible.
//!
//! Project listings are grouped by version with each file's compatibility worked out for the
//! target; core metadata is fetched by the cheapest route and kept in the `metadata-v1` cache
//! bucket, keyed by the file's hash (distribution files are immutable), so warm resolutions
//! need only the index pages.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::{Arc, Mutex};

use ferry_cache::{Bucket, Cache};
use ferry_index::{DistFile, DistFilename, IndexClient, ProjectFile};
use pep440_rs::Version;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::metadata::CoreMetadata;
use crate::{ResolveError, Target};

/// The files of one version, sorted by preference for the target.
#[derive(Debug, Clone, Default)]
pub struct VersionFiles {
    /// Compatible wheels with their tag priority (lower is better), best first.
    pub wheels: Vec<(usize, ProjectFile)>,
    /// Sdists whose `requires-python` admits the target.
    pub sdists: Vec<ProjectFile>,
    /// Every file of the version, compatible or not, when the fetcher keeps them all (for
    /// `--generate-hashes`); else none.
    pub all: Vec<DistFile>,
    /// Set when every usable file is yanked: the reason of the first.
    pub yanked: Option<String>,
}

impl VersionFiles {
    /// The file to use: the best non-yanked wheel, else a non-yanked sdist, else yanked ones.
    pub fn best(&self, binary: Binary) -> Option<&ProjectFile> {
        let wheels = self.wheels.iter().map(|(_, f)| f);
        let sdists = self.sdists.iter();
        let ordered: Vec<&ProjectFile> = match binary {
            Binary::WheelsOnly => wheels.collect(),
            Binary::SdistsOnly => sdists.collect(),
            Binary::Any => wheels.chain(sdists).collect(),
        };
        ordered
            .iter()
            .find(|f| f.file.yanked.is_none())
            .or_else(|| ordered.first())
            .copied()
    }
}

/// Which kinds of file a package may use (`--only-binary` / `--no-binary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Any,
    WheelsOnly,
    SdistsOnly,
}

/// A project's versions.
#[derive(Debug)]
pub struct Project {
    pub name: String,
    pub versions: BTreeMap<Version, VersionFiles>,
    /// Set when no source knows the project (every index answered 404 or listed nothing):
    /// the sources asked. It then has no versions, which makes whatever depends on it
    /// unusable rather than failing the resolution.
    pub not_found: Option<String>,
    /// The pages (and find-links locations) that listed it, redacted, for messages.
    pub pages: Vec<String>,
}

type Shared<T> = Arc<OnceCell<Result<Arc<T>, Arc<ResolveError>>>>;

pub struct Fetcher {
    client: Arc<IndexClient>,
    cache: Option<Cache>,
    target: Arc<Target>,
    build: ferry_types::Builder,
    all_files: bool,
    /// `--uploaded-prior-to`, in seconds since the epoch.
    uploaded_prior_to: std::sync::OnceLock<Option<i64>>,
    projects: Mutex<HashMap<String, Shared<Project>>>,
    metadata: Mutex<HashMap<(String, Version), Shared<CoreMetadata>>>,
}

impl Fetcher {
    pub fn new(
        client: Arc<IndexClient>,
        cache: Option<Cache>,
        target: Arc<Target>,
        build: ferry_types::Builder,
        all_files: bool,
    ) -> Self {
        Self {
            client,
            cache,
            target,
            build,
            all_files,
            uploaded_prior_to: std::sync::OnceLock::new(),
            projects: Mutex::default(),
            metadata: Mutex::default(),
        }
    }

    /// Leaves out index files uploaded at or after `cutoff` (seconds since the epoch), and
    /// those whose upload time the index does not give.
    pub fn set_uploaded_prior_to(&self, cutoff: Option<i64>) {
        let _ = self.uploaded_prior_to.set(cutoff);
    }

    fn uploaded_in_time(&self, name: &str, files: Vec<ProjectFile>) -> Vec<ProjectFile> {
        let Some(cutoff) = self.uploaded_prior_to.get().copied().flatten() else {
            return files;
        };
        let before = files.len();
        let mut undated = 0;
        let kept: Vec<ProjectFile> = files
            .into_iter()
            .filter(|f| {
                match f
                    .file
                    .upload_time
                    .as_deref()
                    .and_then(ferry_types::parse_timestamp)
                {
                    Some(time) => time < cutoff,
                    None => {
                        undated += 1;
                        false
                    }
                }
            })
            .collect();
        if undated > 0 {
            tracing::warn!(
                "{name}: {undated} of {before} files have no upload time on their index, so --uploaded-prior-to leaves them out"
            );
        }
        kept
    }

    /// The project's versions (fetched once per run).
    pub async fn project(self: &Arc<Self>, name: &str) -> Result<Arc<Project>, Arc<ResolveError>> {
        let cell = {
            let mut projects = self.projects.lock().unwrap_or_else(|e| e.into_inner());
            projects.entry(name.to_string()).or_default().clone()
        };
        cell.get_or_init(|| async {
            match self.client.project(name).await {
                Ok(files) => {
                    let pages = files.pages.iter().map(|p| p.url.clone()).collect();
                    let files = self.uploaded_in_time(name, files.files);
                    let mut project = self.group(name, files);
                    project.pages = pages;
                    Ok(Arc::new(project))
                }
                // Only "not listed anywhere"; failures to ask (5xx, connection, TLS) stay errors.
                Err(ferry_index::IndexError::NotFound { sources, .. }) => {
                    tracing::debug!("{name} was not found on {sources}");
                    Ok(Arc::new(Project {
                        name: name.to_string(),
                        versions: BTreeMap::new(),
                        not_found: Some(sources),
                        pages: Vec::new(),
                    }))
                }
                Err(e) => Err(Arc::new(ResolveError::Index(e))),
            }
        })
        .await
        .clone()
    }

    /// Makes `file` the only candidate of `name` (a direct URL requirement). Must be called
    /// before anything asks for the project.
    pub fn set_direct(&self, name: &str, file: ProjectFile) -> Result<(), ResolveError> {
        let shown = ferry_index::redact(&file.file.url);
        let project = self.group(name, vec![file]);
        let usable = project
            .versions
            .values()
            .any(|v| v.best(Binary::Any).is_some());
        if !usable {
            return Err(ResolveError::Unsupported(format!(
                "{name} @ {shown} does not suit the target: its wheel tags or its requires-python exclude it"
            )));
        }
        let cell: Shared<Project> = Arc::new(OnceCell::new_with(Some(Ok(Arc::new(project)))));
        self.projects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), cell);
        Ok(())
    }

    /// Gives the metadata of `name` `version`, read ahead of resolution (a project directory).
    pub fn set_metadata(&self, name: &str, version: &Version, metadata: CoreMetadata) {
        let cell: Shared<CoreMetadata> = Arc::new(OnceCell::new_with(Some(Ok(Arc::new(metadata)))));
        self.metadata
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((name.to_string(), version.clone()), cell);
    }

    /// Already-fetched project data, without waiting.
    /// Whether `name`'s listing was asked for in this run (it may still be arriving).
    pub fn was_asked(&self, name: &str) -> bool {
        let projects = self.projects.lock().unwrap_or_else(|e| e.into_inner());
        projects.contains_key(name)
    }

    pub fn project_if_fetched(&self, name: &str) -> Option<Arc<Project>> {
        let projects = self.projects.lock().unwrap_or_else(|e| e.into_inner());
        projects.get(name)?.get()?.as_ref().ok().cloned()
    }

    fn group(&self, name: &str, files: Vec<ProjectFile>) -> Project {
        let mut versions: BTreeMap<Version, VersionFiles> = BTreeMap::new();
        for file in files {
            let version = file.name.version().clone();
            let entry = versions.entry(version).or_default();
            let rank = self.target.file_rank(&file);
            if self.all_files {
                entry.all.push(file.file.clone());
            }
            match (rank, &file.name) {
                (Some(rank), DistFilename::Wheel(_)) => entry.wheels.push((rank, file)),
                (Some(_), DistFilename::Sdist(_)) => entry.sdists.push(file),
                (None, _) => {}
            }
        }
        for files in versions.values_mut() {
            files.wheels.sort_by_key(|(p, _)| *p);
            let usable: Vec<&ProjectFile> = files
                .wheels
                .iter()
                .map(|(_, f)| f)
                .chain(files.sdists.iter())
                .collect();
            if !usable.is_empty() && usable.iter().all(|f| f.file.yanked.is_some()) {
                files.yanked = usable[0].file.yanked.clone();
            }
        }
        Project {
            name: name.to_string(),
            versions,
            not_found: None,
            pages: Vec::new(),
        }
    }

    /// The core metadata of a file (once per run; cached on disk across runs).
    pub async fn metadata(
        self: &Arc<Self>,
        name: &str,
        version: &Version,
        file: &ProjectFile,
    ) -> Result<Arc<CoreMetadata>, Arc<ResolveError>> {
        let cell = {
            let mut metadata = self.metadata.lock().unwrap_or_else(|e| e.into_inner());
            metadata
                .entry((name.to_string(), version.clone()))
                .or_default()
                .clone()
        };
        cell.get_or_init(|| async {
            let text = self.metadata_text(name, version, file).await?;
            let parsed = CoreMetadata::parse(&text).map_err(|message| {
                Arc::new(ResolveError::BadMetadata {
                    name: name.to_string(),
                    version: version.to_string(),
                    message,
                })
            })?;
            Ok(Arc::new(parsed))
        })
        .await
        .clone()
    }

    async fn metadata_text(
        &self,
        name: &str,
        version: &Version,
        listed: &ProjectFile,
    ) -> Result<String, Arc<ResolveError>> {
        let file = &listed.file;
        let key = cache_key(file);
        let path = self.cache.as_ref().map(|c| c.entry(Bucket::Metadata, &key));
        if let Some(path) = &path {
            if let Ok(text) = tokio::fs::read_to_string(path).await {
                tracing::debug!("metadata of {} from cache", file.filename);
                return Ok(text);
            }
        }
        let text = if file.filename.ends_with(".whl") {
            let (text, source) = self
                .client
                .metadata(file, &listed.source)
                .await
                .map_err(|e| Arc::new(ResolveError::Index(e)))?;
            tracing::debug!("metadata of {} via {source:?}", file.filename);
            text
        } else {
            self.sdist_metadata(name, version, file).await?
        };
        if let (Some(cache), Some(_)) = (&self.cache, &path) {
            let cache = cache.view();
            let bytes = text.clone().into_bytes();
            let written = tokio::task::spawn_blocking(move || {
                cache.write_entry(Bucket::Metadata, &key, &bytes)
            })
            .await;
            match written {
                Ok(Ok(_)) => {}
                Ok(Err(err)) => tracing::warn!("{err}"),
                Err(err) => tracing::warn!("writing a metadata cache entry failed: {err}"),
            }
        }
        Ok(text)
    }

    /// The sdist `file` downloaded through the build seam, which keeps it for the build, or
    /// `None` without a build frontend.
    async fn kept_sdist(
        &self,
        name: &str,
        version: &Version,
        file: &DistFile,
    ) -> Result<Option<std::path::PathBuf>, Arc<ResolveError>> {
        let sdist = source_dist(name, version, file);
        let build = self.build.clone();
        tokio::task::spawn_blocking(move || build.sdist_archive(&sdist))
            .await
            .map_err(|e| {
                Arc::new(ResolveError::Build(ferry_types::BuildError::Unsupported {
                    sdist: file.filename.clone(),
                    reason: format!("downloading it failed: {e}"),
                }))
            })?
            .map_err(|err| Arc::new(ResolveError::Build(err)))
    }

    /// PKG-INFO from an sdist, usable only when it is static (PEP 643).
    async fn sdist_metadata(
        &self,
        name: &str,
        version: &Version,
        file: &DistFile,
    ) -> Result<String, Arc<ResolveError>> {
        let needs_build = |reason: String| {
            Arc::new(ResolveError::NeedsBuild {
                name: name.to_string(),
                version: version.to_string(),
                filename: file.filename.clone(),
                reason,
            })
        };
        let bytes = if file.url.scheme() == "file" {
            let path = file
                .url
                .to_file_path()
                .map_err(|()| needs_build("bad file URL".into()))?;
            tokio::fs::read(&path)
                .await
                .map_err(|e| needs_build(format!("cannot read {}: {e}", path.display())))?
        } else if let Some(path) = self.kept_sdist(name, version, file).await? {
            // The build frontend's download (hash-checked), which its build will use too.
            tokio::fs::read(&path)
                .await
                .map_err(|e| needs_build(format!("cannot read {}: {e}", path.display())))?
        } else {
            let fetched = self
                .client
                .http()
                .get(&file.url, "")
                .await
                .map_err(|e| Arc::new(ResolveError::Index(e)))?;
            if let Some(expected) = &file.hashes.sha256 {
                let actual = hex(&Sha256::digest(&fetched.body));
                if &actual != expected {
                    return Err(Arc::new(ResolveError::Index(
                        ferry_index::IndexError::HashMismatch {
                            url: ferry_index::redact(&file.url),
                            expected: expected.clone(),
                            actual,
                        },
                    )));
                }
            }
            fetched.body
        };
        // The PKG-INFO at the top of an archive is not that of a project in a subdirectory.
        let top_level = ferry_types::subdirectory_of(&file.url).is_none();
        let reason = match pkg_info(&file.filename, &bytes).filter(|_| top_level) {
            None if !top_level => "the project is in a subdirectory of the archive".to_string(),
            None => "it has no PKG-INFO".to_string(),
            Some(text) => match CoreMetadata::parse(&text) {
                Ok(parsed) if parsed.is_static() => return Ok(text),
                Ok(parsed) => format!(
                    "its metadata (version {}) may change when it is built",
                    if parsed.metadata_version.is_empty() {
                        "unknown"
                    } else {
                        &parsed.metadata_version
                    }
                ),
                Err(message) => message,
            },
        };
        // Through the build seam: the build frontend prepares the metadata.
        let sdist = source_dist(name, version, file);
        let build = self.build.clone();
        let built =
            tokio::task::spawn_blocking(move || build.sdist_metadata(&sdist, &reason)).await;
        match built {
            Ok(Ok(text)) => Ok(text),
            Ok(Err(ferry_types::BuildError::Unsupported { reason, .. })) => Err(needs_build(
                format!("{reason}; building from source is not supported yet"),
            )),
            Ok(Err(err)) => Err(Arc::new(ResolveError::Build(err))),
            Err(err) => Err(needs_build(format!("the build task failed: {err}"))),
        }
    }
}

fn cache_key(file: &DistFile) -> String {
    if let (Some(hash), Some(sub)) = (&file.hashes.sha256, ferry_types::subdirectory_of(&file.url))
    {
        let sub = hex(&Sha256::digest(sub.as_bytes()));
        return format!("{hash}-{}.metadata", &sub[..16]);
    }
    match &file.hashes.sha256 {
        Some(hash) => format!("{hash}.metadata"),
        None => format!(
            "url-{}.metadata",
            hex(&Sha256::digest(file.url.as_str().as_bytes()))
        ),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The top-level `PKG-INFO` of a `.tar.gz` or `.zip` sdist.
fn pkg_info(filename: &str, bytes: &[u8]) -> Option<String> {
    let is_top_pkg_info = |path: &str| {
        let mut parts = path.trim_start_matches("./").split('/');
        matches!(
            (parts.next(), parts.next(), parts.next()),
            (Some(_), Some("PKG-INFO"), None)
        )
    };
    if filename.ends_with(".zip") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
        for index in 0..archive.len() {
            let mut member = archive.by_index(index).ok()?;
            if member.name().is_ok_and(|n| is_top_pkg_info(&n)) {
                let mut text = String::new();
                member.read_to_string(&mut text).ok()?;
                return Some(text);
            }
        }
        return None;
    }
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    for entry in archive.entries().ok()? {
        let mut entry = entry.ok()?;
        let path = entry.path().ok()?.to_string_lossy().into_owned();
        if is_top_pkg_info(&path) {
            let mut text = String::new();
            entry.read_to_string(&mut text).ok()?;
            return Some(text);
        }
    }
    None
}

/// The sdist `file` of `name` `version`, as the build seam takes it.
fn source_dist(name: &str, version: &Version, file: &DistFile) -> ferry_types::SourceDist {
    ferry_types::SourceDist {
        name: ferry_types::PackageName::new(name),
        version: Some(version.clone()),
        filename: file.filename.clone(),
        url: file.url.clone(),
        sha256: file.hashes.sha256.clone(),
        listed_by: String::new(),
        editable: false,
    }
}
