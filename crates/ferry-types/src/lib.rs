//! The seams between ferry's stages: small types and traits that let one stage call another
//! without a dependency cycle between their crates.
//!
//! Takes nothing and gives the values every stage passes around ([`PackageName`],
//! [`HashDigest`], [`DistVersion`]), [`metadata`], the one reader of core metadata files, and
//! [`BuildContext`], the build seam. The resolver needs the build
//! frontend for the metadata of source distributions whose metadata is not static, and the
//! installer needs it for wheels that only exist as source; the frontend in turn needs the
//! resolver and the installer to make its isolated build environments. So neither side depends
//! on the other: `ferry-resolve` and `ferry-install` call a `dyn BuildContext`, and whoever
//! wires the stages together (the `ferry` binary) hands them an implementation:
//! `ferry_build::SourceBuilder`. [`NoBuild`] refuses with a clear message, for callers that
//! have no frontend.

pub mod interrupt;
pub mod limits;
pub mod metadata;
mod names;
pub mod vcs;
mod version;

pub use names::{normalize, HashAlgorithm, HashDigest, PackageName};
pub use pep440_rs::Version;
pub use version::DistVersion;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Something to build or to read metadata from: a source distribution (from an index,
/// find-links, a local path or a URL) or a local project directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDist {
    /// The project's name; for a requirement given only by its location, a stand-in taken
    /// from the location until its metadata names it.
    pub name: PackageName,
    /// Known for listed sdists; `None` for a location whose metadata is not read yet.
    pub version: Option<Version>,
    /// The file name, or the directory's path.
    pub filename: String,
    /// Where it is (`file://` for local archives and directories).
    pub url: url::Url,
    /// The sha256 the index listed or the URL's `#sha256=` fragment gave, if any.
    pub sha256: Option<String>,
    /// The index or find-links location that listed it.
    pub listed_by: String,
    /// Built as an editable wheel (PEP 660); only for directories.
    pub editable: bool,
}

impl SourceDist {
    /// The local project directory it is, if it is one (with the URL's `#subdirectory=`).
    pub fn directory(&self) -> Option<PathBuf> {
        let path = self.url.to_file_path().ok()?;
        let path = match self.subdirectory() {
            Some(sub) => path.join(sub),
            None => path,
        };
        path.is_dir().then_some(path)
    }

    /// Where in the directory or archive the project is: the URL's `#subdirectory=`.
    pub fn subdirectory(&self) -> Option<String> {
        subdirectory_of(&self.url)
    }
}

/// Seconds since the Unix epoch of an RFC 3339 / ISO 8601 date or date-time, as indexes give
/// PEP 700 `upload-time` and users give `--uploaded-prior-to`: `YYYY-MM-DD` (midnight UTC),
/// or `YYYY-MM-DDTHH:MM[:SS[.fraction]]` (a space for `T` too) with `Z`, `±HH:MM` or nothing
/// (UTC). `None` for anything else.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (date, time) = match text.split_once(['T', 't', ' ']) {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let (year, month, day) = (
        num(parts.next()?)?,
        num(parts.next()?)?,
        num(parts.next()?)?,
    );
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut seconds = days * 86_400;
    if let Some(time) = time {
        let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
            (clock, 0)
        } else if let Some(at) = time.rfind(['+', '-']).filter(|at| *at >= 5) {
            let (clock, zone) = time.split_at(at);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
            (clock, sign * (num(h)? * 3600 + num(m)? * 60))
        } else {
            (time, 0)
        };
        let clock = clock.split('.').next()?;
        let mut fields = clock.split(':');
        let hours = num(fields.next()?)?;
        let minutes = num(fields.next()?)?;
        let secs = fields.next().map_or(Some(0), num)?;
        if fields.next().is_some() || hours > 23 || minutes > 59 || secs > 60 {
            return None;
        }
        seconds += hours * 3600 + minutes * 60 + secs - offset;
    }
    Some(seconds)
}

/// `text` with its `%XX` escapes decoded (invalid UTF-8 replaced), as URL paths and user
/// names need.
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The `subdirectory=` part of a URL's fragment (pip's `#subdirectory=`), if it has one.
pub fn subdirectory_of(url: &url::Url) -> Option<String> {
    url.fragment()?
        .split('&')
        .find_map(|part| part.strip_prefix("subdirectory="))
        .filter(|sub| !sub.is_empty())
        .map(str::to_string)
}

impl fmt::Display for SourceDist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(version) => write!(f, "{} {version} ({})", self.name, self.filename),
            None => f.write_str(&self.filename),
        }
    }
}

/// Why a build did not give what was asked for.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{sdist} needs a build ({reason}), and building from source is not supported yet. Pick a version with a wheel, or a different interpreter")]
    Unsupported { sdist: String, reason: String },
    #[error("building {sdist} failed: {message}")]
    Failed { sdist: String, message: String },
    /// The frontend's own error, which names what it was building.
    #[error(transparent)]
    Frontend(Box<dyn std::error::Error + Send + Sync>),
}

/// A wheel the build seam made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltWheel {
    pub path: PathBuf,
    /// Whether it came from the build cache rather than a backend run.
    pub cached: bool,
    /// The sha256 of the sdist it was built from, when known: listed by the index, given by
    /// the user, or taken while downloading it (for `direct_url.json`).
    pub source_sha256: Option<String>,
}

/// What the build frontend offers the other stages. Calls block: callers on an async runtime
/// run them on a blocking thread.
pub trait BuildContext: Send + Sync {
    /// The core metadata (`METADATA` text) of `sdist`, whose own `PKG-INFO` cannot be trusted
    /// or which has none (`reason` says why), from the backend's
    /// `prepare_metadata_for_build_wheel` (or `_editable`) or a build.
    fn sdist_metadata(&self, sdist: &SourceDist, reason: &str) -> Result<String, BuildError>;

    /// Builds a wheel (an editable one for an editable directory) from `sdist`, into the
    /// build cache or `out_dir`, and returns it.
    fn build_wheel(&self, sdist: &SourceDist, out_dir: &Path) -> Result<BuiltWheel, BuildError>;

    /// The archive of `sdist` on disk: downloaded once per run and checked against its sha256
    /// when one is known, so that reading its PKG-INFO and building it take one download.
    /// `None` where there is no build frontend to keep it (the caller downloads it itself).
    fn sdist_archive(&self, _sdist: &SourceDist) -> Result<Option<PathBuf>, BuildError> {
        Ok(None)
    }

    /// Checks out `url` (resolving its revision to a commit): into the VCS cache, or where
    /// `request.into` says.
    fn vcs_checkout(
        &self,
        url: &vcs::VcsUrl,
        _request: &vcs::VcsRequest,
    ) -> Result<vcs::VcsCheckout, BuildError> {
        Err(BuildError::Unsupported {
            sdist: url.to_string(),
            reason: "it is a version-control checkout".into(),
        })
    }
}

/// The build context while there is no build frontend: every request is refused, naming the
/// distribution and the reason a build was needed.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoBuild;

impl BuildContext for NoBuild {
    fn sdist_metadata(&self, sdist: &SourceDist, reason: &str) -> Result<String, BuildError> {
        Err(BuildError::Unsupported {
            sdist: sdist.to_string(),
            reason: reason.to_string(),
        })
    }

    fn build_wheel(&self, sdist: &SourceDist, _out_dir: &Path) -> Result<BuiltWheel, BuildError> {
        Err(BuildError::Unsupported {
            sdist: sdist.to_string(),
            reason: "it has no wheel for this interpreter".into(),
        })
    }
}

/// A shared build context that options structs can hold (cloneable, printable, defaulting to
/// [`NoBuild`]).
#[derive(Clone)]
pub struct Builder(pub Arc<dyn BuildContext>);

impl Default for Builder {
    fn default() -> Self {
        Self(Arc::new(NoBuild))
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Builder(..)")
    }
}

impl std::ops::Deref for Builder {
    type Target = dyn BuildContext;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_as_rfc_3339_dates() {
        assert_eq!(parse_timestamp("1970-01-01"), Some(0));
        assert_eq!(parse_timestamp("2026-11-30"), Some(1_795_996_800));
        assert_eq!(parse_timestamp("2026-11-30T00:00:00Z"), Some(1_795_996_800));
        assert_eq!(
            parse_timestamp("2026-11-30T01:30:00.123456+01:30"),
            Some(1_795_996_800)
        );
        assert_eq!(
            parse_timestamp("2026-11-29 23:00:00-01:00"),
            Some(1_795_996_800)
        );
        assert_eq!(parse_timestamp("2000-02-29T12:00"), Some(951_825_600));
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-11-30T25:00Z",
            "2026-11",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn no_build_refuses_naming_the_distribution_and_the_reason() {
        let sdist = SourceDist {
            name: PackageName::new("lib"),
            version: Some("1.0".parse().unwrap()),
            filename: "lib-1.0.tar.gz".into(),
            url: url::Url::parse("file:///dist/lib-1.0.tar.gz").unwrap(),
            sha256: None,
            listed_by: "/dist".into(),
            editable: false,
        };
        let err = Builder::default()
            .sdist_metadata(&sdist, "Requires-Dist is dynamic")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("lib 1.0 (lib-1.0.tar.gz)") && err.contains("Requires-Dist is dynamic"),
            "{err}"
        );
        let err = NoBuild
            .build_wheel(&sdist, Path::new("/tmp"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no wheel for this interpreter"), "{err}");
    }
}

/// Parses a PEP 508 requirement. Use this, never `Requirement::from_str` directly: pep508_rs
/// 0.9 panics (it does not return an error) on a name that ends in `.`, `-` or `_` before
/// what follows it (`requ. >=1`). Found by the `pep508` fuzz target. A panic aborts ferry's
/// release build, so a package's metadata could stop any install that reads it. Such names
/// are refused here first, as PEP 508's grammar refuses them.
pub fn parse_requirement<T: pep508_rs::Pep508Url>(
    text: &str,
) -> Result<pep508_rs::Requirement<T>, String> {
    use std::str::FromStr;
    let identifier_ok = |s: &str| !s.ends_with(['.', '-', '_']) && !s.starts_with(['.', '-', '_']);
    let trimmed = text.trim_start();
    let name_end = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .unwrap_or(trimmed.len());
    if !identifier_ok(&trimmed[..name_end]) {
        return Err(format!(
            "`{}` is not a valid project name: it must start and end with a letter or digit",
            &trimmed[..name_end]
        ));
    }
    // Extras, the same way (pep508_rs panics on `pkg[extra-]` too).
    let rest = trimmed[name_end..].trim_start();
    if let Some(inside) = rest.strip_prefix('[') {
        let inside = inside.split(']').next().unwrap_or(inside);
        for segment in inside.split(',') {
            // As pep508_rs reads an extra: the run of name characters after any blanks.
            let segment = segment.trim_start();
            let end = segment
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
                .unwrap_or(segment.len());
            let extra = &segment[..end];
            if !extra.is_empty() && !identifier_ok(extra) {
                return Err(format!(
                    "`{extra}` is not a valid extra name: it must start and end with a letter or digit"
                ));
            }
        }
    }
    // pep508_rs mixes byte and character positions on non-ASCII input (and panics); outside
    // URLs and quoted marker values, PEP 508 is ASCII anyway, and in a URL the characters are
    // the same once percent-encoded. So anything non-ASCII is percent-encoded first.
    let text: std::borrow::Cow<'_, str> = if text.is_ascii() {
        text.into()
    } else {
        let mut out = String::with_capacity(text.len() * 3);
        for c in text.chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut buffer = [0u8; 4];
                for byte in c.encode_utf8(&mut buffer).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        out.into()
    };
    pep508_rs::Requirement::<T>::from_str(&text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod requirement_tests {
    #[test]
    fn names_ending_in_punctuation_are_errors_not_panics() {
        for text in [
            "requ. a8.1,==2.8.*",
            "pkg- >=1",
            "pkg_",
            "a.b. ; python_version < '3'",
        ] {
            let parsed = super::parse_requirement::<pep508_rs::VerbatimUrl>(text);
            assert!(parsed.is_err(), "{text}");
        }
        assert!(super::parse_requirement::<pep508_rs::VerbatimUrl>("a.b-c_d[x-y]>=1").is_ok());
        // Non-ASCII in a URL is percent-encoded, not a panic.
        let url = super::parse_requirement::<pep508_rs::VerbatimUrl>(
            "pkg @ https://host.invalid/pkg-\u{fffd}1.0.tar.gz ; os_name == \"posix\"",
        );
        assert!(url.is_ok(), "{url:?}");
    }
}
