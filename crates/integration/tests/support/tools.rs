//! Tools a test needs from the machine (a browser, a Python client library): whether a
//! missing one skips the test or fails it. Locally it skips with a printed reason; under CI
//! (`.ci/run` exports `PASSPORT_REQUIRE_BROWSER=1`, and CI sets `CI=true`) it fails, so a
//! broken install can never pass as a green run of tests that did nothing.
#![allow(dead_code, unreachable_pub)]

use std::fmt::Display;
use std::io::Write;
use std::path::PathBuf;

/// Whether a missing tool is a failure rather than a skip.
pub fn required() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|value| !value.is_empty() && value != "0");
    set("PASSPORT_REQUIRE_BROWSER") || std::env::var("CI").is_ok_and(|value| value == "true")
}

/// `None` after printing why `what` cannot run, or a panic saying so when tools are required.
///
/// The reason goes straight to the process's stderr, past the test harness's capture, so a
/// skip shows in `cargo test`'s output even when the test passes.
pub fn unavailable<T>(what: &str, reason: impl Display) -> Option<T> {
    let hint = "`bash .ci/run --install-only` installs it";
    assert!(
        !required(),
        "{what} is required here (PASSPORT_REQUIRE_BROWSER or CI is set) but unavailable: {reason}; {hint}"
    );
    let _ = writeln!(std::io::stderr(), "skipping {what}: {reason} ({hint})");
    None
}

/// The cargo target directory (`target/` unless `CARGO_TARGET_DIR` moves it): where
/// screenshots and logs a person may want to look at are written.
pub fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is `<target>/tmp`, set by cargo for integration tests.
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().map_or(tmp.clone(), PathBuf::from)
}
