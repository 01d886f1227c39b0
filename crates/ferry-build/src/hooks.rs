//! Calling a PEP 517/660 backend's hooks: each call runs the embedded `runner.py` in a
//! subprocess of the build's interpreter, with the source tree as its working directory, and
//! exchanges JSON through files in a fresh control directory.

use std::collections::{BTreeMap, VecDeque};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::{BuildError, BuildReporter, BuildSystem};

/// The hook runner, written into each control directory.
const RUNNER: &str = include_str!("runner.py");

/// How many of the backend's last output lines a failure shows.
const TAIL_LINES: usize = 30;

/// What is being built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Wheel,
    Sdist,
    /// A PEP 660 editable wheel.
    Editable,
}

impl Kind {
    fn suffix(self) -> &'static str {
        match self {
            Kind::Wheel => "wheel",
            Kind::Sdist => "sdist",
            Kind::Editable => "editable",
        }
    }
}

/// pip's `--config-settings`: repeated keys become a list.
pub type ConfigSettings = BTreeMap<String, Vec<String>>;

fn config_json(settings: &ConfigSettings) -> Value {
    let map = settings
        .iter()
        .map(|(key, values)| {
            let value = match values.as_slice() {
                [one] => json!(one),
                many => json!(many),
            };
            (key.clone(), value)
        })
        .collect::<serde_json::Map<_, _>>();
    Value::Object(map)
}

/// A backend ready to be called: which interpreter runs it, in which tree.
pub struct Hooks<'a> {
    pub python: PathBuf,
    pub tree: PathBuf,
    pub system: BuildSystem,
    /// Names what is built in messages (`demo 1.0 (demo-1.0.tar.gz)`, or a path).
    pub project: String,
    pub config_settings: &'a ConfigSettings,
    /// Directories put first on `PATH` (the build environment's scripts).
    pub path_prefix: Vec<PathBuf>,
    pub reporter: &'a dyn BuildReporter,
}

/// On Linux, the backend is killed if ferry dies without cleaning up (SIGKILL, the OOM
/// killer): its own process group no longer hears the terminal, so it would run on. The
/// spawning thread waits for the hook, so it outlives the backend, as the signal requires.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and only calls prctl(2),
    // which is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

/// What a hook answered.
enum Answer {
    Return(Value),
    /// The backend has no such hook.
    Unsupported,
}

impl Hooks<'_> {
    /// The extra build requirements (`get_requires_for_build_*`); none when the hook is
    /// missing, as PEP 517 says.
    pub fn get_requires(&self, kind: Kind) -> Result<Vec<String>, BuildError> {
        let hook = format!("get_requires_for_build_{}", kind.suffix());
        let kwargs = json!({ "config_settings": config_json(self.config_settings) });
        match self.call(&hook, &kwargs)? {
            Answer::Unsupported => Ok(Vec::new()),
            Answer::Return(value) => serde_json::from_value(value)
                .map_err(|e| self.bad_answer(&hook, format!("not a list of strings: {e}"))),
        }
    }

    /// Builds into `out_dir` (which must exist) and returns the built file's path.
    pub fn build(&self, kind: Kind, out_dir: &Path) -> Result<PathBuf, BuildError> {
        let hook = format!("build_{}", kind.suffix());
        let directory = out_dir.display().to_string();
        let kwargs = match kind {
            Kind::Sdist => json!({
                "sdist_directory": directory,
                "config_settings": config_json(self.config_settings),
            }),
            Kind::Wheel | Kind::Editable => json!({
                "wheel_directory": directory,
                "config_settings": config_json(self.config_settings),
                "metadata_directory": null,
            }),
        };
        let name = match self.call(&hook, &kwargs)? {
            Answer::Unsupported => {
                return Err(BuildError::MissingHook {
                    project: self.project.clone(),
                    hook,
                })
            }
            Answer::Return(Value::String(name)) => name,
            Answer::Return(other) => {
                return Err(self.bad_answer(&hook, format!("{other} is not a file name")))
            }
        };
        let path = out_dir.join(&name);
        let plain = !name.is_empty() && Path::new(&name).file_name() == Some(name.as_ref());
        if !plain || !path.is_file() {
            return Err(
                self.bad_answer(&hook, format!("it named `{name}`, which it did not write"))
            );
        }
        Ok(path)
    }

    /// The core metadata (`METADATA` text) of a wheel or editable build: from
    /// `prepare_metadata_for_build_*` into `scratch`, or, for a backend without that hook, from
    /// a whole build (PEP 517's fallback).
    pub fn metadata(&self, kind: Kind, scratch: &Path) -> Result<String, BuildError> {
        let hook = format!("prepare_metadata_for_build_{}", kind.suffix());
        let kwargs = json!({
            "metadata_directory": scratch.display().to_string(),
            "config_settings": config_json(self.config_settings),
        });
        match self.call(&hook, &kwargs)? {
            Answer::Return(Value::String(dist_info)) => {
                let path = scratch.join(&dist_info).join("METADATA");
                fs_err::read_to_string(&path).map_err(|_| {
                    self.bad_answer(&hook, format!("`{dist_info}` has no readable METADATA"))
                })
            }
            Answer::Return(other) => Err(self.bad_answer(&hook, format!("{other} is not a name"))),
            Answer::Unsupported => {
                let wheel = self.build(kind, scratch)?;
                crate::wheel_metadata(&wheel)
            }
        }
    }

    fn bad_answer(&self, hook: &str, message: String) -> BuildError {
        BuildError::BadAnswer {
            project: self.project.clone(),
            hook: hook.to_string(),
            message,
        }
    }

    /// Runs one hook to the end and reads its answer.
    fn call(&self, hook: &str, kwargs: &Value) -> Result<Answer, BuildError> {
        let control = tempfile::Builder::new()
            .prefix("ferry-hook-")
            .tempdir()
            .map(crate::TempWork::new)
            .map_err(|source| BuildError::Io {
                action: "create a directory in",
                path: std::env::temp_dir(),
                source,
            })?;
        let write = |name: &str, text: &[u8]| {
            let path = control.path().join(name);
            fs_err::write(&path, text).map_err(|source| BuildError::Io {
                action: "write",
                path,
                source,
            })
        };
        write("runner.py", RUNNER.as_bytes())?;
        let backend_path: Vec<String> = self
            .system
            .backend_path
            .iter()
            .map(|p| self.tree.join(p).display().to_string())
            .collect();
        let input = json!({
            "backend": self.system.backend,
            "backend_path": backend_path,
            "kwargs": kwargs,
        });
        write("input.json", input.to_string().as_bytes())?;

        let mut path_var = self.path_prefix.clone();
        if let Some(existing) = std::env::var_os("PATH") {
            path_var.extend(std::env::split_paths(&existing));
        }
        let path_var = std::env::join_paths(path_var).unwrap_or_default();
        self.reporter.hook_started(&self.project, hook);
        // stdout and stderr share one pipe, so their lines are read in the order written (a
        // traceback stays after the output that led to it).
        let spawn_error = |source| BuildError::Spawn {
            python: self.python.clone(),
            source,
        };
        let (reader, writer) = std::io::pipe().map_err(spawn_error)?;
        let mut command = Command::new(&self.python);
        // Its own process group, so that an interrupted ferry kills the backend together
        // with whatever it started (a compiler, say).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        die_with_parent(&mut command);
        let mut child = command
            .arg(control.path().join("runner.py"))
            .arg(hook)
            .arg(control.path())
            .current_dir(&self.tree)
            .env("PATH", path_var)
            .env("PYTHONNOUSERSITE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .env_remove("PYTHONHOME")
            .stdin(Stdio::null())
            .stdout(writer.try_clone().map_err(spawn_error)?)
            .stderr(writer)
            .spawn()
            .map_err(spawn_error)?;
        // The command holds the pipe's writing end: gone, the reader sees the end of output
        // when the backend exits.
        drop(command);
        let _group = ferry_types::interrupt::Group::new(child.id());
        // Read while the backend runs (a backend blocked on a full pipe would hang), kept as a
        // tail for errors and shown to the reporter as it comes.
        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
        let output_reader = {
            let tail = Arc::clone(&tail);
            let reporter = self.reporter.output_sink();
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::new(reader);
                let mut bytes = Vec::new();
                // Bytes, not UTF-8 lines: a compiler's Latin-1 must not stop the reading (the
                // backend would then block on a full pipe).
                while matches!(reader.read_until(b'\n', &mut bytes), Ok(n) if n > 0) {
                    let line = String::from_utf8_lossy(&bytes)
                        .trim_end_matches(['\n', '\r'])
                        .to_string();
                    bytes.clear();
                    if let Some(sink) = &reporter {
                        sink(&line);
                    }
                    let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                    if tail.len() == TAIL_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            })
        };
        let status = child.wait().map_err(|source| BuildError::Spawn {
            python: self.python.clone(),
            source,
        })?;
        let _ = output_reader.join();
        let tail: Vec<String> = tail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect();
        if !status.success() {
            return Err(BuildError::HookFailed {
                project: self.project.clone(),
                hook: hook.to_string(),
                status: status.to_string(),
                tail: tail.join("\n"),
            });
        }
        let output = control.path().join("output.json");
        let text = fs_err::read_to_string(&output)
            .map_err(|_| self.bad_answer(hook, "the hook runner wrote no answer".into()))?;
        let answer: Value = serde_json::from_str(&text)
            .map_err(|e| self.bad_answer(hook, format!("unreadable answer: {e}")))?;
        if let Some(message) = answer.get("unavailable").and_then(Value::as_str) {
            let last = message.trim_end().lines().last().unwrap_or_default();
            return Err(BuildError::BackendUnavailable {
                project: self.project.clone(),
                backend: self.system.backend.clone(),
                message: last.to_string(),
            });
        }
        if answer.get("unsupported") == Some(&Value::Bool(true)) {
            return Ok(Answer::Unsupported);
        }
        Ok(Answer::Return(
            answer.get("return").cloned().unwrap_or(Value::Null),
        ))
    }
}
