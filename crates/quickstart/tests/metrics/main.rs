//! The quickstart's `/metrics` page, alone in its binary: the process has one metrics
//! recorder, and the counts this test asserts must not include other tests' requests.

/// The quickstart run in this process.
#[path = "../../../integration/tests/support/quickstart.rs"]
mod in_process;

mod quickstart_metrics;
