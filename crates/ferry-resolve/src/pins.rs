//! pip-compile's output: a resolution written as a pinned requirements file, with `# via`
//! annotations and `--hash` lines, and the pins an existing output file already holds.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::str::FromStr;

use ferry_index::{DistFile, DownloadObserver, IndexClient, IndexError};
use ferry_types::PackageName;
use pep440_rs::Version;
use sha2::{Digest, Sha256};

use crate::{Parent, ResolvedPackage};

/// How to write the pinned file.
#[derive(Debug, Clone, Default)]
pub struct PinFormat {
    /// The comment block at the top (each line without its `# `), if any.
    pub header: Option<Vec<String>>,
    /// pip-compile's `# via` lines.
    pub annotate: bool,
}

/// The pinned requirements file for `packages`, with the `hashes` given for each.
pub fn render(
    packages: &[ResolvedPackage],
    hashes: &HashMap<PackageName, Vec<String>>,
    format: &PinFormat,
) -> String {
    let mut text = String::new();
    if let Some(header) = &format.header {
        for line in header {
            text.push_str(format!("# {line}").trim_end());
            text.push('\n');
        }
    }
    for package in packages {
        text.push_str(&pin_line(package));
        for hash in hashes.get(&package.name).into_iter().flatten() {
            text.push_str(&format!(" \\\n    --hash=sha256:{hash}"));
        }
        text.push('\n');
        if format.annotate {
            text.push_str(&annotation(package));
        }
    }
    text
}

/// `name[extras]==version`, or `name[extras] @ url` for a direct reference (its password
/// redacted).
fn pin_line(package: &ResolvedPackage) -> String {
    let extras = if package.extras.is_empty() {
        String::new()
    } else {
        let extras: Vec<&str> = package.extras.iter().map(String::as_str).collect();
        format!("[{}]", extras.join(","))
    };
    match &package.direct_url {
        Some(url) if package.editable => format!("-e {}", ferry_index::redact(url)),
        Some(url) => format!("{}{extras} @ {}", package.name, ferry_index::redact(url)),
        None => format!("{}{extras}=={}", package.name, package.version),
    }
}

/// pip-compile's `# via` lines: one parent inline, several as a list.
fn annotation(package: &ResolvedPackage) -> String {
    let parents: Vec<&str> = package
        .parents
        .iter()
        .map(|p| match p {
            Parent::Requested(origin) => origin.as_str(),
            Parent::Package(name) => name.as_str(),
        })
        .collect();
    match parents.as_slice() {
        [] => String::new(),
        [only] => format!("    # via {only}\n"),
        many => {
            let mut text = String::from("    # via\n");
            for parent in many {
                text.push_str(&format!("    #   {parent}\n"));
            }
            text
        }
    }
}

/// The sha256 of every file of each package's pinned version, as the index lists them. A file
/// without a listed hash is read (local) or downloaded (streamed through the hash, not held
/// in memory) and hashed. Lookups run at once.
pub async fn file_hashes(
    client: &IndexClient,
    packages: &[ResolvedPackage],
) -> Result<HashMap<PackageName, Vec<String>>, IndexError> {
    let all = futures::future::try_join_all(packages.iter().map(|package| async move {
        let mut hashes = BTreeSet::new();
        // A project directory has no hash to pin, as in pip-compile.
        let directory = |file: &DistFile| file.url.to_file_path().is_ok_and(|p| p.is_dir());
        for file in package.all_files.iter().filter(|f| !directory(f)) {
            hashes.insert(file_sha256(client, file).await?);
        }
        Ok::<_, IndexError>((package.name.clone(), hashes.into_iter().collect()))
    }))
    .await?;
    Ok(all.into_iter().collect())
}

struct Hasher(Sha256);

impl DownloadObserver for Hasher {
    fn data(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn restart(&mut self) {
        self.0 = Sha256::new();
    }
}

pub(crate) async fn file_sha256(
    client: &IndexClient,
    file: &DistFile,
) -> Result<String, IndexError> {
    if let Some(hash) = &file.hashes.sha256 {
        return Ok(hash.clone());
    }
    let mut hasher = Hasher(Sha256::new());
    if file.url.scheme() == "file" {
        let path = file.url.to_file_path().map_err(|()| IndexError::BadUrl {
            url: file.url.to_string(),
            message: "not a local path".into(),
        })?;
        let io = |source| IndexError::Io {
            what: "a file to hash",
            path: path.clone(),
            source,
        };
        let mut reader = fs_err::File::open(&path).map_err(io)?;
        let mut buffer = vec![0; 64 * 1024];
        loop {
            let n = std::io::Read::read(&mut reader, &mut buffer).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.0.update(&buffer[..n]);
        }
    } else {
        let spool = tempfile::NamedTempFile::new().map_err(|source| IndexError::Io {
            what: "a temporary file",
            path: std::env::temp_dir(),
            source,
        })?;
        let mut file_handle =
            tokio::fs::File::from_std(spool.reopen().map_err(|source| IndexError::Io {
                what: "a temporary file",
                path: spool.path().to_path_buf(),
                source,
            })?);
        client
            .http()
            .download(&file.url, &mut file_handle, spool.path(), &mut hasher)
            .await?;
    }
    Ok(hasher
        .0
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The `name==version` pins of an existing output file (hash lines, comments and anything
/// else skipped), which a new resolution keeps unless they are upgraded. Only a regular file
/// (or a link to one) is read: reading a FIFO or a device given as the output would block or
/// take what is meant for someone else.
pub fn existing_pins(path: &Path) -> HashMap<PackageName, Version> {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return HashMap::new();
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    let mut pins = HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let line = line.trim().trim_end_matches('\\').trim();
        let Some((name, version)) = line.split_once("==") else {
            continue;
        };
        let name = name.split('[').next().unwrap_or(name).trim();
        let version = version.split([';', ' ']).next().unwrap_or("").trim();
        if let Ok(version) = Version::from_str(version) {
            pins.insert(PackageName::new(name), version);
        }
    }
    pins
}

#[cfg(test)]
mod tests {
    use super::existing_pins;

    #[test]
    fn existing_pins_skip_comments_hashes_and_extras() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        std::fs::write(
            &path,
            "# header\nFoo_Bar[x]==1.0 \\\n    --hash=sha256:ab\n    # via a\nbaz==2.0rc1 ; python_version<'4'\nnot-a-pin>=1\n",
        )
        .unwrap();
        let pins = existing_pins(&path);
        assert_eq!(pins.len(), 2);
        assert_eq!(pins["foo-bar"].to_string(), "1.0");
        assert_eq!(pins["baz"].to_string(), "2.0rc1");
        assert!(existing_pins(&dir.path().join("missing")).is_empty());
    }
}
