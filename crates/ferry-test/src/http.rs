//! Minimal HTTP/1.1 on plain sockets: the request parser of [`crate::IndexServer`] and a
//! client for tests that need to see faults exactly as they happen on the wire.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A request as the server read it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    pub target: String,
    /// The whole URL, when the request came as to a proxy.
    pub absolute: Option<String>,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request head (and discards any body). `Ok(None)` when the peer closed cleanly.
pub(crate) fn read_request<S: Read>(reader: &mut BufReader<S>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(std::io::Error::other(format!("bad request line {line:?}")));
    };
    // A request in absolute form (`GET http://host/path`) is one sent to a proxy: this server
    // answers it as the proxy and the origin both, and remembers the full URL.
    let (target, absolute) = match target
        .strip_prefix("http://")
        .and_then(|rest| rest.find('/').map(|slash| &rest[slash..]))
    {
        Some(path) => (path.to_string(), Some(target.to_string())),
        None => (target.to_string(), None),
    };
    let mut request = Request {
        method: method.to_string(),
        target,
        absolute,
        headers: Vec::new(),
    };
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 {
            break;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':') {
            request
                .headers
                .push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    if let Some(len) = request
        .header("content-length")
        .and_then(|l| l.parse::<u64>().ok())
    {
        std::io::copy(&mut reader.by_ref().take(len), &mut std::io::sink())?;
    }
    Ok(Some(request))
}

/// A response as [`http_get`] saw it.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body ended before `Content-Length` bytes arrived.
    pub truncated: bool,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET url` with extra headers over a fresh connection, reading the whole response. An error
/// means the connection failed or closed before a status line arrived.
pub fn http_get(url: &str, headers: &[(&str, &str)]) -> std::io::Result<HttpResponse> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other("only http:// URLs"))?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;

    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    if reader.read_line(&mut status_line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before a response",
        ));
    }
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
    let mut response = HttpResponse {
        status,
        headers: Vec::new(),
        body: Vec::new(),
        truncated: false,
    };
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            response
                .headers
                .push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let expected = response
        .header("content-length")
        .and_then(|l| l.parse::<usize>().ok());
    // A reset mid-body surfaces as an error from read; keep what arrived.
    let _ = reader.read_to_end(&mut response.body);
    if let Some(expected) = expected {
        response.truncated = response.body.len() < expected;
    }
    Ok(response)
}
