//! Requirements given by location: `name @ URL`, and the unnamed ones (`.`, `./dist/pkg.tar.gz`,
//! `-e ../lib`). Each becomes the only candidate of its project. A wheel's name and version are
//! in its file name, as are an sdist archive's (its metadata comes later, through the fetcher:
//! PKG-INFO when static, else the build seam); a project directory has to be asked, through
//! the build seam's `prepare_metadata_for_build_wheel` (or `_editable`), before resolution starts.

use ferry_index::{DistFile, DistFilename, Hashes, ProjectFile, SdistFilename, WheelFilename};
use ferry_types::{Builder, PackageName, SourceDist};
use sha2::{Digest, Sha256};
use tokio::runtime::Handle;

use crate::metadata::CoreMetadata;
use crate::ResolveError;

/// A location made into a candidate.
pub(crate) struct Direct {
    pub name: String,
    pub file: ProjectFile,
    /// Known up front for directories (read through the build seam).
    pub metadata: Option<CoreMetadata>,
    /// The location as the user gave it, without its fragment, for `direct_url.json`.
    pub url: url::Url,
    pub editable: bool,
}

fn unsupported(message: String) -> ResolveError {
    ResolveError::Unsupported(message)
}

/// Makes the location `url` a candidate: of `name` when the requirement names it, else of
/// whatever its file name or metadata says.
pub(crate) fn direct(
    handle: &Handle,
    build: &Builder,
    name: Option<&str>,
    url: url::Url,
    editable: bool,
) -> Result<Direct, ResolveError> {
    let shown = ferry_index::redact(&url);
    let mut hashes = Hashes::default();
    if let Some(fragment) = url.fragment() {
        for part in fragment.split('&') {
            match part.split_once('=') {
                Some(("sha256", value)) => hashes.sha256 = Some(value.to_ascii_lowercase()),
                Some(("subdirectory", _)) => {
                    return Err(unsupported(format!(
                        "{shown}: `#subdirectory=` is not supported yet; give the directory's path instead"
                    )))
                }
                _ => {}
            }
        }
    }
    let mut bare = url;
    bare.set_fragment(None);
    let local = match bare.scheme() {
        "file" => {
            let path = bare
                .to_file_path()
                .map_err(|()| unsupported(format!("{shown} is not a usable file URL")))?;
            if !path.exists() {
                return Err(unsupported(format!("`{}` does not exist", path.display())));
            }
            Some(path)
        }
        "http" | "https" => None,
        scheme if scheme.contains('+') => {
            return Err(unsupported(format!(
                "{shown}: version-control requirements are not supported yet"
            )))
        }
        scheme => {
            return Err(unsupported(format!(
                "{shown}: `{scheme}` URLs are not supported (only file, http and https)"
            )))
        }
    };
    let filename = bare
        .path_segments()
        .and_then(|mut s| s.next_back())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default();

    // A project directory: its metadata, through the build seam.
    if let Some(dir) = local.as_ref().filter(|p| p.is_dir()) {
        let stand_in = name.map_or_else(
            || {
                PackageName::new(
                    &dir.file_name()
                        .map_or("project".into(), |n| n.to_string_lossy()),
                )
            },
            PackageName::new,
        );
        let source = SourceDist {
            name: stand_in,
            version: None,
            filename: dir.display().to_string(),
            url: bare.clone(),
            sha256: None,
            listed_by: String::new(),
            editable,
        };
        let reason = "it is a project directory";
        let build = build.clone();
        let text = handle
            .block_on(async move {
                tokio::task::spawn_blocking(move || build.sdist_metadata(&source, reason)).await
            })
            .map_err(|e| unsupported(format!("reading {shown}'s metadata failed: {e}")))?
            .map_err(ResolveError::Build)?;
        let metadata = CoreMetadata::parse(&text).map_err(|message| ResolveError::BadMetadata {
            name: dir.display().to_string(),
            version: String::new(),
            message,
        })?;
        let found = ferry_index::normalize_name(&metadata.name);
        check_name(name, &found, &shown)?;
        let version = metadata
            .version
            .clone()
            .ok_or_else(|| ResolveError::BadMetadata {
                name: found.clone(),
                version: String::new(),
                message: "it has no valid Version".into(),
            })?;
        let file = ProjectFile {
            file: dist_file(dir.display().to_string(), bare.clone(), hashes, &metadata),
            name: DistFilename::Sdist(SdistFilename {
                name: found.clone(),
                version,
                extension: "",
            }),
            source: shown,
        };
        return Ok(Direct {
            name: found,
            file,
            metadata: Some(metadata),
            url: bare,
            editable,
        });
    }
    if editable {
        return Err(unsupported(format!(
            "-e {shown}: an editable install needs a project directory"
        )));
    }
    // A local archive is hashed now: its metadata is cached by that hash, and direct_url.json
    // records it, as pip does.
    if let Some(path) = local.as_ref().filter(|_| !filename.ends_with(".whl")) {
        let mut hasher = Sha256::new();
        let mut file = fs_err::File::open(path).map_err(|e| unsupported(e.to_string()))?;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            use std::io::Read;
            let n = file
                .read(&mut buf)
                .map_err(|e| unsupported(e.to_string()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let actual: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if let Some(expected) = &hashes.sha256 {
            if *expected != actual {
                return Err(ResolveError::Index(ferry_index::IndexError::HashMismatch {
                    url: shown,
                    expected: expected.clone(),
                    actual,
                }));
            }
        }
        hashes.sha256 = Some(actual);
    }
    let dist = match name {
        Some(name) => DistFilename::parse(&filename, name),
        None => guess(&filename),
    };
    let Some(dist) = dist else {
        return Err(unsupported(match name {
            Some(name) => format!(
                "{name} @ {shown}: `{filename}` is not a wheel or sdist file name of {name}"
            ),
            None => format!(
                "{shown}: `{filename}` is not a wheel or sdist file name (name-version.tar.gz, .zip or .whl)"
            ),
        }));
    };
    let found = dist.name().to_string();
    Ok(Direct {
        name: found,
        file: ProjectFile {
            file: DistFile {
                filename,
                url: bare.clone(),
                hashes,
                requires_python: None,
                yanked: None,
                core_metadata: ferry_index::CoreMetadata::Unavailable,
                size: None,
                upload_time: None,
            },
            name: dist,
            source: shown,
        },
        metadata: None,
        url: bare,
        editable: false,
    })
}

fn check_name(asked: Option<&str>, found: &str, shown: &str) -> Result<(), ResolveError> {
    match asked {
        Some(asked) if ferry_index::normalize_name(asked) != found => Err(unsupported(format!(
            "{asked} @ {shown}: the project there is named {found}, not {asked}"
        ))),
        _ => Ok(()),
    }
}

/// The name and version of an unnamed archive, from its file name.
fn guess(filename: &str) -> Option<DistFilename> {
    if filename.ends_with(".whl") {
        return WheelFilename::parse(filename).map(DistFilename::Wheel);
    }
    // `name-version.ext`: the version is after the last dash that a version can follow.
    let mut from = 0;
    while let Some(at) = filename[from..].find('-') {
        let name = &filename[..from + at];
        if let Some(dist) = DistFilename::parse(filename, name) {
            return Some(dist);
        }
        from += at + 1;
    }
    None
}

fn dist_file(filename: String, url: url::Url, hashes: Hashes, metadata: &CoreMetadata) -> DistFile {
    DistFile {
        filename,
        url,
        hashes,
        requires_python: metadata.requires_python.as_ref().map(ToString::to_string),
        yanked: None,
        core_metadata: ferry_index::CoreMetadata::Unavailable,
        size: None,
        upload_time: None,
    }
}
