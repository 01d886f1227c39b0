//! Python projects built in code, with a PEP 517/660 backend that lives in the project
//! (`backend-path`) and needs only the standard library, so building one needs no network
//! and no setuptools. The backend reads the project's name, version and dependencies from
//! `backend/project.json`; modules come from `src/`. An editable build installs a `.pth` file
//! pointing at `src/`.

use std::path::{Path, PathBuf};

use crate::dist::BuiltFile;

const BACKEND: &str = r#"
import base64, hashlib, io, json, os, sys, tarfile, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "project.json")) as f:
    INFO = json.load(f)
NAME, VERSION = INFO["name"], INFO["version"]
SAFE = NAME.replace("-", "_").replace(".", "_")
DIST_INFO = "%s-%s.dist-info" % (SAFE, VERSION)


def _metadata():
    lines = ["Metadata-Version: 2.1", "Name: " + NAME, "Version: " + VERSION]
    lines += ["Requires-Dist: " + r for r in INFO["dependencies"]]
    return "\n".join(lines) + "\n"


def _maybe_fail(hook):
    hang = INFO.get("hang")
    if hang and hang["hook"] == hook:
        import subprocess, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(hang["pids"] + ".tmp", "w") as f:
            f.write("%d\n%d\n" % (os.getpid(), child.pid))
        os.rename(hang["pids"] + ".tmp", hang["pids"])
        time.sleep(600)
    if INFO.get("fail") == hook:
        for i in range(200):
            print("noise line %d" % i)
        sys.stdout.flush()
        sys.stdout.buffer.write(b"caf\xe9 in latin-1\n")
        sys.stdout.buffer.flush()
        sys.stderr.write("the backend gives up in %s\n" % hook)
        raise RuntimeError("broken on purpose")


def get_requires_for_build_wheel(config_settings=None):
    _maybe_fail("get_requires_for_build_wheel")
    return list(INFO.get("build_requires", []))


get_requires_for_build_editable = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _maybe_fail("prepare_metadata_for_build_wheel")
    path = os.path.join(metadata_directory, DIST_INFO)
    os.makedirs(path)
    with open(os.path.join(path, "METADATA"), "w") as f:
        f.write(_metadata())
    return DIST_INFO


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (name, digest, len(data))


def _wheel(directory, files):
    files = files + [
        (DIST_INFO + "/METADATA", _metadata().encode()),
        (DIST_INFO + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: ferry-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    record = "".join(_record_line(n, d) for n, d in files) + DIST_INFO + "/RECORD,,\n"
    filename = "%s-%s-py3-none-any.whl" % (SAFE, VERSION)
    with zipfile.ZipFile(os.path.join(directory, filename), "w") as z:
        for name, data in files:
            z.writestr(name, data)
        z.writestr(DIST_INFO + "/RECORD", record)
    return filename


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _maybe_fail("build_wheel")
    files = []
    for root, dirs, names in os.walk("src"):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files.append((os.path.relpath(path, "src").replace(os.sep, "/"), f.read()))
    for key, value in sorted((config_settings or {}).items()):
        files.append(("%s_setting_%s.txt" % (SAFE, key), str(value).encode()))
    return _wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    _maybe_fail("build_editable")
    pth = (os.path.abspath("src") + "\n").encode()
    return _wheel(wheel_directory, [("__editable__.%s.pth" % SAFE, pth)])


def build_sdist(sdist_directory, config_settings=None):
    _maybe_fail("build_sdist")
    base = "%s-%s" % (SAFE, VERSION)
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tar:
        for top in ["pyproject.toml", "backend", "src"]:
            tar.add(top, arcname=base + "/" + top)
        data = _metadata().encode()
        info = tarfile.TarInfo(base + "/PKG-INFO")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return filename
"#;

const PYPROJECT: &str = r#"[build-system]
requires = []
build-backend = "ferry_test_backend"
backend-path = ["backend"]
"#;

/// A project to write out as a tree or pack as an sdist.
#[derive(Debug, Clone)]
pub struct Project {
    name: String,
    version: String,
    dependencies: Vec<String>,
    build_requires: Vec<String>,
    modules: Vec<(String, String)>,
    fail: Option<String>,
    hang: Option<(String, PathBuf)>,
    static_metadata: bool,
}

impl Project {
    /// A project with one module, `<name>.py` (dashes as underscores), holding
    /// `VERSION = "<version>"`.
    pub fn new(name: &str, version: &str) -> Self {
        let module = format!("{}.py", name.replace(['-', '.'], "_"));
        Self {
            name: name.to_string(),
            version: version.to_string(),
            dependencies: Vec::new(),
            build_requires: Vec::new(),
            modules: vec![(module, format!("VERSION = \"{version}\"\n"))],
            fail: None,
            hang: None,
            static_metadata: false,
        }
    }

    /// Makes the sdist's PKG-INFO static (Metadata-Version 2.2, nothing dynamic), so an
    /// installer can resolve it without running the backend.
    pub fn static_metadata(mut self) -> Self {
        self.static_metadata = true;
        self
    }

    /// A `Requires-Dist` of the built project.
    pub fn dependency(mut self, requirement: &str) -> Self {
        self.dependencies.push(requirement.to_string());
        self
    }

    /// What `get_requires_for_build_wheel` answers.
    pub fn build_requires(mut self, requirement: &str) -> Self {
        self.build_requires.push(requirement.to_string());
        self
    }

    /// A file under `src/` (shipped in the wheel at that path).
    pub fn module(mut self, path: &str, text: &str) -> Self {
        self.modules.retain(|(p, _)| p != path);
        self.modules.push((path.to_string(), text.to_string()));
        self
    }

    /// Makes the backend's `hook` print 200 lines and one that is not UTF-8, then raise.
    pub fn failing(mut self, hook: &str) -> Self {
        self.fail = Some(hook.to_string());
        self
    }

    /// Makes the backend's `hook` start a child process, write its own pid and the child's to
    /// `pids` (one per line, the file appearing whole), then sleep for ten minutes.
    pub fn hanging(mut self, hook: &str, pids: &Path) -> Self {
        self.hang = Some((hook.to_string(), pids.to_path_buf()));
        self
    }

    fn info(&self) -> String {
        serde_json::json!({
            "name": self.name,
            "version": self.version,
            "dependencies": self.dependencies,
            "build_requires": self.build_requires,
            "fail": self.fail,
            "hang": self.hang.as_ref().map(|(hook, pids)| serde_json::json!({
                "hook": hook,
                "pids": pids.display().to_string(),
            })),
        })
        .to_string()
    }

    /// The tree's files, relative to its top.
    fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = vec![
            ("pyproject.toml".to_string(), PYPROJECT.as_bytes().to_vec()),
            (
                "backend/ferry_test_backend.py".to_string(),
                BACKEND.as_bytes().to_vec(),
            ),
            ("backend/project.json".to_string(), self.info().into_bytes()),
        ];
        for (path, text) in &self.modules {
            files.push((format!("src/{path}"), text.as_bytes().to_vec()));
        }
        files
    }

    /// Writes the tree into `dir` and returns `dir`.
    pub fn write(&self, dir: &Path) -> PathBuf {
        for (path, bytes) in self.files() {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
            std::fs::write(&path, bytes).expect("write a project file");
        }
        dir.to_path_buf()
    }

    /// The project as an sdist (`.tar.gz`) whose PKG-INFO is not static (Metadata-Version
    /// 2.1), so its dependencies are known only through the build backend, unless
    /// [`Project::static_metadata`] says otherwise.
    pub fn sdist(&self) -> BuiltFile {
        let safe = self.name.replace(['-', '.'], "_");
        let top = format!("{safe}-{}", self.version);
        let mut metadata = format!(
            "Metadata-Version: {}\nName: {}\nVersion: {}\n",
            if self.static_metadata { "2.2" } else { "2.1" },
            self.name,
            self.version
        );
        for dependency in &self.dependencies {
            metadata.push_str(&format!("Requires-Dist: {dependency}\n"));
        }
        let mut entries = self.files();
        entries.push(("PKG-INFO".to_string(), metadata.clone().into_bytes()));
        let bytes = crate::dist::tar_gz(&top, &entries);
        BuiltFile {
            filename: format!("{top}.tar.gz"),
            name: self.name.clone(),
            version: self.version.clone(),
            bytes,
            metadata,
            requires_python: None,
        }
    }
}
