//! `--verify-attestations` (PEP 740): every file must come with provenance that verifies for
//! it, or nothing is fetched and nothing changes. The verifier's own checks (signatures,
//! certificate chain, transparency log, publisher) are unit-tested in
//! `ferry-index/src/attest.rs` against recorded real provenance; the live test at the end
//! installs a real file with its recorded provenance.

use std::path::{Path, PathBuf};

use ferry_test::{
    pythons, BuiltFile, Fault, FileOptions, IndexServer, PageFormat, TestContext, WheelBuilder,
};

use crate::common::{ctx, install, make_venv, python_output, site_packages, snapshot};

fn recorded(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ferry-index/tests/data/attestations")
        .join(name);
    std::fs::read(path).unwrap()
}

const PROVENANCE: &str = "pypi_attestations-0.0.19.tar.gz.provenance";

fn demo() -> BuiltFile {
    WheelBuilder::new("demo", "1.0")
        .file("demo/__init__.py", "")
        .build()
}

/// Refused: the error names `message`, the venv is as it was, and the wheel was never fetched.
fn refused(ctx: &TestContext, server: &IndexServer, args: &[&str], message: &str) {
    let venv = make_venv(ctx, "env", &pythons::newest().path, false);
    let before = snapshot(&venv);
    server.clear_requests();
    let out = ctx
        .run(install(ctx, &venv, server, &["--verify-attestations"]).args(args))
        .failure();
    let err = out.stderr();
    assert!(err.contains(message), "wanted {message:?}\n{err}");
    assert!(err.contains("--verify-attestations refuses"), "{err}");
    let after: Vec<String> = snapshot(&venv)
        .into_iter()
        .filter(|p| p != ".ferry-lock")
        .collect();
    assert_eq!(after, before);
    let fetched: Vec<String> = server
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.ends_with(".whl"))
        .collect();
    assert!(fetched.is_empty(), "{fetched:?}");
}

#[test]
fn a_file_without_provenance_is_refused_before_anything_is_fetched() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish(&demo());
    refused(
        &ctx,
        &server,
        &["demo"],
        &format!(
            "lists no provenance for demo-1.0-py3-none-any.whl (PEP 740), and {}/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance did not give one",
            server.base_url()
        ),
    );
    // Without the flag the same install works.
    let venv = ctx.work().join("env");
    ctx.run(&mut install(&ctx, &venv, &server, &["demo"]))
        .success();
}

/// Provenance for another file is refused wherever the index serves it: linked from a JSON or
/// an HTML page, or only at the integrity endpoint; and it was asked for from there.
#[test]
fn provenance_for_another_file_is_refused_wherever_the_index_serves_it() {
    let listed = "/files/demo-1.0-py3-none-any.whl.provenance";
    let integrity = "/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance";
    for (format, unlisted, asked) in [
        (PageFormat::Json, false, listed),
        (PageFormat::Html, false, listed),
        (PageFormat::Json, true, integrity),
    ] {
        let ctx = ctx();
        let server = IndexServer::start();
        server.set_format(format);
        server.publish_with(
            &demo(),
            FileOptions {
                provenance: Some(recorded(PROVENANCE)),
                provenance_unlisted: unlisted,
                ..Default::default()
            },
        );
        refused(
            &ctx,
            &server,
            &["demo"],
            "it attests \"pypi_attestations-0.0.19.tar.gz\", not \"demo-1.0-py3-none-any.whl\"",
        );
        assert_eq!(
            server.count_requests(asked),
            1,
            "{format:?}, unlisted: {unlisted}"
        );
    }
}

#[test]
fn garbage_or_missing_provenance_is_refused_naming_the_url() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish_with(
        &demo(),
        FileOptions {
            provenance: Some(b"<html>not json</html>".to_vec()),
            ..Default::default()
        },
    );
    refused(
        &ctx,
        &server,
        &["demo"],
        "is not a PEP 740 provenance object",
    );
    server.fault(Fault::status(
        "/files/demo-1.0-py3-none-any.whl.provenance",
        404,
    ));
    let venv = ctx.work().join("env");
    ctx.run(&mut install(
        &ctx,
        &venv,
        &server,
        &["--verify-attestations", "demo"],
    ))
    .failure()
    .stderr_contains("demo-1.0-py3-none-any.whl.provenance answered HTTP 404");
}

#[test]
fn a_requirement_by_location_cannot_be_attested() {
    let ctx = ctx();
    let server = IndexServer::start();
    let file = demo().write_to(&ctx.work());
    refused(
        &ctx,
        &server,
        &[file.to_str().unwrap()],
        "it was asked for by location",
    );
}

#[test]
fn download_refuses_too_and_saves_nothing() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish(&demo());
    let dest = ctx.work().join("dest");
    ctx.run(
        ctx.ferry([
            "download",
            "--verify-attestations",
            "-i",
            &server.url(),
            "-d",
        ])
        .arg(&dest)
        .arg("demo"),
    )
    .failure()
    .stderr_contains("lists no provenance");
    assert!(snapshot(&dest).is_empty());
}

#[test]
fn the_setting_is_read_from_the_environment_and_pip_conf() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish(&demo());
    let venv = make_venv(&ctx, "env", &pythons::newest().path, false);
    ctx.run(install(&ctx, &venv, &server, &["demo"]).env("PIP_VERIFY_ATTESTATIONS", "1"))
        .failure()
        .stderr_contains("lists no provenance");
    let conf = ctx.work().join("pip.conf");
    std::fs::write(&conf, "[install]\nverify-attestations = true\n").unwrap();
    ctx.run(install(&ctx, &venv, &server, &["demo"]).env("PIP_CONFIG_FILE", &conf))
        .failure()
        .stderr_contains("lists no provenance");
}

/// The real index, as pip finds it.
fn real_index(python: &Path) -> String {
    python_output(
        python,
        "from pip._internal.models.index import PyPI; print(PyPI.simple_url)",
    )
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn live_a_real_file_with_its_recorded_provenance_installs_and_shows_its_publisher() {
    let ctx = ctx();
    ctx.env("PIP_CONFIG_FILE", "");
    let python = crate::common::python_with_pip();
    // The real sdist the recorded provenance is for, from the real index.
    let fetched = ctx.work().join("fetched");
    ctx.run(
        ctx.ferry(["download", "--no-deps", "--no-binary", ":all:", "-d"])
            .arg(&fetched)
            .arg("pypi-attestations==0.0.19")
            .arg("--python")
            .arg(&python),
    )
    .success();
    let bytes = std::fs::read(fetched.join("pypi_attestations-0.0.19.tar.gz")).unwrap();
    let file = BuiltFile {
        filename: "pypi_attestations-0.0.19.tar.gz".into(),
        name: "pypi-attestations".into(),
        version: "0.0.19".into(),
        bytes,
        metadata: String::new(),
        requires_python: Some(">=3.9".into()),
    };
    assert_eq!(
        file.sha256(),
        "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3"
    );
    // Served by the local index with the provenance the real one does not serve here.
    let server = IndexServer::start();
    server.publish_with(
        &file,
        FileOptions {
            provenance: Some(recorded(PROVENANCE)),
            ..Default::default()
        },
    );
    let publisher = "GitHub trailofbits/pypi-attestations (workflow release.yml)";

    let dest = ctx.work().join("dest");
    ctx.run(
        ctx.ferry([
            "download",
            "--verify-attestations",
            "--no-deps",
            "-i",
            &server.url(),
            "-d",
        ])
        .arg(&dest)
        .arg("pypi-attestations==0.0.19")
        .arg("--python")
        .arg(&python),
    )
    .success()
    .stderr_contains(&format!(
        "Verified provenance of pypi_attestations-0.0.19.tar.gz: published by {publisher}"
    ));

    // Install (built from the sdist; the build backend comes from the real index).
    let venv = make_venv(&ctx, "env", Path::new(&python), false);
    let report = ctx.work().join("report.json");
    ctx.run(
        install(
            &ctx,
            &venv,
            &server,
            &["--verify-attestations", "--no-deps", "--extra-index-url"],
        )
        .arg(real_index(Path::new(&python)))
        .arg("--report")
        .arg(&report)
        .arg("pypi-attestations==0.0.19"),
    )
    .success();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let item = &report["install"][0];
    assert_eq!(item["provenance"]["verified"], true, "{item}");
    assert_eq!(
        item["provenance"]["publishers"][0]["repository"],
        "trailofbits/pypi-attestations"
    );
    assert_eq!(
        item["provenance"]["publishers"][0]["log_index"],
        153_454_663
    );

    // The environment gets only standard files: the provenance is kept in the cache.
    let dist_info: PathBuf = site_packages(&venv).join("pypi_attestations-0.0.19.dist-info");
    assert!(!dist_info.join("provenance.json").exists());
    let record = std::fs::read_to_string(dist_info.join("RECORD")).unwrap();
    assert!(!record.contains("provenance.json"), "{record}");
    let kept = kept_records(&ctx);
    assert_eq!(kept.len(), 1, "{kept:?}");
    let entry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&kept[0]).unwrap()).unwrap();
    assert_eq!(entry["filename"], "pypi_attestations-0.0.19.tar.gz");
    assert_eq!(
        entry["provenance"],
        serde_json::from_slice::<serde_json::Value>(&recorded(PROVENANCE)).unwrap()
    );
    ctx.run(&mut ctx.ferry(["cache", "list", "--kind", "attestation"]))
        .success()
        .stdout_contains("pypi-attestations");

    let show = || {
        ctx.run(
            ctx.ferry(["show", "pypi-attestations", "--python"])
                .arg(&venv),
        )
        .success()
    };
    show().stdout_contains(&format!("Publisher: {publisher} (attested, verified)"));
    // A kept record that no longer holds is shown as unverified.
    std::fs::write(&kept[0], b"{}").unwrap();
    show().stdout_contains("Publisher: unverified (");
}

/// The provenance records `install --verify-attestations` kept in the test's cache.
fn kept_records(ctx: &TestContext) -> Vec<PathBuf> {
    let dir = ctx.cache_dir().join("attestations-v1");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "json"));
    found
}

/// `show` checks kept provenance again, against the file `provenance_url.json` names: one that
/// is not for that file, or a damaged record, is shown as unverified, never as a publisher.
#[test]
fn show_reverifies_a_kept_provenance_and_says_when_it_does_not_hold() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish(&demo());
    let venv = make_venv(&ctx, "env", &pythons::newest().path, false);
    ctx.run(&mut install(&ctx, &venv, &server, &["demo"]))
        .success();
    let show = || {
        ctx.run(ctx.ferry(["show", "demo", "--python"]).arg(&venv))
            .success()
            .stdout()
    };
    // Installed without the flag: nothing kept, nothing shown.
    assert!(kept_records(&ctx).is_empty());
    assert!(!show().contains("Publisher:"));
    // A record planted under the installed file's sha256, holding another file's provenance.
    let dist_info = site_packages(&venv).join("demo-1.0.dist-info");
    let origin: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist_info.join("provenance_url.json")).unwrap())
            .unwrap();
    let sha256 = origin["archive_info"]["hashes"]["sha256"].as_str().unwrap();
    let path = ctx
        .cache_dir()
        .join("attestations-v1")
        .join(format!("{sha256}.json"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let planted = serde_json::json!({
        "filename": "demo-1.0-py3-none-any.whl",
        "sha256": sha256,
        "url": "http://127.0.0.1:1/provenance",
        "verified_at": 0,
        "provenance": serde_json::from_slice::<serde_json::Value>(&recorded(PROVENANCE)).unwrap(),
    });
    std::fs::write(&path, serde_json::to_vec(&planted).unwrap()).unwrap();
    let shown = show();
    assert!(
        shown.contains(
            "Publisher: unverified (the provenance for demo-1.0-py3-none-any.whl does not verify: it attests \"pypi_attestations-0.0.19.tar.gz\""
        ),
        "{shown}"
    );
    // `cache list` names it with where it came from.
    ctx.run(&mut ctx.ferry(["cache", "list", "--kind", "attestation"]))
        .success()
        .stdout_contains("http://127.0.0.1:1/provenance");
    // A damaged record is named.
    std::fs::write(&path, b"not json").unwrap();
    let shown = show();
    assert!(
        shown.contains("Publisher: unverified (") && shown.contains("is damaged"),
        "{shown}"
    );
}
