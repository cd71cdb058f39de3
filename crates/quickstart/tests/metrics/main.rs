//! The quickstart's `/metrics` page, alone in its binary: the process has one metrics
//! recorder, and the counts this test asserts must not include other tests' requests.

// Each module was a test binary of its own and includes the helper files it needs
// (`#[path]`), so a helper may be compiled once per module that uses it. Helpers that
// hold process-wide state (the in-process quickstart and its metrics recorder) are
// declared once, here.
#![allow(clippy::duplicate_mod)]

/// The quickstart run in this process.
#[path = "../../../integration/tests/support/quickstart.rs"]
mod in_process;

mod quickstart_metrics;
