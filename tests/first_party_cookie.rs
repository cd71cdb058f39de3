//! First-party cookie authentication end to end, in process: the cookie layer on web
//! routes and the guard's opt-in on the API, through an axum app (Passport's
//! `CreateFreshApiToken` and its `TokenGuard` cookie path).

use axum::body::Body;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use http::header::{AUTHORIZATION, COOKIE, SET_COOKIE, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_passport::cookie::{CsrfToken, FirstPartyCookie};
use tower_passport::endpoint::{FreshApiTokenLayer, SignIn, SignInRequest};
use tower_passport::error::{AuthError, Reason};
use tower_passport::testing::TestIssuer;
use tower_passport::token::Credential;
use tower_passport::{BackendError, GuardLayer, Principal, RequireLayer};

const SECRET: &[u8] = b"the first-party cookie secret, 32+ bytes";

/// The test's session: the signed-in user's id is in the `session` cookie.
fn hook(request: &SignInRequest<'_>) -> std::future::Ready<Result<SignIn, BackendError>> {
    let user = cookies(request.parts().headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()))
        .into_iter()
        .find_map(|(name, value)| (name == "session").then_some(value));
    std::future::ready(Ok(match user {
        Some(user) => SignIn::User(user),
        None => SignIn::Redirect("/login".into()),
    }))
}

fn cookies<'a>(headers: impl Iterator<Item = &'a str>) -> Vec<(String, String)> {
    headers
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

struct App {
    router: Router,
    issuer: TestIssuer,
}

fn app(cookie: FirstPartyCookie) -> App {
    let issuer = TestIssuer::new().expect("test issuer");
    let guard = GuardLayer::builder(issuer.verifier().expect("verifier"))
        .resolver(|token: tower_passport::VerifiedToken| async move {
            Ok::<_, BackendError>(match token.subject() {
                Some("7") => Some("Taylor".to_owned()),
                Some("8") => Some("Abigail".to_owned()),
                _ => None,
            })
        })
        .first_party_cookie(cookie.clone())
        .build()
        .expect("guard");
    let api = Router::new()
        .route("/user", get(whoami))
        .route("/posts", post(|| async { StatusCode::CREATED }))
        .route("/tokens", get(|| async { "tokens" }).route_layer(RequireLayer::bearer_token()))
        .route_layer(guard);
    let web = Router::new()
        .route(
            "/dashboard",
            get(|csrf: Option<Extension<CsrfToken>>| async move {
                csrf.map(|Extension(token)| token.as_str().to_owned()).unwrap_or_default()
            }),
        )
        .layer(FreshApiTokenLayer::new(cookie, hook).expect("layer"));
    App { router: web.nest("/api", api), issuer }
}

async fn whoami(principal: Principal<String>) -> Json<Value> {
    Json(json!({
        "sub": principal.subject(),
        "user": principal.user(),
        "cookie": principal.credential() == Credential::FirstPartyCookie,
        "admin": principal.can("admin"),
    }))
}

/// The browser's cookie jar, good enough for one host.
#[derive(Default, Clone)]
struct Jar(Vec<(String, String)>);

impl Jar {
    fn take(&mut self, response: &Response<Body>) {
        for set in response.headers().get_all(SET_COOKIE) {
            let set = set.to_str().expect("ascii");
            let (name, value) = set.split(';').next().and_then(|p| p.split_once('=')).expect("name=value");
            self.0.retain(|(n, _)| n != name);
            if !set.contains("Max-Age=0") {
                self.0.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn with(mut self, name: &str, value: &str) -> Self {
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.to_owned(), value.to_owned()));
        self
    }

    fn header(&self) -> String {
        self.0.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ")
    }
}

async fn send(app: &App, method: &str, uri: &str, jar: &Jar, headers: &[(&str, &str)]) -> Response<Body> {
    let mut request = Request::builder().method(method).uri(uri).header("host", "app.test");
    if !jar.0.is_empty() {
        request = request.header(COOKIE, jar.header());
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.router.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("infallible")
}

async fn json_body(response: Response<Body>) -> Value {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
    serde_json::from_slice(&bytes).expect("json")
}

fn reason(response: &Response<Body>) -> Option<Reason> {
    response.extensions().get::<AuthError>().map(AuthError::reason)
}

/// Signs `user` in on the dashboard and returns the browser's jar afterwards.
async fn signed_in(app: &App, user: &str) -> Jar {
    let mut jar = Jar::default().with("session", user);
    let response = send(app, "GET", "/dashboard", &jar, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    jar.take(&response);
    jar
}

#[tokio::test]
async fn a_signed_in_page_gets_an_http_only_lax_secure_cookie_and_its_csrf_token() {
    let app = app(FirstPartyCookie::new(SECRET).expect("cookie"));
    let jar = Jar::default().with("session", "7");
    let response = send(&app, "GET", "/dashboard", &jar, &[]).await;
    let set: Vec<_> =
        response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().expect("ascii")).collect();
    let token = set.iter().find(|c| c.starts_with("laravel_token=")).expect("laravel_token is set");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=7200"] {
        assert!(token.contains(attribute), "{attribute} in {token}");
    }
    let xsrf = set.iter().find(|c| c.starts_with("XSRF-TOKEN=")).expect("XSRF-TOKEN is set");
    assert!(!xsrf.contains("HttpOnly"), "the page's script reads XSRF-TOKEN");
    assert_eq!(response.headers()["cache-control"], "private");
    let mut jar = jar;
    jar.take(&response);
    let page = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
    assert_eq!(
        std::str::from_utf8(&page).ok(),
        jar.get("XSRF-TOKEN"),
        "the handler sees the page's CSRF token"
    );
}

#[tokio::test]
async fn the_cookie_authenticates_its_user_with_every_scope_on_safe_methods() {
    let app = app(FirstPartyCookie::new(SECRET).expect("cookie"));
    let jar = signed_in(&app, "7").await;
    let response = send(&app, "GET", "/api/user", &jar, &[("sec-fetch-site", "same-origin")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        json_body(response).await,
        json!({"sub": "7", "user": "Taylor", "cookie": true, "admin": true})
    );
}

#[tokio::test]
async fn an_unsafe_method_needs_the_csrf_header_bound_to_the_cookie() {
    let app = app(FirstPartyCookie::new(SECRET).expect("cookie"));
    let jar = signed_in(&app, "7").await;
    let xsrf = jar.get("XSRF-TOKEN").expect("XSRF-TOKEN").to_owned();

    let refused = send(&app, "POST", "/api/posts", &jar, &[]).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(reason(&refused), Some(Reason::CsrfTokenMismatch));
    let challenge = refused.headers()[WWW_AUTHENTICATE].to_str().expect("ascii");
    assert!(challenge.contains(r#"error="invalid_token""#), "{challenge}");

    let via_xsrf = send(&app, "POST", "/api/posts", &jar, &[("x-xsrf-token", &xsrf)]).await;
    assert_eq!(via_xsrf.status(), StatusCode::CREATED);
    let via_meta = send(&app, "POST", "/api/posts", &jar, &[("x-csrf-token", &xsrf)]).await;
    assert_eq!(via_meta.status(), StatusCode::CREATED);
    let wrong = send(&app, "POST", "/api/posts", &jar, &[("x-csrf-token", "not-the-token")]).await;
    assert_eq!(reason(&wrong), Some(Reason::CsrfTokenMismatch));
}

#[tokio::test]
async fn a_cookie_never_authenticates_another_user_and_csrf_tokens_do_not_cross_sessions() {
    let app = app(FirstPartyCookie::new(SECRET).expect("cookie"));
    let taylor = signed_in(&app, "7").await;
    let abigail = signed_in(&app, "8").await;
    // Taylor's cookie is Taylor whatever the session says now.
    let mixed = taylor.clone().with("session", "8");
    let response = send(&app, "GET", "/api/user", &mixed, &[]).await;
    assert_eq!(json_body(response).await["sub"], "7");
    // Abigail's CSRF token does not fit Taylor's cookie.
    let xsrf = abigail.get("XSRF-TOKEN").expect("XSRF-TOKEN");
    let stolen = taylor.clone().with("XSRF-TOKEN", xsrf);
    let response = send(&app, "POST", "/api/posts", &stolen, &[("x-xsrf-token", xsrf)]).await;
    assert_eq!(reason(&response), Some(Reason::CsrfTokenMismatch));
    // Signing in as someone else replaces the cookie.
    let mut switched = taylor.with("session", "8");
    let page = send(&app, "GET", "/dashboard", &switched, &[]).await;
    switched.take(&page);
    let response = send(&app, "GET", "/api/user", &switched, &[]).await;
    assert_eq!(json_body(response).await["sub"], "8");
}

#[tokio::test]
async fn cross_origin_requests_cannot_use_the_cookie() {
    let app = app(FirstPartyCookie::new(SECRET).expect("cookie"));
    let jar = signed_in(&app, "7").await;
    for headers in [
        &[("sec-fetch-site", "same-site")][..],
        &[("sec-fetch-site", "cross-site")],
        &[("origin", "http://app.test:9090")],
        &[("origin", "https://evil.example")],
    ] {
        let response = send(&app, "GET", "/api/user", &jar, headers).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{headers:?}");
        assert_eq!(reason(&response), Some(Reason::CrossSiteRequest), "{headers:?}");
    }
    let same = send(&app, "GET", "/api/user", &jar, &[("origin", "http://app.test")]).await;
    assert_eq!(same.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_bearer_token_wins_over_the_cookie_and_bearer_routes_refuse_the_cookie() {
    let app = app(FirstPartyCookie::new(SECRET).expect("cookie"));
    let jar = signed_in(&app, "7").await;
    let token = app.issuer.user_token("8", ["read-posts"]).expect("token");
    let bearer = format!("Bearer {token}");
    let response = send(&app, "GET", "/api/user", &jar, &[(AUTHORIZATION.as_str(), &bearer)]).await;
    assert_eq!(
        json_body(response).await,
        json!({"sub": "8", "user": "Abigail", "cookie": false, "admin": false})
    );

    let refused = send(&app, "GET", "/api/tokens", &jar, &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(reason(&refused), Some(Reason::BearerTokenRequired));
    let allowed =
        send(&app, "GET", "/api/tokens", &Jar::default(), &[(AUTHORIZATION.as_str(), &bearer)]).await;
    assert_eq!(allowed.status(), StatusCode::OK);
}

#[tokio::test]
async fn signing_out_removes_the_cookies_and_forged_or_foreign_cookies_are_refused() {
    let app = app(FirstPartyCookie::new(SECRET).expect("cookie"));
    let mut jar = signed_in(&app, "7").await;
    let token = jar.get("laravel_token").expect("cookie").to_owned();
    jar.0.retain(|(name, _)| name != "session");
    let page = send(&app, "GET", "/dashboard", &jar, &[]).await;
    jar.take(&page);
    assert_eq!(jar.get("laravel_token"), None);
    assert_eq!(jar.get("XSRF-TOKEN"), None);

    let forged = Jar::default().with("laravel_token", &format!("{token}A"));
    assert_eq!(reason(&send(&app, "GET", "/api/user", &forged, &[]).await), Some(Reason::InvalidCookie));
    // Sealed with another app's secret.
    let other = app_with_secret(b"another app's secret, also 32+ bytes long");
    let theirs = signed_in(&other, "7").await;
    assert_eq!(reason(&send(&app, "GET", "/api/user", &theirs, &[]).await), Some(Reason::InvalidCookie));
}

fn app_with_secret(secret: &[u8]) -> App {
    app(FirstPartyCookie::new(secret).expect("cookie"))
}

#[tokio::test]
async fn a_guard_without_the_opt_in_ignores_the_cookie() {
    let app = app(FirstPartyCookie::new(SECRET).expect("cookie"));
    let jar = signed_in(&app, "7").await;
    let issuer = TestIssuer::new().expect("test issuer");
    let plain: Router = Router::new()
        .route("/api/user", get(|| async { "hello" }))
        .route_layer(GuardLayer::new(issuer.verifier().expect("verifier")));
    let request =
        Request::get("/api/user").header(COOKIE, jar.header()).body(Body::empty()).expect("request");
    let response = plain.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(reason(&response), Some(Reason::MissingToken));
}

#[tokio::test]
async fn the_cookie_can_be_renamed_and_made_insecure_for_local_http() {
    let cookie = FirstPartyCookie::new(SECRET).expect("cookie").name("myapp_token").insecure_for_local_http();
    let app = app(cookie);
    let jar = Jar::default().with("session", "7");
    let response = send(&app, "GET", "/dashboard", &jar, &[]).await;
    let set: Vec<_> =
        response.headers().get_all(SET_COOKIE).iter().map(|v| v.to_str().expect("ascii")).collect();
    let token = set.iter().find(|c| c.starts_with("myapp_token=")).expect("renamed cookie");
    assert!(!token.contains("Secure"), "{token}");
    let mut jar = jar;
    jar.take(&response);
    assert_eq!(send(&app, "GET", "/api/user", &jar, &[]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn bad_cookie_settings_are_configuration_errors() {
    let hook = |_: &SignInRequest<'_>| async { Ok::<_, BackendError>(SignIn::Redirect("/".into())) };
    for cookie in [
        FirstPartyCookie::new(SECRET).expect("cookie").name("bad name"),
        FirstPartyCookie::new(SECRET).expect("cookie").path("no-slash"),
        FirstPartyCookie::new(SECRET).expect("cookie").domain("a;b"),
        FirstPartyCookie::new(SECRET).expect("cookie").lifetime(std::time::Duration::from_secs(5)),
    ] {
        let error = FreshApiTokenLayer::new(cookie.clone(), hook).expect_err("refused");
        assert!(!error.to_string().is_empty());
        let issuer = TestIssuer::new().expect("test issuer");
        let guard =
            GuardLayer::builder(issuer.verifier().expect("verifier")).first_party_cookie(cookie).build();
        assert!(guard.is_err());
    }
}

#[tokio::test]
async fn the_apps_own_page_manages_personal_access_tokens_over_the_cookie() {
    use std::sync::Arc;
    use tower_passport::guard::TokenOnly;
    use tower_passport::issuer::{Issuer, ScopeRegistry};
    use tower_passport::store::MemoryStore;

    let issuer = Issuer::builder("https://auth.app.test", Arc::new(MemoryStore::new()))
        .audience("api")
        .scopes(ScopeRegistry::new().scope("read-posts", "Read posts"))
        .build()
        .expect("issuer");
    let cookie = FirstPartyCookie::new(SECRET).expect("cookie");
    let guard = GuardLayer::builder(issuer.verifier())
        .revocation(issuer.revocation_list())
        .resolver(issuer.resolver(TokenOnly))
        .first_party_cookie(cookie.clone())
        .build()
        .expect("guard");
    let personal =
        tower::ServiceBuilder::new().layer(guard).service(issuer.personal_access_tokens_endpoint());
    let router = Router::new()
        .route("/dashboard", get(|| async { "the SPA" }))
        .layer(FreshApiTokenLayer::new(cookie, hook).expect("layer"))
        .route_service("/oauth/personal-access-tokens", personal);
    let app = App { router, issuer: TestIssuer::new().expect("test issuer") };
    let jar = signed_in(&app, "7").await;
    let xsrf = jar.get("XSRF-TOKEN").expect("XSRF-TOKEN").to_owned();

    let listed = send(&app, "GET", "/oauth/personal-access-tokens", &jar, &[]).await;
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(json_body(listed).await, json!([]));
    let create = |csrf: Option<&str>| {
        let mut request = Request::post("/oauth/personal-access-tokens")
            .header("host", "app.test")
            .header(COOKIE, jar.header())
            .header("content-type", "application/json");
        if let Some(csrf) = csrf {
            request = request.header("x-xsrf-token", csrf);
        }
        let body = Body::from(json!({"name": "cli", "scopes": ["read-posts"]}).to_string());
        app.router.clone().oneshot(request.body(body).expect("request"))
    };
    let refused = create(None).await.expect("infallible");
    assert_eq!(reason(&refused), Some(Reason::CsrfTokenMismatch));
    let created = create(Some(&xsrf)).await.expect("infallible");
    let status = created.status();
    let created = json_body(created).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let minted = created["accessToken"].as_str().expect("accessToken");
    assert_eq!(issuer.verifier().verify(minted).expect("a token of this issuer").subject(), Some("7"));
    let listed = send(&app, "GET", "/oauth/personal-access-tokens", &jar, &[]).await;
    assert_eq!(json_body(listed).await, json!([created["token"]]));
}
