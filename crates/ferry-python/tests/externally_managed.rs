//! PEP 668 on a real interpreter's facts: a marked base environment is refused unless the
//! user says `--break-system-packages`; virtual environments are never externally managed.

use std::path::PathBuf;

use ferry_cache::{Cache, CacheSource};
use ferry_python::{find_interpreter, Interpreter, PythonError, PythonRequest};

#[test]
fn externally_managed_environments_are_refused_with_their_message() {
    let temp = tempfile::tempdir().unwrap();
    let cache = Cache::at(temp.path().join("cache"), CacheSource::Flag);
    let real = find_interpreter(&PythonRequest::parse("3"), &cache)
        .expect("a Python 3 on PATH or in pyenv");

    // The same interpreter, but with its stdlib in a directory we control.
    let stdlib = temp.path().join("stdlib");
    std::fs::create_dir(&stdlib).unwrap();
    let mut info = real.info().clone();
    info.base_prefix = info.prefix.clone();
    info.paths.stdlib = Some(stdlib.display().to_string());
    let base = Interpreter::from_info(PathBuf::from("/usr/bin/python3"), info.clone());
    assert!(base.externally_managed().is_none());
    base.check_writable(false).unwrap();

    std::fs::write(
        stdlib.join("EXTERNALLY-MANAGED"),
        "[externally-managed]\nError=This Python belongs to the system.\n Use apt install python3-xyz.\n",
    )
    .unwrap();
    let err = base.check_writable(false).unwrap_err();
    assert!(matches!(err, PythonError::ExternallyManaged { .. }));
    let text = err.to_string();
    assert!(text.contains("--break-system-packages"), "{text}");
    assert!(
        text.contains("This Python belongs to the system.\nUse apt install python3-xyz."),
        "{text}"
    );
    base.check_writable(true).unwrap();

    // Inside a virtual environment the marker of the base interpreter does not apply.
    info.prefix = temp.path().join("venv");
    let venv = Interpreter::from_info(PathBuf::from("/venv/bin/python"), info);
    assert!(venv.externally_managed().is_none());
}
