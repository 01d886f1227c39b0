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

/// `pip freeze -r FILE...`: each file's lines in order, blank lines, comments and options kept
/// (each option line once), each requirement replaced by how its installed distribution
/// freezes; then `## The following requirements were added by pip freeze:` and the rest, as
/// [`lines`] gives them. Requirements that are not installed are left out, with a warning
/// each (returned second, as pip words them).
pub fn lines_following(
    dists: &[InstalledDist],
    skip: &[PackageName],
    exclude_editable: bool,
    files: &[(std::path::PathBuf, String)],
) -> (Vec<String>, Vec<String>) {
    const OPTIONS: [&str; 11] = [
        "-r",
        "--requirement",
        "-f",
        "--find-links",
        "-i",
        "--index-url",
        "--pre",
        "--trusted-host",
        "--process-dependency-links",
        "--extra-index-url",
        "--use-feature",
    ];
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut emitted = std::collections::HashSet::new();
    let mut left: Vec<&InstalledDist> = dists
        .iter()
        .filter(|d| !(exclude_editable && editable_location(d).is_some()))
        .collect();
    let mut seen: std::collections::HashMap<String, Vec<String>> = Default::default();
    for (path, text) in files {
        let shown = path.display().to_string();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty()
                || trimmed.starts_with('#')
                || OPTIONS.iter().any(|o| line.starts_with(o))
            {
                let line = line.trim_end().to_string();
                if emitted.insert(line.clone()) {
                    out.push(line);
                }
                continue;
            }
            let requirement = line
                .split(" #")
                .next()
                .unwrap_or(line)
                .trim()
                .trim_start_matches("--editable")
                .trim_start_matches("-e")
                .trim_start_matches('=')
                .trim();
            let Some(name) = requirement_name(requirement) else {
                warnings.push(format!(
                    "Skipping line in requirement file [{shown}] because it's not clear what it would install: {trimmed}"
                ));
                continue;
            };
            let key = ferry_types::normalize(&name);
            match left.iter().position(|d| d.normalized.as_str() == key) {
                Some(at) => {
                    let dist = left.remove(at);
                    out.extend(dist_lines(dist, editable_location(dist)));
                    seen.entry(name).or_default().push(shown.clone());
                }
                None => {
                    let files = seen.entry(name.clone()).or_default();
                    if files.is_empty() {
                        warnings.push(format!(
                            "Requirement file [{shown}] contains {requirement}, but package '{name}' is not installed"
                        ));
                    } else {
                        files.push(shown.clone());
                    }
                }
            }
        }
    }
    let mut repeated: Vec<(&String, &Vec<String>)> =
        seen.iter().filter(|(_, f)| f.len() > 1).collect();
    repeated.sort();
    for (name, files) in repeated {
        let mut files = files.clone();
        files.sort();
        files.dedup();
        warnings.push(format!(
            "Requirement {name} included multiple times [{}]",
            files.join(", ")
        ));
    }
    out.push("## The following requirements were added by pip freeze:".to_string());
    let rest: Vec<InstalledDist> = left.into_iter().cloned().collect();
    out.extend(lines(&rest, skip, exclude_editable));
    (out, warnings)
}

/// The project name a requirements-file line names: `name[extras] spec`, `name @ URL`, or a
/// URL with `#egg=name`.
fn requirement_name(text: &str) -> Option<String> {
    if let Some(egg) = text.split_once("#egg=").map(|(_, egg)| egg) {
        let name: String = egg
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        return (!name.is_empty()).then_some(name);
    }
    if text.contains("://") && !text.split("://").next().unwrap_or("").contains('@') {
        return None;
    }
    if text.starts_with(['.', '/', '~']) {
        return None;
    }
    let name: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The lines for one distribution.
fn dist_lines(dist: &InstalledDist, editable: Option<String>) -> Vec<String> {
    if let Some(location) = editable {
        let location = normpath(Path::new(&location));
        if let Some(lines) = vcs_editable(dist, Path::new(&location)) {
            return lines;
        }
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

/// An editable whose project is in a git or Mercurial checkout, as pip writes it:
/// `-e git+REMOTE@COMMIT#egg=name[&subdirectory=..]`, asking the VCS for the remote and the
/// checked-out commit (credentials in the remote shown as `****`). `None` outside a checkout.
fn vcs_editable(dist: &InstalledDist, location: &Path) -> Option<Vec<String>> {
    let (root, vcs) = location.ancestors().find_map(|dir| {
        [".git", ".hg"]
            .into_iter()
            .find(|marker| dir.join(marker).exists())
            .map(|marker| (dir, &marker[1..]))
    })?;
    let run = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new(vcs)
            .args(args)
            .current_dir(root)
            .env("HGPLAIN", "1")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    let (remote, commit) = match vcs {
        "git" => (
            run(&["config", "--get", "remote.origin.url"]),
            run(&["rev-parse", "HEAD"])?,
        ),
        _ => (run(&["paths", "default"]), run(&["id", "-i", "--debug"])?),
    };
    let Some(remote) = remote else {
        let label = if vcs == "git" { "Git" } else { "Mercurial" };
        return Some(vec![
            format!(
                "# Editable {label} install with no remote ({})",
                name_version(dist)
            ),
            format!("-e {}", location.display()),
        ]);
    };
    let remote = match url::Url::parse(&remote) {
        Ok(parsed) if parsed.scheme().len() > 1 => ferry_types::vcs::redacted(&parsed),
        // A local path or an scp-like `user@host:path`.
        _ if remote.starts_with('/') => format!("file://{remote}"),
        _ => match remote.split_once(':') {
            Some((host, path)) if !host.contains('/') => format!("ssh://{host}/{path}"),
            _ => remote,
        },
    };
    let prefix = if remote.starts_with(&format!("{vcs}+")) {
        String::new()
    } else {
        format!("{vcs}+")
    };
    let egg = dist.name.replace('-', "_");
    let mut line = format!("-e {prefix}{remote}@{commit}#egg={egg}");
    if let Ok(sub) = location.strip_prefix(root) {
        if !sub.as_os_str().is_empty() {
            line.push_str(&format!("&subdirectory={}", sub.display()));
        }
    }
    Some(vec![line])
}

/// `Name==version`, or `Name===version` for a version that is not PEP 440.
pub fn name_version(dist: &InstalledDist) -> String {
    match dist.version.pep440() {
        Some(version) => format!("{}=={version}", dist.name),
        None => format!("{}==={}", dist.name, dist.version.raw()),
    }
}
