//! Removing installed distributions, from their RECORD (or an egg-info's
//! `installed-files.txt`), including bytecode Python wrote beside the sources later.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use crate::installed::{DistKind, InstalledDist};
use crate::txn::Transaction;
use crate::InstallError;

/// What `uninstall` of some names removes.
#[derive(Debug)]
pub struct UninstallPlan<'a> {
    /// Each distribution named (once, in the order first named) with its files.
    pub remove: Vec<(&'a InstalledDist, Vec<PathBuf>)>,
    /// The names asked for that are not installed.
    pub missing: Vec<String>,
}

/// The files of each installed distribution in `names` (any spelling), all worked out before
/// anything is removed, so one that does not list its files stops the whole uninstall.
pub fn plan<'a>(
    installed: &'a [InstalledDist],
    names: &[String],
) -> Result<UninstallPlan<'a>, InstallError> {
    let mut plan = UninstallPlan {
        remove: Vec::new(),
        missing: Vec::new(),
    };
    for name in names {
        match crate::installed::find(installed, name) {
            Some(dist)
                if plan
                    .remove
                    .iter()
                    .any(|(d, _)| d.normalized == dist.normalized) => {}
            Some(dist) => plan.remove.push((dist, files_to_remove(dist)?)),
            None => plan.missing.push(name.clone()),
        }
    }
    Ok(plan)
}

/// Everything uninstalling `dist` removes: its metadata directory, the files its RECORD lists,
/// and the `.pyc` files of its `.py` files. Refuses, as pip does, a distribution that does not
/// list its files.
pub fn files_to_remove(dist: &InstalledDist) -> Result<Vec<PathBuf>, InstallError> {
    let record = dist.record()?.ok_or_else(|| InstallError::NoRecord {
        name: dist.name.clone(),
        version: dist.version.to_string(),
        path: dist.path.clone(),
        what: match dist.kind {
            DistKind::DistInfo => "RECORD",
            DistKind::EggInfo => "installed-files.txt",
        },
    })?;
    let mut paths = BTreeSet::new();
    paths.insert(dist.path.clone());
    for entry in record {
        let path = normalize(&dist.location.join(&entry.path));
        if path.starts_with(&dist.path) {
            continue; // goes with the metadata directory
        }
        if path.extension().is_some_and(|e| e == "py") {
            paths.extend(bytecode_of(&path));
        }
        paths.insert(path);
    }
    // Keep only what exists (RECORD may list files already gone).
    Ok(paths
        .into_iter()
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .collect())
}

/// Bytecode files Python may have written for `source`: `__pycache__/<stem>.*.pyc` and, from
/// Python 2, `<source>c` / `<source>o`.
fn bytecode_of(source: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let (Some(parent), Some(stem)) = (source.parent(), source.file_stem()) else {
        return out;
    };
    let prefix = format!("{}.", stem.to_string_lossy());
    if let Ok(entries) = std::fs::read_dir(parent.join("__pycache__")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&prefix) && name.ends_with(".pyc") {
                out.push(entry.path());
            }
        }
    }
    for suffix in ["c", "o"] {
        let mut legacy = source.as_os_str().to_owned();
        legacy.push(suffix);
        out.push(PathBuf::from(legacy));
    }
    out
}

/// Moves `dist`'s files into the transaction's stash; they are deleted at commit. Returns
/// the paths removed.
pub fn uninstall(dist: &InstalledDist, txn: &Transaction) -> Result<Vec<PathBuf>, InstallError> {
    let paths = files_to_remove(dist)?;
    txn.stash(&paths)?;
    Ok(paths)
}

/// After a commit: removes directories that removing `paths` left empty, up to (not
/// including) any of `stop` or the filesystem root.
pub fn remove_empty_parents(paths: &[PathBuf], stop: &[PathBuf]) {
    let mut dirs: BTreeSet<PathBuf> = paths
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    // Deepest first, so a parent is tried after its children.
    while let Some(dir) = dirs.pop_last() {
        // Never a scheme directory or one above it (the environment's own `include/`, say).
        if stop.iter().any(|s| s.starts_with(&dir)) || !stop.iter().any(|s| dir.starts_with(s)) {
            continue;
        }
        let pycache_only = std::fs::read_dir(&dir).is_ok_and(|mut entries| {
            entries.all(|e| e.is_ok_and(|e| e.file_name() == "__pycache__"))
        });
        if pycache_only {
            let cache = dir.join("__pycache__");
            if cache.is_dir() && std::fs::read_dir(&cache).is_ok_and(|mut e| e.next().is_none()) {
                let _ = std::fs::remove_dir(&cache);
            }
        }
        if std::fs::remove_dir(&dir).is_ok() {
            if let Some(parent) = dir.parent() {
                dirs.insert(parent.to_path_buf());
            }
        }
    }
}

/// Removes `.` and `..` components without touching the filesystem.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}
