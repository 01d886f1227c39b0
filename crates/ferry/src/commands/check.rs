//! `ferry check`: whether the installed packages' dependencies are installed, in versions that
//! fit, and whether their wheels suit this interpreter, reported in `pip check`'s words.

use std::process::ExitCode;

use ferry_cache::Cache;

use crate::cli::CheckArgs;
use crate::printer::Printer;

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
