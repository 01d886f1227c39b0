//! Querying an interpreter and caching what it says.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::UNIX_EPOCH;

use ferry_cache::{Bucket, Cache};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::externally_managed::ExternallyManaged;
use crate::tags::{self, TagFacts, Tags};
use crate::PythonError;

/// The embedded query script; its hash is part of every cache key so an edit invalidates.
const QUERY_SCRIPT: &str = include_str!("query.py");

/// The PEP 508 marker environment of an interpreter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkerEnvironment {
    pub implementation_name: String,
    pub implementation_version: String,
    pub os_name: String,
    pub platform_machine: String,
    pub platform_python_implementation: String,
    pub platform_release: String,
    pub platform_system: String,
    pub platform_version: String,
    pub python_full_version: String,
    pub python_version: String,
    pub sys_platform: String,
}

impl MarkerEnvironment {
    /// The environment as `pep508_rs` evaluates markers with: the one conversion every stage
    /// uses (the resolver, `check`, `list --not-required`, `show`).
    pub fn to_pep508(&self) -> Result<pep508_rs::MarkerEnvironment, String> {
        pep508_rs::MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
            implementation_name: &self.implementation_name,
            implementation_version: &self.implementation_version,
            os_name: &self.os_name,
            platform_machine: &self.platform_machine,
            platform_python_implementation: &self.platform_python_implementation,
            platform_release: &self.platform_release,
            platform_system: &self.platform_system,
            platform_version: &self.platform_version,
            python_full_version: &self.python_full_version,
            python_version: &self.python_version,
            sys_platform: &self.sys_platform,
        })
        .map_err(|e| format!("the interpreter's marker environment is invalid: {e}"))
    }
}

/// sysconfig install paths. In [`InterpreterInfo::paths`] they are absolute; in
/// [`InterpreterInfo::venv_scheme`] they are relative to a new environment's root (`None` where
/// the scheme puts a path outside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemePaths {
    pub purelib: Option<String>,
    pub platlib: Option<String>,
    pub scripts: Option<String>,
    pub data: Option<String>,
    pub include: Option<String>,
    #[serde(default)]
    pub stdlib: Option<String>,
}

/// Everything one run of the query script reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InterpreterInfo {
    /// `sys.implementation.name`, e.g. `cpython`, `pypy`.
    pub implementation: String,
    /// `sys.version_info` as `[major, minor, micro, releaselevel, serial]`.
    pub version: (u32, u32, u32, String, u32),
    pub executable: PathBuf,
    pub base_executable: PathBuf,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    pub exec_prefix: PathBuf,
    pub base_exec_prefix: PathBuf,
    pub paths: SchemePaths,
    pub venv_scheme: SchemePaths,
    pub markers: MarkerEnvironment,
    pub tags: TagFacts,
    pub pointer_size: u32,
    /// The index URL the interpreter's pip falls back to when nothing is configured.
    #[serde(default)]
    pub pip_default_index: Option<String>,
    /// The `posix_prefix` (or `nt`) layout relative to an installation prefix.
    pub prefix_scheme: SchemePaths,
    /// The user scheme (`--user`) relative to the user base, if the interpreter has one.
    pub user_scheme: Option<SchemePaths>,
    /// `sys.implementation.cache_tag` (`cpython-311`); `None` on Python 2, where bytecode sits
    /// beside the source.
    pub cache_tag: Option<String>,
    /// `site.getsitepackages()`: the site-packages directories on `sys.path`, the base
    /// interpreter's included for a venv with system site packages.
    #[serde(default)]
    pub site_packages: Vec<PathBuf>,
}

/// A queried interpreter: the path it was reached by and what it said about itself.
#[derive(Debug)]
pub struct Interpreter {
    path: PathBuf,
    info: InterpreterInfo,
    tags: OnceLock<Tags>,
}

/// What is stored in the interpreter bucket: the answer plus the facts it was keyed on, checked
/// again on read so a hash collision or a hand-edited entry can't be mistaken for a hit.
#[derive(Serialize, Deserialize)]
struct CacheEntry {
    path: PathBuf,
    stamp: String,
    info: InterpreterInfo,
}

impl Interpreter {
    /// Queries the interpreter at `path`, using the cache when the file is unchanged.
    ///
    /// `path` is kept as given (not resolved through symlinks): a venv's `bin/python` is a
    /// link to its base interpreter but answers with the venv's prefix.
    pub fn query(path: &Path, cache: &Cache) -> Result<Self, PythonError> {
        let path = absolute(path);
        let stamp = match stamp(&path)? {
            Some(stamp) => stamp,
            // A script (such as a shim) may run a different interpreter each time: never cache.
            None => return Ok(Self::from_info(path.clone(), run_query(&path)?)),
        };
        let key = cache_key(&path);
        let entry_path = cache.entry(Bucket::Interpreter, &key);
        if let Ok(bytes) = fs_err::read(&entry_path) {
            match serde_json::from_slice::<CacheEntry>(&bytes) {
                Ok(entry) if entry.path == path && entry.stamp == stamp => {
                    tracing::debug!("cached interpreter info for {}", path.display());
                    return Ok(Self::from_info(path, entry.info));
                }
                Ok(_) => tracing::debug!("stale interpreter info for {}", path.display()),
                Err(err) => tracing::debug!(
                    "ignoring unreadable cache entry {}: {err}",
                    entry_path.display()
                ),
            }
        }
        if let Some(info) = venv_info(&path, cache) {
            tracing::debug!(
                "interpreter info for {} from its base interpreter's",
                path.display()
            );
            return Ok(Self::from_info(path, info));
        }
        let info = run_query(&path)?;
        let entry = CacheEntry {
            path: path.clone(),
            stamp,
            info,
        };
        let bytes = serde_json::to_vec(&entry).expect("interpreter info serializes");
        if let Err(err) = cache.write_entry(Bucket::Interpreter, &key, &bytes) {
            // A read-only cache slows us down but must not stop us.
            tracing::warn!("{err}");
        }
        Ok(Self::from_info(path, entry.info))
    }

    /// Runs the interpreter at `path` for its facts even when the cache or its base
    /// interpreter could answer (to check those answers against the real one).
    pub fn query_uncached(path: &Path) -> Result<Self, PythonError> {
        let path = absolute(path);
        let info = run_query(&path)?;
        Ok(Self::from_info(path, info))
    }

    /// Builds an interpreter from already-known facts (used by tests and by callers that
    /// resolve for another interpreter).
    pub fn from_info(path: PathBuf, info: InterpreterInfo) -> Self {
        Self {
            path,
            info,
            tags: OnceLock::new(),
        }
    }

    /// The path the interpreter was found at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn info(&self) -> &InterpreterInfo {
        &self.info
    }

    /// `(major, minor, micro)`.
    pub fn version(&self) -> (u32, u32, u32) {
        (
            self.info.version.0,
            self.info.version.1,
            self.info.version.2,
        )
    }

    /// The version as Python prints it, e.g. `3.12.1` or `3.13.0rc2`.
    pub fn version_string(&self) -> &str {
        &self.info.markers.python_full_version
    }

    /// The implementation as people write it: `CPython`, `PyPy`, ...
    pub fn implementation_display(&self) -> &str {
        &self.info.markers.platform_python_implementation
    }

    pub fn markers(&self) -> &MarkerEnvironment {
        &self.info.markers
    }

    pub fn prefix(&self) -> &Path {
        &self.info.prefix
    }

    /// Whether this interpreter runs inside a virtual environment.
    pub fn is_virtualenv(&self) -> bool {
        self.info.prefix != self.info.base_prefix
    }

    /// Site-packages directories on `sys.path` outside the environment: the base interpreter's,
    /// for a virtual environment made with system site packages (none otherwise).
    pub fn global_site_packages(&self) -> Vec<PathBuf> {
        if !self.is_virtualenv() {
            return Vec::new();
        }
        self.info
            .site_packages
            .iter()
            .filter(|dir| !dir.starts_with(&self.info.prefix))
            .cloned()
            .collect()
    }

    /// The base interpreter a new virtual environment should link to.
    pub fn base_executable(&self) -> &Path {
        &self.info.base_executable
    }

    /// The wheel tags this interpreter accepts, best first (see [`crate::tags`]).
    pub fn tags(&self) -> &Tags {
        self.tags.get_or_init(|| {
            let info = &self.info;
            tags::supported_tags(
                &info.tags,
                &info.implementation,
                (info.version.0, info.version.1),
                &info.markers.platform_system,
            )
            .into_iter()
            .collect()
        })
    }

    /// pip's tags for `--platform`, `--implementation` and `--abi` (see
    /// [`tags::custom_tags`]), for this interpreter's version (retarget it first for
    /// `--python-version`).
    pub fn custom_tags(
        &self,
        platforms: &[String],
        implementation: Option<&str>,
        abis: &[String],
    ) -> Tags {
        let info = &self.info;
        tags::custom_tags(
            &info.tags,
            &info.implementation,
            (info.version.0, info.version.1),
            &info.markers.platform_system,
            (platforms, implementation, abis),
        )
        .into_iter()
        .collect()
    }

    /// The PEP 668 marker of this environment, if it is externally managed.
    pub fn externally_managed(&self) -> Option<ExternallyManaged> {
        if self.is_virtualenv() {
            return None;
        }
        let stdlib = self.info.paths.stdlib.as_deref()?;
        ExternallyManaged::read(&Path::new(stdlib).join("EXTERNALLY-MANAGED"))
    }

    /// Refuses to go on if the environment is externally managed and the user did not pass
    /// `--break-system-packages`.
    pub fn check_writable(&self, break_system_packages: bool) -> Result<(), PythonError> {
        match self.externally_managed() {
            Some(marker) if !break_system_packages => Err(PythonError::ExternallyManaged {
                prefix: self.info.prefix.clone(),
                message: marker.message,
            }),
            _ => Ok(()),
        }
    }
}

/// What the interpreter of a virtual environment would say about itself, worked out from its
/// base interpreter's (cached) answer instead of running it: a fresh venv then costs no
/// interpreter start (about 40 ms), which is most of what `ferry install` spends before its
/// first request. Only the plain case is derived, and anything else is queried:
/// - `path` is `ROOT/bin/python*` beside `ROOT/pyvenv.cfg`, and resolves through symlinks to an
///   interpreter in the `home` the file names, whose version is the one the file gives;
/// - that base is CPython on a POSIX system and not itself a virtual environment;
/// - the venv has no pip of its own (its default index would be that pip's to say).
///
/// Everything else a venv's interpreter reports is its base's, except: the prefixes (`ROOT`),
/// the site-packages directories (the base's moved under `ROOT`, then, with system site
/// packages, the base's own),
/// the executable (`path`), the install paths (the base's venv layout under `ROOT`; headers and
/// the standard library stay the base's), and the base executable (the first of
/// `pythonX.Y`, `pythonX`, `python` in `home`, as the query script finds it). A test compares
/// derived and queried answers for venvs made by ferry and by `python -m venv`.
fn venv_info(path: &Path, cache: &Cache) -> Option<InterpreterInfo> {
    let bin = path.parent()?;
    let root = bin.parent()?;
    if bin.file_name()? != "bin" {
        return None;
    }
    let cfg = std::fs::read_to_string(root.join("pyvenv.cfg")).ok()?;
    let value = |wanted: &str| {
        cfg.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim().eq_ignore_ascii_case(wanted)).then(|| value.trim().to_string())
        })
    };
    let home = PathBuf::from(value("home")?);
    let version = value("version_info").or_else(|| value("version"))?;
    let real = std::fs::canonicalize(path).ok()?;
    if real.parent()? != std::fs::canonicalize(&home).ok()? || real.starts_with(root) {
        return None;
    }
    let base = Interpreter::query(&real, cache).ok()?.info;
    let posix_cpython = base.implementation == "cpython" && base.markers.os_name == "posix";
    let own_base = base.prefix == base.base_prefix && base.exec_prefix == base.base_exec_prefix;
    let full = &base.markers.python_full_version;
    let same_version = version == *full || version.starts_with(&format!("{full}."));
    if !posix_cpython || !own_base || !same_version {
        return None;
    }
    let under_root = |relative: &Option<String>| {
        relative.as_ref().map(|r| match r.as_str() {
            "" => root.to_path_buf(),
            r => root.join(r),
        })
    };
    let purelib = under_root(&base.venv_scheme.purelib)?;
    let platlib = under_root(&base.venv_scheme.platlib)?;
    let scripts = under_root(&base.venv_scheme.scripts)?;
    let data = under_root(&base.venv_scheme.data)?;
    if [&purelib, &platlib]
        .iter()
        .any(|dir| dir.join("pip").join("__init__.py").exists())
    {
        return None;
    }
    let (major, minor) = (base.version.0, base.version.1);
    let base_executable = [
        format!("python{major}.{minor}"),
        format!("python{major}"),
        "python".to_string(),
        "python.exe".to_string(),
    ]
    .iter()
    .map(|name| home.join(name))
    .find(|candidate| candidate.is_file())
    .unwrap_or_else(|| real.clone());
    let shown = |dir: PathBuf| Some(dir.to_string_lossy().into_owned());
    // site.py's prefixes in a venv: its own, then the base's with system site packages.
    let system_site =
        value("include-system-site-packages").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut site_packages: Vec<PathBuf> = base
        .site_packages
        .iter()
        .filter_map(|dir| Some(root.join(dir.strip_prefix(&base.prefix).ok()?)))
        .collect();
    if system_site {
        for dir in &base.site_packages {
            if !site_packages.contains(dir) {
                site_packages.push(dir.clone());
            }
        }
    }
    let mut info = base;
    info.site_packages = site_packages;
    info.executable = path.to_path_buf();
    info.base_executable = base_executable;
    info.prefix = root.to_path_buf();
    info.exec_prefix = root.to_path_buf();
    info.paths = SchemePaths {
        purelib: shown(purelib),
        platlib: shown(platlib),
        scripts: shown(scripts),
        data: shown(data),
        include: info.paths.include.clone(),
        stdlib: info.paths.stdlib.clone(),
    };
    Some(info)
}

/// The modification stamp a cache entry is keyed on, or `None` when the file is a script.
///
/// The stamp covers the link itself and its target, so re-creating a venv (a new link to
/// possibly another interpreter) or rebuilding the interpreter both count as changes.
fn stamp(path: &Path) -> Result<Option<String>, PythonError> {
    let link = fs_err::symlink_metadata(path).map_err(|source| not_found_or_io(path, source))?;
    let target = fs_err::metadata(path).map_err(|source| not_found_or_io(path, source))?;
    if target.is_dir() {
        return Err(PythonError::NotAnEnvironment {
            path: path.to_path_buf(),
        });
    }
    if is_script(path) {
        return Ok(None);
    }
    let nanos = |m: &std::fs::Metadata| {
        m.modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos())
    };
    Ok(Some(format!(
        "{}:{}:{}",
        nanos(&link),
        nanos(&target),
        target.len()
    )))
}

fn not_found_or_io(path: &Path, source: std::io::Error) -> PythonError {
    if source.kind() == std::io::ErrorKind::NotFound {
        PythonError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        PythonError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn is_script(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|()| &head == b"#!")
        .unwrap_or(false)
}

fn cache_key(path: &Path) -> String {
    let mut hasher = Sha256::new();
    hasher.update(QUERY_SCRIPT.as_bytes());
    hasher.update([0]);
    hasher.update(path.as_os_str().as_encoded_bytes());
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.json")
}

/// Runs the query script with the interpreter. `-E -s` keeps `PYTHON*` variables and the user
/// site out of the answer (and works on every version, unlike `-I`). `site` itself must run:
/// it is what points `sys.prefix` at a virtual environment. Since `.pth` files may print,
/// the answer is the last line of output.
fn run_query(path: &Path) -> Result<InterpreterInfo, PythonError> {
    tracing::debug!("querying interpreter {}", path.display());
    let output = Command::new(path)
        .args(["-E", "-s", "-c", QUERY_SCRIPT])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => PythonError::NotFound {
                path: path.to_path_buf(),
            },
            _ => PythonError::Spawn {
                path: path.to_path_buf(),
                source,
            },
        })?;
    if !output.status.success() {
        return Err(PythonError::QueryFailed {
            path: path.to_path_buf(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    serde_json::from_str(answer).map_err(|err| PythonError::BadQueryOutput {
        path: path.to_path_buf(),
        message: err.to_string(),
    })
}

pub(crate) fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf())
}
