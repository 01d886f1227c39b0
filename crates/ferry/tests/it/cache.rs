//! `ferry cache`: every artifact with its origin, removing and purging, and `ferry hash`.

use ferry_test::{pythons, IndexServer, Project, TestContext, WheelBuilder};

use crate::common::{ctx, install, make_venv, python_output, python_with_pip};

fn cache_json(ctx: &TestContext, args: &[&str]) -> Vec<serde_json::Value> {
    let mut cmd = ctx.ferry(["cache", "list", "--format", "json"]);
    cmd.args(args);
    let text = ctx.run(&mut cmd).success().stdout();
    serde_json::from_str::<serde_json::Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// stdout with what varies between runs masked: the test's root, ports and dates.
fn masked(ctx: &TestContext, text: &str) -> String {
    let mut text = text.replace(&ctx.root().display().to_string(), "[TMP]");
    while let Some(at) = text.find("127.0.0.1:") {
        let start = at + "127.0.0.1:".len();
        let end = start
            + text[start..]
                .chars()
                .take_while(char::is_ascii_digit)
                .count();
        text.replace_range(at..end, "[HOST]");
    }
    // Dates keep their width, so the columns stay aligned.
    let bytes: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let date = bytes.len() >= i + 10
            && bytes[i..i + 10].iter().enumerate().all(|(k, c)| match k {
                4 | 7 => *c == '-',
                _ => c.is_ascii_digit(),
            });
        if date {
            out.push_str("YYYY-MM-DD");
            i += 10;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn every_artifact_is_listed_with_its_origin_and_can_be_removed() {
    let ctx = ctx();
    let server = IndexServer::start();
    let wheel = WheelBuilder::new("cached-wheel", "1.0")
        .file("cached_wheel.py", "X = 1\n")
        .build();
    server.publish(&wheel);
    let sdist = Project::new("from-sdist", "0.1").sdist();
    server.publish(&sdist);
    let kept = WheelBuilder::new("kept-file", "2.0").build();
    server.publish(&kept);
    let env = make_venv(&ctx, "env", &pythons::newest().path, false);
    ctx.run(&mut install(
        &ctx,
        &env,
        &server,
        &["cached-wheel", "from-sdist"],
    ))
    .success();
    let mut cmd = ctx.ferry(["download", "-i", &server.url(), "-d"]);
    cmd.arg(ctx.work().join("dl")).arg("kept-file");
    ctx.run(&mut cmd).success();

    let entries = cache_json(&ctx, &[]);
    let find = |kind: &str, name: &str| {
        entries
            .iter()
            .find(|e| e["kind"] == kind && e["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in {entries:#?}"))
            .clone()
    };
    let downloaded = find("wheel", "cached-wheel");
    assert_eq!(downloaded["version"], "1.0");
    assert_eq!(downloaded["size"], wheel.bytes.len());
    assert_eq!(downloaded["links"], 1, "linked into one environment");
    assert_eq!(
        downloaded["origin"],
        serde_json::json!({"url": server.file_url(&wheel.filename), "index": server.url(), "sha256": wheel.sha256()})
    );
    let built = find("built", "from-sdist");
    assert_eq!(built["origin"]["source"], server.file_url(&sdist.filename));
    assert_eq!(built["origin"]["sha256"], sdist.sha256());
    assert_eq!(
        find("wheel", "from-sdist")["origin"]["source"],
        built["origin"]["source"]
    );
    let file = find("file", "kept-file");
    assert_eq!(file["origin"]["url"], server.file_url(&kept.filename));
    assert_eq!(file["origin"]["sha256"], kept.sha256());
    // The project's index page, and its PEP 658 metadata file.
    let pages: Vec<&str> = entries
        .iter()
        .filter(|e| e["kind"] == "page" && e["name"] == "cached-wheel")
        .map(|e| e["origin"]["url"].as_str().unwrap())
        .collect();
    assert!(
        pages.iter().any(|u| u.starts_with(&server.url())),
        "{pages:?}"
    );
    assert!(
        pages.iter().any(|u| u.ends_with(".whl.metadata")),
        "{pages:?}"
    );
    assert!(entries
        .iter()
        .any(|e| e["kind"] == "metadata" && e["name"] == "cached-wheel"));

    // Filters: a name glob and kinds.
    let some = cache_json(&ctx, &["cached-*", "--kind", "wheel"]);
    assert_eq!(some.len(), 1, "{some:#?}");
    let err = ctx
        .run(&mut ctx.ferry(["cache", "list", "--kind", "nonsense"]))
        .failure()
        .stderr();
    assert!(err.contains("not a kind of cache entry"), "{err}");

    // The table, as people see it.
    let table = ctx
        .run(&mut ctx.ferry(["cache", "list", "--kind", "wheel,built,file"]))
        .success()
        .stdout();
    insta::assert_snapshot!("cache_list", masked(&ctx, &table));

    let info = ctx
        .run(&mut ctx.ferry(["cache", "info"]))
        .success()
        .stdout();
    assert!(
        info.starts_with(&format!("Cache location: {}", ctx.cache_dir().display())),
        "{info}"
    );
    assert!(info.contains("unpacked wheels (store)"), "{info}");

    // Removing the store's copy: the environment keeps its hard-linked files.
    ctx.run(&mut ctx.ferry(["cache", "remove", "cached-wheel", "--kind", "wheel"]))
        .success()
        .stderr_contains("Removed 1 entry");
    assert!(cache_json(&ctx, &["cached-wheel", "--kind", "wheel"]).is_empty());
    assert_eq!(
        python_output(
            &env.join("bin/python"),
            "import cached_wheel; print(cached_wheel.X)"
        ),
        "1"
    );
    ctx.run(&mut ctx.ferry(["cache", "remove", "nothing-like-this"]))
        .success()
        .stderr_contains("No cache entries match");

    ctx.run(&mut ctx.ferry(["cache", "purge"]))
        .success()
        .stderr_contains("Purged");
    assert!(cache_json(&ctx, &[]).is_empty());
    // And the cache fills again.
    let fresh = make_venv(&ctx, "fresh", &pythons::newest().path, false);
    ctx.run(&mut install(&ctx, &fresh, &server, &["cached-wheel"]))
        .success();
    assert_eq!(cache_json(&ctx, &["--kind", "wheel"]).len(), 1);
}

#[test]
fn hash_prints_what_pip_hash_prints() {
    let ctx = ctx();
    let wheel = WheelBuilder::new("hashme", "1.0").build();
    let path = wheel.write_to(&ctx.work());
    for algorithm in ["sha256", "sha512"] {
        let ours = ctx
            .run(ctx.ferry(["hash", "-a", algorithm]).arg(&path))
            .success()
            .stdout();
        let theirs = std::process::Command::new(python_with_pip())
            .args(["-m", "pip", "hash", "-a", algorithm])
            .arg(&path)
            .env("PIP_CONFIG_FILE", "/dev/null")
            .output()
            .unwrap();
        assert_eq!(ours, String::from_utf8_lossy(&theirs.stdout));
    }
    let err = ctx
        .run(&mut ctx.ferry(["hash", "/no/such/file.whl"]))
        .failure()
        .stderr();
    assert!(err.contains("/no/such/file.whl"), "{err}");
}

#[test]
fn removing_waits_for_a_running_install_and_prune_takes_leftovers_and_old_entries() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish(&WheelBuilder::new("slow", "1.0").file("slow.py", "").build());
    server.publish(&WheelBuilder::new("old", "1.0").file("old.py", "").build());
    server.publish(&WheelBuilder::new("recent", "1.0").build());
    let env = make_venv(&ctx, "env", &pythons::newest().path, false);
    ctx.run(&mut install(&ctx, &env, &server, &["old", "recent"]))
        .success();

    // An install that takes a while: purge waits for it, and it succeeds.
    server.fault(ferry_test::Fault::delay("slow-1.0", std::time::Duration::from_secs(3)).times(1));
    let running = install(&ctx, &env, &server, &["slow"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // It holds the cache's shared lock from its start: wait until it does.
    let lock_path = ctx.cache_dir().join(".lock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let held = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .is_ok_and(|f| matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)));
        if held {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the install never took the cache's lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let purge = ctx.run(&mut ctx.ferry(["cache", "purge"])).success();
    assert!(
        purge.stderr().contains("Waiting for other ferry processes"),
        "{}",
        purge.stderr()
    );
    let installed = running.wait_with_output().unwrap();
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    assert!(
        cache_json(&ctx, &[]).is_empty(),
        "purged after the install ended"
    );
    python_output(&env.join("bin/python"), "import slow");

    // Prune: what interrupted runs left, and (with --older-than) what nothing used lately.
    let fresh = make_venv(&ctx, "fresh", &pythons::newest().path, false);
    ctx.run(&mut install(&ctx, &fresh, &server, &["old", "recent"]))
        .success();
    let store = ctx.cache_dir().join("archive-v1");
    std::fs::create_dir_all(store.join(".tmp-interrupted/pkg")).unwrap();
    std::fs::create_dir_all(ctx.cache_dir().join("builds-v1/ferry-build-abc")).unwrap();
    let old = cache_json(&ctx, &["old", "--kind", "wheel"]);
    let old_dir = old[0]["path"].as_str().unwrap().to_string();
    // Last used in 2020: its record's modification time says when ferry last used it.
    let status = std::process::Command::new("touch")
        .args(["-m", "-d", "2020-01-01"])
        .arg(format!("{old_dir}.json"))
        .status()
        .unwrap();
    assert!(status.success());
    ctx.run(&mut ctx.ferry(["cache", "prune"]))
        .success()
        .stderr_contains("Pruned 2 entries");
    assert!(!store.join(".tmp-interrupted").exists());
    assert_eq!(cache_json(&ctx, &["--kind", "wheel"]).len(), 2);
    ctx.run(&mut ctx.ferry(["cache", "prune", "--older-than", "30"]))
        .success();
    let wheels: Vec<String> = cache_json(&ctx, &["--kind", "wheel"])
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(wheels, ["recent"]);
    assert!(!std::path::Path::new(&old_dir).exists());
    assert!(!std::path::Path::new(&format!("{old_dir}.json")).exists());
    // The environment that linked it keeps working.
    python_output(&fresh.join("bin/python"), "import old");
}

#[test]
fn debug_shows_the_interpreter_tags_configuration_and_cache() {
    let ctx = ctx();
    let conf = ctx.work().join("pip.conf");
    std::fs::write(&conf, "[global]\ntimeout = 3\n").unwrap();
    let python = pythons::newest();
    let mut cmd = ctx.ferry(["debug", "--python"]);
    cmd.arg(&python.path).env("PIP_CONFIG_FILE", &conf).env(
        "PIP_EXTRA_INDEX_URL",
        "http://user:s3cret@127.0.0.1:9/simple/",
    );
    let out = ctx.run(&mut cmd).success().stdout();
    assert!(
        out.contains(&format!("{} (loaded)", conf.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("cache: {}", ctx.cache_dir().display())),
        "{out}"
    );
    assert!(
        out.contains("PIP_EXTRA_INDEX_URL=http://user:****@127.0.0.1:9/simple/"),
        "{out}"
    );
    assert!(!out.contains("s3cret"));
    // The same tags `python find --json` reports, best first.
    let found = ctx
        .run(
            ctx.ferry(["python", "find", "--json", "--tags"])
                .arg(&python.path),
        )
        .success()
        .stdout();
    let found: serde_json::Value = serde_json::from_str(&found).unwrap();
    let tags: Vec<&str> = found["supported_tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let listed: Vec<&str> = out
        .split_once("compatible tags: ")
        .unwrap()
        .1
        .lines()
        .skip(1)
        .map(str::trim)
        .collect();
    assert_eq!(listed, tags);
}

#[test]
fn completion_scripts_are_valid_shell() {
    let ctx = ctx();
    for (shell, check) in [
        ("bash", vec!["bash", "-n"]),
        ("fish", vec!["fish", "--no-execute"]),
    ] {
        let script = ctx
            .run(&mut ctx.ferry(["completion", shell]))
            .success()
            .stdout();
        assert!(
            script.contains("install") && script.contains("--index-url"),
            "{shell}"
        );
        let path = ctx.work().join(format!("ferry.{shell}"));
        std::fs::write(&path, &script).unwrap();
        if std::process::Command::new(check[0])
            .arg("--version")
            .output()
            .is_err()
        {
            continue;
        }
        let status = std::process::Command::new(check[0])
            .args(&check[1..])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success(), "{shell} rejects its completion script");
    }
    let out = ctx
        .run(&mut ctx.ferry(["completion", "zsh"]))
        .success()
        .stdout();
    assert!(
        out.starts_with("#compdef ferry"),
        "{}",
        &out[..out.len().min(80)]
    );
}
