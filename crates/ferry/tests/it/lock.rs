//! PEP 751 lock files: `ferry lock` writes one, `ferry install -r pylock.toml` installs exactly
//! it without the index.

use std::path::Path;

use ferry_test::{pythons, IndexServer, TestContext, WheelBuilder};

use crate::common::{ctx, make_venv, site_packages};

fn server() -> (IndexServer, Vec<ferry_test::BuiltFile>) {
    let server = IndexServer::start();
    let app = WheelBuilder::new("lockapp", "1.0")
        .requires_dist("lockdep>=2")
        .requires_dist("winonly; sys_platform == 'win32'")
        .build();
    let dep = WheelBuilder::new("lockdep", "2.1").build();
    let newer = WheelBuilder::new("lockdep", "2.0").build();
    server.publish(&app).publish(&dep).publish(&newer);
    (server, vec![app, dep])
}

fn read_toml(path: &Path) -> toml::Value {
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn lock(ctx: &TestContext, server: &IndexServer, out: &Path, args: &[&str]) {
    let mut cmd = ctx.ferry(["lock", "-i", &server.url(), "-o"]);
    cmd.arg(out)
        .args(args)
        .arg("--python")
        .arg(&pythons::newest().path);
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Locked 2 packages");
}

#[test]
fn a_lock_is_pep_751_and_installs_offline_exactly_as_locked() {
    let ctx = ctx();
    let (server, files) = server();
    let path = ctx.work().join("pylock.toml");
    lock(&ctx, &server, &path, &["lockapp"]);

    // The PEP's shape: lock-version and created-by, then packages by name, each with its one
    // file's name, URL, size, upload time and sha256, and the index.
    let lock = read_toml(&path);
    assert_eq!(lock["lock-version"].as_str(), Some("1.0"));
    assert_eq!(lock["created-by"].as_str(), Some("ferry"));
    let packages = lock["packages"].as_array().unwrap();
    let names: Vec<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lockapp", "lockdep"]);
    for (package, file) in packages.iter().zip(&files) {
        assert_eq!(package["version"].as_str(), Some(file.version.as_str()));
        assert_eq!(package["index"].as_str(), Some(server.url().as_str()));
        let wheels = package["wheels"].as_array().unwrap();
        assert_eq!(wheels.len(), 1);
        let wheel = &wheels[0];
        assert_eq!(wheel["name"].as_str(), Some(file.filename.as_str()));
        assert_eq!(
            wheel["url"].as_str(),
            Some(server.file_url(&file.filename).as_str())
        );
        assert_eq!(wheel["size"].as_integer(), Some(file.bytes.len() as i64));
        assert!(wheel["upload-time"].is_datetime(), "{wheel}");
        assert_eq!(
            wheel["hashes"]["sha256"].as_str(),
            Some(file.sha256().as_str())
        );
        assert!(package.get("sdist").is_none() && package.get("vcs").is_none());
    }

    // Installing it: the files come from the lock's URLs, hash-checked; no page is read.
    let env = make_venv(&ctx, "env", &pythons::newest().path, false);
    server.clear_requests();
    let mut cmd = ctx.ferry(["install", "-r"]);
    cmd.arg(&path).arg("--python").arg(&env);
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Successfully installed lockapp-1.0 lockdep-2.1");
    let requests = server.requests();
    assert!(
        requests.iter().all(|r| r.path.ends_with(".whl")),
        "only the locked files were fetched: {requests:?}"
    );

    // Again into a new environment, offline, with the index gone: everything is cached.
    drop(server);
    let offline = make_venv(&ctx, "offline", &pythons::newest().path, false);
    let mut cmd = ctx.ferry(["install", "--offline", "-r"]);
    cmd.arg(&path).arg("--python").arg(&offline);
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Successfully installed lockapp-1.0 lockdep-2.1");
    // freeze is the lock.
    let frozen = ctx
        .run(ctx.ferry(["freeze", "--python"]).arg(&offline))
        .success()
        .stdout();
    assert_eq!(frozen, "lockapp==1.0\nlockdep==2.1\n");
    assert!(site_packages(&offline)
        .join("lockapp-1.0.dist-info/REQUESTED")
        .exists());
}

#[test]
fn markers_skip_wheels_are_chosen_by_tag_and_unusable_locks_say_why() {
    let ctx = ctx();
    let server = IndexServer::start();
    let pure = WheelBuilder::new("picked", "1.0").build();
    let win = WheelBuilder::new("picked", "1.0")
        .tag("cp312-cp312-win_amd64")
        .build();
    let bad = WheelBuilder::new("badhash", "1.0").build();
    server.publish(&pure).publish(&win).publish(&bad);
    let entry = |name: &str, version: &str, wheels: &[&ferry_test::BuiltFile], extra: &str| {
        let mut text = format!("[[packages]]\nname = \"{name}\"\nversion = \"{version}\"\n{extra}");
        for wheel in wheels {
            text.push_str(&format!(
                "[[packages.wheels]]\nname = \"{}\"\nurl = \"{}\"\nhashes = {{ sha256 = \"{}\" }}\n",
                wheel.filename,
                server.file_url(&wheel.filename),
                wheel.sha256()
            ));
        }
        text
    };
    let head = "lock-version = \"1.0\"\ncreated-by = \"hand\"\n";
    let env = make_venv(&ctx, "env", &pythons::newest().path, false);
    let install = |text: &str| {
        let path = ctx.work().join("pylock.toml");
        std::fs::write(&path, text).unwrap();
        let mut cmd = ctx.ferry(["install", "-r"]);
        cmd.arg(&path).arg("--python").arg(&env);
        cmd
    };

    // Two wheels: the one for this interpreter. A package whose marker does not hold: skipped.
    let text = format!(
        "{head}{}{}",
        entry("picked", "1.0", &[&win, &pure], ""),
        entry(
            "winonly",
            "1.0",
            &[&win],
            "marker = \"sys_platform == 'win32'\"\n"
        )
    );
    ctx.run(&mut install(&text))
        .success()
        .stderr_contains("Successfully installed picked-1.0");
    let record = std::fs::read_to_string(site_packages(&env).join("picked-1.0.dist-info/RECORD"));
    assert!(record.is_ok());

    // Nothing usable here: one error with every reason, and nothing changes.
    let text = format!(
        "{head}requires-python = \">=3.99\"\n{}{}",
        entry("winstuff", "1.0", &[&win], ""),
        entry("old", "1.0", &[&pure], "requires-python = \"<3\"\n"),
    );
    let err = ctx.run(&mut install(&text)).failure().stderr();
    assert!(
        err.contains("cannot be installed on this interpreter")
            && err.contains("the lock requires Python >=3.99")
            && err.contains("winstuff 1.0: none of its 1 wheels suits this interpreter")
            && err.contains("old 1.0 requires Python <3"),
        "{err}"
    );

    // A locked hash that does not match the file: refused, naming it.
    let mut text = format!("{head}{}", entry("badhash", "1.0", &[&bad], ""));
    text = text.replace(&bad.sha256(), &"0".repeat(64));
    let err = ctx.run(&mut install(&text)).failure().stderr();
    assert!(
        err.contains(&bad.filename) && err.contains("sha256"),
        "{err}"
    );
    assert!(!site_packages(&env).join("badhash-1.0.dist-info").exists());

    // A lock goes alone.
    let path = ctx.work().join("pylock.toml");
    let mut cmd = ctx.ferry(["install", "-r"]);
    cmd.arg(&path).args(["other", "--python"]).arg(&env);
    let err = ctx.run(&mut cmd).failure().stderr();
    assert!(err.contains("installed on its own"), "{err}");
}

#[test]
fn sync_makes_the_environment_exactly_the_requirements_or_the_lock() {
    let ctx = ctx();
    let (server, _) = server();
    server.publish(&WheelBuilder::new("extra-one", "1.0").build());
    server.publish(&WheelBuilder::new("extra-two", "1.0").build());
    let env = make_venv(
        &ctx,
        "env",
        Path::new(&crate::common::python_with_pip()),
        true,
    );
    let mut cmd = crate::common::install(
        &ctx,
        &env,
        &server,
        &["extra-one", "extra-two", "lockdep==2.0"],
    );
    ctx.run(&mut cmd).success();

    let reqs = ctx.work().join("requirements.txt");
    std::fs::write(&reqs, "lockapp==1.0\nlockdep==2.1\n").unwrap();
    let mut cmd = ctx.ferry(["sync", "-i", &server.url(), "--dry-run", "--python"]);
    cmd.arg(&env).arg(&reqs);
    let out = ctx.run(&mut cmd).success().stderr();
    assert!(
        out.contains("Would install lockapp-1.0 lockdep-2.1"),
        "{out}"
    );
    assert!(
        out.contains("Would uninstall") && out.contains("extra-one-1.0"),
        "{out}"
    );

    // With --keep-seed-packages pip stays; the rest not listed goes.
    let mut cmd = ctx.ferry([
        "sync",
        "-i",
        &server.url(),
        "--keep-seed-packages",
        "--python",
    ]);
    cmd.arg(&env).arg(&reqs);
    let out = ctx.run(&mut cmd).success().stderr();
    assert!(
        out.contains("Uninstalled extra-one-1.0") && out.contains("Uninstalled extra-two-1.0"),
        "{out}"
    );
    let frozen = ctx
        .run(ctx.ferry(["freeze", "--all", "--python"]).arg(&env))
        .success()
        .stdout();
    let names: Vec<&str> = frozen
        .lines()
        .map(|l| l.split("==").next().unwrap())
        .collect();
    assert!(names.contains(&"pip"), "{frozen}");
    assert!(frozen.contains("lockapp==1.0\nlockdep==2.1\n"), "{frozen}");
    assert!(!frozen.contains("extra-"), "{frozen}");

    // From a lock, without --keep-seed-packages: pip goes too, and only the lock remains.
    let lock_path = ctx.work().join("pylock.toml");
    lock(&ctx, &server, &lock_path, &["lockapp"]);
    let mut cmd = ctx.ferry(["sync", "--python"]);
    cmd.arg(&env).arg(&lock_path);
    ctx.run(&mut cmd).success();
    let frozen = ctx
        .run(ctx.ferry(["freeze", "--all", "--python"]).arg(&env))
        .success()
        .stdout();
    assert_eq!(frozen, "lockapp==1.0\nlockdep==2.1\n");
    // Nothing to do the second time.
    let mut cmd = ctx.ferry(["sync", "--python"]);
    cmd.arg(&env).arg(&lock_path);
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Nothing to install");
}

#[test]
fn locks_written_by_pip_and_uv_install() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/locks");
    for name in ["pip.pylock.toml", "uv.pylock.toml"] {
        let ctx = ctx();
        let server = IndexServer::start();
        for wheel in ferry_test::lock_fixture_wheels() {
            server.publish(&wheel);
        }
        // The tools wrote it against a server on another port: point it at this one.
        let mut text = std::fs::read_to_string(fixtures.join(name)).unwrap();
        while let Some(at) = text.find("http://127.0.0.1:") {
            let start = at + "http://127.0.0.1:".len();
            let end = start
                + text[start..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .count();
            text.replace_range(at..end, "FERRY-BASE");
        }
        let text = text.replace("FERRY-BASE", server.base_url().trim_end_matches('/'));
        let path = ctx.work().join("pylock.toml");
        std::fs::write(&path, text).unwrap();
        let env = make_venv(&ctx, "env", &pythons::newest().path, false);
        let mut cmd = ctx.ferry(["install", "-r"]);
        cmd.arg(&path).arg("--python").arg(&env);
        ctx.run(&mut cmd)
            .success()
            .stderr_contains("Successfully installed fixdep-2.0 fixpkg-1.0");
        assert_eq!(
            crate::common::python_output(
                &env.join("bin/python"),
                "import fixpkg; print(fixpkg.FROM)"
            ),
            "lock",
            "{name}"
        );
    }
}

#[test]
fn uploaded_prior_to_takes_the_files_uploaded_before_a_date() {
    let ctx = ctx();
    let server = IndexServer::start();
    let at = |time: &str| ferry_test::FileOptions {
        upload_time: Some(time.to_string()),
        ..Default::default()
    };
    server.publish_with(
        &WheelBuilder::new("dated", "1.0").build(),
        at("2025-01-01T00:00:00Z"),
    );
    server.publish_with(
        &WheelBuilder::new("dated", "2.0").build(),
        at("2026-06-01T12:00:00.5Z"),
    );
    let python = pythons::newest().path;
    let input = ctx.work().join("requirements.in");
    std::fs::write(&input, "dated\n").unwrap();
    let resolve = |args: &[&str]| {
        let mut cmd = ctx.ferry(["compile", "-i", &server.url(), "--no-header", "--python"]);
        cmd.arg(&python).arg(&input).args(args);
        cmd
    };
    let pins = |cmd: &mut std::process::Command| {
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, err) = pins(&mut resolve(&[]));
    assert!(ok && out.contains("dated==2.0"), "{out}{err}");
    let (ok, out, err) = pins(&mut resolve(&["--uploaded-prior-to", "2026-01-01"]));
    assert!(ok && out.contains("dated==1.0"), "{out}{err}");
    // pip's configuration spelling, and uv's name for the option.
    let (ok, out, _) = pins(resolve(&[]).env("PIP_UPLOADED_PRIOR_TO", "2026-06-01T12:00:00Z"));
    assert!(ok && out.contains("dated==1.0"), "{out}");
    let (ok, out, _) = pins(&mut resolve(&["--exclude-newer", "2026-06-02"]));
    assert!(ok && out.contains("dated==2.0"), "{out}");
    // A bad date is an error naming it.
    let (ok, _, err) = pins(&mut resolve(&["--uploaded-prior-to", "last week"]));
    assert!(!ok && err.contains("last week"), "{err}");
    // An index that gives no upload times (HTML pages): every file is left out, with a warning.
    server.set_format(ferry_test::PageFormat::Html);
    let (ok, _, err) = pins(&mut resolve(&[
        "--uploaded-prior-to",
        "2027-01-01",
        "--refresh",
    ]));
    assert!(!ok && err.contains("no upload time"), "{err}");
}

#[test]
fn dependency_groups_and_script_metadata_are_requirements() {
    let ctx = ctx();
    let server = IndexServer::start();
    for name in ["grouped", "included", "scripted"] {
        server.publish(&WheelBuilder::new(name, "1.0").build());
    }
    let project = ctx.work().join("proj");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("pyproject.toml"),
        "[dependency-groups]\nTest = [\"grouped\", {include-group = \"base\"}]\nbase = [\"included==1.0\"]\nloop = [{include-group = \"loop\"}]\n",
    )
    .unwrap();
    let script = ctx.work().join("tool.py");
    std::fs::write(
        &script,
        "#!/usr/bin/env python\n# /// script\n# requires-python = \">=3.8\"\n# dependencies = [\n#   \"scripted>=1\",\n# ]\n# ///\nprint('hi')\n",
    )
    .unwrap();
    let env = make_venv(&ctx, "env", &pythons::newest().path, false);
    let mut cmd = crate::common::install(&ctx, &env, &server, &["--group"]);
    cmd.arg(format!("{}:test", project.join("pyproject.toml").display()))
        .arg("--requirements-from-script")
        .arg(&script);
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Successfully installed grouped-1.0 included-1.0 scripted-1.0");

    // A group that is not there names the ones that are; an include cycle is an error.
    let mut cmd = crate::common::install(&ctx, &env, &server, &["--group", "nope"]);
    cmd.current_dir(&project);
    let err = ctx.run(&mut cmd).failure().stderr();
    assert!(
        err.contains("no dependency group `nope`") && err.contains("base, loop, test"),
        "{err}"
    );
    let mut cmd = crate::common::install(&ctx, &env, &server, &["--group", "loop"]);
    cmd.current_dir(&project);
    let err = ctx.run(&mut cmd).failure().stderr();
    assert!(err.contains("includes itself"), "{err}");
    // A script for a Python the target is not.
    std::fs::write(
        &script,
        "# /// script\n# requires-python = \"<3\"\n# dependencies = []\n# ///\n",
    )
    .unwrap();
    let mut cmd = crate::common::install(&ctx, &env, &server, &["--requirements-from-script"]);
    cmd.arg(&script);
    let err = ctx.run(&mut cmd).failure().stderr();
    assert!(err.contains("tool.py requires Python <3"), "{err}");
}

/// Validates lock files with `packaging.pylock` (the reference reader of PEP 751's format,
/// installed from the index into a venv of the test's own).
fn validate_with_packaging(ctx: &TestContext, locks: &[&Path]) {
    let tools = make_venv(ctx, "validator", &pythons::newest().path, false);
    ctx.run(
        ctx.ferry(["install", "-q", "packaging>=26", "--python"])
            .arg(&tools),
    )
    .success();
    let script = "import sys, tomllib\nfrom packaging.pylock import Pylock\nfor path in sys.argv[1:]:\n    with open(path, 'rb') as f:\n        lock = Pylock.from_dict(tomllib.load(f))\n    print(len(lock.packages))\n";
    let mut cmd = ctx.command(tools.join("bin/python"));
    cmd.args(["-c", script]).args(locks);
    let out = ctx.run(&mut cmd).success();
    assert_eq!(
        out.stdout().lines().count(),
        locks.len(),
        "{}",
        out.stderr()
    );
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn live_locks_of_every_kind_validate_with_packaging_pylock() {
    let ctx = ctx();
    ctx.env("PIP_CONFIG_FILE", "");
    // Files from an index, with a marker-skipped dependency.
    let (server, _) = server();
    let from_index = ctx.work().join("pylock.toml");
    lock(&ctx, &server, &from_index, &["lockapp"]);
    // A git checkout, a project directory and an sdist archive by path.
    let repo_dir = ctx.work().join("repo");
    let repo = ferry_test::GitRepo::init(&repo_dir);
    ferry_test::Project::new("fromgit", "1.0").write(&repo_dir);
    repo.commit("fromgit 1.0");
    let dir = ferry_test::Project::new("fromdir", "1.0").write(&ctx.work().join("fromdir"));
    let archive = ferry_test::Project::new("fromsdist", "1.0")
        .sdist()
        .write_to(&ctx.work());
    let sources = ctx.work().join("pylock.sources.toml");
    let mut cmd = ctx.ferry(["lock", "--no-index", "-o"]);
    cmd.arg(&sources)
        .arg(format!("fromgit @ git+{}", repo.file_url()))
        .arg(&dir)
        .arg(&archive)
        .arg("--python")
        .arg(&pythons::newest().path);
    ctx.run(&mut cmd).success();
    let text = std::fs::read_to_string(&sources).unwrap();
    for kind in [
        "[packages.vcs]",
        "[packages.directory]",
        "[packages.archive]",
    ] {
        assert!(text.contains(kind), "{kind} in {text}");
    }
    validate_with_packaging(&ctx, &[&from_index, &sources]);
}
