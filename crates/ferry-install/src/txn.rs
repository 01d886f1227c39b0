//! One ferry process per environment at a time, and all-or-nothing changes to it.
//!
//! [`EnvLock`] is an advisory lock per installation target, kept out of site-packages (which
//! gets imported, zipped and shipped): a virtual environment's lock is `.ferry-lock` at its
//! root beside `pyvenv.cfg`; any other target (`--target`, `--prefix`, `--user`, a base
//! interpreter) is locked by `flock`ing its site-packages directory itself, which leaves no
//! file behind, or, where the filesystem cannot lock directories (NFS) and off Unix, by a lock
//! file in the cache keyed by the directory's canonical path.
//!
//! A [`Transaction`] keeps a journal in a `.ferry-txn-*` directory in site-packages (so its
//! renames stay on one filesystem), removed when the transaction ends. Every change
//! is written to the journal *before* it is made: files about to be created, directories about
//! to be made, and files moved out of the way into the transaction's stash (old versions being
//! replaced, or anything a new file would overwrite). Rolling back undoes the journal from the
//! end: created files go, stashed files come back. It runs when an install fails, when the
//! transaction is dropped without [`Transaction::commit`], and, for a process that was killed,
//! when the next ferry process takes the lock. Committing deletes the journal first (the
//! moment the change becomes permanent) and then the stash.

use std::fs::File;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{InstallError, Scheme};

const LOCK_NAME: &str = ".ferry-lock";
const TXN_PREFIX: &str = ".ferry-txn-";
const JOURNAL: &str = "journal";

/// An exclusive lock on an installation target.
#[derive(Debug)]
pub struct EnvLock {
    _file: File,
    dir: PathBuf,
}

/// Where a target's lock is taken.
enum LockSite {
    /// A lock file (a venv's `.ferry-lock`, or one in the cache).
    File(PathBuf),
    /// The site-packages directory itself.
    Dir(PathBuf),
}

impl EnvLock {
    /// Takes the lock of the target `scheme` (creating its site-packages directory if
    /// missing), calling `on_wait` once if another process holds it and this one has to wait.
    /// `cache` holds the lock file of targets that cannot be locked otherwise.
    pub fn acquire(
        scheme: &Scheme,
        cache: &ferry_cache::Cache,
        on_wait: impl FnOnce(),
    ) -> Result<Self, InstallError> {
        let dir = &scheme.purelib;
        fs_err::create_dir_all(dir).map_err(|source| InstallError::Io {
            action: "create",
            path: dir.to_path_buf(),
            source,
        })?;
        let mut on_wait = Some(on_wait);
        let mut wait = || {
            if let Some(f) = on_wait.take() {
                f();
            }
        };
        let site = if is_venv_site(scheme) {
            LockSite::File(scheme.data.join(LOCK_NAME))
        } else if cfg!(unix) {
            LockSite::Dir(dir.clone())
        } else {
            LockSite::File(cache_lock(dir, cache)?)
        };
        let file = match site {
            LockSite::File(path) => lock_file(&path, &mut wait)?,
            LockSite::Dir(path) => match lock(&path, false, &mut wait) {
                Ok(file) => file,
                Err((_, err)) => {
                    tracing::debug!(
                        "cannot lock the directory {} ({err}), using a lock file in the cache",
                        path.display()
                    );
                    lock_file(&cache_lock(dir, cache)?, &mut wait)?
                }
            },
        };
        Ok(Self {
            _file: file,
            dir: dir.to_path_buf(),
        })
    }

    /// The target's site-packages directory, where transactions live.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Whether the scheme installs into a virtual environment's own site-packages (so the
/// environment root, beside `pyvenv.cfg`, can hold the lock).
fn is_venv_site(scheme: &Scheme) -> bool {
    scheme.data.join("pyvenv.cfg").is_file()
        && scheme.purelib.starts_with(&scheme.data)
        && scheme.purelib != scheme.data
}

/// `<cache>/locks-v1/<sha256 of the canonical path>.lock` for the target directory `dir`.
fn cache_lock(dir: &Path, cache: &ferry_cache::Cache) -> Result<PathBuf, InstallError> {
    let canonical = fs_err::canonicalize(dir).map_err(|source| InstallError::Io {
        action: "resolve",
        path: dir.to_path_buf(),
        source,
    })?;
    let digest = Sha256::digest(canonical.as_os_str().as_encoded_bytes());
    let key: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let locks = cache.bucket(ferry_cache::Bucket::Locks);
    cache
        .ensure_root()
        .map_err(|e| InstallError::Cache(e.to_string()))?;
    fs_err::create_dir_all(&locks).map_err(|source| InstallError::Io {
        action: "create",
        path: locks.clone(),
        source,
    })?;
    Ok(locks.join(format!("{key}.lock")))
}

/// Opens (creating) and locks a lock file.
fn lock_file(path: &Path, wait: &mut impl FnMut()) -> Result<File, InstallError> {
    lock(path, true, wait).map_err(|(action, source)| InstallError::Io {
        action,
        path: path.to_path_buf(),
        source,
    })
}

/// Opens `path` (a file to create, or a directory) and takes an exclusive `flock` on it,
/// waiting (after calling `wait`) while another process holds it.
fn lock(
    path: &Path,
    create: bool,
    wait: &mut impl FnMut(),
) -> Result<File, (&'static str, std::io::Error)> {
    let mut options = std::fs::OpenOptions::new();
    if create {
        options.create(true).truncate(false).write(true);
    } else {
        options.read(true);
    }
    let file = options.open(path).map_err(|e| ("open the lock file", e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            wait();
            file.lock().map_err(|e| ("lock", e))?;
        }
        Err(std::fs::TryLockError::Error(source)) => return Err(("lock", source)),
    }
    Ok(file)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Op {
    /// A file (or, for a dist-info directory, a whole tree) about to be created.
    Create(PathBuf),
    /// A directory about to be made.
    Mkdir(PathBuf),
    /// `from` about to be moved to `stash`.
    Move { from: PathBuf, stash: PathBuf },
}

/// A journaled set of changes to one installation target. See the module docs.
#[derive(Debug)]
pub struct Transaction {
    dir: PathBuf,
    journal: Mutex<File>,
    ops: Mutex<Vec<Op>>,
    counter: AtomicU64,
    done: bool,
}

impl Transaction {
    /// Starts a transaction under the locked target (whose leftovers [`Session::open`] has
    /// already rolled back).
    pub fn begin(lock: &EnvLock) -> Result<Self, InstallError> {
        let name = format!(
            "{TXN_PREFIX}{}-{}",
            std::process::id(),
            crate::files::now_secs()
        );
        let dir = lock.dir().join(name);
        let io = crate::io_error;
        fs_err::create_dir_all(dir.join("stash")).map_err(io("create", &dir))?;
        fs_err::create_dir_all(dir.join("new")).map_err(io("create", &dir))?;
        let journal_path = dir.join(JOURNAL);
        let journal = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal_path)
            .map_err(io("create", &journal_path))?;
        Ok(Self {
            dir,
            journal: Mutex::new(journal),
            ops: Mutex::new(Vec::new()),
            counter: AtomicU64::new(0),
            done: false,
        })
    }

    /// A fresh directory inside the transaction for staging new files (not journaled: it goes
    /// with the transaction directory).
    pub fn staging_dir(&self) -> Result<PathBuf, InstallError> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.join("new").join(n.to_string());
        fs_err::create_dir_all(&dir).map_err(|source| InstallError::Io {
            action: "create",
            path: dir.clone(),
            source,
        })?;
        Ok(dir)
    }

    fn log(&self, ops: Vec<Op>) -> Result<(), InstallError> {
        if ops.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for op in &ops {
            text.push_str(&serde_json::to_string(op).unwrap_or_default());
            text.push('\n');
        }
        {
            let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
            journal
                .write_all(text.as_bytes())
                .map_err(|source| InstallError::Io {
                    action: "write the journal",
                    path: self.dir.join(JOURNAL),
                    source,
                })?;
        }
        self.ops
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(ops);
        Ok(())
    }

    /// Moves each existing path (file, link or directory) into the stash, journaled first.
    /// Paths that do not exist are skipped.
    pub fn stash(&self, paths: &[PathBuf]) -> Result<(), InstallError> {
        let mut moves = Vec::new();
        for path in paths {
            if std::fs::symlink_metadata(path).is_ok() {
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                moves.push((path.clone(), self.dir.join("stash").join(n.to_string())));
            }
        }
        self.log(
            moves
                .iter()
                .map(|(from, stash)| Op::Move {
                    from: from.clone(),
                    stash: stash.clone(),
                })
                .collect(),
        )?;
        for (from, stash) in &moves {
            move_path(from, stash)?;
        }
        Ok(())
    }

    /// Makes the missing directories among `dirs` (parents first), journaled first.
    pub fn make_dirs(&self, dirs: &[PathBuf]) -> Result<(), InstallError> {
        // Directories already looked at, by their bytes (comparing `Path`s component by
        // component, over every file of a big install, was a fifth of a warm install's time).
        let mut known: std::collections::HashSet<&std::ffi::OsStr> =
            std::collections::HashSet::new();
        let mut missing: Vec<PathBuf> = Vec::new();
        for dir in dirs {
            let mut current = Some(dir.as_path());
            let mut chain = Vec::new();
            while let Some(d) = current {
                if !known.insert(d.as_os_str()) || d.is_dir() {
                    break;
                }
                chain.push(d.to_path_buf());
                current = d.parent();
            }
            chain.reverse();
            missing.extend(chain);
        }
        self.log(missing.iter().cloned().map(Op::Mkdir).collect())?;
        for dir in &missing {
            match std::fs::create_dir(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => {
                    return Err(InstallError::Io {
                        action: "create",
                        path: dir.clone(),
                        source,
                    })
                }
            }
        }
        Ok(())
    }

    /// Journals files (or trees) about to be created. Call before creating them.
    pub fn will_create(&self, paths: &[PathBuf]) -> Result<(), InstallError> {
        self.log(paths.iter().cloned().map(Op::Create).collect())
    }

    /// Makes the changes permanent: the journal goes first, then the stash.
    pub fn commit(mut self) -> Result<(), InstallError> {
        let journal = self.dir.join(JOURNAL);
        fs_err::remove_file(&journal).map_err(|source| InstallError::Io {
            action: "remove",
            path: journal,
            source,
        })?;
        self.done = true;
        if let Err(err) = fs_err::remove_dir_all(&self.dir) {
            tracing::warn!("could not clean up {}: {err}", self.dir.display());
        }
        Ok(())
    }

    /// Undoes everything journaled so far.
    pub fn rollback(mut self) {
        self.undo();
    }

    fn undo(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        let ops = std::mem::take(&mut *self.ops.lock().unwrap_or_else(|e| e.into_inner()));
        undo_ops(&ops);
        if let Err(err) = fs_err::remove_dir_all(&self.dir) {
            tracing::warn!("could not clean up {}: {err}", self.dir.display());
        }
    }
}

/// What taking a target's lock has to say; implemented by the command line.
pub trait LockReporter {
    /// Another process holds the lock of the target whose site-packages is `dir`; waiting.
    fn waiting(&self, _dir: &Path) {}
    /// `count` installs a killed process left half done in `dir` were rolled back.
    fn rolled_back(&self, _count: usize, _dir: &Path) {}
}

/// A locked target, with a transaction begun at its first change: what `install` and
/// `uninstall` change an environment under. Dropped without [`Session::commit`], it rolls its
/// changes back, then unlocks. Until the first change (through the resolution, downloads and
/// builds before it) nothing of it is in the target but the lock, so a run stopped then
/// leaves the environment exactly as it was.
#[derive(Debug)]
pub struct Session {
    // Declared first, so a rollback on drop happens while the lock is still held.
    txn: Option<Transaction>,
    lock: EnvLock,
}

impl Session {
    /// Locks the target `scheme` (see [`EnvLock::acquire`]) and begins a transaction, after
    /// rolling back what a killed predecessor left.
    pub fn open(
        scheme: &Scheme,
        cache: &ferry_cache::Cache,
        reporter: &dyn LockReporter,
    ) -> Result<Self, InstallError> {
        let lock = EnvLock::acquire(scheme, cache, || reporter.waiting(&scheme.purelib))?;
        let recovered = recover(lock.dir())?;
        if recovered > 0 {
            reporter.rolled_back(recovered, &scheme.purelib);
        }
        Ok(Self { txn: None, lock })
    }

    /// The transaction, begun now if this is the first change.
    pub fn txn(&mut self) -> Result<&Transaction, InstallError> {
        let txn = match self.txn.take() {
            Some(txn) => txn,
            None => Transaction::begin(&self.lock)?,
        };
        Ok(self.txn.insert(txn))
    }

    /// Commits the transaction. The target stays locked until the returned lock is dropped,
    /// for clean-up after the commit (empty directories left by removed files).
    pub fn commit(self) -> Result<EnvLock, InstallError> {
        let Self { txn, lock } = self;
        if let Some(txn) = txn {
            txn.commit()?;
        }
        Ok(lock)
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.undo();
    }
}

fn undo_ops(ops: &[Op]) {
    for op in ops.iter().rev() {
        match op {
            Op::Create(path) => match std::fs::symlink_metadata(path) {
                Ok(meta) if meta.is_dir() => {
                    let _ = std::fs::remove_dir_all(path);
                }
                Ok(_) => {
                    let _ = std::fs::remove_file(path);
                }
                Err(_) => {}
            },
            Op::Mkdir(path) => {
                let _ = std::fs::remove_dir(path);
            }
            Op::Move { from, stash } => {
                if std::fs::symlink_metadata(stash).is_ok() {
                    if let Ok(meta) = std::fs::symlink_metadata(from) {
                        if meta.is_dir() {
                            let _ = std::fs::remove_dir_all(from);
                        } else {
                            let _ = std::fs::remove_file(from);
                        }
                    }
                    if let Err(err) = move_path(stash, from) {
                        tracing::warn!("could not restore {}: {err}", from.display());
                    }
                }
            }
        }
    }
}

/// Rolls back the transactions a killed process left in `dir`; returns how many there were.
fn recover(dir: &Path) -> Result<usize, InstallError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut count = 0;
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(TXN_PREFIX) {
            continue;
        }
        let txn = entry.path();
        let journal = txn.join(JOURNAL);
        if let Ok(file) = File::open(&journal) {
            let ops: Vec<Op> = std::io::BufReader::new(file)
                .lines()
                .map_while(Result::ok)
                .filter_map(|line| serde_json::from_str(&line).ok())
                .collect();
            tracing::warn!(
                "rolling back an interrupted install ({} journaled changes in {})",
                ops.len(),
                txn.display()
            );
            undo_ops(&ops);
            count += 1;
        }
        fs_err::remove_dir_all(&txn).map_err(|source| InstallError::Io {
            action: "remove",
            path: txn.clone(),
            source,
        })?;
    }
    Ok(count)
}

/// Renames `from` to `to`, copying across filesystems when a rename cannot.
fn move_path(from: &Path, to: &Path) -> Result<(), InstallError> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(err) if err.raw_os_error() == Some(18) => {
            // EXDEV: copy, then remove the original.
            copy_tree(from, to)
                .and_then(|()| {
                    if from.is_dir() {
                        std::fs::remove_dir_all(from)
                    } else {
                        std::fs::remove_file(from)
                    }
                })
                .map_err(|source| InstallError::Io {
                    action: "move",
                    path: from.to_path_buf(),
                    source,
                })
        }
        Err(source) => Err(InstallError::Io {
            action: "move",
            path: from.to_path_buf(),
            source,
        }),
    }
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else if meta.file_type().is_symlink() {
        let target = std::fs::read_link(from)?;
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(target, to)
        }
        #[cfg(not(unix))]
        {
            let _ = target;
            std::fs::copy(from, to).map(|_| ())
        }
    } else {
        std::fs::copy(from, to).map(|_| ())
    }
}
