//! pip's installation report (`--report`, format version 1).

use ferry_resolve::ResolvedPackage;

/// The report for installing `packages` into an environment with these `markers`.
pub fn install_report(
    packages: &[&ResolvedPackage],
    markers: &ferry_python::MarkerEnvironment,
) -> Result<serde_json::Value, serde_json::Error> {
    Ok(serde_json::json!({
        "version": "1",
        "pip_version": env!("CARGO_PKG_VERSION"),
        "installer": "ferry",
        "install": packages.iter().map(|p| report_item(p)).collect::<Vec<_>>(),
        "environment": serde_json::to_value(markers)?,
    }))
}

/// The report as pip writes it: indented JSON.
pub fn install_report_text(
    packages: &[&ResolvedPackage],
    markers: &ferry_python::MarkerEnvironment,
) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&install_report(packages, markers)?)
}

/// One entry of the report.
fn report_item(package: &ResolvedPackage) -> serde_json::Value {
    let file = &package.file.file;
    let mut archive = serde_json::json!({});
    if let Some(hash) = &file.hashes.sha256 {
        archive =
            serde_json::json!({ "hash": format!("sha256={hash}"), "hashes": { "sha256": hash } });
    }
    let mut download_info = serde_json::json!({
        "url": ferry_types::vcs::strip_credentials(&file.url),
        "archive_info": archive,
    });
    if let Some(vcs) = &package.vcs {
        download_info = serde_json::json!({
            "url": vcs.repository,
            "vcs_info": { "vcs": vcs.vcs.as_str(), "commit_id": vcs.commit },
        });
        if let Some(rev) = &vcs.requested_revision {
            download_info["vcs_info"]["requested_revision"] = serde_json::json!(rev);
        }
        if let Some(sub) = &vcs.subdirectory {
            download_info["subdirectory"] = serde_json::json!(sub);
        }
    }
    // A project directory is recorded as pip records it: `dir_info`, editable or not.
    if let Some(url) = package
        .direct_url
        .as_ref()
        .filter(|url| crate::plan::is_directory(url))
    {
        let dir_info = match package.editable {
            true => serde_json::json!({ "editable": true }),
            false => serde_json::json!({}),
        };
        download_info = serde_json::json!({ "url": url.as_str(), "dir_info": dir_info });
    }
    let mut item = serde_json::json!({
        "download_info": download_info,
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
    let fields: Vec<(String, String)> = ferry_types::metadata::fields(raw)
        .into_iter()
        .map(|(key, value)| (key.to_ascii_lowercase().replace('-', "_"), value))
        .collect();
    for (key, value) in fields {
        if MULTIPLE.contains(&key.as_str()) {
            if let Some(list) = object
                .entry(key)
                .or_insert_with(|| serde_json::json!([]))
                .as_array_mut()
            {
                list.push(serde_json::json!(value));
            }
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
