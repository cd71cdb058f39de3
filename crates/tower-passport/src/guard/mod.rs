//! The guard: bearer extraction, verification, revocation and principal resolution.
//!
//! [`GuardLayer`] wraps a service in a [`Guard`]. For every request the guard
//! 1. reads the bearer token (`Authorization: Bearer …`, case-insensitive scheme,
//!    b64token charset, length cap; the `access_token` query parameter only if enabled);
//! 2. verifies it with the [`Verifier`](crate::Verifier) (or finds it in the verified-token
//!    cache); a token whose `kid` a remote key set does not know yet waits for the one
//!    bounded refetch it triggers, so a key rotation fails no request;
//! 3. asks the [`RevocationCheck`](crate::revocation::RevocationCheck);
//! 4. checks the client and resolves the user through the [`ResolvePrincipal`] resolver
//!    (cached; a resolver that does not answer within 5 s gets 503, see
//!    [`resolve_timeout`]);
//! 5. puts the [`Principal`] into the request extensions and calls the inner service.
//!
//! With [`GuardBuilder::first_party_cookie`], a request without a bearer token may
//! authenticate with the app's first-party cookie instead (steps 3 to 5 then apply to its
//! user); see [`crate::cookie`].
//!
//! Any failure is answered by the guard itself, as RFC 6750 prescribes.

mod authorize;
pub(crate) mod context;
mod dpop;
pub mod future;
mod layer;
#[cfg(feature = "introspection")]
mod opaque;
mod principal;
mod resolve;
pub mod resolve_timeout;

pub use context::GuardContext;
pub use layer::{GuardBuilder, GuardLayer, GuardMode, DEFAULT_RESOLVER_CACHE_TTL};
pub use principal::Principal;
pub use resolve::{ClientStatus, ResolvePrincipal, TokenOnly};
pub use resolve_timeout::DEFAULT_RESOLVE_TIMEOUT;

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::body::ResponseBody;
use crate::cookie;
use crate::error::AuthError;
use crate::keys::Miss;
use crate::token::{extract_credentials, Credentials, OtherScheme, VerifiedToken};

use authorize::Stage;

use dpop::Checked;
use future::ResponseFuture;
use layer::GuardConfig;

/// The guard service. Built by [`GuardLayer`]; see the [module docs](self).
///
/// It is generic over the request and response bodies and keeps the inner service's
/// error type: rejections are `Ok` responses, as axum requires. `U` is the user type of
/// the [`Principal<U>`] it puts into the request extensions.
pub struct Guard<S, U = ()> {
    inner: S,
    config: Arc<GuardConfig<U>>,
}

impl<S: Clone, U> Clone for Guard<S, U> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), config: self.config.clone() }
    }
}

impl<S: fmt::Debug, U> fmt::Debug for Guard<S, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard").field("inner", &self.inner).field("config", &self.config).finish()
    }
}

impl<S, U> Guard<S, U> {
    pub(crate) fn from_config(inner: S, config: Arc<GuardConfig<U>>) -> Self {
        Self { inner, config }
    }

    inner_service_accessors! {
        /// ```
        /// # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
        /// use tower::Layer;
        /// # fn main() -> Result<(), tower_passport::ConfigError> {
        /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
        /// #     .issuer("https://auth.example.com").audience("api").build()?;
        /// let mut guard = GuardLayer::new(verifier).layer(41_u32);
        /// assert_eq!(*guard.get_ref(), 41);
        /// *guard.get_mut() += 1;
        /// assert_eq!(guard.into_inner(), 42);
        /// # Ok(())
        /// # }
        /// ```
    }
}

impl<S, U, ReqBody, ResBody> Service<Request<ReqBody>> for Guard<S, U>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    U: Clone + Send + Sync + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, U>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let config = &self.config;
        let presented = match extract_credentials(request.headers(), request.uri(), &config.bearer) {
            Err(error) => return ResponseFuture::rejected(error, config.responses.clone(), &request),
            Ok(Credentials::Bearer(presented)) => {
                // One branch on the Bearer path when DPoP is off.
                if let Some(dpop) = &config.dpop {
                    if let Err(error) = dpop.admit_bearer(request.headers()) {
                        return ResponseFuture::rejected(error, config.responses.clone(), &request);
                    }
                }
                presented
            }
            Ok(Credentials::Other(authorization)) => {
                if let Some(checked) = self.check_dpop(authorization.as_ref(), &request) {
                    // A verified one is admitted from this frame, as a cached bearer token
                    // is below (the request is not moved into another first).
                    return match checked {
                        Ok(Checked::Verified(verified)) => match config.authorizer.authorize_now(verified) {
                            Ok(Ok(principal)) => {
                                future::admit(&mut request, principal, &self.config.responses);
                                ResponseFuture::calling(self.inner.call(request))
                            }
                            not_now => self.not_admitted_now::<true, ReqBody>(not_now, request),
                        },
                        other => self.answer_dpop(other, request),
                    };
                }
                let config = &self.config;
                // Not taken as DPoP: a folded `Bearer` credential the extraction left for
                // the DPoP path to look for is looked for now.
                if let Some(Err(error)) = authorization.as_ref().map(OtherScheme::check_folded) {
                    return ResponseFuture::rejected(error, config.responses.clone(), &request);
                }
                let from_cookie = match &config.cookie {
                    Some(cookie) => {
                        cookie::authenticate(cookie, request.method(), request.uri(), request.headers())
                    }
                    None => Ok(None),
                };
                return match from_cookie {
                    Err(error) => ResponseFuture::rejected(error, config.responses.clone(), &request),
                    Ok(Some(verified)) => self.authorize(verified, request),
                    Ok(None) if config.mode == GuardMode::Optional => {
                        request
                            .extensions_mut()
                            .insert(context::ContextEntry::new::<U>(None, config.responses.clone()));
                        ResponseFuture::calling(self.inner.call(request))
                    }
                    Ok(None) => {
                        let responses = config.responses.clone();
                        ResponseFuture::rejected(AuthError::missing_token(), responses, &request)
                    }
                };
            }
        };
        // A token verified before is answered from the cache, before its syntax is even
        // looked at: it passed every check then.
        if let Some(hit) = config.verifier.cached(presented.as_bytes()) {
            let verified = match hit {
                Ok(verified) => verified,
                Err(error) => return ResponseFuture::rejected(error, config.responses.clone(), &request),
            };
            // `authorize`, spelled out: the request goes to the inner service from this
            // frame, not moved into another first (one copy of it fewer on the warm path).
            return match config.authorizer.authorize_now(verified) {
                Ok(Ok(principal)) => {
                    future::admit(&mut request, principal, &self.config.responses);
                    ResponseFuture::calling(self.inner.call(request))
                }
                not_now => self.not_admitted_now::<false, ReqBody>(not_now, request),
            };
        }
        let token = match presented.into_token() {
            Ok(token) => token,
            Err(error) => return ResponseFuture::rejected(error, config.responses.clone(), &request),
        };
        #[cfg(feature = "introspection")]
        if let Some(opaque) = config.opaque.as_ref().filter(|opaque| opaque.takes(&token)) {
            // An answer cached before is used at once, with no allocation.
            return match opaque.introspector.cached(&token) {
                Some(Ok(verified)) => self.authorize(verified, request),
                Some(Err(error)) => ResponseFuture::rejected(error, config.responses.clone(), &request),
                None => {
                    let introspector = opaque.introspector.clone();
                    self.introspect(introspector, token.into_owned(), request)
                }
            };
        }
        match config.verifier.begin_cold(&token) {
            Ok(verified) => self.authorize(verified, request),
            Err(Miss::Refused(error)) => ResponseFuture::rejected(error, config.responses.clone(), &request),
            Err(Miss::Refetching(refetch)) => {
                // A new `kid`: wait for the refetch it triggered (bounded), then verify again.
                let (verifier, authorizer) = (config.verifier.clone(), config.authorizer.clone());
                let token = token.into_owned();
                let authorize = Box::pin(async move {
                    refetch.wait().await;
                    let verified = verifier.after_refetch(&token)?;
                    authorizer.authorize(verified, Stage::Revocation).await
                });
                self.authorizing(authorize, request)
            }
        }
    }
}

impl<S: Clone, U: Clone + Send + Sync + 'static> Guard<S, U> {
    /// Authorizes a verified token: at once when every answer is at hand (the inner
    /// service is called now, and nothing is boxed), else through the boxed future.
    #[inline(always)]
    fn authorize<ReqBody>(
        &mut self,
        verified: VerifiedToken,
        request: Request<ReqBody>,
    ) -> ResponseFuture<S, ReqBody, U>
    where
        S: Service<Request<ReqBody>>,
    {
        self.authorize_under::<false, ReqBody>(verified, request)
    }

    /// [`authorize`](Self::authorize); with `DPOP`, its errors answer under the `DPoP`
    /// challenge (decided at compile time: the `Bearer` path pays nothing for it).
    #[inline(always)]
    fn authorize_under<const DPOP: bool, ReqBody>(
        &mut self,
        verified: VerifiedToken,
        mut request: Request<ReqBody>,
    ) -> ResponseFuture<S, ReqBody, U>
    where
        S: Service<Request<ReqBody>>,
    {
        match self.config.authorizer.authorize_now(verified) {
            Ok(Ok(principal)) => {
                future::admit(&mut request, principal, &self.config.responses);
                ResponseFuture::calling(self.inner.call(request))
            }
            not_now => self.not_admitted_now::<DPOP, ReqBody>(not_now, request),
        }
    }

    /// What follows an [`authorize_now`](authorize::Authorize::authorize_now) that did not
    /// admit at once: its refusal, or the wait for the stage it could not answer.
    fn not_admitted_now<const DPOP: bool, ReqBody>(
        &mut self,
        not_now: Result<Result<Principal<U>, AuthError>, (VerifiedToken, Stage)>,
        request: Request<ReqBody>,
    ) -> ResponseFuture<S, ReqBody, U>
    where
        S: Service<Request<ReqBody>>,
    {
        match not_now {
            // Not passed by the two callers, which admit first; admitted the same way.
            Ok(Ok(principal)) => {
                let mut request = request;
                future::admit(&mut request, principal, &self.config.responses);
                ResponseFuture::calling(self.inner.call(request))
            }
            Ok(Err(error)) => {
                let error = if DPOP { error.under_dpop() } else { error };
                ResponseFuture::rejected(error, self.config.responses.clone(), &request)
            }
            Err((verified, stage)) => {
                let authorize = self.config.authorizer.clone().authorize(verified, stage);
                let authorize: authorize::AuthorizeFuture<U> = if DPOP {
                    Box::pin(async move { authorize.await.map_err(AuthError::under_dpop) })
                } else {
                    authorize
                };
                self.authorizing(authorize, request)
            }
        }
    }

    /// Authorizes an opaque token whose answer is not cached, after the introspection call
    /// (or the one in flight for it).
    #[cfg(feature = "introspection")]
    fn introspect<ReqBody>(
        &mut self,
        introspector: crate::introspection::Introspector,
        token: String,
        request: Request<ReqBody>,
    ) -> ResponseFuture<S, ReqBody, U>
    where
        S: Service<Request<ReqBody>>,
    {
        let authorizer = self.config.authorizer.clone();
        let authorize = Box::pin(async move {
            let verified = introspector.introspect(&token).await?;
            authorizer.authorize(verified, Stage::Revocation).await
        });
        self.authorizing(authorize, request)
    }

    /// Waits for `authorize`, then calls the inner service that was polled ready, leaving
    /// a fresh clone behind.
    fn authorizing<ReqBody>(
        &mut self,
        authorize: authorize::AuthorizeFuture<U>,
        request: Request<ReqBody>,
    ) -> ResponseFuture<S, ReqBody, U>
    where
        S: Service<Request<ReqBody>>,
    {
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::authorizing(authorize, inner, request, self.config.responses.clone())
    }
}
