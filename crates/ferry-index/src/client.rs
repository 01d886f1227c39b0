//! The index client: which sources to ask for a project, and what they list.

use std::sync::Mutex;
use std::time::SystemTime;

use url::Url;

use crate::filename::DistFilename;
use crate::find_links::FindLinks;
use crate::http::{FetchOrigin, HttpClient};
use crate::metadata::{wheel_metadata, MetadataSource};
use crate::simple::{parse_html, parse_json, DistFile, ProjectPage};
use crate::url_util::{normalize_name, redact};
use crate::IndexError;

/// What ferry asks for: JSON first, HTML accepted.
pub const SIMPLE_ACCEPT: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// The newest simple API minor version (of major 1) ferry knows.
const KNOWN_MINOR: u32 = 4;

/// An index's base URL (credentials allowed; always shown redacted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexUrl(pub Url);

impl IndexUrl {
    pub fn parse(text: &str) -> Result<Self, IndexError> {
        let mut url = Url::parse(text.trim()).map_err(|e| IndexError::BadUrl {
            url: crate::url_util::redact_str(text),
            message: e.to_string(),
        })?;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(Self(url))
    }

    /// The project page: `<index>/<normalized name>/`.
    pub fn project_url(&self, name: &str) -> Url {
        self.0
            .join(&format!("{}/", normalize_name(name)))
            .expect("a normalized name is a valid relative URL")
    }

    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

/// How several indexes combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IndexStrategy {
    /// Take a project from the first index that has it (protects against dependency confusion).
    #[default]
    FirstIndex,
    /// Merge the files of every index, like pip (`--index-strategy unsafe-best-match`).
    UnsafeBestMatch,
}

/// Where to look for distributions.
#[derive(Debug, Clone, Default)]
pub struct IndexSettings {
    /// The primary index followed by extra indexes; empty with `--no-index`.
    pub indexes: Vec<IndexUrl>,
    /// `--find-links` locations.
    pub find_links: Vec<String>,
    pub strategy: IndexStrategy,
}

/// A distribution file, where it was listed, and its parsed name.
#[derive(Debug, Clone)]
pub struct ProjectFile {
    pub file: DistFile,
    pub name: DistFilename,
    /// The index or find-links location that listed it (redacted).
    pub source: String,
}

/// A fetched listing page and where its bytes came from.
#[derive(Debug, Clone)]
pub struct PageReport {
    pub url: String,
    pub origin: Option<FetchOrigin>,
    pub fetched_at: Option<SystemTime>,
    pub files: usize,
}

impl std::fmt::Display for PageReport {
    /// `N files from URL (origin)`: what `-v` and `ferry index pages` say about a page.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let origin = match self.origin {
            None => "local",
            Some(FetchOrigin::Network) => "network",
            Some(FetchOrigin::CacheFresh) => "cache, fresh",
            Some(FetchOrigin::CacheRevalidated) => "cache, revalidated",
            Some(FetchOrigin::CacheOffline) => "cache, offline",
        };
        write!(f, "{} files from {} ({origin})", self.files, self.url)
    }
}

/// Everything the sources offer for one project.
#[derive(Debug, Clone)]
pub struct ProjectFiles {
    /// The normalized project name.
    pub name: String,
    pub files: Vec<ProjectFile>,
    pub pages: Vec<PageReport>,
}

/// Fetches project listings from indexes and find-links locations.
#[derive(Debug)]
pub struct IndexClient {
    http: HttpClient,
    settings: IndexSettings,
    find_links: Vec<FindLinks>,
    warned: Mutex<Vec<String>>,
}

impl IndexClient {
    pub fn new(http: HttpClient, settings: IndexSettings) -> Result<Self, IndexError> {
        let find_links = settings
            .find_links
            .iter()
            .map(|l| FindLinks::parse(l))
            .collect::<Result<Vec<_>, _>>()?;
        for index in &settings.indexes {
            http.remember_credentials(&index.0);
        }
        Ok(Self {
            http,
            settings,
            find_links,
            warned: Mutex::default(),
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    pub fn settings(&self) -> &IndexSettings {
        &self.settings
    }

    fn warn_once(&self, message: String) {
        let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
        if !warned.contains(&message) {
            tracing::warn!("{message}");
            warned.push(message);
        }
    }

    /// Every distribution file of `name` the sources list. Find-links locations are always
    /// consulted; indexes by the configured strategy. Fails with [`IndexError::NotFound`] when
    /// no source knows the project.
    pub async fn project(&self, name: &str) -> Result<ProjectFiles, IndexError> {
        let normalized = normalize_name(name);
        let mut files = Vec::new();
        let mut pages = Vec::new();

        for location in &self.find_links {
            if let FindLinks::Missing(path) = location {
                self.warn_once(format!(
                    "find-links location `{path}` does not exist; ignoring it"
                ));
                continue;
            }
            let (listed, origin) = location.files(&self.http).await?;
            let before = files.len();
            files.extend(self.keep(&normalized, listed, &location.describe()));
            pages.push(PageReport {
                url: location.describe(),
                origin,
                fetched_at: None,
                files: files.len() - before,
            });
        }

        match self.settings.strategy {
            IndexStrategy::FirstIndex => {
                for index in &self.settings.indexes {
                    if let Some((page, report)) = self.page(index, &normalized).await? {
                        files.extend(self.keep(&normalized, page.files, &index.redacted()));
                        pages.push(report);
                        break;
                    }
                }
            }
            IndexStrategy::UnsafeBestMatch => {
                let fetches = self
                    .settings
                    .indexes
                    .iter()
                    .map(|index| self.page(index, &normalized));
                let results = futures::future::join_all(fetches).await;
                for (index, result) in self.settings.indexes.iter().zip(results) {
                    if let Some((page, report)) = result? {
                        files.extend(self.keep(&normalized, page.files, &index.redacted()));
                        pages.push(report);
                    }
                }
            }
        }

        if files.is_empty() && pages.iter().all(|p| p.files == 0) {
            let mut sources: Vec<String> = self
                .settings
                .indexes
                .iter()
                .map(IndexUrl::redacted)
                .collect();
            sources.extend(self.find_links.iter().map(FindLinks::describe));
            let sources = if sources.is_empty() {
                "no source at all (--no-index without --find-links)".to_string()
            } else {
                sources.join(", ")
            };
            return Err(IndexError::NotFound {
                name: name.to_string(),
                sources,
            });
        }
        Ok(ProjectFiles {
            name: normalized,
            files,
            pages,
        })
    }

    /// Fetches and parses one index's page for a project; `None` if the index answers 404.
    async fn page(
        &self,
        index: &IndexUrl,
        name: &str,
    ) -> Result<Option<(ProjectPage, PageReport)>, IndexError> {
        let url = index.project_url(name);
        let fetched = match self.http.get_cached(&url, SIMPLE_ACCEPT).await {
            Ok(fetched) => fetched,
            Err(IndexError::Status { status: 404, .. }) => {
                tracing::debug!("{name} is not on {}", index.redacted());
                return Ok(None);
            }
            Err(err) => return Err(err),
        };
        let page = match parse_page(&fetched.body, fetched.content_type.as_deref(), &fetched.url) {
            Ok(page) => page,
            Err(err) => {
                // An unparseable page is not kept: the next run fetches it again.
                self.http.forget_cached(&url, SIMPLE_ACCEPT);
                return Err(err);
            }
        };
        if let Some(version) = &page.api_version {
            self.check_api_version(version, &fetched.url)?;
        }
        let report = PageReport {
            url: redact(&fetched.url),
            origin: Some(fetched.origin),
            fetched_at: Some(fetched.fetched_at),
            files: page.files.len(),
        };
        Ok(Some((page, report)))
    }

    fn check_api_version(&self, version: &str, url: &Url) -> Result<(), IndexError> {
        let mut parts = version.trim().split('.');
        let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(1);
        let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if major > 1 {
            return Err(IndexError::ApiVersion {
                url: redact(url),
                version: version.to_string(),
            });
        }
        if minor > KNOWN_MINOR {
            let host = url.host_str().unwrap_or_default();
            self.warn_once(format!(
                "the index at {host} uses simple API version {version}, newer than ferry knows (1.{KNOWN_MINOR}); some of its data may be ignored"
            ));
        }
        Ok(())
    }

    fn keep(&self, project: &str, listed: Vec<DistFile>, source: &str) -> Vec<ProjectFile> {
        listed
            .into_iter()
            .filter_map(|file| match DistFilename::parse(&file.filename, project) {
                Some(name) => Some(ProjectFile {
                    file,
                    name,
                    source: source.to_string(),
                }),
                None => {
                    tracing::debug!(
                        "skipping {} from {source}: not a distribution of {project}",
                        file.filename
                    );
                    None
                }
            })
            .collect()
    }

    /// A wheel's core metadata by the cheapest route (see [`crate::metadata`]); `listed_by`
    /// is the index or find-links location that listed it.
    pub async fn metadata(
        &self,
        file: &DistFile,
        listed_by: &str,
    ) -> Result<(String, MetadataSource), IndexError> {
        wheel_metadata(&self.http, file, listed_by).await
    }
}

/// Parses a listing by its `Content-Type` (not by what was asked for: proxies may answer HTML
/// to a JSON request). Without a content type, the body decides.
pub fn parse_page(
    body: &[u8],
    content_type: Option<&str>,
    url: &Url,
) -> Result<ProjectPage, IndexError> {
    let json = match content_type {
        Some(ct) if ct.ends_with("+json") || ct == "application/json" => true,
        Some(ct) if ct.contains("html") => false,
        Some(other) => {
            return Err(IndexError::Parse {
                url: redact(url),
                message: format!(
                    "unexpected content type `{other}` (expected PEP 691 JSON or PEP 503 HTML)"
                ),
            })
        }
        None => body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'),
    };
    if json {
        parse_json(body, url).map_err(|message| IndexError::Parse {
            url: redact(url),
            message,
        })
    } else {
        Ok(parse_html(body, url))
    }
}
