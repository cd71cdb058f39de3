//! The store conformance suite against the in-memory store.

#[macro_use]
mod conformance;
#[macro_use]
mod code_conformance;
#[macro_use]
mod failure_conformance;

use tower_passport::store::{MemoryFailures, MemoryStore};

conformance_suite!(memory, Some(MemoryStore::new()));
code_conformance_suite!(memory_codes, Some(MemoryStore::new()));
failure_conformance_suite!(memory_failures, Some(MemoryFailures::default()));
