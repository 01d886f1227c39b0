//! Core metadata (METADATA / PKG-INFO): the fields resolution needs.

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::Requirement;

/// The parts of a distribution's core metadata that matter for resolution.
#[derive(Debug, Clone)]
pub struct CoreMetadata {
    pub metadata_version: String,
    pub name: String,
    pub version: Option<Version>,
    pub requires_dist: Vec<Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
    /// Normalized extra names.
    pub provides_extra: Vec<String>,
    /// `Dynamic` fields (PEP 643), lowercased.
    pub dynamic: Vec<String>,
    /// The full header text, for reports.
    pub raw: String,
}

impl CoreMetadata {
    /// Parses the RFC 822-style header of a METADATA or PKG-INFO file. Unparseable
    /// `Requires-Dist` lines are errors (pip refuses them too); everything else is lenient.
    pub fn parse(text: &str) -> Result<Self, String> {
        let fields: Vec<(String, String)> = ferry_types::metadata::fields(text)
            .into_iter()
            .map(|(key, value)| (key.to_ascii_lowercase(), value))
            .collect();
        let get = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let mut requires_dist = Vec::new();
        for (_, value) in fields.iter().filter(|(k, _)| k == "requires-dist") {
            let requirement: Requirement = ferry_types::parse_requirement(value).map_err(|e| {
                format!(
                    "bad Requires-Dist `{value}`: {}",
                    e.lines().next().unwrap_or_default()
                )
            })?;
            requires_dist.push(requirement);
        }
        let requires_python = match get("requires-python") {
            Some(spec) if !spec.trim().is_empty() => match VersionSpecifiers::from_str(&spec) {
                Ok(spec) => Some(spec),
                Err(err) => {
                    tracing::debug!("ignoring invalid Requires-Python {spec:?}: {err}");
                    None
                }
            },
            _ => None,
        };
        Ok(Self {
            metadata_version: get("metadata-version").unwrap_or_default(),
            name: get("name").unwrap_or_default(),
            version: get("version").and_then(|v| Version::from_str(&v).ok()),
            requires_dist,
            requires_python,
            provides_extra: fields
                .iter()
                .filter(|(k, _)| k == "provides-extra")
                .map(|(_, v)| ferry_input::normalize_extra(v))
                .collect(),
            dynamic: fields
                .iter()
                .filter(|(k, _)| k == "dynamic")
                .map(|(_, v)| v.to_ascii_lowercase())
                .collect(),
            raw: text.split("\n\n").next().unwrap_or_default().to_string(),
        })
    }

    /// Whether an sdist's PKG-INFO can be trusted for resolution (PEP 643): metadata 2.2 or
    /// newer, with neither `Requires-Dist` nor `Requires-Python` marked dynamic.
    pub fn is_static(&self) -> bool {
        let version: Vec<u32> = self
            .metadata_version
            .split('.')
            .filter_map(|p| p.parse().ok())
            .collect();
        version >= vec![2, 2]
            && !self
                .dynamic
                .iter()
                .any(|d| d == "requires-dist" || d == "requires-python")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headers_and_stops_at_the_body() {
        let text = "Metadata-Version: 2.3\nName: Demo\nVersion: 1.0\nRequires-Python: >=3.8\nRequires-Dist: six>=1.0\nRequires-Dist: pytest; extra == 'Test_Suite'\nProvides-Extra: Test_Suite\nDescription: long\n  continued\n\nRequires-Dist: not-a-header\n";
        let m = CoreMetadata::parse(text).unwrap();
        assert_eq!(m.name, "Demo");
        assert_eq!(m.requires_dist.len(), 2);
        assert_eq!(m.provides_extra, ["test-suite"]);
        assert!(m.requires_python.is_some());
        assert!(m.is_static());
        let dynamic = CoreMetadata::parse(
            "Metadata-Version: 2.2\nName: x\nVersion: 1\nDynamic: Requires-Dist\n",
        )
        .unwrap();
        assert!(!dynamic.is_static());
        let old = CoreMetadata::parse("Metadata-Version: 2.1\nName: x\nVersion: 1\n").unwrap();
        assert!(!old.is_static());
        assert!(CoreMetadata::parse(
            "Metadata-Version: 2.1\nName: x\nRequires-Dist: bad spec ((\n"
        )
        .is_err());
    }
}
