//! An isolated place to run the `ferry` binary.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary directory laid out like a small machine: `work/` (the working directory),
/// `home/`, `cache/` (ferry's cache) and `config/`. Commands built by [`TestContext::ferry`]
/// see only that home, cache and config, and none of the developer's pip or venv settings.
pub struct TestContext {
    temp: tempfile::TempDir,
    bin: PathBuf,
    envs: std::cell::RefCell<Vec<(String, String)>>,
}

impl TestContext {
    /// A new context running the binary at `bin` (pass `env!("CARGO_BIN_EXE_ferry")`).
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        let temp = tempfile::Builder::new()
            .prefix("ferry-test-")
            .tempdir()
            .expect("create test directory");
        for dir in ["work", "home", "cache", "config"] {
            fs_err::create_dir_all(temp.path().join(dir)).expect("create test subdirectory");
        }
        Self {
            temp,
            bin: bin.into(),
            envs: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The root of the context's temporary directory.
    pub fn root(&self) -> &Path {
        self.temp.path()
    }

    /// The working directory of commands.
    pub fn work(&self) -> PathBuf {
        self.temp.path().join("work")
    }

    pub fn home(&self) -> PathBuf {
        self.temp.path().join("home")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.temp.path().join("cache")
    }

    /// Sets an extra environment variable for every command built afterwards.
    pub fn env(&self, key: &str, value: impl AsRef<OsStr>) -> &Self {
        self.envs.borrow_mut().push((
            key.to_string(),
            value.as_ref().to_string_lossy().into_owned(),
        ));
        self
    }

    /// `ferry ARGS...` in the working directory, isolated from the developer's environment.
    pub fn ferry<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args);
        self.isolate(&mut cmd);
        cmd
    }

    /// Any program, with the same isolation as [`TestContext::ferry`].
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        self.isolate(&mut cmd);
        cmd
    }

    fn isolate(&self, cmd: &mut Command) {
        // pyenv is found through HOME by default; keep pointing at the real one.
        let pyenv_root = crate::pythons::pyenv_root();
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let drop = key.starts_with("PIP_")
                || key.starts_with("FERRY_")
                || key.starts_with("UV_")
                || matches!(
                    key.as_ref(),
                    "VIRTUAL_ENV" | "CONDA_PREFIX" | "PYENV_VERSION" | "PYTHONPATH" | "PYTHONHOME"
                );
            if drop {
                cmd.env_remove(key.as_ref());
            }
        }
        cmd.current_dir(self.work())
            .env("HOME", self.home())
            .env("XDG_CACHE_HOME", self.temp.path().join("xdg-cache"))
            .env("XDG_CONFIG_HOME", self.temp.path().join("config"))
            .env("FERRY_CACHE_DIR", self.cache_dir())
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("NO_COLOR", "1");
        if let Some(root) = pyenv_root {
            cmd.env("PYENV_ROOT", root);
        }
        for (key, value) in self.envs.borrow().iter() {
            cmd.env(key, value);
        }
    }

    /// Runs a command and captures its output.
    pub fn run(&self, cmd: &mut Command) -> RunOutput {
        let output = cmd
            .output()
            .unwrap_or_else(|e| panic!("failed to run {cmd:?}: {e}"));
        RunOutput {
            command: format!("{cmd:?}"),
            output,
        }
    }
}

/// A finished command, with assertions that print everything on failure.
pub struct RunOutput {
    pub command: String,
    pub output: Output,
}

impl RunOutput {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn describe(&self) -> String {
        format!(
            "command: {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.output.status,
            self.stdout(),
            self.stderr()
        )
    }

    /// Asserts success and returns self for further checks.
    #[track_caller]
    pub fn success(self) -> Self {
        assert!(
            self.output.status.success(),
            "expected success\n{}",
            self.describe()
        );
        self
    }

    /// Asserts a non-zero exit and returns self for further checks.
    #[track_caller]
    pub fn failure(self) -> Self {
        assert!(
            !self.output.status.success() && self.code().is_some(),
            "expected a non-zero exit\n{}",
            self.describe()
        );
        self
    }

    /// Asserts that stdout contains `needle`.
    #[track_caller]
    pub fn stdout_contains(self, needle: &str) -> Self {
        assert!(
            self.stdout().contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }

    /// Asserts that stderr contains `needle`.
    #[track_caller]
    pub fn stderr_contains(self, needle: &str) -> Self {
        assert!(
            self.stderr().contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }
}
