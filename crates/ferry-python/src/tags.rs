//! PEP 425 compatibility tags, in the priority order installers use to pick a wheel.
//!
//! The order matches `packaging.tags.sys_tags()`: interpreter-specific ABIs first, then
//! `abi3` (stable ABI, newest first), then `none`, each across every platform tag, followed
//! by pure-Python tags. Platform tags come from the facts the query script reports: glibc
//! (manylinux, PEP 600, including the legacy `manylinux1/2010/2014` aliases), musl
//! (musllinux, PEP 656), the macOS version and architecture, or `sysconfig.get_platform()`.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One `python-abi-platform` triple.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    pub python: String,
    pub abi: String,
    pub platform: String,
}

impl Tag {
    pub fn new(
        python: impl Into<String>,
        abi: impl Into<String>,
        platform: impl Into<String>,
    ) -> Self {
        Self {
            python: python.into(),
            abi: abi.into(),
            platform: platform.into(),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.python, self.abi, self.platform)
    }
}

/// The tags a target supports, best first, with each tag's priority at hand (0 is the best).
#[derive(Debug, Clone, Default)]
pub struct Tags {
    list: Vec<Tag>,
    /// python → abi → platform → priority, so a lookup borrows its three parts.
    priority: HashMap<String, HashMap<String, HashMap<String, usize>>>,
}

impl Tags {
    /// The priority of one tag: its place in the list, `None` when it is not supported.
    pub fn priority(&self, python: &str, abi: &str, platform: &str) -> Option<usize> {
        self.priority.get(python)?.get(abi)?.get(platform).copied()
    }

    /// The best priority of a wheel's tag set, whose parts may be compressed
    /// (`py2.py3-none-any`, PEP 425): `None` when no tag of it is supported.
    pub fn best<'a>(
        &self,
        tags: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Option<usize> {
        tags.into_iter()
            .flat_map(|(python, abi, platform)| {
                python.split('.').flat_map(move |python| {
                    abi.split('.').flat_map(move |abi| {
                        platform
                            .split('.')
                            .filter_map(move |platform| self.priority(python, abi, platform))
                    })
                })
            })
            .min()
    }
}

impl FromIterator<Tag> for Tags {
    /// The first occurrence of a tag sets its priority.
    fn from_iter<I: IntoIterator<Item = Tag>>(iter: I) -> Self {
        let mut tags = Self::default();
        for tag in iter {
            let slot = tags
                .priority
                .entry(tag.python.clone())
                .or_default()
                .entry(tag.abi.clone())
                .or_default();
            if !slot.contains_key(&tag.platform) {
                slot.insert(tag.platform.clone(), tags.list.len());
            }
            tags.list.push(tag);
        }
        tags
    }
}

impl std::ops::Deref for Tags {
    type Target = [Tag];
    fn deref(&self) -> &[Tag] {
        &self.list
    }
}

/// The raw facts wheel-tag computation needs, as the interpreter query reports them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagFacts {
    pub py_version_nodot: Option<serde_json::Value>,
    pub py_debug: Option<serde_json::Value>,
    pub has_total_refcount: bool,
    pub extension_suffixes: Vec<String>,
    pub gil_disabled: Option<serde_json::Value>,
    pub with_pymalloc: Option<serde_json::Value>,
    pub unicode_size: Option<serde_json::Value>,
    pub max_unicode: u64,
    pub ext_suffix: Option<String>,
    pub platform: String,
    pub is_32bit: bool,
    pub glibc_version: Option<String>,
    pub musl_version: Option<String>,
    pub mac_version: Option<String>,
    pub mac_machine: Option<String>,
}

/// The tags an interpreter supports, best first: from its tag facts, its implementation name
/// (`cpython`, `pypy`), its `(major, minor)` version and its `platform.system()`.
pub fn supported_tags(
    facts: &TagFacts,
    implementation: &str,
    (major, minor): (u32, u32),
    platform_system: &str,
) -> Vec<Tag> {
    let platforms = platform_tags(facts, platform_system, (major, minor));
    tags_for(
        facts,
        short_name(implementation),
        (major, minor),
        &platforms,
        None,
    )
}

/// pip's tags for `--platform`, `--implementation` and `--abi` (`pip download`'s target
/// options): the interpreter's tags with the given platforms (each expanded as pip expands
/// it: older macOS versions, the manylinux2010/manylinux1 aliases a manylinux2014 platform
/// takes), implementation (`cp`, `pp`, `py`, …) and ABIs, each when given.
pub fn custom_tags(
    facts: &TagFacts,
    implementation: &str,
    version: (u32, u32),
    platform_system: &str,
    custom: (&[String], Option<&str>, &[String]),
) -> Vec<Tag> {
    let (platforms, short, abis) = custom;
    let platforms = if platforms.is_empty() {
        platform_tags(facts, platform_system, version)
    } else {
        platforms
            .iter()
            .flat_map(|p| expand_platform(facts, p, version))
            .collect()
    };
    let short = short.unwrap_or_else(|| short_name(implementation));
    let abis = (!abis.is_empty()).then_some(abis);
    tags_for(facts, short, version, &platforms, abis)
}

/// pip's `_get_custom_platforms`.
fn expand_platform(facts: &TagFacts, platform: &str, version: (u32, u32)) -> Vec<String> {
    let (prefix, suffix) = platform.split_once('_').unwrap_or((platform, ""));
    if platform.starts_with("macosx") {
        // `macosx_10_9_x86_64`: that version and every older one, as packaging lists them.
        let parts: Vec<&str> = platform.splitn(4, '_').collect();
        if let [_, major, minor, arch] = parts[..] {
            let mut mac = facts.clone();
            mac.mac_version = Some(format!("{major}.{minor}"));
            mac.mac_machine = Some(arch.to_string());
            mac.is_32bit = false;
            return mac_platforms(&mac, version >= (3, 9));
        }
        return vec![platform.to_string()];
    }
    let mut out = vec![platform.to_string()];
    match prefix {
        "manylinux2014" if matches!(suffix, "i686" | "x86_64") => {
            out.push(format!("manylinux2010_{suffix}"));
            out.push(format!("manylinux1_{suffix}"));
        }
        "manylinux2010" => out.push(format!("manylinux1_{suffix}")),
        _ => {}
    }
    out
}

fn tags_for(
    facts: &TagFacts,
    short: &str,
    (major, minor): (u32, u32),
    platforms: &[String],
    custom_abis: Option<&[String]>,
) -> Vec<Tag> {
    let mut tags = Vec::new();

    if short == "cp" {
        let interpreter = format!("cp{major}{minor}");
        let abis: Vec<String> = match custom_abis {
            // `abi3` and `none` have their own places below.
            Some(abis) => abis
                .iter()
                .filter(|a| *a != "abi3" && *a != "none")
                .cloned()
                .collect(),
            None => cpython_abis(facts, major, minor),
        };
        for abi in &abis {
            for platform in platforms {
                tags.push(Tag::new(&interpreter, abi, platform));
            }
        }
        let threaded = abis
            .first()
            .and_then(|abi| abi.strip_prefix("cp"))
            .map(|rest| {
                rest.trim_start_matches(|c: char| c.is_ascii_digit())
                    .contains('t')
            })
            .unwrap_or(false);
        // Stable ABIs: `abi3` for regular builds, `abi3t` (PEP 803) for free-threaded ones,
        // this minor version first and the older ones after the `none` tags.
        let stable = match ((major, minor) >= (3, 2), threaded) {
            (false, _) => None,
            (true, false) => Some("abi3"),
            (true, true) => Some("abi3t"),
        };
        if let Some(stable) = stable {
            for platform in platforms {
                tags.push(Tag::new(&interpreter, stable, platform));
            }
        }
        for platform in platforms {
            tags.push(Tag::new(&interpreter, "none", platform));
        }
        if let Some(stable) = stable {
            for older in (2..minor).rev() {
                for platform in platforms {
                    tags.push(Tag::new(format!("cp{major}{older}"), stable, platform));
                }
            }
        }
    } else {
        let interpreter = format!("{short}{}", interpreter_version(facts, major, minor));
        let mut abis = match custom_abis {
            Some(abis) => abis.to_vec(),
            None => generic_abis(facts, major, minor),
        };
        if !abis.iter().any(|a| a == "none") {
            abis.push("none".to_string());
        }
        for abi in &abis {
            for platform in platforms {
                tags.push(Tag::new(&interpreter, abi, platform));
            }
        }
    }

    // Pure-Python tags: pyXY, pyX, then older minors, on each platform; then `any`.
    let py_range = py_interpreter_range(major, minor);
    for python in &py_range {
        for platform in platforms {
            tags.push(Tag::new(python, "none", platform));
        }
    }
    // `cpXY-none-any` arrived in packaging 22, which needs Python 3.7: older interpreters
    // (and the pip releases that still run on them) never accept it, so neither do we.
    let compat_interpreter = match short {
        "cp" if (major, minor) >= (3, 7) => {
            Some(format!("cp{}", interpreter_version(facts, major, minor)))
        }
        "pp" => Some("pp3".to_string()),
        _ => None,
    };
    if let Some(interpreter) = compat_interpreter {
        tags.push(Tag::new(interpreter, "none", "any"));
    }
    for python in &py_range {
        tags.push(Tag::new(python, "none", "any"));
    }
    tags
}

/// `packaging.tags.interpreter_name()`.
fn short_name(implementation: &str) -> &str {
    match implementation {
        "python" => "py",
        "cpython" => "cp",
        "pypy" => "pp",
        "ironpython" => "ip",
        "jython" => "jy",
        other => other,
    }
}

/// `packaging.tags.interpreter_version()`: `py_version_nodot`, else major and minor joined.
fn interpreter_version(facts: &TagFacts, major: u32, minor: u32) -> String {
    match &facts.py_version_nodot {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => format!("{major}{minor}"),
    }
}

/// A sysconfig variable as Python's truthiness would read it; `None` when it is unset.
fn truthy(value: Option<&serde_json::Value>) -> Option<bool> {
    match value? {
        serde_json::Value::Null => None,
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::Number(n) => Some(n.as_f64() != Some(0.0)),
        serde_json::Value::String(s) => Some(!s.is_empty()),
        _ => Some(true),
    }
}

/// CPython's ABI tags, e.g. `["cp312"]`, `["cp37m"]`, `["cp27mu"]`, `["cp313td", "cp313t"]`.
fn cpython_abis(facts: &TagFacts, major: u32, minor: u32) -> Vec<String> {
    let version = format!("{major}{minor}");
    let with_debug = truthy(facts.py_debug.as_ref());
    let has_debug_ext = facts.extension_suffixes.iter().any(|s| s == "_d.pyd");
    let debug = match with_debug {
        Some(d) => d,
        None => facts.has_total_refcount || has_debug_ext,
    };
    let debug = if debug { "d" } else { "" };
    let threading =
        if (major, minor) >= (3, 13) && truthy(facts.gil_disabled.as_ref()) == Some(true) {
            "t"
        } else {
            ""
        };
    let mut pymalloc = "";
    let mut ucs4 = "";
    let mut abis = Vec::new();
    if (major, minor) < (3, 8) {
        if truthy(facts.with_pymalloc.as_ref()).unwrap_or(true) {
            pymalloc = "m";
        }
        if (major, minor) < (3, 3) {
            let wide = match facts
                .unicode_size
                .as_ref()
                .and_then(serde_json::Value::as_u64)
            {
                Some(size) => size == 4,
                None => facts.max_unicode == 0x10FFFF,
            };
            if wide {
                ucs4 = "u";
            }
        }
    } else if !debug.is_empty() {
        abis.push(format!("cp{version}{threading}"));
    }
    abis.insert(0, format!("cp{version}{threading}{debug}{pymalloc}{ucs4}"));
    abis
}

/// `packaging.tags._generic_abi()`: the ABI from the extension-module suffix.
fn generic_abis(facts: &TagFacts, major: u32, minor: u32) -> Vec<String> {
    let Some(suffix) = facts.ext_suffix.as_deref().filter(|s| s.starts_with('.')) else {
        return Vec::new();
    };
    let parts: Vec<&str> = suffix.split('.').collect();
    if parts.len() < 3 {
        return cpython_abis(facts, major, minor);
    }
    let soabi = parts[1];
    let abi = if soabi.starts_with("cpython") {
        format!("cp{}", soabi.split('-').nth(1).unwrap_or_default())
    } else if soabi.starts_with("cp") {
        soabi.split('-').next().unwrap_or_default().to_string()
    } else if soabi.starts_with("pypy") {
        soabi.split('-').take(2).collect::<Vec<_>>().join("-")
    } else if soabi.starts_with("graalpy") {
        soabi.split('-').take(3).collect::<Vec<_>>().join("-")
    } else if !soabi.is_empty() {
        soabi.to_string()
    } else {
        return Vec::new();
    };
    vec![normalize(&abi)]
}

fn py_interpreter_range(major: u32, minor: u32) -> Vec<String> {
    let mut range = vec![format!("py{major}{minor}"), format!("py{major}")];
    range.extend((0..minor).rev().map(|m| format!("py{major}{m}")));
    range
}

/// `packaging.tags._normalize_string()`.
fn normalize(s: &str) -> String {
    s.replace(['.', '-', ' '], "_")
}

/// Platform tags, best first.
fn platform_tags(facts: &TagFacts, system: &str, python: (u32, u32)) -> Vec<String> {
    match system {
        "Darwin" => mac_platforms(facts, python >= (3, 9)),
        "Linux" => linux_platforms(facts, python >= (3, 9)),
        _ => vec![normalize(&facts.platform)],
    }
}

/// Linux platform tags. `local_first` puts `linux_<arch>` (wheels built on this machine)
/// ahead of manylinux and musllinux, as packaging 26.3 and later do; those releases need
/// Python 3.9, so older interpreters keep the previous order, last, like the pip that runs on
/// them.
fn linux_platforms(facts: &TagFacts, local_first: bool) -> Vec<String> {
    let mut linux = normalize(&facts.platform);
    if !linux.starts_with("linux_") {
        return vec![linux];
    }
    if facts.is_32bit {
        if linux == "linux_x86_64" {
            linux = "linux_i686".to_string();
        } else if linux == "linux_aarch64" {
            linux = "linux_armv8l".to_string();
        }
    }
    let arch = &linux["linux_".len()..];
    let archs: Vec<&str> = if arch == "armv8l" {
        vec!["armv8l", "armv7l"]
    } else {
        vec![arch]
    };
    let mut tags = Vec::new();
    if local_first {
        tags.extend(archs.iter().map(|arch| format!("linux_{arch}")));
    }
    tags.extend(manylinux_tags(facts, &archs));
    if let Some((major, minor)) = facts.musl_version.as_deref().and_then(parse_two) {
        for arch in &archs {
            for m in (0..=minor).rev() {
                tags.push(format!("musllinux_{major}_{m}_{arch}"));
            }
        }
    }
    if !local_first {
        tags.extend(archs.iter().map(|arch| format!("linux_{arch}")));
    }
    tags
}

/// PEP 600 manylinux tags for every glibc from the running one down to the oldest the
/// architecture ever shipped with, with the PEP 513/571/599 aliases at 2.5, 2.12 and 2.17.
fn manylinux_tags(facts: &TagFacts, archs: &[&str]) -> Vec<String> {
    const MANYLINUX_ARCHS: [&str; 9] = [
        "x86_64",
        "aarch64",
        "ppc64",
        "ppc64le",
        "s390x",
        "loongarch64",
        "riscv64",
        "i686",
        "armv7l",
    ];
    let mut tags = Vec::new();
    let Some((glibc_major, glibc_minor)) = facts.glibc_version.as_deref().and_then(parse_two)
    else {
        return tags;
    };
    if !archs.iter().any(|a| MANYLINUX_ARCHS.contains(a)) {
        return tags;
    }
    let too_old: (u32, i64) = if archs.iter().any(|a| *a == "x86_64" || *a == "i686") {
        (2, 4)
    } else {
        (2, 16)
    };
    // glibc 2 is the only major version so far; were there a 3, its 2.x list would follow.
    let mut maxima = vec![(glibc_major, glibc_minor)];
    for major in (2..glibc_major).rev() {
        maxima.push((major, 50));
    }
    for arch in archs {
        for &(major, max_minor) in &maxima {
            let min_minor = if major == too_old.0 { too_old.1 } else { -1 };
            let mut minor = i64::from(max_minor);
            while minor > min_minor {
                tags.push(format!("manylinux_{major}_{minor}_{arch}"));
                let legacy = match (major, minor) {
                    (2, 17) => Some("manylinux2014"),
                    (2, 12) => Some("manylinux2010"),
                    (2, 5) => Some("manylinux1"),
                    _ => None,
                };
                if let Some(legacy) = legacy {
                    tags.push(format!("{legacy}_{arch}"));
                }
                minor -= 1;
            }
        }
    }
    tags
}

/// macOS platform tags. `fat3` is the three-way universal build (i386, ppc, x86_64); packaging
/// called it `fat32` until 26.3, which needs Python 3.9, so older interpreters keep that name.
fn mac_platforms(facts: &TagFacts, fat3: bool) -> Vec<String> {
    let Some((major, minor)) = facts.mac_version.as_deref().and_then(parse_two) else {
        return vec![normalize(&facts.platform)];
    };
    let machine = facts.mac_machine.clone().unwrap_or_default();
    let arch = if facts.is_32bit {
        if machine.starts_with("ppc") {
            "ppc".to_string()
        } else {
            "i386".to_string()
        }
    } else {
        machine
    };
    let mut tags = Vec::new();
    if (10..11).contains(&major) {
        for m in (0..=minor).rev() {
            for format in mac_binary_formats((10, m), &arch, fat3) {
                tags.push(format!("macosx_10_{m}_{format}"));
            }
        }
    }
    if major >= 11 {
        for big in (11..=major).rev() {
            for format in mac_binary_formats((big, 0), &arch, fat3) {
                tags.push(format!("macosx_{big}_0_{format}"));
            }
        }
        for m in (4..=16).rev() {
            if arch == "x86_64" {
                for format in mac_binary_formats((10, m), &arch, fat3) {
                    tags.push(format!("macosx_10_{m}_{format}"));
                }
            } else {
                tags.push(format!("macosx_10_{m}_universal2"));
            }
        }
    }
    tags
}

fn mac_binary_formats(version: (u32, u32), arch: &str, fat3: bool) -> Vec<String> {
    let mut formats = vec![arch.to_string()];
    let three = if fat3 { "fat3" } else { "fat32" };
    let extra: Vec<&str> = match arch {
        "x86_64" if version < (10, 4) => return Vec::new(),
        "x86_64" => vec!["intel", "fat64", three],
        "i386" if version < (10, 4) => return Vec::new(),
        "i386" => vec!["intel", three, "fat"],
        "ppc64" if !((10, 4)..=(10, 5)).contains(&version) => return Vec::new(),
        "ppc64" => vec!["fat64"],
        "ppc" if version > (10, 6) => return Vec::new(),
        "ppc" => vec![three, "fat"],
        _ => Vec::new(),
    };
    formats.extend(extra.iter().map(|s| s.to_string()));
    if arch == "arm64" || arch == "x86_64" {
        formats.push("universal2".to_string());
    }
    if ["x86_64", "i386", "ppc64", "ppc", "intel"].contains(&arch) {
        formats.push("universal".to_string());
    }
    formats
}

/// Parses the first two dot-separated numbers of a version such as `2.36` or `14.2.1`.
fn parse_two(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.split('.');
    let major = parts.next()?.trim().parse().ok()?;
    let minor = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags_know_their_priority_and_expand_compressed_sets() {
        let tags: super::Tags = [
            Tag::new("cp311", "cp311", "manylinux_2_17_x86_64"),
            Tag::new("cp311", "abi3", "manylinux_2_17_x86_64"),
            Tag::new("py3", "none", "any"),
            Tag::new("py3", "none", "any"),
        ]
        .into_iter()
        .collect();
        assert_eq!(tags.len(), 4);
        assert_eq!(
            tags.priority("cp311", "abi3", "manylinux_2_17_x86_64"),
            Some(1)
        );
        assert_eq!(tags.priority("py3", "none", "any"), Some(2));
        assert_eq!(
            tags.priority("cp310", "abi3", "manylinux_2_17_x86_64"),
            None
        );
        assert_eq!(tags.best([("py2.py3", "none", "any")]), Some(2));
        assert_eq!(
            tags.best([
                ("py3", "none", "any"),
                (
                    "cp311",
                    "cp311",
                    "manylinux_2_5_x86_64.manylinux_2_17_x86_64"
                )
            ]),
            Some(0)
        );
        assert_eq!(tags.best([("cp312", "cp312", "any")]), None);
    }

    use super::*;

    fn facts() -> TagFacts {
        TagFacts {
            py_version_nodot: Some("312".into()),
            py_debug: Some(0.into()),
            has_total_refcount: false,
            extension_suffixes: vec![".cpython-312-x86_64-linux-gnu.so".into()],
            gil_disabled: Some(0.into()),
            with_pymalloc: Some(1.into()),
            unicode_size: None,
            max_unicode: 0x10FFFF,
            ext_suffix: Some(".cpython-312-x86_64-linux-gnu.so".into()),
            platform: "linux-x86_64".into(),
            is_32bit: false,
            glibc_version: Some("2.17".into()),
            musl_version: None,
            mac_version: None,
            mac_machine: None,
        }
    }

    #[test]
    fn manylinux_aliases_sit_beside_their_pep600_names() {
        let tags = linux_platforms(&facts(), false);
        assert_eq!(tags[0], "manylinux_2_17_x86_64");
        assert_eq!(tags[1], "manylinux2014_x86_64");
        let i = tags
            .iter()
            .position(|t| t == "manylinux_2_12_x86_64")
            .unwrap();
        assert_eq!(tags[i + 1], "manylinux2010_x86_64");
        let n = tags.len();
        assert_eq!(
            &tags[n - 3..],
            ["manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64"]
        );
    }

    #[test]
    fn musllinux_comes_after_manylinux_and_before_linux() {
        let mut f = facts();
        f.glibc_version = None;
        f.musl_version = Some("1.2.4".into());
        assert_eq!(
            linux_platforms(&f, false),
            [
                "musllinux_1_2_x86_64",
                "musllinux_1_1_x86_64",
                "musllinux_1_0_x86_64",
                "linux_x86_64"
            ]
        );
    }

    #[test]
    fn local_linux_tag_first_from_python_3_9() {
        let tags = linux_platforms(&facts(), true);
        assert_eq!(tags[0], "linux_x86_64");
        assert_eq!(tags[1], "manylinux_2_17_x86_64");
        assert_eq!(tags.last().unwrap(), "manylinux1_x86_64");
    }

    #[test]
    fn cpython_abi_flags() {
        let mut f = facts();
        assert_eq!(cpython_abis(&f, 3, 12), ["cp312"]);
        assert_eq!(cpython_abis(&f, 3, 7), ["cp37m"]);
        f.unicode_size = Some(4.into());
        assert_eq!(cpython_abis(&f, 2, 7), ["cp27mu"]);
        f.py_debug = Some(1.into());
        f.gil_disabled = Some(1.into());
        assert_eq!(cpython_abis(&f, 3, 13), ["cp313td", "cp313t"]);
    }

    #[test]
    fn macos_arm64_on_14() {
        let mut f = facts();
        f.mac_version = Some("14.2.1".into());
        f.mac_machine = Some("arm64".into());
        let tags = mac_platforms(&f, true);
        assert_eq!(
            &tags[..4],
            [
                "macosx_14_0_arm64",
                "macosx_14_0_universal2",
                "macosx_13_0_arm64",
                "macosx_13_0_universal2"
            ]
        );
        assert_eq!(tags.last().unwrap(), "macosx_10_4_universal2");
    }

    #[test]
    fn windows_uses_the_sysconfig_platform() {
        let mut f = facts();
        f.platform = "win-amd64".into();
        assert_eq!(platform_tags(&f, "Windows", (3, 12)), ["win_amd64"]);
    }
}
