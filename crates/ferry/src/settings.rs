//! The one settings layer: every option ferry reads, resolved into a typed struct per command.
//!
//! Each option is looked up the same way, through [`ferry_input::Layer`]: the command line,
//! then `PIP_<NAME>`, then the command's section of pip.conf (`[install]`, `[uninstall]`, ...),
//! then `[global]`, then the default. Requirements files add their options on top
//! ([`ResolverSettings::apply_file_options`]), as pip applies them. Commands take these
//! structs and never look at strings again.
//!
//! A few of ferry's own options have no pip spelling: they read `FERRY_*` variables only
//! (`FERRY_LINK_MODE`, `FERRY_CACHE_DIR`). pip's `cache-dir` is not read: pip's cache has
//! another format, so pointing ferry at it would mix the two.

use std::path::PathBuf;

use ferry_build::{BuildOptions, ConfigSettings, EnvironmentPolicy, SourceBuilder};
use ferry_cache::Cache;
use ferry_index::{IndexClient, IndexOptions, IndexStrategy};
use ferry_input::{
    parse_requirement, FileOptions, InputError, Layer, Origin, PipConfig, RequirementsSpec,
    SourceEntry,
};
use ferry_install::plan::PlanOptions;
use ferry_install::{ApplyOptions, Layout, LinkMode, Scheme};
use ferry_python::{Interpreter, PythonRequest, TargetPolicy};
use ferry_resolve::{NameSet, ResolveOptions, Target, Upgrade};
use ferry_types::PackageName;

use crate::cli::{
    BuildArgs, BuildCommandArgs, CompileArgs, GlobalArgs, IndexArgs, IndexStrategyArg, InstallArgs,
    LinkModeArg, ResolveArgs, UninstallArgs, UpgradeStrategy, WheelArgs,
};

/// Options every command has.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalSettings {
    pub cache_dir: Option<PathBuf>,
    pub no_cache_dir: bool,
    pub verbose: u8,
    pub quiet: u8,
    /// Whether messages are colored: `--color`, else a terminal without `NO_COLOR`.
    pub color: bool,
    /// `--log FILE` (`PIP_LOG`, `log` in pip.conf).
    pub log: Option<PathBuf>,
}

impl GlobalSettings {
    pub fn resolve(args: &GlobalArgs, config: &PipConfig) -> Result<Self, InputError> {
        let layer = config.layer("global");
        Ok(Self {
            cache_dir: args.cache_dir.clone(),
            no_cache_dir: layer.switch_if_set(args.no_cache_dir, "no-cache-dir"),
            verbose: layer.count(args.verbose, "verbose")?,
            quiet: layer.count(args.quiet, "quiet")?,
            log: layer.value(None, "log").map(PathBuf::from),
            color: match args.color.as_deref() {
                Some("always") => true,
                Some("never") => false,
                _ if layer.switch(args.no_color, "no-color")? => false,
                _ => {
                    use std::io::IsTerminal;
                    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            },
        })
    }
}

/// A list of paths read through `layer` (pip's list typing: the command line's, then the
/// configuration's, added up), for options such as `-r` whose values are files.
fn path_list(layer: Layer<'_>, cli: &[PathBuf], key: &str) -> Vec<PathBuf> {
    let cli: Vec<String> = cli.iter().map(|p| p.display().to_string()).collect();
    layer
        .list(&cli, key)
        .into_iter()
        .map(PathBuf::from)
        .collect()
}

/// Where packages come from and how to reach them.
pub fn index_options(args: &IndexArgs, layer: Layer<'_>) -> Result<IndexOptions, InputError> {
    let path = |s: &str| Some(PathBuf::from(s));
    Ok(IndexOptions {
        index_url: layer.value(args.index_url.as_deref(), "index-url"),
        extra_index_urls: layer.list(&args.extra_index_url, "extra-index-url"),
        no_index: layer.switch(args.no_index, "no-index")?,
        find_links: layer.list(&args.find_links, "find-links"),
        strategy: layer.parsed(
            args.index_strategy.map(|s| match s {
                IndexStrategyArg::FirstIndex => IndexStrategy::FirstIndex,
                IndexStrategyArg::UnsafeBestMatch => IndexStrategy::UnsafeBestMatch,
            }),
            "index-strategy",
            "index strategy (first-index or unsafe-best-match)",
            |s| match s {
                "first-index" => Some(IndexStrategy::FirstIndex),
                "unsafe-best-match" => Some(IndexStrategy::UnsafeBestMatch),
                _ => None,
            },
        )?,
        cert: layer.parsed(args.cert.clone(), "cert", "path", path)?,
        client_cert: layer.parsed(args.client_cert.clone(), "client-cert", "path", path)?,
        trusted_hosts: layer.list(&args.trusted_host, "trusted-host"),
        timeout: match layer.parsed(args.timeout, "timeout", "number", |s| s.parse().ok())? {
            Some(t) => Some(t),
            None => layer.parsed(None, "default-timeout", "number", |s| s.parse().ok())?,
        },
        retries: layer.parsed(args.retries, "retries", "whole number", |s| s.parse().ok())?,
        offline: layer.switch(args.offline, "offline")?,
        refresh: layer.switch(args.refresh, "refresh")?,
        keyring_provider: layer.parsed(
            args.keyring_provider
                .as_deref()
                .and_then(ferry_index::KeyringProvider::parse),
            "keyring-provider",
            "keyring provider (auto, disabled, import or subprocess)",
            ferry_index::KeyringProvider::parse,
        )?,
        no_input: layer.switch(false, "no-input")?,
        proxy: layer.value(None, "proxy"),
    })
}

/// `--root-user-action` (`PIP_ROOT_USER_ACTION`): whether to warn (the default) when root
/// changes an interpreter outside a virtual environment.
pub fn root_user_action(cli: Option<String>, layer: Layer<'_>) -> Result<bool, InputError> {
    let action = layer.parsed(
        cli,
        "root-user-action",
        "root user action (warn or ignore)",
        |s| matches!(s, "warn" | "ignore").then(|| s.to_string()),
    )?;
    Ok(action.as_deref() != Some("ignore"))
}

/// Whether this process runs as root (effective user id 0).
#[allow(unsafe_code)]
fn running_as_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// pip's warning when root changes an interpreter that is not in a virtual environment.
pub fn warn_if_root(warn: bool, interpreter: &Interpreter, printer: &crate::printer::Printer) {
    if warn && running_as_root() && !interpreter.is_virtualenv() {
        printer.warning(format!(
            "running as root changes {} outside a virtual environment: files owned by root and \
             packages the system's package manager does not know about can break the system. \
             Use a virtual environment (`ferry venv`), or give --root-user-action=ignore if this \
             is intended.",
            interpreter.path().display()
        ));
    }
}

/// `--exists-action` (`PIP_EXISTS_ACTION`, `exists-action` in pip.conf): a list of pip's
/// letters or the words.
fn exists_actions(layer: Layer<'_>) -> Result<Vec<ferry_types::vcs::ExistsAction>, InputError> {
    let values = layer.list(&[], "exists-action");
    let mut actions = Vec::new();
    for value in values {
        match ferry_types::vcs::ExistsAction::parse(&value) {
            Some(action) => actions.push(action),
            None => {
                return Err(InputError::BadValue {
                    name: "exists-action".into(),
                    kind: "action (s, i, w, b or a)",
                    source_desc: layer
                        .raw("exists-action")
                        .map(|v| v.source.to_string())
                        .unwrap_or_default(),
                    value,
                })
            }
        }
    }
    Ok(actions)
}

/// pip's `--python-version` also takes `312` for 3.12 (and `3` alone).
fn pip_python_version(version: &str) -> String {
    if !version.contains('.') && version.len() >= 2 && version.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}.{}", &version[..1], &version[1..])
    } else {
        version.to_string()
    }
}

/// pip's `--require-virtualenv`: when `required`, an interpreter outside a virtual environment
/// is an error.
pub fn check_virtualenv(required: bool, interpreter: &Interpreter) -> anyhow::Result<()> {
    if required && !interpreter.is_virtualenv() {
        anyhow::bail!(
            "{} is not in a virtual environment, and --require-virtualenv (or PIP_REQUIRE_VIRTUALENV, \
             or require-virtualenv in pip.conf) asks for one: activate one, or choose one with --python",
            interpreter.path().display()
        );
    }
    Ok(())
}

/// The index client for `options`, falling back to `interpreter`'s pip default index.
pub fn index_client(
    options: &IndexOptions,
    interpreter: &Interpreter,
    cache: &Cache,
) -> anyhow::Result<IndexClient> {
    Ok(ferry_index::client_for(
        options,
        interpreter.info().pip_default_index.as_deref(),
        interpreter.path(),
        Some(cache),
    )?)
}

/// How to resolve.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResolverSettings {
    pub constraints: Vec<PathBuf>,
    pub pre: bool,
    pub only_binary: Vec<String>,
    pub no_binary: Vec<String>,
    pub prefer_binary: bool,
    pub no_deps: bool,
    pub require_hashes: bool,
    pub python: Option<String>,
    pub python_version: Option<String>,
    pub python_platform: Option<String>,
    /// `--src`: where editable VCS checkouts go.
    pub src: Option<PathBuf>,
    /// `--uploaded-prior-to`, in seconds since the epoch.
    pub uploaded_prior_to: Option<i64>,
    /// `--group [PATH:]NAME` (PEP 735).
    pub groups: Vec<String>,
    /// `--ignore-requires-python`.
    pub ignore_requires_python: bool,
    /// `--requirements-from-script` (PEP 723).
    pub scripts: Vec<PathBuf>,
    /// `--require-virtualenv`: the target must be a virtual environment.
    pub require_virtualenv: bool,
    /// `--exists-action`, for `--src` checkouts in the way.
    pub exists_action: Vec<ferry_types::vcs::ExistsAction>,
    /// `--extra NAME` of pyproject.toml files given with `-r`.
    pub extras: Vec<String>,
    /// `--all-extras`.
    pub all_extras: bool,
    pub index: IndexOptions,
}

impl ResolverSettings {
    pub fn resolve(
        args: &ResolveArgs,
        require_hashes: bool,
        layer: Layer<'_>,
    ) -> Result<Self, InputError> {
        Ok(Self {
            constraints: path_list(layer, &args.constraints, "constraint"),
            pre: layer.switch(args.pre, "pre")?,
            only_binary: layer.list(&args.only_binary, "only-binary"),
            no_binary: layer.list(&args.no_binary, "no-binary"),
            prefer_binary: layer.switch(args.prefer_binary, "prefer-binary")?,
            no_deps: layer.switch(args.no_deps, "no-deps")?,
            require_hashes: layer.switch(require_hashes, "require-hashes")?,
            python: layer.value(args.python.as_deref(), "python"),
            python_version: layer
                .value(args.python_version.as_deref(), "python-version")
                .map(|v| pip_python_version(&v)),
            python_platform: layer.value(args.python_platform.as_deref(), "python-platform"),
            groups: layer.list(&args.group, "group"),
            require_virtualenv: layer.switch(false, "require-virtualenv")?,
            exists_action: exists_actions(layer)?,
            extras: args.extra.clone(),
            all_extras: args.all_extras,
            ignore_requires_python: layer
                .switch(args.ignore_requires_python, "ignore-requires-python")?,
            scripts: path_list(
                layer,
                &args.requirements_from_script,
                "requirements-from-script",
            ),
            uploaded_prior_to: layer.parsed(
                args.uploaded_prior_to,
                "uploaded-prior-to",
                "date (YYYY-MM-DD or an RFC 3339 date-time)",
                ferry_types::parse_timestamp,
            )?,
            src: layer
                .value(args.src_dir.as_ref().and_then(|p| p.to_str()), "src")
                .map(|s| std::path::absolute(&s).unwrap_or_else(|_| PathBuf::from(s))),
            index: index_options(&args.index, layer)?,
        })
    }

    /// `--only-binary=:all:` in effect with no `--no-binary` undoing it: pip's condition for
    /// resolving for another platform.
    pub fn binary_only(&self) -> bool {
        let names = |values: &[String]| -> Vec<String> {
            values
                .iter()
                .flat_map(|v| v.split(','))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        };
        let only = names(&self.only_binary);
        let no = names(&self.no_binary);
        only.iter().any(|v| v == ":all:") && no.iter().all(|v| v == ":none:")
    }

    /// The `--python` request.
    pub fn python_request(&self) -> Option<PythonRequest> {
        self.python.as_deref().map(PythonRequest::parse)
    }

    /// The resolver's options (preferences and upgrades are the command's to add).
    pub fn options(&self) -> ResolveOptions {
        let mut only_binary = NameSet::default();
        for value in &self.only_binary {
            only_binary.apply(value);
        }
        let mut no_binary = NameSet::default();
        for value in &self.no_binary {
            no_binary.apply(value);
        }
        ResolveOptions {
            pre: self.pre,
            prefer_binary: self.prefer_binary,
            no_deps: self.no_deps,
            only_binary,
            no_binary,
            uploaded_prior_to: self.uploaded_prior_to,
            ignore_requires_python: self.ignore_requires_python,
            ..ResolveOptions::default()
        }
    }

    /// What to resolve for: the interpreter, or another version or platform.
    pub fn target(&self, interpreter: &Interpreter) -> anyhow::Result<Target> {
        if self.python_version.is_some() || self.python_platform.is_some() {
            let other = interpreter.retarget(
                self.python_version.as_deref(),
                self.python_platform.as_deref(),
            )?;
            Ok(Target::from_interpreter(&other)?)
        } else {
            Ok(Target::from_interpreter(interpreter)?)
        }
    }

    /// The index client for `interpreter` and the resolver's options, whose build seam builds
    /// with `build`'s settings: what a command that resolves (and may build) starts from.
    pub fn resolving(
        &self,
        spec: &RequirementsSpec,
        build: &BuildSettings,
        interpreter: &Interpreter,
        cache: &Cache,
        handle: &tokio::runtime::Handle,
        printer: &crate::printer::Printer,
    ) -> anyhow::Result<(std::sync::Arc<IndexClient>, ResolveOptions)> {
        let client = std::sync::Arc::new(self.client(interpreter, cache)?);
        // A wheel downloaded whole for its metadata is unpacked into the store right away,
        // where the installer (or a later run) takes it without downloading it again.
        client
            .http()
            .keep_whole_wheels(std::sync::Arc::new(ferry_install::Store::new(cache)));
        let mut options = self.options();
        let builder = build.builder(
            interpreter,
            &client,
            cache,
            handle,
            (&options, spec),
            printer,
        )?;
        options.build = ferry_types::Builder(std::sync::Arc::new(builder));
        // pip's default `--src`: the environment's `src`, else the working directory's.
        options.vcs.exists_action = self.exists_action.clone();
        options.vcs.src_dir = Some(match &self.src {
            Some(dir) => dir.clone(),
            None if interpreter.is_virtualenv() => interpreter.prefix().join("src"),
            None => std::env::current_dir()?.join("src"),
        });
        Ok((client, options))
    }

    /// The index client for these settings and `interpreter`'s pip default index.
    pub fn client(&self, interpreter: &Interpreter, cache: &Cache) -> anyhow::Result<IndexClient> {
        index_client(&self.index, interpreter, cache)
    }

    /// What to resolve: the `requirements` typed on the command line (named ones, or paths
    /// and URLs), the `editables`, then those of the requirements `files` (with `--extra`s
    /// of the pyproject.toml files among them), the `--group`s and scripts, then the `-c`
    /// constraints. The files' own options are applied to
    /// these settings.
    pub fn read_spec(
        &mut self,
        requirements: &[String],
        editables: &[String],
        files: &[PathBuf],
    ) -> anyhow::Result<RequirementsSpec> {
        let mut spec = RequirementsSpec::default();
        let cwd = std::env::current_dir()?;
        for requirement in requirements {
            if ferry_input::is_unnamed(requirement) {
                let entry = SourceEntry::parse(requirement, &cwd, false, Origin::CommandLine);
                spec.sources.push(entry);
            } else {
                spec.requirements
                    .push(parse_requirement(requirement, Origin::CommandLine)?);
            }
        }
        for editable in editables {
            let entry = SourceEntry::parse(editable, &cwd, true, Origin::CommandLine);
            spec.sources.push(entry);
        }
        for file in files {
            spec.add_file(file, false)?;
        }
        for extra in &self.extras {
            spec.select_extra(extra)?;
        }
        if self.all_extras {
            spec.select_all_extras();
        }
        for group in &self.groups {
            spec.add_group(group, &cwd)?;
        }
        for script in &self.scripts {
            spec.add_script(script)?;
        }
        for file in &self.constraints {
            spec.add_file(file, true)?;
        }
        self.apply_file_options(&spec.options);
        spec.check_hash_mode(self.require_hashes)?;
        Ok(spec)
    }

    /// Adds what requirements files set, as pip does: as if given on the command line after
    /// everything else (lists add up, switches turn on, `--index-url` replaces the main index).
    pub fn apply_file_options(&mut self, options: &FileOptions) {
        if let Some(url) = &options.index_url {
            self.index.index_url = Some(url.clone());
        }
        self.index
            .extra_index_urls
            .extend(options.extra_index_urls.iter().cloned());
        self.index
            .find_links
            .extend(options.find_links.iter().cloned());
        self.index
            .trusted_hosts
            .extend(options.trusted_hosts.iter().cloned());
        self.index.no_index |= options.no_index;
        self.pre |= options.pre;
        self.prefer_binary |= options.prefer_binary;
        self.require_hashes |= options.require_hashes;
        self.only_binary.extend(options.only_binary.iter().cloned());
        self.no_binary.extend(options.no_binary.iter().cloned());
        for feature in &options.use_features {
            tracing::debug!(
                "--use-feature {feature}: ferry has its own behaviour for pip's features"
            );
        }
    }
}

/// `ferry install`.
#[derive(Debug, Clone, PartialEq)]
pub struct InstallSettings {
    pub requirements: Vec<String>,
    pub editables: Vec<String>,
    pub requirement_files: Vec<PathBuf>,
    pub dry_run: bool,
    pub report: Option<String>,
    /// `--verify-attestations` (PEP 740).
    pub verify_attestations: bool,
    pub upgrade: bool,
    pub eager: bool,
    pub ignore_installed: bool,
    pub force_reinstall: bool,
    pub reinstall_packages: Vec<String>,
    pub link_mode: LinkMode,
    pub compile: bool,
    pub system: bool,
    pub break_system_packages: bool,
    /// `--break-conda-packages` (ferry's own: also `FERRY_BREAK_CONDA_PACKAGES`).
    pub break_conda_packages: bool,
    pub user: bool,
    pub target: Option<PathBuf>,
    pub prefix: Option<PathBuf>,
    pub root: Option<PathBuf>,
    pub resolver: ResolverSettings,
    pub build: BuildSettings,
    /// `ferry sync`: also remove what the requirements do not list.
    pub sync: Option<SyncMode>,
    /// `--progress-bar`: `on`, `off` or `raw`.
    pub progress_bar: String,
    /// Warn about scripts installed outside `PATH` (off: `--no-warn-script-location`).
    pub warn_script_location: bool,
    /// Warn about conflicts the install left (off: `--no-warn-conflicts`).
    pub warn_conflicts: bool,
    /// `--root-user-action warn`: warn when root changes an interpreter outside a venv.
    pub warn_root_user: bool,
    /// `--platform`, `--implementation`, `--abi` (with `--target` or `--dry-run`).
    pub platform: PlatformSettings,
}

/// How `ferry sync` treats what the requirements do not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncMode {
    /// Keep pip, setuptools and wheel.
    pub keep_seed_packages: bool,
}

impl InstallSettings {
    /// `ferry sync FILE...`: `install` of those files (requirements files or a lock, given as
    /// arguments or with `-r`) that also removes every other distribution.
    pub fn resolve_sync(
        args: &crate::cli::SyncArgs,
        config: &PipConfig,
    ) -> Result<Self, InputError> {
        let mut settings = Self::resolve(&args.install, config)?;
        for file in std::mem::take(&mut settings.requirements) {
            settings.requirement_files.push(PathBuf::from(file));
        }
        settings.sync = Some(SyncMode {
            keep_seed_packages: args.keep_seed_packages,
        });
        Ok(settings)
    }

    pub fn resolve(args: &InstallArgs, config: &PipConfig) -> Result<Self, InputError> {
        let layer = config.layer("install");
        let path = |s: &str| Some(PathBuf::from(s));
        let compile = match (args.compile, args.no_compile) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        };
        let link_mode = match args.link_mode {
            Some(mode) => mode,
            None => match std::env::var("FERRY_LINK_MODE") {
                Ok(value) if !value.is_empty() => {
                    <LinkModeArg as clap::ValueEnum>::from_str(&value, true).map_err(|_| {
                        InputError::BadValue {
                            name: "link-mode".into(),
                            kind: "link mode (hardlink, copy, clone, symlink)",
                            value,
                            source_desc: "environment variable FERRY_LINK_MODE".into(),
                        }
                    })?
                }
                _ => LinkModeArg::Hardlink,
            },
        };
        Ok(Self {
            requirements: args.requirements.clone(),
            editables: layer.list(&args.editables, "editable"),
            requirement_files: path_list(layer, &args.requirement_files, "requirement"),
            dry_run: layer.switch(args.dry_run, "dry-run")?,
            report: layer.value(args.report.as_deref(), "report"),
            verify_attestations: layer.switch(args.verify_attestations, "verify-attestations")?,
            upgrade: layer.switch(args.upgrade, "upgrade")?,
            eager: layer
                .parsed(
                    args.upgrade_strategy,
                    "upgrade-strategy",
                    "upgrade strategy (only-if-needed or eager)",
                    |s| match s {
                        "only-if-needed" => Some(UpgradeStrategy::OnlyIfNeeded),
                        "eager" => Some(UpgradeStrategy::Eager),
                        _ => None,
                    },
                )?
                .is_some_and(|s| matches!(s, UpgradeStrategy::Eager)),
            ignore_installed: layer.switch(args.ignore_installed, "ignore-installed")?,
            force_reinstall: layer.switch(args.force_reinstall, "force-reinstall")?,
            reinstall_packages: args.reinstall_package.clone(),
            link_mode: match link_mode {
                LinkModeArg::Hardlink => LinkMode::Hardlink,
                LinkModeArg::Copy => LinkMode::Copy,
                LinkModeArg::Clone => LinkMode::Clone,
                LinkModeArg::Symlink => LinkMode::Symlink,
            },
            // ferry's default is not to compile (pip's is to compile).
            compile: layer.negatable(compile, "compile", false)?,
            system: args.system,
            break_system_packages: layer
                .switch(args.break_system_packages, "break-system-packages")?,
            break_conda_packages: args.break_conda_packages
                || std::env::var("FERRY_BREAK_CONDA_PACKAGES").is_ok_and(|v| {
                    matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
                }),
            user: layer.switch(args.user, "user")?,
            target: layer.parsed(args.target.clone(), "target", "path", path)?,
            prefix: layer.parsed(args.prefix.clone(), "prefix", "path", path)?,
            root: layer.parsed(args.root.clone(), "root", "path", path)?,
            resolver: ResolverSettings::resolve(&args.resolve, args.require_hashes, layer)?,
            build: BuildSettings::resolve(&args.build, layer)?,
            sync: None,
            progress_bar: layer
                .parsed(
                    args.progress_bar.clone(),
                    "progress-bar",
                    "progress bar (on, off or raw)",
                    |s| matches!(s, "on" | "off" | "raw").then(|| s.to_string()),
                )?
                .unwrap_or_else(|| "on".into()),
            warn_script_location: layer.negatable(
                args.no_warn_script_location.then_some(false),
                "warn-script-location",
                true,
            )?,
            warn_conflicts: layer.negatable(
                args.no_warn_conflicts.then_some(false),
                "warn-conflicts",
                true,
            )?,
            warn_root_user: root_user_action(args.root_user_action.clone(), layer)?,
            platform: PlatformSettings::resolve(&args.platform, layer),
        })
        .map(|mut settings: Self| {
            settings.build.progress = settings.progress_bar == "on";
            settings
        })
    }

    /// Where the packages go.
    pub fn layout(&self) -> Layout {
        if self.user {
            Layout::User
        } else if let Some(dir) = &self.target {
            Layout::Target(dir.clone())
        } else if let Some(dir) = &self.prefix {
            Layout::Prefix(dir.clone())
        } else {
            Layout::Environment
        }
    }

    /// The directories the install writes to in `interpreter`'s environment (or `--target`,
    /// `--prefix`, `--root`, `--user`). An interpreter whose environment is externally managed
    /// (PEP 668) is refused unless the install goes elsewhere or `--break-system-packages`.
    pub fn scheme(&self, interpreter: &Interpreter) -> anyhow::Result<Scheme> {
        let scheme = Scheme::new(interpreter, &self.layout(), self.root.as_deref())?;
        if !self.installs_elsewhere() {
            interpreter.check_writable(self.break_system_packages)?;
        }
        Ok(scheme)
    }

    /// The options the installer applies the plan with.
    pub fn apply_options(&self) -> ApplyOptions {
        ApplyOptions {
            link_mode: self.link_mode,
            compile: self.compile,
        }
    }

    /// Whether the install leaves the target interpreter's own environment alone: it goes
    /// elsewhere (`--target`, `--prefix`, `--root`, `--user`) or nowhere (`--dry-run`).
    pub fn installs_elsewhere(&self) -> bool {
        self.layout() != Layout::Environment || self.root.is_some() || self.dry_run
    }

    /// Which installed versions the resolver may replace with newer ones: none, the named
    /// requirements (`--upgrade`), or everything (`--upgrade-strategy eager`).
    pub fn upgrade(&self, spec: &RequirementsSpec) -> Upgrade {
        match (self.upgrade, self.eager) {
            (false, _) => Upgrade::None,
            (true, true) => Upgrade::All,
            (true, false) => Upgrade::Packages(
                spec.requirements
                    .iter()
                    .map(|r| PackageName::new(r.requirement.name.as_ref()))
                    .collect(),
            ),
        }
    }

    /// How the planner treats what is installed. A `--target` directory starts empty, as pip
    /// treats it.
    pub fn plan_options(&self) -> PlanOptions {
        PlanOptions {
            ignore_installed: self.ignore_installed || matches!(self.layout(), Layout::Target(_)),
            force_reinstall: self.force_reinstall,
            reinstall: self
                .reinstall_packages
                .iter()
                .map(|n| PackageName::new(n))
                .collect(),
        }
    }
}

/// How source builds run.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSettings {
    pub options: BuildOptions,
    /// How many builds run at once.
    pub jobs: usize,
    /// Constraint files for build environments. As with pip, these are the ones set in the
    /// environment or pip.conf (`PIP_CONSTRAINT`, `constraint = ...`), which pip's build
    /// subprocess reads too, not `-c` on the command line.
    pub constraints: Vec<PathBuf>,
    /// A spinner per running build on a terminal (`--progress-bar` not `off`/`raw`).
    pub progress: bool,
}

impl BuildSettings {
    pub fn resolve(args: &BuildArgs, layer: Layer<'_>) -> Result<Self, InputError> {
        let mut config_settings = ConfigSettings::new();
        for value in layer.list(&args.config_settings, "config-settings") {
            let Some((key, val)) = value.split_once('=') else {
                return Err(InputError::BadValue {
                    name: "config-settings".into(),
                    kind: "KEY=VALUE pair",
                    value,
                    source_desc: "--config-settings".into(),
                });
            };
            config_settings
                .entry(key.to_string())
                .or_default()
                .push(val.to_string());
        }
        let isolation = layer.negatable(
            args.no_build_isolation.then_some(false),
            "build-isolation",
            true,
        )?;
        // pip's `--no-use-pep517` (`use-pep517 = false`) asks for `setup.py install`, which
        // ferry does not do; `--use-pep517` is what ferry always does.
        if !layer.negatable(args.no_use_pep517.then_some(false), "use-pep517", true)? {
            return Err(InputError::BadValue {
                name: "use-pep517".into(),
                kind: "choice for ferry, which builds only through PEP 517 (a project without \
                       pyproject.toml is built with setuptools' PEP 517 backend, as pip does by \
                       default)",
                value: "false".into(),
                source_desc: match args.no_use_pep517 {
                    true => "--no-use-pep517".into(),
                    false => layer
                        .raw("use-pep517")
                        .or_else(|| layer.raw("no-use-pep517"))
                        .map(|v| v.source.to_string())
                        .unwrap_or_default(),
                },
            });
        }
        let jobs = layer
            .parsed(args.jobs, "jobs", "number of builds", |s| s.parse().ok())?
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .max(1);
        Ok(Self {
            options: BuildOptions {
                no_isolation: !isolation,
                config_settings,
                keep: layer.switch(args.no_clean, "no-clean")?,
                check_build_deps: layer
                    .switch(args.check_build_dependencies, "check-build-dependencies")?,
                work_root: None,
            },
            jobs,
            constraints: layer
                .list(&[], "constraint")
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            progress: layer
                .value(None, "progress-bar")
                .is_none_or(|mode| mode == "on"),
        })
    }

    /// The build seam for `interpreter`: builds through `client` and `cache`, reporting to
    /// `printer`; build environments resolve with `policy`'s binary and pre-release choices,
    /// and `requested`'s per-requirement `--config-settings` go to those projects' builds.
    pub fn builder(
        &self,
        interpreter: &Interpreter,
        client: &std::sync::Arc<IndexClient>,
        cache: &Cache,
        handle: &tokio::runtime::Handle,
        (policy, requested): (&ResolveOptions, &RequirementsSpec),
        printer: &crate::printer::Printer,
    ) -> anyhow::Result<SourceBuilder> {
        let mut spec = RequirementsSpec::default();
        for file in &self.constraints {
            spec.add_file(file, true)?;
        }
        Ok(SourceBuilder::new(
            Interpreter::from_info(interpreter.path().to_path_buf(), interpreter.info().clone()),
            std::sync::Arc::clone(client),
            cache.view(),
            handle.clone(),
            self.options.clone(),
            EnvironmentPolicy {
                constraints: spec.constraints,
                options: policy.clone(),
                per_project: requested
                    .requirements
                    .iter()
                    .filter(|r| !r.config_settings.is_empty())
                    .map(|r| {
                        let name = PackageName::new(r.requirement.name.as_ref());
                        (name.to_string(), r.config_settings.clone())
                    })
                    .collect(),
            },
            std::sync::Arc::new(crate::progress::BuildProgress::new(printer, self.progress)),
        ))
    }
}

/// `ferry uninstall`.
#[derive(Debug, Clone, PartialEq)]
pub struct UninstallSettings {
    pub packages: Vec<String>,
    pub requirement_files: Vec<PathBuf>,
    pub yes: bool,
    pub python: Option<String>,
    pub system: bool,
    pub break_system_packages: bool,
    /// `--no-input`: the question is an error instead.
    pub no_input: bool,
    pub require_virtualenv: bool,
    pub warn_root_user: bool,
}

impl UninstallSettings {
    pub fn resolve(args: &UninstallArgs, config: &PipConfig) -> Result<Self, InputError> {
        let layer = config.layer("uninstall");
        Ok(Self {
            packages: args.packages.clone(),
            requirement_files: path_list(layer, &args.requirement_files, "requirement"),
            yes: layer.switch(args.yes, "yes")?,
            python: layer.value(args.python.as_deref(), "python"),
            system: args.system,
            break_system_packages: layer
                .switch(args.break_system_packages, "break-system-packages")?,
            no_input: layer.switch(false, "no-input")?,
            require_virtualenv: layer.switch(false, "require-virtualenv")?,
            warn_root_user: root_user_action(args.root_user_action.clone(), layer)?,
        })
    }
}

/// `ferry compile`. pip-compile has no section of its own in pip.conf; like pip-compile, ferry
/// reads the index and resolver options the way `pip install` does.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileSettings {
    pub src: Vec<PathBuf>,
    pub output_file: Option<PathBuf>,
    pub generate_hashes: bool,
    pub no_annotate: bool,
    pub no_header: bool,
    pub upgrade: bool,
    pub upgrade_packages: Vec<String>,
    pub resolver: ResolverSettings,
    pub build: BuildSettings,
}

impl CompileSettings {
    pub fn resolve(args: &CompileArgs, config: &PipConfig) -> Result<Self, InputError> {
        let layer = config.layer("install");
        Ok(Self {
            src: args.src.clone(),
            output_file: args.output_file.clone(),
            generate_hashes: args.generate_hashes,
            no_annotate: args.no_annotate,
            no_header: args.no_header,
            upgrade: args.upgrade,
            upgrade_packages: args.upgrade_package.clone(),
            resolver: ResolverSettings::resolve(&args.resolve, false, layer)?,
            build: BuildSettings::resolve(&args.build, layer)?,
        })
    }
}

/// `ferry wheel`.
#[derive(Debug, Clone, PartialEq)]
pub struct WheelSettings {
    pub requirements: Vec<String>,
    pub requirement_files: Vec<PathBuf>,
    pub wheel_dir: PathBuf,
    pub resolver: ResolverSettings,
    pub build: BuildSettings,
}

impl WheelSettings {
    pub fn resolve(args: &WheelArgs, config: &PipConfig) -> Result<Self, InputError> {
        let layer = config.layer("wheel");
        let wheel_dir = layer.parsed(args.wheel_dir.clone(), "wheel-dir", "path", |s| {
            Some(PathBuf::from(s))
        })?;
        Ok(Self {
            requirements: args.requirements.clone(),
            requirement_files: path_list(layer, &args.requirement_files, "requirement"),
            wheel_dir: wheel_dir.unwrap_or_else(|| PathBuf::from(".")),
            resolver: ResolverSettings::resolve(&args.resolve, args.require_hashes, layer)?,
            build: BuildSettings::resolve(&args.build, layer)?,
        })
    }
}

/// `ferry lock`.
#[derive(Debug, Clone, PartialEq)]
pub struct LockSettings {
    pub requirements: Vec<String>,
    pub requirement_files: Vec<PathBuf>,
    pub editables: Vec<String>,
    pub output: String,
    pub resolver: ResolverSettings,
    pub build: BuildSettings,
}

impl LockSettings {
    pub fn resolve(args: &crate::cli::LockArgs, config: &PipConfig) -> Result<Self, InputError> {
        let layer = config.layer("lock");
        Ok(Self {
            requirements: args.requirements.clone(),
            requirement_files: path_list(layer, &args.requirement_files, "requirement"),
            editables: layer.list(&args.editables, "editable"),
            output: args.output.clone(),
            resolver: ResolverSettings::resolve(&args.resolve, false, layer)?,
            build: BuildSettings::resolve(&args.build, layer)?,
        })
    }
}

/// `ferry download`.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadSettings {
    pub requirements: Vec<String>,
    pub requirement_files: Vec<PathBuf>,
    pub dest: PathBuf,
    pub platform: PlatformSettings,
    /// `--verify-attestations` (PEP 740).
    pub verify_attestations: bool,
    pub resolver: ResolverSettings,
    pub build: BuildSettings,
}

impl DownloadSettings {
    pub fn resolve(
        args: &crate::cli::DownloadArgs,
        config: &PipConfig,
    ) -> Result<Self, InputError> {
        let layer = config.layer("download");
        let dest = args
            .dest
            .clone()
            .or_else(|| layer.value(None, "dest").map(PathBuf::from))
            .or_else(|| layer.value(None, "destination-dir").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."));
        let resolver = ResolverSettings::resolve(&args.resolve, args.require_hashes, layer)?;
        Ok(Self {
            requirements: args.requirements.clone(),
            requirement_files: path_list(layer, &args.requirement_files, "requirement"),
            dest,
            platform: PlatformSettings::resolve(&args.platform, layer),
            verify_attestations: layer.switch(args.verify_attestations, "verify-attestations")?,
            resolver,
            build: BuildSettings::resolve(&args.build, layer)?,
        })
    }
}

/// pip's `--platform`, `--implementation` and `--abi`: files for another interpreter, whose
/// tags replace the target's (with `--python-version` for the version).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlatformSettings {
    pub platforms: Vec<String>,
    pub implementation: Option<String>,
    pub abis: Vec<String>,
}

impl PlatformSettings {
    pub fn resolve(args: &crate::cli::PlatformArgs, layer: Layer<'_>) -> Self {
        Self {
            platforms: layer.list(&args.platform, "platform"),
            implementation: layer.value(args.implementation.as_deref(), "implementation"),
            abis: layer.list(&args.abi, "abi"),
        }
    }

    /// Whether any of the three is given.
    pub fn is_set(&self) -> bool {
        !self.platforms.is_empty() || self.implementation.is_some() || !self.abis.is_empty()
    }

    /// pip's rule: resolving for another interpreter (these, or `--python-version`) reads no
    /// sdist, so it needs `--no-deps`, or `--only-binary=:all:` without `--no-binary`.
    pub fn check(&self, resolver: &ResolverSettings) -> anyhow::Result<()> {
        if (self.is_set() || resolver.python_version.is_some())
            && !resolver.no_deps
            && !resolver.binary_only()
        {
            anyhow::bail!(
                "with --platform, --python-version, --implementation or --abi, give --no-deps, or \
                 --only-binary=:all: without --no-binary: ferry cannot build or read sdists for \
                 another interpreter (as pip cannot)"
            );
        }
        Ok(())
    }

    /// The resolver's target for `interpreter` with these tags (and `resolver`'s version).
    pub fn apply(
        &self,
        target: &mut Target,
        interpreter: &Interpreter,
        resolver: &ResolverSettings,
    ) -> anyhow::Result<()> {
        if self.is_set() {
            let base = interpreter.retarget(resolver.python_version.as_deref(), None)?;
            target.tags =
                base.custom_tags(&self.platforms, self.implementation.as_deref(), &self.abis);
        }
        Ok(())
    }
}

/// `ferry build`.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildCommandSettings {
    pub path: PathBuf,
    pub sdist: bool,
    pub wheel: bool,
    pub outdir: Option<PathBuf>,
    pub python: Option<String>,
    pub index: IndexOptions,
    pub build: BuildSettings,
}

impl BuildCommandSettings {
    pub fn resolve(args: &BuildCommandArgs, config: &PipConfig) -> Result<Self, InputError> {
        // pip has no `build` command; its `[wheel]` section is the nearest for these options.
        let layer = config.layer("wheel");
        Ok(Self {
            path: args.path.clone().unwrap_or_else(|| PathBuf::from(".")),
            sdist: args.sdist,
            wheel: args.wheel,
            outdir: args.outdir.clone(),
            python: layer.value(args.python.as_deref(), "python"),
            index: index_options(&args.index, layer)?,
            build: BuildSettings::resolve(&args.build, layer)?,
        })
    }
}

/// The interpreter a read-only command (`list`, `show`, `freeze`, `check`) targets: its
/// `--python` as the named pip command reads it, by [`TargetPolicy::Read`].
pub fn read_target(
    cli: Option<&str>,
    config: &PipConfig,
    command: &str,
    cache: &Cache,
) -> Result<Interpreter, ferry_python::PythonError> {
    let request = config
        .layer(command)
        .value(cli, "python")
        .map(|p| PythonRequest::parse(&p));
    ferry_python::find_target(request.as_ref(), TargetPolicy::Read, cache)
}

#[cfg(test)]
mod tests;
