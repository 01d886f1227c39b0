//! `ferry install` and `ferry uninstall` end to end, with wheels built in code, a local index,
//! real virtual environments, and pip installing the same wheels for comparison.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ferry_test::{pythons, BuiltFile, Fault, FileOptions, IndexServer, WheelBuilder};

use crate::common::{ctx, install, make_venv, python_output, site_packages, snapshot};

/// A wheel exercising every part of the binary distribution format.
fn demo(version: &str) -> BuiltFile {
    WheelBuilder::new("demo", version)
        .file("demo/__init__.py", format!("VERSION = '{version}'\n"))
        .file("demo/cli.py", "def main():\n    print('demo-cli ok')\n")
        .file(
            &format!("demo/only_in_{}.py", version.replace('.', "_")),
            "",
        )
        .data_file("scripts", "demo-script", "#!python\nprint('script ok')\n")
        .data_file("scripts", "demo-sh", "#!/bin/sh\necho sh ok\n")
        .data_file("data", "share/demo/readme.txt", "data ok\n")
        .data_file("headers", "demo.h", "/* header */\n")
        .data_file("purelib", "demo_extra.py", "EXTRA = 1\n")
        .console_script("demo-cli", "demo.cli:main")
        .gui_script("demo-gui", "demo.cli:main")
        .requires_dist("helper")
        .build()
}

fn helper() -> BuiltFile {
    WheelBuilder::new("helper", "1.0")
        .file("helper.py", "HELP = True\n")
        .build()
}

fn server() -> IndexServer {
    let server = IndexServer::start();
    server.publish(&demo("1.0"));
    server.publish(&demo("2.0"));
    server.publish(&helper());
    server
}

/// RECORD as path → (hash, size).
fn record(site: &Path, dist_info: &str) -> BTreeMap<String, (String, String)> {
    let text = std::fs::read_to_string(site.join(dist_info).join("RECORD")).unwrap();
    text.lines()
        .map(|line| {
            let mut parts = line.rsplitn(3, ',');
            let size = parts.next().unwrap().to_string();
            let hash = parts.next().unwrap().to_string();
            let path = parts.next().unwrap().to_string();
            (path, (hash, size))
        })
        .collect()
}

fn default_python() -> PathBuf {
    pythons::with_pip().expect("a CPython with pip").path
}

#[test]
fn installed_files_and_record_match_pip() {
    let ctx = ctx();
    let server = server();
    let python = default_python();
    let by_pip = make_venv(&ctx, "by-pip", &python, true);
    let by_ferry = make_venv(&ctx, "by-ferry", &python, false);
    let out = ctx.run(ctx.command(by_pip.join("bin/python")).args([
        "-m",
        "pip",
        "install",
        "--no-compile",
        "-q",
        "-i",
        &server.url(),
        "demo==1.0",
    ]));
    let out = out.success();
    drop(out);
    ctx.run(&mut install(&ctx, &by_ferry, &server, &["demo==1.0"]))
        .success()
        .stderr_contains("Successfully installed demo-1.0 helper-1.0");

    let pip_site = site_packages(&by_pip);
    let ferry_site = site_packages(&by_ferry);
    let pip_record = record(&pip_site, "demo-1.0.dist-info");
    let mut ferry_record = record(&ferry_site, "demo-1.0.dist-info");
    // ferry's one addition: PEP 710's record of where the wheel came from.
    assert!(ferry_record
        .remove("demo-1.0.dist-info/provenance_url.json")
        .is_some());
    assert_eq!(
        pip_record.keys().collect::<Vec<_>>(),
        ferry_record.keys().collect::<Vec<_>>(),
        "the same files, at the same RECORD paths"
    );
    for (path, (hash, size)) in &pip_record {
        // Launchers and INSTALLER are each installer's own; the scripts whose `#!python` was
        // rewritten name each venv's own interpreter.
        let own = path.ends_with("/INSTALLER")
            || path.ends_with("bin/demo-cli")
            || path.ends_with("bin/demo-gui")
            || path.ends_with("bin/demo-script");
        if !own {
            assert_eq!(
                (hash, size),
                (&ferry_record[path].0, &ferry_record[path].1),
                "{path}"
            );
        }
    }
    assert!(ferry_record.contains_key("../../../bin/demo-cli"));
    assert!(ferry_record.contains_key("demo-1.0.dist-info/REQUESTED"));
    assert_eq!(
        std::fs::read_to_string(ferry_site.join("demo-1.0.dist-info/INSTALLER")).unwrap(),
        "ferry\n"
    );
    // Only what the user named is REQUESTED.
    assert!(!ferry_site.join("helper-1.0.dist-info/REQUESTED").exists());
    assert!(!ferry_site
        .join("demo-1.0.dist-info/direct_url.json")
        .exists());

    // The same tree outside site-packages (scripts, data, headers) as pip's.
    let outside = |venv: &Path| -> Vec<String> {
        let mut v: Vec<String> = snapshot(venv)
            .into_iter()
            .filter(|p| {
                p.starts_with("share") || p.starts_with("include") || p.starts_with("bin/demo")
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(outside(&by_pip), outside(&by_ferry));

    // Everything runs.
    let run = |program: PathBuf| {
        let out = Command::new(&program).output().unwrap();
        assert!(out.status.success(), "{}", program.display());
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(run(by_ferry.join("bin/demo-cli")), "demo-cli ok");
    assert_eq!(run(by_ferry.join("bin/demo-gui")), "demo-cli ok");
    assert_eq!(run(by_ferry.join("bin/demo-script")), "script ok");
    assert_eq!(run(by_ferry.join("bin/demo-sh")), "sh ok");
    let script = std::fs::read_to_string(by_ferry.join("bin/demo-script")).unwrap();
    assert!(
        script.starts_with(&format!("#!{}\n", by_ferry.join("bin/python").display())),
        "{script}"
    );
    assert_eq!(
        python_output(
            &by_ferry.join("bin/python"),
            "import demo, demo_extra, helper; print(demo.VERSION, demo_extra.EXTRA, helper.HELP)"
        ),
        "1.0 1 True"
    );
    // pip itself reads what ferry installed.
    let check = ctx.run(
        Command::new(by_pip.join("bin/python"))
            .args(["-m", "pip", "--python"])
            .arg(by_ferry.join("bin/python"))
            .args(["show", "-f", "demo"]),
    );
    if check.code() == Some(0) {
        assert!(
            check.stdout().contains("Installer: ferry") || check.stdout().contains("Name: demo")
        );
    }
}

#[test]
fn compile_writes_the_bytecode_pip_writes() {
    let ctx = ctx();
    let server = server();
    let python = default_python();
    let by_pip = make_venv(&ctx, "by-pip", &python, true);
    let by_ferry = make_venv(&ctx, "by-ferry", &python, false);
    ctx.run(ctx.command(by_pip.join("bin/python")).args([
        "-m",
        "pip",
        "install",
        "-q",
        "--compile",
        "-i",
        &server.url(),
        "demo==1.0",
    ]))
    .success();
    ctx.run(&mut install(
        &ctx,
        &by_ferry,
        &server,
        &["--compile", "demo==1.0"],
    ))
    .success();
    let pycs = |venv: &Path| -> Vec<String> {
        record(&site_packages(venv), "demo-1.0.dist-info")
            .into_keys()
            .filter(|p| p.ends_with(".pyc"))
            .collect()
    };
    let ferry_pycs = pycs(&by_ferry);
    assert!(!ferry_pycs.is_empty());
    assert_eq!(pycs(&by_pip), ferry_pycs);
    for pyc in &ferry_pycs {
        assert!(site_packages(&by_ferry).join(pyc).is_file(), "{pyc}");
    }
}

#[test]
fn upgrade_downgrade_and_uninstall_round_trip() {
    let ctx = ctx();
    let server = server();
    for python in pythons::oldest_and_newest()
        .into_iter()
        .filter(|p| p.major_minor >= (3, 3))
    {
        let venv = make_venv(
            &ctx,
            &format!("env-{}", python.version),
            &python.path,
            false,
        );
        let site = site_packages(&venv);
        let before = snapshot(&venv);

        ctx.run(&mut install(&ctx, &venv, &server, &["demo==1.0"]))
            .success();
        assert!(site.join("demo/only_in_1_0.py").is_file());
        // Python writes bytecode on import; uninstall must take it too.
        python_output(&venv.join("bin/python"), "import demo.only_in_1_0");

        ctx.run(&mut install(&ctx, &venv, &server, &["demo==2.0"]))
            .success()
            .stderr_contains("Successfully installed demo-2.0");
        assert!(!site.join("demo/only_in_1_0.py").exists());
        assert!(site.join("demo/only_in_2_0.py").is_file());
        assert!(!site.join("demo-1.0.dist-info").exists());
        assert_eq!(
            python_output(&venv.join("bin/python"), "import demo; print(demo.VERSION)"),
            "2.0"
        );

        ctx.run(&mut install(&ctx, &venv, &server, &["demo==1.0"]))
            .success();
        assert!(site.join("demo-1.0.dist-info").is_dir());
        assert!(!site.join("demo-2.0.dist-info").exists());
        assert!(!site.join("demo/only_in_2_0.py").exists());

        // Already satisfied: nothing changes.
        ctx.run(&mut install(&ctx, &venv, &server, &["demo==1.0"]))
            .success()
            .stderr_contains("Nothing to install");

        let out = ctx
            .run(
                ctx.ferry(["uninstall", "-y", "demo", "helper", "--python"])
                    .arg(&venv),
            )
            .success();
        assert!(out.stderr().contains("Successfully uninstalled demo-1.0"));
        // All gone but, as after pip, the (now empty) headers directory, and ferry's lock at
        // the environment's root (nothing of ferry's in site-packages).
        assert!(venv.join(".ferry-lock").is_file());
        let now: Vec<String> = snapshot(&venv)
            .into_iter()
            .filter(|p| p != ".ferry-lock" && !p.starts_with("include/"))
            .collect();
        let before: Vec<String> = before
            .iter()
            .filter(|p| !p.starts_with("include/"))
            .cloned()
            .collect();
        assert_eq!(now, before, "Python {}", python.version);
        assert!(!venv.join("bin/demo-cli").exists());
    }
}

#[test]
fn reinstall_options() {
    let ctx = ctx();
    let server = server();
    let venv = make_venv(&ctx, "env", &default_python(), false);
    let site = site_packages(&venv);
    ctx.run(&mut install(&ctx, &venv, &server, &["demo==1.0"]))
        .success();
    std::fs::remove_file(site.join("demo/cli.py")).unwrap();
    ctx.run(&mut install(
        &ctx,
        &venv,
        &server,
        &["--reinstall-package", "demo", "demo==1.0"],
    ))
    .success()
    .stderr_contains("Successfully installed demo-1.0");
    assert!(site.join("demo/cli.py").is_file());
    let out = ctx
        .run(&mut install(
            &ctx,
            &venv,
            &server,
            &["--force-reinstall", "demo==1.0"],
        ))
        .success();
    assert!(
        out.stderr().contains("demo-1.0 helper-1.0"),
        "{}",
        out.stderr()
    );
    // -U moves to the newest version; --no-deps leaves dependencies alone.
    ctx.run(&mut install(
        &ctx,
        &venv,
        &server,
        &["-U", "--no-deps", "demo"],
    ))
    .success()
    .stderr_contains("Successfully installed demo-2.0");
}

#[test]
fn a_failed_install_leaves_the_environment_as_it_was() {
    let ctx = ctx();
    let server = server();
    server.publish(
        &WheelBuilder::new("broken", "1.0")
            .file("broken.py", "")
            .console_script("broken", "not a valid target")
            .build(),
    );
    let venv = make_venv(&ctx, "env", &default_python(), false);
    ctx.run(&mut install(&ctx, &venv, &server, &["demo==1.0"]))
        .success();
    let before = snapshot(&venv);
    // demo 2.0 goes in (after 1.0 comes out) before broken fails: all of it is undone.
    ctx.run(&mut install(&ctx, &venv, &server, &["demo==2.0", "broken"]))
        .failure()
        .stderr_contains("entry point");
    assert_eq!(snapshot(&venv), before);
    assert_eq!(
        python_output(&venv.join("bin/python"), "import demo; print(demo.VERSION)"),
        "1.0"
    );
}

#[test]
fn a_killed_install_is_rolled_back_by_the_next_run() {
    let ctx = ctx();
    let server = server();
    let venv = make_venv(&ctx, "env", &default_python(), false);
    ctx.run(&mut install(&ctx, &venv, &server, &["demo==1.0"]))
        .success();
    let before = snapshot(&venv);

    let marker = ctx.root().join("paused");
    let mut child = install(&ctx, &venv, &server, &["demo==2.0"])
        .env("FERRY_TEST_FAULT", "pause-after:demo")
        .env("FERRY_TEST_FAULT_MARKER", &marker)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        assert!(Instant::now() < deadline, "ferry never reached the pause");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // Killed half-way: demo 1.0 is gone and 2.0's files are there, but not its dist-info.
    let site = site_packages(&venv);
    assert!(site.join("demo/only_in_2_0.py").exists());
    assert!(!site.join("demo-2.0.dist-info").exists());
    assert!(!site.join("demo-1.0.dist-info").exists());

    ctx.run(&mut install(&ctx, &venv, &server, &["helper"]))
        .success()
        .stderr_contains("Rolled back 1 interrupted install");
    assert_eq!(snapshot(&venv), before);
    assert_eq!(
        python_output(&venv.join("bin/python"), "import demo; print(demo.VERSION)"),
        "1.0"
    );
}

#[test]
fn bad_wheels_and_bad_hashes_change_nothing() {
    let ctx = ctx();
    let server = server();
    server.publish(
        &WheelBuilder::new("escape", "1.0")
            .file("../evil.py", "")
            .build(),
    );
    server.publish(
        &WheelBuilder::new("future", "1.0")
            .wheel_version("2.0")
            .build(),
    );
    server.publish(
        &WheelBuilder::new("tampered", "1.0")
            .file("tampered.py", "x = 1\n")
            .corrupt_record_row("tampered.py")
            .build(),
    );
    server.publish_with(
        &WheelBuilder::new("lying", "1.0")
            .file("lying.py", "")
            .build(),
        FileOptions {
            wrong_hash: true,
            ..FileOptions::default()
        },
    );
    let venv = make_venv(&ctx, "env", &default_python(), false);
    let before = snapshot(&venv);
    for (name, message) in [
        ("escape", "climbs out with `..`"),
        ("future", "Wheel-Version 2.0 is not supported"),
        (
            "tampered",
            "`tampered.py` is 6 bytes, but its RECORD says 7",
        ),
        ("lying", "hash mismatch for lying"),
    ] {
        ctx.run(&mut install(&ctx, &venv, &server, &[name]))
            .failure()
            .stderr_contains(message);
        // Only the lock beside pyvenv.cfg is new.
        let now: Vec<String> = snapshot(&venv)
            .into_iter()
            .filter(|p| p != ".ferry-lock")
            .collect();
        assert_eq!(now, before, "{name}");
    }
    // Nothing broken reached the store either.
    let archives = ctx.cache_dir().join("archive-v1");
    let stored: Vec<String> = snapshot(&archives)
        .into_iter()
        .filter(|p| !p.contains('/') && !p.ends_with(".json"))
        .collect();
    assert_eq!(stored, Vec::<String>::new(), "{stored:?}");

    // A --hash that does not match the file is refused, one that matches is accepted.
    let reqs = ctx.work().join("reqs.txt");
    std::fs::write(&reqs, "helper==1.0 --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000\n").unwrap();
    ctx.run(&mut install(
        &ctx,
        &venv,
        &server,
        &["-r", reqs.to_str().unwrap()],
    ))
    .failure()
    .stderr_contains("hash mismatch for helper");
    std::fs::write(
        &reqs,
        format!("helper==1.0 --hash=sha256:{}\n", helper().sha256()),
    )
    .unwrap();
    ctx.run(&mut install(
        &ctx,
        &venv,
        &server,
        &["-r", reqs.to_str().unwrap()],
    ))
    .success();
}

#[test]
fn link_modes_and_cache_reuse() {
    let ctx = ctx();
    let server = server();
    let python = default_python();
    let mut inodes = Vec::new();
    for mode in ["hardlink", "copy", "symlink", "clone"] {
        let venv = make_venv(&ctx, mode, &python, false);
        let out = ctx
            .run(&mut install(
                &ctx,
                &venv,
                &server,
                &["-v", "--link-mode", mode, "helper"],
            ))
            .success();
        if mode != "hardlink" {
            // The first install downloaded; every later one links from the store.
            assert!(
                out.stderr()
                    .contains("Using cached helper-1.0 (downloaded from http://127.0.0.1"),
                "{}",
                out.stderr()
            );
        }
        let file = site_packages(&venv).join("helper.py");
        let meta = std::fs::symlink_metadata(&file).unwrap();
        use std::os::unix::fs::MetadataExt;
        match mode {
            "hardlink" => assert!(meta.nlink() >= 2, "hard-linked from the store"),
            "copy" | "clone" => assert_eq!(meta.nlink(), 1),
            _ => assert!(meta.file_type().is_symlink()),
        }
        inodes.push(meta.ino());
        assert_eq!(
            python_output(
                &venv.join("bin/python"),
                "import helper; print(helper.HELP)"
            ),
            "True"
        );
    }
    assert_ne!(inodes[0], inodes[1]);
}

#[test]
fn direct_url_installs_record_pep_610() {
    let ctx = ctx();
    let server = server();
    let venv = make_venv(&ctx, "env", &default_python(), false);
    let wheel = helper();
    let url = server.file_url(&wheel.filename);
    ctx.run(&mut install(
        &ctx,
        &venv,
        &server,
        &[&format!("helper @ {url}")],
    ))
    .success();
    let text =
        std::fs::read_to_string(site_packages(&venv).join("helper-1.0.dist-info/direct_url.json"))
            .unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["url"], url);
    assert_eq!(
        json["archive_info"]["hashes"]["sha256"],
        wheel.sha256(),
        "{text}"
    );
}

#[test]
fn targets_outside_the_environment() {
    let ctx = ctx();
    let server = server();
    let python = default_python();
    let (major, minor) = pythons::with_pip().unwrap().major_minor;
    let run = |args: &[&str]| {
        let mut cmd = ctx.ferry(["install", "-i", &server.url(), "--python"]);
        cmd.arg(&python).args(args).arg("demo==1.0");
        ctx.run(&mut cmd).success()
    };
    let target = ctx.work().join("target");
    run(&["--target", target.to_str().unwrap()]);
    assert!(target.join("demo/__init__.py").is_file());
    assert!(target.join("helper.py").is_file());
    assert!(target.join("bin/demo-cli").is_file());

    let prefix = ctx.work().join("prefix");
    run(&["--prefix", prefix.to_str().unwrap()]);
    let site = prefix.join(format!("lib/python{major}.{minor}/site-packages"));
    assert!(site.join("demo-1.0.dist-info/RECORD").is_file());
    assert!(prefix.join("bin/demo-cli").is_file());
    assert!(prefix.join("share/demo/readme.txt").is_file());

    let root = ctx.work().join("root");
    run(&["--root", root.to_str().unwrap(), "--prefix", "/opt/app"]);
    assert!(root
        .join(format!(
            "opt/app/lib/python{major}.{minor}/site-packages/demo/cli.py"
        ))
        .is_file());

    let userbase = ctx.work().join("userbase");
    ctx.env("PYTHONUSERBASE", &userbase);
    run(&["--user"]);
    assert!(userbase
        .join(format!(
            "lib/python{major}.{minor}/site-packages/demo/cli.py"
        ))
        .is_file());
    assert!(userbase.join("bin/demo-cli").is_file());
}

#[test]
fn without_an_environment_install_creates_dot_venv() {
    let ctx = ctx();
    let server = server();
    let out = ctx
        .run(&mut ctx.ferry(["install", "-i", &server.url(), "helper"]))
        .success();
    assert!(
        out.stderr().contains("created one at .venv"),
        "{}",
        out.stderr()
    );
    assert_eq!(
        python_output(
            &ctx.work().join(".venv/bin/python"),
            "import helper; print(helper.HELP)"
        ),
        "True"
    );
}

#[test]
fn a_second_process_waits_for_the_lock() {
    let ctx = ctx();
    let server = server();
    let venv = make_venv(&ctx, "env", &default_python(), false);
    let site = site_packages(&venv);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(venv.join(".ferry-lock"))
        .unwrap();
    waits_for_the_lock(
        &lock,
        &mut install(&ctx, &venv, &server, &["helper"]),
        &site,
    );

    // A --target directory is locked by flock on the directory itself.
    let target = ctx.work().join("target");
    std::fs::create_dir(&target).unwrap();
    let lock = std::fs::File::open(&target).unwrap();
    let mut cmd = ctx.ferry(["install", "-i", &server.url(), "--python"]);
    cmd.arg(default_python())
        .arg("--target")
        .arg(&target)
        .arg("helper");
    waits_for_the_lock(&lock, &mut cmd, &target);
}

/// Holds `lock` while `cmd` (installing `helper`) starts, checks that it waits and installs
/// nothing into `dir` until the lock is released, then that it finishes.
fn waits_for_the_lock(lock: &std::fs::File, cmd: &mut std::process::Command, dir: &Path) {
    lock.lock().unwrap();
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!dir.join("helper.py").exists(), "installed while locked");
    lock.unlock().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Waiting for another ferry process"),
        "{stderr}"
    );
    assert!(dir.join("helper.py").is_file());
}

/// Paths under `dir` that belong to ferry (lock files, transaction directories).
fn ferry_private(dir: &Path) -> Vec<String> {
    snapshot(dir)
        .into_iter()
        .filter(|p| {
            Path::new(p)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".ferry"))
        })
        .collect()
}

#[test]
fn nothing_of_ferry_is_left_in_site_packages_or_a_target() {
    let ctx = ctx();
    let server = server();
    let python = default_python();
    let venv = make_venv(&ctx, "env", &python, false);
    let site = site_packages(&venv);
    let target = ctx.work().join("target");
    let nothing = Vec::<String>::new();
    let target_install = |args: &[&str]| {
        let mut cmd = ctx.ferry(["install", "-i", &server.url(), "--python"]);
        cmd.arg(&python).arg("--target").arg(&target).args(args);
        cmd
    };

    ctx.run(&mut install(&ctx, &venv, &server, &["demo==1.0"]))
        .success();
    assert_eq!(ferry_private(&site), nothing, "after an install");
    ctx.run(&mut target_install(&["demo==1.0"])).success();
    assert_eq!(ferry_private(&target), nothing, "after a --target install");

    // A failure after files were placed is rolled back, transaction directory and all.
    let before = snapshot(&venv);
    ctx.run(
        install(&ctx, &venv, &server, &["demo==2.0"]).env("FERRY_TEST_FAULT", "fail-after:demo"),
    )
    .failure()
    .stderr_contains("injected failure after placing demo");
    assert_eq!(snapshot(&venv), before);
    assert_eq!(ferry_private(&site), nothing, "after a rolled-back install");
    let before = snapshot(&target);
    ctx.run(target_install(&["--upgrade", "helper"]).env("FERRY_TEST_FAULT", "fail-after:helper"))
        .failure()
        .stderr_contains("injected failure after placing helper");
    assert_eq!(snapshot(&target), before, "a failed --target install");

    ctx.run(
        ctx.ferry(["uninstall", "-y", "demo", "helper", "--python"])
            .arg(&venv),
    )
    .success();
    assert_eq!(ferry_private(&site), nothing, "after an uninstall");
    assert!(
        venv.join(".ferry-lock").is_file(),
        "the lock is at the root"
    );
}

#[test]
fn uninstall_refuses_without_record_and_skips_unknown() {
    let ctx = ctx();
    let server = server();
    let venv = make_venv(&ctx, "env", &default_python(), false);
    ctx.run(&mut install(&ctx, &venv, &server, &["helper"]))
        .success();
    let site = site_packages(&venv);
    std::fs::remove_file(site.join("helper-1.0.dist-info/RECORD")).unwrap();
    ctx.run(
        ctx.ferry(["uninstall", "-y", "helper", "--python"])
            .arg(&venv),
    )
    .failure()
    .stderr_contains("has no RECORD");
    assert!(site.join("helper.py").is_file());
    ctx.run(
        ctx.ferry(["uninstall", "-y", "nothere", "--python"])
            .arg(&venv),
    )
    .success()
    .stderr_contains("Skipping nothere as it is not installed");
}

/// `len` bytes that do not compress, the same on every run (xorshift64*).
fn noise(len: usize, mut state: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Runs `cmd` to the end and returns whether it succeeded, its stderr, and its peak resident
/// set size in KiB (`VmHWM`, the kernel's high-water mark, read until the process exits).
#[cfg(target_os = "linux")]
fn run_with_peak_rss(cmd: &mut Command) -> (bool, String, u64) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
        text
    });
    let mut peak = 0;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file) {
            let hwm = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            peak = peak.max(hwm.unwrap_or(0));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    (status.success(), reader.join().unwrap(), peak)
}

/// Wheels stream to disk and unpack entry by entry: a wheel bigger than the memory ferry is
/// allowed installs, from an index and from a file, with the same small peak RSS, and leaves
/// no download behind. `FERRY_TEST_BIG_WHEEL_MIB` changes the size (default 200).
#[cfg(target_os = "linux")]
#[test]
fn large_wheels_install_in_flat_memory() {
    use sha2::{Digest, Sha256};
    let mib: usize = std::env::var("FERRY_TEST_BIG_WHEEL_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let ctx = ctx();
    let server = IndexServer::start();
    let blob = noise(mib << 20, 0x5eed_f00d_d00d_beef);
    let blob_sha = Sha256::digest(&blob);
    let wheel = WheelBuilder::new("big", "1.0")
        .file("big/__init__.py", "")
        .file("big/blob.bin", &blob)
        .stored()
        .build();
    drop(blob);
    server.publish(&wheel);
    // A server that offers neither a metadata file nor ranges: the resolver downloads the
    // wheel whole to read its METADATA, and the installer unpacks that same download.
    let bare = IndexServer::start();
    let options = FileOptions {
        no_metadata: true,
        ..Default::default()
    };
    bare.publish_with(&wheel, options).set_ranges(false);
    let wheel_path = wheel.write_to(ctx.root());
    let python = default_python();
    let file_url = url::Url::from_file_path(&wheel_path).unwrap();

    for (name, requirement, extra, server) in [
        ("index", "big".to_string(), None, &server),
        (
            "no-ranges",
            "big".to_string(),
            Some("--no-cache-dir"),
            &bare,
        ),
        (
            "file",
            format!("big @ {file_url}"),
            Some("--no-cache-dir"),
            &server,
        ),
    ] {
        let venv = make_venv(&ctx, name, &python, false);
        let mut cmd = install(&ctx, &venv, server, &[&requirement]);
        cmd.args(extra);
        let (ok, stderr, peak_kib) = run_with_peak_rss(&mut cmd);
        assert!(ok, "{stderr}");
        eprintln!(
            "{name}: peak RSS {:.1} MiB installing a {mib} MiB wheel",
            peak_kib as f64 / 1024.0
        );
        let installed = std::fs::read(site_packages(&venv).join("big/blob.bin")).unwrap();
        assert_eq!(installed.len(), mib << 20);
        assert!(
            Sha256::digest(&installed) == blob_sha,
            "{name}: contents differ"
        );
        drop(installed);
        // Held whole, the wheel alone would be `mib` MiB; streamed, ferry stays small.
        assert!(
            peak_kib < 100 * 1024,
            "{name}: peak RSS {peak_kib} KiB for a {mib} MiB wheel"
        );
    }
    // The download went into the store's directory and is gone after unpacking.
    let leftovers: Vec<String> = snapshot(&ctx.cache_dir().join("archive-v1"))
        .into_iter()
        .filter(|p| p.starts_with('.'))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
    assert!(ctx.cache_dir().join("archive-v1").is_dir());
}

/// A wheel the resolver had to download whole for its metadata (no PEP 658 file, no byte
/// ranges) is not downloaded again by the installer: a small one that came back whole from
/// the range request is kept in the cache's downloads bucket (and gone once unpacked), a
/// larger one is unpacked into the store while it downloads. One of them has no hash on the
/// index and one does.
#[test]
fn a_wheel_downloaded_for_its_metadata_is_not_downloaded_twice() {
    let ctx = ctx();
    let server = IndexServer::start();
    let small = WheelBuilder::new("small", "1.0")
        .file("small/__init__.py", "")
        .requires_dist("large")
        .build();
    let large = WheelBuilder::new("large", "1.0")
        .file("large/__init__.py", "")
        .file("large/blob.bin", noise(2 << 20, 0xfeed_5eed_0000_0001))
        .stored()
        .build();
    for (wheel, no_hash) in [(&small, false), (&large, true)] {
        let options = FileOptions {
            no_metadata: true,
            no_hash,
            ..Default::default()
        };
        server.publish_with(wheel, options);
    }
    server.set_ranges(false);
    let whole_gets = |filename: &str| {
        server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(filename) && r.header("range").is_none())
            .count()
    };
    let kept = || snapshot(&ctx.cache_dir().join("downloads-v1"));
    // Each kept file is named by its sha256 under a directory named for its URL.
    let kept_names = || {
        let mut names: Vec<String> = kept()
            .iter()
            .filter_map(|p| p.strip_suffix(".whl")?.rsplit('/').next().map(String::from))
            .collect();
        names.sort();
        names
    };
    let sha = |bytes: &[u8]| -> String {
        use sha2::Digest;
        sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let venv = make_venv(&ctx, "env", &default_python(), false);

    // Resolving alone keeps both wheels: the small file, and the large one unpacked.
    ctx.run(&mut install(&ctx, &venv, &server, &["--dry-run", "small"]))
        .success();
    assert_eq!(kept_names(), vec![sha(&small.bytes)], "{:?}", kept());
    let stored = ctx.cache_dir().join("archive-v1").join(sha(&large.bytes));
    assert!(stored.join("large/blob.bin").is_file());
    let requests = server.requests().len();
    assert_eq!(whole_gets(&large.filename), 1);

    // The install that follows reads the metadata from the cache and the wheels from the
    // kept file and the store: no request for either wheel.
    ctx.run(&mut install(&ctx, &venv, &server, &["small"]))
        .success();
    let wheel_requests = server.requests()[requests..]
        .iter()
        .filter(|r| r.path.ends_with(".whl"))
        .count();
    assert_eq!(wheel_requests, 0, "{:?}", &server.requests()[requests..]);
    assert_eq!(kept(), Vec::<String>::new());
    let site = site_packages(&venv);
    assert_eq!(
        std::fs::read(site.join("large/blob.bin")).unwrap().len(),
        2 << 20
    );

    // With cold caches, one run downloads each wheel once.
    std::fs::remove_dir_all(ctx.cache_dir()).unwrap();
    server.clear_requests();
    let venv = make_venv(&ctx, "env2", &default_python(), false);
    ctx.run(&mut install(&ctx, &venv, &server, &["small"]))
        .success();
    assert_eq!(whole_gets(&large.filename), 1);
    assert!(
        server.count_requests(&small.filename) == 1,
        "{:?}",
        server.requests()
    );
    assert_eq!(kept(), Vec::<String>::new());
}

#[test]
fn wheels_fetched_while_resolving_are_fetched_once_and_only_when_needed() {
    let ctx = ctx();
    let server = IndexServer::start();
    let wheel = |name: &str, version: &str, deps: &[&str]| {
        let mut builder = WheelBuilder::new(name, version).file(&format!("{name}/__init__.py"), "");
        for dep in deps {
            builder = builder.requires_dist(dep);
        }
        builder.build()
    };
    let app2 = wheel("app", "2.0", &["lib==1.0"]);
    let app1 = wheel("app", "1.0", &[]);
    let lib1 = wheel("lib", "1.0", &[]);
    let lib2 = wheel("lib", "2.0", &[]);
    let tool = wheel("tool", "1.0", &["lib"]);
    for file in [&app2, &app1, &lib1, &lib2, &tool] {
        server.publish(file);
    }
    let gets = |file: &BuiltFile| {
        server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(&file.filename))
            .count()
    };
    let venv = make_venv(&ctx, "env", &default_python(), false);
    let site = site_packages(&venv);

    // Pinned and unpinned requirements: every chosen wheel is downloaded exactly once, though
    // its download may start before the resolution ends.
    let mut first = install(&ctx, &venv, &server, &["tool==1.0", "lib==2.0"]);
    ctx.run(first.env("FERRY_LOG", "ferry_install=debug"))
        .success()
        .stderr_contains("fetching tool 1.0 while resolving")
        .stderr_contains("Successfully installed lib-2.0 tool-1.0");
    assert_eq!((gets(&tool), gets(&lib2), gets(&lib1)), (1, 1, 0));

    // What the environment has at the chosen version is not downloaded at all.
    std::fs::remove_dir_all(ctx.cache_dir()).unwrap();
    server.clear_requests();
    ctx.run(&mut install(
        &ctx,
        &venv,
        &server,
        &["tool==1.0", "lib==2.0"],
    ))
    .success();
    assert_eq!((gets(&tool), gets(&lib2)), (0, 0));

    // The resolver first tries app 2.0, whose pin on lib 1.0 conflicts with lib 2.0, and
    // backtracks to app 1.0: that is what gets installed, whatever was fetched early.
    ctx.run(&mut install(&ctx, &venv, &server, &["app", "lib==2.0"]))
        .success()
        .stderr_contains("Successfully installed app-1.0");
    assert_eq!(gets(&app1), 1);
    assert!(gets(&app2) <= 1);
    assert!(site.join("app-1.0.dist-info").is_dir());
    assert!(!site.join("app-2.0.dist-info").exists());
}

#[test]
fn downloads_unpack_as_they_arrive_and_survive_breaks() {
    let ctx = ctx();
    let python = default_python();
    // Bytes that do not compress, so the wheel has a long body to break off.
    let data = noise(600_000, 7);
    let wheel = WheelBuilder::new("streamed", "1.0")
        .file("streamed/__init__.py", "VALUE = 1\n")
        .file("streamed/data.bin", &data)
        .build();
    let path = format!("/files/{}", wheel.filename);
    // A body that breaks off is resumed with a range request where the server offers them,
    // and restarted from its first byte where it does not; the unpacking follows either way.
    for ranges in [true, false] {
        let server = IndexServer::start();
        server.publish(&wheel).set_ranges(ranges);
        // Faults match by substring: the first use is the (shorter, unharmed) PEP 658
        // metadata file, which the resolver reads before the installer asks for the wheel.
        server.fault(Fault::truncate(&path, 250_000).times(2));
        let venv = make_venv(&ctx, &format!("env-{ranges}"), &python, false);
        ctx.run(&mut install(
            &ctx,
            &venv,
            &server,
            &["streamed", "--no-cache-dir"],
        ))
        .success();
        let site = site_packages(&venv);
        assert_eq!(std::fs::read(site.join("streamed/data.bin")).unwrap(), data);
        let gets: Vec<_> = server
            .requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect();
        assert_eq!(gets.len(), 2, "ranges offered: {ranges}");
        // 206: the rest of the body after the break; 200: the whole body again.
        let expected = if ranges { 206 } else { 200 };
        assert_eq!(gets[1].status, Some(expected), "ranges offered: {ranges}");
    }

    // An archive the stream cannot follow (here: bytes before its first entry, which
    // central-directory readers accept) is downloaded whole and read by its directory.
    let mut prefixed = wheel;
    prefixed.filename = "prefixed-1.0-py3-none-any.whl".into();
    prefixed.name = "prefixed".into();
    let plain = WheelBuilder::new("prefixed", "1.0")
        .file("prefixed/__init__.py", "VALUE = 2\n")
        .build();
    prefixed.metadata = plain.metadata.clone();
    prefixed.bytes = b"#!/bin/sh\n".to_vec();
    prefixed.bytes.extend(&plain.bytes);
    let server = IndexServer::start();
    server.publish(&prefixed);
    let venv = make_venv(&ctx, "env-prefixed", &python, false);
    ctx.run(&mut install(&ctx, &venv, &server, &["prefixed"]))
        .success();
    assert_eq!(
        python_output(
            &venv.join("bin/python"),
            "import prefixed; print(prefixed.VALUE)"
        ),
        "2"
    );
    // Nothing half-unpacked is left in the store.
    let leftovers: Vec<String> = snapshot(&ctx.cache_dir().join("archive-v1"))
        .into_iter()
        .filter(|p| p.starts_with(".tmp-") || p.starts_with(".download-"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
}

#[test]
fn hash_checking_mode_needs_pins_and_a_hash_for_every_package_as_pip_does() {
    let ctx = ctx();
    let server = IndexServer::start();
    let app = WheelBuilder::new("hashapp", "1.0")
        .requires_dist("hashdep")
        .build();
    let dep = WheelBuilder::new("hashdep", "2.0").build();
    server.publish(&app);
    server.publish(&dep);
    let env = make_venv(&ctx, "env", &default_python(), false);
    let file = ctx.work().join("req.txt");
    let run = |text: &str| {
        std::fs::write(&file, text).unwrap();
        let mut cmd = install(&ctx, &env, &server, &["-r"]);
        cmd.arg(&file);
        cmd
    };
    // A --hash turns the mode on: `>=` is not a pin.
    let err = ctx
        .run(&mut run(&format!(
            "hashapp>=1 --hash=sha256:{}\n",
            app.sha256()
        )))
        .failure()
        .stderr();
    assert!(
        err.contains("hash-checking mode") && err.contains("pinned") && err.contains("hashapp>=1"),
        "{err}"
    );
    // Pinned, but the dependency has no hash: refused before anything is installed.
    let err = ctx
        .run(&mut run(&format!(
            "hashapp==1.0 --hash=sha256:{}\n",
            app.sha256()
        )))
        .failure()
        .stderr();
    assert!(err.contains("hashdep==2.0"), "{err}");
    assert!(!site_packages(&env).join("hashapp-1.0.dist-info").exists());
    // An editable has no file to hash.
    let project = ferry_test::Project::new("edit", "0.1").write(&ctx.work().join("edit"));
    let mut cmd = install(&ctx, &env, &server, &["--require-hashes", "-e"]);
    cmd.arg(&project);
    let err = ctx.run(&mut cmd).failure().stderr();
    assert!(err.contains("no single file to hash"), "{err}");
    // Everything pinned and hashed: installed.
    ctx.run(&mut run(&format!(
        "hashapp==1.0 --hash=sha256:{}\nhashdep==2.0 --hash=sha256:{}\n",
        app.sha256(),
        dep.sha256()
    )))
    .success()
    .stderr_contains("Successfully installed hashapp-1.0 hashdep-2.0");
}

#[test]
fn uninstall_asks_as_pip_does_on_a_terminal_or_not() {
    let ctx = ctx();
    let server = server();
    let venv = make_venv(&ctx, "env", &default_python(), false);
    ctx.run(&mut install(&ctx, &venv, &server, &["helper"]))
        .success();
    let site = site_packages(&venv);
    let answer = |text: Option<&str>, env: Option<(&str, &str)>| {
        use std::io::Write;
        let mut cmd = ctx.ferry(["uninstall", "helper", "--python"]);
        cmd.arg(&venv)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if let Some(text) = text {
            stdin.write_all(text.as_bytes()).unwrap();
        }
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // No answer (stdin closed): an error that says to give -y; nothing removed.
    let (code, err) = answer(None, None);
    assert!(
        code != Some(0) && err.contains("Proceed (Y/n)?") && err.contains("-y"),
        "{err}"
    );
    assert!(site.join("helper.py").is_file());
    // PIP_NO_INPUT: the same, without waiting for stdin.
    let (code, err) = answer(Some("y\n"), Some(("PIP_NO_INPUT", "1")));
    assert!(code != Some(0) && err.contains("PIP_NO_INPUT"), "{err}");
    assert!(site.join("helper.py").is_file());
    // An answer that is neither is asked again; no keeps everything.
    let (code, err) = answer(Some("maybe\nn\n"), None);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("Your response ('maybe') was not one of the expected responses"),
        "{err}"
    );
    assert!(site.join("helper.py").is_file());
    // An empty answer is yes, as (Y/n) says.
    let (code, err) = answer(Some("\n"), None);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("Successfully uninstalled helper-1.0"), "{err}");
    assert!(!site.join("helper.py").exists());
}

#[test]
fn install_output_raw_progress_satisfied_lines_and_color() {
    let ctx = ctx();
    let server = server();
    let venv = make_venv(&ctx, "env", &default_python(), false);
    let out = ctx
        .run(&mut install(
            &ctx,
            &venv,
            &server,
            &["demo==1.0", "--progress-bar", "raw"],
        ))
        .success()
        .stderr();
    // pip's raw lines: bytes of each download so far, of its length; each ends at its length.
    let lines: Vec<(u64, u64)> = out
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("Progress ")?;
            let (done, total) = rest.split_once(" of ")?;
            Some((done.parse().ok()?, total.parse().ok()?))
        })
        .collect();
    assert!(!lines.is_empty(), "{out}");
    assert!(lines.iter().all(|(done, total)| done <= total), "{out}");
    let finished: Vec<u64> = lines
        .iter()
        .filter(|(done, total)| done == total)
        .map(|(_, total)| *total)
        .collect();
    let mut sizes = vec![demo("1.0").bytes.len() as u64, helper().bytes.len() as u64];
    sizes.sort();
    let mut finished = finished;
    finished.sort();
    assert_eq!(finished, sizes, "{out}");
    // Kept as installed: pip's line, at -v.
    let out = ctx
        .run(&mut install(&ctx, &venv, &server, &["demo==1.0", "-v"]))
        .success()
        .stderr();
    assert!(
        out.contains("Requirement already satisfied: demo in "),
        "{out}"
    );
    assert!(
        out.contains("Requirement already satisfied: helper in "),
        "{out}"
    );
    // PIP_PROGRESS_BAR=off is read as pip's option; no bar off a terminal either way.
    let mut cmd = install(&ctx, &venv, &server, &["demo==1.0", "--force-reinstall"]);
    cmd.env("PIP_PROGRESS_BAR", "off");
    let out = ctx.run(&mut cmd).success().stderr();
    assert!(!out.contains("Progress "), "{out}");
    let mut cmd = install(&ctx, &venv, &server, &["demo==1.0"]);
    cmd.env("PIP_PROGRESS_BAR", "sideways");
    ctx.run(&mut cmd).failure().stderr_contains("sideways");
    // --color always colors warnings even off a terminal; never does not. (A missing
    // find-links directory is a warning.)
    let warn = |when: &str| {
        let mut cmd = ctx.ferry([
            "install",
            "--color",
            when,
            "--no-index",
            "-f",
            "/no/such/dir",
            "--python",
        ]);
        cmd.arg(&venv).arg("nothing-here");
        ctx.run(&mut cmd).failure().stderr()
    };
    let colored = warn("always");
    assert!(
        colored.contains("/no/such/dir") && colored.contains('\u{1b}'),
        "{colored}"
    );
    let plain = warn("never");
    assert!(
        plain.contains("/no/such/dir") && !plain.contains('\u{1b}'),
        "{plain}"
    );
}

#[test]
fn ignore_requires_python_admits_what_requires_python_excludes() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish(
        &WheelBuilder::new("futurepy", "1.0")
            .requires_python(">=3.99")
            .file("futurepy.py", "")
            .build(),
    );
    let venv = make_venv(&ctx, "env", &default_python(), false);
    ctx.run(&mut install(&ctx, &venv, &server, &["futurepy"]))
        .failure()
        .stderr_contains("futurepy");
    ctx.run(&mut install(
        &ctx,
        &venv,
        &server,
        &["futurepy", "--ignore-requires-python"],
    ))
    .success()
    .stderr_contains("Successfully installed futurepy-1.0");
    // pip's variable too.
    let other = make_venv(&ctx, "other", &default_python(), false);
    let mut cmd = install(&ctx, &other, &server, &["futurepy"]);
    cmd.env("PIP_IGNORE_REQUIRES_PYTHON", "1");
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Successfully installed futurepy-1.0");
}

#[test]
fn warnings_for_scripts_off_path_and_for_broken_dependencies_as_pip_gives_them() {
    let ctx = ctx();
    let wheels = ctx.work().join("wheels");
    std::fs::create_dir_all(&wheels).unwrap();
    for file in [
        WheelBuilder::new("tool", "1.0")
            .file("tool/__init__.py", "def main(): pass\n")
            .console_script("tool-b", "tool:main")
            .console_script("tool-a", "tool:main")
            .build(),
        WheelBuilder::new("foo", "1.0")
            .file("foo/__init__.py", "")
            .requires_dist("bar<2")
            .requires_dist("baz")
            .build(),
        WheelBuilder::new("bar", "1.0")
            .file("bar/__init__.py", "")
            .build(),
        WheelBuilder::new("bar", "2.0")
            .file("bar/__init__.py", "")
            .build(),
        WheelBuilder::new("baz", "1.0")
            .file("baz/__init__.py", "")
            .build(),
    ] {
        file.write_to(&wheels);
    }
    let ferry_install = |env: &Path, args: &[&str]| {
        let mut cmd = ctx.ferry(["install", "--no-index", "-f"]);
        cmd.arg(&wheels).arg("--python").arg(env).args(args);
        cmd
    };
    let venv = make_venv(&ctx, "env", &pythons::newest().path, true);

    // Scripts: into a venv, whose bin holds the interpreter, no warning; into a --prefix that
    // is not on PATH, one naming both scripts; none when silenced or when PATH has the dir.
    let out = ctx.run(&mut ferry_install(&venv, &["tool"])).success();
    assert!(!out.stderr().contains("not on PATH"), "{}", out.stderr());
    let prefix = ctx.work().join("prefix");
    let out = ctx
        .run(ferry_install(&venv, &["tool", "--prefix"]).arg(&prefix))
        .success();
    let line = format!(
        "The scripts tool-a and tool-b are installed in '{}' which is not on PATH",
        prefix.join("bin").display()
    );
    assert!(out.stderr().contains(&line), "{}", out.stderr());
    for (args, path) in [
        (vec!["--no-warn-script-location"], None),
        (vec![], Some(prefix.join("bin"))),
    ] {
        std::fs::remove_dir_all(&prefix).unwrap();
        let mut cmd = ferry_install(&venv, &["tool", "--prefix"]);
        cmd.arg(&prefix).args(&args);
        if let Some(dir) = path {
            cmd.env("PATH", dir);
        }
        let out = ctx.run(&mut cmd).success();
        assert!(!out.stderr().contains("not on PATH"), "{}", out.stderr());
    }

    // Conflicts: bar==2 breaks foo's bar<2, and baz is gone; the lines are pip's, for the
    // same steps in a twin venv.
    let twin = make_venv(&ctx, "twin", &pythons::newest().path, true);
    let conflicts = |stderr: &str| -> Vec<String> {
        stderr
            .lines()
            .filter(|l| l.contains(" requires "))
            .map(|l| l.trim_start_matches("ERROR: ").to_string())
            .collect()
    };
    ctx.run(&mut ferry_install(&venv, &["foo"])).success();
    ctx.run(ctx.ferry(["uninstall", "-y", "baz", "--python"]).arg(&venv))
        .success();
    let ours = ctx.run(&mut ferry_install(&venv, &["bar==2"])).success();
    let pip = |args: &[&str]| {
        let mut cmd = ctx.command(twin.join("bin/python"));
        cmd.args(["-m", "pip", "install", "--no-index", "-f"])
            .arg(&wheels)
            .args(args);
        ctx.run(&mut cmd).success()
    };
    pip(&["foo"]);
    ctx.run(
        ctx.command(twin.join("bin/python"))
            .args(["-m", "pip", "uninstall", "-y", "baz"]),
    )
    .success();
    let theirs = pip(&["bar==2"]);
    assert_eq!(
        conflicts(&ours.stderr()),
        [
            "foo 1.0 requires baz, which is not installed.",
            "foo 1.0 requires bar<2, but you have bar 2.0 which is incompatible."
        ]
    );
    assert_eq!(conflicts(&ours.stderr()), conflicts(&theirs.stderr()));
    // Silenced, and only about what the install touched.
    let out = ctx
        .run(&mut ferry_install(
            &venv,
            &["bar==1", "--no-warn-conflicts"],
        ))
        .success();
    assert!(conflicts(&out.stderr()).is_empty(), "{}", out.stderr());
    let out = ctx
        .run(&mut ferry_install(&venv, &["tool", "--force-reinstall"]))
        .success();
    assert!(conflicts(&out.stderr()).is_empty(), "{}", out.stderr());
}

#[test]
fn what_is_installed_satisfies_requirements_without_the_index_as_in_pip() {
    let ctx = ctx();
    let server = server();
    let venv = make_venv(&ctx, "env", &default_python(), false);
    ctx.run(&mut install(&ctx, &venv, &server, &["demo==1.0"]))
        .success();
    // With no index at all, installed requirements are satisfied (their dependencies read from
    // the installed metadata); pip says the same.
    let out = ctx
        .run(
            ctx.ferry(["install", "-v", "--no-index", "demo", "helper", "--python"])
                .arg(&venv),
        )
        .success();
    assert!(
        out.stderr()
            .contains("Requirement already satisfied: demo in")
            && out.stderr().contains("Nothing to install"),
        "{}",
        out.stderr()
    );
    // From an index: a satisfied requirement asks nothing about itself.
    server.clear_requests();
    ctx.run(&mut install(&ctx, &venv, &server, &["demo"]))
        .success();
    assert_eq!(server.count_requests("/simple/demo/"), 0);
    assert_eq!(server.count_requests("/simple/helper/"), 0);
    // A requirement the installed version does not meet goes to the index, and so does -U.
    ctx.run(&mut install(&ctx, &venv, &server, &["demo>=2"]))
        .success();
    assert_eq!(
        python_output(&venv.join("bin/python"), "import demo; print(demo.VERSION)"),
        "2.0"
    );
    ctx.run(&mut install(&ctx, &venv, &server, &["demo==1.0"]))
        .success();
    ctx.run(&mut install(&ctx, &venv, &server, &["-U", "demo"]))
        .success();
    assert_eq!(
        python_output(&venv.join("bin/python"), "import demo; print(demo.VERSION)"),
        "2.0"
    );
    // A dependency the installed package declares but that is missing is installed.
    ctx.run(
        ctx.ferry(["uninstall", "-y", "helper", "--python"])
            .arg(&venv),
    )
    .success();
    let out = ctx
        .run(&mut install(&ctx, &venv, &server, &["demo"]))
        .success();
    assert!(
        out.stderr().contains("Successfully installed helper-1.0"),
        "{}",
        out.stderr()
    );
}

#[test]
fn files_for_another_interpreter_go_only_into_a_target_as_in_pip() {
    let ctx = ctx();
    let server = IndexServer::start();
    for tag in ["cp312-cp312-win_amd64", "cp39-cp39-manylinux2014_x86_64"] {
        server.publish(
            &WheelBuilder::new("native", "1.0")
                .tag(tag)
                .root_is_purelib(false)
                .file("native/__init__.py", format!("TAG = '{tag}'\n"))
                .build(),
        );
    }
    server.publish(&ferry_test::SdistBuilder::new("native", "1.0").build());
    let venv = make_venv(&ctx, "env", &default_python(), false);
    let target = ctx.work().join("target");
    let windows = [
        "--platform",
        "win_amd64",
        "--python-version",
        "312",
        "--only-binary",
        ":all:",
    ];
    // Into the environment: refused, and nothing changes.
    let before = snapshot(&venv);
    let out = ctx
        .run(&mut install(
            &ctx,
            &venv,
            &server,
            &[&["native"][..], &windows].concat(),
        ))
        .failure();
    assert!(out.stderr().contains("--target"), "{}", out.stderr());
    assert_eq!(snapshot(&venv), before);
    // Without --only-binary=:all: (or --no-deps): pip's error.
    let out = ctx
        .run(
            install(
                &ctx,
                &venv,
                &server,
                &["native", "--platform", "win_amd64", "--target"],
            )
            .arg(&target),
        )
        .failure();
    assert!(
        out.stderr().contains("--only-binary=:all:"),
        "{}",
        out.stderr()
    );
    // Into --target: the Windows wheel for 3.12.
    ctx.run(
        install(&ctx, &venv, &server, &[&["native"][..], &windows].concat())
            .arg("--target")
            .arg(&target),
    )
    .success();
    let init = std::fs::read_to_string(target.join("native/__init__.py")).unwrap();
    assert!(init.contains("cp312-cp312-win_amd64"), "{init}");
    // --implementation and --abi choose the manylinux wheel for 3.9.
    let out = ctx
        .run(&mut install(
            &ctx,
            &venv,
            &server,
            &[
                "native",
                "--dry-run",
                "--report",
                "-",
                "--platform",
                "manylinux2014_x86_64",
                "--implementation",
                "cp",
                "--abi",
                "cp39",
                "--python-version",
                "3.9",
                "--no-deps",
            ],
        ))
        .success();
    let report: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    let url = report["install"][0]["download_info"]["url"]
        .as_str()
        .unwrap();
    assert!(
        url.ends_with("native-1.0-cp39-cp39-manylinux2014_x86_64.whl"),
        "{url}"
    );
}

#[test]
fn a_pyproject_gives_its_dependencies_extras_and_groups_together() {
    let ctx = ctx();
    let server = IndexServer::start();
    for name in ["base-dep", "test-dep", "docs-dep", "dev-dep", "lint-dep"] {
        server.publish(
            &WheelBuilder::new(name, "1.0")
                .file(&format!("{}.py", name.replace('-', "_")), "")
                .build(),
        );
    }
    let project = ctx.work().join("proj");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("pyproject.toml"),
        r#"[project]
name = "proj"
version = "1.0"
dependencies = ["base-dep"]

[project.optional-dependencies]
test = ["test-dep"]
docs = ["docs-dep"]

[dependency-groups]
dev = ["dev-dep", {include-group = "lint"}]
lint = ["lint-dep"]
"#,
    )
    .unwrap();
    let pyproject = project.join("pyproject.toml").display().to_string();
    let names = |args: &[&str]| -> Vec<String> {
        let venv = ctx.work().join("env");
        let _ = std::fs::remove_dir_all(&venv);
        make_venv(&ctx, "env", &default_python(), false);
        let mut cmd = install(&ctx, &venv, &server, &["-r", &pyproject]);
        cmd.args(args);
        ctx.run(&mut cmd).success();
        let freeze = ctx
            .run(ctx.ferry(["freeze", "--python"]).arg(&venv))
            .success()
            .stdout();
        freeze
            .lines()
            .map(|l| l.split("==").next().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&[]), ["base-dep"]);
    let group = format!("{pyproject}:dev");
    assert_eq!(
        names(&["--extra", "test", "--group", &group]),
        ["base-dep", "dev-dep", "lint-dep", "test-dep"]
    );
    assert_eq!(
        names(&["--all-extras", "--group", &group]),
        ["base-dep", "dev-dep", "docs-dep", "lint-dep", "test-dep"]
    );
    // An extra the project does not have names those it has.
    let venv = ctx.work().join("env");
    let out = ctx
        .run(&mut install(
            &ctx,
            &venv,
            &server,
            &["-r", &pyproject, "--extra", "tset"],
        ))
        .failure();
    assert!(
        out.stderr().contains("--extra tset") && out.stderr().contains("docs, test"),
        "{}",
        out.stderr()
    );
}

#[test]
fn a_real_install_writes_the_report_too_as_pip_does() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish(&WheelBuilder::new("demo", "1.0").file("demo.py", "").build());
    let venv = make_venv(&ctx, "env", &pythons::newest().path, false);
    let report = ctx.work().join("report.json");
    ctx.run(install(&ctx, &venv, &server, &["demo", "--report"]).arg(&report))
        .success();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["install"][0]["metadata"]["name"], "demo", "{report}");
    assert!(site_packages(&venv).join("demo.py").exists());
    assert!(report["install"][0].get("provenance").is_none());
}
