//! `ferry index versions` and `ferry index pages` against the local index server, and (live)
//! against the real index compared with pip.

use ferry_test::{pythons, Fault, FileOptions, IndexServer, SdistBuilder, WheelBuilder};

use crate::common::ctx;

/// An index with wheels for several platforms and Pythons, an sdist-only release, a yanked
/// release and pre-releases.
fn demo_index() -> IndexServer {
    let server = IndexServer::start();
    let pure = |v: &str| {
        WheelBuilder::new("demo", v)
            .file("demo/__init__.py", "")
            .build()
    };
    server.publish(&pure("1.0"));
    server.publish(&pure("1.1"));
    // Only for another platform: not offered.
    server.publish(
        &WheelBuilder::new("demo", "1.2")
            .tag("cp311-cp311-win_amd64")
            .build(),
    );
    // Needs a newer Python than any installed.
    server.publish(
        &WheelBuilder::new("demo", "1.3")
            .requires_python(">=9.0")
            .build(),
    );
    // An sdist is always a candidate.
    server.publish(&SdistBuilder::new("demo", "1.4").build());
    // Yanked: not listed, like pip.
    server.publish_with(
        &pure("1.5"),
        FileOptions {
            yanked: Some("oops".into()),
            ..Default::default()
        },
    );
    server.publish(&pure("2.0b1"));
    server.publish(&pure("2.0.dev3"));
    server
}

fn python() -> pythons::InstalledPython {
    pythons::with_pip().expect("a CPython with pip")
}

#[test]
fn versions_lists_what_the_interpreter_could_install() {
    let ctx = ctx();
    let server = demo_index();
    let py = python();
    let out = ctx
        .run(
            ctx.ferry([
                "index",
                "versions",
                "demo",
                "--index-url",
                &server.url(),
                "--python",
            ])
            .arg(&py.path),
        )
        .success();
    assert_eq!(
        out.stdout(),
        "demo (1.4)\nAvailable versions: 1.4, 1.1, 1.0\n"
    );

    let out = ctx
        .run(
            ctx.ferry([
                "index",
                "versions",
                "demo",
                "--pre",
                "-i",
                &server.url(),
                "--python",
            ])
            .arg(&py.path),
        )
        .success();
    assert_eq!(
        out.stdout(),
        "demo (2.0b1)\nAvailable versions: 2.0b1, 2.0.dev3, 1.4, 1.1, 1.0\n"
    );

    let out = ctx
        .run(
            ctx.ferry([
                "index",
                "versions",
                "Demo",
                "--json",
                "-i",
                &server.url(),
                "--python",
            ])
            .arg(&py.path),
        )
        .success();
    assert_eq!(
        out.stdout(),
        "{\"name\": \"Demo\", \"versions\": [\"1.4\", \"1.1\", \"1.0\"], \"latest\": \"1.4\"}\n"
    );
}

#[test]
fn versions_reports_what_is_installed() {
    let ctx = ctx();
    let server = demo_index();
    ctx.run(&mut ctx.ferry(["venv", "--seed", "v"])).success();
    ctx.run(ctx.command(ctx.work().join("v/bin/python")).args([
        "-m",
        "pip",
        "install",
        "-q",
        "--index-url",
        &server.url(),
        "demo==1.0",
    ]))
    .success();
    // Found through ./v? No: through VIRTUAL_ENV, as an activated environment would be.
    ctx.env("VIRTUAL_ENV", ctx.work().join("v"));
    let out = ctx
        .run(&mut ctx.ferry(["index", "versions", "demo", "-i", &server.url()]))
        .success();
    assert_eq!(
        out.stdout(),
        "demo (1.4)\nAvailable versions: 1.4, 1.1, 1.0\n  INSTALLED: 1.0\n  LATEST:    1.4\n"
    );
}

#[test]
fn index_url_comes_from_env_and_pip_conf() {
    let ctx = ctx();
    let server = demo_index();
    let py = python();
    let conf = ctx.root().join("pip.conf");
    std::fs::write(&conf, format!("[global]\nindex-url = {}\n", server.url())).unwrap();
    ctx.env("PIP_CONFIG_FILE", &conf);
    ctx.run(
        ctx.ferry(["index", "versions", "demo", "--python"])
            .arg(&py.path),
    )
    .success();
    assert!(server.count_requests("/simple/demo/") >= 1);

    // PIP_INDEX_URL beats the file; the dead URL in the file is never contacted.
    let other = demo_index();
    std::fs::write(&conf, "[global]\nindex-url = http://127.0.0.1:9/simple/\n").unwrap();
    ctx.env("PIP_INDEX_URL", other.url());
    ctx.run(
        ctx.ferry(["index", "versions", "demo", "--python"])
            .arg(&py.path),
    )
    .success();
    assert_eq!(other.count_requests("/simple/demo/"), 1);
}

#[test]
fn warm_cache_makes_no_request_for_a_fresh_page() {
    let ctx = ctx();
    let server = demo_index();
    server.set_cache_control("max-age=600");
    let py = python();
    for _ in 0..2 {
        ctx.run(
            ctx.ferry(["index", "versions", "demo", "-i", &server.url(), "--python"])
                .arg(&py.path),
        )
        .success();
    }
    assert_eq!(server.count_requests("/simple/demo/"), 1);
    // --refresh asks again (and gets a 304).
    ctx.run(
        ctx.ferry([
            "index",
            "versions",
            "demo",
            "--refresh",
            "-i",
            &server.url(),
            "--python",
        ])
        .arg(&py.path),
    )
    .success();
    assert_eq!(server.requests().last().unwrap().status, Some(304));
    // --no-cache-dir never reuses anything.
    ctx.run(
        ctx.ferry([
            "index",
            "versions",
            "demo",
            "--no-cache-dir",
            "-i",
            &server.url(),
            "--python",
        ])
        .arg(&py.path),
    )
    .success();
    assert_eq!(server.requests().last().unwrap().status, Some(200));
}

#[test]
fn failures_are_one_clear_paragraph_without_secrets() {
    let ctx = ctx();
    let server = demo_index();
    let py = python();
    server.fault(Fault::status("/simple/demo/", 500));
    let url = server.url_with_credentials("bob", "hunter2");
    let out = ctx
        .run(
            ctx.ferry([
                "index",
                "versions",
                "demo",
                "-vv",
                "--retries",
                "1",
                "-i",
                &url,
                "--python",
            ])
            .arg(&py.path),
        )
        .failure();
    let stderr = out.stderr();
    assert!(
        stderr.contains("500") && stderr.contains("/simple/demo/"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");

    let out = ctx
        .run(
            ctx.ferry([
                "index",
                "versions",
                "nothing-here",
                "-i",
                &server.url(),
                "--python",
            ])
            .arg(&py.path),
        )
        .failure();
    assert!(
        out.stderr()
            .contains("no distribution file for `nothing-here`"),
        "{}",
        out.stderr()
    );

    // A dead index: nothing listens on port 9.
    let out = ctx
        .run(
            ctx.ferry([
                "index",
                "versions",
                "demo",
                "--retries",
                "0",
                "-i",
                "http://127.0.0.1:9/simple/",
                "--python",
            ])
            .arg(&py.path),
        )
        .failure();
    assert!(out.stderr().contains("127.0.0.1:9"), "{}", out.stderr());

    let out = ctx
        .run(
            ctx.ferry([
                "index",
                "versions",
                "demo",
                "--cert",
                "/nonexistent.pem",
                "-i",
                &server.url(),
                "--python",
            ])
            .arg(&py.path),
        )
        .failure();
    assert!(
        out.stderr().contains("/nonexistent.pem"),
        "{}",
        out.stderr()
    );
}

#[test]
fn pages_reports_every_source_and_missing_find_links_only_warn() {
    let ctx = ctx();
    let server = demo_index();
    let py = python();
    let req = ctx.root().join("req.txt");
    std::fs::write(&req, "# a comment\ndemo==1.0 ; python_version > '3'\n").unwrap();
    let out = ctx
        .run(
            ctx.ferry(["index", "pages", "-r"])
                .arg(&req)
                .args(["-f", "/no/such/dir", "-i", &server.url(), "--python"])
                .arg(&py.path),
        )
        .success();
    assert!(
        out.stdout().contains(&format!(
            "demo: 8 files from {}demo/ (network)",
            server.url()
        )),
        "{}",
        out.stdout()
    );
    assert!(
        out.stderr().contains("/no/such/dir") && out.stderr().contains("does not exist"),
        "{}",
        out.stderr()
    );
}

/// Live: the real index, found the way pip finds it, compared with pip on the same interpreter.
#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn live_versions_match_pip() {
    let ctx = ctx();
    let py = python();
    // Use the machine's pip configuration (certificates, proxies) for both tools.
    ctx.env("PIP_CONFIG_FILE", "");
    for package in ["six", "botocore"] {
        let ours = ctx
            .run(
                ctx.ferry(["index", "versions", package, "--python"])
                    .arg(&py.path),
            )
            .success();
        let theirs = std::process::Command::new(&py.path)
            .args(["-m", "pip", "index", "versions", package])
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .output()
            .unwrap();
        assert!(
            theirs.status.success(),
            "{}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        let theirs = String::from_utf8_lossy(&theirs.stdout).into_owned();
        // Older pips print a warning line first; compare from the package line on.
        let theirs = &theirs[theirs.find(&format!("{package} (")).unwrap_or(0)..];
        assert_eq!(ours.stdout(), theirs, "{package}");
        assert!(ours.stdout().lines().nth(1).unwrap().split(", ").count() > 10);
    }
}

#[test]
fn tls_trusts_the_system_store_plus_cert_options_and_trusted_hosts() {
    let ctx = ctx();
    let py = python();
    let ca = ferry_test::TestCa::new();
    let server = IndexServer::start_tls(ca.server_config(false));
    server.publish(&WheelBuilder::new("demo", "1.0").build());
    let url = server.url();
    assert!(url.starts_with("https://127.0.0.1:"));
    let versions = |extra: &[&str], env: Option<(&str, &std::path::Path)>| {
        let mut cmd = ctx.ferry(["index", "versions", "demo", "--retries", "0", "-i", &url]);
        cmd.args(extra).arg("--python").arg(&py.path);
        if let Some((key, value)) = env {
            cmd.env(key, value);
        }
        ctx.run(&mut cmd)
    };

    // Not signed by anything the system trusts.
    let out = versions(&[], None).failure();
    assert!(
        out.stderr().contains(&url) && out.stderr().to_lowercase().contains("certificate"),
        "{}",
        out.stderr()
    );

    let ca_pem = ca.ca_pem.display().to_string();
    versions(&["--cert", &ca_pem], None).success();
    versions(&[], Some(("PIP_CERT", &ca.ca_pem))).success();
    versions(&[], Some(("SSL_CERT_FILE", &ca.ca_pem))).success();
    versions(&["--trusted-host", "127.0.0.1"], None).success();
}

#[test]
fn tls_client_certificates() {
    let ctx = ctx();
    let py = python();
    let ca = ferry_test::TestCa::new();
    let server = IndexServer::start_tls(ca.server_config(true));
    server.publish(&WheelBuilder::new("demo", "1.0").build());
    let ca_pem = ca.ca_pem.display().to_string();
    let client_pem = ca.client_pem.display().to_string();
    let base = [
        "index",
        "versions",
        "demo",
        "--retries",
        "0",
        "--cert",
        &ca_pem,
    ];
    ctx.run(
        ctx.ferry(base)
            .args(["-i", &server.url(), "--python"])
            .arg(&py.path),
    )
    .failure();
    let out = ctx
        .run(
            ctx.ferry(base)
                .args([
                    "--client-cert",
                    &client_pem,
                    "-i",
                    &server.url(),
                    "--python",
                ])
                .arg(&py.path),
        )
        .success();
    assert!(out.stdout().starts_with("demo (1.0)"));
}
