//! `ferry download`: files saved as the index has them, reused from the directory and the
//! cache, hash-checked, for other platforms, and enough for an offline install.

use std::path::Path;

use ferry_test::{pythons, Fault, IndexServer, Project, TestContext, WheelBuilder};

use crate::common::{ctx, make_venv, python_output};

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn download(
    ctx: &TestContext,
    server: &IndexServer,
    dir: &Path,
    args: &[&str],
) -> std::process::Command {
    let mut cmd = ctx.ferry(["download", "-i", &server.url(), "-d"]);
    cmd.arg(dir).args(args);
    cmd
}

/// app (a wheel) needs lib (only an sdist, built by the in-tree test backend).
fn server() -> IndexServer {
    let server = IndexServer::start();
    server.publish(
        &WheelBuilder::new("app", "1.0")
            .requires_dist("lib>=0.5")
            .file("app.py", "import lib\nVERSION = '1.0'\n")
            .build(),
    );
    server.publish(&Project::new("lib", "0.7").sdist());
    server
}

#[test]
fn files_are_saved_as_they_are_kept_in_the_cache_and_install_offline() {
    let ctx = ctx();
    let server = server();
    let dir = ctx.work().join("wheelhouse");
    let out = ctx
        .run(&mut download(&ctx, &server, &dir, &["app"]))
        .success();
    let err = out.stderr();
    assert!(
        err.contains("Saved") && err.contains("Successfully downloaded app lib"),
        "{err}"
    );
    assert_eq!(
        listing(&dir),
        ["app-1.0-py3-none-any.whl", "lib-0.7.tar.gz"]
    );
    // The sdist is saved as it is, not built.
    assert_eq!(
        std::fs::read(dir.join("lib-0.7.tar.gz")).unwrap(),
        Project::new("lib", "0.7").sdist().bytes
    );

    // Again: already there, nothing fetched.
    server.clear_requests();
    ctx.run(&mut download(&ctx, &server, &dir, &["app"]))
        .success()
        .stderr_contains("File was already downloaded");
    assert_eq!(server.count_requests(".whl"), 0);
    assert_eq!(server.count_requests(".tar.gz"), 0);

    // Into a new directory with the files broken on the server: the cache's copies serve.
    server.fault(Fault::status("app-1.0-py3-none-any.whl", 500));
    server.fault(Fault::status("lib-0.7.tar.gz", 500));
    let second = ctx.work().join("second");
    ctx.run(&mut download(&ctx, &server, &second, &["app"]))
        .success();
    assert_eq!(listing(&second), listing(&dir));

    // A cache copy that no longer has its hash is not used: downloaded again (and here the
    // server fails, so the run fails naming the file, and leaves no partial file).
    let files = ctx.cache_dir().join("files-v1");
    let copy = std::fs::read_dir(&files)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|d| d.join("app-1.0-py3-none-any.whl"))
        .find(|p| p.is_file())
        .expect("the wheel is kept whole in the cache");
    std::fs::write(&copy, b"not the wheel").unwrap();
    let third = ctx.work().join("third");
    let err = ctx
        .run(&mut download(&ctx, &server, &third, &["app", "--no-deps"]))
        .failure()
        .stderr();
    assert!(err.contains("app-1.0-py3-none-any.whl"), "{err}");
    assert!(listing(&third).is_empty(), "{:?}", listing(&third));
    server.clear_faults();

    // The directory is enough for an offline install of the same set.
    let env = make_venv(&ctx, "env", &pythons::newest().path, false);
    server.clear_requests();
    let mut cmd = ctx.ferry(["install", "--no-index", "-f"]);
    cmd.arg(&dir).args(["app", "--python"]).arg(&env);
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Successfully installed app-1.0 lib-0.7");
    assert!(server.requests().is_empty());
    assert_eq!(
        python_output(
            &env.join("bin/python"),
            "import app, lib; print(app.VERSION, lib.VERSION)"
        ),
        "1.0 0.7"
    );
}

#[test]
fn another_platform_needs_only_binary_and_picks_its_wheels() {
    let ctx = ctx();
    let server = IndexServer::start();
    for tag in [
        "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp312-cp312-win_amd64",
        "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp312-cp312-manylinux_2_28_x86_64",
    ] {
        server.publish(&WheelBuilder::new("native", "2.0").tag(tag).build());
    }
    server.publish(&Project::new("native", "2.0").sdist());
    let dir = ctx.work().join("out");

    // pip's rule: another platform needs --only-binary=:all: (or --no-deps).
    let err = ctx
        .run(&mut download(
            &ctx,
            &server,
            &dir,
            &["native", "--platform", "manylinux2014_x86_64"],
        ))
        .failure()
        .stderr();
    assert!(err.contains("--only-binary=:all:"), "{err}");
    assert!(!dir.exists() || listing(&dir).is_empty());

    let args = [
        "native",
        "--platform",
        "manylinux2014_x86_64",
        "--python-version",
        "312",
        "--only-binary",
        ":all:",
    ];
    ctx.run(&mut download(&ctx, &server, &dir, &args)).success();
    assert_eq!(
        listing(&dir),
        ["native-2.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"]
    );
    let win = ctx.work().join("win");
    let args = [
        "native",
        "--platform",
        "win_amd64",
        "--python-version",
        "3.12",
        "--implementation",
        "cp",
        "--abi",
        "cp312",
        "--only-binary",
        ":all:",
    ];
    ctx.run(&mut download(&ctx, &server, &win, &args)).success();
    assert_eq!(listing(&win), ["native-2.0-cp312-cp312-win_amd64.whl"]);
    // No wheel for that platform, and sdists refused: a clear resolution error.
    let mac = ctx.work().join("mac");
    let args = [
        "native",
        "--platform",
        "macosx_11_0_arm64",
        "--python-version",
        "3.12",
        "--only-binary",
        ":all:",
    ];
    ctx.run(&mut download(&ctx, &server, &mac, &args))
        .failure()
        .stderr_contains("native");
}

#[test]
fn hash_checking_mode_needs_a_matching_hash_for_every_file() {
    let ctx = ctx();
    let server = IndexServer::start();
    let wheel = WheelBuilder::new("hashed", "1.0").build();
    server.publish(&wheel);
    let dir = ctx.work().join("out");
    let err = ctx
        .run(&mut download(
            &ctx,
            &server,
            &dir,
            &["hashed==1.0", "--require-hashes"],
        ))
        .failure()
        .stderr();
    assert!(err.contains("hashed==1.0"), "{err}");

    let file = ctx.work().join("req.txt");
    std::fs::write(
        &file,
        format!("hashed==1.0 --hash=sha256:{}\n", "0".repeat(64)),
    )
    .unwrap();
    let err = ctx
        .run(download(&ctx, &server, &dir, &["-r"]).arg(&file))
        .failure()
        .stderr();
    assert!(
        err.contains("hashed-1.0-py3-none-any.whl") || err.contains("hash"),
        "{err}"
    );
    assert!(!dir.join(wheel.filename.as_str()).exists());

    std::fs::write(
        &file,
        format!("hashed==1.0 --hash=sha256:{}\n", wheel.sha256()),
    )
    .unwrap();
    ctx.run(download(&ctx, &server, &dir, &["-r"]).arg(&file))
        .success();
    assert_eq!(listing(&dir), vec![wheel.filename]);
}

#[test]
fn a_vcs_requirement_is_saved_as_the_archive_pip_makes() {
    let ctx = ctx();
    let repo_dir = ctx.work().join("repo");
    let repo = ferry_test::GitRepo::init(&repo_dir);
    Project::new("vcspkg", "1.0").write(&repo_dir);
    repo.commit("vcspkg 1.0");
    let requirement = format!("git+{}#egg=vcspkg", repo.file_url());
    let ours = ctx.work().join("ours");
    let theirs = ctx.work().join("theirs");
    ctx.run(
        ctx.ferry(["download", "--no-index", "-d"])
            .arg(&ours)
            .arg(&requirement)
            .arg("--python")
            .arg(&pythons::newest().path),
    )
    .success()
    .stderr_contains("Saved");
    let pip = pythons::with_pip().expect("a CPython with pip");
    ctx.run(
        ctx.command(&pip.path)
            .args(["-m", "pip", "download", "-q", "--no-index", "-d"])
            .arg(&theirs)
            .arg(&requirement),
    )
    .success();
    assert_eq!(listing(&ours), ["vcspkg-1.0.zip"]);
    assert_eq!(listing(&ours), listing(&theirs));
    // The same entries (git's own files aside: each tool's clone writes its own).
    let entries = |dir: &Path| -> Vec<String> {
        let file = std::fs::File::open(dir.join("vcspkg-1.0.zip")).unwrap();
        let mut zip = zip::ZipArchive::new(file).unwrap();
        let mut names: Vec<String> = (0..zip.len())
            .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
            .filter(|n| !n.starts_with("vcspkg/.git/") && n != "vcspkg/.git")
            .collect();
        names.sort();
        names
    };
    assert!(entries(&ours).contains(&"vcspkg/pyproject.toml".to_string()));
    assert_eq!(entries(&ours), entries(&theirs));
}
