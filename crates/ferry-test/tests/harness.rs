//! The harness checks itself against real clients: pip must install what the index serves,
//! Python's zipfile must agree with the RECORD we write, and every fault must show on the wire.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ferry_test::{
    http_get, pythons, Fault, FileOptions, IndexServer, PageFormat, SdistBuilder, WheelBuilder,
};

fn demo_wheel(version: &str) -> ferry_test::BuiltFile {
    WheelBuilder::new("Demo.Pkg", version)
        .file("demo_pkg/__init__.py", format!("VERSION = {version:?}\n"))
        .requires_python(">=3.7")
        .console_script("demo-cli", "demo_pkg:main")
        .data_file("scripts", "demo-tool", "#!python\nprint('tool')\n")
        .build()
}

fn pip_install(
    python: &Path,
    index: &str,
    target: &Path,
    requirement: &str,
) -> std::process::Output {
    Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--index-url",
            index,
            "--target",
        ])
        .arg(target)
        .arg(requirement)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_INDEX_URL")
        .output()
        .expect("run pip")
}

#[test]
fn pip_installs_from_the_index_over_json_with_pep658_metadata() {
    let Some(python) = pythons::with_pip() else {
        panic!("no installed CPython has pip; the harness needs one to check itself");
    };
    let server = IndexServer::start();
    server
        .publish(&demo_wheel("1.0"))
        .publish(&demo_wheel("2.0"));
    server.publish_with(
        &demo_wheel("3.0"),
        FileOptions {
            yanked: Some("broken".into()),
            ..Default::default()
        },
    );
    let target = tempfile::tempdir().unwrap();
    let out = pip_install(&python.path, &server.url(), target.path(), "demo-pkg");
    assert!(
        out.status.success(),
        "pip failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The newest non-yanked version was installed, and its code imports.
    let check = Command::new(&python.path)
        .args(["-c", "import demo_pkg; print(demo_pkg.VERSION)"])
        .env("PYTHONPATH", target.path())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&check.stdout).trim(), "2.0");
    assert!(target
        .path()
        .join("demo_pkg-2.0.dist-info/RECORD")
        .is_file());

    let requests = server.requests();
    let page = requests
        .iter()
        .find(|r| r.path == "/simple/demo-pkg/")
        .expect("project page requested");
    assert!(page
        .header("accept")
        .unwrap_or_default()
        .contains("application/vnd.pypi.simple.v1+json"));
    // pip read the PEP 658 metadata file rather than guessing from the wheel.
    assert_eq!(
        server.count_requests("demo_pkg-2.0-py3-none-any.whl.metadata"),
        1
    );
}

#[test]
fn pip_installs_from_the_index_over_html_and_checks_our_hashes() {
    let python = pythons::with_pip().expect("a CPython with pip");
    let server = IndexServer::start();
    server.set_format(PageFormat::Html);
    server.publish(&demo_wheel("1.0"));
    let target = tempfile::tempdir().unwrap();
    let out = pip_install(&python.path, &server.url(), target.path(), "Demo_Pkg==1.0");
    assert!(
        out.status.success(),
        "pip failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(target.path().join("demo_pkg/__init__.py").is_file());

    // With a wrong advertised hash pip must refuse the download.
    let bad = IndexServer::start();
    bad.set_format(PageFormat::Html);
    bad.publish_with(
        &demo_wheel("1.0"),
        FileOptions {
            wrong_hash: true,
            no_metadata: true,
            ..Default::default()
        },
    );
    let target = tempfile::tempdir().unwrap();
    let out = pip_install(&python.path, &bad.url(), target.path(), "demo-pkg");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("HASHES"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn built_wheels_agree_with_their_record_and_entry_points() {
    let python = pythons::all().into_iter().last().expect("a CPython");
    let dir = tempfile::tempdir().unwrap();
    let path = demo_wheel("1.0").write_to(dir.path());
    let script = r#"
import base64, csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = set(z.namelist())
rows = list(csv.reader(io.TextIOWrapper(z.open("demo_pkg-1.0.dist-info/RECORD"), "utf-8")))
listed = set()
for path, digest, size in rows:
    listed.add(path)
    if path.endswith("RECORD"):
        assert digest == "" and size == "", path
        continue
    data = z.read(path)
    algo, value = digest.split("=", 1)
    assert algo == "sha256"
    expect = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    assert value == expect, path
    assert int(size) == len(data), path
assert listed == names, (listed ^ names)
wheel = z.read("demo_pkg-1.0.dist-info/WHEEL").decode()
assert "Root-Is-Purelib: true" in wheel and "Tag: py3-none-any" in wheel, wheel
eps = z.read("demo_pkg-1.0.dist-info/entry_points.txt").decode()
assert "[console_scripts]" in eps and "demo-cli = demo_pkg:main" in eps, eps
assert "demo_pkg-1.0.data/scripts/demo-tool" in names
print("ok")
"#;
    let out = Command::new(&python.path)
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "ok",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sdists_unpack_with_pkg_info_first_class() {
    let python = pythons::all().into_iter().last().expect("a CPython");
    let sdist = SdistBuilder::new("Demo", "0.5")
        .requires_dist("six")
        .file("demo/__init__.py", "")
        .build();
    assert_eq!(sdist.filename, "demo-0.5.tar.gz");
    let dir = tempfile::tempdir().unwrap();
    let path = sdist.write_to(dir.path());
    let out = Command::new(&python.path)
        .args(["-c", "import sys, tarfile; t = tarfile.open(sys.argv[1]); print(t.extractfile('demo-0.5/PKG-INFO').read().decode())"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Metadata-Version: 2.2") && text.contains("Requires-Dist: six"),
        "{text}"
    );
}

#[test]
fn faults_show_on_the_wire() {
    let server = IndexServer::start();
    let wheel = demo_wheel("1.0");
    server.publish(&wheel);
    let url = server.file_url(&wheel.filename);

    server.fault(Fault::status(&wheel.filename, 500).times(1));
    assert_eq!(http_get(&url, &[]).unwrap().status, 500);
    let ok = http_get(&url, &[]).unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body, wheel.bytes);

    server.fault(Fault::drop_connection(&wheel.filename).times(1));
    assert!(
        http_get(&url, &[]).is_err(),
        "a dropped connection gives no response"
    );

    server.fault(Fault::truncate(&wheel.filename, 10).times(1));
    let cut = http_get(&url, &[]).unwrap();
    assert!(cut.truncated && cut.body.len() == 10);

    server.fault(Fault::delay(&wheel.filename, Duration::from_millis(300)).times(1));
    let start = Instant::now();
    assert_eq!(http_get(&url, &[]).unwrap().status, 200);
    assert!(start.elapsed() >= Duration::from_millis(300));

    // Requests are logged with their outcome; the dropped one has none.
    let statuses: Vec<_> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(500), Some(200), None, Some(200), Some(200)]);
}

#[test]
fn auth_ranges_etags_and_redirects() {
    let server = IndexServer::start();
    let wheel = demo_wheel("1.0");
    server.publish(&wheel);

    // Ranges for reading a zip's central directory.
    let url = server.file_url(&wheel.filename);
    let tail = http_get(&url, &[("Range", "bytes=-22")]).unwrap();
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, wheel.bytes[wheel.bytes.len() - 22..]);
    assert_eq!(
        tail.body[..4],
        [0x50, 0x4b, 0x05, 0x06],
        "ends with the end-of-central-directory record"
    );

    // Unnormalized names redirect; ETags revalidate.
    let redirect = http_get(&format!("{}Demo.Pkg/", server.url()), &[]).unwrap();
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location").unwrap(), "/simple/demo-pkg/");
    let page = http_get(&format!("{}demo-pkg/", server.url()), &[]).unwrap();
    assert!(
        page.text().contains("data-core-metadata=\"sha256="),
        "{}",
        page.text()
    );
    let etag = page.header("etag").unwrap().to_string();
    let again = http_get(
        &format!("{}demo-pkg/", server.url()),
        &[("If-None-Match", &etag)],
    )
    .unwrap();
    assert_eq!(again.status, 304);

    // JSON by negotiation, with PEP 700 fields.
    let json = http_get(
        &format!("{}demo-pkg/", server.url()),
        &[("Accept", "application/vnd.pypi.simple.v1+json")],
    )
    .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
    assert_eq!(value["versions"], serde_json::json!(["1.0"]));
    assert_eq!(value["files"][0]["requires-python"], ">=3.7");
    assert_eq!(value["files"][0]["hashes"]["sha256"], wheel.sha256());

    server.require_auth("alice", "s3cret");
    assert_eq!(http_get(&url, &[]).unwrap().status, 401);
    let ok = http_get(&url, &[("Authorization", "Basic YWxpY2U6czNjcmV0")]).unwrap();
    assert_eq!(ok.status, 200);
}
