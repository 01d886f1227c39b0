//! Turning index and HTTP options into the index client's settings.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::auth::Netrc;
use crate::client::{IndexSettings, IndexStrategy, IndexUrl};
use crate::http::{HttpClient, HttpSettings};
use crate::keyring::KeyringProvider;
use crate::IndexClient;
use crate::IndexError;

/// The index-related options of one command, already combined from the command line, `PIP_*`
/// variables, pip.conf and requirements files (`None`/empty = not set anywhere).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexOptions {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub no_index: bool,
    pub find_links: Vec<String>,
    pub strategy: Option<IndexStrategy>,
    pub cert: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub trusted_hosts: Vec<String>,
    pub timeout: Option<f64>,
    pub retries: Option<u32>,
    pub offline: bool,
    pub refresh: bool,
    /// `--keyring-provider` (unset: `auto`).
    pub keyring_provider: Option<KeyringProvider>,
    /// `--no-input`: nothing may be asked, so the `auto` keyring is off, as in pip.
    pub no_input: bool,
    /// `--proxy`: every request goes through it (`HTTPS_PROXY` and friends otherwise).
    pub proxy: Option<String>,
}

/// The index client's settings for `options`. Without any index URL, `default_index` (what the
/// target interpreter's pip uses) applies; without that either, the error names
/// `interpreter`.
pub fn resolve_settings(
    options: &IndexOptions,
    default_index: Option<&str>,
    interpreter: &Path,
) -> Result<(IndexSettings, HttpSettings), IndexError> {
    let interpreter_path = interpreter;
    let interpreter = interpreter.display();
    let mut indexes = Vec::new();
    if !options.no_index {
        let primary = options
            .index_url
            .clone()
            .or_else(|| default_index.map(str::to_string));
        let Some(primary) = primary else {
            return Err(IndexError::Client(format!(
                "no package index is configured: pass --index-url, set PIP_INDEX_URL, or set index-url in pip.conf \
                 (ferry uses the default of the interpreter's pip, but {interpreter} has no pip)"
            )));
        };
        indexes.push(IndexUrl::parse(&primary)?);
        for extra in &options.extra_index_urls {
            let url = IndexUrl::parse(extra)?;
            if !indexes.contains(&url) {
                indexes.push(url);
            }
        }
    }
    let mut find_links = options.find_links.clone();
    find_links.dedup();

    let defaults = HttpSettings::default();
    let http = HttpSettings {
        timeout: options
            .timeout
            .filter(|t| *t > 0.0)
            .map_or(defaults.timeout, Duration::from_secs_f64),
        retries: options.retries.unwrap_or(defaults.retries),
        certs: options.cert.clone().into_iter().collect(),
        client_cert: options.client_cert.clone(),
        trusted_hosts: options.trusted_hosts.clone(),
        offline: options.offline,
        refresh: options.refresh,
        netrc: Netrc::load(),
        keyring: match options.keyring_provider.unwrap_or_default() {
            KeyringProvider::Auto if options.no_input => KeyringProvider::Disabled,
            provider => provider,
        },
        keyring_python: Some(interpreter_path.to_path_buf()),
        proxy: options.proxy.clone(),
        ..defaults
    };
    let index = IndexSettings {
        indexes,
        find_links,
        strategy: options.strategy.unwrap_or_default(),
    };
    Ok((index, http))
}

/// An index client for `options`, with the HTTP cache in `cache`: the one way every command
/// builds its client. `default_index` and `interpreter` are as for [`resolve_settings`].
pub fn client_for(
    options: &IndexOptions,
    default_index: Option<&str>,
    interpreter: &Path,
    cache: Option<&ferry_cache::Cache>,
) -> Result<IndexClient, IndexError> {
    let (index, http) = resolve_settings(options, default_index, interpreter)?;
    for url in &index.indexes {
        tracing::info!("index: {}", url.redacted());
    }
    IndexClient::new(HttpClient::new(http, cache)?, index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_url_then_default_then_a_clear_error() {
        let options = IndexOptions {
            index_url: Some("http://cli.invalid/simple".into()),
            extra_index_urls: vec![
                "http://extra.invalid/simple/".into(),
                "http://cli.invalid/simple/".into(),
            ],
            find_links: vec!["/a".into(), "/a".into()],
            timeout: Some(180.0),
            ..Default::default()
        };
        let (index, http) =
            resolve_settings(&options, Some("http://d.invalid/"), Path::new("py")).unwrap();
        let urls: Vec<String> = index.indexes.iter().map(|i| i.0.to_string()).collect();
        assert_eq!(
            urls,
            ["http://cli.invalid/simple/", "http://extra.invalid/simple/"]
        );
        assert_eq!(index.find_links, ["/a"]);
        assert_eq!(http.timeout, Duration::from_secs(180));

        let (index, _) = resolve_settings(
            &IndexOptions::default(),
            Some("http://default.invalid/simple"),
            Path::new("python"),
        )
        .unwrap();
        assert_eq!(
            index.indexes[0].0.as_str(),
            "http://default.invalid/simple/"
        );

        let err = resolve_settings(
            &IndexOptions::default(),
            None,
            Path::new("/venv/bin/python"),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("/venv/bin/python has no pip"),
            "{err}"
        );

        let no_index = IndexOptions {
            no_index: true,
            ..Default::default()
        };
        let (index, _) = resolve_settings(&no_index, None, Path::new("python")).unwrap();
        assert!(index.indexes.is_empty());
    }
}
