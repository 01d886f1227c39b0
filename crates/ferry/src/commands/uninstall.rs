//! `ferry uninstall`: remove distributions using their RECORD, in one transaction.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::bail;
use ferry_cache::Cache;
use ferry_input::RequirementsSpec;
use ferry_install::{uninstall, Layout, Scheme, Session};
use ferry_python::{find_target, PythonRequest, TargetPolicy};

use crate::printer::Printer;
use crate::settings::UninstallSettings;

pub fn run(args: &UninstallSettings, cache: &Cache, printer: &Printer) -> anyhow::Result<ExitCode> {
    let mut names: Vec<String> = args.packages.clone();
    for file in &args.requirement_files {
        let mut spec = RequirementsSpec::default();
        spec.add_file(file, false)?;
        names.extend(
            spec.requirements
                .iter()
                .map(|r| r.requirement.name.to_string()),
        );
    }
    if names.is_empty() {
        bail!("name at least one package to uninstall, or a requirements file with -r");
    }
    let request = args.python.as_deref().map(PythonRequest::parse);
    let policy = TargetPolicy::Modify {
        system: args.system,
    };
    let interpreter = find_target(request.as_ref(), policy, cache)?;
    crate::settings::check_virtualenv(args.require_virtualenv, &interpreter)?;
    let scheme = Scheme::new(&interpreter, &Layout::Environment, None)?;
    interpreter.check_writable(args.break_system_packages)?;
    let mut session = Session::open(&scheme, cache, printer)?;
    let installed = ferry_install::scan(&scheme.site_dirs());
    // Every file is worked out first, so a distribution without RECORD stops the whole run
    // before anything is removed.
    let plan = uninstall::plan(&installed, &names)?;
    for name in &plan.missing {
        printer.status(format!("WARNING: Skipping {name} as it is not installed."));
    }
    for (dist, paths) in &plan.remove {
        printer.status(format!(
            "Found existing installation: {} {}",
            dist.name, dist.version
        ));
        printer.detail(format!("Would remove {} paths:", paths.len()));
        for path in paths {
            printer.detail(format!("  {}", path.display()));
        }
    }
    // pip asks whether stdin is a terminal or not (a pipe can answer); -y does not ask.
    if !plan.remove.is_empty() && !args.yes && !confirm(args.no_input)? {
        session.commit()?;
        printer.status("Nothing was uninstalled.");
        return Ok(ExitCode::from(1));
    }
    let mut removed = Vec::new();
    for (_, paths) in &plan.remove {
        session.txn()?.stash(paths)?;
        removed.extend(paths.iter().cloned());
    }
    let _lock = session.commit()?;
    uninstall::remove_empty_parents(&removed, &scheme.roots());
    for (dist, _) in &plan.remove {
        printer.status(format!(
            "Successfully uninstalled {}-{}",
            dist.name, dist.version
        ));
    }
    crate::settings::warn_if_root(args.warn_root_user, &interpreter, printer);
    Ok(ExitCode::SUCCESS)
}

/// pip's question: `Proceed (Y/n)?`, asked again after an answer that is neither; an empty
/// answer is yes. With `--no-input` (`PIP_NO_INPUT`), or stdin closed, it is an error that says
/// to give -y.
fn confirm(no_input: bool) -> anyhow::Result<bool> {
    const QUESTION: &str = "Proceed (Y/n)? ";
    if no_input {
        anyhow::bail!(
            "no input was expected (--no-input or PIP_NO_INPUT), but uninstalling asks `{}`: give -y to uninstall without asking",
            QUESTION.trim()
        );
    }
    loop {
        eprint_prompt(QUESTION);
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer)? == 0 {
            anyhow::bail!(
                "no answer to `{}` (stdin is closed): give -y to uninstall without asking",
                QUESTION.trim()
            );
        }
        match answer.trim().to_ascii_lowercase().as_str() {
            "" | "y" | "yes" => return Ok(true),
            "n" | "no" => return Ok(false),
            other => eprint_prompt(&format!(
                "Your response ('{other}') was not one of the expected responses: y, n, \n"
            )),
        }
    }
}

#[allow(clippy::print_stderr)]
fn eprint_prompt(text: &str) {
    eprint!("{text}");
    let _ = std::io::stderr().flush();
}
