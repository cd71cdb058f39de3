//! Claims to upstream headers: a layer behind the guard that tells the service behind a
//! gateway who is calling, in headers it can trust.
//!
//! [`UpstreamHeadersLayer`] sits behind a [`GuardLayer`](crate::GuardLayer). For every
//! request it
//! 1. **strips** every incoming header whose name it sets, so a client cannot send
//!    `X-User-Id` itself;
//! 2. forwards, removes or replaces the client's `Authorization` header
//!    ([`AuthorizationHeader`]);
//! 3. sets the configured headers from the verified token: the subject, the client id, the
//!    scopes joined by spaces, the principal kind (`user` or `client`), and any named claim
//!    (a string as it is, anything else JSON-encoded).
//!
//! Behind an optional guard that saw no token, it strips and sets nothing. With no guard in
//! front it answers 500, as the scope layers do: that is a server bug.
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_passport::upstream_headers::{AuthorizationHeader, HeaderRules, UpstreamHeadersLayer};
//! # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let secret = b"a-shared-secret-of-at-least-32-bytes!!";
//! # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, secret)?))
//! #     .issuer("https://auth.example.com").audience("api").build()?;
//! # let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! # let token = jsonwebtoken::encode(
//! #     &{ let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256); h.typ = Some("at+jwt".into()); h },
//! #     &serde_json::json!({"iss": "https://auth.example.com", "aud": "api", "sub": "42", "client_id": "app",
//! #         "exp": now + 600, "scope": "read write", "tenant": "acme", "roles": ["a", "b"]}),
//! #     &jsonwebtoken::EncodingKey::from_secret(secret))?;
//! let rules = HeaderRules::builder()
//!     .subject("x-user-id")
//!     .client_id("x-client-id")
//!     .scopes("x-scopes")
//!     .kind("x-principal-kind")
//!     .claim("tenant", "x-tenant")
//!     .claim("roles", "x-roles")
//!     .authorization(AuthorizationHeader::Remove)
//!     .build()?;
//!
//! let upstream = ServiceBuilder::new()
//!     .layer(GuardLayer::new(verifier))
//!     .layer(UpstreamHeadersLayer::new(rules))
//!     .service_fn(|request: Request<String>| async move {
//!         // What the upstream receives.
//!         Ok::<_, Infallible>(Response::new(format!("{:?}", request.headers())))
//!     });
//!
//! let request = Request::builder()
//!     .header("authorization", format!("Bearer {token}"))
//!     .header("x-user-id", "1") // spoofed: stripped
//!     .body(String::new())?;
//! let seen = upstream.oneshot(request).await?.into_body();
//! let seen = http_body_util::BodyExt::collect(seen).await?.to_bytes();
//! let seen = String::from_utf8(seen.to_vec())?;
//! assert!(seen.contains(r#""x-user-id": "42""#) && !seen.contains(r#""x-user-id": "1""#));
//! assert!(seen.contains(r#""x-scopes": "read write""#));
//! assert!(seen.contains(r#""x-principal-kind": "user""#));
//! assert!(seen.contains(r#""x-tenant": "acme""#));
//! assert!(seen.contains(r#""x-roles": "[\"a\",\"b\"]""#));
//! assert!(!seen.contains("authorization"));
//! # Ok(())
//! # }
//! ```

mod rules;

pub use rules::{AuthorizationHeader, HeaderRules, HeaderRulesBuilder};

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::scope::call_behind_guard;
use crate::scope::future::ResponseFuture;

/// Sets the principal's headers for the upstream: see the [module docs](self).
#[derive(Clone, Debug)]
#[must_use]
pub struct UpstreamHeadersLayer {
    rules: Arc<HeaderRules>,
}

impl UpstreamHeadersLayer {
    /// A layer applying `rules`.
    pub fn new(rules: HeaderRules) -> Self {
        Self { rules: Arc::new(rules) }
    }

    /// The rules this layer applies.
    pub fn rules(&self) -> &HeaderRules {
        &self.rules
    }
}

impl<S> Layer<S> for UpstreamHeadersLayer {
    type Service = UpstreamHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        UpstreamHeaders { inner, rules: self.rules.clone() }
    }
}

/// The service of an [`UpstreamHeadersLayer`].
#[derive(Clone, Debug)]
pub struct UpstreamHeaders<S> {
    inner: S,
    rules: Arc<HeaderRules>,
}

impl<S> UpstreamHeaders<S> {
    inner_service_accessors! {
        /// ```
        /// use tower::Layer;
        /// use tower_passport::upstream_headers::{HeaderRules, UpstreamHeadersLayer};
        /// # fn main() -> Result<(), tower_passport::ConfigError> {
        /// let mut service = UpstreamHeadersLayer::new(HeaderRules::builder().build()?).layer(41_u32);
        /// assert_eq!(*service.get_ref(), 41);
        /// *service.get_mut() += 1;
        /// assert_eq!(service.into_inner(), 42);
        /// # Ok(())
        /// # }
        /// ```
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for UpstreamHeaders<S>
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
        let rules = &self.rules;
        call_behind_guard(&mut self.inner, request, |request, context| {
            rules.apply(request.headers, context.token);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
