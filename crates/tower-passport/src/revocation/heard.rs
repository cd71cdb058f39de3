//! The revocations a resource server has heard over a bus, for one with no store to ask.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use super::{Invalidate, RevocationCheck};
use crate::error::BackendError;
use crate::token::VerifiedToken;

/// The access-token `jti`s a revocation bus announced as revoked, checked by the guard:
/// revocation for a stand-alone resource server that shares no store with its issuer.
/// Cheap to clone.
///
/// Add it to the [`LocalCaches`](super::LocalCaches) a bus listens into
/// (`RedisRevocationBus::listen`, `PgRevocationBus::listen`) and give it to the guard
/// (`GuardBuilder::revocation`). Every [`Invalidation::AccessToken`](super::Invalidation)
/// names a revoked token, so each one heard is refused from then on.
///
/// What it cannot see, having no store:
/// - a revocation published while it was not listening (before it started, or while the
///   bus was down): such a token passes until its `exp`. A resource server that can
///   read the issuer's store uses `RevocationList` (feature `issuer`) instead, which asks
///   the store and is kept fresh by the same bus;
/// - a client's revocation ([`Invalidation::Client`](super::Invalidation) also means
///   "changed"): that needs the issuer's client registry.
///
/// A `jti` is remembered for `keep_for` (366 days by default, past Laravel Passport's
/// one-year personal access tokens) or until `capacity` newer ones push it out.
///
/// ```
/// use tower_passport::revocation::{HeardRevocations, Invalidation, LocalCaches};
/// let heard = HeardRevocations::new();
/// let caches = LocalCaches::new().with(heard.clone());
/// caches.apply(&Invalidation::AccessToken { jti: "3f6c1b2a".into() });
/// assert!(heard.is_revoked("3f6c1b2a"));
/// // "Start over" means nothing here: what was heard stays.
/// caches.apply(&Invalidation::Everything);
/// assert!(heard.is_revoked("3f6c1b2a") && !heard.is_revoked("another"));
/// ```
#[derive(Clone)]
pub struct HeardRevocations {
    revoked: Arc<Cache<Box<str>, ()>>,
}

impl HeardRevocations {
    /// Remembers up to 100 000 revoked `jti`s, each for 366 days.
    pub fn new() -> Self {
        Self::with_options(100_000, Duration::from_secs(366 * 24 * 3600))
    }

    /// Remembers up to `capacity` revoked `jti`s, each for `keep_for` (at least as long as
    /// the issuer's longest-lived token).
    pub fn with_options(capacity: u64, keep_for: Duration) -> Self {
        let revoked = Cache::builder().max_capacity(capacity).time_to_live(keep_for).build();
        Self { revoked: Arc::new(revoked) }
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

impl Default for HeardRevocations {
    fn default() -> Self {
        Self::new()
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
