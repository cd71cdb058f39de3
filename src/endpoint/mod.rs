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
//! | `GET /oauth/tokens`, `DELETE /oauth/tokens/{id}` | Passport's authorized-tokens API, behind the guard |
//! | `GET/POST /oauth/clients`, `GET/PUT/DELETE …/{id}`, `POST …/{id}/secret` | Passport's clients API, behind the guard |
//!
//! [`OAuthRoutes`] serves the first six and answers 404 elsewhere;
//! [`PersonalAccessTokens`], [`AuthorizedTokens`] and [`Clients`] serve the last three and
//! sit behind a [`GuardLayer`](crate::GuardLayer). They serve first-party clients' user
//! tokens only, by default, and, once the authorization code grant is enabled, the user
//! signed in on the app's session, through the same
//! [`SignedInUser`] hook as the approval screen (as Passport guards them with `web` and
//! `auth`): put an [optional](crate::guard::GuardBuilder::optional) guard in front to
//! accept both. A session call that changes something (any method but `GET`, `HEAD` and
//! `OPTIONS`) must carry an `X-CSRF-TOKEN` header ([`Issuer::session_csrf_token`], or the
//! header every answer to a session call carries), or it is refused with 403
//! `{"message": "CSRF token mismatch."}` (Laravel answers 419, which is not a registered
//! status). Bearer calls need none.
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
//!     .route_service("/oauth/personal-access-tokens/{id}", tower::ServiceBuilder::new().layer(guard.clone()).service(issuer.personal_access_tokens_endpoint()))
//!     .route_service("/oauth/tokens", tower::ServiceBuilder::new().layer(guard.clone()).service(issuer.authorized_tokens_endpoint()))
//!     .route_service("/oauth/tokens/{id}", tower::ServiceBuilder::new().layer(guard).service(issuer.authorized_tokens_endpoint()))
//!     .fallback_service(issuer.routes());
//! # Ok(())
//! # }
//! ```

/// Defines a tower service over an [`Issuer`]: the struct (documented by the attributes
/// given), `Clone`, `Debug`, a `new` for this module, and a `Service` impl whose boxed future
/// answers with `$handle(issuer, request)`. Rejections are responses, so it never fails.
macro_rules! issuer_service {
    ($(#[$meta:meta])* $name:ident => $handle:path) => {
        $(#[$meta])*
        pub struct $name<S> {
            issuer: $crate::issuer::Issuer<S>,
        }

        impl<S> Clone for $name<S> {
            fn clone(&self) -> Self {
                Self { issuer: self.issuer.clone() }
            }
        }

        impl<S> ::std::fmt::Debug for $name<S> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name)).field("issuer", &self.issuer).finish()
            }
        }

        impl<S: $crate::store::Store> $name<S> {
            pub(super) fn new(issuer: $crate::issuer::Issuer<S>) -> Self {
                Self { issuer }
            }
        }

        impl<S, B> ::tower_service::Service<::http::Request<B>> for $name<S>
        where
            S: $crate::store::Store,
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
                let issuer = self.issuer.clone();
                Box::pin(async move { Ok($handle(issuer, request).await) })
            }
        }
    };
}

pub(crate) mod authorize;
mod caller;
mod clients;
mod fresh_token;
mod peer;
mod personal;
mod request;
mod response;
mod routes;
mod token_form;
mod tokens;

pub use authorize::{escape_html, ApprovalContext, ApprovalScreen, SignIn, SignInRequest, SignedInUser};
pub use clients::Clients;
pub use fresh_token::{private_if_setting_cookies, FreshApiToken, FreshApiTokenFuture, FreshApiTokenLayer};
pub use peer::PeerAddr;
pub use personal::PersonalAccessTokens;
pub use response::EndpointResponse;
pub use routes::OAuthRoutes;
pub use tokens::AuthorizedTokens;

use crate::issuer::{Issuer, IssuerError, IssuerErrorKind};
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

    /// Passport's authorized-tokens JSON API (`GET /oauth/tokens`,
    /// `DELETE /oauth/tokens/{id}`): the user's authorized clients, to list and revoke;
    /// put a guard in front of it. See [`AuthorizedTokens`] for a mounted example.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport::issuer::Issuer;
    /// use tower_passport::store::MemoryStore;
    /// use tower_passport::GuardLayer;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let guard = GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).build()?;
    /// let tokens = tower::ServiceBuilder::new().layer(guard).service(issuer.authorized_tokens_endpoint());
    /// # let _ = tokens;
    /// # Ok(())
    /// # }
    /// ```
    pub fn authorized_tokens_endpoint(&self) -> AuthorizedTokens<S> {
        AuthorizedTokens::new(self.clone())
    }

    /// Passport's clients JSON API (`GET/POST /oauth/clients`, `GET/PUT/DELETE
    /// /oauth/clients/{id}`, `POST /oauth/clients/{id}/secret`): the signed-in user's own
    /// clients. Put a guard in front of it (an optional one to accept the session too);
    /// see [`Clients`] for a mounted example.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport::issuer::Issuer;
    /// use tower_passport::store::MemoryStore;
    /// use tower_passport::GuardLayer;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let guard = GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).build()?;
    /// let clients = tower::ServiceBuilder::new().layer(guard).service(issuer.clients_endpoint());
    /// # let _ = clients;
    /// # Ok(())
    /// # }
    /// ```
    pub fn clients_endpoint(&self) -> Clients<S> {
        Clients::new(self.clone())
    }

    /// The address a request came from, as the issuer's throttle sees it: the connection's
    /// peer ([`PeerAddr`], or axum's `ConnectInfo<SocketAddr>`), or, behind proxies the
    /// issuer trusts ([`IssuerBuilder::trusted_proxies`](crate::issuer::IssuerBuilder::trusted_proxies)),
    /// the address the outermost of them appended to `X-Forwarded-For`. `None` when the
    /// server passed no peer on. For an app's own sign-in page, with
    /// [`Issuer::sign_in`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport::endpoint::PeerAddr;
    /// use tower_passport::issuer::Issuer;
    /// use tower_passport::store::MemoryStore;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let mut request = http::Request::new(());
    /// request.headers_mut().insert("x-forwarded-for", "203.0.113.9".parse()?);
    /// request.extensions_mut().insert(PeerAddr("192.0.2.1:50123".parse()?));
    /// let (parts, ()) = request.into_parts();
    /// // No proxy is trusted by default: the header is the client's say.
    /// assert_eq!(issuer.client_ip(&parts), Some([192, 0, 2, 1].into()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_ip(&self, parts: &http::request::Parts) -> Option<std::net::IpAddr> {
        peer::client_ip(parts, self.trusted_proxies())
    }

    /// A CSRF token for the JSON APIs' calls made through `user_id`'s session: put it in
    /// your page (Laravel's `csrf_token()` in a `<meta>` tag) and send it as the
    /// `X-CSRF-TOKEN` header with every `POST`, `PUT` and `DELETE`. It is an HMAC over the
    /// user and the time, under the key the approval screen's tokens use (shared by every
    /// node through the store), and stays good for 12 hours. Every answer to a session call
    /// carries a fresh one in its `X-CSRF-TOKEN` header too.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport::endpoint::{SignIn, SignInRequest};
    /// use tower_passport::issuer::Issuer;
    /// use tower_passport::store::MemoryStore;
    /// use tower_passport::BackendError;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .enable_authorization_code(|_: &SignInRequest<'_>| async { Ok::<_, BackendError>(SignIn::User("7".into())) })
    ///     .build()?;
    /// let token = issuer.session_csrf_token("7").await?;
    /// assert_ne!(token, issuer.session_csrf_token("8").await?);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the authorization code grant (which brings the session hook) is not enabled,
    /// or the store fails.
    pub async fn session_csrf_token(&self, user_id: &str) -> Result<String, IssuerError> {
        let Some(flow) = &self.code_settings().flow else {
            return Err(IssuerError::new(
                IssuerErrorKind::Config,
                "the JSON APIs accept sessions only once the authorization code grant is enabled \
                 (IssuerBuilder::enable_authorization_code)",
            ));
        };
        Ok(flow.api_csrf_token(&**self.store(), user_id, self.now_for_endpoint()).await?)
    }
}
