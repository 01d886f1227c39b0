//! `ferry download`: resolve, then save the chosen file of every package (wheel or sdist, as
//! the index has it, nothing built) into a directory, as `pip download` does, for offline
//! installs with `--no-index --find-links DIR`. `--platform`, `--python-version`,
//! `--implementation` and `--abi` resolve for another interpreter (pip's rule: with them,
//! `--only-binary=:all:` or `--no-deps`).

use std::process::ExitCode;

use ferry_cache::Cache;
use ferry_install::plan::{self, Downloaded, Prepare};
use ferry_install::{views, Store};

use crate::printer::Printer;
use crate::settings::DownloadSettings;

pub fn run(
    settings: &DownloadSettings,
    cache: &Cache,
    runtime: &tokio::runtime::Runtime,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let resolver = &settings.resolver;
    settings.platform.check(resolver)?;
    let super::Resolving {
        resolver,
        spec,
        interpreter,
        client,
        options,
    } = super::resolving(
        resolver,
        &settings.build,
        (&settings.requirements, &[], &settings.requirement_files),
        cache,
        runtime,
        printer,
    )?;
    let handle = runtime.handle();
    let build = options.build.clone();
    let mut target = resolver.target(&interpreter)?;
    settings
        .platform
        .apply(&mut target, &interpreter, &resolver)?;
    let resolution =
        ferry_resolve::resolve(handle, client.clone(), Some(cache), target, &spec, options)?;
    let packages: Vec<_> = resolution.packages.iter().collect();
    if settings.verify_attestations {
        let attested = ferry_install::attest::verify_all(handle, client.http(), &packages)?;
        for line in views::attested(&attested) {
            printer.status(line);
        }
    }
    let store = Store::new(cache);
    let prepare = Prepare::new(
        client.http(),
        &store,
        &*build,
        &spec,
        resolver.require_hashes,
    );
    let done = plan::download(handle, &packages, &prepare, &settings.dest)?;
    let mut names = Vec::new();
    for item in &done {
        match item {
            Downloaded::Saved(saved) => {
                let (source, saved) = &**saved;
                if saved.already_there {
                    printer.status(format!(
                        "File was already downloaded {}",
                        saved.path.display()
                    ));
                } else {
                    printer.status(format!("Saved {}", saved.path.display()));
                }
                names.push(source.name.clone());
            }
            Downloaded::Source(name) => {
                printer.status(format!(
                    "Skipped {name}: a project directory has no file to download"
                ));
            }
            Downloaded::Archived(path) => {
                printer.status(format!("Saved {}", path.display()));
                if let Some(name) = path.file_name() {
                    names.push(name.to_string_lossy().trim_end_matches(".zip").to_string());
                }
            }
        }
    }
    if !names.is_empty() {
        printer.status(format!("Successfully downloaded {}", names.join(" ")));
    }
    Ok(ExitCode::SUCCESS)
}
