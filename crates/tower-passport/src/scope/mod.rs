//! Passport's route checks as tower layers: all-of scopes, any-of scopes, client-only and
//! user-only.
//!
//! They read what the guard left in the request extensions, so they work with any user
//! type and must sit *behind* a [`GuardLayer`](crate::GuardLayer). Without one they
//! answer 500 and say so: a missing guard is a server bug, never a 401.
//!
//! A warm token (one the verifier cached) remembers the first four scope requirements it
//! passed, so a route's check of a token it let through before costs a few loads; a
//! token's scopes never change, so neither can the answer. Every other check reads the
//! token's scopes in full.
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_passport::RequireLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Infallible> {
//! // Forgot the guard: 500, with a message that says so.
//! let service = ServiceBuilder::new()
//!     .layer(RequireLayer::all_scopes(["admin"]))
//!     .service_fn(|_: Request<String>| async { Ok::<_, Infallible>(Response::new(http_body_util::Empty::<bytes::Bytes>::new())) });
//! let response = service.oneshot(Request::new(String::new())).await?;
//! assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
//! # Ok(())
//! # }
//! ```

pub mod future;
mod requirement;

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::error::{body_left_unread, AuthError, ResponseConfig};
use crate::guard::GuardContext;

use future::ResponseFuture;
pub(crate) use requirement::Requirement;

/// Adds a [`Require`] check to a route: Passport's `scopes` / `scope` middleware, or a
/// client-only or user-only rule.
///
/// ```
/// use tower_passport::RequireLayer;
/// let _all = RequireLayer::all_scopes(["check-status", "place-orders"]); // Passport `scopes:`
/// let _any = RequireLayer::any_scope(["check-status", "place-orders"]); // Passport `scope:`
/// let _m2m = RequireLayer::client_only();
/// let _human = RequireLayer::user_only();
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct RequireLayer {
    requirement: Arc<Requirement>,
}

impl RequireLayer {
    /// The token must grant every one of `scopes` (`*` grants all). Missing any → 403
    /// `insufficient_scope` with `scope="<all of them>"`.
    pub fn all_scopes<I>(scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Self { requirement: Arc::new(Requirement::scopes(scopes, true)) }
    }

    /// The token must grant at least one of `scopes` (`*` grants all). None → 403
    /// `insufficient_scope` listing the alternatives. An empty list is never satisfied.
    pub fn any_scope<I>(scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Self { requirement: Arc::new(Requirement::scopes(scopes, false)) }
    }

    /// The token must be a client-credentials token (no user). A user token → 403.
    pub fn client_only() -> Self {
        Self { requirement: Arc::new(Requirement::ClientOnly) }
    }

    /// The token must be a user token. A client-credentials token → 403.
    pub fn user_only() -> Self {
        Self { requirement: Arc::new(Requirement::UserOnly) }
    }

    /// The request must carry an access token (bearer or DPoP-bound): the first-party cookie
    /// ([`GuardBuilder::first_party_cookie`](crate::guard::GuardBuilder::first_party_cookie)),
    /// which carries every scope, is refused here with 403
    /// ([`Reason::BearerTokenRequired`](crate::error::Reason::BearerTokenRequired)). For
    /// routes the app's own pages should not reach, such as token management.
    ///
    /// ```
    /// use tower_passport::RequireLayer;
    /// let _tokens_only = RequireLayer::bearer_token();
    /// ```
    pub fn bearer_token() -> Self {
        Self { requirement: Arc::new(Requirement::BearerOnly) }
    }
}

impl<S> Layer<S> for RequireLayer {
    type Service = Require<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Require { inner, requirement: self.requirement.clone() }
    }
}

/// The service of a [`RequireLayer`].
#[derive(Clone, Debug)]
pub struct Require<S> {
    inner: S,
    requirement: Arc<Requirement>,
}

impl<S> Require<S> {
    inner_service_accessors! {
        /// ```
        /// use tower::Layer;
        /// use tower_passport::RequireLayer;
        /// let mut require = RequireLayer::client_only().layer(41_u32);
        /// assert_eq!(*require.get_ref(), 41);
        /// *require.get_mut() += 1;
        /// assert_eq!(require.into_inner(), 42);
        /// ```
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Require<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // The request is only read: it goes on whole, without being taken apart.
        let verdict = match GuardContext::of(request.extensions()) {
            None => Err((AuthError::missing_guard(), Arc::new(ResponseConfig::default()))),
            Some(context) => match context.token {
                None => Err(AuthError::missing_token()),
                Some(token) => self.requirement.check(token),
            }
            .map_err(|error| (error, context.responses.clone())),
        };
        match verdict {
            Ok(()) => ResponseFuture::inner(self.inner.call(request)),
            Err((error, responses)) => {
                let close = body_left_unread(request.version(), request.headers());
                ResponseFuture::rejected(error, responses, close)
            }
        }
    }
}

/// What the guard left, and the request's method, URI and (mutable) headers, for the
/// check of a layer behind the guard.
#[cfg_attr(not(feature = "gateway"), allow(dead_code))] // the policy table reads the method and URI
pub(crate) struct Guarded<'a> {
    pub(crate) method: &'a http::Method,
    pub(crate) uri: &'a http::Uri,
    pub(crate) headers: &'a mut http::HeaderMap,
}

/// The `call` of every layer behind the guard (the scope checks, the policy table, the
/// header rules): `check` sees the guard's context and the request; `Ok` calls `inner`, an
/// error is rendered as the guard would. No guard in front: 500, a server bug.
pub(crate) fn call_behind_guard<S, ReqBody, ResBody>(
    inner: &mut S,
    request: Request<ReqBody>,
    check: impl FnOnce(Guarded<'_>, &GuardContext<'_>) -> Result<(), AuthError>,
) -> ResponseFuture<S::Future>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    let (mut parts, body) = request.into_parts();
    let verdict = match GuardContext::of(&parts.extensions) {
        None => Err((AuthError::missing_guard(), Arc::new(ResponseConfig::default()))),
        Some(context) => {
            let guarded = Guarded { method: &parts.method, uri: &parts.uri, headers: &mut parts.headers };
            check(guarded, &context).map_err(|error| (error, context.responses.clone()))
        }
    };
    match verdict {
        Ok(()) => ResponseFuture::inner(inner.call(Request::from_parts(parts, body))),
        Err((error, responses)) => {
            let close = body_left_unread(parts.version, &parts.headers);
            ResponseFuture::rejected(error, responses, close)
        }
    }
}
