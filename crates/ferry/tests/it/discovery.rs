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
    ctx.run(&mut ctx.ferry(["venv", "v"])).success();
    let python = ctx.work().join("v/bin/python");
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
        .expect("a cache entry for the venv interpreter");
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
