//! `ferry install`: resolve, fetch wheels into the cache's unpacked-wheel store, and install
//! them into the target environment in one journaled transaction. `--dry-run [--report]`
//! stops after resolution with pip's installation report.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use ferry_cache::{Cache, CacheSource};
use ferry_install::fetch::FetchReporter;
use ferry_install::plan::{self, Prepare};
use ferry_install::{report, views, LinkMode, Session, Store};

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
    // A PEP 751 lock (`-r pylock.toml`) is installed as it is: no resolution, no index.
    let lock = lock_file(settings)?;
    let files: Vec<_> = settings
        .requirement_files
        .iter()
        .filter(|f| !ferry_resolve::lock::is_lock_file(f))
        .cloned()
        .collect();
    let spec = resolver.read_spec(&settings.requirements, &settings.editables, &files)?;
    if lock.is_none()
        && spec.requirements.is_empty()
        && spec.sources.is_empty()
        && spec.files.is_empty()
    {
        bail!("name at least one requirement, or a requirements file with -r");
    }
    if settings.link_mode == LinkMode::Symlink && cache.source() == CacheSource::Temporary {
        bail!("--link-mode symlink needs a lasting cache: it cannot be used with --no-cache-dir");
    }
    // pip's rules for files of another interpreter: they cannot run here, so only into a
    // --target directory (or not at all), and no sdists.
    let other_interpreter = settings.platform.is_set()
        || resolver.python_version.is_some()
        || resolver.python_platform.is_some();
    if other_interpreter && !settings.dry_run && settings.target.is_none() {
        bail!(
            "--platform, --python-version, --python-platform, --implementation and --abi install \
             files for another interpreter, which cannot go into this environment: give --target \
             DIR (or --dry-run)"
        );
    }
    settings.platform.check(&resolver)?;
    let request = resolver.python_request();
    let elsewhere = settings.installs_elsewhere();
    let found =
        ferry_python::find_install_target(request.as_ref(), settings.system, elsewhere, cache)?;
    if let Some(message) = found.created_message() {
        printer.status(message);
    }
    let interpreter = found.interpreter;
    crate::settings::check_virtualenv(resolver.require_virtualenv, &interpreter)?;
    let scheme = settings.scheme(&interpreter)?;
    // One ferry at a time per target; a killed predecessor's half-done work is undone first.
    let session = match settings.dry_run {
        true => None,
        false => Some(Session::open(&scheme, cache, printer)?),
    };

    let installed = installed_dists(settings, &interpreter, &scheme);
    let plan_options = settings.plan_options();
    let handle = runtime.handle();
    let (client, mut options) =
        resolver.resolving(&spec, &settings.build, &interpreter, cache, handle, printer)?;
    let build = options.build.clone();
    if !plan_options.ignore_installed {
        options.preferences = plan::preferences(&installed);
        options.installed = plan::installed_candidates(&installed, &plan_options);
    }
    options.upgrade = settings.upgrade(&spec);
    if !plan_options.ignore_installed && !settings.upgrade {
        options.vcs.pins = plan::vcs_pins(&installed);
    }
    // Wheels start downloading as the resolver picks them.
    let store = Store::new(cache);
    let hash_checking = Prepare::hash_checking(&spec, resolver.require_hashes);
    // Nothing is fetched ahead under --verify-attestations: a file is fetched only once its
    // provenance has verified.
    let prefetch = match settings.dry_run || settings.verify_attestations {
        true => None,
        false => plan::prefetch(
            (client.http(), &store, handle),
            &installed,
            &plan_options,
            hash_checking,
        ),
    };
    if let Some(prefetch) = &prefetch {
        options.on_chosen = prefetch.listener();
        if settings.progress_bar == "raw" {
            prefetch.report_to(Progress::with_mode(printer, 0, "raw"));
        }
    }
    let mut target = resolver.target(&interpreter)?;
    settings
        .platform
        .apply(&mut target, &interpreter, &resolver)?;
    let resolution = match &lock {
        Some(path) => ferry_resolve::Resolution {
            packages: ferry_resolve::lock::read(handle, &options, path, &target)?,
        },
        None => {
            ferry_resolve::resolve(handle, client.clone(), Some(cache), target, &spec, options)?
        }
    };
    tracing::debug!("resolved after {:?}", started.elapsed());
    let mut plan = plan::plan(&resolution.packages, &installed, &plan_options);
    if let Some(sync) = settings.sync {
        plan::remove_unlisted(
            &mut plan,
            &resolution.packages,
            &installed,
            sync.keep_seed_packages,
        );
    }
    // A base interpreter's package (system site packages) satisfies a requirement, as in pip,
    // but is never removed: a new version goes into the environment, in front of it.
    let own_dirs = scheme.site_dirs();
    plan.remove.retain(|dist| {
        let inside = own_dirs.iter().any(|dir| dist.location.starts_with(dir));
        if !inside {
            printer.detail(format!(
                "Not uninstalling {} at {}, outside environment {}",
                dist.normalized,
                dist.location.display(),
                interpreter.prefix().display()
            ));
        }
        inside
    });
    // --verify-attestations: every file's provenance, before anything is fetched or changed.
    let attested = match settings.verify_attestations {
        true => {
            let attested = ferry_install::attest::verify_all(handle, client.http(), &plan.install)?;
            for line in views::attested(&attested) {
                printer.status(line);
            }
            attested
        }
        false => Default::default(),
    };
    // pip's installation report: after a dry run, and after a real install too.
    let write_report = || -> anyhow::Result<()> {
        if let Some(target) = &settings.report {
            let text =
                report::install_report_text(&plan.install, interpreter.markers(), &attested)?;
            printer.write_or_print(Some(target).filter(|t| *t != "-"), &text)?;
        }
        Ok(())
    };
    let Some(session) = session else {
        printer.status(views::would_install(&plan.install));
        let gone: Vec<String> = plan
            .remove
            .iter()
            .filter(|d| !plan.install.iter().any(|p| p.name == d.normalized))
            .map(|d| format!("{}-{}", d.name, d.version))
            .collect();
        if !gone.is_empty() {
            printer.status(format!("Would uninstall {}", gone.join(" ")));
        }
        write_report()?;
        return Ok(ExitCode::SUCCESS);
    };
    // pip's line for each requirement kept as installed (at -v here).
    for package in &resolution.packages {
        let kept = !plan.install.iter().any(|p| p.name == package.name);
        if let (true, Some(dist)) = (
            kept,
            installed.iter().find(|d| d.normalized == package.name),
        ) {
            printer.detail(format!(
                "Requirement already satisfied: {} in {} ({})",
                package.name,
                dist.location.display(),
                dist.version
            ));
        }
    }
    if !settings.break_conda_packages {
        refuse_conda_replacements(&plan.remove)?;
    }
    if plan.install.is_empty() && plan.remove.is_empty() {
        session.commit()?;
        let checked = resolution.packages.len();
        printer.status(views::nothing_to_install(Some(checked)));
        return Ok(ExitCode::SUCCESS);
    }

    // Fetch (or build) every wheel into the store, in parallel.
    let progress = Progress::with_mode(printer, plan.install.len(), &settings.progress_bar);
    let prepare = Prepare::new(
        client.http(),
        &store,
        &*build,
        &spec,
        resolver.require_hashes,
    )
    .with_build_jobs(settings.build.jobs)
    .with_prefetch(prefetch);
    let reporter = progress.clone() as Arc<dyn FetchReporter>;
    let wheels = plan::prepare(handle, &plan.install, &prepare, &reporter)?;
    progress.finish();
    tracing::debug!("fetched after {:?}", started.elapsed());

    // Install: old versions out of the way, new files in, each dist-info, then commit.
    let cache_tag = interpreter.info().cache_tag.clone();
    let apply = settings.apply_options();
    let applied = session.install(
        &scheme,
        &plan.remove,
        &wheels,
        cache_tag,
        &apply,
        &*progress,
    )?;
    progress.finish();
    if let Some(note) = views::copied_instead_of_linked(&applied, cache.root()) {
        printer.detail(note);
    }
    for dist in &plan.remove {
        if !wheels
            .iter()
            .any(|w| ferry_types::PackageName::new(&w.name) == dist.normalized)
        {
            printer.status(format!("Uninstalled {}-{}", dist.name, dist.version));
        }
    }
    if !wheels.is_empty() {
        warn_after_install(settings, &interpreter, &scheme, &wheels, printer);
        for line in views::installed(&wheels, started.elapsed()) {
            printer.status(line);
        }
    }
    // What --verify-attestations verified, for `ferry show` to verify again: in the cache, not
    // in the environment.
    ferry_install::attest::keep(cache, &attested)?;
    write_report()?;
    crate::settings::warn_if_root(settings.warn_root_user, &interpreter, printer);
    Ok(ExitCode::SUCCESS)
}

/// What is installed, for the plan: the target's distributions, and for a virtual environment
/// with system site packages, the base interpreter's too (those the environment does not
/// shadow), as pip sees them on `sys.path`.
fn installed_dists(
    settings: &InstallSettings,
    interpreter: &ferry_python::Interpreter,
    scheme: &ferry_install::Scheme,
) -> Vec<ferry_install::InstalledDist> {
    let mut dists = ferry_install::scan(&scheme.site_dirs());
    if settings.layout() == ferry_install::Layout::Environment && settings.root.is_none() {
        for dist in ferry_install::scan(&interpreter.global_site_packages()) {
            if !dists.iter().any(|d| d.normalized == dist.normalized) {
                dists.push(dist);
            }
        }
    }
    dists
}

/// pip's warnings after an install: scripts put where `PATH` does not reach, and dependencies
/// of installed packages that the install broke (the resolver, like pip's, looks only at what
/// it was asked for and what that needs).
fn warn_after_install(
    settings: &InstallSettings,
    interpreter: &ferry_python::Interpreter,
    scheme: &ferry_install::Scheme,
    wheels: &[ferry_install::WheelToInstall],
    printer: &Printer,
) {
    let new: std::collections::BTreeSet<String> = wheels
        .iter()
        .map(|w| ferry_types::PackageName::new(&w.name).to_string())
        .collect();
    // Into the environment, or --user/--prefix; --target and --root are not where scripts run.
    let in_place = settings.target.is_none() && settings.root.is_none();
    let path = std::env::var_os("PATH").unwrap_or_default();
    if settings.warn_script_location
        && in_place
        && views::scripts_off_path(&scheme.scripts, interpreter.path(), &path)
    {
        let dists = ferry_install::scan(&scheme.site_dirs());
        let installed: Vec<_> = dists
            .iter()
            .filter(|d| new.contains(d.normalized.as_str()))
            .collect();
        if let Some(message) =
            views::scripts_not_on_path(&installed, &scheme.scripts, interpreter.path(), &path)
        {
            printer.warning(message);
        }
    }
    let checks_environment = matches!(
        settings.layout(),
        ferry_install::Layout::Environment | ferry_install::Layout::User
    );
    if settings.warn_conflicts && !settings.resolver.no_deps && in_place && checks_environment {
        let Ok(env) = interpreter.markers().to_pep508() else {
            return;
        };
        let lines = ferry_install::check::install_conflicts(interpreter, &env, &new);
        if !lines.is_empty() {
            printer.warning(format!(
                "the installed packages below now have broken dependencies: the resolver, as \
                 pip's does, considered only the requirements given and what they need, not \
                 every installed package (`ferry check` shows the whole environment; \
                 --no-warn-conflicts silences this)\n{}",
                lines.join("\n")
            ));
        }
    }
}

/// In a conda environment, packages conda installed are conda's to change: replacing one
/// leaves conda's records wrong, and its next transaction may undo or break the change.
fn refuse_conda_replacements(remove: &[&ferry_install::InstalledDist]) -> anyhow::Result<()> {
    let managed: Vec<String> = remove
        .iter()
        .filter_map(|dist| {
            let record = ferry_install::conda::record_of(dist)?;
            Some(format!(
                "{} {} (conda package {} from {})",
                dist.name, dist.version, record.name, record.channel
            ))
        })
        .collect();
    if managed.is_empty() {
        return Ok(());
    }
    bail!(
        "this would replace {} that conda installed: {}. conda keeps its own record of every \
         file it installed, which would then no longer match the environment, and its next \
         install or update could undo or break the change. Change them with conda, or give \
         --break-conda-packages to replace them anyway",
        if managed.len() == 1 {
            "a package"
        } else {
            "packages"
        },
        managed.join(", ")
    )
}

/// The lock file among `-r` files, if one is given: then it must be the only requirement.
fn lock_file(settings: &InstallSettings) -> anyhow::Result<Option<std::path::PathBuf>> {
    let locks: Vec<_> = settings
        .requirement_files
        .iter()
        .filter(|f| ferry_resolve::lock::is_lock_file(f))
        .collect();
    match locks[..] {
        [] => Ok(None),
        [lock] if settings.requirement_files.len() == 1
            && settings.requirements.is_empty()
            && settings.editables.is_empty() =>
        {
            Ok(Some(lock.clone()))
        }
        _ => bail!(
            "a lock file ({}) is installed on its own: it cannot be combined with other requirements or lock files",
            locks[0].display()
        ),
    }
}
