//! Hostile archives: each wheel or sdist below is refused with a clear error naming what is
//! wrong, the environment is left as it was, and nothing is written outside the target. The
//! list is docs/RELIABILITY.md's list of archive attacks.

use std::path::Path;

use ferry_test::{pythons, BuiltFile, TestContext, WheelBuilder};

use crate::common::{ctx, make_venv, snapshot};

/// Installs `file` (from a find-links directory) into a new venv and asserts the refusal:
/// `message` in the error, the venv unchanged, and no `escape-marker` anywhere under the
/// test's root (where the venv, the cache and build directories live) nor at
/// `/tmp/escape-marker`.
fn refused(ctx: &TestContext, file: &BuiltFile, requirement: &str, message: &str) {
    let links = ctx.work().join(format!("links-{}", file.filename));
    std::fs::create_dir_all(&links).unwrap();
    file.write_to(&links);
    let venv = make_venv(
        ctx,
        &format!("env-{}", file.filename),
        &pythons::newest().path,
        false,
    );
    let before = snapshot(&venv);
    let out = ctx
        .run(
            ctx.ferry(["install", "--no-index", "-f"])
                .arg(&links)
                .arg(requirement)
                .arg("--python")
                .arg(&venv),
        )
        .failure();
    let err = out.stderr();
    assert!(
        err.contains(message),
        "{}: wanted {message:?}\n{err}",
        file.filename
    );
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error")).count(),
        1,
        "{err}"
    );
    let after: Vec<String> = snapshot(&venv)
        .into_iter()
        .filter(|p| p != ".ferry-lock")
        .collect();
    assert_eq!(after, before, "{}", file.filename);
    // A `..` escape lands in the test's root; an absolute one at `/tmp/escape-marker` (the
    // only absolute path the attacks name, so the rest of a shared /tmp need not be walked).
    let found = snapshot(ctx.root())
        .into_iter()
        .filter(|p| p.ends_with("escape-marker"))
        .collect::<Vec<_>>();
    assert!(found.is_empty(), "{}: {found:?}", file.filename);
    assert!(
        !Path::new("/tmp/escape-marker").exists(),
        "{}: wrote /tmp/escape-marker",
        file.filename
    );
}

fn wheel(name: &str) -> WheelBuilder {
    WheelBuilder::new(name, "1.0").file(&format!("{name}/__init__.py"), "")
}

/// Replaces every `from` in `bytes` with `to` (same length), from the `skip`th on.
fn patch(bytes: &[u8], from: &[u8], to: &[u8], skip: usize) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut seen = 0;
    let mut at = 0;
    while let Some(pos) = out[at..].windows(from.len()).position(|w| w == from) {
        let pos = at + pos;
        if seen >= skip {
            out[pos..pos + to.len()].copy_from_slice(to);
        }
        seen += 1;
        at = pos + from.len();
    }
    out
}

fn with_bytes(file: &BuiltFile, bytes: Vec<u8>) -> BuiltFile {
    let mut file = file.clone();
    file.bytes = bytes;
    file
}

#[test]
fn hostile_wheels_are_refused() {
    let ctx = ctx();
    // A decompression bomb: 100 MiB of zeros in a few hundred KiB.
    let bomb = wheel("bomb")
        .file("bomb/zeros.bin", vec![0u8; 100 << 20])
        .build();
    assert!(bomb.bytes.len() < 1 << 20);
    refused(&ctx, &bomb, "bomb", "decompression bomb");

    // Paths that leave the target, however spelled.
    let cases: [(&str, &str, &str); 5] = [
        ("dots", "../../escape-marker", "climbs out with `..`"),
        ("absolute", "/tmp/escape-marker", "is an absolute path"),
        (
            "backslash",
            "dots\\..\\..\\escape-marker",
            "uses a backslash",
        ),
        ("drive", "C:/escape-marker", "drive letter"),
        ("drivebs", "C:escape-marker", "drive letter"),
    ];
    for (name, path, message) in cases {
        let file = wheel(name).file(path, "x").build();
        refused(&ctx, &file, name, message);
    }

    // Two entries that are one file on a case-insensitive file system.
    let cased = wheel("cased")
        .file("cased/Module.py", "a = 1\n")
        .file("cased/module.py", "a = 2\n")
        .build();
    refused(&ctx, &cased, "cased", "only in case");

    // A name that appears twice (the second entry renamed to the first, everywhere).
    let twice = wheel("twice")
        .file("twice/aa.py", "same")
        .file("twice/bb.py", "same")
        .build();
    let bytes = patch(&twice.bytes, b"twice/bb.py", b"twice/aa.py", 0);
    refused(&ctx, &with_bytes(&twice, bytes), "twice", "appears twice");

    // A local header that disagrees with the central directory (the second mention of the
    // name is in the central directory).
    let split = wheel("split").file("split/aa.py", "x = 1\n").build();
    let bytes = patch(&split.bytes, b"split/aa.py", b"split/zz.py", 1);
    refused(
        &ctx,
        &with_bytes(&split, bytes),
        "split",
        "central directory",
    );

    // RECORD names a file the wheel does not have, and the wheel has a file RECORD does
    // not name.
    let missing = wheel("missing")
        .record("missing/__init__.py,,\nmissing/gone.py,sha256=AAAA,4\nmissing-1.0.dist-info/METADATA,,\nmissing-1.0.dist-info/WHEEL,,\nmissing-1.0.dist-info/RECORD,,\n")
        .build();
    refused(&ctx, &missing, "missing", "missing/gone.py");
    let extra = wheel("extra")
        .file("extra/hidden.py", "x = 1\n")
        .record("extra/__init__.py,,\nextra-1.0.dist-info/METADATA,,\nextra-1.0.dist-info/WHEEL,,\nextra-1.0.dist-info/RECORD,,\n")
        .build();
    refused(&ctx, &extra, "extra", "extra/hidden.py");
}

/// A gzipped tar holding `entries` (name, kind, data or link target) under `name-1.0/`, with a
/// valid PKG-INFO and pyproject so that only the hostile entry is wrong.
fn sdist(name: &str, entries: &[(&str, tar::EntryType, &[u8])]) -> BuiltFile {
    let base = ferry_test::Project::new(name, "1.0").sdist();
    let mut out = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    // The real project first.
    let decoder = flate2::read::GzDecoder::new(&base.bytes[..]);
    let mut archive = tar::Archive::new(decoder);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        out.append(&header, &data[..]).unwrap();
    }
    for (path, kind, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_mode(0o644);
        if kind.is_symlink() {
            header.set_size(0);
            header
                .set_link_name(std::str::from_utf8(data).unwrap())
                .unwrap();
            out.append_data(&mut header, path, std::io::empty())
                .unwrap();
        } else if kind.is_character_special() {
            header.set_size(0);
            header.set_device_major(1).unwrap();
            header.set_device_minor(3).unwrap();
            out.append_data(&mut header, path, std::io::empty())
                .unwrap();
        } else {
            header.set_size(data.len() as u64);
            // `append_data` refuses `..`; write the name into the header by hand.
            let name = header.as_old_mut();
            name.name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            out.append(&header, *data).unwrap();
        }
    }
    let bytes = out.into_inner().unwrap().finish().unwrap();
    let mut file = base;
    file.bytes = bytes;
    file
}

#[test]
fn hostile_sdists_are_refused() {
    let ctx = ctx();
    use tar::EntryType;
    let link_out = sdist(
        "linkout",
        &[(
            "linkout-1.0/evil",
            EntryType::Symlink,
            b"../../escape-marker",
        )],
    );
    refused(&ctx, &link_out, "linkout", "links out of the archive");
    let device = sdist("device", &[("device-1.0/null", EntryType::Char, b"")]);
    refused(&ctx, &device, "device", "is a device or FIFO");
    let dots = sdist(
        "dots",
        &[("dots-1.0/../../escape-marker", EntryType::Regular, b"x")],
    );
    refused(&ctx, &dots, "dots", "`..`");
    // A bomb: 100 MiB of zeros, a few hundred KiB gzipped.
    let zeros = vec![0u8; 100 << 20];
    let bomb = sdist(
        "tarbomb",
        &[("tarbomb-1.0/zeros.bin", EntryType::Regular, &zeros)],
    );
    assert!(bomb.bytes.len() < 1 << 20);
    refused(&ctx, &bomb, "tarbomb", "decompression bomb");
}
