//! `ferry venv`: real environments for every installed CPython, checked from inside.

use std::process::Command;

use ferry_test::{pythons, IndexServer, WheelBuilder};

use crate::common::{ctx, python_output, snapshot};

const INSIDE: &str = "import sys, sysconfig, json; print(json.dumps([sys.prefix, sys.base_prefix, sysconfig.get_paths()['purelib'], sysconfig.get_paths()['scripts']]))";

#[test]
fn venv_works_for_every_installed_cpython() {
    let ctx = ctx();
    let pythons = pythons::venv_capable();
    assert!(!pythons.is_empty());
    for python in &pythons {
        let name = format!("env-{}", python.version);
        ctx.run(ctx.ferry(["venv", &name, "--python"]).arg(&python.path))
            .success();
        let root = ctx.work().join(&name);

        let cfg = std::fs::read_to_string(root.join("pyvenv.cfg")).unwrap();
        assert!(
            cfg.contains(&format!("version = {}", python.version)),
            "{cfg}"
        );
        assert!(
            cfg.contains("include-system-site-packages = false"),
            "{cfg}"
        );
        assert_eq!(
            std::fs::read_to_string(root.join(".gitignore"))
                .unwrap()
                .lines()
                .last(),
            Some("*")
        );

        let report = python_output(&root.join("bin/python"), INSIDE);
        let [prefix, base_prefix, purelib, scripts]: [String; 4] =
            serde_json::from_str(&report).unwrap();
        assert_eq!(
            std::path::Path::new(&prefix),
            root,
            "Python {}",
            python.version
        );
        assert_ne!(prefix, base_prefix);
        assert!(
            purelib.starts_with(&prefix) && std::path::Path::new(&purelib).is_dir(),
            "{purelib}"
        );
        assert_eq!(std::path::Path::new(&scripts), root.join("bin"));
        let (major, minor) = python.major_minor;
        for alias in [format!("python{major}"), format!("python{major}.{minor}")] {
            let version = python_output(
                &root.join("bin").join(alias),
                "import platform; print(platform.python_version())",
            );
            assert_eq!(version, python.version);
        }

        // Activation from bash puts the environment first and `deactivate` undoes it.
        let script = format!(
            "source {name}/bin/activate && python -c 'import sys; assert sys.prefix != sys.base_prefix; print(sys.prefix)' \
             && echo \"$VIRTUAL_ENV\" && deactivate && echo \"after:${{VIRTUAL_ENV-unset}}\" && {{ declare -F deactivate >/dev/null || echo gone; }}"
        );
        let out = ctx.run(ctx.command("bash").args(["-c", &script])).success();
        let lines: Vec<String> = out.stdout().lines().map(str::to_string).collect();
        let root_text = root.display().to_string();
        assert_eq!(
            lines,
            [
                root_text.as_str(),
                root_text.as_str(),
                "after:unset",
                "gone"
            ],
            "Python {}",
            python.version
        );
    }
}

#[test]
fn version_requests_pick_matching_interpreters() {
    let ctx = ctx();
    for python in pythons::oldest_and_newest() {
        let (major, minor) = python.major_minor;
        let request = format!("{major}.{minor}");
        let out = ctx
            .run(&mut ctx.ferry(["venv", "v", "--clear", "--python", &request]))
            .success();
        assert!(
            out.stderr()
                .contains(&format!("CPython {}", python.version)),
            "{}",
            out.stderr()
        );
        let version = python_output(
            &ctx.work().join("v/bin/python"),
            "import platform; print(platform.python_version())",
        );
        assert_eq!(version, python.version);
    }
}

#[test]
fn seeded_venv_has_a_working_pip_that_installs_from_an_index() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish(
        &WheelBuilder::new("hello-ferry", "1.0")
            .file(
                "hello_ferry/__init__.py",
                "def main():\n    print('hello from ferry')\n",
            )
            .console_script("hello-ferry", "hello_ferry:main")
            .build(),
    );
    for python in pythons::oldest_and_newest() {
        let name = format!("seeded-{}", python.version);
        ctx.run(
            ctx.ferry(["venv", "--seed", &name, "--python"])
                .arg(&python.path),
        )
        .success();
        let root = ctx.work().join(&name);
        let out = ctx
            .run(
                ctx.command(root.join("bin/python"))
                    .args(["-m", "pip", "--version"]),
            )
            .success();
        assert!(
            out.stdout().contains(&root.display().to_string()),
            "{}",
            out.stdout()
        );

        ctx.run(ctx.command(root.join("bin/python")).args([
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--index-url",
            &server.url(),
            "hello-ferry",
        ]))
        .success();
        let hello = ctx
            .run(&mut Command::new(root.join("bin/hello-ferry")))
            .success();
        assert_eq!(hello.stdout().trim(), "hello from ferry");
    }
}

#[test]
fn refresh_keeps_packages_and_clear_replaces() {
    let ctx = ctx();
    ctx.run(&mut ctx.ferry(["venv", "v"])).success();
    let root = ctx.work().join("v");
    let purelib = python_output(
        &root.join("bin/python"),
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
    );
    let marker = std::path::Path::new(&purelib).join("kept.py");
    std::fs::write(&marker, "X = 1\n").unwrap();

    let out = ctx.run(&mut ctx.ferry(["venv", "v"])).success();
    assert!(out.stderr().contains("Refreshed"), "{}", out.stderr());
    assert!(marker.is_file(), "refreshing must keep installed files");

    let out = ctx.run(&mut ctx.ferry(["venv", "v", "--clear"])).success();
    assert!(out.stderr().contains("Replaced"), "{}", out.stderr());
    assert!(
        !marker.exists(),
        "--clear must start from an empty environment"
    );
    assert!(root.join("bin/python").exists());
    // No staging or trash directories are left beside it.
    assert_eq!(
        snapshot(&ctx.work())
            .iter()
            .filter(|p| !p.starts_with("v"))
            .count(),
        0,
        "{:?}",
        snapshot(&ctx.work())
    );
}

#[test]
fn system_site_packages_and_prompt() {
    let ctx = ctx();
    ctx.run(&mut ctx.ferry(["venv", "v", "--system-site-packages", "--prompt", "my env"]))
        .success();
    let root = ctx.work().join("v");
    let cfg = std::fs::read_to_string(root.join("pyvenv.cfg")).unwrap();
    assert!(cfg.contains("include-system-site-packages = true"), "{cfg}");
    assert!(cfg.contains("prompt = my env"), "{cfg}");
    let base_purelib = python_output(
        &root.join("bin/python"),
        "import sys, sysconfig; print(sysconfig.get_paths(vars={'base': sys.base_prefix, 'platbase': sys.base_prefix})['purelib'])",
    );
    let path = python_output(
        &root.join("bin/python"),
        "import sys; print('\\n'.join(sys.path))",
    );
    assert!(
        path.lines().any(|l| l == base_purelib),
        "{base_purelib} not in {path}"
    );

    let out = ctx
        .run(
            ctx.command("bash")
                .args(["-c", "PS1='$ '; source v/bin/activate; echo \"$PS1\""]),
        )
        .success();
    assert_eq!(out.stdout().trim_end(), "(my env) $");

    // Without --prompt the directory name is used.
    ctx.run(&mut ctx.ferry(["venv", "other"])).success();
    let out = ctx
        .run(
            ctx.command("bash")
                .args(["-c", "PS1='$ '; source other/bin/activate; echo \"$PS1\""]),
        )
        .success();
    assert_eq!(out.stdout().trim_end(), "(other) $");
}

fn have(shell: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {shell}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn fish_and_csh_activation() {
    let ctx = ctx();
    ctx.run(&mut ctx.ferry(["venv", "v"])).success();
    let root = ctx.work().join("v").display().to_string();
    let check = "python -c 'import sys; print(sys.prefix != sys.base_prefix)'";
    let mut ran = 0;
    if have("fish") {
        let script = format!("source v/bin/activate.fish; echo $VIRTUAL_ENV; {check}; deactivate; echo \"after:$VIRTUAL_ENV\"");
        let out = ctx
            .run(ctx.command("fish").args(["--no-config", "-c", &script]))
            .success();
        assert_eq!(
            out.stdout().lines().collect::<Vec<_>>(),
            [root.as_str(), "True", "after:"]
        );
        ran += 1;
    }
    if have("tcsh") {
        // csh parses a `-c` string as one line, expanding aliases before `source` defines
        // them; a script file has separate lines, like an interactive session.
        let script = format!("source v/bin/activate.csh\necho $VIRTUAL_ENV\n{check}\ndeactivate\nprintenv VIRTUAL_ENV || echo after:unset\n");
        std::fs::write(ctx.work().join("check.csh"), script).unwrap();
        let out = ctx
            .run(ctx.command("tcsh").args(["-f", "check.csh"]))
            .success();
        assert_eq!(
            out.stdout().lines().collect::<Vec<_>>(),
            [root.as_str(), "True", "after:unset"]
        );
        ran += 1;
    }
    if std::env::var_os("CI").is_some() {
        assert_eq!(
            ran, 2,
            "CI installs fish and tcsh; both activation scripts must be exercised"
        );
    } else if ran < 2 {
        eprintln!("note: fish or tcsh missing; .ci/run installs them");
    }
    // PowerShell is not packaged here; at least check the script names this environment.
    let ps1 = std::fs::read_to_string(ctx.work().join("v/bin/Activate.ps1")).unwrap();
    assert!(
        ps1.contains(&format!("$env:VIRTUAL_ENV = '{root}'")),
        "{ps1}"
    );
}

#[test]
fn bad_interpreters_fail_clearly_and_create_nothing() {
    let ctx = ctx();
    let before = snapshot(&ctx.work());

    let out = ctx
        .run(&mut ctx.ferry(["venv", "x", "--python", "/nonexistent/python3"]))
        .failure();
    assert!(
        out.stderr().contains("/nonexistent/python3") && out.stderr().contains("does not exist"),
        "{}",
        out.stderr()
    );

    let fake = ctx.root().join("not-python.sh");
    std::fs::write(&fake, "#!/bin/sh\necho 'I am not Python' >&2\nexit 3\n").unwrap();
    make_executable(&fake);
    let out = ctx
        .run(ctx.ferry(["venv", "x", "--python"]).arg(&fake))
        .failure();
    assert!(
        out.stderr().contains("not a working Python interpreter")
            && out.stderr().contains("I am not Python"),
        "{}",
        out.stderr()
    );

    let data = ctx.root().join("data.txt");
    std::fs::write(&data, "just text").unwrap();
    let out = ctx
        .run(ctx.ferry(["venv", "x", "--python"]).arg(&data))
        .failure();
    assert!(out.stderr().contains("data.txt"), "{}", out.stderr());

    let out = ctx
        .run(&mut ctx.ferry(["venv", "x", "--python", "3.1"]))
        .failure();
    assert!(
        out.stderr()
            .contains("no Python interpreter matching `Python 3.1`"),
        "{}",
        out.stderr()
    );

    if let Some(py2) = pythons::all().into_iter().find(|p| p.major_minor.0 == 2) {
        let out = ctx
            .run(ctx.ferry(["venv", "x", "--python"]).arg(&py2.path))
            .failure();
        assert!(
            out.stderr().contains("need Python 3.3 or newer"),
            "{}",
            out.stderr()
        );
    }
    assert_eq!(snapshot(&ctx.work()), before);
}

#[test]
fn refuses_to_overwrite_what_is_not_a_venv() {
    let ctx = ctx();
    let dir = ctx.work().join("project");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("main.py"), "print('mine')\n").unwrap();
    std::fs::write(ctx.work().join("notes.txt"), "keep me").unwrap();
    let before = snapshot(&ctx.work());

    let out = ctx.run(&mut ctx.ferry(["venv", "project"])).failure();
    assert!(
        out.stderr().contains("not a virtual environment"),
        "{}",
        out.stderr()
    );
    let out = ctx
        .run(&mut ctx.ferry(["venv", "project", "--clear"]))
        .failure();
    assert!(
        out.stderr().contains("not a virtual environment"),
        "{}",
        out.stderr()
    );
    let out = ctx.run(&mut ctx.ferry(["venv", "notes.txt"])).failure();
    assert!(out.stderr().contains("not a directory"), "{}", out.stderr());

    assert_eq!(snapshot(&ctx.work()), before);
    assert_eq!(
        std::fs::read_to_string(ctx.work().join("notes.txt")).unwrap(),
        "keep me"
    );

    // An empty directory is fine to fill.
    std::fs::create_dir(ctx.work().join("empty")).unwrap();
    ctx.run(&mut ctx.ferry(["venv", "empty"])).success();
    assert!(ctx.work().join("empty/pyvenv.cfg").is_file());
}

#[test]
fn unwritable_paths_fail_without_leftovers() {
    let ctx = ctx();
    let before = snapshot(&ctx.work());
    // A path below a regular file can never be created.
    std::fs::write(ctx.work().join("file"), "").unwrap();
    let out = ctx.run(&mut ctx.ferry(["venv", "file/sub/venv"])).failure();
    assert!(out.stderr().contains("file/sub"), "{}", out.stderr());
    // A path the kernel refuses, even to root.
    let out = ctx
        .run(&mut ctx.ferry(["venv", "/proc/ferry-test-venv"]))
        .failure();
    assert!(out.stderr().contains("/proc"), "{}", out.stderr());
    assert!(!std::path::Path::new("/proc/ferry-test-venv").exists());
    // A read-only directory (meaningful when not running as root).
    let ro = ctx.work().join("ro");
    std::fs::create_dir(&ro).unwrap();
    set_mode(&ro, 0o555);
    let writable_anyway = std::fs::write(ro.join("probe"), "").is_ok();
    let out = ctx.run(&mut ctx.ferry(["venv", "ro/deep/venv"]));
    if !writable_anyway {
        let out = out.failure();
        assert!(out.stderr().contains("ro/deep"), "{}", out.stderr());
        assert!(!ro.join("deep").exists());
    } else {
        let _ = std::fs::remove_file(ro.join("probe"));
    }
    set_mode(&ro, 0o755);
    let after: Vec<String> = snapshot(&ctx.work())
        .into_iter()
        .filter(|p| p != "file" && !p.starts_with("ro"))
        .collect();
    assert_eq!(after, before);
}

fn make_executable(path: &std::path::Path) {
    set_mode(path, 0o755);
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}
