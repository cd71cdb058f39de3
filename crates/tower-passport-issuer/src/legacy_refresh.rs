//! Refresh tokens of the server being migrated from (Laravel Passport's, say), redeemed
//! once by the refresh grant so that users keep their sessions through a cut-over.
//!
//! The issuer knows nothing of the other server: a [`LegacyRefreshTokens`] (the
//! `tower-passport-laravel` crate has Passport's) reads and consumes its tokens, and the
//! refresh grant asks it about any refresh token that is not one of the issuer's own.
//! What it redeems starts a new refresh family here, named after the legacy token's own id:
//! the token it answers for is spent there, and a replay of it is reuse, which revokes that
//! family (RFC 9700 §4.14.2), as a replay of one of the issuer's own refresh tokens does.

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
    /// The other server's id for the token (Passport's `refresh_token_id`): the family the
    /// redemption starts is named after it, so that a replay can revoke that family.
    pub token_id: String,
    /// The client the token was issued to (the grant refuses it for any other).
    pub client_id: String,
    /// The user the token acts for.
    pub user_id: String,
    /// The scopes it carried.
    pub scopes: Vec<String>,
}

impl LegacyGrant {
    /// The redemption of the token the other server knows as `token_id`: a grant of
    /// `client_id` for `user_id` with `scopes`.
    pub fn new(
        token_id: impl Into<String>,
        client_id: impl Into<String>,
        user_id: impl Into<String>,
        scopes: Vec<String>,
    ) -> Self {
        Self { token_id: token_id.into(), client_id: client_id.into(), user_id: user_id.into(), scopes }
    }
}

impl fmt::Debug for LegacyGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacyGrant")
            .field("token_id", &"…")
            .field("client_id", &self.client_id)
            .field("user_id", &self.user_id)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// What redeeming a legacy refresh token came to.
#[derive(Debug)]
#[non_exhaustive]
pub enum LegacyRedemption {
    /// Redeemed now, and spent in the other server's storage: a new family starts here.
    Granted(LegacyGrant),
    /// A genuine token of the other server (it decrypted, and was this client's) that is
    /// already spent or revoked there: a replay. `token_id` is the other server's id for
    /// it; the family its redemption started, if any, is revoked.
    Spent {
        /// The other server's id for the token, as in [`LegacyGrant::token_id`].
        token_id: String,
    },
    /// Not a token of the other server's, malformed, expired, or another client's.
    Invalid,
}

/// The name of the family the redemption of legacy token `token_id` starts: derived from
/// the id (hashed, so that no id's text reaches the store), the same on every node.
pub(crate) fn legacy_family_id(token_id: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token_id.as_bytes());
    let mut name = String::with_capacity(7 + 32);
    name.push_str("legacy-");
    for byte in &digest.as_ref()[..16] {
        name.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        name.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    name
}

/// Redeems, once, a refresh token issued by the server this issuer replaces.
///
/// [`redeem`](Self::redeem) is asked for every refresh token that is not the issuer's own
/// (the grant passes the authenticated client's id). It answers:
/// - `Ok(LegacyRedemption::Granted(grant))` once, having spent the token in the other
///   server's storage, so that no replay (here or there) redeems it again;
/// - `Ok(LegacyRedemption::Spent { token_id })` for a genuine token already spent or
///   revoked: the grant answers `invalid_grant` and revokes the family that token's
///   redemption started (reuse);
/// - `Ok(LegacyRedemption::Invalid)` for a token it does not know, that is malformed or
///   expired, or that was issued to another client: `invalid_grant`;
/// - `Err` when its storage fails: 503.
///
/// CPU-heavy decryption belongs off the executor (`spawn_blocking`).
///
/// ```
/// use tower_passport::BackendError;
/// use tower_passport_issuer::{LegacyGrant, LegacyRedemption, LegacyRefreshTokens};
///
/// /// One token, for user 7 of the client "mobile", redeemable once.
/// struct OneToken(std::sync::Mutex<bool>);
///
/// impl LegacyRefreshTokens for OneToken {
///     async fn redeem(&self, token: &str, client_id: &str) -> Result<LegacyRedemption, BackendError> {
///         let mut spent = self.0.lock().map_err(|_| BackendError::msg("poisoned"))?;
///         if token != "def50200abc" || client_id != "mobile" {
///             return Ok(LegacyRedemption::Invalid);
///         }
///         if *spent {
///             return Ok(LegacyRedemption::Spent { token_id: "rt-1".into() });
///         }
///         *spent = true;
///         Ok(LegacyRedemption::Granted(LegacyGrant::new("rt-1", "mobile", "7", vec!["read".into()])))
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
    ) -> impl Future<Output = Result<LegacyRedemption, BackendError>> + Send;
}

impl<T: LegacyRefreshTokens> LegacyRefreshTokens for Arc<T> {
    fn redeem(
        &self,
        token: &str,
        client_id: &str,
    ) -> impl Future<Output = Result<LegacyRedemption, BackendError>> + Send {
        (**self).redeem(token, client_id)
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// [`LegacyRefreshTokens`], object-safe, as the issuer holds it.
pub(crate) trait ErasedLegacy: Send + Sync + 'static {
    fn redeem<'a>(&'a self, token: &'a str, client_id: &'a str) -> BoxFuture<'a, LegacyRedemption>;
}

impl<T: LegacyRefreshTokens> ErasedLegacy for T {
    fn redeem<'a>(&'a self, token: &'a str, client_id: &'a str) -> BoxFuture<'a, LegacyRedemption> {
        Box::pin(LegacyRefreshTokens::redeem(self, token, client_id))
    }
}

pub(crate) type BoxedLegacy = Arc<dyn ErasedLegacy>;
