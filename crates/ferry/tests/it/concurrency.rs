//! Many ferry processes at once: installs into separate environments sharing one cache, while
//! `cache prune` runs, must all succeed and leave every environment and the store correct.

use std::collections::BTreeSet;
use std::path::PathBuf;

use ferry_test::{pythons, IndexServer, WheelBuilder};

use crate::common::{ctx, make_venv, python_output};

const PACKAGES: usize = 10;

fn name(i: usize) -> String {
    format!("shared{}", i % PACKAGES)
}

/// Ten packages, each with a few modules, a script and a data file, all needing `common`.
fn server() -> IndexServer {
    let server = IndexServer::start();
    for i in 0..PACKAGES {
        let module = name(i);
        let mut wheel = WheelBuilder::new(&module, "1.0")
            .requires_dist("common>=1")
            .console_script(&format!("{module}-cli"), &format!("{module}:main"))
            .data_file("data", &format!("share/{module}/notes.txt"), "notes\n")
            .file(
                &format!("{module}/__init__.py"),
                format!("import common\nNAME = '{module}'\ndef main(): pass\n"),
            );
        for part in 0..20 {
            wheel = wheel.file(
                &format!("{module}/part{part}.py"),
                format!("PART = {part}\n").repeat(50),
            );
        }
        server.publish(&wheel.build());
    }
    server.publish(
        &WheelBuilder::new("common", "1.0")
            .file("common.py", "OK = True\n")
            .build(),
    );
    server
}

/// The overlapping set environment `i` installs: three neighbours.
fn set(i: usize) -> Vec<String> {
    (i..i + 3).map(name).collect()
}

#[test]
fn eight_installs_sharing_a_cache_with_a_prune_running() {
    let ctx = ctx();
    let server = server();
    let python = pythons::newest().path;
    let envs: Vec<PathBuf> = (0..8)
        .map(|i| make_venv(&ctx, &format!("env{i}"), &python, false))
        .collect();
    // All at once, with prunes of the same cache (of what is a day old, and of leftovers of
    // interrupted runs) starting among them.
    let mut children = Vec::new();
    for (i, env) in envs.iter().enumerate() {
        let mut cmd = ctx.ferry(["install", "-q", "-i", &server.url(), "--python"]);
        cmd.arg(env).args(set(i));
        children.push((
            format!("install {i}"),
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        ));
    }
    for round in 0..3 {
        let mut cmd = ctx.ferry(["cache", "prune", "--older-than", "1"]);
        children.push((
            format!("prune {round}"),
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        ));
    }
    for (what, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Every environment holds exactly its set, works, and checks clean.
    for (i, env) in envs.iter().enumerate() {
        let frozen: BTreeSet<String> = ctx
            .run(ctx.ferry(["freeze", "--python"]).arg(env))
            .success()
            .stdout()
            .lines()
            .map(|l| l.split("==").next().unwrap().to_string())
            .collect();
        let mut wanted: BTreeSet<String> = set(i).into_iter().collect();
        wanted.insert("common".into());
        assert_eq!(frozen, wanted, "env{i}");
        let imports = set(i)
            .iter()
            .map(|m| format!("import {m}; assert {m}.NAME == '{m}'"))
            .collect::<Vec<_>>()
            .join("; ");
        python_output(&env.join("bin/python"), &format!("{imports}; print('ok')"));
        for module in set(i) {
            assert!(env.join("bin").join(format!("{module}-cli")).is_file());
        }
        ctx.run(ctx.ferry(["check", "--python"]).arg(env)).success();
    }
    // The store is whole: a new environment installs everything from the cache alone.
    let offline = make_venv(&ctx, "offline", &python, false);
    let url = server.url();
    drop(server);
    let all: Vec<String> = (0..PACKAGES).map(name).collect();
    ctx.run(
        ctx.ferry(["install", "--offline", "-i", &url, "--python"])
            .arg(&offline)
            .args(&all),
    )
    .success();
    let imports = all
        .iter()
        .map(|m| format!("import {m}"))
        .collect::<Vec<_>>()
        .join("; ");
    python_output(
        &offline.join("bin/python"),
        &format!("{imports}; print('ok')"),
    );
    ctx.run(&mut ctx.ferry(["cache", "list", "--format", "json"]))
        .success();
}
