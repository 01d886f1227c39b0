//! A wheel's core metadata by the cheapest route: the PEP 658 `.metadata` file, else HTTP
//! range requests for the zip's central directory and the one `METADATA` member, else the
//! whole wheel.

use std::io::Read;

use url::Url;

use crate::cache::sha256_hex;
use crate::http::HttpClient;
use crate::simple::{CoreMetadata, DistFile};
use crate::url_util::redact;
use crate::IndexError;

/// How the metadata was obtained (shown at `-v`, asserted by tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataSource {
    /// The index's `.metadata` file (PEP 658/714).
    Pep658,
    /// Range requests on the wheel.
    Range,
    /// The whole wheel was downloaded.
    WholeFile,
}

/// Keeps the wheels the metadata route has to download whole (no PEP 658 file, no range
/// requests), so each is downloaded once: the installer's store implements it, unpacking the
/// wheel while it arrives and reading METADATA from the result, and the installer then finds
/// the wheel there. Without one, the wheel goes to a temporary file (kept in the cache's
/// downloads bucket for the installer). Set with [`HttpClient::keep_whole_wheels`].
pub trait WholeWheels: Send + Sync + std::fmt::Debug {
    /// Downloads `file` (listed by the index or find-links location `listed_by`), checks its
    /// hash, keeps it, and returns its METADATA.
    fn keep<'a>(
        &'a self,
        http: &'a HttpClient,
        file: &'a DistFile,
        listed_by: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<String, IndexError>>;
}

/// How much of the end of a wheel to ask for first: enough for the central directory of
/// most wheels, so that usually two small requests suffice.
const TAIL: u64 = 64 * 1024;

pub(crate) async fn wheel_metadata(
    http: &HttpClient,
    file: &DistFile,
    listed_by: &str,
) -> Result<(String, MetadataSource), IndexError> {
    if !file.filename.ends_with(".whl") {
        return Err(IndexError::Metadata {
            url: redact(&file.url),
            message: "only wheels carry ready-made metadata; this file needs a build".into(),
        });
    }
    if file.url.scheme() == "file" {
        let path = file
            .url
            .to_file_path()
            .map_err(|()| bad(&file.url, "not a local path"))?;
        // Only the central directory and METADATA are read, off the async threads.
        let url = file.url.clone();
        let metadata = tokio::task::spawn_blocking(move || {
            let wheel = fs_err::File::open(&path).map_err(|source| IndexError::Io {
                what: "the wheel",
                path: path.clone(),
                source,
            })?;
            from_whole_zip(&url, std::io::BufReader::new(wheel))
        })
        .await
        .map_err(|e| IndexError::Client(format!("reading a local wheel failed: {e}")))??;
        return Ok((metadata, MetadataSource::WholeFile));
    }
    if let CoreMetadata::Available(hashes) = &file.core_metadata {
        let mut url = file.url.clone();
        url.set_path(&format!("{}.metadata", file.url.path()));
        let fetched = http.get_cached(&url, "").await?;
        if let Some(expected) = &hashes.sha256 {
            let actual = sha256_hex(&fetched.body);
            if &actual != expected {
                return Err(IndexError::HashMismatch {
                    url: redact(&url),
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        return Ok((text(&url, fetched.body)?, MetadataSource::Pep658));
    }
    let whole = match by_range(http, &file.url).await {
        Ok(Ranged::Metadata(metadata)) => return Ok((metadata, MetadataSource::Range)),
        // The server ignored the range and sent a small file whole: use it.
        Ok(Ranged::Whole(body)) => body,
        Ok(Ranged::Unsupported) => return whole_on_disk(http, file, listed_by).await,
        Err(
            err @ (IndexError::Offline { .. }
            | IndexError::Unauthorized { .. }
            | IndexError::Forbidden { .. }),
        ) => return Err(err),
        Err(err) => {
            tracing::debug!("range requests for {} failed: {err}", redact(&file.url));
            return whole_on_disk(http, file, listed_by).await;
        }
    };
    if let Some(expected) = &file.hashes.sha256 {
        let actual = sha256_hex(&whole);
        if &actual != expected {
            return Err(IndexError::HashMismatch {
                url: redact(&file.url),
                expected: expected.clone(),
                actual,
            });
        }
    }
    let metadata = from_whole_zip(&file.url, std::io::Cursor::new(&whole))?;
    if let Some(dir) = http.downloads_dir() {
        let path = kept_path(&dir, &file.url, &sha256_hex(&whole));
        let kept = tokio::task::spawn_blocking(move || {
            fs_err::create_dir_all(path.parent().expect("a kept path has a parent"))
                .map_err(|e| e.to_string())?;
            ferry_cache::write_atomic(&path, &whole).map_err(|e| e.to_string())
        });
        if let Ok(Err(err)) = kept.await {
            tracing::debug!("could not keep a downloaded wheel: {err}");
        }
    }
    Ok((metadata, MetadataSource::WholeFile))
}

/// Hashes what it is shown.
struct Sha256Observer(sha2::Sha256);

impl crate::http::DownloadObserver for Sha256Observer {
    fn data(&mut self, bytes: &[u8]) {
        sha2::Digest::update(&mut self.0, bytes);
    }
    fn restart(&mut self) {
        self.0 = sha2::Digest::new();
    }
}

/// The whole wheel, streamed into a temporary file (so memory does not grow with the wheel),
/// hash-checked, and its METADATA read from the zip on disk. With a cache, the file is then
/// kept in its downloads bucket, where the installer finds it instead of downloading the
/// wheel a second time.
async fn whole_on_disk(
    http: &HttpClient,
    file: &DistFile,
    listed_by: &str,
) -> Result<(String, MetadataSource), IndexError> {
    if let Some(keeper) = http.whole_wheels() {
        let metadata = keeper.keep(http, file, listed_by).await?;
        return Ok((metadata, MetadataSource::WholeFile));
    }
    let kept = http.downloads_dir();
    let dir = kept.clone().unwrap_or_else(std::env::temp_dir);
    let io = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| IndexError::Io {
            what: "a temporary file for",
            path,
            source,
        }
    };
    let temp = tempfile::Builder::new()
        .prefix(".download-")
        .tempfile_in(&dir)
        .map_err(io(&dir))?;
    let mut async_file = tokio::fs::File::from_std(temp.reopen().map_err(io(temp.path()))?);
    let mut observer = Sha256Observer(sha2::Digest::new());
    http.download(&file.url, &mut async_file, temp.path(), &mut observer)
        .await?;
    drop(async_file);
    let actual: String = sha2::Digest::finalize(observer.0)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if let Some(expected) = &file.hashes.sha256 {
        if &actual != expected {
            return Err(IndexError::HashMismatch {
                url: redact(&file.url),
                expected: expected.clone(),
                actual,
            });
        }
    }
    let url = file.url.clone();
    let metadata = tokio::task::spawn_blocking(move || {
        let std_file = temp.reopen().map_err(io(temp.path()))?;
        let metadata = from_whole_zip(&url, std::io::BufReader::new(std_file))?;
        if let Some(dir) = kept {
            let path = kept_path(&dir, &url, &actual);
            let kept = fs_err::create_dir_all(path.parent().expect("a kept path has a parent"))
                .map_err(|e| e.to_string())
                .and_then(|()| temp.persist(&path).map_err(|e| e.to_string()));
            if let Err(err) = kept {
                tracing::debug!("could not keep {}: {err}", path.display());
            }
        }
        Ok::<_, IndexError>(metadata)
    })
    .await
    .map_err(|e| IndexError::Client(format!("reading a downloaded wheel failed: {e}")))??;
    Ok((metadata, MetadataSource::WholeFile))
}

/// Where a whole wheel from `url` with this sha256 is kept for the installer: the file's name
/// carries its hash, so the installer need not read it again to know it.
fn kept_path(dir: &std::path::Path, url: &Url, sha256: &str) -> std::path::PathBuf {
    dir.join(ferry_cache::url_key(&redact(url)))
        .join(format!("{sha256}.whl"))
}

fn text(url: &Url, bytes: Vec<u8>) -> Result<String, IndexError> {
    String::from_utf8(bytes).map_err(|_| IndexError::Metadata {
        url: redact(url),
        message: "the metadata is not UTF-8".into(),
    })
}

fn bad(url: &Url, message: impl Into<String>) -> IndexError {
    IndexError::Metadata {
        url: redact(url),
        message: message.into(),
    }
}

enum Ranged {
    Metadata(String),
    /// The server answered the range request with the whole file.
    Whole(Vec<u8>),
    /// No ranges, or a zip that needs the slow path (zip64).
    Unsupported,
}

async fn by_range(http: &HttpClient, url: &Url) -> Result<Ranged, IndexError> {
    let (status, tail, total) = http.get_range(url, &format!("bytes=-{TAIL}")).await?;
    if status != 206 {
        return Ok(if status == 200 && !tail.is_empty() {
            Ranged::Whole(tail)
        } else {
            Ranged::Unsupported
        });
    }
    let Some(total) = total else {
        return Ok(Ranged::Unsupported);
    };
    let tail_start = total - tail.len() as u64;
    let Some(eocd) = find_eocd(&tail) else {
        return Err(bad(
            url,
            "no end-of-central-directory record: not a zip file",
        ));
    };
    let cd_size = u64::from(le32(&tail, eocd + 12));
    let cd_offset = u64::from(le32(&tail, eocd + 16));
    if cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        return Ok(Ranged::Unsupported); // zip64
    }
    let directory = if cd_offset >= tail_start {
        let start = (cd_offset - tail_start) as usize;
        tail.get(start..start + cd_size as usize)
            .ok_or_else(|| bad(url, "central directory out of bounds"))?
            .to_vec()
    } else {
        let (status, bytes, _) = http
            .get_range(
                url,
                &format!("bytes={cd_offset}-{}", cd_offset + cd_size - 1),
            )
            .await?;
        if status != 206 {
            return Ok(Ranged::Unsupported);
        }
        bytes
    };
    let entry = find_metadata_entry(&directory)
        .ok_or_else(|| bad(url, "no .dist-info/METADATA in the wheel"))?;

    // The local header (30 bytes + name + extra) precedes the data; read a little extra so one
    // request usually covers it.
    let guess_end = entry.local_offset + 30 + entry.name_len as u64 + 512 + entry.compressed;
    let local = if entry.local_offset >= tail_start {
        let start = (entry.local_offset - tail_start) as usize;
        tail[start..].to_vec()
    } else {
        let (status, bytes, _) = http
            .get_range(
                url,
                &format!("bytes={}-{}", entry.local_offset, guess_end.min(total) - 1),
            )
            .await?;
        if status != 206 {
            return Ok(Ranged::Unsupported);
        }
        bytes
    };
    if local.len() < 30 || le32(&local, 0) != 0x0403_4b50 {
        return Err(bad(url, "bad local file header for METADATA"));
    }
    let data_start = 30 + le16(&local, 26) as usize + le16(&local, 28) as usize;
    let data_end = data_start + entry.compressed as usize;
    let compressed = if local.len() >= data_end {
        local[data_start..data_end].to_vec()
    } else {
        let from = entry.local_offset + data_start as u64;
        let (status, bytes, _) = http
            .get_range(
                url,
                &format!("bytes={from}-{}", from + entry.compressed - 1),
            )
            .await?;
        if status != 206 {
            return Ok(Ranged::Unsupported);
        }
        bytes
    };
    let raw = match entry.method {
        0 => compressed,
        8 => {
            let mut out = Vec::with_capacity(entry.uncompressed as usize);
            flate2::read::DeflateDecoder::new(&compressed[..])
                .read_to_end(&mut out)
                .map_err(|e| bad(url, format!("METADATA does not inflate: {e}")))?;
            out
        }
        other => {
            return Err(bad(
                url,
                format!("METADATA uses unsupported compression method {other}"),
            ))
        }
    };
    text(url, raw).map(Ranged::Metadata)
}

struct CentralEntry {
    method: u16,
    compressed: u64,
    uncompressed: u64,
    name_len: u16,
    local_offset: u64,
}

fn find_eocd(tail: &[u8]) -> Option<usize> {
    if tail.len() < 22 {
        return None;
    }
    (0..=tail.len() - 22)
        .rev()
        .find(|&i| le32(tail, i) == 0x0605_4b50)
}

fn find_metadata_entry(directory: &[u8]) -> Option<CentralEntry> {
    let mut pos = 0;
    while pos + 46 <= directory.len() && le32(directory, pos) == 0x0201_4b50 {
        let name_len = le16(directory, pos + 28);
        let extra_len = le16(directory, pos + 30) as usize;
        let comment_len = le16(directory, pos + 32) as usize;
        let name = directory.get(pos + 46..pos + 46 + name_len as usize)?;
        let name = String::from_utf8_lossy(name);
        if let Some((dir, file)) = name.split_once('/') {
            if dir.ends_with(".dist-info") && file == "METADATA" {
                return Some(CentralEntry {
                    method: le16(directory, pos + 10),
                    compressed: u64::from(le32(directory, pos + 20)),
                    uncompressed: u64::from(le32(directory, pos + 24)),
                    name_len,
                    local_offset: u64::from(le32(directory, pos + 42)),
                });
            }
        }
        pos += 46 + name_len as usize + extra_len + comment_len;
    }
    None
}

fn from_whole_zip<R: std::io::Read + std::io::Seek>(
    url: &Url,
    wheel: R,
) -> Result<String, IndexError> {
    let mut archive =
        zip::ZipArchive::new(wheel).map_err(|e| bad(url, format!("not a valid wheel: {e}")))?;
    let is_metadata = |n: &str| {
        n.split_once('/')
            .is_some_and(|(d, f)| d.ends_with(".dist-info") && f == "METADATA")
    };
    let mut out = Vec::new();
    for index in 0..archive.len() {
        let mut member = archive
            .by_index(index)
            .map_err(|e| bad(url, format!("cannot read zip member {index}: {e}")))?;
        if member.name().is_ok_and(|n| is_metadata(&n)) {
            member
                .read_to_end(&mut out)
                .map_err(|e| bad(url, format!("cannot read METADATA: {e}")))?;
            return text(url, out);
        }
    }
    Err(bad(url, "no .dist-info/METADATA in the wheel"))
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
