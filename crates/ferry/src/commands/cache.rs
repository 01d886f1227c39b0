//! `ferry cache`: look at the cache.

use std::process::ExitCode;

use ferry_cache::Cache;

use crate::cli::CacheCommand;
use crate::printer::Printer;

pub fn run(command: &CacheCommand, cache: &Cache, printer: &Printer) -> anyhow::Result<ExitCode> {
    match command {
        CacheCommand::Dir => printer.result(cache.root().display()),
    }
    Ok(ExitCode::SUCCESS)
}
