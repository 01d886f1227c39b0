//! `ferry python find`: which interpreter ferry would use, and what it knows about it.

use std::process::ExitCode;

use ferry_cache::Cache;
use ferry_python::{find_environment, find_interpreter, PythonRequest};

use crate::cli::PythonCommand;
use crate::printer::Printer;

pub fn run(command: PythonCommand, cache: &Cache, printer: &Printer) -> anyhow::Result<ExitCode> {
    let PythonCommand::Find(args) = command;
    let interpreter = match args.request.as_deref() {
        Some(request) => find_interpreter(&PythonRequest::parse(request), cache)?,
        None => {
            let (interpreter, source) = find_environment(None, cache)?;
            tracing::info!("environment chosen by {source}");
            interpreter
        }
    };
    let interpreter = if args.python_version.is_some() || args.python_platform.is_some() {
        interpreter.retarget(
            args.python_version.as_deref(),
            args.python_platform.as_deref(),
        )?
    } else {
        interpreter
    };
    if args.json {
        let mut value = serde_json::to_value(interpreter.info())?;
        value["path"] = serde_json::json!(interpreter.path());
        if args.tags {
            let tags: Vec<String> = interpreter.tags().iter().map(ToString::to_string).collect();
            value["supported_tags"] = serde_json::json!(tags);
        }
        printer.result(serde_json::to_string_pretty(&value)?);
    } else {
        printer.result(interpreter.path().display());
    }
    Ok(ExitCode::SUCCESS)
}
