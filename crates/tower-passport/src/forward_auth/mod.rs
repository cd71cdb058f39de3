//! A forward-auth service for the gateways people already run: nginx `auth_request`,
//! Traefik `ForwardAuth` and Envoy's HTTP `ext_authz`. Feature `gateway`.
//!
//! The proxy asks this service about each request before it forwards it; the answer is
//! the guard's, the [policy table](crate::policy)'s and the
//! [header rules](crate::upstream_headers)':
//! - **2xx allows.** The answer carries the header rules' headers (the subject, client id,
//!   scopes, kind and named claims; each one present, empty when the principal has no value
//!   for it) for the proxy to copy onto the upstream request: nginx's `auth_request_set`,
//!   Traefik's `authResponseHeaders`, Envoy's `allowed_upstream_headers`.
//! - **401 and 403 deny**, with the guard's RFC 6750 challenge in `WWW-Authenticate` and its
//!   JSON body, for the proxy to pass to the client.
//! - **400** for a path not in normal form, an original URI that does not parse, or an
//!   original method or URI header sent more than once, **503**
//!   when the guard cannot decide (nginx turns anything but 2xx, 401 and 403 into a 500),
//!   **500** when the sub-request does not say which request it is about (the proxy is
//!   misconfigured).
//!
//! Only the original request's method and URI differ between the protocols
//! ([`OriginalRequest`]): nginx sends them in headers the operator names
//! (`X-Original-Method`, `X-Original-URI`), Traefik in `X-Forwarded-Method` and
//! `X-Forwarded-Uri`, and Envoy sends the original method and path themselves. The client's
//! own headers (`Authorization` among them) come along in all three.
//!
//! ```
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//! use tower_passport::forward_auth::{ForwardAuth, OriginalRequest};
//! use tower_passport::policy::PolicyTable;
//! use tower_passport::upstream_headers::HeaderRules;
//! # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
//! # let verifier = Verifier::builder(keys).issuer("https://auth.example.com").audience("api").build()?;
//! let table = PolicyTable::from_toml(
//!     "[[route]]\npath = \"/health\"\ncheck = \"public\"\n\n[[route]]\npath = \"/orders\"\ncheck = \"token\"\n",
//!     "policy.toml",
//! )?;
//! let rules = HeaderRules::builder().subject("x-user-id").build()?;
//! let auth = ForwardAuth::new(GuardLayer::builder(verifier).optional().build()?, table, rules, OriginalRequest::nginx());
//!
//! // nginx asks about `GET /orders`, which came without a token.
//! let ask = |method: &str, uri: &str| {
//!     Request::get("/auth").header("x-original-method", method).header("x-original-uri", uri).body(String::new())
//! };
//! let answer = auth.clone().oneshot(ask("GET", "/orders?page=2")?).await?;
//! assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(answer.headers()["www-authenticate"], "Bearer realm=\"api\"");
//!
//! // A public route: allowed, and the subject header comes back empty, so a spoofed copy
//! // is overwritten.
//! let answer = auth.oneshot(ask("GET", "/health")?).await?;
//! assert_eq!(answer.status(), StatusCode::OK);
//! assert_eq!(answer.headers()["x-user-id"], "");
//! # Ok(())
//! # }
//! ```

mod allow;
pub mod future;
mod original;

pub use allow::Allow;
pub use original::OriginalRequest;

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::error::ResponseConfig;
use crate::guard::Guard;
use crate::policy::{Policy, PolicyLayer, PolicyTable};
use crate::upstream_headers::HeaderRules;
use crate::GuardLayer;

use future::ResponseFuture;

/// The body of a forward-auth answer: empty when allowed, the rejection's otherwise.
pub type ForwardAuthBody = ResponseBody<ResponseBody<String>>;

/// The forward-auth service: see the [module docs](self).
pub struct ForwardAuth<U = ()> {
    inner: Guard<Policy<Allow>, U>,
    original: Arc<OriginalRequest>,
}

impl<U> ForwardAuth<U> {
    /// Answers sub-requests whose original request `original` locates, with `guard` (an
    /// optional guard, so that public routes need no token), `table` and `rules`.
    pub fn new(
        guard: GuardLayer<U>,
        table: PolicyTable,
        rules: HeaderRules,
        original: OriginalRequest,
    ) -> Self {
        let allow = PolicyLayer::new(table).layer(Allow::new(Arc::new(rules)));
        Self { inner: guard.layer(allow), original: Arc::new(original) }
    }
}

impl<U> Clone for ForwardAuth<U> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), original: self.original.clone() }
    }
}

impl<U> fmt::Debug for ForwardAuth<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForwardAuth").field("inner", &self.inner).field("original", &self.original).finish()
    }
}

impl<U, B> Service<Request<B>> for ForwardAuth<U>
where
    U: Clone + Send + Sync + 'static,
{
    type Response = Response<ForwardAuthBody>;
    type Error = Infallible;
    type Future = ResponseFuture<B, U>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        <Guard<Policy<Allow>, U> as Service<Request<B>>>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        match self.original.read(&parts.method, &parts.uri, &parts.headers) {
            Ok((method, uri)) => {
                parts.method = method;
                parts.uri = uri;
                ResponseFuture::guarded(self.inner.call(Request::from_parts(parts, body)))
            }
            Err(error) => {
                ResponseFuture::refused(ResponseConfig::default().reject(error, ResponseBody::full))
            }
        }
    }
}

#[cfg(test)]
mod tests;
