//! Live: real build backends from the real index (found the way pip finds it). Each project is
//! built by `pip wheel` and by `ferry wheel`; the two wheels must hold the same files and the
//! same METADATA, and ferry's must install and import. Then real sdists from the index.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use ferry_test::{pythons, TestContext};

use crate::common::{ctx, python_output};

fn python() -> PathBuf {
    pythons::with_pip().expect("a CPython with pip").path
}

/// A wheel's members (without RECORD lines' hashes, which name build times for some
/// backends) and its METADATA.
fn wheel_contents(dir: &Path) -> (Vec<String>, String) {
    let wheel = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .unwrap_or_else(|| panic!("no wheel in {}", dir.display()));
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&wheel).unwrap()).unwrap();
    let mut names = Vec::new();
    let mut metadata = String::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        if name.ends_with(".dist-info/METADATA") {
            entry.read_to_string(&mut metadata).unwrap();
        }
        names.push(name);
    }
    names.sort();
    (names, metadata)
}

/// Builds `tree` with pip and with ferry and compares; then installs ferry's wheel into a
/// fresh venv and runs `check` there.
fn compare_with_pip(ctx: &TestContext, tree: &Path, check: &str, expected: &str) {
    let python = python();
    let pip_dir = ctx.work().join("by-pip");
    let ferry_dir = ctx.work().join("by-ferry");
    let out = Command::new(&python)
        .args(["-m", "pip", "wheel", "--no-deps", "-q", "-w"])
        .arg(&pip_dir)
        .arg(tree)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pip wheel: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(tree.join("build"));
    ctx.run(
        ctx.ferry(["wheel", "--no-deps", "-w"])
            .arg(&ferry_dir)
            .arg("--python")
            .arg(&python)
            .arg(tree),
    )
    .success();
    let (pip_names, pip_metadata) = wheel_contents(&pip_dir);
    let (ferry_names, ferry_metadata) = wheel_contents(&ferry_dir);
    assert_eq!(ferry_names, pip_names, "{}", tree.display());
    assert_eq!(ferry_metadata, pip_metadata, "{}", tree.display());

    let env = ctx.work().join("env");
    ctx.run(ctx.ferry(["venv"]).arg(&env).arg("--python").arg(&python))
        .success();
    ctx.run(
        ctx.ferry(["install", "--python"])
            .arg(&env)
            .arg("--no-index")
            .arg("-f")
            .arg(&ferry_dir)
            .arg("--no-deps")
            .arg(
                std::fs::read_dir(&ferry_dir)
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap()
                    .path(),
            ),
    )
    .success();
    assert_eq!(python_output(&env.join("bin/python"), check), expected);
}

fn write(tree: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = tree.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn setuptools_with_pyproject_and_with_a_bare_setup_py() {
    let ctx = ctx();
    let tree = ctx.work().join("st");
    write(
        &tree,
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"st-demo\"\nversion = \"1.0\"\ndependencies = [\"six\"]\n",
            ),
            ("st_demo/__init__.py", "VALUE = 'st'\n"),
        ],
    );
    compare_with_pip(&ctx, &tree, "import st_demo; print(st_demo.VALUE)", "st");

    let ctx = crate::common::ctx();
    let tree = ctx.work().join("legacy");
    write(
        &tree,
        &[
            (
                "setup.py",
                "from setuptools import setup\nsetup(name='legacy-demo', version='0.2', packages=['legacy_demo'])\n",
            ),
            ("legacy_demo/__init__.py", "VALUE = 'legacy'\n"),
        ],
    );
    compare_with_pip(
        &ctx,
        &tree,
        "import legacy_demo; print(legacy_demo.VALUE)",
        "legacy",
    );
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn hatchling_flit_core_poetry_core_and_pdm_backend() {
    let projects: [(&str, &str, &str); 4] = [
        (
            "hatch_demo",
            "hatch",
            "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n[project]\nname = \"hatch-demo\"\nversion = \"1.0\"\n",
        ),
        (
            "flit_demo",
            "flit",
            "[build-system]\nrequires = [\"flit_core>=3.4,<4\"]\nbuild-backend = \"flit_core.buildapi\"\n\n[project]\nname = \"flit-demo\"\nversion = \"1.0\"\ndescription = \"a demo\"\n",
        ),
        (
            "poetry_demo",
            "poetry",
            "[build-system]\nrequires = [\"poetry-core>=1.0\"]\nbuild-backend = \"poetry.core.masonry.api\"\n\n[tool.poetry]\nname = \"poetry-demo\"\nversion = \"1.0\"\ndescription = \"a demo\"\nauthors = []\n",
        ),
        (
            "pdm_demo",
            "pdm",
            "[build-system]\nrequires = [\"pdm-backend\"]\nbuild-backend = \"pdm.backend\"\n\n[project]\nname = \"pdm-demo\"\nversion = \"1.0\"\n",
        ),
    ];
    for (module, value, pyproject) in projects {
        let ctx = ctx();
        let tree = ctx.work().join(module);
        write(&tree, &[("pyproject.toml", pyproject)]);
        write(
            &tree,
            &[(
                &format!("{module}/__init__.py"),
                &format!("\"\"\"A demo.\"\"\"\nVALUE = '{value}'\n"),
            )],
        );
        compare_with_pip(
            &ctx,
            &tree,
            &format!("import {module}; print({module}.VALUE)"),
            value,
        );
    }
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn setuptools_with_a_c_extension() {
    let ctx = ctx();
    let tree = ctx.work().join("cext");
    write(
        &tree,
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n",
            ),
            (
                "setup.py",
                "from setuptools import setup, Extension\nsetup(name='cext-demo', version='1.0', packages=['cext_demo'], ext_modules=[Extension('cext_demo._speed', ['cext_demo/_speed.c'])])\n",
            ),
            ("cext_demo/__init__.py", "from ._speed import answer\n"),
            (
                "cext_demo/_speed.c",
                "#include <Python.h>\nstatic PyObject *answer(PyObject *s, PyObject *a) { return PyLong_FromLong(42); }\nstatic PyMethodDef m[] = {{\"answer\", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};\nstatic struct PyModuleDef d = {PyModuleDef_HEAD_INIT, \"_speed\", NULL, -1, m};\nPyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&d); }\n",
            ),
        ],
    );
    compare_with_pip(
        &ctx,
        &tree,
        "import cext_demo; print(cext_demo.answer())",
        "42",
    );
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn maturin_with_a_small_rust_crate() {
    // maturin drives cargo; without it there is nothing to test.
    if Command::new("cargo").arg("--version").output().is_err() {
        eprintln!("SKIPPED maturin_with_a_small_rust_crate: no `cargo` on PATH");
        return;
    }
    let ctx = ctx();
    let tree = ctx.work().join("rusty");
    write(
        &tree,
        &[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"maturin>=1.0,<2.0\"]\nbuild-backend = \"maturin\"\n\n[project]\nname = \"rusty-demo\"\nversion = \"1.0\"\n\n[tool.maturin]\nbindings = \"bin\"\n",
            ),
            (
                "Cargo.toml",
                "[package]\nname = \"rusty-demo\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[dependencies]\n",
            ),
            // The crate has no dependencies; offline, cargo cannot reach any other host.
            (".cargo/config.toml", "[net]\noffline = true\n"),
            ("src/main.rs", "fn main() { println!(\"built by maturin\"); }\n"),
        ],
    );
    compare_with_pip(
        &ctx,
        &tree,
        "import os, subprocess, sys; print(subprocess.check_output([os.path.join(os.path.dirname(sys.executable), 'rusty-demo')], text=True).strip())",
        "built by maturin",
    );
}

/// Names and versions of what a venv holds, with each RECORD's file list.
fn installed(env: &Path) -> BTreeMap<String, Vec<String>> {
    let site = PathBuf::from(python_output(
        &env.join("bin/python"),
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
    ));
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&site).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".dist-info") || name.starts_with("pip-") {
            continue;
        }
        let record = std::fs::read_to_string(path.join("RECORD")).unwrap();
        let mut files: Vec<String> = record
            .lines()
            .filter_map(|l| l.split(',').next())
            .map(str::to_string)
            // pip and ferry write their own INSTALLER, pip compiles, and ferry records where
            // the sdist came from (PEP 710): compare the rest.
            .filter(|f| {
                !f.ends_with(".pyc")
                    && !f.ends_with("INSTALLER")
                    && !f.ends_with("REQUESTED")
                    && !f.ends_with("direct_url.json")
                    && !f.ends_with("provenance_url.json")
            })
            .collect();
        files.sort();
        out.insert(name.to_lowercase(), files);
    }
    out
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn real_sdists_from_the_index_install_as_pip_installs_them() {
    let python = python();
    let ctx = ctx();
    // requests and its dependencies, all from sdists, plus two projects of another shape:
    // docopt (a bare setup.py) and pycparser (setuptools with pyproject.toml).
    let wanted = ["requests", "docopt==0.6.2", "pycparser"];
    let by_pip = ctx.work().join("by-pip");
    ctx.run(
        ctx.ferry(["venv", "--seed"])
            .arg(&by_pip)
            .arg("--python")
            .arg(&python),
    )
    .success();
    let out = Command::new(by_pip.join("bin/python"))
        .args(["-m", "pip", "install", "-q", "--no-binary", ":all:"])
        .args(wanted)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_ferry = ctx.work().join("by-ferry");
    ctx.run(
        ctx.ferry(["venv", "--seed"])
            .arg(&by_ferry)
            .arg("--python")
            .arg(&python),
    )
    .success();
    ctx.run(
        ctx.ferry(["install", "--no-binary", ":all:", "--python"])
            .arg(&by_ferry)
            .args(wanted),
    )
    .success();
    assert_eq!(installed(&by_ferry), installed(&by_pip));
    assert_eq!(
        python_output(
            &by_ferry.join("bin/python"),
            "import requests, docopt, pycparser; print(requests.get.__name__)"
        ),
        "get"
    );
}
