//! Downloads that start while the resolution is still going on. The resolver announces each
//! version it decides on ([`ferry_resolve::OnChosen`]); [`Prefetch`] starts fetching that
//! version's wheel into the store at once, so that by the time the resolution ends most wheels
//! are already there, as uv does. The preparer then takes each finished (or running) fetch
//! instead of starting its own ([`Prefetch::take`]).
//!
//! What it does not fetch: anything but a wheel from an index or find-links page, a wheel
//! without a PEP 658 metadata file (the resolver may download that one whole for its
//! metadata, into the store), a version the environment already has, and a
//! second version of a project (after backtracking, the
//! preparer fetches what was finally chosen, so at most one wheel per project is fetched in
//! vain). It is not used with hash-checking, whose checks belong to the preparer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ferry_index::{DistFilename, HttpClient, ProjectFile};
use ferry_types::Version;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::fetch::{ByteBudget, FetchedWheel, Silent, WheelSource, MAX_FETCHES};
use crate::{InstallError, Store};

type Fetch = JoinHandle<Result<FetchedWheel, InstallError>>;

/// Fetches of wheels the resolver chose, started before the resolution ends; cheap to clone.
#[derive(Clone)]
pub struct Prefetch {
    inner: Arc<Inner>,
}

struct Inner {
    /// What the fetch tasks use (they hold this, not `Inner`, so that dropping the last
    /// `Prefetch` aborts what nobody took).
    shared: Arc<Shared>,
    handle: Handle,
    /// Versions the environment has (normalized name → version): not fetched.
    installed: HashMap<String, Version>,
    /// By normalized name: the URL being fetched and its task.
    started: Mutex<HashMap<String, (url::Url, Option<Fetch>)>>,
}

struct Shared {
    http: HttpClient,
    store: Store,
    slots: Semaphore,
    budget: ByteBudget,
    /// Told of the downloads (`--progress-bar raw` wants every byte counted); none by default.
    reporter: std::sync::OnceLock<Arc<dyn crate::fetch::FetchReporter>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Fetches nobody took (the resolution failed, or chose otherwise) stop here; the store
        // only ever holds whole entries.
        let started = self.started.get_mut().unwrap_or_else(|e| e.into_inner());
        for (_, fetch) in started.values() {
            if let Some(fetch) = fetch {
                fetch.abort();
            }
        }
    }
}

impl Prefetch {
    /// A prefetcher into `store`, on `handle`, skipping the versions in `installed`.
    pub fn new(
        http: HttpClient,
        store: Store,
        handle: Handle,
        installed: impl IntoIterator<Item = (String, Version)>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                shared: Arc::new(Shared {
                    http,
                    store,
                    slots: Semaphore::new(MAX_FETCHES),
                    budget: ByteBudget::default(),
                    reporter: std::sync::OnceLock::new(),
                }),
                handle,
                installed: installed.into_iter().collect(),
                started: Mutex::default(),
            }),
        }
    }

    /// Reports the fetches to `reporter` from now on (set once).
    pub fn report_to(&self, reporter: Arc<dyn crate::fetch::FetchReporter>) {
        let _ = self.inner.shared.reporter.set(reporter);
    }

    /// The resolver's listener that starts the fetches.
    pub fn listener(&self) -> ferry_resolve::OnChosen {
        let this = self.clone();
        ferry_resolve::OnChosen(Some(Arc::new(move |name, version, file| {
            this.start(name, version, file);
        })))
    }

    fn start(&self, name: &str, version: &Version, file: &ProjectFile) {
        let inner = &self.inner;
        let DistFilename::Wheel(_) = &file.name else {
            return;
        };
        if inner.installed.get(name) == Some(version) || file.file.url.scheme() == "file" {
            return;
        }
        // Without a metadata file (PEP 658) the resolver may download the whole wheel into
        // the store to read its metadata: a second download would be waste.
        if file.file.core_metadata == ferry_index::CoreMetadata::Unavailable {
            return;
        }
        let mut started = inner.started.lock().unwrap_or_else(|e| e.into_inner());
        if started.contains_key(name) {
            return;
        }
        let source = WheelSource {
            name: name.to_string(),
            version: version.clone(),
            filename: file.file.filename.clone(),
            url: file.file.url.clone(),
            sha256: file.file.hashes.sha256.clone(),
            user_hashes: Vec::new(),
            index: file.source.clone(),
            sdist_sha256: None,
        };
        let url = source.url.clone();
        let task = Arc::clone(&inner.shared);
        let fetch = inner.handle.spawn(async move {
            let _slot = task.slots.acquire().await;
            let reporter: Arc<dyn crate::fetch::FetchReporter> = match task.reporter.get() {
                Some(reporter) => Arc::clone(reporter),
                None => Arc::new(Silent),
            };
            crate::fetch::fetch_within(&task.http, &task.store, &source, reporter, &task.budget)
                .await
        });
        tracing::debug!("fetching {name} {version} while resolving");
        started.insert(name.to_string(), (url, Some(fetch)));
    }

    /// The count and byte limits its fetches share, which the preparer's own fetches share
    /// too (see [`crate::fetch::fetch_all`]).
    pub(crate) fn limits(&self) -> (&Semaphore, &ByteBudget) {
        (&self.inner.shared.slots, &self.inner.shared.budget)
    }

    /// The fetch started for `source`'s very file, if any, once it is done. `None` when none
    /// was started, or it failed (the preparer then fetches it itself, and reports the error).
    pub async fn take(&self, source: &WheelSource) -> Option<FetchedWheel> {
        let name = ferry_types::normalize(&source.name);
        let fetch = {
            let mut started = self.inner.started.lock().unwrap_or_else(|e| e.into_inner());
            match started.get_mut(&name) {
                Some((url, fetch)) if *url == source.url => fetch.take(),
                _ => None,
            }
        }?;
        match fetch.await {
            Ok(Ok(wheel)) => Some(wheel),
            Ok(Err(err)) => {
                tracing::debug!("the early fetch of {name} failed ({err}); fetching again");
                None
            }
            Err(_) => None,
        }
    }
}
