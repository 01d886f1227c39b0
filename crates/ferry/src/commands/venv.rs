//! `ferry venv`: create a virtual environment.

use std::process::ExitCode;

use anyhow::Context;
use ferry_cache::Cache;
use ferry_python::venv::{self, VenvAction, VenvOptions};
use ferry_python::{find_interpreter, PythonRequest};

use crate::cli::VenvArgs;
use crate::printer::Printer;

pub fn run(args: &VenvArgs, cache: &Cache, printer: &Printer) -> anyhow::Result<ExitCode> {
    let request = args
        .python
        .as_deref()
        .map_or(PythonRequest::Any, PythonRequest::parse);
    let base = find_interpreter(&request, cache)
        .with_context(|| format!("could not find an interpreter for {request}"))?;
    printer.status(format!(
        "Using {} {} interpreter at: {}",
        base.implementation_display(),
        base.version_string(),
        base.base_executable().display()
    ));
    let options = VenvOptions {
        prompt: args.prompt.clone(),
        system_site_packages: args.system_site_packages,
        clear: args.clear,
    };
    let env = venv::create(&args.path, &base, &options)?;
    let verb = match env.action {
        VenvAction::Created => "Created",
        VenvAction::Replaced => "Replaced",
        VenvAction::Refreshed => "Refreshed",
    };
    printer.status(format!(
        "{verb} virtual environment at: {}",
        args.path.display()
    ));
    if args.seed {
        printer.status("Installing pip with ensurepip");
        venv::seed_pip(&env)?;
    }
    printer.status(format!(
        "Activate with: source {}",
        args.path.join("bin").join("activate").display()
    ));
    Ok(ExitCode::SUCCESS)
}
