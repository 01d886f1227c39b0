//! One module per subcommand; each takes its parsed arguments and returns an exit code.

mod cache;
pub mod check;
mod compile;
pub mod freeze;
mod index;
mod inspect;
mod install;
pub mod list;
mod python;
mod resolve;
pub mod show;
mod uninstall;
mod venv;

use std::process::ExitCode;

use ferry_cache::Cache;

use crate::cli::{Cli, Command};
use crate::printer::Printer;

pub fn run(cli: Cli, printer: &Printer) -> anyhow::Result<ExitCode> {
    let cache = Cache::from_settings(cli.global.cache_dir.clone(), cli.global.no_cache_dir)?;
    match cli.command {
        Command::Venv(args) => venv::run(&args, &cache, printer),
        Command::Python(command) => python::run(command, &cache, printer),
        Command::Cache(command) => cache::run(&command, &cache, printer),
        Command::Index(command) => index::run(command, &cache, printer),
        Command::Compile(args) => compile::run(&args, &cache, printer),
        Command::Install(args) => install::run(&args, &cache, printer),
        Command::Uninstall(args) => uninstall::run(&args, &cache, printer),
        Command::Freeze(args) => freeze::run(&args, &cache, printer),
        Command::List(args) => list::run(&args, cli.global.verbose, &cache, printer),
        Command::Show(args) => show::run(&args, cli.global.verbose, &cache, printer),
        Command::Check(args) => check::run(&args, &cache, printer),
    }
}
