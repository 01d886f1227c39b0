//! One build at a time per build key. Several build environments often want the same build
//! requirement built from source at once (with `--no-binary :all:`, every setuptools project
//! wants setuptools, every hatchling one wants pluggy and packaging). The first to ask builds
//! it; the others wait and then find its entry in the build cache.
//!
//! Waiting is refused where it would never end: a build whose own environment needs the
//! build it is part of (directly, or through another build that waits on it) is a cycle, and
//! [`Flights::enter`] says so instead of blocking.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The keys of the builds a build is nested in, outermost first: a build environment's
/// requirement that has to be built gets its parent's chain plus the parent's key.
pub(crate) type Chain = Arc<Vec<String>>;

#[derive(Default)]
pub(crate) struct Flights {
    state: Mutex<State>,
    landed: Condvar,
}

#[derive(Default)]
struct State {
    /// Key being built → the chain of that build (ending with the key itself).
    owners: HashMap<String, Chain>,
    /// (the innermost key a waiter's chain holds, the key it waits for).
    waits: Vec<(String, String)>,
}

/// What [`Flights::enter`] decided.
pub(crate) enum Entry<'a> {
    /// Nobody else builds this key: build it; the guard lets waiters go when dropped.
    Owner(Guard<'a>),
    /// Another build of the key finished while this one waited: look in the cache again.
    Landed,
    /// The key is part of the chain asking for it: the build needs itself.
    Cycle,
}

pub(crate) struct Guard<'a> {
    flights: &'a Flights,
    key: String,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.flights.lock().owners.remove(&self.key);
        self.flights.landed.notify_all();
    }
}

impl Flights {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims `key` for a build nested in `chain`, or waits for the build that has it.
    pub(crate) fn enter(&self, key: &str, chain: &Chain) -> Entry<'_> {
        if chain.iter().any(|k| k == key) {
            return Entry::Cycle;
        }
        let mut state = self.lock();
        if !state.owners.contains_key(key) {
            let mut owned = chain.to_vec();
            owned.push(key.to_string());
            state.owners.insert(key.to_string(), Arc::new(owned));
            return Entry::Owner(Guard {
                flights: self,
                key: key.to_string(),
            });
        }
        if state.blocks_on(key, chain) {
            return Entry::Cycle;
        }
        let wait = chain.last().map(|held| (held.clone(), key.to_string()));
        if let Some(wait) = &wait {
            state.waits.push(wait.clone());
        }
        while state.owners.contains_key(key) {
            state = self.landed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if let Some(wait) = wait {
            if let Some(at) = state.waits.iter().position(|w| *w == wait) {
                state.waits.swap_remove(at);
            }
        }
        Entry::Landed
    }
}

impl State {
    /// Whether the build of `key` is (through its nested builds and what they wait for)
    /// waiting on one of the builds in `chain`: waiting for it would then never end.
    fn blocks_on(&self, key: &str, chain: &Chain) -> bool {
        let mut pending = vec![key.to_string()];
        let mut seen = std::collections::HashSet::new();
        while let Some(current) = pending.pop() {
            if chain.contains(&current) {
                return true;
            }
            if !seen.insert(current.clone()) {
                continue;
            }
            // Every build nested in `current`, and what each of them waits for.
            for (owned, owner_chain) in &self.owners {
                if owner_chain.contains(&current) {
                    for (held, wanted) in &self.waits {
                        if held == owned {
                            pending.push(wanted.clone());
                        }
                    }
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(keys: &[&str]) -> Chain {
        Arc::new(keys.iter().map(|k| k.to_string()).collect())
    }

    #[test]
    fn a_second_build_of_a_key_waits_for_the_first() {
        let flights = Flights::default();
        let Entry::Owner(guard) = flights.enter("a", &chain(&[])) else {
            panic!("the first build owns the key");
        };
        std::thread::scope(|scope| {
            let waiter =
                scope.spawn(|| matches!(flights.enter("a", &chain(&["x"])), Entry::Landed));
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(
                !waiter.is_finished(),
                "the second build waits while the first runs"
            );
            drop(guard);
            assert!(waiter.join().unwrap());
        });
        assert!(matches!(flights.enter("a", &chain(&[])), Entry::Owner(_)));
    }

    #[test]
    fn a_build_that_needs_itself_is_a_cycle() {
        let flights = Flights::default();
        assert!(matches!(
            flights.enter("a", &chain(&["a", "b"])),
            Entry::Cycle
        ));
    }

    #[test]
    fn two_builds_needing_each_other_do_not_wait_forever() {
        let flights = Flights::default();
        // a and b are being built; b's environment waits for a, so a's environment waiting
        // for b would never end.
        let _a = flights.enter("a", &chain(&[]));
        let _b = flights.enter("b", &chain(&[]));
        std::thread::scope(|scope| {
            let b_waits_for_a = scope.spawn(|| flights.enter("a", &chain(&["b"])));
            while flights.lock().waits.is_empty() {
                std::thread::yield_now();
            }
            assert!(matches!(flights.enter("b", &chain(&["a"])), Entry::Cycle));
            drop(_a);
            assert!(matches!(b_waits_for_a.join().unwrap(), Entry::Landed));
        });
    }
}
