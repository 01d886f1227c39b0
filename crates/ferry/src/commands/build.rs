//! `ferry build`: a project's sdist, then a wheel built from that sdist (so the sdist is known
//! to be complete), as `python -m build` does; `--sdist` or `--wheel` alone builds only that,
//! the wheel then straight from the tree.

use std::process::ExitCode;
use std::sync::Arc;

use ferry_build::Kind;
use ferry_cache::Cache;
use ferry_python::{find_target, PythonRequest, TargetPolicy};

use crate::printer::Printer;
use crate::settings::{index_client, BuildCommandSettings};

pub fn run(
    settings: &BuildCommandSettings,
    cache: &Cache,
    runtime: &tokio::runtime::Runtime,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let tree = std::path::absolute(&settings.path)?;
    let outdir = match &settings.outdir {
        Some(dir) => std::path::absolute(dir)?,
        None => tree.join("dist"),
    };
    let request = settings.python.as_deref().map(PythonRequest::parse);
    let interpreter = find_target(request.as_ref(), TargetPolicy::Read, cache)?;
    let client = Arc::new(index_client(&settings.index, &interpreter, cache)?);
    let handle = runtime.handle();
    let (policy, spec) = (Default::default(), Default::default());
    let builder = (settings.build).builder(
        &interpreter,
        &client,
        cache,
        handle,
        (&policy, &spec),
        printer,
    )?;
    let (sdist, wheel) = (
        settings.sdist || !settings.wheel,
        settings.wheel || !settings.sdist,
    );
    let mut built = Vec::new();
    if sdist {
        let archive = builder.build_tree(&tree, Kind::Sdist, &outdir)?;
        if wheel {
            let scratch = tempfile::tempdir()?;
            let unpacked = ferry_build::sdist::unpack(&archive, scratch.path())?;
            built.push(archive);
            built.push(builder.build_tree(&unpacked, Kind::Wheel, &outdir)?);
        } else {
            built.push(archive);
        }
    } else {
        built.push(builder.build_tree(&tree, Kind::Wheel, &outdir)?);
    }
    let names: Vec<String> = built
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    printer.status(format!(
        "Successfully built {} in {}",
        names.join(" and "),
        outdir.display()
    ));
    Ok(ExitCode::SUCCESS)
}
