//! Wheels and sdists built in code.

use std::io::Write;

use base64::Engine;

use crate::sha256_hex;

/// A built distribution file, ready to publish or write to disk.
#[derive(Debug, Clone)]
pub struct BuiltFile {
    /// The file name, e.g. `demo-1.0-py3-none-any.whl`.
    pub filename: String,
    /// The project name as given (not normalized).
    pub name: String,
    pub version: String,
    pub bytes: Vec<u8>,
    /// The core metadata text (METADATA or PKG-INFO).
    pub metadata: String,
    /// `Requires-Python` if set.
    pub requires_python: Option<String>,
}

impl BuiltFile {
    pub fn sha256(&self) -> String {
        sha256_hex(&self.bytes)
    }

    /// Writes the file into `dir` and returns its path.
    pub fn write_to(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join(&self.filename);
        fs_err::write(&path, &self.bytes).expect("write built distribution");
        path
    }
}

/// PEP 503 normalization: lowercase, runs of `-_.` become `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}

/// The name as it appears in wheel and dist-info file names (`-` and `.` become `_`).
fn escape_name(name: &str) -> String {
    normalize_name(name).replace('-', "_")
}

/// Builds a valid wheel in memory.
///
/// ```no_run
/// # use ferry_test::WheelBuilder;
/// let wheel = WheelBuilder::new("demo", "1.0")
///     .file("demo/__init__.py", "VALUE = 1\n")
///     .requires_dist("six>=1.0")
///     .console_script("demo", "demo:main")
///     .build();
/// ```
#[derive(Debug, Clone)]
pub struct WheelBuilder {
    name: String,
    version: String,
    tags: Vec<String>,
    build_tag: Option<String>,
    root_is_purelib: bool,
    wheel_version: String,
    metadata_version: String,
    metadata_fields: Vec<(String, String)>,
    requires_python: Option<String>,
    files: Vec<(String, Vec<u8>)>,
    entry_points: Vec<(String, String, String)>,
    record_override: Option<String>,
    omit_record: bool,
    corrupt_record_for: Option<String>,
    stored: bool,
}

impl WheelBuilder {
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_string(),
            version: version.to_string(),
            tags: Vec::new(),
            build_tag: None,
            root_is_purelib: true,
            wheel_version: "1.0".into(),
            metadata_version: "2.1".into(),
            metadata_fields: Vec::new(),
            requires_python: None,
            files: Vec::new(),
            entry_points: Vec::new(),
            record_override: None,
            omit_record: false,
            corrupt_record_for: None,
            stored: false,
        }
    }

    /// Stores entries uncompressed (quick to build for large incompressible files).
    pub fn stored(mut self) -> Self {
        self.stored = true;
        self
    }

    /// Adds a compatibility tag such as `py3-none-any` or `cp312-cp312-manylinux_2_17_x86_64`
    /// (compressed tag sets like `py2.py3-none-any` are fine). Default: `py3-none-any`.
    pub fn tag(mut self, tag: &str) -> Self {
        self.tags.push(tag.to_string());
        self
    }

    pub fn build_tag(mut self, build: &str) -> Self {
        self.build_tag = Some(build.to_string());
        self
    }

    /// `Root-Is-Purelib` in WHEEL (default true).
    pub fn root_is_purelib(mut self, purelib: bool) -> Self {
        self.root_is_purelib = purelib;
        self
    }

    /// `Wheel-Version` in WHEEL (default `1.0`).
    pub fn wheel_version(mut self, version: &str) -> Self {
        self.wheel_version = version.to_string();
        self
    }

    /// `Metadata-Version` in METADATA (default `2.1`).
    pub fn metadata_version(mut self, version: &str) -> Self {
        self.metadata_version = version.to_string();
        self
    }

    /// Adds a `Requires-Dist` line, e.g. `requests>=2; extra == "http"`.
    pub fn requires_dist(self, requirement: &str) -> Self {
        self.metadata("Requires-Dist", requirement)
    }

    /// Adds a `Provides-Extra` line.
    pub fn provides_extra(self, extra: &str) -> Self {
        self.metadata("Provides-Extra", extra)
    }

    pub fn requires_python(mut self, specifier: &str) -> Self {
        self.requires_python = Some(specifier.to_string());
        self
    }

    /// Adds any METADATA header.
    pub fn metadata(mut self, key: &str, value: &str) -> Self {
        self.metadata_fields
            .push((key.to_string(), value.to_string()));
        self
    }

    /// Adds a file at `path` inside the wheel (relative to its root).
    pub fn file(mut self, path: &str, contents: impl AsRef<[u8]>) -> Self {
        self.files
            .push((path.to_string(), contents.as_ref().to_vec()));
        self
    }

    /// Adds a file under `NAME-VERSION.data/<scheme>/` (`purelib`, `platlib`, `scripts`,
    /// `headers`, `data`).
    pub fn data_file(self, scheme: &str, path: &str, contents: impl AsRef<[u8]>) -> Self {
        let dir = format!("{}-{}.data", escape_name(&self.name), self.version);
        self.file(&format!("{dir}/{scheme}/{path}"), contents)
    }

    /// Adds a `console_scripts` entry point, e.g. `("demo", "demo.cli:main")`.
    pub fn console_script(self, name: &str, target: &str) -> Self {
        self.entry_point("console_scripts", name, target)
    }

    pub fn gui_script(self, name: &str, target: &str) -> Self {
        self.entry_point("gui_scripts", name, target)
    }

    pub fn entry_point(mut self, group: &str, name: &str, target: &str) -> Self {
        self.entry_points
            .push((group.to_string(), name.to_string(), target.to_string()));
        self
    }

    /// Replaces the generated RECORD with `text` verbatim.
    pub fn record(mut self, text: &str) -> Self {
        self.record_override = Some(text.to_string());
        self
    }

    /// Leaves RECORD out entirely (a broken wheel).
    pub fn without_record(mut self) -> Self {
        self.omit_record = true;
        self
    }

    /// Writes a wrong hash and size for `path` into RECORD (a broken wheel).
    pub fn corrupt_record_row(mut self, path: &str) -> Self {
        self.corrupt_record_for = Some(path.to_string());
        self
    }

    /// The dist-info directory name, e.g. `demo-1.0.dist-info`.
    pub fn dist_info(&self) -> String {
        format!("{}-{}.dist-info", escape_name(&self.name), self.version)
    }

    pub fn core_metadata(&self) -> String {
        core_metadata(
            &self.metadata_version,
            &self.name,
            &self.version,
            self.requires_python.as_deref(),
            &self.metadata_fields,
        )
    }

    pub fn filename(&self) -> String {
        let tags = self.tag_list();
        let tag = compress_tags(&tags);
        let build = self
            .build_tag
            .as_ref()
            .map(|b| format!("-{b}"))
            .unwrap_or_default();
        format!(
            "{}-{}{build}-{tag}.whl",
            escape_name(&self.name),
            self.version
        )
    }

    fn tag_list(&self) -> Vec<String> {
        if self.tags.is_empty() {
            vec!["py3-none-any".to_string()]
        } else {
            self.tags.clone()
        }
    }

    pub fn build(&self) -> BuiltFile {
        let dist_info = self.dist_info();
        let metadata = self.core_metadata();
        let mut wheel = format!(
            "Wheel-Version: {}\nGenerator: ferry-test\nRoot-Is-Purelib: {}\n",
            self.wheel_version, self.root_is_purelib
        );
        for tag in self.tag_list() {
            for expanded in expand_tags(&tag) {
                wheel.push_str(&format!("Tag: {expanded}\n"));
            }
        }
        if let Some(build) = &self.build_tag {
            wheel.push_str(&format!("Build: {build}\n"));
        }

        let mut entries: Vec<(String, Vec<u8>)> = self.files.clone();
        if !self.entry_points.is_empty() {
            let mut groups: Vec<&str> = self
                .entry_points
                .iter()
                .map(|(g, _, _)| g.as_str())
                .collect();
            groups.dedup();
            let mut text = String::new();
            for group in groups {
                text.push_str(&format!("[{group}]\n"));
                for (_, name, target) in self.entry_points.iter().filter(|(g, _, _)| g == group) {
                    text.push_str(&format!("{name} = {target}\n"));
                }
                text.push('\n');
            }
            entries.push((format!("{dist_info}/entry_points.txt"), text.into_bytes()));
        }
        entries.push((
            format!("{dist_info}/METADATA"),
            metadata.clone().into_bytes(),
        ));
        entries.push((format!("{dist_info}/WHEEL"), wheel.into_bytes()));

        let record_path = format!("{dist_info}/RECORD");
        if !self.omit_record {
            let record = self.record_override.clone().unwrap_or_else(|| {
                let mut record = String::new();
                for (path, bytes) in &entries {
                    let (digest, size) = if self.corrupt_record_for.as_deref() == Some(path) {
                        (record_hash(b"not the real contents"), bytes.len() + 1)
                    } else {
                        (record_hash(bytes), bytes.len())
                    };
                    record.push_str(&format!("{},sha256={digest},{size}\n", csv_field(path)));
                }
                record.push_str(&format!("{record_path},,\n"));
                record
            });
            entries.push((record_path, record.into_bytes()));
        }

        BuiltFile {
            filename: self.filename(),
            name: self.name.clone(),
            version: self.version.clone(),
            bytes: zip_entries(&entries, self.stored),
            metadata,
            requires_python: self.requires_python.clone(),
        }
    }
}

/// Builds a source distribution (`.tar.gz`) in memory: `NAME-VERSION/PKG-INFO`,
/// `pyproject.toml` and any files given.
#[derive(Debug, Clone)]
pub struct SdistBuilder {
    name: String,
    version: String,
    metadata_version: String,
    metadata_fields: Vec<(String, String)>,
    requires_python: Option<String>,
    files: Vec<(String, Vec<u8>)>,
    pyproject: Option<String>,
}

impl SdistBuilder {
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_string(),
            version: version.to_string(),
            metadata_version: "2.2".into(),
            metadata_fields: Vec::new(),
            requires_python: None,
            files: Vec::new(),
            pyproject: None,
        }
    }

    /// `Metadata-Version` of PKG-INFO (default `2.2`, i.e. static metadata per PEP 643).
    pub fn metadata_version(mut self, version: &str) -> Self {
        self.metadata_version = version.to_string();
        self
    }

    pub fn requires_dist(self, requirement: &str) -> Self {
        self.metadata("Requires-Dist", requirement)
    }

    /// Marks a field as `Dynamic` (PEP 643).
    pub fn dynamic(self, field: &str) -> Self {
        self.metadata("Dynamic", field)
    }

    pub fn requires_python(mut self, specifier: &str) -> Self {
        self.requires_python = Some(specifier.to_string());
        self
    }

    pub fn metadata(mut self, key: &str, value: &str) -> Self {
        self.metadata_fields
            .push((key.to_string(), value.to_string()));
        self
    }

    /// Adds a file relative to the sdist's top directory.
    pub fn file(mut self, path: &str, contents: impl AsRef<[u8]>) -> Self {
        self.files
            .push((path.to_string(), contents.as_ref().to_vec()));
        self
    }

    /// Sets `pyproject.toml` (default: a minimal setuptools build).
    pub fn pyproject(mut self, text: &str) -> Self {
        self.pyproject = Some(text.to_string());
        self
    }

    pub fn filename(&self) -> String {
        format!("{}-{}.tar.gz", escape_name(&self.name), self.version)
    }

    pub fn build(&self) -> BuiltFile {
        let metadata = core_metadata(
            &self.metadata_version,
            &self.name,
            &self.version,
            self.requires_python.as_deref(),
            &self.metadata_fields,
        );
        let top = format!("{}-{}", escape_name(&self.name), self.version);
        let pyproject = self.pyproject.clone().unwrap_or_else(|| {
            format!(
                "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"{}\"\nversion = \"{}\"\n",
                self.name, self.version
            )
        });
        let mut entries = vec![
            ("PKG-INFO".to_string(), metadata.clone().into_bytes()),
            ("pyproject.toml".to_string(), pyproject.into_bytes()),
        ];
        entries.extend(self.files.iter().cloned());
        let bytes = tar_gz(&top, &entries);
        BuiltFile {
            filename: self.filename(),
            name: self.name.clone(),
            version: self.version.clone(),
            bytes,
            metadata,
            requires_python: self.requires_python.clone(),
        }
    }
}

/// A `.tar.gz` of `entries` (path, contents), each under the directory `top`.
pub(crate) fn tar_gz(top: &str, entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        tar.append_data(&mut header, format!("{top}/{path}"), bytes.as_slice())
            .expect("append to tar");
    }
    tar.into_inner()
        .and_then(|gz| gz.finish())
        .expect("finish sdist")
}

fn core_metadata(
    metadata_version: &str,
    name: &str,
    version: &str,
    requires_python: Option<&str>,
    fields: &[(String, String)],
) -> String {
    let mut text =
        format!("Metadata-Version: {metadata_version}\nName: {name}\nVersion: {version}\n");
    if let Some(rp) = requires_python {
        text.push_str(&format!("Requires-Python: {rp}\n"));
    }
    for (key, value) in fields {
        text.push_str(&format!("{key}: {value}\n"));
    }
    text
}

/// `urlsafe_b64encode(sha256(bytes))` without padding, as RECORD wants it.
fn record_hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(bytes))
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// `py2.py3-none-any` → `py2-none-any`, `py3-none-any`.
fn expand_tags(tag: &str) -> Vec<String> {
    let parts: Vec<&str> = tag.splitn(3, '-').collect();
    let [python, abi, platform] = parts[..] else {
        return vec![tag.to_string()];
    };
    let mut out = Vec::new();
    for p in python.split('.') {
        for a in abi.split('.') {
            for pl in platform.split('.') {
                out.push(format!("{p}-{a}-{pl}"));
            }
        }
    }
    out
}

/// Joins several tags into the filename form when they differ in one part only; otherwise
/// uses the first (the WHEEL file lists all of them regardless).
fn compress_tags(tags: &[String]) -> String {
    if tags.len() == 1 {
        return tags[0].clone();
    }
    let split: Vec<Vec<&str>> = tags.iter().map(|t| t.splitn(3, '-').collect()).collect();
    let mut parts: Vec<Vec<&str>> = vec![Vec::new(), Vec::new(), Vec::new()];
    for tag in &split {
        for (i, part) in tag.iter().enumerate().take(3) {
            if !parts[i].contains(part) {
                parts[i].push(part);
            }
        }
    }
    parts
        .iter()
        .map(|p| p.join("."))
        .collect::<Vec<_>>()
        .join("-")
}

fn zip_entries(entries: &[(String, Vec<u8>)], stored: bool) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(if stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        })
        .unix_permissions(0o644);
    for (path, bytes) in entries {
        zip.start_file(path.as_str(), options).expect("zip entry");
        zip.write_all(bytes).expect("zip write");
    }
    zip.finish().expect("finish zip").into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tags() {
        assert_eq!(normalize_name("Foo.Bar__baz"), "foo-bar-baz");
        let w = WheelBuilder::new("Foo.Bar", "1.0")
            .tag("py2-none-any")
            .tag("py3-none-any");
        assert_eq!(w.filename(), "foo_bar-1.0-py2.py3-none-any.whl");
        assert_eq!(
            expand_tags("py2.py3-none-any"),
            ["py2-none-any", "py3-none-any"]
        );
    }
}
