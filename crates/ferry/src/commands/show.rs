//! `ferry show`: what is known about installed packages, in `pip show`'s format.

use std::process::ExitCode;

use ferry_cache::Cache;
use ferry_install::inspect;
use ferry_install::views::show::{show, ShowOptions};

use crate::cli::ShowArgs;
use crate::printer::Printer;

/// `verbose` is the global `-v` count: with it, pip adds the metadata version, installer,
/// classifiers, entry points and project URLs.
pub fn run(
    args: &ShowArgs,
    config: &ferry_input::PipConfig,
    verbose: u8,
    cache: &Cache,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    if args.packages.is_empty() {
        printer.status("WARNING: ERROR: Please provide a package name or names.");
        return Ok(ExitCode::from(1));
    }
    let interpreter = crate::settings::read_target(args.python.as_deref(), config, "show", cache)?;
    let env = interpreter
        .markers()
        .to_pep508()
        .map_err(anyhow::Error::msg)?;
    let dists = ferry_install::scan(&inspect::site_dirs(&interpreter, &[]));
    let (major, minor, _) = interpreter.version();
    let options = ShowOptions {
        files: args.files,
        verbose: verbose > 0,
        reindent: (major, minor) >= (3, 11),
        cache_root: Some(cache.root().to_path_buf()),
    };
    let shown = show(&dists, &args.packages, &env, &options);
    if !shown.missing.is_empty() {
        printer.status(format!(
            "WARNING: Package(s) not found: {}",
            shown.missing.join(", ")
        ));
    }
    for line in shown.lines {
        printer.result(line);
    }
    Ok(if shown.found == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
