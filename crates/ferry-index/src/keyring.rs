//! Credentials from a keyring, as pip's `--keyring-provider` gets them.
//!
//! Takes the provider the user chose and the target interpreter; gives, for a URL that answered
//! 401, a user name and password from the `keyring` package, or nothing. Providers:
//! - `import`: the target interpreter imports `keyring` and calls `get_credential(service,
//!   username)` (so a backend that knows the user name itself works), as pip does in its own
//!   interpreter;
//! - `subprocess`: the `keyring` program on `PATH` runs `keyring get SERVICE USERNAME`; like
//!   pip's, it needs the user name (in the index URL: `https://USER@host/simple/`);
//! - `auto`: `import` if the interpreter has `keyring`, else `subprocess` if the program is on
//!   `PATH`, else none; pip's default, off when no input may be asked for (`--no-input`);
//! - `disabled`: never.
//!
//! The keyring is asked only after a 401, the services tried are the index URL and then the
//! host (`host[:port]`), as pip tries them, and every answer (none included) is remembered for
//! the run so that parallel requests ask once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tokio::sync::Mutex;

/// Which keyring to ask for credentials (`--keyring-provider`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyringProvider {
    Disabled,
    Import,
    Subprocess,
    #[default]
    Auto,
}

impl KeyringProvider {
    /// pip's spellings: `disabled`, `import`, `subprocess`, `auto`.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "disabled" => Self::Disabled,
            "import" => Self::Import,
            "subprocess" => Self::Subprocess,
            "auto" => Self::Auto,
            _ => return None,
        })
    }
}

/// The script the `import` provider runs: exit 3 without `keyring`, 1 without credentials,
/// else the user name and password on two lines.
const LOOKUP: &str = r#"
import sys
try:
    import keyring
except ImportError:
    sys.exit(3)
service, username = sys.argv[1], sys.argv[2] or None
if hasattr(keyring, "get_credential"):
    cred = keyring.get_credential(service, username)
    if cred is None or cred.password is None:
        sys.exit(1)
    username, password = cred.username, cred.password
elif username is not None:
    password = keyring.get_password(service, username)
    if not password:
        sys.exit(1)
else:
    sys.exit(1)
sys.stdout.write(username + "\n" + password)
"#;

/// How the keyring is reached, once that is known.
#[derive(Debug, Clone)]
enum Backend {
    Import(PathBuf),
    Program(PathBuf),
    None,
}

type Answers = HashMap<(String, Option<String>), Option<(String, String)>>;

/// The keyring of one run.
#[derive(Debug)]
pub(crate) struct Keyring {
    provider: KeyringProvider,
    python: Option<PathBuf>,
    state: Mutex<(Option<Backend>, Answers)>,
}

impl Keyring {
    pub(crate) fn new(provider: KeyringProvider, python: Option<PathBuf>) -> Self {
        Self {
            provider,
            python,
            state: Mutex::new((None, HashMap::new())),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.provider != KeyringProvider::Disabled
    }

    /// Credentials for the first of `services` the keyring knows, with `username` if one is
    /// known (from the index URL).
    pub(crate) async fn credentials(
        &self,
        services: &[String],
        username: Option<&str>,
    ) -> Option<(String, String)> {
        if !self.enabled() {
            return None;
        }
        let mut state = self.state.lock().await;
        for service in services {
            let key = (service.clone(), username.map(str::to_string));
            if let Some(answer) = state.1.get(&key) {
                if answer.is_some() {
                    return answer.clone();
                }
                continue;
            }
            let backend = match &state.0 {
                Some(backend) => backend.clone(),
                None => {
                    let backend = self.choose().await;
                    tracing::debug!("keyring provider: {backend:?}");
                    state.0 = Some(backend.clone());
                    backend
                }
            };
            let answer = match backend {
                Backend::None => None,
                Backend::Import(python) => {
                    let (service, username) = (service.clone(), username.map(str::to_string));
                    blocking(move || import_lookup(&python, &service, username.as_deref()))
                        .await
                        .ok()
                        .flatten()
                }
                Backend::Program(program) => match username {
                    // `keyring get` needs a user name, as pip's subprocess provider does.
                    None => None,
                    Some(user) => {
                        let (service, user) = (service.clone(), user.to_string());
                        blocking(move || program_lookup(&program, &service, &user))
                            .await
                            .ok()
                            .flatten()
                    }
                },
            };
            tracing::debug!(
                "keyring has {} for {service}",
                if answer.is_some() {
                    "credentials"
                } else {
                    "nothing"
                }
            );
            state.1.insert(key, answer.clone());
            if answer.is_some() {
                return answer;
            }
        }
        None
    }

    /// The backend for the provider: `import` needs `keyring` importable by the interpreter,
    /// `subprocess` the program on `PATH`; `auto` tries them in that order.
    async fn choose(&self) -> Backend {
        let python = self.python.clone();
        let import = |python: Option<PathBuf>| async move {
            let python = python?;
            let importable = blocking({
                let python = python.clone();
                move || {
                    Command::new(&python)
                        .args(["-c", "import keyring"])
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success())
                }
            })
            .await
            .unwrap_or(false);
            importable.then_some(Backend::Import(python))
        };
        let program = || find_program("keyring").map(Backend::Program);
        match self.provider {
            KeyringProvider::Disabled => Backend::None,
            KeyringProvider::Import => match import(python).await {
                Some(backend) => backend,
                None => {
                    tracing::warn!(
                        "--keyring-provider import: {} cannot import keyring; no credentials from a keyring",
                        self.python
                            .as_deref()
                            .map_or("the interpreter".into(), |p| p.display().to_string())
                    );
                    Backend::None
                }
            },
            KeyringProvider::Subprocess => program().unwrap_or_else(|| {
                tracing::warn!(
                    "--keyring-provider subprocess: no keyring program on PATH; no credentials from a keyring"
                );
                Backend::None
            }),
            KeyringProvider::Auto => match import(python).await {
                Some(backend) => backend,
                None => program().unwrap_or(Backend::None),
            },
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ()> {
    tokio::task::spawn_blocking(f).await.map_err(|_| ())
}

fn import_lookup(python: &Path, service: &str, username: Option<&str>) -> Option<(String, String)> {
    let output = Command::new(python)
        .args(["-c", LOOKUP, service, username.unwrap_or("")])
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    match output.status.code() {
        Some(0) => {
            let text = String::from_utf8(output.stdout).ok()?;
            let (user, password) = text.split_once('\n')?;
            Some((user.to_string(), password.to_string()))
        }
        Some(1) | Some(3) if output.stderr.is_empty() => None,
        _ => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            tracing::warn!(
                "the keyring of {} failed: {}",
                python.display(),
                stderr.lines().last().unwrap_or("no message")
            );
            None
        }
    }
}

fn program_lookup(program: &Path, service: &str, user: &str) -> Option<(String, String)> {
    let output = Command::new(program)
        .args(["get", service, user])
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let password = text.trim_end_matches(['\r', '\n']);
    Some((user.to_string(), password.to_string()))
}

/// `name` on `PATH`, as the shell finds it.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            use std::os::unix::fs::PermissionsExt;
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_spellings() {
        assert_eq!(
            KeyringProvider::parse("subprocess"),
            Some(KeyringProvider::Subprocess)
        );
        assert_eq!(KeyringProvider::parse("keychain"), None);
        assert_eq!(KeyringProvider::default(), KeyringProvider::Auto);
    }

    #[tokio::test]
    async fn disabled_never_runs_anything() {
        let keyring = Keyring::new(KeyringProvider::Disabled, Some("/nonexistent".into()));
        assert_eq!(keyring.credentials(&["h".into()], Some("u")).await, None);
    }
}
