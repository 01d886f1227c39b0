//! pip's installation report (`--report`, format version 1).

use std::collections::BTreeMap;

use ferry_resolve::ResolvedPackage;

use crate::attest::Attested;

/// The report for installing `packages` into an environment with these `markers`; a package
/// in `attested` (`--verify-attestations`) gets a `provenance` member naming its publishers.
pub fn install_report(
    packages: &[&ResolvedPackage],
    markers: &ferry_python::MarkerEnvironment,
    attested: &BTreeMap<String, Attested>,
) -> Result<serde_json::Value, serde_json::Error> {
    let items = packages
        .iter()
        .map(|p| {
            let mut item = report_item(p);
            if let Some(a) = attested.get(p.name.as_str()) {
                item["provenance"] = serde_json::json!({
                    "verified": true,
                    "publishers": a.publishers,
                });
            }
            item
        })
        .collect::<Vec<_>>();
    Ok(serde_json::json!({
        "version": "1",
        "pip_version": env!("CARGO_PKG_VERSION"),
        "installer": "ferry",
        "install": items,
        "environment": serde_json::to_value(markers)?,
    }))
}

/// The report as pip writes it: indented JSON.
pub fn install_report_text(
    packages: &[&ResolvedPackage],
    markers: &ferry_python::MarkerEnvironment,
    attested: &BTreeMap<String, Attested>,
) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&install_report(packages, markers, attested)?)
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
pub(crate) fn metadata_json(raw: &str) -> serde_json::Value {
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
    // A one-line value is kept as the parser gives it (trailing blanks too, as pip keeps
    // them); a folded one has each line trimmed.
    let fields: Vec<(String, String)> = ferry_types::metadata::raw_fields(raw)
        .into_iter()
        .map(|(key, value)| {
            let value = if value.contains('\n') {
                ferry_types::metadata::fold(&value)
            } else {
                value
            };
            (key.trim().to_ascii_lowercase().replace('-', "_"), value)
        })
        .collect();
    // The core metadata fields pip converts (others are left out, as pip leaves them out).
    const KNOWN: [&str; 27] = [
        "metadata_version",
        "name",
        "version",
        "dynamic",
        "platform",
        "supported_platform",
        "summary",
        "description",
        "description_content_type",
        "keywords",
        "home_page",
        "download_url",
        "author",
        "author_email",
        "maintainer",
        "maintainer_email",
        "license",
        "license_expression",
        "license_file",
        "classifier",
        "requires_dist",
        "requires_python",
        "requires_external",
        "project_url",
        "provides_extra",
        "provides_dist",
        "obsoletes_dist",
    ];
    for (key, value) in fields {
        if !KNOWN.contains(&key.as_str()) {
            continue;
        }
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
    // The body is the description (pip: the message's payload).
    if let Some(body) = ferry_types::metadata::body(raw) {
        object.insert("description".into(), serde_json::json!(body));
    }
    serde_json::Value::Object(object)
}

/// pip's `inspect` report (format version 1) of the distributions `dists`: each one's core
/// metadata as JSON, where it is, its installer, whether it was requested, and its
/// `direct_url.json` (or, for a legacy editable, one made up as pip does); then the marker
/// environment. `tool_version` stands where pip puts its own version.
pub fn inspect_report(
    dists: &[crate::InstalledDist],
    markers: &ferry_python::MarkerEnvironment,
    tool_version: &str,
) -> serde_json::Value {
    let installed: Vec<serde_json::Value> = dists
        .iter()
        .map(|dist| {
            let mut item = serde_json::Map::new();
            let mut metadata = metadata_json(&dist.metadata);
            // An egg-info without Requires-Dist: pip adds its requires.txt as Requires-Dist,
            // and each extra there as Provides-Extra.
            let egg = dist.kind != crate::DistKind::DistInfo;
            if egg && metadata.get("requires_dist").is_none() {
                let requires = dist.requirement_texts();
                if !requires.is_empty() {
                    let mut extras: Vec<String> = Vec::new();
                    for text in &requires {
                        if let Some(extra) = text
                            .rsplit_once("extra == \"")
                            .and_then(|(_, rest)| rest.split_once('"'))
                            .map(|(extra, _)| extra.to_string())
                        {
                            if !extras.contains(&extra) {
                                extras.push(extra);
                            }
                        }
                    }
                    metadata["requires_dist"] = serde_json::json!(requires);
                    if !extras.is_empty() && metadata.get("provides_extra").is_none() {
                        metadata["provides_extra"] = serde_json::json!(extras);
                    }
                }
            }
            item.insert("metadata".into(), metadata);
            item.insert(
                "metadata_location".into(),
                serde_json::json!(dist.path.display().to_string()),
            );
            if let Some(mut direct) = dist.direct_url() {
                // pip reads a legacy `hash` into `hashes` too, and prints both.
                if let Some(archive) = direct.archive_info.as_mut() {
                    if archive.hashes.is_none() {
                        if let Some((algorithm, value)) =
                            archive.hash.as_deref().and_then(|h| h.split_once('='))
                        {
                            archive.hashes = Some(std::collections::BTreeMap::from([(
                                algorithm.to_string(),
                                value.to_string(),
                            )]));
                        }
                    }
                }
                item.insert(
                    "direct_url".into(),
                    serde_json::to_value(direct).unwrap_or_default(),
                );
            } else if let Some(location) = dist.editable_location() {
                let url = url::Url::from_file_path(&location)
                    .map(|u| u.to_string())
                    .unwrap_or_else(|()| location.display().to_string());
                item.insert(
                    "direct_url".into(),
                    serde_json::json!({"url": url, "dir_info": {"editable": true}}),
                );
            }
            if let Some(installer) = dist.installer() {
                item.insert("installer".into(), serde_json::json!(installer));
            }
            // pip knows whether a dist-info was requested; of an egg-info it does not say.
            if !egg {
                item.insert("requested".into(), serde_json::json!(dist.requested()));
            }
            serde_json::Value::Object(item)
        })
        .collect();
    // In the order of packaging's default_environment(), as pip prints it.
    let environment = serde_json::json!({
        "implementation_name": markers.implementation_name,
        "implementation_version": markers.implementation_version,
        "os_name": markers.os_name,
        "platform_machine": markers.platform_machine,
        "platform_release": markers.platform_release,
        "platform_system": markers.platform_system,
        "platform_version": markers.platform_version,
        "python_full_version": markers.python_full_version,
        "platform_python_implementation": markers.platform_python_implementation,
        "python_version": markers.python_version,
        "sys_platform": markers.sys_platform,
    });
    serde_json::json!({
        "version": "1",
        "pip_version": tool_version,
        "installed": installed,
        "environment": environment,
    })
}
