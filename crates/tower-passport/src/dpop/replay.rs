//! The `jti`s of the proofs accepted inside the `iat` window: a proof is single-use
//! (RFC 9449 §11.1).
//!
//! A quick_cache set, bounded in entries, of 64-bit foldhash values of key thumbprint and
//! `jti` under a random per-process seed: no string is built or stored per proof, and the
//! table takes the value as its own hash (it is one already). A collision (2⁻⁶⁴ per pair)
//! refuses a fresh proof, never admits a replay. Entries carry no expiry: a proof older
//! than the window is refused by its `iat` before its `jti` is looked up, so a stale entry
//! only takes room until it is evicted. Every new `jti` is admitted (the eviction drops
//! older entries), so size it above the proofs a window brings.
//!
//! Why foldhash and not SipHash: foldhash is not a cryptographic PRF, so an attacker who
//! could see its outputs might aim many entries at one bucket (hash flooding). Here the
//! seed is random per process and never shown, the set is bounded, and every entry takes
//! a proof that verified, signed by the sender's key: each one costs the sender a
//! signature and us a signature check, hundreds of times what a slower probe would cost.
//! A colliding pair only refuses the second proof, and aiming that at another client
//! needs its key's thumbprint and its next `jti` before it is sent.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use quick_cache::sync::{Cache, DefaultLifecycle, GuardResult};
use quick_cache::UnitWeighter;

pub(super) struct SeenProofs {
    seen: Cache<u64, (), UnitWeighter, Prehashed>,
    keyed: foldhash::fast::RandomState,
}

impl SeenProofs {
    /// At most `capacity` remembered proofs; their window is kept by the `iat` check (see
    /// the module docs), so entries carry no expiry.
    pub(super) fn new(capacity: u64) -> Self {
        let capacity = capacity.max(1);
        let estimated = usize::try_from(capacity).unwrap_or(usize::MAX);
        let seen = Cache::with(estimated, capacity, UnitWeighter, Prehashed, DefaultLifecycle::default());
        Self { seen, keyed: foldhash::fast::RandomState::default() }
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

/// The table's hasher: its keys are keyed hashes already, taken as they are.
#[derive(Clone, Copy, Default)]
struct Prehashed;

impl BuildHasher for Prehashed {
    type Hasher = PrehashedHasher;

    fn build_hasher(&self) -> PrehashedHasher {
        PrehashedHasher(0)
    }
}

/// Passes a `u64` through; any other input is folded in, so it is still a hash.
struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 ^= value;
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

    #[test]
    fn the_table_hash_of_a_key_is_the_key() {
        assert_eq!(Prehashed.hash_one(0x0123_4567_89ab_cdef_u64), 0x0123_4567_89ab_cdef);
    }

    #[test]
    fn the_set_stays_within_its_capacity() {
        let seen = SeenProofs::new(100);
        for i in 0..1_000 {
            assert!(seen.first_use("key-a", &format!("jti-{i}")));
        }
        assert!(seen.seen.len() <= 100, "{} entries", seen.seen.len());
    }
}
