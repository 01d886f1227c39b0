//! `ferry lock`: resolve, then write a PEP 751 lock file (`pylock.toml`) for the target
//! interpreter, as `pip lock` does: each package with the one file chosen for it, its URL,
//! sha256, size and upload time, or its direct source.

use std::process::ExitCode;

use ferry_cache::Cache;

use crate::printer::Printer;
use crate::settings::LockSettings;

pub fn run(
    settings: &LockSettings,
    cache: &Cache,
    runtime: &tokio::runtime::Runtime,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let super::Resolving {
        resolver,
        spec,
        interpreter,
        client,
        options,
    } = super::resolving(
        &settings.resolver,
        &settings.build,
        (
            &settings.requirements,
            &settings.editables,
            &settings.requirement_files,
        ),
        cache,
        runtime,
        printer,
    )?;
    let handle = runtime.handle();
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
