//! Unpacking source distributions (`.tar.gz`, `.zip`) safely: every entry is checked before
//! anything is written, the way Python's tarfile `data` filter checks them. Absolute paths,
//! `..`, links that leave the archive, device files and archives with too many entries are
//! refused, naming the entry; nothing is half-extracted.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::BuildError;

/// The most entries an sdist may hold.
pub const MAX_ENTRIES: usize = 100_000;

/// Unpacks `archive` into `dest` (empty) and returns the source tree: the archive's single
/// top-level directory (`name-version/`), or `dest` when there is none.
pub fn unpack(archive: &Path, dest: &Path) -> Result<PathBuf, BuildError> {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let refuse = |message: String| BuildError::UnsafeArchive {
        archive: archive.to_path_buf(),
        message,
    };
    let open = || {
        fs_err::File::open(archive).map_err(|source| BuildError::Io {
            action: "open",
            path: archive.to_path_buf(),
            source,
        })
    };
    let mut tops = std::collections::BTreeSet::new();
    // The decompression bomb rules, on the entries' sizes as their headers give them (what is
    // written is held to them) against the archive's bytes read so far.
    let limit = ferry_types::limits::max_unpacked();
    let mut declared: u64 = 0;
    if name.ends_with(".zip") {
        let mut zip =
            zip::ZipArchive::new(open()?).map_err(|e| refuse(format!("not a zip archive: {e}")))?;
        if zip.len() > MAX_ENTRIES {
            return Err(refuse(format!(
                "it has {} entries, more than {MAX_ENTRIES}",
                zip.len()
            )));
        }
        let mut planned = Vec::with_capacity(zip.len());
        for index in 0..zip.len() {
            let entry = zip.by_index_raw(index).map_err(|e| refuse(e.to_string()))?;
            let entry_name = entry.name().map_err(|e| refuse(e.to_string()))?.to_string();
            let relative = checked(&entry_name).map_err(refuse)?;
            if entry
                .unix_mode()
                .is_some_and(|m| m & 0o170_000 == 0o120_000)
            {
                return Err(refuse(format!("entry `{entry_name}` is a link")));
            }
            tops.insert(top(&relative));
            declared = declared.saturating_add(entry.size());
            planned.push((relative, entry.is_dir(), entry.size()));
        }
        let archive_size = std::fs::metadata(archive).map(|m| m.len()).unwrap_or(0);
        ferry_types::limits::check(declared, archive_size, limit).map_err(refuse)?;
        for (index, (relative, is_dir, size)) in planned.into_iter().enumerate() {
            let target = dest.join(&relative);
            if is_dir {
                create_dir(&target)?;
                continue;
            }
            let entry = zip.by_index(index).map_err(|e| refuse(e.to_string()))?;
            let executable = entry.unix_mode().is_some_and(|m| m & 0o111 != 0);
            // Never more than the header said.
            let mut entry = entry.take(size.saturating_add(1));
            let written = write_entry(&mut entry, &target, executable)?;
            if written > size {
                return Err(refuse(format!(
                    "entry `{}` is larger than its header says",
                    relative.display()
                )));
            }
        }
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        // First pass: check every entry.
        let tar_of = |file| tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut count = 0;
        let read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counted = Counted {
            inner: open()?,
            read: std::sync::Arc::clone(&read),
        };
        let mut archive_reader = tar_of(counted);
        for entry in archive_reader
            .entries()
            .map_err(|e| refuse(e.to_string()))?
        {
            let entry = entry.map_err(|e| refuse(e.to_string()))?;
            declared = declared.saturating_add(entry.header().size().unwrap_or(0));
            let so_far = read.load(std::sync::atomic::Ordering::Relaxed);
            ferry_types::limits::check(declared, so_far, limit).map_err(refuse)?;
            count += 1;
            if count > MAX_ENTRIES {
                return Err(refuse(format!("it has more than {MAX_ENTRIES} entries")));
            }
            let path = entry.path().map_err(|e| refuse(e.to_string()))?;
            let entry_name = path.to_string_lossy().into_owned();
            let relative = checked(&entry_name).map_err(refuse)?;
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                let link = entry
                    .link_name()
                    .map_err(|e| refuse(e.to_string()))?
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let base = if kind.is_symlink() {
                    relative.parent().unwrap_or(Path::new("")).to_path_buf()
                } else {
                    PathBuf::new()
                };
                if Path::new(&link).is_absolute() || escapes(&base, &link) {
                    return Err(refuse(format!(
                        "entry `{entry_name}` links out of the archive (to `{link}`)"
                    )));
                }
            } else if !(kind.is_file()
                || kind.is_dir()
                || kind.is_pax_global_extensions()
                || kind.is_pax_local_extensions()
                || kind.is_gnu_longname()
                || kind.is_gnu_longlink())
            {
                return Err(refuse(format!("entry `{entry_name}` is a device or FIFO")));
            }
            if !kind.is_pax_global_extensions() {
                tops.insert(top(&relative));
            }
        }
        // Second pass: extract what was checked.
        let mut archive_reader = tar_of(Counted {
            inner: open()?,
            read: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0)),
        });
        for entry in archive_reader
            .entries()
            .map_err(|e| refuse(e.to_string()))?
        {
            let mut entry = entry.map_err(|e| refuse(e.to_string()))?;
            let kind = entry.header().entry_type();
            let path = entry.path().map_err(|e| refuse(e.to_string()))?;
            let relative = checked(&path.to_string_lossy()).map_err(refuse)?;
            let target = dest.join(&relative);
            if kind.is_dir() {
                create_dir(&target)?;
            } else if kind.is_file() {
                let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
                write_entry(&mut entry, &target, executable)?;
            } else if kind.is_symlink() || kind.is_hard_link() {
                if let Some(parent) = target.parent() {
                    create_dir(parent)?;
                }
                entry.unpack(&target).map_err(|e| BuildError::Io {
                    action: "unpack",
                    path: target.clone(),
                    source: e,
                })?;
            }
        }
    } else {
        return Err(refuse("not a .tar.gz or .zip source distribution".into()));
    }
    match (tops.len(), tops.into_iter().next()) {
        (1, Some(top)) if dest.join(&top).is_dir() => Ok(dest.join(top)),
        _ => Ok(dest.to_path_buf()),
    }
}

/// The entry name as a relative path, or why it is refused.
fn checked(name: &str) -> Result<PathBuf, String> {
    let mut out = PathBuf::new();
    for component in Path::new(name).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(format!("entry `{name}` climbs out with `..`")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("entry `{name}` is an absolute path"))
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(format!("entry `{name}` has an empty name"));
    }
    Ok(out)
}

fn top(relative: &Path) -> PathBuf {
    relative
        .components()
        .next()
        .map(|c| PathBuf::from(c.as_os_str()))
        .unwrap_or_default()
}

/// Whether `link`, relative to `base`, ends up outside the archive root.
fn escapes(base: &Path, link: &str) -> bool {
    let mut depth = base.components().count() as i64;
    for component in Path::new(link).components() {
        match component {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return true,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

fn create_dir(path: &Path) -> Result<(), BuildError> {
    fs_err::create_dir_all(path).map_err(|source| BuildError::Io {
        action: "create",
        path: path.to_path_buf(),
        source,
    })
}

/// A reader that counts the bytes read through it (the compressed bytes of an archive).
struct Counted<R> {
    inner: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Writes an entry's bytes to `target`; returns how many.
fn write_entry(reader: &mut dyn Read, target: &Path, executable: bool) -> Result<u64, BuildError> {
    if let Some(parent) = target.parent() {
        create_dir(parent)?;
    }
    let io = |source| BuildError::Io {
        action: "write",
        path: target.to_path_buf(),
        source,
    };
    let mut file = fs_err::File::create(target).map_err(io)?;
    let written = std::io::copy(reader, &mut file).map_err(io)?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs_err::set_permissions(target, std::fs::Permissions::from_mode(0o755));
    }
    #[cfg(not(unix))]
    let _ = executable;
    Ok(written)
}
