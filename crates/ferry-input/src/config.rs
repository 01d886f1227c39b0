//! pip's configuration files and `PIP_*` environment variables.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::InputError;

/// Where a configuration value came from, for messages and `-v` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// A configuration file and its section.
    File { path: PathBuf, section: String },
    /// A `PIP_*` environment variable.
    Env(String),
    /// A general option on the command line (`--no-input`, `--proxy`, ...), which pip's
    /// commands read like any configured value.
    CommandLine(String),
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { path, section } => write!(f, "[{section}] in {}", path.display()),
            Self::Env(var) => write!(f, "environment variable {var}"),
            Self::CommandLine(flag) => write!(f, "the command line option {flag}"),
        }
    }
}

/// One configured value and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigValue {
    pub value: String,
    pub source: ConfigSource,
}

/// pip's configuration, loaded once per run.
#[derive(Debug, Clone, Default)]
pub struct PipConfig {
    /// `section -> key -> value`, keys normalized (`index_url` → `index-url`), later files
    /// having overwritten earlier ones.
    files: BTreeMap<String, BTreeMap<String, ConfigValue>>,
    /// `PIP_*` variables, keyed by normalized option name.
    env: BTreeMap<String, ConfigValue>,
    /// General options given on the command line, above everything else.
    command_line: BTreeMap<String, ConfigValue>,
    /// The files that were read, in load order.
    loaded: Vec<PathBuf>,
    /// Loaded as `--isolated` asks: no `PIP_*` variables, no user files.
    isolated: bool,
}

impl PipConfig {
    /// Loads configuration the way pip does from the real process environment.
    pub fn load() -> Result<Self, InputError> {
        Self::load_from(&std::env::vars().collect())
    }

    /// Loads configuration as pip's `--isolated` does: `PIP_*` variables and the user's files
    /// are not read (`PIP_CONFIG_FILE`'s file, the global and the site files are).
    pub fn load_isolated() -> Result<Self, InputError> {
        Self::load_from_with(&std::env::vars().collect(), true)
    }

    /// Loads configuration with `env` standing in for the process environment.
    pub fn load_from(env: &BTreeMap<String, String>) -> Result<Self, InputError> {
        Self::load_from_with(env, false)
    }

    fn load_from_with(env: &BTreeMap<String, String>, isolated: bool) -> Result<Self, InputError> {
        let var = |name: &str| {
            if isolated && name == "HOME" {
                return None;
            }
            env.get(name).cloned()
        };
        let mut config = Self {
            isolated,
            ..Self::default()
        };
        let config_file = var("PIP_CONFIG_FILE").filter(|v| !v.is_empty());
        // pip: pointing PIP_CONFIG_FILE at the null device disables every file.
        if !matches!(config_file.as_deref(), Some("/dev/null" | "nul")) {
            for path in config_files(&var, config_file.as_deref()) {
                config.read_file(&path)?;
            }
        }
        if !isolated {
            for (key, value) in env {
                config.add_env(key, value.clone());
            }
        }
        Ok(config)
    }

    /// Sets a general option given on the command line (`key` as in pip.conf, `flag` as typed),
    /// so that it is read like every other value and wins over all of them.
    pub fn set_command_line(&mut self, key: &str, flag: &str, value: &str) {
        self.command_line.insert(
            normalize_key(key),
            ConfigValue {
                value: value.to_string(),
                source: ConfigSource::CommandLine(flag.to_string()),
            },
        );
    }

    /// The configuration files pip would consider in this process's environment, in load order
    /// (later ones override earlier ones), whether or not they exist.
    pub fn candidate_files() -> Vec<PathBuf> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let var = |name: &str| env.get(name).cloned();
        let config_file = var("PIP_CONFIG_FILE").filter(|v| !v.is_empty());
        if matches!(config_file.as_deref(), Some("/dev/null" | "nul")) {
            return Vec::new();
        }
        config_files(&var, config_file.as_deref())
    }

    /// Builds a configuration from explicit environment pairs only (no files).
    pub fn from_env_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut config = Self::default();
        for (key, value) in pairs {
            config.add_env(key, value.to_string());
        }
        config
    }

    fn add_env(&mut self, key: &str, value: String) {
        let Some(name) = key.strip_prefix("PIP_") else {
            return;
        };
        if name == "CONFIG_FILE" || value.is_empty() {
            return;
        }
        let option = normalize_key(name);
        self.env.insert(
            option,
            ConfigValue {
                value,
                source: ConfigSource::Env(key.to_string()),
            },
        );
    }

    /// Reads one INI file; a missing file is skipped, as pip does.
    /// One file's `section.key` values in the file's order (a key given twice keeps its first
    /// place and its last value), as `pip config debug` prints a file; nothing if it is
    /// missing.
    pub fn file_entries(path: &Path) -> Result<Vec<(String, String)>, InputError> {
        let text = match fs_err::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(InputError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let mut out: Vec<(String, String)> = Vec::new();
        for (section, key, value) in parse_ini(path, &text)? {
            let name = format!("{section}.{}", normalize_key(&key));
            match out.iter_mut().find(|(n, _)| *n == name) {
                Some(entry) => entry.1 = value,
                None => out.push((name, value)),
            }
        }
        Ok(out)
    }

    pub fn read_file(&mut self, path: &Path) -> Result<(), InputError> {
        let text = match fs_err::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(InputError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        tracing::debug!("reading pip configuration {}", path.display());
        for (section, key, value) in parse_ini(path, &text)? {
            self.files.entry(section.clone()).or_default().insert(
                normalize_key(&key),
                ConfigValue {
                    value,
                    source: ConfigSource::File {
                        path: path.to_path_buf(),
                        section,
                    },
                },
            );
        }
        self.loaded.push(path.to_path_buf());
        Ok(())
    }

    /// How a source ranks: the command line, then `PIP_*`, a command section, `[global]`.
    fn rank(&self, source: &ConfigSource) -> u8 {
        match source {
            ConfigSource::CommandLine(_) => 0,
            ConfigSource::Env(_) => 1,
            ConfigSource::File { section, .. } if section == "global" => 3,
            ConfigSource::File { .. } => 2,
        }
    }

    /// The files read, in load order.
    pub fn loaded_files(&self) -> &[PathBuf] {
        &self.loaded
    }

    /// Whether this was loaded for `--isolated` (no `PIP_*` variables, no user files).
    pub fn is_isolated(&self) -> bool {
        self.isolated
    }

    /// The value of `option` (a long option name such as `index-url`) for `command`:
    /// `PIP_INDEX_URL`, else `[command]`, else `[global]`. Empty values count as unset.
    pub fn get(&self, command: &str, option: &str) -> Option<&ConfigValue> {
        let option = normalize_key(option);
        self.command_line
            .get(&option)
            .or_else(|| self.env.get(&option))
            .or_else(|| self.files.get(command).and_then(|s| s.get(&option)))
            .or_else(|| self.files.get("global").and_then(|s| s.get(&option)))
            .filter(|v| !v.value.trim().is_empty())
    }

    /// A list option (`extra-index-url`, `find-links`, `trusted-host`): whitespace-separated,
    /// as pip splits them.
    pub fn get_list(&self, command: &str, option: &str) -> Vec<(String, ConfigSource)> {
        self.get(command, option)
            .map(|v| {
                v.value
                    .split_whitespace()
                    .map(|item| (item.to_string(), v.source.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A boolean option, read with pip's rules (`yes/true/on/1`, `no/false/off/0`). For
    /// switches like `no-index`, pip also accepts a count (`PIP_VERBOSE=2`); any positive
    /// number is true.
    pub fn get_bool(&self, command: &str, option: &str) -> Result<Option<bool>, InputError> {
        let Some(v) = self.get(command, option) else {
            return Ok(None);
        };
        match parse_bool(&v.value) {
            Some(b) => Ok(Some(b)),
            None => match v.value.trim().parse::<i64>() {
                Ok(n) => Ok(Some(n > 0)),
                Err(_) => Err(bad_value(option, "boolean", v)),
            },
        }
    }

    /// A number of seconds or a count.
    pub fn get_f64(&self, command: &str, option: &str) -> Result<Option<f64>, InputError> {
        let Some(v) = self.get(command, option) else {
            return Ok(None);
        };
        v.value
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| bad_value(option, "number", v))
    }
}

/// One command's view of pip's configuration, with pip's typing rules. Every getter takes what
/// the command line gave first, so a setting is read the same way for every option: command
/// line, then `PIP_<NAME>`, then `[command]` in pip.conf, then `[global]`, then the default.
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    config: &'a PipConfig,
    command: &'a str,
}

impl PipConfig {
    /// The configuration as `command` (pip's section name: `install`, `download`, ...) sees it.
    pub fn layer<'a>(&'a self, command: &'a str) -> Layer<'a> {
        Layer {
            config: self,
            command,
        }
    }
}

impl<'a> Layer<'a> {
    /// The pip command section this layer reads.
    pub fn command(&self) -> &'a str {
        self.command
    }

    /// The configured value of `key`, if any (empty values count as unset).
    pub fn raw(&self, key: &str) -> Option<&'a ConfigValue> {
        self.config.get(self.command, key)
    }

    /// A switch such as `--no-deps` or `--pre`: on when given on the command line, else as
    /// configured (`yes/true/on/1`, `no/false/off/0`, or a count), else off.
    pub fn switch(&self, cli: bool, key: &str) -> Result<bool, InputError> {
        if cli {
            return Ok(true);
        }
        Ok(self.config.get_bool(self.command, key)?.unwrap_or(false))
    }

    /// An option pip spells both ways, like `--compile`/`--no-compile`: the command line's
    /// choice, else the configured `key`, else the configured `no-key`, else `default`. As in
    /// pip, a configured `no-key` value is stored as the option's value unchanged, so
    /// `PIP_NO_COMPILE=0` turns compiling *off* and `PIP_NO_COMPILE=1` turns it on (pip's
    /// long-standing quirk, kept so the same environment means the same thing to both).
    pub fn negatable(
        &self,
        cli: Option<bool>,
        key: &str,
        default: bool,
    ) -> Result<bool, InputError> {
        if let Some(value) = cli {
            return Ok(value);
        }
        let positive = self.raw(key);
        let negative = self.raw(&format!("no-{key}"));
        // The higher-ranked source wins when both spellings are set.
        let chosen = match (positive, negative) {
            (Some(p), Some(n)) if self.config.rank(&n.source) < self.config.rank(&p.source) => n,
            (Some(p), _) => p,
            (None, Some(n)) => n,
            (None, None) => return Ok(default),
        };
        parse_bool(&chosen.value).ok_or_else(|| bad_value(key, "boolean", chosen))
    }

    /// A switch that is on whenever it is configured at all, whatever the value, like pip's
    /// `no-cache-dir` (pip made `PIP_NO_CACHE_DIR=false` disable the cache too).
    pub fn switch_if_set(&self, cli: bool, key: &str) -> bool {
        cli || self.raw(key).is_some()
    }

    /// A single value: the command line's, else the configured one (trimmed).
    pub fn value(&self, cli: Option<&str>, key: &str) -> Option<String> {
        cli.map(str::to_string)
            .or_else(|| self.raw(key).map(|v| v.value.trim().to_string()))
    }

    /// A single value parsed by `parse`; a configured value that does not parse is an error
    /// naming the variable or file it came from.
    pub fn parsed<T>(
        &self,
        cli: Option<T>,
        key: &str,
        kind: &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, InputError> {
        if cli.is_some() {
            return Ok(cli);
        }
        match self.raw(key) {
            None => Ok(None),
            Some(v) => parse(v.value.trim())
                .map(Some)
                .ok_or_else(|| bad_value(key, kind, v)),
        }
    }

    /// A repeatable option (`--extra-index-url`, `--find-links`, `-r`): the configured values
    /// (whitespace-separated, as pip splits them) followed by the command line's.
    pub fn list(&self, cli: &[String], key: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .config
            .get_list(self.command, key)
            .into_iter()
            .map(|(item, _)| item)
            .collect();
        out.extend(cli.iter().cloned());
        out
    }

    /// A counted flag (`-v`, `-q`): the command line's count, else the configured count or
    /// boolean.
    pub fn count(&self, cli: u8, key: &str) -> Result<u8, InputError> {
        if cli > 0 {
            return Ok(cli);
        }
        let Some(v) = self.raw(key) else {
            return Ok(0);
        };
        let text = v.value.trim();
        if let Some(b) = parse_bool(text) {
            return Ok(u8::from(b));
        }
        text.parse::<u8>().map_err(|_| bad_value(key, "count", v))
    }
}

/// pip's boolean spellings.
fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "t" | "true" | "on" | "1" => Some(true),
        "n" | "no" | "f" | "false" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn bad_value(option: &str, kind: &'static str, v: &ConfigValue) -> InputError {
    InputError::BadValue {
        name: option.to_string(),
        kind,
        value: v.value.clone(),
        source_desc: v.source.to_string(),
    }
}

/// `INDEX_URL`, `index_url`, `index-url` → `index-url`.
fn normalize_key(key: &str) -> String {
    key.trim().to_ascii_lowercase().replace('_', "-")
}

/// pip's file order on Unix: `PIP_CONFIG_FILE`, then global (`$XDG_CONFIG_DIRS/pip/pip.conf`
/// and `/etc/pip.conf`), then user (legacy `~/.pip/pip.conf`, then
/// `$XDG_CONFIG_HOME/pip/pip.conf`; skipped when `PIP_CONFIG_FILE` names an existing file), then
/// site (`$VIRTUAL_ENV/pip.conf`). Later files override earlier ones.
fn config_files(var: &dyn Fn(&str) -> Option<String>, config_file: Option<&str>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let xdg_dirs = var("XDG_CONFIG_DIRS")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "/etc/xdg".to_string());
    for dir in xdg_dirs.split(':').filter(|d| !d.is_empty()) {
        files.push(Path::new(dir).join("pip").join("pip.conf"));
    }
    files.push(PathBuf::from("/etc/pip.conf"));
    let skip_user = config_file.is_some_and(|f| Path::new(f).exists());
    if !skip_user {
        if let Some(home) = var("HOME").filter(|h| !h.is_empty()) {
            files.push(Path::new(&home).join(".pip").join("pip.conf"));
            let config_home = var("XDG_CONFIG_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(&home).join(".config"));
            files.push(config_home.join("pip").join("pip.conf"));
        }
    }
    if let Some(venv) = var("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        files.push(Path::new(&venv).join("pip.conf"));
    }
    // pip reads PIP_CONFIG_FILE's file last, so it overrides every other file (pip's override
    // order, documented since pip 23.1; older documents said the opposite).
    if let Some(file) = config_file {
        files.push(PathBuf::from(file));
    }
    files
}

/// configparser-style INI: `[section]`, `key = value` or `key: value`, indented continuation
/// lines, `#` and `;` comments on their own lines.
/// Which of pip's configuration files `ferry config set|unset|edit` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigLevel {
    Global,
    User,
    Site,
}

/// The files of each level in this process's environment (pip's `get_configuration_files`):
/// global (`$XDG_CONFIG_DIRS/pip/pip.conf`, `/etc/pip.conf`), user (`~/.pip/pip.conf`,
/// `$XDG_CONFIG_HOME/pip/pip.conf`), site (`$VIRTUAL_ENV/pip.conf`). pip changes the last file of
/// a level.
pub fn level_files(level: ConfigLevel) -> Vec<PathBuf> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let var = |name: &str| env.get(name).cloned().filter(|v| !v.is_empty());
    match level {
        ConfigLevel::Global => {
            let dirs = var("XDG_CONFIG_DIRS").unwrap_or_else(|| "/etc/xdg".into());
            let mut files: Vec<PathBuf> = dirs
                .split(':')
                .filter(|d| !d.is_empty())
                .map(|d| Path::new(d).join("pip").join("pip.conf"))
                .collect();
            files.push(PathBuf::from("/etc/pip.conf"));
            files
        }
        ConfigLevel::User => {
            let Some(home) = var("HOME") else {
                return Vec::new();
            };
            let config_home = var("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(&home).join(".config"));
            vec![
                Path::new(&home).join(".pip").join("pip.conf"),
                config_home.join("pip").join("pip.conf"),
            ]
        }
        ConfigLevel::Site => var("VIRTUAL_ENV")
            .map(|venv| vec![Path::new(&venv).join("pip.conf")])
            .unwrap_or_default(),
    }
}

/// Sets (`Some`) or removes (`None`) `section.key` in the INI file at `path` (created with its
/// directory if need be); an emptied section is dropped. Like pip's configparser, comments are
/// not kept. Gives whether the key was there before.
pub fn edit_file(
    path: &Path,
    section: &str,
    key: &str,
    value: Option<&str>,
) -> Result<bool, InputError> {
    let text = match fs_err::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(InputError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for (s, k, v) in parse_ini(path, &text)? {
        match sections.iter_mut().find(|(name, _)| *name == s) {
            Some((_, entries)) => entries.push((k, v)),
            None => sections.push((s, vec![(k, v)])),
        }
    }
    let key = normalize_key(key);
    let mut existed = false;
    if let Some((_, entries)) = sections.iter_mut().find(|(name, _)| name == section) {
        let before = entries.len();
        entries.retain(|(k, _)| normalize_key(k) != key);
        existed = entries.len() != before;
    }
    if let Some(value) = value {
        match sections.iter_mut().find(|(name, _)| name == section) {
            Some((_, entries)) => entries.push((key, value.to_string())),
            None => sections.push((section.to_string(), vec![(key, value.to_string())])),
        }
    }
    sections.retain(|(_, entries)| !entries.is_empty());
    let mut out = String::new();
    for (name, entries) in &sections {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("[{name}]\n"));
        for (k, v) in entries {
            // A value of several lines continues on indented lines, as configparser writes it.
            out.push_str(&format!("{k} = {}\n", v.replace('\n', "\n\t")));
        }
    }
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent).map_err(|source| InputError::Read {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    fs_err::write(path, out).map_err(|source| InputError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(existed)
}

/// Every value of the files read, as `section.key` with its file, in pip's `config list`
/// order (sorted), later files winning.
impl PipConfig {
    pub fn file_values(&self) -> Vec<(String, String, PathBuf)> {
        let mut out = Vec::new();
        for (section, values) in &self.files {
            for (key, value) in values {
                let path = match &value.source {
                    ConfigSource::File { path, .. } => path.clone(),
                    ConfigSource::Env(_) | ConfigSource::CommandLine(_) => continue,
                };
                out.push((format!("{section}.{key}"), value.value.clone(), path));
            }
        }
        out.sort();
        out
    }

    /// The `PIP_*` variables read, as `(variable, option, value)`.
    pub fn env_values(&self) -> Vec<(String, String, String)> {
        let mut out: Vec<(String, String, String)> = self
            .env
            .iter()
            .filter_map(|(option, v)| match &v.source {
                ConfigSource::Env(name) => Some((name.clone(), option.clone(), v.value.clone())),
                ConfigSource::File { .. } | ConfigSource::CommandLine(_) => None,
            })
            .collect();
        out.sort();
        out
    }
}

fn parse_ini(path: &Path, text: &str) -> Result<Vec<(String, String, String)>, InputError> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut section: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                if !last.2.is_empty() {
                    last.2.push('\n');
                }
                last.2.push_str(trimmed);
                continue;
            }
        }
        if trimmed.starts_with('[') {
            let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
                return Err(InputError::Parse {
                    path: path.to_path_buf(),
                    line: index + 1,
                    message: format!("unclosed section header {trimmed:?}"),
                });
            };
            section = Some(name.trim().to_string());
            continue;
        }
        let Some(split) = trimmed.find(['=', ':']) else {
            return Err(InputError::Parse {
                path: path.to_path_buf(),
                line: index + 1,
                message: format!("expected `key = value`, found {trimmed:?}"),
            });
        };
        let Some(section) = section.clone() else {
            return Err(InputError::Parse {
                path: path.to_path_buf(),
                line: index + 1,
                message: "a setting before any [section] header".into(),
            });
        };
        out.push((
            section,
            trimmed[..split].trim().to_string(),
            trimmed[split + 1..].trim().to_string(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, String)]) -> PipConfig {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let mut config = PipConfig::default();
        let var = |name: &str| map.get(name).cloned();
        let config_file = var("PIP_CONFIG_FILE");
        for path in config_files(&var, config_file.as_deref()) {
            if path.starts_with("/etc") {
                continue; // the machine's own files are not part of these tests
            }
            config.read_file(&path).unwrap();
        }
        for (k, v) in &map {
            config.add_env(k, v.clone());
        }
        config
    }

    #[test]
    fn precedence_env_over_command_over_global_and_later_files() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".config/pip")).unwrap();
        std::fs::create_dir_all(home.join(".pip")).unwrap();
        std::fs::write(
            home.join(".pip/pip.conf"),
            "[global]\nindex-url = http://legacy/\ntimeout = 5\n",
        )
        .unwrap();
        std::fs::write(
            home.join(".config/pip/pip.conf"),
            "[global]\nindex_url = http://user/\nextra-index-url =\n    http://a/\n    http://b/\n[install]\ntimeout: 7\n",
        )
        .unwrap();
        let venv = dir.path().join("venv");
        std::fs::create_dir_all(&venv).unwrap();
        std::fs::write(venv.join("pip.conf"), "[global]\nno-index = yes\n").unwrap();

        let vars = vec![
            ("HOME", home.display().to_string()),
            ("VIRTUAL_ENV", venv.display().to_string()),
        ];
        let c = load(&vars);
        assert_eq!(c.get("install", "index-url").unwrap().value, "http://user/");
        assert_eq!(c.get("install", "timeout").unwrap().value, "7");
        assert_eq!(c.get("download", "timeout").unwrap().value, "5");
        let extras: Vec<String> = c
            .get_list("install", "extra-index-url")
            .into_iter()
            .map(|(u, _)| u)
            .collect();
        assert_eq!(extras, ["http://a/", "http://b/"]);
        assert_eq!(c.get_bool("install", "no-index").unwrap(), Some(true));

        let mut vars = vars;
        vars.push(("PIP_INDEX_URL", "http://env/".into()));
        let c = load(&vars);
        let v = c.get("install", "index-url").unwrap();
        assert_eq!(v.value, "http://env/");
        assert_eq!(v.source, ConfigSource::Env("PIP_INDEX_URL".into()));
    }

    #[test]
    fn config_file_env_overrides_the_other_files_and_hides_user_files() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".config/pip")).unwrap();
        std::fs::write(
            home.join(".config/pip/pip.conf"),
            "[global]\nindex-url = http://user/\n",
        )
        .unwrap();
        let file = dir.path().join("custom.conf");
        std::fs::write(&file, "[global]\nindex-url = http://custom/\ntimeout = 3\n").unwrap();
        let c = load(&[
            ("HOME", home.display().to_string()),
            ("PIP_CONFIG_FILE", file.display().to_string()),
        ]);
        assert_eq!(
            c.get("install", "index-url").unwrap().value,
            "http://custom/"
        );
        // And over the site file (a venv's pip.conf), which pip reads before it.
        let venv = dir.path().join("venv");
        std::fs::create_dir_all(&venv).unwrap();
        std::fs::write(
            venv.join("pip.conf"),
            "[global]\ntimeout = 9\nretries = 2\n",
        )
        .unwrap();
        let c = load(&[
            ("HOME", home.display().to_string()),
            ("VIRTUAL_ENV", venv.display().to_string()),
            ("PIP_CONFIG_FILE", file.display().to_string()),
        ]);
        assert_eq!(c.get("install", "timeout").unwrap().value, "3");
        assert_eq!(c.get("install", "retries").unwrap().value, "2");
    }

    #[test]
    fn bad_files_and_values_name_the_culprit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pip.conf");
        std::fs::write(&path, "index-url = http://x/\n").unwrap();
        let err = PipConfig::default()
            .read_file(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("pip.conf") && err.contains("line 1"), "{err}");

        let c = PipConfig::from_env_pairs([("PIP_NO_INDEX", "maybe")]);
        let err = c.get_bool("install", "no-index").unwrap_err().to_string();
        assert!(
            err.contains("PIP_NO_INDEX") && err.contains("maybe"),
            "{err}"
        );
    }
}
