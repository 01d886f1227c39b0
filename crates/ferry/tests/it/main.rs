//! End-to-end tests of the `ferry` binary. One test binary for the whole crate keeps link
//! time down; each module covers one command or concern.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod attacks;
mod attestations;
mod build;
mod cache;
mod common;
mod compile;
mod concurrency;
mod discovery;
mod download;
mod faults;
mod index;
mod inspect;
mod install;
mod keyring;
mod kills;
mod live_build;
mod live_install;
mod live_private;
mod lock;
mod origins;
mod settings;
mod snapshots;
mod tags;
mod vcs;
mod venv;
