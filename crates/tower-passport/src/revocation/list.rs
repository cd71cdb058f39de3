//! The revocation list: a moka cache in front of the store, implementing the guard's
//! [`RevocationCheck`]. No database hit per request (Passport #858, #672), no stale
//! answer on the node that revoked, and store failures fail closed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::ops::compute::Op;
use moka::sync::Cache;
use moka::Expiry;

use super::hub::WeakHub;
use super::port::ErasedRevocationStore;
use super::{Hub, Invalidate, RevocationCheck, RevocationStore};
use crate::clock::Clock;
use crate::error::BackendError;
use crate::token::VerifiedToken;

/// How long a [`RevocationList`] caches a "not revoked" answer unless told otherwise
/// (`IssuerBuilder::revocation_cache_ttl`, in `tower-passport-issuer`).
///
/// Without a revocation bus, the longest a node keeps accepting a token revoked on another
/// node.
pub const DEFAULT_NOT_REVOKED_TTL: Duration = Duration::from_secs(5);

/// Revoked access-token `jti`s, cached in front of a [`RevocationStore`]: the one store
/// role it needs. Made on the node's [`Hub`], where it registers. Cheap to clone.
///
/// - A revoked entry is cached until the token's own expiry, whatever invalidation comes:
///   revocation is permanent.
/// - A "not revoked" answer is cached for a short, configured time (the bounded
///   staleness a multi-node deployment accepts without a revocation bus; 5 s by default).
/// - Revocations made through the issuer update this node's cache at once, so a single
///   node never serves a stale "not revoked".
/// - [`invalidate_jti`](Self::invalidate_jti) drops a "not revoked" entry on a message from
///   another node.
/// - A store error is an error, never "not revoked": the guard answers 503.
///
/// It also keeps, the same way, each user's "not before" instant: first-party cookies
/// sealed up to it (included) are refused ([`RevocationCheck::user_not_before`]). An instant this
/// node sets is cached at once; one set elsewhere arrives as
/// [`Invalidation::User`](super::Invalidation::User) over the bus, or is read from the
/// store once the cached answer expires (the same bound as "not revoked").
///
/// ```
/// use std::sync::Arc;
/// use tower_passport::revocation::{Hub, Invalidation, RevocationList, RevocationStore};
/// use tower_passport::BackendError;
///
/// struct NothingRevoked;
///
/// impl RevocationStore for NothingRevoked {
///     async fn is_revoked(&self, _jti: &str) -> Result<bool, BackendError> {
///         Ok(false)
///     }
/// }
///
/// let hub = Hub::new();
/// let list = RevocationList::new(&hub, Arc::new(NothingRevoked));
/// list.record_revoked("jti-1", u64::MAX);
/// hub.apply(&Invalidation::Everything);
/// assert_eq!(list.cached("jti-1"), Some(true));
/// ```
#[derive(Clone)]
pub struct RevocationList {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RevocationList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationList")
            .field("cached", &self.inner.cache.entry_count())
            .field("negative_ttl", &self.inner.negative_ttl)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Arc<dyn ErasedRevocationStore>,
    /// The hub the list is registered with (weak: the hub holds the list).
    hub: WeakHub,
    cache: Cache<Box<str>, Entry<bool>>,
    /// Each user's "not before" (Unix ms), keyed by [`user_key`].
    users: Cache<Box<str>, Entry<Option<u64>>>,
    clock: Arc<dyn Clock>,
    /// How long "not revoked" is cached without a connected revocation bus.
    negative_ttl: Duration,
    /// How long it is cached while a revocation bus is connected (messages then keep the
    /// cache fresh, so it can be longer).
    negative_ttl_with_bus_ms: AtomicU64,
    bus_up: AtomicBool,
}

/// A cached answer and how long it may be kept.
#[derive(Clone, Copy)]
struct Entry<T> {
    value: T,
    ttl: Duration,
}

struct EntryTtl;

impl<T> Expiry<Box<str>, Entry<T>> for EntryTtl {
    fn expire_after_create(&self, _key: &Box<str>, entry: &Entry<T>, _at: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &Box<str>,
        entry: &Entry<T>,
        _at: Instant,
        _remaining: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// The cache key of a user: the provider's length, the provider, the user (no two users
/// share one, whatever their names hold).
fn user_key(provider: &str, user_id: &str) -> Box<str> {
    format!("{}:{provider}:{user_id}", provider.len()).into_boxed_str()
}

impl RevocationList {
    /// A list over `store` for `hub`'s node (registered there), on the system clock,
    /// caching 100 000 entries and negative answers for 5 seconds.
    pub fn new(hub: &Hub, store: Arc<impl RevocationStore>) -> Self {
        Self::with_options(hub, store, Arc::new(crate::clock::SystemClock), 100_000, DEFAULT_NOT_REVOKED_TTL)
    }

    /// A list for `hub`'s node (registered there) with explicit clock, capacity and
    /// negative-answer TTL (the staleness bound when revocations come from other nodes
    /// without a bus; zero disables negative caching).
    pub fn with_options(
        hub: &Hub,
        store: Arc<impl RevocationStore>,
        clock: Arc<dyn Clock>,
        capacity: u64,
        negative_ttl: Duration,
    ) -> Self {
        let cache = Cache::builder().max_capacity(capacity).expire_after(EntryTtl).build();
        let users = Cache::builder().max_capacity(capacity).expire_after(EntryTtl).build();
        let inner = Inner {
            store,
            hub: hub.downgrade(),
            cache,
            users,
            clock,
            negative_ttl,
            negative_ttl_with_bus_ms: AtomicU64::new(
                u64::try_from(negative_ttl.max(Duration::from_secs(60)).as_millis()).unwrap_or(u64::MAX),
            ),
            bus_up: AtomicBool::new(false),
        };
        let list = Self { inner: Arc::new(inner) };
        hub.register(list.clone());
        list
    }

    /// How long "not revoked" is cached while a revocation bus is connected (60 s, or the
    /// plain TTL if longer). When the bus drops, the cache is emptied and the plain TTL
    /// bounds staleness again.
    pub fn set_bus_ttl(&self, ttl: Duration) {
        self.inner
            .negative_ttl_with_bus_ms
            .store(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX), Ordering::SeqCst);
    }

    /// Records locally that `jti` is revoked until `expires_at`. The issuer calls this for
    /// every revocation it makes, after the store has it.
    pub fn record_revoked(&self, jti: &str, expires_at: u64) {
        let ttl = Duration::from_secs(expires_at.saturating_sub(self.inner.clock.now()).max(1));
        let entry = Entry { value: true, ttl };
        self.inner.cache.entry(Box::from(jti)).and_compute_with(|_| Op::Put(entry));
    }

    /// Drops a cached "not revoked" for `jti`: the next check asks the store. A cached
    /// "revoked" stays (revocation is permanent). For invalidation messages.
    pub fn invalidate_jti(&self, jti: &str) {
        self.inner.cache.entry(Box::from(jti)).and_compute_with(forget_not_revoked);
    }

    /// Drops every cached "not revoked" and "not before" (after a lost invalidation
    /// channel, for instance). Cached "revoked" answers stay.
    pub fn invalidate_everything(&self) {
        for (jti, entry) in self.inner.cache.iter() {
            if !entry.value {
                self.inner.cache.entry(Box::clone(&jti)).and_compute_with(forget_not_revoked);
            }
        }
        self.inner.users.invalidate_all();
    }

    /// Records locally that `user_id`'s first-party cookies sealed up to `not_before_ms`
    /// (Unix milliseconds) are refused. The issuer calls this after the store has it; a
    /// later instant already known is kept.
    pub fn record_user_not_before(&self, provider: &str, user_id: &str, not_before_ms: u64) {
        // Kept as long as a "not revoked" answer: a later instant set on another node must
        // be read from the store within the same bound.
        let ttl = self.negative_ttl();
        self.inner.users.entry(user_key(provider, user_id)).and_compute_with(|existing| {
            let known = existing.and_then(|entry| entry.value().value);
            let value = Some(known.map_or(not_before_ms, |known| known.max(not_before_ms)));
            if ttl.is_zero() {
                Op::Remove
            } else {
                Op::Put(Entry { value, ttl })
            }
        });
    }

    /// Drops what this node cached for the user: the next check asks the store. For
    /// invalidation messages from other nodes.
    pub fn invalidate_user(&self, provider: &str, user_id: &str) {
        self.inner.users.invalidate(&user_key(provider, user_id));
    }

    /// The instant (Unix milliseconds) up to which (included) `user_id`'s first-party cookies are
    /// refused, if any: from the cache, else from the store (and then cached).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport::revocation::{Hub, RevocationList, RevocationStore};
    /// use tower_passport::BackendError;
    ///
    /// struct NoSignOut;
    ///
    /// impl RevocationStore for NoSignOut {
    ///     async fn is_revoked(&self, _jti: &str) -> Result<bool, BackendError> {
    ///         Ok(false)
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), BackendError> {
    /// let list = RevocationList::new(&Hub::new(), Arc::new(NoSignOut));
    /// assert_eq!(list.user_not_before("users", "7").await?, None);
    /// list.record_user_not_before("users", "7", 1_700_000_000_123);
    /// assert_eq!(list.user_not_before("users", "7").await?, Some(1_700_000_000_123));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails.
    pub async fn user_not_before(&self, provider: &str, user_id: &str) -> Result<Option<u64>, BackendError> {
        let key = user_key(provider, user_id);
        if let Some(entry) = self.inner.users.get(&key) {
            return Ok(entry.value);
        }
        let stored = self.inner.store.user_not_before(provider, user_id).await?;
        // A known instant ages like "not revoked": a later one may be set elsewhere.
        let ttl = self.negative_ttl();
        if !ttl.is_zero() {
            // Never replace a later instant recorded while the store was being asked.
            self.inner.users.entry(key).and_compute_with(|existing| match existing {
                Some(existing) if existing.value().value >= stored => Op::Nop,
                _ => Op::Put(Entry { value: stored, ttl }),
            });
        }
        Ok(stored)
    }

    fn negative_ttl(&self) -> Duration {
        if self.inner.bus_up.load(Ordering::SeqCst) {
            Duration::from_millis(self.inner.negative_ttl_with_bus_ms.load(Ordering::SeqCst))
        } else {
            self.inner.negative_ttl
        }
    }

    /// What the cache holds for `jti`, without asking the store.
    pub fn cached(&self, jti: &str) -> Option<bool> {
        self.inner.cache.get(jti).map(|entry| entry.value)
    }

    /// Whether `jti` is revoked: from the cache, else from the store (and then cached).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn is_revoked(&self, jti: &str) -> Result<bool, BackendError> {
        if let Some(entry) = self.inner.cache.get(jti) {
            crate::telemetry::revocation_cache(true);
            return Ok(entry.value);
        }
        crate::telemetry::revocation_cache(false);
        let revoked = self.inner.store.is_revoked(jti).await?;
        if revoked {
            // The store only says "revoked"; keep it for the cache's own bound (the token
            // expiry is not known here; the guard passes it when it can).
            self.record_revoked(jti, self.inner.clock.now().saturating_add(3600));
        } else if !self.negative_ttl().is_zero() {
            let entry = Entry { value: false, ttl: self.negative_ttl() };
            // Never overwrite a revocation recorded while the store was being asked.
            self.inner.cache.entry(Box::from(jti)).and_compute_with(|existing| match existing {
                Some(existing) if existing.value().value => Op::Nop,
                _ => Op::Put(entry),
            });
        }
        Ok(revoked)
    }
}

/// Removes a cached "not revoked", keeps a cached "revoked" (checked under the entry's
/// lock, so a revocation recorded meanwhile is never lost).
fn forget_not_revoked(existing: Option<moka::Entry<Box<str>, Entry<bool>>>) -> Op<Entry<bool>> {
    match existing {
        Some(existing) if !existing.value().value => Op::Remove,
        _ => Op::Nop,
    }
}

impl RevocationCheck for RevocationList {
    // Borrows the list and the token: no clone, no allocation on a cache hit.
    async fn is_revoked(&self, token: &VerifiedToken) -> Result<bool, BackendError> {
        let Some(jti) = token.jti() else { return Ok(false) };
        let revoked = RevocationList::is_revoked(self, jti).await?;
        if revoked {
            self.record_revoked(jti, token.expires_at());
        }
        Ok(revoked)
    }

    /// A cached answer: a hit of the list's cache (a revoked entry is re-recorded with the
    /// token's expiry by `is_revoked`, so a revoked hit takes that path).
    fn is_revoked_now(&self, token: &VerifiedToken) -> Option<Result<bool, BackendError>> {
        let Some(jti) = token.jti() else { return Some(Ok(false)) };
        match self.cached(jti) {
            Some(false) => {
                crate::telemetry::revocation_cache(true);
                Some(Ok(false))
            }
            _ => None,
        }
    }

    async fn user_not_before(&self, provider: &str, subject: &str) -> Result<Option<u64>, BackendError> {
        RevocationList::user_not_before(self, provider, subject).await
    }

    fn hub(&self) -> Option<Hub> {
        self.inner.hub.upgrade()
    }
}

impl Invalidate for RevocationList {
    fn invalidate_jti(&self, jti: &str) {
        RevocationList::invalidate_jti(self, jti);
    }

    /// The list holds no client answers: nothing to drop.
    fn invalidate_client(&self, _client_id: &str) {}

    fn invalidate_user(&self, provider: &str, user_id: &str) {
        RevocationList::invalidate_user(self, provider, user_id);
    }

    fn invalidate_everything(&self) {
        RevocationList::invalidate_everything(self);
    }

    fn bus_connected(&self, connected: bool) {
        if self.inner.bus_up.swap(connected, Ordering::SeqCst) != connected {
            // Answers cached under the other regime have the wrong lifetime: start over.
            self.invalidate_everything();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::revocation::Invalidation;

    /// Revokes nothing, and counts how often it is asked.
    #[derive(Default)]
    struct Asked(AtomicUsize);

    impl RevocationStore for Asked {
        async fn is_revoked(&self, _jti: &str) -> Result<bool, BackendError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(false)
        }
    }

    #[tokio::test]
    async fn a_revoked_entry_survives_every_invalidation_and_a_not_revoked_one_does_not() {
        let (hub, store) = (Hub::new(), Arc::new(Asked::default()));
        let list = RevocationList::with_options(
            &hub,
            store.clone(),
            Arc::new(crate::clock::SystemClock),
            100,
            Duration::from_secs(300),
        );
        list.record_revoked("revoked", u64::MAX);
        assert!(!list.is_revoked("fine").await.expect("answer"));
        assert_eq!(list.cached("fine"), Some(false));

        hub.apply(&Invalidation::AccessToken { jti: "revoked".into() });
        hub.apply(&Invalidation::AccessToken { jti: "fine".into() });
        assert_eq!((list.cached("revoked"), list.cached("fine")), (Some(true), None));

        assert!(!list.is_revoked("fine").await.expect("answer"));
        hub.apply(&Invalidation::Everything);
        list.bus_connected(true);
        assert_eq!((list.cached("revoked"), list.cached("fine")), (Some(true), None));
        assert!(list.is_revoked("revoked").await.expect("answer"), "from the cache");
        assert_eq!(store.0.load(Ordering::SeqCst), 2, "only the \"not revoked\" answers were read again");
    }

    #[test]
    fn a_list_registers_with_its_hub_and_answers_it_while_the_hub_lives() {
        let hub = Hub::new();
        let list = RevocationList::new(&hub, Arc::new(Asked::default()));
        assert_eq!(hub.len(), 1);
        assert!(RevocationCheck::hub(&list).is_some_and(|answered| answered.same_as(&hub)));
        drop(hub);
        assert!(RevocationCheck::hub(&list).is_none(), "the list does not keep its hub alive");
    }
}
