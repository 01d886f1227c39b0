//! What ferry leaves behind when it is interrupted. Every scratch directory a stage makes
//! (unpacked sdists, build environments, hook control directories, wheels built for one run)
//! and every build backend's process group is registered here while it lives; [`clean_up`],
//! called by the command line's Ctrl-C (SIGINT) and SIGTERM handler before it exits, kills the
//! backends with everything they started and removes the directories, so an interrupted or
//! hung build leaves nothing behind.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static DIRECTORIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether [`clean_up`] has begun: the process is being interrupted, and whatever failed
/// because its backend was killed is not the error to report.
pub fn interrupted() -> bool {
    INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst)
}
static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn remove<T: PartialEq>(list: &Mutex<Vec<T>>, item: &T) {
    let mut list = list.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(at) = list.iter().position(|x| x == item) {
        list.swap_remove(at);
    }
}

/// A scratch directory that is removed when dropped (unless kept) and by [`clean_up`]: a
/// build's working directory, a wheel being unpacked into the store, wheels built for one run.
pub struct TempWork {
    dir: Option<tempfile::TempDir>,
    _registered: Option<Registered>,
    path: PathBuf,
}

impl TempWork {
    pub fn new(dir: tempfile::TempDir) -> Self {
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

    /// Keeps the directory (`--no-clean`, or a staging directory renamed into place): neither
    /// dropping this nor [`clean_up`] removes it.
    pub fn keep(mut self) -> PathBuf {
        self._registered = None;
        match self.dir.take() {
            Some(dir) => dir.keep(),
            None => self.path.clone(),
        }
    }
}

/// A directory removed by [`clean_up`] while this lives.
pub struct Registered(PathBuf);

impl Registered {
    pub fn new(path: &Path) -> Self {
        let path = path.to_path_buf();
        DIRECTORIES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.clone());
        Self(path)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        remove(&DIRECTORIES, &self.0);
    }
}

/// A backend's process group (its leader's pid), killed by [`clean_up`] while this lives.
pub struct Group(u32);

impl Group {
    pub fn new(pid: u32) -> Self {
        GROUPS.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
        Self(pid)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        remove(&GROUPS, &self.0);
    }
}

/// Kills every running backend (with the processes it started) and removes every live build
/// directory. For the signal handler, just before the process exits.
pub fn clean_up() {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
    let groups: Vec<u32> = GROUPS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for pid in groups {
        kill_group(pid);
    }
    let directories: Vec<PathBuf> = DIRECTORIES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for dir in directories {
        // A thread may still be writing into it; a few tries win against that.
        for _ in 0..5 {
            match std::fs::remove_dir_all(&dir) {
                Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                _ => break,
            }
        }
    }
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn kill_group(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_pid: u32) {}
