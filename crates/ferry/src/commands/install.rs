//! `ferry install`: resolve, fetch wheels into the cache's unpacked-wheel store, and install
//! them into the target environment in one journaled transaction. `--dry-run [--report]`
//! stops after resolution with pip's installation report.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use ferry_cache::{Cache, CacheSource};
use ferry_install::fetch::FetchReporter;
use ferry_install::plan::{self, Prepare};
use ferry_install::{uninstall, ApplyOptions, LinkMode, Scheme, Session, Store};
use ferry_resolve::ResolvedPackage;

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
    let spec = resolver.read_spec(&settings.requirements, &settings.requirement_files, &[])?;
    if spec.requirements.is_empty() {
        bail!("name at least one requirement, or a requirements file with -r");
    }
    if settings.link_mode == LinkMode::Symlink && cache.source() == CacheSource::Temporary {
        bail!("--link-mode symlink needs a lasting cache: it cannot be used with --no-cache-dir");
    }
    let request = resolver.python_request();
    let found = ferry_python::find_install_target(
        request.as_ref(),
        settings.system,
        settings.installs_elsewhere(),
        cache,
    )?;
    if let Some(base) = &found.created_from {
        printer.status(format!(
            "No environment was active or found: created one at .venv ({} {}). Activate it with: source .venv/bin/activate",
            base.implementation_display(),
            base.version_string()
        ));
    }
    let interpreter = found.interpreter;
    let layout = settings.layout();
    let scheme = Scheme::new(&interpreter, &layout, settings.root.as_deref())?;
    if !settings.installs_elsewhere() {
        interpreter.check_writable(settings.break_system_packages)?;
    }
    // One ferry at a time per target; a killed predecessor's half-done work is undone first.
    let session = match settings.dry_run {
        true => None,
        false => Some(Session::open(&scheme, cache, printer)?),
    };

    let installed = ferry_install::scan(&scheme.site_dirs());
    let plan_options = settings.plan_options();
    let client = Arc::new(resolver.client(&interpreter, cache)?);
    let mut options = resolver.options();
    let build = options.build.clone();
    if !plan_options.ignore_installed {
        options.preferences = plan::preferences(&installed);
    }
    options.upgrade = settings.upgrade(&spec);
    let target = resolver.target(&interpreter)?;
    let resolution = ferry_resolve::resolve(
        runtime.handle(),
        client.clone(),
        Some(cache),
        target,
        &spec,
        options,
    )?;
    tracing::debug!("resolved after {:?}", started.elapsed());
    let plan = plan::plan(&resolution.packages, &installed, &plan_options);
    let Some(session) = session else {
        return dry_run(settings, &plan.install, &interpreter, printer);
    };
    if plan.install.is_empty() {
        session.commit()?;
        let n = resolution.packages.len();
        let s = if n == 1 { "" } else { "s" };
        printer.status(format!(
            "Nothing to install: every requirement is already satisfied ({n} package{s} checked)"
        ));
        return Ok(ExitCode::SUCCESS);
    }

    // Fetch (or build) every wheel into the store, in parallel.
    let progress = Progress::new(printer, plan.install.len());
    let prepare = Prepare {
        http: client.http(),
        store: &Store::new(cache),
        build: &*build,
        user_hashes: &plan::user_hashes(&spec),
        require_hashes: resolver.require_hashes
            || spec.requirements.iter().any(|r| !r.hashes.is_empty()),
    };
    let reporter = progress.clone() as Arc<dyn FetchReporter>;
    let wheels = plan::prepare(runtime.handle(), &plan.install, &prepare, &reporter)?;
    progress.finish();
    tracing::debug!("fetched after {:?}", started.elapsed());

    // Install: old versions out of the way, new files in, then each dist-info.
    let apply = ApplyOptions {
        link_mode: settings.link_mode,
        compile: settings.compile,
    };
    let cache_tag = interpreter.info().cache_tag.clone();
    let txn = session.txn();
    let applied = ferry_install::apply(
        &scheme,
        txn,
        &plan.remove,
        &wheels,
        cache_tag,
        &apply,
        &*progress,
    )?;
    progress.finish();
    if applied.fell_back_to_copy {
        printer.detail(format!(
            "The cache ({}) is on another filesystem than the environment: files were copied, not hard-linked",
            cache.root().display()
        ));
    }
    let lock = session.commit()?;
    uninstall::remove_empty_parents(&applied.removed, &scheme.roots());
    drop(lock);

    let mut names: Vec<String> = wheels
        .iter()
        .map(|w| format!("{}-{}", w.name, w.version))
        .collect();
    names.sort();
    let (n, seconds) = (names.len(), started.elapsed().as_secs_f64());
    let s = if n == 1 { "" } else { "s" };
    printer.status(format!("Installed {n} package{s} in {seconds:.2}s"));
    printer.status(format!("Successfully installed {}", names.join(" ")));
    Ok(ExitCode::SUCCESS)
}

/// `--dry-run`: say what would be installed, and write `--report`.
fn dry_run(
    settings: &InstallSettings,
    install: &[&ResolvedPackage],
    interpreter: &ferry_python::Interpreter,
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
    let Some(target) = &settings.report else {
        return Ok(ExitCode::SUCCESS);
    };
    let report = ferry_install::report::install_report(install, interpreter.markers())?;
    let text = serde_json::to_string_pretty(&report)?;
    if target == "-" {
        printer.result(text);
    } else {
        ferry_cache::write_output(std::path::Path::new(target), text.as_bytes())
            .with_context(|| format!("could not write the report to {target}"))?;
    }
    Ok(ExitCode::SUCCESS)
}
