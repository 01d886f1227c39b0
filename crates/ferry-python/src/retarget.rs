//! Resolving for another interpreter: `--python-version` and `--python-platform` rewrite the
//! facts of a real interpreter, so markers and wheel tags come out of the same code paths.

use crate::interpreter::InterpreterInfo;
use crate::{Interpreter, PythonError};

/// The platforms `--python-platform` accepts.
pub const PLATFORMS: &str = "linux, x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu, \
x86_64-manylinux_2_NN, aarch64-manylinux_2_NN, x86_64-unknown-linux-musl, macos, \
x86_64-apple-darwin, aarch64-apple-darwin, windows, x86_64-pc-windows-msvc";

impl Interpreter {
    /// The same interpreter as seen by a resolver targeting another Python version
    /// (`3.12` or `3.12.1`) and/or platform. Paths stay those of the real interpreter.
    pub fn retarget(
        &self,
        version: Option<&str>,
        platform: Option<&str>,
    ) -> Result<Interpreter, PythonError> {
        let mut info = self.info().clone();
        if let Some(version) = version {
            set_version(&mut info, version)?;
        }
        if let Some(platform) = platform {
            set_platform(&mut info, platform)?;
        }
        Ok(Interpreter::from_info(self.path().to_path_buf(), info))
    }
}

fn bad(what: &str, value: &str, expected: &str) -> PythonError {
    PythonError::NoEnvironment(format!(
        "`{value}` is not a valid {what}; expected {expected}"
    ))
}

fn set_version(info: &mut InterpreterInfo, value: &str) -> Result<(), PythonError> {
    let parts: Vec<u32> = value
        .trim()
        .split('.')
        .map(|p| p.parse())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            bad(
                "--python-version",
                value,
                "a version such as 3.12 or 3.12.1",
            )
        })?;
    let (major, minor, micro) = match parts[..] {
        [major, minor] => (major, minor, 0),
        [major, minor, micro] => (major, minor, micro),
        _ => {
            return Err(bad(
                "--python-version",
                value,
                "a version such as 3.12 or 3.12.1",
            ))
        }
    };
    if major != 3 {
        return Err(bad("--python-version", value, "a Python 3 version"));
    }
    let full = format!("{major}.{minor}.{micro}");
    info.version = (major, minor, micro, "final".into(), 0);
    info.markers.python_version = format!("{major}.{minor}");
    info.markers.python_full_version = full.clone();
    if info.implementation == "cpython" {
        info.markers.implementation_version = full;
        info.tags.py_version_nodot = Some(serde_json::json!(format!("{major}{minor}")));
        info.tags.ext_suffix = None;
        // Free-threading is a property of the build, not of a version request.
        info.tags.gil_disabled = Some(serde_json::json!(0));
    }
    Ok(())
}

fn set_platform(info: &mut InterpreterInfo, value: &str) -> Result<(), PythonError> {
    let value = value.trim().to_ascii_lowercase();
    let (arch, rest) = match value.split_once('-') {
        Some((arch, rest)) if matches!(arch, "x86_64" | "aarch64") => {
            (arch.to_string(), rest.to_string())
        }
        _ => ("x86_64".to_string(), value.clone()),
    };
    let markers = &mut info.markers;
    let tags = &mut info.tags;
    tags.is_32bit = false;
    tags.musl_version = None;
    tags.glibc_version = None;
    tags.mac_version = None;
    tags.mac_machine = None;
    match rest.as_str() {
        "linux" | "unknown-linux-gnu" => linux(markers, tags, &arch, Some("2.17"), None),
        "unknown-linux-musl" => linux(markers, tags, &arch, None, Some("1.2")),
        manylinux if manylinux.starts_with("manylinux_2_") => {
            let minor: u32 = manylinux["manylinux_2_".len()..]
                .parse()
                .map_err(|_| bad("--python-platform", &value, PLATFORMS))?;
            linux(markers, tags, &arch, Some(&format!("2.{minor}")), None);
        }
        "macos" | "apple-darwin" => {
            let machine = if arch == "aarch64" { "arm64" } else { "x86_64" };
            let version = if arch == "aarch64" { "11.0" } else { "10.12" };
            markers.sys_platform = "darwin".into();
            markers.platform_system = "Darwin".into();
            markers.os_name = "posix".into();
            markers.platform_machine = machine.into();
            tags.platform = format!("macosx-{version}-{machine}");
            tags.mac_version = Some(version.into());
            tags.mac_machine = Some(machine.into());
        }
        "windows" | "pc-windows-msvc" => {
            markers.sys_platform = "win32".into();
            markers.platform_system = "Windows".into();
            markers.os_name = "nt".into();
            markers.platform_machine = if arch == "aarch64" { "ARM64" } else { "AMD64" }.into();
            tags.platform = if arch == "aarch64" {
                "win-arm64"
            } else {
                "win-amd64"
            }
            .into();
        }
        _ => return Err(bad("--python-platform", &value, PLATFORMS)),
    }
    Ok(())
}

fn linux(
    markers: &mut crate::MarkerEnvironment,
    tags: &mut crate::tags::TagFacts,
    arch: &str,
    glibc: Option<&str>,
    musl: Option<&str>,
) {
    markers.sys_platform = "linux".into();
    markers.platform_system = "Linux".into();
    markers.os_name = "posix".into();
    markers.platform_machine = arch.into();
    tags.platform = format!("linux-{arch}");
    tags.glibc_version = glibc.map(str::to_string);
    tags.musl_version = musl.map(str::to_string);
}
