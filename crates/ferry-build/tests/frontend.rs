//! The frontend against a backend that lives in the project tree (`backend-path`), written
//! in a few lines of Python that build wheels and sdists with the standard library only, so
//! no network and no setuptools are needed. Run on the oldest and the newest CPython.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ferry_build::{sdist, BuildError, BuildOptions, BuildRequirements, Frontend, Kind, Quiet};
use ferry_cache::{Cache, CacheSource};
use ferry_python::Interpreter;

/// A PEP 517 backend in the standard library's terms. A file `FAIL_HOOK` in the tree makes
/// the hook it names raise after printing a lot; a file `NO_PREPARE` hides
/// prepare_metadata_for_build_wheel; the `extra-requires` config setting is what
/// get_requires_for_build_wheel answers. (Files, not environment variables: tests may share
/// a process.)
const BACKEND: &str = r#"
import base64, hashlib, io, os, sys, tarfile, zipfile

NAME, VERSION = "inline_demo", "1.0"
DIST_INFO = NAME + "-" + VERSION + ".dist-info"
METADATA = "Metadata-Version: 2.1\nName: inline-demo\nVersion: 1.0\nRequires-Dist: six\n"

def _maybe_fail(hook):
    if os.path.exists("FAIL_HOOK") and open("FAIL_HOOK").read() == hook:
        for i in range(500):
            print("noise line %d" % i)
        sys.stderr.write("about to fail in %s\n" % hook)
        raise RuntimeError("the backend broke on purpose")

def get_requires_for_build_wheel(config_settings=None):
    _maybe_fail("get_requires_for_build_wheel")
    extra = (config_settings or {}).get("extra-requires")
    return [extra] if extra else []

if not os.path.exists("NO_PREPARE"):
    def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
        path = os.path.join(metadata_directory, DIST_INFO)
        os.makedirs(path)
        with open(os.path.join(path, "METADATA"), "w") as f:
            f.write(METADATA + "Summary: prepared\n")
        return DIST_INFO

def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d\n" % (name, digest, len(data))

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _maybe_fail("build_wheel")
    with open("src/inline_demo.py", "rb") as f:
        module = f.read()
    files = [
        ("inline_demo.py", module),
        (DIST_INFO + "/METADATA", (METADATA + "Summary: built\n").encode()),
        (DIST_INFO + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: inline\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    if config_settings and config_settings.get("marker"):
        files.append(("inline_demo_marker.txt", config_settings["marker"].encode()))
    record = "".join(_record_line(n, d) for n, d in files) + DIST_INFO + "/RECORD,,\n"
    filename = NAME + "-" + VERSION + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as z:
        for name, data in files:
            z.writestr(name, data)
        z.writestr(DIST_INFO + "/RECORD", record)
    return filename

def build_sdist(sdist_directory, config_settings=None):
    _maybe_fail("build_sdist")
    base = NAME + "-" + VERSION
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tar:
        for path in ["pyproject.toml", "src/inline_demo.py", "backend/inline_backend.py"]:
            tar.add(path, arcname=base + "/" + path)
        info = tarfile.TarInfo(base + "/PKG-INFO")
        data = METADATA.encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return filename
"#;

const PYPROJECT: &str = r#"[build-system]
requires = []
build-backend = "inline_backend"
backend-path = ["backend"]
"#;

fn project(dir: &Path, pyproject: &str) -> PathBuf {
    let tree = dir.join("project");
    std::fs::create_dir_all(tree.join("backend")).unwrap();
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::write(tree.join("pyproject.toml"), pyproject).unwrap();
    std::fs::write(tree.join("backend/inline_backend.py"), BACKEND).unwrap();
    std::fs::write(tree.join("src/inline_demo.py"), "VALUE = 42\n").unwrap();
    tree
}

/// Remembers what the frontend asked to install.
#[derive(Default)]
struct Recorder(Mutex<Vec<Vec<String>>>);

impl BuildRequirements for Recorder {
    fn install(&self, venv: &Path, python: &Path, requirements: &[String]) -> Result<(), String> {
        assert!(venv.join("pyvenv.cfg").is_file(), "{}", venv.display());
        assert!(python.starts_with(venv), "{}", python.display());
        self.0.lock().unwrap().push(requirements.to_vec());
        Ok(())
    }
}

fn interpreters(dir: &Path) -> Vec<Interpreter> {
    let cache = Cache::at(dir.join("cache"), CacheSource::Flag);
    let found: Vec<Interpreter> = ferry_test::pythons::oldest_and_newest()
        .iter()
        .map(|p| Interpreter::query(&p.path, &cache).unwrap())
        .collect();
    assert!(!found.is_empty(), "no CPython 3 found");
    found
}

fn zip_names(wheel: &Path) -> Vec<String> {
    let zip = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn wheels_sdists_and_metadata_through_every_hook_and_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let tree = project(dir.path(), PYPROJECT);
    for interpreter in interpreters(dir.path()) {
        let recorder = Recorder::default();
        let mut options = BuildOptions::default();
        options
            .config_settings
            .insert("marker".into(), vec!["from -C".into()]);
        let frontend = Frontend {
            interpreter: &interpreter,
            requirements: &recorder,
            options: &options,
            reporter: &Quiet,
        };
        let version = interpreter.version_string().to_string();
        let out = dir.path().join(format!("out-{version}"));

        // A wheel from the tree, config settings reaching the hook.
        let wheel = frontend.build(&tree, "project", Kind::Wheel, &out).unwrap();
        assert_eq!(
            wheel.file_name().unwrap(),
            "inline_demo-1.0-py3-none-any.whl"
        );
        assert!(zip_names(&wheel).contains(&"inline_demo_marker.txt".to_string()));
        // requires = [] and no extra requirements: nothing to install into the environment.
        assert!(recorder.0.lock().unwrap().is_empty());

        // Metadata from prepare_metadata_for_build_wheel; without that hook, from a build.
        let prepared = frontend.metadata(&tree, "project", Kind::Wheel).unwrap();
        assert!(prepared.contains("Summary: prepared"), "{prepared}");
        std::fs::write(tree.join("NO_PREPARE"), "").unwrap();
        let built = frontend.metadata(&tree, "project", Kind::Wheel);
        std::fs::remove_file(tree.join("NO_PREPARE")).unwrap();
        assert!(built.unwrap().contains("Summary: built"));

        // An sdist, unpacked and built again: the same wheel contents.
        let sdist_file = frontend.build(&tree, "project", Kind::Sdist, &out).unwrap();
        assert_eq!(sdist_file.file_name().unwrap(), "inline_demo-1.0.tar.gz");
        let unpacked = dir.path().join(format!("unpacked-{version}"));
        std::fs::create_dir_all(&unpacked).unwrap();
        let sdist_tree = sdist::unpack(&sdist_file, &unpacked).unwrap();
        assert_eq!(sdist_tree, unpacked.join("inline_demo-1.0"));
        let rebuilt_dir = dir.path().join(format!("rebuilt-{version}"));
        let rebuilt = frontend
            .build(&sdist_tree, "inline-demo 1.0", Kind::Wheel, &rebuilt_dir)
            .unwrap();
        assert_eq!(zip_names(&rebuilt), zip_names(&wheel));

        // The backend's answer to get_requires_for_build_wheel is installed.
        let mut extra = options.clone();
        extra
            .config_settings
            .insert("extra-requires".into(), vec!["six>=1.0".into()]);
        let frontend = Frontend {
            options: &extra,
            ..frontend
        };
        frontend.build(&tree, "project", Kind::Wheel, &out).unwrap();
        assert_eq!(*recorder.0.lock().unwrap(), [vec!["six>=1.0".to_string()]]);

        // Editables: this backend has no build_editable.
        let err = frontend
            .build(&tree, "project", Kind::Editable, &out)
            .unwrap_err();
        assert!(
            matches!(&err, BuildError::MissingHook { hook, .. } if hook == "build_editable"),
            "{err}"
        );
    }
}

#[test]
fn build_requirements_are_installed_before_the_backend_runs() {
    let dir = tempfile::tempdir().unwrap();
    let tree = project(
        dir.path(),
        &PYPROJECT.replace("requires = []", "requires = [\"flit_core>=3.2\", \"six\"]"),
    );
    let interpreter = interpreters(dir.path()).remove(0);
    let recorder = Recorder::default();
    let options = BuildOptions::default();
    let frontend = Frontend {
        interpreter: &interpreter,
        requirements: &recorder,
        options: &options,
        reporter: &Quiet,
    };
    frontend
        .build(&tree, "project", Kind::Wheel, &dir.path().join("out"))
        .unwrap();
    assert_eq!(
        *recorder.0.lock().unwrap(),
        [vec!["flit_core>=3.2".to_string(), "six".to_string()]]
    );
}

#[test]
fn failing_and_missing_backends_say_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let tree = project(dir.path(), PYPROJECT);
    let interpreter = interpreters(dir.path()).remove(0);
    let options = BuildOptions {
        no_isolation: true,
        ..Default::default()
    };
    let frontend = Frontend {
        interpreter: &interpreter,
        requirements: &Recorder::default(),
        options: &options,
        reporter: &Quiet,
    };
    let out = dir.path().join("out");

    std::fs::write(tree.join("FAIL_HOOK"), "build_wheel").unwrap();
    let err = frontend.build(&tree, "project", Kind::Wheel, &out);
    let text = err.unwrap_err().to_string();
    assert!(
        text.contains("build_wheel hook exited with exit status: 1"),
        "{text}"
    );
    assert!(
        text.contains("RuntimeError: the backend broke on purpose"),
        "{text}"
    );
    // Only the tail of 500 lines of noise.
    assert!(!text.contains("noise line 10\n"), "{text}");
    assert!(text.lines().count() < 40, "{text}");
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());

    let missing = project(
        &dir.path().join("missing"),
        &PYPROJECT.replace("\"inline_backend\"", "\"no_such_backend\""),
    );
    let err = frontend
        .build(&missing, "missing", Kind::Wheel, &out)
        .unwrap_err();
    assert!(
        matches!(&err, BuildError::BackendUnavailable { backend, .. } if backend == "no_such_backend"),
        "{err}"
    );
    assert!(err.to_string().contains("No module named"), "{err}");
}

/// Remembers the build directories it is told were kept.
#[derive(Default)]
struct Kept(Mutex<Vec<PathBuf>>);

impl ferry_build::BuildReporter for Kept {
    fn kept(&self, _project: &str, dir: &Path) {
        self.0.lock().unwrap().push(dir.to_path_buf());
    }
}

#[test]
fn no_clean_keeps_the_build_directory_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let tree = project(dir.path(), PYPROJECT);
    let interpreter = interpreters(dir.path()).remove(0);
    for keep in [false, true] {
        let options = BuildOptions {
            keep,
            ..Default::default()
        };
        let reporter = Kept::default();
        let frontend = Frontend {
            interpreter: &interpreter,
            requirements: &Recorder::default(),
            options: &options,
            reporter: &reporter,
        };
        frontend
            .build(&tree, "project", Kind::Wheel, &dir.path().join("out"))
            .unwrap();
        let kept = reporter.0.lock().unwrap().clone();
        if keep {
            assert_eq!(kept.len(), 1);
            assert!(kept[0].join("env/pyvenv.cfg").is_file(), "{kept:?}");
            std::fs::remove_dir_all(&kept[0]).unwrap();
        } else {
            assert!(kept.is_empty());
        }
    }
}

fn tar_gz(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (name, kind, link) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_mode(0o644);
        header.set_size(0);
        if !link.is_empty() {
            header.set_link_name(link).unwrap();
        }
        // Written raw, so that names tar::Builder would refuse reach the archive.
        let bytes = name.as_bytes();
        header.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        header.set_cksum();
        builder.append(&header, &[][..]).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn malicious_sdists_are_refused_whole() {
    use tar::EntryType;
    let dir = tempfile::tempdir().unwrap();
    type Entry<'a> = (&'a str, EntryType, &'a str);
    let cases: [(&str, Vec<Entry>, &str); 4] = [
        (
            "escape",
            vec![
                ("p-1.0/ok.py", EntryType::Regular, ""),
                ("p-1.0/../../evil.py", EntryType::Regular, ""),
            ],
            "climbs out",
        ),
        (
            "absolute",
            vec![
                ("p-1.0/ok.py", EntryType::Regular, ""),
                ("/tmp/evil.py", EntryType::Regular, ""),
            ],
            "absolute",
        ),
        (
            "symlink",
            vec![
                ("p-1.0/ok.py", EntryType::Regular, ""),
                ("p-1.0/link", EntryType::Symlink, "../../etc/passwd"),
            ],
            "links out",
        ),
        (
            "device",
            vec![
                ("p-1.0/ok.py", EntryType::Regular, ""),
                ("p-1.0/dev", EntryType::Char, ""),
            ],
            "device",
        ),
    ];
    for (name, entries, why) in cases {
        let archive = dir.path().join(format!("{name}-1.0.tar.gz"));
        std::fs::write(&archive, tar_gz(&entries)).unwrap();
        let dest = dir.path().join(name);
        std::fs::create_dir_all(&dest).unwrap();
        let err = sdist::unpack(&archive, &dest).unwrap_err().to_string();
        assert!(err.contains(why), "{name}: {err}");
        assert!(err.contains(&format!("{name}-1.0.tar.gz")), "{name}: {err}");
        // Nothing was written: not even the entries before the bad one.
        assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0, "{name}");
    }

    // Too many entries.
    let many: Vec<String> = (0..=sdist::MAX_ENTRIES)
        .map(|i| format!("p-1.0/f{i}"))
        .collect();
    let entries: Vec<(&str, EntryType, &str)> = many
        .iter()
        .map(|n| (n.as_str(), EntryType::Regular, ""))
        .collect();
    let archive = dir.path().join("many-1.0.tar.gz");
    std::fs::write(&archive, tar_gz(&entries)).unwrap();
    let dest = dir.path().join("many");
    std::fs::create_dir_all(&dest).unwrap();
    let err = sdist::unpack(&archive, &dest).unwrap_err().to_string();
    assert!(err.contains("more than"), "{err}");
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);

    // A link that stays inside is fine.
    let archive = dir.path().join("fine-1.0.tar.gz");
    std::fs::write(
        &archive,
        tar_gz(&[
            ("fine-1.0/a.py", EntryType::Regular, ""),
            ("fine-1.0/b.py", EntryType::Symlink, "a.py"),
        ]),
    )
    .unwrap();
    let dest = dir.path().join("fine");
    std::fs::create_dir_all(&dest).unwrap();
    assert_eq!(
        sdist::unpack(&archive, &dest).unwrap(),
        dest.join("fine-1.0")
    );
}
