//! `ferry index versions` and `ferry index pages`.

use std::collections::HashSet;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use anyhow::{bail, Context};
use ferry_cache::Cache;
use ferry_index::{
    resolve_settings, DistFilename, FetchOrigin, HttpClient, IndexClient, IndexOptions,
    IndexStrategy, ProjectFile,
};
use ferry_input::PipConfig;
use ferry_python::{find_environment, find_interpreter, Interpreter, PythonError, PythonRequest};
use pep440_rs::{Version, VersionSpecifiers};

use crate::cli::{IndexArgs, IndexCommand, IndexStrategyArg};
use crate::printer::Printer;

pub fn run(command: IndexCommand, cache: &Cache, printer: &Printer) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let result = match command {
        IndexCommand::Versions(args) => {
            let interpreter = target_interpreter(args.python.as_deref(), cache)?;
            let client = index_client(&args.index, &interpreter, cache, "index")?;
            runtime.block_on(versions(
                &client,
                &interpreter,
                &args.package,
                args.pre,
                args.json,
                printer,
            ))
        }
        IndexCommand::Pages(args) => {
            let interpreter = target_interpreter(args.python.as_deref(), cache)?;
            let client = index_client(&args.index, &interpreter, cache, "index")?;
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
    };
    // Do not wait for lookups or idle connections still parked on blocking threads.
    runtime.shutdown_background();
    result
}

/// The interpreter a command targets: `--python`, else the active or nearest environment,
/// else the first `python3` on PATH (listing packages needs no environment).
pub fn target_interpreter(python: Option<&str>, cache: &Cache) -> anyhow::Result<Interpreter> {
    let request = python.map(PythonRequest::parse);
    match find_environment(request.as_ref(), cache) {
        Ok((interpreter, source)) => {
            tracing::info!(
                "using {} (chosen by {source})",
                interpreter.path().display()
            );
            Ok(interpreter)
        }
        Err(PythonError::NoEnvironment(_)) => Ok(find_interpreter(&PythonRequest::Any, cache)?),
        Err(err) => Err(err.into()),
    }
}

/// An index client configured from the command line, pip's configuration and the
/// interpreter's pip default index.
pub fn index_client(
    args: &IndexArgs,
    interpreter: &Interpreter,
    cache: &Cache,
    command: &str,
) -> anyhow::Result<IndexClient> {
    let config = PipConfig::load()?;
    let options = IndexOptions {
        index_url: args.index_url.clone(),
        extra_index_urls: args.extra_index_url.clone(),
        no_index: args.no_index,
        find_links: args.find_links.clone(),
        strategy: args.index_strategy.map(|s| match s {
            IndexStrategyArg::FirstIndex => IndexStrategy::FirstIndex,
            IndexStrategyArg::UnsafeBestMatch => IndexStrategy::UnsafeBestMatch,
        }),
        cert: args.cert.clone(),
        client_cert: args.client_cert.clone(),
        trusted_hosts: args.trusted_host.clone(),
        timeout: args.timeout,
        retries: args.retries,
        offline: args.offline,
        refresh: args.refresh,
    };
    let (index, http) = resolve_settings(
        &options,
        &config,
        command,
        interpreter.info().pip_default_index.as_deref(),
        &interpreter.path().display().to_string(),
    )?;
    for url in &index.indexes {
        tracing::info!("index: {}", url.redacted());
    }
    let http = HttpClient::new(http, Some(cache))?;
    Ok(IndexClient::new(http, index)?)
}

/// Whether a listed file could be installed into `interpreter`: a wheel with a supported tag,
/// or an sdist, and a `requires-python` that admits the interpreter (an unparseable one is
/// ignored, as pip does).
/// An interpreter's tags as (python, abi, platform) triples.
pub(super) type TagSet<'a> = HashSet<(&'a str, &'a str, &'a str)>;

/// The interpreter's tags as a set, and its version, for [`compatible`].
pub(super) fn tags_and_version(interpreter: &Interpreter) -> anyhow::Result<(TagSet<'_>, Version)> {
    let tags = interpreter
        .tags()
        .iter()
        .map(|t| (t.python.as_str(), t.abi.as_str(), t.platform.as_str()))
        .collect();
    let python = Version::from_str(interpreter.version_string()).with_context(|| {
        format!(
            "interpreter version {} is not PEP 440",
            interpreter.version_string()
        )
    })?;
    Ok((tags, python))
}

pub(super) fn compatible(
    file: &ProjectFile,
    tags: &HashSet<(&str, &str, &str)>,
    python: &Version,
) -> bool {
    if let DistFilename::Wheel(wheel) = &file.name {
        if !wheel
            .tags
            .iter()
            .any(|(p, a, pl)| tags.contains(&(p.as_str(), a.as_str(), pl.as_str())))
        {
            return false;
        }
    }
    match file
        .file
        .requires_python
        .as_deref()
        .map(VersionSpecifiers::from_str)
    {
        Some(Ok(specifiers)) => specifiers.contains(python),
        Some(Err(err)) => {
            tracing::debug!(
                "ignoring invalid requires-python of {}: {err}",
                file.file.filename
            );
            true
        }
        None => true,
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
    let (tags, python) = tags_and_version(interpreter)?;
    let mut versions: Vec<Version> = project
        .files
        .iter()
        // Like pip's `index versions`, yanked files are not offered.
        .filter(|f| f.file.yanked.is_none() && compatible(f, &tags, &python))
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
