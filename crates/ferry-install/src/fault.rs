//! Fault injection for tests, compiled in only with the `fault-injection` feature (which the
//! `ferry` crate's tests turn on through a dev-dependency, so release builds never have it).
//!
//! `FERRY_TEST_FAULT` names one fault, checked by the installer right after a wheel's files
//! are placed (before its dist-info is moved into place):
//!
//! - `fail-after:NAME` fails the install there, as a broken wheel would;
//! - `pause-after:NAME` sleeps there for a minute, so a test can kill the process half-way,
//!   after writing the file named by `FERRY_TEST_FAULT_MARKER` (if set) to say it got there.

use crate::InstallError;

/// The fault hook after NAME's files are placed; does nothing without the feature.
#[cfg(feature = "fault-injection")]
pub(crate) fn after_placing(name: &str) -> Result<(), InstallError> {
    let Ok(fault) = std::env::var("FERRY_TEST_FAULT") else {
        return Ok(());
    };
    if fault == format!("fail-after:{name}") {
        return Err(InstallError::Scheme(format!(
            "injected failure after placing {name} (FERRY_TEST_FAULT)"
        )));
    }
    if fault == format!("pause-after:{name}") {
        if let Ok(marker) = std::env::var("FERRY_TEST_FAULT_MARKER") {
            let _ = std::fs::write(marker, name);
        }
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
    Ok(())
}

/// The fault hook after NAME's files are placed; does nothing without the feature.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn after_placing(_name: &str) -> Result<(), InstallError> {
    Ok(())
}
