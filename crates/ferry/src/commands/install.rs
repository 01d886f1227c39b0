//! `ferry install`: resolve, fetch wheels into the cache's unpacked-wheel store, and install
//! them into the target environment in one journaled transaction. `--dry-run [--report]`
//! stops after resolution with pip's installation report.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use ferry_cache::Cache;
use ferry_index::DistFilename;
use ferry_input::{normalize_name, parse_requirement, Origin, RequirementsSpec};
use ferry_install::fetch::{fetch_all, FetchReporter, WheelSource};
use ferry_install::installed::ArchiveInfo;
use ferry_install::{
    uninstall, DirectUrl, EnvLock, InstalledDist, Installer, Layout, LinkMode, Scheme, Store,
    Transaction, WheelToInstall,
};
use ferry_python::venv::{self, VenvOptions};
use ferry_python::{find_environment, find_interpreter, Interpreter, PythonError, PythonRequest};
use ferry_resolve::{ResolvedPackage, Upgrade};
use pep440_rs::Version;
use rayon::prelude::*;

use super::resolve::{add_constraints, prepare_for, resolve_only};
use crate::cli::{InstallArgs, LinkModeArg, UpgradeStrategy};
use crate::printer::Printer;

pub fn run(args: &InstallArgs, cache: &Cache, printer: &Printer) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut spec = RequirementsSpec::default();
    for requirement in &args.requirements {
        spec.requirements
            .push(parse_requirement(requirement, Origin::CommandLine)?);
    }
    for file in &args.requirement_files {
        spec.add_file(file, false)?;
    }
    if spec.requirements.is_empty() {
        bail!("name at least one requirement, or a requirements file with -r");
    }
    add_constraints(&mut spec, &args.resolve.constraints)?;
    let require_hashes = args.require_hashes
        || spec.options.iter().any(|(o, _)| o == "require-hashes")
        || spec.requirements.iter().any(|r| !r.hashes.is_empty());

    let interpreter = install_interpreter(args, cache, printer)?;
    let layout = if args.user {
        Layout::User
    } else if let Some(dir) = &args.target {
        Layout::Target(dir.clone())
    } else if let Some(dir) = &args.prefix {
        Layout::Prefix(dir.clone())
    } else {
        Layout::Environment
    };
    let scheme = Scheme::new(&interpreter, &layout, args.root.as_deref())?;
    if layout == Layout::Environment && args.root.is_none() && !args.dry_run {
        interpreter.check_writable(args.break_system_packages)?;
    }

    // One ferry at a time per target; a killed predecessor's half-done work is undone first.
    let lock = if args.dry_run {
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

    let ignore_installed = args.ignore_installed || matches!(layout, Layout::Target(_));
    let installed: Vec<InstalledDist> = ferry_install::scan(&scheme.site_dirs());
    let by_name: HashMap<&str, &InstalledDist> = installed
        .iter()
        .map(|d| (d.normalized.as_str(), d))
        .collect();

    let mut prepared = prepare_for(&args.resolve, &spec, cache, "install", interpreter)?;
    if !ignore_installed {
        // Like pip: what is installed stays unless it must change, or is upgraded.
        prepared.options.preferences = installed
            .iter()
            .filter_map(|d| {
                Version::from_str(&d.version)
                    .ok()
                    .map(|v| (d.normalized.clone(), v))
            })
            .collect();
    }
    prepared.options.upgrade = match (args.upgrade, args.upgrade_strategy) {
        (false, _) => Upgrade::None,
        (true, UpgradeStrategy::Eager) => Upgrade::All,
        (true, UpgradeStrategy::OnlyIfNeeded) => Upgrade::Packages(
            spec.requirements
                .iter()
                .map(|r| r.requirement.name.to_string())
                .collect(),
        ),
    };
    let markers = prepared.interpreter.markers().clone();
    let resolution = resolve_only(&prepared, &spec, cache);
    let resolution = match resolution {
        Ok(r) => r,
        Err(err) => {
            prepared.runtime.shutdown_background();
            return Err(err);
        }
    };

    tracing::debug!("resolved after {:?}", started.elapsed());
    // The plan: what is satisfied, what is (re)installed, what goes first.
    let reinstall: HashSet<String> = args
        .reinstall_package
        .iter()
        .map(|n| normalize_name(n))
        .collect();
    let mut to_install: Vec<&ResolvedPackage> = Vec::new();
    let mut to_remove: Vec<&InstalledDist> = Vec::new();
    for package in &resolution.packages {
        let existing = if ignore_installed {
            None
        } else {
            by_name.get(package.name.as_str()).copied()
        };
        let forced = args.force_reinstall || reinstall.contains(&package.name);
        if let Some(dist) = existing {
            let same_version =
                Version::from_str(&dist.version).ok().as_ref() == Some(&package.version);
            let same_source = match (&package.direct_url, dist.direct_url()) {
                (None, None) => true,
                (Some(url), Some(direct)) => direct.url == url.as_str(),
                // Installed from a URL, now asked for from the index at the same version.
                (None, Some(_)) => true,
                (Some(_), None) => false,
            };
            if same_version && same_source && !forced {
                continue;
            }
            to_remove.push(dist);
        }
        to_install.push(package);
    }

    if args.dry_run {
        prepared.runtime.shutdown_background();
        let would: Vec<String> = to_install
            .iter()
            .map(|p| format!("{}-{}", p.name, p.version))
            .collect();
        if would.is_empty() {
            printer.status("Nothing to install: every requirement is already satisfied");
        } else {
            printer.status(format!("Would install {}", would.join(" ")));
        }
        if let Some(target) = &args.report {
            let report = serde_json::json!({
                "version": "1",
                "pip_version": env!("CARGO_PKG_VERSION"),
                "installer": "ferry",
                "install": to_install.iter().map(|p| report_item(p)).collect::<Vec<_>>(),
                "environment": serde_json::to_value(&markers)?,
            });
            let text = serde_json::to_string_pretty(&report)?;
            if target == "-" {
                printer.result(text);
            } else {
                ferry_cache::write_atomic(Path::new(target), text.as_bytes())?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let txn = txn.expect("a transaction outside --dry-run");

    if to_install.is_empty() {
        prepared.runtime.shutdown_background();
        txn.commit()?;
        printer.status(format!(
            "Nothing to install: every requirement is already satisfied ({} package{} checked)",
            resolution.packages.len(),
            if resolution.packages.len() == 1 {
                ""
            } else {
                "s"
            }
        ));
        return Ok(ExitCode::SUCCESS);
    }

    // Only wheels can be installed until building arrives.
    let mut sources = Vec::new();
    let user_hashes: HashMap<String, Vec<String>> = spec
        .requirements
        .iter()
        .filter(|r| !r.hashes.is_empty())
        .map(|r| {
            (
                normalize_name(r.requirement.name.as_ref()),
                r.hashes.clone(),
            )
        })
        .collect();
    let mut unhashed = Vec::new();
    for package in &to_install {
        let file = &package.file;
        if !matches!(file.name, DistFilename::Wheel(_)) {
            bail!(
                "{} {} has no wheel for this interpreter, only the source distribution {} (from {}); building from source is not supported yet. Pick a version with a wheel, or a different interpreter",
                package.name,
                package.version,
                file.file.filename,
                file.source
            );
        }
        let hashes = user_hashes.get(&package.name).cloned().unwrap_or_default();
        if require_hashes && hashes.is_empty() {
            unhashed.push(format!("{}=={}", package.name, package.version));
        }
        sources.push(WheelSource {
            name: package.name.clone(),
            version: package.version.to_string(),
            filename: file.file.filename.clone(),
            url: file.file.url.clone(),
            sha256: file.file.hashes.sha256.clone(),
            user_hashes: hashes,
            index: file.source.clone(),
        });
    }
    if !unhashed.is_empty() {
        bail!(
            "hashes are required (a requirement has --hash, or --require-hashes was given), but these have none: {}. Add a --hash for each (ferry compile --generate-hashes writes them)",
            unhashed.join(", ")
        );
    }

    // Fetch: every wheel into the store, in parallel.
    let store = Store::new(cache);
    let progress = Progress::new(printer, sources.len());
    let reporter: Arc<dyn FetchReporter> = progress.clone();
    let fetched = prepared.runtime.block_on(fetch_all(
        prepared.client.http(),
        &store,
        &sources,
        Arc::clone(&reporter),
    ));
    prepared.runtime.shutdown_background();
    progress.finish();
    tracing::debug!("fetched after {:?}", started.elapsed());
    let mut wheels = Vec::new();
    for ((package, source), result) in to_install.iter().zip(&sources).zip(fetched) {
        let wheel = result?;
        if wheel.cached {
            let from = wheel.provenance.as_ref().map_or_else(String::new, |p| {
                format!(" (downloaded from {} {} UTC)", p.index, p.date())
            });
            printer.detail(format!(
                "Using cached {}-{}{from}",
                package.name, package.version
            ));
        } else {
            printer.detail(format!(
                "Downloaded {} from {}",
                source.filename, source.index
            ));
        }
        let direct_url = package.direct_url.as_ref().map(|url| DirectUrl {
            url: ferry_index::redact(url),
            subdirectory: None,
            dir_info: None,
            vcs_info: None,
            archive_info: Some(ArchiveInfo {
                hash: Some(format!("sha256={}", wheel.sha256)),
                hashes: Some(BTreeMap::from([(
                    "sha256".to_string(),
                    wheel.sha256.clone(),
                )])),
            }),
        });
        wheels.push(WheelToInstall {
            name: package.name.clone(),
            version: package.version.to_string(),
            archive: wheel.archive,
            requested: package.requested(),
            direct_url,
        });
    }

    // Install: old versions out of the way, new files in, then each dist-info.
    let mut removed_paths = Vec::new();
    for dist in &to_remove {
        printer.detail(format!(
            "Uninstalling {}-{} (replaced)",
            dist.name, dist.version
        ));
        removed_paths.extend(uninstall::uninstall(dist, &txn)?);
    }
    let installer = Installer {
        scheme: &scheme,
        link_mode: match args.link_mode {
            LinkModeArg::Hardlink => LinkMode::Hardlink,
            LinkModeArg::Copy => LinkMode::Copy,
            LinkModeArg::Clone => LinkMode::Clone,
            LinkModeArg::Symlink => {
                if cache.source() == ferry_cache::CacheSource::Temporary {
                    bail!("--link-mode symlink needs a lasting cache: it cannot be used with --no-cache-dir");
                }
                LinkMode::Symlink
            }
        },
        txn: &txn,
        fell_back_to_copy: AtomicBool::new(false),
        cache_tag: prepared.interpreter.info().cache_tag.clone(),
    };
    progress.start("Installing", wheels.len());
    let placed = wheels
        .par_iter()
        .map(|wheel| {
            let placed = installer.place(wheel)?;
            progress.step(&wheel.name);
            Ok(placed)
        })
        .collect::<Result<Vec<_>, ferry_install::InstallError>>()?;
    tracing::debug!("files placed after {:?}", started.elapsed());
    let mut bytecode: HashMap<String, Vec<PathBuf>> = HashMap::new();
    if args.compile && !args.no_compile {
        let mut sources = Vec::new();
        for placed in &placed {
            let pycs: Vec<PathBuf> = placed
                .python_files
                .iter()
                .filter_map(|f| installer.bytecode_path(f))
                .collect();
            let dirs: Vec<PathBuf> = pycs
                .iter()
                .filter_map(|p| p.parent().map(Path::to_path_buf))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            txn.make_dirs(&dirs)?;
            txn.will_create(&pycs)?;
            sources.extend(placed.python_files.iter().cloned());
            bytecode.insert(placed.name.clone(), pycs);
        }
        let jobs = std::thread::available_parallelism().map_or(2, usize::from);
        ferry_install::compile::compile(&scheme.python, &sources, jobs)?;
        for pycs in bytecode.values_mut() {
            pycs.retain(|p| p.is_file());
        }
    }
    placed
        .into_par_iter()
        .map(|placed| {
            let extra = bytecode.get(&placed.name).cloned().unwrap_or_default();
            installer.finish(placed, &extra)
        })
        .collect::<Result<Vec<_>, ferry_install::InstallError>>()?;
    progress.finish();
    if installer
        .fell_back_to_copy
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        printer.detail(format!(
            "The cache ({}) is on another filesystem than the environment: files were copied, not hard-linked",
            cache.root().display()
        ));
    }
    txn.commit()?;
    uninstall::remove_empty_parents(&removed_paths, &scheme.roots());
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

/// The interpreter to install into: `--python`, else (unless `--system`) the active or
/// nearest environment; when there is none, a new `.venv` in the working directory, unless
/// the target is elsewhere (`--target`, `--prefix`, `--root`, `--user`).
fn install_interpreter(
    args: &InstallArgs,
    cache: &Cache,
    printer: &Printer,
) -> anyhow::Result<Interpreter> {
    let request = args.resolve.python.as_deref().map(PythonRequest::parse);
    if args.system {
        return Ok(find_interpreter(
            request.as_ref().unwrap_or(&PythonRequest::Any),
            cache,
        )?);
    }
    match find_environment(request.as_ref(), cache) {
        Ok((interpreter, source)) => {
            tracing::info!(
                "using {} (chosen by {source})",
                interpreter.path().display()
            );
            Ok(interpreter)
        }
        Err(PythonError::NoEnvironment(_))
            if args.target.is_some()
                || args.prefix.is_some()
                || args.root.is_some()
                || args.user
                || args.dry_run =>
        {
            Ok(find_interpreter(&PythonRequest::Any, cache)?)
        }
        Err(PythonError::NoEnvironment(_)) => {
            let base = find_interpreter(&PythonRequest::Any, cache).context(
                "no environment was found to install into, and no interpreter to create one with",
            )?;
            let path = PathBuf::from(".venv");
            let env = venv::create(&path, &base, &VenvOptions::default())?;
            printer.status(format!(
                "No environment was active or found: created one at .venv ({} {}). Activate it with: source .venv/bin/activate",
                base.implementation_display(),
                base.version_string()
            ));
            Ok(Interpreter::query(&env.python, cache)?)
        }
        Err(err) => Err(err.into()),
    }
}

/// Download progress on stderr: a bar on terminals (not with `-q`), nothing otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(printer: &Printer, total: usize) -> Arc<Self> {
        use std::io::IsTerminal;
        let show = !printer.is_quiet() && std::io::stderr().is_terminal();
        let bar = show.then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style =
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix("Fetching");
            bar
        });
        Arc::new(Self { bar })
    }

    /// Restarts the bar for another phase of `total` steps.
    fn start(&self, prefix: &'static str, total: usize) {
        if let Some(bar) = &self.bar {
            bar.reset();
            bar.set_length(total as u64);
            bar.set_prefix(prefix);
            bar.set_message("");
        }
    }

    fn step(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_string());
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl FetchReporter for Progress {
    fn download_started(&self, name: &str, _size: Option<u64>) {
        if let Some(bar) = &self.bar {
            bar.set_message(name.to_string());
        }
    }
    fn download_finished(&self, _name: &str, _bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
}

/// One entry of pip's installation report.
fn report_item(package: &ResolvedPackage) -> serde_json::Value {
    let file = &package.file.file;
    let mut archive = serde_json::json!({});
    if let Some(hash) = &file.hashes.sha256 {
        archive =
            serde_json::json!({ "hash": format!("sha256={hash}"), "hashes": { "sha256": hash } });
    }
    let mut item = serde_json::json!({
        "download_info": { "url": file.url.as_str(), "archive_info": archive },
        "is_direct": package.direct_url.is_some(),
        "is_yanked": file.yanked.is_some(),
        "requested": package.requested(),
        "metadata": package.metadata.as_ref().map_or(serde_json::json!({}), |m| metadata_json(&m.raw)),
    });
    if package.requested() && !package.extras.is_empty() {
        item["requested_extras"] = serde_json::json!(package.extras);
    }
    item
}

/// Core metadata as JSON, the way PEP 566 (and pip's report) spells it: lowercase keys with
/// underscores, multiple-use fields as lists, keywords split on commas.
fn metadata_json(raw: &str) -> serde_json::Value {
    const MULTIPLE: [&str; 11] = [
        "classifier",
        "dynamic",
        "license_file",
        "obsoletes_dist",
        "platform",
        "project_url",
        "provides_dist",
        "provides_extra",
        "requires_dist",
        "requires_external",
        "supported_platform",
    ];
    let mut object = serde_json::Map::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in raw.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':') {
            fields.push((
                key.trim().to_ascii_lowercase().replace('-', "_"),
                value.trim().to_string(),
            ));
        }
    }
    for (key, value) in fields {
        if MULTIPLE.contains(&key.as_str()) {
            object
                .entry(key)
                .or_insert_with(|| serde_json::json!([]))
                .as_array_mut()
                .expect("a list")
                .push(serde_json::json!(value));
        } else if key == "keywords" {
            let words: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .collect();
            object.insert(key, serde_json::json!(words));
        } else {
            object.insert(key, serde_json::json!(value));
        }
    }
    serde_json::Value::Object(object)
}
