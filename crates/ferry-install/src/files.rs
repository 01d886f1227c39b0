//! Small leaf pieces the store, the installer and the transaction share, kept apart so those
//! modules do not import one another: the `WHEEL` file, writing a file with the permissions
//! wheel files get, and the clock.

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::InstallError;

/// Facts from a wheel's `WHEEL` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelFile {
    pub version: (u32, u32),
    pub root_is_purelib: bool,
}

impl WheelFile {
    pub fn parse(text: &str, path: &Path) -> Result<Self, InstallError> {
        let bad = |message: String| InstallError::BadWheelFile {
            path: path.to_path_buf(),
            message,
        };
        let mut version = None;
        let mut purelib = None;
        for (key, value) in ferry_types::metadata::fields(text) {
            match key.to_ascii_lowercase().as_str() {
                "wheel-version" => {
                    let value = value.trim();
                    let (major, minor) = value.split_once('.').unwrap_or((value, "0"));
                    version = Some((
                        major
                            .parse()
                            .map_err(|_| bad(format!("bad Wheel-Version `{value}`")))?,
                        minor.parse().unwrap_or(0),
                    ));
                }
                "root-is-purelib" => purelib = Some(value.trim().eq_ignore_ascii_case("true")),
                _ => {}
            }
        }
        let version = version.ok_or_else(|| bad("it has no Wheel-Version".into()))?;
        if version.0 != 1 {
            return Err(bad(format!(
                "Wheel-Version {}.{} is not supported (ferry installs 1.x)",
                version.0, version.1
            )));
        }
        if version.1 > 0 {
            tracing::warn!(
                "{} declares Wheel-Version {}.{}, newer than 1.0; installing anyway",
                path.display(),
                version.0,
                version.1
            );
        }
        Ok(Self {
            version,
            root_is_purelib: purelib.unwrap_or(true),
        })
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(crate) fn write_file(path: &Path, contents: &[u8], executable: bool) -> std::io::Result<()> {
    create_file(path, executable)?.write_all(contents)
}

/// Creates (or truncates) a file with the permissions wheel files get.
pub(crate) fn create_file(path: &Path, executable: bool) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if executable { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    options.open(path)
}
