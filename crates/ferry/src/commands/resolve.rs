//! What `compile` and `install --dry-run` share: reading requirements, applying the options
//! found in requirements files, and running the resolver.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use ferry_cache::Cache;
use ferry_index::IndexClient;
use ferry_input::RequirementsSpec;
use ferry_python::Interpreter;
use ferry_resolve::{NameSet, Resolution, ResolveOptions, Target};

use super::index::{index_client, target_interpreter};
use crate::cli::ResolveArgs;

/// Everything needed to resolve, assembled from the command line, requirements files and
/// pip's configuration.
pub struct Prepared {
    pub interpreter: Interpreter,
    pub client: Arc<IndexClient>,
    pub target: Target,
    pub options: ResolveOptions,
    pub runtime: tokio::runtime::Runtime,
}

/// Adds `-c` constraint files to `spec`.
pub fn add_constraints(spec: &mut RequirementsSpec, constraints: &[PathBuf]) -> anyhow::Result<()> {
    for file in constraints {
        spec.add_file(file, true)?;
    }
    Ok(())
}

/// Applies the global options found in requirements files, as pip does (they act as if given on
/// the command line, after it).
fn apply_file_options(args: &ResolveArgs, spec: &RequirementsSpec) -> ResolveArgs {
    let mut args = args.clone();
    for (option, value) in &spec.options {
        match option.as_str() {
            "index-url" if args.index.index_url.is_none() => {
                args.index.index_url = Some(value.clone())
            }
            "extra-index-url" => args.index.extra_index_url.push(value.clone()),
            "find-links" => args.index.find_links.push(value.clone()),
            "trusted-host" => args.index.trusted_host.push(value.clone()),
            "no-index" => args.index.no_index = true,
            "pre" => args.pre = true,
            "prefer-binary" => args.prefer_binary = true,
            "only-binary" => args.only_binary.push(value.clone()),
            "no-binary" => args.no_binary.push(value.clone()),
            _ => {}
        }
    }
    args
}

pub fn prepare(
    args: &ResolveArgs,
    spec: &RequirementsSpec,
    cache: &Cache,
    command: &str,
) -> anyhow::Result<Prepared> {
    let interpreter = target_interpreter(args.python.as_deref(), cache)?;
    prepare_for(args, spec, cache, command, interpreter)
}

/// Like [`prepare`], for an interpreter the caller already chose.
pub fn prepare_for(
    args: &ResolveArgs,
    spec: &RequirementsSpec,
    cache: &Cache,
    command: &str,
    interpreter: Interpreter,
) -> anyhow::Result<Prepared> {
    let args = apply_file_options(args, spec);
    let client = Arc::new(index_client(&args.index, &interpreter, cache, command)?);
    let target = if args.python_version.is_some() || args.python_platform.is_some() {
        let other = interpreter.retarget(
            args.python_version.as_deref(),
            args.python_platform.as_deref(),
        )?;
        Target::from_interpreter(&other)?
    } else {
        Target::from_interpreter(&interpreter)?
    };
    let mut options = ResolveOptions {
        pre: args.pre,
        prefer_binary: args.prefer_binary,
        no_deps: args.no_deps,
        ..ResolveOptions::default()
    };
    let mut only = NameSet::default();
    for value in &args.only_binary {
        only.apply(value);
    }
    let mut no = NameSet::default();
    for value in &args.no_binary {
        no.apply(value);
    }
    options.only_binary = only;
    options.no_binary = no;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    Ok(Prepared {
        interpreter,
        client,
        target,
        options,
        runtime,
    })
}

pub fn resolve(
    prepared: Prepared,
    spec: &RequirementsSpec,
    cache: &Cache,
) -> anyhow::Result<(Resolution, Interpreter)> {
    let result = resolve_only(&prepared, spec, cache);
    // Do not wait for lookups or idle connections still parked on blocking threads.
    prepared.runtime.shutdown_background();
    Ok((result?, prepared.interpreter))
}

/// Resolves, keeping the runtime and client for what comes next (downloads).
pub fn resolve_only(
    prepared: &Prepared,
    spec: &RequirementsSpec,
    cache: &Cache,
) -> anyhow::Result<Resolution> {
    Ok(ferry_resolve::resolve(
        prepared.runtime.handle(),
        Arc::clone(&prepared.client),
        Some(cache),
        prepared.target.clone(),
        spec,
        prepared.options.clone(),
    )?)
}
