//! The stores tests, one binary (each module was its own test binary before the workspace split).

// Each module was a test binary of its own and includes the helper files it needs
// (`#[path]`), so a helper may be compiled once per module that uses it. Helpers that
// hold process-wide state (the in-process quickstart and its metrics recorder) are
// declared once, here.
#![allow(clippy::duplicate_mod)]

#[macro_use]
#[path = "../conformance/mod.rs"]
mod conformance;
#[macro_use]
#[path = "../code_conformance/mod.rs"]
mod code_conformance;
#[macro_use]
#[path = "../failure_conformance/mod.rs"]
mod failure_conformance;

mod authorization_code_stores;
mod multinode;
mod outage_postgres;
mod store_memory;
mod store_postgres;
mod store_redis;
mod store_sqlite;
