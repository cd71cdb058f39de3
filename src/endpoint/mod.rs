//! The OAuth HTTP surface as tower services (feature `issuer`), mountable in axum or
//! plain hyper. Every response carries `Cache-Control: no-store`.
//!
//! | endpoint | behaviour |
//! |---|---|
//! | `GET/POST /oauth/authorize` | the authorization code grant's approval screen (opt-in: [`IssuerBuilder::enable_authorization_code`](crate::issuer::IssuerBuilder::enable_authorization_code)) |
//! | `POST /oauth/token` | `client_credentials`, `refresh_token`, `password` (opt-in), `authorization_code` (opt-in) |
//! | `POST /oauth/revoke` | RFC 7009 |
//! | `POST /oauth/introspect` | RFC 7662 |
//! | `GET /.well-known/jwks.json` | the published keys |
//! | `GET /.well-known/oauth-authorization-server` | RFC 8414 metadata |
//! | `GET /oauth/scopes` | the scope registry |
//! | `GET/POST /oauth/personal-access-tokens`, `DELETE …/{id}` | Passport's JSON API, behind the guard |
//!
//! [`OAuthRoutes`] serves the first six and answers 404 elsewhere;
//! [`PersonalAccessTokens`] serves the last and must sit behind a
//! [`GuardLayer`](crate::GuardLayer).
//!
//! ```
//! use std::sync::Arc;
//! use axum::Router;
//! use tower_passport::issuer::Issuer;
//! use tower_passport::store::MemoryStore;
//! use tower_passport::GuardLayer;
//!
//! # fn main() -> Result<(), tower_passport::ConfigError> {
//! let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
//!     .audience("api")
//!     .build()?;
//! let guard = GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).build()?;
//! let app: Router = Router::new()
//!     .route_service("/oauth/personal-access-tokens", tower::ServiceBuilder::new().layer(guard.clone()).service(issuer.personal_access_tokens_endpoint()))
//!     .route_service("/oauth/personal-access-tokens/{id}", tower::ServiceBuilder::new().layer(guard).service(issuer.personal_access_tokens_endpoint()))
//!     .fallback_service(issuer.routes());
//! # Ok(())
//! # }
//! ```

pub(crate) mod authorize;
mod personal;
mod request;
mod response;
mod routes;

pub use authorize::{escape_html, ApprovalContext, ApprovalScreen, SignIn, SignInRequest, SignedInUser};
pub use personal::PersonalAccessTokens;
pub use response::EndpointResponse;
pub use routes::OAuthRoutes;

use crate::issuer::Issuer;
use crate::store::Store;

impl<S: Store> Issuer<S> {
    /// The OAuth endpoints: token, revoke, introspect, JWKS, metadata and scopes, and the
    /// authorization endpoint once the authorization code grant is enabled.
    pub fn routes(&self) -> OAuthRoutes<S> {
        OAuthRoutes::new(self.clone())
    }

    /// Passport's personal-access-token JSON API; put a guard in front of it.
    pub fn personal_access_tokens_endpoint(&self) -> PersonalAccessTokens<S> {
        PersonalAccessTokens::new(self.clone())
    }
}
