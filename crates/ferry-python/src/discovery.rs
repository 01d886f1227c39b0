//! Finding interpreters (`--python`) and the environment a command should act on.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use ferry_cache::Cache;

use crate::interpreter::absolute;
use crate::{Interpreter, PythonError};

/// What the user asked for with `--python` (or nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PythonRequest {
    /// No preference: the first `python3`/`python` on `PATH`.
    Any,
    /// A version such as `3`, `3.12`, `3.12.1`, optionally with an implementation
    /// (`cpython3.12`, `pypy3.10`, `python3.12`).
    Version(VersionRequest),
    /// A path to an interpreter or to an environment directory.
    Path(PathBuf),
    /// An executable name to look up on `PATH`, e.g. `python3-dbg`.
    ExecutableName(String),
}

/// A version constraint on an interpreter: a prefix of its version, and maybe its implementation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRequest {
    /// `cpython`, `pypy`, ... or `None` for any.
    pub implementation: Option<String>,
    pub major: u32,
    pub minor: Option<u32>,
    pub patch: Option<u32>,
}

impl VersionRequest {
    pub fn matches(&self, interpreter: &Interpreter) -> bool {
        let (major, minor, patch) = interpreter.version();
        if let Some(implementation) = &self.implementation {
            if &interpreter.info().implementation != implementation {
                return false;
            }
        }
        major == self.major
            && self.minor.is_none_or(|m| m == minor)
            && self.patch.is_none_or(|p| p == patch)
    }

    /// Whether a directory name such as pyenv's `3.12.1` could hold a matching interpreter.
    fn matches_name(&self, name: &str) -> bool {
        let mut parts = name.split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next().flatten();
        let minor = parts.next().flatten();
        let patch = parts.next().flatten();
        major == Some(self.major)
            && self.minor.is_none_or(|m| minor == Some(m))
            && self.patch.is_none_or(|p| patch == Some(p))
    }

    fn executable_names(&self) -> Vec<String> {
        let stem = match self.implementation.as_deref() {
            Some("pypy") => "pypy",
            _ => "python",
        };
        let mut names = Vec::new();
        if let Some(minor) = self.minor {
            names.push(format!("{stem}{}.{minor}", self.major));
        }
        names.push(format!("{stem}{}", self.major));
        names.push(stem.to_string());
        names
    }
}

impl fmt::Display for VersionRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(implementation) = &self.implementation {
            write!(f, "{implementation} ")?;
        }
        write!(f, "{}", self.major)?;
        if let Some(minor) = self.minor {
            write!(f, ".{minor}")?;
        }
        if let Some(patch) = self.patch {
            write!(f, ".{patch}")?;
        }
        Ok(())
    }
}

impl PythonRequest {
    /// Parses a `--python` value.
    pub fn parse(value: &str) -> Self {
        let value = value.trim();
        if value.is_empty() {
            return Self::Any;
        }
        if value.contains(std::path::MAIN_SEPARATOR)
            || value.contains('/')
            || value.starts_with('.')
            || value.starts_with('~')
        {
            return Self::Path(expand_tilde(value));
        }
        if let Some(version) = parse_version_request(value) {
            return Self::Version(version);
        }
        // A bare name that exists here, such as `venv`, is a path.
        if Path::new(value).exists() {
            return Self::Path(PathBuf::from(value));
        }
        Self::ExecutableName(value.to_string())
    }
}

impl fmt::Display for PythonRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any Python"),
            Self::Version(v) => write!(f, "Python {v}"),
            Self::Path(p) => write!(f, "{}", p.display()),
            Self::ExecutableName(n) => f.write_str(n),
        }
    }
}

fn expand_tilde(value: &str) -> PathBuf {
    if let Some(rest) = value.strip_prefix("~/") {
        if let Some(home) = std::env::var_os("HOME") {
            return PathBuf::from(home).join(rest);
        }
    }
    PathBuf::from(value)
}

fn parse_version_request(value: &str) -> Option<VersionRequest> {
    let lower = value.to_ascii_lowercase();
    let (implementation, rest) = if let Some(rest) = lower.strip_prefix("cpython") {
        (Some("cpython"), rest)
    } else if let Some(rest) = lower.strip_prefix("pypy") {
        (Some("pypy"), rest)
    } else if let Some(rest) = lower.strip_prefix("python") {
        (None, rest)
    } else if let Some(rest) = lower.strip_prefix("cp") {
        // `cp312` is how wheel tags spell it.
        let rest = rest.trim_start_matches('@');
        if rest.len() >= 2 && !rest.contains('.') && rest.chars().all(|c| c.is_ascii_digit()) {
            let (major, minor) = rest.split_at(1);
            return Some(VersionRequest {
                implementation: Some("cpython".into()),
                major: major.parse().ok()?,
                minor: Some(minor.parse().ok()?),
                patch: None,
            });
        }
        (Some("cpython"), rest)
    } else {
        (None, lower.as_str())
    };
    let rest = rest.trim_start_matches(['@', '-']);
    if rest.is_empty() {
        return None;
    }
    let mut numbers = Vec::new();
    for part in rest.split('.') {
        numbers.push(part.parse::<u32>().ok()?);
    }
    if numbers.len() > 3 {
        return None;
    }
    Some(VersionRequest {
        implementation: implementation.map(str::to_string),
        major: numbers[0],
        minor: numbers.get(1).copied(),
        patch: numbers.get(2).copied(),
    })
}

/// Finds an interpreter for `request`.
///
/// Version requests look on `PATH` (`python3.12`, `python3`, `python`) and then in pyenv's
/// `versions/` directory, newest first; each candidate is queried (cheaply, via the cache) to
/// confirm its version.
pub fn find_interpreter(
    request: &PythonRequest,
    cache: &Cache,
) -> Result<Interpreter, PythonError> {
    match request {
        PythonRequest::Path(path) => interpreter_at(path, cache),
        PythonRequest::ExecutableName(name) => {
            let found = path_dirs()
                .into_iter()
                .map(|dir| dir.join(name))
                .find(|p| is_executable(p))
                .ok_or_else(|| PythonError::NoMatch {
                    request: name.clone(),
                    searched: "PATH".into(),
                })?;
            Interpreter::query(&resolve_shim(&found).unwrap_or(found), cache)
        }
        PythonRequest::Any => {
            let names = ["python3".to_string(), "python".to_string()];
            let mut errors = Vec::new();
            for candidate in path_candidates(&names) {
                match Interpreter::query(&candidate, cache) {
                    Ok(interpreter) => return Ok(interpreter),
                    Err(err) => errors.push(err),
                }
            }
            Err(errors.pop().unwrap_or_else(|| PythonError::NoMatch {
                request: "python3".into(),
                searched: "PATH".into(),
            }))
        }
        PythonRequest::Version(version) => find_version(version, cache),
    }
}

fn find_version(version: &VersionRequest, cache: &Cache) -> Result<Interpreter, PythonError> {
    let mut seen = HashSet::new();
    let mut candidates = path_candidates(&version.executable_names());
    candidates.extend(pyenv_candidates(version));
    for candidate in candidates {
        let identity = fs_err::canonicalize(&candidate).unwrap_or_else(|_| candidate.clone());
        if !seen.insert(identity) {
            continue;
        }
        match Interpreter::query(&candidate, cache) {
            Ok(interpreter) if version.matches(&interpreter) => return Ok(interpreter),
            Ok(_) => {}
            Err(err) => tracing::debug!("skipping {}: {err}", candidate.display()),
        }
    }
    let mut searched = String::from("PATH");
    if let Some(root) = pyenv_root() {
        searched.push_str(&format!(" and {}", root.join("versions").display()));
    }
    Err(PythonError::NoMatch {
        request: format!("Python {version}"),
        searched,
    })
}

/// An interpreter given by path: the file itself, or the interpreter inside an environment
/// directory.
fn interpreter_at(path: &Path, cache: &Cache) -> Result<Interpreter, PythonError> {
    let path = absolute(path);
    if path.is_dir() {
        let python = environment_python(&path).ok_or(PythonError::NotAnEnvironment { path })?;
        return Interpreter::query(&python, cache);
    }
    if !path.exists() && fs_err::symlink_metadata(&path).is_err() {
        return Err(PythonError::NotFound { path });
    }
    Interpreter::query(&path, cache)
}

/// The interpreter inside an environment directory (a venv or a conda prefix).
fn environment_python(dir: &Path) -> Option<PathBuf> {
    let candidates: &[&str] = if cfg!(windows) {
        &["Scripts/python.exe", "python.exe"]
    } else {
        &["bin/python", "bin/python3"]
    };
    candidates.iter().map(|c| dir.join(c)).find(|p| p.exists())
}

/// Why a particular environment was chosen; shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvironmentSource {
    /// `--python`.
    Flag,
    /// `$VIRTUAL_ENV`.
    VirtualEnv,
    /// `$CONDA_PREFIX`.
    CondaPrefix,
    /// A `.venv` in the working directory or one of its parents.
    DotVenv,
}

impl fmt::Display for EnvironmentSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Flag => "--python",
            Self::VirtualEnv => "VIRTUAL_ENV",
            Self::CondaPrefix => "CONDA_PREFIX",
            Self::DotVenv => ".venv",
        })
    }
}

/// Chooses the environment a command acts on, as pip and uv users expect: `--python`, else
/// `$VIRTUAL_ENV`, else `$CONDA_PREFIX`, else the nearest `.venv` from the working directory up.
pub fn find_environment(
    request: Option<&PythonRequest>,
    cache: &Cache,
) -> Result<(Interpreter, EnvironmentSource), PythonError> {
    if let Some(request) = request.filter(|r| **r != PythonRequest::Any) {
        return Ok((find_interpreter(request, cache)?, EnvironmentSource::Flag));
    }
    for (var, source) in [
        ("VIRTUAL_ENV", EnvironmentSource::VirtualEnv),
        ("CONDA_PREFIX", EnvironmentSource::CondaPrefix),
    ] {
        if let Some(dir) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            let dir = PathBuf::from(dir);
            let python = environment_python(&dir).ok_or_else(|| {
                PythonError::NoEnvironment(format!(
                    "`{var}` is set to `{}`, but there is no Python interpreter in it; \
                     deactivate it or re-create it with `ferry venv`",
                    dir.display()
                ))
            })?;
            return Ok((Interpreter::query(&python, cache)?, source));
        }
    }
    let cwd = std::env::current_dir().map_err(|source| PythonError::Io {
        path: PathBuf::from("."),
        source,
    })?;
    for dir in cwd.ancestors() {
        let venv = dir.join(".venv");
        if venv.is_dir() {
            let python = environment_python(&venv)
                .ok_or_else(|| PythonError::NotAnEnvironment { path: venv.clone() })?;
            return Ok((
                Interpreter::query(&python, cache)?,
                EnvironmentSource::DotVenv,
            ));
        }
    }
    Err(PythonError::NoEnvironment(format!(
        "no Python environment found: `VIRTUAL_ENV` and `CONDA_PREFIX` are not set and there is no \
         `.venv` in `{}` or its parents. Create one with `ferry venv` (and activate it with \
         `source .venv/bin/activate`), or choose an interpreter with `--python`",
        cwd.display()
    )))
}

/// What a command will do to the environment it targets, which decides how it is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetPolicy {
    /// Only reading it (`list`, `show`, `freeze`, `check`, `index`, `compile`, dry runs): the
    /// environment as [`find_environment`] finds it, else the first `python3` on `PATH`.
    Read,
    /// Changing it (`install`, `uninstall`): the environment as [`find_environment`] finds it,
    /// and no fallback, so a missing environment is [`PythonError::NoEnvironment`]. With
    /// `system`, the interpreter itself (`--python`, else the first on `PATH`), even when it is
    /// not in a virtual environment (PEP 668 is checked by the caller).
    Modify { system: bool },
}

/// The interpreter a command targets, chosen by `policy` from the `--python` request.
pub fn find_target(
    request: Option<&PythonRequest>,
    policy: TargetPolicy,
    cache: &Cache,
) -> Result<Interpreter, PythonError> {
    if policy == (TargetPolicy::Modify { system: true }) {
        return find_interpreter(request.unwrap_or(&PythonRequest::Any), cache);
    }
    match find_environment(request, cache) {
        Ok((interpreter, source)) => {
            tracing::info!(
                "using {} (chosen by {source})",
                interpreter.path().display()
            );
            Ok(interpreter)
        }
        Err(PythonError::NoEnvironment(_)) if policy == TargetPolicy::Read => {
            find_interpreter(&PythonRequest::Any, cache)
        }
        Err(err) => Err(err),
    }
}

/// The environment `install` changes, as [`find_install_target`] found it.
#[derive(Debug)]
pub struct InstallTarget {
    pub interpreter: Interpreter,
    /// Set when no environment existed and one was made at `.venv` in the working directory,
    /// from this interpreter.
    pub created_from: Option<Interpreter>,
}

impl InstallTarget {
    /// What to tell the user when a `.venv` was created for the install.
    pub fn created_message(&self) -> Option<String> {
        self.created_from.as_ref().map(|base| {
            format!(
                "No environment was active or found: created one at .venv ({} {}). Activate it with: source .venv/bin/activate",
                base.implementation_display(),
                base.version_string()
            )
        })
    }
}

/// The interpreter `install` changes: [`find_target`] with [`TargetPolicy::Modify`]. When no
/// environment is found, the [`TargetPolicy::Read`] choice if the install goes `elsewhere`
/// (`--target`, `--prefix`, `--root`, `--user`, or nowhere with `--dry-run`), else a new
/// `.venv` in the working directory, made from the first interpreter found.
pub fn find_install_target(
    request: Option<&PythonRequest>,
    system: bool,
    elsewhere: bool,
    cache: &Cache,
) -> Result<InstallTarget, PythonError> {
    let found = |interpreter| InstallTarget {
        interpreter,
        created_from: None,
    };
    match find_target(request, TargetPolicy::Modify { system }, cache) {
        Ok(interpreter) => Ok(found(interpreter)),
        Err(PythonError::NoEnvironment(_)) if elsewhere => {
            Ok(found(find_target(None, TargetPolicy::Read, cache)?))
        }
        Err(PythonError::NoEnvironment(message)) => {
            let base = find_interpreter(&PythonRequest::Any, cache).map_err(|err| {
                PythonError::NoEnvironment(format!(
                    "{message}. No interpreter to create one with was found either: {err}"
                ))
            })?;
            let options = crate::venv::VenvOptions::default();
            let env = crate::venv::create(Path::new(".venv"), &base, &options).map_err(Box::new)?;
            Ok(InstallTarget {
                interpreter: Interpreter::query(&env.python, cache)?,
                created_from: Some(base),
            })
        }
        Err(err) => Err(err),
    }
}

fn path_dirs() -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .filter(|d| !d.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Executables named `names` on `PATH`, in PATH order then name order, with pyenv shims
/// replaced by the interpreter they would run.
fn path_candidates(names: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in path_dirs() {
        for name in names {
            let path = dir.join(name);
            if is_executable(&path) {
                out.push(resolve_shim(&path).unwrap_or(path));
            }
        }
    }
    out
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

fn pyenv_root() -> Option<PathBuf> {
    std::env::var_os("PYENV_ROOT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")))
        .filter(|p| p.is_dir())
}

/// pyenv's installed versions (directory names under `versions/`), newest first.
fn pyenv_versions(root: &Path) -> Vec<String> {
    let Ok(entries) = fs_err::read_dir(root.join("versions")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort_by_key(|name| std::cmp::Reverse(version_key(name)));
    names
}

fn version_key(name: &str) -> Vec<u32> {
    name.split(['.', '-'])
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

fn pyenv_candidates(version: &VersionRequest) -> Vec<PathBuf> {
    let Some(root) = pyenv_root() else {
        return Vec::new();
    };
    let names = version.executable_names();
    pyenv_versions(&root)
        .into_iter()
        .filter(|dir| version.matches_name(dir))
        .filter_map(|dir| {
            let bin = root.join("versions").join(dir).join("bin");
            names.iter().map(|n| bin.join(n)).find(|p| is_executable(p))
        })
        .collect()
}

/// If `path` is a pyenv shim, the interpreter it would run, found the way pyenv finds it
/// (`PYENV_VERSION`, then `.python-version` files from the working directory up, then the
/// global `version` file). `None` when it is not a shim or pyenv would pick the system Python,
/// in which case the shim itself is run.
fn resolve_shim(path: &Path) -> Option<PathBuf> {
    let root = pyenv_root()?;
    let shims = fs_err::canonicalize(root.join("shims")).ok()?;
    let parent = fs_err::canonicalize(path.parent()?).ok()?;
    if parent != shims {
        return None;
    }
    let name = path.file_name()?;
    let selected = selected_pyenv_versions(&root);
    let installed = pyenv_versions(&root);
    for version in selected {
        if version == "system" {
            return None;
        }
        let dir = if root.join("versions").join(&version).is_dir() {
            Some(version.clone())
        } else {
            // pyenv accepts a prefix such as `3.12` for the newest installed 3.12.x.
            installed
                .iter()
                .find(|v| v.starts_with(&format!("{version}.")))
                .cloned()
        };
        if let Some(dir) = dir {
            let candidate = root.join("versions").join(dir).join("bin").join(name);
            if is_executable(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

fn selected_pyenv_versions(root: &Path) -> Vec<String> {
    if let Some(value) = std::env::var("PYENV_VERSION")
        .ok()
        .filter(|v| !v.is_empty())
    {
        return value.split(':').map(str::to_string).collect();
    }
    let start = std::env::var_os("PYENV_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok());
    if let Some(start) = start {
        for dir in start.ancestors() {
            if let Some(versions) = read_version_file(&dir.join(".python-version")) {
                return versions;
            }
        }
    }
    read_version_file(&root.join("version")).unwrap_or_else(|| vec!["system".into()])
}

fn read_version_file(path: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let versions: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(|l| l.split_whitespace().map(str::to_string))
        .collect();
    (!versions.is_empty()).then_some(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(
        implementation: Option<&str>,
        major: u32,
        minor: Option<u32>,
        patch: Option<u32>,
    ) -> PythonRequest {
        PythonRequest::Version(VersionRequest {
            implementation: implementation.map(str::to_string),
            major,
            minor,
            patch,
        })
    }

    #[test]
    fn parses_requests() {
        assert_eq!(PythonRequest::parse("3.12"), v(None, 3, Some(12), None));
        assert_eq!(PythonRequest::parse("3"), v(None, 3, None, None));
        assert_eq!(
            PythonRequest::parse("3.11.7"),
            v(None, 3, Some(11), Some(7))
        );
        assert_eq!(
            PythonRequest::parse("python3.12"),
            v(None, 3, Some(12), None)
        );
        assert_eq!(
            PythonRequest::parse("cpython@3.13"),
            v(Some("cpython"), 3, Some(13), None)
        );
        assert_eq!(
            PythonRequest::parse("cp39"),
            v(Some("cpython"), 3, Some(9), None)
        );
        assert_eq!(
            PythonRequest::parse("pypy3.10"),
            v(Some("pypy"), 3, Some(10), None)
        );
        assert_eq!(
            PythonRequest::parse("/usr/bin/python3"),
            PythonRequest::Path("/usr/bin/python3".into())
        );
        assert_eq!(
            PythonRequest::parse(".venv"),
            PythonRequest::Path(".venv".into())
        );
        assert_eq!(
            PythonRequest::parse("python3-dbg"),
            PythonRequest::ExecutableName("python3-dbg".into())
        );
        assert_eq!(PythonRequest::parse(""), PythonRequest::Any);
    }

    #[test]
    fn version_names_match_by_prefix() {
        let PythonRequest::Version(req) = PythonRequest::parse("3.1") else {
            unreachable!()
        };
        assert!(req.matches_name("3.1.4"));
        assert!(!req.matches_name("3.12.1"));
        assert!(!req.matches_name("pypy3.10-7.3.12"));
    }

    #[test]
    fn pyenv_versions_sort_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        for v in ["3.9.18", "3.12.1", "3.10.13", "2.7.18"] {
            fs_err::create_dir_all(dir.path().join("versions").join(v)).unwrap();
        }
        assert_eq!(
            pyenv_versions(dir.path()),
            ["3.12.1", "3.10.13", "3.9.18", "2.7.18"]
        );
    }

    #[test]
    fn version_files_skip_comments() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".python-version");
        fs_err::write(&file, "# pinned\n3.12.1\n3.11.7 system\n").unwrap();
        assert_eq!(
            read_version_file(&file).unwrap(),
            ["3.12.1", "3.11.7", "system"]
        );
    }
}
