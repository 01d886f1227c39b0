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
