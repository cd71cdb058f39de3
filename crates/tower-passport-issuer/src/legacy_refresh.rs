//! Refresh tokens of the server being migrated from (Laravel Passport's, say), redeemed
//! once by the refresh grant so that users keep their sessions through a cut-over.
//!
//! The issuer knows nothing of the other server: a [`LegacyRefreshTokens`] (the
//! `tower-passport-laravel` crate has Passport's) reads and consumes its tokens, and the
//! refresh grant asks it about any refresh token that is not one of the issuer's own.
//! What it redeems starts a new refresh family here: the token it answers for is spent
//! there, so a replay is refused as reuse.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tower_passport::BackendError;

/// What a redeemed legacy refresh token granted: the client it was issued to, the user and
/// the scopes.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LegacyGrant {
    /// The client the token was issued to (the grant refuses it for any other).
    pub client_id: String,
    /// The user the token acts for.
    pub user_id: String,
    /// The scopes it carried.
    pub scopes: Vec<String>,
}

impl LegacyGrant {
    /// A grant of `client_id` for `user_id` with `scopes`.
    pub fn new(client_id: impl Into<String>, user_id: impl Into<String>, scopes: Vec<String>) -> Self {
        Self { client_id: client_id.into(), user_id: user_id.into(), scopes }
    }
}

impl fmt::Debug for LegacyGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacyGrant")
            .field("client_id", &self.client_id)
            .field("user_id", &self.user_id)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Redeems, once, a refresh token issued by the server this issuer replaces.
///
/// [`redeem`](Self::redeem) is asked for every refresh token that is not the issuer's own
/// (the grant passes the authenticated client's id). It answers:
/// - `Ok(Some(grant))` once, having spent the token in the other server's storage, so
///   that no replay (here or there) redeems it again;
/// - `Ok(None)` for a token it does not know, that is malformed, expired, revoked or
///   already spent, or that was issued to another client: the grant answers
///   `invalid_grant`;
/// - `Err` when its storage fails: 503.
///
/// CPU-heavy decryption belongs off the executor (`spawn_blocking`).
///
/// ```
/// use tower_passport::BackendError;
/// use tower_passport_issuer::{LegacyGrant, LegacyRefreshTokens};
///
/// /// One token, for user 7 of the client "mobile", redeemable once.
/// struct OneToken(std::sync::Mutex<bool>);
///
/// impl LegacyRefreshTokens for OneToken {
///     async fn redeem(&self, token: &str, client_id: &str) -> Result<Option<LegacyGrant>, BackendError> {
///         let mut spent = self.0.lock().map_err(|_| BackendError::msg("poisoned"))?;
///         if token != "def50200abc" || client_id != "mobile" || *spent {
///             return Ok(None);
///         }
///         *spent = true;
///         Ok(Some(LegacyGrant::new("mobile", "7", vec!["read".into()])))
///     }
/// }
/// # let _ = OneToken(std::sync::Mutex::new(false));
/// ```
pub trait LegacyRefreshTokens: Send + Sync + 'static {
    /// Redeems `token`, presented by the authenticated client `client_id`, once.
    fn redeem(
        &self,
        token: &str,
        client_id: &str,
    ) -> impl Future<Output = Result<Option<LegacyGrant>, BackendError>> + Send;
}

impl<T: LegacyRefreshTokens> LegacyRefreshTokens for Arc<T> {
    fn redeem(
        &self,
        token: &str,
        client_id: &str,
    ) -> impl Future<Output = Result<Option<LegacyGrant>, BackendError>> + Send {
        (**self).redeem(token, client_id)
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// [`LegacyRefreshTokens`], object-safe, as the issuer holds it.
pub(crate) trait ErasedLegacy: Send + Sync + 'static {
    fn redeem<'a>(&'a self, token: &'a str, client_id: &'a str) -> BoxFuture<'a, Option<LegacyGrant>>;
}

impl<T: LegacyRefreshTokens> ErasedLegacy for T {
    fn redeem<'a>(&'a self, token: &'a str, client_id: &'a str) -> BoxFuture<'a, Option<LegacyGrant>> {
        Box::pin(LegacyRefreshTokens::redeem(self, token, client_id))
    }
}

pub(crate) type BoxedLegacy = Arc<dyn ErasedLegacy>;
