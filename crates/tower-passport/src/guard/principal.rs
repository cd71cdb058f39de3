use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::context::{default_responses, GuardContext};
use crate::error::ResponseConfig;
use crate::token::{PrincipalKind, Scopes, VerifiedToken};

/// Who is behind a request: the verified token and, for a user token, the resolved user.
///
/// The guard puts it in the request extensions. With the `axum` feature it is also an
/// extractor, and `Option<Principal<U>>` works behind an optional guard.
///
/// A client-credentials token yields a client principal: [`user`](Self::user) is `None`
/// and the resolver was not asked for a user.
///
/// ```
/// use tower_passport::{Principal, token::PrincipalKind};
///
/// fn describe(principal: &Principal<String>) -> String {
///     match principal.user() {
///         Some(name) => format!("{name} via {:?}", principal.client_id()),
///         None => format!("client {:?}", principal.client_id()),
///     }
/// }
/// ```
pub struct Principal<U = ()> {
    token: VerifiedToken,
    user: Option<U>,
    /// How the guard that admitted it renders rejections, for the layers behind it (which
    /// find it through [`GuardContext::of`]). Set when admitted.
    responses: Option<Arc<ResponseConfig>>,
}

impl<U> Principal<U> {
    pub(crate) fn new(token: VerifiedToken, user: Option<U>) -> Self {
        Self { token, user, responses: None }
    }

    /// The principal as admitted by a guard that renders rejections with `responses`.
    #[inline]
    pub(crate) fn admitted_under(mut self, responses: &Arc<ResponseConfig>) -> Self {
        self.responses = Some(responses.clone());
        self
    }

    /// What the layers behind the guard read of it, whatever `U`.
    pub(crate) fn context(&self) -> GuardContext<'_> {
        GuardContext {
            token: Some(&self.token),
            responses: self.responses.as_ref().unwrap_or_else(|| default_responses()),
            principal_type: std::any::type_name::<U>(),
        }
    }

    /// The verified token.
    pub fn token(&self) -> &VerifiedToken {
        &self.token
    }

    /// The resolved user; `None` for a client-credentials token.
    pub fn user(&self) -> Option<&U> {
        self.user.as_ref()
    }

    /// Consumes the principal, returning the resolved user.
    pub fn into_user(self) -> Option<U> {
        self.user
    }

    /// A user or a client principal.
    pub fn kind(&self) -> PrincipalKind {
        self.token.kind()
    }

    /// How the request authenticated: a bearer token, or the first-party cookie
    /// (whose principal holds every scope).
    pub fn credential(&self) -> crate::token::Credential {
        self.token.credential()
    }

    /// Whether this is a client-credentials principal (no user).
    pub fn is_client(&self) -> bool {
        self.kind() == PrincipalKind::Client
    }

    /// `sub`: the user id, or the client id for a client-credentials token.
    pub fn subject(&self) -> Option<&str> {
        self.token.subject()
    }

    /// The client the token was issued to.
    pub fn client_id(&self) -> Option<&str> {
        self.token.client_id()
    }

    /// The granted scopes.
    pub fn scopes(&self) -> &Scopes {
        self.token.scopes()
    }

    /// `jti`.
    pub fn jti(&self) -> Option<&str> {
        self.token.jti()
    }

    /// `exp`, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> u64 {
        self.token.expires_at()
    }

    /// `iss`.
    pub fn issuer(&self) -> &str {
        self.token.issuer()
    }

    /// The whole claims object as JSON text.
    pub fn raw_claims(&self) -> &str {
        self.token.raw_claims()
    }

    /// The claims deserialized into `T`, for custom checks.
    ///
    /// # Errors
    /// When the claims do not fit `T`.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        self.token.claims()
    }

    /// Passport's `tokenCan`: whether the token grants `scope` (`*` grants all).
    pub fn can(&self, scope: &str) -> bool {
        self.scopes().can(scope)
    }

    /// Whether the token grants every one of `scopes`.
    pub fn can_all<I>(&self, scopes: I) -> bool
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.scopes().can_all(scopes)
    }

    /// Whether the token grants at least one of `scopes`.
    pub fn can_any<I>(&self, scopes: I) -> bool
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.scopes().can_any(scopes)
    }
}

impl<U: Clone> Clone for Principal<U> {
    fn clone(&self) -> Self {
        Self { token: self.token.clone(), user: self.user.clone(), responses: self.responses.clone() }
    }
}

impl<U> fmt::Debug for Principal<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("token", &self.token)
            .field("user", &self.user.as_ref().map(|_| ".."))
            .finish()
    }
}
