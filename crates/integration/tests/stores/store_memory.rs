//! The store conformance suite against the in-memory store.

use tower_passport_issuer::store::{MemoryFailures, MemoryStore};

conformance_suite!(memory, Some(MemoryStore::new()));
code_conformance_suite!(memory_codes, Some(MemoryStore::new()));
device_conformance_suite!(memory_devices, Some(MemoryStore::new()));
failure_conformance_suite!(memory_failures, Some(MemoryFailures::default()));
