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
    let loaded = if cli.global.isolated {
        ferry_input::PipConfig::load_isolated()
    } else {
        ferry_input::PipConfig::load()
    };
    let loaded = loaded.and_then(|mut config| {
        for (key, flag, value) in cli.global.configured() {
            config.set_command_line(key, flag, &value);
        }
        let global = settings::GlobalSettings::resolve(&cli.global, &config)?;
        Ok((config, global))
    });
    let (config, global) = match loaded {
        Ok(loaded) => loaded,
        Err(err) => {
            init_logging(0, 0, false, None);
            printer::Printer::new(0, 0).error(&err.into());
            return ExitCode::from(1);
        }
    };
    init_logging(
        global.verbose,
        global.quiet,
        global.color,
        global.log.as_deref(),
    );
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

/// Messages go to stderr at the level `-v`/`-q` choose; with `--log FILE`, everything down to
/// debug is appended to FILE as well, with times, as pip's `--log` keeps a verbose record.
fn init_logging(verbose: u8, quiet: u8, color: bool, log: Option<&std::path::Path>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer};
    let default = match (verbose, quiet) {
        (_, q) if q > 0 => "error",
        (0, _) => "warn",
        (1, _) => "info,pubgrub=warn",
        (2, _) => "debug,pubgrub=info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("FERRY_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(color)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(verbose > 2)
        .with_filter(filter);
    let file = log.and_then(|path| {
        let file = match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(file) => file,
            Err(err) => {
                // Not fatal, as in pip: the run goes on without its log.
                eprintln_warning(&format!("cannot write the log {}: {err}", path.display()));
                return None;
            }
        };
        Some(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .with_target(true)
                .with_filter(EnvFilter::new("debug,pubgrub=info,h2=info,hyper=info,hyper_util=info,rustls=info,reqwest=info")),
        )
    });
    tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .init();
}

#[allow(clippy::print_stderr)]
fn eprintln_warning(message: &str) {
    eprintln!("warning: {message}");
}
