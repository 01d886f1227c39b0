//! Sets of versions exactly as PEP 440 specifiers select them (as `packaging.specifiers` does).
//!
//! Most specifiers are intervals of the PEP 440 order once local versions are accounted for
//! (`<=V` and `==V` admit `V+local`). Two are not: `<V` skips every pre-release of V's
//! release (`<1.0.post2` admits `1.0.post1` but not `1.0.post1.dev0`), and `>V` skips every
//! post-release and local version of V's release unless V is itself a post-release
//! (`>1.0a1` admits `1.0` but not `1.0b1+local` or `1.0.post1`). Those exclusions depend on
//! which optional parts a version has, so a [`VersionRange`] may keep one interval set per
//! *class* of version (local or not × post-release or not × pre-release or not); membership is
//! decided by the set of the version's own class. Sets that agree on every class, nearly all
//! of them, are kept as one.

use std::fmt;
use std::ops::Bound;

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};
use pubgrub::{Ranges, VersionSet};

const CLASSES: usize = 8;
const LOCAL: usize = 4;
const POST: usize = 2;
const PRE: usize = 1;

fn class(version: &Version) -> usize {
    let mut class = 0;
    if version.is_local() {
        class |= LOCAL;
    }
    if version.is_post() {
        class |= POST;
    }
    if version.any_prerelease() {
        class |= PRE;
    }
    class
}

/// A set of versions; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange(Repr);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    /// The same intervals for every class.
    Same(Ranges<Version>),
    /// Intervals per class (never all equal: that is `Same`).
    PerClass(Box<[Ranges<Version>; CLASSES]>),
}

impl VersionRange {
    fn same(ranges: Ranges<Version>) -> Self {
        Self(Repr::Same(ranges))
    }

    /// One interval set per class, made by `f(class)`.
    fn per_class(f: impl Fn(usize) -> Ranges<Version>) -> Self {
        Self::normalized(std::array::from_fn(f))
    }

    fn normalized(classes: [Ranges<Version>; CLASSES]) -> Self {
        if classes.iter().all(|r| *r == classes[0]) {
            let [first, ..] = classes;
            Self(Repr::Same(first))
        } else {
            Self(Repr::PerClass(Box::new(classes)))
        }
    }

    fn class_ranges(&self, class: usize) -> &Ranges<Version> {
        match &self.0 {
            Repr::Same(ranges) => ranges,
            Repr::PerClass(classes) => &classes[class],
        }
    }

    fn map(&self, f: impl Fn(&Ranges<Version>) -> Ranges<Version>) -> Self {
        match &self.0 {
            Repr::Same(ranges) => Self::same(f(ranges)),
            Repr::PerClass(classes) => Self::normalized(std::array::from_fn(|c| f(&classes[c]))),
        }
    }

    fn zip(
        &self,
        other: &Self,
        f: impl Fn(&Ranges<Version>, &Ranges<Version>) -> Ranges<Version>,
    ) -> Self {
        match (&self.0, &other.0) {
            (Repr::Same(a), Repr::Same(b)) => Self::same(f(a, b)),
            _ => Self::per_class(|c| f(self.class_ranges(c), other.class_ranges(c))),
        }
    }

    fn all(&self, other: &Self, f: impl Fn(&Ranges<Version>, &Ranges<Version>) -> bool) -> bool {
        match (&self.0, &other.0) {
            (Repr::Same(a), Repr::Same(b)) => f(a, b),
            _ => (0..CLASSES).all(|c| f(self.class_ranges(c), other.class_ranges(c))),
        }
    }

    pub fn full() -> Self {
        Self::same(Ranges::full())
    }

    pub fn singleton(version: Version) -> Self {
        Self::same(Ranges::singleton(version))
    }

    pub fn contains(&self, version: &Version) -> bool {
        self.class_ranges(class(version)).contains(version)
    }

    pub fn intersection(&self, other: &Self) -> Self {
        self.zip(other, Ranges::intersection)
    }

    pub fn complement(&self) -> Self {
        self.map(Ranges::complement)
    }

    /// The one version in this set, if it is a single version.
    pub fn as_singleton(&self) -> Option<&Version> {
        match &self.0 {
            Repr::Same(range) => range.as_singleton(),
            Repr::PerClass(_) => None,
        }
    }

    /// The version this set pins exactly: `==V` with or without V's local versions.
    pub fn pinned_version(&self) -> Option<Version> {
        let Repr::Same(range) = &self.0 else {
            return None;
        };
        if let Some(v) = range.as_singleton() {
            return Some(v.clone());
        }
        let mut segments = range.iter();
        match (segments.next(), segments.next()) {
            (Some((Bound::Included(low), Bound::Excluded(high))), None)
                if *high == after_locals(low) =>
            {
                Some(low.clone())
            }
            _ => None,
        }
    }
}

impl VersionSet for VersionRange {
    type V = Version;

    fn empty() -> Self {
        Self::same(Ranges::empty())
    }

    fn singleton(v: Version) -> Self {
        Self::singleton(v)
    }

    fn complement(&self) -> Self {
        Self::complement(self)
    }

    fn intersection(&self, other: &Self) -> Self {
        Self::intersection(self, other)
    }

    fn contains(&self, v: &Version) -> bool {
        Self::contains(self, v)
    }

    fn full() -> Self {
        Self::full()
    }

    fn union(&self, other: &Self) -> Self {
        self.zip(other, Ranges::union)
    }

    fn is_disjoint(&self, other: &Self) -> bool {
        self.all(other, Ranges::is_disjoint)
    }

    fn subset_of(&self, other: &Self) -> bool {
        self.all(other, Ranges::subset_of)
    }
}

/// Shown as it applies to plain final releases (the other classes differ only around the
/// release a `<V`/`>V` names), with `==V`, `<=V` and `!=V` written as such rather than as the
/// bounds that take in V's local versions, and a single version as itself.
impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let segments: Vec<(&Bound<Version>, &Bound<Version>)> =
            self.class_ranges(0).iter().collect();
        if segments.is_empty() {
            return f.write_str("∅");
        }
        // Segments separated only by one version's hole (`!=V`) make one group.
        let mut groups: Vec<Vec<String>> = vec![Vec::new()];
        let mut continued = false;
        for (index, &(lower, upper)) in segments.iter().enumerate() {
            let next = segments.get(index + 1);
            let hole = match (upper, next) {
                (Bound::Excluded(v), Some((Bound::Included(resume), _)))
                    if *resume == after_locals(v) =>
                {
                    Some(v)
                }
                _ => None,
            };
            let group = groups.last_mut().expect("a group");
            match (lower, upper) {
                // One version (pubgrub's "foo 1.0 depends on ...").
                (Bound::Included(v), Bound::Included(high)) if !continued && v == high => {
                    group.push(v.to_string());
                }
                (Bound::Included(v), Bound::Excluded(high))
                    if !continued && hole.is_none() && *high == after_locals(v) =>
                {
                    group.push(format!("=={v}"));
                }
                _ => {
                    if !continued {
                        match lower {
                            Bound::Included(v) => group.push(format!(">={v}")),
                            Bound::Excluded(v) => group.push(format!(">{v}")),
                            Bound::Unbounded => {}
                        }
                    }
                    match (upper, hole) {
                        (_, Some(v)) => group.push(format!("!={v}")),
                        (Bound::Excluded(v), None) => match locals_of(v) {
                            Some(public) => group.push(format!("<={public}")),
                            None => group.push(format!("<{v}")),
                        },
                        (Bound::Included(v), None) => group.push(format!("<={v}")),
                        (Bound::Unbounded, None) => {}
                    }
                }
            }
            continued = hole.is_some();
            if !continued && next.is_some() {
                groups.push(Vec::new());
            }
        }
        let text: Vec<String> = groups
            .into_iter()
            .map(|g| {
                if g.is_empty() {
                    "*".to_string()
                } else {
                    g.join(", ")
                }
            })
            .collect();
        f.write_str(&text.join(" | "))
    }
}

/// The first version after `version` and all its local versions.
pub fn after_locals(version: &Version) -> Version {
    if let Some(dev) = version.dev() {
        version.clone().with_dev(Some(dev + 1))
    } else {
        let post = version.post().map_or(0, |p| p + 1);
        version.clone().with_post(Some(post)).with_dev(Some(0))
    }
}

/// V, when `bound` is the version that ends V's local versions and V has no dev part
/// (`V.post0.dev0`, or `V.postN+1.dev0` for a post-release `V.postN`).
fn locals_of(bound: &Version) -> Option<Version> {
    if bound.dev() != Some(0) || bound.is_local() {
        return None;
    }
    let post = bound.post()?;
    Some(bound.clone().with_dev(None).with_post(post.checked_sub(1)))
}

/// The release V belongs to: its epoch and release numbers alone.
fn base(version: &Version) -> Version {
    Version::new(version.release().iter().copied()).with_epoch(version.epoch())
}

/// One specifier as a set.
pub fn specifier_to_range(specifier: &VersionSpecifier) -> VersionRange {
    let v = specifier.version();
    match specifier.operator() {
        // `==V` compares public versions unless V has a local part.
        Operator::Equal if v.is_local() => VersionRange::singleton(v.clone()),
        Operator::Equal => {
            VersionRange::same(Ranges::from_range_bounds(v.clone()..after_locals(v)))
        }
        Operator::NotEqual => {
            specifier_to_range(&VersionSpecifier::equals_version(v.clone())).complement()
        }
        Operator::LessThanEqual => VersionRange::same(Ranges::strictly_lower_than(after_locals(v))),
        // `<V` excludes the pre-releases of V's release unless V is one.
        Operator::LessThan if v.any_prerelease() => {
            VersionRange::same(Ranges::strictly_lower_than(v.clone()))
        }
        Operator::LessThan => {
            let base = base(v);
            let below_release = Ranges::strictly_lower_than(base.clone().with_min(Some(0)));
            if *v == base {
                return VersionRange::same(below_release);
            }
            // V is a post-release: its release's final and post-releases below it stay in.
            let below = Ranges::strictly_lower_than(v.clone());
            VersionRange::per_class(|c| {
                if c & PRE != 0 {
                    below_release.clone()
                } else {
                    below.clone()
                }
            })
        }
        // `>V` excludes the local versions of V's release, and its post-releases unless V is
        // one.
        Operator::GreaterThan => {
            let base = base(v);
            let above_release = Ranges::strictly_higher_than(base.clone().with_max(Some(0)));
            if *v == base {
                return VersionRange::same(above_release);
            }
            let above = Ranges::strictly_higher_than(v.clone());
            VersionRange::per_class(|c| {
                if c & LOCAL != 0 || (c & POST != 0 && !v.is_post()) {
                    above_release.clone()
                } else {
                    above.clone()
                }
            })
        }
        // `>=V`, `~=V`, `===V`, `==V.*`, `!=V.*`: intervals (wildcards compare public versions).
        _ => VersionRange::same(Ranges::from(specifier.clone())),
    }
}

/// PEP 440 specifiers (all must hold) as a set.
pub fn specifiers_to_range(specifiers: &VersionSpecifiers) -> VersionRange {
    specifiers
        .iter()
        .fold(VersionRange::full(), |range, specifier| {
            range.intersection(&specifier_to_range(specifier))
        })
}

#[cfg(test)]
mod tests;
