//! `pip freeze`: the installed packages as a requirements file.

use std::path::Path;

use ferry_types::PackageName;

use crate::inspect::{self, editable_location, normpath};
use crate::InstalledDist;

/// The packages `pip freeze` leaves out unless `--all`: pip itself, and the build tools it
/// seeded environments with until Python 3.12 stopped bundling them.
pub fn hidden(all: bool, python: (u32, u32)) -> Vec<PackageName> {
    let mut names = Vec::new();
    if !all {
        names.push("pip");
        if python < (3, 12) {
            names.extend(["setuptools", "distribute", "wheel"]);
        }
    }
    names.into_iter().map(PackageName::new).collect()
}

/// The lines `pip freeze` prints for `dists`, leaving out `skip` (and editables, with
/// `exclude_editable`), in pip's order: by name, case-insensitively.
pub fn lines(dists: &[InstalledDist], skip: &[PackageName], exclude_editable: bool) -> Vec<String> {
    let mut frozen: Vec<(&InstalledDist, Vec<String>)> = dists
        .iter()
        .filter(|d| !inspect::is_skipped(d, skip))
        .filter_map(|dist| {
            let editable = editable_location(dist);
            if exclude_editable && editable.is_some() {
                return None;
            }
            Some((dist, dist_lines(dist, editable)))
        })
        .collect();
    frozen.sort_by_cached_key(|(dist, _)| dist.name.to_lowercase());
    frozen.into_iter().flat_map(|(_, lines)| lines).collect()
}

/// The lines for one distribution.
fn dist_lines(dist: &InstalledDist, editable: Option<String>) -> Vec<String> {
    if let Some(location) = editable {
        // ferry does not ask version control where an editable checkout came from, so every
        // editable is written the way pip writes one outside version control.
        let location = normpath(Path::new(&location));
        return vec![
            format!(
                "# Editable install with no version control ({})",
                name_version(dist)
            ),
            format!("-e {location}"),
        ];
    }
    let line = match dist.direct_url() {
        Some(direct) => direct.to_requirement(&dist.name),
        None => name_version(dist),
    };
    vec![line.trim_end().to_string()]
}

/// `Name==version`, or `Name===version` for a version that is not PEP 440.
pub fn name_version(dist: &InstalledDist) -> String {
    match dist.version.pep440() {
        Some(version) => format!("{}=={version}", dist.name),
        None => format!("{}==={}", dist.name, dist.version.raw()),
    }
}
