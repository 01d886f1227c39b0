//! `ferry list`: the installed packages in `pip list`'s formats, optionally with the newest
//! version the index offers.

use std::process::ExitCode;

use anyhow::bail;
use ferry_cache::Cache;
use ferry_install::inspect;
use ferry_install::views::list::{self, Compare, Format, Selection};
use ferry_types::PackageName;

use crate::cli::{ListArgs, ListFormat};
use crate::printer::Printer;

/// `verbose` is the global `-v` count: with it, pip adds each package's location and installer.
pub fn run(
    args: &ListArgs,
    config: &ferry_input::PipConfig,
    verbose: u8,
    cache: &Cache,
    runtime: &tokio::runtime::Runtime,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let layer = config.layer("list");
    let compare = match (args.outdated, args.uptodate) {
        (true, true) => bail!("Options --outdated and --uptodate cannot be combined."),
        (true, false) => Some(Compare::Outdated),
        (false, true) => Some(Compare::Uptodate),
        (false, false) => None,
    };
    let format = match args.format {
        ListFormat::Columns => Format::Columns,
        ListFormat::Freeze if args.outdated => {
            bail!("List format 'freeze' cannot be used with the --outdated option.")
        }
        ListFormat::Freeze => Format::Freeze,
        ListFormat::Json => Format::Json,
    };
    let interpreter = crate::settings::read_target(args.python.as_deref(), config, "list", cache)?;
    let env = interpreter
        .markers()
        .to_pep508()
        .map_err(anyhow::Error::msg)?;
    let dirs = if args.user {
        inspect::user_site(&interpreter).into_iter().collect()
    } else if args.local {
        inspect::local_site_dirs(&interpreter, &args.path)
    } else {
        inspect::site_dirs(&interpreter, &args.path)
    };
    let dists = ferry_install::scan(&dirs);
    let selection = Selection {
        skip: args.exclude.iter().map(|n| PackageName::new(n)).collect(),
        editable_only: args.editable,
        exclude_editable: args.exclude_editable,
        not_required: args.not_required,
    };
    let mut rows = list::select(&dists, &selection, &env);

    if let Some(compare) = compare {
        let options = crate::settings::index_options(&args.index, layer)?;
        let client = crate::settings::index_client(&options, &interpreter, cache)?;
        let target = ferry_resolve::Target::from_interpreter(&interpreter)?;
        let pre = layer.switch(args.pre, "pre")?;
        // Like pip, one project that cannot be looked up does not stop the listing.
        let warn = |name: &str, err: ferry_index::IndexError| {
            printer.status(format!(
                "warning: could not look up {name} on the index: {:#}",
                anyhow::Error::new(err)
            ));
        };
        rows = runtime.block_on(list::compare(rows, &client, &target, pre, compare, &warn));
    }
    for line in list::render(&rows, format, args.outdated, verbose > 0) {
        printer.result(line);
    }
    Ok(ExitCode::SUCCESS)
}
