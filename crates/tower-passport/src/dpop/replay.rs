//! The `jti`s of the proofs accepted inside the `iat` window: a proof is single-use
//! (RFC 9449 §11.1).
//!
//! A moka cache, bounded in entries, whose entries live as long as the window: a proof
//! older than that is refused by its `iat` anyway. It evicts the least recently used
//! entry when full (LRU admits every new `jti`; TinyLFU could turn one away and let its
//! replay through), so size it above the proofs a window brings.

use std::time::Duration;

use moka::policy::EvictionPolicy;
use moka::sync::Cache;

pub(super) struct SeenProofs {
    seen: Cache<Box<str>, ()>,
}

impl SeenProofs {
    pub(super) fn new(capacity: u64, window: Duration) -> Self {
        let seen = Cache::builder()
            .max_capacity(capacity.max(1))
            .time_to_live(window.max(Duration::from_secs(1)))
            .eviction_policy(EvictionPolicy::lru())
            .build();
        Self { seen }
    }

    /// Remembers the proof `jti` of the key `thumbprint`; `false` when it was seen already.
    /// Keyed by key and `jti`, so no client can spend another's `jti`s.
    pub(super) fn first_use(&self, thumbprint: &str, jti: &str) -> bool {
        let mut key = String::with_capacity(thumbprint.len() + 1 + jti.len());
        key.push_str(thumbprint);
        key.push(' ');
        key.push_str(jti);
        self.seen.entry(key.into_boxed_str()).or_insert(()).is_fresh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jti_is_used_once_per_key() {
        let seen = SeenProofs::new(100, Duration::from_secs(60));
        assert!(seen.first_use("key-a", "jti-1"));
        assert!(!seen.first_use("key-a", "jti-1"));
        assert!(seen.first_use("key-b", "jti-1"));
        assert!(seen.first_use("key-a", "jti-2"));
    }
}
