//! A package index on 127.0.0.1 for hermetic tests.

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;

use crate::dist::{normalize_name, BuiltFile};
use crate::http::{read_request, Request};
use crate::sha256_hex;

/// Which representation project pages are served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageFormat {
    /// PEP 691 content negotiation on the `Accept` header (JSON when asked for).
    Negotiate,
    /// Always PEP 503 HTML, whatever was asked (like some caching proxies).
    Html,
    /// Always PEP 691 JSON.
    Json,
}

/// How one published file is listed.
#[derive(Debug, Clone, Default)]
pub struct FileOptions {
    /// PEP 592: `Some("")` yanks without a reason, `Some(reason)` with one.
    pub yanked: Option<String>,
    /// Overrides the `requires-python` listed for the file (default: from its metadata).
    pub requires_python: Option<String>,
    /// Do not offer a PEP 658 `.metadata` file (by default wheels get one).
    pub no_metadata: bool,
    /// Advertise a sha256 that does not match the file.
    pub wrong_hash: bool,
    /// Advertise no hash at all.
    pub no_hash: bool,
    /// Advertise a sha256 for the `.metadata` file that does not match it.
    pub wrong_metadata_hash: bool,
    /// Upload time in RFC 3339 form (default: a fixed date).
    pub upload_time: Option<String>,
    /// PEP 740: a provenance object, served at `/files/<filename>.provenance` and listed as
    /// the file's `provenance` (`data-provenance`).
    pub provenance: Option<Vec<u8>>,
    /// Serve the provenance only at the integrity endpoint
    /// (`/integrity/PROJECT/VERSION/FILENAME/provenance`), not linked from the pages.
    pub provenance_unlisted: bool,
}

/// What a fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this status and a short body.
    Status(u16),
    /// Close the connection without answering.
    Drop,
    /// Announce the full `Content-Length`, send only this many body bytes, then close.
    Truncate(usize),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Answer `302 Found` with this `Location` (a path on this server or a full URL).
    Redirect(String),
    /// Answer with this status and a `Retry-After` of this many seconds.
    RetryAfter(u16, u64),
    /// Send only this many body bytes, with a `Content-Length` that says so: a response that
    /// looks whole but is not the resource.
    ShortLength(usize),
    /// Send the body in pieces of this many bytes with a pause between them.
    Slow(usize, Duration),
    /// Send this many body bytes, then stop sending for this long, then close.
    Stall(usize, Duration),
    /// Answer 200 with this body and content type instead of the resource.
    Body(Vec<u8>, String),
}

/// A fault applied to requests whose path contains `path`, for the next `times` matching
/// requests (or all of them).
#[derive(Debug, Clone)]
pub struct Fault {
    pub path: String,
    pub kind: FaultKind,
    pub times: Option<usize>,
    /// Match the path exactly rather than as a part of it.
    pub exact: bool,
}

impl Fault {
    pub fn status(path: &str, status: u16) -> Self {
        Self::new(path, FaultKind::Status(status))
    }

    pub fn drop_connection(path: &str) -> Self {
        Self::new(path, FaultKind::Drop)
    }

    pub fn truncate(path: &str, bytes: usize) -> Self {
        Self::new(path, FaultKind::Truncate(bytes))
    }

    pub fn delay(path: &str, delay: Duration) -> Self {
        Self::new(path, FaultKind::Delay(delay))
    }

    pub fn redirect(path: &str, location: &str) -> Self {
        Self::new(path, FaultKind::Redirect(location.to_string()))
    }

    pub fn new(path: &str, kind: FaultKind) -> Self {
        Self {
            path: path.to_string(),
            kind,
            times: None,
            exact: false,
        }
    }

    /// Applies only to requests for exactly `path` (not, say, to `path.metadata`).
    pub fn exact(mut self) -> Self {
        self.exact = true;
        self
    }

    /// Applies only to the next `n` matching requests; later ones are served normally.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }
}

/// One request the server received, and the status it answered (`None` when a fault dropped
/// the connection).
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub status: Option<u16>,
    /// The whole URL asked for, when the request came as to a proxy (`GET http://host/path`).
    pub proxied: Option<String>,
}

impl RequestRecord {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Entry {
    file: BuiltFile,
    options: FileOptions,
}

struct State {
    projects: BTreeMap<String, Vec<Entry>>,
    faults: Vec<Fault>,
    auth: Option<(String, String)>,
    format: PageFormat,
    api_version: String,
    cache_control: Option<String>,
    ranges: bool,
    requests: Vec<RequestRecord>,
}

/// A PEP 503/691 index on an ephemeral port of 127.0.0.1, stopped when dropped.
///
/// Layout: `/simple/` (project list), `/simple/<project>/` (project page; unnormalized names
/// redirect), `/files/<filename>` (distributions, with `Range` and `ETag` support) and
/// `/files/<filename>.metadata` (PEP 658).
pub struct IndexServer {
    addr: SocketAddr,
    scheme: &'static str,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl IndexServer {
    /// Starts an empty index over plain HTTP.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// Starts an empty index over HTTPS with the given server configuration (see
    /// [`crate::TestCa`]).
    pub fn start_tls(config: Arc<rustls::ServerConfig>) -> Self {
        Self::start_with(Some(config))
    }

    fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State {
            projects: BTreeMap::new(),
            faults: Vec::new(),
            auth: None,
            format: PageFormat::Negotiate,
            api_version: "1.1".into(),
            cache_control: None,
            ranges: true,
            requests: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let state = Arc::clone(&state);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let state = Arc::clone(&state);
                    let tls = tls.clone();
                    std::thread::spawn(move || serve_connection(stream, &state, tls.as_ref()));
                }
            })
        };
        Self {
            addr,
            scheme,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` (or `https://`).
    pub fn base_url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The index URL to hand to ferry or pip: `http://127.0.0.1:PORT/simple/`.
    pub fn url(&self) -> String {
        format!("{}/simple/", self.base_url())
    }

    /// The index URL with basic-auth credentials in it.
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        format!("{}://{user}:{password}@{}/simple/", self.scheme, self.addr)
    }

    /// Where a published file is served.
    pub fn file_url(&self, filename: &str) -> String {
        format!("{}/files/{filename}", self.base_url())
    }

    /// Publishes a built file under its project.
    pub fn publish(&self, file: &BuiltFile) -> &Self {
        self.publish_with(file, FileOptions::default())
    }

    /// Publishes a built file with listing options (yanked, hashes, metadata, ...).
    pub fn publish_with(&self, file: &BuiltFile, options: FileOptions) -> &Self {
        let mut state = self.lock();
        let entries = state
            .projects
            .entry(normalize_name(&file.name))
            .or_default();
        entries.retain(|e| e.file.filename != file.filename);
        entries.push(Entry {
            file: file.clone(),
            options,
        });
        self
    }

    /// Adds a fault; faults are checked in the order added.
    pub fn fault(&self, fault: Fault) -> &Self {
        self.lock().faults.push(fault);
        self
    }

    pub fn clear_faults(&self) -> &Self {
        self.lock().faults.clear();
        self
    }

    /// Requires HTTP basic auth on every request.
    pub fn require_auth(&self, user: &str, password: &str) -> &Self {
        self.lock().auth = Some((user.to_string(), password.to_string()));
        self
    }

    pub fn set_format(&self, format: PageFormat) -> &Self {
        self.lock().format = format;
        self
    }

    /// The PEP 629 `api-version` advertised (default `1.1`).
    pub fn set_api_version(&self, version: &str) -> &Self {
        self.lock().api_version = version.to_string();
        self
    }

    /// A `Cache-Control` header for project pages (default: none).
    pub fn set_cache_control(&self, value: &str) -> &Self {
        self.lock().cache_control = Some(value.to_string());
        self
    }

    /// Whether `Range` requests are honoured (default true); when off, files are always sent
    /// whole with status 200, as by servers without range support.
    pub fn set_ranges(&self, enabled: bool) -> &Self {
        self.lock().ranges = enabled;
        self
    }

    /// A flat HTML page linking every published file (for `--find-links`).
    pub fn links_url(&self) -> String {
        format!("{}/links/", self.base_url())
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().requests.clone()
    }

    /// How many requests had a path containing `needle`.
    pub fn count_requests(&self, needle: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.path.contains(needle))
            .count()
    }

    pub fn clear_requests(&self) -> &Self {
        self.lock().requests.clear();
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for IndexServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    fn text(status: u16, body: &str) -> Self {
        Self::new(
            status,
            "text/plain; charset=utf-8",
            body.as_bytes().to_vec(),
        )
    }

    fn redirect(location: &str) -> Self {
        let mut r = Self::text(301, "moved");
        r.headers.push(("Location".into(), location.into()));
        r
    }
}

fn serve_connection(
    stream: TcpStream,
    state: &Mutex<State>,
    tls: Option<&Arc<rustls::ServerConfig>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    match tls {
        None => serve_stream(stream, state),
        Some(config) => {
            let Ok(connection) = rustls::ServerConnection::new(Arc::clone(config)) else {
                return;
            };
            serve_stream(rustls::StreamOwned::new(connection, stream), state);
        }
    }
}

/// Serves requests on one connection (plain or TLS) until it closes. Returning drops the
/// stream, which is how faults cut connections short.
fn serve_stream<S: std::io::Read + Write>(stream: S, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream);
    loop {
        let request = match read_request(&mut reader) {
            Ok(Some(r)) => r,
            _ => return,
        };
        let close = request
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let path = request
            .target
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();

        let fault = take_fault(state, &path);
        let mut record = RequestRecord {
            method: request.method.clone(),
            path: request.target.clone(),
            headers: request.headers.clone(),
            status: None,
            proxied: request.absolute.clone(),
        };
        if let Some(FaultKind::Delay(delay)) = &fault {
            std::thread::sleep(*delay);
        }
        if fault == Some(FaultKind::Drop) {
            lock(state).requests.push(record);
            return;
        }
        let response = match &fault {
            Some(FaultKind::Status(code)) => {
                Response::text(*code, &format!("injected fault: {code}"))
            }
            Some(FaultKind::RetryAfter(code, seconds)) => {
                let mut r = Response::text(*code, &format!("injected fault: {code}"));
                r.headers.push(("Retry-After".into(), seconds.to_string()));
                r
            }
            Some(FaultKind::Body(body, content_type)) => {
                Response::new(200, content_type, body.clone())
            }
            Some(FaultKind::Redirect(location)) => {
                let mut r = Response::text(302, "redirected");
                r.headers.push(("Location".into(), location.clone()));
                r
            }
            _ => route(&request, &path, state),
        };
        record.status = Some(response.status);
        lock(state).requests.push(record);

        let head_only = request.method.eq_ignore_ascii_case("HEAD");
        let mut head = format!(
            "HTTP/1.1 {} {}\r\n",
            response.status,
            reason(response.status)
        );
        for (k, v) in &response.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let announced = match &fault {
            Some(FaultKind::ShortLength(n)) => (*n).min(response.body.len()),
            _ => response.body.len(),
        };
        head.push_str(&format!("Content-Length: {announced}\r\n"));
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let writer = reader.get_mut();
        if writer.write_all(head.as_bytes()).is_err() {
            return;
        }
        match &fault {
            Some(FaultKind::Truncate(n)) => {
                let n = (*n).min(response.body.len());
                let _ = writer.write_all(&response.body[..n]);
                let _ = writer.flush();
                return;
            }
            Some(FaultKind::ShortLength(n)) if !head_only => {
                let n = (*n).min(response.body.len());
                let _ = writer.write_all(&response.body[..n]);
                let _ = writer.flush();
                continue;
            }
            Some(FaultKind::Slow(piece, pause)) if !head_only => {
                for chunk in response.body.chunks((*piece).max(1)) {
                    if writer
                        .write_all(chunk)
                        .and_then(|()| writer.flush())
                        .is_err()
                    {
                        return;
                    }
                    std::thread::sleep(*pause);
                }
                if close {
                    return;
                }
                continue;
            }
            Some(FaultKind::Stall(n, pause)) if !head_only => {
                let n = (*n).min(response.body.len());
                let _ = writer.write_all(&response.body[..n]);
                let _ = writer.flush();
                std::thread::sleep(*pause);
                return;
            }
            _ => {}
        }
        if !head_only && writer.write_all(&response.body).is_err() {
            return;
        }
        let _ = writer.flush();
        if close {
            return;
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn take_fault(state: &Mutex<State>, path: &str) -> Option<FaultKind> {
    let mut state = lock(state);
    let index = state.faults.iter().position(|f| {
        let matches = match f.exact {
            true => path == f.path,
            false => path.contains(&f.path),
        };
        matches && f.times != Some(0)
    })?;
    let fault = &mut state.faults[index];
    if let Some(times) = fault.times.as_mut() {
        *times -= 1;
    }
    Some(fault.kind.clone())
}

fn route(request: &Request, path: &str, state: &Mutex<State>) -> Response {
    let state = lock(state);
    if let Some((user, password)) = &state.auth {
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        if request.header("authorization") != Some(expected.as_str()) {
            let mut r = Response::text(401, "authentication required");
            r.headers.push((
                "WWW-Authenticate".into(),
                "Basic realm=\"ferry-test\"".into(),
            ));
            return r;
        }
    }

    let mut response = if path == "/simple/" || path == "/simple" {
        project_list(request, &state)
    } else if let Some(rest) = path.strip_prefix("/simple/") {
        let name = rest.trim_end_matches('/');
        let normalized = normalize_name(name);
        if name != normalized || !rest.ends_with('/') {
            return Response::redirect(&format!("/simple/{normalized}/"));
        }
        match state.projects.get(&normalized) {
            Some(entries) => project_page(request, &state, &normalized, entries),
            None => Response::text(404, "no such project"),
        }
    } else if path == "/links/" {
        let mut html = String::from("<!DOCTYPE html>\n<html><body>\n");
        for e in state.projects.values().flatten() {
            html.push_str(&format!(
                "<a href=\"../files/{0}#sha256={1}\">{0}</a><br>\n",
                e.file.filename,
                e.file.sha256()
            ));
        }
        html.push_str("<a href=\"not-a-dist.txt\">notes</a>\n</body></html>\n");
        Response::new(200, HTML_TYPE, html.into_bytes())
    } else if let Some(filename) = path.strip_prefix("/files/") {
        return serve_file(request, &state, filename);
    } else if let Some(rest) = path.strip_prefix("/integrity/") {
        // PROJECT/VERSION/FILENAME/provenance: the file's provenance, listed or not.
        let parts: Vec<&str> = rest.split('/').collect();
        return match parts.as_slice() {
            [_, _, filename, "provenance"] => {
                serve_file(request, &state, &format!("{filename}.provenance"))
            }
            _ => Response::text(404, "not found"),
        };
    } else {
        Response::text(404, "not found")
    };
    if let Some(cache_control) = &state.cache_control {
        response
            .headers
            .push(("Cache-Control".into(), cache_control.clone()));
    }
    with_etag(request, response)
}

fn wants_json(request: &Request, format: PageFormat) -> bool {
    match format {
        PageFormat::Html => false,
        PageFormat::Json => true,
        PageFormat::Negotiate => {
            let accept = request.header("accept").unwrap_or("");
            let mut json_q = 0.0f32;
            let mut html_q = 0.0f32;
            for item in accept.split(',') {
                let mut parts = item.split(';');
                let media = parts.next().unwrap_or("").trim();
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse().ok()))
                    .unwrap_or(1.0);
                match media {
                    "application/vnd.pypi.simple.v1+json"
                    | "application/vnd.pypi.simple.latest+json" => json_q = json_q.max(q),
                    "application/vnd.pypi.simple.v1+html" | "text/html" | "*/*" => {
                        html_q = html_q.max(q)
                    }
                    _ => {}
                }
            }
            json_q > 0.0 && json_q >= html_q
        }
    }
}

const JSON_TYPE: &str = "application/vnd.pypi.simple.v1+json";
const HTML_TYPE: &str = "text/html; charset=utf-8";

fn project_list(request: &Request, state: &State) -> Response {
    if wants_json(request, state.format) {
        let projects: Vec<_> = state
            .projects
            .keys()
            .map(|name| serde_json::json!({ "name": name }))
            .collect();
        let body = serde_json::json!({
            "meta": { "api-version": state.api_version },
            "projects": projects,
        });
        Response::new(200, JSON_TYPE, body.to_string().into_bytes())
    } else {
        let mut html = format!(
            "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"{}\"><title>Simple index</title></head><body>\n",
            state.api_version
        );
        for name in state.projects.keys() {
            html.push_str(&format!("<a href=\"{name}/\">{name}</a><br>\n"));
        }
        html.push_str("</body></html>\n");
        Response::new(200, HTML_TYPE, html.into_bytes())
    }
}

fn advertised_hash(entry: &Entry) -> Option<String> {
    if entry.options.no_hash {
        None
    } else if entry.options.wrong_hash {
        Some(sha256_hex(b"these are not the bytes you are looking for"))
    } else {
        Some(entry.file.sha256())
    }
}

fn metadata_hash(entry: &Entry) -> Option<String> {
    if entry.options.no_metadata || !entry.file.filename.ends_with(".whl") {
        None
    } else if entry.options.wrong_metadata_hash {
        Some(sha256_hex(b"wrong metadata"))
    } else {
        Some(sha256_hex(entry.file.metadata.as_bytes()))
    }
}

fn requires_python(entry: &Entry) -> Option<String> {
    entry
        .options
        .requires_python
        .clone()
        .or_else(|| entry.file.requires_python.clone())
}

fn upload_time(entry: &Entry) -> String {
    entry
        .options
        .upload_time
        .clone()
        .unwrap_or_else(|| "2024-01-01T00:00:00.000000Z".into())
}

fn project_page(request: &Request, state: &State, name: &str, entries: &[Entry]) -> Response {
    if wants_json(request, state.format) {
        let mut versions: Vec<String> = entries.iter().map(|e| e.file.version.clone()).collect();
        versions.sort();
        versions.dedup();
        let files: Vec<_> = entries
            .iter()
            .map(|e| {
                let mut file = serde_json::json!({
                    "filename": e.file.filename,
                    "url": format!("../../files/{}", e.file.filename),
                    "hashes": {},
                    "size": e.file.bytes.len(),
                    "upload-time": upload_time(e),
                });
                if let Some(hash) = advertised_hash(e) {
                    file["hashes"] = serde_json::json!({ "sha256": hash });
                }
                if let Some(rp) = requires_python(e) {
                    file["requires-python"] = serde_json::json!(rp);
                }
                if let Some(reason) = &e.options.yanked {
                    file["yanked"] = if reason.is_empty() {
                        serde_json::json!(true)
                    } else {
                        serde_json::json!(reason)
                    };
                }
                let metadata = match metadata_hash(e) {
                    Some(h) => serde_json::json!({ "sha256": h }),
                    None => serde_json::json!(false),
                };
                file["core-metadata"] = metadata.clone();
                file["dist-info-metadata"] = metadata;
                if e.options.provenance.is_some() && !e.options.provenance_unlisted {
                    file["provenance"] =
                        serde_json::json!(format!("../../files/{}.provenance", e.file.filename));
                }
                file
            })
            .collect();
        let body = serde_json::json!({
            "meta": { "api-version": state.api_version },
            "name": name,
            "versions": versions,
            "files": files,
        });
        Response::new(200, JSON_TYPE, body.to_string().into_bytes())
    } else {
        let mut html = format!(
            "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"{}\"><title>Links for {name}</title></head><body>\n<h1>Links for {name}</h1>\n",
            state.api_version
        );
        for e in entries {
            let mut href = format!("../../files/{}", e.file.filename);
            if let Some(hash) = advertised_hash(e) {
                href.push_str(&format!("#sha256={hash}"));
            }
            let mut attrs = String::new();
            if let Some(rp) = requires_python(e) {
                attrs.push_str(&format!(" data-requires-python=\"{}\"", escape_html(&rp)));
            }
            if let Some(reason) = &e.options.yanked {
                attrs.push_str(&format!(" data-yanked=\"{}\"", escape_html(reason)));
            }
            if let Some(h) = metadata_hash(e) {
                attrs.push_str(&format!(
                    " data-core-metadata=\"sha256={h}\" data-dist-info-metadata=\"sha256={h}\""
                ));
            }
            if e.options.provenance.is_some() && !e.options.provenance_unlisted {
                attrs.push_str(&format!(
                    " data-provenance=\"../../files/{}.provenance\"",
                    e.file.filename
                ));
            }
            html.push_str(&format!(
                "<a href=\"{href}\"{attrs}>{}</a><br>\n",
                e.file.filename
            ));
        }
        html.push_str("</body></html>\n");
        Response::new(200, HTML_TYPE, html.into_bytes())
    }
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn serve_file(request: &Request, state: &State, filename: &str) -> Response {
    if let Some(dist) = filename.strip_suffix(".provenance") {
        let found = state
            .projects
            .values()
            .flatten()
            .find(|e| e.file.filename == dist)
            .and_then(|e| e.options.provenance.clone());
        return match found {
            Some(body) => with_etag(
                request,
                Response::new(200, "application/vnd.pypi.integrity.v1+json", body),
            ),
            None => Response::text(404, "no provenance"),
        };
    }
    let all = state.projects.values().flatten();
    if let Some(dist) = filename.strip_suffix(".metadata") {
        return match all
            .filter(|e| e.file.filename == dist)
            .find(|e| metadata_hash(e).is_some())
        {
            Some(e) => with_etag(
                request,
                Response::new(
                    200,
                    "text/plain; charset=utf-8",
                    e.file.metadata.clone().into_bytes(),
                ),
            ),
            None => Response::text(404, "no metadata"),
        };
    }
    let Some(entry) = state
        .projects
        .values()
        .flatten()
        .find(|e| e.file.filename == filename)
    else {
        return Response::text(404, "no such file");
    };
    let body = &entry.file.bytes;
    let total = body.len();
    let range = request.header("range").filter(|_| state.ranges);
    let mut response = match range.map(|r| parse_range(r, total)) {
        None => Response::new(200, "application/octet-stream", body.clone()),
        Some(Some((start, end))) => {
            let mut r = Response::new(206, "application/octet-stream", body[start..=end].to_vec());
            r.headers.push((
                "Content-Range".into(),
                format!("bytes {start}-{end}/{total}"),
            ));
            r
        }
        Some(None) => {
            let mut r = Response::text(416, "range not satisfiable");
            r.headers
                .push(("Content-Range".into(), format!("bytes */{total}")));
            return r;
        }
    };
    response
        .headers
        .push(("Accept-Ranges".into(), "bytes".into()));
    response
        .headers
        .push(("ETag".into(), format!("\"{}\"", &entry.file.sha256()[..32])));
    response
}

/// Parses a single-range `bytes=` header into an inclusive byte range.
fn parse_range(header: &str, total: usize) -> Option<(usize, usize)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || total == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = if start.is_empty() {
        let suffix: usize = end.parse().ok()?;
        (total.saturating_sub(suffix), total - 1)
    } else {
        let start: usize = start.parse().ok()?;
        let end = if end.is_empty() {
            total - 1
        } else {
            end.parse::<usize>().ok()?.min(total - 1)
        };
        (start, end)
    };
    (start <= end && start < total).then_some((start, end))
}

/// Adds an ETag and `Last-Modified` to a 200 response and answers 304 to a matching
/// `If-None-Match`.
fn with_etag(request: &Request, mut response: Response) -> Response {
    if response.status != 200 {
        return response;
    }
    let etag = format!("\"{}\"", &sha256_hex(&response.body)[..32]);
    let last_modified =
        httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    if request
        .header("if-none-match")
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        response.status = 304;
        response.body.clear();
    }
    response.headers.push(("ETag".into(), etag));
    response
        .headers
        .push(("Last-Modified".into(), last_modified));
    response
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=95-", 100), Some((95, 99)));
        assert_eq!(parse_range("bytes=95-200", 100), Some((95, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=0-1,3-4", 100), None);
    }
}
