//! Getting wheels into the unpacked-wheel store: from the store itself when the file was seen
//! before, else downloaded, hash-checked and unpacked.
//!
//! A download is unpacked while it arrives: the body is hashed as it streams by and handed to
//! a blocking thread that reads the ZIP front to back ([`crate::unzip`]) into a staging
//! directory, which enters the store only once the hashes match. An archive the stream reader
//! cannot follow is downloaded whole into a temporary file and read by its central directory.
//! `file://` wheels are read where they are. Memory use therefore does not grow with the size
//! of a wheel; [`fetch_all`] bounds how much is in flight at once.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_index::{redact, DownloadObserver, HttpClient, StreamObserver};
use ferry_types::interrupt::TempWork;
use ferry_types::{HashAlgorithm, HashDigest};
use futures::future::BoxFuture;
use futures::StreamExt;
use sha2::{Digest, Sha256, Sha384, Sha512};
use tokio::sync::{Semaphore, SemaphorePermit};
use url::Url;

use crate::files::now_secs;
use crate::store::{settle, unzip_error, Provenance, Store};
use crate::unzip::{unzip_stream, ChannelChunks, UnzipError};
use crate::InstallError;

/// A wheel to fetch.
#[derive(Debug, Clone)]
pub struct WheelSource {
    pub name: String,
    pub version: ferry_types::Version,
    pub filename: String,
    pub url: Url,
    /// The sha256 the index gave (lowercase hex).
    pub sha256: Option<String>,
    /// Hashes the user gave with `--hash` (`algorithm:hex`); the file must match one.
    pub user_hashes: Vec<HashDigest>,
    /// The index or find-links location that listed it.
    pub index: String,
    /// For a wheel built from an sdist: the sdist's sha256, when known.
    pub sdist_sha256: Option<String>,
}

/// A wheel in the store.
#[derive(Debug, Clone)]
pub struct FetchedWheel {
    pub archive: PathBuf,
    pub sha256: String,
    pub provenance: Option<Provenance>,
    /// Whether it came from the store without a download.
    pub cached: bool,
}

/// Progress of downloads; implemented by the command line.
pub trait FetchReporter: Send + Sync {
    fn download_started(&self, _name: &str, _size: Option<u64>) {}
    /// `done` bytes of `name` have arrived, of `total` if the server said.
    fn download_progress(&self, _name: &str, _done: u64, _total: Option<u64>) {}
    fn download_finished(&self, _name: &str, _bytes: u64) {}
    /// A wheel is in the store, downloaded now or found there (`wheel.cached`).
    fn ready(&self, _source: &WheelSource, _wheel: &FetchedWheel) {}
}

/// A reporter that says nothing.
#[derive(Debug, Default)]
pub struct Silent;
impl FetchReporter for Silent {}

fn user_sha256(hashes: &[HashDigest]) -> Vec<String> {
    hashes
        .iter()
        .filter(|h| h.algorithm == HashAlgorithm::Sha256)
        .map(|h| h.hex.clone())
        .collect()
}

/// `--hash` values as the user wrote them, for messages.
fn shown(hashes: &[HashDigest]) -> String {
    hashes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// At most this many wheels are fetched at once.
pub const MAX_FETCHES: usize = 32;

/// The byte budget of [`fetch_all`], in MiB.
pub const BUDGET_MIB: u32 = 256;

/// How much may be between "download started" and "unpacked" at once.
///
/// Downloads stream to disk, so memory does not depend on how big wheels are; what does grow
/// with their size is the temporary disk space they take until unpacked, and the unpacking
/// work (blocking threads reading and writing files) running side by side. So besides a
/// count ([`MAX_FETCHES`]), fetches share a budget of [`BUDGET_MIB`] MiB: each takes one
/// permit per MiB of its size (at least 1, at most the whole budget) as soon as the size is
/// known — the index's `size` is not always given, so for a download that is when the
/// response's `Content-Length` arrives, for a `file://` wheel its length on disk — and holds
/// it until its wheel is unpacked. A size that is never announced counts as 1 MiB. A wheel
/// of 256 MiB or more thus runs alone, and smaller ones share the budget. Permits are taken
/// all at once and never added to, and the semaphore serves waiters in order, so a large
/// wheel is not starved by small ones and nothing can deadlock.
#[derive(Debug)]
pub struct ByteBudget {
    permits: Semaphore,
    mib: u32,
}

impl Default for ByteBudget {
    fn default() -> Self {
        Self::new(BUDGET_MIB)
    }
}

impl ByteBudget {
    pub fn new(mib: u32) -> Self {
        let mib = mib.max(1);
        Self {
            permits: Semaphore::new(mib as usize),
            mib,
        }
    }

    /// Waits until a wheel of `bytes` (if known) fits.
    async fn reserve(&self, bytes: Option<u64>) -> Option<SemaphorePermit<'_>> {
        let mib = bytes
            .map_or(1, |b| b.div_ceil(1 << 20))
            .clamp(1, u64::from(self.mib)) as u32;
        self.permits.acquire_many(mib).await.ok()
    }
}

/// Fetches every wheel into the store, at most [`MAX_FETCHES`] at once and within a
/// [`ByteBudget`]; the results are in the order of `sources`. A wheel `prefetch` already
/// fetched (or is fetching) is taken from it, and the other fetches share its limits, so
/// fetches started early and late together stay within one count and one budget.
pub async fn fetch_all(
    http: &HttpClient,
    store: &Store,
    sources: &[WheelSource],
    prefetch: Option<&crate::Prefetch>,
    reporter: Arc<dyn FetchReporter>,
) -> Vec<Result<FetchedWheel, InstallError>> {
    let (own_slots, own_budget) = (Semaphore::new(MAX_FETCHES), ByteBudget::default());
    let (slots, budget) = prefetch.map_or((&own_slots, &own_budget), |p| p.limits());
    let mut results: Vec<(usize, Result<FetchedWheel, InstallError>)> =
        futures::stream::iter(sources.iter().enumerate().map(|(index, source)| {
            let reporter = Arc::clone(&reporter);
            async move {
                if let Some(early) = prefetch {
                    if let Some(wheel) = early.take(source).await {
                        return (index, Ok(wheel));
                    }
                }
                // A slot only for a fetch of its own: waiting for an early fetch holds none.
                let _slot = slots.acquire().await;
                (
                    index,
                    fetch_within(http, store, source, reporter, budget).await,
                )
            }
        }))
        .buffer_unordered(MAX_FETCHES)
        .collect()
        .await;
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Fetches one wheel into the store.
pub async fn fetch_wheel(
    http: &HttpClient,
    store: &Store,
    source: &WheelSource,
    reporter: Arc<dyn FetchReporter>,
) -> Result<FetchedWheel, InstallError> {
    fetch_within(http, store, source, reporter, &ByteBudget::default()).await
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, InstallError> + Send + 'static,
) -> Result<T, InstallError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| InstallError::Cache(format!("a file task failed: {e}")))?
}

pub(crate) async fn fetch_within(
    http: &HttpClient,
    store: &Store,
    source: &WheelSource,
    reporter: Arc<dyn FetchReporter>,
    budget: &ByteBudget,
) -> Result<FetchedWheel, InstallError> {
    let user = user_sha256(&source.user_hashes);
    if let (Some(index), false) = (&source.sha256, user.is_empty()) {
        if !user.contains(index) {
            return Err(InstallError::HashMismatch {
                name: source.name.clone(),
                url: redact(&source.url),
                expected: format!(
                    "one of the --hash values given for it ({})",
                    shown(&source.user_hashes)
                ),
                actual: format!("sha256 {index} (according to its index)"),
            });
        }
    }
    // A hash known up front names the archive directly.
    let cached = {
        let store = store.clone();
        let known = source.sha256.clone().or_else(|| user.first().cloned());
        let url = (source.user_hashes.is_empty()).then(|| redact(&source.url));
        blocking(move || {
            let Some(sha) = known.or_else(|| url.and_then(|url| store.lookup_url(&url))) else {
                return Ok(None);
            };
            Ok(store.get(&sha).map(|archive| FetchedWheel {
                archive,
                provenance: store.provenance(&sha),
                sha256: sha,
                cached: true,
            }))
        })
        .await?
    };
    if let Some(fetched) = cached {
        return Ok(fetched);
    }

    reporter.download_started(&source.name, None);
    let mut hashes = Hashes::new(&source.user_hashes);
    // A local file, or the whole wheel the resolver already downloaded for its metadata (whose
    // sha256 is known, so only a sha384/sha512 `--hash` needs it read again).
    let local = if source.url.scheme() == "file" {
        let path = source
            .url
            .to_file_path()
            .map_err(|()| InstallError::BadUrl(source.url.to_string()))?;
        Some((path, None))
    } else {
        let (store, url) = (store.clone(), redact(&source.url));
        blocking(move || Ok(store.kept_download(&url)))
            .await?
            .map(|(path, sha256)| (path, Some(sha256)))
    };
    if let Some((path, kept_sha256)) = local {
        let size = tokio::fs::metadata(&path)
            .await
            .map_err(|err| InstallError::Io {
                action: "read",
                path: path.clone(),
                source: err,
            })?
            .len();
        let _permit = budget.reserve(Some(size)).await;
        let source = source.clone();
        let store = store.clone();
        let reporter = Arc::clone(&reporter);
        return blocking(move || {
            let digests = match &kept_sha256 {
                Some(sha256) if hashes.sha384.is_none() && hashes.sha512.is_none() => Ok(Digests {
                    sha256: sha256.clone(),
                    sha384: None,
                    sha512: None,
                    size,
                }),
                _ => hash_file(&path, &mut hashes).map(|()| hashes.finish()),
            };
            let result = digests.and_then(|digests| {
                reporter.download_finished(&source.name, digests.size);
                verify_and_unpack(&store, &source, &path, &digests)
            });
            // Unpacked, or not the file it should be: either way it has served.
            if kept_sha256.is_some() {
                if let Some(dir) = path.parent() {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
            result
        })
        .await;
    }

    // A download: unpacked while it arrives, committed to the store once its hashes match.
    let mut streamer = Streamer {
        hashes,
        budget,
        permit: None,
        store: store.clone(),
        filename: source.filename.clone(),
        batch: Vec::new(),
        sender: None,
        spent: None,
        task: None,
        progress: (Arc::clone(&reporter), source.name.clone(), 0, None),
    };
    let downloaded = http.stream(&source.url, &mut streamer).await;
    let unpacked = streamer.finish().await;
    let Streamer { hashes, permit, .. } = streamer;
    let downloaded = downloaded?;
    reporter.download_finished(&source.name, downloaded.bytes);
    let digests = hashes.finish();
    verify(source, &digests)?;
    match unpacked {
        Ok(staging) => {
            let provenance = provenance_of(source, &digests);
            let store = store.clone();
            let result = blocking(move || {
                let archive = store.commit(staging, &provenance)?;
                Ok(FetchedWheel {
                    archive,
                    sha256: provenance.sha256.clone(),
                    provenance: Some(provenance),
                    cached: false,
                })
            })
            .await;
            drop(permit);
            result
        }
        Err(StreamFailure::Failed(err)) => Err(err),
        Err(StreamFailure::Unsupported(why)) => {
            tracing::debug!(
                "{} cannot be unpacked as it downloads ({why}); downloading it whole",
                source.filename
            );
            drop(permit);
            download_whole(http, store, source, budget).await
        }
    }
}

/// Downloads a wheel into a temporary file (hashing it on the way) and unpacks it from there,
/// by its central directory if need be: for archives [`crate::unzip::unzip_stream`] cannot
/// follow.
async fn download_whole(
    http: &HttpClient,
    store: &Store,
    source: &WheelSource,
    budget: &ByteBudget,
) -> Result<FetchedWheel, InstallError> {
    let temp = {
        let store = store.clone();
        blocking(move || store.download_file()).await?
    };
    let io = crate::io_error;
    let mut file = tokio::fs::File::from_std(temp.reopen().map_err(io("open", temp.path()))?);
    let mut watch = Watch {
        hashes: Hashes::new(&source.user_hashes),
        budget,
        permit: None,
    };
    http.download(&source.url, &mut file, temp.path(), &mut watch)
        .await?;
    drop(file);
    let Watch { hashes, permit, .. } = watch;
    let digests = hashes.finish();
    let source = source.clone();
    let store = store.clone();
    let result = blocking(move || {
        let result = verify_and_unpack(&store, &source, temp.path(), &digests);
        if let Err(err) = temp.close() {
            tracing::debug!("could not remove a downloaded wheel: {err}");
        }
        result
    })
    .await;
    drop(permit);
    result
}

/// How many bytes of a download are handed to its unpacking thread at once.
const BATCH: usize = 64 * 1024;

/// Why a streamed unpack did not give a staging directory.
enum StreamFailure {
    /// The archive's layout needs its central directory first: download it whole.
    Unsupported(String),
    Failed(InstallError),
}

/// Takes a wheel's download: hashes it, takes its share of the budget once its size is
/// known, and passes the bytes to a blocking thread that unpacks them into a staging
/// directory as they arrive (a few batches in flight, so memory stays flat).
struct Streamer<'a> {
    hashes: Hashes,
    budget: &'a ByteBudget,
    permit: Option<SemaphorePermit<'a>>,
    store: Store,
    filename: String,
    /// The bytes not yet handed over. They are copied out of the HTTP client's pieces, which
    /// can share (and so keep alive) a much larger read buffer.
    batch: Vec<u8>,
    sender: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
    /// Buffers the unpacking thread is done with, to fill again.
    spent: Option<std::sync::mpsc::Receiver<Vec<u8>>>,
    task: Option<tokio::task::JoinHandle<Result<TempWork, StreamFailure>>>,
    /// Told of the bytes as they arrive: (reporter, project name, bytes so far, length).
    progress: (Arc<dyn FetchReporter>, String, u64, Option<u64>),
}

impl Streamer<'_> {
    fn start(&mut self) {
        let (sender, receiver) = tokio::sync::mpsc::channel(2);
        let (spent, spent_receiver) = std::sync::mpsc::channel();
        let (store, filename) = (self.store.clone(), self.filename.clone());
        self.sender = Some(sender);
        self.spent = Some(spent_receiver);
        self.task = Some(tokio::task::spawn_blocking(move || {
            let staging = store.stage().map_err(StreamFailure::Failed)?;
            let chunks = ChannelChunks { receiver, spent };
            let entries = unzip_stream(chunks, staging.path()).map_err(|e| match e {
                UnzipError::Unsupported(why) => StreamFailure::Unsupported(why),
                other => StreamFailure::Failed(unzip_error(&filename, other)),
            })?;
            settle(staging.path(), &entries, &filename).map_err(StreamFailure::Failed)?;
            Ok(staging)
        }));
    }

    async fn send_batch(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let next = self
            .spent
            .as_ref()
            .and_then(|spent| spent.try_recv().ok())
            .map(|mut buffer| {
                buffer.clear();
                buffer
            })
            .unwrap_or_else(|| Vec::with_capacity(BATCH));
        let batch = std::mem::replace(&mut self.batch, next);
        if let Some(sender) = &self.sender {
            if sender.send(batch).await.is_err() {
                // The unpacking stopped early; its error comes from `finish`.
                self.sender = None;
            }
        }
    }

    /// Ends the unpacking (the body is complete, or was abandoned) and gives its result.
    async fn finish(&mut self) -> Result<TempWork, StreamFailure> {
        self.send_batch().await;
        self.sender = None;
        let Some(task) = self.task.take() else {
            return Err(StreamFailure::Failed(InstallError::BrokenWheel {
                filename: self.filename.clone(),
                message: "its download is empty".into(),
            }));
        };
        task.await.unwrap_or_else(|e| {
            Err(StreamFailure::Failed(InstallError::Cache(format!(
                "unpacking {} failed: {e}",
                self.filename
            ))))
        })
    }
}

impl StreamObserver for Streamer<'_> {
    fn started(&mut self, length: Option<u64>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.progress.3 = length;
            if self.permit.is_none() {
                self.permit = self.budget.reserve(length).await;
            }
        })
    }

    fn data(&mut self, bytes: bytes::Bytes) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.hashes.update(&bytes);
            let (reporter, name, done, total) = &mut self.progress;
            *done += bytes.len() as u64;
            reporter.download_progress(name, *done, *total);
            if self.task.is_none() {
                self.start();
            }
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                if self.batch.capacity() == 0 {
                    self.batch.reserve_exact(BATCH);
                }
                let n = rest
                    .len()
                    .min(BATCH.saturating_sub(self.batch.len()).max(1));
                self.batch.extend_from_slice(&rest[..n]);
                rest = &rest[n..];
                if self.batch.len() >= BATCH {
                    self.send_batch().await;
                }
            }
        })
    }

    fn restart(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.hashes.reset();
            self.progress.2 = 0;
            self.batch.clear();
            // The unpacking so far is void: end it (its staging directory goes with it).
            self.sender = None;
            self.spent = None;
            if let Some(task) = self.task.take() {
                let _ = task.await;
            }
        })
    }
}

/// The digests of a wheel file, computed as it streams by.
struct Hashes {
    sha256: Sha256,
    sha384: Option<Sha384>,
    sha512: Option<Sha512>,
    size: u64,
}

/// Watches a download: hashes it, and takes its share of the budget once its size is known.
struct Watch<'a> {
    hashes: Hashes,
    budget: &'a ByteBudget,
    permit: Option<SemaphorePermit<'a>>,
}

/// The finished digests (lowercase hex) of a wheel file.
struct Digests {
    sha256: String,
    sha384: Option<String>,
    sha512: Option<String>,
    size: u64,
}

impl Hashes {
    /// sha256 always (it names the archive); sha384 and sha512 only when a `--hash` uses them.
    fn new(user_hashes: &[HashDigest]) -> Self {
        let uses = |algorithm: HashAlgorithm| user_hashes.iter().any(|h| h.algorithm == algorithm);
        Self {
            sha256: Sha256::new(),
            sha384: uses(HashAlgorithm::Sha384).then(Sha384::new),
            sha512: uses(HashAlgorithm::Sha512).then(Sha512::new),
            size: 0,
        }
    }

    fn finish(self) -> Digests {
        Digests {
            sha256: hex(&self.sha256.finalize()),
            sha384: self.sha384.map(|h| hex(&h.finalize())),
            sha512: self.sha512.map(|h| hex(&h.finalize())),
            size: self.size,
        }
    }
}

impl DownloadObserver for Watch<'_> {
    fn started(&mut self, length: Option<u64>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if self.permit.is_none() {
                self.permit = self.budget.reserve(length).await;
            }
        })
    }

    fn data(&mut self, bytes: &[u8]) {
        self.hashes.update(bytes);
    }

    fn restart(&mut self) {
        self.hashes.reset();
    }
}

impl Hashes {
    fn update(&mut self, bytes: &[u8]) {
        self.sha256.update(bytes);
        if let Some(h) = &mut self.sha384 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(bytes);
        }
        self.size += bytes.len() as u64;
    }

    fn reset(&mut self) {
        self.sha256 = Sha256::new();
        self.sha384 = self.sha384.take().map(|_| Sha384::new());
        self.sha512 = self.sha512.take().map(|_| Sha512::new());
        self.size = 0;
    }
}

/// Feeds a local file through `hashes`.
fn hash_file(path: &Path, hashes: &mut Hashes) -> Result<(), InstallError> {
    let io = |source| InstallError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    };
    let mut file = fs_err::File::open(path).map_err(io)?;
    let mut buffer = vec![0; 64 * 1024];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => hashes.update(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
}

/// Checks the file's digests against the index's sha256 and the user's `--hash`es, and only
/// then unpacks it.
fn verify_and_unpack(
    store: &Store,
    source: &WheelSource,
    wheel: &Path,
    digests: &Digests,
) -> Result<FetchedWheel, InstallError> {
    verify(source, digests)?;
    let provenance = provenance_of(source, digests);
    let archive = store.unpack(wheel, &provenance)?;
    Ok(FetchedWheel {
        archive,
        sha256: provenance.sha256.clone(),
        provenance: Some(provenance),
        cached: false,
    })
}

/// Where a wheel with these (checked) digests came from.
fn provenance_of(source: &WheelSource, digests: &Digests) -> Provenance {
    Provenance {
        filename: source.filename.clone(),
        url: redact(&source.url),
        index: source.index.clone(),
        downloaded_at: now_secs(),
        size: digests.size,
        sha256: digests.sha256.clone(),
    }
}

/// Checks a file's digests against the index's sha256 and the user's `--hash`es.
fn verify(source: &WheelSource, digests: &Digests) -> Result<(), InstallError> {
    let sha256 = &digests.sha256;
    if let Some(expected) = &source.sha256 {
        if expected != sha256 {
            return Err(InstallError::HashMismatch {
                name: source.name.clone(),
                url: redact(&source.url),
                expected: format!("sha256 {expected} (as its index lists it)"),
                actual: format!("sha256 {sha256}"),
            });
        }
    }
    if !source.user_hashes.is_empty() {
        let matches = source
            .user_hashes
            .iter()
            .any(|given| match given.algorithm {
                HashAlgorithm::Sha256 => given.hex == *sha256,
                HashAlgorithm::Sha384 => digests.sha384.as_ref() == Some(&given.hex),
                HashAlgorithm::Sha512 => digests.sha512.as_ref() == Some(&given.hex),
            });
        if !matches {
            return Err(InstallError::HashMismatch {
                name: source.name.clone(),
                url: redact(&source.url),
                expected: format!("one of {}", shown(&source.user_hashes)),
                actual: format!("sha256 {sha256}"),
            });
        }
    }
    Ok(())
}

/// A wheel file saved into a directory.
#[derive(Debug, Clone)]
pub struct SavedWheel {
    pub path: PathBuf,
    /// A file with the same sha256 was already there.
    pub already_there: bool,
    /// The checked file, still under a temporary name beside `path` until every file of the
    /// run is ready (see [`save_all`]).
    staged: Option<PathBuf>,
}

/// Saves each of `sources` into `dir` under its file name (`ferry wheel -w DIR`, `ferry
/// download -d DIR`), eight at a time; results in order. See [`save_wheel`]. All or nothing:
/// each file waits, checked, under a temporary name, and they take their names only once every
/// one is ready; when any fails, none is placed and the temporary files are removed, so a
/// failed run leaves the directory as it was.
pub async fn save_all(
    http: &HttpClient,
    sources: &[WheelSource],
    dir: &Path,
    kept: Option<&Path>,
) -> Vec<Result<SavedWheel, InstallError>> {
    let budget = ByteBudget::default();
    let mut results: Vec<Result<SavedWheel, InstallError>> = futures::stream::iter(
        sources
            .iter()
            .map(|s| save_wheel(http, s, dir, kept, &budget)),
    )
    .buffered(8)
    .collect()
    .await;
    let failed = results.iter().any(Result::is_err);
    for result in &mut results {
        let Ok(saved) = result else { continue };
        let Some(temp) = saved.staged.take() else {
            continue;
        };
        if failed {
            let _ = std::fs::remove_file(&temp);
        } else if let Err(err) = place(&temp, &saved.path) {
            let _ = std::fs::remove_file(&temp);
            *result = Err(err);
        }
    }
    results
}

/// Saves `source`'s file into `dir`: copied when local (a built wheel, a `file://` URL, or a
/// copy kept in `kept`, the cache's whole files), else downloaded (and then kept there, as
/// `<sha256>/<filename>`). Either way it arrives in a temporary file beside the target (mode
/// from the umask) and is hash-checked; [`save_all`] gives it the target's name once every file
/// of the run is ready (an existing symlink or device there is written through rather than
/// replaced). A file already there whose sha256
/// is the index's is kept.
pub async fn save_wheel(
    http: &HttpClient,
    source: &WheelSource,
    dir: &Path,
    kept: Option<&Path>,
    budget: &ByteBudget,
) -> Result<SavedWheel, InstallError> {
    let target = dir.join(&source.filename);
    if let Some(expected) = source.sha256.clone() {
        let existing = target.clone();
        let same = blocking(move || {
            let mut hashes = Hashes::new(&[]);
            Ok(existing.is_file()
                && hash_file(&existing, &mut hashes).is_ok()
                && hashes.finish().sha256 == expected)
        })
        .await?;
        if same {
            return Ok(SavedWheel {
                path: target,
                already_there: true,
                staged: None,
            });
        }
    }
    let local = match source.url.scheme() {
        "file" => Some(
            source
                .url
                .to_file_path()
                .map_err(|()| InstallError::BadUrl(source.url.to_string()))?,
        ),
        _ => None,
    };
    let copy_of = |path: PathBuf| {
        let target = target.clone();
        let hashes = Hashes::new(&source.user_hashes);
        async move {
            let temp = {
                let target = target.clone();
                blocking(move || temp_beside(&target)).await?
            };
            let copied = {
                let temp = temp.clone();
                blocking(move || {
                    let mut hashes = hashes;
                    hash_file(&path, &mut hashes)?;
                    fs_err::copy(&path, &temp).map_err(crate::io_error("copy", &path))?;
                    Ok(hashes.finish())
                })
                .await
            };
            let checked = copied.and_then(|digests| verify(source, &digests));
            match checked {
                Ok(()) => Ok(temp),
                Err(err) => {
                    let _ = std::fs::remove_file(&temp);
                    Err(err)
                }
            }
        }
    };
    if let Some(path) = local {
        let staged = copy_of(path).await?;
        return Ok(SavedWheel {
            path: target,
            already_there: false,
            staged: Some(staged),
        });
    }
    // A whole copy in the cache: used when it still has the index's hash, else forgotten.
    let cached = kept
        .zip(source.sha256.as_ref())
        .map(|(kept, sha256)| kept.join(sha256).join(&source.filename))
        .filter(|path| path.is_file());
    if let Some(path) = cached {
        match copy_of(path.clone()).await {
            Ok(staged) => {
                tracing::debug!("{}: from the cache's copy", source.filename);
                if let Some(dir) = path.parent() {
                    ferry_cache::mark_used(&dir.join("origin.json"));
                }
                return Ok(SavedWheel {
                    path: target,
                    already_there: false,
                    staged: Some(staged),
                });
            }
            Err(err) => {
                tracing::warn!(
                    "the cache's copy of {} is unusable ({err}); downloading it",
                    source.filename
                );
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let temp = {
        let target = target.clone();
        blocking(move || temp_beside(&target)).await?
    };
    let io = crate::io_error;
    let hashes = Hashes::new(&source.user_hashes);
    let digests = {
        let opened = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&temp)
            .await
            .map_err(io("open", &temp));
        match opened {
            Ok(mut file) => {
                let mut watch = Watch {
                    hashes,
                    budget,
                    permit: None,
                };
                let result = http
                    .download(&source.url, &mut file, &temp, &mut watch)
                    .await;
                drop(file);
                result
                    .map(|_| watch.hashes.finish())
                    .map_err(InstallError::from)
            }
            Err(err) => Err(err),
        }
    };
    let sha256 = digests.as_ref().ok().map(|d| d.sha256.clone());
    let checked = digests.and_then(|digests| verify(source, &digests));
    if checked.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    checked?;
    if let (Some(kept), Some(sha256)) = (kept, sha256) {
        let (kept, temp) = (kept.to_path_buf(), temp.clone());
        let filename = source.filename.clone();
        let origin = serde_json::json!({
            "filename": source.filename,
            "url": redact(&source.url),
            "index": source.index,
        });
        let _ = blocking(move || {
            keep_whole(&kept, &sha256, &temp, &filename, &origin);
            Ok(())
        })
        .await;
    }
    Ok(SavedWheel {
        path: target,
        already_there: false,
        staged: Some(temp),
    })
}

/// Keeps a copy of the downloaded file `saved` as `kept/<sha256>/<file name>`, with an
/// `origin.json` saying where it came from. A copy, not a hard link: the user's file and the
/// cache's must not change together. Best effort: a cache that cannot take it only means the
/// next run downloads again.
fn keep_whole(kept: &Path, sha256: &str, saved: &Path, name: &str, origin: &serde_json::Value) {
    let dir = kept.join(sha256);
    if dir.join(name).is_file() {
        return;
    }
    let result = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(kept)?;
        let stage = tempfile::Builder::new().prefix(".tmp-").tempdir_in(kept)?;
        let copy = stage.path().join(name);
        std::fs::copy(saved, &copy)?;
        std::fs::write(
            stage.path().join("origin.json"),
            serde_json::to_vec_pretty(origin).unwrap_or_default(),
        )?;
        let staged = stage.keep();
        if std::fs::rename(&staged, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&staged);
        }
        Ok(())
    })();
    if let Err(err) = result {
        tracing::debug!("could not keep {} in the cache: {err}", saved.display());
    }
}

/// A new empty file beside `target`, created with mode 0666 so the umask decides its mode.
fn temp_beside(target: &Path) -> Result<PathBuf, InstallError> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    for attempt in 0..16u32 {
        let candidate = dir.join(format!(".{name}.ferry-{}-{attempt}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&candidate)
        {
            Ok(_) => return Ok(candidate),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(crate::io_error("create a file in", dir)(err)),
        }
    }
    Err(crate::io_error("create a file in", dir)(
        std::io::ErrorKind::AlreadyExists.into(),
    ))
}

/// Gives `temp`'s contents the name `target`: by renaming, unless `target` is something that
/// must stay (a symlink, a device, a file with other hard links), which is written through.
fn place(temp: &Path, target: &Path) -> Result<(), InstallError> {
    use std::os::unix::fs::MetadataExt;
    let keep = std::fs::symlink_metadata(target)
        .is_ok_and(|meta| !meta.file_type().is_file() || meta.nlink() > 1);
    if keep {
        fs_err::copy(temp, target).map_err(crate::io_error("write", target))?;
        fs_err::remove_file(temp).map_err(crate::io_error("remove", temp))?;
        return Ok(());
    }
    fs_err::rename(temp, target).map_err(crate::io_error("write", target))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The store keeps the wheels the resolver must download whole for their metadata: each is
/// fetched into the store as the installer would (unpacked while it arrives, hash-checked),
/// its METADATA is read from there, and the installer later finds it by its hash or URL
/// instead of downloading it again.
impl ferry_index::WholeWheels for Store {
    fn keep<'a>(
        &'a self,
        http: &'a HttpClient,
        file: &'a ferry_index::DistFile,
        listed_by: &'a str,
    ) -> BoxFuture<'a, Result<String, ferry_index::IndexError>> {
        Box::pin(async move {
            let url = redact(&file.url);
            let parsed = ferry_index::WheelFilename::parse(&file.filename).ok_or_else(|| {
                ferry_index::IndexError::Metadata {
                    url: url.clone(),
                    message: format!("`{}` is not a valid wheel file name", file.filename),
                }
            })?;
            let source = WheelSource {
                name: parsed.name,
                version: parsed.version,
                filename: file.filename.clone(),
                url: file.url.clone(),
                sha256: file.hashes.sha256.clone(),
                user_hashes: Vec::new(),
                index: listed_by.to_string(),
                sdist_sha256: None,
            };
            let fetched = fetch_wheel(http, self, &source, Arc::new(Silent))
                .await
                .map_err(|err| match err {
                    InstallError::Index(err) => err,
                    InstallError::HashMismatch {
                        url,
                        expected,
                        actual,
                        ..
                    } => ferry_index::IndexError::HashMismatch {
                        url,
                        expected,
                        actual,
                    },
                    other => ferry_index::IndexError::Metadata {
                        url: url.clone(),
                        message: other.to_string(),
                    },
                })?;
            let name = source.name;
            blocking(move || {
                let dist_info = crate::wheel::find_dist_info(&fetched.archive, &name)?;
                let path = fetched.archive.join(dist_info).join("METADATA");
                fs_err::read_to_string(&path).map_err(crate::io_error("read", &path))
            })
            .await
            .map_err(|err| ferry_index::IndexError::Metadata {
                url,
                message: err.to_string(),
            })
        })
    }
}
