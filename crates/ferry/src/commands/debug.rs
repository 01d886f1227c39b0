//! `ferry debug`: what ferry sees, like `pip debug --verbose`: the target interpreter, its
//! wheel tags, the configuration files and `PIP_*` variables, and the cache.

use std::process::ExitCode;

use ferry_cache::{Cache, CacheSource};
use ferry_input::PipConfig;
use ferry_python::{find_target, PythonRequest, TargetPolicy};

use crate::cli::DebugArgs;
use crate::printer::Printer;

pub fn run(
    args: &DebugArgs,
    config: &PipConfig,
    cache: &Cache,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let request = args.python.as_deref().map(PythonRequest::parse);
    let interpreter = find_target(request.as_ref(), TargetPolicy::Read, cache)?;
    let info = interpreter.info();
    let mut out = vec![
        format!("ferry version: {}", env!("CARGO_PKG_VERSION")),
        format!(
            "interpreter: {} ({} {})",
            interpreter.path().display(),
            interpreter.implementation_display(),
            interpreter.version_string()
        ),
        format!(
            "environment: {}{}",
            info.prefix.display(),
            if interpreter.is_virtualenv() {
                " (a virtual environment)"
            } else {
                ""
            }
        ),
        format!("base prefix: {}", info.base_prefix.display()),
    ];
    if let Some(managed) = interpreter.externally_managed() {
        out.push(format!("externally managed (PEP 668): {managed:?}"));
    }
    let source = match cache.source() {
        CacheSource::Flag => "--cache-dir",
        CacheSource::Env => "FERRY_CACHE_DIR",
        CacheSource::Xdg => "the default",
        CacheSource::Temporary => "--no-cache-dir: a temporary directory",
    };
    out.push(format!("cache: {} (from {source})", cache.root().display()));
    out.push("configuration files (in load order; later ones win):".to_string());
    let loaded = config.loaded_files();
    let candidates = PipConfig::candidate_files();
    if candidates.is_empty() {
        out.push("  none (PIP_CONFIG_FILE points at the null device)".to_string());
    }
    for file in candidates {
        let state = if loaded.contains(&file) {
            "loaded"
        } else if file.exists() {
            "exists, not read"
        } else {
            "missing"
        };
        out.push(format!("  {} ({state})", file.display()));
    }
    let mut variables: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("PIP_") || k.starts_with("FERRY_"))
        .collect();
    variables.sort();
    out.push("environment variables:".to_string());
    if variables.is_empty() {
        out.push("  none".to_string());
    }
    for (key, value) in variables {
        // Values may be URLs with credentials.
        out.push(format!("  {key}={}", ferry_index::redact_str(&value)));
    }
    let tags = interpreter.tags();
    out.push(format!("compatible tags: {}", tags.len()));
    out.extend(tags.iter().map(|t| format!("  {t}")));
    for line in out {
        printer.result(line);
    }
    Ok(ExitCode::SUCCESS)
}
