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
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Print the cache directory
    Dir,
}
