//! `ferry wheel`: resolve, then save a wheel of every package into a directory, downloading
//! what the index has as a wheel and building the rest, as `pip wheel` does.

use std::process::ExitCode;

use anyhow::bail;
use ferry_cache::Cache;
use ferry_install::plan::{self, Prepare};
use ferry_install::Store;
use ferry_python::{find_target, TargetPolicy};

use crate::printer::Printer;
use crate::settings::WheelSettings;

pub fn run(
    settings: &WheelSettings,
    cache: &Cache,
    runtime: &tokio::runtime::Runtime,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let mut resolver = settings.resolver.clone();
    let spec = resolver.read_spec(
        &settings.requirements,
        &[],
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
