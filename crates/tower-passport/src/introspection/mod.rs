//! Opaque access tokens through RFC 7662 introspection (feature `introspection`).
//!
//! Many authorization servers issue tokens that only they can judge: Hydra, Keycloak in
//! some set-ups, most API-key products. An [`Introspector`] asks the server's
//! introspection endpoint about such a token, checks the answer's members as a JWT's
//! claims are checked, and yields the same [`VerifiedToken`], so the guard builds the
//! same [`Principal`](crate::Principal) and every scope layer and extractor works
//! unchanged.
//!
//! # In the guard
//!
//! - [`GuardLayer::introspecting`](crate::GuardLayer::introspecting): every token is
//!   introspected.
//! - [`GuardBuilder::introspection`](crate::guard::GuardBuilder::introspection), mixed
//!   mode: a token shaped like a JWT (three non-empty dot-separated parts) is verified
//!   locally by the guard's [`Verifier`](crate::Verifier), exactly as without
//!   introspection (a token found in the verified-token cache is never even looked at for
//!   its shape), and every other token is introspected.
//!
//! # The call
//!
//! A form `POST` of `token` and `token_type_hint=access_token` to the endpoint, given
//! ([`Introspector::builder`]) or read from the issuer's RFC 8414 metadata
//! (`/.well-known/oauth-authorization-server`, then OpenID Connect Discovery's
//! `/.well-known/openid-configuration`) at the first call ([`Introspector::discover`]).
//! The resource server authenticates with `client_secret_basic` or `client_secret_post`;
//! the secret never appears in `Debug` output or logs. Calls go through the same
//! injectable [`HttpClient`](crate::keys::HttpClient) as remote key sets
//! ([`HyperClient`](crate::keys::HyperClient) by default), `https` only except to
//! loopback hosts or after [`allow_http`](IntrospectorBuilder::allow_http).
//!
//! # The answer
//!
//! | answer | guard |
//! |---|---|
//! | `active: true`, members pass the checks | the request passes, with the principal |
//! | `active: false` | 401 `invalid_token` ([`Reason::InactiveToken`](crate::error::Reason::InactiveToken)) |
//! | `active: true` but `iss` not the issuer, no configured audience in `aud`, `exp` missing or past, `nbf`/`iat` ahead, a `cnf`, a `token_type` other than `Bearer` (or Hydra's `token_use` other than `access_token`) | 401 `invalid_token`, with the reason a JWT would get |
//! | endpoint down, slower than the [`timeout`](IntrospectorBuilder::timeout), a status other than 200, a body that is not a JSON object with a boolean `active` or over the [cap](IntrospectorBuilder::max_response_bytes), or [too many calls in flight](IntrospectorBuilder::max_in_flight) | 503, no challenge ([`Reason::IntrospectionUnavailable`](crate::error::Reason::IntrospectionUnavailable)): never a pass |
//!
//! An answer without `iss` speaks for the configured issuer. `scope`, `client_id`, `sub`,
//! `aud`, `iss`, `exp`, `jti` and the rest are read as the same-named JWT claims, and
//! the whole answer is the token's [`raw_claims`](VerifiedToken::raw_claims).
//!
//! # Caching
//!
//! - An active answer is cached by the SHA-256 of its token (the token itself is never
//!   kept) until its `exp`, and no longer than
//!   [`cache_max_ttl`](IntrospectorBuilder::cache_max_ttl) (60 s by default): the bound
//!   on how long a token revoked at the server keeps working here when nothing tells this
//!   node. A refusal is cached for
//!   [`negative_cache_ttl`](IntrospectorBuilder::negative_cache_ttl) (10 s); a failed call
//!   never is.
//! - Concurrent requests with the same uncached token make one call (single flight).
//! - At most [`max_in_flight`](IntrospectorBuilder::max_in_flight) calls run at once; a
//!   request that needs another gets 503 at once rather than a place in a queue.
//! - The guard's invalidations reach the cache: a revocation event or the bus
//!   (through the guard's [`Hub`](crate::revocation::Hub)) drops the answers with that
//!   `jti`, or of that client, or all of them.
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_passport::introspection::Introspector;
//! use tower_passport::keys::remote::{FetchFuture, HttpClient};
//! use tower_passport::{BackendError, GuardLayer, RequireLayer};
//!
//! // A stand-in for the authorization server's endpoint; a real one is reached with the
//! // default client.
//! struct AuthorizationServer;
//! impl HttpClient for AuthorizationServer {
//!     fn get(&self, _: Request<()>) -> FetchFuture<'_> {
//!         Box::pin(async { Err(BackendError::msg("no discovery here")) })
//!     }
//!     fn post(&self, request: Request<Bytes>) -> FetchFuture<'_> {
//!         let form: Vec<(String, String)> = form_urlencoded::parse(request.body()).into_owned().collect();
//!         let known = form.contains(&("token".into(), "2YotnFZFEjr1zCsicMWpAA".into()));
//!         let answer = match known {
//!             true => serde_json::json!({"active": true, "iss": "https://auth.example.com",
//!                 "aud": "orders-api", "sub": "42", "client_id": "shop", "scope": "place-orders",
//!                 "exp": 4_000_000_000_u64, "token_type": "Bearer"}),
//!             false => serde_json::json!({"active": false}),
//!         };
//!         Box::pin(async move { Ok(Response::new(Bytes::from(answer.to_string()))) })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let introspector = Introspector::builder("https://auth.example.com/oauth/introspect")
//!     .issuer("https://auth.example.com")
//!     .audience("orders-api")
//!     .client_secret_basic("orders-api", "the-resource-servers-secret")
//!     .http_client(AuthorizationServer)
//!     .build()?;
//! let service = ServiceBuilder::new()
//!     .layer(GuardLayer::introspecting(introspector).build()?)
//!     .layer(RequireLayer::all_scopes(["place-orders"]))
//!     .service_fn(|_req: Request<Full<Bytes>>| async {
//!         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("ok"))))
//!     });
//!
//! let with = |token: &str| {
//!     let request = Request::builder().header("authorization", format!("Bearer {token}"));
//!     request.body(Full::new(Bytes::new())).unwrap()
//! };
//! let response = service.clone().oneshot(with("2YotnFZFEjr1zCsicMWpAA")).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! let response = service.oneshot(with("an-unknown-token")).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! assert!(response.headers()["www-authenticate"].to_str()?.contains("invalid_token"));
//! # Ok(())
//! # }
//! ```

mod builder;
mod cache;
mod call;
mod endpoint;
mod flight;

pub use builder::{IntrospectorBuilder, DEFAULT_MAX_ANSWER_BYTES};

use std::fmt;
use std::sync::Arc;

use crate::clock::Clock;
use crate::error::AuthError;
use crate::revocation::Invalidate;
use crate::token::VerifiedToken;

use cache::{digest, AnswerCache};
use call::Caller;
use endpoint::Endpoint;
use flight::Flights;

/// Asks an RFC 7662 introspection endpoint about opaque tokens, and caches the answers.
/// Cheap to clone. See the [module docs](self).
#[derive(Clone)]
pub struct Introspector {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Endpoint,
    caller: Caller,
    cache: Option<AnswerCache>,
    flights: Flights,
    clock: Arc<dyn Clock>,
}

impl Introspector {
    /// Starts an introspector that calls `endpoint` (an absolute `https` URL, or `http` to
    /// a loopback host). [`issuer`](IntrospectorBuilder::issuer),
    /// [`audience`](IntrospectorBuilder::audience) and the client's credentials are
    /// required.
    pub fn builder(endpoint: impl Into<String>) -> IntrospectorBuilder {
        IntrospectorBuilder::endpoint(endpoint.into())
    }

    /// Starts an introspector whose endpoint is the `introspection_endpoint` of
    /// `issuer`'s RFC 8414 metadata (or, failing that, its OpenID Connect Discovery
    /// document), read at the first call. The metadata must name exactly this issuer,
    /// which is also the issuer answers must name.
    ///
    /// ```
    /// use tower_passport::introspection::Introspector;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let introspector = Introspector::discover("https://auth.example.com")
    ///     .audience("orders-api")
    ///     .client_secret_basic("orders-api", "the-resource-servers-secret")
    ///     .build()?; // fetches nothing yet
    /// # let _ = introspector;
    /// # Ok(())
    /// # }
    /// ```
    pub fn discover(issuer: impl Into<String>) -> IntrospectorBuilder {
        IntrospectorBuilder::discover(issuer.into())
    }

    /// The verified token `token` stands for, from the cache or from one call (joined by
    /// every concurrent request for the same token).
    ///
    /// # Errors
    /// 401 `invalid_token` for an inactive token or an answer that fails a claim check;
    /// 503 when there is no usable answer (see the [module docs](self)).
    pub async fn introspect(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let key = digest(token);
        if let Some(cache) = &self.inner.cache {
            if let Some(verdict) = cache.get(&key, self.inner.clock.now()) {
                return verdict;
            }
        }
        let inner = &self.inner;
        inner
            .flights
            .run(key, || async move {
                let endpoint = inner.endpoint.uri(&*inner.caller.client, inner.caller.timeout).await?;
                let now = inner.clock.now();
                let verdict = inner.caller.call(endpoint, token, now).await;
                let answered = verdict.as_ref().map_or_else(|error| error.has_challenge(), |_| true);
                if let (Some(cache), true) = (&inner.cache, answered) {
                    cache.insert(key, &verdict, now);
                }
                verdict
            })
            .await
    }

    /// The cached verdict for `token`, if one is still good: never waits.
    pub(crate) fn cached(&self, token: &str) -> Option<Result<VerifiedToken, AuthError>> {
        let cache = self.inner.cache.as_ref()?;
        cache.get(&digest(token), self.inner.clock.now())
    }

    /// Drops the cached answer about `token`.
    ///
    /// ```
    /// # use tower_passport::introspection::Introspector;
    /// # let introspector = Introspector::builder("https://auth.example.com/oauth/introspect")
    /// #     .issuer("https://auth.example.com").audience("api").client_secret_basic("api", "secret").build().unwrap();
    /// introspector.invalidate("2YotnFZFEjr1zCsicMWpAA");
    /// introspector.invalidate_jti("3f6c1b2a");
    /// introspector.invalidate_client("shop");
    /// introspector.invalidate_everything();
    /// ```
    pub fn invalidate(&self, token: &str) {
        if let Some(cache) = &self.inner.cache {
            cache.remove(&digest(token));
        }
    }

    /// Drops the cached answers about tokens whose `jti` is `jti`.
    pub fn invalidate_jti(&self, jti: &str) {
        if let Some(cache) = &self.inner.cache {
            cache.remove_jti(jti);
        }
    }

    /// Drops the cached answers about tokens of the client `client_id`.
    pub fn invalidate_client(&self, client_id: &str) {
        if let Some(cache) = &self.inner.cache {
            cache.remove_client(client_id);
        }
    }

    /// Empties the cache.
    pub fn invalidate_everything(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.clear();
        }
    }
}

/// The answer cache as a target of a [`Hub`](crate::revocation::Hub). A guard built with
/// the introspector forwards its own invalidations to it already.
impl Invalidate for Introspector {
    fn invalidate_jti(&self, jti: &str) {
        Introspector::invalidate_jti(self, jti);
    }

    fn invalidate_client(&self, client_id: &str) {
        Introspector::invalidate_client(self, client_id);
    }

    fn invalidate_everything(&self) {
        Introspector::invalidate_everything(self);
    }
}

impl fmt::Debug for Introspector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspector")
            .field("endpoint", &self.inner.endpoint)
            .field("issuer", &self.inner.caller.policy.issuer())
            .field("auth", &self.inner.caller.auth)
            .field("cache", &self.inner.cache.is_some())
            .finish_non_exhaustive()
    }
}
