//! [`TempWork`]: a build's scratch directory, removed when dropped and, through
//! [`ferry_types::interrupt`], when ferry is interrupted.

use std::path::{Path, PathBuf};

use ferry_types::interrupt::Registered;

/// A working directory that is removed when dropped (unless kept) and by `ferry_types::interrupt::clean_up`.
pub struct TempWork {
    dir: Option<tempfile::TempDir>,
    _registered: Option<Registered>,
    path: PathBuf,
}

impl TempWork {
    pub(crate) fn new(dir: tempfile::TempDir) -> Self {
        let path = dir.path().to_path_buf();
        Self {
            _registered: Some(Registered::new(&path)),
            dir: Some(dir),
            path,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the directory (`--no-clean`): neither dropping this nor `ferry_types::interrupt::clean_up` removes it.
    pub fn keep(mut self) -> PathBuf {
        self._registered = None;
        match self.dir.take() {
            Some(dir) => dir.keep(),
            None => self.path.clone(),
        }
    }
}
