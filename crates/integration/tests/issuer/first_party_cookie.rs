//! First-party cookie authentication end to end, in process: the cookie layer on web
//! routes and the guard's opt-in on the API, through an axum app (Passport's
//! `CreateFreshApiToken` and its `TokenGuard` cookie path).

use crate::in_process as quickstart;

use axum::body::Body;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use http::header::{AUTHORIZATION, COOKIE, SET_COOKIE, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_passport::cookie::{CsrfToken, FirstPartyCookie};
use tower_passport::error::{AuthError, Reason};
use tower_passport::token::Credential;
use tower_passport::{BackendError, GuardLayer, Principal, RequireLayer};
use tower_passport_issuer::endpoint::{FreshApiTokenLayer, SignIn, SignInRequest};
use tower_passport_issuer::testing::TestIssuer;

use quickstart::QuickstartApp;

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

/// A guard over `issuer`'s tokens and revocation list that accepts `cookie`.
fn issuer_guard(issuer: &tower_passport_issuer::Issuer, cookie: &FirstPartyCookie) -> GuardLayer {
    GuardLayer::builder(issuer.verifier())
        .revocation(issuer.revocation_list())
        .resolver(issuer.resolver(tower_passport::guard::TokenOnly))
        .first_party_cookie(cookie.clone())
        .build()
        .expect("guard")
}

#[tokio::test]
async fn the_apps_own_page_manages_personal_access_tokens_over_the_cookie() {
    use std::sync::Arc;
    use tower_passport_issuer::store::MemoryStore;
    use tower_passport_issuer::{Issuer, ScopeRegistry};

    let issuer = Issuer::builder("https://auth.app.test", Arc::new(MemoryStore::new()))
        .audience("api")
        .scopes(ScopeRegistry::new().scope("read-posts", "Read posts"))
        .build()
        .expect("issuer");
    let cookie = FirstPartyCookie::new(SECRET).expect("cookie");
    let guard = issuer_guard(&issuer, &cookie);
    let personal = tower::ServiceBuilder::new().layer(guard).service(
        tower_passport_issuer::endpoint::OAuthServer::new(issuer.clone()).build().personal_access_tokens(),
    );
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

// ---- the quickstart's app, in process --------------------------------------------------

/// `GET url` with `cookie` on the quickstart: status and headers.
async fn quickstart_get(app: &QuickstartApp, path: &str, cookie: &str) -> (StatusCode, http::HeaderMap) {
    let (status, headers, _) = app.get_page(&format!("{}{path}", app.base), cookie).await;
    (status, headers)
}

fn header_text(headers: &http::HeaderMap, name: &str) -> String {
    headers.get_all(name).iter().map(|v| v.to_str().expect("text")).collect::<Vec<_>>().join(", ")
}

/// A response that sets a cookie is never publicly cacheable, and varies on `Cookie`.
fn assert_private(headers: &http::HeaderMap, what: &str) {
    let cache_control = header_text(headers, "cache-control").to_ascii_lowercase();
    assert!(
        !cache_control.contains("public") && !cache_control.contains("s-maxage"),
        "{what}: {cache_control}"
    );
    assert!(
        cache_control.contains("private") || cache_control.contains("no-store"),
        "{what}: {cache_control}"
    );
    let vary = header_text(headers, "vary").to_ascii_lowercase();
    assert_eq!(vary.matches("cookie").count(), 1, "{what}: Vary {vary}");
}

#[tokio::test]
async fn the_quickstart_never_lets_a_shared_cache_keep_a_cookie_it_sets() {
    let app = quickstart::start("memory").await;
    let (session, _) = app.sign_in().await;
    // A signed-in browser with no first-party cookie, or a stale one, fetches the stylesheet.
    for (what, jar) in
        [("no cookie", session.clone()), ("a stale cookie", format!("{session}; laravel_token=stale.value"))]
    {
        let (status, headers) = quickstart_get(&app, "/demo/style.css", &jar).await;
        assert_eq!(status, StatusCode::OK, "{what}");
        assert!(quickstart::set_cookie(&headers, "laravel_token").is_some(), "{what}: the cookie is set");
        assert_private(&headers, what);
        assert!(header_text(&headers, "cache-control").contains("max-age=3600"), "the browser may keep it");
    }
    // The session layer's own cookie: a stale session id is removed, on the stylesheet too.
    let (status, headers) = quickstart_get(&app, "/demo/style.css", "quickstart_session=stale").await;
    assert_eq!(status, StatusCode::OK);
    assert!(quickstart::set_cookie(&headers, "quickstart_session").is_some(), "the stale session is removed");
    assert_private(&headers, "the session cookie");
    // Nothing set: the stylesheet stays publicly cacheable.
    let (_, headers) = quickstart_get(&app, "/demo/style.css", "").await;
    assert!(!headers.contains_key(SET_COOKIE));
    assert_eq!(header_text(&headers, "cache-control"), "public, max-age=3600");
}

#[tokio::test]
async fn in_the_quickstart_the_cookie_lives_no_longer_than_an_idle_session() {
    let app = quickstart::start("memory").await;
    let (session, _) = app.sign_in().await;
    let (_, headers) = quickstart_get(&app, "/demo/spa", &session).await;
    let set: Vec<_> = headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().expect("ascii")).collect();
    let max_age = |name: &str| -> u64 {
        let cookie = set.iter().find(|c| c.starts_with(&format!("{name}="))).expect(name);
        let age = cookie.split("; ").find_map(|a| a.strip_prefix("Max-Age=")).expect("Max-Age");
        age.parse().expect("seconds")
    };
    let idle = quickstart::demo::sign_in::SESSION_IDLE.as_secs();
    assert!(max_age("laravel_token") <= idle, "{set:?}");
    assert!(max_age("XSRF-TOKEN") <= idle, "{set:?}");
}

#[tokio::test]
async fn signing_out_of_the_quickstart_ends_api_access_through_a_copied_cookie() {
    let app = quickstart::start("memory").await;
    let (session, form_token) = app.sign_in().await;
    let (_, headers) = quickstart_get(&app, "/demo/spa", &session).await;
    let copied = quickstart::set_cookie(&headers, "laravel_token").expect("the first-party cookie");
    let (status, _) = quickstart_get(&app, "/api/user", &copied).await;
    assert_eq!(status, StatusCode::OK, "the copied cookie works while signed in");

    let logout = format!("{}/logout", app.base);
    let (status, _, _) = app.post_form(&logout, &session, &[("token", &form_token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, headers) = quickstart_get(&app, "/api/user", &copied).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the copied cookie is refused after signing out");
    assert!(header_text(&headers, "www-authenticate").contains("invalid_token"));

    // Signing in again: the new cookie works, the copied one still does not. (A cookie
    // sealed in the very millisecond of the sign-out is refused too; let the clock move.)
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (session, _) = app.sign_in().await;
    let (_, headers) = quickstart_get(&app, "/demo/spa", &session).await;
    let fresh = quickstart::set_cookie(&headers, "laravel_token").expect("a new first-party cookie");
    assert_eq!(quickstart_get(&app, "/api/user", &fresh).await.0, StatusCode::OK);
    assert_eq!(quickstart_get(&app, "/api/user", &copied).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_cookie_sealed_before_its_users_not_before_is_refused_and_a_later_one_is_not() {
    use std::sync::Arc;
    use tower_passport::clock::ManualClock;
    use tower_passport_issuer::store::MemoryStore;
    use tower_passport_issuer::Issuer;

    let clock = ManualClock::new(1_700_000_000);
    let issuer = Issuer::builder("https://auth.app.test", Arc::new(MemoryStore::new()))
        .audience("api")
        .clock(clock.clone())
        .build()
        .expect("issuer");
    let cookie = FirstPartyCookie::new(SECRET).expect("cookie").clock(clock.clone());
    let guard = issuer_guard(&issuer, &cookie);
    let layer = FreshApiTokenLayer::new(cookie, hook).expect("layer").revocation(issuer.revocation_list());
    let router = Router::new()
        .route("/dashboard", get(|| async { "the SPA" }))
        .layer(layer)
        .route("/api/user", get(|| async { "you" }).route_layer(guard));
    let app = App { router, issuer: TestIssuer::new().expect("test issuer") };
    let before = signed_in(&app, "7").await;
    let other = signed_in(&app, "8").await;
    assert_eq!(send(&app, "GET", "/api/user", &before, &[]).await.status(), StatusCode::OK);

    clock.advance(1);
    issuer.revoke_first_party_cookies("7").await.expect("revoked");
    let refused = send(&app, "GET", "/api/user", &before, &[]).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(reason(&refused), Some(Reason::Revoked));
    assert_eq!(send(&app, "GET", "/api/user", &other, &[]).await.status(), StatusCode::OK, "user 8 is not");

    clock.advance(1);
    let after = signed_in(&app, "7").await;
    assert_eq!(send(&app, "GET", "/api/user", &after, &[]).await.status(), StatusCode::OK);

    // A session of the user that outlived the sign-out (another browser): its next page
    // replaces the refused cookie, though it is far from due for renewal.
    let mut phone = before;
    let page = send(&app, "GET", "/dashboard", &phone, &[]).await;
    phone.take(&page);
    assert_eq!(send(&app, "GET", "/api/user", &phone, &[]).await.status(), StatusCode::OK);
}

// ---- early rejections and keep-alive clients ---------------------------------------------

/// One HTTP/1.1 exchange on a kept-alive connection: writes `request`, reads one response.
/// Its head (lower-case) and whether the server closed the connection after it.
async fn exchange(stream: &mut tokio::net::TcpStream, request: &[u8]) -> (String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request).await.expect("write");
    let mut buffer = Vec::new();
    let read = async {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .map_or(0, |n| n.trim().parse().expect("length"));
                if buffer.len() >= end + 4 + length {
                    return head;
                }
            }
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(
                n > 0,
                "the connection closed before a whole response: {:?}",
                String::from_utf8_lossy(&buffer)
            );
            buffer.extend_from_slice(&chunk[..n]);
        }
    };
    let head =
        tokio::time::timeout(std::time::Duration::from_secs(10), read).await.expect("a response in time");
    let closed = head.lines().any(|line| line == "connection: close");
    (head, closed)
}

/// A request that announces a body of a megabyte but sends only its first bytes, as a
/// slow upload does: the server answers before reading it.
fn with_big_body(head: &str) -> Vec<u8> {
    let mut request =
        format!("{head}Content-Length: 1048576\r\nContent-Type: text/plain\r\n\r\n").into_bytes();
    request.extend_from_slice(b"the first bytes of a long body");
    request
}

/// On a new connection to `host`: `head` announcing a megabyte body, of which only the first
/// bytes follow, is answered `status` at once, with `Connection: close`.
async fn assert_refused_and_closed(host: &str, head: &str, status: &str) {
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let (answer, closed) = exchange(&mut stream, &with_big_body(head)).await;
    assert!(answer.starts_with(&format!("http/1.1 {status}")), "{answer}");
    assert!(closed, "the client is told to open a new connection: {answer}");
}

/// On one connection to `host`: each request (with no body) is answered its status, and
/// the connection stays open for the next.
async fn assert_kept_alive(host: &str, exchanges: &[(&str, &str)]) {
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    for (request, status) in exchanges {
        let (answer, closed) = exchange(&mut stream, request.as_bytes()).await;
        assert!(answer.starts_with(&format!("http/1.1 {status}")) && !closed, "{request}: {answer}");
    }
}

#[tokio::test]
async fn the_guards_early_rejection_of_a_request_with_a_body_closes_the_connection() {
    let app = quickstart::start("memory").await;
    let host = app.base.trim_start_matches("http://").to_owned();
    assert_refused_and_closed(&host, &format!("POST /api/posts HTTP/1.1\r\nHost: {host}\r\n"), "401").await;
    // Without a body, the connection stays open for the next request.
    let no_body = format!("GET /api/user HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let health = format!("GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n");
    assert_kept_alive(&host, &[(&no_body, "401"), (&health, "200")]).await;
}

#[tokio::test]
async fn the_json_apis_csrf_refusal_of_a_request_with_a_body_closes_the_connection() {
    use std::sync::Arc;
    use tower_passport::guard::TokenOnly;
    use tower_passport_issuer::store::MemoryStore;
    use tower_passport_issuer::Issuer;

    let issuer = Issuer::builder("https://auth.app.test", Arc::new(MemoryStore::new()))
        .audience("api")
        .build()
        .expect("issuer");
    let guard = GuardLayer::builder(issuer.verifier())
        .optional()
        .revocation(issuer.revocation_list())
        .resolver(issuer.resolver(TokenOnly))
        .build()
        .expect("guard");
    let oauth = tower_passport_issuer::endpoint::OAuthServer::new(issuer.clone()).sign_in(hook).build();
    let clients = tower::ServiceBuilder::new().layer(guard).service(oauth.clients());
    let router = Router::new().route_service("/oauth/clients", clients);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let create = format!("POST /oauth/clients HTTP/1.1\r\nHost: {host}\r\nCookie: session=7\r\n");
    assert_refused_and_closed(&host, &create, "403").await;
    // A session GET needs no CSRF token, reads no body, and keeps the connection.
    let list = format!("GET /oauth/clients HTTP/1.1\r\nHost: {host}\r\nCookie: session=7\r\n\r\n");
    assert_kept_alive(&host, &[(&list, "200"), (&list, "200")]).await;
}
