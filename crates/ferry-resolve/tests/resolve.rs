//! Resolver scenarios against the local index server, for a fixed target (CPython 3.11 on
//! Linux x86-64), each asserting the chosen versions or the error.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use ferry_cache::{Cache, CacheSource};
use ferry_index::{
    HttpClient, HttpSettings, IndexClient, IndexError, IndexSettings, IndexStrategy, IndexUrl,
};
use ferry_input::{parse_requirement, Origin, RequirementsSpec};
use ferry_resolve::{resolve, NameSet, ResolveError, ResolveOptions, Target, Upgrade};
use ferry_test::{pythons, Fault, FileOptions, IndexServer, SdistBuilder, WheelBuilder};
use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

fn target() -> Target {
    let markers = MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: "3.11.7",
        os_name: "posix",
        platform_machine: "x86_64",
        platform_python_implementation: "CPython",
        platform_release: "6.1.0",
        platform_system: "Linux",
        platform_version: "#1 SMP",
        python_full_version: "3.11.7",
        python_version: "3.11",
        sys_platform: "linux",
    })
    .unwrap();
    let mut tags = vec![
        (
            "cp311".into(),
            "cp311".into(),
            "manylinux_2_17_x86_64".into(),
        ),
        (
            "cp311".into(),
            "abi3".into(),
            "manylinux_2_17_x86_64".into(),
        ),
        (
            "cp311".into(),
            "none".into(),
            "manylinux_2_17_x86_64".into(),
        ),
    ];
    for py in ["py311", "py3"] {
        tags.push((py.into(), "none".into(), "any".into()));
    }
    let tags = tags
        .into_iter()
        .map(|(p, a, pl): (String, String, String)| ferry_python::Tag::new(p, a, pl))
        .collect();
    Target::new(markers, tags, Version::from_str("3.11.7").unwrap())
}

struct Index {
    server: IndexServer,
}

impl Index {
    fn new() -> Self {
        Self {
            server: IndexServer::start(),
        }
    }

    /// Publishes a pure-Python wheel with dependencies.
    fn add(&self, name: &str, version: &str, deps: &[&str]) -> &Self {
        let mut wheel = WheelBuilder::new(name, version)
            .file(&format!("{}/__init__.py", name.replace('-', "_")), "");
        for dep in deps {
            wheel = wheel.requires_dist(dep);
        }
        self.server.publish(&wheel.build());
        self
    }

    fn add_wheel(&self, wheel: &WheelBuilder, options: FileOptions) -> &Self {
        self.server.publish_with(&wheel.build(), options);
        self
    }

    fn resolve(&self, requirements: &[&str]) -> Result<Vec<String>, ResolveError> {
        self.resolve_with(requirements, &[], ResolveOptions::default())
    }

    fn resolve_with(
        &self,
        requirements: &[&str],
        constraints: &[&str],
        options: ResolveOptions,
    ) -> Result<Vec<String>, ResolveError> {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().join("cache"), CacheSource::Flag);
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let settings = HttpSettings {
            retries: 1,
            retry_delay: std::time::Duration::from_millis(10),
            ..HttpSettings::default()
        };
        let http = HttpClient::new(settings, Some(&cache)).unwrap();
        let client = IndexClient::new(
            http,
            IndexSettings {
                indexes: vec![IndexUrl::parse(&self.server.url()).unwrap()],
                find_links: Vec::new(),
                strategy: IndexStrategy::FirstIndex,
            },
        )
        .unwrap();
        let mut spec = RequirementsSpec::default();
        for r in requirements {
            spec.requirements
                .push(parse_requirement(r, Origin::CommandLine).unwrap());
        }
        for c in constraints {
            spec.constraints
                .push(parse_requirement(c, Origin::CommandLine).unwrap());
        }
        let resolution = resolve(
            runtime.handle(),
            Arc::new(client),
            Some(&cache),
            target(),
            &spec,
            options,
        )?;
        Ok(resolution
            .packages
            .iter()
            .map(|p| {
                let extras = if p.extras.is_empty() {
                    String::new()
                } else {
                    format!(
                        "[{}]",
                        p.extras.iter().cloned().collect::<Vec<_>>().join(",")
                    )
                };
                format!("{}{extras}=={}", p.name, p.version)
            })
            .collect())
    }
}

/// What pip picks from the same index (`pip install --dry-run --report`, in a fresh virtual
/// environment), as `name==version`, sorted.
fn pip_resolve(index: &Index, requirements: &[&str]) -> Vec<String> {
    let python = pythons::venv_capable()
        .into_iter()
        .find(|p| p.major_minor == (3, 11))
        .or_else(pythons::with_pip)
        .expect("an installed CPython with pip");
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let out = std::process::Command::new(&python.path)
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--report",
            "-",
            "--index-url",
            &index.server.url(),
        ])
        .args(requirements)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pip failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut picked: Vec<String> = report["install"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let metadata = &item["metadata"];
            format!(
                "{}=={}",
                metadata["name"].as_str().unwrap(),
                metadata["version"].as_str().unwrap()
            )
        })
        .collect();
    picked.sort();
    picked
}

#[test]
fn newest_versions_and_transitive_dependencies() {
    let index = Index::new();
    index
        .add("app", "1.0", &["lib>=1"])
        .add("app", "2.0", &["lib>=2", "util"]);
    index
        .add("lib", "1.0", &[])
        .add("lib", "2.0", &[])
        .add("lib", "2.5", &[]);
    index.add("util", "0.1", &[]);
    assert_eq!(
        index.resolve(&["app"]).unwrap(),
        ["app==2.0", "lib==2.5", "util==0.1"]
    );
    assert_eq!(
        index.resolve(&["app<2", "lib<2"]).unwrap(),
        ["app==1.0", "lib==1.0"]
    );
}

#[test]
fn backtracking_finds_an_older_consistent_set() {
    let index = Index::new();
    // The newest web needs a newer core than the one db allows.
    index
        .add("web", "1.0", &["core<2"])
        .add("web", "2.0", &["core>=2"]);
    index.add("db", "1.0", &["core<2"]);
    index.add("core", "1.0", &[]).add("core", "2.0", &[]);
    assert_eq!(
        index.resolve(&["web", "db"]).unwrap(),
        ["core==1.0", "db==1.0", "web==1.0"]
    );
}

#[test]
fn conflicts_explain_themselves() {
    let index = Index::new();
    index.add("left", "1.0", &["shared>=2"]);
    index.add("right", "1.0", &["shared<2"]);
    index.add("shared", "1.0", &[]).add("shared", "2.0", &[]);
    let err = index.resolve(&["left", "right"]).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err.root(), ResolveError::NoSolution(_)), "{text}");
    for needle in [
        "left",
        "right",
        "shared >=2",
        "shared <2",
        "versions of shared: 2.0, 1.0",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(!text.contains("your requirements 0"), "{text}");
}

#[test]
fn missing_packages_and_versions_are_named() {
    let index = Index::new();
    index.add("here", "1.0", &["gone"]);
    let err = index.resolve(&["here"]).unwrap_err().to_string();
    assert!(err.contains("gone"), "{err}");
    let err = index.resolve(&["here==5"]).unwrap_err().to_string();
    assert!(
        err.contains("here ==5") && !err.contains("post0.dev0"),
        "{err}"
    );
    let err = index.resolve(&["here>=5"]).unwrap_err().to_string();
    assert!(
        err.contains("here") && err.contains(">=5") && err.contains("versions of here: 1.0"),
        "{err}"
    );
}

#[test]
fn extras_are_normalized_and_pull_their_dependencies() {
    let index = Index::new();
    index.add_wheel(
        &WheelBuilder::new("tool", "1.0")
            .provides_extra("fast_io")
            .requires_dist("base")
            .requires_dist("speedups>=1; extra == 'Fast_IO'"),
        FileOptions::default(),
    );
    index
        .add("base", "1.0", &[])
        .add("speedups", "1.0", &[])
        .add("speedups", "2.0", &[]);
    assert_eq!(
        index.resolve(&["tool"]).unwrap(),
        ["base==1.0", "tool==1.0"]
    );
    assert_eq!(
        index.resolve(&["Tool[FAST.io]"]).unwrap(),
        ["base==1.0", "speedups==2.0", "tool[fast-io]==1.0"]
    );
}

#[test]
fn markers_are_evaluated_for_the_target() {
    let index = Index::new();
    index.add(
        "app",
        "1.0",
        &[
            "winonly; sys_platform == 'win32'",
            "py2only; python_version < '3'",
            "linuxdep; sys_platform == 'linux'",
        ],
    );
    index.add("linuxdep", "1.0", &[]);
    assert_eq!(
        index.resolve(&["app", "other; os_name == 'nt'"]).unwrap(),
        ["app==1.0", "linuxdep==1.0"]
    );
}

#[test]
fn requires_python_from_the_index_and_from_metadata() {
    let index = Index::new();
    index.add("lib", "1.0", &[]);
    // Listed with requires-python on the index page.
    index.add_wheel(
        &WheelBuilder::new("lib", "2.0").requires_python(">=3.99"),
        FileOptions::default(),
    );
    // Not listed on the page, only in the metadata.
    index.add_wheel(
        &WheelBuilder::new("lib", "3.0").requires_python(">=4"),
        FileOptions {
            requires_python: Some(String::new()),
            ..Default::default()
        },
    );
    assert_eq!(index.resolve(&["lib"]).unwrap(), ["lib==1.0"]);
}

#[test]
fn yanked_versions_only_for_exact_pins() {
    let index = Index::new();
    index.add("lib", "1.0", &[]);
    index.add_wheel(
        &WheelBuilder::new("lib", "1.1"),
        FileOptions {
            yanked: Some("broken".into()),
            ..Default::default()
        },
    );
    assert_eq!(index.resolve(&["lib"]).unwrap(), ["lib==1.0"]);
    assert!(index
        .resolve(&["lib>=1.1"])
        .unwrap_err()
        .to_string()
        .contains("lib"));
    assert_eq!(index.resolve(&["lib==1.1"]).unwrap(), ["lib==1.1"]);
}

#[test]
fn pre_releases_follow_pips_rules() {
    let index = Index::new();
    index.add("lib", "1.0", &[]).add("lib", "2.0b1", &[]);
    index.add("onlypre", "0.1a1", &[]);
    assert_eq!(index.resolve(&["lib"]).unwrap(), ["lib==1.0"]);
    assert_eq!(
        index.resolve(&["lib>=2.0b1"]).unwrap(),
        ["lib==2.0b1"],
        "a specifier naming a pre-release allows them"
    );
    assert_eq!(
        index.resolve(&["onlypre"]).unwrap(),
        ["onlypre==0.1a1"],
        "when nothing else fits"
    );
    let pre = ResolveOptions {
        pre: true,
        ..Default::default()
    };
    assert_eq!(
        index.resolve_with(&["lib"], &[], pre).unwrap(),
        ["lib==2.0b1"]
    );
}

#[test]
fn local_and_post_releases() {
    let index = Index::new();
    index
        .add("lib", "1.0", &[])
        .add("lib", "1.0.post1", &[])
        .add("lib", "1.0+cpu", &[]);
    assert_eq!(
        index.resolve(&["lib==1.0"]).unwrap(),
        ["lib==1.0+cpu"],
        "==1.0 admits local versions"
    );
    assert!(
        index
            .resolve(&["lib>1.0, <1.1"])
            .unwrap_err()
            .to_string()
            .contains("lib"),
        ">1.0 excludes 1.0's post releases"
    );
    assert_eq!(
        index.resolve(&["lib<=1.0.post1"]).unwrap(),
        ["lib==1.0.post1"]
    );
}

#[test]
fn wheel_tags_decide_what_is_installable() {
    let index = Index::new();
    index.add("native", "1.0", &[]);
    index.add_wheel(
        &WheelBuilder::new("native", "2.0").tag("cp311-cp311-win_amd64"),
        FileOptions::default(),
    );
    index.add_wheel(
        &WheelBuilder::new("native", "1.5").tag("cp311-cp311-manylinux_2_17_x86_64"),
        FileOptions::default(),
    );
    assert_eq!(index.resolve(&["native"]).unwrap(), ["native==1.5"]);
}

#[test]
fn constraints_narrow_without_adding() {
    let index = Index::new();
    index.add("app", "1.0", &["lib"]);
    index.add("lib", "1.0", &[]).add("lib", "2.0", &[]);
    index.add("unused", "1.0", &[]);
    assert_eq!(
        index
            .resolve_with(
                &["app"],
                &["lib<2", "unused==1.0"],
                ResolveOptions::default()
            )
            .unwrap(),
        ["app==1.0", "lib==1.0"]
    );
}

#[test]
fn cycles_resolve() {
    let index = Index::new();
    index
        .add("ping", "1.0", &["pong"])
        .add("pong", "1.0", &["ping"]);
    assert_eq!(
        index.resolve(&["ping"]).unwrap(),
        ["ping==1.0", "pong==1.0"]
    );
}

#[test]
fn sdists_with_static_metadata_resolve_and_dynamic_ones_need_a_build() {
    let index = Index::new();
    index.server.publish(
        &SdistBuilder::new("staticpkg", "1.0")
            .requires_dist("dep")
            .build(),
    );
    index.add("dep", "1.0", &[]);
    assert_eq!(
        index.resolve(&["staticpkg"]).unwrap(),
        ["dep==1.0", "staticpkg==1.0"]
    );

    index.server.publish(
        &SdistBuilder::new("dynpkg", "1.0")
            .metadata_version("2.1")
            .build(),
    );
    let err = index.resolve(&["dynpkg"]).unwrap_err();
    assert!(
        matches!(err.root(), ResolveError::NeedsBuild { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("dynpkg-1.0.tar.gz"), "{err}");
}

#[test]
fn binary_policies() {
    let index = Index::new();
    index.add("lib", "1.0", &[]);
    index
        .server
        .publish(&SdistBuilder::new("lib", "2.0").build());
    assert_eq!(index.resolve(&["lib"]).unwrap(), ["lib==2.0"]);
    let mut only = NameSet::default();
    only.apply(":all:");
    let options = ResolveOptions {
        only_binary: only,
        ..Default::default()
    };
    assert_eq!(
        index.resolve_with(&["lib"], &[], options).unwrap(),
        ["lib==1.0"]
    );
    let options = ResolveOptions {
        prefer_binary: true,
        ..Default::default()
    };
    assert_eq!(
        index.resolve_with(&["lib"], &[], options).unwrap(),
        ["lib==1.0"]
    );
    let mut no = NameSet::default();
    no.apply("lib");
    let options = ResolveOptions {
        no_binary: no,
        ..Default::default()
    };
    assert_eq!(
        index.resolve_with(&["lib"], &[], options).unwrap(),
        ["lib==2.0"]
    );
}

#[test]
fn preferences_hold_unless_upgraded_and_no_deps_skips_dependencies() {
    let index = Index::new();
    index
        .add("app", "1.0", &["lib"])
        .add("app", "2.0", &["lib"]);
    index.add("lib", "1.0", &[]);
    let preferences = HashMap::from([(
        ferry_types::PackageName::new("app"),
        Version::from_str("1.0").unwrap(),
    )]);
    let options = ResolveOptions {
        preferences: preferences.clone(),
        ..Default::default()
    };
    assert_eq!(
        index.resolve_with(&["app"], &[], options).unwrap(),
        ["app==1.0", "lib==1.0"]
    );
    let options = ResolveOptions {
        preferences,
        upgrade: Upgrade::All,
        ..Default::default()
    };
    assert_eq!(
        index.resolve_with(&["app"], &[], options).unwrap(),
        ["app==2.0", "lib==1.0"]
    );
    let options = ResolveOptions {
        no_deps: true,
        ..Default::default()
    };
    assert_eq!(
        index.resolve_with(&["app"], &[], options).unwrap(),
        ["app==2.0"]
    );
}

#[test]
fn direct_wheel_urls_are_the_only_candidate() {
    let index = Index::new();
    index.add("lib", "1.0", &[]).add("lib", "2.0", &[]);
    let dir = tempfile::tempdir().unwrap();
    let local = WheelBuilder::new("mine", "0.3")
        .requires_dist("lib<2")
        .build();
    let path = local.write_to(dir.path());
    let url = format!("mine @ file://{}", path.display());
    assert_eq!(index.resolve(&[&url]).unwrap(), ["lib==1.0", "mine==0.3"]);

    // A wheel URL on a server, with its hash in the fragment.
    let remote = WheelBuilder::new("remote", "5.0").build();
    index.server.publish(&remote);
    let url = format!(
        "remote @ {}#sha256={}",
        index.server.file_url(&remote.filename),
        remote.sha256()
    );
    assert_eq!(index.resolve(&[&url]).unwrap(), ["remote==5.0"]);

    // An sdist at a URL is a candidate whose metadata is read from it (here: not there).
    let err = index
        .resolve(&["thing @ https://127.0.0.1:9/thing-1.0.tar.gz"])
        .unwrap_err();
    assert!(err.to_string().contains("thing-1.0.tar.gz"), "{err}");
    // An archive not named like an sdist of the project needs its metadata prepared, as in
    // pip (here there is no build frontend: the error names the file and says why).
    let err = index
        .resolve(&["thing @ https://127.0.0.1:9/other-1.0.tar.gz"])
        .unwrap_err();
    assert!(
        err.to_string().contains("other-1.0.tar.gz")
            && err.to_string().contains("file name does not give"),
        "{err}"
    );
    // A file that is neither a wheel nor an archive is refused, naming it.
    let err = index
        .resolve(&["thing @ https://127.0.0.1:9/thing-1.0.exe"])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not a wheel or sdist file name of thing"),
        "{err}"
    );
    // Incompatible wheels are refused with the reason.
    let win = WheelBuilder::new("winonly", "1.0")
        .tag("cp311-cp311-win_amd64")
        .build();
    let path = win.write_to(dir.path());
    let err = index
        .resolve(&[&format!("winonly @ file://{}", path.display())])
        .unwrap_err();
    assert!(
        err.to_string().contains("does not suit the target"),
        "{err}"
    );
}

#[test]
fn inclusive_bounds_admit_local_versions() {
    let index = Index::new();
    index.add("a", "1.2.3+foo", &[]).add("a", "1.2.4", &[]);
    index.add("app", "1.0", &["a<=1.2.3"]);
    assert_eq!(index.resolve(&["a<=1.2.3"]).unwrap(), ["a==1.2.3+foo"]);
    assert_eq!(
        index.resolve(&["app"]).unwrap(),
        ["a==1.2.3+foo", "app==1.0"],
        "through a dependency"
    );
    assert_eq!(index.resolve(&["a<1.2.4"]).unwrap(), ["a==1.2.3+foo"]);
    assert_eq!(
        index.resolve(&["a>=1.2.3,<1.2.4"]).unwrap(),
        ["a==1.2.3+foo"]
    );
    assert!(
        index.resolve(&["a>1.2.3,<1.2.4"]).is_err(),
        ">V excludes V's local versions"
    );
}

#[test]
fn a_dependency_missing_from_the_index_rules_out_its_dependent() {
    let index = Index::new();
    // No page at all (404).
    index.add("a", "1.0", &[]).add("a", "2.0", &["missing"]);
    assert_eq!(index.resolve(&["a"]).unwrap(), ["a==1.0"]);
    // A page with nothing for this platform.
    index.add("b", "1.0", &[]).add("b", "2.0", &["c"]);
    index.add_wheel(
        &WheelBuilder::new("c", "1.0").tag("cp311-cp311-win_amd64"),
        FileOptions::default(),
    );
    assert_eq!(index.resolve(&["b"]).unwrap(), ["b==1.0"]);
    // Nothing else fits: the error says what was not found, and where.
    index.add("only", "1.0", &["missing"]);
    let err = index.resolve(&["only"]).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err.root(), ResolveError::NoSolution(_)), "{text}");
    assert!(
        text.contains(&format!("missing was not found on {}", index.server.url())),
        "{text}"
    );
    // A failure to ask is not "not found".
    index.add("d", "1.0", &[]).add("d", "2.0", &["flaky"]);
    index.server.fault(Fault::status("/simple/flaky/", 503));
    let err = index.resolve(&["d"]).unwrap_err();
    assert!(
        matches!(
            err.root(),
            ResolveError::Index(IndexError::Status { status: 503, .. })
        ),
        "{err}"
    );
}

/// `b`'s recent versions all pin an old `a`. Deciding `a` first at its newest and then
/// walking down `b` would end at `b` 3.0; pip keeps the newest `b` and re-pins `a`.
#[test]
fn a_package_that_keeps_conflicting_is_decided_first() {
    let index = Index::new();
    for minor in 1..=20 {
        index.add("a", &format!("{minor}.0"), &[]);
    }
    for major in 1..=9 {
        let deps: &[&str] = if major >= 4 { &["a==1.0"] } else { &[] };
        index.add("b", &format!("{major}.0"), deps);
    }
    let ours = index.resolve(&["a", "b"]).unwrap();
    assert_eq!(ours, ["a==1.0", "b==9.0"]);
    assert_eq!(ours, pip_resolve(&index, &["a", "b"]));
}

/// Three packages in a chain: `top` needs a recent `mid`, whose recent versions pin an old
/// `base`, which is also asked for and discovered first.
#[test]
fn a_conflict_two_levels_down_keeps_the_newest_chain() {
    let index = Index::new();
    for n in 1..=12 {
        index.add("base", &format!("{n}.0"), &[]);
    }
    for n in 1..=8 {
        let mid: &[&str] = if n >= 2 { &["base==1.0"] } else { &[] };
        index.add("mid", &format!("{n}.0"), mid);
        let top: &[&str] = if n >= 2 { &["mid>=2"] } else { &["mid"] };
        index.add("top", &format!("{n}.0"), top);
    }
    let ours = index.resolve(&["base", "top"]).unwrap();
    assert_eq!(ours, ["base==1.0", "mid==8.0", "top==8.0"]);
    assert_eq!(ours, pip_resolve(&index, &["base", "top"]));
}

/// An upper bound rather than a pin, and a culprit that brings its own dependencies.
#[test]
fn conflicting_bounds_move_the_bounded_package_not_the_dependent() {
    let index = Index::new();
    for n in 1..=10 {
        index.add("b", &format!("{n}.0"), &[]);
    }
    for n in 1..=8 {
        let deps: &[&str] = if n >= 3 { &["b<3"] } else { &[] };
        index.add("a", &format!("{n}.0"), deps);
    }
    let ours = index.resolve(&["b", "a"]).unwrap();
    assert_eq!(ours, ["a==8.0", "b==2.0"]);
    assert_eq!(ours, pip_resolve(&index, &["b", "a"]));

    let index = Index::new();
    for n in 1..=10 {
        let deps: &[&str] = if n >= 2 { &["c>=2"] } else { &["c<2"] };
        index.add("a", &format!("{n}.0"), deps);
    }
    for n in 1..=8 {
        let deps: &[&str] = if n >= 2 { &["a==1.0"] } else { &[] };
        index.add("b", &format!("{n}.0"), deps);
    }
    for n in 1..=3 {
        index.add("c", &format!("{n}.0"), &[]);
    }
    let ours = index.resolve(&["a", "b"]).unwrap();
    assert_eq!(ours, ["a==1.0", "b==8.0", "c==1.0"]);
    assert_eq!(ours, pip_resolve(&index, &["a", "b"]));
}

/// When two dependents disagree about a third package, pip walks down the later one too; the
/// early/late decisions must end at the same answer.
#[test]
fn dependents_that_disagree_end_where_pip_ends() {
    let index = Index::new();
    for n in 1..=12 {
        let deps: &[&str] = if n >= 2 { &["core>=2"] } else { &["core"] };
        index.add("lib", &format!("{n}.0"), deps);
    }
    for n in 1..=8 {
        let deps: &[&str] = if n >= 2 { &["core<2"] } else { &[] };
        index.add("plugin", &format!("{n}.0"), deps);
    }
    for n in 1..=3 {
        index.add("core", &format!("{n}.0"), &[]);
    }
    let ours = index.resolve(&["lib", "plugin"]).unwrap();
    assert_eq!(ours, ["core==3.0", "lib==12.0", "plugin==1.0"]);
    assert_eq!(ours, pip_resolve(&index, &["lib", "plugin"]));
}
