//! One module per subcommand; each takes its parsed arguments and returns an exit code.

mod build;
mod cache;
pub mod check;
mod compile;
mod config;
mod debug;
mod download;
pub mod freeze;
mod hash;
mod index;
mod install;
pub mod list;
mod lock;
mod python;
pub mod show;
mod uninstall;
mod venv;
mod wheel;

use std::process::ExitCode;

use anyhow::Context;
use ferry_cache::Cache;
use ferry_input::PipConfig;

use crate::cli::Command;
use crate::printer::Printer;
use crate::settings::{
    BuildCommandSettings, CompileSettings, GlobalSettings, InstallSettings, UninstallSettings,
    WheelSettings,
};

/// Ctrl-C (SIGINT), SIGTERM, SIGHUP (the terminal closed) and SIGQUIT: running build backends
/// are killed and build directories removed ([`ferry_types::interrupt::clean_up`]), then ferry
/// exits with 128 plus the signal's number, as a shell reports a death by it. An install transaction cut short is rolled back by
/// the next ferry run on that environment, as after any kill.
#[cfg(unix)]
async fn exit_on_signal() {
    use std::io::Write;
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate), Ok(mut hangup), Ok(mut quit)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
        signal(SignalKind::quit()),
    ) else {
        return;
    };
    let code = tokio::select! {
        _ = interrupt.recv() => 130,
        _ = terminate.recv() => 143,
        _ = hangup.recv() => 129,
        _ = quit.recv() => 131,
    };
    ferry_types::interrupt::clean_up();
    let _ = writeln!(std::io::stderr(), "ferry: interrupted");
    std::process::exit(code);
}

/// What `wheel`, `download` and `lock` start from: their requirements read (at least one),
/// the target interpreter (as read-only commands find it), and the index client and resolver
/// options to resolve them with.
pub(crate) struct Resolving {
    pub resolver: crate::settings::ResolverSettings,
    pub spec: ferry_input::RequirementsSpec,
    pub interpreter: ferry_python::Interpreter,
    pub client: std::sync::Arc<ferry_index::IndexClient>,
    pub options: ferry_resolve::ResolveOptions,
}

/// `requirements`, `editables` and requirement `files` read with `resolver`'s settings, ready to
/// resolve (see [`Resolving`]).
pub(crate) fn resolving(
    resolver: &crate::settings::ResolverSettings,
    build: &crate::settings::BuildSettings,
    (requirements, editables, files): (&[String], &[String], &[std::path::PathBuf]),
    cache: &Cache,
    runtime: &tokio::runtime::Runtime,
    printer: &Printer,
) -> anyhow::Result<Resolving> {
    let mut resolver = resolver.clone();
    let spec = resolver.read_spec(requirements, editables, files)?;
    if spec.requirements.is_empty() && spec.sources.is_empty() {
        anyhow::bail!("name at least one requirement, or a requirements file with -r");
    }
    let request = resolver.python_request();
    let interpreter =
        ferry_python::find_target(request.as_ref(), ferry_python::TargetPolicy::Read, cache)?;
    crate::settings::check_virtualenv(resolver.require_virtualenv, &interpreter)?;
    let (client, options) =
        resolver.resolving(&spec, build, &interpreter, cache, runtime.handle(), printer)?;
    Ok(Resolving {
        resolver,
        spec,
        interpreter,
        client,
        options,
    })
}

pub fn run(
    command: Command,
    config: &PipConfig,
    global: &GlobalSettings,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let cache = Cache::from_settings(global.cache_dir.clone(), global.no_cache_dir)?;
    // One async runtime per process, for every command that talks to the network.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    #[cfg(unix)]
    runtime.spawn(exit_on_signal());
    // Every command but `cache` marks itself a user of the cache, so that removing entries
    // waits for it (best effort: a cache that cannot be locked is used all the same).
    if !matches!(command, Command::Cache(_)) {
        if let Err(err) = cache.hold_shared() {
            tracing::debug!("{err}");
        }
    }
    let result = match command {
        Command::Venv(args) => venv::run(&args, &cache, printer),
        Command::Python(command) => python::run(command, &cache, printer),
        Command::Cache(command) => cache::run(&command, &cache, printer),
        Command::Index(command) => index::run(command, config, &cache, &runtime, printer),
        Command::Compile(args) => {
            let settings = CompileSettings::resolve(&args, config)?;
            compile::run(&settings, &cache, &runtime, printer)
        }
        Command::Sync(args) => {
            let settings = InstallSettings::resolve_sync(&args, config)?;
            install::run(&settings, &cache, &runtime, printer)
        }
        Command::Lock(args) => {
            let settings = crate::settings::LockSettings::resolve(&args, config)?;
            lock::run(&settings, &cache, &runtime, printer)
        }
        Command::Install(args) => {
            let settings = InstallSettings::resolve(&args, config)?;
            install::run(&settings, &cache, &runtime, printer)
        }
        Command::Wheel(args) => {
            let settings = WheelSettings::resolve(&args, config)?;
            wheel::run(&settings, &cache, &runtime, printer)
        }
        Command::Download(args) => {
            let settings = crate::settings::DownloadSettings::resolve(&args, config)?;
            download::run(&settings, &cache, &runtime, printer)
        }
        Command::Build(args) => {
            let settings = BuildCommandSettings::resolve(&args, config)?;
            build::run(&settings, &cache, &runtime, printer)
        }
        Command::Uninstall(args) => {
            let settings = UninstallSettings::resolve(&args, config)?;
            uninstall::run(&settings, &cache, printer)
        }
        Command::Freeze(args) => freeze::run(&args, config, &cache, printer),
        Command::List(args) => list::run(&args, config, global.verbose, &cache, &runtime, printer),
        Command::Show(args) => show::run(&args, config, global.verbose, &cache, printer),
        Command::Check(args) => check::run(&args, config, &cache, printer),
        Command::Hash(args) => hash::run(&args, printer),
        Command::Debug(args) => debug::run(&args, config, &cache, printer),
        Command::Config(args) => self::config::run(&args, config, printer),
        Command::Inspect(args) => {
            let interpreter =
                crate::settings::read_target(args.python.as_deref(), config, "inspect", &cache)?;
            let dists =
                ferry_install::scan(&ferry_install::inspect::site_dirs(&interpreter, &args.path));
            let report = ferry_install::report::inspect_report(
                &dists,
                interpreter.markers(),
                env!("CARGO_PKG_VERSION"),
            );
            printer.result(serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Completion { shell } => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut crate::cli::Cli::command(), "ferry", &mut out);
            printer.result(String::from_utf8_lossy(&out).trim_end());
            Ok(ExitCode::SUCCESS)
        }
    };
    // Do not wait for lookups or idle connections still parked on blocking threads.
    runtime.shutdown_background();
    result
}
