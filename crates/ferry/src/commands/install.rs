//! `ferry install`: for now, `--dry-run` with pip's installation report.

use std::collections::HashMap;
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::bail;
use ferry_cache::Cache;
use ferry_input::{parse_requirement, Origin, RequirementsSpec};
use ferry_python::Interpreter;
use ferry_resolve::{ResolvedPackage, Upgrade};
use pep440_rs::Version;

use super::resolve::{add_constraints, prepare, resolve};
use crate::cli::{InstallArgs, UpgradeStrategy};
use crate::printer::Printer;

pub fn run(args: &InstallArgs, cache: &Cache, printer: &Printer) -> anyhow::Result<ExitCode> {
    if !args.dry_run {
        bail!("installing packages is not implemented yet; `ferry install --dry-run [--report FILE]` shows what would be installed");
    }
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

    let mut prepared = prepare(&args.resolve, &spec, cache, "install")?;
    let installed = if args.ignore_installed {
        HashMap::new()
    } else {
        installed_distributions(&prepared.interpreter)
    };
    // Like pip: what is installed stays unless it must change, or is upgraded.
    prepared.options.preferences = installed
        .iter()
        .filter_map(|(name, version)| Version::from_str(version).ok().map(|v| (name.clone(), v)))
        .collect();
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
    let (resolution, _) = resolve(prepared, &spec, cache)?;

    let to_install: Vec<&ResolvedPackage> = resolution
        .packages
        .iter()
        .filter(|p| {
            installed.get(&p.name).map(String::as_str) != Some(p.version.to_string().as_str())
        })
        .collect();
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
            ferry_cache::write_atomic(std::path::Path::new(target), text.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
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

/// Name → version of what is installed in the interpreter's environment (dist-info only).
pub fn installed_distributions(interpreter: &Interpreter) -> HashMap<String, String> {
    let mut found = HashMap::new();
    let paths = &interpreter.info().paths;
    for dir in [paths.purelib.as_deref(), paths.platlib.as_deref()]
        .into_iter()
        .flatten()
    {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(stem) = file_name
                .to_str()
                .and_then(|n| n.strip_suffix(".dist-info"))
            else {
                continue;
            };
            let Some((dist, version)) = stem.rsplit_once('-') else {
                continue;
            };
            let metadata = std::fs::read_to_string(entry.path().join("METADATA")).ok();
            let version = metadata
                .as_deref()
                .and_then(|m| {
                    m.lines()
                        .take_while(|l| !l.is_empty())
                        .find_map(|l| l.strip_prefix("Version:").map(|v| v.trim().to_string()))
                })
                .unwrap_or_else(|| version.to_string());
            found.insert(ferry_index::normalize_name(dist), version);
        }
    }
    found
}
