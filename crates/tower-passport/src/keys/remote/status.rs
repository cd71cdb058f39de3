//! What a remote key set reports: cheap counters and a status snapshot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::error::BackendError;

/// Counters of a [`RemoteKeySet`](super::RemoteKeySet) since it was built: relaxed atomics, one
/// increment each, cheap enough for the request path.
///
/// Export them to any metrics system by polling
/// [`RemoteKeySet::metrics`](super::RemoteKeySet::metrics).
///
/// ```
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let keys = tower_passport::RemoteKeySet::builder("https://auth.example.com/jwks").build()?;
/// let metrics = keys.metrics();
/// assert_eq!((metrics.fetches, metrics.failures, metrics.kid_misses), (0, 0, 0));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeySetMetrics {
    /// Refresh attempts (each one JWKS request, after discovery when needed).
    pub fetches: u64,
    /// Attempts that failed: transport error, timeout, bad status, or a document with no
    /// usable key.
    pub failures: u64,
    /// Attempts answered `304 Not Modified`.
    pub not_modified: u64,
    /// Keys skipped because they were malformed, unsupported or refused.
    pub skipped_keys: u64,
    /// Tokens whose `kid` the current set does not hold.
    pub kid_misses: u64,
    /// Unknown `kid`s that triggered a background refetch.
    pub refetches: u64,
    /// Unknown `kid`s refused during the cooldown, without a fetch.
    pub cooldown_rejections: u64,
    /// Requests that waited for an unknown-`kid` refetch: the one that triggered it, and
    /// those with the same `kid` that joined it.
    pub refetch_waits: u64,
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) fetches: AtomicU64,
    pub(super) failures: AtomicU64,
    pub(super) not_modified: AtomicU64,
    pub(super) skipped_keys: AtomicU64,
    pub(super) kid_misses: AtomicU64,
    pub(super) refetches: AtomicU64,
    pub(super) cooldown_rejections: AtomicU64,
    pub(super) refetch_waits: AtomicU64,
}

/// Adds `n` to `counter`.
pub(super) fn bump(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    pub(super) fn read(&self) -> KeySetMetrics {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        KeySetMetrics {
            fetches: read(&self.fetches),
            failures: read(&self.failures),
            not_modified: read(&self.not_modified),
            skipped_keys: read(&self.skipped_keys),
            kid_misses: read(&self.kid_misses),
            refetches: read(&self.refetches),
            cooldown_rejections: read(&self.cooldown_rejections),
            refetch_waits: read(&self.refetch_waits),
        }
    }
}

/// The state of a [`RemoteKeySet`](super::RemoteKeySet) at one moment, for health checks
/// and logs. It holds key ids, never key material.
///
/// ```
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let keys = tower_passport::RemoteKeySet::builder("https://auth.example.com/jwks").build()?;
/// let status = keys.status();
/// assert!(!status.usable && status.keys == 0 && status.fetched_at.is_none());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct KeySetStatus {
    /// Whether requests are verified: a set was fetched and is within the stale bound.
    pub usable: bool,
    /// How many keys the current set holds.
    pub keys: usize,
    /// The `kid`s of the current set, in document order (keys without one are left out).
    pub kids: Vec<String>,
    /// How many keys of the current document were skipped.
    pub skipped: usize,
    /// When the current set was last fetched or revalidated.
    pub fetched_at: Option<SystemTime>,
    /// How long until the next scheduled refresh (zero when one is due).
    pub next_refresh_in: Duration,
    /// Why the most recent attempt failed, when it did; cleared by a success.
    pub last_error: Option<BackendError>,
}
