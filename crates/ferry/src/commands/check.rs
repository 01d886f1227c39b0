//! `ferry check`: whether the installed packages' dependencies are installed, in versions that
//! fit, and whether their wheels suit this interpreter, reported in `pip check`'s words.

use std::process::ExitCode;

use ferry_cache::Cache;

use crate::printer::Printer;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The target interpreter or environment (default: VIRTUAL_ENV, CONDA_PREFIX, .venv, then python3 on PATH)
    #[arg(short, long)]
    pub python: Option<String>,
}

pub fn run(
    args: &CheckArgs,
    config: &ferry_input::PipConfig,
    cache: &Cache,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let interpreter = crate::settings::read_target(args.python.as_deref(), config, "check", cache)?;
    let env = interpreter
        .markers()
        .to_pep508()
        .map_err(anyhow::Error::msg)?;
    let report = ferry_install::check::check(&interpreter, &env);
    for line in &report.unreadable {
        printer.status(format!("WARNING: {line}"));
    }
    for line in report
        .missing
        .iter()
        .chain(&report.conflicting)
        .chain(&report.unsupported)
    {
        printer.result(line);
    }
    if !report.is_clean() {
        return Ok(ExitCode::from(1));
    }
    printer.result("No broken requirements found.");
    Ok(ExitCode::SUCCESS)
}
