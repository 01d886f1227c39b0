//! What `freeze`, `list`, `show` and `index versions` print, as pip prints it: each function
//! takes what was read from the environment (and the index) and gives the lines to print. The
//! command line only chooses the options and prints the lines.

pub mod freeze;
pub mod list;
pub mod show;

use ferry_types::{DistVersion, Version};

use crate::inspect::json_str;

/// A JSON value as Python's `json.dumps` writes it: `", "` and `": "` separators, ASCII only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    Str(String),
    List(Vec<String>),
    Object(Vec<(&'static str, Json)>),
    Array(Vec<Json>),
    Bool(bool),
}

impl Json {
    pub fn dumps(&self) -> String {
        match self {
            Self::Str(text) => json_str(text),
            Self::Bool(value) => value.to_string(),
            Self::List(items) => {
                let items: Vec<String> = items.iter().map(|s| json_str(s)).collect();
                format!("[{}]", items.join(", "))
            }
            Self::Object(fields) => {
                let body: Vec<String> = fields
                    .iter()
                    .map(|(key, value)| format!("{}: {}", json_str(key), value.dumps()))
                    .collect();
                format!("{{{}}}", body.join(", "))
            }
            Self::Array(items) => {
                let items: Vec<String> = items.iter().map(Json::dumps).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }
}

/// `index versions` finds nothing for `package` on this interpreter: pip's error, with how
/// many files were listed and why none of them count.
pub fn no_versions(
    package: &str,
    files: usize,
    pages: &[String],
    interpreter: &ferry_python::Interpreter,
    pre: bool,
) -> String {
    format!(
        "No matching distribution found for {package}: {files} files are listed{}, none for {} {} on this platform{}",
        match pages.is_empty() {
            true => String::new(),
            false => format!(" by {}", pages.join(" and ")),
        },
        interpreter.implementation_display(),
        interpreter.version_string(),
        if pre { "" } else { " (pre-releases are hidden without --pre)" }
    )
}

/// `pip index versions`: the versions the index offers (newest first) and the installed one.
pub fn index_versions(
    package: &str,
    versions: &[Version],
    installed: Option<&DistVersion>,
    json: bool,
) -> Vec<String> {
    let Some(latest) = versions.first() else {
        return Vec::new();
    };
    let formatted: Vec<String> = versions.iter().map(ToString::to_string).collect();
    if json {
        let mut fields = vec![
            ("name", Json::Str(package.to_string())),
            ("versions", Json::List(formatted)),
            ("latest", Json::Str(latest.to_string())),
        ];
        if let Some(installed) = installed {
            fields.push(("installed_version", Json::Str(installed.to_string())));
        }
        return vec![Json::Object(fields).dumps()];
    }
    let mut lines = vec![
        format!("{package} ({latest})"),
        format!("Available versions: {}", formatted.join(", ")),
    ];
    if let Some(installed) = installed {
        lines.push(format!("  INSTALLED: {installed}"));
        if latest.is_pre() {
            lines.push(format!(
                "  LATEST:    {latest} (pre-release; install with `pip install --pre`)"
            ));
        } else {
            lines.push(format!("  LATEST:    {latest}"));
        }
    }
    lines
}

/// What `install` says when it is done: the count and time, then pip's "Successfully
/// installed" line with every new distribution, sorted.
pub fn installed(wheels: &[crate::WheelToInstall], elapsed: std::time::Duration) -> [String; 2] {
    let mut names: Vec<String> = wheels
        .iter()
        .map(|w| format!("{}-{}", w.name, w.version))
        .collect();
    names.sort();
    let n = names.len();
    [
        format!(
            "Installed {n} package{} in {:.2}s",
            plural(n),
            elapsed.as_secs_f64()
        ),
        format!("Successfully installed {}", names.join(" ")),
    ]
}

/// `p` with `.` and `..` parts folded away (without touching the file system).
fn normal(p: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for component in p.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether `scripts_dir` is neither on `path` nor the directory of `interpreter`: the cheap
/// test before [`scripts_not_on_path`] reads any RECORD.
pub fn scripts_off_path(
    scripts_dir: &std::path::Path,
    interpreter: &std::path::Path,
    path: &std::ffi::OsStr,
) -> bool {
    let dir = normal(scripts_dir);
    let on_path = std::env::split_paths(path).any(|p| normal(&p) == dir);
    let beside_interpreter = interpreter.parent().is_some_and(|p| normal(p) == dir);
    !on_path && !beside_interpreter
}

/// pip's warning about scripts the shell will not find: those of `dists` (just installed)
/// in `scripts_dir`, when that directory is neither on `path` (the `PATH` value) nor the one
/// holding the target `interpreter` (a venv's `bin`, used without activating it).
pub fn scripts_not_on_path(
    dists: &[&crate::InstalledDist],
    scripts_dir: &std::path::Path,
    interpreter: &std::path::Path,
    path: &std::ffi::OsStr,
) -> Option<String> {
    let dir = normal(scripts_dir);
    if !scripts_off_path(scripts_dir, interpreter, path) {
        return None;
    }
    let mut scripts: Vec<String> = dists
        .iter()
        .flat_map(|dist| crate::uninstall::files_to_remove(dist).unwrap_or_default())
        .filter(|file| file.parent().is_some_and(|p| normal(p) == dir))
        .filter_map(|file| Some(file.file_name()?.to_string_lossy().into_owned()))
        .collect();
    scripts.sort();
    scripts.dedup();
    let (last, rest) = scripts.split_last()?;
    let subject = match rest {
        [] => format!("script {last} is"),
        _ => format!("scripts {} and {last} are", rest.join(", ")),
    };
    let mut message = format!(
        "The {subject} installed in '{}' which is not on PATH: the shell will not find it there. \
         Add the directory to PATH, or give --no-warn-script-location to silence this.",
        scripts_dir.display()
    );
    if std::env::split_paths(path).any(|p| p.starts_with("~")) {
        message.push_str(
            " PATH has entries starting with `~`, which programs other than the shell may not expand.",
        );
    }
    Some(message)
}

/// What `install` says at `-v` when files were copied because the cache at `cache` is on
/// another filesystem than the environment.
pub fn copied_instead_of_linked(
    applied: &crate::Applied,
    cache: &std::path::Path,
) -> Option<String> {
    applied.fell_back_to_copy.then(|| {
        format!(
            "The cache ({}) is on another filesystem than the environment: files were copied, not hard-linked",
            cache.display()
        )
    })
}

/// What `install` says when the environment already satisfies every requirement; `checked`
/// is the number of packages the resolution holds, when it is known.
pub fn nothing_to_install(checked: Option<usize>) -> String {
    let line = "Nothing to install: every requirement is already satisfied";
    match checked {
        Some(n) => format!("{line} ({n} package{} checked)", plural(n)),
        None => line.to_string(),
    }
}

/// What `install --dry-run` says.
pub fn would_install(packages: &[&ferry_resolve::ResolvedPackage]) -> String {
    if packages.is_empty() {
        return nothing_to_install(None);
    }
    let would: Vec<String> = packages
        .iter()
        .map(|p| format!("{}-{}", p.name, p.version))
        .collect();
    format!("Would install {}", would.join(" "))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// One line per file `--verify-attestations` verified: `Attested NAME: GitHub owner/repo
/// (workflow release.yml)`.
pub fn attested(
    attested: &std::collections::BTreeMap<String, crate::attest::Attested>,
) -> Vec<String> {
    attested
        .values()
        .map(|a| {
            let who: Vec<String> = a.publishers.iter().map(|p| p.describe()).collect();
            format!(
                "Verified provenance of {}: published by {}",
                a.filename,
                who.join(", ")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_written_the_way_python_dumps_it() {
        let value = Json::Array(vec![Json::Object(vec![
            ("name", Json::Str("é".into())),
            ("versions", Json::List(vec!["2.0".into(), "1.0".into()])),
        ])]);
        assert_eq!(
            value.dumps(),
            r#"[{"name": "\u00e9", "versions": ["2.0", "1.0"]}]"#
        );
    }

    #[test]
    fn index_versions_marks_a_latest_pre_release() {
        let versions: Vec<Version> = ["2.0rc1", "1.0"]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        let lines = index_versions("a", &versions, Some(&DistVersion::new("1.0")), false);
        assert_eq!(lines[0], "a (2.0rc1)");
        assert_eq!(lines[1], "Available versions: 2.0rc1, 1.0");
        assert_eq!(lines[2], "  INSTALLED: 1.0");
        assert!(lines[3].contains("pre-release"), "{lines:?}");
        assert!(index_versions("a", &[], None, false).is_empty());
    }
}
