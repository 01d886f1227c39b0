//! Version-control requirements as pip writes them: `git+https://host/repo@REF#subdirectory=..`,
//! `hg+`, `svn+` and `bzr+`. [`VcsUrl`] is the parsed form that the resolver hands to the
//! build seam ([`crate::BuildContext::vcs_checkout`]), which gives back a [`VcsCheckout`].

use std::fmt;
use std::path::PathBuf;

/// A version-control system pip knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vcs {
    Git,
    Hg,
    Svn,
    Bzr,
}

impl Vcs {
    /// The name used in URLs (`git+`) and in `direct_url.json`'s `vcs_info.vcs`.
    pub fn as_str(self) -> &'static str {
        match self {
            Vcs::Git => "git",
            Vcs::Hg => "hg",
            Vcs::Svn => "svn",
            Vcs::Bzr => "bzr",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "git" => Vcs::Git,
            "hg" => Vcs::Hg,
            "svn" => Vcs::Svn,
            "bzr" => Vcs::Bzr,
            _ => return None,
        })
    }

    /// The command the system is driven through.
    pub fn program(self) -> &'static str {
        self.as_str()
    }

    /// What to install when [`Self::program`] is missing.
    pub fn install_hint(self) -> &'static str {
        match self {
            Vcs::Git => "Git (the `git` command; Debian/Ubuntu: `apt install git`)",
            Vcs::Hg => "Mercurial (the `hg` command; Debian/Ubuntu: `apt install mercurial`)",
            Vcs::Svn => "Subversion (the `svn` command; Debian/Ubuntu: `apt install subversion`)",
            Vcs::Bzr => "Breezy (the `bzr` command; Debian/Ubuntu: `apt install brz`)",
        }
    }
}

impl fmt::Display for Vcs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed VCS requirement URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VcsUrl {
    pub vcs: Vcs,
    /// The repository, without the `vcs+` prefix, the `@REF` and the fragment (credentials,
    /// when given, are kept: the VCS needs them).
    pub repository: url::Url,
    /// The branch, tag, commit or revision after `@`, if one was given.
    pub rev: Option<String>,
    /// `#subdirectory=`.
    pub subdirectory: Option<String>,
    /// `#egg=NAME` (pip's old way to name a VCS requirement).
    pub egg: Option<String>,
}

impl VcsUrl {
    /// Parses `url` if its scheme is `git+…`, `hg+…`, `svn+…` or `bzr+…`: `None` for other
    /// URLs, an error for a VCS URL ferry cannot use.
    pub fn parse(url: &url::Url) -> Option<Result<Self, String>> {
        let (vcs, transport) = url.scheme().split_once('+')?;
        let vcs = Vcs::from_name(vcs)?;
        Some(Self::parse_vcs(vcs, transport, url))
    }

    fn parse_vcs(vcs: Vcs, transport: &str, url: &url::Url) -> Result<Self, String> {
        let allowed: &[&str] = match vcs {
            Vcs::Git => &["https", "http", "ssh", "file", "git"],
            Vcs::Hg => &["https", "http", "ssh", "file", "static-http"],
            Vcs::Svn => &["https", "http", "ssh", "file", "svn"],
            Vcs::Bzr => &["https", "http", "ssh", "file", "sftp", "ftp", "lp", "bzr"],
        };
        if !allowed.contains(&transport) {
            return Err(format!(
                "`{vcs}+{transport}` is not a transport {vcs} supports (use one of: {})",
                allowed
                    .iter()
                    .map(|t| format!("{vcs}+{t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let mut subdirectory = None;
        let mut egg = None;
        for part in url.fragment().unwrap_or("").split('&') {
            match part.split_once('=') {
                Some(("subdirectory", value)) if !value.is_empty() => {
                    subdirectory = Some(value.to_string());
                }
                Some(("egg", value)) if !value.is_empty() => egg = Some(value.to_string()),
                _ => {}
            }
        }
        // The revision is after the last `@` of the path (the host part may hold `user@`).
        let path = url.path();
        let (path, rev) = match path.rsplit_once('@') {
            Some((path, rev)) if !path.is_empty() => {
                let rev = crate::percent_decode(rev);
                if rev.is_empty() {
                    return Err("an empty revision after `@`".into());
                }
                (path.to_string(), Some(rev))
            }
            _ => (path.to_string(), None),
        };
        let text = url.as_str();
        let rest = &text[url.scheme().len()..];
        let mut repository = url::Url::parse(&format!("{transport}{rest}"))
            .map_err(|e| format!("not a usable repository URL: {e}"))?;
        repository.set_path(&path);
        repository.set_fragment(None);
        Ok(Self {
            vcs,
            repository,
            rev,
            subdirectory,
            egg,
        })
    }

    /// The requirement's URL with `rev` in place of the asked revision: `vcs+URL@REV`, with the
    /// subdirectory fragment.
    pub fn with_rev(&self, rev: &str) -> url::Url {
        let mut text = format!("{}+{}@{rev}", self.vcs, self.repository);
        if let Some(sub) = &self.subdirectory {
            text.push_str(&format!("#subdirectory={sub}"));
        }
        url::Url::parse(&text).expect("a VCS URL rebuilt from its parts parses")
    }

    /// The repository without credentials, as PEP 610 asks `direct_url.json` to record it: the
    /// user name survives only when it is `git` (ssh's convention) or an environment variable.
    pub fn public_repository(&self) -> String {
        strip_credentials(&self.repository)
    }
}

impl fmt::Display for VcsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}", self.vcs, redacted(&self.repository))?;
        if let Some(rev) = &self.rev {
            write!(f, "@{rev}")?;
        }
        Ok(())
    }
}

/// `url` with its password (or a lone user name, which may be a token) shown as `****`.
pub fn redacted(url: &url::Url) -> String {
    if url.password().is_none() && url.username().is_empty() {
        return url.to_string();
    }
    let mut shown = url.clone();
    if url.password().is_some() {
        let _ = shown.set_password(Some("****"));
    } else if url.username() != "git" {
        let _ = shown.set_username("****");
    }
    shown.to_string()
}

/// `url` without credentials, except a user `git` or `${VAR}` forms (PEP 610).
pub fn strip_credentials(url: &url::Url) -> String {
    let mut clean = url.clone();
    let user = url.username();
    let env_form = |s: &str| s.starts_with("%7B") || s.starts_with("${") || s.starts_with("$%7B");
    let keep_user = user == "git" || env_form(user);
    let keep_password = url.password().is_some_and(env_form);
    if !keep_password {
        let _ = clean.set_password(None);
    }
    if !keep_user {
        let _ = clean.set_username("");
    }
    clean.to_string()
}

/// A revision of a repository checked out on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcsCheckout {
    /// The full commit id (git, hg: the changeset hash; svn: the revision number; bzr: the
    /// revision id).
    pub commit: String,
    /// The working tree (the repository's root, not its `#subdirectory=`).
    pub dir: PathBuf,
}

/// A VCS requirement as resolved: what `direct_url.json`'s `vcs_info` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcsResolved {
    pub vcs: Vcs,
    /// The repository without credentials ([`VcsUrl::public_repository`]).
    pub repository: String,
    pub commit: String,
    /// The revision the requirement asked for, if any.
    pub requested_revision: Option<String>,
    pub subdirectory: Option<String>,
}

/// What the caller knows of a VCS requirement before asking for its checkout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VcsRequest {
    /// A commit already known for this URL and revision (the installed one, when not
    /// upgrading): used without asking the remote, fetched only when missing from the cache.
    pub pinned: Option<String>,
    /// Check out into this directory (an editable install's `--src` checkout) instead of the
    /// cache.
    pub into: Option<PathBuf>,
    /// pip's `--exists-action`, in order: what to do when `into` is in the way (another
    /// repository's checkout, or not a checkout). The first that applies is taken; none is an
    /// error.
    pub exists_action: Vec<ExistsAction>,
}

/// pip's answers for a `--src` directory that is in the way (`--exists-action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExistsAction {
    /// Point the existing checkout at the requirement's repository and update it (a checkout
    /// of the same kind only).
    Switch,
    /// Use the directory as it is.
    Ignore,
    /// Delete it and check out afresh.
    Wipe,
    /// Move it to `DIR.bak` (`.bak2`, ...) and check out afresh.
    Backup,
    /// Stop with an error.
    Abort,
}

impl ExistsAction {
    /// pip's letters (`s`, `i`, `w`, `b`, `a`), or the words.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value.trim().to_ascii_lowercase().as_str() {
            "s" | "switch" => Self::Switch,
            "i" | "ignore" => Self::Ignore,
            "w" | "wipe" => Self::Wipe,
            "b" | "backup" => Self::Backup,
            "a" | "abort" => Self::Abort,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<VcsUrl, String> {
        VcsUrl::parse(&url::Url::parse(text).unwrap()).unwrap()
    }

    #[test]
    fn pip_forms_parse() {
        let v = parse("git+https://host/org/repo.git@v1.0#egg=pkg&subdirectory=sub/dir").unwrap();
        assert_eq!(v.vcs, Vcs::Git);
        assert_eq!(v.repository.as_str(), "https://host/org/repo.git");
        assert_eq!(v.rev.as_deref(), Some("v1.0"));
        assert_eq!(v.subdirectory.as_deref(), Some("sub/dir"));
        assert_eq!(v.egg.as_deref(), Some("pkg"));

        let v = parse("git+ssh://git@host/org/repo.git").unwrap();
        assert_eq!(v.repository.as_str(), "ssh://git@host/org/repo.git");
        assert_eq!(v.rev, None);
        assert_eq!(v.public_repository(), "ssh://git@host/org/repo.git");

        let v = parse("git+file:///srv/repo@feature/x").unwrap();
        assert_eq!(v.repository.as_str(), "file:///srv/repo");
        assert_eq!(v.rev.as_deref(), Some("feature/x"));

        let v = parse("svn+https://host/repo/trunk@1234").unwrap();
        assert_eq!(v.vcs, Vcs::Svn);
        assert_eq!(v.rev.as_deref(), Some("1234"));
        assert!(VcsUrl::parse(&url::Url::parse("https://host/x").unwrap()).is_none());
        assert!(parse("git+ftp://host/repo")
            .unwrap_err()
            .contains("git+https"));
        assert!(parse("git+https://host/repo@").is_err());
    }

    #[test]
    fn credentials_are_redacted_and_stripped() {
        let v = parse("git+https://user:s3cret@host/repo.git@main").unwrap();
        assert_eq!(v.repository.password(), Some("s3cret"));
        let shown = v.to_string();
        assert!(
            !shown.contains("s3cret") && shown.contains("****"),
            "{shown}"
        );
        assert_eq!(v.public_repository(), "https://host/repo.git");
        let v = parse("git+https://tok3n@host/repo.git").unwrap();
        assert!(!v.to_string().contains("tok3n"));
        assert_eq!(v.public_repository(), "https://host/repo.git");
        let pinned = v.with_rev("abc");
        assert_eq!(pinned.as_str(), "git+https://tok3n@host/repo.git@abc");
    }
}
