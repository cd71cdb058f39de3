//! Policies from a file: one declarative table saying, for each route (method and path
//! pattern), which checks apply. Feature `gateway`.
//!
//! # The format
//!
//! ```toml
//! # What a request no route matches gets: "deny" (the default, 403), "public" or "token".
//! unmatched = "deny"
//!
//! [[route]]
//! path = "/health"
//! check = "public"                 # anyone, with or without a token
//!
//! [[route]]
//! method = ["GET", "HEAD"]         # one method, a list, or "*"; absent: every method
//! path = "/orders/{id}"            # matchit patterns, as axum's: {param}, {*rest}
//! check = "any-scope"
//! scopes = ["check-status", "place-orders"]
//!
//! [[route]]
//! method = "POST"
//! path = "/orders"
//! check = ["user-only", "all-scopes"]
//! scopes = ["place-orders"]
//!
//! [[route]]
//! path = "/internal/{*rest}"
//! check = ["client-only"]          # "token" alone: any valid token
//! ```
//!
//! | check | lets through | otherwise |
//! |---|---|---|
//! | `public` | every request | — |
//! | `token` | any valid token | 401 |
//! | `all-scopes` | a token granting every one of `scopes` | 403 `insufficient_scope` |
//! | `any-scope` | a token granting at least one of `scopes` | 403 `insufficient_scope` |
//! | `client-only` | a client-credentials token | 403 |
//! | `user-only` | a user token | 403 |
//!
//! The scope and principal checks are the [`RequireLayer`](crate::RequireLayer)'s own. A
//! method listed by no route of a pattern falls to the pattern's every-method route, if
//! any, else to `unmatched`. Methods are matched as written (`HEAD` is not `GET`).
//!
//! Paths are matched percent-decoded, and only in normal form: a path with a `.` or `..`
//! segment, an empty segment, or an encoded `/` or `\` is refused with 400 before any route
//! is looked at, so `/public/../admin` cannot borrow `/public`'s policy.
//!
//! The format is TOML only: serde_yaml, the YAML crate serde users reached for, is
//! deprecated and unmaintained, and none of its forks is yet a safe default.
//!
//! A bad file fails when loaded, with the file, the line and the reason
//! ([`PolicyFileError`]): an unknown check, a bad method or pattern, a duplicate route, two
//! patterns matchit finds in conflict (`/a/{id}` and `/a/{name}`), `scopes` missing or
//! misplaced, an unknown key.
//!
//! # The layer
//!
//! [`PolicyLayer`] goes behind an *optional* guard
//! ([`GuardBuilder::optional`](crate::guard::GuardBuilder::optional)), so that public
//! routes pass without a token; a token that is presented must still be valid.
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_passport::policy::{PolicyLayer, PolicyTable};
//! # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
//! # let verifier = Verifier::builder(keys).issuer("https://auth.example.com").audience("api").build()?;
//! let table = PolicyTable::from_toml(
//!     r#"
//!     [[route]]
//!     path = "/health"
//!     check = "public"
//!
//!     [[route]]
//!     path = "/orders/{id}"
//!     check = "all-scopes"
//!     scopes = ["check-status"]
//!     "#,
//!     "policy.toml",
//! )?;
//! let service = ServiceBuilder::new()
//!     .layer(GuardLayer::builder(verifier).optional().build()?)
//!     .layer(PolicyLayer::new(table))
//!     .service_fn(|_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) });
//!
//! let status = |path: &str| {
//!     let service = service.clone();
//!     let request = Request::get(path).body(String::new());
//!     async move { Ok::<_, Box<dyn std::error::Error>>(service.oneshot(request?).await?.status()) }
//! };
//! assert_eq!(status("/health").await?, StatusCode::OK);
//! assert_eq!(status("/orders/7").await?, StatusCode::UNAUTHORIZED); // needs a token
//! assert_eq!(status("/admin").await?, StatusCode::FORBIDDEN); // no route: denied
//! assert_eq!(status("/health/../orders/7").await?, StatusCode::BAD_REQUEST);
//! # Ok(())
//! # }
//! ```

mod file;
pub(crate) mod path;
mod table;

pub use file::{PolicyDocument, PolicyFileError};
pub use table::PolicyTable;

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::body::ResponseBody;
use crate::scope::call_behind_guard;
use crate::scope::future::ResponseFuture;

/// Applies a [`PolicyTable`] to every request, behind the guard: see the
/// [module docs](self).
#[derive(Clone, Debug)]
#[must_use]
pub struct PolicyLayer {
    table: Arc<PolicyTable>,
}

impl PolicyLayer {
    /// A layer judging requests by `table`.
    pub fn new(table: PolicyTable) -> Self {
        Self { table: Arc::new(table) }
    }

    /// The table this layer applies.
    pub fn table(&self) -> &PolicyTable {
        &self.table
    }
}

impl<S> Layer<S> for PolicyLayer {
    type Service = Policy<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Policy { inner, table: self.table.clone() }
    }
}

/// The service of a [`PolicyLayer`].
#[derive(Clone, Debug)]
pub struct Policy<S> {
    inner: S,
    table: Arc<PolicyTable>,
}

impl<S> Policy<S> {
    inner_service_accessors! {
        /// ```
        /// use tower::Layer;
        /// use tower_passport::policy::{PolicyLayer, PolicyTable};
        /// # fn main() -> Result<(), tower_passport::ConfigError> {
        /// let mut service = PolicyLayer::new(PolicyTable::from_toml("", "empty.toml")?).layer(41_u32);
        /// assert_eq!(*service.get_ref(), 41);
        /// *service.get_mut() += 1;
        /// assert_eq!(service.into_inner(), 42);
        /// # Ok(())
        /// # }
        /// ```
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Policy<S>
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
        let table = &self.table;
        call_behind_guard(&mut self.inner, request, |request, context| {
            table.check(request.method, request.uri.path(), context.token)
        })
    }
}

#[cfg(test)]
mod tests;
