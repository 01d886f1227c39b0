//! Requirements given by location: `name @ URL`, and the unnamed ones (`.`, `./dist/pkg.tar.gz`,
//! `-e ../lib`). Each becomes the only candidate of its project. A wheel's name and version are
//! in its file name, as are an sdist archive's (its metadata comes later, through the fetcher:
//! PKG-INFO when static, else the build seam); a project directory has to be asked, through
//! the build seam's `prepare_metadata_for_build_wheel` (or `_editable`), before resolution starts.

use ferry_index::{DistFile, DistFilename, Hashes, ProjectFile, SdistFilename, WheelFilename};
use ferry_types::vcs::{VcsRequest, VcsResolved, VcsUrl};
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
    /// For a VCS requirement checked out into the cache: what `direct_url.json` records.
    pub vcs: Option<ferry_types::vcs::VcsResolved>,
}

fn unsupported(message: String) -> ResolveError {
    ResolveError::Unsupported(message)
}

/// Makes the location `url` a candidate: of `name` when the requirement names it, else of
/// whatever its file name or metadata says.
pub(crate) fn direct(
    handle: &Handle,
    options: &crate::ResolveOptions,
    name: Option<&str>,
    url: url::Url,
    editable: bool,
) -> Result<Direct, ResolveError> {
    let build = &options.build;
    if let Some(parsed) = VcsUrl::parse(&url) {
        let parsed = parsed.map_err(|message| {
            unsupported(format!("{}: {message}", ferry_types::vcs::redacted(&url)))
        })?;
        return vcs(handle, options, name, &parsed, editable);
    }
    let shown = ferry_index::redact(&url);
    let mut hashes = Hashes::default();
    if let Some(fragment) = url.fragment() {
        for part in fragment.split('&') {
            if let Some(("sha256", value)) = part.split_once('=') {
                hashes.sha256 = Some(value.to_ascii_lowercase());
            }
        }
    }
    // `#subdirectory=`: the project is that directory of the tree or archive. It stays in the
    // candidate's URL (the builder and the installer read it there) but not in `bare`.
    let subdirectory = ferry_types::subdirectory_of(&url);
    if let Some(sub) = &subdirectory {
        check_subdirectory(&shown, sub, "the project")?;
    }
    let mut bare = url;
    bare.set_fragment(None);
    let mut located = bare.clone();
    if let Some(sub) = &subdirectory {
        located.set_fragment(Some(&format!("subdirectory={sub}")));
    }
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
                "{shown}: `{scheme}` is not a version-control scheme ferry knows (git+, hg+, svn+, bzr+)"
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
    if let Some(root) = local.as_ref().filter(|p| p.is_dir()) {
        let project = match &subdirectory {
            Some(sub) => root.join(sub),
            None => root.clone(),
        };
        if !project.is_dir() {
            return Err(unsupported(format!(
                "{shown}: `{}` is not a directory",
                project.display()
            )));
        }
        let stand_in = name.map_or_else(
            || {
                PackageName::new(
                    &project
                        .file_name()
                        .map_or("project".into(), |n| n.to_string_lossy()),
                )
            },
            PackageName::new,
        );
        let source = SourceDist {
            name: stand_in,
            version: None,
            filename: project.display().to_string(),
            url: located,
            sha256: None,
            listed_by: String::new(),
            editable,
        };
        let asked = Asked { name, shown, bare };
        return through_seam(
            handle,
            build,
            source,
            hashes,
            "it is a project directory",
            asked,
        );
    }
    if editable {
        return Err(unsupported(format!(
            "-e {shown}: an editable install needs a project directory"
        )));
    }
    if subdirectory.is_some() && filename.ends_with(".whl") {
        return Err(unsupported(format!(
            "{shown}: a wheel has no `#subdirectory=`; it names a directory inside a source tree or an sdist"
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
    // A project inside an archive (`#subdirectory=`), or a named requirement whose archive is
    // not called like an sdist of it (`pkg @ https://host/archive/main.zip`): the file name
    // is not the project's, so its name and version come from its metadata, through the
    // build seam, as pip does.
    let unnamed_archive = name.is_some_and(|name| {
        !filename.ends_with(".whl")
            && !archive_extension(&filename).is_empty()
            && DistFilename::parse(&filename, name).is_none()
    });
    if subdirectory.is_some() || unnamed_archive {
        let stand_in = PackageName::new(name.unwrap_or(filename.as_str()));
        let source = SourceDist {
            name: stand_in,
            version: None,
            filename,
            url: located,
            sha256: hashes.sha256.clone(),
            listed_by: String::new(),
            editable: false,
        };
        let reason = match subdirectory {
            Some(_) => "the project is in a subdirectory of the archive",
            None => "the archive's file name does not give the project's version",
        };
        let asked = Asked { name, shown, bare };
        return through_seam(handle, build, source, hashes, reason, asked);
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
                url: located,
                hashes,
                requires_python: None,
                yanked: None,
                core_metadata: ferry_index::CoreMetadata::Unavailable,
                size: None,
                upload_time: None,
                provenance: None,
            },
            name: dist,
            source: shown,
        },
        metadata: None,
        url: bare,
        editable: false,
        vcs: None,
    })
}

/// A `#subdirectory=` must stay inside `within`: relative, without `..`.
fn check_subdirectory(shown: &str, sub: &str, within: &str) -> Result<(), ResolveError> {
    let inside = std::path::Path::new(sub)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if inside {
        return Ok(());
    }
    Err(unsupported(format!(
        "{shown}: `#subdirectory={sub}` must be a relative path inside {within}, without `..`"
    )))
}

/// A VCS requirement: checked out (through the build seam, which keeps the cache), then a
/// project directory like any other. A non-editable one is built from the cache's checkout of
/// its commit; an editable one is cloned into `--src` and installed from there, as pip does.
fn vcs(
    handle: &Handle,
    options: &crate::ResolveOptions,
    name: Option<&str>,
    url: &VcsUrl,
    editable: bool,
) -> Result<Direct, ResolveError> {
    let name = name.or(url.egg.as_deref());
    let shown = url.to_string();
    if let Some(sub) = &url.subdirectory {
        check_subdirectory(&shown, sub, "the repository")?;
    }
    let public = url.public_repository();
    let pin_key = crate::vcs_pin_key(
        url.vcs.as_str(),
        &public,
        url.rev.as_deref(),
        url.subdirectory.as_deref(),
    );
    let mut request = VcsRequest {
        pinned: if editable {
            None
        } else {
            options.vcs.pins.get(&pin_key).cloned()
        },
        into: None,
        exists_action: options.vcs.exists_action.clone(),
    };
    if editable {
        let dir_name = name.map(ferry_index::normalize_name).unwrap_or_else(|| {
            let last = url
                .repository
                .path_segments()
                .and_then(|mut s| s.rfind(|p| !p.is_empty()))
                .unwrap_or("project");
            last.trim_end_matches(".git").to_ascii_lowercase()
        });
        let src = options
            .vcs
            .src_dir
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from("src"));
        request.into = Some(src.join(dir_name));
    }
    let build = options.build.clone();
    let checkout = {
        let url = url.clone();
        handle
            .block_on(async move {
                tokio::task::spawn_blocking(move || build.vcs_checkout(&url, &request)).await
            })
            .map_err(|e| unsupported(format!("checking out {shown} failed: {e}")))?
            .map_err(ResolveError::Build)?
    };
    let mut located = url::Url::from_directory_path(&checkout.dir).map_err(|()| {
        unsupported(format!(
            "{shown}: the checkout `{}` has no file URL",
            checkout.dir.display()
        ))
    })?;
    // Without the trailing slash, as other directories are located.
    let path = located.path().trim_end_matches('/').to_string();
    located.set_path(&path);
    let tree = match &url.subdirectory {
        Some(sub) => checkout.dir.join(sub),
        None => checkout.dir.clone(),
    };
    if !tree.is_dir() {
        return Err(unsupported(format!(
            "{shown}: the repository has no directory `{}` at commit {} (its #subdirectory=)",
            url.subdirectory.as_deref().unwrap_or(""),
            checkout.commit
        )));
    }
    let bare = located.clone();
    if let Some(sub) = &url.subdirectory {
        located.set_fragment(Some(&format!("subdirectory={sub}")));
    }
    let stand_in = PackageName::new(name.unwrap_or(&checkout.commit));
    let label = format!(
        "{}+{}@{}",
        url.vcs,
        ferry_types::vcs::redacted(&url.repository),
        checkout.commit
    );
    let source = SourceDist {
        name: stand_in,
        version: None,
        filename: label,
        url: located,
        sha256: None,
        listed_by: String::new(),
        editable,
    };
    let asked = Asked {
        name,
        shown: shown.clone(),
        bare,
    };
    let mut found = through_seam(
        handle,
        &options.build,
        source,
        Hashes::default(),
        "it is a version-control checkout",
        asked,
    )?;
    if !editable {
        let mut pinned = url.with_rev(&checkout.commit);
        pinned.set_fragment(None);
        found.url = pinned;
        found.vcs = Some(VcsResolved {
            vcs: url.vcs,
            repository: public,
            commit: checkout.commit,
            requested_revision: url.rev.clone(),
            subdirectory: url.subdirectory.clone(),
        });
    }
    found.file.source = shown;
    Ok(found)
}

/// What the requirement said: the name it gave, if any, and its location (redacted, for
/// messages; bare, for `direct_url.json`).
struct Asked<'a> {
    name: Option<&'a str>,
    shown: String,
    bare: url::Url,
}

/// A candidate whose metadata has to come through the build seam first: a project directory,
/// or a project in a subdirectory of an archive.
fn through_seam(
    handle: &Handle,
    build: &Builder,
    source: SourceDist,
    hashes: Hashes,
    reason: &'static str,
    asked: Asked<'_>,
) -> Result<Direct, ResolveError> {
    let Asked { name, shown, bare } = asked;
    let label = source.filename.clone();
    let located = source.url.clone();
    let editable = source.editable;
    let is_directory = source.directory().is_some();
    let build = build.clone();
    let text = handle
        .block_on(async move {
            tokio::task::spawn_blocking(move || build.sdist_metadata(&source, reason)).await
        })
        .map_err(|e| unsupported(format!("reading {shown}'s metadata failed: {e}")))?
        .map_err(ResolveError::Build)?;
    let metadata = CoreMetadata::parse(&text).map_err(|message| ResolveError::BadMetadata {
        name: label.clone(),
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
    // A directory's "file name" is its path; an archive keeps its own (its extension tells the
    // builder how to unpack it).
    let extension = if is_directory {
        ""
    } else {
        archive_extension(&label)
    };
    let file = ProjectFile {
        file: dist_file(label, located, hashes, &metadata),
        name: DistFilename::Sdist(SdistFilename {
            name: found.clone(),
            version,
            extension,
        }),
        source: shown,
    };
    Ok(Direct {
        name: found,
        file,
        metadata: Some(metadata),
        url: bare,
        editable,
        vcs: None,
    })
}

fn archive_extension(filename: &str) -> &'static str {
    // What the build frontend can unpack (`ferry_build::sdist::unpack`).
    [".tar.gz", ".tgz", ".zip"]
        .into_iter()
        .find(|ext| filename.ends_with(ext))
        .unwrap_or("")
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
        provenance: None,
    }
}
