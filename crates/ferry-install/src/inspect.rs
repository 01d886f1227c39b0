//! What `freeze`, `list`, `show` and `check` read from an environment: which directories hold the target's
//! packages, pip's view of a distribution's dependencies, and the way Python spells versions,
//! paths and JSON (their output has to match pip's byte for byte).

use std::path::{Path, PathBuf};

use crate::InstalledDist;
use ferry_input::pep508_rs::{MarkerEnvironment, Requirement};
use ferry_python::Interpreter;
use ferry_types::PackageName;

/// Distributions pip never lists because they stand for the standard library.
pub const STDLIB_PKGS: [&str; 3] = ["python", "wsgiref", "argparse"];

/// The directories to read installed distributions from: `paths` when given (pip's `--path`),
/// else the target interpreter's purelib and platlib.
pub fn site_dirs(interpreter: &Interpreter, paths: &[PathBuf]) -> Vec<PathBuf> {
    if !paths.is_empty() {
        return paths.to_vec();
    }
    let scheme = &interpreter.info().paths;
    let mut dirs: Vec<PathBuf> = Vec::new();
    // The user site comes first on `sys.path`, so a distribution there wins, as in pip.
    if let Some(user) = user_site(interpreter) {
        dirs.push(user);
    }
    let own = [scheme.purelib.as_deref(), scheme.platlib.as_deref()]
        .into_iter()
        .flatten()
        .map(PathBuf::from);
    // Then, as on `sys.path`: the interpreter's other site directories (a system Python's
    // `dist-packages`), or a venv's base interpreter's with system site packages.
    let others = if interpreter.is_virtualenv() {
        interpreter.global_site_packages()
    } else {
        interpreter.info().site_packages.clone()
    };
    for dir in own.chain(others) {
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// `site_dirs` as pip's `--local` reads them: in a virtual environment, only its own
/// directories (not the user site, nor the base interpreter's with system site packages).
pub fn local_site_dirs(interpreter: &Interpreter, paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs = site_dirs(interpreter, paths);
    if paths.is_empty() && interpreter.is_virtualenv() {
        let prefix = &interpreter.info().prefix;
        dirs.retain(|dir| dir.starts_with(prefix));
    }
    dirs
}

/// The interpreter's user site-packages (`~/.local/lib/pythonX.Y/site-packages`), when Python
/// would put it on `sys.path`: not in a virtual environment (unless it has system site
/// packages), not with `PYTHONNOUSERSITE`, and only if it exists.
pub fn user_site(interpreter: &Interpreter) -> Option<PathBuf> {
    if (interpreter.is_virtualenv() && interpreter.global_site_packages().is_empty())
        || std::env::var_os("PYTHONNOUSERSITE").is_some_and(|v| !v.is_empty())
    {
        return None;
    }
    // The same place `install --user` puts packages.
    let scheme = crate::Scheme::new(interpreter, &crate::Layout::User, None).ok()?;
    scheme.purelib.is_dir().then_some(scheme.purelib)
}

/// One dependency of an installed distribution.
pub struct Dependency {
    /// The project name as the requirement spells it.
    pub name: String,
    pub normalized: PackageName,
}

/// The dependencies pip's `iter_dependencies()` yields for `dist`: those without a marker, or
/// whose marker holds in `env` when no extra is requested. Unparseable ones are left out.
pub fn dependencies(dist: &InstalledDist, env: &MarkerEnvironment) -> Vec<Dependency> {
    dist.requirement_texts()
        .into_iter()
        .filter_map(|text| {
            let requirement: Requirement = ferry_types::parse_requirement(&text).ok()?;
            if !requirement.evaluate_markers(env, &[]) {
                return None;
            }
            let name = name_as_written(&text).to_string();
            Some(Dependency {
                normalized: PackageName::new(&name),
                name,
            })
        })
        .collect()
}

/// The leading project name of a PEP 508 requirement string, spelled as written.
pub fn name_as_written(text: &str) -> &str {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len());
    text[..end].trim_end_matches(['-', '_', '.'])
}

/// Whether the distribution is an editable install, and where its project lives (pip's
/// `editable_project_location`).
pub fn editable_location(dist: &InstalledDist) -> Option<String> {
    // A readable direct_url.json settles it either way; only without one does pip look for
    // an `.egg-link`.
    match dist.direct_url() {
        Some(direct) if direct.is_editable() => {
            crate::installed::url_to_path(&direct.url).map(|p| p.display().to_string())
        }
        Some(_) => None,
        None => dist
            .editable_location()
            .map(|_| dist.location.display().to_string()),
    }
}

/// Python's `os.path.normpath` of an absolute POSIX path (lexical: `.`, `..`, repeated
/// slashes), as pip applies it before printing an editable location.
pub fn normpath(path: &Path) -> String {
    let text = path.to_string_lossy();
    let leading = if text.starts_with("//") && !text.starts_with("///") {
        "//"
    } else if text.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            // `..` at the root stays at the root.
            ".." if !leading.is_empty() => {}
            _ => parts.push(part),
        }
    }
    let joined = format!("{leading}{}", parts.join("/"));
    if joined.is_empty() {
        ".".to_string()
    } else {
        joined
    }
}

/// A string as Python's `json.dumps` writes it: ASCII only, other characters as `\uXXXX`
/// (surrogate pairs above the BMP).
pub fn json_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// The installed distributions pip's listing commands consider: `dists` without the standard
/// library's and those in `skip` (normalized names).
pub fn is_skipped(dist: &InstalledDist, skip: &[PackageName]) -> bool {
    STDLIB_PKGS.contains(&dist.normalized.as_str()) || skip.contains(&dist.normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_json_strings_match_python() {
        assert_eq!(json_str("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(json_str("é😀\u{7f}"), r#""\u00e9\ud83d\ude00\u007f""#);
    }

    #[test]
    fn inspect_normpath_is_lexical() {
        assert_eq!(normpath(Path::new("/a//b/./c/../d/")), "/a/b/d");
        assert_eq!(normpath(Path::new("/../x")), "/x");
        assert_eq!(normpath(Path::new("//net/x")), "//net/x");
    }

    #[test]
    fn inspect_names_as_written() {
        assert_eq!(name_as_written("Foo_Bar[x]>=1"), "Foo_Bar");
        assert_eq!(
            name_as_written("  zope.interface ; python_version<'3'"),
            "zope.interface"
        );
        assert_eq!(name_as_written("a-(>=1)"), "a");
    }
}
