//! The kill campaign: installs, upgrades, downgrades and uninstalls of 24 real-shaped wheels
//! (many modules, a console script, a data file, a `.pth` file), each SIGKILLed at a random
//! moment drawn from a seed, then recovered by the next ferry run, then checked:
//! - every distribution is wholly its old version or wholly its new one (its module, data file
//!   and dist-info agree);
//! - RECORD matches the files on disk, byte for byte, and no package file is unaccounted for;
//! - `pip check` is clean;
//! - no temporary file or journal is left in the environment.
//!
//! Some runs start from an empty cache, so the kill can land while the store is being filled:
//! the next run must not link a truncated store entry (the RECORD check would see it).
//!
//! Each seed runs operations until one is still running when its kill comes, so every seed
//! is one kill of a running ferry. CI runs seeds 1 to 20; `FERRY_KILL_RUNS=200` runs seeds 1
//! to 200. A failure names its seed, and `FERRY_KILL_SEED=N` replays that one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ferry_test::{pythons, IndexServer, TestContext, WheelBuilder};
use sha2::Digest;

use crate::common::{ctx, make_venv, site_packages};

const WHEELS: usize = 24;

fn name(i: usize) -> String {
    format!("kpkg{i:02}")
}

fn wheel(i: usize, version: &str) -> ferry_test::BuiltFile {
    let module = name(i);
    let mut builder = WheelBuilder::new(&module, version)
        .requires_dist("kcommon")
        .file(
            &format!("{module}/__init__.py"),
            format!("VERSION = '{version}'\ndef main(): pass\n"),
        )
        .console_script(&format!("{module}-cli"), &format!("{module}:main"))
        .data_file("data", &format!("share/{module}/VERSION"), version)
        .file(&format!("{module}.pth"), format!("# {module} {version}\n"));
    for part in 0..15 {
        builder = builder.file(
            &format!("{module}/part{part:02}.py"),
            format!(
                "VERSION = '{version}'\n# {}\n",
                "x".repeat(2000 + part * 100)
            ),
        );
    }
    // Version 2 moves a file, so an upgrade removes one and adds another.
    let moved = match version {
        "1.0" => format!("{module}/old_place.py"),
        _ => format!("{module}/sub/new_place.py"),
    };
    builder.file(&moved, "MOVED = True\n").build()
}

fn server() -> IndexServer {
    let server = IndexServer::start();
    for i in 0..WHEELS {
        server.publish(&wheel(i, "1.0"));
        server.publish(&wheel(i, "2.0"));
    }
    server.publish(
        &WheelBuilder::new("kcommon", "1.0")
            .file("kcommon.py", "OK = True\n")
            .build(),
    );
    server
}

/// splitmix64: the campaign's random numbers, from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What one seed did, for the summary.
struct Outcome {
    /// The process was still running when it was killed.
    killed: bool,
}

fn run_seed(seed: u64, server: &IndexServer) -> Result<Outcome, String> {
    let mut rng = Rng(seed);
    let ctx = ctx();
    let venv = make_venv(&ctx, "env", &pythons::newest().path, false);
    let install = |ctx: &TestContext, args: &[String]| {
        let mut cmd = ctx.ferry(["install", "-q", "-i", &server.url(), "--python"]);
        cmd.arg(&venv).args(args);
        cmd
    };
    let pins = |version: &str, which: &[usize]| -> Vec<String> {
        which
            .iter()
            .map(|i| format!("{}=={version}", name(*i)))
            .collect()
    };
    let all: Vec<usize> = (0..WHEELS).collect();
    // A starting state: everything at 1.0, or some at 2.0.
    let start = ctx.run(&mut install(&ctx, &pins("1.0", &all)));
    if start.code() != Some(0) {
        return Err(format!("the starting install failed: {}", start.stderr()));
    }
    let some: Vec<usize> = all.iter().copied().filter(|_| rng.below(2) == 0).collect();
    if !some.is_empty() {
        let upgraded = ctx.run(&mut install(&ctx, &pins("2.0", &some)));
        if upgraded.code() != Some(0) {
            return Err(format!("the setup upgrade failed: {}", upgraded.stderr()));
        }
    }
    // Sometimes from an empty cache, so the kill can hit the store being filled.
    if rng.below(3) == 0 {
        ctx.run(&mut ctx.ferry(["cache", "purge"])).success();
    }
    // Operations until one is still running when its kill comes (each finished one is a
    // change like any other); later tries kill sooner.
    let mut killed = false;
    let mut late = 600;
    for attempt in 0..16 {
        let subset: Vec<usize> = all.iter().copied().filter(|_| rng.below(3) != 0).collect();
        let mut op = match rng.below(4) {
            0 => install(&ctx, &pins("2.0", &all)),
            1 => install(&ctx, &pins("1.0", &subset)),
            2 => install(
                &ctx,
                &["--force-reinstall".to_string()]
                    .into_iter()
                    .chain(pins("2.0", &subset))
                    .collect::<Vec<_>>(),
            ),
            _ => {
                let mut cmd = ctx.ferry(["uninstall", "-y", "--python"]);
                cmd.arg(&venv).args(subset.iter().map(|i| name(*i)));
                cmd
            }
        };
        // Most kills early (an operation takes 100 to 500 ms here), some later.
        let delay = Duration::from_millis(match rng.below(10) {
            _ if attempt >= 4 => rng.below(30),
            0..=6 => rng.below(150),
            _ => 150 + rng.below(late),
        });
        let mut child = op
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        std::thread::sleep(delay);
        killed = child.try_wait().map_err(|e| e.to_string())?.is_none();
        let _ = child.kill();
        let _ = child.wait();
        if killed {
            break;
        }
        late = (late / 2).max(1);
    }

    // The next run recovers (it takes the lock and rolls back anything half-done).
    let recover = ctx.run(&mut install(&ctx, &["kcommon".to_string()]));
    if recover.code() != Some(0) {
        return Err(format!("the next run failed: {}", recover.stderr()));
    }
    check(&ctx, &venv)?;
    Ok(Outcome { killed })
}

/// The campaign's checks on `venv` (see the module docs).
fn check(ctx: &TestContext, venv: &Path) -> Result<(), String> {
    let site = site_packages(venv);
    let mut owned: BTreeMap<PathBuf, String> = BTreeMap::new();
    for entry in std::fs::read_dir(&site)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with(".ferry-txn") || file_name.contains(".ferry-") {
            return Err(format!("{file_name} is left in site-packages"));
        }
        let Some(stem) = file_name.strip_suffix(".dist-info") else {
            continue;
        };
        let (dist, version) = stem
            .rsplit_once('-')
            .ok_or("a dist-info without a version")?;
        let record = std::fs::read_to_string(entry.path().join("RECORD"))
            .map_err(|e| format!("{file_name}: RECORD: {e}"))?;
        for row in record.lines().filter(|l| !l.trim().is_empty()) {
            let fields: Vec<&str> = row.rsplitn(3, ',').collect();
            let (size, hash, path) = (fields[0], fields[1], fields[2]);
            let file = site.join(path);
            let file = normalize(&file);
            owned.insert(file.clone(), dist.to_string());
            if hash.is_empty() {
                continue;
            }
            let bytes = std::fs::read(&file).map_err(|e| format!("{dist}: {path}: {e}"))?;
            if size.parse::<usize>().ok() != Some(bytes.len()) {
                return Err(format!(
                    "{dist}: {path} is {} bytes, RECORD says {size}",
                    bytes.len()
                ));
            }
            let digest = sha2::Sha256::digest(&bytes);
            if hash != ferry_install::record::encode_digest(&digest) {
                return Err(format!("{dist}: {path} does not match its RECORD hash"));
            }
        }
        if dist.starts_with("kpkg") {
            // Wholly one version: the module, a part and the data file agree with the dist-info.
            let module = site.join(dist).join("__init__.py");
            let text = std::fs::read_to_string(&module).map_err(|e| format!("{dist}: {e}"))?;
            if !text.contains(&format!("VERSION = '{version}'")) {
                return Err(format!("{dist} {version}: its module is another version"));
            }
            let data = venv.join("share").join(dist).join("VERSION");
            let data = std::fs::read_to_string(&data).map_err(|e| format!("{dist}: data: {e}"))?;
            if data != version {
                return Err(format!("{dist} {version}: its data file says {data}"));
            }
            if !venv.join("bin").join(format!("{dist}-cli")).is_file() {
                return Err(format!("{dist} {version}: its script is missing"));
            }
        }
    }
    // No package file that no RECORD owns (a leftover of the other version).
    for entry in walk(&site) {
        let relative = entry.strip_prefix(&site).unwrap_or(&entry);
        let top = relative
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .unwrap_or_default();
        if !top.starts_with("kpkg")
            || relative
                .components()
                .any(|c| c.as_os_str() == "__pycache__")
        {
            continue;
        }
        if !owned.contains_key(&entry) {
            return Err(format!(
                "{} belongs to no installed distribution",
                relative.display()
            ));
        }
    }
    for entry in std::fs::read_dir(venv)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') && file_name != ".ferry-lock" && file_name != ".gitignore" {
            return Err(format!("{file_name} is left in the environment"));
        }
    }
    // pip's own check, from a CPython that has pip, on the environment.
    let pip = pythons::with_pip().ok_or("a CPython with pip")?;
    let out = ctx.run(
        ctx.command(&pip.path)
            .args(["-m", "pip", "--python"])
            .arg(venv.join("bin/python"))
            .arg("check"),
    );
    if out.code() != Some(0) {
        return Err(format!("pip check: {}{}", out.stdout(), out.stderr()));
    }
    Ok(())
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => stack.push(path),
                Ok(_) => out.push(path),
                Err(_) => {}
            }
        }
    }
    out
}

#[test]
fn kill_campaign() {
    let seeds: Vec<u64> = match std::env::var("FERRY_KILL_SEED") {
        Ok(seed) => vec![seed.parse().expect("FERRY_KILL_SEED is a number")],
        Err(_) => {
            let runs: u64 = std::env::var("FERRY_KILL_RUNS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(20);
            (1..=runs).collect()
        }
    };
    let server = server();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(seed) = seeds.get(n) else { break };
                let result = run_seed(*seed, &server);
                results.lock().unwrap().push((*seed, result));
            });
        }
    });
    let results = results.into_inner().unwrap();
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(seed, r)| r.as_ref().err().map(|e| format!("seed {seed}: {e}")))
        .collect();
    let kills = results
        .iter()
        .filter(|(_, r)| r.as_ref().is_ok_and(|o| o.killed))
        .count();
    eprintln!(
        "kill campaign: {} seeds, {kills} killed mid-run, {} recovered and checked clean",
        results.len(),
        results.len() - failed.len()
    );
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    // Every seed's kill must have landed while ferry was running.
    assert_eq!(
        kills,
        results.len(),
        "only {kills} of {} seeds killed a running ferry",
        results.len()
    );
}
