//! Every option, set once through each source, has the same effect.

use std::path::PathBuf;

use clap::Parser;
use ferry_index::IndexStrategy;
use ferry_input::PipConfig;
use ferry_install::LinkMode;

use super::*;
use crate::cli::{Cli, Command};

type Check = fn(&InstallSettings) -> bool;

/// (command-line arguments, pip option name, configured value, what must hold).
const INSTALL_OPTIONS: &[(&[&str], &str, &str, Check)] = &[
    (&["--no-deps"], "no-deps", "yes", |s| s.resolver.no_deps),
    (&["--pre"], "pre", "true", |s| s.resolver.pre),
    (&["--prefer-binary"], "prefer-binary", "on", |s| {
        s.resolver.prefer_binary
    }),
    (&["--no-binary", "six"], "no-binary", "six", |s| {
        s.resolver.no_binary == ["six"]
    }),
    (&["--only-binary", ":all:"], "only-binary", ":all:", |s| {
        s.resolver.only_binary == [":all:"]
    }),
    (&["--require-hashes"], "require-hashes", "1", |s| {
        s.resolver.require_hashes
    }),
    (&["-c", "c.txt"], "constraint", "c.txt", |s| {
        s.resolver.constraints == [PathBuf::from("c.txt")]
    }),
    (&["-r", "r.txt"], "requirement", "r.txt", |s| {
        s.requirement_files == [PathBuf::from("r.txt")]
    }),
    (&["--python", "3.12"], "python", "3.12", |s| {
        s.resolver.python.as_deref() == Some("3.12")
    }),
    (&["--python-version", "3.9"], "python-version", "3.9", |s| {
        s.resolver.python_version.as_deref() == Some("3.9")
    }),
    (
        &["--python-platform", "windows"],
        "python-platform",
        "windows",
        |s| s.resolver.python_platform.as_deref() == Some("windows"),
    ),
    (&["-U"], "upgrade", "yes", |s| s.upgrade),
    (
        &["--upgrade-strategy", "eager"],
        "upgrade-strategy",
        "eager",
        |s| s.eager,
    ),
    (&["--ignore-installed"], "ignore-installed", "1", |s| {
        s.ignore_installed
    }),
    (&["--force-reinstall"], "force-reinstall", "yes", |s| {
        s.force_reinstall
    }),
    (&["--compile"], "compile", "yes", |s| s.compile),
    (&["--user"], "user", "yes", |s| s.user),
    (&["--target", "/t"], "target", "/t", |s| {
        s.target == Some(PathBuf::from("/t"))
    }),
    (&["--prefix", "/p"], "prefix", "/p", |s| {
        s.prefix == Some(PathBuf::from("/p"))
    }),
    (&["--root", "/r"], "root", "/r", |s| {
        s.root == Some(PathBuf::from("/r"))
    }),
    (
        &["--break-system-packages"],
        "break-system-packages",
        "true",
        |s| s.break_system_packages,
    ),
    (&["--dry-run"], "dry-run", "yes", |s| s.dry_run),
    (&["--report", "r.json"], "report", "r.json", |s| {
        s.report.as_deref() == Some("r.json")
    }),
    (
        &["-i", "http://127.0.0.1:1/simple/"],
        "index-url",
        "http://127.0.0.1:1/simple/",
        |s| s.resolver.index.index_url.as_deref() == Some("http://127.0.0.1:1/simple/"),
    ),
    (
        &["--extra-index-url", "http://127.0.0.1:2/simple/"],
        "extra-index-url",
        "http://127.0.0.1:2/simple/",
        |s| s.resolver.index.extra_index_urls == ["http://127.0.0.1:2/simple/"],
    ),
    (&["--no-index"], "no-index", "yes", |s| {
        s.resolver.index.no_index
    }),
    (&["-f", "/links"], "find-links", "/links", |s| {
        s.resolver.index.find_links == ["/links"]
    }),
    (
        &["--index-strategy", "unsafe-best-match"],
        "index-strategy",
        "unsafe-best-match",
        |s| s.resolver.index.strategy == Some(IndexStrategy::UnsafeBestMatch),
    ),
    (&["--cert", "/ca.pem"], "cert", "/ca.pem", |s| {
        s.resolver.index.cert == Some(PathBuf::from("/ca.pem"))
    }),
    (&["--client-cert", "/c.pem"], "client-cert", "/c.pem", |s| {
        s.resolver.index.client_cert == Some(PathBuf::from("/c.pem"))
    }),
    (
        &["--trusted-host", "h.invalid"],
        "trusted-host",
        "h.invalid",
        |s| s.resolver.index.trusted_hosts == ["h.invalid"],
    ),
    (&["--timeout", "7"], "timeout", "7", |s| {
        s.resolver.index.timeout == Some(7.0)
    }),
    (&["--retries", "2"], "retries", "2", |s| {
        s.resolver.index.retries == Some(2)
    }),
    (&["--offline"], "offline", "yes", |s| {
        s.resolver.index.offline
    }),
    (&["--refresh"], "refresh", "yes", |s| {
        s.resolver.index.refresh
    }),
];

fn install(args: &[&str], config: &PipConfig) -> InstallSettings {
    let argv = ["ferry", "install", "x"].iter().chain(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let Command::Install(args) = cli.command else {
        unreachable!()
    };
    InstallSettings::resolve(&args, config).unwrap()
}

fn env(key: &str, value: &str) -> PipConfig {
    let var = format!("PIP_{}", key.to_ascii_uppercase().replace('-', "_"));
    PipConfig::from_env_pairs([(var.as_str(), value)])
}

fn file(text: &str) -> PipConfig {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pip.conf");
    std::fs::write(&path, text).unwrap();
    let mut config = PipConfig::default();
    config.read_file(&path).unwrap();
    config
}

#[test]
fn every_install_option_means_the_same_from_each_source() {
    let none = PipConfig::default();
    let default = install(&[], &none);
    for (cli, key, value, check) in INSTALL_OPTIONS {
        assert!(!check(&default), "{key} holds without being set");
        assert!(check(&install(cli, &none)), "{key} from the command line");
        assert!(check(&install(&[], &env(key, value))), "{key} from PIP_*");
        let section = file(&format!("[install]\n{key} = {value}\n"));
        assert!(check(&install(&[], &section)), "{key} from [install]");
        let global = file(&format!("[global]\n{key} = {value}\n"));
        assert!(check(&install(&[], &global)), "{key} from [global]");
        // Another command's section does not apply.
        let other = file(&format!("[download]\n{key} = {value}\n"));
        assert!(!check(&install(&[], &other)), "{key} from [download]");
    }
}

#[test]
fn precedence_is_cli_then_env_then_command_section_then_global() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pip.conf");
    std::fs::write(
        &path,
        "[global]\ntimeout = 1\nretries = 1\nreport = g\nroot = /g\n\
         [install]\ntimeout = 2\nretries = 2\nreport = i\n",
    )
    .unwrap();
    let mut config = PipConfig::from_env_pairs([("PIP_TIMEOUT", "3"), ("PIP_RETRIES", "3")]);
    config.read_file(&path).unwrap();
    let s = install(&["--timeout", "4"], &config);
    assert_eq!(s.resolver.index.timeout, Some(4.0)); // command line
    assert_eq!(s.resolver.index.retries, Some(3)); // PIP_*
    assert_eq!(s.report.as_deref(), Some("i")); // [install]
    assert_eq!(s.root, Some(PathBuf::from("/g"))); // [global]
}

#[test]
fn pip_boolean_spellings_and_inverted_names() {
    for yes in ["yes", "y", "true", "t", "on", "1", "TRUE"] {
        assert!(install(&[], &env("no-deps", yes)).resolver.no_deps, "{yes}");
    }
    for no in ["no", "n", "false", "f", "off", "0"] {
        assert!(!install(&[], &env("no-deps", no)).resolver.no_deps, "{no}");
    }
    // pip stores a `no-X` value as X unchanged: PIP_NO_COMPILE=0 turns compiling off.
    assert!(!install(&[], &env("no-compile", "0")).compile);
    assert!(install(&[], &env("no-compile", "1")).compile);
    assert!(!install(&["--no-compile"], &env("compile", "yes")).compile);
    // Any PIP_NO_CACHE_DIR value disables the cache, as in pip.
    for value in ["1", "false", "off"] {
        let cli = Cli::try_parse_from(["ferry", "freeze"]).unwrap();
        let config = PipConfig::from_env_pairs([("PIP_NO_CACHE_DIR", value)]);
        let global = GlobalSettings::resolve(&cli.global, &config).unwrap();
        assert!(global.no_cache_dir, "{value}");
    }
    let cli = Cli::try_parse_from(["ferry", "freeze"]).unwrap();
    let global = GlobalSettings::resolve(
        &cli.global,
        &PipConfig::from_env_pairs([("PIP_VERBOSE", "2"), ("PIP_QUIET", "yes")]),
    )
    .unwrap();
    assert_eq!((global.verbose, global.quiet), (2, 1));
}

#[test]
fn bad_values_name_their_source_and_unknown_options_are_ignored() {
    let cli = Cli::try_parse_from(["ferry", "install", "x"]).unwrap();
    let Command::Install(args) = cli.command else {
        unreachable!()
    };
    let err = InstallSettings::resolve(&args, &env("no-deps", "maybe"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("PIP_NO_DEPS") && err.contains("maybe"),
        "{err}"
    );
    let err = InstallSettings::resolve(&args, &file("[install]\ntimeout = soon\n"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("pip.conf") && err.contains("soon"), "{err}");

    // pip ignores options its command does not have; so does ferry.
    let config =
        file("[global]\nno-such-option = 1\nno-color = yes\n[install]\nno-python-version-warning = yes\n");
    let config2 = PipConfig::from_env_pairs([("PIP_NO_SUCH_OPTION", "1")]);
    assert_eq!(install(&[], &config), install(&[], &PipConfig::default()));
    assert_eq!(install(&[], &config2), install(&[], &PipConfig::default()));
    // `progress-bar` is read as pip reads it, from [global] too.
    let config = file("[global]\nprogress-bar = off\n");
    assert_eq!(install(&[], &config).progress_bar, "off");
    // `src` (where editable VCS checkouts go) is read as pip reads it.
    let config = file("[install]\nsrc = /x\n");
    assert_eq!(
        install(&[], &config).resolver.src,
        Some(std::path::PathBuf::from("/x"))
    );
    let config = PipConfig::from_env_pairs([("PIP_SRC", "/y")]);
    assert_eq!(
        install(&["--src", "/z"], &config).resolver.src,
        Some(std::path::PathBuf::from("/z"))
    );
}

#[test]
fn link_mode_and_upgrade_strategy_default() {
    let s = install(&[], &PipConfig::default());
    assert_eq!(s.link_mode, LinkMode::Hardlink);
    assert!(!s.eager && !s.compile);
    assert_eq!(
        install(&["--link-mode", "copy"], &PipConfig::default()).link_mode,
        LinkMode::Copy
    );
}

#[test]
fn requirements_file_options_add_to_the_settings() {
    let mut s = install(&["-i", "http://127.0.0.1:1/a/"], &PipConfig::default()).resolver;
    let options = ferry_input::FileOptions {
        index_url: Some("http://127.0.0.1:1/b/".into()),
        extra_index_urls: vec!["http://127.0.0.1:1/c/".into()],
        require_hashes: true,
        pre: true,
        no_binary: vec!["six".into()],
        ..Default::default()
    };
    s.apply_file_options(&options);
    assert_eq!(s.index.index_url.as_deref(), Some("http://127.0.0.1:1/b/"));
    assert_eq!(s.index.extra_index_urls, ["http://127.0.0.1:1/c/"]);
    assert!(s.require_hashes && s.pre);
    assert_eq!(s.no_binary, ["six"]);
}

#[test]
fn uninstall_reads_its_own_section() {
    let cli = Cli::try_parse_from(["ferry", "uninstall", "x"]).unwrap();
    let Command::Uninstall(args) = cli.command else {
        unreachable!()
    };
    let s = UninstallSettings::resolve(&args, &file("[uninstall]\nyes = true\n")).unwrap();
    assert!(s.yes);
    let s = UninstallSettings::resolve(&args, &file("[install]\nyes = true\n")).unwrap();
    assert!(!s.yes);
    let s = UninstallSettings::resolve(&args, &env("yes", "1")).unwrap();
    assert!(s.yes);
}
