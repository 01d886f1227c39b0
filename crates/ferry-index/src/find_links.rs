//! `--find-links`: a local directory, a `file://` URL (directory or HTML page), or an HTML page
//! of links served over HTTP.

use std::path::{Path, PathBuf};

use url::Url;

use crate::http::{FetchOrigin, HttpClient};
use crate::simple::{parse_html, CoreMetadata, DistFile, Hashes};
use crate::url_util::redact;
use crate::IndexError;

/// A parsed `--find-links` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FindLinks {
    Dir(PathBuf),
    HtmlFile(PathBuf),
    Remote(Url),
    /// A path that does not exist: skipped with a warning, as pip does.
    Missing(String),
}

impl FindLinks {
    pub(crate) fn parse(location: &str) -> Result<Self, IndexError> {
        let path = if let Some(rest) = location.strip_prefix("file:") {
            let url = Url::parse(location).map_err(|e| IndexError::BadUrl {
                url: location.to_string(),
                message: e.to_string(),
            })?;
            url.to_file_path().unwrap_or_else(|()| PathBuf::from(rest))
        } else if location.contains("://") {
            let url = Url::parse(location).map_err(|e| IndexError::BadUrl {
                url: redact_text(location),
                message: e.to_string(),
            })?;
            return Ok(Self::Remote(url));
        } else {
            PathBuf::from(location)
        };
        let path = if path.is_absolute() {
            path
        } else {
            std::env::current_dir()
                .map(|d| d.join(&path))
                .unwrap_or(path)
        };
        Ok(if path.is_dir() {
            Self::Dir(path)
        } else if path.is_file() {
            Self::HtmlFile(path)
        } else {
            Self::Missing(location.to_string())
        })
    }

    /// How the location is shown in messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Dir(p) | Self::HtmlFile(p) => p.display().to_string(),
            Self::Remote(u) => redact(u),
            Self::Missing(s) => s.clone(),
        }
    }

    /// Every link the location offers (not yet filtered by project).
    pub(crate) async fn files(
        &self,
        http: &HttpClient,
    ) -> Result<(Vec<DistFile>, Option<FetchOrigin>), IndexError> {
        match self {
            Self::Missing(_) => Ok((Vec::new(), None)),
            Self::Dir(dir) => {
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || list_dir(&dir))
                    .await
                    .map_err(|e| IndexError::Client(format!("listing a directory failed: {e}")))?
                    .map(|f| (f, None))
            }
            Self::HtmlFile(path) => {
                let body = tokio::fs::read(path)
                    .await
                    .map_err(|source| IndexError::Io {
                        what: "the find-links page",
                        path: path.clone(),
                        source,
                    })?;
                let base = Url::from_file_path(path).map_err(|()| IndexError::BadUrl {
                    url: path.display().to_string(),
                    message: "not an absolute path".into(),
                })?;
                Ok((parse_html(&body, &base).files, None))
            }
            Self::Remote(url) => {
                let fetched = http.get_cached(url, "text/html").await?;
                Ok((
                    parse_html(&fetched.body, &fetched.url).files,
                    Some(fetched.origin),
                ))
            }
        }
    }
}

fn redact_text(location: &str) -> String {
    crate::url_util::redact_str(location)
}

fn list_dir(dir: &Path) -> Result<Vec<DistFile>, IndexError> {
    let entries = fs_err::read_dir(dir).map_err(|source| IndexError::Io {
        what: "the find-links directory",
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let (Some(name), Ok(url)) = (
            path.file_name().and_then(|n| n.to_str()),
            Url::from_file_path(&path),
        ) else {
            continue;
        };
        files.push(DistFile {
            filename: name.to_string(),
            url,
            hashes: Hashes::default(),
            requires_python: None,
            yanked: None,
            core_metadata: CoreMetadata::Unavailable,
            size: Some(meta.len()),
            upload_time: None,
            provenance: None,
        });
    }
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    Ok(files)
}
