//! `pip check`: whether the installed packages' dependencies are installed, in versions that
//! fit, and whether their wheels suit the interpreter, in pip's words and pip's order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ferry_input::pep508_rs::{MarkerEnvironment, Requirement, VersionOrUrl};
use ferry_python::Interpreter;
use pep440_rs::Version;

use crate::{inspect, InstalledDist};

/// What a check found, each line as pip prints it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Packages whose version or dependencies could not be read (pip warns and fails).
    pub unreadable: Vec<String>,
    /// `NAME VERSION requires DEP, which is not installed.`
    pub missing: Vec<String>,
    /// `NAME VERSION has requirement REQ, but you have DEP VERSION.`
    pub conflicting: Vec<String>,
    /// `NAME VERSION is not supported on this platform`
    pub unsupported: Vec<String>,
}

impl CheckReport {
    /// Whether nothing is broken.
    pub fn is_clean(&self) -> bool {
        self.unreadable.is_empty()
            && self.missing.is_empty()
            && self.conflicting.is_empty()
            && self.unsupported.is_empty()
    }
}

/// What pip knows of an installed package when checking: its version and the dependencies that
/// apply here (markers evaluated, no extras).
struct Package {
    version: Version,
    requirements: Vec<(String, Requirement)>,
}

/// Checks the environment of `interpreter`, whose markers are `env`.
pub fn check(interpreter: &Interpreter, env: &MarkerEnvironment) -> CheckReport {
    let mut report = CheckReport::default();
    let site_dirs = inspect::site_dirs(interpreter, &[]);
    let mut dists = crate::scan(&site_dirs);
    // pip reports in the order it finds packages: site directory by site directory, each in
    // the order the file system lists it. Doing the same gives the same output.
    let mut listed = HashMap::new();
    for dir in &site_dirs {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let position = listed.len();
            listed.entry(entry.path()).or_insert(position);
        }
    }
    dists.sort_by_key(|d| listed.get(&d.path).copied().unwrap_or(usize::MAX));

    // A package whose version or dependencies cannot be read is left out (and makes the check
    // fail), as pip does.
    let mut packages: Vec<(&str, Package)> = Vec::new();
    for dist in &dists {
        match read_package(dist, env) {
            Ok(package) => {
                packages.push((&dist.normalized, package));
            }
            Err(message) => {
                report.unreadable.push(format!(
                    "Error parsing dependencies of {}: {message}",
                    dist.normalized
                ));
            }
        }
    }

    let by_name: HashMap<&str, &Package> = packages.iter().map(|(n, p)| (*n, p)).collect();
    for (name, package) in &packages {
        // pip collects each package's findings in sets and sorts them by their Python repr.
        let mut missing_here = BTreeMap::new();
        let mut conflicting_here = BTreeMap::new();
        for (text, requirement) in &package.requirements {
            let dep = requirement.name.to_string();
            let shown = requirement_text(text);
            let Some(installed) = by_name.get(dep.as_str()) else {
                let key = format!("('{dep}', <Requirement('{shown}')>)");
                missing_here.insert(key, dep);
                continue;
            };
            let fits = match &requirement.version_or_url {
                Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
                    specifiers.contains(&installed.version)
                }
                _ => true,
            };
            if !fits {
                let key = format!(
                    "('{dep}', <Version('{}')>, <Requirement('{shown}')>)",
                    installed.version
                );
                conflicting_here.insert(key, (dep, installed.version.to_string(), shown));
            }
        }
        for dep in missing_here.into_values() {
            report.missing.push(format!(
                "{name} {} requires {dep}, which is not installed.",
                package.version
            ));
        }
        for (dep, dep_version, shown) in conflicting_here.into_values() {
            report.conflicting.push(format!(
                "{name} {} has requirement {shown}, but you have {dep} {dep_version}.",
                package.version
            ));
        }
    }
    report.unsupported = unsupported(&dists, interpreter);
    report
}

/// pip's warning after an install: the dependency conflicts among the packages just installed
/// (`installed`, normalized names) and the installed packages that depend on them, one line
/// each in pip's words (every missing dependency first, then every conflict). Empty when
/// there are none.
pub fn install_conflicts(
    interpreter: &Interpreter,
    env: &MarkerEnvironment,
    installed: &BTreeSet<String>,
) -> Vec<String> {
    let dists = crate::scan(&inspect::site_dirs(interpreter, &[]));
    let mut packages: BTreeMap<&str, Package> = BTreeMap::new();
    for dist in &dists {
        if let Ok(package) = read_package(dist, env) {
            packages.entry(&dist.normalized).or_insert(package);
        }
    }
    let involved = |name: &str, package: &Package| {
        installed.contains(name)
            || package
                .requirements
                .iter()
                .any(|(_, r)| installed.contains(&normalize(r.name.as_ref())))
    };
    let mut missing = Vec::new();
    let mut conflicting = Vec::new();
    for (name, package) in &packages {
        if !involved(name, package) {
            continue;
        }
        for (text, requirement) in &package.requirements {
            let dep = normalize(requirement.name.as_ref());
            let shown = requirement_text(text);
            let Some(have) = packages.get(dep.as_str()) else {
                missing.push(format!(
                    "{name} {} requires {shown}, which is not installed.",
                    package.version
                ));
                continue;
            };
            if let Some(VersionOrUrl::VersionSpecifier(specifiers)) = &requirement.version_or_url {
                if !specifiers.contains(&have.version) {
                    conflicting.push(format!(
                        "{name} {} requires {shown}, but you have {dep} {} which is incompatible.",
                        package.version, have.version
                    ));
                }
            }
        }
    }
    missing.extend(conflicting);
    missing
}

fn normalize(name: &str) -> String {
    ferry_types::PackageName::new(name).to_string()
}

fn read_package(
    dist: &InstalledDist,
    env: &ferry_input::pep508_rs::MarkerEnvironment,
) -> Result<Package, String> {
    let version = dist
        .version
        .pep440()
        .cloned()
        .ok_or_else(|| format!("Invalid version: '{}'", dist.version.raw()))?;
    let mut requirements = Vec::new();
    for text in dist.requirement_texts() {
        let requirement: Requirement = ferry_types::parse_requirement(&text)?;
        if requirement.evaluate_markers(env, &[]) {
            requirements.push((text, requirement));
        }
    }
    Ok(Package {
        version,
        requirements,
    })
}

/// Packages whose `WHEEL` file names no tag this interpreter supports.
fn unsupported(dists: &[InstalledDist], interpreter: &ferry_python::Interpreter) -> Vec<String> {
    let supported = interpreter.tags();
    let mut out = Vec::new();
    for dist in dists {
        if inspect::STDLIB_PKGS.contains(&dist.normalized.as_str()) {
            continue;
        }
        let Ok(wheel) = std::fs::read_to_string(dist.path.join("WHEEL")) else {
            continue;
        };
        let tags: Vec<String> = crate::installed::raw_metadata_fields(&wheel)
            .into_iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case("Tag"))
            .map(|(_, value)| value)
            .collect();
        let triples = tags.iter().filter_map(|tag| {
            let mut parts = tag.trim().split('-');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(py), Some(abi), Some(platform), None) => Some((py, abi, platform)),
                _ => None,
            }
        });
        let fits = supported.best(triples).is_some();
        if !fits {
            out.push(format!(
                "{} {} is not supported on this platform",
                dist.name, dist.version
            ));
        }
    }
    out
}

/// A requirement as Python's `packaging` prints it (`str(Requirement(text))`): the name as
/// written, extras sorted, version specifiers without blanks and sorted, and the marker
/// re-spelled with double quotes, single spaces and canonical variable names.
pub fn requirement_text(text: &str) -> String {
    let text = text.trim();
    let name = inspect::name_as_written(text);
    let mut rest = text[text.find(name).unwrap_or(0) + name.len()..].trim_start();
    let mut out = name.to_string();

    if let Some(after) = rest.strip_prefix('[') {
        let end = after.find(']').unwrap_or(after.len());
        let extras: BTreeSet<&str> = after[..end]
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        if !extras.is_empty() {
            out.push('[');
            out.push_str(&extras.into_iter().collect::<Vec<_>>().join(","));
            out.push(']');
        }
        rest = after[(end + 1).min(after.len())..].trim_start();
    }

    let (spec, marker) = if let Some(url) = rest.strip_prefix('@') {
        let url = url.trim_start();
        // The URL ends at the first blank; a marker may follow after `;`.
        let end = url.find(char::is_whitespace).unwrap_or(url.len());
        let marker = url[end..].trim_start().strip_prefix(';').map(str::trim);
        out.push_str("@ ");
        out.push_str(&url[..end]);
        if marker.is_some() {
            out.push(' ');
        }
        (None, marker)
    } else {
        match rest.split_once(';') {
            Some((spec, marker)) => (Some(spec), Some(marker.trim())),
            None => (Some(rest), None),
        }
    };
    if let Some(spec) = spec {
        let spec = spec.trim();
        let spec = spec
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or(spec);
        let specifiers: BTreeSet<String> = spec
            .split(',')
            .map(|s| s.chars().filter(|c| !c.is_whitespace()).collect::<String>())
            .filter(|s| !s.is_empty())
            .collect();
        out.push_str(&specifiers.into_iter().collect::<Vec<_>>().join(","));
    }
    if let Some(marker) = marker.filter(|m| !m.is_empty()) {
        out.push_str("; ");
        out.push_str(&marker_text(marker));
    }
    out
}

/// A marker expression parsed the way `packaging` parses it: a flat sequence of atoms joined
/// by `and`/`or`, where a parenthesized atom is a nested sequence.
enum Marker {
    List(Vec<Marker>),
    Item(String),
    Word(&'static str),
}

#[derive(Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Bool(&'static str),
    Op(String),
    Variable(String),
    Value(String),
}

fn marker_tokens(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            tokens.push(Token::Open);
            i += 1;
        } else if c == ')' {
            tokens.push(Token::Close);
            i += 1;
        } else if c == '\'' || c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|&q| q == c)
                .map_or(chars.len(), |p| i + 1 + p);
            tokens.push(Token::Value(chars[i + 1..end].iter().collect()));
            i = end + 1;
        } else if "<>=!~".contains(c) {
            let end = chars[i..]
                .iter()
                .position(|c| !"<>=!~".contains(*c))
                .map_or(chars.len(), |p| i + p);
            tokens.push(Token::Op(chars[i..end].iter().collect()));
            i = end;
        } else {
            let end = chars[i..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
                .map_or(chars.len(), |p| i + p.max(1));
            let word: String = chars[i..end].iter().collect();
            i = end;
            match word.as_str() {
                "and" => tokens.push(Token::Bool("and")),
                "or" => tokens.push(Token::Bool("or")),
                "in" => {
                    if tokens.last() == Some(&Token::Op("not".to_string())) {
                        tokens.pop();
                        tokens.push(Token::Op("not in".to_string()));
                    } else {
                        tokens.push(Token::Op("in".to_string()));
                    }
                }
                "not" => tokens.push(Token::Op("not".to_string())),
                "python_implementation" | "platform.python_implementation" => tokens.push(
                    Token::Variable("platform_python_implementation".to_string()),
                ),
                _ => tokens.push(Token::Variable(word.replace('.', "_"))),
            }
        }
    }
    tokens
}

fn parse_marker(tokens: &[Token], pos: &mut usize) -> Vec<Marker> {
    let mut list = vec![parse_atom(tokens, pos)];
    while let Some(Token::Bool(op)) = tokens.get(*pos) {
        *pos += 1;
        list.push(Marker::Word(op));
        list.push(parse_atom(tokens, pos));
    }
    list
}

fn parse_atom(tokens: &[Token], pos: &mut usize) -> Marker {
    if tokens.get(*pos) == Some(&Token::Open) {
        *pos += 1;
        let inner = parse_marker(tokens, pos);
        if tokens.get(*pos) == Some(&Token::Close) {
            *pos += 1;
        }
        return Marker::List(inner);
    }
    let mut item: Vec<&Token> = Vec::new();
    while let Some(token) = tokens.get(*pos) {
        if matches!(token, Token::Bool(_) | Token::Close | Token::Open) || item.len() == 3 {
            break;
        }
        item.push(token);
        *pos += 1;
    }
    // `extra` values compare normalized.
    let is_extra = item
        .iter()
        .any(|t| matches!(t, Token::Variable(v) if v == "extra"));
    let parts: Vec<String> = item
        .iter()
        .map(|token| match token {
            Token::Variable(v) | Token::Op(v) => v.clone(),
            Token::Value(v) if is_extra => format!("\"{}\"", ferry_input::normalize_name(v)),
            Token::Value(v) => format!("\"{v}\""),
            Token::Open | Token::Close | Token::Bool(_) => String::new(),
        })
        .collect();
    Marker::Item(parts.join(" "))
}

fn format_marker(marker: &Marker, first: bool) -> String {
    match marker {
        // A sequence of one atom is printed as that atom, without parentheses.
        Marker::List(items)
            if items.len() == 1 && matches!(items[0], Marker::List(_) | Marker::Item(_)) =>
        {
            format_marker(&items[0], true)
        }
        Marker::List(items) => {
            let inner: Vec<String> = items.iter().map(|m| format_marker(m, false)).collect();
            if first {
                inner.join(" ")
            } else {
                format!("({})", inner.join(" "))
            }
        }
        Marker::Item(text) => text.clone(),
        Marker::Word(word) => (*word).to_string(),
    }
}

/// A marker as `packaging` prints it.
pub fn marker_text(marker: &str) -> String {
    let tokens = marker_tokens(marker);
    let mut pos = 0;
    format_marker(&Marker::List(parse_marker(&tokens, &mut pos)), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_requirements_print_like_packaging() {
        assert_eq!(requirement_text("Foo_Bar >= 1.0 , <2"), "Foo_Bar<2,>=1.0");
        assert_eq!(requirement_text("foo (>=1.0)"), "foo>=1.0");
        assert_eq!(requirement_text("foo[b, a]==1"), "foo[a,b]==1");
        assert_eq!(
            requirement_text("foo>=1; python_version>='3.8'"),
            "foo>=1; python_version >= \"3.8\""
        );
        assert_eq!(
            requirement_text("foo @ https://example.invalid/f.whl ; os.name == 'posix'"),
            "foo@ https://example.invalid/f.whl ; os_name == \"posix\""
        );
    }

    #[test]
    fn inspect_markers_print_like_packaging() {
        assert_eq!(
            marker_text("(python_version<'3.8' or sys_platform=='win32') and extra=='Test_X'"),
            "(python_version < \"3.8\" or sys_platform == \"win32\") and extra == \"test-x\""
        );
        assert_eq!(
            marker_text("(python_version < '3')"),
            "python_version < \"3\""
        );
        assert_eq!(
            marker_text("a == '1' and (b == '2')"),
            "a == \"1\" and b == \"2\""
        );
        assert_eq!(
            marker_text("'linux' not  in sys_platform"),
            "\"linux\" not in sys_platform"
        );
        // packaging drops the parentheses of a doubly parenthesized group.
        assert_eq!(
            marker_text("python_version>'3' and ((os_name=='a' or os_name=='b'))"),
            "python_version > \"3\" and os_name == \"a\" or os_name == \"b\""
        );
        assert_eq!(
            marker_text("python_implementation == 'CPython'"),
            "platform_python_implementation == \"CPython\""
        );
    }
}
