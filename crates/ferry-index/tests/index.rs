//! The index client against the local index server: formats, metadata routes, faults,
//! credentials, caching and index strategies.

use std::time::Duration;

use ferry_cache::{Cache, CacheSource};
use ferry_index::{
    CoreMetadata, FetchOrigin, HttpClient, HttpSettings, IndexClient, IndexError, IndexSettings,
    IndexStrategy, IndexUrl, MetadataSource, Netrc,
};
use ferry_test::{Fault, FileOptions, IndexServer, PageFormat, SdistBuilder, WheelBuilder};

fn wheel(name: &str, version: &str) -> ferry_test::BuiltFile {
    WheelBuilder::new(name, version)
        .file(
            &format!("{}/__init__.py", name.replace('-', "_")),
            "X = 1\n",
        )
        .requires_dist("six>=1.0")
        .requires_python(">=3.8")
        .build()
}

fn fast_settings() -> HttpSettings {
    HttpSettings {
        retries: 3,
        retry_delay: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
        ..HttpSettings::default()
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    cache: Cache,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path().join("cache"), CacheSource::Flag);
    Setup { _dir: dir, cache }
}

fn client(setup: &Setup, indexes: &[String], http: HttpSettings) -> IndexClient {
    let http = HttpClient::new(http, Some(&setup.cache)).unwrap();
    IndexClient::new(
        http,
        IndexSettings {
            indexes: indexes
                .iter()
                .map(|u| IndexUrl::parse(u).unwrap())
                .collect(),
            find_links: Vec::new(),
            strategy: IndexStrategy::FirstIndex,
        },
    )
    .unwrap()
}

#[tokio::test]
async fn json_and_html_pages_give_the_same_files() {
    let server = IndexServer::start();
    server.publish(&wheel("demo", "1.0"));
    server.publish_with(
        &wheel("demo", "1.1"),
        FileOptions {
            yanked: Some("bad build".into()),
            ..Default::default()
        },
    );
    server.publish(&SdistBuilder::new("demo", "1.1").build());
    let s = setup();

    let json = client(&s, &[server.url()], fast_settings())
        .project("Demo")
        .await
        .unwrap();
    assert!(server
        .requests()
        .iter()
        .all(|r| r.header("accept").unwrap_or_default().contains("json")));

    // Like some proxies, answer HTML to the JSON request: ferry must parse by Content-Type.
    server.set_format(PageFormat::Html);
    let s2 = setup();
    let html = client(&s2, &[server.url()], fast_settings())
        .project("demo")
        .await
        .unwrap();

    for project in [&json, &html] {
        let mut names: Vec<&str> = project
            .files
            .iter()
            .map(|f| f.file.filename.as_str())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "demo-1.0-py3-none-any.whl",
                "demo-1.1-py3-none-any.whl",
                "demo-1.1.tar.gz"
            ]
        );
        let yanked = project
            .files
            .iter()
            .find(|f| f.file.filename == "demo-1.1-py3-none-any.whl")
            .unwrap();
        assert_eq!(yanked.file.yanked.as_deref(), Some("bad build"));
        assert_eq!(yanked.file.requires_python.as_deref(), Some(">=3.8"));
        assert!(
            matches!(yanked.file.core_metadata, CoreMetadata::Available(ref h) if h.sha256.is_some())
        );
        assert_eq!(
            yanked.file.hashes.sha256.as_deref(),
            Some(wheel("demo", "1.1").sha256().as_str())
        );
        assert_eq!(yanked.name.version().to_string(), "1.1");
    }
}

#[tokio::test]
async fn api_versions_newer_major_fails_newer_minor_warns() {
    let server = IndexServer::start();
    server.publish(&wheel("demo", "1.0"));
    server.set_api_version("1.9");
    let s = setup();
    assert!(client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .is_ok());
    server.set_api_version("2.0");
    let s = setup();
    let err = client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::ApiVersion { .. }), "{err}");
    assert!(err.to_string().contains("2.0"));
}

#[tokio::test]
async fn metadata_by_pep658_then_ranges_then_whole_file() {
    let server = IndexServer::start();
    let with_meta = wheel("demo", "1.0");
    // A wheel big enough that its central directory is not in the first range request.
    let big = WheelBuilder::new("big", "2.0")
        .file(
            "big/data.bin",
            (0..400_000u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect::<Vec<u8>>(),
        )
        .requires_dist("numpy")
        .build();
    server.publish(&with_meta);
    server.publish_with(
        &big,
        FileOptions {
            no_metadata: true,
            ..Default::default()
        },
    );
    let s = setup();
    let client = client(&s, &[server.url()], fast_settings());

    let demo = client.project("demo").await.unwrap();
    let (text, source) = client
        .metadata(&demo.files[0].file, &demo.files[0].source)
        .await
        .unwrap();
    assert_eq!(source, MetadataSource::Pep658);
    assert!(text.contains("Requires-Dist: six>=1.0"));
    assert_eq!(
        server.count_requests("demo-1.0-py3-none-any.whl.metadata"),
        1
    );

    let bigp = client.project("big").await.unwrap();
    server.clear_requests();
    let (text, source) = client
        .metadata(&bigp.files[0].file, &bigp.files[0].source)
        .await
        .unwrap();
    assert_eq!(source, MetadataSource::Range);
    assert!(text.contains("Requires-Dist: numpy"));
    let requests = server.requests();
    assert!(
        requests.iter().all(|r| r.header("range").is_some()),
        "every request was a range request"
    );
    let fetched: usize = requests.len();
    assert!(fetched <= 3, "{fetched} requests");

    // A server without range support: the whole file is used, and its hash checked.
    server.set_ranges(false);
    let (text, source) = client
        .metadata(&bigp.files[0].file, &bigp.files[0].source)
        .await
        .unwrap();
    assert!(matches!(
        source,
        MetadataSource::Range | MetadataSource::WholeFile
    ));
    assert!(text.contains("Requires-Dist: numpy"));
}

#[tokio::test]
async fn metadata_files_are_checked_against_their_hash() {
    let server = IndexServer::start();
    server.publish_with(
        &wheel("demo", "1.0"),
        FileOptions {
            wrong_metadata_hash: true,
            ..Default::default()
        },
    );
    let s = setup();
    let client = client(&s, &[server.url()], fast_settings());
    let demo = client.project("demo").await.unwrap();
    let err = client
        .metadata(&demo.files[0].file, &demo.files[0].source)
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::HashMismatch { .. }), "{err}");
    assert!(err.to_string().contains(".metadata"), "{err}");
}

#[tokio::test]
async fn whole_file_downloads_are_checked_against_the_index_hash() {
    let server = IndexServer::start();
    server.publish_with(
        &wheel("demo", "1.0"),
        FileOptions {
            wrong_hash: true,
            no_metadata: true,
            ..Default::default()
        },
    );
    server.set_ranges(false);
    let s = setup();
    let client = client(&s, &[server.url()], fast_settings());
    let demo = client.project("demo").await.unwrap();
    let err = client
        .metadata(&demo.files[0].file, &demo.files[0].source)
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::HashMismatch { .. }), "{err}");
    assert!(
        err.to_string().contains("demo-1.0-py3-none-any.whl"),
        "{err}"
    );
}

#[tokio::test]
async fn server_errors_and_broken_bodies_are_retried() {
    let server = IndexServer::start();
    server.publish(&wheel("demo", "1.0"));
    server.fault(Fault::status("/simple/demo/", 500).times(2));
    let s = setup();
    let client_ok = client(&s, &[server.url()], fast_settings());
    assert!(client_ok.project("demo").await.is_ok());
    assert_eq!(server.count_requests("/simple/demo/"), 3);

    // A body cut off mid-way is fetched again.
    server.clear_requests();
    server.fault(Fault::truncate("/simple/demo/", 20).times(1));
    let s = setup();
    assert!(client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .is_ok());
    assert_eq!(server.count_requests("/simple/demo/"), 2);

    // A dropped connection too.
    server.fault(Fault::drop_connection("/simple/demo/").times(1));
    let s = setup();
    assert!(client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .is_ok());

    // A download broken off mid-body resumes from where it stopped (a range request).
    let file = client_ok.project("demo").await.unwrap().files[0]
        .file
        .clone();
    server.clear_requests();
    server.fault(Fault::truncate(&file.filename, 100).times(1));
    let fetched = client_ok.http().get(&file.url, "").await.unwrap();
    assert_eq!(fetched.body, wheel("demo", "1.0").bytes);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].header("range"), Some("bytes=100-"));

    // When it keeps failing, the error names the URL and the attempts.
    server.fault(Fault::status("/simple/demo/", 503));
    let s = setup();
    let err = client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("/simple/demo/") && text.contains("503") && text.contains("4 attempts"),
        "{text}"
    );
}

#[tokio::test]
async fn slow_responses_time_out_with_the_url() {
    let server = IndexServer::start();
    server.publish(&wheel("demo", "1.0"));
    server.fault(Fault::delay("/simple/demo/", Duration::from_millis(1500)));
    let s = setup();
    let settings = HttpSettings {
        timeout: Duration::from_millis(300),
        retries: 1,
        ..fast_settings()
    };
    let err = client(&s, &[server.url()], settings)
        .project("demo")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/simple/demo/"), "{err}");
    assert!(
        matches!(err, IndexError::Request { attempts: 2, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn redirect_loops_fail_clearly() {
    let server = IndexServer::start();
    server.publish(&wheel("demo", "1.0"));
    server.fault(Fault::redirect("/simple/demo/", "/simple/demo/"));
    let s = setup();
    let result = client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await;
    let err = result.unwrap_err();
    let text = format!(
        "{err}: {}",
        std::error::Error::source(&err)
            .map(|e| e.to_string())
            .unwrap_or_default()
    );
    assert!(
        text.contains("/simple/demo/") && text.contains("redirect"),
        "{text}"
    );
}

#[tokio::test]
async fn credentials_from_urls_netrc_and_remembered_for_files() {
    let server = IndexServer::start();
    server.publish(&wheel("demo", "1.0"));
    server.require_auth("alice", "s3cret");

    let s = setup();
    let err = client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::Unauthorized { .. }), "{err}");
    assert!(err.to_string().contains("401"));

    // Credentials in the index URL; file downloads (no credentials in the link) reuse them.
    let s = setup();
    let url = server.url_with_credentials("alice", "s3cret");
    let c = client(&s, &[url], fast_settings());
    let demo = c.project("demo").await.unwrap();
    assert!(!demo.files[0].file.url.as_str().contains("s3cret"));
    c.metadata(&demo.files[0].file, &demo.files[0].source)
        .await
        .unwrap();
    let wrong = server.url_with_credentials("alice", "nope");
    let s = setup();
    let err = client(&s, &[wrong], fast_settings())
        .project("demo")
        .await
        .unwrap_err();
    assert!(
        !err.to_string().contains("nope"),
        "passwords are never shown: {err}"
    );
    assert!(
        err.to_string().contains("rejected the credentials"),
        "{err}"
    );

    // ~/.netrc.
    let s = setup();
    let settings = HttpSettings {
        netrc: Netrc::parse("machine 127.0.0.1 login alice password s3cret\n"),
        ..fast_settings()
    };
    assert!(client(&s, &[server.url()], settings)
        .project("demo")
        .await
        .is_ok());
}

#[tokio::test]
async fn fresh_pages_come_from_cache_stale_ones_revalidate() {
    let server = IndexServer::start();
    server.publish(&wheel("demo", "1.0"));
    server.set_cache_control("max-age=600");
    let s = setup();

    let first = client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .unwrap();
    assert_eq!(first.pages[0].origin, Some(FetchOrigin::Network));
    let again = client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .unwrap();
    assert_eq!(again.pages[0].origin, Some(FetchOrigin::CacheFresh));
    assert_eq!(
        server.count_requests("/simple/demo/"),
        1,
        "a fresh page is served without a request"
    );

    // --refresh revalidates: the server answers 304 to the ETag and the body comes from cache.
    let refresh = HttpSettings {
        refresh: true,
        ..fast_settings()
    };
    let revalidated = client(&s, &[server.url()], refresh)
        .project("demo")
        .await
        .unwrap();
    assert_eq!(
        revalidated.pages[0].origin,
        Some(FetchOrigin::CacheRevalidated)
    );
    let last = server.requests().pop().unwrap();
    assert!(last.header("if-none-match").is_some());
    assert_eq!(last.status, Some(304));

    // Stale pages (max-age=0) are revalidated too.
    server.set_cache_control("max-age=0");
    let s = setup();
    client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .unwrap();
    let stale = client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .unwrap();
    assert_eq!(stale.pages[0].origin, Some(FetchOrigin::CacheRevalidated));

    // --offline uses the cache and never the network; without a cached copy it fails.
    let before = server.requests().len();
    let offline = HttpSettings {
        offline: true,
        ..fast_settings()
    };
    let cached = client(&s, &[server.url()], offline.clone())
        .project("demo")
        .await
        .unwrap();
    assert_eq!(cached.pages[0].origin, Some(FetchOrigin::CacheOffline));
    let err = client(&s, &[server.url()], offline)
        .project("other")
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::Offline { .. }), "{err}");
    assert_eq!(server.requests().len(), before);
}

#[tokio::test]
async fn corrupt_cache_entries_are_refetched() {
    let server = IndexServer::start();
    server.publish(&wheel("demo", "1.0"));
    server.set_cache_control("max-age=600");
    let s = setup();
    client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .unwrap();
    let mut entries = Vec::new();
    for dir in std::fs::read_dir(s.cache.root().join("http-v1"))
        .unwrap()
        .flatten()
    {
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            entries.push(file.path());
        }
    }
    assert_eq!(entries.len(), 1);
    // Flip a byte in the body.
    let mut bytes = std::fs::read(&entries[0]).unwrap();
    let last = bytes.len() - 5;
    bytes[last] ^= 0x55;
    std::fs::write(&entries[0], &bytes).unwrap();
    let again = client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .unwrap();
    assert_eq!(again.pages[0].origin, Some(FetchOrigin::Network));
    assert_eq!(again.files.len(), 1);
    // Truncate it.
    std::fs::write(&entries[0], &bytes[..10]).unwrap();
    let again = client(&s, &[server.url()], fast_settings())
        .project("demo")
        .await
        .unwrap();
    assert_eq!(again.pages[0].origin, Some(FetchOrigin::Network));
}

#[tokio::test]
async fn first_index_wins_unless_best_match() {
    let a = IndexServer::start();
    let b = IndexServer::start();
    a.publish(&wheel("demo", "1.0"));
    b.publish(&wheel("demo", "2.0"));
    b.publish(&wheel("only-b", "1.0"));
    let s = setup();
    let first = client(&s, &[a.url(), b.url()], fast_settings());
    let demo = first.project("demo").await.unwrap();
    let versions: Vec<String> = demo
        .files
        .iter()
        .map(|f| f.name.version().to_string())
        .collect();
    assert_eq!(
        versions,
        ["1.0"],
        "the first index that has a project is the only source for it"
    );
    assert_eq!(b.count_requests("/simple/demo/"), 0);
    assert_eq!(
        first.project("only-b").await.unwrap().files.len(),
        1,
        "a project missing from the first index comes from the next"
    );

    let http = HttpClient::new(fast_settings(), Some(&s.cache)).unwrap();
    let merged = IndexClient::new(
        http,
        IndexSettings {
            indexes: vec![
                IndexUrl::parse(&a.url()).unwrap(),
                IndexUrl::parse(&b.url()).unwrap(),
            ],
            find_links: Vec::new(),
            strategy: IndexStrategy::UnsafeBestMatch,
        },
    )
    .unwrap();
    let mut versions: Vec<String> = merged
        .project("demo")
        .await
        .unwrap()
        .files
        .iter()
        .map(|f| f.name.version().to_string())
        .collect();
    versions.sort();
    assert_eq!(versions, ["1.0", "2.0"]);

    let err = first.project("nowhere").await.unwrap_err();
    assert!(matches!(err, IndexError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn find_links_directories_file_urls_and_pages() {
    let server = IndexServer::start();
    server.publish(&wheel("demo", "1.0"));
    server.publish(&SdistBuilder::new("demo", "0.9").build());
    let dir = tempfile::tempdir().unwrap();
    wheel("demo", "3.0").write_to(dir.path());
    std::fs::write(dir.path().join("README.txt"), "not a distribution").unwrap();
    let page = dir.path().join("links.html");
    std::fs::write(
        &page,
        "<a href=\"demo-3.0-py3-none-any.whl\">w</a><a href=\"junk\">j</a>",
    )
    .unwrap();

    let s = setup();
    for location in [
        dir.path().display().to_string(),
        format!("file://{}", dir.path().display()),
        format!("file://{}", page.display()),
        server.links_url(),
    ] {
        let http = HttpClient::new(fast_settings(), Some(&s.cache)).unwrap();
        let c = IndexClient::new(
            http,
            IndexSettings {
                indexes: Vec::new(),
                find_links: vec![location.clone(), "/does/not/exist".into()],
                strategy: IndexStrategy::FirstIndex,
            },
        )
        .unwrap();
        let project = c
            .project("demo")
            .await
            .unwrap_or_else(|e| panic!("{location}: {e}"));
        let mut names: Vec<&str> = project
            .files
            .iter()
            .map(|f| f.file.filename.as_str())
            .collect();
        names.sort();
        if location.starts_with("http") {
            assert_eq!(
                names,
                ["demo-0.9.tar.gz", "demo-1.0-py3-none-any.whl"],
                "{location}"
            );
            assert!(project.files.iter().all(|f| f.file.hashes.sha256.is_some()));
        } else {
            assert_eq!(names, ["demo-3.0-py3-none-any.whl"], "{location}");
            let (metadata, _) = c
                .metadata(&project.files[0].file, &project.files[0].source)
                .await
                .unwrap();
            assert!(metadata.contains("Version: 3.0"));
        }
    }
}

#[tokio::test]
async fn redirected_pages_resolve_links_against_where_they_landed() {
    let server = IndexServer::start();
    server.publish(&wheel("demo", "1.0"));
    server.fault(Fault::redirect("/mirror/simple/demo/", "/simple/demo/"));
    let s = setup();
    let c = client(
        &s,
        &[format!("{}/mirror/simple/", server.base_url())],
        fast_settings(),
    );
    let demo = c.project("demo").await.unwrap();
    assert_eq!(
        demo.files[0].file.url.as_str(),
        format!("{}/files/demo-1.0-py3-none-any.whl", server.base_url())
    );
    c.metadata(&demo.files[0].file, &demo.files[0].source)
        .await
        .unwrap();
}

/// Records what a streamed download shows its observer.
#[derive(Default)]
struct Seen {
    bytes: Vec<u8>,
    restarts: usize,
    lengths: Vec<Option<u64>>,
}

impl ferry_index::DownloadObserver for Seen {
    fn started(&mut self, length: Option<u64>) -> futures::future::BoxFuture<'_, ()> {
        self.lengths.push(length);
        Box::pin(async {})
    }
    fn data(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }
    fn restart(&mut self) {
        self.bytes.clear();
        self.restarts += 1;
    }
}

#[tokio::test]
async fn downloads_stream_to_a_file_and_resume_or_restart() {
    let server = IndexServer::start();
    let built = wheel("demo", "1.0");
    server.publish(&built);
    let s = setup();
    let http = HttpClient::new(fast_settings(), Some(&s.cache)).unwrap();
    let url = url::Url::parse(&server.file_url(&built.filename)).unwrap();
    let path = s._dir.path().join("download");
    let size = built.bytes.len() as u64;

    for ranges in [true, false] {
        server.set_ranges(ranges);
        server.clear_requests();
        server.fault(Fault::truncate(&built.filename, 100).times(1));
        let mut file = tokio::fs::File::create(&path).await.unwrap();
        let mut seen = Seen::default();
        let done = http
            .download(&url, &mut file, &path, &mut seen)
            .await
            .unwrap();
        drop(file);
        assert_eq!(done.bytes, size);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            built.bytes,
            "ranges: {ranges}"
        );
        // The observer saw each byte once, in order, whichever way the body was completed.
        assert_eq!(seen.bytes, built.bytes, "ranges: {ranges}");
        assert_eq!(seen.lengths, [Some(size), Some(size)]);
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        // Resumed from byte 100; or, when the server ignores the range, started over.
        assert_eq!(requests[1].header("range"), Some("bytes=100-"));
        assert_eq!(requests[1].status, Some(if ranges { 206 } else { 200 }));
        assert_eq!(seen.restarts, if ranges { 1 } else { 2 });
    }

    // An error status is not written as the file.
    let missing = url::Url::parse(&server.file_url("nothere-1.0-py3-none-any.whl")).unwrap();
    let mut file = tokio::fs::File::create(&path).await.unwrap();
    let err = http
        .download(&missing, &mut file, &path, &mut Seen::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, IndexError::Status { status: 404, .. }),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
}

#[tokio::test]
async fn a_large_wheel_from_a_server_without_ranges_is_read_from_disk() {
    let server = IndexServer::start();
    // 3 MiB that do not compress, stored: bigger than what a range request keeps in memory.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..3 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let built = WheelBuilder::new("big", "1.0")
        .stored()
        .file("big/blob.bin", &noise)
        .requires_dist("six>=1.0")
        .build();
    server.publish_with(
        &built,
        FileOptions {
            no_metadata: true,
            ..Default::default()
        },
    );
    server.set_ranges(false);
    let s = setup();
    let client = client(&s, &[server.url()], fast_settings());
    let big = client.project("big").await.unwrap();
    let (text, source) = client
        .metadata(&big.files[0].file, &big.files[0].source)
        .await
        .unwrap();
    assert_eq!(source, MetadataSource::WholeFile);
    assert!(text.contains("Requires-Dist: six"), "{text}");
    // The range request's whole-file answer was left unread; one download followed.
    let wheel_gets: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with(".whl"))
        .collect();
    assert_eq!(wheel_gets.len(), 2, "{wheel_gets:?}");
    assert!(wheel_gets[0].header("range").is_some());
    assert!(wheel_gets[1].header("range").is_none());
}
