//! The store conformance suite against the in-memory store.

#[macro_use]
#[path = "../conformance/mod.rs"]
mod conformance;
#[macro_use]
#[path = "../code_conformance/mod.rs"]
mod code_conformance;
#[macro_use]
#[path = "../failure_conformance/mod.rs"]
mod failure_conformance;

use tower_passport_issuer::store::{MemoryFailures, MemoryStore};

conformance_suite!(memory, Some(MemoryStore::new()));
code_conformance_suite!(memory_codes, Some(MemoryStore::new()));
failure_conformance_suite!(memory_failures, Some(MemoryFailures::default()));
