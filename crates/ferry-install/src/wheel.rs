//! Installing one unpacked wheel into a [`Scheme`], per the binary distribution format.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use ferry_input::normalize_name;

use crate::files::{write_file, WheelFile};
use crate::installed::DirectUrl;
use crate::record::{self, RecordEntry};
use crate::scheme::Scheme;
use crate::txn::Transaction;
use crate::InstallError;

/// How files get from the unpacked-wheel store into the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkMode {
    /// Hard links (the default): instant and no extra space; copies when the cache is on
    /// another filesystem.
    #[default]
    Hardlink,
    Copy,
    /// Copy-on-write clones where the filesystem has them (btrfs, XFS, APFS), else copies.
    Clone,
    /// Symbolic links into the cache (the environment breaks if the cache is cleaned).
    Symlink,
}

/// Installs unpacked wheels within a transaction.
#[derive(Debug)]
pub struct Installer<'a> {
    pub scheme: &'a Scheme,
    pub link_mode: LinkMode,
    pub txn: &'a Transaction,
    /// Set when hard links failed (the cache is on another filesystem) and copies were made.
    pub fell_back_to_copy: AtomicBool,
    /// The bytecode cache tag (`cpython-311`), for `--compile`; `None` on Python 2.
    pub cache_tag: Option<String>,
}

/// One wheel to install.
#[derive(Debug, Clone)]
pub struct WheelToInstall {
    /// The project name (any spelling).
    pub name: String,
    pub version: ferry_types::Version,
    /// The wheel's directory in the unpacked-wheel store.
    pub archive: PathBuf,
    /// The user named it (`REQUESTED`).
    pub requested: bool,
    /// PEP 610 data for URL and path installs.
    pub direct_url: Option<DirectUrl>,
    /// PEP 710 data for installs from an index (never with `direct_url`).
    pub provenance_url: Option<crate::installed::ProvenanceUrl>,
}

/// A wheel whose files are in place and whose dist-info waits in the staging area; it becomes
/// visible with [`Installer::finish`].
#[derive(Debug)]
pub struct Placed {
    pub name: String,
    staging: PathBuf,
    /// The final `.dist-info` directory.
    pub dist_info: PathBuf,
    /// The directory RECORD paths are relative to (purelib or platlib).
    root: PathBuf,
    rows: Vec<RecordEntry>,
    /// Installed `.py` files, for `--compile`.
    pub python_files: Vec<PathBuf>,
}

/// A `console_scripts` or `gui_scripts` entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    pub name: String,
    pub module: String,
    /// `obj.attr` after the colon.
    pub attr: String,
}

/// The script entry points of an `entry_points.txt`.
pub fn script_entry_points(text: &str, path: &Path) -> Result<Vec<EntryPoint>, InstallError> {
    let mut out = Vec::new();
    let mut in_scripts = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if line.starts_with('[') {
            let section = line.trim_matches(['[', ']']).trim();
            in_scripts = section == "console_scripts" || section == "gui_scripts";
            continue;
        }
        if !in_scripts {
            continue;
        }
        let bad = |why: &str| InstallError::BadWheelFile {
            path: path.to_path_buf(),
            message: format!("entry point `{line}` {why}"),
        };
        let (name, value) = line.split_once('=').ok_or_else(|| bad("has no `=`"))?;
        let name = name.trim();
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(bad("has an unusable script name"));
        }
        // Drop `[extras]`, which do not change the script.
        let value = value.split('[').next().unwrap_or_default().trim();
        let (module, attr) = value
            .split_once(':')
            .ok_or_else(|| bad("names no object (`module:object`)"))?;
        let (module, attr) = (module.trim(), attr.trim());
        let valid = |s: &str| {
            !s.is_empty()
                && s.split('.').all(|part| {
                    !part.is_empty()
                        && part.chars().all(|c| c.is_alphanumeric() || c == '_')
                        && !part.starts_with(|c: char| c.is_ascii_digit())
                })
        };
        if !valid(module) || !valid(attr) {
            return Err(bad("is not `module:object`"));
        }
        out.push(EntryPoint {
            name: name.to_string(),
            module: module.to_string(),
            attr: attr.to_string(),
        });
    }
    Ok(out)
}

/// The first line(s) of a script run by `python`. Paths the kernel cannot take in a `#!` line
/// (too long, or with spaces) go through `/bin/sh`, with a line that is a harmless string
/// expression to Python and an `exec` to the shell.
pub fn shebang(python: &Path) -> String {
    let python = python.to_string_lossy();
    if python.len() + 3 > 127 || python.contains([' ', '\t']) {
        format!("#!/bin/sh\n\"exec\" \"{python}\" \"$0\" \"$@\"\n")
    } else {
        format!("#!{python}\n")
    }
}

/// The launcher for an entry point.
pub fn launcher(python: &Path, entry: &EntryPoint) -> String {
    let top = entry.attr.split('.').next().unwrap_or_default();
    format!(
        "{}# -*- coding: utf-8 -*-\n# Generated by ferry from the `{}` entry point.\nimport sys\nfrom {} import {top}\nif __name__ == \"__main__\":\n    sys.exit({}())\n",
        shebang(python),
        entry.name,
        entry.module,
        entry.attr
    )
}

/// `target` relative to `base`, climbing with `..` as needed (both absolute).
pub fn relative_path(base: &Path, target: &Path) -> String {
    let base: Vec<Component> = base.components().collect();
    let target: Vec<Component> = target.components().collect();
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = Vec::new();
    for _ in common..base.len() {
        parts.push("..".into());
    }
    for part in &target[common..] {
        parts.push(part.as_os_str().to_string_lossy().into_owned());
    }
    parts.join("/")
}

enum Source {
    /// Link or copy the archive's file.
    Archive(PathBuf),
    /// Write these bytes (rewritten scripts, launchers, generated metadata).
    Bytes(Vec<u8>, bool),
}

impl Installer<'_> {
    /// Puts a wheel's files in place (moving aside anything in the way), and stages its
    /// dist-info. Nothing is visible as installed until [`Installer::finish`].
    pub fn place(&self, wheel: &WheelToInstall) -> Result<Placed, InstallError> {
        let archive = &wheel.archive;
        let dist_info_name = find_dist_info(archive, &wheel.name)?;
        let dist_info_dir = archive.join(&dist_info_name);
        let wheel_path = dist_info_dir.join("WHEEL");
        let wheel_text = read_text(&wheel_path)?;
        let wheel_file = WheelFile::parse(&wheel_text, &wheel_path)?;
        let record_path = dist_info_dir.join("RECORD");
        let rows = record::parse(&read_text(&record_path)?, &record_path)?;
        let root = if wheel_file.root_is_purelib {
            self.scheme.purelib.clone()
        } else {
            self.scheme.platlib.clone()
        };
        let data_prefix = format!("{}.data/", dist_info_name.trim_end_matches(".dist-info"));
        let project = dist_info_name
            .trim_end_matches(".dist-info")
            .split('-')
            .next()
            .unwrap_or_default()
            .to_string();

        // Where every file goes.
        let mut files: Vec<(PathBuf, Source, Option<&RecordEntry>)> = Vec::new();
        let mut dist_info_files: Vec<(String, Source, Option<&RecordEntry>)> = Vec::new();
        for row in &rows {
            let path = row.path.as_str();
            if let Some(rest) = path.strip_prefix(&format!("{dist_info_name}/")) {
                if matches!(
                    rest,
                    "RECORD"
                        | "INSTALLER"
                        | "REQUESTED"
                        | "direct_url.json"
                        | "provenance_url.json"
                ) || rest.starts_with("RECORD.")
                {
                    continue;
                }
                dist_info_files.push((
                    rest.to_string(),
                    Source::Archive(archive.join(path)),
                    Some(row),
                ));
                continue;
            }
            if let Some(rest) = path.strip_prefix(&data_prefix) {
                let (key, inner) =
                    rest.split_once('/')
                        .ok_or_else(|| InstallError::BadWheelFile {
                            path: archive.join(path),
                            message: format!("`{path}` is not inside a .data scheme directory"),
                        })?;
                let base = match key {
                    "purelib" => self.scheme.purelib.clone(),
                    "platlib" => self.scheme.platlib.clone(),
                    "scripts" => self.scheme.scripts.clone(),
                    "data" => self.scheme.data.clone(),
                    "headers" => self.scheme.headers.join(&project),
                    other => {
                        return Err(InstallError::BadWheelFile {
                            path: archive.join(path),
                            message: format!("unknown .data directory `{other}` (expected purelib, platlib, scripts, headers or data)"),
                        })
                    }
                };
                let dest = base.join(inner);
                if key == "scripts" {
                    let bytes =
                        fs_err::read(archive.join(path)).map_err(|source| InstallError::Io {
                            action: "read",
                            path: archive.join(path),
                            source,
                        })?;
                    let bytes = rewrite_script(&bytes, &self.scheme.python);
                    files.push((dest, Source::Bytes(bytes, true), None));
                } else {
                    files.push((dest, Source::Archive(archive.join(path)), Some(row)));
                }
                continue;
            }
            files.push((
                root.join(path),
                Source::Archive(archive.join(path)),
                Some(row),
            ));
        }
        let entry_points_path = dist_info_dir.join("entry_points.txt");
        if entry_points_path.is_file() {
            let text = read_text(&entry_points_path)?;
            for entry in script_entry_points(&text, &entry_points_path)? {
                let dest = self.scheme.scripts.join(&entry.name);
                files.push((
                    dest,
                    Source::Bytes(launcher(&self.scheme.python, &entry).into_bytes(), true),
                    None,
                ));
            }
        }

        // Make room, make directories, journal, then create.
        let final_dist_info = root.join(&dist_info_name);
        let mut in_the_way: Vec<PathBuf> = files.iter().map(|(dest, _, _)| dest.clone()).collect();
        in_the_way.push(final_dist_info.clone());
        self.txn.stash(&in_the_way)?;
        let dirs: BTreeSet<PathBuf> = files
            .iter()
            .filter_map(|(dest, _, _)| dest.parent().map(Path::to_path_buf))
            .collect();
        self.txn.make_dirs(&dirs.into_iter().collect::<Vec<_>>())?;
        self.txn.will_create(&in_the_way[..files.len()])?;

        let mut out_rows = Vec::with_capacity(files.len() + 8);
        let mut python_files = Vec::new();
        for (dest, source, row) in files {
            let linked_python =
                matches!(source, Source::Archive(_)) && dest.extension().is_some_and(|e| e == "py");
            out_rows.push(self.put(source, row, &dest, relative_path(&root, &dest))?);
            if linked_python {
                python_files.push(dest);
            }
        }

        // The dist-info, staged.
        let staging = self.txn.staging_dir()?.join(&dist_info_name);
        fs_err::create_dir_all(&staging).map_err(|source| InstallError::Io {
            action: "create",
            path: staging.clone(),
            source,
        })?;
        let mut generated: Vec<(&str, Vec<u8>)> = vec![("INSTALLER", b"ferry\n".to_vec())];
        if wheel.requested {
            generated.push(("REQUESTED", Vec::new()));
        }
        if let Some(direct) = &wheel.direct_url {
            generated.push((
                "direct_url.json",
                serde_json::to_vec(direct).unwrap_or_default(),
            ));
        } else if let Some(provenance) = &wheel.provenance_url {
            generated.push((
                "provenance_url.json",
                serde_json::to_vec(provenance).unwrap_or_default(),
            ));
        }
        for (name, bytes) in generated {
            dist_info_files.push((name.to_string(), Source::Bytes(bytes, false), None));
        }
        for (name, source, row) in dist_info_files {
            let dest = staging.join(&name);
            if let Some(parent) = dest.parent() {
                fs_err::create_dir_all(parent).map_err(|source| InstallError::Io {
                    action: "create",
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            out_rows.push(self.put(source, row, &dest, format!("{dist_info_name}/{name}"))?);
        }
        crate::fault::after_placing(&wheel.name)?;
        Ok(Placed {
            name: wheel.name.clone(),
            staging,
            dist_info: final_dist_info,
            root,
            rows: out_rows,
            python_files,
        })
    }

    /// Writes RECORD (with `extra` files such as compiled bytecode) and moves the dist-info
    /// into place: from here on the package is installed.
    pub fn finish(&self, placed: Placed, extra: &[PathBuf]) -> Result<PathBuf, InstallError> {
        let Placed {
            staging,
            dist_info,
            root,
            mut rows,
            ..
        } = placed;
        for path in extra {
            if let Ok(bytes) = std::fs::read(path) {
                rows.push(RecordEntry::for_bytes(relative_path(&root, path), &bytes));
            }
        }
        let name = dist_info
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        rows.push(RecordEntry::path_only(format!("{name}/RECORD")));
        let record_file = staging.join("RECORD");
        write_new(&record_file, record::write(&rows).as_bytes(), false)?;
        self.txn.will_create(std::slice::from_ref(&dist_info))?;
        std::fs::rename(&staging, &dist_info).map_err(|source| InstallError::Io {
            action: "move into place",
            path: dist_info.clone(),
            source,
        })?;
        Ok(dist_info)
    }

    /// Creates `dest` from `source` and returns its RECORD row (the archive's hash for linked
    /// files, a fresh one for written bytes).
    fn put(
        &self,
        source: Source,
        row: Option<&RecordEntry>,
        dest: &Path,
        entry_path: String,
    ) -> Result<RecordEntry, InstallError> {
        Ok(match source {
            Source::Archive(src) => {
                self.link(&src, dest)?;
                RecordEntry {
                    path: entry_path,
                    hash: row.and_then(|r| r.hash.clone()),
                    size: row.and_then(|r| r.size),
                }
            }
            Source::Bytes(bytes, executable) => {
                write_new(dest, &bytes, executable)?;
                RecordEntry::for_bytes(entry_path, &bytes)
            }
        })
    }

    fn link(&self, src: &Path, dest: &Path) -> Result<(), InstallError> {
        let result = self.link_once(src, dest).or_else(|err| {
            if err.kind() == std::io::ErrorKind::AlreadyExists {
                // Another package of this install wrote the same path: the later one wins.
                let _ = std::fs::remove_file(dest);
                self.link_once(src, dest)
            } else {
                Err(err)
            }
        });
        result.map_err(|source| InstallError::Io {
            action: "install",
            path: dest.to_path_buf(),
            source,
        })
    }

    fn link_once(&self, src: &Path, dest: &Path) -> std::io::Result<()> {
        match self.link_mode {
            LinkMode::Hardlink if !self.fell_back_to_copy.load(Ordering::Relaxed) => {
                match std::fs::hard_link(src, dest) {
                    Ok(()) => Ok(()),
                    Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Err(err),
                    Err(err) => {
                        tracing::debug!(
                            "hard link {} failed ({err}); copying instead",
                            dest.display()
                        );
                        self.fell_back_to_copy.store(true, Ordering::Relaxed);
                        copy_new(src, dest)
                    }
                }
            }
            LinkMode::Hardlink | LinkMode::Copy => copy_new(src, dest),
            LinkMode::Clone => {
                if dest.exists() {
                    return Err(std::io::ErrorKind::AlreadyExists.into());
                }
                reflink_copy::reflink_or_copy(src, dest).map(|_| ())
            }
            LinkMode::Symlink => {
                #[cfg(unix)]
                {
                    std::os::unix::fs::symlink(src, dest)
                }
                #[cfg(not(unix))]
                {
                    copy_new(src, dest)
                }
            }
        }
    }

    /// The bytecode file Python will look for beside `source`.
    pub fn bytecode_path(&self, source: &Path) -> Option<PathBuf> {
        let parent = source.parent()?;
        let stem = source.file_stem()?.to_string_lossy();
        Some(match &self.cache_tag {
            Some(tag) => parent.join("__pycache__").join(format!("{stem}.{tag}.pyc")),
            None => parent.join(format!("{stem}.pyc")),
        })
    }
}

fn copy_new(src: &Path, dest: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(dest).is_ok() {
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    std::fs::copy(src, dest).map(|_| ())
}

fn write_new(path: &Path, bytes: &[u8], executable: bool) -> Result<(), InstallError> {
    let _ = std::fs::remove_file(path);
    write_file(path, bytes, executable).map_err(|source| InstallError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

fn read_text(path: &Path) -> Result<String, InstallError> {
    fs_err::read_to_string(path).map_err(|source| InstallError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })
}

/// A first line starting `#!python` (`#!python`, `#!pythonw`, `#!python3 -u`, ...) in a
/// `.data/scripts` file is replaced, whole, by the target interpreter's shebang, as pip does;
/// other scripts are kept as they are.
fn rewrite_script(bytes: &[u8], python: &Path) -> Vec<u8> {
    if !bytes.starts_with(b"#!python") {
        return bytes.to_vec();
    }
    let body = match bytes.iter().position(|&b| b == b'\n') {
        Some(end) => &bytes[end + 1..],
        None => &[][..],
    };
    let mut out = shebang(python).into_bytes();
    out.extend_from_slice(body);
    out
}

/// The `.dist-info` directory of an unpacked wheel for project `name`.
pub fn find_dist_info(archive: &Path, name: &str) -> Result<String, InstallError> {
    let wanted = normalize_name(name);
    let entries = fs_err::read_dir(archive).map_err(|source| InstallError::Io {
        action: "read",
        path: archive.to_path_buf(),
        source,
    })?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = file_name.strip_suffix(".dist-info") {
            let project = stem.split('-').next().unwrap_or_default();
            if normalize_name(project) == wanted {
                found.push(file_name);
            }
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(InstallError::BadWheelFile {
            path: archive.to_path_buf(),
            message: format!("it has no `.dist-info` directory for `{name}`"),
        }),
        _ => Err(InstallError::BadWheelFile {
            path: archive.to_path_buf(),
            message: format!("it has several `.dist-info` directories for `{name}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb() {
        assert_eq!(
            relative_path(
                Path::new("/v/lib/python3.11/site-packages"),
                Path::new("/v/bin/tool")
            ),
            "../../../bin/tool"
        );
        assert_eq!(
            relative_path(Path::new("/v/site"), Path::new("/v/site/pkg/a.py")),
            "pkg/a.py"
        );
    }

    #[test]
    fn python_shebangs_are_rewritten() {
        let python = Path::new("/env/bin/python");
        assert_eq!(
            rewrite_script(b"#!python\nprint(1)\n", python),
            b"#!/env/bin/python\nprint(1)\n"
        );
        assert_eq!(
            rewrite_script(b"#!pythonw -u\nx\n", python),
            b"#!/env/bin/python\nx\n"
        );
        assert_eq!(
            rewrite_script(b"#!/bin/sh\necho\n", python),
            b"#!/bin/sh\necho\n"
        );
        let long = PathBuf::from(format!("/{}/bin/python", "x".repeat(200)));
        let script = String::from_utf8(rewrite_script(b"#!python\nprint(1)\n", &long)).unwrap();
        assert!(script.starts_with("#!/bin/sh\n\"exec\" \"/xxx"), "{script}");
    }

    #[test]
    fn entry_points_parse() {
        let text = "[console_scripts]\ntool = pkg.cli:main [extra]\n\n[gui_scripts]\ngui=pkg:App.run\n[other]\nx = y:z\n";
        let points = script_entry_points(text, Path::new("e")).unwrap();
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].module, "pkg.cli");
        assert_eq!(points[1].attr, "App.run");
        assert!(script_entry_points("[console_scripts]\nbad = nocolon\n", Path::new("e")).is_err());
        assert!(script_entry_points("[console_scripts]\n../x = a:b\n", Path::new("e")).is_err());
    }

    #[test]
    fn wheel_versions() {
        let p = Path::new("WHEEL");
        let w = WheelFile::parse("Wheel-Version: 1.0\nRoot-Is-Purelib: false\n", p).unwrap();
        assert!(!w.root_is_purelib);
        assert!(WheelFile::parse("Wheel-Version: 2.0\n", p).is_err());
        assert!(WheelFile::parse("Generator: x\n", p).is_err());
    }
}
