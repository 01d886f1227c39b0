//! `ferry index versions` and `ferry index pages`.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use ferry_cache::Cache;
use ferry_index::{FetchOrigin, IndexClient};
use ferry_input::PipConfig;
use ferry_python::{find_target, Interpreter, PythonRequest, TargetPolicy};
use ferry_resolve::Target;
use pep440_rs::Version;

use crate::cli::{IndexArgs, IndexCommand};
use crate::printer::Printer;
use crate::settings::index_options;

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
        let client = ferry_index::client_for(
            &index_options(index, layer)?,
            interpreter.info().pip_default_index.as_deref(),
            &interpreter.path().display().to_string(),
            Some(cache),
        )?;
        Ok((interpreter, client))
    };
    match command {
        IndexCommand::Versions(args) => {
            let (interpreter, client) = setup(args.python.as_deref(), &args.index)?;
            let pre = layer.switch(args.pre, "pre")?;
            runtime.block_on(versions(
                &client,
                &interpreter,
                &args.package,
                pre,
                args.json,
                printer,
            ))
        }
        IndexCommand::Pages(args) => {
            let (_, client) = setup(args.python.as_deref(), &args.index)?;
            let mut names = args.packages.clone();
            let mut spec = ferry_input::RequirementsSpec::default();
            for file in &args.requirement {
                spec.add_file(file, false)?;
            }
            names.extend(
                spec.requirements
                    .iter()
                    .map(|r| r.requirement.name.to_string()),
            );
            if names.is_empty() {
                bail!("name at least one package, or a requirements file with -r");
            }
            runtime.block_on(pages(&client, &names, printer))
        }
    }
}

async fn versions(
    client: &IndexClient,
    interpreter: &Interpreter,
    package: &str,
    pre: bool,
    json: bool,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let project = client.project(package).await?;
    for page in &project.pages {
        tracing::info!(
            "{} files from {} ({})",
            page.files,
            page.url,
            origin_text(page.origin)
        );
    }
    let target = Target::from_interpreter(interpreter)?;
    let mut versions: Vec<Version> = project
        .files
        .iter()
        // Like pip's `index versions`, yanked files are not offered.
        .filter(|f| f.file.yanked.is_none() && target.file_rank(f).is_some())
        .map(|f| f.name.version().clone())
        .filter(|v| pre || !v.any_prerelease())
        .collect();
    versions.sort();
    versions.dedup();
    versions.reverse();
    let Some(latest) = versions.first() else {
        bail!(
            "No matching distribution found for {package}: {} files are listed, none for {} {} on this platform{}",
            project.files.len(),
            interpreter.implementation_display(),
            interpreter.version_string(),
            if pre { "" } else { " (pre-releases are hidden without --pre)" }
        );
    };
    let formatted: Vec<String> = versions.iter().map(ToString::to_string).collect();
    let paths = &interpreter.info().paths;
    let site_dirs: Vec<std::path::PathBuf> = [&paths.purelib, &paths.platlib]
        .into_iter()
        .flatten()
        .map(std::path::PathBuf::from)
        .collect();
    let installed = ferry_install::installed::find(&ferry_install::scan(&site_dirs), package)
        .map(|d| d.version.clone());
    if json {
        // pip prints json.dumps() output: keys in this order, ", " and ": " separators.
        let mut fields = vec![
            ("name", serde_json::json!(package)),
            ("versions", serde_json::json!(formatted)),
            ("latest", serde_json::json!(latest.to_string())),
        ];
        if let Some(installed) = &installed {
            fields.push(("installed_version", serde_json::json!(installed)));
        }
        printer.result(python_style_json(&fields));
    } else {
        printer.result(format!("{package} ({latest})"));
        printer.result(format!("Available versions: {}", formatted.join(", ")));
        if let Some(installed) = installed {
            printer.result(format!("  INSTALLED: {installed}"));
            if latest.is_pre() {
                printer.result(format!(
                    "  LATEST:    {latest} (pre-release; install with `pip install --pre`)"
                ));
            } else {
                printer.result(format!("  LATEST:    {latest}"));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A flat JSON object formatted like Python's `json.dumps`.
fn python_style_json(fields: &[(&str, serde_json::Value)]) -> String {
    let item = |v: &serde_json::Value| match v {
        serde_json::Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    };
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}: {}", serde_json::json!(k), item(v)))
        .collect();
    format!("{{{}}}", body.join(", "))
}

fn origin_text(origin: Option<FetchOrigin>) -> &'static str {
    match origin {
        None => "local",
        Some(FetchOrigin::Network) => "network",
        Some(FetchOrigin::CacheFresh) => "cache, fresh",
        Some(FetchOrigin::CacheRevalidated) => "cache, revalidated",
        Some(FetchOrigin::CacheOffline) => "cache, offline",
    }
}

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
                    printer.result(format!(
                        "{name}: {} files from {} ({})",
                        page.files,
                        page.url,
                        origin_text(page.origin)
                    ));
                }
            }
            Err(err) => {
                failed += 1;
                printer.error(&anyhow::Error::new(err).context(format!("{name}: failed")));
            }
        }
    }
    printer.status(format!(
        "{} pages, {total_files} files in {} ms",
        names.len() - failed,
        start.elapsed().as_millis()
    ));
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
