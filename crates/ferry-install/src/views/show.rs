//! `pip show`: what is known about installed packages.

use std::collections::BTreeSet;

use ferry_input::pep508_rs::MarkerEnvironment;

use crate::inspect::{dependencies, editable_location, Dependency};
use crate::installed::find;
use crate::InstalledDist;

/// What to show.
#[derive(Debug, Clone, Default)]
pub struct ShowOptions {
    /// The files each package installed (`--files`).
    pub files: bool,
    /// The metadata version, installer, classifiers, entry points and project URLs (`-v`).
    pub verbose: bool,
    /// Re-indent multi-line values as `importlib.metadata` does: pip reads metadata through it
    /// from Python 3.11 on, and printed values as the email parser returned them before.
    pub reindent: bool,
    /// The cache root, where `install --verify-attestations` kept the provenance that the
    /// `Publisher` lines verify again.
    pub cache_root: Option<std::path::PathBuf>,
}

/// What `pip show` prints.
#[derive(Debug, Default)]
pub struct Shown {
    /// The records, separated by `---` lines.
    pub lines: Vec<String>,
    /// The names asked for that are not installed, sorted.
    pub missing: Vec<String>,
    /// How many packages were shown.
    pub found: usize,
}

/// The records of the packages `names` (any spelling) among `dists`, with their requirements
/// and reverse requirements under `env`.
pub fn show(
    dists: &[InstalledDist],
    names: &[String],
    env: &MarkerEnvironment,
    options: &ShowOptions,
) -> Shown {
    let mut missing: Vec<String> = names
        .iter()
        .filter(|name| find(dists, name).is_none())
        .cloned()
        .collect();
    missing.sort_unstable();
    let mut shown = Shown {
        missing,
        ..Shown::default()
    };
    let all: Vec<(&InstalledDist, Vec<Dependency>)> = dists
        .iter()
        .map(|dist| (dist, dependencies(dist, env)))
        .collect();
    for dist in names.iter().filter_map(|name| find(dists, name)) {
        if shown.found > 0 {
            shown.lines.push("---".to_string());
        }
        shown.found += 1;
        record(dist, &all, options, &mut shown.lines);
    }
    shown
}

/// One package's record.
fn record(
    dist: &InstalledDist,
    all: &[(&InstalledDist, Vec<Dependency>)],
    options: &ShowOptions,
    out: &mut Vec<String>,
) {
    let raw = |dist: &InstalledDist, key: &str| {
        dist.raw_field(key)
            .map(|v| if options.reindent { redent(&v) } else { v })
    };
    let raw_all = |key: &str| -> Vec<String> {
        dist.raw_fields(key)
            .into_iter()
            .map(|v| if options.reindent { redent(&v) } else { v })
            .collect()
    };
    let field = |key: &str| raw(dist, key).unwrap_or_default();
    let deps = all
        .iter()
        .find(|(d, _)| d.normalized == dist.normalized)
        .map(|(_, deps)| deps.as_slice())
        .unwrap_or_default();
    let mut requires: Vec<&str> = deps
        .iter()
        .map(|d| d.name.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    requires.sort_by_cached_key(|n| n.to_lowercase());
    let mut required_by: Vec<String> = all
        .iter()
        .filter(|(_, deps)| deps.iter().any(|d| d.normalized == dist.normalized))
        .map(|(d, _)| raw(d, "Name").unwrap_or_else(|| "UNKNOWN".to_string()))
        .collect();
    required_by.sort_by_cached_key(|n| n.to_lowercase());

    let metadata_version = field("Metadata-Version");
    let name = raw(dist, "Name").unwrap_or_else(|| dist.normalized.to_string());
    out.push(format!("Name: {name}"));
    let version = raw(dist, "Version").unwrap_or_else(|| dist.version.to_string());
    out.push(format!("Version: {version}"));
    out.push(format!("Summary: {}", field("Summary")));
    let mut homepage = field("Home-page");
    if homepage.is_empty() {
        homepage = homepage_from_urls(&raw_all("Project-URL"));
    }
    out.push(format!("Home-page: {homepage}"));
    out.push(format!("Author: {}", field("Author")));
    out.push(format!("Author-email: {}", field("Author-email")));
    // Since core metadata 2.4 (PEP 639) a license expression replaces the free text.
    let expression = field("License-Expression");
    if metadata_at_least(&metadata_version, (2, 4)) && !expression.is_empty() {
        out.push(format!("License-Expression: {expression}"));
    } else {
        out.push(format!("License: {}", field("License")));
    }
    out.push(format!("Location: {}", dist.location.display()));
    if let Some(location) = editable_location(dist) {
        out.push(format!("Editable project location: {location}"));
    }
    out.push(format!("Requires: {}", requires.join(", ")));
    out.push(format!("Required-by: {}", required_by.join(", ")));
    if options.verbose {
        out.push(format!("Metadata-Version: {metadata_version}"));
        out.push(format!(
            "Installer: {}",
            dist.installer().unwrap_or_default()
        ));
        out.push("Classifiers:".to_string());
        out.extend(raw_all("Classifier").iter().map(|c| format!("  {c}")));
        out.push("Entry-points:".to_string());
        let entry_points =
            fs_err::read_to_string(dist.path.join("entry_points.txt")).unwrap_or_default();
        out.extend(entry_points.lines().map(|l| format!("  {}", l.trim())));
        out.push("Project-URLs:".to_string());
        out.extend(raw_all("Project-URL").iter().map(|u| format!("  {u}")));
    }
    if options.files {
        out.push("Files:".to_string());
        match dist.declared_files() {
            None => out.push("Cannot locate RECORD or installed-files.txt".to_string()),
            Some(mut files) => {
                files.sort();
                out.extend(files.iter().map(|f| format!("  {}", f.trim())));
            }
        }
    }
    // ferry's own field, after all of pip's so that parsers of pip's output still work:
    // where the distribution came from, when something recorded it.
    if let Some(origin) = dist.origin() {
        out.push(format!("Source: {origin}"));
    }
    // The PEP 740 provenance `install --verify-attestations` kept, verified again now.
    let publishers = options
        .cache_root
        .as_deref()
        .and_then(|root| crate::attest::installed_publishers(dist, root));
    match publishers {
        None => {}
        Some(Ok(publishers)) => {
            for p in publishers {
                out.push(format!("Publisher: {} (attested, verified)", p.describe()));
            }
        }
        Some(Err(why)) => out.push(format!("Publisher: unverified ({why})")),
    }
}

/// The `Project-URL` labelled as the home page, which newer metadata has instead of
/// `Home-page`.
fn homepage_from_urls(urls: &[String]) -> String {
    for entry in urls {
        let Some((label, url)) = entry.split_once(',') else {
            continue;
        };
        let label: String = label
            .to_lowercase()
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .collect();
        if label.trim() == "homepage" {
            return url.trim().to_string();
        }
    }
    String::new()
}

/// What `importlib.metadata` makes of a multi-line header value: the value with eight spaces
/// in front, then the common indentation of its lines removed (Python's `textwrap.dedent`;
/// blank lines are emptied and do not count).
fn redent(value: &str) -> String {
    if !value.contains('\n') {
        return value.to_string();
    }
    let text = format!("        {value}");
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| {
            if l.trim_matches([' ', '\t']).is_empty() {
                ""
            } else {
                l
            }
        })
        .collect();
    let mut margin: Option<&str> = None;
    for line in lines.iter().filter(|l| !l.is_empty()) {
        let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        margin = Some(match margin {
            None => indent,
            Some(m) => {
                let common = m
                    .bytes()
                    .zip(indent.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                &m[..common]
            }
        });
    }
    let margin = margin.unwrap_or("");
    lines
        .iter()
        .map(|l| l.strip_prefix(margin).unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a `Metadata-Version` value is at least `min` (unparseable: no).
fn metadata_at_least(version: &str, min: (u32, u32)) -> bool {
    let mut parts = version.trim().split('.').map(str::parse::<u32>);
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor) >= min,
        (Some(Ok(major)), None) => (major, 0) >= min,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{homepage_from_urls, metadata_at_least, redent};

    #[test]
    fn redent_matches_importlib_metadata() {
        assert_eq!(redent("MIT"), "MIT");
        assert_eq!(
            redent("MIT\n        more\n          indented"),
            "MIT\nmore\n  indented"
        );
        assert_eq!(redent("A\n   b\n \n   c"), "     A\nb\n\nc");
    }

    #[test]
    fn homepage_and_metadata_version() {
        assert_eq!(
            homepage_from_urls(&["Source, https://s".into(), "Home-Page, https://h".into()]),
            "https://h"
        );
        assert!(metadata_at_least("2.4", (2, 4)));
        assert!(!metadata_at_least("2.1", (2, 4)));
        assert!(!metadata_at_least("x", (2, 4)));
    }
}
