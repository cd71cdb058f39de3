//! The store conformance suite against the in-memory store.

#[macro_use]
mod conformance;

use tower_passport::store::MemoryStore;

conformance_suite!(memory, Some(MemoryStore::new()));
