//! The authorization code grant through the `OAuthServer`'s routes over the durable stores: the
//! whole exchange (authorize, approve on the screen, exchange the code, call the API,
//! present the code again and see its tokens revoked) over a `SqliteStore` in a file and
//! over the `AnyStore` that `PASSPORT_STORE=sqlite::memory:` opens. `authorization_code.rs`
//! covers every error row over the memory store; this checks the SQL store carries the flow.

use crate::issuer_support as support;

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, LOCATION};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use support::{claims, scopes, AUDIENCE, ISSUER, NOW};
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::clock::ManualClock;
use tower_passport::{BackendError, GuardLayer, Principal};
use tower_passport_cli::AnyStore;
use tower_passport_issuer::endpoint::{OAuthServer, SignIn, SignInRequest};
use tower_passport_issuer::store::{GrantType, RevocationStore, Store};
use tower_passport_issuer::{ClientRegistration, Issuer};
use tower_passport_sql::SqliteStore;

/// The fake session: the signed-in user's id, in a header.
const USER: &str = "x-test-user";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CALLBACK: &str = "https://spa.example.com/cb";

fn hook(request: &SignInRequest<'_>) -> impl std::future::Future<Output = Result<SignIn, BackendError>> {
    let user = request.parts().headers.get(USER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let sign_in = format!("https://app.auth.test/login?next={}", request.return_to_encoded());
    async move { Ok(user.map_or(SignIn::Redirect(sign_in), SignIn::User)) }
}

async fn me(request: Request<axum::body::Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let sub = request.extensions().get::<Principal>().and_then(|p| p.subject()).unwrap_or_default();
    Ok(Response::new(Full::new(Bytes::from(sub.to_owned()))))
}

/// A request to `app`, answered: status, `Location`, body.
async fn send(app: &Router, request: Request<axum::body::Body>) -> (StatusCode, Option<String>, String) {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let location = response.headers().get(LOCATION).map(|v| v.to_str().expect("ascii").to_owned());
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, location, String::from_utf8(body.to_vec()).expect("utf8"))
}

fn form(path: &str, fields: &[(&str, &str)], user: Option<&str>) -> Request<axum::body::Body> {
    let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    let mut request = Request::post(path).header(CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(user) = user {
        request = request.header(USER, user);
    }
    request.body(axum::body::Body::from(body)).expect("request")
}

/// A client id no earlier run used (PostgreSQL and Redis keep their data).
fn unique(prefix: &str) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// The whole exchange over `store`, through the `OAuthServer`'s routes; returns the code.
async fn the_whole_exchange_and_a_reuse_that_revokes<S: Store>(store: S) -> String {
    let spa = unique("spa");
    let spa_id: &str = &spa;
    let clock = ManualClock::new(NOW);
    let issuer = Issuer::builder(ISSUER, Arc::new(store))
        .audience(AUDIENCE)
        .scopes(scopes())
        .clock(clock.clone())
        .build()
        .expect("issuer");
    let registration = ClientRegistration::public("Single-page app")
        .id(spa_id)
        .grants([GrantType::AuthorizationCode, GrantType::RefreshToken])
        .redirect_uris([CALLBACK]);
    issuer.register_client(registration).await.expect("register");
    let guard =
        GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).build().expect("guard");
    let app = Router::new()
        .route_service("/api/me", ServiceBuilder::new().layer(guard).service_fn(me))
        .fallback_service(OAuthServer::new(issuer.clone()).sign_in(hook).build());
    let api = |access: String| {
        let app = app.clone();
        async move {
            let request = Request::get("/api/me")
                .header("authorization", format!("Bearer {access}"))
                .body(axum::body::Body::empty())
                .expect("request");
            send(&app, request).await.0
        }
    };

    // Authorize: the screen, for the signed-in user 7.
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", spa_id),
            ("redirect_uri", CALLBACK),
            ("scope", "read-posts write-posts"),
            ("state", "xyz"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let request = Request::get(format!("/oauth/authorize?{query}")).header(USER, "7");
    let (status, _, screen) = send(&app, request.body(axum::body::Body::empty()).expect("request")).await;
    assert_eq!(status, StatusCode::OK, "{screen}");
    assert!(screen.contains("Single-page app") && screen.contains("Read posts"), "{screen}");

    // Approve: back to the callback with the code, the state and the issuer.
    let mut fields = support::approve_form_fields(&screen);
    fields.push(("decision".into(), "approve".into()));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, location, body) = send(&app, form("/oauth/authorize", &fields, Some("7"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let location = location.expect("a redirect");
    assert!(location.starts_with(&format!("{CALLBACK}?code=")), "{location}");
    let params: std::collections::HashMap<String, String> =
        form_urlencoded::parse(location.split_once('?').expect("a query").1.as_bytes())
            .into_owned()
            .collect();
    assert_eq!((params["state"].as_str(), params["iss"].as_str()), ("xyz", ISSUER));
    let code = params["code"].clone();

    // The token request: tokens that call the API.
    let exchange = [
        ("grant_type", "authorization_code"),
        ("client_id", spa_id),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let (status, _, body) = send(&app, form("/oauth/token", &exchange, None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tokens: Value = serde_json::from_str(&body).expect("json");
    let access = tokens["access_token"].as_str().expect("access token").to_owned();
    let refresh = tokens["refresh_token"].as_str().expect("refresh token").to_owned();
    assert_eq!(claims(&access)["sub"], "7");
    assert_eq!(tokens["scope"], "read-posts write-posts");
    assert_eq!(api(access.clone()).await, StatusCode::OK);

    // The same code again: refused, and what it issued is revoked.
    clock.advance(5);
    let (status, _, body) = send(&app, form("/oauth/token", &exchange, None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).expect("json")["error"], "invalid_grant");
    let jti = claims(&access)["jti"].as_str().expect("jti").to_owned();
    assert!(issuer.store().is_revoked(&jti).await.expect("store"), "the access token is revoked");
    assert_eq!(api(access).await, StatusCode::UNAUTHORIZED);
    let refreshing =
        [("grant_type", "refresh_token"), ("client_id", spa_id), ("refresh_token", refresh.as_str())];
    let (status, _, body) = send(&app, form("/oauth/token", &refreshing, None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the refresh token died with its family: {body}");
    assert_eq!(serde_json::from_str::<Value>(&body).expect("json")["error"], "invalid_grant");
    code
}

#[tokio::test]
async fn the_whole_exchange_over_a_sqlite_file() {
    let path = std::env::temp_dir().join(format!("{}.db", unique("tower-passport-code-flow")));
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display())).await.expect("open");
    store.migrate().await.expect("migrate");
    let code = the_whole_exchange_and_a_reuse_that_revokes(store).await;
    // The database and its write-ahead log hold the code's hash, never the code.
    for file in [path.clone(), path.with_extension("db-wal")] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        assert!(
            !bytes.windows(code.len()).any(|w| w == code.as_bytes()),
            "{} holds the code",
            file.display()
        );
        let _ = std::fs::remove_file(&file);
    }
    let _ = std::fs::remove_file(path.with_extension("db-shm"));
}

#[tokio::test]
async fn the_whole_exchange_over_any_store_sqlite_in_memory() {
    let store = AnyStore::open("sqlite::memory:").await.expect("open and migrate");
    assert_eq!(store.kind(), "sqlite");
    the_whole_exchange_and_a_reuse_that_revokes(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_exchange_over_postgres() {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return;
    };
    the_whole_exchange_and_a_reuse_that_revokes(AnyStore::open(&url).await.expect("open")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_exchange_over_redis() {
    let Ok(url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipping: TEST_REDIS_URL is not set");
        return;
    };
    the_whole_exchange_and_a_reuse_that_revokes(AnyStore::open(&url).await.expect("open")).await;
}

/// The routes of an issuer over a store with the flow on, and two public clients.
struct Flow {
    clock: ManualClock,
    app: Router,
    spa: String,
    other: String,
}

impl Flow {
    async fn new<S: Store>(store: S) -> Self {
        let clock = ManualClock::new(NOW);
        let issuer = Issuer::builder(ISSUER, Arc::new(store))
            .audience(AUDIENCE)
            .scopes(scopes())
            .clock(clock.clone())
            .build()
            .expect("issuer");
        let (spa, other) = (unique("spa"), unique("other"));
        for id in [&spa, &other] {
            let registration = ClientRegistration::public("Single-page app")
                .id(id.as_str())
                .grants([GrantType::AuthorizationCode, GrantType::RefreshToken])
                .redirect_uris([CALLBACK]);
            issuer.register_client(registration).await.expect("register");
        }
        let app = Router::new().fallback_service(OAuthServer::new(issuer).sign_in(hook).build());
        Self { clock, app, spa, other }
    }

    /// A fresh code for the signed-in user 7, approved on the screen.
    async fn code(&self) -> String {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", self.spa.as_str()),
                ("redirect_uri", CALLBACK),
                ("scope", "read-posts"),
                ("state", "s"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ])
            .finish();
        let request = Request::get(format!("/oauth/authorize?{query}")).header(USER, "7");
        let (status, _, screen) =
            send(&self.app, request.body(axum::body::Body::empty()).expect("request")).await;
        assert_eq!(status, StatusCode::OK, "{screen}");
        let mut fields = support::approve_form_fields(&screen);
        fields.push(("decision".into(), "approve".into()));
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (_, location, body) = send(&self.app, form("/oauth/authorize", &fields, Some("7"))).await;
        let location = location.unwrap_or_else(|| panic!("a redirect: {body}"));
        let query = location.split_once('?').expect("a query").1;
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "code").expect("a code").1.into_owned()
    }

    /// The token request for `code`: its status and `error`, if any.
    async fn exchange(
        &self,
        client: &str,
        code: &str,
        redirect: &str,
        verifier: &str,
    ) -> (StatusCode, Option<String>) {
        let fields = [
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ];
        let (status, _, body) = send(&self.app, form("/oauth/token", &fields, None)).await;
        let error =
            serde_json::from_str::<Value>(&body).ok().and_then(|v| v["error"].as_str().map(str::to_owned));
        (status, error)
    }
}

/// What every store must carry out alike: a wrong verifier, another redirect URI,
/// another client and an expired code are `invalid_grant`; of 24 concurrent exchanges of
/// one code at most one gets tokens, and they are revoked.
async fn the_exchange_refuses_what_does_not_match<S: Store>(store: S) {
    let flow = Flow::new(store).await;
    let refused = (StatusCode::BAD_REQUEST, Some("invalid_grant".to_owned()));
    let wrong_verifier = "x".repeat(43);
    let code = flow.code().await;
    assert_eq!(flow.exchange(&flow.spa, &code, CALLBACK, &wrong_verifier).await, refused, "wrong verifier");
    let code = flow.code().await;
    assert_eq!(
        flow.exchange(&flow.spa, &code, "https://spa.example.com/other", VERIFIER).await,
        refused,
        "redirect"
    );
    let code = flow.code().await;
    assert_eq!(flow.exchange(&flow.other, &code, CALLBACK, VERIFIER).await, refused, "another client");
    let code = flow.code().await;
    flow.clock.advance(601);
    assert_eq!(flow.exchange(&flow.spa, &code, CALLBACK, VERIFIER).await, refused, "expired");

    let code = flow.code().await;
    let exchanges = (0..24).map(|_| flow.exchange(&flow.spa, &code, CALLBACK, VERIFIER));
    let answers = futures_util::future::join_all(exchanges).await;
    let served = answers.iter().filter(|(status, _)| *status == StatusCode::OK).count();
    assert!(served <= 1, "at most one exchange gets tokens: {answers:?}");
    assert!(answers.iter().all(|answer| answer.0 == StatusCode::OK || *answer == refused), "{answers:?}");
}

#[tokio::test]
async fn the_exchange_refuses_what_does_not_match_over_sqlite() {
    the_exchange_refuses_what_does_not_match(AnyStore::open("sqlite::memory:").await.expect("open")).await;
}

#[tokio::test]
async fn the_exchange_refuses_what_does_not_match_over_memory() {
    the_exchange_refuses_what_does_not_match(tower_passport_issuer::store::MemoryStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exchange_refuses_what_does_not_match_over_postgres() {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return;
    };
    the_exchange_refuses_what_does_not_match(AnyStore::open(&url).await.expect("open")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exchange_refuses_what_does_not_match_over_redis() {
    let Ok(url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipping: TEST_REDIS_URL is not set");
        return;
    };
    the_exchange_refuses_what_does_not_match(AnyStore::open(&url).await.expect("open")).await;
}
