//! The revocations a resource server has heard over a bus, for one with no store to ask.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use super::hub::WeakHub;
use super::{Hub, Invalidate, RevocationCheck};
use crate::error::BackendError;
use crate::token::VerifiedToken;

/// The access-token `jti`s a revocation bus announced as revoked, checked by the guard:
/// revocation for a stand-alone resource server that shares no store with its issuer.
/// Cheap to clone.
///
/// Made on the node's [`Hub`] (it registers there, so the bus started on the hub,
/// `RedisRevocationBus::start` or `PgRevocationBus::start`, reaches it) and given to the
/// guard (`GuardBuilder::revocation`, which registers the guard's caches with the same
/// hub). Every [`Invalidation::AccessToken`](super::Invalidation) names a revoked token,
/// so each one heard is refused from then on.
///
/// What it cannot see, having no store:
/// - a revocation published while it was not listening (before it started, or while the
///   bus was down): such a token passes until its `exp`. A resource server that can
///   read the issuer's store uses [`RevocationList`](super::RevocationList) instead, which asks
///   the store and is kept fresh by the same bus;
/// - a client's revocation ([`Invalidation::Client`](super::Invalidation) also means
///   "changed"): that needs the issuer's client registry.
///
/// A `jti` is remembered for `keep_for` (366 days by default, past Laravel Passport's
/// one-year personal access tokens) or until `capacity` newer ones push it out.
///
/// ```
/// use tower_passport::revocation::{HeardRevocations, Hub, Invalidation};
/// let hub = Hub::new();
/// let heard = HeardRevocations::new(&hub);
/// hub.apply(&Invalidation::AccessToken { jti: "3f6c1b2a".into() });
/// assert!(heard.is_revoked("3f6c1b2a"));
/// // "Start over" means nothing here: what was heard stays.
/// hub.apply(&Invalidation::Everything);
/// assert!(heard.is_revoked("3f6c1b2a") && !heard.is_revoked("another"));
/// ```
#[derive(Clone)]
pub struct HeardRevocations {
    revoked: Arc<Cache<Box<str>, ()>>,
    hub: WeakHub,
}

impl HeardRevocations {
    /// Remembers, for `hub`'s node, up to 100 000 revoked `jti`s, each for 366 days.
    pub fn new(hub: &Hub) -> Self {
        Self::with_options(hub, 100_000, Duration::from_secs(366 * 24 * 3600))
    }

    /// Remembers, for `hub`'s node, up to `capacity` revoked `jti`s, each for `keep_for` (at
    /// least as long as the issuer's longest-lived token).
    pub fn with_options(hub: &Hub, capacity: u64, keep_for: Duration) -> Self {
        let revoked = Cache::builder().max_capacity(capacity).time_to_live(keep_for).build();
        let heard = Self { revoked: Arc::new(revoked), hub: hub.downgrade() };
        hub.register(heard.clone());
        heard
    }

    /// Records that the access token `jti` was revoked.
    pub fn record_revoked(&self, jti: &str) {
        self.revoked.insert(Box::from(jti), ());
    }

    /// Whether a revocation of `jti` was heard.
    pub fn is_revoked(&self, jti: &str) -> bool {
        self.revoked.contains_key(jti)
    }
}

impl std::fmt::Debug for HeardRevocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeardRevocations").field("revoked", &self.revoked.entry_count()).finish()
    }
}

impl RevocationCheck for HeardRevocations {
    fn is_revoked(
        &self,
        token: &VerifiedToken,
    ) -> impl std::future::Future<Output = Result<bool, BackendError>> + Send {
        std::future::ready(Ok(token.jti().is_some_and(|jti| HeardRevocations::is_revoked(self, jti))))
    }

    fn is_revoked_now(&self, token: &VerifiedToken) -> Option<Result<bool, BackendError>> {
        Some(Ok(token.jti().is_some_and(|jti| HeardRevocations::is_revoked(self, jti))))
    }

    fn hub(&self) -> Option<Hub> {
        self.hub.upgrade()
    }
}

/// An invalidation naming a `jti` is a revocation: it is recorded. Nothing else applies:
/// a client message may be a mere change, and "everything" asks caches to re-read a store
/// this list does not have, so what it heard stays.
impl Invalidate for HeardRevocations {
    fn invalidate_jti(&self, jti: &str) {
        self.record_revoked(jti);
    }

    fn invalidate_client(&self, _client_id: &str) {}

    fn invalidate_everything(&self) {}
}
