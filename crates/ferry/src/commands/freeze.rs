//! `ferry freeze`: the installed packages as a requirements file, in `pip freeze`'s format.

use std::process::ExitCode;

use ferry_cache::Cache;
use ferry_install::{inspect, views};
use ferry_types::PackageName;

use crate::cli::FreezeArgs;
use crate::printer::Printer;

pub fn run(
    args: &FreezeArgs,
    config: &ferry_input::PipConfig,
    cache: &Cache,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let interpreter =
        crate::settings::read_target(args.python.as_deref(), config, "freeze", cache)?;
    let dirs = if args.user {
        inspect::user_site(&interpreter).into_iter().collect()
    } else if args.local {
        inspect::local_site_dirs(&interpreter, &args.path)
    } else {
        inspect::site_dirs(&interpreter, &args.path)
    };
    let dists = ferry_install::scan(&dirs);
    let (major, minor, _) = interpreter.version();
    let mut skip = views::freeze::hidden(args.all, (major, minor));
    skip.extend(args.exclude.iter().map(|n| PackageName::new(n)));
    if args.requirement.is_empty() {
        for line in views::freeze::lines(&dists, &skip, args.exclude_editable) {
            printer.result(line);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut files = Vec::new();
    for path in &args.requirement {
        files.push((path.clone(), fs_err::read_to_string(path)?));
    }
    let (lines, warnings) =
        views::freeze::lines_following(&dists, &skip, args.exclude_editable, &files);
    for line in lines {
        printer.result(line);
    }
    for warning in warnings {
        printer.status(format!("WARNING: {warning}"));
    }
    Ok(ExitCode::SUCCESS)
}
