//! Requirements from the command line, pip requirements files and `pyproject.toml`.
//!
//! The requirements-file grammar follows pip: one requirement per line, `#` comments (at the
//! start of a line or after whitespace), `\` line continuations, `${VAR}` environment
//! variables, nested `-r`/`--requirement` and `-c`/`--constraint` files relative to the file
//! that names them, per-requirement `--hash` options, and these global options: `-i`,
//! `--index-url`, `--extra-index-url`, `-f`, `--find-links`, `--no-index`, `--pre`,
//! `--trusted-host`, `--prefer-binary`, `--only-binary`, `--no-binary`, `--require-hashes`,
//! `--use-feature`, and `-e`/`--editable`. A line that is a path or URL rather than a named
//! requirement becomes a [`SourceEntry`]. Anything else is an error that names the file and
//! line, never silently ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use pep508_rs::Requirement;

use crate::InputError;

/// Where a requirement was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    CommandLine,
    File { path: PathBuf, line: usize },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CommandLine => f.write_str("the command line"),
            // Line 0: a file that is not line-oriented (pyproject.toml, a script's block).
            Self::File { path, line: 0 } => write!(f, "{}", path.display()),
            Self::File { path, line } => write!(f, "{} line {line}", path.display()),
        }
    }
}

/// One requirement and where it came from.
#[derive(Debug, Clone)]
pub struct RequirementEntry {
    pub requirement: Requirement,
    pub origin: Origin,
    /// `--hash=algo:hex` options given with it, checked when read.
    pub hashes: Vec<ferry_types::HashDigest>,
    /// `--config-settings KEY=VALUE` options given with it (for its build backend).
    pub config_settings: Vec<(String, String)>,
}

/// A requirement named by where it is rather than by a project name: a local project
/// directory, a local archive or an archive URL (`.`, `./dist/pkg-1.0.tar.gz`, `.[test]`), or
/// an `-e`/`--editable` project. Its name comes from its metadata once the resolver reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    /// An absolute path (relative ones are made absolute against the requirements file's
    /// directory, or the working directory on the command line) or a URL.
    pub location: String,
    /// Extras written after it (`.[test]`), normalized.
    pub extras: Vec<String>,
    /// Installed in development mode (PEP 660).
    pub editable: bool,
    pub origin: Origin,
}

impl SourceEntry {
    /// Parses `text` (a path, possibly with `[extras]`, or a URL), relative to `base`.
    pub fn parse(text: &str, base: &Path, editable: bool, origin: Origin) -> Self {
        let text = text.trim();
        let (location, extras) = match text.strip_suffix(']').and_then(|t| t.rsplit_once('[')) {
            Some((location, extras)) if !text.contains("://") || !location.ends_with('/') => (
                location,
                extras
                    .split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(normalize_extra)
                    .collect(),
            ),
            _ => (text, Vec::new()),
        };
        let location = if location.contains("://") {
            location.to_string()
        } else {
            let path = match location.strip_prefix("~/") {
                Some(rest) => std::env::var_os("HOME").map_or_else(
                    || PathBuf::from(location),
                    |home| Path::new(&home).join(rest),
                ),
                None => PathBuf::from(location),
            };
            let path = base.join(path);
            let path = std::path::absolute(&path).unwrap_or(path);
            clean(&path).display().to_string()
        };
        Self {
            location,
            extras,
            editable,
            origin,
        }
    }

    /// The location as a URL (`file://` for paths).
    pub fn url(&self) -> Result<url::Url, String> {
        if self.location.contains("://") {
            url::Url::parse(&self.location).map_err(|e| format!("`{}`: {e}", self.location))
        } else {
            url::Url::from_file_path(&self.location)
                .map_err(|()| format!("`{}` is not an absolute path", self.location))
        }
    }
}

/// `path` without `.` components and with `..` applied lexically (`/a/b/../c` is `/a/c`).
fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push(component);
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The requirements of dependency group `name` (normalized) and of the groups it includes
/// (PEP 735), failing on unknown names and include cycles.
fn collect_group(
    groups: &BTreeMap<String, &toml::Value>,
    name: &str,
    path: &Path,
    stack: &mut Vec<String>,
    out: &mut Vec<RequirementEntry>,
) -> Result<(), String> {
    if stack.iter().any(|g| g == name) {
        return Err(format!(
            "dependency group `{name}` includes itself ({} -> {name})",
            stack.join(" -> ")
        ));
    }
    let Some(items) = groups.get(name) else {
        let known: Vec<&str> = groups.keys().map(String::as_str).collect();
        return Err(format!(
            "no dependency group `{name}` (it has: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    let items = items
        .as_array()
        .ok_or_else(|| format!("dependency group `{name}` is not a list"))?;
    stack.push(name.to_string());
    for item in items {
        if let Some(text) = item.as_str() {
            let origin = Origin::File {
                path: path.to_path_buf(),
                line: 0,
            };
            out.push(parse_requirement(text, origin).map_err(|e| e.to_string())?);
        } else if let Some(include) = item
            .as_table()
            .and_then(|t| t.get("include-group"))
            .and_then(|g| g.as_str())
        {
            collect_group(groups, &normalize_name(include), path, stack, out)?;
        } else {
            return Err(format!(
                "dependency group `{name}` has an entry that is neither a requirement nor an include-group: {item}"
            ));
        }
    }
    stack.pop();
    Ok(())
}

/// The TOML of a PEP 723 `# /// script` block: the lines between `# /// script` and `# ///`,
/// each without its leading `#` and one space. `None` without one; an error for two, or for
/// one that is never closed.
fn script_block(text: &str) -> Result<Option<String>, String> {
    let mut found = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_end() != "# /// script" {
            continue;
        }
        if found.is_some() {
            return Err("it has two `# /// script` blocks (PEP 723 allows one)".into());
        }
        let mut body = String::new();
        let mut closed = false;
        for line in lines.by_ref() {
            if line.trim_end() == "# ///" {
                closed = true;
                break;
            }
            let Some(rest) = line.strip_prefix('#') else {
                return Err(format!(
                    "the `# /// script` block has a line without `#`: {line:?}"
                ));
            };
            body.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            body.push('\n');
        }
        if !closed {
            return Err("its `# /// script` block is never closed with `# ///`".into());
        }
        found = Some(body);
    }
    Ok(found)
}

/// Whether a requirement as typed is a path or URL rather than `name[extras] spec` or
/// `name @ URL`.
pub fn is_unnamed(requirement: &str) -> bool {
    !looks_named(requirement)
}

/// The global options a requirements file sets. pip applies them as if they were given on the
/// command line: lists add up, switches turn on, and `--index-url` replaces the main index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileOptions {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub no_index: bool,
    /// Relative local paths already made relative to the file that named them.
    pub find_links: Vec<String>,
    pub trusted_hosts: Vec<String>,
    pub pre: bool,
    pub prefer_binary: bool,
    pub only_binary: Vec<String>,
    pub no_binary: Vec<String>,
    pub require_hashes: bool,
    /// `--use-feature` names (pip's opt-in features; ferry has its own behaviour for each).
    pub use_features: Vec<String>,
}

/// Everything read from the inputs.
#[derive(Debug, Clone, Default)]
pub struct RequirementsSpec {
    pub requirements: Vec<RequirementEntry>,
    pub constraints: Vec<RequirementEntry>,
    /// Global options found in requirements files.
    pub options: FileOptions,
    /// Requirements given by location (paths, archives, `-e` projects), in order.
    pub sources: Vec<SourceEntry>,
    /// The files read, in order (for `# via -r FILE` annotations).
    pub files: Vec<PathBuf>,
    /// `[project.optional-dependencies]` of any pyproject.toml read, by normalized extra name.
    pub optional: BTreeMap<String, Vec<RequirementEntry>>,
    /// Python versions the inputs require (a PEP 723 script's `requires-python`), with where
    /// each was written; the resolver refuses a target outside them.
    pub requires_python: Vec<(String, Origin)>,
}

/// Parses one PEP 508 requirement.
pub fn parse_requirement(text: &str, origin: Origin) -> Result<RequirementEntry, InputError> {
    let requirement =
        ferry_types::parse_requirement(text.trim()).map_err(|e| InputError::Requirement {
            text: text.trim().to_string(),
            origin: origin.to_string(),
            message: first_line(&e),
        })?;
    Ok(RequirementEntry {
        requirement,
        origin,
        hashes: Vec::new(),
        config_settings: Vec::new(),
    })
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().to_string()
}

impl RequirementsSpec {
    /// Adds the requirements of a file: a requirements file, or a `pyproject.toml`.
    pub fn add_file(&mut self, path: &Path, constraint: bool) -> Result<(), InputError> {
        if path.file_name().is_some_and(|n| n == "pyproject.toml") {
            return self.add_pyproject(path);
        }
        self.read_requirements(path, constraint, 0)
    }

    fn read_requirements(
        &mut self,
        path: &Path,
        constraint: bool,
        depth: usize,
    ) -> Result<(), InputError> {
        if depth > 32 {
            return Err(InputError::Parse {
                path: path.to_path_buf(),
                line: 0,
                message: "requirements files nest more than 32 levels deep (a cycle?)".into(),
            });
        }
        let text = fs_err::read_to_string(path).map_err(|source| InputError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.files.push(path.to_path_buf());
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for (line_no, line) in logical_lines(&text) {
            let err = |message: String| InputError::Parse {
                path: path.to_path_buf(),
                line: line_no,
                message,
            };
            let line = expand_env(&line);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('-') {
                let (option, value) = split_option(line);
                let needs = |value: &str| {
                    if value.is_empty() {
                        Err(err(format!("{option} needs a value")))
                    } else {
                        Ok(value.to_string())
                    }
                };
                let nested = |value: &str| {
                    if value.is_empty() {
                        return Err(err(format!("{option} needs a file")));
                    }
                    Ok(dir.join(value))
                };
                match option.as_str() {
                    "-r" | "--requirement" => {
                        self.read_requirements(&nested(&value)?, constraint, depth + 1)?
                    }
                    "-c" | "--constraint" => {
                        self.read_requirements(&nested(&value)?, true, depth + 1)?
                    }
                    "-i" | "--index-url" => self.options.index_url = Some(needs(&value)?),
                    "--extra-index-url" => self.options.extra_index_urls.push(needs(&value)?),
                    "-f" | "--find-links" => {
                        let value = needs(&value)?;
                        // Relative local paths are relative to the requirements file.
                        let value = if value.contains("://") || Path::new(&value).is_absolute() {
                            value
                        } else {
                            dir.join(&value).display().to_string()
                        };
                        self.options.find_links.push(value);
                    }
                    "--trusted-host" => self.options.trusted_hosts.push(needs(&value)?),
                    "--only-binary" => self.options.only_binary.push(needs(&value)?),
                    "--no-binary" => self.options.no_binary.push(needs(&value)?),
                    "--use-feature" => self.options.use_features.push(needs(&value)?),
                    "--no-index" => self.options.no_index = true,
                    "--pre" => self.options.pre = true,
                    "--prefer-binary" => self.options.prefer_binary = true,
                    "--require-hashes" => self.options.require_hashes = true,
                    "-e" | "--editable" => {
                        let origin = Origin::File {
                            path: path.to_path_buf(),
                            line: line_no,
                        };
                        let entry = SourceEntry::parse(&needs(&value)?, &dir, true, origin);
                        self.sources.push(entry);
                    }
                    other => {
                        return Err(err(format!(
                            "`{other}` is not an option pip accepts in requirements files"
                        )))
                    }
                }
                continue;
            }
            // A requirement, possibly followed by per-requirement options (`--hash=...`).
            let (requirement, options) = split_requirement_options(line);
            let origin = Origin::File {
                path: path.to_path_buf(),
                line: line_no,
            };
            if !looks_named(requirement) {
                if constraint {
                    return Err(err(format!(
                        "`{requirement}` is a path or URL without a project name, which a constraints file cannot hold; write it as `NAME @ URL`"
                    )));
                }
                if let Some(option) = options.first() {
                    return Err(err(format!(
                        "`{option}` cannot follow a path or URL; write the requirement as `NAME @ URL {option}`"
                    )));
                }
                self.sources
                    .push(SourceEntry::parse(requirement, &dir, false, origin));
                continue;
            }
            let mut entry = parse_requirement(requirement, origin)?;
            let mut options = options.into_iter();
            while let Some(option) = options.next() {
                let (name, value) = match option.split_once('=') {
                    Some((name, value)) => (name, value.to_string()),
                    // `--hash sha256:...`: the value is the next word.
                    None => (option, options.next().unwrap_or_default().to_string()),
                };
                match name {
                    "--hash" if !value.is_empty() => entry.hashes.push(
                        value
                            .parse()
                            .map_err(|message: String| err(format!("--hash: {message}")))?,
                    ),
                    "--config-settings" | "-C" => match value.split_once('=') {
                        Some((key, val)) => entry
                            .config_settings
                            .push((key.to_string(), val.to_string())),
                        None => {
                            return Err(err(format!(
                                "--config-settings takes KEY=VALUE, found `{value}`"
                            )))
                        }
                    },
                    "--global-option" | "--build-option" => {
                        return Err(err(format!(
                            "`{name}` (setup.py options) is not supported; pip has deprecated it in favour of --config-settings"
                        )))
                    }
                    _ => {
                        return Err(err(format!(
                            "`{option}` is not a per-requirement option pip accepts (--hash, --config-settings)"
                        )))
                    }
                }
            }
            if constraint {
                self.constraints.push(entry);
            } else {
                self.requirements.push(entry);
            }
        }
        Ok(())
    }

    /// `[project] dependencies` and `[project.optional-dependencies]`.
    fn add_pyproject(&mut self, path: &Path) -> Result<(), InputError> {
        let text = fs_err::read_to_string(path).map_err(|source| InputError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let doc: toml::Table = toml::from_str(&text).map_err(|e| InputError::Parse {
            path: path.to_path_buf(),
            line: 0,
            message: first_line(&e.to_string()),
        })?;
        let Some(project) = doc.get("project").and_then(|p| p.as_table()) else {
            return Err(InputError::Parse {
                path: path.to_path_buf(),
                line: 0,
                message: "no [project] table".into(),
            });
        };
        if project
            .get("dynamic")
            .and_then(|d| d.as_array())
            .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("dependencies")))
        {
            return Err(InputError::Parse {
                path: path.to_path_buf(),
                line: 0,
                message:
                    "its dependencies are dynamic: they need a build, which ferry cannot do yet"
                        .into(),
            });
        }
        self.files.push(path.to_path_buf());
        let parse_list =
            |value: Option<&toml::Value>| -> Result<Vec<RequirementEntry>, InputError> {
                let mut out = Vec::new();
                for (index, item) in value
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let text = item.as_str().ok_or_else(|| InputError::Parse {
                        path: path.to_path_buf(),
                        line: 0,
                        message: format!("dependency {index} is not a string"),
                    })?;
                    out.push(parse_requirement(
                        text,
                        Origin::File {
                            path: path.to_path_buf(),
                            line: 0,
                        },
                    )?);
                }
                Ok(out)
            };
        self.requirements
            .extend(parse_list(project.get("dependencies"))?);
        if let Some(optional) = project
            .get("optional-dependencies")
            .and_then(|o| o.as_table())
        {
            for (extra, list) in optional {
                let name = normalize_extra(extra);
                let entries = parse_list(Some(list))?;
                self.optional.entry(name).or_default().extend(entries);
            }
        }
        Ok(())
    }

    /// Adds a PEP 735 dependency group (`--group NAME`, or `--group PATH:NAME` for another
    /// `pyproject.toml`; without a path, the one in `cwd`), with the groups it includes.
    pub fn add_group(&mut self, group: &str, cwd: &Path) -> Result<(), InputError> {
        let (path, name) = match group.rsplit_once(':') {
            Some((path, name)) => (cwd.join(path), name),
            None => (cwd.join("pyproject.toml"), group),
        };
        let bad = |message: String| InputError::Parse {
            path: path.clone(),
            line: 0,
            message,
        };
        let text = fs_err::read_to_string(&path).map_err(|source| InputError::Read {
            path: path.clone(),
            source,
        })?;
        let doc: toml::Table =
            toml::from_str(&text).map_err(|e| bad(first_line(&e.to_string())))?;
        let groups: BTreeMap<String, &toml::Value> = doc
            .get("dependency-groups")
            .and_then(|g| g.as_table())
            .map(|t| t.iter().map(|(k, v)| (normalize_name(k), v)).collect())
            .unwrap_or_default();
        let mut out = Vec::new();
        let mut stack = Vec::new();
        collect_group(&groups, &normalize_name(name), &path, &mut stack, &mut out).map_err(bad)?;
        if !self.files.contains(&path) {
            self.files.push(path.clone());
        }
        self.requirements.extend(out);
        Ok(())
    }

    /// Adds the dependencies of a PEP 723 script's `# /// script` block, and its
    /// `requires-python` (`--requirements-from-script`).
    pub fn add_script(&mut self, path: &Path) -> Result<(), InputError> {
        let bad = |message: String| InputError::Parse {
            path: path.to_path_buf(),
            line: 0,
            message,
        };
        let text = fs_err::read_to_string(path).map_err(|source| InputError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let block = script_block(&text)
            .map_err(bad)?
            .ok_or_else(|| bad("it has no `# /// script` metadata block (PEP 723)".into()))?;
        let doc: toml::Table =
            toml::from_str(&block).map_err(|e| bad(first_line(&e.to_string())))?;
        let origin = Origin::File {
            path: path.to_path_buf(),
            line: 0,
        };
        for (index, item) in doc
            .get("dependencies")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
            .enumerate()
        {
            let text = item
                .as_str()
                .ok_or_else(|| bad(format!("dependency {index} is not a string")))?;
            self.requirements
                .push(parse_requirement(text, origin.clone())?);
        }
        if let Some(spec) = doc.get("requires-python").and_then(|r| r.as_str()) {
            self.requires_python.push((spec.to_string(), origin));
        }
        self.files.push(path.to_path_buf());
        Ok(())
    }

    /// pip's rules for hash-checking mode: every named requirement pinned to one version (`==`
    /// without a wildcard, or `===`) or given by URL, and no editables or directories (they
    /// have no single file to hash). `require_hashes` is `--require-hashes`; a requirement with
    /// `--hash` turns the mode on too.
    pub fn check_hash_mode(&self, require_hashes: bool) -> Result<(), InputError> {
        let on = require_hashes || self.requirements.iter().any(|r| !r.hashes.is_empty());
        if !on {
            return Ok(());
        }
        let unpinned: Vec<String> = self
            .requirements
            .iter()
            .filter(|entry| match &entry.requirement.version_or_url {
                Some(pep508_rs::VersionOrUrl::VersionSpecifier(specifiers)) => {
                    let pinned = specifiers.iter().count() == 1
                        && specifiers.iter().all(|s| {
                            matches!(
                                s.operator(),
                                pep508_rs::pep440_rs::Operator::Equal
                                    | pep508_rs::pep440_rs::Operator::ExactEqual
                            )
                        });
                    !pinned
                }
                Some(pep508_rs::VersionOrUrl::Url(_)) => false,
                None => true,
            })
            .map(|entry| format!("{} (from {})", entry.requirement, entry.origin))
            .collect();
        if !unpinned.is_empty() {
            return Err(InputError::HashMode(format!(
                "every requirement must be pinned to one version with ==; these are not: {}",
                unpinned.join(", ")
            )));
        }
        if let Some(source) = self
            .sources
            .iter()
            .find(|s| s.editable || std::path::Path::new(&s.location).is_dir())
        {
            return Err(InputError::HashMode(format!(
                "{}{} (from {}) cannot be installed: a project directory has no single file to hash",
                if source.editable { "-e " } else { "" },
                source.location,
                source.origin
            )));
        }
        Ok(())
    }

    /// Adds `--extra NAME` dependencies from pyproject.toml files read so far; an extra none
    /// of them has is an error that lists those they have.
    pub fn select_extra(&mut self, extra: &str) -> Result<(), InputError> {
        let name = normalize_extra(extra);
        if let Some(entries) = self.optional.get(&name).cloned() {
            self.requirements.extend(entries);
            return Ok(());
        }
        let known: Vec<&str> = self.optional.keys().map(String::as_str).collect();
        let message = if !self.files.iter().any(|f| f.ends_with("pyproject.toml")) {
            "extras come from a pyproject.toml: give it with -r".to_string()
        } else if known.is_empty() {
            "the pyproject.toml read has no [project.optional-dependencies]".to_string()
        } else {
            format!("no such extra; the project has {}", known.join(", "))
        };
        Err(InputError::UnknownExtra {
            extra: extra.to_string(),
            message,
        })
    }

    /// `--all-extras`: every extra of the pyproject.toml files read so far.
    pub fn select_all_extras(&mut self) {
        let all: Vec<RequirementEntry> = self.optional.values().flatten().cloned().collect();
        self.requirements.extend(all);
    }
}

/// PEP 503 project name normalization (lowercase, runs of `-_.` become `-`), which PEP 685
/// also prescribes for extra names.
pub fn normalize_name(name: &str) -> String {
    ferry_types::normalize(name)
}

/// PEP 685 extra name normalization (the same rule as project names).
pub fn normalize_extra(extra: &str) -> String {
    normalize_name(extra)
}

/// Joins `\` continuations and strips comments; yields `(first line number, text)`.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (index, raw) in text.lines().enumerate() {
        if current.is_empty() {
            start = index + 1;
        }
        let line = strip_comment(raw);
        if let Some(stripped) = line.strip_suffix('\\') {
            current.push_str(stripped);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        out.push((start, std::mem::take(&mut current)));
    }
    if !current.trim().is_empty() {
        out.push((start, current));
    }
    out
}

fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return line[..i].trim_end();
        }
    }
    line.trim_end()
}

/// `${NAME}` (upper-case letters, digits, `_`) from the environment; unknown ones stay as written.
fn expand_env(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end)
                if after[..end]
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    && end > 0 =>
            {
                match std::env::var(&after[..end]) {
                    Ok(value) => out.push_str(&value),
                    Err(_) => out.push_str(&rest[start..start + 3 + end]),
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `-r file`, `-rfile`, `--requirement=file`, `--requirement file` → (option, value).
fn split_option(line: &str) -> (String, String) {
    if let Some(long) = line.strip_prefix("--") {
        let end = long
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(long.len());
        let option = format!("--{}", &long[..end]);
        let value = long[end..].trim_start_matches('=').trim().to_string();
        return (option, value);
    }
    let option: String = line.chars().take(2).collect();
    let value = line[option.len()..].trim().to_string();
    (option, value)
}

/// Splits trailing ` --option=value` parts off a requirement line.
fn split_requirement_options(line: &str) -> (&str, Vec<&str>) {
    match line.find(" --") {
        Some(index) => (
            line[..index].trim(),
            line[index..].split_whitespace().collect(),
        ),
        None => (line, Vec::new()),
    }
}

/// Whether a requirement starts with a project name (rather than a path or URL).
fn looks_named(requirement: &str) -> bool {
    let first = requirement.trim_start();
    // A URL is named only as `name @ URL`: the `@` comes before its `://` (a VCS URL's own
    // `@REF` or `user@` comes after).
    let before_scheme = first.split("://").next().unwrap_or(first);
    if first.starts_with(['.', '/', '~']) || first.contains("://") && !before_scheme.contains('@') {
        return false;
    }
    first
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcs_urls_are_unnamed_unless_written_name_at_url() {
        assert!(is_unnamed("git+https://host/repo.git@v1#egg=pkg"));
        assert!(is_unnamed("git+ssh://git@host/repo.git"));
        assert!(is_unnamed("https://host/pkg-1.0.tar.gz"));
        assert!(!is_unnamed("pkg @ git+https://host/repo.git@v1"));
        assert!(!is_unnamed("pkg@git+ssh://git@host/repo.git"));
        assert!(!is_unnamed("pkg>=1"));
        assert!(is_unnamed("./dir"));
    }

    #[test]
    fn files_nest_continue_comment_and_collect_options() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("sub/base.txt"),
            "six>=1.0 # inline comment\n-c cons.txt\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("sub/cons.txt"), "six<2\n").unwrap();
        std::fs::write(
            dir.path().join("req.txt"),
            format!(
                "# top comment\n-r sub/base.txt\n--index-url http://127.0.0.1:1/simple/\nrequests[socks, security] >= 2.0 ; \\\n    python_version >= '3.8'\nfoo==1.0 --hash=sha256:{}\n--pre\n",
                "ab".repeat(32)
            ),
        )
        .unwrap();
        let mut spec = RequirementsSpec::default();
        spec.add_file(&dir.path().join("req.txt"), false).unwrap();
        let names: Vec<String> = spec
            .requirements
            .iter()
            .map(|r| r.requirement.name.to_string())
            .collect();
        assert_eq!(names, ["six", "requests", "foo"]);
        assert_eq!(spec.constraints.len(), 1);
        assert_eq!(spec.requirements[1].requirement.extras.len(), 2);
        assert!(matches!(
            spec.requirements[1].origin,
            Origin::File { line: 4, .. }
        ));
        assert_eq!(
            spec.requirements[2].hashes[0].to_string(),
            format!("sha256:{}", "ab".repeat(32))
        );
        assert_eq!(
            spec.options.index_url.as_deref(),
            Some("http://127.0.0.1:1/simple/")
        );
        assert!(spec.options.pre);
    }

    #[test]
    fn every_option_pip_accepts_in_files_is_typed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.txt");
        std::fs::write(
            &path,
            format!(
                "--require-hashes\n--pre\n--prefer-binary\n--only-binary :all:\n--no-binary=six\n\
                 --trusted-host example.invalid\n--use-feature truststore\n--no-index\n\
                 -f links\n--extra-index-url http://127.0.0.1:1/x/\n-e ./proj\n\
                 six==1.0 --hash sha512:{} --config-settings=k=v\n",
                "cd".repeat(64)
            ),
        )
        .unwrap();
        let mut spec = RequirementsSpec::default();
        spec.add_file(&path, false).unwrap();
        let o = &spec.options;
        assert!(o.require_hashes && o.pre && o.prefer_binary && o.no_index);
        assert_eq!(o.only_binary, [":all:"]);
        assert_eq!(o.no_binary, ["six"]);
        assert_eq!(o.trusted_hosts, ["example.invalid"]);
        assert_eq!(o.use_features, ["truststore"]);
        assert_eq!(o.extra_index_urls, ["http://127.0.0.1:1/x/"]);
        assert_eq!(
            o.find_links,
            [dir.path().join("links").display().to_string()]
        );
        assert_eq!(spec.sources.len(), 1);
        assert!(spec.sources[0].editable);
        assert!(spec.sources[0].location.ends_with("proj"));
        assert_eq!(
            spec.requirements[0].hashes[0].algorithm,
            ferry_types::HashAlgorithm::Sha512
        );
        assert_eq!(
            spec.requirements[0].config_settings,
            [("k".to_string(), "v".to_string())]
        );
    }

    #[test]
    fn unsupported_lines_fail_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        for (text, needle) in [
            ("--isolated\n", "--isolated"),
            ("six --global-option=x\n", "--global-option"),
            ("six --hash\n", "--hash"),
            ("six --hash=md5:00\n", "md5"),
            ("--extra-index-url\n", "needs a value"),
            ("./local/path --hash=sha256:00\n", "cannot follow a path"),
            ("six===\n", "six==="),
            ("-r missing.txt\n", "missing.txt"),
        ] {
            let path = dir.path().join("r.txt");
            std::fs::write(&path, text).unwrap();
            let err = RequirementsSpec::default()
                .add_file(&path, false)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
            if !text.starts_with("-r") {
                assert!(err.contains("r.txt"), "{err}");
            }
        }
    }

    #[test]
    fn pyproject_dependencies_and_extras() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyproject.toml");
        std::fs::write(
            &path,
            "[project]\nname = \"x\"\ndependencies = [\"six>=1\", \"attrs\"]\n[project.optional-dependencies]\nDev_Tools = [\"pytest\"]\n",
        )
        .unwrap();
        let mut spec = RequirementsSpec::default();
        spec.add_file(&path, false).unwrap();
        assert_eq!(spec.requirements.len(), 2);
        spec.select_extra("dev-tools").unwrap();
        assert_eq!(spec.requirements.len(), 3);
        assert!(spec.select_extra("nope").is_err());
    }

    #[test]
    fn env_vars_expand() {
        std::env::set_var("FERRY_TEST_PIN", "1.2");
        assert_eq!(
            expand_env("six==${FERRY_TEST_PIN} ${lower} ${NOT_SET_ANYWHERE_X}"),
            "six==1.2 ${lower} ${NOT_SET_ANYWHERE_X}"
        );
    }
}
