use std::future::Future;
use std::sync::Arc;

use crate::error::BackendError;
use crate::revocation::Hub;
use crate::token::VerifiedToken;

/// What the resolver knows of the client a token was issued to.
///
/// ```
/// use tower_passport::guard::ClientStatus;
/// assert_ne!(ClientStatus::Active, ClientStatus::Revoked);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientStatus {
    /// The client exists and may use its tokens.
    Active,
    /// The client was revoked: its tokens are refused.
    Revoked,
    /// No such client: its tokens are refused.
    Unknown,
}

/// Resolves the user behind a user token and checks the client behind every token.
///
/// It is asynchronous, its answers are cached by the guard, and it is implemented for
/// closures `Fn(VerifiedToken) -> impl Future<Output = Result<Option<U>, BackendError>>`.
///
/// - `Ok(Some(user))`: the user exists.
/// - `Ok(None)`: unknown user, answered 401 `invalid_token`.
/// - `Err(_)`: the store failed, answered 503 with no challenge.
///
/// A client-credentials token never reaches [`resolve_user`](Self::resolve_user).
///
/// ```
/// use tower_passport::{BackendError, guard::ClientStatus, ResolvePrincipal, VerifiedToken};
///
/// #[derive(Clone)]
/// struct User { id: u64, name: String }
///
/// struct Users;
///
/// impl ResolvePrincipal for Users {
///     type User = User;
///
///     async fn resolve_user(&self, token: &VerifiedToken) -> Result<Option<User>, BackendError> {
///         Ok(match token.subject() {
///             Some("1") => Some(User { id: 1, name: "Taylor".into() }),
///             _ => None,
///         })
///     }
///
///     async fn client_status(&self, client_id: &str) -> Result<ClientStatus, BackendError> {
///         Ok(if client_id == "revoked-app" { ClientStatus::Revoked } else { ClientStatus::Active })
///     }
/// }
///
/// // Or a closure:
/// let by_closure = |token: VerifiedToken| async move {
///     Ok::<_, BackendError>(token.subject().map(str::to_owned))
/// };
/// # fn is_resolver<R: ResolvePrincipal>(_: &R) {}
/// # is_resolver(&by_closure);
/// ```
pub trait ResolvePrincipal: Send + Sync + 'static {
    /// The resolved user type, put into [`Principal<U>`](crate::Principal).
    type User: Clone + Send + Sync + 'static;

    /// The user behind a user token.
    fn resolve_user(
        &self,
        token: &VerifiedToken,
    ) -> impl Future<Output = Result<Option<Self::User>, BackendError>> + Send;

    /// Whether the client `client_id` still exists and is not revoked. Every client is
    /// active unless overridden.
    fn client_status(
        &self,
        client_id: &str,
    ) -> impl Future<Output = Result<ClientStatus, BackendError>> + Send {
        let _ = client_id;
        std::future::ready(Ok(ClientStatus::Active))
    }

    /// The answer [`resolve_user`](Self::resolve_user) would give, when it is at hand
    /// without waiting; `None` (the default) to wait for `resolve_user`. The guard asks this
    /// first (after its own resolver cache), so a request whose every answer is at hand is
    /// authorized without a boxed future. It must agree with `resolve_user`.
    fn resolve_user_now(&self, token: &VerifiedToken) -> Option<Result<Option<Self::User>, BackendError>> {
        let _ = token;
        None
    }

    /// The answer [`client_status`](Self::client_status) would give, when it is at hand
    /// without waiting; `None` (the default) to wait for `client_status`. It must agree with
    /// `client_status`.
    fn client_status_now(&self, client_id: &str) -> Option<Result<ClientStatus, BackendError>> {
        let _ = client_id;
        None
    }

    /// The revocation [`Hub`] of the node whose client revocations this resolver's cached
    /// answers must follow, if any (the issuer's, for `Issuer::resolver`): the guard
    /// registers its caches there at `build()`. The default is none.
    fn hub(&self) -> Option<Hub> {
        None
    }
}

/// The default resolver: the token alone is the principal. Every user exists (as `()`)
/// and every client is active.
///
/// ```
/// # use tower_passport::guard::TokenOnly;
/// let _resolver = TokenOnly;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TokenOnly;

impl ResolvePrincipal for TokenOnly {
    type User = ();

    fn resolve_user(
        &self,
        _token: &VerifiedToken,
    ) -> impl Future<Output = Result<Option<()>, BackendError>> + Send {
        std::future::ready(Ok(Some(())))
    }

    #[inline]
    fn resolve_user_now(&self, _token: &VerifiedToken) -> Option<Result<Option<()>, BackendError>> {
        Some(Ok(Some(())))
    }

    #[inline]
    fn client_status_now(&self, _client_id: &str) -> Option<Result<ClientStatus, BackendError>> {
        Some(Ok(ClientStatus::Active))
    }
}

impl<F, Fut, U> ResolvePrincipal for F
where
    F: Fn(VerifiedToken) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<U>, BackendError>> + Send,
    U: Clone + Send + Sync + 'static,
{
    type User = U;

    fn resolve_user(
        &self,
        token: &VerifiedToken,
    ) -> impl Future<Output = Result<Option<U>, BackendError>> + Send {
        self(token.clone())
    }

    /// A closure resolver never overrides `client_status`: every client is active.
    #[inline]
    fn client_status_now(&self, _client_id: &str) -> Option<Result<ClientStatus, BackendError>> {
        Some(Ok(ClientStatus::Active))
    }
}

impl<R: ResolvePrincipal> ResolvePrincipal for Arc<R> {
    type User = R::User;

    fn resolve_user(
        &self,
        token: &VerifiedToken,
    ) -> impl Future<Output = Result<Option<Self::User>, BackendError>> + Send {
        (**self).resolve_user(token)
    }

    fn client_status(
        &self,
        client_id: &str,
    ) -> impl Future<Output = Result<ClientStatus, BackendError>> + Send {
        (**self).client_status(client_id)
    }

    #[inline]
    fn resolve_user_now(&self, token: &VerifiedToken) -> Option<Result<Option<Self::User>, BackendError>> {
        (**self).resolve_user_now(token)
    }

    #[inline]
    fn client_status_now(&self, client_id: &str) -> Option<Result<ClientStatus, BackendError>> {
        (**self).client_status_now(client_id)
    }

    fn hub(&self) -> Option<Hub> {
        (**self).hub()
    }
}
