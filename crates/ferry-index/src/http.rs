//! HTTP: TLS from the OS store plus configured certificates, retries, resumable bodies,
//! credentials, and the RFC 9111 cache.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use http_cache_semantics::{AfterResponse, BeforeRequest, CacheOptions, CachePolicy};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::StatusCode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use tokio::sync::Semaphore;
use url::Url;

use crate::auth::{AuthStore, Netrc};
use crate::cache::{now_secs, sha256_hex, EntryHeader, HttpCache};
use crate::url_util::{host_key, redact};
use crate::IndexError;

/// How to talk HTTP. Defaults follow pip: 15 s socket timeout, 5 retries.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Connect and read timeout (`--timeout`).
    pub timeout: Duration,
    /// How many times to retry connection errors, 5xx and broken bodies (`--retries`).
    pub retries: u32,
    /// Extra CA bundles trusted on top of the OS store (`SSL_CERT_FILE` is read by the OS
    /// store loader; these are `PIP_CERT`/`cert` config and `--cert`).
    pub certs: Vec<PathBuf>,
    /// A PEM file with a client certificate and its key (`--client-cert`).
    pub client_cert: Option<PathBuf>,
    /// Hosts (`host` or `host:port`) whose certificates are not checked (`--trusted-host`).
    pub trusted_hosts: Vec<String>,
    /// Use only the cache (`--offline`).
    pub offline: bool,
    /// Revalidate every cached response (`--refresh`).
    pub refresh: bool,
    /// At most this many requests at once.
    pub concurrency: usize,
    /// Credentials from `~/.netrc`.
    pub netrc: Netrc,
    /// Base delay between retries (doubled each time).
    pub retry_delay: Duration,
    /// Where credentials come from after a 401 when none were given (`--keyring-provider`).
    pub keyring: crate::keyring::KeyringProvider,
    /// The interpreter whose `keyring` the `import` provider uses.
    pub keyring_python: Option<PathBuf>,
    /// `--proxy`: `[scheme://][user:password@]host:port`, for every request.
    pub proxy: Option<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            retries: 5,
            certs: Vec::new(),
            client_cert: None,
            trusted_hosts: Vec::new(),
            offline: false,
            refresh: false,
            concurrency: 50,
            netrc: Netrc::default(),
            retry_delay: Duration::from_millis(200),
            keyring: crate::keyring::KeyringProvider::Disabled,
            keyring_python: None,
            proxy: None,
        }
    }
}

/// Where a response body came from; `-v` output and `ferry cache` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchOrigin {
    /// Fetched over the network now.
    Network,
    /// Served from the cache without a request: still fresh.
    CacheFresh,
    /// Served from the cache after the server said it had not changed (304).
    CacheRevalidated,
    /// Served from the cache because of `--offline`, fresh or not.
    CacheOffline,
}

/// A fetched response body.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub body: Vec<u8>,
    /// The `Content-Type` without parameters, lowercased.
    pub content_type: Option<String>,
    /// Where the body finally came from, after redirects (never with credentials).
    pub url: Url,
    pub origin: FetchOrigin,
    /// When the body was fetched (or last revalidated) from the network.
    pub fetched_at: SystemTime,
}

/// The shared HTTP client of a run.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    settings: HttpSettings,
    auth: AuthStore,
    keyring: crate::keyring::Keyring,
    cache: Option<HttpCache>,
    limit: Semaphore,
    /// Hosts already reached in this run. Until a host has answered once, its requests go one
    /// at a time: otherwise dozens of concurrent first requests each open a connection (and a
    /// DNS lookup) before the first HTTP/2 connection exists that they could all share.
    reached: std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<bool>>>>,
    /// Where wheels downloaded whole for their metadata go.
    whole_wheels: std::sync::OnceLock<Arc<dyn crate::metadata::WholeWheels>>,
}

impl HttpClient {
    /// Builds the client; `cache` enables the HTTP cache.
    pub fn new(
        settings: HttpSettings,
        cache: Option<&ferry_cache::Cache>,
    ) -> Result<Self, IndexError> {
        let tls = tls_config(&settings)?;
        let mut builder = reqwest::Client::builder();
        if let Some(proxy) = &settings.proxy {
            let url = if proxy.contains("://") {
                proxy.clone()
            } else {
                format!("http://{proxy}")
            };
            let proxy = reqwest::Proxy::all(&url).map_err(|err| {
                IndexError::Client(format!(
                    "--proxy {} is not a proxy URL: {err}",
                    crate::url_util::redact_str(&url)
                ))
            })?;
            builder = builder.proxy(proxy);
        }
        let client = builder
            .use_preconfigured_tls(tls)
            .connect_timeout(settings.timeout)
            .read_timeout(settings.timeout)
            .user_agent(concat!("ferry/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(settings.concurrency)
            .http2_adaptive_window(true)
            .redirect(reqwest::redirect::Policy::limited(10))
            .build()
            .map_err(|e| IndexError::Client(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                auth: AuthStore::new(settings.netrc.clone()),
                keyring: crate::keyring::Keyring::new(
                    settings.keyring,
                    settings.keyring_python.clone(),
                ),
                cache: cache.map(HttpCache::new),
                limit: Semaphore::new(settings.concurrency.max(1)),
                reached: std::sync::Mutex::default(),
                whole_wheels: std::sync::OnceLock::new(),
                settings,
            }),
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.inner.settings
    }

    /// Remembers the credentials in an index URL so links from it to the same host use them.
    pub fn remember_credentials(&self, url: &Url) {
        self.inner.auth.remember(url);
        self.inner.auth.add_index(url);
    }

    /// Forgets the cached response for `url` and `accept`: its body turned out unusable (a page
    /// that does not parse), so the next run asks again instead of trusting it.
    pub fn forget_cached(&self, url: &Url, accept: &str) {
        if let Some(cache) = &self.inner.cache {
            let (bare, _) = crate::url_util::split_credentials(url);
            cache.forget(&bare, accept);
        }
    }

    /// GET through the HTTP cache: fresh entries are served without a request, stale ones are
    /// revalidated (ETag / Last-Modified), `--refresh` revalidates everything and `--offline`
    /// never touches the network.
    pub async fn get_cached(&self, url: &Url, accept: &str) -> Result<Fetched, IndexError> {
        let (bare, _) = crate::url_util::split_credentials(url);
        let Some(cache) = &self.inner.cache else {
            return self.get(url, accept).await;
        };
        let now = SystemTime::now();
        let mut request = http::Request::builder().method("GET").uri(bare.as_str());
        if !accept.is_empty() {
            request = request.header(ACCEPT, accept);
        }
        if self.inner.settings.refresh {
            request = request.header("cache-control", "no-cache");
        }
        let request = request.body(()).map_err(|e| IndexError::BadUrl {
            url: redact(url),
            message: e.to_string(),
        })?;
        let (request_parts, ()) = request.into_parts();

        let cached = {
            let (cache, bare, accept) = (cache.clone(), bare.clone(), accept.to_string());
            tokio::task::spawn_blocking(move || cache.read(&bare, &accept))
                .await
                .ok()
                .flatten()
        };
        if let Some(entry) = cached {
            let content_type = entry.header.content_type.clone();
            let final_url = Url::parse(&entry.header.final_url).unwrap_or_else(|_| bare.clone());
            let fetched = |body, origin, fetched_at| Fetched {
                body,
                content_type,
                url: final_url,
                origin,
                fetched_at,
            };
            let stored_at = UNIX_EPOCH + Duration::from_secs(entry.header.stored_at);
            if self.inner.settings.offline {
                return Ok(fetched(entry.body, FetchOrigin::CacheOffline, stored_at));
            }
            match entry.header.policy.before_request(&request_parts, now) {
                BeforeRequest::Fresh(_) => {
                    tracing::debug!("fresh in cache: {}", redact(&bare));
                    return Ok(fetched(entry.body, FetchOrigin::CacheFresh, stored_at));
                }
                BeforeRequest::Stale {
                    request: revalidate,
                    ..
                } => {
                    tracing::debug!("revalidating {}", redact(&bare));
                    let response = self.send(url, &revalidate.headers).await?;
                    if response.status == StatusCode::NOT_MODIFIED {
                        let response_parts = response.parts();
                        let mut body = entry.body;
                        if let AfterResponse::NotModified(policy, _) = entry
                            .header
                            .policy
                            .after_response(&request_parts, &response_parts, now)
                        {
                            let mut header = entry.header;
                            header.policy = policy;
                            header.stored_at = now_secs(now);
                            body = write_cache(cache, header, body).await?;
                        }
                        return Ok(fetched(body, FetchOrigin::CacheRevalidated, now));
                    }
                    return self
                        .store(cache, &bare, accept, &request_parts, response, now)
                        .await;
                }
            }
        }
        if self.inner.settings.offline {
            return Err(IndexError::Offline { url: redact(&bare) });
        }
        let mut headers = HeaderMap::new();
        if !accept.is_empty() {
            headers.insert(
                ACCEPT,
                HeaderValue::from_str(accept).map_err(|e| IndexError::Client(e.to_string()))?,
            );
        }
        let response = self.send(url, &headers).await?;
        self.store(cache, &bare, accept, &request_parts, response, now)
            .await
    }

    async fn store(
        &self,
        cache: &HttpCache,
        bare: &Url,
        accept: &str,
        request: &http::request::Parts,
        response: Response,
        now: SystemTime,
    ) -> Result<Fetched, IndexError> {
        let mut response = response.ok()?;
        let mut body = std::mem::take(&mut response.body);
        let parts = response.parts();
        let options = CacheOptions {
            shared: false,
            // Never guess freshness from Last-Modified: an index page must not go stale
            // silently for weeks.
            cache_heuristic: 0.0,
            ..CacheOptions::default()
        };
        let policy = CachePolicy::new_options(request, &parts, now, options);
        if policy.is_storable() {
            let header = EntryHeader {
                url: bare.to_string(),
                accept: accept.to_string(),
                final_url: response.url.to_string(),
                stored_at: now_secs(now),
                content_type: response.content_type.clone(),
                policy,
                body_len: body.len() as u64,
                body_sha256: sha256_hex(&body),
            };
            body = write_cache(cache, header, body).await?;
        }
        Ok(Fetched {
            body,
            content_type: response.content_type,
            url: response.url,
            origin: FetchOrigin::Network,
            fetched_at: now,
        })
    }

    /// Hands the wheels that must be downloaded whole for their metadata to `keeper` (the
    /// installer's store) from now on; the first keeper set stays.
    pub fn keep_whole_wheels(&self, keeper: Arc<dyn crate::metadata::WholeWheels>) {
        let _ = self.inner.whole_wheels.set(keeper);
    }

    pub(crate) fn whole_wheels(&self) -> Option<&Arc<dyn crate::metadata::WholeWheels>> {
        self.inner.whole_wheels.get()
    }

    /// Where to keep whole wheels downloaded for their metadata, when there is a cache.
    pub(crate) fn downloads_dir(&self) -> Option<std::path::PathBuf> {
        let cache = self.inner.cache.as_ref()?;
        cache
            .downloads()
            .map_err(|err| tracing::debug!("not keeping downloaded wheels: {err}"))
            .ok()
    }

    /// GET without the cache; fails on any non-2xx status.
    pub async fn get(&self, url: &Url, accept: &str) -> Result<Fetched, IndexError> {
        if self.inner.settings.offline {
            return Err(IndexError::Offline { url: redact(url) });
        }
        let mut headers = HeaderMap::new();
        if !accept.is_empty() {
            headers.insert(
                ACCEPT,
                HeaderValue::from_str(accept).map_err(|e| IndexError::Client(e.to_string()))?,
            );
        }
        let response = self.send(url, &headers).await?.ok()?;
        Ok(Fetched {
            body: response.body,
            content_type: response.content_type,
            url: response.url,
            origin: FetchOrigin::Network,
            fetched_at: SystemTime::now(),
        })
    }

    /// GET a byte range (`Range: bytes=...`). Returns the status (206, or 200 if the server
    /// ignores ranges and sent everything), the body and the total size if known.
    pub(crate) async fn get_range(
        &self,
        url: &Url,
        range: &str,
    ) -> Result<(u16, Vec<u8>, Option<u64>), IndexError> {
        if self.inner.settings.offline {
            return Err(IndexError::Offline { url: redact(url) });
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::RANGE,
            HeaderValue::from_str(range).map_err(|e| IndexError::Client(e.to_string()))?,
        );
        // Ranges are of the raw bytes: no transparent decompression.
        headers.insert(
            reqwest::header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        let response = self.send(url, &headers).await?;
        let status = response.status.as_u16();
        if status == 416 {
            return Ok((status, Vec::new(), None));
        }
        let response = response.ok()?;
        let total = if status == 206 {
            response
                .headers
                .get(reqwest::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit('/').next())
                .and_then(|t| t.parse().ok())
        } else {
            Some(response.body.len() as u64)
        };
        Ok((status, response.body, total))
    }

    /// GET into a file, for bodies too big to hold in memory (wheels). Retries and resumes
    /// like every other request (a broken body continues with `Range`/`If-Range` where the
    /// server allows it, and starts over otherwise). `file` is truncated first; `observer`
    /// sees every byte written, in order, and is told when the body starts over, so it can
    /// hash the file as it arrives. `path` (where `file` lives) names it in errors. Fails on
    /// any non-2xx status.
    pub async fn download(
        &self,
        url: &Url,
        file: &mut tokio::fs::File,
        path: &Path,
        observer: &mut dyn DownloadObserver,
    ) -> Result<Downloaded, IndexError> {
        let sink = Sink::File {
            file,
            path,
            written: 0,
            observer,
        };
        self.fetch_into(url, sink).await
    }

    /// Like [`Self::download`], but the body goes to `observer` piece by piece (as the
    /// pieces arrive, without copies) instead of to a file: for unpacking a wheel while it
    /// downloads. The same retries, resumes and restarts apply.
    pub async fn stream(
        &self,
        url: &Url,
        observer: &mut dyn StreamObserver,
    ) -> Result<Downloaded, IndexError> {
        let sink = Sink::Stream {
            observer,
            written: 0,
        };
        self.fetch_into(url, sink).await
    }

    /// A plain GET of a file's body into `sink` ([`Self::download`], [`Self::stream`]).
    async fn fetch_into(&self, url: &Url, mut sink: Sink<'_>) -> Result<Downloaded, IndexError> {
        if self.inner.settings.offline {
            return Err(IndexError::Offline { url: redact(url) });
        }
        let response = self
            .send_to(url, &HeaderMap::new(), &mut sink)
            .await?
            .ok()?;
        Ok(Downloaded {
            url: response.url,
            bytes: sink.len(),
            content_type: response.content_type,
        })
    }

    /// Sends a GET with retries for connection errors, 5xx and broken bodies. A body that
    /// breaks off is resumed with a range request when the server supports it (same ETag),
    /// and restarted otherwise. Returns any final status, including 304 and 4xx.
    async fn send(&self, url: &Url, headers: &HeaderMap) -> Result<Response, IndexError> {
        let mut sink = Sink::Memory(Vec::new());
        self.send_to(url, headers, &mut sink).await
    }

    /// [`Self::send`], with the body going to `sink`.
    async fn send_to(
        &self,
        url: &Url,
        headers: &HeaderMap,
        sink: &mut Sink<'_>,
    ) -> Result<Response, IndexError> {
        let gate = host_key(url).map(|host| {
            let mut reached = self.inner.reached.lock().unwrap_or_else(|e| e.into_inner());
            reached.entry(host).or_default().clone()
        });
        if let Some(gate) = gate {
            let mut first = gate.lock().await;
            if !*first {
                let result = self.send_now(url, headers, sink).await;
                *first = true;
                return result;
            }
        }
        self.send_now(url, headers, sink).await
    }

    async fn send_now(
        &self,
        url: &Url,
        headers: &HeaderMap,
        sink: &mut Sink<'_>,
    ) -> Result<Response, IndexError> {
        let _permit = self
            .inner
            .limit
            .acquire()
            .await
            .map_err(|e| IndexError::Client(e.to_string()))?;
        let (bare, mut creds) = self.inner.auth.credentials_for(url);
        let mut asked_keyring = false;
        // A user name without a password (`https://USER@host/`): the keyring is asked first,
        // as uv does, rather than sending an empty password that some servers answer with 403.
        let user_only = matches!(&creds, Some((user, None)) if !user.is_empty());
        if user_only && self.inner.keyring.enabled() {
            asked_keyring = true;
            if let Some(found) = self.ask_keyring(&bare, creds.as_ref()).await {
                creds = Some(found);
            }
        }
        let shown = redact(&bare);
        let max_attempts = self.inner.settings.retries + 1;
        // The ETag of a body that broke off and can be resumed from `sink.len()`.
        let mut partial: Option<HeaderValue> = None;
        let mut attempt = 0;
        let dest = sink_path(sink);
        let write_error = |source| IndexError::Write {
            url: shown.clone(),
            path: dest.clone(),
            source,
        };
        loop {
            attempt += 1;
            let mut request = self.inner.client.get(bare.clone()).headers(headers.clone());
            if let Some((user, password)) = &creds {
                request = request.basic_auth(user, password.as_deref());
            }
            if let Some(etag) = &partial {
                request = request
                    .header(reqwest::header::RANGE, format!("bytes={}-", sink.len()))
                    .header(reqwest::header::IF_RANGE, etag.clone());
            }
            tracing::debug!("GET {shown} (attempt {attempt})");
            let result = request.send().await;
            let response = match result {
                Ok(response) => response,
                Err(err) => {
                    if err.is_redirect() || attempt >= max_attempts || err.is_builder() {
                        return Err(IndexError::Request {
                            url: shown,
                            attempts: attempt,
                            source: err,
                        });
                    }
                    tracing::warn!("retrying {shown} after: {}", error_chain(&err));
                    self.backoff(attempt).await;
                    continue;
                }
            };
            let status = response.status();
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                if attempt >= max_attempts {
                    return Err(IndexError::Status {
                        url: shown,
                        status: status.as_u16(),
                        attempts: attempt,
                    });
                }
                // A server that says when to come back (`Retry-After`, as 503 and 429 may) is
                // believed, up to a limit; otherwise the usual backoff.
                match retry_after(response.headers()) {
                    Some(wait) => {
                        tracing::warn!(
                            "retrying {shown} in {} s, as its HTTP {} asks",
                            wait.as_secs(),
                            status.as_u16()
                        );
                        tokio::time::sleep(wait).await;
                    }
                    None => {
                        tracing::warn!("retrying {shown} after HTTP {}", status.as_u16());
                        self.backoff(attempt).await;
                    }
                }
                continue;
            }
            if status == StatusCode::UNAUTHORIZED {
                let has_password = creds
                    .as_ref()
                    .is_some_and(|(_, p)| p.as_deref().is_some_and(|p| !p.is_empty()));
                if !has_password && !asked_keyring && self.inner.keyring.enabled() {
                    asked_keyring = true;
                    if let Some(found) = self.ask_keyring(&bare, creds.as_ref()).await {
                        creds = Some(found);
                        // Asking again with credentials is not a retry.
                        attempt -= 1;
                        continue;
                    }
                }
                return Err(if has_password {
                    IndexError::Forbidden {
                        url: shown,
                        status: 401,
                    }
                } else {
                    IndexError::Unauthorized { url: shown }
                });
            }
            let final_url = response.url().clone();
            let response_headers = response.headers().clone();
            let expected = response.content_length();
            let resumed = partial.is_some()
                && status == StatusCode::PARTIAL_CONTENT
                && headers.get(reqwest::header::RANGE).is_none();
            let (final_bare, _) = crate::url_util::split_credentials(&final_url);
            // Bodies left unread: an error page where a file was asked for (it is not the
            // file), and a whole file sent in answer to a range request when it is large or of
            // unknown size (rather than hold a whole wheel in memory; the caller sees a 200 with
            // an empty body).
            let error_page = sink.is_file() && !status.is_success();
            let unwanted_whole = status == StatusCode::OK
                && !sink.is_file()
                && headers.contains_key(reqwest::header::RANGE)
                && expected.is_none_or(|length| length > WHOLE_FOR_RANGE_LIMIT);
            if error_page || unwanted_whole {
                return Ok(Response {
                    status,
                    headers: response_headers,
                    body: Vec::new(),
                    content_type: None,
                    url: final_bare,
                    shown,
                    attempts: attempt,
                });
            }
            if !resumed {
                sink.clear().await.map_err(write_error)?;
            }
            let start_len = sink.len();
            sink.started(expected.map(|e| e + start_len)).await;
            let mut response = response;
            let outcome = loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => sink.push(chunk).await.map_err(write_error)?,
                    Ok(None) => break Ok(()),
                    Err(err) => break Err(err),
                }
            };
            let got = sink.len() - start_len;
            let short = expected.is_some_and(|e| got < e)
                && !response_headers.contains_key(reqwest::header::CONTENT_ENCODING);
            if outcome.is_err() || short {
                let expected_total = expected.map(|e| e + start_len).unwrap_or(0);
                if attempt >= max_attempts {
                    return Err(match outcome {
                        Err(err) => IndexError::Request {
                            url: shown,
                            attempts: attempt,
                            source: err,
                        },
                        Ok(()) => IndexError::Truncated {
                            url: shown,
                            got: sink.len(),
                            expected: expected_total,
                            attempts: attempt,
                        },
                    });
                }
                // Resume only plain full-body GETs from servers that offer ranges and an ETag.
                // (A resumed body that breaks again resumes again from where it now ends.)
                let offers_ranges = response_headers
                    .get(reqwest::header::ACCEPT_RANGES)
                    .is_some_and(|v| v.as_bytes() == b"bytes");
                let can_resume = ((status == StatusCode::OK && offers_ranges) || resumed)
                    && headers.get(reqwest::header::RANGE).is_none()
                    && !response_headers.contains_key(reqwest::header::CONTENT_ENCODING);
                partial = match (can_resume, response_headers.get(reqwest::header::ETAG)) {
                    (true, Some(etag)) if sink.len() > 0 => Some(etag.clone()),
                    _ => None,
                };
                tracing::warn!(
                    "{} {shown} after its body broke off",
                    if partial.is_some() {
                        "resuming"
                    } else {
                        "restarting"
                    }
                );
                self.backoff(attempt).await;
                continue;
            }
            sink.finish().await.map_err(write_error)?;
            let status = if resumed { StatusCode::OK } else { status };
            let content_type = response_headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| {
                    v.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                });
            return Ok(Response {
                status,
                headers: response_headers,
                body: sink.take_memory(),
                content_type,
                url: final_bare,
                shown,
                attempts: attempt,
            });
        }
    }

    /// Credentials for `bare` (a URL without any) from the keyring, asked with the user name
    /// of `sent` if there is one; remembered for the host when found.
    async fn ask_keyring(
        &self,
        bare: &Url,
        sent: Option<&(String, Option<String>)>,
    ) -> Option<(String, Option<String>)> {
        let user = sent.map(|(u, _)| u.as_str());
        let (services, username) = self.inner.auth.keyring_services(bare, user);
        let (user, password) = self
            .inner
            .keyring
            .credentials(&services, username.as_deref())
            .await?;
        let found = (user, Some(password));
        self.inner.auth.remember_for(bare, found.clone());
        Some(found)
    }

    async fn backoff(&self, attempt: u32) {
        let delay =
            self.inner.settings.retry_delay * 2u32.saturating_pow(attempt.saturating_sub(1).min(5));
        tokio::time::sleep(delay.min(Duration::from_secs(5))).await;
    }
}

/// The longest `Retry-After` ferry waits for; a longer one is cut to this.
const RETRY_AFTER_LIMIT: Duration = Duration::from_secs(30);

/// A response's `Retry-After` (seconds, or an HTTP date), at most [`RETRY_AFTER_LIMIT`].
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(SystemTime::now())
            .unwrap_or_default(),
    };
    Some(wait.min(RETRY_AFTER_LIMIT))
}

/// Watches a streamed [`HttpClient::download`]: what arrives, and when it starts over.
pub trait DownloadObserver: Send {
    /// A response body is about to be read; `length` is the size of the whole file if the
    /// server announced it. Awaited before the body is read, so a caller can wait here for
    /// room (a byte budget, say). Called again for each retry.
    fn started(&mut self, _length: Option<u64>) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    /// The next bytes of the body, in order (after a resume, the bytes after those seen).
    fn data(&mut self, bytes: &[u8]);
    /// Everything seen so far is void: the body starts again from its first byte.
    fn restart(&mut self);
}

/// Takes a streamed [`HttpClient::stream`] body, piece by piece.
pub trait StreamObserver: Send {
    /// As [`DownloadObserver::started`].
    fn started(&mut self, _length: Option<u64>) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
    /// The next piece of the body, in order (after a resume, the bytes after those seen).
    /// Awaited, so a slow consumer slows the download rather than filling memory.
    fn data(&mut self, bytes: bytes::Bytes) -> BoxFuture<'_, ()>;
    /// Everything seen so far is void: the body starts again from its first byte.
    fn restart(&mut self) -> BoxFuture<'_, ()>;
}

/// What [`HttpClient::download`] wrote.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// Where the body finally came from, after redirects (never with credentials).
    pub url: Url,
    /// The size of the file.
    pub bytes: u64,
    /// The `Content-Type` without parameters, lowercased.
    pub content_type: Option<String>,
}

/// The largest whole body a range request keeps when the server ignores the range.
const WHOLE_FOR_RANGE_LIMIT: u64 = 1024 * 1024;

/// Where a response body goes: memory (index pages, metadata), a file (downloads), or a
/// consumer of the stream (downloads unpacked as they arrive).
enum Sink<'a> {
    Memory(Vec<u8>),
    File {
        file: &'a mut tokio::fs::File,
        path: &'a Path,
        written: u64,
        observer: &'a mut dyn DownloadObserver,
    },
    Stream {
        observer: &'a mut dyn StreamObserver,
        written: u64,
    },
}

fn sink_path(sink: &Sink<'_>) -> PathBuf {
    match sink {
        Sink::Memory(_) | Sink::Stream { .. } => PathBuf::new(),
        Sink::File { path, .. } => path.to_path_buf(),
    }
}

impl Sink<'_> {
    /// Whether the body is a file being downloaded (not a page or metadata kept in memory).
    fn is_file(&self) -> bool {
        !matches!(self, Sink::Memory(_))
    }

    fn len(&self) -> u64 {
        match self {
            Sink::Memory(body) => body.len() as u64,
            Sink::File { written, .. } | Sink::Stream { written, .. } => *written,
        }
    }

    /// Drops everything received so far.
    async fn clear(&mut self) -> std::io::Result<()> {
        use tokio::io::AsyncSeekExt;
        match self {
            Sink::Memory(body) => body.clear(),
            Sink::File {
                file,
                written,
                observer,
                ..
            } => {
                file.rewind().await?;
                file.set_len(0).await?;
                *written = 0;
                observer.restart();
            }
            Sink::Stream { observer, written } => {
                if *written > 0 {
                    observer.restart().await;
                }
                *written = 0;
            }
        }
        Ok(())
    }

    async fn started(&mut self, length: Option<u64>) {
        match self {
            Sink::File { observer, .. } => observer.started(length).await,
            Sink::Stream { observer, .. } => observer.started(length).await,
            Sink::Memory(_) => {}
        }
    }

    async fn push(&mut self, bytes: bytes::Bytes) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        match self {
            Sink::Memory(body) => body.extend_from_slice(&bytes),
            Sink::File {
                file,
                written,
                observer,
                ..
            } => {
                file.write_all(&bytes).await?;
                observer.data(&bytes);
                *written += bytes.len() as u64;
            }
            Sink::Stream { observer, written } => {
                *written += bytes.len() as u64;
                observer.data(bytes).await;
            }
        }
        Ok(())
    }

    /// Makes sure everything written has reached the file.
    async fn finish(&mut self) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        if let Sink::File { file, .. } = self {
            file.flush().await?;
        }
        Ok(())
    }

    fn take_memory(&mut self) -> Vec<u8> {
        match self {
            Sink::Memory(body) => std::mem::take(body),
            Sink::File { .. } | Sink::Stream { .. } => Vec::new(),
        }
    }
}

struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    content_type: Option<String>,
    url: Url,
    shown: String,
    attempts: u32,
}

impl Response {
    fn ok(self) -> Result<Self, IndexError> {
        match self.status.as_u16() {
            200..=299 => Ok(self),
            403 => Err(IndexError::Forbidden {
                url: self.shown,
                status: 403,
            }),
            status => Err(IndexError::Status {
                url: self.shown,
                status,
                attempts: self.attempts,
            }),
        }
    }

    fn parts(&self) -> http::response::Parts {
        let mut builder = http::Response::builder().status(self.status.as_u16());
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        builder.body(()).expect("response parts").into_parts().0
    }
}

/// Writes an HTTP cache entry off the async threads; a failure is only worth a warning.
/// Stores `body` under `header` off the async threads, and gives the body back (so it is not
/// copied to be both stored and used). A failed write is only logged: the cache is an
/// optimization.
async fn write_cache(
    cache: &HttpCache,
    header: EntryHeader,
    body: Vec<u8>,
) -> Result<Vec<u8>, IndexError> {
    let cache = cache.clone();
    let written = tokio::task::spawn_blocking(move || {
        let result = cache.write(&header, &body);
        (result, body)
    })
    .await;
    match written {
        Ok((Ok(()), body)) => Ok(body),
        Ok((Err(err), body)) => {
            tracing::warn!("{err}");
            Ok(body)
        }
        Err(err) => Err(IndexError::Client(format!(
            "writing an HTTP cache entry failed: {err}"
        ))),
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// rustls settings: the OS trust store (which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`) plus
/// any configured bundles, an optional client certificate, and no checks for trusted hosts.
fn tls_config(settings: &HttpSettings) -> Result<rustls::ClientConfig, IndexError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for err in &native.errors {
        tracing::debug!("while loading OS certificates: {err}");
    }
    let (added, _) = roots.add_parsable_certificates(native.certs);
    tracing::debug!("trusting {added} certificates from the OS store");
    for path in &settings.certs {
        let certs = read_certs(path)?;
        if certs.is_empty() {
            return Err(IndexError::Tls {
                path: path.clone(),
                message: "no PEM certificates in it".into(),
            });
        }
        roots.add_parsable_certificates(certs);
    }
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| IndexError::Client(format!("no usable CA certificates: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = if settings.trusted_hosts.is_empty() {
        verifier
    } else {
        Arc::new(TrustedHosts {
            inner: verifier,
            hosts: settings
                .trusted_hosts
                .iter()
                .map(|h| h.split(':').next().unwrap_or(h).to_string())
                .collect(),
        })
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| IndexError::Client(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match &settings.client_cert {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let certs = read_certs(path)?;
            let key = PrivateKeyDer::from_pem_file(path).map_err(|e| IndexError::Tls {
                path: path.clone(),
                message: format!("no private key in it ({e})"),
            })?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| IndexError::Tls {
                    path: path.clone(),
                    message: e.to_string(),
                })?
        }
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, IndexError> {
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| IndexError::Tls {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    iter.collect::<Result<Vec<_>, _>>()
        .map_err(|e| IndexError::Tls {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

/// Skips certificate checks for `--trusted-host` hosts and delegates everything else.
#[derive(Debug)]
struct TrustedHosts {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    hosts: Vec<String>,
}

impl ServerCertVerifier for TrustedHosts {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let name = match server_name {
            ServerName::DnsName(d) => d.as_ref().to_string(),
            ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
            _ => String::new(),
        };
        if self.hosts.contains(&name) {
            return Ok(ServerCertVerified::assertion());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
