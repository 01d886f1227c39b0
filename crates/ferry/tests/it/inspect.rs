//! `ferry freeze`, `list`, `show` and `check` on environments with hand-written installed
//! distributions, compared with the environment's own pip on the same environment.

use std::path::{Path, PathBuf};

use ferry_test::{
    pythons, FileOptions, IndexServer, RunOutput, SdistBuilder, TestContext, WheelBuilder,
};

use crate::common::{ctx, python_output};

/// A seeded environment (with pip from ensurepip) on the newest installed CPython.
struct Env {
    python: PathBuf,
    site: PathBuf,
    /// The pip version in it, when it is one whose output ferry matches byte for byte.
    comparable_pip: Option<String>,
}

/// The oldest pip whose output these tests compare with. Older ones print some fields
/// differently (normalized versions in `show` and `list` columns, duplicate `Requires`).
const PIP_COMPARED_FROM: (u32, u32) = (24, 2);

fn seeded_env(ctx: &TestContext) -> Env {
    let python = pythons::venv_capable().pop().expect("an installed CPython");
    ctx.run(
        ctx.ferry(["venv", "--seed", "v", "--python"])
            .arg(&python.path),
    )
    .success();
    let python = ctx.work().join("v/bin/python");
    let site = PathBuf::from(python_output(
        &python,
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
    ));
    let version = python_output(&python, "import pip; print(pip.__version__)");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major_minor = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    let comparable_pip = if major_minor >= PIP_COMPARED_FROM {
        Some(version)
    } else {
        eprintln!("pip {version} is older than the pip these tests compare with; comparing only with fixed expectations");
        None
    };
    Env {
        python,
        site,
        comparable_pip,
    }
}

fn write_dist(site: &Path, dir: &str, files: &[(&str, &str)]) {
    let dir = site.join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// Installed distributions covering what the commands read: metadata with multi-line and
/// trailing-blank values, dependencies with markers, extras and version ranges (one of them
/// broken, one missing), a direct URL install, an editable install, an egg-info with
/// `requires.txt` and `installed-files.txt`, a version that is not normalized, a package without
/// RECORD and a wheel built for another platform.
fn populate(site: &Path, project: &Path) {
    std::fs::create_dir_all(project).unwrap();
    write_dist(
        site,
        "Demo_Pkg-1.0.dist-info",
        &[
            (
                "METADATA",
                "Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.0\nSummary: A demo  \n\
                 Home-page: https://example.invalid/demo\nAuthor: Ann\n\
                 Author-email: ann@example.invalid\nLicense: MIT\n        second line\n\
                 Classifier: Programming Language :: Python\n\
                 Requires-Dist: requests-lite >=2.0\nRequires-Dist: Click\n\
                 Requires-Dist: colorama ; sys_platform == \"win32\"\n\
                 Requires-Dist: pytest ; extra == \"test\"\nRequires-Dist: missing_dep>=1\n\
                 Requires-Dist: Click\nProvides-Extra: test\n\nLong description\n",
            ),
            (
                "RECORD",
                "demo_pkg/__init__.py,sha256=abc,10\ndemo_pkg/./sub//x.py,,\n\
                 Demo_Pkg-1.0.dist-info/METADATA,,\n\"Demo_Pkg-1.0.dist-info/RECORD\",,\n\
                 ../../../bin/demo,,\n",
            ),
            ("INSTALLER", "ferry\n"),
            ("WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n"),
            (
                "entry_points.txt",
                "[console_scripts]\ndemo = demo_pkg:main\n",
            ),
        ],
    );
    write_dist(
        site,
        "requests_lite-1.5.dist-info",
        &[
            (
                "METADATA",
                "Metadata-Version: 2.1\nName: requests-lite\nVersion: 1.5\n\
                 Requires-Dist: idna (<3,>=2.5)\nRequires-Dist: click>=9; python_version >= \"3\"\n\
                 Project-URL: Home-page, https://example.invalid/rl\n",
            ),
            ("RECORD", "requests_lite/__init__.py,,\n"),
        ],
    );
    write_dist(
        site,
        "click-8.1.7.dist-info",
        &[
            (
                "METADATA",
                "Metadata-Version: 2.1\nName: click\nVersion: 8.1.7\n",
            ),
            ("RECORD", "click/__init__.py,,\n"),
            ("WHEEL", "Wheel-Version: 1.0\nTag: cp27-cp27m-win32\n"),
        ],
    );
    write_dist(
        site,
        "direct_pkg-2.0.dist-info",
        &[
            (
                "METADATA",
                "Metadata-Version: 2.1\nName: direct-pkg\nVersion: 2.0\n",
            ),
            ("RECORD", ""),
            (
                "direct_url.json",
                r#"{"url": "file:///srv/dists/direct_pkg-2.0.tar.gz", "archive_info": {"hash": "sha256=0123"}}"#,
            ),
        ],
    );
    write_dist(
        site,
        "editable_pkg-0.1.dist-info",
        &[
            (
                "METADATA",
                "Metadata-Version: 2.1\nName: editable-pkg\nVersion: 0.1\nRequires-Dist: demo-pkg\n",
            ),
            ("RECORD", "editable_pkg-0.1.dist-info/METADATA,,\n"),
            (
                "direct_url.json",
                &format!(
                    r#"{{"url": "file://{}", "dir_info": {{"editable": true}}}}"#,
                    project.display()
                ),
            ),
        ],
    );
    write_dist(
        site,
        "legacy_egg-0.5-py3.egg-info",
        &[
            (
                "PKG-INFO",
                "Metadata-Version: 1.0\nName: legacy-egg\nVersion: 0.5\nSummary: Old style\n",
            ),
            (
                "requires.txt",
                "click>=7\n\n[test]\npytest\n\n[:python_version < \"3\"]\nsix\n",
            ),
            (
                "installed-files.txt",
                "../legacy_egg/__init__.py\nPKG-INFO\n../../../../bin/legacy\n",
            ),
        ],
    );
    write_dist(
        site,
        "Zeta.Pkg-3.0.0-rc1.dist-info",
        &[(
            "METADATA",
            "Metadata-Version: 2.1\nName: Zeta.Pkg\nVersion: 3.0.0-rc1\n",
        )],
    );
}

/// Runs `pip ARGS` (no index, no version check) in the environment.
fn pip(ctx: &TestContext, env: &Env, args: &[&str]) -> RunOutput {
    ctx.run(
        ctx.command(&env.python)
            .args(["-m", "pip"])
            .args(args)
            .env("PIP_NO_INDEX", "1"),
    )
}

/// Runs `ferry ARGS --python ENV`.
fn ferry(ctx: &TestContext, env: &Env, args: &[&str]) -> RunOutput {
    ctx.run(ctx.ferry(args).arg("--python").arg(&env.python))
}

/// Asserts that ferry prints what pip prints (stdout) and exits as pip does, when the
/// environment's pip is one ferry follows; returns ferry's run either way.
/// ferry's output without what it adds after pip's fields: `show`'s `Source:` lines (each
/// the last line of its package's block) and `list --format json`'s `source` objects (each
/// the last key of its package's object).
fn without_sources(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("Source: ") {
            let next = lines.get(i + 1).copied();
            assert!(
                next.is_none() || next == Some("---"),
                "a Source: line is not the last of its block:\n{text}"
            );
            continue;
        }
        kept.push(*line);
    }
    let mut out = kept.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    while let Some(at) = out.find(", \"source\": {") {
        let end = out[at..].find('}').expect("a closing brace") + at + 1;
        assert!(
            out[end..].starts_with('}'),
            "a source object is not the last key of its package:\n{text}"
        );
        out.replace_range(at..end, "");
    }
    out
}

#[track_caller]
fn same_as_pip(ctx: &TestContext, env: &Env, args: &[&str]) -> RunOutput {
    let ours = ferry(ctx, env, args);
    if let Some(version) = &env.comparable_pip {
        let theirs = pip(ctx, env, args);
        assert_eq!(
            without_sources(&ours.stdout()),
            theirs.stdout(),
            "`{}`: ferry and pip {version} differ\n--- ferry stderr ---\n{}\n--- pip stderr ---\n{}",
            args.join(" "),
            ours.stderr(),
            theirs.stderr()
        );
        assert_eq!(
            ours.code(),
            theirs.code(),
            "`{}`: exit codes differ",
            args.join(" ")
        );
    }
    ours
}

#[test]
fn inspect_freeze_matches_pip() {
    let ctx = ctx();
    let env = seeded_env(&ctx);
    let project = ctx.root().join("project");
    populate(&env.site, &project);

    for args in [
        &["freeze"][..],
        &["freeze", "--all"],
        &["freeze", "--exclude", "CLICK", "--exclude", "zeta_pkg"],
        &["freeze", "--exclude-editable"],
    ] {
        same_as_pip(&ctx, &env, args).success();
    }

    let out = ferry(&ctx, &env, &["freeze", "--exclude", "setuptools"]).success();
    assert_eq!(
        out.stdout(),
        format!(
            "click==8.1.7\n\
             Demo_Pkg==1.0\n\
             direct-pkg @ file:///srv/dists/direct_pkg-2.0.tar.gz#sha256=0123\n\
             # Editable install with no version control (editable-pkg==0.1)\n\
             -e {}\n\
             legacy-egg==0.5\n\
             requests-lite==1.5\n\
             Zeta.Pkg==3.0.0rc1\n",
            project.display()
        )
    );
    // --path reads another directory, here one with nothing in it.
    let empty = ctx.root().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = ctx
        .run(
            ctx.ferry(["freeze", "--path"])
                .arg(&empty)
                .arg("--python")
                .arg(&env.python),
        )
        .success();
    assert_eq!(out.stdout(), "");
}

#[test]
fn inspect_freeze_hides_build_tools_before_python_312() {
    let ctx = ctx();
    let site = ctx.root().join("site");
    for (dir, name, version) in [
        ("pip-24.0.dist-info", "pip", "24.0"),
        ("setuptools-69.0.dist-info", "setuptools", "69.0"),
        ("wheel-0.42.dist-info", "wheel", "0.42"),
        ("foo-1.0.dist-info", "foo", "1.0"),
    ] {
        write_dist(
            &site,
            dir,
            &[(
                "METADATA",
                &format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
            )],
        );
    }
    let all = pythons::venv_capable();
    let old = all.iter().find(|p| p.major_minor < (3, 12));
    let new = all.iter().find(|p| p.major_minor >= (3, 12));
    if old.is_none() || new.is_none() {
        eprintln!("needs a CPython before 3.12 and one from 3.12 on; checking what is installed");
    }
    for python in old.into_iter().chain(new) {
        let out = ctx
            .run(
                ctx.ferry(["freeze", "--path"])
                    .arg(&site)
                    .arg("--python")
                    .arg(&python.path),
            )
            .success();
        let expected = if python.major_minor < (3, 12) {
            "foo==1.0\n"
        } else {
            "foo==1.0\nsetuptools==69.0\nwheel==0.42\n"
        };
        assert_eq!(out.stdout(), expected, "Python {}", python.version);
        let out = ctx
            .run(
                ctx.ferry(["freeze", "--all", "--path"])
                    .arg(&site)
                    .arg("--python")
                    .arg(&python.path),
            )
            .success();
        assert_eq!(
            out.stdout(),
            "foo==1.0\npip==24.0\nsetuptools==69.0\nwheel==0.42\n"
        );
    }
}

#[test]
fn inspect_list_matches_pip() {
    let ctx = ctx();
    let env = seeded_env(&ctx);
    let project = ctx.root().join("project");
    populate(&env.site, &project);

    for args in [
        &["list"][..],
        &["list", "--format", "json"],
        &["list", "--format=freeze"],
        &["list", "--not-required"],
        &["list", "--not-required", "--exclude", "editable-pkg"],
        &["list", "-e"],
        &["list", "--editable", "--format", "json"],
        &["list", "--exclude-editable", "--format", "json"],
        &["list", "--exclude", "Demo-Pkg", "--exclude", "pip"],
        &["list", "-v"],
        &["list", "-v", "--format", "json"],
    ] {
        same_as_pip(&ctx, &env, args).success();
    }

    let skip = ["--exclude", "pip", "--exclude", "setuptools"];
    let out = ferry(&ctx, &env, &[&["list"][..], &skip].concat()).success();
    let project = project.display().to_string();
    // The last column is as wide as its widest cell.
    let dashes = "-".repeat(project.len().max("Editable project location".len()));
    let expected = format!(
        "Package       Version   Editable project location\n\
         ------------- --------- {dashes}\n\
         click         8.1.7\n\
         Demo_Pkg      1.0\n\
         direct-pkg    2.0\n\
         editable-pkg  0.1       {project}\n\
         legacy-egg    0.5\n\
         requests-lite 1.5\n\
         Zeta.Pkg      3.0.0-rc1\n"
    );
    assert_eq!(out.stdout(), expected);
    let out = ferry(
        &ctx,
        &env,
        &[&["list", "--format", "json", "-e"][..], &skip].concat(),
    )
    .success();
    assert_eq!(
        out.stdout(),
        format!(
            "[{{\"name\": \"editable-pkg\", \"version\": \"0.1\", \"editable_project_location\": \"{project}\", \"source\": {{\"kind\": \"direct\", \"url\": \"file://{project}\", \"editable\": true}}}}]\n"
        )
    );
    let out = ferry(
        &ctx,
        &env,
        &[&["list", "--not-required", "--format=freeze"][..], &skip].concat(),
    )
    .success();
    // Demo_Pkg is required by editable-pkg, click by Demo_Pkg and legacy-egg; requests-lite by
    // Demo_Pkg. The Windows-only colorama and the test extra's pytest do not count.
    assert_eq!(
        out.stdout(),
        "direct-pkg==2.0\neditable-pkg==0.1\nlegacy-egg==0.5\nZeta.Pkg==3.0.0rc1\n"
    );
    // Nothing to list: no output at all, not even a header.
    let out = ferry(&ctx, &env, &["list", "--path", "/nonexistent"]).success();
    assert_eq!(out.stdout(), "");
}

#[test]
fn inspect_show_matches_pip() {
    let ctx = ctx();
    let env = seeded_env(&ctx);
    let project = ctx.root().join("project");
    populate(&env.site, &project);

    let out = same_as_pip(
        &ctx,
        &env,
        &[
            "show",
            "-f",
            "demo-pkg",
            "legacy_egg",
            "ZETA.PKG",
            "nope",
            "editable_pkg",
        ],
    )
    .success();
    assert!(
        out.stderr().contains("WARNING: Package(s) not found: nope"),
        "{}",
        out.stderr()
    );
    same_as_pip(
        &ctx,
        &env,
        &["show", "requests-lite", "click", "direct-pkg", "pip"],
    )
    .success();
    same_as_pip(&ctx, &env, &["show", "-v", "Demo_Pkg", "requests-lite"]).success();
    same_as_pip(&ctx, &env, &["show", "nope", "also-nope"]).failure();
    same_as_pip(&ctx, &env, &["show"]).failure();

    let site = env.site.display();
    let out = ferry(&ctx, &env, &["show", "--files", "demo_pkg", "legacy-egg"]).success();
    assert_eq!(
        out.stdout(),
        format!(
            "Name: Demo_Pkg\n\
             Version: 1.0\n\
             Summary: A demo  \n\
             Home-page: https://example.invalid/demo\n\
             Author: Ann\n\
             Author-email: ann@example.invalid\n\
             License: MIT\n\
             second line\n\
             Location: {site}\n\
             Requires: Click, missing_dep, requests-lite\n\
             Required-by: editable-pkg\n\
             Files:\n\
             \x20 ../../../bin/demo\n\
             \x20 Demo_Pkg-1.0.dist-info/METADATA\n\
             \x20 Demo_Pkg-1.0.dist-info/RECORD\n\
             \x20 demo_pkg/__init__.py\n\
             \x20 demo_pkg/sub/x.py\n\
             ---\n\
             Name: legacy-egg\n\
             Version: 0.5\n\
             Summary: Old style\n\
             Home-page: \n\
             Author: \n\
             Author-email: \n\
             License: \n\
             Location: {site}\n\
             Requires: click\n\
             Required-by: \n\
             Files:\n\
             \x20 ../../../bin/legacy\n\
             \x20 legacy_egg-0.5-py3.egg-info/PKG-INFO\n\
             \x20 legacy_egg/__init__.py\n"
        )
    );
    let out = ferry(&ctx, &env, &["show", "-f", "zeta-pkg", "editable-pkg"]).success();
    assert!(
        out.stdout()
            .contains("Required-by: \nFiles:\nCannot locate RECORD or installed-files.txt\n---\n"),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout().contains(&format!(
            "Location: {site}\nEditable project location: {}\nRequires: demo-pkg\n",
            project.display()
        )),
        "{}",
        out.stdout()
    );
    let out = ferry(&ctx, &env, &["show", "nope"]).failure();
    assert_eq!(out.stdout(), "");
    assert!(out.stderr().contains("WARNING: Package(s) not found: nope"));
}

#[test]
fn inspect_show_prefers_a_license_expression_from_metadata_2_4() {
    let ctx = ctx();
    // show reads the target's own site-packages; an environment without pip will do.
    let python = pythons::venv_capable().pop().expect("an installed CPython");
    ctx.run(ctx.ferry(["venv", "e", "--python"]).arg(&python.path))
        .success();
    let env_python = ctx.work().join("e/bin/python");
    let site = PathBuf::from(python_output(
        &env_python,
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
    ));
    write_dist(
        &site,
        "new-1.0.dist-info",
        &[(
            "METADATA",
            "Metadata-Version: 2.4\nName: new\nVersion: 1.0\nLicense: old text\n\
             License-Expression: MIT OR Apache-2.0\n",
        )],
    );
    write_dist(
        &site,
        "old-1.0.dist-info",
        &[(
            "METADATA",
            "Metadata-Version: 2.3\nName: old\nVersion: 1.0\nLicense: BSD\n\
             License-Expression: MIT\n",
        )],
    );
    let out = ctx
        .run(
            ctx.ferry(["show", "new", "old", "--python"])
                .arg(&env_python),
        )
        .success();
    assert!(
        out.stdout()
            .contains("Author-email: \nLicense-Expression: MIT OR Apache-2.0\nLocation:"),
        "{}",
        out.stdout()
    );
    assert!(
        out.stdout()
            .contains("Author-email: \nLicense: BSD\nLocation:"),
        "{}",
        out.stdout()
    );
}

#[test]
fn inspect_check_matches_pip() {
    let ctx = ctx();
    let env = seeded_env(&ctx);
    let project = ctx.root().join("project");
    populate(&env.site, &project);

    let out = same_as_pip(&ctx, &env, &["check"]).failure();
    // pip reports in the order the file system lists the packages (and so does ferry, to
    // match it); the fixed expectation compares them sorted.
    let mut lines: Vec<String> = out.stdout().lines().map(String::from).collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "click 8.1.7 is not supported on this platform",
            "demo-pkg 1.0 has requirement requests-lite>=2.0, but you have requests-lite 1.5.",
            "demo-pkg 1.0 requires missing-dep, which is not installed.",
            "requests-lite 1.5 has requirement click>=9; python_version >= \"3\", but you have click 8.1.7.",
            "requests-lite 1.5 requires idna, which is not installed.",
        ]
    );

    // Mend everything: the check passes.
    for dir in [
        "Demo_Pkg-1.0.dist-info",
        "requests_lite-1.5.dist-info",
        "editable_pkg-0.1.dist-info",
    ] {
        std::fs::remove_dir_all(env.site.join(dir)).unwrap();
    }
    std::fs::write(
        env.site.join("click-8.1.7.dist-info/WHEEL"),
        "Wheel-Version: 1.0\nTag: py3-none-any\n",
    )
    .unwrap();
    let out = same_as_pip(&ctx, &env, &["check"]).success();
    assert_eq!(out.stdout(), "No broken requirements found.\n");
}

/// An index where `demo` has a newer sdist-only release (and newer releases that do not
/// count), `other` is current, and `third` has a newer wheel and sdist.
fn outdated_index() -> IndexServer {
    let server = IndexServer::start();
    let wheel = |name: &str, version: &str| WheelBuilder::new(name, version).build();
    server.publish(&wheel("demo", "1.0"));
    server.publish(&wheel("demo", "1.1"));
    server.publish(&SdistBuilder::new("demo", "2.0").build());
    server.publish(&wheel("demo", "3.0b1"));
    server.publish_with(
        &wheel("demo", "2.5"),
        FileOptions {
            yanked: Some(String::new()),
            ..Default::default()
        },
    );
    server.publish(
        &WheelBuilder::new("demo", "2.6")
            .tag("cp311-cp311-win_amd64")
            .build(),
    );
    server.publish(
        &WheelBuilder::new("demo", "4.0")
            .requires_python(">=9")
            .build(),
    );
    server.publish(&wheel("other", "1.0"));
    server.publish(&SdistBuilder::new("other", "1.0").build());
    server.publish(&wheel("third", "0.9"));
    server.publish(&SdistBuilder::new("third", "0.9").build());
    server
}

#[test]
fn inspect_list_outdated_asks_the_index() {
    let ctx = ctx();
    let env = seeded_env(&ctx);
    let server = outdated_index();
    for (name, version) in [("demo", "1.0"), ("other", "1.0"), ("third", "0.5")] {
        write_dist(
            &env.site,
            &format!("{name}-{version}.dist-info"),
            &[(
                "METADATA",
                &format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
            )],
        );
    }
    let url = server.url();
    let compare = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--index-url", &url]);
        let ours = ferry(&ctx, &env, &args).success();
        if let Some(version) = &env.comparable_pip {
            let theirs = ctx
                .run(ctx.command(&env.python).args(["-m", "pip"]).args(&args))
                .success();
            assert_eq!(
                ours.stdout(),
                theirs.stdout(),
                "`{}` vs pip {version}",
                args.join(" ")
            );
        }
        ours
    };
    let out = compare(&["list", "--outdated"]);
    assert_eq!(
        out.stdout(),
        "Package Version Latest Type\n\
         ------- ------- ------ -----\n\
         demo    1.0     2.0    sdist\n\
         third   0.5     0.9    wheel\n"
    );
    let out = compare(&["list", "--outdated", "--format", "json"]);
    assert_eq!(
        out.stdout(),
        "[{\"name\": \"demo\", \"version\": \"1.0\", \"latest_version\": \"2.0\", \"latest_filetype\": \"sdist\"}, \
         {\"name\": \"third\", \"version\": \"0.5\", \"latest_version\": \"0.9\", \"latest_filetype\": \"wheel\"}]\n"
    );
    let out = compare(&["list", "--outdated", "--pre"]);
    assert!(
        out.stdout().contains("demo    1.0     3.0b1  wheel\n"),
        "{}",
        out.stdout()
    );
    let out = compare(&["list", "--uptodate", "--format=freeze"]);
    assert_eq!(out.stdout(), "other==1.0\n");

    let out = ferry(&ctx, &env, &["list", "--outdated", "--uptodate"]).failure();
    assert!(out
        .stderr()
        .contains("Options --outdated and --uptodate cannot be combined."));
    let out = ferry(&ctx, &env, &["list", "--outdated", "--format", "freeze"]).failure();
    assert!(out
        .stderr()
        .contains("List format 'freeze' cannot be used with the --outdated option."));
}

#[test]
fn inspect_matches_pip_inspect() {
    let ctx = ctx();
    let env = seeded_env(&ctx);
    let project = ctx.root().join("project");
    populate(&env.site, &project);
    let ours = ferry(&ctx, &env, &["inspect"]).success().stdout();
    let mut ours: serde_json::Value = serde_json::from_str(&ours).unwrap();
    assert_eq!(ours["version"], "1");
    let sort = |report: &mut serde_json::Value| {
        let installed = report["installed"].as_array_mut().unwrap();
        installed.sort_by_key(|d| d["metadata"]["name"].as_str().unwrap_or("").to_lowercase());
        report["pip_version"] = serde_json::json!("");
    };
    sort(&mut ours);
    let names: Vec<&str> = ours["installed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["metadata"]["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Demo_Pkg") && names.contains(&"editable-pkg"),
        "{names:?}"
    );
    if let Some(version) = &env.comparable_pip {
        // pip learned metadata 2.4's License-Expression and License-File in 25.1.
        let parts: Vec<u32> = version.split('.').filter_map(|p| p.parse().ok()).collect();
        if parts < vec![25, 1] {
            for dist in ours["installed"].as_array_mut().unwrap() {
                let metadata = dist["metadata"].as_object_mut().unwrap();
                metadata.remove("license_file");
                metadata.remove("license_expression");
            }
        }
        let theirs = pip(&ctx, &env, &["inspect"]).success().stdout();
        let mut theirs: serde_json::Value = serde_json::from_str(&theirs).unwrap();
        sort(&mut theirs);
        assert_eq!(ours["environment"], theirs["environment"]);
        let (ours, theirs) = (
            ours["installed"].as_array().unwrap(),
            theirs["installed"].as_array().unwrap(),
        );
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(theirs) {
            assert_eq!(a, b, "{}", a["metadata"]["name"]);
        }
    }
}

#[test]
fn inspect_freeze_following_a_requirements_file_matches_pip() {
    let ctx = ctx();
    let env = seeded_env(&ctx);
    let project = ctx.root().join("project");
    populate(&env.site, &project);
    let file = ctx.work().join("requirements.txt");
    std::fs::write(
        &file,
        "# pinned for production\n-i http://127.0.0.1:9/simple/\nclick>=7\n\n--pre\nDemo-Pkg  # the demo\nnot-installed==1.0\nclick\n-i http://127.0.0.1:9/simple/\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let out = same_as_pip(&ctx, &env, &["freeze", "-r", &path]).success();
    let text = out.stdout();
    assert!(
        text.starts_with("# pinned for production\n-i http://127.0.0.1:9/simple/\nclick==8.1.7\n\n--pre\nDemo_Pkg==1.0\n## The following requirements were added by pip freeze:\n"),
        "{text}"
    );
    let err = out.stderr();
    assert!(
        err.contains("contains not-installed==1.0, but package 'not-installed' is not installed"),
        "{err}"
    );
    assert!(
        err.contains("Requirement click included multiple times"),
        "{err}"
    );
}

#[test]
fn user_site_packages_are_listed_as_pip_lists_them() {
    let ctx = ctx();
    let server = ferry_test::IndexServer::start();
    server.publish(
        &ferry_test::WheelBuilder::new("userpkg", "1.0")
            .file("userpkg.py", "")
            .build(),
    );
    // A system interpreter (not a venv), whose user site is under the test's HOME.
    let python = crate::common::python_with_pip();
    let mut cmd = ctx.ferry([
        "install",
        "--user",
        "userpkg",
        "-i",
        &server.url(),
        "--python",
    ]);
    cmd.arg(&python);
    ctx.run(&mut cmd).success();
    let ferry = |args: &[&str], no_user_site: bool| {
        let mut cmd = ctx.ferry(args);
        cmd.arg("--python").arg(&python);
        if no_user_site {
            cmd.env("PYTHONNOUSERSITE", "1");
        }
        ctx.run(&mut cmd).success().stdout()
    };
    assert_eq!(ferry(&["freeze", "--user"], false), "userpkg==1.0\n");
    let pip = ctx
        .run(ctx.command(&python).args(["-m", "pip", "freeze", "--user"]))
        .success()
        .stdout();
    assert_eq!(pip, "userpkg==1.0\n");
    assert!(ferry(&["freeze"], false).contains("userpkg==1.0"));
    assert!(!ferry(&["freeze"], true).contains("userpkg"));
    assert!(ferry(&["list", "--user", "--format", "freeze"], false).contains("userpkg==1.0"));
    assert!(ferry(&["show", "userpkg"], false).contains("Name: userpkg"));
}

#[test]
fn a_venv_with_system_site_packages_lists_the_base_packages_as_pip_does() {
    let ctx = ctx();
    let base = ferry_test::pythons::with_pip().expect("a CPython with pip");
    let venv = ctx.work().join("env");
    ctx.run(
        ctx.ferry(["venv", "--system-site-packages", "--python"])
            .arg(&base.path)
            .arg(&venv),
    )
    .success();
    let python = venv.join("bin/python");
    let ours = |args: &[&str]| {
        ctx.run(ctx.ferry(args).arg("--python").arg(&venv))
            .success()
            .stdout()
    };
    // pip itself is the base interpreter's, seen through the venv's sys.path.
    let theirs = |args: &[&str]| {
        ctx.run(ctx.command(&python).args(["-m", "pip"]).args(args))
            .success()
            .stdout()
    };
    let all = ours(&["list", "--format", "freeze"]);
    assert!(
        all.lines().any(|l| l.starts_with("pip==")),
        "the base interpreter's pip is listed: {all}"
    );
    assert_eq!(all, theirs(&["list", "--format", "freeze"]));
    assert_eq!(
        ours(&["list", "--format", "freeze", "--local"]),
        theirs(&["list", "--format", "freeze", "--local"])
    );
    assert_eq!(
        ours(&["freeze", "--all", "--local"]).trim(),
        "",
        "the venv has nothing of its own"
    );
    assert_eq!(ours(&["freeze", "--all"]), theirs(&["freeze", "--all"]));

    // Installing: the base's pip satisfies `pip`; a newer one goes into the venv, in front of
    // the base's, which is left alone.
    let wheels = ctx.work().join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    ferry_test::WheelBuilder::new("pip", "999.0")
        .file("pip/__init__.py", "__version__ = '999.0'\n")
        .build()
        .write_to(&wheels);
    let install = |args: &[&str]| {
        ctx.run(
            ctx.ferry(["install", "-v", "--no-index", "-f"])
                .arg(&wheels)
                .args(args)
                .arg("--python")
                .arg(&venv),
        )
        .success()
    };
    let out = install(&["pip"]);
    assert!(
        out.stderr()
            .contains("Requirement already satisfied: pip in")
            && !out.stderr().contains("Successfully installed"),
        "{}",
        out.stderr()
    );
    let base_pip = || {
        python_output(
            &base.path,
            "import pip; print(pip.__version__, pip.__file__)",
        )
    };
    let base_before = base_pip();
    let out = install(&["pip==999.0"]);
    assert!(
        out.stderr().contains("Not uninstalling pip at"),
        "{}",
        out.stderr()
    );
    assert_eq!(
        python_output(&python, "import pip; print(pip.__version__)"),
        "999.0"
    );
    assert_eq!(base_pip(), base_before);
    assert_eq!(ours(&["freeze", "--all", "--local"]).trim(), "pip==999.0");
}
