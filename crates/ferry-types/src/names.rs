//! Domain values every stage passes around: normalized project names and file hashes.

use std::fmt;
use std::str::FromStr;

/// A project name normalized as PEP 503 says (`Foo.Bar_baz` → `foo-bar-baz`): the form names
/// are compared, looked up and keyed by in every stage.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PackageName(String);

impl PackageName {
    /// Normalizes `name`.
    pub fn new(name: &str) -> Self {
        Self(normalize(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lowercase, with every run of `-`, `_` and `.` as one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
        } else {
            if separator && !out.is_empty() {
                out.push('-');
            }
            separator = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::ops::Deref for PackageName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for PackageName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for PackageName {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

/// A hash algorithm ferry can check files against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha384 => 96,
            Self::Sha512 => 128,
        }
    }
}

/// A file hash as `--hash` gives it (`sha256:<hex>`, or pip's older `sha256=<hex>`), checked
/// when read: a known algorithm and a hex digest of its length, stored lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HashDigest {
    pub algorithm: HashAlgorithm,
    pub hex: String,
}

impl HashDigest {
    pub fn sha256(hex: &str) -> Self {
        Self {
            algorithm: HashAlgorithm::Sha256,
            hex: hex.to_ascii_lowercase(),
        }
    }
}

impl FromStr for HashDigest {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (algorithm, hex) = text
            .split_once([':', '='])
            .ok_or_else(|| format!("`{text}` is not ALGORITHM:HEX"))?;
        let algorithm = match algorithm.to_ascii_lowercase().as_str() {
            "sha256" => HashAlgorithm::Sha256,
            "sha384" => HashAlgorithm::Sha384,
            "sha512" => HashAlgorithm::Sha512,
            other => {
                return Err(format!(
                    "`{other}` hashes are not checked by ferry (use sha256, sha384 or sha512)"
                ))
            }
        };
        if hex.len() != algorithm.hex_len() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "`{hex}` is not a {} digest ({} hex digits)",
                algorithm.name(),
                algorithm.hex_len()
            ));
        }
        Ok(Self {
            algorithm,
            hex: hex.to_ascii_lowercase(),
        })
    }
}

impl fmt::Display for HashDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize_like_pep_503() {
        for (raw, normal) in [
            ("Foo.Bar_baz", "foo-bar-baz"),
            ("a--_.b", "a-b"),
            ("ZOPE.interface", "zope-interface"),
            ("x", "x"),
        ] {
            assert_eq!(PackageName::new(raw).as_str(), normal);
        }
        assert_eq!(PackageName::new("Six"), PackageName::from("six"));
    }

    #[test]
    fn hashes_are_checked_when_read() {
        let hex = "AB".repeat(32);
        let digest: HashDigest = format!("sha256:{hex}").parse().unwrap();
        assert_eq!(digest.to_string(), format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(
            format!("sha256={hex}").parse::<HashDigest>().unwrap(),
            digest
        );
        assert!("sha384:00"
            .parse::<HashDigest>()
            .unwrap_err()
            .contains("96 hex"));
        assert!("md5:00".parse::<HashDigest>().unwrap_err().contains("md5"));
        assert!("nothing".parse::<HashDigest>().is_err());
        let zz = format!("sha256:{}", "zz".repeat(32));
        assert!(zz.parse::<HashDigest>().is_err());
    }
}
