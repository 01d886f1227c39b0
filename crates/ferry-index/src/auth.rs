//! Credentials: from index URLs, from `~/.netrc`, and remembered per host so that files an
//! index links to (often on the same host, without credentials in the link) are fetched with
//! the same ones.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use url::Url;

use crate::url_util::{host_key, split_credentials};

/// Parsed `~/.netrc` entries.
#[derive(Debug, Clone, Default)]
pub struct Netrc {
    machines: HashMap<String, (String, String)>,
    default: Option<(String, String)>,
}

impl Netrc {
    /// Reads `$NETRC`, else `~/.netrc`; a missing file gives an empty set.
    pub fn load() -> Self {
        let path = std::env::var_os("NETRC")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".netrc")));
        path.and_then(|p| std::fs::read_to_string(p).ok())
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Parses netrc text: `machine HOST login USER password PASS`, `default ...`, and `macdef`
    /// blocks (skipped).
    pub fn parse(text: &str) -> Self {
        let mut netrc = Self::default();
        let mut lines = text.lines();
        let mut tokens: Vec<String> = Vec::new();
        while let Some(line) = lines.next() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            if line.starts_with("macdef") {
                // A macro runs to the next empty line.
                for l in lines.by_ref() {
                    if l.trim().is_empty() {
                        break;
                    }
                }
                continue;
            }
            tokens.extend(line.split_whitespace().map(str::to_string));
        }
        let mut i = 0;
        let mut current: Option<Option<String>> = None; // Some(Some(host)) or Some(None) = default
        let mut login = String::new();
        let mut password = String::new();
        let flush =
            |netrc: &mut Self, current: &Option<Option<String>>, login: &str, password: &str| {
                match current {
                    Some(Some(host)) => {
                        netrc
                            .machines
                            .entry(host.clone())
                            .or_insert((login.to_string(), password.to_string()));
                    }
                    Some(None) => netrc.default = Some((login.to_string(), password.to_string())),
                    None => {}
                }
            };
        while i < tokens.len() {
            match tokens[i].as_str() {
                "machine" => {
                    flush(&mut netrc, &current, &login, &password);
                    current = tokens.get(i + 1).map(|h| Some(h.clone()));
                    login.clear();
                    password.clear();
                    i += 2;
                }
                "default" => {
                    flush(&mut netrc, &current, &login, &password);
                    current = Some(None);
                    login.clear();
                    password.clear();
                    i += 1;
                }
                "login" | "password" | "account" => {
                    let value = tokens.get(i + 1).cloned().unwrap_or_default();
                    match tokens[i].as_str() {
                        "login" => login = value,
                        "password" => password = value,
                        _ => {}
                    }
                    i += 2;
                }
                _ => i += 1,
            }
        }
        flush(&mut netrc, &current, &login, &password);
        netrc
    }

    /// Credentials for a host name.
    pub fn get(&self, host: &str) -> Option<(String, String)> {
        self.machines.get(host).or(self.default.as_ref()).cloned()
    }
}

/// Credentials known for this run.
#[derive(Debug, Default)]
pub(crate) struct AuthStore {
    by_host: Mutex<HashMap<String, (String, Option<String>)>>,
    netrc: Netrc,
    /// The index URLs, as given (with any user name): a keyring is asked for the index a
    /// URL belongs to.
    indexes: Mutex<Vec<Url>>,
}

impl AuthStore {
    pub(crate) fn new(netrc: Netrc) -> Self {
        Self {
            by_host: Mutex::default(),
            netrc,
            indexes: Mutex::default(),
        }
    }

    /// Notes an index URL, for [`Self::keyring_services`].
    pub(crate) fn add_index(&self, url: &Url) {
        let mut indexes = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
        if !indexes.contains(url) {
            indexes.push(url.clone());
        }
    }

    /// The keyring services to try for `url` (credential-free), as pip tries them: the index
    /// URL it is under (as written, and without its last `/`), then `host[:port]`; and the
    /// user name to ask with: `user` (sent with the request), else the index URL's.
    pub(crate) fn keyring_services(
        &self,
        url: &Url,
        user: Option<&str>,
    ) -> (Vec<String>, Option<String>) {
        let mut services = Vec::new();
        let mut username = user.filter(|u| !u.is_empty()).map(str::to_string);
        let indexes = self.indexes.lock().unwrap_or_else(|e| e.into_inner());
        for index in indexes.iter() {
            let (bare, creds) = split_credentials(index);
            let prefix = bare.as_str().trim_end_matches('/');
            if url.as_str().starts_with(&format!("{prefix}/")) || url.as_str() == prefix {
                if username.is_none() {
                    username = creds.map(|(u, _)| u).filter(|u| !u.is_empty());
                }
                services.push(bare.to_string());
                if bare.as_str().ends_with('/') {
                    services.push(prefix.to_string());
                }
                break;
            }
        }
        if let Some(host) = host_key(url) {
            services.push(host);
        }
        (services, username)
    }

    /// Remembers credentials (from a keyring) for `url`'s host.
    pub(crate) fn remember_for(&self, url: &Url, creds: (String, Option<String>)) {
        if let Some(host) = host_key(url) {
            self.by_host
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(host, creds);
        }
    }

    /// Remembers the credentials of an index URL for its host.
    pub(crate) fn remember(&self, url: &Url) {
        if let (Some(host), (_, Some(creds))) = (host_key(url), split_credentials(url)) {
            self.by_host
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(host, creds);
        }
    }

    /// The URL to request (without credentials) and the credentials to send with it: those in
    /// the URL, else those remembered for its host, else `.netrc`'s.
    pub(crate) fn credentials_for(&self, url: &Url) -> (Url, Option<(String, Option<String>)>) {
        let (bare, creds) = split_credentials(url);
        if creds.is_some() {
            self.remember(url);
            return (bare, creds);
        }
        let remembered = host_key(url).and_then(|host| {
            self.by_host
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&host)
                .cloned()
        });
        let creds = remembered.or_else(|| {
            url.host_str()
                .and_then(|h| self.netrc.get(h))
                .map(|(u, p)| (u, Some(p)))
        });
        (bare, creds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netrc_machines_and_default() {
        let n = Netrc::parse(
            "machine a.example login alice password one\n# comment\nmacdef init\ncd /\n\nmachine b.example\n  login bob\n  password two\ndefault login anon password none\n",
        );
        assert_eq!(n.get("a.example"), Some(("alice".into(), "one".into())));
        assert_eq!(n.get("b.example"), Some(("bob".into(), "two".into())));
        assert_eq!(n.get("c.example"), Some(("anon".into(), "none".into())));
    }

    #[test]
    fn credentials_are_remembered_per_host() {
        let store = AuthStore::new(Netrc::default());
        let index = Url::parse("http://u:p@127.0.0.1:9/simple/").unwrap();
        let (bare, creds) = store.credentials_for(&index);
        assert_eq!(bare.as_str(), "http://127.0.0.1:9/simple/");
        assert_eq!(creds, Some(("u".into(), Some("p".into()))));
        let file = Url::parse("http://127.0.0.1:9/files/x.whl").unwrap();
        assert_eq!(
            store.credentials_for(&file).1,
            Some(("u".into(), Some("p".into())))
        );
        let other = Url::parse("http://127.0.0.1:10/files/x.whl").unwrap();
        assert_eq!(store.credentials_for(&other).1, None);
    }

    #[test]
    fn keyring_services_are_the_index_then_the_host() {
        let store = AuthStore::new(Netrc::default());
        store.add_index(&Url::parse("https://alice@h.invalid:8443/simple/").unwrap());
        let page = Url::parse("https://h.invalid:8443/simple/flask/").unwrap();
        assert_eq!(
            store.keyring_services(&page, None),
            (
                vec![
                    "https://h.invalid:8443/simple/".to_string(),
                    "https://h.invalid:8443/simple".to_string(),
                    "h.invalid:8443".to_string()
                ],
                Some("alice".to_string())
            )
        );
        let file = Url::parse("https://files.invalid/x.whl").unwrap();
        assert_eq!(
            store.keyring_services(&file, Some("bob")),
            (vec!["files.invalid".to_string()], Some("bob".to_string()))
        );
    }
}
