//! Asking whether a verified token was revoked.

use std::future::Future;
use std::sync::Arc;

use super::Hub;
use crate::error::BackendError;
use crate::token::VerifiedToken;

/// Asks whether a verified token was revoked, typically by its `jti`.
///
/// The guard consults it on every request, cache hit or not. An `Err` is never taken as
/// "not revoked": the guard answers 503 and fails closed. The cached revocation list
/// ([`RevocationList`](super::RevocationList)) implements it; [`NoRevocation`] is the default.
///
/// ```
/// use std::collections::HashSet;
/// use std::sync::{Arc, RwLock};
/// use tower_passport::revocation::RevocationCheck;
/// use tower_passport::{BackendError, VerifiedToken};
///
/// #[derive(Default)]
/// struct DenyList(RwLock<HashSet<String>>);
///
/// impl RevocationCheck for DenyList {
///     async fn is_revoked(&self, token: &VerifiedToken) -> Result<bool, BackendError> {
///         let list = self.0.read().map_err(|_| BackendError::msg("deny list poisoned"))?;
///         Ok(token.jti().is_some_and(|jti| list.contains(jti)))
///     }
/// }
/// ```
pub trait RevocationCheck: Send + Sync + 'static {
    /// Whether `token` was revoked.
    fn is_revoked(&self, token: &VerifiedToken) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// The answer [`is_revoked`](Self::is_revoked) would give, when it is known without
    /// waiting (an in-memory list, a cached entry); `None` (the default) to wait for
    /// `is_revoked`. The guard asks this first, so a request whose every answer is at hand
    /// is authorized without a boxed future. It must agree with `is_revoked`.
    ///
    /// ```
    /// use tower_passport::revocation::RevocationCheck;
    /// use tower_passport::{BackendError, VerifiedToken};
    ///
    /// /// Revokes the tokens of one compromised client, known at start-up.
    /// struct Compromised(String);
    ///
    /// impl RevocationCheck for Compromised {
    ///     async fn is_revoked(&self, token: &VerifiedToken) -> Result<bool, BackendError> {
    ///         Ok(token.client_id() == Some(self.0.as_str()))
    ///     }
    ///
    ///     fn is_revoked_now(&self, token: &VerifiedToken) -> Option<Result<bool, BackendError>> {
    ///         Some(Ok(token.client_id() == Some(self.0.as_str())))
    ///     }
    /// }
    /// ```
    fn is_revoked_now(&self, token: &VerifiedToken) -> Option<Result<bool, BackendError>> {
        let _ = token;
        None
    }

    /// The instant, in Unix milliseconds, up to which (included) the first-party cookies of `subject`
    /// (a user of the user provider `provider`) are refused: set when the user signs out or
    /// has every token revoked. `None` (the default) when there is none. The guard asks it
    /// for every request that authenticates with the
    /// [first-party cookie](crate::cookie); an `Err` fails closed (503), as for
    /// [`is_revoked`](Self::is_revoked).
    fn user_not_before(
        &self,
        provider: &str,
        subject: &str,
    ) -> impl Future<Output = Result<Option<u64>, BackendError>> + Send {
        let _ = (provider, subject);
        std::future::ready(Ok(None))
    }

    /// The [`Hub`] of the node this check serves, if it has one: the guard built with this
    /// check registers its own caches there at `build()`, so invalidations reach them too.
    /// A [`RevocationList`](super::RevocationList) and [`HeardRevocations`](super::HeardRevocations)
    /// answer the hub they were made on; the default is none.
    fn hub(&self) -> Option<Hub> {
        None
    }
}

/// Never revokes anything: the default when no revocation list is configured.
///
/// ```
/// # use tower_passport::revocation::NoRevocation;
/// let _none = NoRevocation;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRevocation;

impl RevocationCheck for NoRevocation {
    fn is_revoked(&self, _token: &VerifiedToken) -> impl Future<Output = Result<bool, BackendError>> + Send {
        std::future::ready(Ok(false))
    }

    #[inline]
    fn is_revoked_now(&self, _token: &VerifiedToken) -> Option<Result<bool, BackendError>> {
        Some(Ok(false))
    }
}

impl<T: RevocationCheck> RevocationCheck for Arc<T> {
    fn is_revoked(&self, token: &VerifiedToken) -> impl Future<Output = Result<bool, BackendError>> + Send {
        (**self).is_revoked(token)
    }

    #[inline]
    fn is_revoked_now(&self, token: &VerifiedToken) -> Option<Result<bool, BackendError>> {
        (**self).is_revoked_now(token)
    }

    fn user_not_before(
        &self,
        provider: &str,
        subject: &str,
    ) -> impl Future<Output = Result<Option<u64>, BackendError>> + Send {
        (**self).user_not_before(provider, subject)
    }

    fn hub(&self) -> Option<Hub> {
        (**self).hub()
    }
}
