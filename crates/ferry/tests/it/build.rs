//! Source builds end to end: project directories, editables, local archives and sdists from
//! a local index, built by an in-tree standard-library backend (no network, no setuptools),
//! on the oldest and newest CPython.

use std::path::Path;
use std::process::Command;

use ferry_test::{pythons, IndexServer, Project, TestContext, WheelBuilder};

use crate::common::{ctx, install, make_venv, python_output, site_packages, snapshot};

fn helper_server() -> IndexServer {
    let server = IndexServer::start();
    server.publish(
        &WheelBuilder::new("helper", "1.0")
            .file("helper.py", "HELP = True\n")
            .build(),
    );
    server
}

/// A new venv `name` (with pip) into which pip installed `args`, offline and without the
/// machine's pip configuration, for comparing with what ferry installs.
fn pip_install(ctx: &TestContext, python: &Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let venv = ctx.work().join(name);
    let mut cmd = ctx.ferry(["venv", "--seed", "--python"]);
    cmd.arg(python).arg(&venv);
    ctx.run(&mut cmd).success();
    // The test's own HOME, so pip's HTTP cache is the test's: a port reused from an earlier
    // run must not hand pip that run's archive.
    let out = ctx
        .command(venv.join("bin/python"))
        .args(["-m", "pip", "install", "-q", "--no-index"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    venv
}

fn direct_url(site: &Path, dist_info: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(site.join(dist_info).join("direct_url.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_project_directory_installs_with_its_dependencies_on_oldest_and_newest_python() {
    for python in pythons::oldest_and_newest() {
        let ctx = ctx();
        let server = helper_server();
        let tree = Project::new("localproj", "0.3")
            .dependency("helper")
            .write(&ctx.work().join("localproj"));
        let env = make_venv(&ctx, "env", &python.path, false);
        let mut cmd = install(&ctx, &env, &server, &["./localproj"]);
        cmd.current_dir(ctx.work());
        ctx.run(&mut cmd)
            .success()
            .stderr_contains("Successfully installed helper-1.0 localproj-0.3");
        let out = python_output(
            &env.join("bin/python"),
            "import localproj, helper; print(localproj.VERSION, helper.HELP)",
        );
        assert_eq!(out, "0.3 True", "{}", python.path.display());
        let site = site_packages(&env);
        let direct = direct_url(&site, "localproj-0.3.dist-info");
        let url = url::Url::from_file_path(&tree).unwrap().to_string();
        assert_eq!(direct, serde_json::json!({"url": url, "dir_info": {}}));
        let freeze = ctx
            .run(ctx.ferry(["freeze", "--python"]).arg(&env))
            .success()
            .stdout();
        assert!(freeze.contains(&format!("localproj @ {url}")), "{freeze}");
    }
}

#[test]
fn an_editable_install_shows_edits_without_reinstalling_and_uninstalls_cleanly() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = helper_server();
    let tree = Project::new("editme", "1.0").write(&ctx.work().join("editme"));
    let env = make_venv(&ctx, "env", &python, false);
    let site = site_packages(&env);
    let before = snapshot(&site);
    let path = tree.display().to_string();
    ctx.run(&mut install(&ctx, &env, &server, &["-e", &path]))
        .success()
        .stderr_contains("Successfully installed editme-1.0");
    let import = "import editme; print(editme.VERSION)";
    assert_eq!(python_output(&env.join("bin/python"), import), "1.0");
    std::fs::write(tree.join("src/editme.py"), "VERSION = \"edited\"\n").unwrap();
    assert_eq!(python_output(&env.join("bin/python"), import), "edited");

    let direct = direct_url(&site, "editme-1.0.dist-info");
    assert_eq!(direct["dir_info"], serde_json::json!({"editable": true}));
    let freeze = ctx
        .run(ctx.ferry(["freeze", "--python"]).arg(&env))
        .success()
        .stdout();
    assert!(freeze.contains(&format!("-e {path}")), "{freeze}");
    let list = ctx
        .run(ctx.ferry(["list", "--python"]).arg(&env))
        .success()
        .stdout();
    assert!(list.contains(&path), "{list}");

    ctx.run(
        ctx.ferry(["uninstall", "-y", "editme", "--python"])
            .arg(&env),
    )
    .success();
    assert_eq!(snapshot(&site), before, "uninstall leaves nothing behind");
}

#[test]
fn an_sdist_from_the_index_is_built_once_then_comes_from_the_build_cache() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = helper_server();
    server.publish(&Project::new("fromsrc", "2.0").dependency("helper").sdist());
    let first = make_venv(&ctx, "first", &python, false);
    let out = ctx
        .run(&mut install(&ctx, &first, &server, &["-v", "fromsrc"]))
        .success();
    assert!(
        out.stderr().contains("prepare_metadata_for_build_wheel")
            && out.stderr().contains("Built fromsrc-2.0-py3-none-any.whl"),
        "{}",
        out.stderr()
    );
    // Reading its PKG-INFO and building it took one download of the sdist.
    let downloads = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/fromsrc-2.0.tar.gz") && r.method == "GET")
        .count();
    assert_eq!(downloads, 1, "{:?}", server.requests());
    // The environment that prepared the metadata also builds the wheel, as in pip.
    assert_eq!(
        out.stderr()
            .matches("Build environment of fromsrc 2.0")
            .count(),
        1,
        "{}",
        out.stderr()
    );
    assert_eq!(
        python_output(
            &first.join("bin/python"),
            "import fromsrc; print(fromsrc.VERSION)"
        ),
        "2.0"
    );
    // A second environment: metadata and wheel both come from the cache; no backend runs.
    let second = make_venv(&ctx, "second", &python, false);
    let out = ctx
        .run(&mut install(&ctx, &second, &server, &["-v", "fromsrc"]))
        .success()
        .stderr_contains("Successfully installed fromsrc-2.0 helper-1.0");
    assert!(
        !out.stderr().contains("Running the backend"),
        "{}",
        out.stderr()
    );
}

#[test]
fn a_build_requirement_wanted_by_parallel_builds_is_built_once() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = IndexServer::start();
    // `shared` exists only as an sdist, and each of three builds running at once needs it in
    // its build environment: one of them builds it, the others wait and take its wheel.
    server.publish(&Project::new("shared", "1.0").static_metadata().sdist());
    for name in ["one", "two", "three"] {
        let project = Project::new(name, "1.0")
            .build_requires("shared")
            .static_metadata();
        server.publish(&project.sdist());
    }
    let env = make_venv(&ctx, "env", &python, false);
    let out = ctx
        .run(&mut install(
            &ctx,
            &env,
            &server,
            &["-v", "--jobs", "3", "one", "two", "three"],
        ))
        .success()
        .stderr_contains("Successfully installed one-1.0 three-1.0 two-1.0");
    let err = out.stderr();
    assert_eq!(
        err.matches("Running the backend's build_wheel for shared 1.0")
            .count(),
        1,
        "{err}"
    );
    for name in ["one", "two", "three"] {
        assert!(
            err.contains(&format!("Built {name}-1.0-py3-none-any.whl")),
            "{err}"
        );
    }
}

/// Whether process `pid` has ended (gone, or a zombie nobody has reaped yet).
fn ended(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn an_interrupted_build_kills_the_backend_and_leaves_nothing_behind() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = IndexServer::start();
    let pids = ctx.work().join("backend.pids");
    let stuck = Project::new("stuck", "1.0")
        .static_metadata()
        .hanging("build_wheel", &pids);
    server.publish(&stuck.sdist());
    let env = make_venv(&ctx, "env", &python, false);
    let site = site_packages(&env);
    let before = snapshot(&site);
    let tmp = ctx.work().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut cmd = install(&ctx, &env, &server, &["-v", "stuck"]);
    let mut ferry = cmd
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !pids.exists() {
        if let Some(status) = ferry.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(ferry.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("ferry ended ({status}) before the backend started: {err}");
        }
        if std::time::Instant::now() > deadline {
            let _ = ferry.kill();
            let out = ferry.wait_with_output().unwrap();
            panic!(
                "the backend never started: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pids = std::fs::read_to_string(&pids).unwrap();
    let pids: Vec<&str> = pids.lines().collect();
    assert_eq!(pids.len(), 2, "the backend and its child");
    assert!(!ended(pids[0]) && !ended(pids[1]), "the backend hangs");

    let status = Command::new("kill")
        .args(["-INT", &ferry.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = ferry.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");

    // The backend and what it started are killed; no build directory or hook directory is
    // left in the cache or the temporary directory; the environment is as it was.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !pids.iter().all(|pid| ended(pid)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the backend outlived ferry"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let builds = ctx.cache_dir().join("builds-v1");
    assert_eq!(
        snapshot(&builds),
        Vec::<String>::new(),
        "{}",
        builds.display()
    );
    assert_eq!(snapshot(&tmp), Vec::<String>::new());
    assert_eq!(snapshot(&site), before);
}

#[test]
fn no_binary_builds_the_sdist_even_when_a_wheel_exists() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = helper_server();
    let project = Project::new("both", "1.0").module("both.py", "FROM = 'sdist'\n");
    server.publish(&project.sdist());
    server.publish(
        &WheelBuilder::new("both", "1.0")
            .file("both.py", "FROM = 'wheel'\n")
            .build(),
    );
    let env = make_venv(&ctx, "env", &python, false);
    ctx.run(&mut install(&ctx, &env, &server, &["both"]))
        .success();
    assert_eq!(
        python_output(&env.join("bin/python"), "import both; print(both.FROM)"),
        "wheel"
    );
    let env = make_venv(&ctx, "env2", &python, false);
    ctx.run(&mut install(
        &ctx,
        &env,
        &server,
        &["--no-binary", "both", "both"],
    ))
    .success();
    assert_eq!(
        python_output(&env.join("bin/python"), "import both; print(both.FROM)"),
        "sdist"
    );
}

#[test]
fn a_local_archive_installs_and_records_its_hash() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = helper_server();
    let sdist = Project::new("archived", "1.5").sdist();
    let path = sdist.write_to(&ctx.work());
    let env = make_venv(&ctx, "env", &python, false);
    ctx.run(&mut install(
        &ctx,
        &env,
        &server,
        &[&path.display().to_string()],
    ))
    .success()
    .stderr_contains("Successfully installed archived-1.5");
    let direct = direct_url(&site_packages(&env), "archived-1.5.dist-info");
    assert_eq!(
        direct["archive_info"]["hashes"]["sha256"],
        serde_json::json!(sdist.sha256())
    );
}

#[test]
fn a_failing_build_names_the_project_and_hook_shows_the_tail_and_changes_nothing() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = helper_server();
    Project::new("broken", "1.0")
        .failing("build_wheel")
        .write(&ctx.work().join("broken"));
    let env = make_venv(&ctx, "env", &python, false);
    let site = site_packages(&env);
    let before = snapshot(&site);
    let path = ctx.work().join("broken").display().to_string();
    let out = ctx
        .run(&mut install(&ctx, &env, &server, &[&path]))
        .failure();
    let err = out.stderr();
    assert!(
        err.contains("build_wheel")
            && err.contains("broken")
            && err.contains("the backend gives up in build_wheel")
            && err.contains("noise line 199")
            && err.contains("caf\u{fffd} in latin-1")
            && !err.contains("noise line 10\n"),
        "{err}"
    );
    assert_eq!(snapshot(&site), before);
}

#[test]
fn config_settings_reach_the_backend() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = helper_server();
    let tree = Project::new("configured", "1.0").write(&ctx.work().join("configured"));
    let env = make_venv(&ctx, "env", &python, false);
    let path = tree.display().to_string();
    ctx.run(&mut install(
        &ctx,
        &env,
        &server,
        &["-C", "flavour=mint", &path],
    ))
    .success();
    let marker = site_packages(&env).join("configured_setting_flavour.txt");
    assert_eq!(std::fs::read_to_string(marker).unwrap(), "mint");
}

fn zip_names(wheel: &Path) -> Vec<String> {
    let file = std::fs::File::open(wheel).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn ferry_build_makes_an_sdist_then_a_wheel_from_it() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let tree = Project::new("shipit", "0.9")
        .module("shipit_extra.py", "")
        .write(&ctx.work().join("shipit"));
    let mut cmd = ctx.ferry(["build", "--python"]);
    cmd.arg(&python).arg(&tree);
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Successfully built shipit-0.9.tar.gz and shipit-0.9-py3-none-any.whl");
    let wheel = tree.join("dist/shipit-0.9-py3-none-any.whl");
    assert!(tree.join("dist/shipit-0.9.tar.gz").is_file());
    assert_eq!(
        zip_names(&wheel),
        [
            "shipit-0.9.dist-info/METADATA",
            "shipit-0.9.dist-info/RECORD",
            "shipit-0.9.dist-info/WHEEL",
            "shipit.py",
            "shipit_extra.py"
        ]
    );
    // --wheel alone, into another directory.
    let out = ctx.work().join("out");
    let mut cmd = ctx.ferry(["build", "--wheel", "-o"]);
    cmd.arg(&out).arg("--python").arg(&python).arg(&tree);
    ctx.run(&mut cmd).success();
    let found: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(found, ["shipit-0.9-py3-none-any.whl"]);
}

#[test]
fn ferry_wheel_saves_downloaded_and_built_wheels_for_an_offline_install() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = IndexServer::start();
    let helper = WheelBuilder::new("helper", "1.0")
        .file("helper.py", "HELP = True\n")
        .build();
    server.publish(&helper);
    server.publish(&Project::new("fromsrc", "2.0").dependency("helper").sdist());
    let wheel = |ctx: &TestContext| {
        let mut cmd = ctx.ferry(["wheel", "-w", "out", "-i", &server.url(), "--python"]);
        cmd.arg(&python).arg("fromsrc").current_dir(ctx.work());
        ctx.run(&mut cmd).success()
    };
    wheel(&ctx).stderr_contains("Saved");
    let out = ctx.work().join("out");
    assert_eq!(
        std::fs::read(out.join(&helper.filename)).unwrap(),
        helper.bytes,
        "a downloaded wheel is saved as it is"
    );
    assert!(out.join("fromsrc-2.0-py3-none-any.whl").is_file());
    wheel(&ctx).stderr_contains("File was already downloaded");

    let env = make_venv(&ctx, "env", &python, false);
    let mut cmd = ctx.ferry(["install", "--no-index", "-f"]);
    cmd.arg(&out).arg("--python").arg(&env).arg("fromsrc");
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Successfully installed fromsrc-2.0 helper-1.0");
}

#[test]
fn an_sdist_that_escapes_its_directory_is_refused_and_nothing_is_installed() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = helper_server();
    // Built by hand: the tar crate refuses to write `..` itself.
    let mut tar = tar::Builder::new(Vec::new());
    let metadata = "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n";
    for (name, data) in [
        ("evil-1.0/PKG-INFO", metadata),
        ("evil-1.0/../../escaped.py", "print('outside')\n"),
    ] {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append(&header, data.as_bytes()).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar.into_inner().unwrap()).unwrap();
    let evil = ferry_test::BuiltFile {
        filename: "evil-1.0.tar.gz".into(),
        name: "evil".into(),
        version: "1.0".into(),
        bytes: gz.finish().unwrap(),
        metadata: metadata.into(),
        requires_python: None,
    };
    server.publish(&evil);
    let env = make_venv(&ctx, "env", &python, false);
    let site = site_packages(&env);
    let before = snapshot(&site);
    let out = ctx
        .run(&mut install(&ctx, &env, &server, &["evil"]))
        .failure();
    assert!(
        out.stderr().contains("refusing to unpack") && out.stderr().contains("escaped.py"),
        "{}",
        out.stderr()
    );
    assert_eq!(snapshot(&site), before);
}

#[test]
fn the_installation_report_records_a_directory_as_pip_does() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = helper_server();
    let tree = Project::new("reported", "1.0").write(&ctx.work().join("reported"));
    let env = make_venv(&ctx, "env", &python, false);
    let path = tree.display().to_string();
    let out = ctx
        .run(&mut install(
            &ctx,
            &env,
            &server,
            &["--dry-run", "--report", "-", "-e", &path],
        ))
        .success();
    let report: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    let url = url::Url::from_file_path(&tree).unwrap().to_string();
    assert_eq!(
        report["install"][0]["download_info"],
        serde_json::json!({"url": url, "dir_info": {"editable": true}})
    );
    assert_eq!(report["install"][0]["is_direct"], serde_json::json!(true));
}

/// pip installs the same project (its in-tree backend needs nothing from an index) as a
/// directory, as an editable and as an archive; ferry's direct_url.json must be pip's.
#[test]
fn direct_url_json_is_the_one_pip_writes() {
    let python = pythons::with_pip().expect("a CPython with pip").path;
    let ctx = ctx();
    let server = helper_server();
    let tree = Project::new("same", "1.0").write(&ctx.work().join("same"));
    let archive = Project::new("same", "1.0").sdist().write_to(&ctx.work());
    let dir = tree.display().to_string();
    let archive = archive.display().to_string();
    // An sdist URL with no hash: pip hashes the download for archive_info, and so does ferry.
    let sdist = Project::new("same", "1.0").sdist();
    server.publish(&sdist);
    let remote = format!("same @ {}", server.file_url(&sdist.filename));
    let cases: [&[&str]; 4] = [&[&dir], &["-e", &dir], &[&archive], &[&remote]];
    for (i, args) in cases.iter().enumerate() {
        let by_pip = pip_install(&ctx, &python, &format!("pip-{i}"), args);
        let by_ferry = make_venv(&ctx, &format!("ferry-{i}"), &python, false);
        ctx.run(&mut install(&ctx, &by_ferry, &server, args))
            .success();
        let dist_info = "same-1.0.dist-info";
        assert_eq!(
            direct_url(&site_packages(&by_ferry), dist_info),
            direct_url(&site_packages(&by_pip), dist_info),
            "{args:?}"
        );
    }
}

#[test]
fn a_project_in_a_subdirectory_or_an_oddly_named_archive_installs_as_pip_does() {
    let python = pythons::with_pip().expect("a CPython with pip").path;
    let ctx = ctx();
    let server = helper_server();
    // A repository whose project is in `sub/`, as a tree, a local archive and a remote one.
    let repo = ctx.work().join("mono");
    Project::new("subproj", "1.0")
        .dependency("helper")
        .write(&repo.join("sub"));
    std::fs::write(repo.join("README"), "not a project\n").unwrap();
    // The tree packed with Python's tarfile into `archive` under `top`, and served by the index.
    let pack = |tree: &Path, archive: &str, top: &str| {
        let path = ctx.work().join(archive);
        let script = format!(
            "import tarfile; t = tarfile.open({:?}, 'w:gz'); t.add({:?}, arcname={top:?}); t.close()",
            path.display().to_string(),
            tree.display().to_string()
        );
        let status = Command::new(&python)
            .args(["-c", &script])
            .status()
            .unwrap();
        assert!(status.success());
        server.publish(&ferry_test::BuiltFile {
            filename: archive.into(),
            name: archive.split(['-', '.']).next().unwrap().into(),
            version: "1.0".into(),
            bytes: std::fs::read(&path).unwrap(),
            metadata: String::new(),
            requires_python: None,
        });
        path
    };
    let archive = pack(&repo, "mono-1.0.tar.gz", "mono-1.0");
    // And the project alone, in an archive not named like an sdist (a code host's snapshot).
    pack(&repo.join("sub"), "snapshot.tar.gz", "proj-snapshot");
    let tree_url = url::Url::from_file_path(&repo).unwrap();
    let archive_url = url::Url::from_file_path(&archive).unwrap();
    let cases = [
        format!("subproj @ {tree_url}#subdirectory=sub"),
        format!("subproj @ {archive_url}#subdirectory=sub"),
        format!(
            "subproj @ {}#subdirectory=sub",
            server.file_url("mono-1.0.tar.gz")
        ),
        format!("subproj @ {}", server.file_url("snapshot.tar.gz")),
    ];
    for (i, requirement) in cases.iter().enumerate() {
        let by_pip = pip_install(
            &ctx,
            &python,
            &format!("pip-{i}"),
            &["--no-deps", requirement],
        );
        let by_ferry = make_venv(&ctx, &format!("ferry-{i}"), &python, false);
        ctx.run(&mut install(&ctx, &by_ferry, &server, &[requirement]))
            .success()
            .stderr_contains("Successfully installed helper-1.0 subproj-1.0");
        let dist_info = "subproj-1.0.dist-info";
        let ours = direct_url(&site_packages(&by_ferry), dist_info);
        let sub = requirement.contains("#subdirectory=");
        assert_eq!(ours["subdirectory"] == "sub", sub, "{requirement}");
        assert_eq!(
            ours,
            direct_url(&site_packages(&by_pip), dist_info),
            "{requirement}"
        );
        let freeze = ctx
            .run(ctx.ferry(["freeze", "--python"]).arg(&by_ferry))
            .success()
            .stdout();
        assert_eq!(freeze.contains("subdirectory=sub"), sub, "{freeze}");
        assert_eq!(
            python_output(
                &by_ferry.join("bin/python"),
                "import subproj; print(subproj.VERSION)"
            ),
            "1.0"
        );
    }
    // A path that leaves the project is refused, naming it.
    let env = make_venv(&ctx, "bad", &python, false);
    let escape = format!("subproj @ {tree_url}#subdirectory=../elsewhere");
    ctx.run(&mut install(&ctx, &env, &server, &[&escape]))
        .failure()
        .stderr_contains("#subdirectory=../elsewhere");
}

#[test]
fn an_sdist_whose_hash_is_not_the_one_asked_for_is_refused() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = helper_server();
    server.publish(&Project::new("fromsrc", "2.0").sdist());
    let env = make_venv(&ctx, "env", &python, false);
    let site = site_packages(&env);
    let before = snapshot(&site);
    let wrong = "0".repeat(64);
    std::fs::write(
        ctx.work().join("req.txt"),
        format!("fromsrc==2.0 --hash=sha256:{wrong}\n"),
    )
    .unwrap();
    let out = ctx
        .run(install(&ctx, &env, &server, &["-r", "req.txt"]).current_dir(ctx.work()))
        .failure();
    assert!(
        out.stderr().contains("hash mismatch for fromsrc") && out.stderr().contains(&wrong),
        "{}",
        out.stderr()
    );
    assert_eq!(snapshot(&site), before);
}

#[test]
fn a_project_directory_is_rebuilt_after_an_edit_and_not_before() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = helper_server();
    let tree = Project::new("changing", "1.0").write(&ctx.work().join("changing"));
    let env = make_venv(&ctx, "env", &python, false);
    let path = tree.display().to_string();
    let run = |ctx: &TestContext| {
        ctx.run(&mut install(ctx, &env, &server, &["-v", &path]))
            .success()
            .stderr()
    };
    let first = run(&ctx);
    assert!(
        first.contains("Running the backend's build_wheel"),
        "{first}"
    );
    let again = run(&ctx);
    assert!(!again.contains("Running the backend"), "{again}");
    // Build outputs at the top of the tree (cargo's target/, say) are not the project...
    for output in ["build", "dist", "target"] {
        std::fs::create_dir_all(tree.join(output)).unwrap();
        std::fs::write(tree.join(output).join("artifact"), "x").unwrap();
    }
    let again = run(&ctx);
    assert!(!again.contains("Running the backend"), "{again}");
    // ...but a subpackage called `build` is.
    std::fs::create_dir_all(tree.join("src/build")).unwrap();
    std::fs::write(tree.join("src/build/__init__.py"), "").unwrap();
    let sub = run(&ctx);
    assert!(sub.contains("Running the backend's build_wheel"), "{sub}");
    std::fs::write(tree.join("src/changing.py"), "VERSION = \"edited\"\n").unwrap();
    let edited = run(&ctx);
    assert!(
        edited.contains("Running the backend's build_wheel"),
        "{edited}"
    );
    assert_eq!(
        python_output(
            &env.join("bin/python"),
            "import changing; print(changing.VERSION)"
        ),
        "edited"
    );
}

#[test]
fn config_settings_on_a_requirements_line_reach_that_project_only() {
    let python = pythons::with_pip().expect("a CPython").path;
    let ctx = ctx();
    let server = helper_server();
    let tree = Project::new("perline", "1.0").write(&ctx.work().join("perline"));
    let url = url::Url::from_file_path(&tree).unwrap();
    std::fs::write(
        ctx.work().join("req.txt"),
        format!("perline @ {url} --config-settings flavour=lime\n"),
    )
    .unwrap();
    let env = make_venv(&ctx, "env", &python, false);
    ctx.run(install(&ctx, &env, &server, &["-r", "req.txt"]).current_dir(ctx.work()))
        .success();
    let marker = site_packages(&env).join("perline_setting_flavour.txt");
    assert_eq!(std::fs::read_to_string(marker).unwrap(), "lime");
}

/// Runs `cmd` with a terminal as stdin/stdout/stderr (through `script`), and returns what the
/// terminal showed.
fn on_a_terminal(ctx: &TestContext, cmd: &Command) -> String {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let mut line = quote(cmd.get_program());
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    let mut script = ctx.command("script");
    script.args(["-qec", &line, "/dev/null"]);
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => script.env(key, value),
            None => script.env_remove(key),
        };
    }
    script.current_dir(ctx.work());
    let out = script.output().expect("run script");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn builds_show_a_spinner_on_a_terminal_only() {
    let python = pythons::newest().path;
    let ctx = ctx();
    let server = helper_server();
    let tree = Project::new("spinning", "1.0").write(&ctx.work().join("spinning"));
    let env = make_venv(&ctx, "env", &python, false);
    let path = tree.display().to_string();
    let cmd = install(&ctx, &env, &server, &["--no-cache-dir", &path]);
    let shown = on_a_terminal(&ctx, &cmd);
    assert!(
        shown.contains(&format!("Building {path}: build wheel")),
        "{shown}"
    );
    assert!(shown.contains("Built spinning-1.0"), "{shown}");
    // Not without a terminal, and not with --progress-bar off.
    let mut cmd = install(
        &ctx,
        &env,
        &server,
        &["--no-cache-dir", "--force-reinstall", &path],
    );
    let out = ctx.run(&mut cmd).success();
    assert!(!out.stderr().contains("Building "), "{}", out.stderr());
    let cmd = install(
        &ctx,
        &env,
        &server,
        &[
            "--no-cache-dir",
            "--force-reinstall",
            "--progress-bar",
            "off",
            &path,
        ],
    );
    let shown = on_a_terminal(&ctx, &cmd);
    assert!(!shown.contains("Building "), "{shown}");
    assert!(shown.contains("Built spinning-1.0"), "{shown}");
}

#[test]
fn check_build_dependencies_needs_them_installed_without_isolation() {
    let python = pythons::newest().path;
    let ctx = ctx();
    let server = helper_server();
    let tree = Project::new("checked", "1.0").write(&ctx.work().join("checked"));
    // pip checks `build-system.requires` (not what the backend's hooks add).
    let pyproject = tree.join("pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap().replace(
        "requires = []",
        r#"requires = ["helper>=1.0", "unused-on-this-python; python_version < '3'"]"#,
    );
    std::fs::write(&pyproject, text).unwrap();
    let env = make_venv(&ctx, "env", &python, false);
    let path = tree.display().to_string();
    let args = ["--no-build-isolation", "--check-build-dependencies", &path];
    let out = ctx.run(&mut install(&ctx, &env, &server, &args)).failure();
    let err = out.stderr();
    assert!(
        err.contains("'helper>=1.0'") && err.contains("missing") && !err.contains("unused"),
        "{err}"
    );
    // Without the check, pip's behaviour: the backend runs with what is there.
    ctx.run(&mut install(
        &ctx,
        &env,
        &server,
        &["--no-build-isolation", &path],
    ))
    .success();
    // With the requirement installed, the check passes.
    ctx.run(&mut install(&ctx, &env, &server, &["helper"]))
        .success();
    ctx.run(&mut install(
        &ctx,
        &env,
        &server,
        &[&args[..], &["--force-reinstall", "--no-deps"]].concat(),
    ))
    .success();
    // A version that does not fit is named.
    let text = std::fs::read_to_string(&pyproject)
        .unwrap()
        .replace("helper>=1.0", "helper>=2");
    std::fs::write(&pyproject, text).unwrap();
    ctx.run(&mut install(&ctx, &env, &server, &args))
        .failure()
        .stderr_contains("helper 1.0 (wanted: 'helper>=2')");
    // --no-use-pep517 asks for what ferry does not do; --use-pep517 is accepted.
    ctx.run(&mut install(
        &ctx,
        &env,
        &server,
        &["--no-use-pep517", &path],
    ))
    .failure()
    .stderr_contains("PEP 517");
    ctx.run(&mut install(
        &ctx,
        &env,
        &server,
        &["--use-pep517", "--no-build-isolation", &path],
    ))
    .success();
}
