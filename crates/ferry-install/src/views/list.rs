//! `pip list`: which installed packages to list, compared with the index, in pip's three
//! formats.

use std::collections::HashSet;

use ferry_index::{IndexClient, IndexError};
use ferry_input::pep508_rs::MarkerEnvironment;
use ferry_types::{PackageName, Version};

use super::Json;
use crate::inspect::{self, dependencies, editable_location};
use crate::InstalledDist;

/// Which installed packages to list.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Left out (`--exclude`).
    pub skip: Vec<PackageName>,
    /// Only editable installs (`--editable`).
    pub editable_only: bool,
    /// No editable installs (`--exclude-editable`).
    pub exclude_editable: bool,
    /// Only packages no other listed package depends on (`--not-required`).
    pub not_required: bool,
}

/// The newest version the index offers the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    pub version: Version,
    /// Whether that version has a usable wheel (else an sdist).
    pub wheel: bool,
}

/// One listed package.
#[derive(Debug)]
pub struct Row<'a> {
    pub dist: &'a InstalledDist,
    pub editable: Option<String>,
    /// With `--outdated`/`--uptodate`.
    pub latest: Option<Latest>,
}

/// The rows `selection` keeps of `dists`, in pip's order (by normalized name). Whether a
/// package is required is decided among the listed packages only, by their dependencies
/// under `env`.
pub fn select<'a>(
    dists: &'a [InstalledDist],
    selection: &Selection,
    env: &MarkerEnvironment,
) -> Vec<Row<'a>> {
    let mut rows: Vec<Row> = dists
        .iter()
        .filter(|d| !inspect::is_skipped(d, &selection.skip))
        .map(|dist| Row {
            dist,
            editable: editable_location(dist),
            latest: None,
        })
        .filter(|row| !(selection.exclude_editable && row.editable.is_some()))
        .filter(|row| !selection.editable_only || row.editable.is_some())
        .collect();
    if selection.not_required {
        let required: HashSet<PackageName> = rows
            .iter()
            .flat_map(|row| dependencies(row.dist, env))
            .map(|dep| dep.normalized)
            .collect();
        rows.retain(|row| !required.contains(&row.dist.normalized));
    }
    rows.sort_by(|a, b| a.dist.normalized.cmp(&b.dist.normalized));
    rows
}

/// What `--outdated` and `--uptodate` keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// The index offers a newer version.
    Outdated,
    /// The installed version is the newest offered.
    Uptodate,
}

/// Looks up the newest version of each row on the index (pip's best candidate: not yanked, a
/// usable wheel or sdist, no pre-release unless `pre`) and keeps the rows `compare` asks for.
/// A project the index does not have is left out; one that cannot be looked up is left out
/// after `warn` is told why, as pip goes on listing.
pub async fn compare<'a>(
    rows: Vec<Row<'a>>,
    client: &IndexClient,
    target: &ferry_resolve::Target,
    pre: bool,
    compare: Compare,
    warn: &(dyn Fn(&str, IndexError) + Sync),
) -> Vec<Row<'a>> {
    let projects =
        futures::future::join_all(rows.iter().map(|row| client.project(&row.dist.name))).await;
    rows.into_iter()
        .zip(projects)
        .filter_map(|(mut row, project)| {
            let project = match project {
                Ok(project) => project,
                Err(IndexError::NotFound { .. }) => return None,
                Err(err) => {
                    warn(&row.dist.name, err);
                    return None;
                }
            };
            let (version, wheel) = target.offered_versions(&project, pre).into_iter().next()?;
            let installed = row.dist.version.pep440()?;
            let keep = match compare {
                Compare::Outdated => version > *installed,
                Compare::Uptodate => version == *installed,
            };
            row.latest = Some(Latest { version, wheel });
            keep.then_some(row)
        })
        .collect()
}

/// pip list's output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Columns,
    Freeze,
    Json,
}

/// The lines pip prints for `rows`. `outdated` adds the latest version and its file type;
/// `verbose` adds each package's location and installer.
pub fn render(rows: &[Row], format: Format, outdated: bool, verbose: bool) -> Vec<String> {
    match format {
        Format::Columns => columns(rows, outdated, verbose),
        Format::Freeze => rows
            .iter()
            .map(|row| {
                let pin = format!("{}=={}", row.dist.name, row.dist.version);
                if verbose {
                    format!("{pin} ({})", row.dist.location.display())
                } else {
                    pin
                }
            })
            .collect(),
        Format::Json => {
            let objects = rows
                .iter()
                .map(|row| {
                    let text = |s: String| Json::Str(s);
                    let mut fields = vec![
                        ("name", text(row.dist.name.clone())),
                        ("version", text(row.dist.version.to_string())),
                    ];
                    if verbose {
                        fields.push(("location", text(row.dist.location.display().to_string())));
                        fields.push(("installer", text(row.dist.installer().unwrap_or_default())));
                    }
                    if let (true, Some(latest)) = (outdated, &row.latest) {
                        fields.push(("latest_version", text(latest.version.to_string())));
                        fields.push(("latest_filetype", text(file_type(latest).to_string())));
                    }
                    if let Some(location) = &row.editable {
                        fields.push(("editable_project_location", text(location.clone())));
                    }
                    // ferry's own key, after pip's: where the distribution came from.
                    if let Some(origin) = row.dist.origin() {
                        fields.push(("source", origin_json(&origin)));
                    }
                    Json::Object(fields)
                })
                .collect();
            vec![Json::Array(objects).dumps()]
        }
    }
}

/// `source` in `list --format json`: `kind` (`index`, `direct`, `conda`) and what that kind
/// records.
fn origin_json(origin: &crate::installed::Origin) -> Json {
    use crate::installed::Origin;
    let text = |s: &str| Json::Str(s.to_string());
    let mut fields = Vec::new();
    match origin {
        Origin::Index {
            url,
            index_url,
            sha256,
        } => {
            fields.push(("kind", text("index")));
            fields.push(("url", text(url)));
            fields.push(("index_url", text(index_url)));
            if let Some(sha256) = sha256 {
                fields.push(("sha256", text(sha256)));
            }
        }
        Origin::Direct {
            url,
            vcs,
            commit,
            sha256,
            editable,
        } => {
            fields.push(("kind", text("direct")));
            fields.push(("url", text(url)));
            if let Some(vcs) = vcs {
                fields.push(("vcs", text(vcs)));
            }
            if let Some(commit) = commit {
                fields.push(("commit", text(commit)));
            }
            if let Some(sha256) = sha256 {
                fields.push(("sha256", text(sha256)));
            }
            fields.push(("editable", Json::Bool(*editable)));
        }
        Origin::Conda { channel, url } => {
            fields.push(("kind", text("conda")));
            fields.push(("channel", text(channel)));
            fields.push(("url", text(url)));
        }
    }
    Json::Object(fields)
}

fn file_type(latest: &Latest) -> &'static str {
    if latest.wheel {
        "wheel"
    } else {
        "sdist"
    }
}

/// pip's table: a header, a line of dashes, columns left-aligned to their widest cell and
/// separated by one space, trailing blanks trimmed. Nothing at all when nothing is listed.
fn columns(rows: &[Row], outdated: bool, verbose: bool) -> Vec<String> {
    if rows.is_empty() {
        return Vec::new();
    }
    let has_editables = rows.iter().any(|r| r.editable.is_some());
    let mut header = vec!["Package", "Version"];
    if outdated {
        header.extend(["Latest", "Type"]);
    }
    if has_editables {
        header.push("Editable project location");
    }
    if verbose {
        header.extend(["Location", "Installer"]);
    }
    let mut table: Vec<Vec<String>> = vec![header.into_iter().map(String::from).collect()];
    for row in rows {
        // The columns show the version as the metadata spells it.
        let mut cells = vec![
            row.dist.name.clone(),
            row.dist
                .raw_field("Version")
                .unwrap_or_else(|| row.dist.version.raw().to_string()),
        ];
        if outdated {
            match &row.latest {
                Some(latest) => {
                    cells.push(latest.version.to_string());
                    cells.push(file_type(latest).to_string());
                }
                None => cells.extend([String::new(), String::new()]),
            }
        }
        if has_editables {
            cells.push(row.editable.clone().unwrap_or_default());
        }
        if verbose {
            cells.push(row.dist.location.display().to_string());
            cells.push(row.dist.installer().unwrap_or_default());
        }
        table.push(cells);
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join(" ").trim_end().to_string()
    };
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let mut lines = vec![line(&table[0]), dashes.join(" ")];
    lines.extend(table[1..].iter().map(|cells| line(cells)));
    lines
}
