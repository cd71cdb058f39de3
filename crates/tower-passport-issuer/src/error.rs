use std::borrow::Cow;
use std::error::Error;
use std::fmt;

use http::StatusCode;

use crate::store::StoreError;
use tower_passport::error::ConfigError;

/// An RFC 6749 §5.2 or §4.1.2.1 error code (plus RFC 7009's `unsupported_token_type` and
/// the OpenID Connect `login_required` and `consent_required` of `prompt=none`, and RFC 8628's
/// polling answers).
///
/// ```
/// use tower_passport_issuer::OAuthErrorCode;
/// assert_eq!(OAuthErrorCode::InvalidGrant.as_str(), "invalid_grant");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// A parameter is missing, repeated or malformed.
    InvalidRequest,
    /// Client authentication failed (401).
    InvalidClient,
    /// The grant (refresh token, credentials) is invalid, expired or revoked.
    InvalidGrant,
    /// The client may not use this grant, or act on this token.
    UnauthorizedClient,
    /// The grant type is not supported (or not enabled).
    UnsupportedGrantType,
    /// A requested scope is unknown, not allowed, or wider than the original grant.
    InvalidScope,
    /// RFC 7009: the token type cannot be revoked.
    UnsupportedTokenType,
    /// An internal failure (500).
    ServerError,
    /// A store is unavailable (503).
    TemporarilyUnavailable,
    /// The user (or the server) denied the authorization request.
    AccessDenied,
    /// The authorization endpoint does not serve this `response_type` (only `code`).
    UnsupportedResponseType,
    /// `prompt=none`, and nobody is signed in.
    LoginRequired,
    /// `prompt=none`, and the user has not approved this client for these scopes.
    ConsentRequired,
    /// RFC 8628 §3.5: the user has not yet decided on the device's request; poll again.
    AuthorizationPending,
    /// RFC 8628 §3.5: the device polled too soon; its interval grew by five seconds.
    SlowDown,
    /// RFC 8628 §3.5: the device code expired; start again.
    ExpiredToken,
    /// RFC 9449 §5: the token request's `DPoP` proof is missing where required, repeated,
    /// or fails its checks.
    InvalidDpopProof,
    /// RFC 9449 §8: the token request's `DPoP` proof must carry the server's nonce, sent
    /// with this answer in the `DPoP-Nonce` header.
    UseDpopNonce,
    /// RFC 8707: a requested `resource` is malformed, unknown to the issuer, not allowed
    /// to the client, or outside the original grant.
    InvalidTarget,
}

impl OAuthErrorCode {
    /// The wire value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::ExpiredToken => "expired_token",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::InvalidTarget => "invalid_target",
        }
    }
}

/// An OAuth error answer: a code, a description that never contains a secret, and the
/// HTTP status RFC 6749 gives it.
///
/// ```
/// use tower_passport_issuer::{OAuthError, OAuthErrorCode};
/// let error = OAuthError::new(OAuthErrorCode::InvalidClient, "Client authentication failed");
/// assert_eq!(error.status(), 401);
/// assert_eq!(error.to_json(), r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthError {
    code: OAuthErrorCode,
    description: Cow<'static, str>,
    /// A status other than the code's own (413 for an oversized body).
    status: Option<StatusCode>,
    /// `Retry-After`, in seconds.
    retry_after: Option<u64>,
}

impl OAuthError {
    /// An error with this code and description. The description is kept within RFC 6749
    /// §5.2's character set (printable ASCII without `"` and `\`): a `"` becomes `'`, and
    /// any other character outside it becomes `?`.
    ///
    /// ```
    /// use tower_passport_issuer::{OAuthError, OAuthErrorCode};
    /// let error = OAuthError::new(OAuthErrorCode::InvalidRequest, "Expected {\"name\": …}");
    /// assert_eq!(error.description(), "Expected {'name': ?}");
    /// ```
    pub fn new(code: OAuthErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self { code, description: rfc6749_description(description.into()), status: None, retry_after: None }
    }

    /// 503 `temporarily_unavailable`: the server is saturated, not broken.
    pub(crate) fn busy(description: &'static str) -> Self {
        Self::new(OAuthErrorCode::TemporarilyUnavailable, description)
    }

    /// 429 `temporarily_unavailable`: an [`AuthLimiter`](super::AuthLimiter) refused the
    /// attempt; the endpoint adds `Retry-After`.
    pub(crate) fn rate_limited(retry_after: std::time::Duration) -> Self {
        Self {
            status: Some(StatusCode::TOO_MANY_REQUESTS),
            retry_after: Some(retry_after.as_secs().max(1)),
            ..Self::new(OAuthErrorCode::TemporarilyUnavailable, "Too many failed attempts; try again later")
        }
    }

    /// Seconds after which a refused request may be retried (`Retry-After`).
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// 413: the request body is larger than the endpoint reads (`invalid_request`).
    pub(crate) fn payload_too_large() -> Self {
        Self {
            status: Some(StatusCode::PAYLOAD_TOO_LARGE),
            ..Self::invalid_request("The request body is too large")
        }
    }

    /// The error code.
    pub fn code(&self) -> OAuthErrorCode {
        self.code
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The HTTP status: 401 for `invalid_client`, 500 and 503 for server errors, else 400.
    pub fn status(&self) -> StatusCode {
        if let Some(status) = self.status {
            return status;
        }
        match self.code {
            OAuthErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
            OAuthErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            OAuthErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The JSON body, `{"error": …, "error_description": …}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": self.code.as_str(), "error_description": self.description }).to_string()
    }

    pub(crate) fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(OAuthErrorCode::InvalidRequest, description)
    }

    pub(crate) fn invalid_client() -> Self {
        Self::new(OAuthErrorCode::InvalidClient, "Client authentication failed")
    }

    pub(crate) fn invalid_grant(description: &'static str) -> Self {
        Self::new(OAuthErrorCode::InvalidGrant, description)
    }

    pub(crate) fn invalid_target(description: &'static str) -> Self {
        Self::new(OAuthErrorCode::InvalidTarget, description)
    }

    pub(crate) fn invalid_scope() -> Self {
        Self::new(OAuthErrorCode::InvalidScope, "The requested scope is invalid, unknown, or not allowed")
    }

    pub(crate) fn unauthorized_client(description: &'static str) -> Self {
        Self::new(OAuthErrorCode::UnauthorizedClient, description)
    }

    pub(crate) fn unsupported_grant_type() -> Self {
        Self::new(OAuthErrorCode::UnsupportedGrantType, "The grant type is not supported")
    }
}

/// RFC 6749 §5.2: `error_description` is `%x20-21 / %x23-5B / %x5D-7E`.
fn rfc6749_description(description: Cow<'static, str>) -> Cow<'static, str> {
    let allowed = |c: char| matches!(c, '\u{20}'..='\u{21}' | '\u{23}'..='\u{5B}' | '\u{5D}'..='\u{7E}');
    if description.chars().all(allowed) {
        return description;
    }
    Cow::Owned(
        description
            .chars()
            .map(|c| match c {
                '"' => '\'',
                c if allowed(c) => c,
                _ => '?',
            })
            .collect(),
    )
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl Error for OAuthError {}

impl From<StoreError> for OAuthError {
    fn from(error: StoreError) -> Self {
        tracing::warn!(%error, "store failure while issuing");
        Self::new(OAuthErrorCode::TemporarilyUnavailable, "The authorization server cannot answer right now")
    }
}

impl From<tower_passport::error::BackendError> for OAuthError {
    fn from(error: tower_passport::error::BackendError) -> Self {
        tracing::warn!(%error, "backend failure while issuing");
        Self::new(OAuthErrorCode::TemporarilyUnavailable, "The authorization server cannot answer right now")
    }
}

/// What an application or administrative call (registering and updating clients, personal
/// access tokens, signing keys, purge) can fail with.
///
/// A [kind](IssuerErrorKind) to match on, a message that never contains a secret, and the cause
/// ([`Error::source`]).
///
/// ```
/// use std::sync::Arc;
/// use tower_passport_issuer::{ClientRegistration, Issuer, IssuerErrorKind};
/// use tower_passport_issuer::store::MemoryStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let short = ClientRegistration::confidential("Billing").secret("too short");
/// let error = issuer.register_client(short).await.unwrap_err();
/// assert_eq!(error.kind(), IssuerErrorKind::Invalid);
/// assert_eq!(error.to_string(), "a client secret must be at least 32 characters");
/// # Ok(())
/// # }
/// ```
pub struct IssuerError {
    kind: IssuerErrorKind,
    message: Cow<'static, str>,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

/// What an [`IssuerError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IssuerErrorKind {
    /// The input was refused; the message says why.
    Invalid,
    /// What the call needs does not exist (the store holds no signing key).
    NotFound,
    /// What the call would create collides with what exists (a client id in use, or a
    /// user's id).
    Conflict,
    /// The issuer is not configured for the call (a call made before the one it needs, a
    /// feature not enabled).
    Config,
    /// The store failed, or holds a record that cannot be read; the source says how.
    Store,
    /// Signing or the random source failed.
    Crypto,
    /// The issuer's own state is broken (a lock poisoned by a panic).
    Internal,
}

impl IssuerError {
    /// An error of `kind` saying `message`.
    pub(crate) fn new(kind: IssuerErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self { kind, message: message.into(), source: None }
    }

    /// The input was refused: `message` says why.
    pub(crate) fn invalid(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(IssuerErrorKind::Invalid, message)
    }

    /// Signing or the random source failed.
    pub(crate) fn crypto() -> Self {
        Self::new(IssuerErrorKind::Crypto, "signing or random generation failed")
    }

    /// Keeps `source` as the cause.
    pub(crate) fn with_source(mut self, source: impl Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What the error is about.
    pub fn kind(&self) -> IssuerErrorKind {
        self.kind
    }
}

impl fmt::Debug for IssuerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("IssuerError");
        debug.field("kind", &self.kind).field("message", &self.message);
        if let Some(source) = &self.source {
            debug.field("source", &source.to_string());
        }
        debug.finish()
    }
}

impl fmt::Display for IssuerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for IssuerError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn Error + 'static))
    }
}

impl From<StoreError> for IssuerError {
    fn from(error: StoreError) -> Self {
        Self::new(IssuerErrorKind::Store, error.to_string()).with_source(error)
    }
}

/// A backend failure (the revocation side's store roles answer these): kind `Store`.
impl From<tower_passport::error::BackendError> for IssuerError {
    fn from(error: tower_passport::error::BackendError) -> Self {
        Self::new(IssuerErrorKind::Store, error.to_string()).with_source(error)
    }
}

impl From<ConfigError> for IssuerError {
    fn from(error: ConfigError) -> Self {
        Self::new(IssuerErrorKind::Config, error.to_string()).with_source(error)
    }
}

/// An OAuth refusal met inside an application call: its kind by the code, and the OAuth
/// error kept as the source, so that an endpoint answers it unchanged.
impl From<OAuthError> for IssuerError {
    fn from(error: OAuthError) -> Self {
        let kind = match error.code {
            OAuthErrorCode::TemporarilyUnavailable => IssuerErrorKind::Store,
            OAuthErrorCode::ServerError => IssuerErrorKind::Internal,
            OAuthErrorCode::UnauthorizedClient | OAuthErrorCode::UnsupportedGrantType => {
                IssuerErrorKind::Config
            }
            _ => IssuerErrorKind::Invalid,
        };
        // `code: description`, which says what the source says: one sentence, not two.
        Self::new(kind, error.to_string()).with_source(error)
    }
}

impl From<IssuerError> for OAuthError {
    fn from(error: IssuerError) -> Self {
        if let Some(oauth) = error.source.as_deref().and_then(|source| source.downcast_ref::<OAuthError>()) {
            return oauth.clone();
        }
        match error.kind {
            IssuerErrorKind::Store => {
                tracing::warn!(%error, "store failure while issuing");
                Self::new(
                    OAuthErrorCode::TemporarilyUnavailable,
                    "The authorization server cannot answer right now",
                )
            }
            IssuerErrorKind::Crypto => {
                Self::new(OAuthErrorCode::ServerError, "The token could not be signed")
            }
            IssuerErrorKind::Internal => {
                tracing::error!(%error, "issuer failure");
                Self::new(OAuthErrorCode::ServerError, "The authorization server failed")
            }
            _ => OAuthError::invalid_request(error.message),
        }
    }
}

pub(super) fn crypto<T>(_: T) -> IssuerError {
    IssuerError::crypto()
}
