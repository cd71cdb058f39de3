//! The `jti`s of the proofs accepted inside the `iat` window: a proof is single-use
//! (RFC 9449 §11.1).
//!
//! A set of 64-bit foldhash values of key and `jti` under a random per-process seed, the
//! key being its thumbprint's own value under the same seed ([`SeenProofs::key_of`],
//! taken once per key, when its header is checked): no string is built or stored per
//! proof, and the tables take the value as their own hash (it is one already). A collision
//! (2⁻⁶⁴ per pair, of keys or of values) refuses a fresh proof, never admits a replay: the
//! same proof always has the same value.
//!
//! The set is split into shards by the value's bits, each a plain hash set behind its own
//! mutex, held only for one lookup and insert (never across I/O or an `await`). Each
//! shard keeps two generations, each spanning the whole `iat` window (past plus future):
//! new values go into the current one, a value is looked up in both, and once the
//! current generation is older than the window it becomes the previous one and the
//! previous one is dropped. A value so stays at least one whole window after it was
//! inserted, which is as long as its proof could pass the `iat` check (its `iat` at most
//! the future allowance ahead of the clock, refused once the past allowance behind it),
//! and no longer than two: entries expire with the window, and nothing needs sweeping.
//!
//! Memory is bounded: each generation of a shard holds at most its share of the capacity
//! (half of it per generation), and a full current generation is retired early, dropping
//! the oldest entries to admit new ones, as any bounded cache would: size it above the
//! proofs a window brings.
//!
//! Why foldhash and not SipHash: foldhash is not a cryptographic PRF, so an attacker who
//! could see its outputs might aim many entries at one bucket (hash flooding). Here the
//! seed is random per process and never shown, the set is bounded, and every entry takes
//! a proof that verified, signed by the sender's key: each one costs the sender a
//! signature and us a signature check, hundreds of times what a slower probe would cost.
//! A colliding pair only refuses the second proof, and aiming that at another client
//! needs its key's thumbprint and its next `jti` before it is sent.

use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Mutex, PoisonError};

/// At most this many shards (a power of two).
const MAX_SHARDS: usize = 16;

/// A shard per this many entries of capacity, up to [`MAX_SHARDS`].
const ENTRIES_PER_SHARD: u64 = 4096;

pub(super) struct SeenProofs {
    shards: Box<[Mutex<Shard>]>,
    /// `shards.len() - 1`: a shard is picked by the value's bits under this mask.
    mask: usize,
    /// How long a generation lasts, in seconds: the whole `iat` window.
    span: u64,
    /// How many values a generation of one shard holds at most.
    per_generation: usize,
    keyed: foldhash::fast::RandomState,
}

/// One shard: the values of the current generation and of the one before.
struct Shard {
    /// When the current generation began (the clock's seconds).
    started: u64,
    current: HashSet<u64, Prehashed>,
    previous: HashSet<u64, Prehashed>,
}

impl Shard {
    /// The current generation becomes the previous one (the previous one is dropped).
    fn retire(&mut self, now: u64) {
        std::mem::swap(&mut self.current, &mut self.previous);
        self.current.clear();
        self.started = now;
    }
}

impl SeenProofs {
    /// At most `capacity` remembered proofs, each for at least `window` seconds (the `iat`
    /// window, past plus future) after it was accepted, unless the set fills up first.
    pub(super) fn new(capacity: u64, window: u64) -> Self {
        let capacity = capacity.max(1);
        let shards = usize::try_from(capacity / ENTRIES_PER_SHARD)
            .unwrap_or(MAX_SHARDS)
            .clamp(1, MAX_SHARDS)
            .next_power_of_two()
            .min(MAX_SHARDS);
        let per_generation = usize::try_from(capacity / (2 * shards as u64)).unwrap_or(usize::MAX).max(1);
        // Allocated up front, as a bounded cache is: no table grows on the request path.
        let table = || HashSet::with_capacity_and_hasher(per_generation, Prehashed);
        let shards = (0..shards)
            .map(|_| Mutex::new(Shard { started: 0, current: table(), previous: table() }))
            .collect::<Box<[_]>>();
        Self {
            mask: shards.len() - 1,
            shards,
            span: window,
            per_generation,
            keyed: foldhash::fast::RandomState::default(),
        }
    }

    /// The value the key of thumbprint `thumbprint` is remembered under: taken once per key
    /// (its checked header keeps it), not hashed again with every proof.
    pub(super) fn key_of(&self, thumbprint: &str) -> u64 {
        self.keyed.hash_one(thumbprint)
    }

    /// Remembers the proof `jti` of the key `key` ([`key_of`](Self::key_of) its
    /// thumbprint), accepted at `now` (the clock's seconds); `false` when it was seen
    /// already. Keyed by key and `jti`, so no client can spend another's `jti`s.
    pub(super) fn first_use(&self, key: u64, jti: &[u8], now: u64) -> bool {
        let value = self.keyed.hash_one((key, jti));
        // Bits the tables' bucket index (the low ones) and tag (the top seven) do not use.
        let shard = (value >> 32) as usize & self.mask;
        let Some(shard) = self.shards.get(shard) else { return false };
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        if now.saturating_sub(shard.started) > self.span {
            if now.saturating_sub(shard.started) > self.span.saturating_mul(2) {
                // Both generations are older than the window.
                shard.previous.clear();
            }
            shard.retire(now);
        }
        if shard.previous.contains(&value) {
            return false;
        }
        if shard.current.len() >= self.per_generation && !shard.current.contains(&value) {
            shard.retire(now);
        }
        shard.current.insert(value)
    }

    /// How many values are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
                shard.current.len() + shard.previous.len()
            })
            .sum()
    }
}

/// The tables' hasher: their keys are keyed hashes already, taken as they are.
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

    const NOW: u64 = 1_700_000_000;
    const WINDOW: u64 = 600;

    #[test]
    fn a_jti_is_used_once_per_key() {
        let seen = SeenProofs::new(100, WINDOW);
        assert!(seen.first_use(seen.key_of("key-a"), b"jti-1", NOW));
        assert!(!seen.first_use(seen.key_of("key-a"), b"jti-1", NOW));
        assert!(seen.first_use(seen.key_of("key-b"), b"jti-1", NOW));
        assert!(seen.first_use(seen.key_of("key-a"), b"jti-2", NOW));
        // The pair is hashed as two strings: no shifting of the boundary collides.
        assert!(seen.first_use(seen.key_of("key-a j"), b"ti-1", NOW));
    }

    #[test]
    fn the_table_hash_of_a_key_is_the_key() {
        assert_eq!(Prehashed.hash_one(0x0123_4567_89ab_cdef_u64), 0x0123_4567_89ab_cdef);
    }

    #[test]
    fn a_jti_is_remembered_for_a_whole_window_and_forgotten_within_two() {
        let seen = SeenProofs::new(100_000, WINDOW);
        // Every shard's generation starts now.
        for i in 0..1_000 {
            assert!(seen.first_use(seen.key_of("key-a"), format!("start-{i}").as_bytes(), NOW));
        }
        // Accepted just before the generations turn: still refused a whole window later.
        let late = NOW + WINDOW;
        for i in 0..1_000 {
            assert!(seen.first_use(seen.key_of("key-a"), format!("jti-{i}").as_bytes(), late));
        }
        for at in [late + 1, late + WINDOW] {
            for i in 0..1_000 {
                assert!(!seen.first_use(seen.key_of("key-a"), format!("jti-{i}").as_bytes(), at), "{at} {i}");
            }
        }
        // Two windows on, the set has let go of all of them.
        let gone = late + 2 * WINDOW + 2;
        for i in 0..1_000 {
            assert!(seen.first_use(seen.key_of("key-a"), format!("jti-{i}").as_bytes(), gone), "{i}");
        }
        assert_eq!(seen.len(), 1_000);
    }

    #[test]
    fn the_set_stays_within_its_capacity() {
        for capacity in [1, 100, 10_000, 100_000] {
            let seen = SeenProofs::new(capacity, WINDOW);
            for i in 0..(3 * capacity) {
                assert!(seen.first_use(seen.key_of("key-a"), format!("jti-{i}").as_bytes(), NOW));
            }
            assert!(seen.len() as u64 <= capacity.max(2), "{capacity}: {} entries", seen.len());
        }
    }

    #[test]
    fn a_full_set_still_refuses_its_most_recent_jtis() {
        let seen = SeenProofs::new(1_000, WINDOW);
        for i in 0..10_000 {
            assert!(seen.first_use(seen.key_of("key-a"), format!("jti-{i}").as_bytes(), NOW));
            assert!(!seen.first_use(seen.key_of("key-a"), format!("jti-{i}").as_bytes(), NOW));
        }
    }
}
