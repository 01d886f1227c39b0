//! `ferry install`: resolve, fetch wheels into the cache's unpacked-wheel store, and install
//! them into the target environment in one journaled transaction. `--dry-run [--report]`
//! stops after resolution with pip's installation report.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use ferry_cache::Cache;
use ferry_input::{parse_requirement, Origin, RequirementsSpec};
use ferry_install::plan::{self, PlanOptions};
use ferry_install::{
    uninstall, ApplyOptions, EnvLock, InstalledDist, Layout, LinkMode, Scheme, Store, Transaction,
};
use ferry_python::venv::{self, VenvOptions};
use ferry_python::{find_target, Interpreter, PythonError, PythonRequest, TargetPolicy};
use ferry_resolve::Upgrade;
use ferry_types::PackageName;

use crate::printer::Printer;
use crate::progress::Progress;
use crate::settings::InstallSettings;

pub fn run(
    settings: &InstallSettings,
    cache: &Cache,
    runtime: &tokio::runtime::Runtime,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut resolver = settings.resolver.clone();
    let mut spec = RequirementsSpec::default();
    for requirement in &settings.requirements {
        spec.requirements
            .push(parse_requirement(requirement, Origin::CommandLine)?);
    }
    for file in &settings.requirement_files {
        spec.add_file(file, false)?;
    }
    resolver.add_constraints(&mut spec)?;
    resolver.apply_file_options(&spec.options);
    if let Some(editable) = spec.editables.first() {
        bail!(
            "-e {} ({}): editable installs need a build, which ferry cannot do yet",
            editable.location,
            editable.origin
        );
    }
    if spec.requirements.is_empty() {
        bail!("name at least one requirement, or a requirements file with -r");
    }
    let require_hashes =
        resolver.require_hashes || spec.requirements.iter().any(|r| !r.hashes.is_empty());

    let interpreter = install_interpreter(settings, cache, printer)?;
    let layout = if settings.user {
        Layout::User
    } else if let Some(dir) = &settings.target {
        Layout::Target(dir.clone())
    } else if let Some(dir) = &settings.prefix {
        Layout::Prefix(dir.clone())
    } else {
        Layout::Environment
    };
    let scheme = Scheme::new(&interpreter, &layout, settings.root.as_deref())?;
    if layout == Layout::Environment && settings.root.is_none() && !settings.dry_run {
        interpreter.check_writable(settings.break_system_packages)?;
    }
    if settings.link_mode == LinkMode::Symlink
        && cache.source() == ferry_cache::CacheSource::Temporary
    {
        bail!("--link-mode symlink needs a lasting cache: it cannot be used with --no-cache-dir");
    }

    // One ferry at a time per target; a killed predecessor's half-done work is undone first.
    let lock = if settings.dry_run {
        None
    } else {
        let shown = scheme.purelib.display().to_string();
        Some(EnvLock::acquire(&scheme, cache, || {
            printer.status(format!(
                "Waiting for another ferry process to finish with {shown}"
            ));
        })?)
    };
    let txn = match &lock {
        Some(lock) => {
            let (txn, recovered) = Transaction::begin(lock)?;
            if recovered > 0 {
                printer.status(format!(
                    "Rolled back {recovered} interrupted install(s) in {}",
                    scheme.purelib.display()
                ));
            }
            Some(txn)
        }
        None => None,
    };

    let ignore_installed = settings.ignore_installed || matches!(layout, Layout::Target(_));
    let installed: Vec<InstalledDist> = ferry_install::scan(&scheme.site_dirs());
    let client = Arc::new(resolver.client(&interpreter, cache)?);
    let mut options = resolver.options();
    let build = options.build.clone();
    if !ignore_installed {
        options.preferences = plan::preferences(&installed);
    }
    options.upgrade = match (settings.upgrade, settings.eager) {
        (false, _) => Upgrade::None,
        (true, true) => Upgrade::All,
        (true, false) => Upgrade::Packages(
            spec.requirements
                .iter()
                .map(|r| PackageName::new(r.requirement.name.as_ref()))
                .collect(),
        ),
    };
    let resolution = ferry_resolve::resolve(
        runtime.handle(),
        Arc::clone(&client),
        Some(cache),
        resolver.target(&interpreter)?,
        &spec,
        options,
    )?;
    tracing::debug!("resolved after {:?}", started.elapsed());

    let plan = plan::plan(
        &resolution.packages,
        &installed,
        &PlanOptions {
            ignore_installed,
            force_reinstall: settings.force_reinstall,
            reinstall: settings
                .reinstall_packages
                .iter()
                .map(|n| PackageName::new(n))
                .collect::<HashSet<_>>(),
        },
    );
    if settings.dry_run {
        return dry_run(settings, &plan.install, &interpreter, printer);
    }
    let txn = txn.context("a transaction outside --dry-run")?;
    if plan.install.is_empty() {
        txn.commit()?;
        let n = resolution.packages.len();
        printer.status(format!(
            "Nothing to install: every requirement is already satisfied ({n} package{} checked)",
            if n == 1 { "" } else { "s" }
        ));
        return Ok(ExitCode::SUCCESS);
    }

    // Fetch (or build) every wheel into the store, in parallel.
    let progress = Progress::new(printer, plan.install.len());
    let wheels = plan::prepare(
        runtime.handle(),
        &plan.install,
        &plan::Prepare {
            http: client.http(),
            store: &Store::new(cache),
            build: &*build,
            user_hashes: &plan::user_hashes(&spec),
            require_hashes,
        },
        &(progress.clone() as Arc<dyn ferry_install::fetch::FetchReporter>),
    )?;
    progress.finish();
    tracing::debug!("fetched after {:?}", started.elapsed());

    // Install: old versions out of the way, new files in, then each dist-info.
    let applied = ferry_install::apply(
        &scheme,
        &txn,
        &plan.remove,
        &wheels,
        interpreter.info().cache_tag.clone(),
        &ApplyOptions {
            link_mode: settings.link_mode,
            compile: settings.compile,
        },
        &*progress,
    )?;
    progress.finish();
    if applied.fell_back_to_copy {
        printer.detail(format!(
            "The cache ({}) is on another filesystem than the environment: files were copied, not hard-linked",
            cache.root().display()
        ));
    }
    txn.commit()?;
    uninstall::remove_empty_parents(&applied.removed, &scheme.roots());
    drop(lock);

    let mut names: Vec<String> = wheels
        .iter()
        .map(|w| format!("{}-{}", w.name, w.version))
        .collect();
    names.sort();
    printer.status(format!(
        "Installed {} package{} in {:.2}s",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64()
    ));
    printer.status(format!("Successfully installed {}", names.join(" ")));
    Ok(ExitCode::SUCCESS)
}

/// `--dry-run`: say what would be installed, and write `--report`.
fn dry_run(
    settings: &InstallSettings,
    install: &[&ferry_resolve::ResolvedPackage],
    interpreter: &Interpreter,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let would: Vec<String> = install
        .iter()
        .map(|p| format!("{}-{}", p.name, p.version))
        .collect();
    if would.is_empty() {
        printer.status("Nothing to install: every requirement is already satisfied");
    } else {
        printer.status(format!("Would install {}", would.join(" ")));
    }
    if let Some(target) = &settings.report {
        let report = ferry_install::report::install_report(install, interpreter.markers())?;
        let text = serde_json::to_string_pretty(&report)?;
        if target == "-" {
            printer.result(text);
        } else {
            ferry_cache::write_output(std::path::Path::new(target), text.as_bytes())
                .with_context(|| format!("could not write the report to {target}"))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The interpreter to install into: `--python`, else (unless `--system`) the active or
/// nearest environment; when there is none, a new `.venv` in the working directory, unless
/// the target is elsewhere (`--target`, `--prefix`, `--root`, `--user`) or nothing is changed
/// (`--dry-run`).
fn install_interpreter(
    settings: &InstallSettings,
    cache: &Cache,
    printer: &Printer,
) -> anyhow::Result<Interpreter> {
    let request = settings.resolver.python_request();
    let policy = TargetPolicy::Modify {
        system: settings.system,
    };
    match find_target(request.as_ref(), policy, cache) {
        Err(PythonError::NoEnvironment(_))
            if settings.target.is_some()
                || settings.prefix.is_some()
                || settings.root.is_some()
                || settings.user
                || settings.dry_run =>
        {
            Ok(find_target(None, TargetPolicy::Read, cache)?)
        }
        Err(PythonError::NoEnvironment(_)) => {
            let base = ferry_python::find_interpreter(&PythonRequest::Any, cache).context(
                "no environment was found to install into, and no interpreter to create one with",
            )?;
            let env = venv::create(&PathBuf::from(".venv"), &base, &VenvOptions::default())?;
            printer.status(format!(
                "No environment was active or found: created one at .venv ({} {}). Activate it with: source .venv/bin/activate",
                base.implementation_display(),
                base.version_string()
            ));
            Ok(Interpreter::query(&env.python, cache)?)
        }
        other => Ok(other?),
    }
}
