//! Installed versions, which may predate PEP 440.

use std::fmt;
use std::str::FromStr;

use pep440_rs::Version;

/// The version of an installed distribution as its metadata (or directory name) gives it.
/// pip compares and prints it as a PEP 440 version when it is one, normalized (`1.0.0-rc1` is
/// `1.0.0rc1`), and keeps anything older tools wrote (`2004d`, `1.0-SNAPSHOT`) as text, which
/// matches no specifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistVersion {
    raw: String,
    pep440: Option<Version>,
}

impl DistVersion {
    pub fn new(raw: &str) -> Self {
        Self {
            raw: raw.to_string(),
            pep440: Version::from_str(raw.trim()).ok(),
        }
    }

    /// The PEP 440 version, when the text is one.
    pub fn pep440(&self) -> Option<&Version> {
        self.pep440.as_ref()
    }

    /// The text as written.
    pub fn raw(&self) -> &str {
        &self.raw
    }
}

impl From<Version> for DistVersion {
    fn from(version: Version) -> Self {
        Self {
            raw: version.to_string(),
            pep440: Some(version),
        }
    }
}

/// pip's `str(dist.version)`: the normalized version, or the text itself when it is not PEP 440.
impl fmt::Display for DistVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pep440 {
            Some(version) => write!(f, "{version}"),
            None => f.write_str(&self.raw),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DistVersion;

    #[test]
    fn versions_print_normalized_unless_they_predate_pep_440() {
        assert_eq!(DistVersion::new("1.0.0-RC1").to_string(), "1.0.0rc1");
        assert_eq!(DistVersion::new("1.0.0-RC1").raw(), "1.0.0-RC1");
        let legacy = DistVersion::new("1.0-SNAPSHOT-x");
        assert_eq!(legacy.to_string(), "1.0-SNAPSHOT-x");
        assert!(legacy.pep440().is_none());
    }
}
