//! The fuzz targets: each takes arbitrary bytes and gives them to one of ferry's readers of
//! outside input. A target passes when the reader returns (a value or an error) without
//! panicking, hanging or reading outside what it was given.
//!
//! `fuzz/` (outside the workspace, for `cargo +nightly fuzz run TARGET`) calls these under
//! libFuzzer, starting from `fuzz/seeds/TARGET/` and growing `fuzz/corpus/TARGET/` (not kept in
//! git). The replay test below calls them on stable with every input in `fuzz/seeds/`,
//! `fuzz/minimized/TARGET.tar.gz` (each target's corpus after `cargo fuzz cmin`, archived) and
//! `fuzz/regressions/` (inputs that once failed), which is what CI runs. See
//! docs/RELIABILITY.md for the runs and their figures.

use std::path::Path;
use std::str::FromStr;

/// A fuzz target: arbitrary bytes in, nothing out (it must only return).
pub type Target = fn(&[u8]);

/// Every target, by the name its directory and `cargo fuzz` use.
pub const TARGETS: &[(&str, Target)] = &[
    ("pep440", pep440),
    ("pep508", pep508),
    ("requirements_file", requirements_file),
    ("simple_api", simple_api),
    ("filenames", filenames),
    ("core_metadata", core_metadata),
    ("record_entry_points", record_entry_points),
    ("pip_conf", pip_conf),
    ("wheel_zip", wheel_zip),
    ("provenance", provenance),
];

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// PEP 440 versions and specifiers, and containment between them.
pub fn pep440(data: &[u8]) {
    let text = text(data);
    let (left, right) = text.split_once('\n').unwrap_or((&text, ""));
    let version = ferry_types::Version::from_str(left.trim());
    let specifiers = pep508_rs::pep440_rs::VersionSpecifiers::from_str(right);
    if let (Ok(version), Ok(specifiers)) = (version, specifiers) {
        let _ = specifiers.contains(&version);
        let _ = version.to_string();
    }
    let _ = ferry_types::DistVersion::new(left)
        .pep440()
        .map(ToString::to_string);
}

/// PEP 508 requirements, with their markers evaluated for a fixed environment.
pub fn pep508(data: &[u8]) {
    let text = text(data);
    // Through ferry's parser: pep508_rs alone panics on some names (see
    // `ferry_types::parse_requirement`).
    if let Ok(requirement) = ferry_types::parse_requirement::<pep508_rs::VerbatimUrl>(&text) {
        let _ = requirement.to_string();
        let env = marker_environment();
        let _ = requirement.evaluate_markers(&env, &[]);
    }
    let _ = ferry_input::parse_requirement(&text, ferry_input::Origin::CommandLine);
    let _ = ferry_input::is_unnamed(&text);
}

fn marker_environment() -> pep508_rs::MarkerEnvironment {
    pep508_rs::MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: "3.12.1",
        os_name: "posix",
        platform_machine: "x86_64",
        platform_python_implementation: "CPython",
        platform_release: "6.1.0",
        platform_system: "Linux",
        platform_version: "#1 SMP",
        python_full_version: "3.12.1",
        python_version: "3.12",
        sys_platform: "linux",
    })
    .expect("a valid marker environment")
}

/// A requirements file (with its options, `-r` includes of files that do not exist, hashes).
pub fn requirements_file(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("requirements.txt");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let mut spec = ferry_input::RequirementsSpec::default();
    let _ = spec.add_file(&path, false);
    let _ = spec.check_hash_mode(false);
}

/// A simple-API project page, as HTML (PEP 503) and as JSON (PEP 691).
pub fn simple_api(data: &[u8]) {
    let base = url::Url::parse("https://index.invalid/simple/demo/").expect("a URL");
    let page = ferry_index::parse_html(data, &base);
    for file in &page.files {
        let _ = ferry_index::DistFilename::parse(&file.filename, "demo");
    }
    let _ = ferry_index::parse_json(data, &base);
    let _ = ferry_index::parse_page(data, Some("text/html"), &base);
}

/// Wheel and sdist file names.
pub fn filenames(data: &[u8]) {
    let text = text(data);
    let (name, project) = text.split_once('\n').unwrap_or((&text, "demo"));
    let _ = ferry_index::WheelFilename::parse(name);
    let _ = ferry_index::SdistFilename::parse(name, project);
    if let Some(parsed) = ferry_index::DistFilename::parse(name, project) {
        let _ = parsed.version();
    }
}

/// METADATA / PKG-INFO headers.
pub fn core_metadata(data: &[u8]) {
    let text = text(data);
    let _ = ferry_types::metadata::fields(&text);
    let _ = ferry_resolve::CoreMetadata::parse(&text);
}

/// RECORD and entry_points.txt.
pub fn record_entry_points(data: &[u8]) {
    let text = text(data);
    let _ = ferry_install::record::parse(&text, Path::new("RECORD"));
    let _ = ferry_install::wheel::script_entry_points(&text, Path::new("entry_points.txt"));
}

/// A pip.conf file, then the values read from it.
pub fn pip_conf(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("pip.conf");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let mut config = ferry_input::PipConfig::default();
    if config.read_file(&path).is_ok() {
        let layer = config.layer("install");
        let _ = layer.list(&[], "extra-index-url");
        let _ = layer.switch(false, "no-deps");
        let _ = config.file_values();
    }
}

/// A wheel's ZIP archive, through both readers (their central directory checks included).
pub fn wheel_zip(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let _ = ferry_install::fuzzing::unzip(data, dir.path());
}

/// PEP 740 provenance objects: the bytes as a whole object, then in place of one field of a
/// real recorded one (so that the verifier gets past JSON into base64, X.509, DER and the log
/// proofs), then to the verifier's inner readers directly.
pub fn provenance(data: &[u8]) {
    const FILE: &str = "pypi_attestations-0.0.19.tar.gz";
    const SHA: &str = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3";
    const RECORDED: &str = include_str!(
        "../../ferry-index/tests/data/attestations/pypi_attestations-0.0.19.tar.gz.provenance"
    );
    let _ = ferry_index::verify_provenance(data, FILE, SHA);
    if let Some((&selector, payload)) = data.split_first() {
        use base64::Engine as _;
        let mut value: serde_json::Value = serde_json::from_str(RECORDED).expect("recorded JSON");
        let att = &mut value["attestation_bundles"][0]["attestations"][0];
        let b64 = base64::engine::general_purpose::STANDARD.encode(payload);
        let text = String::from_utf8_lossy(payload).into_owned();
        let entry = &mut att["verification_material"]["transparency_entries"][0];
        match selector % 9 {
            0 => att["envelope"]["statement"] = b64.into(),
            1 => att["envelope"]["signature"] = b64.into(),
            2 => att["verification_material"]["certificate"] = b64.into(),
            3 => entry["canonicalizedBody"] = b64.into(),
            4 => entry["inclusionPromise"]["signedEntryTimestamp"] = b64.into(),
            5 => entry["inclusionProof"]["checkpoint"]["envelope"] = text.into(),
            6 => entry["inclusionProof"]["hashes"] = serde_json::json!([b64]),
            7 => entry["inclusionProof"]["treeSize"] = text.into(),
            _ => {
                value["attestation_bundles"][0]["publisher"] =
                    serde_json::json!({"kind": "GitHub", "repository": text, "workflow": text})
            }
        }
        let _ = ferry_index::verify_provenance(value.to_string().as_bytes(), FILE, SHA);
    }
    ferry_index::fuzz_attestation_internals(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of every target's corpus and regressions goes through its target: what
    /// the fuzzers found stays found, on stable, in every test run.
    #[test]
    fn corpus_replay() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
        let mut replayed = 0;
        for (name, target) in TARGETS {
            for kind in ["seeds", "regressions"] {
                let dir = root.join(kind).join(name);
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let bytes = std::fs::read(entry.path()).expect("a corpus file");
                    target(&bytes);
                    replayed += 1;
                }
            }
            // The minimized corpus, one archive per target (thousands of small files).
            let archive = root.join("minimized").join(format!("{name}.tar.gz"));
            if let Ok(file) = std::fs::File::open(&archive) {
                let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
                for entry in tar.entries().expect("a tar archive") {
                    let mut entry = entry.expect("an entry");
                    if !entry.header().entry_type().is_file() {
                        continue;
                    }
                    let mut bytes = Vec::new();
                    std::io::Read::read_to_end(&mut entry, &mut bytes).expect("its bytes");
                    target(&bytes);
                    replayed += 1;
                }
            }
        }
        // The seeds are committed; a replay that read nothing would prove nothing.
        assert!(replayed >= 1000, "only {replayed} inputs replayed");
    }

    #[test]
    fn every_target_takes_empty_and_junk_input() {
        for (_, target) in TARGETS {
            target(b"");
            target(&[0xff; 64]);
            target(b"\0\n\r\t=@;[]{}<>\"'\\");
        }
    }
}
