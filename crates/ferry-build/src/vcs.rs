//! Version-control checkouts: a [`VcsUrl`] made into a working tree at a known commit, through
//! the system's own `git`, `hg`, `svn` or `bzr` (so credential helpers, ssh configuration and
//! proxies keep working as they do for pip).
//!
//! The VCS cache (`vcs-v1`) holds, for git, one bare repository per remote
//! (`git/db/<url key>`, keyed by the URL without credentials) into which only missing objects
//! are fetched, and one checkout per commit (`git/checkouts/<url key>/<commit>`), made by a
//! local clone of the bare repository, with submodules, and renamed into place whole. Each
//! commit ferry resolves is kept alive in the bare repository as `refs/ferry/<commit>`. A
//! revision is resolved to a commit with one `git ls-remote`; a full commit id already in the
//! cache (or the commit an installed distribution records, when not upgrading) is used without
//! any network access. Mercurial works the same way (`hg/db`, `hg/checkouts`); Subversion and
//! Breezy keep only checkouts (`svn/checkouts/<key>/<revision>`), since they have no cheap
//! local clone. Checkouts are never built in: the builder copies the tree first.
//! `<vcs>/remotes/<key>` names the repository (without credentials) each key stands for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ferry_types::vcs::{ExistsAction, Vcs, VcsCheckout, VcsRequest, VcsUrl};

/// Why a checkout failed. Messages name the repository with its credentials redacted.
#[derive(Debug, thiserror::Error)]
pub enum VcsError {
    #[error("{url} needs {hint}, which is not installed (`{program}` was not found on PATH)")]
    Missing {
        url: String,
        program: &'static str,
        hint: &'static str,
    },
    #[error("{url}: `{command}` failed: {message}")]
    Failed {
        url: String,
        command: String,
        message: String,
    },
    #[error("{url}: `{rev}` is not a branch, tag or commit of the repository")]
    NoSuchRevision { url: String, rev: String },
    #[error("{url}: {message}")]
    Other { url: String, message: String },
    #[error("could not {action} `{}`: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Checks `url` out, in the VCS cache under `root` or in `request.into`.
pub fn checkout(root: &Path, url: &VcsUrl, request: &VcsRequest) -> Result<VcsCheckout, VcsError> {
    let runner = Runner::new(url)?;
    let checkout = checkout_with(root, url, request, &runner)?;
    ferry_cache::mark_used(&checkout.dir);
    Ok(checkout)
}

fn checkout_with(
    root: &Path,
    url: &VcsUrl,
    request: &VcsRequest,
    runner: &Runner,
) -> Result<VcsCheckout, VcsError> {
    // `<vcs>/remotes/<key>`: the repository each key stands for (without credentials), for
    // `ferry cache list`.
    let remotes = root.join(url.vcs.as_str()).join("remotes");
    let remote = remotes.join(key(url));
    if !remote.is_file() {
        let _ = fs_err::create_dir_all(&remotes)
            .and_then(|()| fs_err::write(&remote, url.public_repository()));
    }
    match url.vcs {
        Vcs::Git => git(root, url, request, runner),
        Vcs::Hg => hg(root, url, request, runner),
        Vcs::Svn | Vcs::Bzr => plain(root, url, request, runner),
    }
}

/// Runs one VCS program with its output captured; errors show the URL redacted and strip any
/// secret from the program's messages.
struct Runner {
    program: &'static str,
    shown: String,
    secrets: Vec<String>,
}

impl Runner {
    fn new(url: &VcsUrl) -> Result<Self, VcsError> {
        let program = url.vcs.program();
        let shown = url.to_string();
        if which(program).is_none() {
            return Err(VcsError::Missing {
                url: shown,
                program,
                hint: url.vcs.install_hint(),
            });
        }
        let mut secrets = Vec::new();
        for secret in [url.repository.password(), Some(url.repository.username())]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty() && *s != "git")
        {
            secrets.push(secret.to_string());
            let decoded = ferry_types::percent_decode(secret);
            if decoded != secret {
                secrets.push(decoded);
            }
        }
        Ok(Self {
            program,
            shown,
            secrets,
        })
    }

    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "****");
        }
        text
    }

    /// Runs the program with `args` in `dir`; its stdout on success.
    fn run(&self, dir: Option<&Path>, args: &[&str]) -> Result<String, VcsError> {
        let mut command = Command::new(self.program);
        command.args(args).stdin(Stdio::null());
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        if self.program == "git" {
            // Never stop to ask for a password on a terminal nobody watches; a credential
            // helper still answers.
            command.env("GIT_TERMINAL_PROMPT", "0");
            command.env_remove("GIT_DIR").env_remove("GIT_WORK_TREE");
        }
        if self.program == "hg" {
            command.env("HGPLAIN", "1");
        }
        let shown_args = self.scrub(&args.join(" "));
        tracing::debug!("{} {shown_args}", self.program);
        let output = command.output().map_err(|e| VcsError::Failed {
            url: self.shown.clone(),
            command: format!("{} {shown_args}", self.program),
            message: e.to_string(),
        })?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let mut message = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if message.is_empty() {
            message = String::from_utf8_lossy(&output.stdout).trim().to_string();
        }
        if message.is_empty() {
            message = format!("it exited with {}", output.status);
        }
        Err(VcsError::Failed {
            url: self.shown.clone(),
            command: format!("{} {shown_args}", self.program),
            message: self.scrub(&message),
        })
    }

    fn ok(&self, dir: Option<&Path>, args: &[&str]) -> bool {
        self.run(dir, args).is_ok()
    }
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> VcsError + 'a {
    move |source| VcsError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Holds an exclusive lock on `<dir>.lock` while one process fetches into or checks out of a
/// repository.
fn lock(dir: &Path) -> Result<std::fs::File, VcsError> {
    let parent = dir.parent().unwrap_or(dir);
    fs_err::create_dir_all(parent).map_err(|e| VcsError::Io {
        action: "create",
        path: parent.to_path_buf(),
        source: e,
    })?;
    let path = dir.with_extension("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io("open", &path))?;
    file.lock().map_err(io("lock", &path))?;
    Ok(file)
}

/// A new scratch directory beside `dest`, registered for interrupts, to be renamed to `dest`.
fn staging(dest: &Path) -> Result<tempfile::TempDir, VcsError> {
    let parent = dest.parent().unwrap_or(dest);
    fs_err::create_dir_all(parent).map_err(|e| VcsError::Io {
        action: "create",
        path: parent.to_path_buf(),
        source: e,
    })?;
    tempfile::Builder::new()
        .prefix(".tmp-")
        .tempdir_in(parent)
        .map_err(io("create a directory in", parent))
}

/// Moves a finished `stage/tree` to `dest`; another process that got there first wins.
fn settle(stage: tempfile::TempDir, tree: &Path, dest: &Path) -> Result<(), VcsError> {
    let _registered = ferry_types::interrupt::Registered::new(stage.path());
    if let Err(err) = std::fs::rename(tree, dest) {
        if !dest.is_dir() {
            return Err(io("move a checkout to", dest)(err));
        }
    }
    drop(stage);
    Ok(())
}

/// What became of a `--src` directory in the way, by [`in_the_way`].
enum Room {
    /// Use it as it is (`ignore`).
    Use,
    /// It is gone (`wipe`) or moved aside (`backup`): check out afresh.
    Made,
    /// Update it to the requirement's repository (`switch`, for a checkout of the same kind).
    Switch,
}

/// pip's `--exists-action` for `dir`, which is in the way for `why`: the first of `actions`
/// that applies (`switch` only to a `repository` of the same kind); none is an error that
/// names the choices.
fn in_the_way(
    dir: &Path,
    actions: &[ExistsAction],
    repository: bool,
    why: &str,
    shown: &str,
) -> Result<Room, VcsError> {
    let action = actions
        .iter()
        .find(|a| **a != ExistsAction::Switch || repository);
    match action {
        Some(ExistsAction::Ignore) => {
            tracing::warn!("using {} as it is (--exists-action ignore)", dir.display());
            Ok(Room::Use)
        }
        Some(ExistsAction::Switch) => Ok(Room::Switch),
        Some(ExistsAction::Wipe) => {
            tracing::warn!("deleting {} (--exists-action wipe)", dir.display());
            std::fs::remove_dir_all(dir).map_err(io("delete", dir))?;
            Ok(Room::Made)
        }
        Some(ExistsAction::Backup) => {
            let mut n = 1;
            let backup = loop {
                let suffix = if n == 1 {
                    ".bak".to_string()
                } else {
                    format!(".bak{n}")
                };
                let mut name = dir.as_os_str().to_owned();
                name.push(suffix);
                let candidate = PathBuf::from(name);
                if !candidate.exists() {
                    break candidate;
                }
                n += 1;
            };
            tracing::warn!(
                "moving {} to {} (--exists-action backup)",
                dir.display(),
                backup.display()
            );
            std::fs::rename(dir, &backup).map_err(io("move aside", dir))?;
            Ok(Room::Made)
        }
        Some(ExistsAction::Abort) | None => Err(VcsError::Other {
            url: shown.to_string(),
            message: format!(
                "`{}` already exists and {why}: remove it, choose another --src, or give \
                 --exists-action {}ignore, wipe, backup or abort (pip's s, i, w, b, a)",
                dir.display(),
                if repository { "switch, " } else { "" }
            ),
        }),
    }
}

fn key(url: &VcsUrl) -> String {
    ferry_cache::url_key(&url.public_repository())
}

fn is_full_hash(rev: &str) -> bool {
    (rev.len() == 40 || rev.len() == 64) && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

fn git(
    root: &Path,
    url: &VcsUrl,
    request: &VcsRequest,
    git: &Runner,
) -> Result<VcsCheckout, VcsError> {
    let key = key(url);
    let db = root.join("git").join("db").join(&key);
    let _lock = lock(&db)?;
    if !db.join("HEAD").is_file() {
        let stage = staging(&db)?;
        let bare = stage.path().join("db");
        git.run(None, &["init", "-q", "--bare", &bare.display().to_string()])?;
        settle(stage, &bare, &db)?;
    }
    let remote = url.repository.as_str();
    let has = |commit: &str| {
        git.ok(
            Some(&db),
            &["cat-file", "-e", &format!("{commit}^{{commit}}")],
        )
    };
    let known = request
        .pinned
        .as_deref()
        .or(url.rev.as_deref().filter(|r| is_full_hash(r)));
    let commit = match known {
        Some(commit) if has(commit) => commit.to_string(),
        _ => git_resolve(&db, url, request.pinned.as_deref(), git)?,
    };
    // Kept alive (and reachable by name, for an editable checkout's fetch) under refs/ferry/.
    if !db.join("refs/ferry").join(&commit).is_file() {
        git.run(
            Some(&db),
            &["update-ref", &format!("refs/ferry/{commit}"), &commit],
        )?;
    }
    tracing::debug!("{}: commit {commit}", git.shown);
    let dir = match &request.into {
        Some(into) => {
            git_into(&db, into, &commit, remote, git, &request.exists_action)?;
            into.clone()
        }
        None => {
            let dest = root.join("git").join("checkouts").join(&key).join(&commit);
            if !dest.is_dir() {
                let stage = staging(&dest)?;
                let tree = stage.path().join("tree");
                let tree_text = tree.display().to_string();
                let db_text = db.display().to_string();
                git.run(
                    None,
                    &[
                        "clone",
                        "-q",
                        "--local",
                        "--no-checkout",
                        &db_text,
                        &tree_text,
                    ],
                )?;
                git_update(&tree, &commit, remote, git)?;
                settle(stage, &tree, &dest)?;
            }
            dest
        }
    };
    Ok(VcsCheckout { commit, dir })
}

/// Resolves the URL's revision (or `pinned`) to a commit, fetching what the bare repository
/// lacks.
fn git_resolve(
    db: &Path,
    url: &VcsUrl,
    pinned: Option<&str>,
    git: &Runner,
) -> Result<String, VcsError> {
    let remote = url.repository.as_str();
    let has = |commit: &str| {
        git.ok(
            Some(db),
            &["cat-file", "-e", &format!("{commit}^{{commit}}")],
        )
    };
    if let Some(pinned) = pinned {
        if git.ok(Some(db), &["fetch", "-q", remote, pinned]) && has(pinned) {
            return Ok(pinned.to_string());
        }
    }
    let listed = git.run(None, &["ls-remote", remote])?;
    let refs: BTreeMap<&str, &str> = listed
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(sha, name)| (name, sha))
        .collect();
    let rev = url.rev.as_deref();
    let wanted: Vec<String> = match rev {
        None => vec!["HEAD".into()],
        Some(rev) => vec![
            format!("refs/heads/{rev}"),
            format!("refs/tags/{rev}^{{}}"),
            format!("refs/tags/{rev}"),
            rev.to_string(),
        ],
    };
    if let Some((name, sha)) = wanted
        .iter()
        .find_map(|w| refs.get_key_value(w.as_str()).map(|(n, s)| (*n, *s)))
    {
        if !has(sha) {
            let name = name.trim_end_matches("^{}");
            git.run(Some(db), &["fetch", "-q", "--no-tags", remote, name])?;
        }
        if has(sha) {
            return Ok(sha.to_string());
        }
        return Err(VcsError::Other {
            url: git.shown.clone(),
            message: format!("fetching `{name}` did not bring its commit {sha}"),
        });
    }
    let Some(rev) = rev else {
        return Err(VcsError::Other {
            url: git.shown.clone(),
            message:
                "the repository has no HEAD to check out; name a branch, tag or commit with @REF"
                    .into(),
        });
    };
    let hexish = rev.len() >= 4 && rev.bytes().all(|b| b.is_ascii_hexdigit());
    if hexish {
        if is_full_hash(rev)
            && git.ok(Some(db), &["fetch", "-q", "--no-tags", remote, rev])
            && has(rev)
        {
            return Ok(rev.to_string());
        }
        // An abbreviated commit (or a server that will not send a commit by id): every branch
        // and tag, then look again.
        git.run(
            Some(db),
            &[
                "fetch",
                "-q",
                "--force",
                remote,
                "+refs/heads/*:refs/remotes/origin/*",
                "+refs/tags/*:refs/tags/*",
            ],
        )?;
        if let Ok(sha) = git.run(
            Some(db),
            &["rev-parse", "--verify", "-q", &format!("{rev}^{{commit}}")],
        ) {
            return Ok(sha.trim().to_string());
        }
    }
    Err(VcsError::NoSuchRevision {
        url: git.shown.clone(),
        rev: rev.to_string(),
    })
}

/// Detaches the working tree `tree` at `commit`, with the real remote as `origin` (relative
/// submodule URLs and version tools read it) and its submodules.
fn git_update(tree: &Path, commit: &str, remote: &str, git: &Runner) -> Result<(), VcsError> {
    git.run(Some(tree), &["checkout", "-q", "--detach", commit])?;
    let _ = git.run(Some(tree), &["remote", "remove", "origin"]);
    git.run(Some(tree), &["remote", "add", "origin", remote])?;
    if tree.join(".gitmodules").is_file() {
        git.run(
            Some(tree),
            &["submodule", "update", "-q", "--init", "--recursive"],
        )?;
    }
    Ok(())
}

/// An editable install's checkout in `into` (pip's `--src` directory): cloned when missing,
/// moved to `commit` when it is a checkout of the same repository.
fn git_into(
    db: &Path,
    into: &Path,
    commit: &str,
    remote: &str,
    git: &Runner,
    actions: &[ExistsAction],
) -> Result<(), VcsError> {
    if !into.exists() {
        let stage = staging(into)?;
        let tree = stage.path().join("tree");
        git.run(
            None,
            &[
                "clone",
                "-q",
                "--no-checkout",
                &db.display().to_string(),
                &tree.display().to_string(),
            ],
        )?;
        git_update(&tree, commit, remote, git)?;
        return settle(stage, &tree, into);
    }
    let origin = git
        .run(Some(into), &["config", "--get", "remote.origin.url"])
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if origin != remote {
        let is_repo = into.join(".git").exists();
        let why = match is_repo {
            true => "is a checkout of another repository",
            false => "is not a git checkout",
        };
        match in_the_way(into, actions, is_repo, why, &git.shown)? {
            Room::Use => return Ok(()),
            Room::Made => return git_into(db, into, commit, remote, git, &[]),
            Room::Switch => {}
        }
    }
    let head = git
        .run(Some(into), &["rev-parse", "HEAD"])
        .unwrap_or_default();
    if head.trim() == commit {
        return Ok(());
    }
    git.run(
        Some(into),
        &[
            "fetch",
            "-q",
            &db.display().to_string(),
            &format!("refs/ferry/{commit}"),
        ],
    )?;
    git_update(into, commit, remote, git)
}

fn hg(
    root: &Path,
    url: &VcsUrl,
    request: &VcsRequest,
    hg: &Runner,
) -> Result<VcsCheckout, VcsError> {
    let key = key(url);
    let db = root.join("hg").join("db").join(&key);
    let remote = url.repository.as_str();
    let _lock = lock(&db)?;
    let db_text = db.display().to_string();
    if !db.join(".hg").is_dir() {
        let stage = staging(&db)?;
        let tree = stage.path().join("db");
        hg.run(
            None,
            &["clone", "-q", "-U", remote, &tree.display().to_string()],
        )?;
        settle(stage, &tree, &db)?;
    } else if request.pinned.is_none() {
        hg.run(None, &["pull", "-q", "-R", &db_text, remote])?;
    }
    let node = |rev: &str| {
        hg.run(
            None,
            &["log", "-R", &db_text, "-r", rev, "--template", "{node}"],
        )
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    };
    let rev = url.rev.clone().unwrap_or_else(|| "default".into());
    let commit = match request.pinned.as_deref().and_then(node) {
        Some(commit) => commit,
        None => {
            if request.pinned.is_some() {
                hg.run(None, &["pull", "-q", "-R", &db_text, remote])?;
            }
            node(&rev).ok_or_else(|| VcsError::NoSuchRevision {
                url: hg.shown.clone(),
                rev: rev.clone(),
            })?
        }
    };
    let place = |dest: &Path| -> Result<(), VcsError> {
        let stage = staging(dest)?;
        let tree = stage.path().join("tree");
        let tree_text = tree.display().to_string();
        hg.run(None, &["clone", "-q", "-U", &db_text, &tree_text])?;
        hg.run(None, &["update", "-q", "-R", &tree_text, "-r", &commit])?;
        settle(stage, &tree, dest)
    };
    let dir = match &request.into {
        Some(into) if into.join(".hg").is_dir() => {
            let into_text = into.display().to_string();
            hg.run(None, &["pull", "-q", "-R", &into_text, &db_text])?;
            hg.run(None, &["update", "-q", "-R", &into_text, "-r", &commit])?;
            into.clone()
        }
        Some(into) => {
            if into.exists() {
                let why = "is not a Mercurial checkout";
                match in_the_way(into, &request.exists_action, false, why, &hg.shown)? {
                    Room::Use => {
                        return Ok(VcsCheckout {
                            commit,
                            dir: into.clone(),
                        })
                    }
                    Room::Made | Room::Switch => {}
                }
            }
            place(into)?;
            into.clone()
        }
        None => {
            let dest = root.join("hg").join("checkouts").join(&key).join(&commit);
            if !dest.is_dir() {
                place(&dest)?;
            }
            dest
        }
    };
    Ok(VcsCheckout { commit, dir })
}

/// Subversion and Breezy: a checkout per revision, made from the remote.
fn plain(
    root: &Path,
    url: &VcsUrl,
    request: &VcsRequest,
    runner: &Runner,
) -> Result<VcsCheckout, VcsError> {
    let key = key(url);
    let vcs = url.vcs;
    let checkouts = root.join(vcs.as_str()).join("checkouts").join(&key);
    // Subversion takes credentials as options, not in the URL.
    let mut remote = url.repository.clone();
    let mut auth = Vec::new();
    if vcs == Vcs::Svn {
        if !remote.username().is_empty() {
            auth.push("--username".to_string());
            auth.push(ferry_types::percent_decode(remote.username()));
        }
        if let Some(password) = remote.password() {
            auth.push("--password".to_string());
            auth.push(ferry_types::percent_decode(password));
        }
        let _ = remote.set_username("");
        let _ = remote.set_password(None);
    }
    let remote = remote.as_str().to_string();
    if let Some(pinned) = &request.pinned {
        let dest = checkouts.join(pinned);
        if request.into.is_none() && dest.is_dir() {
            return Ok(VcsCheckout {
                commit: pinned.clone(),
                dir: dest,
            });
        }
    }
    let rev = request.pinned.clone().or_else(|| url.rev.clone());
    let commit = match vcs {
        Vcs::Svn => {
            let target: std::borrow::Cow<'_, str> = match &rev {
                Some(rev) => format!("{remote}@{rev}").into(),
                None => remote.as_str().into(),
            };
            let mut args = vec![
                "info",
                "--non-interactive",
                "--show-item",
                "last-changed-revision",
            ];
            args.extend(auth.iter().map(String::as_str));
            args.push(&target);
            let found = runner.run(None, &args).map_err(|err| match &rev {
                Some(rev) => VcsError::NoSuchRevision {
                    url: runner.shown.clone(),
                    rev: format!("{rev} ({err})"),
                },
                None => err,
            })?;
            found.trim().to_string()
        }
        _ => String::new(),
    };
    let dest = |commit: &str| {
        request
            .into
            .clone()
            .unwrap_or_else(|| checkouts.join(commit))
    };
    if !commit.is_empty() && dest(&commit).is_dir() && request.into.is_none() {
        return Ok(VcsCheckout {
            dir: dest(&commit),
            commit,
        });
    }
    let _lock = lock(&checkouts)?;
    let stage = staging(&checkouts.join("x"))?;
    let tree = stage.path().join("tree");
    let tree_text = tree.display().to_string();
    let commit = match vcs {
        Vcs::Svn => {
            let mut args = vec!["checkout", "-q", "--non-interactive", "-r", &commit];
            args.extend(auth.iter().map(String::as_str));
            args.push(&remote);
            args.push(&tree_text);
            runner.run(None, &args)?;
            commit
        }
        _ => {
            let mut args = vec!["branch", "-q"];
            if let Some(rev) = &rev {
                args.push("-r");
                args.push(rev);
            }
            args.push(&remote);
            args.push(&tree_text);
            runner.run(None, &args).map_err(|err| match &rev {
                Some(rev) => VcsError::NoSuchRevision {
                    url: runner.shown.clone(),
                    rev: format!("{rev} ({err})"),
                },
                None => err,
            })?;
            let info = runner.run(Some(&tree), &["revision-info"])?;
            info.split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_string()
        }
    };
    let target = dest(&commit);
    if target.is_dir() && request.into.is_none() {
        return Ok(VcsCheckout {
            dir: target,
            commit,
        });
    }
    if request.into.is_some() && target.exists() {
        let why = "is in the way";
        match in_the_way(&target, &request.exists_action, false, why, &runner.shown)? {
            Room::Use => {
                return Ok(VcsCheckout {
                    commit,
                    dir: target,
                })
            }
            Room::Made | Room::Switch => {}
        }
    }
    settle(stage, &tree, &target)?;
    Ok(VcsCheckout {
        commit,
        dir: target,
    })
}
