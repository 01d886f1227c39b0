//! RECORD files (PEP 376 / the wheel spec): CSV rows of `path,sha256=<urlsafe-b64>,size`.

use std::path::Path;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::InstallError;

/// One row of a RECORD file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    /// `/`-separated, relative to the site-packages directory (may climb out with `..`).
    pub path: String,
    /// `sha256=<urlsafe base64 without padding>`, or `None` (RECORD itself, `.pyc` files).
    pub hash: Option<String>,
    pub size: Option<u64>,
}

impl RecordEntry {
    pub fn path_only(path: String) -> Self {
        Self {
            path,
            hash: None,
            size: None,
        }
    }

    /// A row for `bytes` stored at `path`.
    pub fn for_bytes(path: String, bytes: &[u8]) -> Self {
        Self {
            path,
            hash: Some(hash_bytes(bytes)),
            size: Some(bytes.len() as u64),
        }
    }
}

/// `sha256=<urlsafe base64 without padding>` of `bytes`, as RECORD spells hashes.
pub fn hash_bytes(bytes: &[u8]) -> String {
    encode_digest(&Sha256::digest(bytes))
}

/// The RECORD spelling of a finished sha256 digest.
pub fn encode_digest(digest: &[u8]) -> String {
    format!(
        "sha256={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

/// Parses a RECORD (CSV with optional double-quoting). `path` is only for error messages.
pub fn parse(text: &str, path: &Path) -> Result<Vec<RecordEntry>, InstallError> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_csv(line).ok_or_else(|| InstallError::BadRecord {
            path: path.to_path_buf(),
            message: format!("line {} is not valid CSV: {line:?}", index + 1),
        })?;
        let mut fields = fields.into_iter();
        let file = fields.next().unwrap_or_default();
        if file.is_empty() {
            continue;
        }
        let hash = fields.next().filter(|h| !h.is_empty());
        let size = fields.next().and_then(|s| s.trim().parse().ok());
        out.push(RecordEntry {
            path: file,
            hash,
            size,
        });
    }
    Ok(out)
}

fn split_csv(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    current.push('"');
                } else {
                    quoted = false;
                }
            } else {
                current.push(c);
            }
        } else if c == '"' && at_start {
            quoted = true;
            at_start = false;
        } else if c == ',' {
            fields.push(std::mem::take(&mut current));
            at_start = true;
        } else {
            current.push(c);
            at_start = false;
        }
    }
    if quoted {
        return None;
    }
    fields.push(current);
    Some(fields)
}

/// Writes rows as RECORD text, sorted by path as pip writes them, quoting fields that need it.
pub fn write(entries: &[RecordEntry]) -> String {
    let mut sorted: Vec<&RecordEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    sorted.dedup_by(|a, b| a.path == b.path);
    let mut out = String::new();
    for entry in sorted {
        out.push_str(&quote(&entry.path));
        out.push(',');
        out.push_str(entry.hash.as_deref().unwrap_or(""));
        out.push(',');
        if let Some(size) = entry.size {
            out.push_str(&size.to_string());
        }
        out.push('\n');
    }
    out
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_awkward_paths() {
        let entries = vec![
            RecordEntry::for_bytes("a,b/\"c\".py".into(), b"x"),
            RecordEntry::path_only("pkg-1.0.dist-info/RECORD".into()),
        ];
        let text = write(&entries);
        let parsed = parse(&text, Path::new("RECORD")).unwrap();
        assert_eq!(parsed.len(), 2);
        assert!(parsed.contains(&entries[0]));
        assert!(parsed.contains(&entries[1]));
    }

    #[test]
    fn hash_matches_the_wheel_spec_encoding() {
        // sha256 of the empty string, urlsafe base64 without padding.
        assert_eq!(
            hash_bytes(b""),
            "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }
}
