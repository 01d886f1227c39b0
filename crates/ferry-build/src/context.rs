//! [`SourceBuilder`]: the build seam's implementation. It gets a source (an sdist from an
//! index or a URL, a local archive, a project directory) into a tree, runs the [`Frontend`] on
//! it, and keeps what it built in the build cache. Its isolated build environments are filled
//! by ferry's own resolver and installer, linked from the unpacked-wheel store, so a warm one
//! costs a venv and some hard links.
//!
//! The build cache (`built-v1`) holds one directory per build key, with the wheel and an
//! `origin.json` saying what it was built from:
//! - an sdist with a known sha256 (listed by an index, hashed when local, or `#sha256=`):
//!   `sdist-<sha256>/<target>/`; the sdist cannot change, so the wheel is reused forever;
//! - a project directory: `tree-<path key>/<stamp>/<target>/`, where the stamp digests the path,
//!   size and modification time of every file of the project (see [`tree_stamp`]), so any edit
//!   rebuilds, and an unchanged tree is not built again;
//! - an sdist URL without a hash is built every time.
//!
//! `<target>` digests the interpreter's marker environment and the `--config-settings`, so a
//! wheel is reused only for the same interpreter version, implementation and platform, built
//! with the same settings.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use ferry_cache::{Bucket, Cache};
use ferry_index::IndexClient;
use ferry_input::{RequirementEntry, RequirementsSpec};
use ferry_python::Interpreter;
use ferry_types::{BuildContext, BuiltWheel, SourceDist};
use sha2::{Digest, Sha256};
use tokio::runtime::Handle;

use crate::flight::{Chain, Entry, Flights, Guard};
use crate::{BuildError, BuildOptions, BuildReporter, BuildRequirements, Frontend, Kind};

/// How many environments that prepared an sdist's metadata are kept for its build.
const MAX_READIED: usize = 16;

/// How deep builds may nest (a build requirement that itself has to be built, and so on).
const MAX_DEPTH: usize = 8;

/// What the build cache records about a wheel it holds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    /// The sdist's URL (redacted) or the project directory.
    pub source: String,
    pub sha256: Option<String>,
    pub backend: String,
    pub editable: bool,
    /// Seconds since the Unix epoch.
    pub built_at: u64,
    pub wheel: String,
}

/// How build environments resolve their requirements.
#[derive(Debug, Clone, Default)]
pub struct EnvironmentPolicy {
    /// Constraints (pip applies `PIP_CONSTRAINT` and pip.conf's `constraint` there).
    pub constraints: Vec<RequirementEntry>,
    /// The user's resolver options; their `--pre`, `--prefer-binary`, `--only-binary` and
    /// `--no-binary` apply to build requirements too, as in pip.
    pub options: ferry_resolve::ResolveOptions,
    /// `--config-settings` given on a requirements-file line, by normalized project name:
    /// added to the command line's for that project's builds, as pip does.
    pub per_project: std::collections::HashMap<String, Vec<(String, String)>>,
}

/// Builds for one target interpreter; cheap to clone.
#[derive(Clone)]
pub struct SourceBuilder {
    inner: Arc<Inner>,
    depth: usize,
    /// The builds this builder's builds are nested in (see [`crate::flight`]).
    chain: Chain,
}

struct Inner {
    interpreter: Interpreter,
    client: Arc<IndexClient>,
    cache: Cache,
    handle: Handle,
    options: BuildOptions,
    /// Constraints for build environments (pip applies `PIP_CONSTRAINT` there).
    constraints: Vec<RequirementEntry>,
    /// What build environments resolve with: the user's `--pre`, `--prefer-binary`,
    /// `--only-binary` and `--no-binary`, which pip applies to build requirements too.
    policy: ferry_resolve::ResolveOptions,
    per_project: std::collections::HashMap<String, Vec<(String, String)>>,
    reporter: Arc<dyn BuildReporter + Send>,
    /// sdists downloaded in this run, by URL, so that reading the metadata of one and then
    /// building it downloads it once; kept in `scratch`, removed when the builder goes.
    /// (file, its sha256) by URL.
    downloads: std::sync::Mutex<std::collections::HashMap<String, (PathBuf, String)>>,
    scratch: std::sync::OnceLock<crate::TempWork>,
    /// One build (or metadata preparation) at a time per key; the others wait for it.
    flights: Flights,
    /// Builds (and metadata preparations) that failed in this run, by key, with the error.
    failed: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// sdist metadata prepared in this run, by sdist.
    metadata: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// The build environments (and unpacked trees) that prepared an sdist's metadata, kept so
    /// that building its wheel later in the run reuses them, as pip does, instead of making
    /// and filling a second environment.
    readied: std::sync::Mutex<std::collections::HashMap<String, Readied>>,
}

/// An sdist unpacked and its backend readied, between its metadata and its build.
struct Readied {
    prepared: crate::Prepared,
    _unpacked: crate::TempWork,
}

impl SourceBuilder {
    pub fn new(
        interpreter: Interpreter,
        client: Arc<IndexClient>,
        cache: Cache,
        handle: Handle,
        options: BuildOptions,
        environments: EnvironmentPolicy,
        reporter: Arc<dyn BuildReporter + Send>,
    ) -> Self {
        let EnvironmentPolicy {
            constraints,
            options: policy,
            per_project,
        } = environments;
        // Build environments beside the store, so their requirements are hard links.
        let mut options = options;
        if options.work_root.is_none() {
            options.work_root = Some(cache.bucket(Bucket::Builds));
        }
        let policy = ferry_resolve::ResolveOptions {
            pre: policy.pre,
            prefer_binary: policy.prefer_binary,
            only_binary: policy.only_binary,
            no_binary: policy.no_binary,
            ..ferry_resolve::ResolveOptions::default()
        };
        Self {
            inner: Arc::new(Inner {
                interpreter,
                client,
                cache,
                handle,
                options,
                constraints,
                policy,
                per_project,
                reporter,
                downloads: std::sync::Mutex::default(),
                scratch: std::sync::OnceLock::new(),
                flights: Flights::default(),
                failed: std::sync::Mutex::default(),
                metadata: std::sync::Mutex::default(),
                readied: std::sync::Mutex::default(),
            }),
            depth: 0,
            chain: Chain::default(),
        }
    }

    /// This builder for the work of the build (or metadata preparation) `key`: build
    /// environments it fills are nested in that build.
    fn within(&self, key: &str) -> Self {
        let mut chain = self.chain.to_vec();
        chain.push(key.to_string());
        Self {
            inner: Arc::clone(&self.inner),
            depth: self.depth,
            chain: Arc::new(chain),
        }
    }

    /// Waits until nobody else builds `key`, then either finds what they made (`found`
    /// gives it) or claims `key`. `Err` when the build would need itself.
    fn claim<T>(
        &self,
        key: &str,
        source: &SourceDist,
        found: impl Fn() -> Option<T>,
    ) -> Result<Result<T, Guard<'_>>, BuildError> {
        loop {
            if let Some(done) = found() {
                return Ok(Ok(done));
            }
            if let Some(message) = self.failed(key) {
                return Err(BuildError::Environment {
                    project: source.to_string(),
                    message: format!("it failed to build earlier in this run: {message}"),
                });
            }
            match self.inner.flights.enter(key, &self.chain) {
                Entry::Owner(guard) => {
                    // It may have landed between the look and the claim.
                    return Ok(match found() {
                        Some(done) => Ok(done),
                        None => Err(guard),
                    });
                }
                Entry::Landed => continue,
                Entry::Cycle => {
                    return Err(BuildError::Environment {
                        project: source.to_string(),
                        message: "its build environment needs it built first: a build requirement depends on itself".into(),
                    })
                }
            }
        }
    }

    /// Why the build (or metadata preparation) `key` failed earlier in this run, if it did.
    fn failed(&self, key: &str) -> Option<String> {
        let failed = self.inner.failed.lock().unwrap_or_else(|e| e.into_inner());
        failed.get(key).cloned()
    }

    /// Remembers that `key` failed, so that builds waiting for it do not run it again.
    fn remember<T>(&self, key: &str, result: Result<T, BuildError>) -> Result<T, BuildError> {
        if let Err(err) = &result {
            let mut failed = self.inner.failed.lock().unwrap_or_else(|e| e.into_inner());
            failed.insert(key.to_string(), err.to_string());
        }
        result
    }

    /// Who builds `source`, for the build of `key` (its cache entry, or its URL).
    fn build_key(source: &SourceDist, cache_dir: Option<&Path>) -> String {
        match cache_dir {
            Some(dir) => dir.display().to_string(),
            None => source.url.to_string(),
        }
    }

    fn frontend<'a>(&'a self, options: &'a BuildOptions) -> Frontend<'a> {
        Frontend {
            interpreter: &self.inner.interpreter,
            requirements: self,
            options,
            reporter: &*self.inner.reporter,
        }
    }

    /// The build options for `source`: the command's, plus the `--config-settings` its
    /// requirements-file line gave.
    fn options_for(&self, source: &SourceDist) -> BuildOptions {
        let mut options = self.inner.options.clone();
        if let Some(extra) = self.inner.per_project.get(source.name.as_str()) {
            for (key, value) in extra {
                options
                    .config_settings
                    .entry(key.clone())
                    .or_default()
                    .push(value.clone());
            }
        }
        options
    }

    /// Builds `kind` of the project at `tree` into `out_dir` (`ferry build`), without the cache.
    pub fn build_tree(
        &self,
        tree: &Path,
        kind: Kind,
        out_dir: &Path,
    ) -> Result<PathBuf, BuildError> {
        self.frontend(&self.inner.options)
            .build(tree, &tree.display().to_string(), kind, out_dir)
    }

    /// The cache directory of `source`'s wheel, if its builds can be reused.
    fn cache_dir(
        &self,
        source: &SourceDist,
        kind: Kind,
        options: &BuildOptions,
    ) -> Option<PathBuf> {
        // The interpreter and the backend's settings decide what a build gives.
        let target = short_digest(
            format!(
                "{:?}{:?}{}",
                self.inner.interpreter.markers(),
                options.config_settings,
                // One archive may hold several projects (`#subdirectory=`).
                source
                    .subdirectory()
                    .map(|sub| format!("#{sub}"))
                    .unwrap_or_default()
            )
            .as_bytes(),
        );
        let kind = match kind {
            Kind::Editable => "editable",
            _ => "wheel",
        };
        let bucket = self.inner.cache.bucket(Bucket::Built);
        if let Some(dir) = source.directory() {
            // A VCS checkout in the cache is one commit and never changes.
            if self.is_checkout(&dir) {
                let key = ferry_cache::url_key(&dir.display().to_string());
                return Some(
                    bucket
                        .join(format!("vcs-{key}"))
                        .join(format!("{kind}-{target}")),
                );
            }
            let stamp = tree_stamp(&dir);
            let key = ferry_cache::url_key(&dir.display().to_string());
            return Some(
                bucket
                    .join(format!("tree-{key}"))
                    .join(stamp)
                    .join(format!("{kind}-{target}")),
            );
        }
        let sha256 = source.sha256.as_ref()?;
        Some(
            bucket
                .join(format!("sdist-{sha256}"))
                .join(format!("{kind}-{target}")),
        )
    }

    /// The project tree of `source`: the directory itself, or the sdist unpacked into `work`.
    fn tree(&self, source: &SourceDist, work: &Path) -> Result<PathBuf, BuildError> {
        if let Some(dir) = source.directory() {
            if !self.is_checkout(&dir) {
                return Ok(dir);
            }
            // Backends write into the tree they build (`build/`, `*.egg-info`); a checkout
            // in the cache is shared by every run, so the build gets a copy.
            let root = self.checkout_root(&dir).unwrap_or_else(|| dir.clone());
            let copy = work.join("src");
            copy_tree(&root, &copy)?;
            let inside = dir.strip_prefix(&root).unwrap_or(Path::new(""));
            return Ok(copy.join(inside));
        }
        let archive = match source.url.scheme() {
            "file" => source
                .url
                .to_file_path()
                .map_err(|()| BuildError::Environment {
                    project: source.to_string(),
                    message: format!("`{}` is not a usable file URL", source.url),
                })?,
            _ => self.download(source)?,
        };
        let top = crate::sdist::unpack(&archive, &work.join("src"))?;
        let Some(sub) = source.subdirectory() else {
            return Ok(top);
        };
        let project = top.join(&sub);
        if !project.is_dir() {
            return Err(BuildError::Environment {
                project: source.to_string(),
                message: format!("the archive has no directory `{sub}` (its #subdirectory=)"),
            });
        }
        Ok(project)
    }

    /// Whether `dir` is (inside) a VCS checkout in the cache.
    fn is_checkout(&self, dir: &Path) -> bool {
        self.checkout_root(dir).is_some()
    }

    /// The checkout `dir` is in: `vcs-v1/<vcs>/checkouts/<repository>/<commit>`.
    fn checkout_root(&self, dir: &Path) -> Option<PathBuf> {
        let vcs = self.inner.cache.bucket(Bucket::Vcs);
        let rest = dir.strip_prefix(&vcs).ok()?;
        let parts: Vec<_> = rest.components().take(4).collect();
        (parts.len() == 4 && parts[1].as_os_str() == "checkouts")
            .then(|| parts.iter().fold(vcs.clone(), |p, c| p.join(c)))
    }

    /// Downloads the sdist (once per run), checking its sha256 when one is known.
    fn download(&self, source: &SourceDist) -> Result<PathBuf, BuildError> {
        let failed = |message: String| BuildError::Download {
            project: source.to_string(),
            message,
        };
        let key = source.url.as_str().to_string();
        let lock = || {
            self.inner
                .downloads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
        };
        if let Some((path, _)) = lock().get(&key) {
            return Ok(path.clone());
        }
        let scratch = match self.inner.scratch.get() {
            Some(dir) => dir,
            None => {
                let dir = self.inner.options.temp_dir("ferry-sdists-")?;
                let _ = self.inner.scratch.set(dir);
                self.inner.scratch.get().expect("just set")
            }
        };
        let http = self.inner.client.http();
        let fetched = self
            .inner
            .handle
            .block_on(http.get(&source.url, ""))
            .map_err(|e| failed(e.to_string()))?;
        let actual = hex(&Sha256::digest(&fetched.body));
        if let Some(expected) = &source.sha256 {
            if &actual != expected {
                return Err(failed(format!(
                    "its download from {} has sha256 {actual}, not the expected {expected}",
                    ferry_index::redact(&source.url)
                )));
            }
        }
        let dir = scratch.path().join(short_digest(key.as_bytes()));
        fs_err::create_dir_all(&dir).map_err(|e| io("create", &dir, e))?;
        let path = dir.join(&source.filename);
        // Written whole under a temporary name and renamed: the resolver (reading PKG-INFO)
        // and a build may download the same sdist at once, and neither may read the other's
        // half-written file.
        ferry_cache::write_atomic(&path, &fetched.body)
            .map_err(|e| failed(format!("could not keep it: {e}")))?;
        lock().insert(key, (path.clone(), actual));
        Ok(path)
    }

    /// The sha256 of `source`: known beforehand, or taken when this run downloaded it.
    fn source_sha256(&self, source: &SourceDist) -> Option<String> {
        if source.sha256.is_some() {
            return source.sha256.clone();
        }
        let downloads = self
            .inner
            .downloads
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        downloads
            .get(source.url.as_str())
            .map(|(_, sha)| sha.clone())
    }

    fn kind(source: &SourceDist) -> Kind {
        if source.editable {
            Kind::Editable
        } else {
            Kind::Wheel
        }
    }

    /// The environment that prepared the metadata of the build `key`, if one is kept.
    fn take_readied(&self, key: &str) -> Option<Readied> {
        let mut readied = self.inner.readied.lock().unwrap_or_else(|e| e.into_inner());
        readied.remove(key)
    }

    /// The cached wheel of `source`, if there is one.
    fn cached(&self, dir: &Path) -> Option<PathBuf> {
        let entries = fs_err::read_dir(dir).ok()?;
        let wheel = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "whl"))?;
        ferry_cache::mark_used(&dir.join("origin.json"));
        Some(wheel)
    }

    /// Builds `source`'s wheel into the cache (or `out_dir` when it cannot be cached).
    fn build(&self, source: &SourceDist, out_dir: &Path) -> Result<BuiltWheel, BuildError> {
        let kind = Self::kind(source);
        let options = self.options_for(source);
        let cache_dir = self.cache_dir(source, kind, &options);
        let key = Self::build_key(source, cache_dir.as_deref());
        let from_cache = |wheel: PathBuf| {
            tracing::debug!("{source}: wheel from the build cache: {}", wheel.display());
            self.inner.reporter.built(&source.to_string(), &wheel, true);
            BuiltWheel {
                path: wheel,
                cached: true,
                source_sha256: source.sha256.clone(),
            }
        };
        // Builds of one key run once; a concurrent second one waits for the first (and finds
        // its cache entry; an uncached build, of an sdist URL without a hash, runs again). Every
        // build claims its key, so that waits between builds are all seen (see `flight`).
        let found = || cache_dir.as_deref().and_then(|dir| self.cached(dir));
        let _claim = match self.claim(&key, source, found)? {
            Ok(wheel) => return Ok(from_cache(wheel)),
            Err(guard) => guard,
        };
        let this = self.within(&key);
        let project = source.to_string();
        let readied = self.take_readied(&key);
        let work = options.temp_dir("ferry-sdist-")?;
        let staging = work.path().join("out");
        let frontend = this.frontend(&options);
        let built = || match readied {
            // Its metadata was prepared in this run: the same environment and tree build it.
            Some(readied) if kind == Kind::Wheel => {
                let backend = readied.prepared.backend().to_string();
                let wheel = frontend.build_prepared(&readied.prepared, kind, &staging)?;
                Ok((wheel, backend))
            }
            _ => {
                let tree = self.tree(source, work.path())?;
                let backend = crate::BuildSystem::read(&tree)?.backend;
                Ok((frontend.build(&tree, &project, kind, &staging)?, backend))
            }
        };
        let (wheel, backend) = self.remember(&key, built())?;
        let Some(cache_dir) = cache_dir else {
            fs_err::create_dir_all(out_dir).map_err(|e| io("create", out_dir, e))?;
            let target = out_dir.join(wheel.file_name().unwrap_or_default());
            fs_err::rename(&wheel, &target).map_err(|e| io("move a wheel into", out_dir, e))?;
            self.inner.reporter.built(&project, &target, false);
            return Ok(BuiltWheel {
                path: target,
                cached: false,
                source_sha256: self.source_sha256(source),
            });
        };
        let name = wheel.file_name().unwrap_or_default().to_owned();
        let origin = Origin {
            source: match source.directory() {
                Some(dir) => dir.display().to_string(),
                None => ferry_index::redact(&source.url),
            },
            sha256: source.sha256.clone(),
            backend,
            editable: source.editable,
            built_at: SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            wheel: name.to_string_lossy().into_owned(),
        };
        // Staged beside the entry, then renamed into place: a reader sees a whole entry or none.
        let parent = cache_dir.parent().unwrap_or(&cache_dir);
        fs_err::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
        let stage = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempdir_in(parent)
            .map_err(|e| io("create a directory in", parent, e))?;
        let _registered = ferry_types::interrupt::Registered::new(stage.path());
        fs_err::copy(&wheel, stage.path().join(&name)).map_err(|e| io("copy", &wheel, e))?;
        let json = serde_json::to_vec_pretty(&origin).unwrap_or_default();
        fs_err::write(stage.path().join("origin.json"), json)
            .map_err(|e| io("write", stage.path(), e))?;
        let staged = stage.keep();
        if let Err(err) = fs_err::rename(&staged, &cache_dir) {
            let _ = fs_err::remove_dir_all(&staged);
            // Another build of the same source got there first: use its entry.
            if self.cached(&cache_dir).is_none() {
                return Err(io("move a built wheel into", &cache_dir, err));
            }
        }
        let path = self
            .cached(&cache_dir)
            .ok_or_else(|| io("read", &cache_dir, std::io::ErrorKind::NotFound.into()))?;
        self.inner.reporter.built(&project, &path, false);
        Ok(BuiltWheel {
            path,
            cached: false,
            source_sha256: self.source_sha256(source),
        })
    }
}

impl BuildContext for SourceBuilder {
    fn sdist_archive(
        &self,
        source: &SourceDist,
    ) -> Result<Option<PathBuf>, ferry_types::BuildError> {
        if source.directory().is_some() || source.url.scheme() == "file" {
            return Ok(None);
        }
        self.download(source)
            .map(Some)
            .map_err(|err| ferry_types::BuildError::Frontend(Box::new(err)))
    }

    fn vcs_checkout(
        &self,
        url: &ferry_types::vcs::VcsUrl,
        request: &ferry_types::vcs::VcsRequest,
    ) -> Result<ferry_types::vcs::VcsCheckout, ferry_types::BuildError> {
        crate::vcs::checkout(&self.inner.cache.bucket(Bucket::Vcs), url, request)
            .map_err(|err| ferry_types::BuildError::Frontend(Box::new(err)))
    }

    fn sdist_metadata(
        &self,
        source: &SourceDist,
        _reason: &str,
    ) -> Result<String, ferry_types::BuildError> {
        let failed = |err: BuildError| ferry_types::BuildError::Frontend(Box::new(err));
        if self.depth >= MAX_DEPTH {
            return Err(too_deep(source));
        }
        // A project directory is installed whenever it is asked for, so its wheel is built
        // (or found in the build cache) now and its metadata read from it.
        if source.directory().is_some() {
            let scratch = self.inner.options.temp_dir("ferry-out-").map_err(failed)?;
            let wheel = self.build(source, scratch.path()).map_err(failed)?;
            return crate::wheel_metadata(&wheel.path).map_err(failed);
        }
        // An sdist may not be chosen in the end: its backend prepares only the metadata. The
        // readied environment is kept for the build, should the sdist be chosen.
        let options = self.options_for(source);
        let key = Self::build_key(
            source,
            self.cache_dir(source, Kind::Wheel, &options).as_deref(),
        );
        let memo = format!("metadata of {key}");
        let known = || {
            let memo = self
                .inner
                .metadata
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            memo.get(&key).cloned()
        };
        let _claim = match self.claim(&memo, source, known).map_err(failed)? {
            Ok(text) => return Ok(text),
            Err(guard) => guard,
        };
        let this = self.within(&memo);
        let work = options.temp_dir("ferry-sdist-").map_err(failed)?;
        let frontend = this.frontend(&options);
        let readied = || {
            let tree = self.tree(source, work.path())?;
            let prepared = frontend.prepare(&tree, &source.to_string(), Kind::Wheel)?;
            let text = frontend.metadata_prepared(&prepared, Kind::Wheel)?;
            Ok((prepared, text))
        };
        let (prepared, text) = self.remember(&memo, readied()).map_err(failed)?;
        self.inner
            .metadata
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone(), text.clone());
        let mut kept = self.inner.readied.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: resolving many sdists (`ferry compile`, backtracking) must not keep an
        // environment for each; one evicted is only built in a new environment, as before.
        if kept.len() >= MAX_READIED {
            if let Some(evicted) = kept.keys().next().cloned() {
                kept.remove(&evicted);
            }
        }
        let readied = Readied {
            prepared,
            _unpacked: work,
        };
        kept.insert(key, readied);
        Ok(text)
    }

    fn build_wheel(
        &self,
        source: &SourceDist,
        out_dir: &Path,
    ) -> Result<BuiltWheel, ferry_types::BuildError> {
        if self.depth >= MAX_DEPTH {
            return Err(too_deep(source));
        }
        self.build(source, out_dir)
            .map_err(|err| ferry_types::BuildError::Frontend(Box::new(err)))
    }
}

impl BuildRequirements for SourceBuilder {
    fn install(&self, venv: &Path, python: &Path, requirements: &[String]) -> Result<(), String> {
        let inner = &self.inner;
        let mut spec = RequirementsSpec {
            constraints: inner.constraints.clone(),
            ..RequirementsSpec::default()
        };
        for requirement in requirements {
            let entry =
                ferry_input::parse_requirement(requirement, ferry_input::Origin::CommandLine)
                    .map_err(|e| e.to_string())?;
            spec.requirements.push(entry);
        }
        let target = ferry_resolve::Target::from_interpreter(&inner.interpreter)
            .map_err(|e| e.to_string())?;
        // A build requirement that has to be built itself is built one level deeper.
        let nested = Self {
            inner: Arc::clone(&self.inner),
            depth: self.depth + 1,
            chain: Arc::clone(&self.chain),
        };
        let options = ferry_resolve::ResolveOptions {
            build: ferry_types::Builder(Arc::new(nested.clone())),
            ..inner.policy.clone()
        };
        let resolution = ferry_resolve::resolve(
            &inner.handle,
            Arc::clone(&inner.client),
            Some(&inner.cache),
            target,
            &spec,
            options,
        )
        .map_err(|e| e.to_string())?;
        let packages: Vec<&ferry_resolve::ResolvedPackage> = resolution.packages.iter().collect();
        tracing::debug!(
            "build environment {}: {}",
            venv.display(),
            packages
                .iter()
                .map(|p| format!("{}=={}", p.name, p.version))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let store = ferry_install::Store::new(&inner.cache);
        let prepare =
            ferry_install::plan::Prepare::new(inner.client.http(), &store, &nested, &spec, false);
        let silent: Arc<dyn ferry_install::fetch::FetchReporter> =
            Arc::new(ferry_install::fetch::Silent);
        let wheels = ferry_install::plan::prepare(&inner.handle, &packages, &prepare, &silent)
            .map_err(|e| e.to_string())?;
        let layout = ferry_install::Layout::Prefix(venv.to_path_buf());
        let mut scheme = ferry_install::Scheme::new(&inner.interpreter, &layout, None)
            .map_err(|e| e.to_string())?;
        scheme.python = python.to_path_buf();
        let session = ferry_install::Session::open(&scheme, &inner.cache, &Unreported)
            .map_err(|e| e.to_string())?;
        let apply = ferry_install::ApplyOptions {
            link_mode: ferry_install::LinkMode::Hardlink,
            compile: false,
        };
        session
            .install(
                &scheme,
                &[],
                &wheels,
                inner.interpreter.info().cache_tag.clone(),
                &apply,
                &Unreported,
            )
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Lock waits and placement inside a build environment are not shown.
struct Unreported;
impl ferry_install::LockReporter for Unreported {}
impl ferry_install::InstallReporter for Unreported {}

fn too_deep(source: &SourceDist) -> ferry_types::BuildError {
    ferry_types::BuildError::Failed {
        sdist: source.to_string(),
        message: format!(
            "its build needs a build requirement built from source, {MAX_DEPTH} levels deep; a build requirement probably needs itself"
        ),
    }
}

/// Directories a project's build never reads, wherever they are: version control, environments
/// and caches (whose changes would otherwise make every build look stale).
const SKIPPED_DIRS: [&str; 12] = [
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
];

/// Build outputs at the top of a project: setuptools' `build/`, the `dist/` of `python -m
/// build`, and cargo's `target/` (maturin, setuptools-rust). Only at the top, since a package
/// may well have a subpackage called `build`.
const SKIPPED_TOP_DIRS: [&str; 3] = ["build", "dist", "target"];

/// A digest of a project directory as its build sees it: the relative path, size and
/// modification time of every file, outside [`SKIPPED_DIRS`], [`SKIPPED_TOP_DIRS`],
/// `*.egg-info` and nested virtual environments, plus `.git/HEAD` and `.git/index` (so a commit moves a version computed from
/// git, as setuptools-scm does). Any edit, new file or removed file gives a new stamp; reading
/// the metadata of a few thousand files costs milliseconds, far less than a build.
fn tree_stamp(dir: &Path) -> String {
    fn line(out: &mut Vec<String>, rel: &Path, meta: &std::fs::Metadata) {
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        out.push(format!("{}\0{}\0{mtime}", rel.display(), meta.len()));
    }
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let rel = path.strip_prefix(root).unwrap_or(&path);
            if meta.is_dir() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let skipped = SKIPPED_DIRS.contains(&name.as_ref())
                    || (dir == root && SKIPPED_TOP_DIRS.contains(&name.as_ref()))
                    || name.ends_with(".egg-info")
                    || path.join("pyvenv.cfg").is_file();
                if !skipped {
                    walk(root, &path, out);
                }
            } else {
                line(out, rel, &meta);
            }
        }
    }
    let mut lines = Vec::new();
    walk(dir, dir, &mut lines);
    for git in [".git/HEAD", ".git/index"] {
        if let Ok(meta) = std::fs::metadata(dir.join(git)) {
            line(&mut lines, Path::new(git), &meta);
        }
    }
    lines.sort();
    short_digest(lines.join("\n").as_bytes())
}

/// Copies the tree `from` (files, directories, symbolic links) to the new directory `to`.
fn copy_tree(from: &Path, to: &Path) -> Result<(), BuildError> {
    fs_err::create_dir_all(to).map_err(|e| io("create", to, e))?;
    for entry in fs_err::read_dir(from).map_err(|e| io("read", from, e))? {
        let entry = entry.map_err(|e| io("read", from, e))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| io("read", &source, e))?;
        if kind.is_dir() {
            copy_tree(&source, &target)?;
        } else if kind.is_symlink() {
            let link = fs_err::read_link(&source).map_err(|e| io("read", &source, e))?;
            std::os::unix::fs::symlink(&link, &target).map_err(|e| io("create", &target, e))?;
        } else {
            fs_err::copy(&source, &target).map_err(|e| io("copy", &source, e))?;
        }
    }
    Ok(())
}

fn short_digest(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))[..16].to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io(action: &'static str, path: &Path, source: std::io::Error) -> BuildError {
    BuildError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}
