//! The unpacked-wheel store: each wheel file is unpacked once into the cache, in a directory
//! named by the file's sha256 (`archive-v1/<sha256>/`), and installs link from there.
//!
//! Beside each archive, `<sha256>.json` ([`Provenance`]) says which file it was, where it was
//! downloaded from and when. Unpacking goes to a temporary directory renamed into place, so an
//! archive directory that exists is complete. While unpacking, every entry's path is checked
//! (no absolute paths, no `..`, no links out) and every file is hashed and compared with the
//! wheel's RECORD; the archive's RECORD is then rewritten with the computed rows, so installs
//! can trust it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use ferry_cache::{Bucket, Cache};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::files::{create_file, write_file};
use crate::record::{self, RecordEntry};
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
    root: PathBuf,
}

impl Store {
    pub fn new(cache: &Cache) -> Self {
        Self {
            archives: cache.bucket(Bucket::Archive),
            downloads: cache.bucket(Bucket::Downloads),
            by_url: cache.bucket(Bucket::Wheels),
            root: cache.root().to_path_buf(),
        }
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

    /// Unpacks the wheel file at `wheel` (whose sha256 is `provenance.sha256`, already
    /// checked) into the store and returns its archive directory. The file is read as a
    /// stream, entry by entry, so memory use does not grow with the wheel. Safe to call from
    /// several processes at once: the first complete archive wins.
    pub fn unpack(&self, wheel: &Path, provenance: &Provenance) -> Result<PathBuf, InstallError> {
        let target = self.archives.join(&provenance.sha256);
        if target.is_dir() {
            return Ok(target);
        }
        let io = crate::io_error;
        self.ensure_dir()?;
        let temp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(&self.archives)
            .map_err(io("create a directory in", &self.archives))?;
        let file = fs_err::File::open(wheel).map_err(io("open", wheel))?;
        unpack_into(
            std::io::BufReader::with_capacity(COPY_BUFFER, file),
            temp.path(),
            &provenance.filename,
        )?;
        let json = serde_json::to_vec_pretty(provenance).unwrap_or_default();
        ferry_cache::write_atomic(
            &self.archives.join(format!("{}.json", provenance.sha256)),
            &json,
        )
        .map_err(|e| InstallError::Cache(e.to_string()))?;
        let temp_path = temp.keep();
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
}

/// Checks one wheel entry name and returns it as a relative path, or says why it is refused.
fn safe_relative(name: &str) -> Result<PathBuf, String> {
    if name.contains('\\') {
        return Err("uses a backslash".into());
    }
    let path = Path::new(name);
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("climbs out with `..`".into()),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path".into()),
        }
    }
    if out.as_os_str().is_empty() {
        return Err("is empty".into());
    }
    Ok(out)
}

/// The buffer size for reading wheels and writing their files.
const COPY_BUFFER: usize = 64 * 1024;

/// The longest link target a wheel's symlink entry may hold (links become plain files).
const MAX_LINK: u64 = 64 * 1024;

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Unpacks a wheel into `dir` after checking every entry, verifies RECORD, and rewrites it.
/// Entries are copied through a fixed buffer, never held whole.
fn unpack_into<R: Read + std::io::Seek>(
    reader: R,
    dir: &Path,
    filename: &str,
) -> Result<(), InstallError> {
    let broken = |message: String| InstallError::BrokenWheel {
        filename: filename.to_string(),
        message,
    };
    let mut zip =
        zip::ZipArchive::new(reader).map_err(|e| broken(format!("not a zip archive: {e}")))?;

    // First pass: every name is checked before anything is written.
    let mut names = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let entry = zip
            .by_index_raw(index)
            .map_err(|e| broken(format!("entry {index}: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| broken(format!("entry {index} has an unreadable name: {e}")))?
            .to_string();
        let relative =
            safe_relative(&name).map_err(|why| broken(format!("entry `{name}` {why}")))?;
        let is_symlink = entry
            .unix_mode()
            .is_some_and(|mode| mode & 0o170_000 == 0o120_000);
        names.push((relative, entry.is_dir(), is_symlink));
    }

    let mut computed: Vec<RecordEntry> = Vec::new();
    let mut record_path: Option<String> = None;
    let mut created_dirs = std::collections::HashSet::new();
    let mut buffer = vec![0; COPY_BUFFER];
    for (index, (relative, is_dir, is_symlink)) in names.into_iter().enumerate() {
        let mut entry = zip
            .by_index(index)
            .map_err(|e| broken(format!("entry {}: {e}", relative.display())))?;
        let dest = dir.join(&relative);
        if is_dir {
            fs_err::create_dir_all(&dest).map_err(|source| InstallError::Io {
                action: "create",
                path: dest.clone(),
                source,
            })?;
            continue;
        }
        if let Some(parent) = dest.parent() {
            if created_dirs.insert(parent.to_path_buf()) {
                fs_err::create_dir_all(parent).map_err(|source| InstallError::Io {
                    action: "create",
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
        }
        let row_name = relative.to_string_lossy().replace('\\', "/");
        let row = if is_symlink {
            let mut contents = Vec::new();
            (&mut entry)
                .take(MAX_LINK + 1)
                .read_to_end(&mut contents)
                .map_err(|e| broken(format!("entry `{}` is corrupt: {e}", relative.display())))?;
            // Wheels have no links; a link entry is kept as a plain file (as pip does), but
            // one pointing outside the wheel is refused outright.
            let link = String::from_utf8_lossy(&contents).into_owned();
            let base = relative.parent().unwrap_or(Path::new(""));
            if contents.len() as u64 > MAX_LINK
                || Path::new(&link).is_absolute()
                || escapes(base, &link)
            {
                return Err(broken(format!(
                    "entry `{}` is a link out of the wheel (to `{link}`)",
                    relative.display()
                )));
            }
            write_file(&dest, &contents, false).map_err(|source| InstallError::Io {
                action: "write",
                path: dest.clone(),
                source,
            })?;
            RecordEntry::for_bytes(row_name.clone(), &contents)
        } else {
            let executable = entry.unix_mode().is_some_and(|mode| mode & 0o111 != 0);
            let file = create_file(&dest, executable).map_err(|source| InstallError::Io {
                action: "write",
                path: dest.clone(),
                source,
            })?;
            let mut out = HashingWriter {
                inner: std::io::BufWriter::with_capacity(COPY_BUFFER, file),
                hasher: Sha256::new(),
                size: 0,
            };
            let write_error = |source| InstallError::Io {
                action: "write",
                path: dest.clone(),
                source,
            };
            loop {
                let n = match entry.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(broken(format!(
                            "entry `{}` is corrupt: {e}",
                            relative.display()
                        )))
                    }
                };
                out.write_all(&buffer[..n]).map_err(write_error)?;
            }
            out.flush().map_err(write_error)?;
            RecordEntry {
                path: row_name.clone(),
                hash: Some(record::encode_digest(&out.hasher.finalize())),
                size: Some(out.size),
            }
        };
        let name = row_name;
        let top = name.split('/').next().unwrap_or_default();
        if top.ends_with(".dist-info")
            && name.ends_with("/RECORD")
            && name.matches('/').count() == 1
        {
            record_path = Some(name.clone());
        }
        computed.push(row);
    }

    let record_path = record_path.ok_or_else(|| broken("it has no .dist-info/RECORD".into()))?;
    // Only installable wheels enter the store: check the format version now.
    let wheel_file = dir
        .join(record_path.trim_end_matches("RECORD"))
        .join("WHEEL");
    let wheel_text = fs_err::read_to_string(&wheel_file)
        .map_err(|_| broken("it has no .dist-info/WHEEL".into()))?;
    crate::files::WheelFile::parse(&wheel_text, &wheel_file).map_err(|e| broken(e.to_string()))?;
    let record_file = dir.join(&record_path);
    let declared = record::parse(
        &fs_err::read_to_string(&record_file).map_err(|source| InstallError::Io {
            action: "read",
            path: record_file.clone(),
            source,
        })?,
        &record_file,
    )?;
    let actual: HashMap<&str, &RecordEntry> =
        computed.iter().map(|e| (e.path.as_str(), e)).collect();
    for row in &declared {
        let Some(hash) = &row.hash else { continue };
        let Some(found) = actual.get(row.path.as_str()) else {
            continue;
        };
        if !hash.starts_with("sha256=") {
            continue;
        }
        if found.hash.as_deref() != Some(hash.as_str()) {
            return Err(broken(format!(
                "`{}` does not match its RECORD hash ({hash} listed, {} found)",
                row.path,
                found.hash.as_deref().unwrap_or("?")
            )));
        }
    }
    // The archive's RECORD: every file as it really is, RECORD itself without a hash.
    let rows: Vec<RecordEntry> = computed
        .into_iter()
        .map(|mut e| {
            if e.path == record_path {
                e.hash = None;
                e.size = None;
            }
            e
        })
        .collect();
    write_file(&record_file, record::write(&rows).as_bytes(), false).map_err(|source| {
        InstallError::Io {
            action: "write",
            path: record_file.clone(),
            source,
        }
    })?;
    Ok(())
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
