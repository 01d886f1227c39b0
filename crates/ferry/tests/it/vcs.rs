//! Version-control requirements end to end, against repositories made in the test with the
//! real `git` (served as `file://` and by `git http-backend` on 127.0.0.1), `hg` and `svn`.

use std::path::{Path, PathBuf};
use std::process::Command;

use ferry_test::{pythons, GitRepo, GitServer, Project, TestContext};

use crate::common::{ctx, make_venv, python_output, site_packages, snapshot};

fn venv(ctx: &TestContext, name: &str) -> PathBuf {
    make_venv(ctx, name, &pythons::newest().path, false)
}

/// `ferry install --no-index --python ENV ARGS…` (VCS requirements need no index).
fn install(ctx: &TestContext, env: &Path, args: &[&str]) -> Command {
    let mut cmd = ctx.ferry(["install", "--no-index", "--python"]);
    cmd.arg(env).args(args);
    cmd
}

fn direct_url(env: &Path, name: &str, version: &str) -> serde_json::Value {
    let path = site_packages(env)
        .join(format!("{name}-{version}.dist-info"))
        .join("direct_url.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A repository holding project `name` at `version` (its module says the version).
fn repo_with(dir: &Path, name: &str, version: &str) -> GitRepo {
    let repo = GitRepo::init(dir);
    Project::new(name, version).write(dir);
    repo.commit(&format!("{name} {version}"));
    repo
}

fn set_version(repo: &GitRepo, name: &str, version: &str) -> String {
    Project::new(name, version).write(&repo.dir);
    repo.commit(&format!("{name} {version}"))
}

#[test]
fn branch_tag_and_commit_refs_install_and_freeze_round_trips_to_the_same_commit() {
    let ctx = ctx();
    let repo = repo_with(&ctx.work().join("repo"), "gitpkg", "1.0");
    repo.tag("v1.0");
    let one = repo.head();
    let two = set_version(&repo, "gitpkg", "2.0");
    repo.branch("feature");
    let three = set_version(&repo, "gitpkg", "3.0");
    repo.checkout("main");
    let url = repo.file_url();
    let env = venv(&ctx, "env");
    let py = env.join("bin/python");

    // A tag.
    ctx.run(&mut install(
        &ctx,
        &env,
        &[&format!("gitpkg @ git+{url}@v1.0")],
    ))
    .success()
    .stderr_contains("Successfully installed gitpkg-1.0");
    assert_eq!(
        direct_url(&env, "gitpkg", "1.0"),
        serde_json::json!({"url": url, "vcs_info": {"vcs": "git", "commit_id": one, "requested_revision": "v1.0"}})
    );
    // A branch, with pip's `#egg=` form and no name.
    ctx.run(&mut install(
        &ctx,
        &env,
        &[&format!("git+{url}@feature#egg=gitpkg")],
    ))
    .success()
    .stderr_contains("Successfully installed gitpkg-3.0");
    assert_eq!(
        direct_url(&env, "gitpkg", "3.0")["vcs_info"]["commit_id"],
        three.as_str()
    );
    // A commit, abbreviated.
    ctx.run(&mut install(
        &ctx,
        &env,
        &[&format!("gitpkg @ git+{url}@{}", &two[..10])],
    ))
    .success()
    .stderr_contains("Successfully installed gitpkg-2.0");
    assert_eq!(
        python_output(&py, "import gitpkg; print(gitpkg.VERSION)"),
        "2.0"
    );
    // No revision: the remote's HEAD (main).
    let other = venv(&ctx, "other");
    ctx.run(&mut install(&ctx, &other, &[&format!("git+{url}")]))
        .success()
        .stderr_contains("Successfully installed gitpkg-2.0");

    // pip's installation report records the VCS source the same way.
    let mut cmd = install(&ctx, &other, &["--dry-run", "--report", "-"]);
    cmd.arg(format!("git+{url}@v1.0#egg=gitpkg"));
    let report: serde_json::Value =
        serde_json::from_str(&ctx.run(&mut cmd).success().stdout()).unwrap();
    assert_eq!(
        report["install"][0]["download_info"],
        serde_json::json!({"url": url, "vcs_info": {"vcs": "git", "commit_id": one, "requested_revision": "v1.0"}})
    );

    // freeze prints the commit; installing that output gives the same commit.
    let frozen = ctx
        .run(ctx.ferry(["freeze", "--python"]).arg(&env))
        .success()
        .stdout();
    assert_eq!(frozen.trim(), format!("gitpkg @ git+{url}@{two}"));
    let file = ctx.work().join("frozen.txt");
    std::fs::write(&file, &frozen).unwrap();
    // The branch moves on; the frozen commit does not.
    set_version(&repo, "gitpkg", "4.0");
    let fresh = venv(&ctx, "fresh");
    let mut cmd = install(&ctx, &fresh, &["-r"]);
    cmd.arg(&file);
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Successfully installed gitpkg-2.0");
    assert_eq!(
        direct_url(&fresh, "gitpkg", "2.0"),
        serde_json::json!({"url": url, "vcs_info": {"vcs": "git", "commit_id": two, "requested_revision": two}})
    );
    assert_eq!(
        ctx.run(ctx.ferry(["freeze", "--python"]).arg(&fresh))
            .success()
            .stdout(),
        frozen
    );
}

#[test]
fn a_moved_branch_is_kept_without_upgrade_and_followed_with_it_and_cached_commits_need_no_network()
{
    let ctx = ctx();
    let repo = repo_with(&ctx.work().join("repo"), "moving", "1.0");
    let first = repo.head();
    let served = ctx.work().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let bare = repo.publish(&served, "moving.git");
    let server = GitServer::start(&served);
    let requirement = format!("moving @ git+{}@main", server.url("moving.git"));
    let env = venv(&ctx, "env");

    ctx.run(&mut install(&ctx, &env, &[&requirement]))
        .success()
        .stderr_contains("Successfully installed moving-1.0");
    let after_first = server.requests();
    assert!(after_first > 0);
    // Satisfied: the installed commit is used without asking the server.
    ctx.run(&mut install(&ctx, &env, &[&requirement]))
        .success()
        .stderr_contains("Nothing to install");
    assert_eq!(
        server.requests(),
        after_first,
        "a satisfied VCS requirement asked the server"
    );

    // main moves: without --upgrade the installed commit stays, with it the new one comes.
    let second = set_version(&repo, "moving", "2.0");
    repo.push_to(&bare);
    ctx.run(&mut install(&ctx, &env, &[&requirement]))
        .success()
        .stderr_contains("Nothing to install");
    assert_eq!(
        direct_url(&env, "moving", "1.0")["vcs_info"]["commit_id"],
        first.as_str()
    );
    ctx.run(&mut install(&ctx, &env, &["-U", &requirement]))
        .success()
        .stderr_contains("Successfully installed moving-2.0");
    assert_eq!(
        direct_url(&env, "moving", "2.0")["vcs_info"]["commit_id"],
        second.as_str()
    );

    // A bad ref: a clear error naming it, and nothing changes.
    let before = snapshot(&env);
    let bad = format!("moving @ git+{}@no-such-branch", server.url("moving.git"));
    let out = ctx.run(&mut install(&ctx, &env, &[&bad])).failure();
    let err = out.stderr();
    assert!(
        err.contains("`no-such-branch` is not a branch, tag or commit")
            && err.contains("moving.git"),
        "{err}"
    );
    assert_eq!(snapshot(&env), before);

    // A full commit id already in the cache: no request at all, and the build comes from the
    // build cache.
    let fresh = venv(&ctx, "fresh");
    let requests = server.requests();
    let pinned = format!("moving @ git+{}@{first}", server.url("moving.git"));
    ctx.run(&mut install(&ctx, &fresh, &[&pinned]))
        .success()
        .stderr_contains("Successfully installed moving-1.0");
    assert_eq!(
        server.requests(),
        requests,
        "a cached commit asked the server"
    );
}

#[test]
fn a_subdirectory_with_a_submodule_installs_over_http() {
    let ctx = ctx();
    let served = ctx.work().join("served");
    std::fs::create_dir_all(&served).unwrap();
    let server = GitServer::start(&served);
    // The submodule: a package of its own.
    let vendored = GitRepo::init(&ctx.work().join("vendored"));
    std::fs::write(vendored.dir.join("__init__.py"), "WHERE = 'submodule'\n").unwrap();
    vendored.commit("vendored");
    vendored.publish(&served, "vendored.git");
    // The repository: the project under `pkgs/mono`, the submodule inside its `src/`.
    let mono = GitRepo::init(&ctx.work().join("mono"));
    std::fs::write(mono.dir.join("README"), "a monorepo\n").unwrap();
    Project::new("mono", "0.5").write(&mono.dir.join("pkgs/mono"));
    ferry_test::git::git(
        &mono.dir,
        &[
            "submodule",
            "add",
            "-q",
            &server.url("vendored.git"),
            "pkgs/mono/src/vendored",
        ],
    );
    let commit = mono.commit("mono with a submodule");
    mono.publish(&served, "mono.git");

    let env = venv(&ctx, "env");
    let url = format!(
        "git+{}#subdirectory=pkgs/mono&egg=mono",
        server.url("mono.git")
    );
    ctx.run(&mut install(&ctx, &env, &[&url]))
        .success()
        .stderr_contains("Successfully installed mono-0.5");
    let out = python_output(
        &env.join("bin/python"),
        "import mono, vendored; print(mono.VERSION, vendored.WHERE)",
    );
    assert_eq!(out, "0.5 submodule");
    assert_eq!(
        direct_url(&env, "mono", "0.5"),
        serde_json::json!({
            "url": server.url("mono.git"),
            "subdirectory": "pkgs/mono",
            "vcs_info": {"vcs": "git", "commit_id": commit},
        })
    );
    let frozen = ctx
        .run(ctx.ferry(["freeze", "--python"]).arg(&env))
        .success()
        .stdout();
    assert_eq!(
        frozen.trim(),
        format!(
            "mono @ git+{}@{commit}#subdirectory=pkgs/mono",
            server.url("mono.git")
        )
    );
    // A subdirectory the commit does not have.
    let missing = format!(
        "git+{}#subdirectory=pkgs/nothing&egg=mono",
        server.url("mono.git")
    );
    let err = ctx
        .run(&mut install(&ctx, &env, &[&missing]))
        .failure()
        .stderr();
    assert!(err.contains("no directory `pkgs/nothing`"), "{err}");
}

#[test]
fn credentials_in_a_private_repository_url_work_and_never_show() {
    let ctx = ctx();
    let repo = repo_with(&ctx.work().join("private"), "secretpkg", "1.0");
    let served = ctx.work().join("served");
    std::fs::create_dir_all(&served).unwrap();
    repo.publish(&served, "private.git");
    let server = GitServer::start(&served);
    server.require_auth("alice", "s3cr3t-t0ken");
    let env = venv(&ctx, "env");

    // Wrong credentials: refused, with the URL redacted.
    let wrong = format!(
        "secretpkg @ git+{}",
        server.url_with_credentials("private.git", "alice", "wr0ng-pa55")
    );
    let out = ctx.run(install(&ctx, &env, &[&wrong]).arg("-v")).failure();
    let text = format!("{}{}", out.stdout(), out.stderr());
    assert!(!text.contains("wr0ng-pa55"), "{text}");
    assert!(text.contains("****"), "{text}");

    let good = format!(
        "secretpkg @ git+{}",
        server.url_with_credentials("private.git", "alice", "s3cr3t-t0ken")
    );
    let out = ctx.run(install(&ctx, &env, &[&good]).arg("-vv")).success();
    let text = format!("{}{}", out.stdout(), out.stderr());
    assert!(
        text.contains("Successfully installed secretpkg-1.0"),
        "{text}"
    );
    assert!(
        !text.contains("s3cr3t-t0ken"),
        "the password showed:\n{text}"
    );
    let direct = direct_url(&env, "secretpkg", "1.0");
    assert_eq!(direct["url"], server.url("private.git"));
    let frozen = ctx
        .run(ctx.ferry(["freeze", "--python"]).arg(&env))
        .success()
        .stdout();
    assert!(
        !frozen.contains("s3cr3t") && !frozen.contains("alice"),
        "{frozen}"
    );
    // Nothing ferry wrote in the environment or the cache holds the password in a file name or
    // in direct_url.json / RECORD.
    for root in [env.clone(), ctx.cache_dir()] {
        for entry in walk(&root) {
            assert!(
                !entry.display().to_string().contains("s3cr3t"),
                "{}",
                entry.display()
            );
        }
    }
    let record =
        std::fs::read_to_string(site_packages(&env).join("secretpkg-1.0.dist-info/RECORD"))
            .unwrap();
    assert!(!record.contains("s3cr3t"));
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out
}

#[test]
fn an_editable_vcs_install_clones_into_src_and_freezes_as_pip_does() {
    let ctx = ctx();
    let repo = repo_with(&ctx.work().join("repo"), "edpkg", "1.0");
    let commit = repo.head();
    let url = repo.file_url();
    // The oldest CPython (the rest of this file uses the newest).
    let env = make_venv(&ctx, "env", &pythons::oldest().path, false);
    ctx.run(&mut install(
        &ctx,
        &env,
        &["-e", &format!("git+{url}#egg=edpkg")],
    ))
    .success()
    .stderr_contains("Successfully installed edpkg-1.0");
    let checkout = env.join("src/edpkg");
    assert!(
        checkout.join(".git").exists(),
        "no checkout in the environment's src"
    );
    // Editable: a change in the checkout shows without reinstalling.
    std::fs::write(checkout.join("src/edpkg.py"), "VERSION = 'edited'\n").unwrap();
    assert_eq!(
        python_output(
            &env.join("bin/python"),
            "import edpkg; print(edpkg.VERSION)"
        ),
        "edited"
    );
    let frozen = ctx
        .run(ctx.ferry(["freeze", "--python"]).arg(&env))
        .success()
        .stdout();
    assert_eq!(frozen.trim(), format!("-e git+{url}@{commit}#egg=edpkg"));
    // Round trip into another environment (its own src).
    let file = ctx.work().join("frozen.txt");
    std::fs::write(&file, &frozen).unwrap();
    let other = venv(&ctx, "other");
    let mut cmd = install(&ctx, &other, &["-r"]);
    cmd.arg(&file);
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Successfully installed edpkg-1.0");
    assert_eq!(
        ctx.run(ctx.ferry(["freeze", "--python"]).arg(&other))
            .success()
            .stdout(),
        frozen
    );
    // `--src` puts the checkout elsewhere.
    let third = venv(&ctx, "third");
    let src = ctx.work().join("checkouts");
    let mut cmd = install(&ctx, &third, &["--src"]);
    cmd.arg(&src).args(["-e", &format!("git+{url}#egg=edpkg")]);
    ctx.run(&mut cmd).success();
    assert!(src.join("edpkg/.git").exists());

    // The checkout there follows the requirement: to the branch's new head, then by id to a
    // commit that came with it (in the cache's repository, never resolved before), and back.
    let second = set_version(&repo, "edpkg", "2.0");
    let third_commit = set_version(&repo, "edpkg", "3.0");
    for (rev, version, head) in [
        ("main", "3.0", &third_commit),
        (second.as_str(), "2.0", &second),
        (commit.as_str(), "1.0", &commit),
    ] {
        let mut cmd = install(&ctx, &third, &["--src"]);
        cmd.arg(&src)
            .args(["-e", &format!("git+{url}@{rev}#egg=edpkg")]);
        ctx.run(&mut cmd)
            .success()
            .stderr_contains(&format!("Successfully installed edpkg-{version}"));
        assert_eq!(
            ferry_test::git::git(&src.join("edpkg"), &["rev-parse", "HEAD"]),
            *head
        );
    }
}

#[test]
fn two_urls_for_one_name_conflict_and_a_missing_vcs_program_is_named() {
    let ctx = ctx();
    let repo = repo_with(&ctx.work().join("repo"), "twice", "1.0");
    repo.tag("v1");
    set_version(&repo, "twice", "2.0");
    let url = repo.file_url();
    let env = venv(&ctx, "env");
    let out = ctx
        .run(&mut install(
            &ctx,
            &env,
            &[
                &format!("twice @ git+{url}@v1"),
                &format!("twice @ git+{url}@main"),
            ],
        ))
        .failure();
    assert!(
        out.stderr().contains("twice is asked for at two locations"),
        "{}",
        out.stderr()
    );

    // Without the program on PATH: which one, and what to install.
    let mut cmd = install(&ctx, &env, &["pkg @ bzr+https://127.0.0.1:9/repo"]);
    cmd.env("PATH", ctx.work().join("empty-path"));
    let err = ctx.run(&mut cmd).failure().stderr();
    assert!(
        err.contains("Breezy") && err.contains("`bzr` was not found"),
        "{err}"
    );
}

/// Whether `program` runs; hg and svn are installed by CI (`.ci/run`), maybe not locally.
/// With `FERRY_REQUIRE_VCS=1` (which `.ci/run` sets) a missing one fails the test instead.
fn have(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("FERRY_REQUIRE_VCS").is_none_or(|v| v != "1"),
        "`{program}` is not installed and FERRY_REQUIRE_VCS=1"
    );
    found
}

#[test]
fn mercurial_requirements_install_by_revision() {
    if !have("hg") {
        eprintln!("skipped: `hg` is not installed (CI installs mercurial)");
        return;
    }
    let ctx = ctx();
    let dir = ctx.work().join("hgrepo");
    std::fs::create_dir_all(&dir).unwrap();
    let hg = |args: &[&str]| {
        let out = Command::new("hg")
            .args(args)
            .args(["--config", "ui.username=ferry <ferry@127.0.0.1>"])
            .current_dir(&dir)
            .env("HGPLAIN", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "hg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    hg(&["init"]);
    Project::new("hgpkg", "1.0").write(&dir);
    hg(&["commit", "-q", "-A", "-m", "one"]);
    hg(&["tag", "v1.0"]);
    let one = hg(&["log", "-r", "v1.0", "--template", "{node}"]);
    Project::new("hgpkg", "2.0").write(&dir);
    hg(&["commit", "-q", "-A", "-m", "two"]);
    let url = format!("file://{}", dir.display());
    let env = venv(&ctx, "env");
    ctx.run(&mut install(
        &ctx,
        &env,
        &[&format!("hgpkg @ hg+{url}@v1.0")],
    ))
    .success()
    .stderr_contains("Successfully installed hgpkg-1.0");
    assert_eq!(
        direct_url(&env, "hgpkg", "1.0"),
        serde_json::json!({"url": url, "vcs_info": {"vcs": "hg", "commit_id": one, "requested_revision": "v1.0"}})
    );
    ctx.run(&mut install(
        &ctx,
        &env,
        &["-U", &format!("hg+{url}#egg=hgpkg")],
    ))
    .success()
    .stderr_contains("Successfully installed hgpkg-2.0");
    let frozen = ctx
        .run(ctx.ferry(["freeze", "--python"]).arg(&env))
        .success()
        .stdout();
    assert!(
        frozen.starts_with(&format!("hgpkg @ hg+{url}@")),
        "{frozen}"
    );
}

#[test]
fn subversion_requirements_install_by_revision() {
    if !have("svn") || !have("svnadmin") {
        eprintln!("skipped: `svn` is not installed (CI installs subversion)");
        return;
    }
    let ctx = ctx();
    let repo = ctx.work().join("svnrepo");
    let status = Command::new("svnadmin")
        .arg("create")
        .arg(&repo)
        .status()
        .unwrap();
    assert!(status.success());
    let url = format!("file://{}", repo.display());
    let tree = ctx.work().join("tree");
    Project::new("svnpkg", "1.0").write(&tree);
    let status = Command::new("svn")
        .args(["import", "-q", "-m", "one"])
        .arg(&tree)
        .arg(format!("{url}/trunk"))
        .status()
        .unwrap();
    assert!(status.success());
    let env = venv(&ctx, "env");
    ctx.run(&mut install(
        &ctx,
        &env,
        &[&format!("svnpkg @ svn+{url}/trunk@1")],
    ))
    .success()
    .stderr_contains("Successfully installed svnpkg-1.0");
    let direct = direct_url(&env, "svnpkg", "1.0");
    assert_eq!(direct["vcs_info"]["vcs"], "svn");
    assert_eq!(direct["vcs_info"]["commit_id"], "1");
    let err = ctx
        .run(&mut install(
            &ctx,
            &env,
            &[&format!("svnpkg @ svn+{url}/trunk@99")],
        ))
        .failure()
        .stderr();
    assert!(err.contains("`99"), "{err}");
}

#[test]
fn a_vcs_constraint_is_the_only_candidate_of_a_dependency() {
    let ctx = ctx();
    let repo = repo_with(&ctx.work().join("repo"), "gitdep", "1.0");
    repo.tag("v1.0");
    let one = repo.head();
    set_version(&repo, "gitdep", "2.0");
    let server = ferry_test::IndexServer::start();
    server.publish(
        &ferry_test::WheelBuilder::new("app", "1.0")
            .requires_dist("gitdep")
            .build(),
    );
    // The index has gitdep too, newer: the constraint wins.
    server.publish(&ferry_test::WheelBuilder::new("gitdep", "9.0").build());
    let constraints = ctx.work().join("constraints.txt");
    std::fs::write(
        &constraints,
        format!("gitdep @ git+{}@v1.0\n", repo.file_url()),
    )
    .unwrap();
    let env = venv(&ctx, "env");
    let mut cmd = ctx.ferry(["install", "-i", &server.url(), "--python"]);
    cmd.arg(&env).args(["app", "-c"]).arg(&constraints);
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Successfully installed app-1.0 gitdep-1.0");
    assert_eq!(
        direct_url(&env, "gitdep", "1.0")["vcs_info"]["commit_id"],
        one.as_str()
    );
}

#[test]
fn a_vcs_requirement_locks_to_its_commit_and_installs_from_the_lock() {
    let ctx = ctx();
    let repo = repo_with(&ctx.work().join("repo"), "lockedgit", "1.0");
    let first = repo.head();
    let url = repo.file_url();
    let path = ctx.work().join("pylock.toml");
    let mut cmd = ctx.ferry(["lock", "--no-index", "-o"]);
    cmd.arg(&path)
        .arg(format!("lockedgit @ git+{url}@main"))
        .arg("--python")
        .arg(&pythons::newest().path);
    ctx.run(&mut cmd).success();
    let text = std::fs::read_to_string(&path).unwrap();
    let lock: toml::Value = toml::from_str(&text).unwrap();
    let vcs = &lock["packages"][0]["vcs"];
    assert_eq!(vcs["type"].as_str(), Some("git"), "{text}");
    assert_eq!(vcs["url"].as_str(), Some(url.as_str()));
    assert_eq!(vcs["commit-id"].as_str(), Some(first.as_str()));
    assert_eq!(vcs["requested-revision"].as_str(), Some("main"));
    // The branch moves; the lock installs the locked commit.
    set_version(&repo, "lockedgit", "2.0");
    let env = venv(&ctx, "env");
    let mut cmd = ctx.ferry(["install", "-r"]);
    cmd.arg(&path).arg("--python").arg(&env);
    ctx.run(&mut cmd)
        .success()
        .stderr_contains("Successfully installed lockedgit-1.0");
    assert_eq!(
        direct_url(&env, "lockedgit", "1.0")["vcs_info"]["commit_id"],
        first.as_str()
    );
}

#[test]
fn exists_action_decides_for_a_src_directory_in_the_way() {
    let ctx = ctx();
    let repo = repo_with(&ctx.work().join("repo"), "exipkg", "1.0");
    let other = repo_with(&ctx.work().join("other"), "exipkg", "9.0");
    let url = repo.file_url();
    let env = venv(&ctx, "env");
    let src = ctx.work().join("src");
    let checkout = src.join("exipkg");
    let editable = format!("git+{url}#egg=exipkg");
    let run = |extra: &[&str]| {
        let mut cmd = install(&ctx, &env, &["--src"]);
        cmd.arg(&src).args(extra).args(["-e", &editable]);
        ctx.run(&mut cmd)
    };
    let in_the_way = || {
        let _ = std::fs::remove_dir_all(&checkout);
        std::fs::create_dir_all(&checkout).unwrap();
        std::fs::write(checkout.join("notes.txt"), "mine\n").unwrap();
    };
    let version = || {
        python_output(
            &env.join("bin/python"),
            "import exipkg; print(exipkg.VERSION)",
        )
    };

    // Not a checkout: refused by default and with abort, naming the choices.
    in_the_way();
    for extra in [&[][..], &["--exists-action", "a"]] {
        let out = run(extra).failure();
        assert!(out.stderr().contains("--exists-action"), "{}", out.stderr());
        assert!(checkout.join("notes.txt").is_file());
    }
    // wipe: gone, and checked out afresh.
    run(&["--exists-action", "w"]).success();
    assert!(!checkout.join("notes.txt").exists() && checkout.join(".git").is_dir());
    // backup (PIP_EXISTS_ACTION too): moved to .bak, then .bak2.
    for (n, backup) in [(1, "exipkg.bak"), (2, "exipkg.bak2")] {
        in_the_way();
        let mut cmd = install(&ctx, &env, &["--src"]);
        cmd.arg(&src)
            .args(["-e", &editable])
            .env("PIP_EXISTS_ACTION", "b");
        ctx.run(&mut cmd).success();
        assert!(src.join(backup).join("notes.txt").is_file(), "backup {n}");
        assert!(checkout.join(".git").is_dir());
    }
    // A checkout of another repository: switch points it at this one (s is skipped for a
    // directory that is not a checkout, so `s w` wipes one and switches the other).
    let _ = std::fs::remove_dir_all(&checkout);
    let status = std::process::Command::new("git")
        .args(["clone", "-q"])
        .arg(&other.dir)
        .arg(&checkout)
        .status()
        .unwrap();
    assert!(status.success());
    run(&["--exists-action", "s", "--exists-action", "w"]).success();
    assert_eq!(version(), "1.0");
    assert_eq!(
        ferry_test::git::git(&checkout, &["config", "--get", "remote.origin.url"]).trim(),
        url.as_str()
    );
    // ignore: the directory is used as it is (here: the other project's checkout).
    let _ = std::fs::remove_dir_all(&checkout);
    let status = std::process::Command::new("git")
        .args(["clone", "-q"])
        .arg(&other.dir)
        .arg(&checkout)
        .status()
        .unwrap();
    assert!(status.success());
    run(&["--exists-action", "i"]).success();
    assert_eq!(version(), "9.0");
}
