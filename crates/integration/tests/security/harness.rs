//! The issuer under attack, in process: the `OAuthServer`'s routes (token, authorize and
//! its approval screen, revoke, introspect) and an API behind the guard, in one axum router
//! driven with `oneshot`; a fake sign-in hook (the user id in a header stands for the
//! app's session); the memory store; a manual clock.

use crate::issuer_support::{scopes, AUDIENCE, ISSUER, NOW};

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, LOCATION};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::clock::ManualClock;
use tower_passport::{BackendError, GuardLayer, Principal};
use tower_passport_issuer::endpoint::{OAuthServer, SignIn, SignInRequest};
use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{ClientRegistration, Issuer, IssuerBuilder, StaticUsers};

/// The fake session: who is signed in.
pub const USER: &str = "x-test-user";
pub const PASSWORD: &str = "correct horse battery staple";
pub const EMAIL: &str = "taylor@example.com";

/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub struct Harness {
    pub issuer: Issuer,
    pub app: Router,
    pub clock: ManualClock,
}

fn hook(request: &SignInRequest<'_>) -> impl std::future::Future<Output = Result<SignIn, BackendError>> {
    let user = request.parts().headers.get(USER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    async move {
        Ok(match user {
            Some(user) => SignIn::User(user),
            None => SignIn::Redirect("https://app.auth.test/login".into()),
        })
    }
}

async fn me(request: Request<Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let principal = request.extensions().get::<Principal>();
    let body = json!({
        "sub": principal.and_then(|p| p.subject()),
        "client_id": principal.and_then(|p| p.client_id()),
    });
    Ok(Response::new(Full::new(Bytes::from(body.to_string()))))
}

/// The issuer with the password grant, on a manual clock at `NOW`.
pub fn builder(clock: &ManualClock) -> IssuerBuilder {
    let users = StaticUsers::new(1_000).user(EMAIL, PASSWORD, "1").expect("user");
    Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
        .audience(AUDIENCE)
        .scopes(scopes())
        .clock(clock.clone())
        .enable_password_grant(users)
}

/// A response, read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("a JSON body: {self:?}"))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("ascii"))
    }

    /// An RFC 6749 §5.2 error with this status and code, not cacheable.
    pub fn assert_oauth_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.json()["error"], code, "{self:?}");
        assert_eq!(self.header("cache-control"), Some("no-store"), "{self:?}");
    }

    /// A successful token response: its body.
    pub fn assert_tokens(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        assert_eq!(self.json()["token_type"], "Bearer", "{self:?}");
        self.json()
    }

    pub fn location(&self) -> &str {
        self.header(LOCATION.as_str()).unwrap_or_else(|| panic!("no Location: {self:?}"))
    }

    /// The query parameters of the Location.
    pub fn redirect_params(&self) -> Vec<(String, String)> {
        let query = self.location().split_once('?').map(|(_, q)| q).unwrap_or_default();
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    pub fn redirect_param(&self, name: &str) -> Option<String> {
        self.redirect_params().into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// How a request authenticates its client.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    /// `client_secret_basic`, form-encoded first (RFC 6749 §2.3.1).
    Basic(&'a str, &'a str),
    /// `client_secret_post`.
    Post(&'a str, &'a str),
    /// A public client: `client_id` in the body.
    Public(&'a str),
}

pub fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{}:{}", form_encode(id), form_encode(secret))))
}

pub const FORM: &str = "application/x-www-form-urlencoded";

impl Harness {
    pub async fn start() -> Self {
        let clock = ManualClock::new(NOW);
        Self::start_with(builder(&clock), clock).await
    }

    pub async fn start_with(builder: IssuerBuilder, clock: ManualClock) -> Self {
        let issuer = builder.build().expect("issuer");
        let guard = GuardLayer::builder(issuer.verifier())
            .revocation(issuer.revocation_list())
            .build()
            .expect("guard");
        let oauth = OAuthServer::new(issuer.clone()).sign_in(hook).build();
        let app = Router::new()
            .route_service("/api/me", ServiceBuilder::new().layer(guard).service_fn(me))
            .fallback_service(oauth);
        Self { issuer, app, clock }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Reply { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn raw(&self, method: Method, path: &str, headers: &[(&str, String)], body: String) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        self.send(request.body(Body::from(body)).expect("request")).await
    }

    /// POSTs `params` form-encoded to `path`, authenticating as `auth` says.
    pub async fn form(&self, path: &str, auth: Auth<'_>, params: &[(&str, &str)]) -> Reply {
        let mut pairs: Vec<(&str, &str)> = params.to_vec();
        let mut headers = vec![("content-type", FORM.to_owned())];
        match auth {
            Auth::None => {}
            Auth::Basic(id, secret) => headers.push(("authorization", basic(id, secret))),
            Auth::Post(id, secret) => pairs.extend([("client_id", id), ("client_secret", secret)]),
            Auth::Public(id) => pairs.push(("client_id", id)),
        }
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        self.raw(Method::POST, path, &headers, body).await
    }

    pub async fn token(&self, auth: Auth<'_>, params: &[(&str, &str)]) -> Reply {
        self.form("/oauth/token", auth, params).await
    }

    /// `GET /api/me` with `token`.
    pub async fn api(&self, token: &str) -> Reply {
        self.raw(Method::GET, "/api/me", &[("authorization", format!("Bearer {token}"))], String::new()).await
    }

    /// Registers a confidential client that may use `grants`; its id and secret.
    pub async fn confidential(
        &self,
        name: &str,
        grants: &[GrantType],
        redirect_uris: &[&str],
    ) -> (String, String) {
        let registration = ClientRegistration::confidential(name)
            .grants(grants.iter().copied())
            .redirect_uris(redirect_uris.iter().copied());
        let registered = self.issuer.register_client(registration).await.expect("registered");
        (registered.client.id, registered.secret.expect("secret").expose().to_owned())
    }

    /// Registers a public client with the code and refresh grants; its id.
    pub async fn public(&self, name: &str, redirect_uris: &[&str]) -> String {
        let registration = ClientRegistration::public(name)
            .grants([GrantType::AuthorizationCode, GrantType::RefreshToken])
            .redirect_uris(redirect_uris.iter().copied());
        self.issuer.register_client(registration).await.expect("registered").client.id
    }

    /// A confidential client with the client-credentials, password and refresh grants.
    pub async fn app(&self) -> (String, String) {
        let grants = [GrantType::ClientCredentials, GrantType::Password, GrantType::RefreshToken];
        self.confidential("App", &grants, &[]).await
    }

    /// A password-grant login of user 1 with `scope` at `client`: the token response.
    pub async fn login(&self, id: &str, secret: &str, scope: &str) -> Value {
        self.token(
            Auth::Basic(id, secret),
            &[("grant_type", "password"), ("username", EMAIL), ("password", PASSWORD), ("scope", scope)],
        )
        .await
        .assert_tokens()
    }

    /// `GET /oauth/authorize?<query>`, signed in as `user` if given.
    pub async fn authorize(&self, query: &str, user: Option<&str>) -> Reply {
        let mut request = Request::get(format!("/oauth/authorize?{query}"));
        if let Some(user) = user {
            request = request.header(USER, user);
        }
        self.send(request.body(Body::empty()).expect("request")).await
    }

    /// `POST /oauth/authorize` with `fields`, signed in as `user` if given.
    pub async fn decide(&self, fields: &[(String, String)], user: Option<&str>) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut request = Request::post("/oauth/authorize").header(CONTENT_TYPE, FORM);
        if let Some(user) = user {
            request = request.header(USER, user);
        }
        self.send(request.body(Body::from(body)).expect("request")).await
    }
}

/// An authorization request of `client` to `redirect`, with PKCE S256 and `state`.
pub fn authorize_query(client: &str, redirect: &str, state: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", redirect),
            ("scope", "read-posts"),
            ("state", state),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish()
}
