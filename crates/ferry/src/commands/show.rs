//! `ferry show`: what is known about installed packages, in `pip show`'s format.

use std::process::ExitCode;

use ferry_cache::Cache;
use ferry_install::InstalledDist;

use crate::printer::Printer;
use ferry_install::inspect;

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Installed package names (any spelling)
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,
    /// Also list the files each package installed (from RECORD or installed-files.txt)
    #[arg(short, long)]
    pub files: bool,
    /// The target interpreter or environment (default: VIRTUAL_ENV, CONDA_PREFIX, .venv, then python3 on PATH)
    #[arg(short, long)]
    pub python: Option<String>,
}

/// `verbose` is the global `-v` count: with it, pip adds the metadata version, installer,
/// classifiers, entry points and project URLs.
pub fn run(
    args: &ShowArgs,
    config: &ferry_input::PipConfig,
    verbose: u8,
    cache: &Cache,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    if args.packages.is_empty() {
        printer.status("WARNING: ERROR: Please provide a package name or names.");
        return Ok(ExitCode::from(1));
    }
    let interpreter = crate::settings::read_target(args.python.as_deref(), config, "show", cache)?;
    let env = interpreter
        .markers()
        .to_pep508()
        .map_err(anyhow::Error::msg)?;
    let dists = ferry_install::scan(&inspect::site_dirs(&interpreter, &[]));
    let find = |name: &str| ferry_install::installed::find(&dists, name);
    // pip reads metadata through `importlib.metadata` from Python 3.11 on, which re-indents
    // multi-line values; before, it printed them as the email parser returned them.
    let (major, minor, _) = interpreter.version();
    let reindent = (major, minor) >= (3, 11);
    let raw = |dist: &InstalledDist, key: &str| {
        dist.raw_field(key)
            .map(|v| if reindent { redent(&v) } else { v })
    };
    let raw_all = |dist: &InstalledDist, key: &str| -> Vec<String> {
        dist.raw_fields(key)
            .into_iter()
            .map(|v| if reindent { redent(&v) } else { v })
            .collect()
    };

    let mut missing: Vec<&str> = args
        .packages
        .iter()
        .map(String::as_str)
        .filter(|name| find(name).is_none())
        .collect();
    missing.sort_unstable();
    if !missing.is_empty() {
        printer.status(format!(
            "WARNING: Package(s) not found: {}",
            missing.join(", ")
        ));
    }

    let dependencies: Vec<(&InstalledDist, Vec<inspect::Dependency>)> = dists
        .iter()
        .map(|dist| (dist, inspect::dependencies(dist, &env)))
        .collect();

    let mut shown = 0;
    for dist in args.packages.iter().filter_map(|name| find(name)) {
        if shown > 0 {
            printer.result("---");
        }
        shown += 1;
        let deps = &dependencies
            .iter()
            .find(|(d, _)| d.normalized == dist.normalized)
            .expect("every scanned distribution has its dependencies listed")
            .1;
        let mut requires: Vec<&str> = deps
            .iter()
            .map(|d| d.name.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        requires.sort_by_cached_key(|n| n.to_lowercase());
        let mut required_by: Vec<String> = dependencies
            .iter()
            .filter(|(_, deps)| deps.iter().any(|d| d.normalized == dist.normalized))
            .map(|(d, _)| raw(d, "Name").unwrap_or_else(|| "UNKNOWN".to_string()))
            .collect();
        required_by.sort_by_cached_key(|n| n.to_lowercase());

        let field = |key: &str| raw(dist, key).unwrap_or_default();
        let metadata_version = field("Metadata-Version");
        printer.result(format!(
            "Name: {}",
            raw(dist, "Name").unwrap_or_else(|| dist.normalized.clone())
        ));
        printer.result(format!(
            "Version: {}",
            raw(dist, "Version").unwrap_or_else(|| dist.version.clone())
        ));
        printer.result(format!("Summary: {}", field("Summary")));
        let homepage = field("Home-page");
        let homepage = if homepage.is_empty() {
            homepage_from_urls(&raw_all(dist, "Project-URL"))
        } else {
            homepage
        };
        printer.result(format!("Home-page: {homepage}"));
        printer.result(format!("Author: {}", field("Author")));
        printer.result(format!("Author-email: {}", field("Author-email")));
        // Since core metadata 2.4 (PEP 639) a license expression replaces the free text.
        let expression = field("License-Expression");
        if metadata_at_least(&metadata_version, (2, 4)) && !expression.is_empty() {
            printer.result(format!("License-Expression: {expression}"));
        } else {
            printer.result(format!("License: {}", field("License")));
        }
        printer.result(format!("Location: {}", dist.location.display()));
        if let Some(location) = inspect::editable_location(dist) {
            printer.result(format!("Editable project location: {location}"));
        }
        printer.result(format!("Requires: {}", requires.join(", ")));
        printer.result(format!("Required-by: {}", required_by.join(", ")));
        if verbose > 0 {
            printer.result(format!("Metadata-Version: {metadata_version}"));
            printer.result(format!(
                "Installer: {}",
                dist.installer().unwrap_or_default()
            ));
            printer.result("Classifiers:");
            for classifier in raw_all(dist, "Classifier") {
                printer.result(format!("  {classifier}"));
            }
            printer.result("Entry-points:");
            let entry_points =
                fs_err::read_to_string(dist.path.join("entry_points.txt")).unwrap_or_default();
            for line in entry_points.lines() {
                printer.result(format!("  {}", line.trim()));
            }
            printer.result("Project-URLs:");
            for url in raw_all(dist, "Project-URL") {
                printer.result(format!("  {url}"));
            }
        }
        if args.files {
            printer.result("Files:");
            match dist.declared_files() {
                None => printer.result("Cannot locate RECORD or installed-files.txt"),
                Some(mut files) => {
                    files.sort();
                    for file in files {
                        printer.result(format!("  {}", file.trim()));
                    }
                }
            }
        }
    }
    Ok(if shown == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
    use super::redent;

    #[test]
    fn inspect_redent_matches_importlib_metadata() {
        assert_eq!(redent("MIT"), "MIT");
        assert_eq!(
            redent("MIT\n        more\n          indented"),
            "MIT\nmore\n  indented"
        );
        assert_eq!(redent("A\n   b\n \n   c"), "     A\nb\n\nc");
    }
}
