//! The revocation port: what the revocation list reads from a store (and what a sign-out
//! writes to it), with no store type in the list's own type.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::BackendError;

/// The revocation list's store: what a guard asks on every request it has not cached.
/// Every built-in store implements it (the issuer's stores convert their own errors).
///
/// ```
/// use std::collections::HashSet;
/// use std::sync::Mutex;
/// use tower_passport::revocation::RevocationStore;
/// use tower_passport::BackendError;
///
/// #[derive(Default)]
/// struct DenyList(Mutex<HashSet<String>>);
///
/// impl RevocationStore for DenyList {
///     async fn is_revoked(&self, jti: &str) -> Result<bool, BackendError> {
///         Ok(self.0.lock().map_err(|_| BackendError::msg("poisoned"))?.contains(jti))
///     }
/// }
/// ```
pub trait RevocationStore: Send + Sync + 'static {
    /// Whether `jti` is on the revocation list.
    fn is_revoked(&self, jti: &str) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// Refuses, from now on, the first-party cookies of `user_id` (of the user provider
    /// `provider`) sealed up to `not_before_ms` (Unix milliseconds, included): a sign-out. An
    /// instant already stored that is later stays. Every built-in store implements it; the
    /// default is an error, so a store that cannot keep it never lets a sign-out pass
    /// silently.
    fn set_user_not_before(
        &self,
        provider: &str,
        user_id: &str,
        not_before_ms: u64,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = (provider, user_id, not_before_ms);
        std::future::ready(Err(BackendError::msg("this store cannot revoke first-party cookies")))
    }

    /// What [`set_user_not_before`](Self::set_user_not_before) stored for the user, if
    /// anything. The default: nothing.
    fn user_not_before(
        &self,
        provider: &str,
        user_id: &str,
    ) -> impl Future<Output = Result<Option<u64>, BackendError>> + Send {
        let _ = (provider, user_id);
        std::future::ready(Ok(None))
    }
}

impl<S: RevocationStore> RevocationStore for Arc<S> {
    fn is_revoked(&self, jti: &str) -> impl Future<Output = Result<bool, BackendError>> + Send {
        (**self).is_revoked(jti)
    }

    fn set_user_not_before(
        &self,
        provider: &str,
        user_id: &str,
        not_before_ms: u64,
    ) -> impl Future<Output = Result<(), BackendError>> + Send {
        (**self).set_user_not_before(provider, user_id, not_before_ms)
    }

    fn user_not_before(
        &self,
        provider: &str,
        user_id: &str,
    ) -> impl Future<Output = Result<Option<u64>, BackendError>> + Send {
        (**self).user_not_before(provider, user_id)
    }
}

/// A boxed future of the erased port.
pub(super) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// The reads of [`RevocationStore`] the list makes, object-safe: the list holds any store
/// behind one `Arc<dyn ErasedRevocationStore>` (a box per store read, which is I/O anyway).
pub(super) trait ErasedRevocationStore: Send + Sync + 'static {
    /// [`RevocationStore::is_revoked`], boxed.
    fn is_revoked<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, bool>;
    /// [`RevocationStore::user_not_before`], boxed.
    fn user_not_before<'a>(&'a self, provider: &'a str, user_id: &'a str) -> BoxFuture<'a, Option<u64>>;
}

impl<S: RevocationStore> ErasedRevocationStore for S {
    fn is_revoked<'a>(&'a self, jti: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(RevocationStore::is_revoked(self, jti))
    }

    fn user_not_before<'a>(&'a self, provider: &'a str, user_id: &'a str) -> BoxFuture<'a, Option<u64>> {
        Box::pin(RevocationStore::user_not_before(self, provider, user_id))
    }
}
