//! What an install changes: a resolution compared with what is already installed, and the
//! wheel files to fetch for it.

use std::collections::{BTreeMap, HashMap, HashSet};

use std::path::{Path, PathBuf};

use ferry_index::DistFilename;
use ferry_resolve::ResolvedPackage;
use ferry_types::{BuildContext, SourceDist};
use pep440_rs::Version;

use crate::fetch::WheelSource;
use crate::installed::{ArchiveInfo, DirInfo};
use crate::{DirectUrl, InstallError, InstalledDist};

/// How the plan treats what is installed.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Act as if nothing were installed (`--ignore-installed`, `--target`).
    pub ignore_installed: bool,
    /// Reinstall everything (`--force-reinstall`).
    pub force_reinstall: bool,
    /// Reinstall these (normalized names).
    pub reinstall: HashSet<ferry_types::PackageName>,
}

/// The changes an install makes.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    /// Packages to install, in resolution order.
    pub install: Vec<&'a ResolvedPackage>,
    /// Installed distributions that those replace.
    pub remove: Vec<&'a InstalledDist>,
}

/// The installed versions, as resolver preferences: like pip, what is installed stays unless it
/// must change or is upgraded.
pub fn preferences(installed: &[InstalledDist]) -> HashMap<ferry_types::PackageName, Version> {
    installed
        .iter()
        .filter_map(|d| Some((d.normalized.clone(), d.version.pep440()?.clone())))
        .collect()
}

/// The installed distributions the resolver may keep as they are (pip's installed candidates):
/// all of them but those `options` reinstall, and those whose version is not PEP 440. Their
/// dependencies are read from the installed metadata, so a requirement already satisfied needs
/// no index, and stays satisfied when the index no longer has its version (or with
/// `--no-index`), as in pip.
pub fn installed_candidates(
    installed: &[InstalledDist],
    options: &PlanOptions,
) -> HashMap<ferry_types::PackageName, ferry_resolve::InstalledCandidate> {
    if options.ignore_installed || options.force_reinstall {
        return HashMap::new();
    }
    let mut candidates = HashMap::new();
    for dist in installed {
        if options.reinstall.contains(&dist.normalized) {
            continue;
        }
        let Some(version) = dist.version.pep440().cloned() else {
            continue;
        };
        // Stands for the installed files: a wheel name so the resolution has a file to show.
        let filename = format!(
            "{}-{}-py3-none-any.whl",
            dist.normalized.as_str().replace('-', "_"),
            version
        );
        let (Some(name), Ok(url)) = (
            ferry_index::DistFilename::parse(&filename, &dist.normalized),
            url::Url::from_directory_path(&dist.path),
        ) else {
            continue;
        };
        let mut provides_extra: Vec<String> = dist
            .fields("Provides-Extra")
            .iter()
            .map(|e| ferry_types::PackageName::new(e).to_string())
            .collect();
        provides_extra.dedup();
        let metadata = ferry_resolve::CoreMetadata {
            metadata_version: String::new(),
            name: dist.name.clone(),
            version: Some(version.clone()),
            requires_dist: dist.requires(),
            requires_python: None,
            provides_extra,
            dynamic: Vec::new(),
            raw: String::new(),
        };
        let file = ferry_index::ProjectFile {
            file: ferry_index::DistFile {
                filename,
                url,
                hashes: Default::default(),
                requires_python: None,
                yanked: None,
                core_metadata: ferry_index::CoreMetadata::Unavailable,
                size: None,
                upload_time: None,
                provenance: None,
            },
            name,
            source: format!("installed in {}", dist.location.display()),
        };
        candidates.insert(
            dist.normalized.clone(),
            ferry_resolve::InstalledCandidate {
                version,
                metadata: std::sync::Arc::new(metadata),
                file,
            },
        );
    }
    candidates
}

/// What to fetch while resolving ([`crate::Prefetch`]): every chosen wheel but those of the
/// versions that [`plan`] will keep as installed. `None` when the preparer must see every
/// download itself (hash-checking mode).
pub fn prefetch(
    with: (
        &ferry_index::HttpClient,
        &crate::Store,
        &tokio::runtime::Handle,
    ),
    installed: &[InstalledDist],
    options: &PlanOptions,
    hash_checking: bool,
) -> Option<crate::Prefetch> {
    if hash_checking {
        return None;
    }
    let (http, store, handle) = with;
    let kept = installed
        .iter()
        .filter(|_| !options.ignore_installed && !options.force_reinstall)
        .filter(|d| !options.reinstall.contains(&d.normalized))
        .filter_map(|d| Some((d.normalized.to_string(), d.version.pep440()?.clone())));
    Some(crate::Prefetch::new(
        http.clone(),
        store.clone(),
        handle.clone(),
        kept,
    ))
}

/// Compares `resolved` with `installed`: a package already installed at the same version from
/// the same source is satisfied; anything else is installed, replacing what is there.
pub fn plan<'a>(
    resolved: &'a [ResolvedPackage],
    installed: &'a [InstalledDist],
    options: &PlanOptions,
) -> Plan<'a> {
    let by_name: HashMap<&str, &InstalledDist> = installed
        .iter()
        .map(|d| (d.normalized.as_str(), d))
        .collect();
    let mut plan = Plan::default();
    for package in resolved {
        let existing = if options.ignore_installed {
            None
        } else {
            by_name.get(package.name.as_str()).copied()
        };
        let forced = options.force_reinstall || options.reinstall.contains(&package.name);
        if let Some(dist) = existing {
            let same_version = dist.version.pep440() == Some(&package.version);
            let same_source = match (&package.direct_url, dist.direct_url()) {
                // The same repository, subdirectory and commit.
                (Some(_), Some(direct)) if package.vcs.is_some() => {
                    let vcs = package.vcs.as_ref().expect("checked");
                    direct.vcs_info.as_ref().is_some_and(|info| {
                        info.vcs == vcs.vcs.as_str() && info.commit_id == vcs.commit
                    }) && direct.url == vcs.repository
                        && direct.subdirectory == vcs.subdirectory
                }
                // A project directory may have changed since: pip reinstalls it every time.
                (Some(url), _) if is_directory(url) => false,
                (None, None) => true,
                (Some(url), Some(direct)) => direct.url == url.as_str(),
                // Installed from a URL, now asked for from the index at the same version.
                (None, Some(_)) => true,
                (Some(_), None) => false,
            };
            if same_version && same_source && !forced {
                continue;
            }
            plan.remove.push(dist);
        }
        plan.install.push(package);
    }
    plan
}

/// `ferry sync`: every installed distribution `resolved` does not list is removed too (pip,
/// setuptools and wheel stay with `keep_seed`).
pub fn remove_unlisted<'a>(
    plan: &mut Plan<'a>,
    resolved: &'a [ResolvedPackage],
    installed: &'a [InstalledDist],
    keep_seed: bool,
) {
    let listed: HashSet<&ferry_types::PackageName> = resolved.iter().map(|p| &p.name).collect();
    for dist in installed {
        let seed = ["pip", "setuptools", "wheel"].contains(&dist.normalized.as_str());
        let kept = listed.contains(&dist.normalized) || (keep_seed && seed);
        let already = plan.remove.iter().any(|d| d.path == dist.path);
        if !(kept || already) {
            plan.remove.push(dist);
        }
    }
}

/// The wheel files to fetch for `packages`, with the user's `--hash` values (by normalized
/// name). With `require_hashes`, every package must have some. A package whose chosen file is
/// a source distribution or a project directory goes through the build seam, up to `jobs`
/// builds at a time: `build` makes its wheel in the build cache or in `built`.
pub fn wheel_sources(
    packages: &[&ResolvedPackage],
    with: &Prepare<'_>,
    built: &Path,
) -> Result<Vec<WheelSource>, InstallError> {
    wheel_sources_for(packages, with, built, true)
}

/// [`wheel_sources`]; without `editables`, an editable project gets a regular wheel (as
/// `pip wheel` builds for `-e` lines).
fn wheel_sources_for(
    packages: &[&ResolvedPackage],
    with: &Prepare<'_>,
    built: &Path,
    editables: bool,
) -> Result<Vec<WheelSource>, InstallError> {
    let mut sources = Vec::new();
    let mut unhashed = Vec::new();
    let mut to_build = Vec::new();
    for (index, package) in packages.iter().enumerate() {
        let file = &package.file;
        let hashes = with
            .user_hashes
            .get(&package.name)
            .cloned()
            .unwrap_or_default();
        if with.require_hashes && hashes.is_empty() {
            unhashed.push(format!("{}=={}", package.name, package.version));
        }
        if !matches!(file.name, DistFilename::Wheel(_)) {
            let sha256 = sdist_sha256(package, &hashes)?;
            to_build.push((
                index,
                SourceDist {
                    name: package.name.clone(),
                    version: Some(package.version.clone()),
                    filename: file.file.filename.clone(),
                    url: file.file.url.clone(),
                    sha256,
                    listed_by: file.source.clone(),
                    editable: editables && package.editable,
                },
            ));
        }
        sources.push(chosen_file(package, hashes));
    }
    if !unhashed.is_empty() {
        return Err(InstallError::HashesRequired(unhashed.join(", ")));
    }
    let results = build_all(with.build, &to_build, built, with.build_jobs);
    // Every build ran to its end; each failure is reported, not only the first.
    let mut failed = Vec::new();
    let mut wheels = Vec::new();
    for result in results {
        match result {
            Ok(wheel) => wheels.push(wheel),
            Err(err) => failed.push(err),
        }
    }
    if failed.len() > 1 {
        let messages = failed.iter().map(ToString::to_string).collect();
        return Err(InstallError::Builds(messages));
    }
    if let Some(err) = failed.pop() {
        return Err(err.into());
    }
    for ((index, sdist), wheel) in to_build.iter().zip(wheels) {
        let source = &mut sources[*index];
        source.url = url::Url::from_file_path(&wheel.path)
            .map_err(|()| InstallError::BadUrl(wheel.path.display().to_string()))?;
        source.filename = wheel
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        source.sha256 = None;
        // The user's hashes are of the sdist; the build seam checked the sdist's.
        source.user_hashes = Vec::new();
        // What it was built from: the sdist's URL, or the directory or checkout's label.
        let from = match sdist.url.scheme() {
            "http" | "https" => ferry_types::vcs::strip_credentials(&sdist.url),
            _ => sdist.filename.clone(),
        };
        source.index = format!("built from {from}");
        source.sdist_sha256 = wheel.source_sha256;
    }
    Ok(sources)
}

/// The sha256 an sdist must have: the index's, which the user's sha256 `--hash` values (if any)
/// must include; without one from the index, the user's single sha256, which the download is
/// then checked against.
fn sdist_sha256(
    package: &ResolvedPackage,
    user: &[ferry_types::HashDigest],
) -> Result<Option<String>, InstallError> {
    let listed = package.file.file.hashes.sha256.clone();
    if user.is_empty() {
        return Ok(listed);
    }
    let given: Vec<&str> = user
        .iter()
        .filter(|h| h.algorithm == ferry_types::HashAlgorithm::Sha256)
        .map(|h| h.hex.as_str())
        .collect();
    let mismatch = |actual: String| InstallError::HashMismatch {
        name: package.name.to_string(),
        url: ferry_index::redact(&package.file.file.url),
        expected: format!(
            "one of the sha256 --hash values given for it ({})",
            given.join(", ")
        ),
        actual,
    };
    match (listed, given.as_slice()) {
        (Some(listed), _) if given.contains(&listed.as_str()) => Ok(Some(listed)),
        (Some(listed), _) => Err(mismatch(format!("sha256 {listed} (according to its index)"))),
        (None, [one]) => Ok(Some(one.to_string())),
        (None, _) => Err(mismatch(
            "a source distribution ferry can check against exactly one sha256 --hash (its index lists no hash)".into(),
        )),
    }
}

/// Builds `to_build` through `build`, up to `jobs` at a time; results in order.
fn build_all(
    build: &dyn BuildContext,
    to_build: &[(usize, SourceDist)],
    out_dir: &Path,
    jobs: usize,
) -> Vec<Result<ferry_types::BuiltWheel, ferry_types::BuildError>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<_>>> = Mutex::new((0..to_build.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, to_build.len().max(1)) {
            scope.spawn(|| loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                let Some((_, sdist)) = to_build.get(at) else {
                    break;
                };
                let result = build.build_wheel(sdist, out_dir);
                results.lock().unwrap_or_else(|e| e.into_inner())[at] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every build ran"))
        .collect()
}

/// Whether `url` is a local directory (a project to build, not an archive).
pub(crate) fn is_directory(url: &url::Url) -> bool {
    url.to_file_path().is_ok_and(|path| path.is_dir())
}

/// PEP 610 `direct_url.json` for a package asked for by location, once its wheel's sha256 is
/// known: `dir_info` for a project directory (`editable` with `-e`), else `archive_info` with
/// the hash of the archive asked for (the wheel, or the sdist when it was hashed).
pub fn direct_url(
    package: &ResolvedPackage,
    wheel_sha256: &str,
    sdist_sha256: Option<&str>,
) -> Option<DirectUrl> {
    let url = package.direct_url.as_ref()?;
    if let Some(vcs) = &package.vcs {
        return Some(DirectUrl {
            url: vcs.repository.clone(),
            subdirectory: vcs.subdirectory.clone(),
            dir_info: None,
            vcs_info: Some(crate::installed::VcsInfo {
                vcs: vcs.vcs.as_str().to_string(),
                commit_id: vcs.commit.clone(),
                requested_revision: vcs.requested_revision.clone(),
            }),
            archive_info: None,
        });
    }
    let mut direct = DirectUrl {
        url: ferry_index::redact(url),
        subdirectory: ferry_types::subdirectory_of(&package.file.file.url),
        dir_info: None,
        vcs_info: None,
        archive_info: None,
    };
    if is_directory(url) {
        direct.dir_info = Some(DirInfo {
            editable: package.editable,
        });
        return Some(direct);
    }
    let sha256 = match package.file.name {
        DistFilename::Wheel(_) => Some(wheel_sha256),
        DistFilename::Sdist(_) => sdist_sha256.or(package.file.file.hashes.sha256.as_deref()),
    };
    direct.archive_info = Some(match sha256 {
        Some(sha256) => ArchiveInfo {
            hash: Some(format!("sha256={sha256}")),
            hashes: Some(BTreeMap::from([("sha256".to_string(), sha256.to_string())])),
        },
        None => ArchiveInfo::default(),
    });
    Some(direct)
}

/// The commits installed from VCS requirements, for [`ferry_resolve::VcsOptions::pins`]: a
/// requirement for the same repository, revision and subdirectory keeps its commit unless
/// upgraded.
pub fn vcs_pins(installed: &[InstalledDist]) -> HashMap<String, String> {
    installed
        .iter()
        .filter_map(|dist| {
            let direct = dist.direct_url()?;
            let vcs = direct.vcs_info.as_ref()?;
            let key = ferry_resolve::vcs_pin_key(
                &vcs.vcs,
                &direct.url,
                vcs.requested_revision.as_deref(),
                direct.subdirectory.as_deref(),
            );
            Some((key, vcs.commit_id.clone()))
        })
        .collect()
}

/// PEP 710 `provenance_url.json` for a package from an index or find-links: the file
/// downloaded (the wheel, or the sdist its wheel was built from) and its sha256, and where it
/// was listed. `None` for a package asked for by location (`direct_url.json` says that).
pub fn provenance_url(
    package: &ResolvedPackage,
    wheel_sha256: &str,
    sdist_sha256: Option<&str>,
) -> Option<crate::installed::ProvenanceUrl> {
    if package.direct_url.is_some() {
        return None;
    }
    let file = &package.file;
    let sha256 = match file.name {
        DistFilename::Wheel(_) => Some(wheel_sha256),
        DistFilename::Sdist(_) => sdist_sha256.or(file.file.hashes.sha256.as_deref()),
    };
    Some(crate::installed::ProvenanceUrl {
        url: ferry_types::vcs::strip_credentials(&file.file.url),
        index_url: url::Url::parse(&file.source)
            .map(|u| ferry_types::vcs::strip_credentials(&u))
            .unwrap_or_else(|_| file.source.clone()),
        archive_info: crate::installed::ProvenanceArchive {
            hashes: sha256
                .map(|s| BTreeMap::from([("sha256".to_string(), s.to_string())]))
                .unwrap_or_default(),
        },
    })
}

/// Everything the preparer needs besides the packages.
pub struct Prepare<'a> {
    pub http: &'a ferry_index::HttpClient,
    pub store: &'a crate::Store,
    pub build: &'a dyn BuildContext,
    /// The `--hash` values the requirements give, by normalized name.
    pub user_hashes: HashMap<ferry_types::PackageName, Vec<ferry_types::HashDigest>>,
    /// Every download must match a hash: `--require-hashes`, or any requirement gave one.
    pub require_hashes: bool,
    /// How many builds run at once.
    pub build_jobs: usize,
    /// Fetches started during the resolution, to take instead of fetching again.
    pub prefetch: Option<crate::Prefetch>,
}

impl<'a> Prepare<'a> {
    /// The preparer for `spec`'s requirements; `require_hashes` is the `--require-hashes`
    /// setting (any `--hash` in `spec` turns it on, as in pip).
    pub fn new(
        http: &'a ferry_index::HttpClient,
        store: &'a crate::Store,
        build: &'a dyn BuildContext,
        spec: &ferry_input::RequirementsSpec,
        require_hashes: bool,
    ) -> Self {
        let user_hashes: HashMap<_, _> = spec
            .requirements
            .iter()
            .filter(|r| !r.hashes.is_empty())
            .map(|r| {
                (
                    ferry_types::PackageName::new(r.requirement.name.as_ref()),
                    r.hashes.clone(),
                )
            })
            .collect();
        let require_hashes = Self::hash_checking(spec, require_hashes);
        Self {
            http,
            store,
            build,
            user_hashes,
            require_hashes,
            build_jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            prefetch: None,
        }
    }
}

impl Prepare<'_> {
    /// Whether downloads are in hash-checking mode: `--require-hashes`, or any requirement
    /// of `spec` has a `--hash`, as in pip.
    pub fn hash_checking(spec: &ferry_input::RequirementsSpec, require_hashes: bool) -> bool {
        require_hashes || spec.requirements.iter().any(|r| !r.hashes.is_empty())
    }

    /// Takes wheels `prefetch` fetched while resolving.
    pub fn with_prefetch(self, prefetch: Option<crate::Prefetch>) -> Self {
        Self { prefetch, ..self }
    }

    /// Runs up to `jobs` builds at once.
    pub fn with_build_jobs(self, jobs: usize) -> Self {
        Self {
            build_jobs: jobs,
            ..self
        }
    }
}

/// The preparer: gets every package of `packages` into the unpacked-wheel store (built through
/// the build seam when only a source distribution was chosen, downloaded in parallel and
/// hash-checked otherwise, or found there) and gives the wheels to install, in order. Runs the
/// downloads on `handle`.
pub fn prepare(
    handle: &tokio::runtime::Handle,
    packages: &[&ResolvedPackage],
    with: &Prepare<'_>,
    reporter: &std::sync::Arc<dyn crate::fetch::FetchReporter>,
) -> Result<Vec<crate::WheelToInstall>, InstallError> {
    let built = built_dir()?;
    let sources = wheel_sources(packages, with, built.path())?;
    let fetched = handle.block_on(crate::fetch::fetch_all(
        with.http,
        with.store,
        &sources,
        with.prefetch.as_ref(),
        std::sync::Arc::clone(reporter),
    ));
    let mut wheels = Vec::with_capacity(packages.len());
    for ((package, source), result) in packages.iter().zip(&sources).zip(fetched) {
        let wheel = result?;
        ferry_cache::mark_used(&wheel.archive.with_extension("json"));
        reporter.ready(source, &wheel);
        wheels.push(crate::WheelToInstall {
            name: package.name.to_string(),
            version: package.version.clone(),
            requested: package.requested(),
            direct_url: direct_url(package, &wheel.sha256, source.sdist_sha256.as_deref()),
            provenance_url: provenance_url(package, &wheel.sha256, source.sdist_sha256.as_deref()),
            archive: wheel.archive,
        });
    }
    Ok(wheels)
}

/// The file the resolution chose for `package`, to fetch or save, with the user's `hashes`.
fn chosen_file(package: &ResolvedPackage, hashes: Vec<ferry_types::HashDigest>) -> WheelSource {
    let file = &package.file;
    WheelSource {
        name: package.name.to_string(),
        version: package.version.clone(),
        filename: file.file.filename.clone(),
        url: file.file.url.clone(),
        sha256: file.file.hashes.sha256.clone(),
        user_hashes: hashes,
        index: file.source.clone(),
        sdist_sha256: None,
    }
}

/// Where wheels that cannot be cached (built from an sdist URL without a hash) wait to be
/// installed or saved; removed when dropped, and when ferry is interrupted.
fn built_dir() -> Result<ferry_types::interrupt::TempWork, InstallError> {
    let dir = tempfile::Builder::new()
        .prefix("ferry-built-")
        .tempdir()
        .map_err(|source| InstallError::Io {
            action: "create a directory for built wheels in",
            path: std::env::temp_dir(),
            source,
        })?;
    Ok(ferry_types::interrupt::TempWork::new(dir))
}

/// Saves the wheel of every package of `packages` into `dir` as a file (`ferry wheel`):
/// downloaded wheels hash-checked, source distributions and project directories built through
/// the build seam (or taken from the build cache) and copied. Gives each saved wheel with the
/// source it came from, in order.
pub fn save(
    handle: &tokio::runtime::Handle,
    packages: &[&ResolvedPackage],
    with: &Prepare<'_>,
    dir: &Path,
) -> Result<Vec<(WheelSource, crate::fetch::SavedWheel)>, InstallError> {
    fs_err::create_dir_all(dir).map_err(crate::io_error("create", dir))?;
    let built = built_dir()?;
    let sources = wheel_sources_for(packages, with, built.path(), false)?;
    let kept = with.store.files_dir();
    let saved = handle.block_on(crate::fetch::save_all(
        with.http,
        &sources,
        dir,
        Some(&kept),
    ));
    sources
        .into_iter()
        .zip(saved)
        .map(|(source, saved)| saved.map(|saved| (source, saved)))
        .collect()
}

/// What `ferry download` did with one resolved package.
#[derive(Debug)]
pub enum Downloaded {
    /// Its file (wheel or sdist, as the index has it) is in the directory.
    Saved(Box<(WheelSource, crate::fetch::SavedWheel)>),
    /// It is a project directory: there is no file to save (pip saves none either).
    Source(ferry_types::PackageName),
    /// A VCS checkout, saved as pip saves one: `NAME-VERSION.zip` of the checkout (at its
    /// `#subdirectory=`), every entry under `NAME/`.
    Archived(PathBuf),
}

/// A zip of `tree` at `dest` with every entry under `name/`, as pip archives a VCS checkout
/// for `pip download`: directories (not followed when they are links) and files (their
/// contents, links followed) in a stable order, deflated, written as other output files are.
fn archive_tree(tree: &Path, name: &str, dest: &Path) -> Result<(), InstallError> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    use zip::write::SimpleFileOptions;
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, bool)>) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                out.push((path.clone(), true));
                walk(&path, out)?;
            } else if kind.is_symlink() && path.is_dir() {
                out.push((path, true));
            } else {
                out.push((path, false));
            }
        }
        Ok(())
    }
    let failed = |source: std::io::Error| InstallError::Io {
        action: "archive",
        path: tree.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    walk(tree, &mut entries).map_err(failed)?;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let zip_error = |e: zip::result::ZipError| failed(std::io::Error::other(e));
    for (path, is_dir) in entries {
        let relative = path.strip_prefix(tree).unwrap_or(&path);
        let arcname = format!("{name}/{}", relative.to_string_lossy());
        if is_dir {
            let options = SimpleFileOptions::default().unix_permissions(0o755);
            zip.add_directory(arcname, options).map_err(zip_error)?;
            continue;
        }
        let bytes = std::fs::read(&path).map_err(failed)?;
        let mode = std::fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o644);
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(mode)
            .large_file(bytes.len() as u64 > u32::MAX as u64);
        zip.start_file(arcname, options).map_err(zip_error)?;
        zip.write_all(&bytes).map_err(failed)?;
    }
    let bytes = zip.finish().map_err(zip_error)?.into_inner();
    ferry_cache::write_output(dest, &bytes).map_err(|source| InstallError::Io {
        action: "write",
        path: dest.to_path_buf(),
        source,
    })
}

/// `pip download`: saves the chosen file of every package into `dir` as it is (wheels and
/// sdists alike, nothing built), copying from the cache's whole files when it has them, and
/// keeping what it downloads there. In hash-checking mode every package needs a `--hash`.
pub fn download(
    handle: &tokio::runtime::Handle,
    packages: &[&ResolvedPackage],
    with: &Prepare<'_>,
    dir: &Path,
) -> Result<Vec<Downloaded>, InstallError> {
    fs_err::create_dir_all(dir).map_err(crate::io_error("create", dir))?;
    let mut sources = Vec::new();
    let mut out = Vec::new();
    let mut unhashed = Vec::new();
    for package in packages {
        if package.vcs.is_some() {
            if let Ok(tree) = package.file.file.url.to_file_path() {
                let name = package
                    .metadata
                    .as_ref()
                    .map(|m| m.name.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| package.name.to_string());
                let dest = dir.join(format!("{name}-{}.zip", package.version));
                archive_tree(&tree, &name, &dest)?;
                out.push(Some(Downloaded::Archived(dest)));
                continue;
            }
        }
        let from_source = package.direct_url.as_ref().is_some_and(is_directory)
            || package
                .file
                .file
                .url
                .to_file_path()
                .is_ok_and(|p| p.is_dir());
        if from_source {
            out.push(Some(Downloaded::Source(package.name.clone())));
            continue;
        }
        let hashes = with
            .user_hashes
            .get(&package.name)
            .cloned()
            .unwrap_or_default();
        if with.require_hashes && hashes.is_empty() {
            unhashed.push(format!("{}=={}", package.name, package.version));
        }
        sources.push(chosen_file(package, hashes));
        out.push(None);
    }
    if !unhashed.is_empty() {
        return Err(InstallError::HashesRequired(unhashed.join(", ")));
    }
    let kept = with.store.files_dir();
    let saved = handle.block_on(crate::fetch::save_all(
        with.http,
        &sources,
        dir,
        Some(&kept),
    ));
    let mut saved = sources.into_iter().zip(saved);
    out.into_iter()
        .map(|slot| match slot {
            Some(done) => Ok(done),
            None => {
                let (source, result) = saved.next().expect("one result per source");
                result.map(|wheel| Downloaded::Saved(Box::new((source, wheel))))
            }
        })
        .collect()
}
