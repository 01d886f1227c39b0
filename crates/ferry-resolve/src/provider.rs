//! The pubgrub dependency provider: packages, candidate choice and dependencies.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, Requirement, VersionOrUrl};
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics, Ranges,
};
use tokio::runtime::Handle;

use crate::fetcher::{Binary, Fetcher, Project};
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

pub type Range = Ranges<Version>;

/// What the solver works from.
pub struct Inputs {
    pub markers: MarkerEnvironment,
    pub python_version: Version,
    pub root: Vec<(Pkg, Range)>,
    pub constraints: HashMap<String, Range>,
    pub explicit_pre: HashSet<String>,
    pub options: ResolveOptions,
}

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
    pub edges: Mutex<HashMap<(Pkg, Version), Vec<Pkg>>>,
    warned: Mutex<HashSet<String>>,
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
        };
        let root_pkgs: Vec<Pkg> = provider.root.iter().map(|(p, _)| p.clone()).collect();
        provider.discover(&root_pkgs);
        provider
    }

    fn discover(&self, pkgs: &[Pkg]) {
        let mut order = self.order.lock().unwrap_or_else(|e| e.into_inner());
        for pkg in pkgs {
            let next = order.len() as u32;
            if !order.contains_key(pkg) {
                order.insert(pkg.clone(), next);
                if let Some(name) = pkg.name() {
                    // Start fetching the listing now; the solver will want it soon.
                    let fetcher = Arc::clone(&self.fetcher);
                    let name = name.to_string();
                    let pre = self.options.pre;
                    self.handle.spawn(async move {
                        // Then the metadata of the version most likely to be chosen.
                        let Ok(project) = fetcher.project(&name).await else {
                            return;
                        };
                        let likely = project
                            .versions
                            .iter()
                            .rev()
                            .filter(|(v, files)| {
                                (pre || !v.any_prerelease()) && files.yanked.is_none()
                            })
                            .find_map(|(v, files)| {
                                files.best(Binary::Any).map(|f| (v.clone(), f.clone()))
                            });
                        if let Some((version, file)) = likely {
                            if file.file.filename.ends_with(".whl") {
                                let _ = fetcher.metadata(&name, &version, &file).await;
                            }
                        }
                    });
                }
            }
        }
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
        let project = self.project(name)?;
        let binary = self.binary(name);
        let pinned = pinned_version(range);
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

/// The first version after `version` and all its local versions.
fn after_locals(version: &Version) -> Version {
    if let Some(dev) = version.dev() {
        version.clone().with_dev(Some(dev + 1))
    } else {
        let post = version.post().map_or(0, |p| p + 1);
        version.clone().with_post(Some(post)).with_dev(Some(0))
    }
}

/// The version a range pins exactly (`==V`, with or without its local versions).
pub fn pinned_version(range: &Range) -> Option<Version> {
    if let Some(v) = range.as_singleton() {
        return Some(v.clone());
    }
    match range.bounding_range()? {
        (std::ops::Bound::Included(low), std::ops::Bound::Excluded(high))
            if *high == after_locals(low) =>
        {
            let mut only = range.iter();
            only.next();
            only.next().is_none().then(|| low.clone())
        }
        _ => None,
    }
}

/// PEP 440 specifiers as a range. `==V` and `!=V` with a public `V` match or exclude `V`'s
/// local versions too (`==1.0` admits `1.0+cpu`), which a plain singleton would not.
pub fn specifiers_to_range(specifiers: &pep440_rs::VersionSpecifiers) -> Range {
    let mut range = Range::full();
    for specifier in specifiers.iter() {
        let version = specifier.version();
        let public = !version.is_local();
        let with_locals = || Range::from_range_bounds(version.clone()..after_locals(version));
        let this = match specifier.operator() {
            pep440_rs::Operator::Equal if public => with_locals(),
            pep440_rs::Operator::NotEqual if public => with_locals().complement(),
            _ => Range::from(specifier.clone()),
        };
        range = range.intersection(&this);
    }
    range
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
    type Priority = (u32, bool, Reverse<u32>);
    type Err = Arc<ResolveError>;

    fn prioritize(
        &self,
        package: &Pkg,
        range: &Range,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let order = self
            .order
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(package)
            .copied()
            .unwrap_or(u32::MAX);
        let pinned = range.as_singleton().is_some();
        (stats.conflict_count(), pinned, Reverse(order))
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
        let fetcher = Arc::clone(&self.fetcher);
        let metadata = {
            let (name, version) = (name.clone(), version.clone());
            self.handle
                .block_on(async move { fetcher.metadata(&name, &version, &file).await })?
        };
        if let Some(requires) = &metadata.requires_python {
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
        self.edges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((package.clone(), version.clone()), children);
        Ok(Dependencies::Available(DependencyConstraints::from_iter(
            deps,
        )))
    }
}
