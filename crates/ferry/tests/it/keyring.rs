//! `--keyring-provider`: credentials for an index that answers 401, from a keyring, as pip gets
//! them. The hermetic tests install a small `keyring` look-alike (module and `keyring get`
//! program, built here) into a venv; the live test installs the real `keyring` from the index
//! and selects a test backend with `PYTHON_KEYRING_BACKEND`.

use std::path::{Path, PathBuf};

use ferry_test::{pythons, IndexServer, TestContext, WheelBuilder};

use crate::common::{ctx, make_venv, python_output};

const USER: &str = "alice";
const SECRET: &str = "k3yr1ng-s3cr3t-t0ken";

/// A `keyring` look-alike: `get_credential`/`get_password` and the `keyring get SERVICE USER`
/// program, answering from the JSON file `FAKE_KEYRING` (`{"service": ["user", "password"]}`)
/// and logging every question to `FAKE_KEYRING_LOG`.
fn fake_keyring() -> ferry_test::BuiltFile {
    let module = r#"
import json, os, sys

class Credential:
    def __init__(self, username, password):
        self.username, self.password = username, password

def _ask(service, username):
    with open(os.environ["FAKE_KEYRING_LOG"], "a") as log:
        log.write("%s %s %s\n" % (os.environ.get("FAKE_KEYRING_VIA", "import"), service, username))
    with open(os.environ["FAKE_KEYRING"]) as f:
        entry = json.load(f).get(service)
    if entry and (username is None or entry[0] == username):
        return Credential(entry[0], entry[1])
    return None

def get_credential(service, username):
    return _ask(service, username)

def get_password(service, username):
    cred = _ask(service, username)
    return cred.password if cred else None

def main():
    os.environ["FAKE_KEYRING_VIA"] = "program"
    if len(sys.argv) != 4 or sys.argv[1] != "get":
        sys.exit(2)
    password = get_password(sys.argv[2], sys.argv[3])
    if password is None:
        sys.exit(1)
    print(password)
"#;
    WheelBuilder::new("keyring", "99.0")
        .file("keyring/__init__.py", module)
        .console_script("keyring", "keyring:main")
        .build()
}

struct Setup {
    ctx: TestContext,
    server: IndexServer,
    /// A venv with the keyring look-alike in it.
    keyring_env: PathBuf,
    /// A venv without it, to install into.
    plain_env: PathBuf,
    store: PathBuf,
    log: PathBuf,
}

impl Setup {
    fn new() -> Self {
        let ctx = ctx();
        let python = &pythons::newest().path;
        let keyring_env = make_venv(&ctx, "kr", python, false);
        let plain_env = make_venv(&ctx, "plain", python, false);
        let wheels = ctx.work().join("wheels");
        std::fs::create_dir_all(&wheels).unwrap();
        fake_keyring().write_to(&wheels);
        ctx.run(
            ctx.ferry(["install", "--no-index", "-f"])
                .arg(&wheels)
                .arg("keyring")
                .arg("--python")
                .arg(&keyring_env),
        )
        .success();
        let server = IndexServer::start();
        server.publish(
            &WheelBuilder::new("demo", "1.0")
                .file("demo/__init__.py", "")
                .requires_dist("dep")
                .build(),
        );
        server.publish(
            &WheelBuilder::new("dep", "1.0")
                .file("dep/__init__.py", "")
                .build(),
        );
        server.require_auth(USER, SECRET);
        let store = ctx.work().join("keyring.json");
        let log = ctx.work().join("keyring.log");
        Self {
            ctx,
            server,
            keyring_env,
            plain_env,
            store,
            log,
        }
    }

    /// Puts `service` → (USER, SECRET) in the keyring.
    fn store(&self, service: &str) {
        let json = serde_json::json!({ service: [USER, SECRET] });
        std::fs::write(&self.store, json.to_string()).unwrap();
    }

    /// The index URL with `user@` in it, or bare.
    fn index(&self, user: bool) -> String {
        let url = self.server.url();
        match user {
            true => url.replacen("http://", &format!("http://{USER}@"), 1),
            false => url,
        }
    }

    /// `ferry install demo -vv` into `env` from `index`, with the keyring program on PATH.
    fn install(&self, env: &Path, index: &str, extra: &[&str]) -> std::process::Command {
        let mut cmd = self
            .ctx
            .ferry(["install", "demo", "-vv", "--no-cache-dir", "-i", index]);
        cmd.arg("--python").arg(env).args(extra);
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env(
            "PATH",
            format!("{}:{path}", self.keyring_env.join("bin").display()),
        )
        .env("FAKE_KEYRING", &self.store)
        .env("FAKE_KEYRING_LOG", &self.log);
        cmd
    }

    fn questions(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn installed(&self, env: &Path) -> bool {
        python_output(
            &env.join("bin/python"),
            "import importlib.util as u; print(bool(u.find_spec('demo') and u.find_spec('dep')))",
        ) == "True"
    }

    /// Nothing ferry printed, logged or wrote holds the secret.
    fn assert_no_secret(&self, out: &ferry_test::RunOutput) {
        assert!(
            !out.stdout().contains(SECRET) && !out.stderr().contains(SECRET),
            "the secret was printed"
        );
        let mut stack = vec![self.ctx.root().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path == self.store {
                    continue;
                }
                assert!(
                    !path.display().to_string().contains(SECRET),
                    "{}",
                    path.display()
                );
                let kind = entry.file_type().unwrap();
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_file() {
                    let bytes = std::fs::read(&path).unwrap_or_default();
                    assert!(
                        !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                        "the secret is in {}",
                        path.display()
                    );
                }
            }
        }
    }
}

#[test]
fn import_provider_asks_the_targets_keyring_for_the_index_then_the_host() {
    let s = Setup::new();
    // Stored under the host only: the index URL is asked first, then `host:port`.
    let host = s.server.url();
    let host = host
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    s.store(&host);
    let out = s
        .ctx
        .run(&mut s.install(
            &s.keyring_env,
            &s.index(false),
            &["--keyring-provider", "import"],
        ))
        .success();
    assert!(s.installed(&s.keyring_env));
    let index = s.server.url();
    assert_eq!(
        s.questions(),
        [
            format!("import {index} None"),
            format!("import {} None", index.trim_end_matches('/')),
            format!("import {host} None"),
        ],
        "the keyring is asked for the index, then the host, once in the run"
    );
    s.assert_no_secret(&out);
}

#[test]
fn subprocess_provider_runs_keyring_get_with_the_user_name_of_the_index_url() {
    let s = Setup::new();
    let index = s.server.url();
    s.store(&index);
    // The target has no keyring; the program on PATH answers.
    let out = s
        .ctx
        .run(&mut s.install(
            &s.plain_env,
            &s.index(true),
            &["--keyring-provider", "subprocess"],
        ))
        .success();
    assert!(s.installed(&s.plain_env));
    assert_eq!(s.questions(), [format!("program {index} {USER}")]);
    s.assert_no_secret(&out);

    // Without a user name, the program is not asked (it cannot answer `keyring get` without
    // one), and the error says what to do.
    let fresh = make_venv(&s.ctx, "fresh", &pythons::newest().path, false);
    std::fs::remove_file(&s.log).unwrap();
    let out = s
        .ctx
        .run(&mut s.install(
            &fresh,
            &s.index(false),
            &["--keyring-provider", "subprocess"],
        ))
        .failure();
    assert!(s.questions().is_empty());
    let err = out.stderr();
    assert!(
        err.contains("HTTP 401") && err.contains("--keyring-provider"),
        "{err}"
    );
}

#[test]
fn auto_uses_import_then_the_program_and_is_off_with_no_input_or_disabled() {
    let s = Setup::new();
    let index = s.server.url();
    s.store(&index);
    // auto, target with keyring: import.
    s.ctx
        .run(&mut s.install(&s.keyring_env, &s.index(true), &[]))
        .success();
    assert_eq!(s.questions(), [format!("import {index} {USER}")]);
    // auto, target without keyring: the program.
    std::fs::remove_file(&s.log).unwrap();
    s.ctx
        .run(&mut s.install(&s.plain_env, &s.index(true), &[]))
        .success();
    assert_eq!(s.questions(), [format!("program {index} {USER}")]);

    // --no-input turns auto off (as PIP_NO_INPUT and no-input in pip.conf do); `disabled`
    // (also PIP_KEYRING_PROVIDER) always; nothing is asked and nothing changes.
    let fresh = make_venv(&s.ctx, "fresh", &pythons::newest().path, false);
    std::fs::remove_file(&s.log).unwrap();
    for (args, env) in [
        (vec!["--no-input"], None),
        (vec![], Some(("PIP_NO_INPUT", "1"))),
        (vec!["--keyring-provider", "disabled"], None),
        (vec![], Some(("PIP_KEYRING_PROVIDER", "disabled"))),
    ] {
        let mut cmd = s.install(&fresh, &s.index(true), &args);
        if let Some((key, value)) = env {
            cmd.env(key, value);
        }
        let out = s.ctx.run(&mut cmd).failure();
        assert!(out.stderr().contains("HTTP 401"), "{}", out.stderr());
        assert!(s.questions().is_empty(), "{args:?} {env:?}");
        assert!(!s.installed(&fresh));
    }
    // An explicit provider is used even with --no-input, as in pip.
    s.ctx
        .run(&mut s.install(
            &fresh,
            &s.index(true),
            &["--no-input", "--keyring-provider", "subprocess"],
        ))
        .success();
    assert!(s.installed(&fresh));
}

#[test]
#[ignore = "reaches the real package index: run with `cargo nextest run --run-ignored all` (CI does)"]
fn live_the_real_keyring_with_a_backend_chosen_by_python_keyring_backend() {
    let s = Setup::new();
    s.ctx.env("PIP_CONFIG_FILE", "");
    let real = make_venv(&s.ctx, "real-keyring", &pythons::newest().path, false);
    // The real keyring, from the index pip is configured with (no credentials needed there).
    s.ctx
        .run(s.ctx.ferry(["install", "keyring", "--python"]).arg(&real))
        .success();
    // A backend that answers from the same JSON file and logs, importable through PYTHONPATH.
    let backend_dir = s.ctx.work().join("backend");
    std::fs::create_dir_all(&backend_dir).unwrap();
    std::fs::write(
        backend_dir.join("testbackend.py"),
        r#"
import json, os
from keyring.backend import KeyringBackend

class Backend(KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        with open(os.environ["FAKE_KEYRING_LOG"], "a") as log:
            log.write("backend %s %s\n" % (service, username))
        with open(os.environ["FAKE_KEYRING"]) as f:
            entry = json.load(f).get(service)
        return entry[1] if entry and entry[0] == username else None

    def set_password(self, service, username, password):
        raise NotImplementedError

    def delete_password(self, service, username):
        raise NotImplementedError
"#,
    )
    .unwrap();
    let index = s.server.url();
    s.store(&index);
    for (provider, env) in [("import", &real), ("subprocess", &s.plain_env)] {
        let _ = std::fs::remove_file(&s.log);
        let mut cmd = s.install(env, &s.index(true), &["--keyring-provider", provider]);
        cmd.env(
            "PATH",
            format!(
                "{}:{}",
                real.join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("PYTHONPATH", &backend_dir)
        .env("PYTHON_KEYRING_BACKEND", "testbackend.Backend");
        let out = s.ctx.run(&mut cmd).success();
        assert!(s.installed(env), "{provider}");
        assert_eq!(
            s.questions(),
            [format!("backend {index} {USER}")],
            "{provider}"
        );
        s.assert_no_secret(&out);
    }
}
