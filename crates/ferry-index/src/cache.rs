//! The on-disk HTTP cache (`http-v1` bucket).
//!
//! One file per (URL, `Accept`) pair: a magic line, the length of a JSON header (origin URL,
//! when it was stored, the RFC 9111 policy, content type, body length and sha256), the header,
//! then the body. A file that is short, garbled or whose body does not match its hash is
//! treated as absent and overwritten, never trusted.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use ferry_cache::{write_atomic_parts, Bucket, Cache};
use http_cache_semantics::CachePolicy;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

const MAGIC: &[u8] = b"FERRY-HTTP-CACHE-1\n";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EntryHeader {
    /// The URL requested (never with credentials).
    pub url: String,
    pub accept: String,
    /// The URL the body finally came from, after redirects.
    pub final_url: String,
    /// Seconds since the epoch when the body was fetched or last revalidated.
    pub stored_at: u64,
    pub content_type: Option<String>,
    pub policy: CachePolicy,
    pub body_len: u64,
    pub body_sha256: String,
}

pub(crate) struct Entry {
    pub header: EntryHeader,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct HttpCache {
    dir: PathBuf,
    /// The cache root, tagged with CACHEDIR.TAG on first write.
    root: PathBuf,
}

impl HttpCache {
    pub(crate) fn new(cache: &Cache) -> Self {
        Self {
            dir: cache.bucket(Bucket::Http),
            root: cache.root().to_path_buf(),
        }
    }

    fn path(&self, url: &Url, accept: &str) -> PathBuf {
        let mut hasher = Sha256::new();
        hasher.update(url.as_str().as_bytes());
        hasher.update([0]);
        hasher.update(accept.as_bytes());
        let digest = hasher.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(&hex[..2]).join(format!("{hex}.http"))
    }

    /// Drops the entry for `url` and `accept`, if any (a response that turned out unusable).
    pub(crate) fn forget(&self, url: &Url, accept: &str) {
        let _ = std::fs::remove_file(self.path(url, accept));
    }

    pub(crate) fn read(&self, url: &Url, accept: &str) -> Option<Entry> {
        let path = self.path(url, accept);
        let bytes = std::fs::read(&path).ok()?;
        match decode(bytes) {
            Some(entry) if entry.header.url == url.as_str() && entry.header.accept == accept => {
                Some(entry)
            }
            _ => {
                tracing::debug!(
                    "ignoring corrupt or mismatched cache entry {}",
                    path.display()
                );
                None
            }
        }
    }

    /// The directory for whole wheels kept for the installer (see
    /// [`ferry_cache::Bucket::Downloads`]), created with the cache root's tag.
    pub(crate) fn downloads(&self) -> Result<PathBuf, ferry_cache::CacheError> {
        let cache = Cache::at(self.root.clone(), ferry_cache::CacheSource::Flag);
        cache.ensure_root()?;
        let dir = cache.bucket(ferry_cache::Bucket::Downloads);
        fs_err::create_dir_all(&dir).map_err(|source| ferry_cache::CacheError::Create {
            path: dir.clone(),
            source,
        })?;
        Ok(dir)
    }

    pub(crate) fn write(
        &self,
        header: &EntryHeader,
        body: &[u8],
    ) -> Result<(), ferry_cache::CacheError> {
        let path = self.path(
            &Url::parse(&header.url).expect("cached URLs parse"),
            &header.accept,
        );
        Cache::at(self.root.clone(), ferry_cache::CacheSource::Flag).ensure_root()?;
        let json = serde_json::to_vec(header).expect("cache header serializes");
        let len = (json.len() as u64).to_le_bytes();
        write_atomic_parts(&path, &[MAGIC, &len, &json, body])
    }
}

/// An entry from the file's bytes; the body keeps the buffer it was read into (the header is
/// cut off its front in place), so a large page is never held twice.
fn decode(mut bytes: Vec<u8>) -> Option<Entry> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let len = usize::try_from(u64::from_le_bytes(rest.get(..8)?.try_into().ok()?)).ok()?;
    let json = rest.get(8..8usize.checked_add(len)?)?;
    let header: EntryHeader = serde_json::from_slice(json).ok()?;
    let start = MAGIC.len() + 8 + len;
    let body = &bytes[start..];
    if header.body_len != body.len() as u64 || header.body_sha256 != sha256_hex(body) {
        return None;
    }
    bytes.drain(..start);
    Some(Entry {
        header,
        body: bytes,
    })
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

pub(crate) fn now_secs(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// One index page or metadata file in the HTTP cache, as `ferry cache list` shows it.
#[derive(Debug, Clone)]
pub struct CachedPage {
    pub path: PathBuf,
    /// The URL requested (never with credentials).
    pub url: String,
    /// Seconds since the epoch when it was fetched or last revalidated.
    pub stored_at: u64,
    /// The file's size.
    pub size: u64,
}

/// Every entry of the HTTP cache, from the headers alone (bodies are not read or checked).
pub fn cached_pages(cache: &Cache) -> Vec<CachedPage> {
    use std::io::Read;
    let dir = cache.bucket(Bucket::Http);
    let mut out = Vec::new();
    let Ok(shards) = std::fs::read_dir(&dir) else {
        return out;
    };
    for shard in shards.flatten() {
        let Ok(files) = std::fs::read_dir(shard.path()) else {
            continue;
        };
        for file in files.flatten() {
            let path = file.path();
            if path.extension().is_none_or(|e| e != "http") {
                continue;
            }
            let header = (|| -> Option<(EntryHeader, u64)> {
                let mut f = std::fs::File::open(&path).ok()?;
                let size = f.metadata().ok()?.len();
                let mut head = vec![0u8; MAGIC.len() + 8];
                f.read_exact(&mut head).ok()?;
                let rest = head.strip_prefix(MAGIC)?;
                let len = usize::try_from(u64::from_le_bytes(rest.try_into().ok()?)).ok()?;
                let mut json = vec![0u8; len.min(1 << 20)];
                f.read_exact(&mut json).ok()?;
                Some((serde_json::from_slice(&json).ok()?, size))
            })();
            if let Some((header, size)) = header {
                out.push(CachedPage {
                    path,
                    url: header.url,
                    stored_at: header.stored_at,
                    size,
                });
            }
        }
    }
    out
}
