//! The quickstart's `/metrics` page, alone in its binary: the process has one metrics
//! recorder, and the counts this test asserts must not include other tests' requests.

// The helper files the modules share, each compiled once.
#[path = "../../src/demo/mod.rs"]
mod demo;
#[path = "../../../integration/tests/support/quickstart.rs"]
mod in_process;

mod quickstart_metrics;
