//! `ferry wheel`: resolve, then save a wheel of every package into a directory, downloading
//! what the index has as a wheel and building the rest, as `pip wheel` does.

use std::process::ExitCode;

use ferry_cache::Cache;
use ferry_install::plan::{self, Prepare};
use ferry_install::Store;

use crate::printer::Printer;
use crate::settings::WheelSettings;

pub fn run(
    settings: &WheelSettings,
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
        (&settings.requirements, &[], &settings.requirement_files),
        cache,
        runtime,
        printer,
    )?;
    let handle = runtime.handle();
    let build = options.build.clone();
    let target = resolver.target(&interpreter)?;
    let resolution =
        ferry_resolve::resolve(handle, client.clone(), Some(cache), target, &spec, options)?;
    let packages: Vec<_> = resolution.packages.iter().collect();
    let store = Store::new(cache);
    let prepare = Prepare {
        build_jobs: settings.build.jobs,
        ..Prepare::new(
            client.http(),
            &store,
            &*build,
            &spec,
            resolver.require_hashes,
        )
    };
    let saved = plan::save(handle, &packages, &prepare, &settings.wheel_dir)?;
    for (_, wheel) in &saved {
        if wheel.already_there {
            printer.status(format!(
                "File was already downloaded {}",
                wheel.path.display()
            ));
        } else {
            printer.status(format!("Saved {}", wheel.path.display()));
        }
    }
    Ok(ExitCode::SUCCESS)
}
