//! The verified-token cache. A hit proves the *whole* token was verified before: the key is
//! the full token, compared in full (in constant time) on lookup, never a prefix or the
//! signature alone. Each entry remembers which trusted issuer's keys verified it, and their
//! key-withdrawal epoch then, so that a hit after a key was withdrawn is verified again.
//!
//! It is a [`quick_cache`] table: sharded, read-locked only for the lookup itself (no I/O
//! ever runs under a shard's lock), with S3-FIFO eviction and a budget counted either in
//! entries or in bytes ([`Budget`]). A hit allocates nothing: the value is an `Arc` clone.
//!
//! There is no timer: an entry carries the instant it stops being good (its token's
//! `exp`, or the cache's longest lifetime if that comes first) and a lookup past it is a
//! miss. Dead entries are the first to go when the budget is reached, as they are never hit.

use std::hash::{BuildHasher, Hash, Hasher};
use std::time::Duration;

use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Weighter};
use subtle::ConstantTimeEq;

use crate::token::VerifiedToken;

/// How the cache is bounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Budget {
    /// At most this many tokens.
    Entries(u64),
    /// At most about this many bytes: each entry counts its token string, its decoded
    /// claims and the verified token's own fields.
    Bytes(u64),
}

/// The bytes a cached entry costs beside its token and claims: the table slot, the
/// S3-FIFO bookkeeping, the key's box header and the entry's fields.
const ENTRY_OVERHEAD: usize = 96;

/// The verified tokens of one [`Verifier`](super::Verifier), by their whole string.
pub(super) struct VerifiedCache {
    cache: Cache<TokenKey, Entry, EntryWeight, TailHash>,
    max_ttl: u64,
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

/// What the table stores: the token, and the time after which the entry is a miss.
#[derive(Clone)]
struct Entry {
    cached: Cached,
    /// Unix seconds: the earlier of the token's `exp` plus the leeway, and the instant it
    /// was cached plus the longest lifetime.
    good_until: u64,
    /// The entry's weight under a byte budget, worked out once on insert.
    bytes: u32,
}

impl VerifiedCache {
    /// A cache bounded by `budget`, whose entries live `max_ttl` at most.
    pub(super) fn new(budget: Budget, max_ttl: Duration) -> Self {
        let (estimated_items, capacity, weigh_bytes) = match budget {
            Budget::Entries(entries) => (entries, entries, false),
            // About 1.5 KB an entry for a typical 600-byte token.
            Budget::Bytes(bytes) => (bytes / 1536, bytes, true),
        };
        let estimated_items = usize::try_from(estimated_items.max(1)).unwrap_or(usize::MAX);
        let cache = Cache::with(
            estimated_items,
            capacity.max(1),
            EntryWeight { weigh_bytes },
            TailHash::default(),
            Default::default(),
        );
        Self { cache, max_ttl: max_ttl.as_secs() }
    }

    /// The entry for exactly `token`, if it is still good at `now`.
    #[inline]
    pub(super) fn get(&self, token: &[u8], now: u64) -> Option<Cached> {
        let entry = self.cache.get(&TokenRef(token))?;
        (now < entry.good_until).then_some(entry.cached)
    }

    /// Whether the table holds `token` at all, good or not.
    pub(super) fn holds(&self, token: &[u8]) -> bool {
        self.cache.contains_key(&TokenRef(token))
    }

    /// Caches `verified` under `token` at `now`; `good_until` is when its token expires
    /// (leeway included).
    pub(super) fn insert(&self, token: &[u8], verified: Cached, now: u64, good_until: u64) {
        let good_until = good_until.min(now.saturating_add(self.max_ttl));
        if good_until <= now {
            return;
        }
        let bytes = token.len() + verified.token.memory_size() + ENTRY_OVERHEAD;
        let bytes = u32::try_from(bytes).unwrap_or(u32::MAX);
        self.cache.insert(TokenKey(Box::from(token)), Entry { cached: verified, good_until, bytes });
    }

    pub(super) fn remove(&self, token: &[u8]) {
        self.cache.remove(&TokenRef(token));
    }

    pub(super) fn remove_jti(&self, jti: &str) {
        self.cache.retain(|_, entry| entry.cached.token.jti() != Some(jti));
    }

    pub(super) fn clear(&self) {
        self.cache.clear();
    }

    /// How many tokens are cached.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.cache.len()
    }

    /// The entries' weight: a count, or bytes under a byte budget.
    #[cfg(test)]
    pub(super) fn weight(&self) -> u64 {
        self.cache.weight()
    }
}

/// An entry weighs 1 under an entry budget, its bytes under a byte budget.
#[derive(Clone)]
struct EntryWeight {
    weigh_bytes: bool,
}

impl Weighter<TokenKey, Entry> for EntryWeight {
    #[inline]
    fn weight(&self, _key: &TokenKey, entry: &Entry) -> u64 {
        if self.weigh_bytes {
            u64::from(entry.bytes)
        } else {
            1
        }
    }
}

/// A cached token's bytes.
#[derive(PartialEq, Eq)]
struct TokenKey(Box<[u8]>);

/// A presented token, looked up without copying it.
struct TokenRef<'a>(&'a [u8]);

/// How much of a token's end is hashed: its signature's last bytes, which differ between
/// any two tokens (a MAC or signature over different claims), so hashing the rest buys
/// nothing. Only verified tokens are ever inserted, and the hash is keyed per process, so
/// a caller cannot pile entries into one bucket.
const HASHED_TAIL: usize = 16;

#[inline]
fn tail(token: &[u8]) -> &[u8] {
    &token[token.len().saturating_sub(HASHED_TAIL)..]
}

impl Hash for TokenKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(tail(&self.0));
    }
}

impl Hash for TokenRef<'_> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(tail(self.0));
    }
}

impl Equivalent<TokenKey> for TokenRef<'_> {
    #[inline]
    fn equivalent(&self, key: &TokenKey) -> bool {
        same_bytes(self.0, &key.0)
    }
}

/// Whether `a` and `b` are the same bytes, in time that depends on their length only:
/// every word is read whatever differs, 64 bytes at a time (eight independent words, which
/// the compiler turns into vector operations), then eight, then the last word.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut blocks_a = a.chunks_exact(64);
    let mut blocks_b = b.chunks_exact(64);
    let mut lanes = [0u64; 8];
    for (block_a, block_b) in blocks_a.by_ref().zip(blocks_b.by_ref()) {
        for (lane, (word_a, word_b)) in
            lanes.iter_mut().zip(block_a.chunks_exact(8).zip(block_b.chunks_exact(8)))
        {
            *lane |= word(word_a) ^ word(word_b);
        }
    }
    let mut difference = lanes.iter().fold(0, |all, lane| all | lane);
    let words_a = blocks_a.remainder().chunks_exact(8);
    let words_b = blocks_b.remainder().chunks_exact(8);
    for (word_a, word_b) in words_a.zip(words_b) {
        difference |= word(word_a) ^ word(word_b);
    }
    // The last bytes: as the last word (overlapping the ones read already, which changes
    // nothing for equality) when there is one, one by one otherwise.
    match (a.last_chunk::<8>(), b.last_chunk::<8>()) {
        (Some(last_a), Some(last_b)) => {
            difference |= u64::from_ne_bytes(*last_a) ^ u64::from_ne_bytes(*last_b)
        }
        _ => {
            for (byte_a, byte_b) in a.iter().zip(b) {
                difference |= u64::from(byte_a ^ byte_b);
            }
        }
    }
    difference.ct_eq(&0).into()
}

#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    u64::from_ne_bytes(word)
}

/// foldhash, seeded per process, over a token's tail.
#[derive(Clone, Default)]
struct TailHash(foldhash::fast::RandomState);

impl BuildHasher for TailHash {
    type Hasher = foldhash::fast::FoldHasher<'static>;

    #[inline]
    fn build_hasher(&self) -> Self::Hasher {
        self.0.build_hasher()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(subject: &str) -> Cached {
        let token = VerifiedToken::synthetic(crate::token::Synthetic {
            issuer: "https://auth.example.com",
            subject: Some(subject),
            client_id: Some("app"),
            scopes: crate::token::Scopes::from_space_delimited("read write"),
            kind: crate::token::PrincipalKind::User,
            expires_at: 10_000,
            issued_at_ms: None,
            provider: None,
            credential: crate::token::Credential::Bearer,
        });
        Cached { token, issuer: 0, epoch: 0 }
    }

    fn fill(cache: &VerifiedCache, count: usize) {
        for i in 0..count {
            let key = format!("header.payload-{i:05}.signature-of-token-number-{i:05}");
            cache.insert(key.as_bytes(), token(&format!("user-{i}")), 100, 1_000);
        }
    }

    #[test]
    fn an_entry_budget_bounds_the_number_of_tokens() {
        let cache = VerifiedCache::new(Budget::Entries(100), Duration::from_secs(300));
        fill(&cache, 1_000);
        assert!(cache.len() <= 100, "{} entries", cache.len());
        assert!(cache.len() >= 50, "{} entries: the budget was not used", cache.len());
    }

    #[test]
    fn a_byte_budget_bounds_the_bytes_and_counts_each_entrys_size() {
        let cache = VerifiedCache::new(Budget::Bytes(64 * 1024), Duration::from_secs(300));
        fill(&cache, 2_000);
        assert!(cache.weight() <= 64 * 1024, "{} bytes", cache.weight());
        let per_entry = cache.weight() / cache.len() as u64;
        assert!((300..2_000).contains(&per_entry), "{per_entry} bytes an entry");
    }

    #[test]
    fn a_hit_past_its_good_until_is_a_miss() {
        let cache = VerifiedCache::new(Budget::Entries(10), Duration::from_secs(300));
        cache.insert(b"a.b.c", token("u"), 100, 200);
        assert!(cache.get(b"a.b.c", 199).is_some());
        assert!(cache.get(b"a.b.c", 200).is_none(), "expired with its token");
        cache.insert(b"d.e.f", token("u"), 100, 10_000);
        assert!(cache.get(b"d.e.f", 399).is_some());
        assert!(cache.get(b"d.e.f", 400).is_none(), "no longer than the longest lifetime");
    }

    #[test]
    fn same_bytes_compares_every_byte_of_equal_lengths() {
        let token = b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWJ5dGVz".to_vec();
        assert!(same_bytes(&token, &token.clone()));
        for position in 0..token.len() {
            let mut changed = token.clone();
            changed[position] ^= 1;
            assert!(!same_bytes(&token, &changed), "a change at byte {position} went unseen");
        }
        assert!(!same_bytes(&token, &token[..token.len() - 1]));
        assert!(same_bytes(b"", b""));
        // Several 32-byte blocks, then words, then bytes.
        let long = token.repeat(5);
        for position in 0..long.len() {
            let mut changed = long.clone();
            changed[position] ^= 0x80;
            assert!(
                !same_bytes(&long, &changed),
                "a change at byte {position} of {} went unseen",
                long.len()
            );
        }
    }

    #[test]
    fn same_bytes_sees_a_change_at_any_byte_of_any_length() {
        // Every way a length splits into 32-byte blocks, words and a last word or bytes.
        for length in 0..100usize {
            let bytes: Vec<u8> = (0..length).map(|i| (i * 31 + 7) as u8).collect();
            assert!(same_bytes(&bytes, &bytes.clone()), "length {length}");
            for position in 0..length {
                let mut changed = bytes.clone();
                changed[position] ^= 0x01;
                assert!(!same_bytes(&bytes, &changed), "length {length}, byte {position}");
            }
        }
    }

    #[test]
    fn tokens_with_the_same_tail_are_told_apart() {
        let a = [b"aaaa.".as_slice(), &[7u8; 40]].concat();
        let b = [b"bbbb.".as_slice(), &[7u8; 40]].concat();
        assert!(!TokenRef(&a).equivalent(&TokenKey(b.clone().into_boxed_slice())));
        assert!(TokenRef(&b).equivalent(&TokenKey(b.clone().into_boxed_slice())));
    }
}
