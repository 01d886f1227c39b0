//! Command-line arguments. Option names follow pip's where pip has the option.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "ferry", version, about = "A fast, drop-in Python package installer", long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Cache directory [env: FERRY_CACHE_DIR] [default: $XDG_CACHE_HOME/ferry or ~/.cache/ferry]
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Use a throwaway cache for this run only
    #[arg(long, global = true)]
    pub no_cache_dir: bool,
    /// Give more output; repeat for more (-vv for debug logs)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Give less output
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub quiet: u8,
    /// Color in messages: auto (a terminal, and NO_COLOR unset), always or never
    #[arg(long, global = true, value_name = "WHEN", value_parser = ["auto", "always", "never"])]
    pub color: Option<String>,
    /// No color in messages (as --color never)
    #[arg(long, global = true, conflicts_with = "color")]
    pub no_color: bool,
    /// Never ask anything: no keyring in auto mode, and questions are errors [env: PIP_NO_INPUT]
    #[arg(long, global = true)]
    pub no_input: bool,
    /// Ignore PIP_* variables and the user's pip configuration files
    #[arg(long, global = true)]
    pub isolated: bool,
    /// Refuse to change or build for an interpreter outside a virtual environment
    /// [env: PIP_REQUIRE_VIRTUALENV]
    #[arg(long, global = true)]
    pub require_virtualenv: bool,
    /// Append a verbose log of this run to FILE [env: PIP_LOG]
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Send HTTP(S) requests through this proxy: [scheme://][user:passwd@]proxy.server:port
    /// [env: PIP_PROXY]
    #[arg(long, global = true, value_name = "URL")]
    pub proxy: Option<String>,
    /// When a --src checkout directory is in the way: (s)witch, (i)gnore, (w)ipe, (b)ackup or
    /// (a)bort (repeatable; the first that applies) [env: PIP_EXISTS_ACTION]
    #[arg(long, global = true, value_name = "ACTION", value_parser = ["s", "i", "w", "b", "a", "switch", "ignore", "wipe", "backup", "abort"])]
    pub exists_action: Vec<String>,
}

impl GlobalArgs {
    /// The general options pip reads as configuration too, as (pip.conf key, flag, value), so
    /// that the settings layer reads them like any other value.
    pub fn configured(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut values = Vec::new();
        let mut switch = |on: bool, key: &'static str, flag: &'static str| {
            if on {
                values.push((key, flag, "1".to_string()));
            }
        };
        switch(self.no_input, "no-input", "--no-input");
        switch(
            self.require_virtualenv,
            "require-virtualenv",
            "--require-virtualenv",
        );
        if let Some(log) = &self.log {
            values.push(("log", "--log", log.display().to_string()));
        }
        if let Some(proxy) = &self.proxy {
            values.push(("proxy", "--proxy", proxy.clone()));
        }
        if !self.exists_action.is_empty() {
            values.push((
                "exists-action",
                "--exists-action",
                self.exists_action.join(" "),
            ));
        }
        values
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a virtual environment
    Venv(VenvArgs),
    /// Find Python interpreters and environments
    #[command(subcommand)]
    Python(PythonCommand),
    /// Inspect ferry's cache
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Look at what package indexes offer
    #[command(subcommand)]
    Index(IndexCommand),
    /// Resolve requirements into a pinned requirements file, like pip-compile
    Compile(CompileArgs),
    /// Resolve requirements into a PEP 751 lock file (pylock.toml), like `pip lock`
    Lock(LockArgs),
    /// Install packages into an environment
    Install(InstallArgs),
    /// Make an environment hold exactly the given requirements files or lock, like pip-sync
    Sync(SyncArgs),
    /// Build or download wheels of requirements and their dependencies, like `pip wheel`
    Wheel(WheelArgs),
    /// Download the files of requirements and their dependencies, like `pip download`
    Download(DownloadArgs),
    /// Build a project's sdist and wheel, like `python -m build`
    Build(BuildCommandArgs),
    /// Uninstall packages
    Uninstall(UninstallArgs),
    /// Print the installed packages in requirements format, like `pip freeze`
    Freeze(FreezeArgs),
    /// List the installed packages, like `pip list`
    List(ListArgs),
    /// Show details of installed packages, like `pip show`
    Show(ShowArgs),
    /// Check that installed packages have their dependencies, like `pip check`
    Check(CheckArgs),
    /// Print `--hash` options for files, like `pip hash`
    Hash(HashArgs),
    /// Describe the installed packages as JSON, like `pip inspect`
    Inspect(InspectArgs),
    /// Read and change pip's configuration files, like `pip config`
    Config(ConfigArgs),
    /// Show the target interpreter, its wheel tags, the configuration files and the cache
    Debug(DebugArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish
    Completion {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
    /// Change the global file (/etc/pip.conf)
    #[arg(long, global = true, conflicts_with_all = ["user", "site"])]
    pub global: bool,
    /// Change the user file (~/.config/pip/pip.conf) [the default]
    #[arg(long, global = true, conflicts_with = "site")]
    pub user: bool,
    /// Change the environment's file ($VIRTUAL_ENV/pip.conf)
    #[arg(long, global = true)]
    pub site: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Every value of the configuration files, as section.key='value'
    List,
    /// The value of section.key (e.g. global.index-url)
    Get { key: String },
    /// Set section.key to VALUE
    Set { key: String, value: String },
    /// Remove section.key
    Unset { key: String },
    /// Open the file in $VISUAL or $EDITOR
    Edit,
    /// Every file pip would read, whether it exists, its values, and the PIP_* variables
    Debug,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Describe the distributions in this directory instead (repeatable)
    #[arg(long, value_name = "DIR")]
    pub path: Vec<PathBuf>,
    /// The target interpreter or environment (default: VIRTUAL_ENV, CONDA_PREFIX, .venv, then python3 on PATH)
    #[arg(short, long)]
    pub python: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct DebugArgs {
    /// The interpreter or environment to describe (default: as `install` finds it)
    #[arg(short, long)]
    pub python: Option<String>,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Packages to uninstall
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,
    /// Uninstall the packages named in this requirements file
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirement_files: Vec<PathBuf>,
    /// Don't ask for confirmation (ferry only asks when stdin is a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// The environment or interpreter to uninstall from
    #[arg(short, long)]
    pub python: Option<String>,
    /// Uninstall from the interpreter on PATH even if it is not in a virtual environment
    #[arg(long)]
    pub system: bool,
    /// Allow changing an environment its distributor marked as externally managed (PEP 668)
    #[arg(long)]
    pub break_system_packages: bool,
    /// What to do when running as root outside a virtual environment: warn (default) or ignore
    #[arg(long, value_name = "ACTION", value_parser = ["warn", "ignore"])]
    pub root_user_action: Option<String>,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Requirements (PEP 508), e.g. `requests>=2` or `black[d]`, or a project directory or
    /// archive (`.`, `./dist/pkg-1.0.tar.gz`, `.[test]`)
    #[arg(value_name = "REQUIREMENT")]
    pub requirements: Vec<String>,
    /// Install this project directory in development mode (PEP 660; repeatable)
    #[arg(short = 'e', long = "editable", value_name = "PATH")]
    pub editables: Vec<String>,
    /// Install from this requirements file (or pyproject.toml)
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirement_files: Vec<PathBuf>,
    /// Resolve and report what would be installed, without installing
    #[arg(long)]
    pub dry_run: bool,
    /// Write pip's installation report (JSON, version 1) to FILE, or `-` for stdout
    #[arg(long, value_name = "FILE")]
    pub report: Option<String>,
    /// Upgrade the named packages to the newest allowed versions
    #[arg(short = 'U', long)]
    pub upgrade: bool,
    /// With --upgrade: `only-if-needed` (default) upgrades dependencies only when required;
    /// `eager` upgrades all of them
    #[arg(long, value_enum)]
    pub upgrade_strategy: Option<UpgradeStrategy>,
    /// Resolve as if nothing were installed
    #[arg(long)]
    pub ignore_installed: bool,
    /// Reinstall every package even if it is already up to date
    #[arg(long)]
    pub force_reinstall: bool,
    /// Reinstall this package even if it is already up to date (repeatable)
    #[arg(long, value_name = "NAME")]
    pub reinstall_package: Vec<String>,
    /// How to put files from the cache into the environment [env: FERRY_LINK_MODE] [default:
    /// hardlink]
    #[arg(long, value_enum)]
    pub link_mode: Option<LinkModeArg>,
    /// Byte-compile the installed Python files
    #[arg(long, overrides_with = "no_compile")]
    pub compile: bool,
    /// Don't byte-compile (the default)
    #[arg(long, hide = true, overrides_with = "compile")]
    pub no_compile: bool,
    /// Install into the interpreter on PATH (or --python) rather than a virtual environment
    #[arg(long)]
    pub system: bool,
    /// Allow installing into an environment its distributor marked as externally managed
    /// (PEP 668)
    #[arg(long)]
    pub break_system_packages: bool,
    /// Replace packages that conda installed in a conda environment (conda's records of the
    /// environment then no longer match it)
    #[arg(long)]
    pub break_conda_packages: bool,
    /// Progress while fetching: on (a bar on a terminal), off, or raw (a line per wheel)
    #[arg(long, value_name = "WHEN", value_parser = ["on", "off", "raw"])]
    pub progress_bar: Option<String>,
    /// Do not warn when scripts are installed into a directory that is not on PATH
    #[arg(long)]
    pub no_warn_script_location: bool,
    /// Do not warn about dependencies the install broke for packages already installed
    #[arg(long)]
    pub no_warn_conflicts: bool,
    /// What to do when running as root outside a virtual environment: warn (default) or ignore
    #[arg(long, value_name = "ACTION", value_parser = ["warn", "ignore"])]
    pub root_user_action: Option<String>,
    /// Install into the user site directory (PYTHONUSERBASE or ~/.local)
    #[arg(long, conflicts_with_all = ["target", "prefix"])]
    pub user: bool,
    /// Install packages into DIR (scripts into DIR/bin)
    #[arg(short = 't', long, value_name = "DIR", conflicts_with_all = ["prefix", "root"])]
    pub target: Option<PathBuf>,
    /// Install under this prefix (DIR/lib/pythonX.Y/site-packages, DIR/bin)
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
    /// Install everything relative to this alternate root directory
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Require a --hash for every requirement in requirements files
    #[arg(long)]
    pub require_hashes: bool,
    /// Require PEP 740 provenance for every file, verified against Sigstore (publisher shown in
    /// `show` and the report)
    #[arg(long)]
    pub verify_attestations: bool,
    #[command(flatten)]
    pub platform: PlatformArgs,
    #[command(flatten)]
    pub resolve: ResolveArgs,
    #[command(flatten)]
    pub build: BuildArgs,
}

/// How source builds run; names follow pip's options.
#[derive(Debug, Args, Clone, Default)]
pub struct BuildArgs {
    /// Build in the target environment, with what is installed there, instead of a fresh
    /// environment holding only the build requirements
    #[arg(long)]
    pub no_build_isolation: bool,
    /// Pass KEY=VALUE to the build backend (repeatable; a repeated KEY gives a list)
    #[arg(short = 'C', long = "config-settings", value_name = "KEY=VALUE")]
    pub config_settings: Vec<String>,
    /// Keep each build's directory and say where it is
    #[arg(long)]
    pub no_clean: bool,
    /// How many builds run at once [default: the number of CPUs]
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// With --no-build-isolation: stop unless the environment holds every build requirement
    #[arg(long)]
    pub check_build_dependencies: bool,
    /// Accepted for pip's sake: ferry always builds through PEP 517
    #[arg(long, overrides_with = "no_use_pep517")]
    pub use_pep517: bool,
    /// pip's legacy `setup.py` builds, which ferry does not have (an error that says so)
    #[arg(long)]
    pub no_use_pep517: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LinkModeArg {
    Hardlink,
    Copy,
    Clone,
    Symlink,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum UpgradeStrategy {
    OnlyIfNeeded,
    Eager,
}

/// How to resolve; names follow pip's options.
#[derive(Debug, Args, Clone, Default)]
pub struct ResolveArgs {
    /// Constrain versions with this constraints file
    #[arg(short = 'c', long = "constraint", value_name = "FILE")]
    pub constraints: Vec<PathBuf>,
    /// Include pre-release and development versions
    #[arg(long)]
    pub pre: bool,
    /// Use only wheels for these packages (`:all:`, `:none:` or comma-separated names)
    #[arg(long, value_name = "NAMES")]
    pub only_binary: Vec<String>,
    /// Never use wheels for these packages (`:all:`, `:none:` or names)
    #[arg(long, value_name = "NAMES")]
    pub no_binary: Vec<String>,
    /// Prefer an older version with a wheel to a newer one that only has an sdist
    #[arg(long)]
    pub prefer_binary: bool,
    /// Do not resolve dependencies: only what was named
    #[arg(long)]
    pub no_deps: bool,
    /// The target interpreter or environment (default: VIRTUAL_ENV, CONDA_PREFIX, .venv, then python3 on PATH)
    #[arg(short, long)]
    pub python: Option<String>,
    /// Resolve for this Python version instead of the interpreter's (e.g. 3.12 or 3.12.1)
    #[arg(long, value_name = "VERSION")]
    pub python_version: Option<String>,
    /// Resolve for this platform instead of the interpreter's: linux, macos, windows,
    /// x86_64-manylinux_2_28, aarch64-apple-darwin, ...
    #[arg(long, value_name = "PLATFORM")]
    pub python_platform: Option<String>,
    /// Admit every version whatever its requires-python says
    #[arg(long)]
    pub ignore_requires_python: bool,
    /// Include the optional dependencies of this extra of a pyproject.toml given with -r
    /// (repeatable)
    #[arg(long, value_name = "EXTRA")]
    pub extra: Vec<String>,
    /// Include every extra of the pyproject.toml files given with -r
    #[arg(long, conflicts_with = "extra")]
    pub all_extras: bool,
    /// Also the requirements of this PEP 735 dependency group: NAME (of ./pyproject.toml) or
    /// PATH:NAME (repeatable)
    #[arg(long, value_name = "[PATH:]GROUP")]
    pub group: Vec<String>,
    /// Also the dependencies of this script's PEP 723 `# /// script` block (repeatable)
    #[arg(long, value_name = "SCRIPT")]
    pub requirements_from_script: Vec<PathBuf>,
    /// Only files uploaded before this date or date-time (RFC 3339, e.g. 2026-01-31 or
    /// 2026-01-31T12:00:00Z), by the index's upload time; files without one are left out
    #[arg(long, value_name = "DATE", visible_alias = "exclude-newer", value_parser = parse_date)]
    pub uploaded_prior_to: Option<i64>,
    /// Where `-e vcs+URL` checkouts go (default: the environment's `src`, else `./src`)
    #[arg(long = "src", id = "src_dir", value_name = "DIR")]
    pub src_dir: Option<PathBuf>,
    #[command(flatten)]
    pub index: IndexArgs,
}

#[derive(Debug, Args)]
pub struct WheelArgs {
    /// Requirements (PEP 508), or project directories and archives
    #[arg(value_name = "REQUIREMENT")]
    pub requirements: Vec<String>,
    /// Also the requirements of this file
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirement_files: Vec<PathBuf>,
    /// Where to put the wheels [default: the current directory]
    #[arg(short = 'w', long, value_name = "DIR")]
    pub wheel_dir: Option<PathBuf>,
    /// Require a --hash for every requirement in requirements files
    #[arg(long)]
    pub require_hashes: bool,
    #[command(flatten)]
    pub resolve: ResolveArgs,
    #[command(flatten)]
    pub build: BuildArgs,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Keep pip, setuptools and wheel even when the requirements do not list them
    #[arg(long)]
    pub keep_seed_packages: bool,
    /// The requirements files or PEP 751 lock (`pylock.toml`) to match; options as `install`
    #[command(flatten)]
    pub install: InstallArgs,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// Requirements (PEP 508), or project directories and archives
    #[arg(value_name = "REQUIREMENT")]
    pub requirements: Vec<String>,
    /// Also the requirements of this file
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirement_files: Vec<PathBuf>,
    /// Install this project directory in development mode (repeatable)
    #[arg(short = 'e', long = "editable", value_name = "PATH")]
    pub editables: Vec<String>,
    /// Where to write the lock (`-` for stdout)
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE",
        default_value = "pylock.toml"
    )]
    pub output: String,
    #[command(flatten)]
    pub resolve: ResolveArgs,
    #[command(flatten)]
    pub build: BuildArgs,
}

/// pip's options for files of another interpreter (`download`, and `install --target`).
#[derive(Debug, Args, Clone, Default)]
pub struct PlatformArgs {
    /// Only files for this platform tag (e.g. manylinux2014_x86_64, win_amd64; repeatable).
    /// With it, --python-version, --implementation or --abi, give --only-binary=:all: or --no-deps
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Vec<String>,
    /// Only files for this Python implementation: cp, pp, py, ip or jy
    #[arg(long, value_name = "IMPL")]
    pub implementation: Option<String>,
    /// Only files for this ABI tag (e.g. cp312, abi3, none; repeatable)
    #[arg(long, value_name = "ABI")]
    pub abi: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Requirements (PEP 508)
    #[arg(value_name = "REQUIREMENT")]
    pub requirements: Vec<String>,
    /// Also the requirements of this file
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirement_files: Vec<PathBuf>,
    /// Where to save the files [default: the current directory]
    #[arg(short = 'd', long = "dest", visible_aliases = ["destination-dir", "download-dir"], value_name = "DIR")]
    pub dest: Option<PathBuf>,
    #[command(flatten)]
    pub platform: PlatformArgs,
    /// Require a --hash for every requirement in requirements files
    #[arg(long)]
    pub require_hashes: bool,
    /// Require PEP 740 provenance for every file, verified against Sigstore (publisher shown in
    /// `show` and the report)
    #[arg(long)]
    pub verify_attestations: bool,
    #[command(flatten)]
    pub resolve: ResolveArgs,
    #[command(flatten)]
    pub build: BuildArgs,
}

#[derive(Debug, Args)]
pub struct BuildCommandArgs {
    /// The project directory [default: the current directory]
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Build an sdist (alone, unless --wheel is given too)
    #[arg(short, long)]
    pub sdist: bool,
    /// Build a wheel (alone, from the tree, unless --sdist is given too)
    #[arg(short, long)]
    pub wheel: bool,
    /// Where to put what is built [default: PATH/dist]
    #[arg(short, long, value_name = "DIR")]
    pub outdir: Option<PathBuf>,
    /// The interpreter to build for (an environment, an executable or a version)
    #[arg(short, long)]
    pub python: Option<String>,
    #[command(flatten)]
    pub index: IndexArgs,
    #[command(flatten)]
    pub build: BuildArgs,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Input files: requirements files (.in, .txt) or pyproject.toml
    #[arg(required = true, value_name = "SRC")]
    pub src: Vec<PathBuf>,
    /// Write the pinned requirements here (and read existing pins from it) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Add --hash options for every file of each pinned version
    #[arg(long)]
    pub generate_hashes: bool,
    #[command(flatten)]
    pub build: BuildArgs,
    /// Leave out the `# via` annotations
    #[arg(long)]
    pub no_annotate: bool,
    /// Leave out the header comment
    #[arg(long)]
    pub no_header: bool,
    /// Ignore existing pins in the output file and take the newest versions
    #[arg(short = 'U', long)]
    pub upgrade: bool,
    /// Upgrade only this package (repeatable)
    #[arg(short = 'P', long, value_name = "NAME")]
    pub upgrade_package: Vec<String>,
    #[command(flatten)]
    pub resolve: ResolveArgs,
}

/// Where packages come from and how to reach it; names follow pip's options.
#[derive(Debug, Args, Clone, Default)]
pub struct IndexArgs {
    /// Base URL of the package index (pip's --index-url; default: PIP_INDEX_URL, pip.conf, then
    /// the target interpreter's pip default)
    #[arg(short = 'i', long, value_name = "URL")]
    pub index_url: Option<String>,
    /// Extra index URLs, consulted after the main one
    #[arg(long, value_name = "URL")]
    pub extra_index_url: Vec<String>,
    /// Ignore package indexes (only --find-links)
    #[arg(long)]
    pub no_index: bool,
    /// A directory, file:// URL or HTML page of links to look in as well
    #[arg(short = 'f', long, value_name = "LOCATION")]
    pub find_links: Vec<String>,
    /// How several indexes combine: first-index (default; a project comes from the first index
    /// that has it) or unsafe-best-match (merge all, like pip)
    #[arg(long, value_enum, value_name = "STRATEGY")]
    pub index_strategy: Option<IndexStrategyArg>,
    /// Extra CA bundle (PEM) to trust, on top of the system store
    #[arg(long, value_name = "PATH")]
    pub cert: Option<PathBuf>,
    /// Client certificate and key (one PEM file)
    #[arg(long, value_name = "PATH")]
    pub client_cert: Option<PathBuf>,
    /// Do not verify TLS certificates of this host (insecure)
    #[arg(long, value_name = "HOST")]
    pub trusted_host: Vec<String>,
    /// Socket timeout in seconds (default 15)
    #[arg(long, alias = "default-timeout", value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Retries for connection errors and server errors (default 5)
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Use only cached responses; never touch the network
    #[arg(long)]
    pub offline: bool,
    /// Revalidate every cached response with the server
    #[arg(long)]
    pub refresh: bool,
    /// Where credentials come from after an HTTP 401: auto (default; import, else subprocess,
    /// and none with --no-input), import (the target interpreter's keyring package),
    /// subprocess (the keyring program on PATH; needs the user name in the index URL) or
    /// disabled
    #[arg(long, value_name = "PROVIDER", value_parser = ["auto", "disabled", "import", "subprocess"])]
    pub keyring_provider: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum IndexStrategyArg {
    FirstIndex,
    UnsafeBestMatch,
}

#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// List the versions of a package available for the target interpreter, like
    /// `pip index versions`
    Versions(IndexVersionsArgs),
    /// Fetch the index pages of packages and say where each came from
    Pages(IndexPagesArgs),
}

#[derive(Debug, Args)]
pub struct IndexVersionsArgs {
    /// The package name
    pub package: String,
    /// Include pre-release and development versions
    #[arg(long)]
    pub pre: bool,
    /// Print JSON, as `pip index versions --json`
    #[arg(long)]
    pub json: bool,
    /// The target interpreter or environment (default: VIRTUAL_ENV, CONDA_PREFIX, .venv, then python3 on PATH)
    #[arg(short, long)]
    pub python: Option<String>,
    #[command(flatten)]
    pub index: IndexArgs,
}

#[derive(Debug, Args)]
pub struct IndexPagesArgs {
    /// Package names
    pub packages: Vec<String>,
    /// Read package names from a requirements file (names only; versions are ignored)
    #[arg(short, long, value_name = "FILE")]
    pub requirement: Vec<PathBuf>,
    /// The target interpreter or environment (for its pip's default index)
    #[arg(short, long)]
    pub python: Option<String>,
    #[command(flatten)]
    pub index: IndexArgs,
}

#[derive(Debug, Args)]
pub struct VenvArgs {
    /// Where to create the environment
    #[arg(default_value = ".venv")]
    pub path: PathBuf,
    /// The interpreter to base it on: a path, or a version such as 3.12 (searched on PATH and in pyenv)
    #[arg(short, long, value_name = "PYTHON")]
    pub python: Option<String>,
    /// The prompt shown while it is active [default: the directory's name; `.` for the current directory's]
    #[arg(long)]
    pub prompt: Option<String>,
    /// Give the environment access to the base interpreter's site-packages
    #[arg(long)]
    pub system_site_packages: bool,
    /// Replace an existing environment instead of refreshing it
    #[arg(long)]
    pub clear: bool,
    /// Install pip into the new environment
    #[arg(long)]
    pub seed: bool,
}

#[derive(Debug, Subcommand)]
pub enum PythonCommand {
    /// Print the interpreter a command would use
    Find(PythonFindArgs),
}

#[derive(Debug, Args)]
pub struct PythonFindArgs {
    /// An interpreter request: a path or a version such as 3.12. Without one, the target
    /// environment (VIRTUAL_ENV, CONDA_PREFIX, .venv) is found as `ferry install` would find it
    pub request: Option<String>,
    /// Also print the interpreter's details as JSON
    #[arg(long)]
    pub json: bool,
    /// With --json, include the supported wheel tags
    #[arg(long, requires = "json")]
    pub tags: bool,
    /// Show the interpreter as it would be for this Python version (e.g. 3.12)
    #[arg(long, value_name = "VERSION")]
    pub python_version: Option<String>,
    /// Show the interpreter as it would be on this platform (linux, macos, windows, ...)
    #[arg(long, value_name = "PLATFORM")]
    pub python_platform: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Print the cache directory
    Dir,
    /// Show the cache's location and each bucket's size and entry count
    Info,
    /// List every cached artifact (downloaded or built) with its size, origin and last use
    List {
        /// Only entries whose project name matches this glob (`*`, `?`)
        #[arg(value_name = "PATTERN")]
        pattern: Option<String>,
        /// Output format: human (a table) or json
        #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = ["human", "json"])]
        format: String,
        /// Only this kind: wheel, built, file, page, metadata, checkout, repository, attestation (repeatable)
        #[arg(long, value_name = "KIND")]
        kind: Vec<String>,
    },
    /// Remove the entries whose project name matches PATTERN; environments keep working
    Remove {
        #[arg(value_name = "PATTERN")]
        pattern: String,
        /// Only this kind (repeatable; see `cache list`)
        #[arg(long, value_name = "KIND")]
        kind: Vec<String>,
    },
    /// Remove what interrupted runs left, and with --older-than what nothing used for that long
    Prune {
        /// Also remove entries not used for this many days
        #[arg(long, value_name = "DAYS")]
        older_than: Option<u64>,
    },
    /// Remove everything in the cache
    Purge,
}

#[derive(Debug, clap::Args)]
pub struct HashArgs {
    /// The files to hash
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The hash algorithm: sha256, sha384 or sha512
    #[arg(short, long, default_value = "sha256", value_parser = ["sha256", "sha384", "sha512"])]
    pub algorithm: String,
}

#[derive(Debug, clap::Args)]
pub struct FreezeArgs {
    /// Also list pip (and setuptools, wheel and distribute on Python < 3.12), which are left
    /// out by default as pip does
    #[arg(long)]
    pub all: bool,
    /// Leave out this package (repeatable)
    #[arg(long, value_name = "PACKAGE")]
    pub exclude: Vec<String>,
    /// Leave out editable installs
    #[arg(long)]
    pub exclude_editable: bool,
    /// Follow this requirements file: its lines in order (comments and options kept), each
    /// requirement as installed, then the rest (repeatable)
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirement: Vec<PathBuf>,
    /// Only the packages in the user site-packages
    #[arg(long, conflicts_with = "path")]
    pub user: bool,
    /// List the packages installed in this directory instead (repeatable)
    #[arg(long, value_name = "DIR")]
    pub path: Vec<PathBuf>,
    /// In a virtual environment, only its own packages (not the base interpreter's of an
    /// environment with system site packages, nor the user site's)
    #[arg(short, long, conflicts_with = "path")]
    pub local: bool,
    /// The target interpreter or environment (default: VIRTUAL_ENV, CONDA_PREFIX, .venv, then python3 on PATH)
    #[arg(short, long)]
    pub python: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only packages with a newer version on the index (adds the `Latest` and `Type` columns)
    #[arg(short, long)]
    pub outdated: bool,
    /// Only packages at the newest version the index offers
    #[arg(short, long)]
    pub uptodate: bool,
    /// Only editable installs
    #[arg(short, long)]
    pub editable: bool,
    /// Leave out editable installs
    #[arg(long, overrides_with = "include_editable")]
    pub exclude_editable: bool,
    /// Include editable installs (the default)
    #[arg(long, overrides_with = "exclude_editable")]
    pub include_editable: bool,
    /// Only packages that no other listed package depends on
    #[arg(long)]
    pub not_required: bool,
    /// Leave out this package (repeatable)
    #[arg(long, value_name = "PACKAGE")]
    pub exclude: Vec<String>,
    /// With --outdated/--uptodate: compare with pre-releases too
    #[arg(long)]
    pub pre: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "columns")]
    pub format: ListFormat,
    /// List the packages installed in this directory instead (repeatable)
    #[arg(long, value_name = "DIR")]
    pub path: Vec<PathBuf>,
    /// Only the packages in the user site-packages
    #[arg(long, conflicts_with = "path")]
    pub user: bool,
    /// In a virtual environment, only its own packages (not the base interpreter's of an
    /// environment with system site packages, nor the user site's)
    #[arg(short, long, conflicts_with = "path")]
    pub local: bool,
    /// The target interpreter or environment (default: VIRTUAL_ENV, CONDA_PREFIX, .venv, then python3 on PATH)
    #[arg(short, long)]
    pub python: Option<String>,
    #[command(flatten)]
    pub index: IndexArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Columns,
    Freeze,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Installed package names (any spelling)
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,
    /// Also list the files each package installed (from RECORD or installed-files.txt)
    #[arg(short, long)]
    pub files: bool,
    /// The target interpreter or environment (default: VIRTUAL_ENV, CONDA_PREFIX, .venv, then python3 on PATH)
    #[arg(short, long)]
    pub python: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The target interpreter or environment (default: VIRTUAL_ENV, CONDA_PREFIX, .venv, then python3 on PATH)
    #[arg(short, long)]
    pub python: Option<String>,
}

/// `--uploaded-prior-to`: seconds since the epoch.
fn parse_date(text: &str) -> Result<i64, String> {
    ferry_types::parse_timestamp(text).ok_or_else(|| {
        format!(
            "`{text}` is not a date (YYYY-MM-DD) or an RFC 3339 date-time (2026-01-31T12:00:00Z)"
        )
    })
}
