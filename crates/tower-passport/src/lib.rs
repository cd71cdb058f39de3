//! # tower-passport
//!
//! What Laravel Passport gives Laravel apps, for the tower ecosystem: bearer-token
//! guard layers that verify JWT access tokens (RFC 9068), resolve the user or the
//! client behind each token, and enforce Passport's two scope checks, all-of
//! (`scopes`) and any-of (`scope`). Every failure answers exactly as RFC 6750 says.
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_passport::{GuardLayer, KeySet, RequireLayer, Verifier, VerifyingKey, Algorithm};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(
//!     Algorithm::HS256,
//!     b"a-shared-secret-of-at-least-32-bytes!!",
//! )?);
//! let verifier = Verifier::builder(keys)
//!     .issuer("https://auth.example.com")
//!     .audience("orders-api")
//!     .build()?;
//!
//! let service = ServiceBuilder::new()
//!     .layer(GuardLayer::new(verifier))
//!     .layer(RequireLayer::all_scopes(["place-orders"]))
//!     .service_fn(|_req: Request<Full<Bytes>>| async {
//!         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("ok"))))
//!     });
//!
//! // No token: a bare challenge, as RFC 6750 §3.1 asks.
//! let response = service.oneshot(Request::new(Full::new(Bytes::new()))).await?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"api\"");
//! # Ok(())
//! # }
//! ```
//!
//! ## Modules
//! The layout mirrors the request path: [`token`] (bearer extraction, claims,
//! scopes) → [`keys`] (verifying keys bound to one algorithm) → [`verify`]
//! (the [`Verifier`] and its verified-token cache) → [`guard`] (the
//! [`GuardLayer`], principal resolution) → [`scope`] (the [`RequireLayer`] checks) →
//! your handler, which reads the [`Principal`]. [`revocation`] is where the guard and the
//! issuer meet: the revocation check, invalidation of every cache, and the buses that
//! carry revocations between nodes.
//! With the `introspection` feature, `introspection` checks opaque tokens at their
//! authorization server's RFC 7662 endpoint, in place of or beside the [`Verifier`].
//! carry revocations between nodes. [`resource_metadata`] serves the API's RFC 9728
//! metadata, which tells clients where its tokens come from.
//!
//! For gateways: [`upstream_headers`] (the principal to upstream headers, spoofed copies
//! stripped) and, with the `gateway` feature, `policy` (a route policy table from TOML) and
//! `forward_auth` (nginx `auth_request`, Traefik `ForwardAuth`, Envoy `ext_authz`).
//!
//! ## Features
//!
//! | feature | adds |
//! |---|---|
//! | *(default)* | the verifier, guard and scope layers; no runtime dependency |
//! | `axum` | `Principal<U>` / `Option<Principal<U>>` extractors and `IntoResponse` for errors |
//! | `issuer` | the issuer, the `Store` trait with `MemoryStore`, and the OAuth endpoints (adds tokio's `sync` and http-body-util) |
//! | `sqlite` | `SqliteStore` (sqlx, bundled SQLite) |
//! | `postgres` | `PostgresStore` (sqlx) and the `LISTEN/NOTIFY` revocation bus |
//! | `redis` | `RedisStore` and the Redis pub/sub revocation bus (redis crate) |
//! | `jwks` | `RemoteKeySet`: JWKS fetching, discovery, background refresh (adds tokio's `rt`, `time`, `sync`, hyper-util's legacy client, hyper-rustls, rustls, arc-swap) |
//! | `metrics` | counters and histograms through the `metrics` facade |
//! | `cli` | the `passport` binary (clap), for every store (implies `issuer`, `sqlite`, `postgres`, `redis`) |
//! | `testing` | dev-only test helpers: `acting_as`, `acting_as_client`, `TestIssuer` (implies `issuer`) |
//! | `jwks-native-roots` | `jwks`, plus the platform's root certificates (`HyperClientBuilder::native_roots`) |
//! | `gateway` | `policy` (route policies from TOML, matched by matchit) and `forward_auth` (nginx, Traefik, Envoy); adds `toml` and `matchit` |
//! | `introspection` | opaque tokens through RFC 7662 introspection: `introspection::Introspector`, the guard's mixed mode (implies `jwks`) |
//!
//! ## Guides
//!
//! Prose that spans modules lives in the repository's `docs/` directory (its Rust blocks
//! are compiled by `cargo test`): `quickstart.md` (the two examples and their settings),
//! `servers.md` (hyper and tonic without axum), `passport.md` (from Laravel Passport, and
//! where this crate differs on purpose), `issuer.md`, `authorization-code.md`,
//! `first-party-cookie.md`, `stores-and-nodes.md` (stores, revocation across nodes, key
//! rotation), `metrics.md`, `cli.md`, `testing.md` and `performance.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, clippy::too_long_first_doc_paragraph)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// `get_ref`, `get_mut` and `into_inner` for a service that wraps `inner: S`, as
/// tower-http's `define_inner_service_accessors!`. The attributes given (a doc example)
/// go on `get_ref`.
macro_rules! inner_service_accessors {
    ($(#[$attr:meta])*) => {
        /// The inner service.
        $(#[$attr])*
        pub fn get_ref(&self) -> &S {
            &self.inner
        }

        /// The inner service, mutably.
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.inner
        }

        /// Consumes this service, returning the inner one.
        pub fn into_inner(self) -> S {
            self.inner
        }
    };
}

pub mod body;
pub mod clock;
pub mod cookie;
pub mod dpop;
pub mod error;
pub mod guard;
#[cfg(feature = "introspection")]
#[cfg_attr(docsrs, doc(cfg(feature = "introspection")))]
pub mod introspection;
mod json;
pub mod keys;
mod loopback;
pub mod resource_metadata;
pub mod revocation;
pub mod scope;
mod telemetry;
pub mod token;
pub mod upstream_headers;
pub mod verify;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[cfg(feature = "gateway")]
#[cfg_attr(docsrs, doc(cfg(feature = "gateway")))]
pub mod forward_auth;
#[cfg(feature = "gateway")]
#[cfg_attr(docsrs, doc(cfg(feature = "gateway")))]
pub mod policy;

// The names a resource server needs, at the root; everything else at its module's path.
pub use error::{AuthError, BackendError, ConfigError};
pub use guard::{GuardLayer, Principal, ResolvePrincipal};
#[cfg(feature = "jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
pub use keys::RemoteKeySet;
pub use keys::{Algorithm, KeySet, VerifyingKey};
pub use revocation::RevocationCheck;
pub use scope::RequireLayer;
pub use token::{Scopes, VerifiedToken};
pub use verify::Verifier;
