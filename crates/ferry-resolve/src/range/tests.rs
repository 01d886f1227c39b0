//! The conversion against the reference: `packaging.specifiers` (pip's vendored copy, which
//! needs no network) in a fresh virtual environment, on a table of versions × specifiers.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::str::FromStr;

use ferry_test::pythons;
use pep440_rs::{Version, VersionSpecifiers};

use pubgrub::VersionSet;

use super::{specifiers_to_range, VersionRange};

/// Versions written in normalized form (the script checks), so that `===` compares like
/// values do.
fn versions() -> Vec<String> {
    let bases = ["0.9", "1.0", "1.2", "1.2.3", "1!1.2", "2.0"];
    let suffixes = [
        "",
        "a1",
        "b2",
        "rc1",
        "rc1.post1",
        ".dev0",
        ".dev3",
        "a1.dev1",
        ".post0",
        ".post1",
        ".post2",
        ".post1.dev0",
        ".post1.dev1",
        ".post2.dev1",
        "+local",
        "+abc.7",
        "+0",
        "a1+loc",
        "b2.post1+x",
        ".dev1+loc",
        ".post1+local",
        ".post2.dev1+l",
    ];
    let mut versions: Vec<String> = bases
        .iter()
        .flat_map(|b| suffixes.iter().map(move |s| format!("{b}{s}")))
        .collect();
    versions.extend(
        [
            "1.2.0",
            "1.2.0+x",
            "1.2.0a1",
            "1.2.3.4",
            "1.2.3.4+y",
            "1.3",
            "1.3.dev0",
            "1.10",
            "1!0.5",
            "1!2.0",
            "1.2a10",
            "1.2b1",
            "1.2rc1.dev2",
            "1.2a1.post1",
            "0.0.1",
        ]
        .map(String::from),
    );
    versions
}

fn specifiers() -> Vec<String> {
    let operators = ["==", "!=", "<", "<=", ">", ">=", "~=", "==="];
    let operands = [
        "1.2",
        "1.2.3",
        "1.2.0",
        "1.2a1",
        "1.2b2.post1",
        "1.2rc1.dev2",
        "1.2.dev0",
        "1.2.post0",
        "1.2.post1",
        "1.2.post2.dev1",
        "1!1.2",
        "0.9",
        "2.0",
    ];
    let mut specifiers: Vec<String> = operators
        .iter()
        .flat_map(|op| operands.iter().map(move |v| format!("{op}{v}")))
        .collect();
    specifiers.extend(
        [
            // Local versions in the specifier: compared exactly.
            "==1.2+local",
            "!=1.2+local",
            "==1.2.3+abc.7",
            "===1.2+local",
            // Wildcards compare public versions by release prefix. (Not with a trailing zero
            // or an explicit `0!`, which packaging before 22 compared by spelling.)
            "==1.2.*",
            "!=1.2.*",
            "==1.*",
            "!=1.*",
            "==1.2.3.*",
            "!=1.2.3.*",
            "==1!1.*",
            "==2.*",
            // Sets.
            "",
            ">=1.0,<2.0",
            ">1.2a1,!=1.2",
            ">1.2,<=1.2.3",
            "<=1.2.3,>=1.2.3",
            "~=1.2.3,!=1.2.3.post1",
            ">=1.2.dev0,<1.2.post1",
            "<1.2.post2,>1.2a1",
            "!=1.2.*,>=1.0",
            ">0.9,<1!0",
            "<1!1.2,>=1.2.3",
        ]
        .map(String::from),
    );
    specifiers
}

const SCRIPT: &str = r#"
import json, sys
try:
    import packaging
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version
except ImportError:
    from pip._vendor import packaging
    from pip._vendor.packaging.specifiers import SpecifierSet
    from pip._vendor.packaging.version import Version
table = json.load(sys.stdin)
for v in table["versions"]:
    assert str(Version(v)) == v, "not normalized: %s" % v
rows = [
    [SpecifierSet(s).contains(v, prereleases=True) for v in table["versions"]]
    for s in table["specifiers"]
]
json.dump({"packaging": packaging.__version__, "rows": rows}, sys.stdout)
"#;

/// A virtual environment of `python` in `dir`; its interpreter.
fn venv(python: &std::path::Path, dir: &std::path::Path) -> PathBuf {
    let out = Command::new(python)
        .args(["-m", "venv"])
        .arg(dir)
        .output()
        .expect("run python -m venv");
    assert!(
        out.status.success(),
        "python -m venv failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("bin").join("python")
}

/// What `packaging` says of every cell, and its version.
fn reference(python: &std::path::Path, table: &serde_json::Value) -> (String, Vec<Vec<bool>>) {
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .env("PYTHONNOUSERSITE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(table.to_string().as_bytes())
        .expect("write the table");
    let out = child.wait_with_output().expect("wait for python");
    assert!(
        out.status.success(),
        "the reference script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON answer");
    let version = answer["packaging"].as_str().unwrap_or("?").to_string();
    let rows = answer["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            row.as_array()
                .expect("a row")
                .iter()
                .map(|cell| cell.as_bool().expect("a boolean"))
                .collect()
        })
        .collect();
    (version, rows)
}

/// The interpreters to ask: CPython 3.11 (the project's reference) and the newest one with
/// pip, whose vendored `packaging` may be newer.
fn interpreters() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = pythons::venv_capable()
        .into_iter()
        .filter(|p| p.major_minor == (3, 11))
        .map(|p| p.path)
        .take(1)
        .collect();
    if let Some(newest) = pythons::with_pip() {
        if !found.contains(&newest.path) {
            found.push(newest.path);
        }
    }
    assert!(
        !found.is_empty(),
        "no installed CPython with pip to compare against"
    );
    found
}

#[test]
#[allow(clippy::print_stderr)]
fn specifier_sets_admit_what_packaging_admits() {
    let versions = versions();
    let specifiers = specifiers();
    let table = serde_json::json!({ "versions": versions, "specifiers": specifiers });
    let parsed_versions: Vec<Version> = versions
        .iter()
        .map(|v| Version::from_str(v).unwrap_or_else(|e| panic!("{v}: {e}")))
        .collect();
    let ranges: Vec<VersionRange> = specifiers
        .iter()
        .map(|s| {
            specifiers_to_range(
                &VersionSpecifiers::from_str(s).unwrap_or_else(|e| panic!("{s:?}: {e}")),
            )
        })
        .collect();
    for python in interpreters() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let venv_python = venv(&python, dir.path());
        let (packaging, rows) = reference(&venv_python, &table);
        let mut mismatches = Vec::new();
        let mut compared = 0;
        for (spec, (range, row)) in specifiers.iter().zip(ranges.iter().zip(&rows)) {
            let arbitrary = spec.strip_prefix("===");
            for ((text, version), &expected) in versions.iter().zip(&parsed_versions).zip(row) {
                // `===` compares spellings; versions are values here (`1.2.0` is `1.2`).
                if let Some(operand) = arbitrary {
                    if Version::from_str(operand).is_ok_and(|o| o == *version && operand != text) {
                        continue;
                    }
                }
                compared += 1;
                let ours = range.contains(version);
                if ours != expected {
                    mismatches.push(format!(
                        "  {spec:?} contains {text}: packaging {expected}, ferry {ours} (range {range})"
                    ));
                }
            }
        }
        assert!(
            mismatches.is_empty(),
            "{} of {compared} cells disagree with packaging {packaging} ({}):\n{}",
            mismatches.len(),
            python.display(),
            mismatches.join("\n")
        );
        eprintln!(
            "{compared} cells agree with packaging {packaging} ({})",
            python.display()
        );
    }
}

#[test]
fn ranges_show_as_specifiers() {
    let show = |s: &str| specifiers_to_range(&VersionSpecifiers::from_str(s).unwrap()).to_string();
    let cases = BTreeMap::from([
        ("==1.2", "==1.2"),
        ("!=1.2", "!=1.2"),
        ("<=1.2.3", "<=1.2.3"),
        ("<=1.2.post1", "<=1.2.post1"),
        ("<=1.2a1", "<=1.2a1"),
        (">=1,<2", ">=1, <2"),
        (">=1,<2,!=1.5", ">=1, !=1.5, <2"),
        ("==1.2+cpu", "1.2+cpu"),
        ("===1.2", "1.2"),
        (">1.0", ">1.0"),
        ("<1.0.post2", "<1.0.post2"),
        ("", "*"),
    ]);
    for (spec, shown) in cases {
        assert_eq!(show(spec), shown, "{spec:?}");
    }
}

/// Intersections, unions and complements of the table's sets (kept per class or not) admit
/// exactly what membership in their operands says.
#[test]
fn set_operations_follow_membership() {
    let versions: Vec<Version> = versions()
        .iter()
        .map(|v| Version::from_str(v).unwrap())
        .collect();
    let ranges: Vec<VersionRange> = specifiers()
        .iter()
        .map(|s| specifiers_to_range(&VersionSpecifiers::from_str(s).unwrap()))
        .collect();
    for a in &ranges {
        let not_a = a.complement();
        assert_eq!(&not_a.complement(), a);
        for b in &ranges {
            let both = a.intersection(b);
            let either = VersionSet::union(a, b);
            assert_eq!(VersionSet::is_disjoint(a, b), both == VersionRange::empty());
            assert!(VersionSet::subset_of(&both, a));
            for v in &versions {
                let (in_a, in_b) = (a.contains(v), b.contains(v));
                assert_eq!(both.contains(v), in_a && in_b, "{a} and {b}: {v}");
                assert_eq!(either.contains(v), in_a || in_b, "{a} or {b}: {v}");
                assert_eq!(not_a.contains(v), !in_a, "not {a}: {v}");
            }
        }
    }
}
