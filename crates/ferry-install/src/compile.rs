//! `--compile`: byte-compiles installed `.py` files with the target interpreter, several
//! processes at once.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::InstallError;

const SCRIPT: &str = r#"
import sys, py_compile
ok = 0
for line in sys.stdin:
    path = line.rstrip("\n")
    if not path:
        continue
    try:
        py_compile.compile(path, doraise=True)
        ok += 1
    except Exception as error:
        sys.stderr.write("could not compile %s: %s\n" % (path, error))
sys.stdout.write("%d\n" % ok)
"#;

/// Compiles `files` with `python` in up to `jobs` processes. Files that fail to compile
/// (syntax errors in tests or templates, say) are logged and skipped, as pip does.
pub fn compile(python: &Path, files: &[PathBuf], jobs: usize) -> Result<(), InstallError> {
    if files.is_empty() {
        return Ok(());
    }
    let jobs = jobs.clamp(1, files.len());
    let chunk = files.len().div_ceil(jobs);
    let mut children = Vec::new();
    for part in files.chunks(chunk) {
        let mut child = Command::new(python)
            .args(["-E", "-s", "-c", SCRIPT])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| InstallError::Io {
                action: "run",
                path: python.to_path_buf(),
                source,
            })?;
        let mut input = String::new();
        for file in part {
            input.push_str(&file.to_string_lossy());
            input.push('\n');
        }
        if let Some(mut stdin) = child.stdin.take() {
            // A failed write shows up as a failed process below.
            let _ = stdin.write_all(input.as_bytes());
        }
        children.push(child);
    }
    for child in children {
        let output = child
            .wait_with_output()
            .map_err(|source| InstallError::Io {
                action: "run",
                path: python.to_path_buf(),
                source,
            })?;
        for line in String::from_utf8_lossy(&output.stderr).lines() {
            tracing::debug!("{line}");
        }
        if !output.status.success() {
            return Err(InstallError::Compile {
                python: python.to_path_buf(),
                message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            });
        }
    }
    Ok(())
}
