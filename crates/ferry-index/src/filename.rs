//! Distribution file names: wheels (`name-ver(-build)?-py-abi-plat.whl`) and sdists
//! (`name-ver.tar.gz`, `.zip`, and the legacy archive suffixes).

use std::str::FromStr;

use pep440_rs::Version;

use crate::url_util::normalize_name;

/// A parsed wheel file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelFilename {
    /// The normalized project name.
    pub name: String,
    pub version: Version,
    pub build: Option<String>,
    /// Every `python-abi-platform` triple the (possibly compressed) tag set expands to.
    pub tags: Vec<(String, String, String)>,
}

/// A parsed sdist file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdistFilename {
    pub name: String,
    pub version: Version,
    pub extension: &'static str,
}

/// Either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DistFilename {
    Wheel(WheelFilename),
    Sdist(SdistFilename),
}

const SDIST_EXTENSIONS: [&str; 8] = [
    ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".tbz", ".txz",
];

impl DistFilename {
    /// Parses `filename` as a distribution of `project` (any spelling); `None` for files that
    /// are not distributions, belong to another project, or carry an invalid version.
    pub fn parse(filename: &str, project: &str) -> Option<Self> {
        if filename.ends_with(".whl") {
            let wheel = WheelFilename::parse(filename)?;
            return (wheel.name == normalize_name(project)).then_some(Self::Wheel(wheel));
        }
        SdistFilename::parse(filename, project).map(Self::Sdist)
    }

    pub fn version(&self) -> &Version {
        match self {
            Self::Wheel(w) => &w.version,
            Self::Sdist(s) => &s.version,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Wheel(w) => &w.name,
            Self::Sdist(s) => &s.name,
        }
    }
}

impl WheelFilename {
    pub fn parse(filename: &str) -> Option<Self> {
        let stem = filename.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build, py, abi, plat) = match parts[..] {
            [n, v, py, abi, plat] => (n, v, None, py, abi, plat),
            [n, v, b, py, abi, plat] => (n, v, Some(b), py, abi, plat),
            _ => return None,
        };
        if name.is_empty() || py.is_empty() || abi.is_empty() || plat.is_empty() {
            return None;
        }
        if let Some(b) = build {
            if !b.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
        }
        let version = Version::from_str(version).ok()?;
        let mut tags = Vec::new();
        for p in py.split('.') {
            for a in abi.split('.') {
                for pl in plat.split('.') {
                    tags.push((p.to_string(), a.to_string(), pl.to_string()));
                }
            }
        }
        Some(Self {
            name: normalize_name(name),
            version,
            build: build.map(str::to_string),
            tags,
        })
    }
}

impl SdistFilename {
    /// Sdist names are ambiguous (`foo-bar-1.0` could be `foo` at `bar-1.0`), so the expected
    /// project name decides where the version starts, as pip does.
    pub fn parse(filename: &str, project: &str) -> Option<Self> {
        let lower = filename.to_ascii_lowercase();
        let extension = SDIST_EXTENSIONS.iter().find(|ext| lower.ends_with(*ext))?;
        let stem = &filename[..filename.len() - extension.len()];
        let wanted = normalize_name(project);
        for (index, _) in stem.match_indices('-') {
            if normalize_name(&stem[..index]) == wanted {
                let version = Version::from_str(&stem[index + 1..]).ok()?;
                return Some(Self {
                    name: wanted,
                    version,
                    extension,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheels() {
        let w = WheelFilename::parse(
            "numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.name, "numpy");
        assert_eq!(w.version.to_string(), "2.1.0");
        assert_eq!(w.tags.len(), 2);
        let b = WheelFilename::parse("foo_bar-1.0-1-py2.py3-none-any.whl").unwrap();
        assert_eq!(b.name, "foo-bar");
        assert_eq!(b.build.as_deref(), Some("1"));
        assert_eq!(b.tags.len(), 2);
        assert!(WheelFilename::parse("broken-py3-none-any.whl").is_none());
        assert!(WheelFilename::parse("x-notaversion!-py3-none-any.whl").is_none());
    }

    #[test]
    fn sdists_split_by_project_name() {
        let s = SdistFilename::parse("zope.interface-6.0.tar.gz", "zope-interface").unwrap();
        assert_eq!(s.version.to_string(), "6.0");
        let s = SdistFilename::parse("foo-bar-1.0rc1.zip", "foo-bar").unwrap();
        assert_eq!(s.version.to_string(), "1.0rc1");
        assert!(SdistFilename::parse("foo-bar-1.0.tar.gz", "foo").is_none());
        assert!(SdistFilename::parse("foo-1.0.exe", "foo").is_none());
        assert!(DistFilename::parse("other-1.0-py3-none-any.whl", "foo").is_none());
    }
}
