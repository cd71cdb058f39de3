//! Remote key sets (feature `jwks`): a JWKS fetched over HTTP, directly or through
//! OpenID Connect / RFC 8414 discovery, and refreshed in the background.
//!
//! # Example
//!
//! With the `jwks` feature, an issuer's keys can come from its JWKS URL, or from its issuer
//! URL through discovery, and rotation just works:
//!
//! ```rust,no_run
//! use tower_passport::{RemoteKeySet, Verifier};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = RemoteKeySet::discover("https://keycloak.example.com/realms/shop").build()?;
//! let verifier = Verifier::builder(keys)
//!     .issuer("https://keycloak.example.com/realms/shop")
//!     .audience("orders-api")
//!     .accept_generic_jwt_typ()
//!     .build()?;              // synchronous; fetches nothing
//! verifier.warm_up().await?; // fetch now, and fail start-up if the keys cannot be had
//! # Ok(())
//! # }
//! ```
//!
//! # In numbers
//!
//! - A failed fetch keeps the last good set (stale-if-error) for up to 24 h after its last
//!   success ([`max_stale`](RemoteKeySetBuilder::max_stale)); the refresh interval is
//!   clamped to 1 min ..= 1 h, 5 min without `Cache-Control`.
//! - Unknown `kid`s: the cooldown is 30 s, and a flood of 1,000 random `kid`s costs one
//!   fetch (tested). Across a rotation with 8 clients and a 50 ms JWKS, 0 of ~1,550
//!   requests fail (120 of ~1,700 without the wait).
//! - Verifying with a remote set's snapshot costs what it costs with static keys
//!   (`BENCHMARKS.md`, *Remote key sets*).
//!
//! # Transport
//!
//! `https` only, except to loopback addresses or after `allow_http()` (discovered
//! `jwks_uri`s too); a total timeout per request (10 s), a connect timeout (5 s) and a
//! response cap (256 KiB); no redirects (a 3xx is a failed fetch, and its `Location` is
//! never asked: the URL is configuration, not something an answer may move). Discovery
//! checks that the metadata's `issuer` is exactly the configured one. A document with no
//! usable key at all counts as a failed fetch. `Ed25519` (RFC 9864) and `EdDSA` are both
//! accepted, in token headers as in a JWK's `alg`. `PASSPORT_JWK_RSA_ALG=PS256` in the examples
//! ([`JwkOptions::default_rsa_algorithm`](crate::keys::JwkOptions::default_rsa_algorithm))
//! sets the algorithm of RSA JWKs published without `alg`.
//!
//! # Why not jwks-client
//!
//! The `jwks-client` crate's last release, 0.2.0, pulls in reqwest 0.10, tokio 0.2 and ring
//! 0.16, which cannot share a tokio 1 runtime. Keys are fetched through an injectable HTTP
//! client instead (the [`HttpClient`] trait, also implemented for closures), with a default
//! built on hyper 1, hyper-util and rustls (aws-lc-rs crypto, Mozilla roots; the platform's
//! roots with `jwks-native-roots`).
//!
//! # What a request sees
//!
//! Requests read the current set from an immutable snapshot (an `arc-swap` load: no
//! lock). Fetching happens in one background task per set (spawned on the tokio runtime
//! of the first request or [`RemoteKeySet::warm_up`]), never on the request path.
//!
//! | state of the set | token with a known `kid` | token with an unknown `kid` |
//! |---|---|---|
//! | never fetched successfully | 503, [`Reason::KeysUnavailable`] | 503, `KeysUnavailable` |
//! | fetched, within the stale bound (even if later fetches fail) | verified | waits for one refetch, then verified, or 401 `invalid_token`, [`Reason::UnknownKid`] |
//! | last success older than [`max_stale`](RemoteKeySetBuilder::max_stale) | 503, `KeysUnavailable` | 503, `KeysUnavailable` |
//!
//! A 503 carries the last fetch error as its [`BackendError`] and no challenge, as for
//! any backend failure.
//!
//! # Key rotation: no failed request
//!
//! The first token with an unknown `kid` after the
//! [cooldown](RemoteKeySetBuilder::unknown_kid_cooldown) asks the task to refetch (at
//! most one fetch in flight), and the request that carries it waits for that fetch,
//! at most [`unknown_kid_wait`](RemoteKeySetBuilder::unknown_kid_wait) (2 s by
//! default, never longer than the fetch timeout). Requests with the same `kid` that
//! arrive while it runs join it and wait with it. When the fetch publishes a set holding
//! the `kid`, they all pass: an identity provider that publishes a new key and signs
//! with it at once costs no failed request. Every other unknown `kid` during the
//! cooldown fails at once without a fetch, so a flood of random `kid`s costs at most one
//! fetch per cooldown and only its first request waits. The guard and
//! [`Verifier::verify_async`](crate::Verifier::verify_async) wait;
//! [`Verifier::verify`](crate::Verifier::verify) never does.
//!
//! # Withdrawn keys and the verified-token cache
//!
//! A key removed from the set stops verifying new tokens as soon as a set without it is
//! published. Tokens it signed that sit in the verifier's verified-token cache are
//! refused from the same moment: each cache entry remembers the set's *epoch* (how many
//! published sets so far withdrew a key), and a hit made at an older epoch is verified
//! again against the current set. The bound is therefore the time until the set
//! without the key is fetched: the [refresh interval](RemoteKeySetBuilder::refresh)
//! (5 min by default, at most the configured maximum), or at once after an unknown-`kid`
//! refetch.
//!
//! # Refresh
//!
//! - After `Cache-Control: max-age` (less `Age`), clamped between the configured minimum
//!   and maximum, or the default interval without one (1 min ..= 1 h, 5 min).
//! - With `If-None-Match` when the last set came with an `ETag`; `304 Not Modified`
//!   keeps the set and counts as a success.
//! - A failure (transport error, timeout, status other than 200/304, a document that is
//!   not a JWKS or has no usable key) keeps the last good set, records the error, and
//!   retries with exponential backoff and jitter.
//! - Each key is parsed on its own: one that is malformed, of an unsupported
//!   `kty`/`crv`/`alg`, an encryption key (`use: enc`) or an `oct` key (unless
//!   [`JwkOptions::allow_symmetric`](crate::keys::JwkOptions::allow_symmetric)) is
//!   skipped and logged with its index and `kid`, never its material; the rest is used.
//!   A key without `alg` gets one only from an unambiguous type: RSA → RS256 (or
//!   [`JwkOptions::default_rsa_algorithm`](crate::keys::JwkOptions::default_rsa_algorithm)),
//!   EC P-256 → ES256, P-384 → ES384, OKP Ed25519 → EdDSA (`alg: Ed25519`, RFC 9864's
//!   name, is accepted as well as `EdDSA`).
//!
//! # Observability
//!
//! `tracing` events report each fetch (source, status, key count, skipped keys, next
//! refresh), each failure (the error chain, the retry delay, whether the last good set
//! still serves), each skipped key and each unknown `kid`; [`RemoteKeySet::metrics`]
//! counts fetches, failures, 304s, skipped keys, kid misses, refetches and cooldown
//! rejections; [`RemoteKeySet::status`] gives the current `kid`s, fetch time, next
//! refresh and last error.
//!
//! [`Reason::KeysUnavailable`]: crate::error::Reason::KeysUnavailable
//! [`Reason::UnknownKid`]: crate::error::Reason::UnknownKid
//! [`BackendError`]: crate::BackendError

mod builder;
mod client;
mod discovery;
mod fetch;
mod hyper_client;
mod refresh;
mod status;
mod url;

pub use builder::RemoteKeySetBuilder;
pub use client::{FetchFuture, HttpClient};
pub use hyper_client::{HyperClient, HyperClientBuilder};
pub(crate) use refresh::KeyWait;
pub use status::{KeySetMetrics, KeySetStatus};

// What an introspection client shares with key sets: metadata discovery and the transport rule.
#[cfg(feature = "introspection")]
pub(crate) use discovery::{introspection_endpoint, metadata_urls};
#[cfg(feature = "introspection")]
pub(crate) use url::{display, parse_fetch_url};

use std::fmt;
use std::sync::Arc;

use super::{Algorithm, Lookup, Miss, VerifyingKey};
use crate::error::{AuthError, BackendError, Reason};
use builder::Config;
use refresh::Shared;

/// A JWKS fetched over HTTP and refreshed in the background; see the
/// [module docs](self) for exactly what requests see. Cheap to clone: clones share the
/// set, its task and its counters.
///
/// Give it to [`Verifier::builder`](crate::Verifier::builder) or
/// [`TrustedIssuer::new`](crate::verify::TrustedIssuer::new). Building is synchronous and fetches
/// nothing; [`warm_up`](Self::warm_up) fetches now and reports failure, so a server can
/// refuse to start without keys.
///
/// ```
/// use bytes::Bytes;
/// use http::{Request, Response};
/// use tower_passport::{BackendError, RemoteKeySet, Verifier};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A stand-in for the identity provider; by default the set fetches with hyper.
/// let idp = |_request: Request<()>| async {
///     let jwks = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"2025-06",
///                   "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
///     Ok::<_, BackendError>(Response::new(Bytes::from(jwks)))
/// };
/// let keys = RemoteKeySet::builder("https://auth.example.com/.well-known/jwks.json")
///     .http_client(idp)
///     .build()?;
/// keys.warm_up().await?;
/// assert_eq!(keys.status().kids, ["2025-06"]);
///
/// let verifier = Verifier::builder(keys).issuer("https://auth.example.com").audience("api").build()?;
/// # let _ = verifier;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RemoteKeySet {
    shared: Arc<Shared>,
}

impl RemoteKeySet {
    /// Starts configuring a set fetched from `jwks_url`. It must be `https`, except to a
    /// loopback address or after [`allow_http`](RemoteKeySetBuilder::allow_http).
    ///
    /// ```
    /// use tower_passport::RemoteKeySet;
    /// assert!(RemoteKeySet::builder("https://login.example.com/oauth/jwks").build().is_ok());
    /// ```
    pub fn builder(jwks_url: impl Into<String>) -> RemoteKeySetBuilder {
        RemoteKeySetBuilder::jwks(jwks_url.into())
    }

    /// Starts configuring a set found through the metadata of `issuer`: first
    /// `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery), then RFC
    /// 8414's `/.well-known/oauth-authorization-server`. The document's `issuer` must equal
    /// `issuer` exactly, and its `jwks_uri` obeys the same https rule. A discovered
    /// `jwks_uri` is looked up again after a failed fetch.
    ///
    /// ```
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let keys = tower_passport::RemoteKeySet::discover("https://idp.example.com/realms/shop").build()?;
    /// # let _ = keys;
    /// # Ok(())
    /// # }
    /// ```
    pub fn discover(issuer: impl Into<String>) -> RemoteKeySetBuilder {
        RemoteKeySetBuilder::discovery(issuer.into())
    }

    fn from_config(config: Config) -> Self {
        Self { shared: Arc::new(Shared::new(config)) }
    }

    /// Fetches the set now (single flight with the background task), then makes sure the
    /// background task runs to keep it fresh. Call it at start-up, inside the tokio
    /// runtime that will serve requests.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::{Request, Response};
    /// use tower_passport::{BackendError, RemoteKeySet};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_passport::ConfigError> {
    /// let down = |_request: Request<()>| async { Err::<Response<Bytes>, _>(BackendError::msg("connection refused")) };
    /// let keys = RemoteKeySet::builder("https://auth.example.com/jwks").http_client(down).build()?;
    /// let error = keys.warm_up().await.unwrap_err();
    /// assert_eq!(error.to_string(), "GET https://auth.example.com/jwks failed");
    /// assert!(keys.status().last_error.is_some());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When this fetch fails: the error says why (discovery, transport, timeout, status,
    /// document). The set keeps retrying in the background either way.
    pub async fn warm_up(&self) -> Result<(), BackendError> {
        let fetched = self.shared.refresh().await;
        self.shared.ensure_task();
        fetched
    }

    /// The set's state now: whether it serves, its `kid`s, when it was fetched, when it
    /// refreshes next, and the last error.
    ///
    /// ```
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let keys = tower_passport::RemoteKeySet::builder("https://auth.example.com/jwks").build()?;
    /// let status = keys.status();
    /// assert!(!status.usable && status.kids.is_empty() && status.last_error.is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn status(&self) -> KeySetStatus {
        self.shared.status()
    }

    /// The set's counters since it was built.
    ///
    /// ```
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let keys = tower_passport::RemoteKeySet::builder("https://auth.example.com/jwks").build()?;
    /// assert_eq!(keys.metrics(), Default::default());
    /// # Ok(())
    /// # }
    /// ```
    pub fn metrics(&self) -> KeySetMetrics {
        self.shared.counters.read()
    }

    /// Runs `verify` with the key for `kid` and `alg` from the current snapshot. Never
    /// waits itself: on an unknown `kid` it may hand back the refetch to wait for (see the
    /// module docs).
    #[inline]
    pub(crate) fn with_key<R>(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        lookup: Lookup,
        verify: impl FnOnce(&VerifyingKey) -> Result<R, AuthError>,
    ) -> Result<R, Miss> {
        let current = self.shared.current();
        let Some(snapshot) = current.as_deref().filter(|snapshot| snapshot.usable()) else {
            return Err(Miss::Refused(self.shared.unavailable()));
        };
        match snapshot.keys.select(kid, alg) {
            Ok(key) => Ok(verify(key)?),
            Err(Reason::UnknownKid) => {
                let wait = match lookup {
                    Lookup::AfterRefetch => None,
                    lookup => self.shared.unknown_kid(kid, lookup == Lookup::MayWait),
                };
                Err(match wait {
                    Some(wait) => Miss::Refetching(wait),
                    None => Miss::Refused(AuthError::invalid_token(Reason::UnknownKid)),
                })
            }
            Err(reason) => Err(Miss::Refused(AuthError::invalid_token(reason))),
        }
    }

    /// How many published sets so far withdrew a key.
    #[inline]
    pub(crate) fn epoch(&self) -> u64 {
        self.shared.epoch()
    }
}

impl fmt::Debug for RemoteKeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.shared.current();
        f.debug_struct("RemoteKeySet")
            .field("source", &self.shared.config.location)
            .field("keys", &current.as_deref().map_or(0, |snapshot| snapshot.keys.len()))
            .finish_non_exhaustive()
    }
}
