//! Snapshots of user-facing text where pip gives no reference to compare with: help, error
//! paragraphs and conflict explanations. Review changes with `cargo insta review`.

use ferry_test::{IndexServer, TestContext, WheelBuilder};

use crate::common::{ctx, python_with_pip as python};

/// stderr of a failing command, with what varies between runs (ports, temporary paths) masked.
fn failure(ctx: &TestContext, cmd: &mut std::process::Command) -> String {
    let out = ctx.run(cmd).failure();
    let mut text = out.stderr();
    text = text.replace(&ctx.root().display().to_string(), "[TMP]");
    let mut masked = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("127.0.0.1:") {
        masked.push_str(&rest[..at + "127.0.0.1:".len()]);
        rest = rest[at + "127.0.0.1:".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        masked.push_str("PORT");
    }
    masked.push_str(rest);
    masked
}

#[test]
fn help_texts() {
    let ctx = ctx();
    insta::assert_snapshot!(
        "help",
        ctx.run(&mut ctx.ferry(["--help"])).success().stdout()
    );
    insta::assert_snapshot!(
        "install_help",
        ctx.run(&mut ctx.ferry(["install", "--help"]))
            .success()
            .stdout()
    );
}

#[test]
fn conflict_explanation() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish(
        &WheelBuilder::new("app", "1.0")
            .requires_dist("lib>=2")
            .build(),
    );
    server.publish(
        &WheelBuilder::new("app", "2.0")
            .requires_dist("lib>=3")
            .build(),
    );
    server.publish(&WheelBuilder::new("lib", "1.0").build());
    server.publish(&WheelBuilder::new("lib", "2.5").build());
    let text = failure(
        &ctx,
        ctx.ferry(["install", "--dry-run", "app", "lib<2", "--python"])
            .arg(python())
            .args(["-i", &server.url()]),
    );
    insta::assert_snapshot!("conflict", text);
}

#[test]
fn error_paragraphs() {
    let ctx = ctx();
    let server = IndexServer::start();
    server.publish(
        &WheelBuilder::new("app", "1.0")
            .requires_dist("missing")
            .build(),
    );
    let py = python();
    let url = server.url();
    type Case<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "bad_requirement",
            vec!["install", "--dry-run", "app>>1"],
            vec![],
        ),
        (
            "missing_dependency",
            vec!["install", "--dry-run", "app"],
            vec![],
        ),
        (
            "bad_config_value",
            vec!["install", "--dry-run", "app"],
            vec![("PIP_NO_DEPS", "maybe")],
        ),
        (
            "unknown_project",
            vec!["index", "versions", "nothing-here"],
            vec![],
        ),
    ];
    for (name, args, env) in cases {
        let mut cmd = ctx.ferry(&args);
        cmd.args(["--python", &py, "-i", &url]);
        for (key, value) in env {
            cmd.env(key, value);
        }
        insta::assert_snapshot!(name, failure(&ctx, &mut cmd));
    }
}
