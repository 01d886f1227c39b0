//! Git repositories for tests, made with the real `git` binary, and [`GitServer`]: git's own
//! smart HTTP server (`git http-backend`, run as a CGI program per request) on 127.0.0.1,
//! optionally behind basic authentication, which counts the requests it served.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;

/// Runs `git args` in `dir`, panicking with its output when it fails; returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=ferry", "-c", "user.email=ferry@127.0.0.1"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "protocol.file.allow=always",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository with a work tree at `dir`, on branch `main`.
pub struct GitRepo {
    pub dir: PathBuf,
}

impl GitRepo {
    /// `git init` in `dir` (created).
    pub fn init(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).expect("create the repository directory");
        git(dir, &["init", "-q", "-b", "main"]);
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// Adds everything and commits; returns the new commit id.
    pub fn commit(&self, message: &str) -> String {
        git(&self.dir, &["add", "-A"]);
        git(&self.dir, &["commit", "-q", "--allow-empty", "-m", message]);
        self.head()
    }

    pub fn head(&self) -> String {
        git(&self.dir, &["rev-parse", "HEAD"])
    }

    pub fn tag(&self, name: &str) {
        git(&self.dir, &["tag", "-a", "-m", name, name]);
    }

    pub fn branch(&self, name: &str) {
        git(&self.dir, &["checkout", "-q", "-b", name]);
    }

    pub fn checkout(&self, rev: &str) {
        git(&self.dir, &["checkout", "-q", rev]);
    }

    /// A `file://` URL of the repository.
    pub fn file_url(&self) -> String {
        format!("file://{}", self.dir.display())
    }

    /// A bare copy of it named `name` under `root` (what a server serves), refreshed from the
    /// work tree by [`GitRepo::push_to`].
    pub fn publish(&self, root: &Path, name: &str) -> PathBuf {
        let bare = root.join(name);
        git(
            root,
            &[
                "clone",
                "-q",
                "--bare",
                &self.dir.display().to_string(),
                &bare.display().to_string(),
            ],
        );
        git(&bare, &["config", "http.receivepack", "false"]);
        bare
    }

    /// Pushes every branch and tag to the bare repository `bare`.
    pub fn push_to(&self, bare: &Path) {
        git(
            &self.dir,
            &[
                "push",
                "-q",
                "--force",
                &bare.display().to_string(),
                "refs/heads/*:refs/heads/*",
                "refs/tags/*:refs/tags/*",
            ],
        );
    }
}

/// `git http-backend` served on 127.0.0.1.
pub struct GitServer {
    port: u16,
    root: PathBuf,
    requests: Arc<AtomicUsize>,
    auth: Arc<Mutex<Option<String>>>,
}

impl GitServer {
    /// Serves the bare repositories under `root` (`http://127.0.0.1:PORT/<name>`).
    pub fn start(root: &Path) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port for git");
        let port = listener.local_addr().expect("a local address").port();
        let requests = Arc::new(AtomicUsize::new(0));
        let auth: Arc<Mutex<Option<String>>> = Arc::default();
        let server = Self {
            port,
            root: root.to_path_buf(),
            requests: Arc::clone(&requests),
            auth: Arc::clone(&auth),
        };
        let root = root.to_path_buf();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                let requests = Arc::clone(&requests);
                let auth = auth.lock().unwrap_or_else(|e| e.into_inner()).clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &root, &requests, auth.as_deref());
                });
            }
        });
        server
    }

    /// Requires basic authentication with these credentials from now on.
    pub fn require_auth(&self, user: &str, password: &str) -> &Self {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        *self.auth.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("Basic {token}"));
        self
    }

    /// `http://127.0.0.1:PORT/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    /// The same with credentials in it.
    pub fn url_with_credentials(&self, name: &str, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@127.0.0.1:{}/{name}", self.port)
    }

    /// How many requests were served so far (including refused ones).
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn serve(
    stream: TcpStream,
    root: &Path,
    requests: &AtomicUsize,
    auth: Option<&str>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("GET").to_string(),
        parts.next().unwrap_or("/").to_string(),
    );
    let mut headers = Vec::new();
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
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut body = Vec::new();
    if let Some(len) = header("content-length").and_then(|l| l.parse::<u64>().ok()) {
        reader.by_ref().take(len).read_to_end(&mut body)?;
    } else if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    if let Some(expected) = auth {
        if header("authorization") != Some(expected) {
            writer.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
            return Ok(());
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut cgi = Command::new("git");
    cgi.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(kind) = header("content-type") {
        cgi.env("CONTENT_TYPE", kind);
    }
    if let Some(encoding) = header("content-encoding") {
        cgi.env("HTTP_CONTENT_ENCODING", encoding);
    }
    if let Some(protocol) = header("git-protocol") {
        cgi.env("GIT_PROTOCOL", protocol);
    }
    let mut child = cgi.spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output()?;
    let _ = feeder.join();
    // CGI output: headers (maybe with `Status:`), a blank line, the body.
    let out = output.stdout;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, 4))
        .or_else(|| out.windows(2).position(|w| w == b"\n\n").map(|p| (p, 2)));
    let (head, rest) = match split {
        Some((at, len)) => (
            String::from_utf8_lossy(&out[..at]).into_owned(),
            &out[at + len..],
        ),
        None => (String::new(), &out[..]),
    };
    let mut status = "200 OK".to_string();
    let mut response_headers = String::new();
    for line in head.lines() {
        match line.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("status") => status = v.trim().to_string(),
            Some(_) => {
                response_headers.push_str(line.trim_end());
                response_headers.push_str("\r\n");
            }
            None => {}
        }
    }
    write!(
        writer,
        "HTTP/1.1 {status}\r\n{response_headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        rest.len()
    )?;
    writer.write_all(rest)?;
    writer.flush()
}
