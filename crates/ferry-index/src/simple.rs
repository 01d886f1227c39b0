//! The simple repository API: PEP 503 HTML and PEP 691 JSON project pages.
//!
//! The HTML "parser" is a scanner for the few tags simple pages use (`<a>`, `<base>`,
//! `<meta>`), which is all PEP 503 asks for and far faster than building a DOM: a page with
//! thousands of files parses in a few milliseconds. Entities in attribute values are decoded.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use url::Url;

/// File hashes, hex-encoded and lowercased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hashes {
    pub sha256: Option<String>,
    /// Other algorithms (`md5`, `sha512`, ...), kept for `--require-hashes` checks.
    pub other: Vec<(String, String)>,
}

impl Hashes {
    fn add(&mut self, algorithm: &str, value: &str) {
        let algorithm = algorithm.trim().to_ascii_lowercase();
        let value = value.trim().to_ascii_lowercase();
        if value.is_empty() {
            return;
        }
        if algorithm == "sha256" {
            self.sha256 = Some(value);
        } else {
            self.other.push((algorithm, value));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sha256.is_none() && self.other.is_empty()
    }
}

/// Whether the index serves the file's core metadata separately (PEP 658/714).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreMetadata {
    Unavailable,
    /// Served at `<file url>.metadata`, with these hashes (possibly none).
    Available(Hashes),
}

/// One distribution file listed by an index or a find-links source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFile {
    pub filename: String,
    /// Absolute URL without the hash fragment.
    pub url: Url,
    pub hashes: Hashes,
    pub requires_python: Option<String>,
    /// PEP 592: `Some("")` when yanked without a reason.
    pub yanked: Option<String>,
    pub core_metadata: CoreMetadata,
    pub size: Option<u64>,
    pub upload_time: Option<String>,
    /// PEP 740: where the index serves the file's provenance object.
    pub provenance: Option<Url>,
}

/// A parsed project page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectPage {
    pub files: Vec<DistFile>,
    /// PEP 629 `api-version`, if the page states it.
    pub api_version: Option<String>,
    /// PEP 700 `versions` (JSON only).
    pub versions: Vec<String>,
}

// ---------------------------------------------------------------------------------------
// HTML

/// Parses a PEP 503 page. Links are resolved against `base` (the page's final URL) or the
/// page's own `<base href>`; links that do not resolve are skipped.
pub fn parse_html(body: &[u8], base: &Url) -> ProjectPage {
    let text = String::from_utf8_lossy(body);
    let bytes = text.as_bytes();
    let mut page = ProjectPage::default();
    let mut base = Cow::Borrowed(base);
    let mut pos = 0;
    while let Some(offset) = memchr::memchr(b'<', &bytes[pos..]) {
        let start = pos + offset + 1;
        if bytes[start..].starts_with(b"!--") {
            pos = match memchr::memmem::find(&bytes[start..], b"-->") {
                Some(end) => start + end + 3,
                None => break,
            };
            continue;
        }
        let name_end = bytes[start..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .map_or(bytes.len(), |p| start + p);
        let name = &text[start..name_end];
        let (attrs, end) = parse_attributes(&text, name_end);
        pos = end;
        if name.eq_ignore_ascii_case("a") {
            if let Some(file) = link_to_file(&attrs, &base) {
                page.files.push(file);
            }
        } else if name.eq_ignore_ascii_case("base") {
            if let Some(href) = attr(&attrs, "href") {
                if let Ok(url) = base.join(&href) {
                    base = Cow::Owned(url);
                }
            }
        } else if name.eq_ignore_ascii_case("meta")
            && attr(&attrs, "name").is_some_and(|n| n == "pypi:repository-version")
        {
            page.api_version = attr(&attrs, "content").map(Cow::into_owned);
        }
    }
    page
}

type Attrs<'a> = Vec<(&'a str, Cow<'a, str>)>;

fn attr<'a>(attrs: &'a Attrs<'a>, name: &str) -> Option<Cow<'a, str>> {
    attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// Parses `name="value"` pairs from `pos` to the closing `>`; returns them and the position
/// after the tag.
fn parse_attributes(text: &str, mut pos: usize) -> (Attrs<'_>, usize) {
    let bytes = text.as_bytes();
    let mut attrs = Vec::new();
    loop {
        while pos < bytes.len() && (bytes[pos].is_ascii_whitespace() || bytes[pos] == b'/') {
            pos += 1;
        }
        if pos >= bytes.len() {
            return (attrs, pos);
        }
        if bytes[pos] == b'>' {
            return (attrs, pos + 1);
        }
        let name_start = pos;
        while pos < bytes.len()
            && !matches!(bytes[pos], b'=' | b'>' | b'/')
            && !bytes[pos].is_ascii_whitespace()
        {
            pos += 1;
        }
        let name = &text[name_start..pos];
        while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if pos < bytes.len() && bytes[pos] == b'=' {
            pos += 1;
            while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
                pos += 1;
            }
            let value = if pos < bytes.len() && (bytes[pos] == b'"' || bytes[pos] == b'\'') {
                let quote = bytes[pos];
                let value_start = pos + 1;
                let end = memchr::memchr(quote, &bytes[value_start..])
                    .map_or(bytes.len(), |e| value_start + e);
                pos = (end + 1).min(bytes.len());
                &text[value_start..end]
            } else {
                let value_start = pos;
                while pos < bytes.len() && !bytes[pos].is_ascii_whitespace() && bytes[pos] != b'>' {
                    pos += 1;
                }
                &text[value_start..pos]
            };
            attrs.push((name, decode_entities(value)));
        } else if !name.is_empty() {
            attrs.push((name, Cow::Borrowed("")));
        } else {
            pos += 1;
        }
    }
}

fn decode_entities(value: &str) -> Cow<'_, str> {
    if !value.contains('&') {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // `;` is ASCII, so the byte it is at is a character boundary (slicing the first 12
        // bytes as a string could cut a character: found by the `simple_api` fuzz target).
        let Some(semi) = rest.as_bytes()[..rest.len().min(12)]
            .iter()
            .position(|b| *b == b';')
        else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn link_to_file(attrs: &Attrs<'_>, base: &Url) -> Option<DistFile> {
    let href = attr(attrs, "href")?;
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    let mut url = match base.join(href) {
        Ok(url) => url,
        Err(err) => {
            tracing::debug!("skipping link {href:?}: {err}");
            return None;
        }
    };
    let mut hashes = Hashes::default();
    if let Some(fragment) = url.fragment() {
        for part in fragment.split('&') {
            if let Some((algorithm, value)) = part.split_once('=') {
                hashes.add(algorithm, value);
            }
        }
    }
    url.set_fragment(None);
    let filename = filename_of(&url)?;
    let core_metadata = attr(attrs, "data-core-metadata")
        .or_else(|| attr(attrs, "data-dist-info-metadata"))
        .map_or(CoreMetadata::Unavailable, |value| metadata_attr(&value));
    Some(DistFile {
        filename,
        url,
        hashes,
        requires_python: attr(attrs, "data-requires-python")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()),
        yanked: attr(attrs, "data-yanked").map(Cow::into_owned),
        core_metadata,
        size: None,
        upload_time: None,
        provenance: attr(attrs, "data-provenance").and_then(|p| base.join(p.trim()).ok()),
    })
}

fn metadata_attr(value: &str) -> CoreMetadata {
    let value = value.trim();
    if value.eq_ignore_ascii_case("false") {
        return CoreMetadata::Unavailable;
    }
    let mut hashes = Hashes::default();
    if let Some((algorithm, digest)) = value.split_once('=') {
        hashes.add(algorithm, digest);
    }
    CoreMetadata::Available(hashes)
}

/// The last path segment, percent-decoded.
pub fn filename_of(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.next_back()?;
    if segment.is_empty() {
        return None;
    }
    Some(
        percent_encoding::percent_decode_str(segment)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

// ---------------------------------------------------------------------------------------
// JSON

#[derive(Deserialize)]
struct JsonPage<'a> {
    #[serde(default)]
    meta: JsonMeta,
    #[serde(borrow, default)]
    files: Vec<JsonFile<'a>>,
    #[serde(default)]
    versions: Vec<String>,
}

#[derive(Deserialize, Default)]
struct JsonMeta {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

#[derive(Deserialize)]
struct JsonFile<'a> {
    #[serde(borrow)]
    filename: Cow<'a, str>,
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    #[serde(rename = "requires-python", default)]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: Option<BoolOrString>,
    #[serde(rename = "core-metadata", default)]
    core_metadata: Option<BoolOrHashes>,
    #[serde(rename = "dist-info-metadata", default)]
    dist_info_metadata: Option<BoolOrHashes>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(rename = "upload-time", default)]
    upload_time: Option<String>,
    #[serde(default)]
    provenance: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrString {
    Bool(bool),
    String(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrHashes {
    Bool(bool),
    Hashes(BTreeMap<String, String>),
}

/// Parses a PEP 691 JSON page; file URLs are resolved against `base`.
pub fn parse_json(body: &[u8], base: &Url) -> Result<ProjectPage, String> {
    let page: JsonPage<'_> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let mut files = Vec::with_capacity(page.files.len());
    for file in page.files {
        let Ok(mut url) = base.join(&file.url) else {
            tracing::debug!("skipping {}: bad URL {:?}", file.filename, file.url);
            continue;
        };
        url.set_fragment(None);
        let mut hashes = Hashes::default();
        for (algorithm, value) in &file.hashes {
            hashes.add(algorithm, value);
        }
        let yanked = match file.yanked {
            None | Some(BoolOrString::Bool(false)) => None,
            Some(BoolOrString::Bool(true)) => Some(String::new()),
            Some(BoolOrString::String(reason)) => Some(reason),
        };
        let core_metadata = match file.core_metadata.or(file.dist_info_metadata) {
            None | Some(BoolOrHashes::Bool(false)) => CoreMetadata::Unavailable,
            Some(BoolOrHashes::Bool(true)) => CoreMetadata::Available(Hashes::default()),
            Some(BoolOrHashes::Hashes(map)) => {
                let mut hashes = Hashes::default();
                for (algorithm, value) in &map {
                    hashes.add(algorithm, value);
                }
                CoreMetadata::Available(hashes)
            }
        };
        files.push(DistFile {
            filename: file.filename.into_owned(),
            url,
            hashes,
            requires_python: file.requires_python.filter(|r| !r.trim().is_empty()),
            yanked,
            core_metadata,
            size: file.size,
            upload_time: file.upload_time,
            provenance: file.provenance.and_then(|p| base.join(&p).ok()),
        });
    }
    Ok(ProjectPage {
        files,
        api_version: page.meta.api_version,
        versions: page.versions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_with_junk_entities_base_and_metadata() {
        let base = Url::parse("http://127.0.0.1:1/simple/demo/").unwrap();
        let html = br#"<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.1">
<!-- <a href="commented-1.0.tar.gz">no</a> -->
</head><body>
<a href="../../files/demo-1.0-py3-none-any.whl#sha256=ABCDEF" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256=0123">demo-1.0-py3-none-any.whl</a><br/>
<A HREF='demo-0.9.tar.gz#md5=ff' data-yanked>old</A>
<a href="">empty</a><a>no href</a><a href="http://[bad">bad</a>
<a href="demo-2.0.tar.gz" data-yanked="broken &amp; bad" data-core-metadata="true">x</a>
<base href="http://mirror.invalid/pkgs/"><a href=demo-3.0.zip>unquoted</a>
</body></html>"#;
        let page = parse_html(html, &base);
        assert_eq!(page.api_version.as_deref(), Some("1.1"));
        let names: Vec<&str> = page.files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(
            names,
            [
                "demo-1.0-py3-none-any.whl",
                "demo-0.9.tar.gz",
                "demo-2.0.tar.gz",
                "demo-3.0.zip"
            ]
        );
        let wheel = &page.files[0];
        assert_eq!(
            wheel.url.as_str(),
            "http://127.0.0.1:1/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(wheel.hashes.sha256.as_deref(), Some("abcdef"));
        assert_eq!(wheel.requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(
            wheel.core_metadata,
            CoreMetadata::Available(Hashes {
                sha256: Some("0123".into()),
                other: vec![]
            })
        );
        assert_eq!(page.files[1].yanked.as_deref(), Some(""));
        assert_eq!(
            page.files[1].hashes.other,
            [("md5".to_string(), "ff".to_string())]
        );
        assert_eq!(page.files[2].yanked.as_deref(), Some("broken & bad"));
        assert_eq!(
            page.files[2].core_metadata,
            CoreMetadata::Available(Hashes::default())
        );
        assert_eq!(
            page.files[3].url.as_str(),
            "http://mirror.invalid/pkgs/demo-3.0.zip"
        );
    }

    #[test]
    fn json_pages() {
        let base = Url::parse("http://127.0.0.1:1/simple/demo/").unwrap();
        let json = br#"{"meta":{"api-version":"1.1"},"name":"demo","versions":["1.0"],"files":[
 {"filename":"demo-1.0-py3-none-any.whl","url":"../../files/demo-1.0-py3-none-any.whl","hashes":{"sha256":"AB"},
  "requires-python":">=3.8","yanked":"bad","core-metadata":{"sha256":"cd"},"size":10,"upload-time":"2024-01-01T00:00:00Z"},
 {"filename":"demo-1.0.tar.gz","url":"https://elsewhere.invalid/demo-1.0.tar.gz","hashes":{},"yanked":false,"dist-info-metadata":true}]}"#;
        let page = parse_json(json, &base).unwrap();
        assert_eq!(page.versions, ["1.0"]);
        let w = &page.files[0];
        assert_eq!(
            w.url.as_str(),
            "http://127.0.0.1:1/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(w.hashes.sha256.as_deref(), Some("ab"));
        assert_eq!(w.yanked.as_deref(), Some("bad"));
        assert_eq!(w.size, Some(10));
        assert_eq!(page.files[1].yanked, None);
        assert_eq!(
            page.files[1].core_metadata,
            CoreMetadata::Available(Hashes::default())
        );
        assert!(parse_json(b"{not json", &base).is_err());
    }
}

#[cfg(test)]
mod provenance_tests {
    use super::*;

    #[test]
    fn pep_740_provenance_urls_are_read_from_both_formats() {
        let base = Url::parse("https://index.invalid/simple/demo/").unwrap();
        let html = br#"<a href="../../f/demo-1.0.tar.gz#sha256=ab" data-provenance="../../f/demo-1.0.tar.gz/provenance">demo-1.0.tar.gz</a>
<a href="../../f/demo-0.9.tar.gz">demo-0.9.tar.gz</a>"#;
        let page = parse_html(html, &base);
        assert_eq!(
            page.files[0].provenance.as_ref().map(Url::as_str),
            Some("https://index.invalid/f/demo-1.0.tar.gz/provenance")
        );
        assert_eq!(page.files[1].provenance, None);
        let json = br#"{"meta":{"api-version":"1.3"},"name":"demo","files":[
 {"filename":"demo-1.0.tar.gz","url":"../../f/demo-1.0.tar.gz","hashes":{"sha256":"ab"},"provenance":"https://elsewhere.invalid/p/1"},
 {"filename":"demo-0.9.tar.gz","url":"../../f/demo-0.9.tar.gz","hashes":{},"provenance":null}]}"#;
        let page = parse_json(json, &base).unwrap();
        assert_eq!(
            page.files[0].provenance.as_ref().map(Url::as_str),
            Some("https://elsewhere.invalid/p/1")
        );
        assert_eq!(page.files[1].provenance, None);
    }
}
