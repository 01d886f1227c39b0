//! `ferry lock`: resolve, then write a PEP 751 lock file (`pylock.toml`) for the target
//! interpreter, as `pip lock` does: each package with the one file chosen for it, its URL,
//! sha256, size and upload time, or its direct source.

use std::process::ExitCode;

use anyhow::bail;
use ferry_cache::Cache;
use ferry_python::{find_target, TargetPolicy};

use crate::printer::Printer;
use crate::settings::LockSettings;

pub fn run(
    settings: &LockSettings,
    cache: &Cache,
    runtime: &tokio::runtime::Runtime,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let mut resolver = settings.resolver.clone();
    let spec = resolver.read_spec(
        &settings.requirements,
        &settings.editables,
        &settings.requirement_files,
        &[],
    )?;
    if spec.requirements.is_empty() && spec.sources.is_empty() {
        bail!("name at least one requirement, or a requirements file with -r");
    }
    let request = resolver.python_request();
    let interpreter = find_target(request.as_ref(), TargetPolicy::Read, cache)?;
    let handle = runtime.handle();
    let (client, options) =
        resolver.resolving(&spec, &settings.build, &interpreter, cache, handle, printer)?;
    let target = resolver.target(&interpreter)?;
    let resolution =
        ferry_resolve::resolve(handle, client.clone(), Some(cache), target, &spec, options)?;
    let text = runtime.block_on(ferry_resolve::lock::render(
        &client,
        &resolution.packages,
        None,
    ))?;
    let n = resolution.packages.len();
    let out = Some(settings.output.as_str()).filter(|o| *o != "-");
    printer.write_or_print(out, &text)?;
    match out {
        Some(path) => printer.status(format!("Locked {n} packages into {path}")),
        None => printer.status(format!("Locked {n} packages")),
    }
    Ok(ExitCode::SUCCESS)
}
