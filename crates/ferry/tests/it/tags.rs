//! Wheel tags computed by ferry equal `packaging.tags.sys_tags()` for every installed CPython.

use std::process::Command;

use ferry_test::pythons;

use crate::common::{ctx, packaging_for};

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn tags_match_packaging_for_every_installed_cpython() {
    let all = pythons::all();
    assert!(!all.is_empty(), "no CPython installed");
    let ctx = ctx();
    for python in &all {
        let out = ctx
            .run(
                ctx.ferry(["python", "find", "--json", "--tags"])
                    .arg(&python.path),
            )
            .success();
        let info: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
        let ours: Vec<String> = serde_json::from_value(info["supported_tags"].clone()).unwrap();

        let packaging = packaging_for(python);
        let theirs = Command::new(&python.path)
            .args([
                "-c",
                "from packaging import tags\nfor t in tags.sys_tags(): print(t)",
            ])
            .env("PYTHONPATH", &packaging)
            .output()
            .unwrap();
        assert!(
            theirs.status.success(),
            "{}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        let theirs: Vec<String> = String::from_utf8_lossy(&theirs.stdout)
            .lines()
            .map(str::to_string)
            .collect();

        assert!(
            theirs.len() > 10,
            "packaging listed too few tags for {}",
            python.version
        );
        assert_same_tags(&ours, &theirs, &format!("Python {}", python.version));
    }
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn retargeted_tags_match_packaging_for_other_platforms() {
    let ctx = ctx();
    let newest = pythons::all()
        .into_iter()
        .rfind(|p| p.major_minor >= (3, 9))
        .expect("a CPython 3.9+");
    let packaging = packaging_for(&newest);
    for (platform, platforms) in [
        ("windows", "['win_amd64']"),
        (
            "aarch64-apple-darwin",
            "list(tags.mac_platforms((11, 0), 'arm64'))",
        ),
        (
            "x86_64-apple-darwin",
            "list(tags.mac_platforms((10, 12), 'x86_64'))",
        ),
    ] {
        let out = ctx
            .run(
                ctx.ferry([
                    "python",
                    "find",
                    "--json",
                    "--tags",
                    "--python-version",
                    "3.12",
                    "--python-platform",
                    platform,
                ])
                .arg(&newest.path),
            )
            .success();
        let info: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
        let ours: Vec<String> = serde_json::from_value(info["supported_tags"].clone()).unwrap();
        let script = format!(
            "from packaging import tags\np = {platforms}\nfor t in list(tags.cpython_tags((3, 12), ['cp312'], p)) + list(tags.compatible_tags((3, 12), 'cp312', p)): print(t)"
        );
        let theirs = Command::new(&newest.path)
            .args(["-c", &script])
            .env("PYTHONPATH", &packaging)
            .output()
            .unwrap();
        assert!(
            theirs.status.success(),
            "{}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        let theirs: Vec<String> = String::from_utf8_lossy(&theirs.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        assert_same_tags(&ours, &theirs, platform);
    }
}

/// Equal tag lists, or a failure that shows only the first difference (the lists are long).
#[track_caller]
fn assert_same_tags(ours: &[String], theirs: &[String], label: &str) {
    let first = ours.iter().zip(theirs).position(|(a, b)| a != b);
    assert!(
        first.is_none() && ours.len() == theirs.len(),
        "{label}: tags differ, first at {first:?}: ours {:?} vs packaging {:?} (lengths {} and {})",
        first.and_then(|i| ours.get(i)),
        first.and_then(|i| theirs.get(i)),
        ours.len(),
        theirs.len()
    );
}
