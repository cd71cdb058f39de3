//! The authorization code role: codes kept as hashes, taken once, atomically.
//!
//! Part of the [`Store`](super::Store) umbrella: every built-in store implements it
//! (memory, SQLite, PostgreSQL, Redis and `tower_passport_cli::AnyStore`).
//!
//! Each store takes a code in one atomic step: the memory store under its lock, the SQL
//! stores in one write transaction that locks the code's row, Redis in one Lua script. A
//! code's record is kept a day past its expiry, so that a late second presentation is
//! still recognised as reuse (and revokes what the code issued).

use std::future::Future;
use std::sync::Arc;

use super::{SecretHash, StoreError};

/// How long a code's record is kept past its expiry, in seconds: a day.
pub const KEPT_AFTER_EXPIRY: u64 = 24 * 3600;

/// An authorization code as the store keeps it: the hash of the code (never the code),
/// what it is bound to, and what became of it.
///
/// ```
/// use tower_passport_issuer::store::{AuthorizationCodeRecord, SecretHash};
/// let code = AuthorizationCodeRecord {
///     hash: SecretHash::of(b"the code, which is not stored"),
///     client_id: "app".into(), user_id: "7".into(),
///     redirect_uri: Some("https://app.example.com/cb".into()),
///     scopes: vec!["read".into()], resources: vec!["https://api.example.com".into()],
///     code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()), nonce: None, dpop_jkt: None,
///     issued_at: 100, expires_at: 700, used_at: None, reused_at: None, issued: None,
/// };
/// assert!(!format!("{code:?}").contains("the code"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCodeRecord {
    /// The SHA-256 of the code: the key it is found by.
    pub hash: SecretHash,
    /// The client it was issued to.
    pub client_id: String,
    /// The user who approved it (the `sub` of the tokens it is exchanged for).
    pub user_id: String,
    /// The `redirect_uri` of the authorization request, which the token request must
    /// repeat; `None` when the request named none (the client's one registered URI was
    /// used).
    pub redirect_uri: Option<String>,
    /// The granted scopes.
    pub scopes: Vec<String>,
    /// The resources (RFC 8707) the authorization request asked for, as granted: the
    /// most its token request may ask for (empty on a record written before resource
    /// indicators: then whatever the client may obtain).
    pub resources: Vec<String>,
    /// The PKCE `S256` challenge, if the request sent one (RFC 7636).
    pub code_challenge: Option<String>,
    /// The `nonce` of the request, if any.
    pub nonce: Option<String>,
    /// The request's `dpop_jkt` (RFC 9449 §10), if any: the code is exchanged only with a
    /// DPoP proof of the key it names.
    pub dpop_jkt: Option<String>,
    /// Issue time, seconds since the Unix epoch.
    pub issued_at: u64,
    /// Expiry: the code cannot be exchanged from this second on.
    pub expires_at: u64,
    /// When the code was exchanged (taken), if it was.
    pub used_at: Option<u64>,
    /// When it was presented again after that, if it was.
    pub reused_at: Option<u64>,
    /// What its exchange issued, once the exchange recorded it.
    pub issued: Option<IssuedFromCode>,
}

/// What an exchange issued from a code: what a second presentation revokes.
///
/// ```
/// use tower_passport_issuer::store::IssuedFromCode;
/// let issued = IssuedFromCode { access_jti: "jti-1".into(), family_id: Some("family-1".into()) };
/// assert_eq!(issued.family_id.as_deref(), Some("family-1"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedFromCode {
    /// The access token's `jti`.
    pub access_jti: String,
    /// The refresh-token family, if the client got a refresh token.
    pub family_id: Option<String>,
}

/// What [`CodeStore::take_code`] found.
///
/// ```
/// use tower_passport_issuer::store::{CodeRedemption, CodeStore, MemoryStore, SecretHash};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let taken = MemoryStore::new().take_code(&SecretHash::of(b"never issued"), 0).await?;
/// assert_eq!(taken, CodeRedemption::Invalid);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeRedemption {
    /// The code was unused and unexpired; it is now marked used. The record is as stored,
    /// with `used_at` set.
    Fresh(AuthorizationCodeRecord),
    /// The code had been taken before: this presentation is a reuse, now recorded in
    /// `reused_at`. `issued` says what to revoke, if the first exchange got as far as
    /// recording it (if not, that exchange learns of the reuse from
    /// [`CodeStore::record_code_issue`] and revokes its tokens itself).
    Reused(AuthorizationCodeRecord),
    /// No such code, or it expired unused. Nothing changed.
    Invalid,
}

/// Authorization codes. Every method is atomic.
///
/// ```
/// use tower_passport_issuer::store::{AuthorizationCodeRecord, CodeRedemption, CodeStore, MemoryStore, SecretHash};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = MemoryStore::new();
/// let hash = SecretHash::of(b"the-code");
/// store.put_code(AuthorizationCodeRecord {
///     hash, client_id: "app".into(), user_id: "7".into(), redirect_uri: None,
///     scopes: vec!["read".into()], code_challenge: None, nonce: None, dpop_jkt: None,
///     issued_at: 100, expires_at: 700, used_at: None, reused_at: None, issued: None,
///     resources: Vec::new(),
/// }).await?;
/// assert!(matches!(store.take_code(&hash, 101).await?, CodeRedemption::Fresh(_)));
/// assert!(matches!(store.take_code(&hash, 102).await?, CodeRedemption::Reused(_)));
/// assert_eq!(store.take_code(&SecretHash::of(b"another"), 103).await?, CodeRedemption::Invalid);
/// # Ok(())
/// # }
/// ```
pub trait CodeStore: Send + Sync + 'static {
    /// Stores a new code. A code whose hash is already stored is a conflict.
    fn put_code(&self, code: AuthorizationCodeRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Takes the code with this hash, atomically: an unused code that has not expired at
    /// `now` is marked used and returned [`Fresh`](CodeRedemption::Fresh); a used one (even
    /// past its expiry, as long as the record is kept) has `reused_at` set if it was not
    /// and is returned [`Reused`](CodeRedemption::Reused). Of N concurrent takes of one
    /// code, exactly one is `Fresh`.
    fn take_code(
        &self,
        hash: &SecretHash,
        now: u64,
    ) -> impl Future<Output = Result<CodeRedemption, StoreError>> + Send;

    /// Records what the exchange of a taken code issued, and answers, in the same atomic
    /// step, whether the code has been presented again since it was taken (`reused_at`
    /// is set): then the exchange must revoke what it issued, since the presentation that
    /// saw the reuse may have come before there was anything to revoke. `false` for an
    /// unknown code.
    fn record_code_issue(
        &self,
        hash: &SecretHash,
        issued: IssuedFromCode,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The rule of [`CodeStore::take_code`], written once for every store.
///
/// What taking the stored `code` at `now` finds, with the record changed as the store must
/// write it back (`used_at` set on a fresh take, `reused_at` on the first reuse; nothing when
/// invalid).
pub fn take(code: &mut AuthorizationCodeRecord, now: u64) -> CodeRedemption {
    if code.used_at.is_some() {
        code.reused_at.get_or_insert(now);
        return CodeRedemption::Reused(code.clone());
    }
    if code.expires_at <= now {
        return CodeRedemption::Invalid;
    }
    code.used_at = Some(now);
    CodeRedemption::Fresh(code.clone())
}

impl<S: CodeStore> CodeStore for Arc<S> {
    fn put_code(&self, code: AuthorizationCodeRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put_code(code)
    }
    fn take_code(
        &self,
        hash: &SecretHash,
        now: u64,
    ) -> impl Future<Output = Result<CodeRedemption, StoreError>> + Send {
        (**self).take_code(hash, now)
    }
    fn record_code_issue(
        &self,
        hash: &SecretHash,
        issued: IssuedFromCode,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).record_code_issue(hash, issued)
    }
}
