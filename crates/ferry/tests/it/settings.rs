//! pip's configuration reaches every option the way pip reads it, end to end; files ferry
//! writes are written the way users expect; a closed stdout is a quiet success.

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use ferry_test::{IndexServer, TestContext, WheelBuilder};

use crate::common::{ctx, python_with_pip as python};

fn index() -> IndexServer {
    let server = IndexServer::start();
    server.publish(
        &WheelBuilder::new("app", "1.0")
            .file("app/__init__.py", "")
            .requires_dist("lib")
            .build(),
    );
    server.publish(
        &WheelBuilder::new("lib", "1.0")
            .file("lib/__init__.py", "")
            .build(),
    );
    server.publish(&ferry_test::SdistBuilder::new("lib", "1.0").build());
    server
}

/// `ferry install --dry-run --report - app` with `configure` applied; the report's names and
/// the file kinds chosen.
fn dry_run(
    ctx: &TestContext,
    server: &IndexServer,
    configure: &dyn Fn(&mut std::process::Command),
) -> Vec<String> {
    let mut cmd = ctx.ferry(["install", "--dry-run", "--report", "-", "app", "--python"]);
    cmd.arg(python()).args(["-i", &server.url()]);
    configure(&mut cmd);
    let out = ctx.run(&mut cmd).success();
    let report: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    let mut items: Vec<String> = report["install"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let url = item["download_info"]["url"].as_str().unwrap();
            let kind = if url.ends_with(".whl") {
                "wheel"
            } else {
                "sdist"
            };
            format!("{}:{kind}", item["metadata"]["name"].as_str().unwrap())
        })
        .collect();
    items.sort();
    items
}

#[test]
fn pip_variables_and_config_files_change_what_is_resolved() {
    let ctx = ctx();
    let server = index();
    assert_eq!(dry_run(&ctx, &server, &|_| {}), ["app:wheel", "lib:wheel"]);
    // PIP_NO_DEPS=1: only what was named, as pip does.
    assert_eq!(
        dry_run(&ctx, &server, &|c| {
            c.env("PIP_NO_DEPS", "1");
        }),
        ["app:wheel"]
    );
    // PIP_NO_BINARY: the sdist instead of the wheel (its metadata is static).
    assert_eq!(
        dry_run(&ctx, &server, &|c| {
            c.env("PIP_NO_BINARY", "lib");
        }),
        ["app:wheel", "lib:sdist"]
    );
    // `no-deps = true` under [install] in the file PIP_CONFIG_FILE names; [download] is ignored.
    let conf = ctx.work().join("pip.conf");
    std::fs::write(
        &conf,
        "[download]\nno-binary = :all:\n[install]\nno-deps = true\n",
    )
    .unwrap();
    assert_eq!(
        dry_run(&ctx, &server, &|c| {
            c.env("PIP_CONFIG_FILE", &conf);
        }),
        ["app:wheel"]
    );
    // The command line wins over the environment: PIP_INDEX_URL names a dead port, `-i` the
    // live index.
    assert_eq!(
        dry_run(&ctx, &server, &|c| {
            c.env("PIP_INDEX_URL", "http://127.0.0.1:9/simple/");
        }),
        ["app:wheel", "lib:wheel"]
    );
    // A bad configured value names its variable.
    let mut cmd = ctx.ferry(["install", "--dry-run", "app", "--python"]);
    cmd.arg(python())
        .args(["-i", &server.url()])
        .env("PIP_TIMEOUT", "soon");
    ctx.run(&mut cmd).failure().stderr_contains("PIP_TIMEOUT");
}

#[test]
fn requirements_file_options_are_applied() {
    let ctx = ctx();
    let server = index();
    std::fs::write(
        ctx.work().join("r.txt"),
        format!("--index-url {}\n--no-binary lib\napp\n", server.url()),
    )
    .unwrap();
    let out = ctx
        .run(
            ctx.ferry([
                "install",
                "--dry-run",
                "--report",
                "-",
                "-r",
                "r.txt",
                "--python",
            ])
            .arg(python()),
        )
        .success();
    assert!(out.stdout().contains("lib-1.0.tar.gz"), "{}", out.stdout());

    // --require-hashes in a file is honoured: nothing has a hash, so the install is refused.
    std::fs::write(
        ctx.work().join("h.txt"),
        format!("--index-url {}\n--require-hashes\nlib==1.0\n", server.url()),
    )
    .unwrap();
    let venv = ctx.work().join("v");
    ctx.run(ctx.ferry(["venv"]).arg(&venv).args(["--python", &python()]))
        .success();
    ctx.run(ctx.ferry(["install", "-r", "h.txt", "--python"]).arg(&venv))
        .failure()
        .stderr_contains("hashes are required");

    // An -e line is read and refused clearly, naming file and line.
    std::fs::write(ctx.work().join("e.txt"), "-e ./proj\n").unwrap();
    ctx.run(ctx.ferry(["install", "-r", "e.txt", "--python"]).arg(&venv))
        .failure()
        .stderr_contains("e.txt line 1");
}

#[test]
fn output_files_keep_links_devices_and_the_umask() {
    let ctx = ctx();
    let server = index();
    std::fs::write(ctx.work().join("requirements.in"), "app\n").unwrap();
    let py = python();
    let compile = |out: &str| {
        ctx.run(
            ctx.command("sh")
                .args(["-c", "umask 022 && exec \"$@\"", "sh"])
                .arg(env!("CARGO_BIN_EXE_ferry"))
                .args([
                    "compile",
                    "requirements.in",
                    "--python",
                    &py,
                    "-i",
                    &server.url(),
                    "-o",
                    out,
                ]),
        )
        .success();
    };
    let report = |out: &str| {
        ctx.run(
            ctx.command("sh")
                .args(["-c", "umask 027 && exec \"$@\"", "sh"])
                .arg(env!("CARGO_BIN_EXE_ferry"))
                .args([
                    "install",
                    "--dry-run",
                    "app",
                    "--python",
                    &py,
                    "-i",
                    &server.url(),
                    "--report",
                    out,
                ]),
        )
        .success();
    };
    // New files: the umask's mode, not a temporary file's 0600.
    compile("pins.txt");
    report("report.json");
    let mode = |name: &str| {
        std::fs::metadata(ctx.work().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("pins.txt"), 0o644);
    assert_eq!(mode("report.json"), 0o640);

    // Symlinks are written through.
    std::fs::write(ctx.work().join("real.txt"), "").unwrap();
    std::fs::write(ctx.work().join("real.json"), "").unwrap();
    std::os::unix::fs::symlink("real.txt", ctx.work().join("link.txt")).unwrap();
    std::os::unix::fs::symlink("real.json", ctx.work().join("link.json")).unwrap();
    compile("link.txt");
    report("link.json");
    for (link, real) in [("link.txt", "real.txt"), ("link.json", "real.json")] {
        let meta = std::fs::symlink_metadata(ctx.work().join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} is still a link");
        let text = std::fs::read_to_string(ctx.work().join(real)).unwrap();
        assert!(text.contains("app"), "{real}: {text}");
    }

    // A FIFO is written in place (a reader gets the text), never replaced by a file.
    for (name, write) in [
        ("pins.fifo", &compile as &dyn Fn(&str)),
        ("report.fifo", &report),
    ] {
        let fifo = ctx.work().join(name);
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write(name);
        assert!(reader.join().unwrap().contains("app"));
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
    }
}

#[test]
fn a_closed_stdout_is_a_quiet_success() {
    let ctx = ctx();
    let server = index();
    let py = python();
    std::fs::write(ctx.work().join("requirements.in"), "app\n").unwrap();
    let venv = ctx.work().join("v");
    ctx.run(
        ctx.ferry(["venv", "--seed"])
            .arg(&venv)
            .args(["--python", &py]),
    )
    .success();
    let venv_s = venv.display().to_string();
    let url = server.url();
    let commands: Vec<Vec<&str>> = vec![
        vec!["freeze", "--all", "--python", &venv_s],
        vec!["list", "--python", &venv_s],
        vec!["show", "pip", "--python", &venv_s],
        vec!["check", "--python", &venv_s],
        vec!["python", "find", &py],
        vec!["cache", "dir"],
        vec!["index", "versions", "app", "--python", &py, "-i", &url],
        vec!["compile", "requirements.in", "--python", &py, "-i", &url],
        vec![
            "install",
            "--dry-run",
            "--report",
            "-",
            "app",
            "--python",
            &py,
            "-i",
            &url,
        ],
        vec!["--help"],
    ];
    for args in commands {
        let mut cmd = ctx.ferry(&args);
        // A pipe whose reading end is already closed: the first write fails with EPIPE.
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn config_sets_gets_lists_and_unsets_what_pip_reads() {
    let ctx = crate::common::ctx();
    let python = crate::common::python_with_pip();
    let run = |args: &[&str]| {
        let mut cmd = ctx.ferry(["config"]);
        cmd.args(args)
            .env_remove("PIP_CONFIG_FILE")
            .env_remove("VIRTUAL_ENV");
        ctx.run(&mut cmd)
    };
    // pip in the same environment as ferry (the test context's variables).
    let pip = |args: &[&str]| {
        let out = ctx
            .command(&python)
            .args(["-m", "pip", "config"])
            .args(args)
            .env_remove("PIP_CONFIG_FILE")
            .env_remove("VIRTUAL_ENV")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["set", "global.index-url", "http://127.0.0.1:9/simple/"])
        .success()
        .stderr_contains("Writing to");
    run(&["set", "install.no_compile", "yes"]).success();
    let file = ctx.root().join("config/pip/pip.conf");
    assert!(file.is_file(), "the user file");
    assert_eq!(
        run(&["get", "global.index-url"]).success().stdout(),
        "http://127.0.0.1:9/simple/\n"
    );
    // pip reads what ferry wrote, and both list it the same way.
    assert_eq!(
        pip(&["get", "global.index-url"]),
        "http://127.0.0.1:9/simple/\n"
    );
    let listed = run(&["list"]).success().stdout();
    // (The machine's /etc/pip.conf, if any, is listed too, by both.)
    assert!(
        listed.contains("global.index-url='http://127.0.0.1:9/simple/'\n")
            && listed.contains("install.no-compile='yes'\n"),
        "{listed}"
    );
    assert_eq!(listed, pip(&["list"]));
    let debug = run(&["debug"]).success().stdout();
    assert!(
        debug.contains(&format!("{}, exists: True", file.display())),
        "{debug}"
    );
    assert!(
        debug.contains("global.index-url: http://127.0.0.1:9/simple/"),
        "{debug}"
    );

    run(&["unset", "global.index-url"]).success();
    run(&["get", "global.index-url"])
        .failure()
        .stderr_contains("no such key");
    run(&["unset", "global.index-url"]).failure();
    run(&["get", "index-url"])
        .failure()
        .stderr_contains("section.key");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "[install]\nno-compile = yes\n"
    );
}

#[test]
fn general_options_isolated_require_virtualenv_and_log() {
    let ctx = ctx();
    let server = index();
    // --isolated: PIP_* variables and the user's pip.conf are not read.
    ctx.env("PIP_CONFIG_FILE", "");
    let user_conf = ctx.root().join("config/pip/pip.conf");
    std::fs::create_dir_all(user_conf.parent().unwrap()).unwrap();
    std::fs::write(&user_conf, "[install]\nno-binary = lib\n").unwrap();
    assert_eq!(
        dry_run(&ctx, &server, &|c| {
            c.env("PIP_NO_DEPS", "1");
        }),
        ["app:wheel"],
        "PIP_NO_DEPS applies without --isolated"
    );
    assert_eq!(
        dry_run(&ctx, &server, &|_| {}),
        ["app:wheel", "lib:sdist"],
        "the user's pip.conf applies without --isolated"
    );
    assert_eq!(
        dry_run(&ctx, &server, &|c| {
            c.arg("--isolated").env("PIP_NO_DEPS", "1");
        }),
        ["app:wheel", "lib:wheel"]
    );
    std::fs::remove_file(&user_conf).unwrap();

    // --require-virtualenv (and PIP_REQUIRE_VIRTUALENV): an interpreter outside a venv is
    // refused by the commands that change or build for it; a venv is fine.
    for (args, env) in [
        (vec!["install", "--dry-run", "app"], None),
        (vec!["download", "-d", "dl", "app"], Some("1")),
        (vec!["uninstall", "-y", "app", "--system"], Some("yes")),
    ] {
        let mut cmd = ctx.ferry(&args);
        if args[0] != "uninstall" {
            cmd.args(["-i", &server.url()]);
        }
        cmd.arg("--python").arg(python());
        match env {
            Some(value) => cmd.env("PIP_REQUIRE_VIRTUALENV", value),
            None => cmd.arg("--require-virtualenv"),
        };
        ctx.run(&mut cmd)
            .failure()
            .stderr_contains("is not in a virtual environment");
    }
    let venv = crate::common::make_venv(&ctx, "env", std::path::Path::new(&python()), false);
    ctx.run(
        ctx.ferry([
            "install",
            "app",
            "--require-virtualenv",
            "-i",
            &server.url(),
        ])
        .arg("--python")
        .arg(&venv),
    )
    .success();

    // --log FILE (and PIP_LOG): a debug record of each run, appended, whatever -v says.
    let log = ctx.work().join("ferry.log");
    ctx.run(
        ctx.ferry([
            "install",
            "--dry-run",
            "-q",
            "-U",
            "app",
            "-i",
            &server.url(),
            "--log",
        ])
        .arg(&log)
        .arg("--python")
        .arg(&venv),
    )
    .success();
    let first = std::fs::read_to_string(&log).unwrap();
    assert!(first.contains("GET http://127.0.0.1"), "{first}");
    ctx.run(
        ctx.ferry(["index", "versions", "app", "-i", &server.url(), "--python"])
            .arg(&venv)
            .env("PIP_LOG", &log),
    )
    .success();
    let second = std::fs::read_to_string(&log).unwrap();
    assert!(second.starts_with(&first) && second.len() > first.len());
}

#[test]
fn proxy_carries_every_request() {
    let ctx = ctx();
    let server = index();
    // The test server answers as a proxy too; the index host does not exist, so only the
    // proxy can reach it.
    let proxy = server.base_url().replace("http://", "");
    let index = "http://index.invalid/simple/";
    for how in ["flag", "env"] {
        server.clear_requests();
        let mut cmd = ctx.ferry(["install", "--dry-run", "--no-cache-dir", "app", "-i", index]);
        cmd.arg("--python").arg(python());
        match how {
            "flag" => cmd.args(["--proxy", &proxy]),
            _ => cmd.env("PIP_PROXY", format!("http://{proxy}")),
        };
        ctx.run(&mut cmd).success();
        let requests = server.requests();
        assert!(
            requests
                .iter()
                .any(|r| r.proxied.as_deref() == Some("http://index.invalid/simple/app/")),
            "{requests:?}"
        );
        assert!(requests.iter().all(|r| r.proxied.is_some()), "{requests:?}");
    }
}

/// `config debug` prints what pip prints, with and without --isolated and PIP_CONFIG_FILE;
/// and PIP_CONFIG_FILE's file overrides the other files, as pip's configuration does (its
/// override order; pip's documents said the opposite until pip 23.1).
#[test]
fn config_debug_and_the_config_file_variable_match_pip() {
    let ctx = crate::common::ctx();
    let python = crate::common::python_with_pip();
    let venv = ctx.root().join("site");
    std::fs::create_dir_all(&venv).unwrap();
    std::fs::write(
        venv.join("pip.conf"),
        "[global]\ntimeout = 9\nretries = 4\n",
    )
    .unwrap();
    let user = ctx.root().join("config/pip/pip.conf");
    std::fs::create_dir_all(user.parent().unwrap()).unwrap();
    std::fs::write(&user, "[install]\nno-compile = yes\n").unwrap();
    let custom = ctx.root().join("custom.conf");
    std::fs::write(&custom, "[global]\ntimeout = 3\n").unwrap();
    let both = |args: &[&str], config_file: Option<&std::path::Path>| {
        let prepare = |mut cmd: std::process::Command| {
            // pip's site file is beside its own interpreter; ferry's is VIRTUAL_ENV's. Pointing
            // VIRTUAL_ENV at pip's prefix makes them the same file.
            cmd.env("VIRTUAL_ENV", &venv).env("PIP_TIMEOUT_UNUSED", "x");
            match config_file {
                Some(f) => cmd.env("PIP_CONFIG_FILE", f),
                None => cmd.env_remove("PIP_CONFIG_FILE"),
            };
            cmd.output().unwrap()
        };
        let mut pip = ctx.command(&python);
        pip.args(["-c", "import sys; sys.prefix = sys.argv.pop(1); from pip._internal.cli.main import main; sys.exit(main())"])
            .arg(&venv)
            .arg("config")
            .args(args);
        let mut ferry = ctx.ferry(["config"]);
        ferry.args(args);
        let (p, f) = (prepare(pip), prepare(ferry));
        (
            String::from_utf8_lossy(&p.stdout).into_owned(),
            String::from_utf8_lossy(&f.stdout).into_owned(),
        )
    };
    for (args, file) in [
        (&["debug"][..], None),
        (&["--isolated", "debug"][..], None),
        (&["debug"][..], Some(custom.as_path())),
        (&["list"][..], Some(custom.as_path())),
        // `config get` reads one level only: here the site file, which exists.
        (&["get", "global.timeout"][..], Some(custom.as_path())),
        (&["--global", "get", "global.cert"][..], None),
        (&["--user", "get", "install.no-compile"][..], None),
        (
            &["--user", "get", "install.no-compile"][..],
            Some(custom.as_path()),
        ),
        // (Not compared: `--user get` of a key only PIP_CONFIG_FILE's file has. pip 26.3 reads
        // that file in the user files' place, and so does ferry; pip 24.2 did not, and the
        // test's pip may be that old.)
    ] {
        let (pip, ferry) = both(args, file);
        assert_eq!(ferry, pip, "{args:?} with PIP_CONFIG_FILE={file:?}");
    }
    // What commands read: `ferry debug` lists the files in load order (later ones win), and
    // PIP_CONFIG_FILE's comes after the site file, as in pip's override order. (`pip config
    // get` reads one file only, so it cannot be compared.)
    let out = ctx
        .run(
            ctx.ferry(["debug"])
                .env("VIRTUAL_ENV", &venv)
                .env("PIP_CONFIG_FILE", &custom),
        )
        .success()
        .stdout();
    let at = |path: &std::path::Path| out.find(&path.display().to_string()).expect("listed");
    assert!(at(&venv.join("pip.conf")) < at(&custom), "{out}");
}
