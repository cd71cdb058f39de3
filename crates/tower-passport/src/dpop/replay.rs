//! The `jti`s of the proofs accepted inside the `iat` window: a proof is single-use
//! (RFC 9449 §11.1).
//!
//! A quick_cache set, bounded in entries, of 64-bit SipHash values of key thumbprint and
//! `jti` under a random per-process key: no string is built or stored per proof. A
//! collision (2⁻⁶⁴ per pair) refuses a fresh proof, never admits a replay, and no client
//! can aim one without the key. Entries carry no expiry: a proof older than the window is
//! refused by its `iat` before its `jti` is looked up, so a stale entry only takes room
//! until it is evicted. Every new `jti` is admitted (the eviction drops older entries),
//! so size it above the proofs a window brings.

use std::hash::BuildHasher;
use std::time::Duration;

use quick_cache::sync::{Cache, GuardResult};

pub(super) struct SeenProofs {
    seen: Cache<u64, ()>,
    keyed: std::collections::hash_map::RandomState,
}

impl SeenProofs {
    /// At most `capacity` remembered proofs; their window is kept by the `iat` check (see
    /// the module docs), so entries carry no expiry.
    pub(super) fn new(capacity: u64) -> Self {
        let capacity = usize::try_from(capacity.max(1)).unwrap_or(usize::MAX);
        Self { seen: Cache::new(capacity), keyed: std::collections::hash_map::RandomState::new() }
    }

    /// Remembers the proof `jti` of the key `thumbprint`; `false` when it was seen already
    /// (or is being remembered by a concurrent request). Keyed by key and `jti`, so no
    /// client can spend another's `jti`s.
    pub(super) fn first_use(&self, thumbprint: &str, jti: &str) -> bool {
        let key = self.keyed.hash_one((thumbprint, jti));
        match self.seen.get_value_or_guard(&key, Some(Duration::ZERO)) {
            GuardResult::Guard(guard) => guard.insert(()).is_ok(),
            GuardResult::Value(()) | GuardResult::Timeout => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_used_once_per_key() {
        let seen = SeenProofs::new(100);
        assert!(seen.first_use("key-a", "jti-1"));
        assert!(!seen.first_use("key-a", "jti-1"));
        assert!(seen.first_use("key-b", "jti-1"));
        assert!(seen.first_use("key-a", "jti-2"));
        // The pair is hashed as two strings: no shifting of the boundary collides.
        assert!(seen.first_use("key-a j", "ti-1"));
    }
}
