//! The unpacked-wheel store: each wheel file is unpacked once into the cache, in a directory
//! named by the file's sha256 (`archive-v1/<sha256>/`), and installs link from there.
//!
//! Beside each archive, `<sha256>.json` ([`Provenance`]) says which file it was, where it was
//! downloaded from and when. Unpacking goes to a staging directory ([`Store::stage`]) that is
//! renamed into place only once the wheel file's hash has been checked ([`Store::commit`]),
//! so an archive directory that exists is complete and is the file it is named after. A
//! download is unpacked while it arrives ([`crate::unzip`]); a local file is read the same
//! way. Every entry's path is checked (no absolute paths, no `..`, no links out), every
//! entry's CRC-32 and size, and the archive's RECORD is rewritten to list every file as it
//! is ([`settle`]), so installs can trust it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ferry_cache::{Bucket, Cache};
use ferry_types::interrupt::TempWork;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::files::write_file;
use crate::record::{self, RecordEntry};
use crate::unzip::{unzip_seekable, unzip_stream, ReadChunks, Unpacked, UnzipError};
use crate::InstallError;

/// Where an archive came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Provenance {
    pub filename: String,
    /// The file's URL, without credentials.
    pub url: String,
    /// The index or find-links location that listed it (or the URL the user gave).
    pub index: String,
    /// Seconds since the Unix epoch.
    pub downloaded_at: u64,
    pub size: u64,
    pub sha256: String,
}

impl Provenance {
    /// `downloaded_at` as a UTC `YYYY-MM-DD HH:MM:SS`.
    pub fn date(&self) -> String {
        format_utc(self.downloaded_at)
    }
}

/// Formats seconds since the epoch as a UTC date and time.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm, public domain).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The unpacked-wheel store of a cache.
#[derive(Debug, Clone)]
pub struct Store {
    archives: PathBuf,
    downloads: PathBuf,
    by_url: PathBuf,
    files: PathBuf,
    root: PathBuf,
}

impl Store {
    pub fn new(cache: &Cache) -> Self {
        Self {
            archives: cache.bucket(Bucket::Archive),
            downloads: cache.bucket(Bucket::Downloads),
            by_url: cache.bucket(Bucket::Wheels),
            files: cache.bucket(Bucket::Files),
            root: cache.root().to_path_buf(),
        }
    }

    /// Where whole distribution files are kept (`ferry download`, `ferry wheel`).
    pub fn files_dir(&self) -> PathBuf {
        self.files.clone()
    }

    /// The archive directory of a wheel with this sha256, if it has been unpacked.
    pub fn get(&self, sha256: &str) -> Option<PathBuf> {
        let dir = self.archives.join(sha256);
        dir.is_dir().then_some(dir)
    }

    /// Where the archive with this sha256 came from.
    pub fn provenance(&self, sha256: &str) -> Option<Provenance> {
        let text = std::fs::read(self.archives.join(format!("{sha256}.json"))).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// The sha256 of the wheel last downloaded from `url` (for indexes that list no hashes).
    pub fn lookup_url(&self, url: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.by_url.join(ferry_cache::url_key(url))).ok()?;
        let sha = text.trim().to_string();
        (sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())).then_some(sha)
    }

    /// A whole wheel the resolver downloaded from `url` (redacted) to read its metadata, kept
    /// for the installer (see [`Bucket::Downloads`]), with the sha256 its name gives.
    pub fn kept_download(&self, url: &str) -> Option<(PathBuf, String)> {
        let dir = self.downloads.join(ferry_cache::url_key(url));
        std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let sha = name.strip_suffix(".whl")?;
            let valid = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit());
            valid.then(|| (entry.path(), sha.to_string()))
        })
    }

    /// Every archive in the store with its provenance (for `ferry cache`).
    pub fn list(&self) -> Vec<(PathBuf, Option<Provenance>)> {
        let Ok(entries) = std::fs::read_dir(&self.archives) else {
            return Vec::new();
        };
        let mut out: Vec<_> = entries
            .flatten()
            .filter(|e| e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| {
                let sha = e.file_name().to_string_lossy().into_owned();
                (e.path(), self.provenance(&sha))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// A new temporary file in the store's directory to download a wheel into (so unpacking
    /// it stays on one filesystem); it is deleted when dropped.
    pub fn download_file(&self) -> Result<tempfile::NamedTempFile, InstallError> {
        self.ensure_dir()?;
        tempfile::Builder::new()
            .prefix(".download-")
            .tempfile_in(&self.archives)
            .map_err(|source| InstallError::Io {
                action: "create a file in",
                path: self.archives.clone(),
                source,
            })
    }

    fn ensure_dir(&self) -> Result<(), InstallError> {
        fs_err::create_dir_all(&self.archives).map_err(|source| InstallError::Io {
            action: "create",
            path: self.archives.clone(),
            source,
        })?;
        if let Err(err) =
            ferry_cache::Cache::at(self.root.clone(), ferry_cache::CacheSource::Flag).ensure_root()
        {
            tracing::debug!("{err}");
        }
        Ok(())
    }

    /// A new directory in the store to unpack a wheel into; it is removed when dropped
    /// (and when ferry is interrupted) unless [`Store::commit`] moves it into place.
    pub(crate) fn stage(&self) -> Result<TempWork, InstallError> {
        self.ensure_dir()?;
        let dir = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(&self.archives)
            .map_err(crate::io_error("create a directory in", &self.archives))?;
        Ok(TempWork::new(dir))
    }

    /// Whether the archive with this sha256 is already in place.
    pub(crate) fn has(&self, sha256: &str) -> bool {
        self.archives.join(sha256).is_dir()
    }

    /// Moves a filled staging directory into place as the archive of `provenance.sha256`,
    /// writes its provenance, and remembers the URL's sha256. Safe to race with other
    /// processes: the first complete archive wins.
    pub(crate) fn commit(
        &self,
        staging: TempWork,
        provenance: &Provenance,
    ) -> Result<PathBuf, InstallError> {
        let target = self.archives.join(&provenance.sha256);
        let json = serde_json::to_vec_pretty(provenance).unwrap_or_default();
        ferry_cache::write_atomic(
            &self.archives.join(format!("{}.json", provenance.sha256)),
            &json,
        )
        .map_err(|e| InstallError::Cache(e.to_string()))?;
        let temp_path = staging.keep();
        match std::fs::rename(&temp_path, &target) {
            Ok(()) => {}
            Err(_) if target.is_dir() => {
                // Another process finished the same archive first.
                let _ = std::fs::remove_dir_all(&temp_path);
            }
            Err(source) => {
                let _ = std::fs::remove_dir_all(&temp_path);
                return Err(InstallError::Io {
                    action: "move into place",
                    path: target,
                    source,
                });
            }
        }
        if let Err(err) = ferry_cache::write_atomic(
            &self.by_url.join(ferry_cache::url_key(&provenance.url)),
            provenance.sha256.as_bytes(),
        ) {
            tracing::debug!("{err}");
        }
        Ok(target)
    }

    /// Unpacks the wheel file at `wheel` (whose sha256 is `provenance.sha256`, already
    /// checked) into the store and returns its archive directory. The file is read as a
    /// stream, entry by entry, so memory use does not grow with the wheel; an archive the
    /// stream reader cannot follow is read by its central directory instead.
    pub fn unpack(&self, wheel: &Path, provenance: &Provenance) -> Result<PathBuf, InstallError> {
        if self.has(&provenance.sha256) {
            return Ok(self.archives.join(&provenance.sha256));
        }
        let filename = &provenance.filename;
        let open = || fs_err::File::open(wheel).map_err(crate::io_error("open", wheel));
        let mut staging = self.stage()?;
        let entries = match unzip_stream(ReadChunks(open()?), staging.path()) {
            Err(UnzipError::Unsupported(why)) => {
                tracing::debug!("reading {filename} by its central directory: {why}");
                staging = self.stage()?;
                unzip_seekable(open()?, staging.path())
            }
            other => other,
        }
        .map_err(|e| unzip_error(filename, e))?;
        settle(staging.path(), &entries, filename)?;
        self.commit(staging, provenance)
    }
}

/// An [`UnzipError`] as the error of installing `filename`.
pub(crate) fn unzip_error(filename: &str, err: UnzipError) -> InstallError {
    match err {
        UnzipError::Unsupported(message) | UnzipError::Broken(message) => {
            InstallError::BrokenWheel {
                filename: filename.to_string(),
                message,
            }
        }
        UnzipError::Io {
            action,
            path,
            source,
        } => InstallError::Io {
            action,
            path,
            source,
        },
    }
}

/// The longest link target a wheel's symlink entry may hold (links become plain files).
const MAX_LINK: u64 = 64 * 1024;

/// Finishes an unpacked wheel in `dir` whose `entries` the unzip gave: sets executable bits,
/// refuses link entries that point out of the wheel (the others stay plain files, as in pip),
/// checks the WHEEL file, and rewrites RECORD to list every file as it is, so installs can
/// trust it.
///
/// RECORD's sha256 rows are taken as they are, after a check of each file's size, as pip and
/// uv take them; only files RECORD does not hash are hashed here. Hashing every file again
/// would check nothing more: every entry's bytes were checked against its CRC-32 while
/// unpacking, and RECORD comes from the same archive as the files, so whoever could change a
/// file could change its row too. What vouches for the archive is the wheel file's hash,
/// checked against the index's or the user's before the archive enters the store.
pub(crate) fn settle(dir: &Path, entries: &[Unpacked], filename: &str) -> Result<(), InstallError> {
    let broken = |message: String| InstallError::BrokenWheel {
        filename: filename.to_string(),
        message,
    };
    for entry in entries.iter().filter(|e| !e.is_dir) {
        let Some(mode) = entry.mode else { continue };
        let dest = dir.join(&entry.relative);
        if mode & 0o170_000 == 0o120_000 {
            // Wheels have no links; a link entry is kept as a plain file (as pip does), but
            // one pointing outside the wheel is refused outright.
            let link = if entry.size <= MAX_LINK {
                fs_err::read(&dest).map_err(crate::io_error("read", &dest))?
            } else {
                Vec::new()
            };
            let link = String::from_utf8_lossy(&link).into_owned();
            let base = entry.relative.parent().unwrap_or(Path::new(""));
            if entry.size > MAX_LINK || Path::new(&link).is_absolute() || escapes(base, &link) {
                return Err(broken(format!(
                    "entry `{}` is a link out of the wheel (to `{link}`)",
                    entry.name
                )));
            }
        } else if mode & 0o111 != 0 {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))
                .map_err(crate::io_error("write", &dest))?;
        }
    }

    let record_path = entries
        .iter()
        .filter(|e| !e.is_dir)
        .map(|e| e.name.as_str())
        .find(|name| {
            name.split('/')
                .next()
                .unwrap_or_default()
                .ends_with(".dist-info")
                && name.ends_with("/RECORD")
                && name.matches('/').count() == 1
        })
        .ok_or_else(|| broken("it has no .dist-info/RECORD".into()))?
        .to_string();
    // Only installable wheels enter the store: check the format version now.
    let wheel_file = dir
        .join(record_path.trim_end_matches("RECORD"))
        .join("WHEEL");
    let wheel_text = fs_err::read_to_string(&wheel_file)
        .map_err(|_| broken("it has no .dist-info/WHEEL".into()))?;
    crate::files::WheelFile::parse(&wheel_text, &wheel_file).map_err(|e| broken(e.to_string()))?;
    let record_file = dir.join(&record_path);
    let declared = record::parse(
        &fs_err::read_to_string(&record_file).map_err(crate::io_error("read", &record_file))?,
        &record_file,
    )?;
    let declared: HashMap<&str, &RecordEntry> =
        declared.iter().map(|e| (e.path.as_str(), e)).collect();

    // RECORD and the archive must list the same files (RECORD's signatures aside, which the
    // spec leaves out of it): a file RECORD does not know would be installed unaccounted for,
    // and a file it lists but the wheel lacks means the wheel is not what was built.
    let signature = |name: &str| {
        name.strip_prefix(record_path.as_str())
            .is_some_and(|rest| rest == ".jws" || rest == ".p7s")
    };
    let present: std::collections::HashSet<&str> = entries
        .iter()
        .filter(|e| !e.is_dir)
        .map(|e| e.name.as_str())
        .collect();
    if let Some(missing) = declared
        .keys()
        .filter(|path| **path != record_path && !path.ends_with('/'))
        .find(|path| !present.contains(**path))
    {
        return Err(broken(format!(
            "its RECORD lists `{missing}`, which the wheel does not contain"
        )));
    }
    if let Some(unlisted) = present
        .iter()
        .find(|name| **name != record_path && !signature(name) && !declared.contains_key(*name))
    {
        return Err(broken(format!(
            "it contains `{unlisted}`, which its RECORD does not list"
        )));
    }

    // The archive's RECORD: every file as it really is, RECORD itself without a hash.
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries.iter().filter(|e| !e.is_dir) {
        if entry.name == record_path {
            rows.push(RecordEntry::path_only(entry.name.clone()));
            continue;
        }
        let listed = declared
            .get(entry.name.as_str())
            .and_then(|row| row.hash.as_deref())
            .filter(|hash| hash.starts_with("sha256="));
        let hash = match listed {
            Some(listed) => {
                let size = declared.get(entry.name.as_str()).and_then(|row| row.size);
                if let Some(size) = size.filter(|size| *size != entry.size) {
                    return Err(broken(format!(
                        "`{}` is {} bytes, but its RECORD says {size}",
                        entry.name, entry.size
                    )));
                }
                listed.to_string()
            }
            None => hash_file(&dir.join(&entry.relative))?,
        };
        rows.push(RecordEntry {
            path: entry.name.clone(),
            hash: Some(hash),
            size: Some(entry.size),
        });
    }
    write_file(&record_file, record::write(&rows).as_bytes(), false)
        .map_err(crate::io_error("write", &record_file))?;
    Ok(())
}

/// A file's RECORD hash (`sha256=...`), read from disk.
fn hash_file(path: &Path) -> Result<String, InstallError> {
    let mut file = fs_err::File::open(path).map_err(crate::io_error("read", path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        match std::io::Read::read(&mut file, &mut buffer) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(crate::io_error("read", path)(e)),
        }
    }
    Ok(record::encode_digest(&hasher.finalize()))
}

fn escapes(base: &Path, link: &str) -> bool {
    let mut depth = base.components().count() as i64;
    for part in link.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_are_checked() {
        use crate::unzip::safe_relative;
        assert!(safe_relative("pkg/mod.py").is_ok());
        assert!(safe_relative("../evil.py").is_err());
        assert!(safe_relative("pkg/../../evil.py").is_err());
        assert!(safe_relative("/etc/passwd").is_err());
        assert!(safe_relative("pkg\\..\\evil.py").is_err());
        assert!(escapes(Path::new("pkg"), "../../x"));
        assert!(!escapes(Path::new("pkg/sub"), "../other.py"));
    }

    #[test]
    fn utc_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13:20");
    }
}
