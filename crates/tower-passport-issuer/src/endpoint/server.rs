//! [`OAuthServer`]: the issuer's HTTP front, configured in one place (the sign-in hook, the
//! approval screen, the mount path, the trusted proxies, the guarded JSON APIs) and built
//! into one tower service, [`OAuthRoutes`].

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Request;
use tower_service::Service;

use super::authorize::{ApprovalScreen, Flow, SignedInUser};
use super::front::Front;
use super::guarded::{is_json_api, AnyBody, GuardedApis};
use super::response::EndpointResponse;
use super::{AuthorizedTokens, Clients, OAuthRoutes, PersonalAccessTokens, ServerMetadata};
use crate::{paths, Issuer, IssuerError, IssuerErrorKind};
use tower_passport::dpop::{Nonces, ProofVerifier};
use tower_passport::guard::GuardLayer;

/// Configures the HTTP front of an [`Issuer`]: which endpoints are served, where, and how the
/// browser side signs users in.
///
/// [`build`](Self::build) makes one cloneable tower service, [`OAuthRoutes`], serving them all.
///
/// ```
/// use std::sync::Arc;
/// use tower::ServiceExt;
/// use tower_passport_issuer::endpoint::{OAuthServer, SignIn, SignInRequest};
/// use tower_passport_issuer::Issuer;
/// use tower_passport_issuer::store::MemoryStore;
/// use tower_passport::{BackendError, GuardLayer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let guard = GuardLayer::builder(issuer.verifier()).optional().revocation(issuer.revocation_list()).build()?;
/// let routes = OAuthServer::new(issuer)
///     .sign_in(|request: &SignInRequest<'_>| {
///         let sign_in = format!("/login?next={}", request.return_to_encoded());
///         async move { Ok::<_, BackendError>(SignIn::Redirect(sign_in)) }
///     })
///     .json_apis(guard)
///     .build();
/// assert_eq!(routes.metadata().response_types_supported, ["code"]);
///
/// // An unknown client is a page, never a redirect.
/// let request = http::Request::get("/oauth/authorize?response_type=code&client_id=nobody")
///     .body(http_body_util::Empty::<bytes::Bytes>::new())?;
/// let response = routes.clone().oneshot(request).await?;
/// assert_eq!(response.status(), 400);
/// assert!(response.headers().get("location").is_none());
///
/// // The JSON APIs are served behind the guard: no token and no session, 401.
/// let request = http::Request::get("/oauth/tokens").body(http_body_util::Empty::<bytes::Bytes>::new())?;
/// assert_eq!(routes.oneshot(request).await?.status(), 401);
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct OAuthServer {
    issuer: Issuer,
    mount_path: String,
    trusted_proxies: usize,
    flow: Option<Flow>,
    screen: Option<Arc<dyn ApprovalScreen>>,
    apis: Option<GuardedApis<JsonApis>>,
    proofs: Option<ProofVerifier>,
    nonces: Option<Nonces>,
}

impl fmt::Debug for OAuthServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthServer")
            .field("issuer", &self.issuer)
            .field("mount_path", &self.mount_path)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("sign_in", &self.flow.is_some())
            .field("json_apis", &self.apis.is_some())
            .field("dpop_nonces", &self.nonces)
            .finish_non_exhaustive()
    }
}

impl OAuthServer {
    /// The HTTP front of `issuer`: token, revoke, introspect, JWKS, metadata and scopes, at
    /// the root, until configured otherwise.
    pub fn new(issuer: Issuer) -> Self {
        Self {
            issuer,
            mount_path: String::new(),
            trusted_proxies: 0,
            flow: None,
            screen: None,
            apis: None,
            proofs: None,
            nonces: None,
        }
    }

    /// Checks the DPoP proofs of token requests (RFC 9449 §5) with `proofs`: its
    /// algorithms (published as `dpop_signing_alg_values_supported`), `iat` window and
    /// replay cache. By default, [`ProofVerifier`]'s defaults on the issuer's clock. A token
    /// request with a `DPoP` header gets tokens bound to the proof's key.
    pub fn dpop_proofs(mut self, proofs: ProofVerifier) -> Self {
        self.proofs = Some(proofs);
        self
    }

    /// Requires server-provided nonces in the DPoP proofs of token requests (RFC 9449
    /// §8): a proof without a current `nonce` from `nonces` is answered 400
    /// `{"error":"use_dpop_nonce"}` with a fresh nonce in the `DPoP-Nonce` header, and a
    /// token response carries a new one when the proof's is past half its lifetime. Token
    /// requests without a proof are not affected. Give every replica the same secret
    /// ([`Nonces::new`]).
    pub fn dpop_nonces(mut self, nonces: Nonces) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// Serves the authorization code grant: `GET` and `POST /oauth/authorize` (the approval
    /// screen), `grant_type=authorization_code` at the token endpoint, and the metadata that
    /// says so. `hook` tells who is signed in on a request, or where to sign in
    /// ([`SignedInUser`]; a closure will do); the JSON APIs then accept that signed-in user
    /// too, with a CSRF token ([`OAuthRoutes::session_csrf_token`]).
    pub fn sign_in<H: SignedInUser>(mut self, hook: H) -> Self {
        self.flow = Some(Flow::new(hook));
        self
    }

    /// Replaces the approval screen ([`ApprovalScreen`]; a closure will do). It is shown
    /// only once [`sign_in`](Self::sign_in) enables the authorization code grant.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::endpoint::{escape_html, ApprovalContext, OAuthServer, SignIn, SignInRequest};
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// use tower_passport::BackendError;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let routes = OAuthServer::new(issuer)
    ///     .sign_in(|_: &SignInRequest<'_>| async { Ok::<_, BackendError>(SignIn::User("1".into())) })
    ///     .approval_screen(|context: &ApprovalContext<'_>| {
    ///         format!("<h1>Let {} in?</h1>…", escape_html(context.client_name()))
    ///     })
    ///     .build();
    /// # let _ = routes;
    /// # Ok(())
    /// # }
    /// ```
    pub fn approval_screen<T: ApprovalScreen>(mut self, screen: T) -> Self {
        self.screen = Some(Arc::new(screen));
        self
    }

    /// Where the routes are mounted below the issuer URL, such as `/auth` for
    /// `https://auth.example.com/auth/oauth/token`. The metadata publishes every endpoint
    /// under it, and the routes accept paths with or without it (so they work both behind
    /// a router that strips the prefix, like axum's `nest_service`, and one that does not).
    /// Trailing slashes are dropped; an empty path (the default) is the root.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::endpoint::OAuthServer;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let routes = OAuthServer::new(issuer).mount_path("/auth/").build();
    /// assert_eq!(routes.metadata().jwks_uri, "https://example.com/auth/.well-known/jwks.json");
    /// # Ok(())
    /// # }
    /// ```
    pub fn mount_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        let trimmed = path.trim_end_matches('/');
        self.mount_path = if trimmed.is_empty() || trimmed.starts_with('/') {
            trimmed.to_owned()
        } else {
            format!("/{trimmed}")
        };
        self
    }

    /// How many proxies in front of the issuer are trusted to append the client's address to
    /// `X-Forwarded-For` (none by default: the header is the client's own say, and the
    /// throttle keys on the connection's peer). With `n`, the client's address is the `n`th
    /// entry from the right, the one the outermost trusted proxy appended; set it to exactly
    /// the number of proxies that always append, or a client can pick its own address.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::endpoint::{OAuthServer, PeerAddr};
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// // One load balancer in front.
    /// let routes = OAuthServer::new(issuer).trusted_proxies(1).build();
    /// let mut request = http::Request::new(());
    /// request.headers_mut().insert("x-forwarded-for", "198.51.100.4, 203.0.113.9".parse()?);
    /// request.extensions_mut().insert(PeerAddr("10.0.0.2:50123".parse()?));
    /// let (parts, ()) = request.into_parts();
    /// assert_eq!(routes.client_ip(&parts), Some([203, 0, 113, 9].into()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn trusted_proxies(mut self, proxies: usize) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Serves Passport's JSON APIs behind `guard`: `/oauth/personal-access-tokens`,
    /// `/oauth/tokens` and `/oauth/clients` (see [`PersonalAccessTokens`],
    /// [`AuthorizedTokens`] and [`Clients`]). An [optional](tower_passport::guard::GuardBuilder::optional)
    /// guard accepts the session of [`sign_in`](Self::sign_in)'s hook too. Without this
    /// call those paths answer 404 (mount the services yourself from
    /// [`OAuthRoutes::personal_access_tokens`] and its siblings).
    pub fn json_apis<U: Clone + Send + Sync + 'static>(mut self, guard: GuardLayer<U>) -> Self {
        self.apis = Some(GuardedApis::new(guard));
        self
    }

    /// The routes, as one cloneable tower service.
    pub fn build(self) -> OAuthRoutes {
        let mut flow = self.flow;
        if let (Some(flow), Some(screen)) = (&mut flow, self.screen) {
            flow.set_screen(screen);
        }
        let proofs = self.proofs.unwrap_or_else(|| self.issuer.proof_verifier());
        OAuthRoutes::new(Arc::new(Server {
            proofs,
            nonces: self.nonces,
            front: Front {
                issuer: self.issuer,
                mount_path: self.mount_path,
                trusted_proxies: self.trusted_proxies,
            },
            flow,
            apis: self.apis,
        }))
    }

    /// The routes as an axum `Router` (feature `axum`): every endpoint, mounted with one
    /// call (`Router::merge`, or `nest_service` under the mount path).
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn into_router<S: Clone + Send + Sync + 'static>(self) -> axum::Router<S> {
        self.build().into_router()
    }
}

/// What the built routes share: the issuer and the HTTP settings ([`Front`], which it
/// dereferences to), the authorization code flow and the guarded JSON APIs.
pub(crate) struct Server {
    front: Front,
    /// The authorization code flow, once a sign-in hook is set.
    pub(crate) flow: Option<Flow>,
    /// The JSON APIs and their guard, if served.
    pub(crate) apis: Option<GuardedApis<JsonApis>>,
    /// Checks the `DPoP` proofs of token requests.
    pub(crate) proofs: ProofVerifier,
    /// The nonces those proofs must carry, when required.
    pub(crate) nonces: Option<Nonces>,
}

impl Deref for Server {
    type Target = Front;

    fn deref(&self) -> &Front {
        &self.front
    }
}

/// The three JSON APIs as one service, dispatched by path: what the guard of
/// [`OAuthServer::json_apis`] is put in front of.
#[derive(Clone)]
pub(crate) struct JsonApis {
    server: Arc<Server>,
}

impl Service<Request<AnyBody>> for JsonApis {
    type Response = EndpointResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<EndpointResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<AnyBody>) -> Self::Future {
        let server = self.server.clone();
        let path = server.route_path(request.uri().path()).to_owned();
        if path.starts_with(paths::PERSONAL_ACCESS_TOKENS) {
            PersonalAccessTokens::new(server).call(request)
        } else if path.starts_with(paths::TOKENS) {
            AuthorizedTokens::new(server).call(request)
        } else {
            Clients::new(server).call(request)
        }
    }
}

impl Server {
    /// The guarded JSON APIs, if `path` (below the mount path) is theirs and they are served.
    pub(crate) fn json_apis_for(&self, path: &str) -> Option<&GuardedApis<JsonApis>> {
        self.apis.as_ref().filter(|_| is_json_api(path))
    }

    /// The JSON APIs over this server, to put behind their guard.
    pub(crate) fn json_apis(self: &Arc<Self>) -> JsonApis {
        JsonApis { server: self.clone() }
    }
}

impl OAuthRoutes {
    /// The issuer these routes serve.
    pub fn issuer(&self) -> &Issuer {
        &self.server.issuer
    }

    /// The RFC 8414 metadata these routes publish.
    pub fn metadata(&self) -> ServerMetadata {
        ServerMetadata::of(&self.server)
    }

    /// The URL of the endpoint at `path` (one of [`paths`]), below the issuer URL and the
    /// mount path.
    pub fn endpoint_url(&self, path: &str) -> String {
        self.server.endpoint_url(path)
    }

    /// Passport's personal-access-token JSON API alone, to mount behind a guard of your own
    /// (what [`OAuthServer::json_apis`] does for all three).
    pub fn personal_access_tokens(&self) -> PersonalAccessTokens {
        PersonalAccessTokens::new(self.server.clone())
    }

    /// Passport's authorized-tokens JSON API alone (`GET /oauth/tokens`,
    /// `DELETE /oauth/tokens/{id}`), to mount behind a guard of your own.
    pub fn authorized_tokens(&self) -> AuthorizedTokens {
        AuthorizedTokens::new(self.server.clone())
    }

    /// Passport's clients JSON API alone (`GET/POST /oauth/clients`, `GET/PUT/DELETE
    /// /oauth/clients/{id}`, `POST /oauth/clients/{id}/secret`), to mount behind a guard of
    /// your own.
    pub fn clients(&self) -> Clients {
        Clients::new(self.server.clone())
    }

    /// The address a request came from, as the issuer's throttle sees it: the connection's
    /// peer ([`PeerAddr`](super::PeerAddr), or axum's `ConnectInfo<SocketAddr>`), or, behind
    /// proxies trusted with [`OAuthServer::trusted_proxies`], the address the outermost of
    /// them appended to `X-Forwarded-For`. `None` when the server passed no peer on. For an
    /// app's own sign-in page, with [`Issuer::sign_in`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::endpoint::{OAuthServer, PeerAddr};
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let routes = OAuthServer::new(issuer).build();
    /// let mut request = http::Request::new(());
    /// request.headers_mut().insert("x-forwarded-for", "203.0.113.9".parse()?);
    /// request.extensions_mut().insert(PeerAddr("192.0.2.1:50123".parse()?));
    /// let (parts, ()) = request.into_parts();
    /// // No proxy is trusted by default: the header is the client's say.
    /// assert_eq!(routes.client_ip(&parts), Some([192, 0, 2, 1].into()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_ip(&self, parts: &http::request::Parts) -> Option<IpAddr> {
        self.server.client_ip(parts)
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
    /// use tower_passport_issuer::endpoint::{OAuthServer, SignIn, SignInRequest};
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// use tower_passport::BackendError;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// let routes = OAuthServer::new(issuer)
    ///     .sign_in(|_: &SignInRequest<'_>| async { Ok::<_, BackendError>(SignIn::User("7".into())) })
    ///     .build();
    /// let token = routes.session_csrf_token("7").await?;
    /// assert_ne!(token, routes.session_csrf_token("8").await?);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When no sign-in hook is set ([`OAuthServer::sign_in`]), or the store fails.
    pub async fn session_csrf_token(&self, user_id: &str) -> Result<String, IssuerError> {
        let Some(flow) = &self.server.flow else {
            return Err(IssuerError::new(
                IssuerErrorKind::Config,
                "the JSON APIs accept sessions only once a sign-in hook is set (OAuthServer::sign_in)",
            ));
        };
        let issuer = &self.server.issuer;
        Ok(flow.api_csrf_token(issuer.store(), user_id, issuer.now_for_endpoint()).await?)
    }

    /// These routes as an axum `Router` (feature `axum`), serving every path they serve.
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn into_router<S: Clone + Send + Sync + 'static>(self) -> axum::Router<S> {
        axum::Router::new().fallback_service(self)
    }
}
