//! The network fault matrix: every fault the test index can inject, against `install`,
//! `compile`, `download` and `index versions` where it applies. Each cell either recovers
//! (the command succeeds, after retries) or fails cleanly: a non-zero exit, a message naming
//! the URL (credentials redacted), the environment or output unchanged, and a next run without
//! the fault that succeeds (so nothing corrupt was left in the cache).
//!
//! The matrix is also docs/RELIABILITY.md's table: the test checks the table against what it
//! ran, and `FERRY_BLESS=1` rewrites it.

use std::path::PathBuf;
use std::time::Duration;

use ferry_test::{
    pythons, Fault, FaultKind, FileOptions, IndexServer, PageFormat, ServerCert, TestCa,
    WheelBuilder,
};

use crate::common::{ctx, make_venv, python_output, snapshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Install,
    Compile,
    Download,
    Versions,
}

const ALL: &[Cmd] = &[Cmd::Install, Cmd::Compile, Cmd::Download, Cmd::Versions];
/// Commands that fetch distribution files (compile and index versions read only pages and
/// metadata).
const FILES: &[Cmd] = &[Cmd::Install, Cmd::Download];
/// Commands that read metadata files.
const METADATA: &[Cmd] = &[Cmd::Install, Cmd::Compile, Cmd::Download];

impl Cmd {
    fn name(self) -> &'static str {
        match self {
            Cmd::Install => "install",
            Cmd::Compile => "compile",
            Cmd::Download => "download",
            Cmd::Versions => "index versions",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The command succeeds despite the fault.
    Recovers,
    /// The command fails cleanly, and succeeds once the fault is gone.
    FailsClean,
}

const PAGE: &str = "/simple/demo/";
const WHEEL: &str = "demo-1.0-py3-none-any.whl";
const USER: &str = "faultuser";
const SECRET: &str = "f4ult-s3cret";

/// One fault: its row in the table, the commands it applies to, and what must happen.
struct Case {
    class: &'static str,
    name: &'static str,
    applies: &'static [Cmd],
    expect: Expect,
    arrange: fn(&Arranged),
    /// How the index is reached while the fault is on (default: the main server's URL).
    reach: Reach,
}

#[derive(Clone, Copy)]
enum Reach {
    Plain,
    /// The main server needs credentials; the URL carries the wrong ones, or none with a
    /// right `.netrc`.
    WrongCredentials,
    Netrc,
    /// A TLS server with this certificate, trusted (`--cert`) or not.
    Tls(ServerCert, bool),
    /// A host name nothing resolves (run without any network).
    NoDns,
    /// The HTTP server's page redirects to the same page on a trusted HTTPS server.
    HttpToHttps,
}

/// What one cell runs against: servers with the packages, and the fault switches.
struct Arranged {
    main: IndexServer,
    /// A second server with the same packages, on another host name (`localhost`).
    other: IndexServer,
}

/// The two wheels every server offers, built once so that every server has the same bytes.
fn wheels() -> &'static [ferry_test::BuiltFile; 2] {
    static WHEELS: std::sync::OnceLock<[ferry_test::BuiltFile; 2]> = std::sync::OnceLock::new();
    WHEELS.get_or_init(|| {
        [
            WheelBuilder::new("demo", "1.0")
                .file("demo/__init__.py", "VERSION = '1.0'\n")
                .requires_dist("dep")
                .build(),
            WheelBuilder::new("dep", "1.0").file("dep.py", "").build(),
        ]
    })
}

fn packages(server: &IndexServer, options: FileOptions) {
    let [demo, dep] = wheels();
    server.publish_with(demo, options);
    server.publish(dep);
}

fn cases() -> Vec<Case> {
    use Expect::*;
    vec![
        Case {
            class: "server error",
            name: "500 twice on the page",
            applies: ALL,
            expect: Recovers,
            arrange: |a| {
                a.main.fault(Fault::status(PAGE, 500).times(2));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "server error",
            name: "502 twice on the file",
            applies: FILES,
            expect: Recovers,
            arrange: |a| {
                a.main.fault(Fault::status(WHEEL, 502).times(2));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "server error",
            name: "503 with Retry-After: 1 on the page",
            applies: ALL,
            expect: Recovers,
            arrange: |a| {
                a.main
                    .fault(Fault::new(PAGE, FaultKind::RetryAfter(503, 1)).times(1));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "server error",
            name: "503 on every try",
            applies: ALL,
            expect: FailsClean,
            arrange: |a| {
                a.main.fault(Fault::status(PAGE, 503));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "connection reset",
            name: "before the headers, twice (page)",
            applies: ALL,
            expect: Recovers,
            arrange: |a| {
                a.main.fault(Fault::drop_connection(PAGE).times(2));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "connection reset",
            name: "before the headers, twice (file)",
            applies: FILES,
            expect: Recovers,
            arrange: |a| {
                a.main.fault(Fault::drop_connection(WHEEL).times(2));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "connection reset",
            name: "mid-body, once (page)",
            applies: ALL,
            expect: Recovers,
            arrange: |a| {
                a.main.fault(Fault::truncate(PAGE, 40).times(1));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "connection reset",
            name: "mid-body, once (file)",
            applies: FILES,
            expect: Recovers,
            arrange: |a| {
                a.main.fault(Fault::truncate(WHEEL, 100).times(1));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "truncated body",
            name: "short, with a Content-Length that says so (file)",
            applies: FILES,
            expect: FailsClean,
            arrange: |a| {
                a.main.fault(Fault::new(WHEEL, FaultKind::ShortLength(100)));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "truncated body",
            name: "short, with a Content-Length that says so (JSON page)",
            applies: ALL,
            expect: FailsClean,
            arrange: |a| {
                a.main.set_format(PageFormat::Json);
                a.main.fault(Fault::new(PAGE, FaultKind::ShortLength(30)));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "slow body",
            name: "in pieces, below --timeout",
            applies: ALL,
            expect: Recovers,
            arrange: |a| {
                a.main.fault(Fault::new(
                    PAGE,
                    FaultKind::Slow(64, Duration::from_millis(20)),
                ));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "slow body",
            name: "stalled past --timeout, once",
            applies: ALL,
            expect: Recovers,
            arrange: |a| {
                a.main
                    .fault(Fault::new(PAGE, FaultKind::Stall(40, Duration::from_secs(3))).times(1));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "wrong hash",
            name: "the file's sha256 on the page",
            applies: FILES,
            expect: FailsClean,
            arrange: |a| {
                packages(
                    &a.main,
                    FileOptions {
                        wrong_hash: true,
                        ..Default::default()
                    },
                );
            },
            reach: Reach::Plain,
        },
        Case {
            class: "wrong hash",
            name: "the PEP 658 metadata file's sha256",
            applies: METADATA,
            expect: FailsClean,
            arrange: |a| {
                packages(
                    &a.main,
                    FileOptions {
                        wrong_metadata_hash: true,
                        ..Default::default()
                    },
                );
            },
            reach: Reach::Plain,
        },
        Case {
            class: "authentication",
            name: "401, then the right credentials from .netrc",
            applies: ALL,
            expect: Recovers,
            arrange: |a| {
                a.main.require_auth(USER, SECRET);
            },
            reach: Reach::Netrc,
        },
        Case {
            class: "authentication",
            name: "401 with wrong credentials",
            applies: ALL,
            expect: FailsClean,
            arrange: |a| {
                a.main.require_auth(USER, SECRET);
            },
            reach: Reach::WrongCredentials,
        },
        Case {
            class: "authentication",
            name: "403 on the page",
            applies: ALL,
            expect: FailsClean,
            arrange: |a| {
                a.main.fault(Fault::status(PAGE, 403));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "not found",
            name: "404 for the project",
            applies: ALL,
            expect: FailsClean,
            arrange: |a| {
                a.main.fault(Fault::status(PAGE, 404));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "not found",
            name: "404 for the file",
            applies: FILES,
            expect: FailsClean,
            arrange: |a| {
                a.main.fault(Fault::status(WHEEL, 404));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "redirect",
            name: "a loop",
            applies: ALL,
            expect: FailsClean,
            arrange: |a| {
                a.main.fault(Fault::redirect(PAGE, PAGE));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "redirect",
            name: "to another host (credentials do not follow)",
            applies: FILES,
            expect: Recovers,
            arrange: |a| {
                let other = a.other.base_url().replace("127.0.0.1", "localhost");
                a.main.fault(
                    Fault::redirect(
                        &format!("/files/{WHEEL}"),
                        &format!("{other}/files/{WHEEL}"),
                    )
                    .exact(),
                );
            },
            reach: Reach::Netrc,
        },
        Case {
            class: "redirect",
            name: "from HTTP to HTTPS",
            applies: ALL,
            expect: Recovers,
            arrange: |_| {},
            reach: Reach::HttpToHttps,
        },
        Case {
            class: "TLS",
            name: "a certificate for another name",
            applies: ALL,
            expect: FailsClean,
            arrange: |_| {},
            reach: Reach::Tls(ServerCert::WrongName, true),
        },
        Case {
            class: "TLS",
            name: "an expired certificate",
            applies: ALL,
            expect: FailsClean,
            arrange: |_| {},
            reach: Reach::Tls(ServerCert::Expired, true),
        },
        Case {
            class: "TLS",
            name: "an unknown certificate authority",
            applies: ALL,
            expect: FailsClean,
            arrange: |_| {},
            reach: Reach::Tls(ServerCert::Good, false),
        },
        Case {
            class: "DNS",
            name: "a host name that does not resolve",
            applies: ALL,
            expect: FailsClean,
            arrange: |_| {},
            reach: Reach::NoDns,
        },
        Case {
            class: "wrong content",
            name: "HTML where JSON was asked",
            applies: ALL,
            expect: Recovers,
            arrange: |a| {
                a.main.set_format(PageFormat::Html);
            },
            reach: Reach::Plain,
        },
        Case {
            class: "wrong content",
            name: "garbage HTML",
            applies: ALL,
            expect: FailsClean,
            arrange: |a| {
                a.main.fault(Fault::new(
                    PAGE,
                    FaultKind::Body(
                        b"<html><body><a href=\"\x00<<<\">>>\xff\xfe".to_vec(),
                        "text/html".into(),
                    ),
                ));
            },
            reach: Reach::Plain,
        },
        Case {
            class: "wrong content",
            name: "garbage JSON",
            applies: ALL,
            expect: FailsClean,
            arrange: |a| {
                a.main.fault(Fault::new(
                    PAGE,
                    FaultKind::Body(
                        b"{\"meta\": {\"api-version\": \"1.0\"}, \"files\": [{\"filename\": 7"
                            .to_vec(),
                        "application/vnd.pypi.simple.v1+json".into(),
                    ),
                ));
            },
            reach: Reach::Plain,
        },
    ]
}

/// How a cell ended, for the table.
fn cell(expect: Expect) -> &'static str {
    match expect {
        Expect::Recovers => "recovers",
        Expect::FailsClean => "fails cleanly",
    }
}

/// Runs one cell: `case` against `cmd`. `Err` says what went wrong.
fn run_cell(case: &Case, cmd: Cmd) -> Result<(), String> {
    let ctx = ctx();
    let arranged = Arranged {
        main: IndexServer::start(),
        other: IndexServer::start(),
    };
    packages(&arranged.main, FileOptions::default());
    packages(&arranged.other, FileOptions::default());
    let ca = TestCa::new();
    let tls = match case.reach {
        Reach::Tls(cert, _) => Some(IndexServer::start_tls(ca.server_config_with(false, cert))),
        Reach::HttpToHttps => Some(IndexServer::start_tls(ca.server_config(false))),
        _ => None,
    };
    if let Some(tls) = &tls {
        packages(tls, FileOptions::default());
    }
    if let Reach::HttpToHttps = case.reach {
        let tls = tls.as_ref().expect("a TLS server");
        arranged
            .main
            .fault(Fault::redirect(PAGE, &format!("{}{PAGE}", tls.base_url())));
    }
    (case.arrange)(&arranged);
    std::fs::write(
        ctx.home().join(".netrc"),
        format!("machine 127.0.0.1 login {USER} password {SECRET}\n"),
    )
    .unwrap();
    let venv = make_venv(&ctx, "env", &pythons::newest().path, false);
    std::fs::write(ctx.work().join("reqs.in"), "demo\n").unwrap();
    std::fs::write(ctx.work().join("out.txt"), "old\n").unwrap();
    std::fs::create_dir_all(ctx.work().join("dl")).unwrap();

    let plain = arranged.main.url();
    let (url, host) = match case.reach {
        Reach::Plain | Reach::Netrc | Reach::HttpToHttps => (plain.clone(), host_of(&plain)),
        Reach::WrongCredentials => (
            plain.replacen("http://", &format!("http://{USER}:wr0ng-pa55@"), 1),
            host_of(&plain),
        ),
        Reach::Tls(..) => {
            let url = tls.as_ref().expect("a TLS server").url();
            let host = host_of(&url);
            (url, host)
        }
        Reach::NoDns => (
            "http://index.invalid/simple/".to_string(),
            "index.invalid".to_string(),
        ),
    };
    let trust = match case.reach {
        Reach::Tls(_, trusted) => trusted,
        Reach::HttpToHttps => true,
        _ => false,
    };
    let command = |url: &str, no_network: bool| {
        let mut args: Vec<String> = match cmd {
            Cmd::Install => vec!["install".into(), "demo".into()],
            Cmd::Compile => vec![
                "compile".into(),
                "reqs.in".into(),
                "-o".into(),
                "out.txt".into(),
            ],
            Cmd::Download => vec!["download".into(), "demo".into(), "-d".into(), "dl".into()],
            Cmd::Versions => vec!["index".into(), "versions".into(), "demo".into()],
        };
        args.extend(["-i".into(), url.to_string(), "--retries".into(), "3".into()]);
        args.extend(["--timeout".into(), "2".into(), "--python".into()]);
        args.push(venv.display().to_string());
        if trust {
            args.push("--cert".into());
            args.push(ca.ca_pem.display().to_string());
        }
        let mut command = if no_network {
            let mut command = ctx.command("unshare");
            command.arg("-n").arg(env!("CARGO_BIN_EXE_ferry"));
            command
        } else {
            ctx.ferry(std::iter::empty::<&str>())
        };
        command.args(args);
        command
    };
    let state = || -> Vec<String> {
        match cmd {
            // ferry's lock beside pyvenv.cfg is made by the first run and stays.
            Cmd::Install => snapshot(&venv)
                .into_iter()
                .filter(|p| p != ".ferry-lock")
                .collect(),
            Cmd::Compile => vec![std::fs::read_to_string(ctx.work().join("out.txt")).unwrap()],
            Cmd::Download => snapshot(&ctx.work().join("dl")),
            Cmd::Versions => Vec::new(),
        }
    };
    let succeeded = |out: &ferry_test::RunOutput| -> Result<(), String> {
        let ok = match cmd {
            Cmd::Install => {
                python_output(&venv.join("bin/python"), "import demo; print(demo.VERSION)") == "1.0"
            }
            Cmd::Compile => std::fs::read_to_string(ctx.work().join("out.txt"))
                .unwrap()
                .contains("demo==1.0"),
            Cmd::Download => ctx.work().join("dl").join(WHEEL).is_file(),
            Cmd::Versions => out.stdout().contains("demo (1.0)"),
        };
        match ok {
            true => Ok(()),
            false => Err(format!("succeeded without the result\n{}", out.stderr())),
        }
    };
    let secrets_kept = |out: &ferry_test::RunOutput| -> Result<(), String> {
        for secret in [SECRET, "wr0ng-pa55"] {
            if out.stderr().contains(secret) || out.stdout().contains(secret) {
                return Err(format!("{secret} was printed\n{}", out.stderr()));
            }
        }
        Ok(())
    };

    let before = state();
    let no_network = matches!(case.reach, Reach::NoDns);
    let out = ctx.run(&mut command(&url, no_network));
    secrets_kept(&out)?;
    match case.expect {
        Expect::Recovers => {
            if out.code() != Some(0) {
                return Err(format!("failed\n{}", out.stderr()));
            }
            succeeded(&out)?;
            if let Reach::Netrc = case.reach {
                // Credentials never follow a redirect to another host.
                if arranged
                    .other
                    .requests()
                    .iter()
                    .any(|r| r.header("authorization").is_some())
                {
                    return Err("credentials were sent to another host".into());
                }
            }
            Ok(())
        }
        Expect::FailsClean => {
            if out.code() == Some(0) {
                return Err(format!("succeeded\n{}", out.stderr()));
            }
            let err = out.stderr();
            if !err.contains(&host) {
                return Err(format!("the message does not name {host}\n{err}"));
            }
            if err.lines().filter(|l| l.starts_with("error")).count() != 1 {
                return Err(format!("not one error\n{err}"));
            }
            let after = state();
            if after != before {
                let added: Vec<&String> = after.iter().filter(|p| !before.contains(p)).collect();
                let gone: Vec<&String> = before.iter().filter(|p| !after.contains(p)).collect();
                return Err(format!(
                    "the failed run changed what it works on: added {added:?}, removed {gone:?}\n{err}"
                ));
            }
            let listed = ctx.run(&mut ctx.ferry(["cache", "list", "--format", "json"]));
            if listed.code() != Some(0) {
                return Err(format!("cache list failed after it\n{}", listed.stderr()));
            }
            // The fault gone: the same command succeeds.
            arranged.main.clear_faults();
            arranged.main.set_format(PageFormat::Negotiate);
            packages(&arranged.main, FileOptions::default());
            let good = IndexServer::start_tls(ca.server_config(false));
            packages(&good, FileOptions::default());
            let fixed = match case.reach {
                Reach::WrongCredentials | Reach::NoDns => plain,
                Reach::Tls(..) => good.url(),
                _ => url,
            };
            let mut again = command(&fixed, false);
            if matches!(case.reach, Reach::Tls(..)) && !trust {
                again.arg("--cert").arg(&ca.ca_pem);
            }
            let out = ctx.run(&mut again);
            if out.code() != Some(0) {
                return Err(format!(
                    "the run without the fault failed\n{}",
                    out.stderr()
                ));
            }
            succeeded(&out)
        }
    }
}

fn host_of(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .map(|h| h.rsplit('@').next().unwrap_or(h).to_string())
        .unwrap_or_default()
}

/// The table docs/RELIABILITY.md shows.
fn table(cases: &[Case]) -> String {
    let mut text = String::from(
        "| class | fault | install | compile | download | index versions |\n|---|---|---|---|---|---|\n",
    );
    for case in cases {
        let cells: Vec<&str> = ALL
            .iter()
            .map(|cmd| match case.applies.contains(cmd) {
                true => cell(case.expect),
                false => "—",
            })
            .collect();
        text.push_str(&format!(
            "| {} | {} | {} |\n",
            case.class,
            case.name,
            cells.join(" | ")
        ));
    }
    let classes: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.class).collect();
    let cells: usize = cases.iter().map(|c| c.applies.len()).sum();
    text.push_str(&format!(
        "\n{} faults in {} classes × {} commands: {cells} cells, all passing.\n",
        cases.len(),
        classes.len(),
        ALL.len()
    ));
    text
}

#[test]
fn fault_matrix() {
    let cases = cases();
    let cells: Vec<(usize, Cmd)> = cases
        .iter()
        .enumerate()
        .flat_map(|(i, case)| case.applies.iter().map(move |cmd| (i, *cmd)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some((i, cmd)) = cells.get(n) else {
                    break;
                };
                let case = &cases[*i];
                if let Err(message) = run_cell(case, *cmd) {
                    failures.lock().unwrap().push(format!(
                        "{} / {} / {}: {message}",
                        case.class,
                        case.name,
                        cmd.name()
                    ));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {} cells failed:\n\n{}",
        failures.len(),
        cells.len(),
        failures.join("\n\n")
    );
    check_doc(&table(&cases));
}

/// docs/RELIABILITY.md's fault table is the one this test ran (`FERRY_BLESS=1` writes it).
fn check_doc(table: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/RELIABILITY.md");
    let (begin, end) = ("<!-- fault-matrix:begin -->\n", "<!-- fault-matrix:end -->");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let current = text
        .split_once(begin)
        .and_then(|(_, rest)| rest.split_once(end))
        .map(|(inside, _)| inside.to_string());
    if current.as_deref() == Some(table) {
        return;
    }
    if std::env::var_os("FERRY_BLESS").is_some() {
        let updated = match text.split_once(begin) {
            Some((head, rest)) => {
                let tail = rest.split_once(end).map(|(_, t)| t).unwrap_or("");
                format!("{head}{begin}{table}{end}{tail}")
            }
            None => format!("{text}\n{begin}{table}{end}\n"),
        };
        std::fs::write(&path, updated).unwrap();
        return;
    }
    panic!(
        "docs/RELIABILITY.md's fault table differs from the matrix this test ran; run with FERRY_BLESS=1 to rewrite it.\n\nThe matrix:\n{table}"
    );
}

// Regression tests for what the matrix found, each named after it.

#[test]
fn a_page_that_does_not_parse_is_not_kept_in_the_cache() {
    let ctx = ctx();
    let server = IndexServer::start();
    packages(&server, FileOptions::default());
    server.set_format(PageFormat::Json);
    server.set_cache_control("max-age=600");
    server.fault(Fault::new(PAGE, FaultKind::ShortLength(30)).times(1));
    let versions = || {
        let mut cmd = ctx.ferry(["index", "versions", "demo", "-i", &server.url(), "--python"]);
        cmd.arg(&pythons::newest().path);
        ctx.run(&mut cmd)
    };
    versions()
        .failure()
        .stderr_contains("could not parse the index page");
    // The page was served as fresh for ten minutes, but its broken copy was dropped.
    versions().success().stdout_contains("demo (1.0)");
}

#[test]
fn a_failed_download_saves_none_of_its_files() {
    let ctx = ctx();
    let server = IndexServer::start();
    packages(
        &server,
        FileOptions {
            wrong_hash: true,
            ..Default::default()
        },
    );
    let dest = ctx.work().join("dl");
    let mut cmd = ctx.ferry(["download", "demo", "-i", &server.url(), "-d"]);
    cmd.arg(&dest).arg("--python").arg(&pythons::newest().path);
    ctx.run(&mut cmd).failure().stderr_contains("demo-1.0");
    // dep downloaded fine, but the run failed: nothing is left, not even temporary files.
    assert_eq!(snapshot(&dest), Vec::<String>::new());
}

#[test]
fn retry_after_is_waited_for() {
    let ctx = ctx();
    let server = IndexServer::start();
    packages(&server, FileOptions::default());
    server.fault(Fault::new(PAGE, FaultKind::RetryAfter(503, 2)).times(1));
    let started = std::time::Instant::now();
    let mut cmd = ctx.ferry(["index", "versions", "demo", "-i", &server.url(), "--python"]);
    cmd.arg(&pythons::newest().path);
    ctx.run(&mut cmd).success();
    assert!(started.elapsed() >= Duration::from_secs(2));
    let asked: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == PAGE)
        .collect();
    assert_eq!(asked.len(), 2, "{asked:?}");
}

#[test]
fn a_page_that_lists_nothing_is_named_in_the_error() {
    let ctx = ctx();
    let server = IndexServer::start();
    packages(&server, FileOptions::default());
    // A link that is no distribution of demo (before, the error said only "none usable").
    server.fault(Fault::new(
        PAGE,
        FaultKind::Body(
            b"<html><body><a href=\"notes.txt\">notes</a></body></html>".to_vec(),
            "text/html".into(),
        ),
    ));
    let page = format!("{}demo/", server.url());
    for args in [
        &["install", "demo", "--dry-run"][..],
        &["index", "versions", "demo"],
    ] {
        let mut cmd = ctx.ferry(args);
        cmd.args(["-i", &server.url(), "--python"])
            .arg(&pythons::newest().path);
        ctx.run(&mut cmd).failure().stderr_contains(&page);
    }
}
