//! Resolution: requirements in, a consistent pinned set of distributions out.
//!
//! Takes a [`RequirementsSpec`] (requirements and constraints with their origins), a
//! [`Target`] (the marker environment, wheel tags and Python version to resolve for: the
//! target interpreter's, or overridden with `--python-version`/`--python-platform`),
//! [`ResolveOptions`] (pre-releases, binary policy, preferences, upgrades, `--no-deps`) and an
//! index client, and gives a [`Resolution`]: every package with its version, chosen file,
//! all files of that version (for hashes), its core metadata, the extras requested of it,
//! and what required it. Unsatisfiable inputs give [`ResolveError::NoSolution`] with an
//! explanation derived from pubgrub's derivation tree.
//!
//! The solver is pubgrub, run on its own thread; its questions (project listings, metadata)
//! are answered by an async [`fetcher::Fetcher`] that starts fetching listings and likely
//! metadata as soon as a package is discovered, so the network works ahead of the solver.

mod direct;
mod fetcher;
pub mod lock;
mod metadata;
pub mod pins;
mod provider;
mod range;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;

use ferry_cache::Cache;
use ferry_index::{DistFile, IndexClient, IndexError, ProjectFile, ProjectFiles};
use ferry_input::RequirementsSpec;
use ferry_python::{Interpreter, Tags};
use ferry_types::PackageName;
use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, VersionOrUrl};
use pubgrub::{DefaultStringReporter, PubGrubError, Reporter};
use tokio::runtime::Handle;

pub use fetcher::Binary;
pub use metadata::CoreMetadata;
use provider::{Pkg, Provider, Range};

/// Errors of resolution; each names the package, file or URL at fault.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error("no set of versions satisfies the requirements:\n{0}")]
    NoSolution(String),
    #[error("{name} {version} needs a build to know its dependencies ({filename}): {reason}")]
    NeedsBuild {
        name: String,
        version: String,
        filename: String,
        reason: String,
    },
    #[error(transparent)]
    Build(ferry_types::BuildError),
    #[error("the metadata of {name} {version} is invalid: {message}")]
    BadMetadata {
        name: String,
        version: String,
        message: String,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Shared(Arc<ResolveError>),
}

impl ResolveError {
    /// The error itself, seen through the sharing of cached errors.
    pub fn root(&self) -> &ResolveError {
        match self {
            Self::Shared(inner) => inner.root(),
            other => other,
        }
    }
}

/// A set of package names as pip's `--only-binary`/`--no-binary` take them (`:all:`, names).
#[derive(Debug, Clone, Default)]
pub enum NameSet {
    #[default]
    None,
    All,
    Names(HashSet<String>),
}

impl NameSet {
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Self::None => false,
            Self::All => true,
            Self::Names(names) => names.contains(name),
        }
    }

    /// Applies a pip value: comma-separated names, `:all:` or `:none:`.
    pub fn apply(&mut self, value: &str) {
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                ":all:" => *self = Self::All,
                ":none:" => *self = Self::None,
                name => {
                    let name = ferry_index::normalize_name(name);
                    match self {
                        Self::All => {}
                        Self::None => *self = Self::Names(HashSet::from([name])),
                        Self::Names(names) => {
                            names.insert(name);
                        }
                    }
                }
            }
        }
    }
}

/// Which packages may move away from their preferred version.
#[derive(Debug, Clone, Default)]
pub enum Upgrade {
    #[default]
    None,
    All,
    Packages(HashSet<PackageName>),
}

impl Upgrade {
    pub fn applies(&self, name: &str) -> bool {
        match self {
            Self::None => false,
            Self::All => true,
            Self::Packages(names) => names.contains(name),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// `--pre`.
    pub pre: bool,
    pub only_binary: NameSet,
    pub no_binary: NameSet,
    pub prefer_binary: bool,
    /// `--no-deps`: only what was asked for.
    pub no_deps: bool,
    /// Keep every file of each resolved version in [`ResolvedPackage::all_files`], including
    /// those for other platforms (`--generate-hashes`). Off, none are kept, which spares the
    /// memory of projects with hundreds of wheels per release.
    pub all_files: bool,
    /// Versions to keep when they still fit (installed, or pinned in an existing output).
    pub preferences: HashMap<PackageName, Version>,
    /// Installed distributions that may stay as they are (pip's installed candidates): chosen
    /// whenever their version fits and the package is not upgraded, with their dependencies
    /// read from the installed metadata, whether or not any index still offers that version.
    pub installed: HashMap<PackageName, InstalledCandidate>,
    pub upgrade: Upgrade,
    /// The build seam, for sdists whose metadata is not static.
    pub build: ferry_types::Builder,
    /// Told of each version the resolver decides on, with its file, so that an installer can
    /// start downloading while the resolution goes on.
    pub on_chosen: OnChosen,
    /// Version-control requirements: the commits already installed, and where editable
    /// checkouts go.
    pub vcs: VcsOptions,
    /// `--ignore-requires-python`.
    pub ignore_requires_python: bool,
    /// `--uploaded-prior-to` (`--exclude-newer`): only index files uploaded before this many
    /// seconds since the epoch (PEP 700 `upload-time`); files without one are left out.
    pub uploaded_prior_to: Option<i64>,
}

/// An installed distribution as a resolver candidate (see [`ResolveOptions::installed`]).
#[derive(Debug, Clone)]
pub struct InstalledCandidate {
    pub version: Version,
    /// Its dependencies and extras, as installed.
    pub metadata: Arc<CoreMetadata>,
    /// Stands for the installed files in the resolution; never fetched (an installer keeps
    /// the installed version).
    pub file: ProjectFile,
}

/// How version-control requirements are checked out (see [`ResolveOptions::vcs`]).
#[derive(Debug, Clone, Default)]
pub struct VcsOptions {
    /// The commit installed for a VCS requirement, by [`vcs_pin_key`]: used without asking
    /// the remote (unless upgrading), so a moved branch keeps what is installed.
    pub pins: HashMap<String, String>,
    /// pip's `--src`: where `-e vcs+URL` checkouts go.
    pub src_dir: Option<std::path::PathBuf>,
    /// pip's `--exists-action`, for a `--src` directory in the way.
    pub exists_action: Vec<ferry_types::vcs::ExistsAction>,
}

/// The key of [`VcsOptions::pins`]: the repository without credentials, the revision asked
/// for and the subdirectory.
pub fn vcs_pin_key(
    vcs: &str,
    repository: &str,
    requested: Option<&str>,
    subdirectory: Option<&str>,
) -> String {
    format!(
        "{vcs}+{repository}@{}#{}",
        requested.unwrap_or(""),
        subdirectory.unwrap_or("")
    )
}

/// A listener for the resolver's decisions (see [`ResolveOptions::on_chosen`]): called with the
/// project (normalized), the version and the file that would be installed, when the resolver asks for that
/// version's dependencies. After backtracking, another version of the same project may be
/// announced; the listener decides what is worth fetching (see `ferry_install::Prefetch`).
#[derive(Clone, Default)]
pub struct OnChosen(pub Option<Arc<ChosenListener>>);

/// What [`OnChosen`] calls: project (normalized), version, file.
pub type ChosenListener = dyn Fn(&str, &Version, &ProjectFile) + Send + Sync;

impl std::fmt::Debug for OnChosen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "OnChosen(..)"
        } else {
            "OnChosen(None)"
        })
    }
}

/// What to resolve for.
#[derive(Debug, Clone)]
pub struct Target {
    pub markers: MarkerEnvironment,
    /// Supported tags, best first.
    pub tags: Tags,
    pub python_version: Version,
    /// `--ignore-requires-python`: every file's and version's `requires-python` is admitted.
    pub ignore_requires_python: bool,
}

impl Target {
    /// The target interpreter's environment and tags.
    pub fn from_interpreter(interpreter: &Interpreter) -> Result<Self, ResolveError> {
        let markers = interpreter
            .markers()
            .to_pep508()
            .map_err(ResolveError::Unsupported)?;
        let tags = interpreter.tags().clone();
        let python_version = markers.python_full_version().version.clone();
        Ok(Self::new(markers, tags, python_version))
    }

    pub fn new(markers: MarkerEnvironment, tags: Tags, python_version: Version) -> Self {
        Self {
            markers,
            tags,
            python_version,
            ignore_requires_python: false,
        }
    }

    /// Whether a listed file could be installed on this target, and how well: `Some(rank)` when
    /// its `requires-python` admits the target (an unparseable one is ignored, as pip does) and,
    /// for a wheel, one of its tags is supported (rank 0 is the best tag; an sdist ranks after
    /// every wheel). The one compatibility rule for the resolver, `index versions` and `list`.
    pub fn file_rank(&self, file: &ProjectFile) -> Option<usize> {
        if !self.requires_python_ok(&file.file) {
            return None;
        }
        match &file.name {
            ferry_index::DistFilename::Wheel(wheel) => self.tags.best(
                wheel
                    .tags
                    .iter()
                    .map(|(p, a, pl)| (p.as_str(), a.as_str(), pl.as_str())),
            ),
            ferry_index::DistFilename::Sdist(_) => Some(usize::MAX),
        }
    }

    /// The versions `project` offers this target, newest first, as pip's `index versions` and
    /// `list --outdated` see them: not yanked, with a file [`Self::file_rank`] admits, and no
    /// pre-release unless `pre`. With each, whether one of its usable files is a wheel.
    pub fn offered_versions(&self, project: &ProjectFiles, pre: bool) -> Vec<(Version, bool)> {
        let mut versions: BTreeMap<&Version, bool> = BTreeMap::new();
        for file in &project.files {
            let version = file.name.version();
            if file.file.yanked.is_some()
                || (!pre && version.any_prerelease())
                || self.file_rank(file).is_none()
            {
                continue;
            }
            *versions.entry(version).or_default() |=
                matches!(file.name, ferry_index::DistFilename::Wheel(_));
        }
        versions
            .into_iter()
            .rev()
            .map(|(version, wheel)| (version.clone(), wheel))
            .collect()
    }

    /// Whether a file's `requires-python` admits the target's Python.
    pub fn requires_python_ok(&self, file: &DistFile) -> bool {
        if self.ignore_requires_python {
            return true;
        }
        match file
            .requires_python
            .as_deref()
            .map(pep440_rs::VersionSpecifiers::from_str)
        {
            Some(Ok(spec)) => spec.contains(&self.python_version),
            Some(Err(err)) => {
                tracing::debug!(
                    "ignoring invalid requires-python of {}: {err}",
                    file.filename
                );
                true
            }
            None => true,
        }
    }
}

/// Why a package is in the resolution.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Parent {
    /// Asked for directly, at this origin (`-r requirements.in`, `the command line`).
    Requested(String),
    /// A dependency of this package.
    Package(String),
}

/// One resolved distribution.
#[derive(Debug, Clone)]
pub struct ResolvedPackage {
    pub name: PackageName,
    pub version: Version,
    pub extras: BTreeSet<String>,
    /// The file that would be installed.
    pub file: ProjectFile,
    /// Every file of this version on the index with [`ResolveOptions::all_files`] (for
    /// `--generate-hashes`), else empty.
    pub all_files: Vec<DistFile>,
    pub metadata: Option<Arc<CoreMetadata>>,
    pub parents: BTreeSet<Parent>,
    /// Set when the package came from a requirement by location (`name @ URL`, a path).
    pub direct_url: Option<url::Url>,
    /// Installed in development mode (`-e`, a project directory).
    pub editable: bool,
    /// For a (non-editable) VCS requirement: the repository and the commit checked out.
    pub vcs: Option<ferry_types::vcs::VcsResolved>,
}

impl ResolvedPackage {
    pub fn requested(&self) -> bool {
        self.parents
            .iter()
            .any(|p| matches!(p, Parent::Requested(_)))
    }
}

#[derive(Debug, Clone)]
pub struct Resolution {
    /// Sorted by name.
    pub packages: Vec<ResolvedPackage>,
}

/// Resolves `spec` for `target`. Must be called outside the async runtime whose `handle` is
/// given (it blocks while the solver runs on its own thread).
#[allow(clippy::result_large_err)]
pub fn resolve(
    handle: &Handle,
    client: Arc<IndexClient>,
    cache: Option<&Cache>,
    target: Target,
    spec: &RequirementsSpec,
    options: ResolveOptions,
) -> Result<Resolution, ResolveError> {
    let mut target = target;
    target.ignore_requires_python |= options.ignore_requires_python;
    let target = Arc::new(target);
    let fetcher = Arc::new(fetcher::Fetcher::new(
        client,
        cache.map(Cache::view),
        Arc::clone(&target),
        options.build.clone(),
        options.all_files,
    ));
    fetcher.set_uploaded_prior_to(options.uploaded_prior_to);

    // What the inputs say of the Python version (a PEP 723 script's `requires-python`).
    for (spec_text, origin) in &spec.requires_python {
        let specifiers: pep440_rs::VersionSpecifiers = spec_text.parse().map_err(|e| {
            ResolveError::Unsupported(format!("requires-python `{spec_text}` in {origin}: {e}"))
        })?;
        if !specifiers.contains(&target.python_version) {
            return Err(ResolveError::Unsupported(format!(
                "{origin} requires Python {spec_text}, and the target is Python {}",
                target.python_version
            )));
        }
    }

    // Constraints: intersected into every dependency on the package.
    let mut constraints: HashMap<String, Range> = HashMap::new();
    let mut explicit_pre: HashSet<String> = HashSet::new();
    for entry in &spec.constraints {
        let requirement = &entry.requirement;
        if !requirement.marker.evaluate(&target.markers, &[]) {
            continue;
        }
        if let Some(VersionOrUrl::VersionSpecifier(specifiers)) = &requirement.version_or_url {
            let name = requirement.name.to_string();
            if specifiers.iter().any(|s| s.version().any_prerelease()) {
                explicit_pre.insert(name.clone());
            }
            let range = provider::specifiers_to_range(specifiers);
            let merged = match constraints.get(&name) {
                Some(existing) => existing.intersection(&range),
                None => range,
            };
            constraints.insert(name, merged);
        }
    }

    let mut root = Vec::new();
    let mut origins: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut direct: HashMap<String, (url::Url, bool)> = HashMap::new();
    let mut vcs_found: HashMap<String, ferry_types::vcs::VcsResolved> = HashMap::new();
    let mut add_direct = |found: direct::Direct| -> Result<String, ResolveError> {
        let name = found.name.clone();
        if let Some((url, editable)) = direct.get(&name) {
            if *editable != found.editable && *url == found.url {
                return Err(ResolveError::Unsupported(format!(
                    "{name} is asked for both as an editable (-e) and as a regular install of {}",
                    ferry_index::redact(url)
                )));
            }
            if *url != found.url {
                return Err(ResolveError::Unsupported(format!(
                    "{name} is asked for at two locations: {} and {}",
                    ferry_index::redact(url),
                    ferry_index::redact(&found.url)
                )));
            }
            return Ok(name);
        }
        direct.insert(name.clone(), (found.url, found.editable));
        if let Some(vcs) = found.vcs {
            vcs_found.insert(name.clone(), vcs);
        }
        if let Some(metadata) = found.metadata {
            fetcher.set_metadata(&name, found.file.name.version(), metadata);
        }
        fetcher.set_direct(&name, found.file)?;
        Ok(name)
    };
    let origin_text = |origin: &ferry_input::Origin| match origin {
        ferry_input::Origin::CommandLine => "the command line".to_string(),
        ferry_input::Origin::File { path, .. } => format!("-r {}", path.display()),
    };
    // Requirements by location first: a directory's name is known only from its metadata.
    for entry in &spec.sources {
        // Errors name the entry as written, and where.
        let located = |err: ResolveError| match err {
            ResolveError::Unsupported(message) => ResolveError::Unsupported(format!(
                "{}{} ({}): {message}",
                if entry.editable { "-e " } else { "" },
                entry.location,
                entry.origin
            )),
            other => other,
        };
        let url = entry
            .url()
            .map_err(|message| located(ResolveError::Unsupported(message)))?;
        let found = direct::direct(handle, &options, None, url, entry.editable).map_err(located)?;
        let name = add_direct(found)?;
        let mut text = name.clone();
        if !entry.extras.is_empty() {
            text = format!("{name}[{}]", entry.extras.join(","));
        }
        let requirement: pep508_rs::Requirement = text
            .parse()
            .map_err(|e| ResolveError::Unsupported(format!("{}: {e}", entry.location)))?;
        provider::requirement_deps(&requirement, &constraints, &mut root)
            .map_err(ResolveError::Unsupported)?;
        origins
            .entry(name)
            .or_default()
            .insert(origin_text(&entry.origin));
    }
    for entry in &spec.requirements {
        let requirement = &entry.requirement;
        if !requirement.marker.evaluate(&target.markers, &[]) {
            tracing::debug!("skipping {requirement}: its markers do not match the target");
            continue;
        }
        let name = requirement.name.to_string();
        if let Some(VersionOrUrl::Url(url)) = &requirement.version_or_url {
            let found = direct::direct(handle, &options, Some(&name), url.to_url(), false)?;
            add_direct(found)?;
        }
        if let Some(VersionOrUrl::VersionSpecifier(specifiers)) = &requirement.version_or_url {
            if specifiers.iter().any(|s| s.version().any_prerelease()) {
                explicit_pre.insert(name.clone());
            }
        }
        provider::requirement_deps(requirement, &constraints, &mut root)
            .map_err(ResolveError::Unsupported)?;
        origins
            .entry(name)
            .or_default()
            .insert(origin_text(&entry.origin));
    }
    // A constraint by location (`name @ URL`, also a VCS URL): should anything need `name`,
    // that location is its only candidate, as pip applies it. It is made a candidate now.
    for entry in &spec.constraints {
        let requirement = &entry.requirement;
        let Some(VersionOrUrl::Url(url)) = &requirement.version_or_url else {
            continue;
        };
        if !requirement.marker.evaluate(&target.markers, &[]) {
            continue;
        }
        let name = requirement.name.to_string();
        let found = direct::direct(handle, &options, Some(&name), url.to_url(), false)?;
        add_direct(found)?;
    }
    // A requirement by location is what it points to, never the installed distribution.
    let mut options = options;
    options
        .installed
        .retain(|name, _| !direct.contains_key(name.as_str()));
    let inputs = provider::Inputs {
        markers: target.markers.clone(),
        python_version: target.python_version.clone(),
        root,
        constraints,
        explicit_pre,
        options,
    };
    let provider = Provider::new(Arc::clone(&fetcher), handle.clone(), inputs);

    #[allow(clippy::result_large_err)]
    let solution = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("ferry-resolver".into())
            .stack_size(16 << 20)
            .spawn_scoped(scope, || loop {
                let solution = pubgrub::resolve(&provider, Pkg::Root, Version::new([0]));
                // A run that stopped (or even finished) after a package kept conflicting
                // starts again with that package decided earlier. No solution is final.
                if matches!(solution, Ok(_) | Err(PubGrubError::ErrorInShouldCancel(_))) {
                    if let Some(pkg) = provider.take_restart() {
                        tracing::debug!("{pkg} keeps conflicting; deciding it earlier");
                        continue;
                    }
                }
                break solution;
            })
            .expect("spawn the resolver thread")
            .join()
            .expect("the resolver thread panicked")
    });
    let selected: HashMap<Pkg, Version> = match solution {
        Ok(selected) => selected.into_iter().collect(),
        Err(PubGrubError::NoSolution(mut tree)) => {
            tree.collapse_no_versions();
            let report = DefaultStringReporter::report(&tree)
                .replace("your requirements 0", "your requirements");
            return Err(ResolveError::NoSolution(explain(handle, &report, &fetcher)));
        }
        Err(PubGrubError::ErrorChoosingVersion { source, .. })
        | Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
        | Err(PubGrubError::ErrorInShouldCancel(source)) => return Err(unwrap_shared(source)),
    };

    // Assemble the result.
    let mut extras: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for pkg in selected.keys() {
        if let Pkg::Extra(name, extra) = pkg {
            extras
                .entry(name.clone())
                .or_default()
                .insert(extra.clone());
        }
    }
    let mut parents: HashMap<String, BTreeSet<Parent>> = HashMap::new();
    for (name, set) in origins {
        if selected.contains_key(&Pkg::Project(name.clone())) {
            parents
                .entry(name)
                .or_default()
                .extend(set.into_iter().map(Parent::Requested));
        }
    }
    let edges = provider
        .edges
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for (pkg, versions) in &edges {
        let Some(children) = selected.get(pkg).and_then(|v| versions.get(v)) else {
            continue;
        };
        let Some(parent) = pkg.name() else { continue };
        for child in children {
            if let Some(child) = child.name().filter(|c| *c != parent) {
                parents
                    .entry(child.to_string())
                    .or_default()
                    .insert(Parent::Package(parent.to_string()));
            }
        }
    }
    let mut packages = Vec::new();
    for (pkg, version) in &selected {
        let Pkg::Project(name) = pkg else { continue };
        let name = name.as_str();
        if let Some(candidate) = provider.installed_candidate(name, version) {
            packages.push(ResolvedPackage {
                name: PackageName::new(name),
                version: version.clone(),
                extras: extras.remove(name).unwrap_or_default(),
                file: candidate.file.clone(),
                all_files: Vec::new(),
                metadata: Some(Arc::clone(&candidate.metadata)),
                parents: parents.remove(name).unwrap_or_default(),
                direct_url: None,
                editable: false,
                vcs: None,
            });
            continue;
        }
        let project = fetcher.project_if_fetched(name).ok_or_else(|| {
            ResolveError::Unsupported(format!("{name} was resolved but never fetched"))
        })?;
        let files = project.versions.get(version).cloned().unwrap_or_default();
        let binary = provider.binary(name);
        let file = files.best(binary).cloned().ok_or_else(|| {
            ResolveError::Unsupported(format!("no usable file for {name} {version}"))
        })?;
        let metadata = handle.block_on({
            let fetcher = Arc::clone(&fetcher);
            let (name, version, file) = (name.to_string(), version.clone(), file.clone());
            async move { fetcher.metadata(&name, &version, &file).await.ok() }
        });
        packages.push(ResolvedPackage {
            name: PackageName::new(name),
            version: version.clone(),
            extras: extras.remove(name).unwrap_or_default(),
            file,
            all_files: files.all.clone(),
            metadata,
            parents: parents.remove(name).unwrap_or_default(),
            direct_url: direct.get(name).map(|(url, _)| url.clone()),
            editable: direct.get(name).is_some_and(|(_, editable)| *editable),
            vcs: vcs_found.get(name).cloned(),
        });
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Resolution { packages })
}

fn unwrap_shared(error: Arc<ResolveError>) -> ResolveError {
    match Arc::try_unwrap(error) {
        Ok(error) => error,
        Err(shared) => ResolveError::Shared(shared),
    }
}

/// The pubgrub report, plus the versions that exist of each project it mentions, so that
/// "no version of foo in >=3" comes with what there is.
fn explain(handle: &Handle, report: &str, fetcher: &Arc<fetcher::Fetcher>) -> String {
    let mut text = report.trim().to_string();
    let mut mentioned: Vec<String> = Vec::new();
    for word in report.split(|c: char| c.is_whitespace() || c == ',' || c == '[') {
        let word = word
            .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_' && c != '.');
        if !word.is_empty() && !mentioned.iter().any(|m| m == word) {
            // A listing still arriving (fetched ahead) is waited for, so the explanation does
            // not depend on timing; nothing new is asked.
            if fetcher.was_asked(word) {
                let fetcher = Arc::clone(fetcher);
                let name = word.to_string();
                let _ = handle.block_on(async move { fetcher.project(&name).await });
            }
            if let Some(project) = fetcher.project_if_fetched(word) {
                mentioned.push(project.name.clone());
            }
        }
    }
    for name in mentioned {
        if let Some(project) = fetcher.project_if_fetched(&name) {
            if let Some(sources) = &project.not_found {
                text.push_str(&format!("\n  {name} was not found on {sources}"));
                continue;
            }
            let usable: Vec<String> = project
                .versions
                .iter()
                .rev()
                .filter(|(_, f)| f.best(Binary::Any).is_some())
                .take(8)
                .map(|(v, _)| v.to_string())
                .collect();
            let listing = if project.versions.is_empty() && !project.pages.is_empty() {
                format!("none: {} lists no file of it", project.pages.join(" and "))
            } else if usable.is_empty() {
                "none usable for this Python and platform".to_string()
            } else {
                format!(
                    "{}{}",
                    usable.join(", "),
                    if project.versions.len() > 8 {
                        ", ..."
                    } else {
                        ""
                    }
                )
            };
            text.push_str(&format!("\n  versions of {name}: {listing}"));
        }
    }
    text
}
