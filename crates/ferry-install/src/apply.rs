//! Carrying out a plan inside a [`Transaction`]: old versions out of the way, every wheel's
//! files placed in parallel, optional bytecode, then each dist-info moved into place.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::{
    uninstall, InstallError, InstalledDist, Installer, LinkMode, Scheme, Transaction,
    WheelToInstall,
};

/// Progress of an install; implemented by the command line.
pub trait InstallReporter: Sync {
    /// A distribution is being replaced.
    fn removing(&self, _dist: &InstalledDist) {}
    /// Placing files starts, for `total` wheels.
    fn placing(&self, _total: usize) {}
    /// One wheel's files are in place.
    fn placed(&self, _name: &str) {}
}

/// How to install.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub link_mode: LinkMode,
    /// Byte-compile the installed Python files (`--compile`).
    pub compile: bool,
}

/// What an install did, beyond the files it placed.
#[derive(Debug, Default)]
pub struct Applied {
    /// Paths removed with replaced distributions (their empty parents are cleaned up after
    /// the commit).
    pub removed: Vec<PathBuf>,
    /// Hard links failed (the cache is on another filesystem) and files were copied.
    pub fell_back_to_copy: bool,
}

/// Removes `remove`, installs `wheels` into `scheme`, all journaled in `txn`; the caller
/// commits. `cache_tag` is the interpreter's bytecode tag (for `--compile`).
pub fn apply(
    scheme: &Scheme,
    txn: &Transaction,
    remove: &[&InstalledDist],
    wheels: &[WheelToInstall],
    cache_tag: Option<String>,
    options: &ApplyOptions,
    reporter: &dyn InstallReporter,
) -> Result<Applied, InstallError> {
    let mut applied = Applied::default();
    for dist in remove {
        reporter.removing(dist);
        applied.removed.extend(uninstall::uninstall(dist, txn)?);
    }
    let installer = Installer {
        scheme,
        link_mode: options.link_mode,
        txn,
        fell_back_to_copy: AtomicBool::new(false),
        cache_tag,
    };
    reporter.placing(wheels.len());
    let placed = wheels
        .par_iter()
        .map(|wheel| {
            let placed = installer.place(wheel)?;
            reporter.placed(&wheel.name);
            Ok(placed)
        })
        .collect::<Result<Vec<_>, InstallError>>()?;
    let mut bytecode: HashMap<String, Vec<PathBuf>> = HashMap::new();
    if options.compile {
        let mut sources = Vec::new();
        for placed in &placed {
            let pycs: Vec<PathBuf> = placed
                .python_files
                .iter()
                .filter_map(|f| installer.bytecode_path(f))
                .collect();
            let dirs: Vec<PathBuf> = pycs
                .iter()
                .filter_map(|p| p.parent().map(Path::to_path_buf))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            txn.make_dirs(&dirs)?;
            txn.will_create(&pycs)?;
            sources.extend(placed.python_files.iter().cloned());
            bytecode.insert(placed.name.clone(), pycs);
        }
        let jobs = std::thread::available_parallelism().map_or(2, usize::from);
        crate::compile::compile(&scheme.python, &sources, jobs)?;
        for pycs in bytecode.values_mut() {
            pycs.retain(|p| p.is_file());
        }
    }
    placed
        .into_par_iter()
        .map(|placed| {
            let extra = bytecode.get(&placed.name).cloned().unwrap_or_default();
            installer.finish(placed, &extra)
        })
        .collect::<Result<Vec<_>, InstallError>>()?;
    applied.fell_back_to_copy = installer.fell_back_to_copy.load(Ordering::Relaxed);
    Ok(applied)
}

impl crate::Session {
    /// Carries out an install under this session: [`apply`], commit, then removes the
    /// directories the replaced distributions left empty, still under the lock. On an error
    /// the session is dropped and every change rolled back.
    pub fn install(
        mut self,
        scheme: &Scheme,
        remove: &[&InstalledDist],
        wheels: &[WheelToInstall],
        cache_tag: Option<String>,
        options: &ApplyOptions,
        reporter: &dyn InstallReporter,
    ) -> Result<Applied, InstallError> {
        let applied = apply(
            scheme,
            self.txn()?,
            remove,
            wheels,
            cache_tag,
            options,
            reporter,
        )?;
        let lock = self.commit()?;
        uninstall::remove_empty_parents(&applied.removed, &scheme.roots());
        drop(lock);
        Ok(applied)
    }
}
