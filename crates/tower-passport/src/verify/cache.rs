//! The verified-token cache. A hit proves the *whole* token string was verified before:
//! the key is the full token, compared in full on lookup, never a prefix or the signature.
//! Each entry remembers which trusted issuer's keys verified it, and their key-withdrawal
//! epoch then, so that a hit after a key was withdrawn is verified again.

use std::collections::hash_map::{DefaultHasher, RandomState};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::sync::Cache;
use moka::Expiry;

use crate::clock::Clock;
use crate::token::VerifiedToken;

pub(super) struct VerifiedCache {
    cache: Cache<Box<str>, Cached, TailHash>,
}

/// A verified token, with what it was verified under.
#[derive(Clone)]
pub(super) struct Cached {
    pub(super) token: VerifiedToken,
    /// The position of the trusted issuer whose keys verified it.
    pub(super) issuer: usize,
    /// That issuer's key source's [`epoch`](crate::keys::KeySource::epoch), read before
    /// the key was looked up.
    pub(super) epoch: u64,
}

/// An entry lives no longer than its token's remaining lifetime, nor than the cap.
struct TokenLifetime {
    clock: Arc<dyn Clock>,
    cap: Duration,
}

impl Expiry<Box<str>, Cached> for TokenLifetime {
    fn expire_after_create(&self, _token: &Box<str>, verified: &Cached, _at: Instant) -> Option<Duration> {
        let remaining = verified.token.expires_at().saturating_sub(self.clock.now());
        Some(Duration::from_secs(remaining).min(self.cap))
    }
}

impl VerifiedCache {
    pub(super) fn new(capacity: u64, cap: Duration, clock: Arc<dyn Clock>) -> Self {
        let cache = Cache::builder()
            .max_capacity(capacity)
            .expire_after(TokenLifetime { clock, cap })
            .build_with_hasher(TailHash::default());
        Self { cache }
    }

    pub(super) fn get(&self, token: &str) -> Option<Cached> {
        self.cache.get(token)
    }

    pub(super) fn insert(&self, token: &str, verified: Cached) {
        self.cache.insert(Box::from(token), verified);
    }

    pub(super) fn remove(&self, token: &str) {
        self.cache.invalidate(token);
    }

    /// Drops every entry whose token has this `jti`. A scan, but a rare one: it runs for
    /// revocations announced by other nodes, and the revocation check already refuses
    /// those tokens on every hit.
    pub(super) fn remove_jti(&self, jti: &str) {
        let keys: Vec<_> = self
            .cache
            .iter()
            .filter(|(_, verified)| verified.token.jti() == Some(jti))
            .map(|(token, _)| token)
            .collect();
        for token in keys {
            self.cache.invalidate(&*token);
        }
    }

    pub(super) fn clear(&self) {
        self.cache.invalidate_all();
    }
}

/// Hashes a token by its length and its last 64 bytes (signature bytes: high entropy).
/// SipHash over a whole 600-byte RS256 token costs about 100 ns per lookup, this about 20.
/// Equality still compares the whole token, and only verified tokens are ever inserted,
/// so an attacker cannot fill a bucket.
#[derive(Clone, Default)]
struct TailHash(RandomState);

impl BuildHasher for TailHash {
    type Hasher = TailHasher;

    fn build_hasher(&self) -> TailHasher {
        TailHasher(self.0.build_hasher())
    }
}

struct TailHasher(DefaultHasher);

impl Hasher for TailHasher {
    fn finish(&self) -> u64 {
        self.0.finish()
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.write_usize(bytes.len());
        self.0.write(&bytes[bytes.len().saturating_sub(64)..]);
    }
}
