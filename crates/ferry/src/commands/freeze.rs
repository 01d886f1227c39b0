//! `ferry freeze`: the installed packages as a requirements file, in `pip freeze`'s format.

use std::path::PathBuf;
use std::process::ExitCode;

use ferry_cache::Cache;
use ferry_install::InstalledDist;

use crate::printer::Printer;
use ferry_install::inspect;

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
    /// List the packages installed in this directory instead (repeatable)
    #[arg(long, value_name = "DIR")]
    pub path: Vec<PathBuf>,
    /// Only the environment's own packages (always the case: ferry does not list the base
    /// interpreter's packages of an environment with system site packages)
    #[arg(short, long, conflicts_with = "path")]
    pub local: bool,
    /// The target interpreter or environment (default: VIRTUAL_ENV, CONDA_PREFIX, .venv, then python3 on PATH)
    #[arg(short, long)]
    pub python: Option<String>,
}

pub fn run(
    args: &FreezeArgs,
    config: &ferry_input::PipConfig,
    cache: &Cache,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let interpreter =
        crate::settings::read_target(args.python.as_deref(), config, "freeze", cache)?;
    let dists = ferry_install::scan(&inspect::site_dirs(&interpreter, &args.path));

    let mut skip: Vec<String> = args
        .exclude
        .iter()
        .map(|n| ferry_input::normalize_name(n))
        .collect();
    if !args.all {
        skip.push("pip".to_string());
        // pip hides the build tools it used to seed environments with, until Python 3.12
        // stopped bundling them.
        let (major, minor, _) = interpreter.version();
        if (major, minor) < (3, 12) {
            skip.extend(["setuptools", "distribute", "wheel"].map(String::from));
        }
    }

    let mut frozen: Vec<(&InstalledDist, Vec<String>)> = dists
        .iter()
        .filter(|d| !inspect::is_skipped(d, &skip))
        .filter_map(|dist| {
            let editable = inspect::editable_location(dist);
            if args.exclude_editable && editable.is_some() {
                return None;
            }
            Some((dist, frozen_lines(dist, editable)))
        })
        .collect();
    frozen.sort_by_cached_key(|(dist, _)| dist.name.to_lowercase());
    for (_, lines) in frozen {
        for line in lines {
            printer.result(line);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The lines pip freeze writes for one distribution.
fn frozen_lines(dist: &InstalledDist, editable: Option<String>) -> Vec<String> {
    if let Some(location) = editable {
        // ferry does not ask version control where an editable checkout came from, so every
        // editable is written the way pip writes one outside version control.
        let location = inspect::normpath(std::path::Path::new(&location));
        return vec![
            format!(
                "# Editable install with no version control ({})",
                name_version(dist)
            ),
            format!("-e {location}"),
        ];
    }
    let line = match dist.direct_url() {
        Some(direct) => direct.to_requirement(&dist.name),
        None => name_version(dist),
    };
    vec![line.trim_end().to_string()]
}

/// `Name==version`, or `Name===version` for a version that is not PEP 440.
fn name_version(dist: &InstalledDist) -> String {
    match inspect::parse_version(&dist.version) {
        Some(version) => format!("{}=={version}", dist.name),
        None => format!("{}==={}", dist.name, dist.version),
    }
}
