//! Failed authentication attempts, counted by key, for the issuer's
//! [`Throttle`](crate::Throttle): the role [`FailureStore`], its record
//! [`Failures`], the one rule every backend applies when a failure is recorded
//! ([`Failures::after`]), and [`MemoryFailures`], the bounded in-memory backend a single node
//! uses by default.
//!
//! A key is an opaque string the throttle derives (a SHA-256 of what it limits: an account
//! name, a client id, an address), never a password. The SQL stores keep one row per key
//! (migration 9), locked while they apply this rule; Redis one hash per key (one Lua
//! script, written in the same rule).

use std::future::Future;
use std::time::Duration;

use super::StoreError;

/// The failures counted under one key: how many in a row, and when the last one was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failures {
    /// Consecutive failures (at least 1 once recorded).
    pub count: u32,
    /// When the last one happened, in seconds since the Unix epoch (the caller's clock).
    pub last_at: u64,
}

impl Failures {
    /// The rule: the failures after one more at `now`. One failure is forgotten per
    /// `forget_every` seconds since the last one (the count never drops below zero), then
    /// this one is added. The SQL stores call it under the key's row lock;
    /// `record_failure.lua` mirrors it.
    ///
    /// ```
    /// use tower_passport_issuer::store::Failures;
    /// let first = Failures::after(None, 1_000, 60);
    /// assert_eq!(first, Failures { count: 1, last_at: 1_000 });
    /// let second = Failures::after(Some(first), 1_010, 60);
    /// assert_eq!(second.count, 2);
    /// // Two minutes of quiet forget two failures.
    /// assert_eq!(Failures::after(Some(second), 1_130, 60).count, 1);
    /// ```
    pub fn after(previous: Option<Failures>, now: u64, forget_every: u64) -> Failures {
        let remaining = previous.map_or(0, |previous| previous.remaining(now, forget_every));
        Failures { count: remaining.saturating_add(1), last_at: now }
    }

    /// How many of these failures are still remembered at `now`, forgetting one per
    /// `forget_every` seconds (at least one) since the last.
    pub fn remaining(&self, now: u64, forget_every: u64) -> u32 {
        let forgotten = now.saturating_sub(self.last_at) / forget_every.max(1);
        u32::try_from(u64::from(self.count).saturating_sub(forgotten)).unwrap_or(u32::MAX)
    }

    /// Seconds from the last failure until every one is forgotten: how long a backend must
    /// keep the record.
    pub fn kept_for(&self, forget_every: u64) -> u64 {
        u64::from(self.count).saturating_mul(forget_every.max(1))
    }
}

/// Counts failed authentication attempts by key (the role the issuer's
/// [`Throttle`](crate::Throttle) keeps its counters in).
///
/// Implemented by [`MemoryFailures`] (one node), and by the SQL and Redis stores (every node of
/// a deployment sees the same counts).
///
/// ```
/// use tower_passport_issuer::store::{FailureStore, MemoryFailures};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = MemoryFailures::new(1_000);
/// store.record_failure("k", 1_000, 3_600).await?;
/// let recorded = store.record_failure("k", 1_001, 3_600).await?;
/// assert_eq!(recorded.count, 2);
/// assert_eq!(store.failures(&["k", "other"]).await?, vec![Some(recorded), None]);
/// store.clear_failures("k").await?;
/// assert_eq!(store.failures(&["k"]).await?, vec![None]);
/// # Ok(())
/// # }
/// ```
pub trait FailureStore: Send + Sync + 'static {
    /// The failures recorded under each key, in the order of `keys` (`None` for a key with
    /// none). A backend may return failures that are forgotten by now.
    fn failures(
        &self,
        keys: &[&str],
    ) -> impl Future<Output = Result<Vec<Option<Failures>>, StoreError>> + Send;

    /// Records one failure under `key` at `now`, atomically, by [`Failures::after`], and
    /// returns the failures afterwards. The record may be dropped once every failure is
    /// forgotten ([`Failures::kept_for`]).
    fn record_failure(
        &self,
        key: &str,
        now: u64,
        forget_every: u64,
    ) -> impl Future<Output = Result<Failures, StoreError>> + Send;

    /// Forgets the failures under `key` (after a success).
    fn clear_failures(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// A [`FailureStore`] in this process's memory, bounded: at most `capacity` keys (the least
/// recently used go first), each dropped after a day without a failure at most.
///
/// The default throttle of an issuer keeps its counters here. Cheap to clone: clones share the
/// counters.
#[derive(Clone)]
pub struct MemoryFailures {
    cache: moka::sync::Cache<String, Failures>,
}

impl std::fmt::Debug for MemoryFailures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryFailures").field("keys", &self.cache.entry_count()).finish()
    }
}

/// How long the memory store keeps a key with no new failure at most.
const MEMORY_IDLE: Duration = Duration::from_secs(24 * 3600);

impl MemoryFailures {
    /// Room for `capacity` keys.
    pub fn new(capacity: u64) -> Self {
        Self { cache: moka::sync::Cache::builder().max_capacity(capacity).time_to_idle(MEMORY_IDLE).build() }
    }
}

impl Default for MemoryFailures {
    /// Room for 100 000 keys (a few megabytes).
    fn default() -> Self {
        Self::new(100_000)
    }
}

impl FailureStore for MemoryFailures {
    async fn failures(&self, keys: &[&str]) -> Result<Vec<Option<Failures>>, StoreError> {
        Ok(keys.iter().map(|key| self.cache.get(*key)).collect())
    }

    async fn record_failure(&self, key: &str, now: u64, forget_every: u64) -> Result<Failures, StoreError> {
        // One atomic read-modify-write per key.
        let entry = self.cache.entry(key.to_owned()).and_upsert_with(|previous| {
            Failures::after(previous.map(|entry| *entry.value()), now, forget_every)
        });
        Ok(entry.into_value())
    }

    async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        self.cache.invalidate(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Failures;

    #[test]
    fn one_failure_is_forgotten_per_period() {
        let table = [
            // (previous, now, expected count)
            (None, 100, 1),
            (Some(Failures { count: 1, last_at: 100 }), 100, 2),
            (Some(Failures { count: 4, last_at: 100 }), 159, 5),
            (Some(Failures { count: 4, last_at: 100 }), 160, 4),
            (Some(Failures { count: 4, last_at: 100 }), 400, 1),
            (Some(Failures { count: 4, last_at: 100 }), 99, 5),
            (Some(Failures { count: u32::MAX, last_at: 100 }), 101, u32::MAX),
        ];
        for (previous, now, expected) in table {
            let next = Failures::after(previous, now, 60);
            assert_eq!((next.count, next.last_at), (expected, now), "{previous:?} at {now}");
        }
        assert_eq!(Failures { count: 3, last_at: 100 }.kept_for(60), 180);
    }
}
