//! Turning command-line options and pip's configuration into index and HTTP settings.

use std::path::PathBuf;
use std::time::Duration;

use ferry_input::PipConfig;

use crate::auth::Netrc;
use crate::client::{IndexSettings, IndexStrategy, IndexUrl};
use crate::http::HttpSettings;
use crate::IndexError;

/// The index-related options as given on the command line (`None`/empty = not given).
#[derive(Debug, Clone, Default)]
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
}

/// Settings for one command, with pip's precedence: command line, then `PIP_*` variables,
/// then `[command]` and `[global]` in pip.conf; list options (extra indexes, find-links,
/// trusted hosts) from configuration and command line are combined, as in pip. Without any
/// index URL, `default_index` (what the target interpreter's pip uses) applies.
pub fn resolve_settings(
    options: &IndexOptions,
    config: &PipConfig,
    command: &str,
    default_index: Option<&str>,
    interpreter: &str,
) -> Result<(IndexSettings, HttpSettings), IndexError> {
    let bad_config = |e: ferry_input::InputError| IndexError::Client(e.to_string());
    let no_index = options.no_index
        || config
            .get_bool(command, "no-index")
            .map_err(bad_config)?
            .unwrap_or(false);

    let mut indexes = Vec::new();
    if !no_index {
        let primary = options
            .index_url
            .clone()
            .or_else(|| {
                config
                    .get(command, "index-url")
                    .map(|v| v.value.trim().to_string())
            })
            .or_else(|| default_index.map(str::to_string));
        let Some(primary) = primary else {
            return Err(IndexError::Client(format!(
                "no package index is configured: pass --index-url, set PIP_INDEX_URL, or set index-url in pip.conf \
                 (ferry uses the default of the interpreter's pip, but {interpreter} has no pip)"
            )));
        };
        indexes.push(IndexUrl::parse(&primary)?);
        let mut extras: Vec<String> = config
            .get_list(command, "extra-index-url")
            .into_iter()
            .map(|(url, _)| url)
            .collect();
        extras.extend(options.extra_index_urls.iter().cloned());
        for extra in extras {
            let url = IndexUrl::parse(&extra)?;
            if !indexes.contains(&url) {
                indexes.push(url);
            }
        }
    }

    let mut find_links: Vec<String> = config
        .get_list(command, "find-links")
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    find_links.extend(options.find_links.iter().cloned());
    find_links.dedup();

    let mut trusted_hosts: Vec<String> = config
        .get_list(command, "trusted-host")
        .into_iter()
        .map(|(h, _)| h)
        .collect();
    trusted_hosts.extend(options.trusted_hosts.iter().cloned());

    let cert = options.cert.clone().or_else(|| {
        config
            .get(command, "cert")
            .map(|v| PathBuf::from(v.value.trim()))
    });
    let client_cert = options.client_cert.clone().or_else(|| {
        config
            .get(command, "client-cert")
            .map(|v| PathBuf::from(v.value.trim()))
    });
    let timeout = match options.timeout {
        Some(t) => Some(t),
        None => match config.get_f64(command, "timeout").map_err(bad_config)? {
            Some(t) => Some(t),
            None => config
                .get_f64(command, "default-timeout")
                .map_err(bad_config)?,
        },
    };
    let retries = match options.retries {
        Some(r) => Some(r),
        None => config
            .get_f64(command, "retries")
            .map_err(bad_config)?
            .map(|r| r.max(0.0) as u32),
    };

    let defaults = HttpSettings::default();
    let http = HttpSettings {
        timeout: timeout
            .filter(|t| *t > 0.0)
            .map_or(defaults.timeout, Duration::from_secs_f64),
        retries: retries.unwrap_or(defaults.retries),
        certs: cert.into_iter().collect(),
        client_cert,
        trusted_hosts,
        offline: options.offline,
        refresh: options.refresh,
        netrc: Netrc::load(),
        ..defaults
    };
    let index = IndexSettings {
        indexes,
        find_links,
        strategy: options.strategy.unwrap_or_default(),
    };
    Ok((index, http))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_over_env_over_default() {
        let config = PipConfig::from_env_pairs([
            ("PIP_INDEX_URL", "http://env.invalid/simple"),
            (
                "PIP_EXTRA_INDEX_URL",
                "http://extra1.invalid/simple/ http://extra2.invalid/simple/",
            ),
            ("PIP_DEFAULT_TIMEOUT", "180"),
            ("PIP_FIND_LINKS", "/nowhere"),
        ]);
        let (index, http) = resolve_settings(
            &IndexOptions::default(),
            &config,
            "install",
            Some("http://default.invalid/simple/"),
            "python",
        )
        .unwrap();
        let urls: Vec<String> = index.indexes.iter().map(|i| i.0.to_string()).collect();
        assert_eq!(
            urls,
            [
                "http://env.invalid/simple/",
                "http://extra1.invalid/simple/",
                "http://extra2.invalid/simple/"
            ]
        );
        assert_eq!(http.timeout, Duration::from_secs(180));
        assert_eq!(index.find_links, ["/nowhere"]);

        let options = IndexOptions {
            index_url: Some("http://cli.invalid/simple/".into()),
            find_links: vec!["/also".into()],
            ..Default::default()
        };
        let (index, _) = resolve_settings(&options, &config, "install", None, "python").unwrap();
        assert_eq!(index.indexes[0].0.as_str(), "http://cli.invalid/simple/");
        assert_eq!(index.find_links, ["/nowhere", "/also"]);

        let (index, _) = resolve_settings(
            &IndexOptions::default(),
            &PipConfig::default(),
            "install",
            Some("http://default.invalid/simple"),
            "python",
        )
        .unwrap();
        assert_eq!(
            index.indexes[0].0.as_str(),
            "http://default.invalid/simple/"
        );

        let err = resolve_settings(
            &IndexOptions::default(),
            &PipConfig::default(),
            "install",
            None,
            "/venv/bin/python",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("/venv/bin/python has no pip"),
            "{err}"
        );

        let no_index = PipConfig::from_env_pairs([("PIP_NO_INDEX", "1")]);
        let (index, _) = resolve_settings(
            &IndexOptions::default(),
            &no_index,
            "install",
            None,
            "python",
        )
        .unwrap();
        assert!(index.indexes.is_empty());
    }
}
