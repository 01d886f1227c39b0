//! URL helpers: redaction, credentials, and index page URLs.

use url::Url;

/// The URL as it may be shown to people: `user:****@host` when a password is present, `****@host`
/// when only a user name is (it is often a token).
pub fn redact(url: &Url) -> String {
    if url.password().is_none() && url.username().is_empty() {
        return url.to_string();
    }
    let mut shown = url.clone();
    if url.password().is_some() {
        let _ = shown.set_password(Some("****"));
    } else {
        let _ = shown.set_username("****");
    }
    shown.to_string()
}

/// Redacts a URL given as text (anything unparseable is shown with its userinfo cut out).
pub fn redact_str(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => redact(&parsed),
        Err(_) => match (url.find("://"), url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                format!("{}****{}", &url[..scheme + 3], &url[at..])
            }
            _ => url.to_string(),
        },
    }
}

/// The URL without user name and password, and the credentials that were in it.
pub(crate) fn split_credentials(url: &Url) -> (Url, Option<(String, Option<String>)>) {
    if url.username().is_empty() && url.password().is_none() {
        return (url.clone(), None);
    }
    let user = percent_encoding::percent_decode_str(url.username())
        .decode_utf8_lossy()
        .into_owned();
    let password = url.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    let mut bare = url.clone();
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    (bare, Some((user, password)))
}

/// `host[:port]` as a key for remembered credentials and trusted hosts.
pub(crate) fn host_key(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

pub use ferry_input::normalize_name;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_secrets() {
        let url = Url::parse("https://alice:s3cret@example.invalid/simple/").unwrap();
        assert_eq!(redact(&url), "https://alice:****@example.invalid/simple/");
        let token = Url::parse("https://tok3n@example.invalid/simple/").unwrap();
        assert_eq!(redact(&token), "https://****@example.invalid/simple/");
        assert_eq!(
            redact_str("https://a:b@bad host/"),
            "https://****@bad host/"
        );
        let (bare, creds) = split_credentials(&url);
        assert_eq!(bare.as_str(), "https://example.invalid/simple/");
        assert_eq!(creds, Some(("alice".into(), Some("s3cret".into()))));
    }

    #[test]
    fn names_normalize() {
        assert_eq!(normalize_name("Foo.Bar__baz"), "foo-bar-baz");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
    }
}
