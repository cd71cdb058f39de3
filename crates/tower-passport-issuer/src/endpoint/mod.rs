//! The OAuth HTTP surface as one tower service, mountable in axum or
//! plain hyper: [`OAuthServer`] configures it, [`OAuthRoutes`] serves it. Every response
//! carries `Cache-Control: no-store`.
//!
//! | endpoint | behaviour |
//! |---|---|
//! | `GET/POST /oauth/authorize` | the authorization code grant's approval screen (opt-in: [`OAuthServer::sign_in`]) |
//! | `POST /oauth/token` | `client_credentials`, `refresh_token`, `password` (opt-in), `authorization_code` (opt-in) |
//! | `POST /oauth/revoke` | RFC 7009 |
//! | `POST /oauth/introspect` | RFC 7662 |
//! | `GET /.well-known/jwks.json` | the published keys |
//! | `GET /.well-known/oauth-authorization-server` | RFC 8414 metadata |
//! | `GET /oauth/scopes` | the scope registry |
//! | `GET/POST /oauth/personal-access-tokens`, `DELETE …/{id}` | Passport's JSON API, behind the guard |
//! | `GET /oauth/tokens`, `DELETE /oauth/tokens/{id}` | Passport's authorized-tokens API, behind the guard |
//! | `GET/POST /oauth/clients`, `GET/PUT/DELETE …/{id}`, `POST …/{id}/secret` | Passport's clients API, behind the guard |
//!
//! [`OAuthRoutes`] serves the first seven, and the last three once
//! [`OAuthServer::json_apis`] gives it their [`GuardLayer`](tower_passport::GuardLayer); it answers
//! 404 elsewhere. ([`PersonalAccessTokens`], [`AuthorizedTokens`] and [`Clients`] are the
//! three APIs alone, to mount behind a guard of your own.) The APIs serve first-party
//! clients' user tokens only, by default, and, once a sign-in hook is set, the user signed
//! in on the app's session, through the same [`SignedInUser`] hook as the approval screen
//! (as Passport guards them with `web` and `auth`): give an
//! [optional](tower_passport::guard::GuardBuilder::optional) guard to accept both. A session call
//! that changes something (any method but `GET`, `HEAD` and `OPTIONS`) must carry an
//! `X-CSRF-TOKEN` header ([`OAuthRoutes::session_csrf_token`], or the header every answer
//! to a session call carries), or it is refused with 403
//! `{"message": "CSRF token mismatch."}` (Laravel answers 419, which is not a registered
//! status). Bearer calls need none.
//!
//! ```
//! use std::sync::Arc;
//! use axum::Router;
//! use tower_passport_issuer::endpoint::OAuthServer;
//! use tower_passport_issuer::Issuer;
//! use tower_passport_issuer::store::MemoryStore;
//! use tower_passport::GuardLayer;
//!
//! # fn main() -> Result<(), tower_passport::ConfigError> {
//! let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
//!     .audience("api")
//!     .build()?;
//! let guard = GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).build()?;
//! // Every endpoint, the JSON APIs behind the guard, in one call.
//! let app: Router = OAuthServer::new(issuer).json_apis(guard).into_router();
//! # Ok(())
//! # }
//! ```

/// Defines a tower service over the built [`OAuthServer`]'s state: the struct (documented by
/// the attributes given), `Clone`, `Debug`, a `new` for this module, and a `Service` impl
/// whose boxed future answers with `$handle(server, request)`. Rejections are responses, so it never fails.
macro_rules! issuer_service {
    ($(#[$meta:meta])* $name:ident => $handle:path) => {
        $(#[$meta])*
        pub struct $name {
            pub(super) server: ::std::sync::Arc<$crate::endpoint::server::Server>,
        }

        impl Clone for $name {
            fn clone(&self) -> Self {
                Self { server: self.server.clone() }
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name)).field("issuer", &self.server.issuer).finish()
            }
        }

        impl $name {
            pub(super) fn new(server: ::std::sync::Arc<$crate::endpoint::server::Server>) -> Self {
                Self { server }
            }
        }

        impl<B> ::tower_service::Service<::http::Request<B>> for $name
        where
            B: ::http_body::Body + Send + 'static,
            B::Data: Send,
            B::Error: Into<Box<dyn ::std::error::Error + Send + Sync>>,
        {
            type Response = $crate::endpoint::EndpointResponse;
            type Error = ::std::convert::Infallible;
            type Future = ::std::pin::Pin<
                Box<
                    dyn ::std::future::Future<
                            Output = Result<$crate::endpoint::EndpointResponse, ::std::convert::Infallible>,
                        > + Send,
                >,
            >;

            fn poll_ready(
                &mut self,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<Result<(), ::std::convert::Infallible>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            fn call(&mut self, request: ::http::Request<B>) -> Self::Future {
                let server = self.server.clone();
                Box::pin(async move { Ok($handle(server, request).await) })
            }
        }
    };
}

pub(crate) mod authorize;
mod caller;
mod clients;
mod fresh_token;
mod front;
mod guarded;
mod metadata;
mod peer;
mod personal;
pub(crate) mod request;
mod response;
mod routes;
mod server;
mod token_form;
mod tokens;

pub use authorize::{escape_html, ApprovalContext, ApprovalScreen, SignIn, SignInRequest, SignedInUser};
pub use clients::Clients;
pub use fresh_token::{private_if_setting_cookies, FreshApiToken, FreshApiTokenFuture, FreshApiTokenLayer};
pub use metadata::ServerMetadata;
pub use peer::PeerAddr;
pub use personal::PersonalAccessTokens;
pub use response::EndpointResponse;
pub use routes::OAuthRoutes;
pub use server::OAuthServer;
pub use tokens::AuthorizedTokens;
