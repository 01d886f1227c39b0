//! Live: real packages from the real index (found the way pip finds it), installed into real
//! virtual environments and used. Bounded to two sets so CI stays within minutes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ferry_test::{pythons, TestContext};

use crate::common::{ctx, python_output};

fn python311() -> PathBuf {
    pythons::all()
        .into_iter()
        .find(|p| p.major_minor == (3, 11))
        .or_else(pythons::with_pip)
        .expect("a CPython")
        .path
}

fn requirements(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../bench/requirements/{set}.txt"))
}

/// `name==version` pins of a requirements file (or of `ferry freeze`), names normalized.
fn pins(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .filter_map(|l| l.split_once("=="))
        .map(|(n, v)| {
            (
                n.trim().to_lowercase().replace(['_', '.'], "-"),
                v.split(';').next().unwrap().trim().to_string(),
            )
        })
        .collect()
}

fn live_venv(ctx: &TestContext, set: &str) -> PathBuf {
    ctx.env("PIP_CONFIG_FILE", "");
    let venv = ctx.work().join(format!("{set}-env"));
    ctx.run(
        ctx.ferry(["venv"])
            .arg(&venv)
            .arg("--python")
            .arg(python311()),
    )
    .success();
    ctx.run(
        ctx.ferry(["install", "-r"])
            .arg(requirements(set))
            .arg("--python")
            .arg(&venv),
    )
    .success();
    venv
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn live_jupyter_set_installs_exactly_and_runs() {
    let ctx = ctx();
    let venv = live_venv(&ctx, "jupyter");
    let freeze = ctx
        .run(ctx.ferry(["freeze", "--python"]).arg(&venv))
        .success()
        .stdout();
    let wanted = pins(&std::fs::read_to_string(requirements("jupyter")).unwrap());
    assert_eq!(pins(&freeze), wanted);

    python_output(&venv.join("bin/python"), "import jupyterlab");
    let out = std::process::Command::new(venv.join("bin/jupyter-lab"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        wanted["jupyterlab"]
    );
    ctx.run(ctx.ferry(["check", "--python"]).arg(&venv))
        .success();
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn live_science_set_imports_and_computes() {
    let ctx = ctx();
    let venv = live_venv(&ctx, "science");
    let answer = python_output(
        &venv.join("bin/python"),
        "import numpy as np, pandas as pd\n\
         from sklearn.linear_model import LinearRegression\n\
         x = np.arange(10.0).reshape(-1, 1)\n\
         y = 3 * x.ravel() + 2\n\
         model = LinearRegression().fit(x, y)\n\
         frame = pd.DataFrame({'y': y})\n\
         print(round(float(model.coef_[0]), 6), round(float(model.intercept_), 6), int(frame.y.sum()))",
    );
    assert_eq!(answer, "3.0 2.0 155");
    ctx.run(ctx.ferry(["check", "--python"]).arg(&venv))
        .success();
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn live_download_for_another_platform_saves_the_files_pip_saves() {
    let ctx = ctx();
    ctx.env("PIP_CONFIG_FILE", "");
    let python = pythons::all()
        .into_iter()
        .find(|p| p.major_minor == (3, 12))
        .or_else(pythons::with_pip)
        .expect("a CPython with pip")
        .path;
    let options = [
        "--platform",
        "manylinux2014_x86_64",
        "--python-version",
        "3.12",
        "--only-binary",
        ":all:",
    ];
    let ours = ctx.work().join("ferry");
    let mut cmd = ctx.ferry(["download", "-q", "-d"]);
    cmd.arg(&ours)
        .arg("-r")
        .arg(requirements("web"))
        .args(options)
        .arg("--python")
        .arg(&python);
    ctx.run(&mut cmd).success();
    let theirs = ctx.work().join("pip");
    let out = std::process::Command::new(&python)
        .args([
            "-m",
            "pip",
            "download",
            "-q",
            "--disable-pip-version-check",
            "-d",
        ])
        .arg(&theirs)
        .arg("-r")
        .arg(requirements("web"))
        .args(options)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&ours), names(&theirs));
    assert!(names(&ours).len() >= 30, "{:?}", names(&ours));
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn live_lock_names_the_same_files_as_pip_lock() {
    let ctx = ctx();
    ctx.env("PIP_CONFIG_FILE", "");
    let python = python311();
    // pip 25.1 or newer has `pip lock`: installed from the index into a venv of its own.
    let tools = ctx.work().join("tools");
    ctx.run(ctx.ferry(["venv"]).arg(&tools).arg("--python").arg(&python))
        .success();
    ctx.run(ctx.ferry(["install", "pip>=25.1", "--python"]).arg(&tools))
        .success();
    let theirs = ctx.work().join("pip").join("pylock.toml");
    std::fs::create_dir_all(theirs.parent().unwrap()).unwrap();
    let out = std::process::Command::new(tools.join("bin/python"))
        .args([
            "-m",
            "pip",
            "lock",
            "-q",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements("web"))
        .arg("-o")
        .arg(&theirs)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = ctx.work().join("pylock.toml");
    ctx.run(
        ctx.ferry(["lock", "-q", "-r"])
            .arg(requirements("web"))
            .arg("-o")
            .arg(&ours)
            .arg("--python")
            .arg(&python),
    )
    .success();
    // Name, version and every file URL of each package.
    let files = |path: &Path| -> BTreeMap<String, (String, Vec<String>)> {
        let lock: toml::Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        lock["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let mut urls: Vec<String> = p
                    .get("wheels")
                    .and_then(|w| w.as_array())
                    .into_iter()
                    .flatten()
                    .chain(p.get("sdist"))
                    .map(|f| f["url"].as_str().unwrap().to_string())
                    .collect();
                urls.sort();
                (
                    p["name"].as_str().unwrap().to_string(),
                    (p["version"].as_str().unwrap().to_string(), urls),
                )
            })
            .collect()
    };
    let (ours, theirs) = (files(&ours), files(&theirs));
    assert!(ours.len() >= 30, "{ours:?}");
    assert_eq!(ours, theirs);
}
