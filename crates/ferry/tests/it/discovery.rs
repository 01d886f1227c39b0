//! Choosing the environment and interpreter, and caching interpreter queries.

use ferry_test::pythons;

use crate::common::ctx;

#[test]
fn environment_precedence_virtual_env_conda_dotvenv() {
    let ctx = ctx();
    for name in ["a", "b", ".venv"] {
        ctx.run(&mut ctx.ferry(["venv", name])).success();
    }
    let path_of = |name: &str| {
        ctx.work()
            .join(name)
            .join("bin/python")
            .display()
            .to_string()
    };

    // `.venv` is found from a subdirectory.
    let sub = ctx.work().join("src/pkg");
    std::fs::create_dir_all(&sub).unwrap();
    let out = ctx
        .run(ctx.ferry(["python", "find"]).current_dir(&sub))
        .success();
    assert_eq!(out.stdout().trim(), path_of(".venv"));

    ctx.env("CONDA_PREFIX", ctx.work().join("b"));
    let out = ctx.run(&mut ctx.ferry(["python", "find"])).success();
    assert_eq!(out.stdout().trim(), path_of("b"));

    ctx.env("VIRTUAL_ENV", ctx.work().join("a"));
    let out = ctx.run(&mut ctx.ferry(["python", "find"])).success();
    assert_eq!(out.stdout().trim(), path_of("a"));

    // An explicit directory wins over everything.
    let out = ctx.run(&mut ctx.ferry(["python", "find", "b"])).success();
    assert_eq!(out.stdout().trim(), path_of("b"));

    // A stale VIRTUAL_ENV is an error that names it.
    ctx.env("VIRTUAL_ENV", ctx.root().join("gone"));
    let out = ctx.run(&mut ctx.ferry(["python", "find"])).failure();
    assert!(
        out.stderr().contains("VIRTUAL_ENV") && out.stderr().contains("gone"),
        "{}",
        out.stderr()
    );
}

#[test]
fn a_venv_interpreter_reports_the_venv_as_its_prefix() {
    let ctx = ctx();
    // A .pth file that prints must not confuse the query.
    ctx.run(&mut ctx.ferry(["venv", "v"])).success();
    let root = ctx.work().join("v");
    let purelib = crate::common::python_output(
        &root.join("bin/python"),
        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
    );
    std::fs::write(
        std::path::Path::new(&purelib).join("noisy.pth"),
        "import sys; print('hello from a .pth file')\n",
    )
    .unwrap();
    let out = ctx
        .run(&mut ctx.ferry(["python", "find", "--json", "v"]))
        .success();
    let info: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(info["prefix"], root.display().to_string());
    assert_ne!(info["prefix"], info["base_prefix"]);
    assert_eq!(info["paths"]["purelib"], purelib);
}

#[test]
fn no_environment_explains_how_to_make_one() {
    let ctx = ctx();
    let out = ctx.run(&mut ctx.ferry(["python", "find"])).failure();
    assert!(
        out.stderr().contains("no Python environment found"),
        "{}",
        out.stderr()
    );
    assert!(out.stderr().contains("ferry venv"), "{}", out.stderr());
}

#[test]
fn version_requests_search_path_and_pyenv() {
    let ctx = ctx();
    for python in pythons::all() {
        let (major, minor) = python.major_minor;
        let out = ctx
            .run(&mut ctx.ferry(["python", "find", "--json", &format!("{major}.{minor}")]))
            .success();
        let info: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
        assert_eq!(
            info["markers"]["python_full_version"],
            python.version.as_str()
        );
        let out = ctx
            .run(&mut ctx.ferry([
                "python",
                "find",
                "--json",
                &format!("python{major}.{minor}"),
            ]))
            .success();
        let info: serde_json::Value = serde_json::from_str(&out.stdout()).unwrap();
        assert_eq!(info["version"][1], minor);
    }
}

#[test]
fn interpreter_queries_are_cached_by_path_and_mtime() {
    let ctx = ctx();
    // A link of our own to a real interpreter (not in a venv, whose facts are derived from
    // its base's rather than cached), so the test can re-create it.
    let found = ctx.run(&mut ctx.ferry(["python", "find", "3"])).success();
    let real = std::fs::canonicalize(found.stdout().trim()).unwrap();
    std::fs::create_dir_all(ctx.work().join("links")).unwrap();
    let python = ctx.work().join("links/python");
    std::os::unix::fs::symlink(&real, &python).unwrap();
    let bucket = ctx.cache_dir().join("interpreter-v1");
    ctx.run(ctx.ferry(["python", "find"]).arg(&python))
        .success();

    // Find this interpreter's entry and change what it says: if ferry answers with the edit,
    // it read the cache instead of running Python.
    let entry = std::fs::read_dir(&bucket)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains(&python.display().to_string())
        })
        .expect("a cache entry for the linked interpreter");
    let text = std::fs::read_to_string(&entry).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["info"]["markers"]["python_full_version"] = "9.9.9".into();
    std::fs::write(&entry, value.to_string()).unwrap();
    let out = ctx
        .run(ctx.ferry(["python", "find", "--json"]).arg(&python))
        .success();
    assert!(
        out.stdout().contains("\"9.9.9\""),
        "the cached answer was not used"
    );

    // Re-creating the link changes its mtime: the entry is stale and Python is asked again.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let target = std::fs::read_link(&python).unwrap();
    std::fs::remove_file(&python).unwrap();
    std::os::unix::fs::symlink(&target, &python).unwrap();
    let out = ctx
        .run(ctx.ferry(["python", "find", "--json"]).arg(&python))
        .success();
    assert!(
        !out.stdout().contains("\"9.9.9\""),
        "a changed interpreter must be queried again"
    );

    // A corrupt entry is ignored and replaced.
    std::fs::write(&entry, "{not json").unwrap();
    ctx.run(ctx.ferry(["python", "find"]).arg(&python))
        .success();
    assert!(
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&entry).unwrap())
            .is_ok()
    );
}

#[test]
fn cache_dir_flag_env_xdg_and_no_cache() {
    let ctx = ctx();
    let out = ctx.run(&mut ctx.ferry(["cache", "dir"])).success();
    assert_eq!(out.stdout().trim(), ctx.cache_dir().display().to_string());

    let flag = ctx.root().join("flag-cache");
    let out = ctx
        .run(ctx.ferry(["cache", "dir", "--cache-dir"]).arg(&flag))
        .success();
    assert_eq!(out.stdout().trim(), flag.display().to_string());

    ctx.env("FERRY_CACHE_DIR", "");
    let out = ctx.run(&mut ctx.ferry(["cache", "dir"])).success();
    assert_eq!(
        out.stdout().trim(),
        ctx.root().join("xdg-cache/ferry").display().to_string()
    );

    // --no-cache-dir leaves no trace in any cache directory.
    ctx.run(&mut ctx.ferry(["venv", "v", "--no-cache-dir"]))
        .success();
    assert!(!ctx.root().join("xdg-cache").exists());
    assert!(!ctx.cache_dir().join("interpreter-v1").exists());
}

/// A venv's interpreter facts are worked out from its base interpreter's without running it
/// (see `ferry_python::Interpreter::query`); they must be exactly what running it reports, for
/// venvs made by ferry and by `python -m venv`, with and without system site-packages, on the
/// oldest and newest CPython. A venv with its own pip is queried (its pip names the index).
#[test]
fn venv_facts_derived_from_the_base_match_a_real_query() {
    use ferry_python::Interpreter;
    let ctx = ctx();
    let cache = ferry_cache::Cache::at(ctx.root().join("facts"), ferry_cache::CacheSource::Flag);
    let cached = || {
        std::fs::read_dir(cache.root().join("interpreter-v1"))
            .map(|entries| entries.count())
            .unwrap_or(0)
    };
    for python in pythons::oldest_and_newest() {
        let version = &python.version;
        let base = std::fs::canonicalize(&python.path).unwrap();
        Interpreter::query(&base, &cache).unwrap();
        let before = cached();
        let made: Vec<(String, Vec<String>)> = vec![
            (format!("ferry-{version}"), vec!["ferry".into()]),
            (
                format!("ferry-system-{version}"),
                vec!["ferry".into(), "--system-site-packages".into()],
            ),
            (format!("stdlib-{version}"), vec!["stdlib".into()]),
        ];
        for (name, how) in made {
            let dir = ctx.work().join(&name);
            let status = if how[0] == "ferry" {
                let mut cmd = ctx.ferry(["venv", dir.to_str().unwrap(), "-q", "--python"]);
                cmd.arg(&python.path).args(&how[1..]);
                cmd.status().unwrap()
            } else {
                std::process::Command::new(&python.path)
                    .args(["-m", "venv", "--without-pip", dir.to_str().unwrap()])
                    .status()
                    .unwrap()
            };
            assert!(status.success(), "{name}");
            let python_path = dir.join("bin/python");
            let derived = Interpreter::query(&python_path, &cache).unwrap();
            let real = Interpreter::query_uncached(&python_path).unwrap();
            assert_eq!(derived.info(), real.info(), "{name}");
            // It was derived: nothing was run, so nothing was cached for its path.
            assert_eq!(cached(), before, "{name} was queried, not derived");
        }
        // A venv with a pip of its own is run: its pip names the default index.
        let dir = ctx.work().join(format!("stdlib-{version}"));
        let site = real_site(&dir);
        std::fs::create_dir_all(site.join("pip")).unwrap();
        std::fs::write(site.join("pip/__init__.py"), "").unwrap();
        let queried = Interpreter::query(&dir.join("bin/python"), &cache).unwrap();
        assert_eq!(cached(), before + 1, "a venv with pip was derived");
        assert_eq!(queried.info().prefix, dir);
    }
}

/// The site-packages directory of a venv (`lib/pythonX.Y/site-packages`).
fn real_site(venv: &std::path::Path) -> std::path::PathBuf {
    let lib = venv.join("lib");
    let version = std::fs::read_dir(&lib)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("python"))
        .unwrap()
        .file_name();
    lib.join(version).join("site-packages")
}
