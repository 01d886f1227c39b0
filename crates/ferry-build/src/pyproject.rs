//! `[build-system]` of a source tree's `pyproject.toml` (PEP 518/517), with pip's fallback.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::BuildError;

/// The backend a source tree names and what it needs installed to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSystem {
    /// `requires`: PEP 508 requirements of the build environment.
    pub requires: Vec<String>,
    /// `build-backend`: `module` or `module:object`.
    pub backend: String,
    /// `backend-path`: directories of the tree (relative to it) put first on `sys.path`, for
    /// backends that live in the tree.
    pub backend_path: Vec<PathBuf>,
}

/// The backend pip uses for a tree without `pyproject.toml` or without `build-backend`.
const LEGACY_BACKEND: &str = "setuptools.build_meta:__legacy__";
/// The requirements pip uses for a tree without a `[build-system]` table.
const LEGACY_REQUIRES: &[&str] = &["setuptools>=40.8.0"];

#[derive(Deserialize)]
struct PyProject {
    #[serde(rename = "build-system")]
    build_system: Option<Table>,
}

#[derive(Deserialize)]
struct Table {
    requires: Option<Vec<String>>,
    #[serde(rename = "build-backend")]
    build_backend: Option<String>,
    #[serde(rename = "backend-path")]
    backend_path: Option<Vec<String>>,
}

impl BuildSystem {
    /// Reads `tree/pyproject.toml`. Without one, or without a `[build-system]` table, this is
    /// pip's fallback: `setuptools>=40.8.0` with `setuptools.build_meta:__legacy__`, which
    /// needs a `setup.py` or `setup.cfg`. A table without `build-backend` keeps its `requires`
    /// and uses the legacy backend, as pip does; one without `requires` is an error (PEP 518).
    pub fn read(tree: &Path) -> Result<Self, BuildError> {
        let path = tree.join("pyproject.toml");
        let legacy = |requires: Vec<String>| -> Result<Self, BuildError> {
            if !tree.join("setup.py").is_file() && !tree.join("setup.cfg").is_file() {
                return Err(BuildError::NotAProject {
                    path: tree.to_path_buf(),
                });
            }
            Ok(Self {
                requires,
                backend: LEGACY_BACKEND.to_string(),
                backend_path: Vec::new(),
            })
        };
        let text = match fs_err::read_to_string(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return legacy(LEGACY_REQUIRES.iter().map(|s| s.to_string()).collect());
            }
            Err(source) => {
                return Err(BuildError::Io {
                    action: "read",
                    path,
                    source,
                })
            }
        };
        let bad = |message: String| BuildError::Pyproject {
            path: path.clone(),
            message,
        };
        let parsed: PyProject = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let Some(table) = parsed.build_system else {
            return legacy(LEGACY_REQUIRES.iter().map(|s| s.to_string()).collect());
        };
        let requires = table.requires.ok_or_else(|| {
            bad("[build-system] has no `requires` key (PEP 518 makes it mandatory)".into())
        })?;
        let Some(backend) = table.build_backend else {
            return legacy(requires);
        };
        let mut backend_path = Vec::new();
        for entry in table.backend_path.unwrap_or_default() {
            let relative = Path::new(&entry);
            let escapes = relative.is_absolute()
                || relative
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir));
            if escapes {
                return Err(bad(format!(
                    "backend-path entry `{entry}` is outside the project (PEP 517 requires it inside)"
                )));
            }
            backend_path.push(relative.to_path_buf());
        }
        Ok(Self {
            requires,
            backend,
            backend_path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn build_system_and_pips_fallbacks() {
        let full = tree(&[(
            "pyproject.toml",
            "[build-system]\nrequires = [\"flit_core>=3.2\"]\nbuild-backend = \"flit_core.buildapi\"\nbackend-path = [\"_build\"]\n",
        )]);
        let system = BuildSystem::read(full.path()).unwrap();
        assert_eq!(system.requires, ["flit_core>=3.2"]);
        assert_eq!(system.backend, "flit_core.buildapi");
        assert_eq!(system.backend_path, [PathBuf::from("_build")]);

        let bare = tree(&[("setup.py", "")]);
        let system = BuildSystem::read(bare.path()).unwrap();
        assert_eq!(system.requires, ["setuptools>=40.8.0"]);
        assert_eq!(system.backend, LEGACY_BACKEND);

        let no_table = tree(&[("pyproject.toml", "[tool.black]\n"), ("setup.cfg", "")]);
        assert_eq!(
            BuildSystem::read(no_table.path()).unwrap().backend,
            LEGACY_BACKEND
        );

        let no_backend = tree(&[
            (
                "pyproject.toml",
                "[build-system]\nrequires = [\"setuptools\", \"wheel\"]\n",
            ),
            ("setup.py", ""),
        ]);
        let system = BuildSystem::read(no_backend.path()).unwrap();
        assert_eq!(system.requires, ["setuptools", "wheel"]);
        assert_eq!(system.backend, LEGACY_BACKEND);
    }

    #[test]
    fn broken_build_systems_are_refused_naming_the_file() {
        let empty = tree(&[]);
        let err = BuildSystem::read(empty.path()).unwrap_err();
        assert!(matches!(err, BuildError::NotAProject { .. }), "{err}");

        let no_requires = tree(&[("pyproject.toml", "[build-system]\nbuild-backend = \"x\"\n")]);
        let err = BuildSystem::read(no_requires.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pyproject.toml") && err.contains("requires"),
            "{err}"
        );

        let escaping = tree(&[(
            "pyproject.toml",
            "[build-system]\nrequires = []\nbuild-backend = \"x\"\nbackend-path = [\"../elsewhere\"]\n",
        )]);
        let err = BuildSystem::read(escaping.path()).unwrap_err().to_string();
        assert!(err.contains("../elsewhere"), "{err}");

        let malformed = tree(&[("pyproject.toml", "[build-system\n")]);
        let err = BuildSystem::read(malformed.path()).unwrap_err().to_string();
        assert!(err.contains("pyproject.toml"), "{err}");
    }
}
