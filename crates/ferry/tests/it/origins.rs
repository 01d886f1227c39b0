//! Where each installed file came from: PEP 710 `provenance_url.json` for index installs,
//! `direct_url.json` for the rest, conda's records in a conda environment; shown by `ferry
//! show` (`Source:`) and `ferry list --format json` (`source`).

use std::path::Path;

use ferry_test::{pythons, IndexServer, Project, WheelBuilder};

use crate::common::{ctx, install, make_venv, site_packages};

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn index_installs_record_provenance_and_show_and_list_report_it() {
    let ctx = ctx();
    let server = IndexServer::start();
    let wheel = WheelBuilder::new("fromindex", "1.0").build();
    server.publish(&wheel);
    let sdist = Project::new("built-here", "0.2").sdist();
    server.publish(&sdist);
    let env = make_venv(&ctx, "env", &pythons::newest().path, false);
    ctx.run(&mut install(
        &ctx,
        &env,
        &server,
        &["fromindex", "built-here"],
    ))
    .success();
    let site = site_packages(&env);

    let wheel_info = site.join("fromindex-1.0.dist-info");
    assert!(!wheel_info.join("direct_url.json").exists());
    assert_eq!(
        read_json(&wheel_info.join("provenance_url.json")),
        serde_json::json!({
            "url": server.file_url(&wheel.filename),
            "index_url": server.url(),
            "archive_info": {"hashes": {"sha256": wheel.sha256()}},
        })
    );
    // RECORD lists it, so uninstalling removes it.
    let record = std::fs::read_to_string(wheel_info.join("RECORD")).unwrap();
    assert!(record.contains("fromindex-1.0.dist-info/provenance_url.json,sha256="));
    // Built from the index's sdist: the sdist is what was downloaded.
    assert_eq!(
        read_json(&site.join("built_here-0.2.dist-info/provenance_url.json")),
        serde_json::json!({
            "url": server.file_url(&sdist.filename),
            "index_url": server.url(),
            "archive_info": {"hashes": {"sha256": sdist.sha256()}},
        })
    );

    let show = ctx
        .run(ctx.ferry(["show", "fromindex", "--python"]).arg(&env))
        .success()
        .stdout();
    let last = show.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "Source: {} (from {}, sha256 {})",
            server.file_url(&wheel.filename),
            server.url(),
            wheel.sha256()
        )
    );
    // pip's fields come first, unchanged.
    assert!(
        show.starts_with("Name: fromindex\nVersion: 1.0\n"),
        "{show}"
    );

    let list = ctx
        .run(
            ctx.ferry(["list", "--format", "json", "--python"])
                .arg(&env),
        )
        .success()
        .stdout();
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "fromindex")
        .unwrap();
    assert_eq!(
        entry["source"],
        serde_json::json!({"kind": "index", "url": server.file_url(&wheel.filename), "index_url": server.url(), "sha256": wheel.sha256()})
    );

    // A direct reference has direct_url.json and no provenance_url.json.
    let other = WheelBuilder::new("direct-one", "3.0").build();
    let path = other.write_to(&ctx.work());
    ctx.run(&mut install(
        &ctx,
        &env,
        &server,
        &[&path.display().to_string()],
    ))
    .success();
    let info = site.join("direct_one-3.0.dist-info");
    assert!(info.join("direct_url.json").exists());
    assert!(!info.join("provenance_url.json").exists());
    let show = ctx
        .run(ctx.ferry(["show", "direct-one", "--python"]).arg(&env))
        .success()
        .stdout();
    assert!(
        show.trim_end()
            .ends_with(&format!("(sha256 {})", other.sha256())),
        "{show}"
    );
}

#[test]
fn conda_installed_packages_show_their_channel_and_are_not_replaced_without_leave() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish(&WheelBuilder::new("condapkg", "1.0").build());
    server.publish(&WheelBuilder::new("condapkg", "2.0").build());
    let python = pythons::newest();
    let env = make_venv(&ctx, "env", &python.path, false);
    ctx.run(&mut install(&ctx, &env, &server, &["condapkg==1.0"]))
        .success();
    // Make it conda's: conda writes no provenance, and records the files it installed.
    let site = site_packages(&env);
    let info = site.join("condapkg-1.0.dist-info");
    std::fs::remove_file(info.join("provenance_url.json")).unwrap();
    std::fs::write(info.join("INSTALLER"), "conda\n").unwrap();
    let relative = |p: &Path| p.strip_prefix(&env).unwrap().display().to_string();
    std::fs::create_dir_all(env.join("conda-meta")).unwrap();
    let channel_url = "http://127.0.0.1:9/channel/noarch/condapkg-1.0-py_0.conda";
    std::fs::write(
        env.join("conda-meta/condapkg-1.0-py_0.json"),
        serde_json::json!({
            "name": "condapkg",
            "version": "1.0",
            "build": "py_0",
            "channel": "http://127.0.0.1:9/channel/noarch",
            "schannel": "local-channel",
            "url": channel_url,
            "files": [relative(&info.join("METADATA")), relative(&info.join("RECORD"))],
        })
        .to_string(),
    )
    .unwrap();
    // A record conda left that is not JSON it knows is ignored.
    std::fs::write(env.join("conda-meta/history"), "==> 2026-01-01 <==\n").unwrap();

    let show = ctx
        .run(ctx.ferry(["show", "condapkg", "--python"]).arg(&env))
        .success()
        .stdout();
    assert!(
        show.ends_with(&format!(
            "Source: conda channel local-channel ({channel_url})\n"
        )),
        "{show}"
    );
    let list = ctx
        .run(
            ctx.ferry(["list", "--format", "json", "--python"])
                .arg(&env),
        )
        .success()
        .stdout();
    assert!(
        list.contains(r#""source": {"kind": "conda", "channel": "local-channel""#),
        "{list}"
    );

    // Replacing it is refused, naming the package, conda and the way out; nothing changes.
    let err = ctx
        .run(&mut install(&ctx, &env, &server, &["condapkg==2.0"]))
        .failure()
        .stderr();
    assert!(
        err.contains("condapkg 1.0 (conda package condapkg from local-channel)")
            && err.contains("--break-conda-packages"),
        "{err}"
    );
    assert!(info.is_dir());
    ctx.run(&mut install(
        &ctx,
        &env,
        &server,
        &["condapkg==2.0", "--break-conda-packages"],
    ))
    .success()
    .stderr_contains("Successfully installed condapkg-2.0");
}
