//! The OAuth HTTP endpoints over a real loopback socket: axum serving the `OAuthServer` as
//! its fallback, the JSON APIs behind the guard (`OAuthServer::json_apis`), called with
//! hyper's client; and once in plain hyper.

use crate::issuer_support as support;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};
use support::{claims, scopes, verify_with_jsonwebtoken, AUDIENCE, ISSUER};
use tower::ServiceBuilder;
use tower_passport::clock::ManualClock;
use tower_passport::{guard::TokenOnly, GuardLayer, Principal};
use tower_passport_issuer::endpoint::OAuthServer;
use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{
    AuthenticatedClient, Backoff, ClientRegistration, Issuer, IssuerBuilder, StaticUsers, Throttle,
    TokenRequest,
};

const DAY: u64 = 24 * 3600;

// ---- the server ------------------------------------------------------------------------

struct Server {
    addr: SocketAddr,
    issuer: Issuer,
    http: Client<HttpConnector, Full<Bytes>>,
}

/// The protected API route: who the guard let in.
async fn me(request: Request<axum::body::Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let principal = request.extensions().get::<Principal>();
    let body = json!({
        "sub": principal.and_then(|p| p.subject()),
        "client_id": principal.and_then(|p| p.client_id()),
        "scopes": principal.map(|p| p.scopes().iter().map(str::to_owned).collect::<Vec<_>>()),
    });
    Ok(Response::new(Full::new(Bytes::from(body.to_string()))))
}

fn users() -> StaticUsers {
    StaticUsers::new(1_000)
        .user("taylor@example.com", "password123", "1")
        .expect("user")
        .user("abigail@example.com", "secret456", "2")
        .expect("user")
}

fn base() -> IssuerBuilder {
    // The system clock: jsonwebtoken checks `exp` against it.
    Issuer::builder(ISSUER, Arc::new(MemoryStore::new())).audience(AUDIENCE).scopes(scopes())
}

async fn start_with(builder: IssuerBuilder) -> Server {
    let issuer = builder.build().expect("issuer");
    let guard = GuardLayer::builder(issuer.verifier())
        .revocation(issuer.revocation_list())
        .resolver(issuer.resolver(TokenOnly))
        .build()
        .expect("guard");
    // Every endpoint, the JSON APIs behind the guard, from the one service.
    let oauth = OAuthServer::new(issuer.clone()).json_apis(guard.clone()).build();
    let app: Router = Router::new()
        .route_service("/api/me", ServiceBuilder::new().layer(guard).service_fn(me))
        .fallback_service(oauth);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    // With the peer address (axum's `ConnectInfo`), which the throttle keys on.
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
    });
    Server { addr, issuer, http: Client::builder(TokioExecutor::new()).build_http() }
}

/// The password grant enabled.
async fn start() -> Server {
    start_with(base().enable_password_grant(users())).await
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("a JSON body: {self:?}"))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().expect("ascii"))
    }

    /// An RFC 6749 §5.2 error with this status and code, not cacheable.
    fn assert_oauth_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.json()["error"], code, "{self:?}");
        assert!(self.json()["error_description"].is_string(), "{self:?}");
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(self.header("cache-control"), Some("no-store"));
    }

    /// A successful RFC 6749 §5.1 token response.
    fn assert_tokens(&self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{self:?}");
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert_eq!(self.header("pragma"), Some("no-cache"));
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        assert_eq!(body["token_type"], "Bearer");
        assert!(body["access_token"].as_str().is_some_and(|t| t.split('.').count() == 3), "{body}");
        assert!(body["expires_in"].is_u64(), "{body}");
        body
    }
}

/// How a request authenticates its client.
#[derive(Clone, Copy)]
enum Auth<'a> {
    /// No client authentication at all.
    None,
    /// `client_secret_basic`, with id and secret form-encoded first (RFC 6749 §2.3.1).
    Basic(&'a str, &'a str),
    /// `client_secret_post`.
    Post(&'a str, &'a str),
    /// A public client: `client_id` in the body.
    Public(&'a str),
}

fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{}:{}", form_encode(id), form_encode(secret))))
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn send(&self, request: Request<Full<Bytes>>) -> Reply {
        let response = self.http.request(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("body").to_bytes();
        Reply { status, headers, body }
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        self.send(request.body(Full::new(body.into())).expect("request")).await
    }

    /// POSTs `params` form-encoded, authenticating as `auth` says.
    async fn post_form(&self, path: &str, auth: Auth<'_>, params: &[(&str, &str)]) -> Reply {
        let mut pairs: Vec<(&str, &str)> = params.to_vec();
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded".to_owned())];
        match auth {
            Auth::None => {}
            Auth::Basic(id, secret) => headers.push(("authorization", basic(id, secret))),
            Auth::Post(id, secret) => pairs.extend([("client_id", id), ("client_secret", secret)]),
            Auth::Public(id) => pairs.push(("client_id", id)),
        }
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        self.raw(Method::POST, path, &headers, body).await
    }

    async fn token(&self, auth: Auth<'_>, params: &[(&str, &str)]) -> Reply {
        self.post_form("/oauth/token", auth, params).await
    }

    async fn get(&self, path: &str, bearer: Option<&str>) -> Reply {
        let headers: Vec<_> = bearer.map(|t| ("authorization", format!("Bearer {t}"))).into_iter().collect();
        self.raw(Method::GET, path, &headers, Bytes::new()).await
    }

    async fn json_request(&self, method: Method, path: &str, bearer: &str, body: Option<Value>) -> Reply {
        let mut headers = vec![("authorization", format!("Bearer {bearer}"))];
        let body = match body {
            Some(body) => {
                headers.push(("content-type", "application/json".to_owned()));
                body.to_string()
            }
            None => String::new(),
        };
        self.raw(method, path, &headers, body).await
    }

    /// Registers a confidential client; returns its id and secret.
    async fn confidential(&self, grants: &[GrantType]) -> (String, String) {
        self.register(ClientRegistration::confidential("App").grants(grants.iter().copied())).await
    }

    /// Registers a client; returns its id and secret.
    async fn register(&self, registration: ClientRegistration) -> (String, String) {
        let registered = self.issuer.register_client(registration).await.expect("registered");
        (registered.client.id, registered.secret.expect("secret").expose().to_owned())
    }

    /// A confidential first-party app (your own web app) that may use every grant.
    async fn first_party_app(&self) -> (String, String) {
        let grants = [GrantType::ClientCredentials, GrantType::Password, GrantType::RefreshToken];
        self.register(ClientRegistration::confidential("Web").first_party(true).grants(grants)).await
    }

    /// A confidential client that may use every grant.
    async fn app(&self) -> (String, String) {
        self.confidential(&[GrantType::ClientCredentials, GrantType::Password, GrantType::RefreshToken]).await
    }

    async fn record(&self, id: &str, secret: &str) -> AuthenticatedClient {
        self.issuer.authenticate_client(id, Some(secret)).await.expect("authenticated")
    }

    /// A user token for user 1 with `scope`, minted by the issuer for a first-party app
    /// (the token-management APIs serve only those by default).
    async fn user_token(&self, scope: &str) -> String {
        self.user_login(scope).await.access_token
    }

    /// A password-grant login of user 1 with `scope` at a first-party app.
    async fn user_login(&self, scope: &str) -> tower_passport_issuer::TokenResponse {
        let (id, secret) = self.first_party_app().await;
        self.login_at(&id, &secret, scope).await
    }

    /// A password-grant login of user 1 with `scope` at the client `id`.
    async fn login_at(&self, id: &str, secret: &str, scope: &str) -> tower_passport_issuer::TokenResponse {
        let client = self.record(id, secret).await;
        self.issuer
            .grant(TokenRequest::password(client.clone(), "taylor@example.com", "password123").scope(scope))
            .await
            .expect("password grant")
    }
}

const CC: (&str, &str) = ("grant_type", "client_credentials");

// ---- POST /oauth/token -----------------------------------------------------------------

#[tokio::test]
async fn client_credentials_with_client_secret_basic() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let reply = server.token(Auth::Basic(&id, &secret), &[CC, ("scope", "check-status read-posts")]).await;
    let body = reply.assert_tokens();
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "check-status read-posts");
    assert_eq!(body.get("refresh_token"), None);
    let access = body["access_token"].as_str().expect("token");
    assert_eq!(claims(access)["sub"], id.as_str());
    let verified = server.issuer.verifier().verify(access).expect("verifies");
    assert_eq!(verified.client_id(), Some(id.as_str()));
}

#[tokio::test]
async fn client_credentials_with_client_secret_post() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let reply = server.token(Auth::Post(&id, &secret), &[CC]).await;
    let body = reply.assert_tokens();
    assert_eq!(claims(body["access_token"].as_str().expect("token"))["client_id"], id.as_str());
    assert_eq!(body.get("refresh_token"), None);
}

#[tokio::test]
async fn two_client_authentication_methods_at_once_are_invalid_request() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let both = [CC, ("client_secret", secret.as_str())];
    let reply = server.token(Auth::Basic(&id, &secret), &both).await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    // A posted client_id that contradicts the Basic one is refused too.
    let other = [CC, ("client_id", "someone-else")];
    server
        .token(Auth::Basic(&id, &secret), &other)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn a_wrong_secret_via_basic_is_invalid_client_with_a_basic_challenge() {
    let server = start().await;
    let (id, _) = server.app().await;
    let reply = server.token(Auth::Basic(&id, "not-the-secret"), &[CC]).await;
    reply.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(reply.header("www-authenticate"), Some(r#"Basic realm="oauth""#));
    // A Basic header that does not even decode is answered the same way.
    let garbled = server
        .raw(
            Method::POST,
            "/oauth/token",
            &[
                ("content-type", "application/x-www-form-urlencoded".to_owned()),
                ("authorization", "Basic !!!not-base64".to_owned()),
            ],
            "grant_type=client_credentials",
        )
        .await;
    garbled.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(garbled.header("www-authenticate"), Some(r#"Basic realm="oauth""#));
}

#[tokio::test]
async fn a_basic_challenge_comes_back_only_when_the_client_used_the_authorization_header() {
    // RFC 6749 §5.2 and league/oauth2-server: a challenge answers an attempt at HTTP
    // authentication. A client that posted its credentials gets a bare 401 invalid_client,
    // which openid-client reports as such (not as a challenge error).
    let server = start().await;
    let (id, _) = server.app().await;
    for path in ["/oauth/token", "/oauth/revoke", "/oauth/introspect"] {
        let params: &[(&str, &str)] = if path == "/oauth/token" { &[CC] } else { &[("token", "anything")] };
        let basic = server.post_form(path, Auth::Basic(&id, "not-the-secret"), params).await;
        basic.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
        assert_eq!(basic.header("www-authenticate"), Some(r#"Basic realm="oauth""#), "{path}");
        for (how, auth) in [
            ("client_secret_post", Auth::Post(&id, "not-the-secret")),
            ("an unknown public client", Auth::Public("nobody")),
            ("no client at all", Auth::None),
        ] {
            let reply = server.post_form(path, auth, params).await;
            reply.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
            assert_eq!(reply.header("www-authenticate"), None, "{path}, {how}: no challenge");
        }
    }
}

#[tokio::test]
async fn two_authorization_headers_are_invalid_request() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let reply = server
        .raw(
            Method::POST,
            "/oauth/token",
            &[
                ("content-type", "application/x-www-form-urlencoded".to_owned()),
                ("authorization", basic(&id, &secret)),
                ("authorization", basic(&id, &secret)),
            ],
            "grant_type=client_credentials",
        )
        .await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn a_secret_with_anything_after_an_ampersand_does_not_authenticate() {
    let server = start().await;
    let (id, secret) = server.app().await;
    for forged in [format!("{secret}&anything"), format!("{secret}&"), format!("{secret}=x")] {
        let raw = format!("Basic {}", STANDARD.encode(format!("{id}:{forged}")));
        let reply = server
            .raw(
                Method::POST,
                "/oauth/token",
                &[("content-type", "application/x-www-form-urlencoded".to_owned()), ("authorization", raw)],
                "grant_type=client_credentials",
            )
            .await;
        reply.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
}

#[tokio::test]
async fn an_unknown_or_missing_client_is_invalid_client() {
    let server = start().await;
    let secret = "x".repeat(43);
    for auth in
        [Auth::Basic("nobody", &secret), Auth::Post("nobody", &secret), Auth::Public("nobody"), Auth::None]
    {
        server.token(auth, &[CC]).await.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
}

#[tokio::test]
async fn a_missing_grant_type_is_invalid_request() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let reply = server.token(Auth::Basic(&id, &secret), &[("scope", "read-posts")]).await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn an_unknown_grant_type_is_unsupported_grant_type() {
    let server = start().await;
    let (id, secret) = server.app().await;
    for grant in ["authorization_code", "urn:ietf:params:oauth:grant-type:device_code", "personal_access"] {
        let reply = server.token(Auth::Basic(&id, &secret), &[("grant_type", grant)]).await;
        reply.assert_oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
}

#[tokio::test]
async fn the_password_grant_when_enabled() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let params = [
        ("grant_type", "password"),
        ("username", "taylor@example.com"),
        ("password", "password123"),
        ("scope", "read-posts"),
    ];
    let body = server.token(Auth::Basic(&id, &secret), &params).await.assert_tokens();
    assert_eq!(body["scope"], "read-posts");
    assert!(body["refresh_token"].is_string(), "{body}");
    assert_eq!(claims(body["access_token"].as_str().expect("token"))["sub"], "1");

    let wrong = [("grant_type", "password"), ("username", "taylor@example.com"), ("password", "nope")];
    server
        .token(Auth::Basic(&id, &secret), &wrong)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    let missing = [("grant_type", "password"), ("username", "taylor@example.com")];
    let reply = server.token(Auth::Basic(&id, &secret), &missing).await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn the_password_grant_when_disabled() {
    let server = start_with(base()).await;
    let (id, secret) = server.app().await;
    let params =
        [("grant_type", "password"), ("username", "taylor@example.com"), ("password", "password123")];
    let reply = server.token(Auth::Basic(&id, &secret), &params).await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
}

#[tokio::test]
async fn the_refresh_token_grant_rotates_and_a_reuse_is_invalid_grant() {
    // Strict reuse detection: an immediate reuse is reuse, not a lost race.
    let server =
        start_with(base().enable_password_grant(users()).refresh_race_window(std::time::Duration::ZERO))
            .await;
    let (id, secret) = server.app().await;
    let login = [("grant_type", "password"), ("username", "taylor@example.com"), ("password", "password123")];
    let first = server.token(Auth::Basic(&id, &secret), &login).await.assert_tokens();
    let first_refresh = first["refresh_token"].as_str().expect("refresh token");

    let refresh = [("grant_type", "refresh_token"), ("refresh_token", first_refresh)];
    let second = server.token(Auth::Post(&id, &secret), &refresh).await.assert_tokens();
    let second_refresh = second["refresh_token"].as_str().expect("refresh token");
    assert_ne!(second_refresh, first_refresh);
    let second_access = second["access_token"].as_str().expect("access token");
    assert_eq!(server.get("/api/me", Some(second_access)).await.status, StatusCode::OK);

    let reuse = server.token(Auth::Basic(&id, &secret), &refresh).await;
    reuse.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    // The family is dead: the newest refresh token and the live access token with it.
    let newest = [("grant_type", "refresh_token"), ("refresh_token", second_refresh)];
    server
        .token(Auth::Basic(&id, &secret), &newest)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(server.get("/api/me", Some(second_access)).await.status, StatusCode::UNAUTHORIZED);

    let missing = server.token(Auth::Basic(&id, &secret), &[("grant_type", "refresh_token")]).await;
    missing.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn an_invalid_scope_is_invalid_scope() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let reply = server.token(Auth::Basic(&id, &secret), &[CC, ("scope", "read-posts launch-missiles")]).await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
}

#[tokio::test]
async fn every_token_response_is_bearer_and_not_cacheable() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let machine = server.token(Auth::Basic(&id, &secret), &[CC]).await.assert_tokens();
    let login = [("grant_type", "password"), ("username", "abigail@example.com"), ("password", "secret456")];
    let user = server.token(Auth::Post(&id, &secret), &login).await.assert_tokens();
    let refresh =
        [("grant_type", "refresh_token"), ("refresh_token", user["refresh_token"].as_str().expect("rt"))];
    let refreshed = server.token(Auth::Basic(&id, &secret), &refresh).await.assert_tokens();
    for body in [machine, user, refreshed] {
        assert_eq!(body["token_type"], "Bearer");
    }
    // Error answers are not cacheable either.
    let error = server.token(Auth::Basic(&id, &secret), &[("grant_type", "nope")]).await;
    assert_eq!(error.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let reply =
        server.token(Auth::Basic(&id, &secret), &[CC, ("scope", "read-posts"), ("scope", "admin")]).await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    let twice = server.token(Auth::Basic(&id, &secret), &[CC, CC]).await;
    twice.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn a_body_that_is_not_form_encoded_is_invalid_request() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let auth = ("authorization", basic(&id, &secret));
    let json = server
        .raw(
            Method::POST,
            "/oauth/token",
            &[auth.clone(), ("content-type", "application/json".to_owned())],
            r#"{"grant_type":"client_credentials"}"#,
        )
        .await;
    json.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    let untyped = server
        .raw(Method::POST, "/oauth/token", std::slice::from_ref(&auth), "grant_type=client_credentials")
        .await;
    untyped.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    // A charset parameter is fine.
    let charset = server
        .raw(
            Method::POST,
            "/oauth/token",
            &[auth, ("content-type", "application/x-www-form-urlencoded; charset=UTF-8".to_owned())],
            "grant_type=client_credentials",
        )
        .await;
    charset.assert_tokens();
}

#[tokio::test]
async fn a_body_over_16_kib_is_413() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let padding = "a".repeat(16 * 1024);
    let reply = server.token(Auth::Basic(&id, &secret), &[CC, ("padding", &padding)]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{reply:?}");
    assert_eq!(reply.json()["error"], "invalid_request");
    // Just under the cap is read (and the unknown parameter ignored).
    let padding = "a".repeat(16 * 1024 - 200);
    server.token(Auth::Basic(&id, &secret), &[CC, ("padding", &padding)]).await.assert_tokens();
}

#[tokio::test]
async fn an_announced_oversized_body_is_413_before_any_of_it_is_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start().await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.expect("connect");
    // Headers only: the 10 MB body never comes, so only an answer given up front arrives.
    let head = "POST /oauth/token HTTP/1.1\r\nhost: localhost\r\n\
                content-type: application/x-www-form-urlencoded\r\ncontent-length: 10000000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered without waiting for the body")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn other_methods_are_405_and_unknown_paths_404() {
    let server = start().await;
    for path in ["/oauth/token", "/oauth/revoke", "/oauth/introspect"] {
        let reply = server.get(path, None).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "GET {path}");
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
    for path in ["/.well-known/jwks.json", "/.well-known/oauth-authorization-server", "/oauth/scopes"] {
        let reply = server.post_form(path, Auth::None, &[]).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "POST {path}");
    }
    assert_eq!(server.get("/oauth/nothing-here", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_405_names_the_allowed_methods() {
    let server = start().await;
    let reply = server.get("/oauth/token", None).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), Some("POST"));
    let reply = server.post_form("/.well-known/jwks.json", Auth::None, &[]).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn basic_credentials_are_form_decoded_as_rfc6749_section_2_3_1_says() {
    let server = start().await;
    let id = "client:with spaces+äöü&amp=equals%percent";
    let secret = "s3cret-with.only_unreserved~characters-0123456789";
    server
        .issuer
        .register_client(ClientRegistration::confidential("Odd").id(id).secret(secret))
        .await
        .expect("registered");
    let body = server.token(Auth::Basic(id, secret), &[CC]).await.assert_tokens();
    assert_eq!(claims(body["access_token"].as_str().expect("token"))["client_id"], id);

    // The id sent without the form-encoding decodes to another id: no such client.
    let raw = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
    let reply = server
        .raw(
            Method::POST,
            "/oauth/token",
            &[("content-type", "application/x-www-form-urlencoded".to_owned()), ("authorization", raw)],
            "grant_type=client_credentials",
        )
        .await;
    reply.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
}

// ---- POST /oauth/revoke ----------------------------------------------------------------

#[tokio::test]
async fn revoking_an_own_access_token_then_the_guard_refuses_it() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let body = server.token(Auth::Basic(&id, &secret), &[CC]).await.assert_tokens();
    let access = body["access_token"].as_str().expect("token");
    assert_eq!(server.get("/api/me", Some(access)).await.status, StatusCode::OK);

    let reply = server.post_form("/oauth/revoke", Auth::Basic(&id, &secret), &[("token", access)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    let refused = server.get("/api/me", Some(access)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["error"], "invalid_token");
    assert_eq!(refused.json()["error_description"], "The access token was revoked");
}

#[tokio::test]
async fn revoking_an_own_refresh_token_kills_its_family() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let login = [("grant_type", "password"), ("username", "taylor@example.com"), ("password", "password123")];
    let tokens = server.token(Auth::Basic(&id, &secret), &login).await.assert_tokens();
    let (access, refresh) =
        (tokens["access_token"].as_str().expect("at"), tokens["refresh_token"].as_str().expect("rt"));

    let params = [("token", refresh), ("token_type_hint", "refresh_token")];
    let reply = server.post_form("/oauth/revoke", Auth::Post(&id, &secret), &params).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");

    let again = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    server
        .token(Auth::Basic(&id, &secret), &again)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    let refused = server.get("/api/me", Some(access)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["error_description"], "The access token was revoked");
}

#[tokio::test]
async fn revoking_an_unknown_token_is_200() {
    let server = start().await;
    let (id, secret) = server.app().await;
    for token in ["no-such-token", "a.b.c"] {
        for hint in ["access_token", "refresh_token", "something_else"] {
            let params = [("token", token), ("token_type_hint", hint)];
            let reply = server.post_form("/oauth/revoke", Auth::Basic(&id, &secret), &params).await;
            assert_eq!(reply.status, StatusCode::OK, "{token} {hint}: {reply:?}");
        }
    }
}

#[tokio::test]
async fn revoking_another_clients_token_is_unauthorized_client() {
    let server = start().await;
    let (owner, owner_secret) = server.app().await;
    let (intruder, intruder_secret) = server.app().await;
    let body = server.token(Auth::Basic(&owner, &owner_secret), &[CC]).await.assert_tokens();
    let access = body["access_token"].as_str().expect("token");

    let reply = server
        .post_form("/oauth/revoke", Auth::Basic(&intruder, &intruder_secret), &[("token", access)])
        .await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
    assert_eq!(server.get("/api/me", Some(access)).await.status, StatusCode::OK, "nothing was revoked");
}

#[tokio::test]
async fn revoking_without_a_token_is_invalid_request() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let reply = server
        .post_form("/oauth/revoke", Auth::Basic(&id, &secret), &[("token_type_hint", "access_token")])
        .await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn revoking_unauthenticated_is_401() {
    let server = start().await;
    let (id, _) = server.app().await;
    let none = server.post_form("/oauth/revoke", Auth::None, &[("token", "whatever")]).await;
    none.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    let wrong = server.post_form("/oauth/revoke", Auth::Basic(&id, "wrong"), &[("token", "whatever")]).await;
    wrong.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(wrong.header("www-authenticate"), Some(r#"Basic realm="oauth""#));
}

// ---- POST /oauth/introspect ------------------------------------------------------------

#[tokio::test]
async fn introspecting_an_active_token() {
    let server = start().await;
    let (resource, resource_secret) = server.confidential(&[GrantType::ClientCredentials]).await;
    let access = server.user_token("read-posts").await;
    let reply = server
        .post_form("/oauth/introspect", Auth::Basic(&resource, &resource_secret), &[("token", &access)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read-posts");
    assert_eq!(body["sub"], "1");
    assert_eq!(body["iss"], ISSUER);
    assert_eq!(body["jti"], claims(&access)["jti"]);
    assert_eq!(body["exp"], claims(&access)["exp"]);
    assert_eq!(body["client_id"], claims(&access)["client_id"]);
}

#[tokio::test]
async fn introspecting_an_inactive_token_answers_exactly_active_false() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let body = server.token(Auth::Basic(&id, &secret), &[CC]).await.assert_tokens();
    let revoked = body["access_token"].as_str().expect("token");
    let reply = server.post_form("/oauth/revoke", Auth::Basic(&id, &secret), &[("token", revoked)]).await;
    assert_eq!(reply.status, StatusCode::OK);
    for token in [revoked, "garbage", "a.b.c"] {
        let reply =
            server.post_form("/oauth/introspect", Auth::Post(&id, &secret), &[("token", token)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(&reply.body[..], br#"{"active":false}"#);
        assert_eq!(reply.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn introspection_by_a_public_client_is_unauthorized_client() {
    let server = start().await;
    let public = server.issuer.register_client(ClientRegistration::public("SPA")).await.expect("registered");
    let access = server.user_token("read-posts").await;
    let reply =
        server.post_form("/oauth/introspect", Auth::Public(&public.client.id), &[("token", &access)]).await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
}

#[tokio::test]
async fn introspecting_unauthenticated_is_401() {
    let server = start().await;
    let (id, _) = server.app().await;
    let access = server.user_token("read-posts").await;
    let none = server.post_form("/oauth/introspect", Auth::None, &[("token", &access)]).await;
    none.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(!String::from_utf8_lossy(&none.body).contains("active"));
    let wrong = server.post_form("/oauth/introspect", Auth::Post(&id, "wrong"), &[("token", &access)]).await;
    wrong.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
}

// ---- discovery -------------------------------------------------------------------------

#[tokio::test]
async fn the_jwks_verifies_issued_tokens_with_jsonwebtoken() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let body = server.token(Auth::Basic(&id, &secret), &[CC, ("scope", "read-posts")]).await.assert_tokens();
    let access = body["access_token"].as_str().expect("token");

    let reply = server.get("/.well-known/jwks.json", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let jwks = reply.json();
    assert_eq!(jwks["keys"].as_array().expect("keys").len(), 1);
    assert!(jwks["keys"][0].get("d").is_none(), "no private key material");
    let verified =
        verify_with_jsonwebtoken(&jwks, access, jsonwebtoken::Algorithm::ES256).expect("jsonwebtoken");
    assert_eq!(verified["client_id"], id.as_str());
    assert_eq!(verified["scope"], "read-posts");
}

#[tokio::test]
async fn the_authorization_server_metadata() {
    let server = start_with(base()).await;
    let reply = server.get("/.well-known/oauth-authorization-server", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let metadata = reply.json();
    assert_eq!(metadata["issuer"], ISSUER);
    assert_eq!(metadata["token_endpoint"], format!("{ISSUER}/oauth/token"));
    assert_eq!(metadata["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));
    assert_eq!(metadata["revocation_endpoint"], format!("{ISSUER}/oauth/revoke"));
    assert_eq!(metadata["introspection_endpoint"], format!("{ISSUER}/oauth/introspect"));
    assert_eq!(metadata["grant_types_supported"], json!(["client_credentials", "refresh_token"]));
    assert_eq!(metadata["scopes_supported"], json!(["read-posts", "write-posts", "admin", "check-status"]));
    // Each endpoint lists only the client authentication it accepts: public clients
    // (`none`) may not introspect.
    let with_public = json!(["client_secret_basic", "client_secret_post", "none"]);
    assert_eq!(metadata["token_endpoint_auth_methods_supported"], with_public);
    assert_eq!(metadata["revocation_endpoint_auth_methods_supported"], with_public);
    assert_eq!(
        metadata["introspection_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );

    let with_password = start().await.get("/.well-known/oauth-authorization-server", None).await.json();
    assert_eq!(
        with_password["grant_types_supported"],
        json!(["client_credentials", "refresh_token", "password"])
    );
}

#[tokio::test]
async fn routes_mounted_under_a_prefix_publish_endpoints_that_answer() {
    use tower::ServiceExt;
    let issuer = base().build().expect("issuer");
    let routes = OAuthServer::new(issuer.clone()).mount_path("/auth").build();
    let registered =
        issuer.register_client(ClientRegistration::confidential("App")).await.expect("registered");
    let secret = registered.secret.as_ref().expect("secret").expose().to_owned();
    // axum strips the prefix; a router that does not strip it works the same.
    let nested: Router = Router::new().nest_service("/auth", routes.clone());
    let unstripped: Router = Router::new().route_service("/auth/{*rest}", routes);
    for app in [nested, unstripped] {
        let request = Request::get("/auth/.well-known/oauth-authorization-server")
            .body(axum::body::Body::empty())
            .expect("request");
        let reply = app.clone().oneshot(request).await.expect("reply");
        assert_eq!(reply.status(), StatusCode::OK);
        let body = reply.into_body().collect().await.expect("body").to_bytes();
        let metadata: Value = serde_json::from_slice(&body).expect("json");
        let token_endpoint = metadata["token_endpoint"].as_str().expect("token endpoint");
        assert_eq!(token_endpoint, format!("{ISSUER}/auth/oauth/token"));
        assert_eq!(metadata["jwks_uri"], format!("{ISSUER}/auth/.well-known/jwks.json"));
        // The published path is where the token endpoint answers.
        let path = token_endpoint.strip_prefix(ISSUER).expect("under the issuer");
        let request = Request::post(path)
            .header(AUTHORIZATION, basic(&registered.client.id, &secret))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from("grant_type=client_credentials"))
            .expect("request");
        let reply = app.oneshot(request).await.expect("reply");
        assert_eq!(reply.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn the_jwks_and_metadata_may_be_cached_and_token_responses_may_not() {
    let server = start_with(base().jwks_max_age(std::time::Duration::from_secs(120))).await;
    let jwks = server.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, StatusCode::OK);
    assert_eq!(jwks.header("cache-control"), Some("public, max-age=120"));
    assert_eq!(jwks.header("pragma"), None);
    let metadata = server.get("/.well-known/oauth-authorization-server", None).await;
    assert_eq!(metadata.header("cache-control"), Some("public, max-age=3600"));
    let (id, secret) = server.app().await;
    let tokens = server.token(Auth::Basic(&id, &secret), &[CC]).await;
    assert_eq!(tokens.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn the_scope_listing() {
    let server = start().await;
    let reply = server.get("/oauth/scopes", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!([
            {"id": "read-posts", "description": "Read posts"},
            {"id": "write-posts", "description": "Write posts"},
            {"id": "admin", "description": "Administer"},
            {"id": "check-status", "description": "Check order status"},
        ])
    );
}

// ---- personal access tokens -------------------------------------------------------------

const PATS: &str = "/oauth/personal-access-tokens";

#[tokio::test]
async fn personal_access_tokens_are_listed_created_and_usable() {
    let server = start().await;
    let caller = server.user_token("read-posts write-posts").await;
    let empty = server.get(PATS, Some(&caller)).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.json(), json!([]));

    let created = server
        .json_request(Method::POST, PATS, &caller, Some(json!({"name": "cli", "scopes": ["read-posts"]})))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{created:?}");
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let body = created.json();
    let token = body["accessToken"].as_str().expect("accessToken");
    let listed = &body["token"];
    assert_eq!(listed["id"], claims(token)["jti"]);
    assert_eq!(listed["name"], "cli");
    assert_eq!(listed["scopes"], json!(["read-posts"]));
    assert_eq!(listed["client_id"], "personal-access-client");
    assert_eq!(listed["revoked"], false);
    let lifetime = listed["expires_at"].as_u64().expect("exp") - listed["created_at"].as_u64().expect("iat");
    assert_eq!(lifetime, 180 * DAY);
    assert!(listed.get("accessToken").is_none());

    let me = server.get("/api/me", Some(token)).await;
    assert_eq!(me.status, StatusCode::OK, "{me:?}");
    assert_eq!(me.json()["sub"], "1");
    assert_eq!(me.json()["scopes"], json!(["read-posts"]));

    let list = server.get(PATS, Some(&caller)).await.json();
    assert_eq!(list, json!([listed]));
    // The new token lists the same tokens: they belong to the user, not the caller token.
    assert_eq!(server.get(PATS, Some(token)).await.json(), list);
}

#[tokio::test]
async fn a_personal_access_token_cannot_have_scopes_the_caller_lacks() {
    let server = start().await;
    let caller = server.user_token("read-posts").await;
    let body = json!({"name": "escalate", "scopes": ["read-posts", "admin"]});
    let reply = server.json_request(Method::POST, PATS, &caller, Some(body)).await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    assert_eq!(server.get(PATS, Some(&caller)).await.json(), json!([]), "nothing was created");
}

#[tokio::test]
async fn an_empty_scope_list_cannot_mint_default_scopes_the_caller_lacks() {
    let server =
        start_with(base().scopes(scopes().default_scopes(["admin"])).enable_password_grant(users())).await;
    let caller = server.user_token("read-posts").await;
    let reply =
        server.json_request(Method::POST, PATS, &caller, Some(json!({"name": "cli", "scopes": []}))).await;
    let escalated = reply.status == StatusCode::OK
        && reply.json()["token"]["scopes"].as_array().expect("scopes").iter().any(|s| s == "admin");
    // Today: 200 with "scopes": ["admin"], minted by a token that only has read-posts.
    assert!(!escalated, "{reply:?}");
}

#[tokio::test]
async fn deleting_a_personal_access_token_revokes_it() {
    let server = start().await;
    let caller = server.user_token("read-posts").await;
    let created = server
        .json_request(Method::POST, PATS, &caller, Some(json!({"name": "cli", "scopes": []})))
        .await
        .json();
    let (token, id) =
        (created["accessToken"].as_str().expect("token"), created["token"]["id"].as_str().expect("id"));
    assert_eq!(server.get("/api/me", Some(token)).await.status, StatusCode::OK);

    let path = format!("{PATS}/{id}");
    let deleted = server.json_request(Method::DELETE, &path, &caller, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    assert!(deleted.body.is_empty());

    let list = server.get(PATS, Some(&caller)).await.json();
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["revoked"], true);
    let refused = server.get("/api/me", Some(token)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["error_description"], "The access token was revoked");

    let unknown = server.json_request(Method::DELETE, &format!("{PATS}/no-such-id"), &caller, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_users_personal_access_token_cannot_be_deleted() {
    let server = start().await;
    let theirs = server.issuer.create_personal_access_token("2", "theirs", &[]).await.expect("created");
    let caller = server.user_token("read-posts").await;
    let reply =
        server.json_request(Method::DELETE, &format!("{PATS}/{}", theirs.record.jti), &caller, None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(server.get("/api/me", Some(&theirs.access_token)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_client_credentials_caller_is_forbidden() {
    let server = start().await;
    let (id, secret) = server.app().await;
    let body = server.token(Auth::Basic(&id, &secret), &[CC, ("scope", "*")]).await.assert_tokens();
    let machine = body["access_token"].as_str().expect("token");
    let listed = server.get(PATS, Some(machine)).await;
    assert_eq!(listed.status, StatusCode::FORBIDDEN, "{listed:?}");
    assert_eq!(listed.json()["error"], "insufficient_scope");
    let created =
        server.json_request(Method::POST, PATS, machine, Some(json!({"name": "x", "scopes": []}))).await;
    assert_eq!(created.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn personal_access_tokens_without_a_token_get_a_bare_challenge() {
    let server = start().await;
    let reply = server.get(PATS, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("www-authenticate"), Some(r#"Bearer realm="api""#));
    assert!(reply.body.is_empty());
}

#[tokio::test]
async fn creating_a_personal_access_token_needs_a_json_body() {
    let server = start().await;
    let caller = server.user_token("read-posts").await;
    let headers = [("authorization", format!("Bearer {caller}")), ("content-type", "text/plain".to_owned())];
    let reply = server.raw(Method::POST, PATS, &headers, r#"{"name":"cli"}"#).await;
    reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    for bad in [
        json!({"scopes": []}),
        json!({"name": "cli", "scopes": "read-posts"}),
        json!({"name": "cli", "x": 1}),
    ] {
        let reply = server.json_request(Method::POST, PATS, &caller, Some(bad.clone())).await;
        reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    let unnamed =
        server.json_request(Method::POST, PATS, &caller, Some(json!({"name": " ", "scopes": []}))).await;
    unnamed.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(server.get(PATS, Some(&caller)).await.json(), json!([]));
}

#[tokio::test]
async fn a_third_party_clients_user_token_cannot_use_the_personal_token_api() {
    let server = start().await;
    let (id, secret) = server.app().await; // third-party: first_party is off by default
    let third_party = server.login_at(&id, &secret, "read-posts").await.access_token;
    let listed = server.get(PATS, Some(&third_party)).await;
    assert_eq!(listed.status, StatusCode::FORBIDDEN, "{listed:?}");
    assert_eq!(listed.json()["error"], "insufficient_scope");
    assert_eq!(listed.json()["error_description"], "This resource requires a token of a first-party client");
    assert!(listed.header("www-authenticate").is_some_and(|c| c.contains("insufficient_scope")));
    let created =
        server.json_request(Method::POST, PATS, &third_party, Some(json!({"name": "x", "scopes": []}))).await;
    assert_eq!(created.status, StatusCode::FORBIDDEN);
    let first_party = server.user_token("read-posts").await;
    assert_eq!(server.get(PATS, Some(&first_party)).await.json(), json!([]), "nothing was created");
}

#[tokio::test]
async fn the_first_party_rule_can_be_turned_off() {
    let server =
        start_with(base().enable_password_grant(users()).token_management_first_party_only(false)).await;
    let (id, secret) = server.app().await;
    let third_party = server.login_at(&id, &secret, "read-posts").await.access_token;
    let created =
        server.json_request(Method::POST, PATS, &third_party, Some(json!({"name": "x", "scopes": []}))).await;
    assert_eq!(created.status, StatusCode::OK, "{created:?}");
    assert_eq!(server.get(TOKENS, Some(&third_party)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_personal_token_minted_through_a_login_dies_when_the_login_is_revoked() {
    let server = start().await;
    let (id, secret) = server.first_party_app().await;
    let login = server.login_at(&id, &secret, "read-posts").await;
    let created = server
        .json_request(Method::POST, PATS, &login.access_token, Some(json!({"name": "cli", "scopes": []})))
        .await
        .json();
    let personal = created["accessToken"].as_str().expect("token");
    assert_eq!(server.get("/api/me", Some(personal)).await.status, StatusCode::OK);

    // Logging out: RFC 7009 revocation of the login's refresh token.
    let refresh = login.refresh_token.as_deref().expect("refresh token");
    let revoked = server.post_form("/oauth/revoke", Auth::Basic(&id, &secret), &[("token", refresh)]).await;
    assert_eq!(revoked.status, StatusCode::OK);
    let refused = server.get("/api/me", Some(personal)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "the personal token died with its login");
    assert_eq!(refused.json()["error_description"], "The access token was revoked");
}

const TOKENS: &str = "/oauth/tokens";

#[tokio::test]
async fn the_authorized_tokens_api_lists_the_users_clients() {
    let server = start().await;
    let (web, web_secret) = server.first_party_app().await;
    let caller = server.login_at(&web, &web_secret, "read-posts").await;
    let (reader, reader_secret) = server.app().await;
    server.login_at(&reader, &reader_secret, "write-posts").await;
    server
        .json_request(Method::POST, PATS, &caller.access_token, Some(json!({"name": "cli", "scopes": []})))
        .await;

    let reply = server.get(TOKENS, Some(&caller.access_token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let listed = reply.json();
    let entries = listed.as_array().expect("an array");
    assert_eq!(entries.len(), 2, "one per client, the personal access client left out: {listed}");
    let web_entry = entries.iter().find(|e| e["id"] == web.as_str()).expect("the web app");
    assert_eq!(web_entry["client_id"], web.as_str());
    assert_eq!(web_entry["client"], json!({"id": web, "name": "Web", "first_party": true}));
    assert_eq!(web_entry["scopes"], json!(["read-posts"]));
    assert_eq!(web_entry["revoked"], false);
    let lifetime =
        web_entry["expires_at"].as_u64().expect("exp") - web_entry["created_at"].as_u64().expect("iat");
    assert_eq!(lifetime, 30 * DAY, "the refresh token's");
    let reader_entry = entries.iter().find(|e| e["id"] == reader.as_str()).expect("the other app");
    assert_eq!(reader_entry["client"]["first_party"], false);
    assert_eq!(reader_entry["scopes"], json!(["write-posts"]));
}

#[tokio::test]
async fn deleting_an_authorized_client_revokes_its_tokens() {
    let server = start().await;
    let (web, web_secret) = server.first_party_app().await;
    let caller = server.login_at(&web, &web_secret, "read-posts").await;
    let (reader, reader_secret) = server.app().await;
    let reader_login = server.login_at(&reader, &reader_secret, "read-posts").await;
    let (mobile, mobile_secret) = server.app().await;
    let mobile_login = server.login_at(&mobile, &mobile_secret, "read-posts").await;

    // By client id (an entry's id).
    let deleted =
        server.json_request(Method::DELETE, &format!("{TOKENS}/{reader}"), &caller.access_token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    assert!(deleted.body.is_empty());
    assert_eq!(
        server.get("/api/me", Some(&reader_login.access_token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let refresh = reader_login.refresh_token.as_deref().expect("refresh");
    server
        .token(
            Auth::Basic(&reader, &reader_secret),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    let again =
        server.json_request(Method::DELETE, &format!("{TOKENS}/{reader}"), &caller.access_token, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // By token id, as Passport's `DELETE /oauth/tokens/{token-id}`.
    let token_id = claims(&mobile_login.access_token)["jti"].as_str().expect("jti").to_owned();
    let deleted = server
        .json_request(Method::DELETE, &format!("{TOKENS}/{token_id}"), &caller.access_token, None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get("/api/me", Some(&mobile_login.access_token)).await.status,
        StatusCode::UNAUTHORIZED
    );

    let left = server.get(TOKENS, Some(&caller.access_token)).await.json();
    assert_eq!(left.as_array().map(|entries| entries.len()), Some(1), "{left}");
    assert_eq!(left[0]["id"], web.as_str());
    let unknown = server
        .json_request(Method::DELETE, &format!("{TOKENS}/no-such-id"), &caller.access_token, None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_authorized_tokens_api_refuses_what_the_personal_token_api_refuses() {
    let server = start().await;
    let none = server.get(TOKENS, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.header("www-authenticate"), Some(r#"Bearer realm="api""#));
    let (id, secret) = server.app().await;
    let machine = server.token(Auth::Basic(&id, &secret), &[CC]).await.assert_tokens();
    let machine = machine["access_token"].as_str().expect("token");
    assert_eq!(server.get(TOKENS, Some(machine)).await.status, StatusCode::FORBIDDEN);
    let third_party = server.login_at(&id, &secret, "read-posts").await;
    let refused = server.get(TOKENS, Some(&third_party.access_token)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["error"], "insufficient_scope");
    let deleted =
        server.json_request(Method::DELETE, &format!("{TOKENS}/{id}"), &third_party.access_token, None).await;
    assert_eq!(deleted.status, StatusCode::FORBIDDEN, "a third-party app cannot revoke anything");
    assert_eq!(server.get("/api/me", Some(&third_party.access_token)).await.status, StatusCode::OK);

    let caller = server.user_token("read-posts").await;
    let posted = server.json_request(Method::POST, TOKENS, &caller, Some(json!({}))).await;
    assert_eq!(posted.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(posted.header("allow"), Some("GET"));
}

// ---- plain hyper -----------------------------------------------------------------------

#[tokio::test]
async fn the_oauth_routes_serve_plain_hyper() {
    let issuer = base().build().expect("issuer");
    let registered =
        issuer.register_client(ClientRegistration::confidential("Billing")).await.expect("registered");
    let (id, secret) = (registered.client.id.clone(), registered.secret.expect("secret").expose().to_owned());
    let routes = OAuthServer::new(issuer.clone()).build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { break };
            let service = TowerToHyperService::new(routes.clone());
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let http: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let request = |method: Method, path: &str, body: &'static str| {
        Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(AUTHORIZATION, basic(&id, &secret))
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .expect("request")
    };

    let response = http.request(request(Method::POST, "/oauth/token", "grant_type=client_credentials")).await;
    let response = response.expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
    let body: Value = serde_json::from_slice(&response.into_body().collect().await.expect("body").to_bytes())
        .expect("json");
    assert_eq!(body["token_type"], "Bearer");
    let access = body["access_token"].as_str().expect("token");
    assert_eq!(issuer.verifier().verify(access).expect("verifies").client_id(), Some(id.as_str()));

    let jwks = http.request(request(Method::GET, "/.well-known/jwks.json", "")).await.expect("response");
    assert_eq!(jwks.status(), StatusCode::OK);
    let jwks: Value =
        serde_json::from_slice(&jwks.into_body().collect().await.expect("body").to_bytes()).expect("json");
    verify_with_jsonwebtoken(&jwks, access, jsonwebtoken::Algorithm::ES256).expect("jsonwebtoken");

    let wrong = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{addr}/oauth/token"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(AUTHORIZATION, basic(&id, "wrong"))
        .body(Full::new(Bytes::from_static(b"grant_type=client_credentials")))
        .expect("request");
    let wrong = http.request(wrong).await.expect("response");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.headers()[WWW_AUTHENTICATE], r#"Basic realm="oauth""#);

    let missing = http.request(request(Method::GET, "/elsewhere", "")).await.expect("response");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// Refuses every attempt.
struct Closed;

impl tower_passport_issuer::AuthLimiter for Closed {
    async fn check(
        &self,
        _: &tower_passport_issuer::AuthAttempt<'_>,
    ) -> Result<tower_passport_issuer::Verdict, tower_passport::BackendError> {
        Ok(tower_passport_issuer::Verdict::RetryAfter(std::time::Duration::from_secs(7)))
    }
    async fn failed(
        &self,
        _: &tower_passport_issuer::AuthAttempt<'_>,
    ) -> Result<(), tower_passport::BackendError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_rate_limited_client_gets_429_with_retry_after() {
    let server = start_with(base().auth_limiter(Closed)).await;
    let (id, secret) = server.app().await;
    let reply = server.token(Auth::Basic(&id, &secret), &[CC]).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{reply:?}");
    assert_eq!(reply.header("retry-after"), Some("7"));
    assert_eq!(reply.json()["error"], "temporarily_unavailable");
}

// ---- throttling --------------------------------------------------------------------------

/// The default throttle's policies, on a clock the test moves (the tokens themselves keep the
/// system clock, which jsonwebtoken checks).
fn throttled(clock: &ManualClock) -> IssuerBuilder {
    base().enable_password_grant(users()).auth_limiter(Throttle::in_memory().clock(clock.clone()))
}

#[tokio::test]
async fn wrong_passwords_at_the_token_endpoint_get_429_with_retry_after() {
    let clock = ManualClock::new(1_800_000_000);
    let server = start_with(throttled(&clock)).await;
    let (id, secret) = server.app().await;
    let password = |password: &'static str| {
        [("grant_type", "password"), ("username", "taylor@example.com"), ("password", password)]
    };
    for _ in 0..6 {
        server
            .token(Auth::Basic(&id, &secret), &password("wrong"))
            .await
            .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    // The right password is refused while the account waits.
    let refused = server.token(Auth::Basic(&id, &secret), &password("password123")).await;
    refused.assert_oauth_error(StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable");
    assert_eq!(refused.header("retry-after"), Some("1"));
    clock.advance(1);
    server.token(Auth::Basic(&id, &secret), &password("password123")).await.assert_tokens();
}

#[tokio::test]
async fn wrong_client_secrets_at_token_revoke_and_introspect_are_throttled() {
    let clock = ManualClock::new(1_800_000_000);
    let server = start_with(throttled(&clock)).await;
    let (id, secret) = server.app().await;
    let token = [("token", "anything")];
    for path in ["/oauth/token", "/oauth/revoke", "/oauth/introspect"] {
        for _ in 0..2 {
            let wrong = server.post_form(path, Auth::Post(&id, "a-wrong-secret"), &[CC, token[0]]).await;
            wrong.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
        }
    }
    // Six failures for this client from this address: even the right secret waits, at every
    // endpoint, and the answer says how long.
    for path in ["/oauth/introspect", "/oauth/token"] {
        let refused = server.post_form(path, Auth::Basic(&id, &secret), &[CC, token[0]]).await;
        refused.assert_oauth_error(StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable");
        assert_eq!(refused.header("retry-after"), Some("1"));
    }
    clock.advance(1);
    server.token(Auth::Basic(&id, &secret), &[CC]).await.assert_tokens();
}

#[tokio::test]
async fn failures_spread_over_many_clients_from_one_address_are_throttled_by_the_address() {
    // Failures under 21 client ids, one each: no client id reaches its limit, but the
    // address (which the endpoint takes from axum's ConnectInfo) does.
    let clock = ManualClock::new(1_800_000_000);
    let policy = Backoff::new(
        20,
        std::time::Duration::from_secs(30),
        std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(60),
    );
    let server =
        start_with(base().auth_limiter(Throttle::in_memory().clock(clock.clone()).addresses(Some(policy))))
            .await;
    let (id, secret) = server.app().await;
    for n in 0..21 {
        let unknown = format!("no-such-client-{n}");
        server
            .token(Auth::Basic(&unknown, "guess"), &[CC])
            .await
            .assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let refused = server.token(Auth::Basic(&id, &secret), &[CC]).await;
    refused.assert_oauth_error(StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable");
    assert_eq!(refused.header("retry-after"), Some("30"));
    clock.advance(30);
    server.token(Auth::Basic(&id, &secret), &[CC]).await.assert_tokens();
}
