//! ferry's on-disk cache: where it lives and how entries are written.
//!
//! Takes the user's choice of cache directory (`--cache-dir`, `FERRY_CACHE_DIR`, `--no-cache-dir`)
//! and gives a [`Cache`]: a root directory split into named, versioned *buckets* (one per kind of
//! artifact, e.g. `interpreter-v1/`), plus [`write_atomic`] so that concurrent ferry processes never
//! see a half-written entry. The layout is documented in `docs/ARCHITECTURE.md`.
//!
//! With `--no-cache-dir` the cache is a temporary directory removed when the [`Cache`] is dropped,
//! so every code path still goes through the same cache logic but nothing outlives the run.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors from creating or writing the cache; each carries the path involved.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("could not find a cache directory: neither `--cache-dir`, `FERRY_CACHE_DIR`, `XDG_CACHE_HOME` nor `HOME` is set")]
    NoCacheDir,
    #[error("could not lock the cache with `{}`", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not create the cache directory `{}`", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write the cache entry `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A kind of cached artifact. Each has its own subdirectory whose name carries a format version,
/// so a ferry that changes a format simply starts a new bucket instead of misreading old entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Results of querying a Python interpreter (JSON), keyed by the interpreter's path and mtime.
    Interpreter,
    /// HTTP responses (index pages, metadata files) with their RFC 9111 cache policy.
    Http,
    /// Core metadata of distribution files, keyed by the file's sha256 (files are immutable).
    Metadata,
    /// Unpacked wheels, one directory per wheel file named by the file's sha256, each with a
    /// `<sha256>.json` beside it saying where the file was downloaded from and when.
    Archive,
    /// Which archive a wheel URL gave, for files the index lists without a hash.
    Wheels,
    /// Lock files of installation targets that have no place of their own for one.
    Locks,
    /// Whole wheel files downloaded only to read their metadata (the index offered neither a
    /// metadata file nor range requests), as `<url_key>/<sha256>.whl` after their URL and
    /// content. The installer
    /// unpacks such a file into [`Bucket::Archive`] instead of downloading it again, and
    /// removes it.
    Downloads,
    /// Wheels ferry built from source, one directory per build key with the wheel and an
    /// `origin.json` (see `ferry_build::context` for the keys).
    Built,
    /// Working directories of builds in progress: unpacked sdists and isolated build
    /// environments. They live in the cache so that build requirements are hard-linked from
    /// [`Bucket::Archive`] on the same filesystem, not copied file by file; each is removed
    /// when its build ends (a killed run's leftovers are `.tmp`-style directories that nothing
    /// reads).
    Builds,
    /// Version-control repositories and checkouts (`ferry_build::vcs`): bare repositories per
    /// remote and one working tree per commit.
    Vcs,
    /// Distribution files kept whole as `ferry download` and `ferry wheel` saved them, as
    /// `<sha256>/<filename>` with an `origin.json`; a later save of the same file copies it
    /// from here (hash-checked) instead of downloading it.
    Files,
    /// PEP 740 provenance objects that `install --verify-attestations` verified, one
    /// `<file sha256>.json` per installed file, which `ferry show` verifies again; kept here
    /// rather than in the environment, which gets only standard files.
    Attestations,
}

impl Bucket {
    /// The directory name of the bucket inside the cache root.
    pub fn dir_name(self) -> &'static str {
        match self {
            Bucket::Interpreter => "interpreter-v1",
            Bucket::Http => "http-v1",
            Bucket::Metadata => "metadata-v1",
            Bucket::Archive => "archive-v1",
            Bucket::Wheels => "wheels-v1",
            Bucket::Locks => "locks-v1",
            Bucket::Downloads => "downloads-v1",
            Bucket::Built => "built-v1",
            Bucket::Builds => "builds-v1",
            Bucket::Vcs => "vcs-v1",
            Bucket::Files => "files-v1",
            Bucket::Attestations => "attestations-v1",
        }
    }
}

/// A short stable file name for a URL (the first 128 bits of its sha256, in hex), for
/// entries keyed by where a file came from.
pub fn url_key(url: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(url.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the cache root came from; shown by `ferry cache dir` and in verbose logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheSource {
    /// `--cache-dir`.
    Flag,
    /// `FERRY_CACHE_DIR`.
    Env,
    /// `$XDG_CACHE_HOME/ferry` or `~/.cache/ferry`.
    Xdg,
    /// `--no-cache-dir`: a temporary directory for this run only.
    Temporary,
}

/// The cache root for this run.
#[derive(Debug)]
pub struct Cache {
    root: PathBuf,
    source: CacheSource,
    /// Keeps a `--no-cache-dir` temporary directory alive for the life of the cache.
    _temp: Option<tempfile::TempDir>,
}

impl Cache {
    /// Chooses the cache root: `--cache-dir` first, then `FERRY_CACHE_DIR`, then the XDG cache
    /// directory. `no_cache` (from `--no-cache-dir`) wins over all of them.
    ///
    /// The directory is not created until something is written to it, so read-only commands
    /// leave no trace.
    pub fn from_settings(flag: Option<PathBuf>, no_cache: bool) -> Result<Self, CacheError> {
        if no_cache {
            return Self::temporary();
        }
        if let Some(root) = flag.filter(|p| !p.as_os_str().is_empty()) {
            return Ok(Self::at(absolute(root), CacheSource::Flag));
        }
        if let Some(root) = std::env::var_os("FERRY_CACHE_DIR").filter(|v| !v.is_empty()) {
            return Ok(Self::at(absolute(PathBuf::from(root)), CacheSource::Env));
        }
        let xdg = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|v| !v.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache"))
            })
            .ok_or(CacheError::NoCacheDir)?;
        Ok(Self::at(xdg.join("ferry"), CacheSource::Xdg))
    }

    /// A cache rooted at `root`, as if given with `--cache-dir`.
    pub fn at(root: PathBuf, source: CacheSource) -> Self {
        Self {
            root,
            source,
            _temp: None,
        }
    }

    /// A throwaway cache in a fresh temporary directory (`--no-cache-dir`).
    pub fn temporary() -> Result<Self, CacheError> {
        let temp = tempfile::Builder::new()
            .prefix("ferry-cache-")
            .tempdir()
            .map_err(|source| CacheError::Create {
                path: std::env::temp_dir(),
                source,
            })?;
        Ok(Self {
            root: temp.path().to_path_buf(),
            source: CacheSource::Temporary,
            _temp: Some(temp),
        })
    }

    /// A handle on the same cache that does not own it (a `--no-cache-dir` directory stays
    /// owned by, and is removed with, the original).
    pub fn view(&self) -> Self {
        Self::at(self.root.clone(), self.source)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn source(&self) -> CacheSource {
        self.source
    }

    /// The directory of a bucket (not created).
    pub fn bucket(&self, bucket: Bucket) -> PathBuf {
        self.root.join(bucket.dir_name())
    }

    /// The path of an entry inside a bucket (not created).
    pub fn entry(&self, bucket: Bucket, key: &str) -> PathBuf {
        self.bucket(bucket).join(key)
    }

    /// Writes an entry atomically, creating the bucket and the root's `CACHEDIR.TAG` on first use.
    pub fn write_entry(
        &self,
        bucket: Bucket,
        key: &str,
        contents: &[u8],
    ) -> Result<PathBuf, CacheError> {
        self.ensure_root()?;
        let path = self.entry(bucket, key);
        write_atomic(&path, contents)?;
        Ok(path)
    }

    /// Creates the cache root with a `CACHEDIR.TAG` (so backup tools skip it) if it is missing.
    /// The file every ferry process using this cache holds a shared `flock` on, and that
    /// `ferry cache remove|prune|purge` lock exclusively (see [`Cache::hold_shared`]).
    pub fn lock_path(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    /// Marks this process as a user of the cache for the rest of its life: a shared `flock` on
    /// [`Cache::lock_path`] (the cache root is created if need be). Commands that remove
    /// entries take the lock exclusively, so they wait until no other ferry process is using
    /// the cache, and no install ever loses an entry it is reading. Idempotent.
    pub fn hold_shared(&self) -> Result<(), CacheError> {
        static HELD: std::sync::OnceLock<std::fs::File> = std::sync::OnceLock::new();
        if HELD.get().is_some() || self.source == CacheSource::Temporary {
            return Ok(());
        }
        self.ensure_root()?;
        let path = self.lock_path();
        let file = open_lock(&path)?;
        file.lock_shared()
            .map_err(|source| CacheError::Lock { path, source })?;
        let _ = HELD.set(file);
        Ok(())
    }

    /// An exclusive lock on the cache, for removing entries: taken once no other ferry process
    /// holds its shared lock (`waiting` is called first if one does). `None` when the cache
    /// does not exist.
    pub fn lock_exclusive(
        &self,
        waiting: impl FnOnce(),
    ) -> Result<Option<std::fs::File>, CacheError> {
        if !self.root.is_dir() {
            return Ok(None);
        }
        let path = self.lock_path();
        let file = open_lock(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                waiting();
                file.lock()
                    .map_err(|source| CacheError::Lock { path, source })?;
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(CacheError::Lock { path, source })
            }
        }
        Ok(Some(file))
    }

    pub fn ensure_root(&self) -> Result<(), CacheError> {
        let tag = self.root.join("CACHEDIR.TAG");
        if tag.is_file() {
            return Ok(());
        }
        fs_err::create_dir_all(&self.root).map_err(|source| CacheError::Create {
            path: self.root.clone(),
            source,
        })?;
        write_atomic(
            &tag,
            b"Signature: 8a477f597d28d172789f06886806bc55\n# This file marks the ferry cache directory.\n",
        )
    }
}

/// Records that a cache entry was used now, by setting the modification time of `record` (the
/// entry's own record file: a store entry's `<sha256>.json`, a build's `origin.json`, ...),
/// which `ferry cache list` shows as its last use and `ferry cache prune --older-than` goes by.
/// Access times cannot serve: listing the cache would update them. Best effort.
pub fn mark_used(record: &Path) {
    let now = std::time::SystemTime::now();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(record)
        .or_else(|_| std::fs::File::open(record));
    if let Ok(file) = file {
        let _ = file.set_modified(now);
    }
}

/// The name of the cache's lock file, in its root.
pub const LOCK_FILE: &str = ".lock";

fn open_lock(path: &Path) -> Result<std::fs::File, CacheError> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| CacheError::Lock {
            path: path.to_path_buf(),
            source,
        })
}

/// Writes `contents` to `path` via a temporary file in the same directory and a rename, so a
/// reader sees either the old file or the whole new one, never a partial write. Parent
/// directories are created as needed.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), CacheError> {
    write_atomic_parts(path, &[contents])
}

/// [`write_atomic`] of the concatenation of `parts`, without making it in memory.
pub fn write_atomic_parts(path: &Path, parts: &[&[u8]]) -> Result<(), CacheError> {
    let err = |source| CacheError::Write {
        path: path.to_path_buf(),
        source,
    };
    let parent = path.parent().unwrap_or_else(|| Path::new("."));
    fs_err::create_dir_all(parent).map_err(err)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(parent)
        .map_err(err)?;
    for part in parts {
        temp.write_all(part).map_err(err)?;
    }
    temp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Writes a file the user asked for (`-o`, `--report`, a download) the way users expect:
///
/// - an existing symlink is written through (the link stays, its target gets the contents), and
///   an existing device, FIFO or socket (`/dev/null`, `/dev/stdout`) is written in place, never
///   replaced by a regular file;
/// - a new file gets the mode the umask gives (`0666 & !umask`), like any shell redirection; an
///   existing file keeps its mode;
/// - a regular file is replaced atomically (temporary file and rename) when that is safe: it has
///   no other hard links, and a temporary file can be made beside it. Otherwise it is rewritten
///   in place.
pub fn write_output(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use fs_err::os::unix::fs::OpenOptionsExt as _;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    let in_place = || -> std::io::Result<()> {
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o666)
            .open(path)?;
        file.write_all(contents)?;
        file.flush()
    };
    let existing = match std::fs::symlink_metadata(path) {
        Ok(meta) => Some(meta),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(err),
    };
    let mode = match &existing {
        Some(meta) if !meta.file_type().is_file() => return in_place(),
        Some(meta) if meta.nlink() > 1 => return in_place(),
        Some(meta) => Some(meta.permissions().mode() & 0o7777),
        None => None,
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // A temporary sibling with a name nobody else uses; created with mode 0666 so the umask
    // applies, exactly as for the file itself.
    let mut temp_path = None;
    for attempt in 0..16u32 {
        let name = format!(
            ".{}.ferry-{}-{attempt}",
            path.file_name()
                .map_or("out".into(), |n| n.to_string_lossy()),
            std::process::id()
        );
        let candidate = parent.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&candidate)
        {
            Ok(mut file) => {
                let written = file.write_all(contents).and_then(|()| file.flush());
                if let Err(err) = written {
                    let _ = std::fs::remove_file(&candidate);
                    return Err(err);
                }
                if let Some(mode) = mode {
                    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
                }
                temp_path = Some(candidate);
                break;
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            // No way to write beside it (a read-only directory): write in place.
            Err(_) => return in_place(),
        }
    }
    let Some(temp_path) = temp_path else {
        return in_place();
    };
    if let Err(err) = std::fs::rename(&temp_path, path) {
        let _ = std::fs::remove_file(&temp_path);
        return Err(err);
    }
    Ok(())
}

fn absolute(path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(&path))
            .unwrap_or(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_creates_parents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/entry.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(fs_err::read(&path).unwrap(), b"second");
        // No temporary files are left behind next to the entry.
        let names: Vec<_> = fs_err::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("entry.json")]);
    }

    #[test]
    fn write_entry_tags_the_cache_root() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().join("cache"), CacheSource::Flag);
        let path = cache
            .write_entry(Bucket::Interpreter, "k.json", b"{}")
            .unwrap();
        assert_eq!(path, dir.path().join("cache/interpreter-v1/k.json"));
        let tag = fs_err::read_to_string(dir.path().join("cache/CACHEDIR.TAG")).unwrap();
        assert!(tag.starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
    }

    #[test]
    fn temporary_cache_is_removed_on_drop() {
        let cache = Cache::temporary().unwrap();
        let root = cache.root().to_path_buf();
        cache.write_entry(Bucket::Interpreter, "x", b"1").unwrap();
        assert!(root.join("interpreter-v1/x").is_file());
        drop(cache);
        assert!(!root.exists());
    }

    #[test]
    fn flag_wins_and_is_made_absolute() {
        let cache = Cache::from_settings(Some(PathBuf::from("rel/cache")), false).unwrap();
        assert!(cache.root().is_absolute());
        assert!(cache.root().ends_with("rel/cache"));
        assert_eq!(cache.source(), CacheSource::Flag);
        let cache = Cache::from_settings(Some(PathBuf::from("/x")), true).unwrap();
        assert_eq!(cache.source(), CacheSource::Temporary);
    }
}

#[cfg(test)]
mod output_tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::write_output;

    #[test]
    fn new_files_get_the_umask_mode_and_existing_files_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_output(&path, b"one").unwrap();
        // The test process's umask, read back from a file the OS created.
        let probe = dir.path().join("probe");
        std::fs::write(&probe, "").unwrap();
        let expected = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, expected);
        assert_ne!(mode, 0o600, "not a private temp file's mode");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_output(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 2, "no temporary file is left behind");
    }

    #[test]
    fn symlinks_are_written_through_and_devices_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.txt");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_output(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"new");

        write_output(std::path::Path::new("/dev/null"), b"gone").unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        assert!(!meta.file_type().is_file(), "/dev/null is still a device");

        // A file with another hard link is rewritten in place, so both names see it.
        let other = dir.path().join("other.txt");
        std::fs::hard_link(&target, &other).unwrap();
        write_output(&target, b"both").unwrap();
        assert_eq!(std::fs::read(&other).unwrap(), b"both");
        assert_eq!(std::fs::metadata(&target).unwrap().nlink(), 2);
    }
}
