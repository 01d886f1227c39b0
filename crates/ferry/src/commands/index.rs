//! `ferry index versions` and `ferry index pages`.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use ferry_cache::Cache;
use ferry_index::IndexClient;
use ferry_input::PipConfig;
use ferry_python::{find_target, PythonRequest, TargetPolicy};
use ferry_resolve::Target;

use ferry_install::views;

use crate::cli::{IndexArgs, IndexCommand};
use crate::printer::Printer;
use crate::settings::{index_client, index_options};

pub fn run(
    command: IndexCommand,
    config: &PipConfig,
    cache: &Cache,
    runtime: &tokio::runtime::Runtime,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    // pip reads these options from its `[index]` section.
    let layer = config.layer("index");
    let setup = |python: Option<&str>, index: &IndexArgs| -> anyhow::Result<_> {
        let request = layer
            .value(python, "python")
            .map(|p| PythonRequest::parse(&p));
        let interpreter = find_target(request.as_ref(), TargetPolicy::Read, cache)?;
        let client = index_client(&index_options(index, layer)?, &interpreter, cache)?;
        Ok((interpreter, client))
    };
    match command {
        IndexCommand::Versions(args) => {
            let (interpreter, client) = setup(args.python.as_deref(), &args.index)?;
            let pre = layer.switch(args.pre, "pre")?;
            let project = runtime.block_on(client.project(&args.package))?;
            project
                .pages
                .iter()
                .for_each(|page| tracing::info!("{page}"));
            let target = Target::from_interpreter(&interpreter)?;
            let versions: Vec<_> = target
                .offered_versions(&project, pre)
                .into_iter()
                .map(|(version, _)| version)
                .collect();
            if versions.is_empty() {
                let files = project.files.len();
                let pages: Vec<String> = project.pages.iter().map(|p| p.url.clone()).collect();
                bail!(views::no_versions(
                    &args.package,
                    files,
                    &pages,
                    &interpreter,
                    pre
                ));
            }
            let site_dirs = ferry_install::inspect::site_dirs(&interpreter, &[]);
            let dists = ferry_install::scan(&site_dirs);
            let installed = ferry_install::installed::find(&dists, &args.package);
            let installed = installed.map(|d| &d.version);
            let lines = views::index_versions(&args.package, &versions, installed, args.json);
            lines.into_iter().for_each(|line| printer.result(line));
            Ok(ExitCode::SUCCESS)
        }
        IndexCommand::Pages(args) => {
            let (_, client) = setup(args.python.as_deref(), &args.index)?;
            let mut names = args.packages.clone();
            let mut spec = ferry_input::RequirementsSpec::default();
            for file in &args.requirement {
                spec.add_file(file, false)?;
            }
            let named = spec
                .requirements
                .iter()
                .map(|r| r.requirement.name.to_string());
            names.extend(named);
            if names.is_empty() {
                bail!("name at least one package, or a requirements file with -r");
            }
            runtime.block_on(pages(&client, &names, printer))
        }
    }
}

/// Fetches every project page at once and says where each came from.
async fn pages(
    client: &IndexClient,
    names: &[String],
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let results = futures::future::join_all(names.iter().map(|name| client.project(name))).await;
    let mut total_files = 0;
    let mut failed = 0;
    for (name, result) in names.iter().zip(results) {
        match result {
            Ok(project) => {
                total_files += project.files.len();
                for page in &project.pages {
                    printer.result(format!("{name}: {page}"));
                }
            }
            Err(err) => {
                failed += 1;
                printer.error(&anyhow::Error::new(err).context(format!("{name}: failed")));
            }
        }
    }
    let pages = names.len() - failed;
    let ms = start.elapsed().as_millis();
    printer.status(format!("{pages} pages, {total_files} files in {ms} ms"));
    Ok(ExitCode::from(u8::from(failed > 0)))
}
