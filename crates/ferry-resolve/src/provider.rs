//! The pubgrub dependency provider: packages, candidate choice and dependencies.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, Requirement, VersionOrUrl};
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics,
};
use tokio::runtime::Handle;

use crate::fetcher::{Binary, Fetcher, Project};
pub use crate::range::{specifiers_to_range, VersionRange as Range};
use crate::{ResolveError, ResolveOptions};

/// A node of the resolution graph. Extras are separate packages tied to their base's version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pkg {
    Root,
    Project(String),
    Extra(String, String),
}

impl Pkg {
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Root => None,
            Self::Project(n) | Self::Extra(n, _) => Some(n),
        }
    }
}

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("your requirements"),
            Self::Project(n) => f.write_str(n),
            Self::Extra(n, e) => write!(f, "{n}[{e}]"),
        }
    }
}

/// What the solver works from.
pub struct Inputs {
    pub markers: MarkerEnvironment,
    pub python_version: Version,
    pub root: Vec<(Pkg, Range)>,
    pub constraints: HashMap<String, Range>,
    pub explicit_pre: HashSet<String>,
    pub options: ResolveOptions,
}

/// Conflicts a package may take part in, in one run, before it is decided earlier (uv's
/// threshold).
const CONFLICT_THRESHOLD: u32 = 5;
/// How many packages may be moved earlier (each costs a restart of the solver).
const MAX_EARLY: usize = 16;

/// One pass of version selection: which versions it accepts.
type Pass<'a> = Box<dyn Fn(&Version) -> bool + 'a>;

pub struct Provider {
    pub fetcher: Arc<Fetcher>,
    pub handle: Handle,
    markers: MarkerEnvironment,
    python_version: Version,
    root: Vec<(Pkg, Range)>,
    constraints: HashMap<String, Range>,
    /// Packages for which some requirement names a pre-release (so pre-releases are allowed).
    explicit_pre: HashSet<String>,
    options: ResolveOptions,
    /// Discovery order, for priorities and for a stable, pip-like breadth-first walk.
    order: Mutex<HashMap<Pkg, u32>>,
    /// Dependencies as found: (package, version) → children.
    pub edges: Mutex<HashMap<Pkg, HashMap<Version, Vec<Pkg>>>>,
    warned: Mutex<HashSet<String>>,
    /// What earlier runs learned from conflicts.
    learned: Mutex<Learned>,
    /// A package that kept conflicting in this run, and the packages its rejected versions
    /// depend on: the run stops, and the next decides the first early and the others late.
    restart: Mutex<Option<(Pkg, Vec<Pkg>)>>,
}

/// Decision order learned from conflicts (uv's "conflict early" and "conflict late").
#[derive(Default)]
struct Learned {
    /// Packages that kept conflicting, to decide before all others; the last learned first.
    early: Vec<Pkg>,
    /// The packages they conflicted with, to decide after all others.
    late: HashSet<Pkg>,
}

impl Provider {
    pub fn new(fetcher: Arc<Fetcher>, handle: Handle, inputs: Inputs) -> Self {
        let provider = Self {
            fetcher,
            handle,
            markers: inputs.markers,
            python_version: inputs.python_version,
            root: inputs.root,
            constraints: inputs.constraints,
            explicit_pre: inputs.explicit_pre,
            options: inputs.options,
            order: Mutex::default(),
            edges: Mutex::default(),
            warned: Mutex::default(),
            learned: Mutex::default(),
            restart: Mutex::default(),
        };
        let root_pkgs: Vec<Pkg> = provider.root.iter().map(|(p, _)| p.clone()).collect();
        provider.discover(&root_pkgs);
        provider
    }

    /// After a run: the package that kept conflicting, if the run stopped for it. The next
    /// run decides it before the others and the dependencies of its rejected versions after
    /// the others, from a fresh discovery order.
    pub fn take_restart(&self) -> Option<Pkg> {
        let (pkg, culprits) = lock(&self.restart).take()?;
        {
            let mut learned = lock(&self.learned);
            learned.early.push(pkg.clone());
            learned.late.extend(culprits);
        }
        lock(&self.order).clear();
        lock(&self.edges).clear();
        let root_pkgs: Vec<Pkg> = self.root.iter().map(|(p, _)| p.clone()).collect();
        self.discover(&root_pkgs);
        Some(pkg)
    }

    fn discover(&self, pkgs: &[Pkg]) {
        let mut order = self.order.lock().unwrap_or_else(|e| e.into_inner());
        for pkg in pkgs {
            let next = order.len() as u32;
            if !order.contains_key(pkg) {
                order.insert(pkg.clone(), next);
                // What is installed is kept without its listing (fetched later only if the
                // installed version turns out not to fit).
                let kept = pkg.name().is_some_and(|name| {
                    self.options.installed.contains_key(name) && !self.options.upgrade.applies(name)
                });
                if let Some(name) = pkg.name().filter(|_| !kept) {
                    // Start fetching the listing now; the solver will want it soon.
                    let fetcher = Arc::clone(&self.fetcher);
                    let name = name.to_string();
                    let pre = self.options.pre;
                    let binary = self.binary(&name);
                    let pinned = self.pinned(&name);
                    let listener = self.options.on_chosen.0.clone();
                    self.handle.spawn(async move {
                        // Then the metadata of the version most likely to be chosen: the one
                        // your requirements pin, else the newest.
                        let Ok(project) = fetcher.project(&name).await else {
                            return;
                        };
                        let likely = match &pinned {
                            Some(version) => project
                                .versions
                                .get(version)
                                .and_then(|files| files.best(binary))
                                .map(|f| (version.clone(), f.clone())),
                            None => project
                                .versions
                                .iter()
                                .rev()
                                .filter(|(v, files)| {
                                    (pre || !v.any_prerelease()) && files.yanked.is_none()
                                })
                                .find_map(|(v, files)| {
                                    files.best(binary).map(|f| (v.clone(), f.clone()))
                                }),
                        };
                        let Some((version, file)) = likely else {
                            return;
                        };
                        // A version your requirements pin is all but chosen: its download
                        // can start now, before the solver gets to it.
                        if let (Some(listener), Some(_)) = (&listener, &pinned) {
                            listener(&name, &version, &file);
                        }
                        if file.file.filename.ends_with(".whl") {
                            let _ = fetcher.metadata(&name, &version, &file).await;
                        }
                    });
                }
            }
        }
    }

    /// The installed candidate of `name` when `version` is its version and it may stay.
    pub fn installed_candidate(
        &self,
        name: &str,
        version: &Version,
    ) -> Option<&crate::InstalledCandidate> {
        self.options
            .installed
            .get(name)
            .filter(|c| c.version == *version && !self.options.upgrade.applies(name))
    }

    /// The version of `name` your requirements or constraints pin with `==`, if any.
    fn pinned(&self, name: &str) -> Option<Version> {
        let from_root = self.root.iter().find_map(|(pkg, range)| {
            (pkg.name() == Some(name))
                .then(|| range.as_singleton().cloned())
                .flatten()
        });
        from_root.or_else(|| self.constraints.get(name)?.as_singleton().cloned())
    }

    pub fn binary(&self, name: &str) -> Binary {
        if self.options.no_binary.contains(name) {
            Binary::SdistsOnly
        } else if self.options.only_binary.contains(name) {
            Binary::WheelsOnly
        } else {
            Binary::Any
        }
    }

    fn project(&self, name: &str) -> Result<Arc<Project>, Arc<ResolveError>> {
        let fetcher = Arc::clone(&self.fetcher);
        self.handle
            .block_on(async move { fetcher.project(name).await })
    }

    /// pip's choice: the newest version in range with a usable file; yanked versions only for
    /// an exact pin; pre-releases only with `--pre`, when a requirement names one, or when no
    /// final release fits; with `--prefer-binary`, versions with wheels first; a preferred
    /// version (installed or previously pinned) when it fits and the package is not upgraded.
    fn choose(&self, name: &str, range: &Range) -> Result<Option<Version>, Arc<ResolveError>> {
        // What is installed stays when it fits, as in pip, without asking the index about it.
        if let Some(installed) = self.options.installed.get(name) {
            if !self.options.upgrade.applies(name) && range.contains(&installed.version) {
                return Ok(Some(installed.version.clone()));
            }
        }
        let project = self.project(name)?;
        let binary = self.binary(name);
        let pinned = range.pinned_version();
        let exact = |v: &Version| {
            pinned
                .as_ref()
                .is_some_and(|p| *p == v.clone().without_local() || p == v)
        };
        let usable = |v: &Version| {
            range.contains(v)
                && project.versions.get(v).is_some_and(|files| {
                    files.best(binary).is_some() && (files.yanked.is_none() || exact(v))
                })
        };
        if let Some(preferred) = self.options.preferences.get(name) {
            if !self.options.upgrade.applies(name) && usable(preferred) {
                return Ok(Some(preferred.clone()));
            }
        }
        let pre_ok = self.options.pre || self.explicit_pre.contains(name);
        let has_wheel = |v: &Version| {
            project
                .versions
                .get(v)
                .is_some_and(|f| !f.wheels.is_empty() && binary != Binary::SdistsOnly)
        };
        let passes: Vec<Pass<'_>> = if self.options.prefer_binary {
            vec![
                Box::new(|v: &Version| (pre_ok || !v.any_prerelease()) && has_wheel(v)),
                Box::new(|v: &Version| pre_ok || !v.any_prerelease()),
                Box::new(|_: &Version| true),
            ]
        } else {
            vec![
                Box::new(|v: &Version| pre_ok || !v.any_prerelease()),
                Box::new(|_: &Version| true),
            ]
        };
        for pass in passes {
            if let Some(v) = project.versions.keys().rev().find(|v| usable(v) && pass(v)) {
                return Ok(Some(v.clone()));
            }
        }
        Ok(None)
    }

    /// How many versions of `package` were tried (their dependencies asked for) and are now
    /// ruled out, and the dependencies that at least half of those share.
    fn rejections(&self, package: &Pkg, range: &Range) -> (usize, Vec<Pkg>) {
        let edges = lock(&self.edges);
        let mut rejected = 0;
        let mut mentions: HashMap<&Pkg, usize> = HashMap::new();
        for (version, children) in edges.get(package).into_iter().flatten() {
            if !range.contains(version) {
                rejected += 1;
                for child in children {
                    *mentions.entry(child).or_default() += 1;
                }
            }
        }
        let mut culprits: Vec<Pkg> = mentions
            .into_iter()
            .filter(|(_, n)| 2 * n >= rejected)
            .map(|(p, _)| p.clone())
            .collect();
        culprits.sort();
        (rejected, culprits)
    }

    fn warn_once(&self, message: &str) {
        let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
        if !warned.contains(message) {
            tracing::warn!("{message}");
            warned.insert(message.to_string());
        }
    }
}

/// The dependencies a requirement adds: the project, plus one virtual package per extra,
/// each range narrowed by any constraint on the project.
pub fn requirement_deps(
    requirement: &Requirement,
    constraints: &HashMap<String, Range>,
    out: &mut Vec<(Pkg, Range)>,
) -> Result<(), String> {
    let name = requirement.name.to_string();
    let range = match &requirement.version_or_url {
        None => Range::full(),
        Some(VersionOrUrl::VersionSpecifier(specifiers)) => specifiers_to_range(specifiers),
        // The URL's file was registered as the only candidate up front (see `resolve`);
        // metadata that points at URLs is refused in `get_dependencies`.
        Some(VersionOrUrl::Url(_)) => Range::full(),
    };
    let range = match constraints.get(&name) {
        Some(constraint) => range.intersection(constraint),
        None => range,
    };
    out.push((Pkg::Project(name.clone()), range.clone()));
    for extra in &requirement.extras {
        out.push((
            Pkg::Extra(name.clone(), ferry_input::normalize_extra(extra.as_ref())),
            range.clone(),
        ));
    }
    Ok(())
}

/// Merges duplicate packages by intersecting their ranges.
fn merge(deps: Vec<(Pkg, Range)>) -> Vec<(Pkg, Range)> {
    let mut merged: Vec<(Pkg, Range)> = Vec::new();
    for (pkg, range) in deps {
        match merged.iter_mut().find(|(p, _)| *p == pkg) {
            Some((_, existing)) => *existing = existing.intersection(&range),
            None => merged.push((pkg, range)),
        }
    }
    merged
}

impl DependencyProvider for Provider {
    type P = Pkg;
    type V = Version;
    type VS = Range;
    type M = String;
    type Priority = (usize, bool, u32, bool, Reverse<u32>);
    type Err = Arc<ResolveError>;

    /// Packages learned to be decided early, then all but those learned to be decided late,
    /// then conflict count, then exact pins, then discovery order.
    ///
    /// When a package keeps conflicting with one decided before it, pubgrub does not revisit
    /// that decision: it walks down this package's versions until an old one no longer
    /// conflicts. pip instead keeps the newest version and re-pins the other; uv backtracks
    /// and decides the conflicting package first. Here the run stops (see `should_cancel`)
    /// and the next decides this package early and the packages its rejected versions depend
    /// on late.
    fn prioritize(
        &self,
        package: &Pkg,
        range: &Range,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let order = lock(&self.order).get(package).copied().unwrap_or(u32::MAX);
        let (early, late) = {
            let learned = lock(&self.learned);
            let early = learned
                .early
                .iter()
                .position(|p| p == package)
                .map_or(0, |i| i + 1);
            // Counted as pubgrub counts conflicts, but only for the package whose own versions
            // were rejected (not for the one they conflicted with).
            if early == 0
                && stats.conflict_count() >= CONFLICT_THRESHOLD
                && learned.early.len() < MAX_EARLY
            {
                let (rejected, culprits) = self.rejections(package, range);
                let mut restart = lock(&self.restart);
                if rejected >= CONFLICT_THRESHOLD as usize && restart.is_none() {
                    *restart = Some((package.clone(), culprits));
                }
            }
            (early, learned.late.contains(package))
        };
        let pinned = range.as_singleton().is_some();
        (early, !late, stats.conflict_count(), pinned, Reverse(order))
    }

    fn should_cancel(&self) -> Result<(), Self::Err> {
        match &*lock(&self.restart) {
            Some((pkg, _)) => Err(Arc::new(ResolveError::Unsupported(format!(
                "the resolution restarts to decide {pkg} earlier"
            )))),
            None => Ok(()),
        }
    }

    fn choose_version(&self, package: &Pkg, range: &Range) -> Result<Option<Version>, Self::Err> {
        match package {
            Pkg::Root => Ok(Some(Version::new([0]))),
            Pkg::Project(name) | Pkg::Extra(name, _) => self.choose(name, range),
        }
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Version,
    ) -> Result<Dependencies<Pkg, Range, String>, Self::Err> {
        let (name, extra) = match package {
            Pkg::Root => {
                return Ok(Dependencies::Available(DependencyConstraints::from_iter(
                    merge(self.root.clone()),
                )));
            }
            Pkg::Project(name) => (name, None),
            Pkg::Extra(name, extra) => (name, Some(extra)),
        };
        let mut deps: Vec<(Pkg, Range)> = Vec::new();
        if extra.is_some() {
            deps.push((
                Pkg::Project(name.clone()),
                Range::singleton(version.clone()),
            ));
        }
        if self.options.no_deps {
            return Ok(Dependencies::Available(DependencyConstraints::from_iter(
                deps,
            )));
        }
        let installed = self
            .installed_candidate(name, version)
            .map(|c| Arc::clone(&c.metadata));
        let metadata = match installed {
            Some(metadata) => metadata,
            None => {
                let project = self.project(name)?;
                let Some(file) = project
                    .versions
                    .get(version)
                    .and_then(|f| f.best(self.binary(name)))
                    .cloned()
                else {
                    return Ok(Dependencies::Unavailable(format!(
                        "no usable file for {name} {version}"
                    )));
                };
                if let (Some(listener), None) = (&self.options.on_chosen.0, extra) {
                    listener(name, version, &file);
                }
                let fetcher = Arc::clone(&self.fetcher);
                let (name, version) = (name.clone(), version.clone());
                self.handle
                    .block_on(async move { fetcher.metadata(&name, &version, &file).await })?
            }
        };
        // An installed distribution's Requires-Python was checked when it was installed.
        let check_python = !self.options.ignore_requires_python
            && self.installed_candidate(name, version).is_none();
        if let Some(requires) = metadata.requires_python.as_ref().filter(|_| check_python) {
            if !requires.contains(&self.python_version) {
                return Ok(Dependencies::Unavailable(format!(
                    "it requires Python {requires}, but the target is Python {}",
                    self.python_version
                )));
            }
        }
        if let Some(extra) = extra {
            if !metadata.provides_extra.iter().any(|e| e == extra)
                && !metadata.provides_extra.is_empty()
            {
                self.warn_once(&format!(
                    "{name} {version} does not provide the extra '{extra}'"
                ));
            }
        }
        let extras: Vec<pep508_rs::ExtraName> = extra
            .iter()
            .filter_map(|e| pep508_rs::ExtraName::new(e.to_string()).ok())
            .collect();
        for requirement in &metadata.requires_dist {
            if !requirement.marker.evaluate(&self.markers, &extras) {
                continue;
            }
            if extra.is_some() && requirement.marker.evaluate(&self.markers, &[]) {
                continue; // already a dependency of the base package
            }
            if requirement.name.as_ref() == name.as_str() && requirement.extras.is_empty() {
                continue;
            }
            if matches!(requirement.version_or_url, Some(VersionOrUrl::Url(_))) {
                return Ok(Dependencies::Unavailable(format!(
                    "it depends on {requirement}, a direct URL, which only your own requirements may use"
                )));
            }
            if let Err(message) = requirement_deps(requirement, &self.constraints, &mut deps) {
                return Ok(Dependencies::Unavailable(message));
            }
        }
        let deps = merge(deps);
        let children: Vec<Pkg> = deps.iter().map(|(p, _)| p.clone()).collect();
        self.discover(&children);
        lock(&self.edges)
            .entry(package.clone())
            .or_default()
            .insert(version.clone(), children);
        Ok(Dependencies::Available(DependencyConstraints::from_iter(
            deps,
        )))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
