//! The guard: bearer extraction, verification, revocation and principal resolution.
//!
//! [`GuardLayer`] wraps a service in a [`Guard`]. For every request the guard
//! 1. reads the bearer token (`Authorization: Bearer …`, case-insensitive scheme,
//!    b64token charset, length cap; the `access_token` query parameter only if enabled);
//! 2. verifies it with the [`Verifier`](crate::Verifier) (or finds it in the verified-token
//!    cache);
//! 3. asks the [`RevocationCheck`];
//! 4. checks the client and resolves the user through the [`ResolvePrincipal`] resolver
//!    (cached);
//! 5. puts the [`Principal`] into the request extensions and calls the inner service.
//!
//! Any failure is answered by the guard itself, as RFC 6750 prescribes.

mod authorize;
mod context;
pub mod future;
mod layer;
mod principal;
mod resolve;

pub use crate::token::PrincipalKind;
pub(crate) use context::GuardContext;
pub use layer::{GuardBuilder, GuardLayer, GuardMode};
pub use principal::Principal;
pub use resolve::{ClientStatus, ResolvePrincipal, TokenOnly};

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::body::ResponseBody;
use crate::error::AuthError;
use crate::token::extract_bearer;
use crate::verify::{NoRevocation, RevocationCheck};

use future::ResponseFuture;
use layer::GuardConfig;

/// The guard service. Built by [`GuardLayer`]; see the [module docs](self).
///
/// It is generic over the request and response bodies and keeps the inner service's
/// error type: rejections are `Ok` responses, as axum requires.
pub struct Guard<S, R: ResolvePrincipal = TokenOnly, C = NoRevocation> {
    inner: S,
    config: Arc<GuardConfig<R, C>>,
}

impl<S: Clone, R: ResolvePrincipal, C> Clone for Guard<S, R, C> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), config: self.config.clone() }
    }
}

impl<S, R: ResolvePrincipal, C> Guard<S, R, C> {
    pub(crate) fn from_config(inner: S, config: Arc<GuardConfig<R, C>>) -> Self {
        Self { inner, config }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, R, C, ReqBody, ResBody> Service<Request<ReqBody>> for Guard<S, R, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    R: ResolvePrincipal,
    C: RevocationCheck,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, R::User>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let config = &self.config;
        let verified = match extract_bearer(request.headers(), request.uri(), &config.bearer) {
            Err(error) => Err(error),
            Ok(None) if config.mode == GuardMode::Optional => {
                request
                    .extensions_mut()
                    .insert(GuardContext { token: None, responses: config.responses.clone() });
                return ResponseFuture::calling(self.inner.call(request));
            }
            Ok(None) => Err(AuthError::missing_token()),
            Ok(Some(token)) => config.verifier.verify(&token),
        };
        match verified {
            Err(error) => ResponseFuture::rejected(error, config.responses.clone()),
            Ok(token) => {
                let authorize = Box::pin(config.authorizer.clone().authorize(token));
                // Keep the service that was polled ready; leave a fresh clone behind.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::authorizing(authorize, inner, request, config.responses.clone())
            }
        }
    }
}
