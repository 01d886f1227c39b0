//! The `ferry` command: parses arguments and hands each subcommand to its module under
//! [`commands`]. All real work lives in the library crates; this crate wires them together,
//! prints results, and turns errors into one readable paragraph and a non-zero exit code.

mod cli;
mod commands;
mod printer;
mod progress;
mod settings;

use std::process::ExitCode;

use clap::Parser;

/// Caps glibc's malloc arenas at two. By default glibc gives threads arenas of their own (up to
/// eight per core), and ferry's many short-lived blocking threads (cache reads, unpacking) each
/// kept freed memory in theirs: a warm install of the web set peaked at 105-130 MiB of RSS,
/// about 80-87 MiB with two arenas (measured with bench/run.sh's sets; mimalloc was worse, over
/// 200 MiB). Done before any thread starts; `MALLOC_ARENA_MAX` in the environment still wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only changes allocator tuning; called while the process has one thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = cli::Cli::parse();
    // pip's configuration is read once; every option of every command goes through it.
    let loaded = ferry_input::PipConfig::load().and_then(|config| {
        let global = settings::GlobalSettings::resolve(&cli.global, &config)?;
        Ok((config, global))
    });
    let (config, global) = match loaded {
        Ok(loaded) => loaded,
        Err(err) => {
            init_logging(0, 0, false);
            printer::Printer::new(0, 0).error(&err.into());
            return ExitCode::from(1);
        }
    };
    init_logging(global.verbose, global.quiet, global.color);
    let printer = printer::Printer::new(global.quiet, global.verbose);
    let result = commands::run(cli.command, &config, &global, &printer);
    if ferry_types::interrupt::interrupted() {
        // A build failed because Ctrl-C killed its backend: the signal handler is cleaning up
        // and exits with the signal's status when done; its exit, not this error, is the end.
        loop {
            std::thread::park();
        }
    }
    match result {
        Ok(code) => code,
        Err(err) => {
            printer.error(&err);
            ExitCode::from(1)
        }
    }
}

fn init_logging(verbose: u8, quiet: u8, color: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (verbose, quiet) {
        (_, q) if q > 0 => "error",
        (0, _) => "warn",
        (1, _) => "info,pubgrub=warn",
        (2, _) => "debug,pubgrub=info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("FERRY_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(color)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(verbose > 2)
        .init();
}
