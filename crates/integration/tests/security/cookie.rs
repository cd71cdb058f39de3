//! First-party cookie authentication under attack: CSRF tokens missing, forged, doubled or
//! sent on every unsafe method; a cookie replayed for another user; cross-site requests.
//!
//! Already covered elsewhere (issuer/first_party_cookie.rs): a missing and a wrong CSRF
//! header on POST (`an_unsafe_method_needs_the_csrf_header_bound_to_the_cookie`), another
//! user's CSRF token (`a_cookie_never_authenticates_another_user_*`), `same-site`,
//! `cross-site` and foreign origins (`cross_origin_requests_cannot_use_the_cookie`), forged
//! and foreign cookies (`signing_out_removes_the_cookies_and_forged_or_foreign_*`).

use axum::body::Body;
use axum::routing::get;
use axum::{Json, Router};
use http::header::{COOKIE, SET_COOKIE};
use http::{Request, Response, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;
use tower_passport::cookie::FirstPartyCookie;
use tower_passport::error::{AuthError, Reason};
use tower_passport::{BackendError, GuardLayer, Principal};
use tower_passport_issuer::endpoint::{FreshApiTokenLayer, SignIn, SignInRequest};
use tower_passport_issuer::testing::TestIssuer;

const SECRET: &[u8] = b"the attack suite's cookie secret, 32+ bytes";

/// The session: the signed-in user's id is the `session` cookie.
fn hook(request: &SignInRequest<'_>) -> std::future::Ready<Result<SignIn, BackendError>> {
    let user = request
        .parts()
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(name, value)| (name == "session").then(|| value.to_owned()));
    std::future::ready(Ok(match user {
        Some(user) => SignIn::User(user),
        None => SignIn::Redirect("/login".into()),
    }))
}

async fn whoami(principal: Principal<String>) -> Json<Value> {
    Json(json!({"sub": principal.subject()}))
}

fn app() -> Router {
    let issuer = TestIssuer::new().expect("test issuer");
    let cookie = FirstPartyCookie::new(SECRET).expect("cookie");
    let guard = GuardLayer::builder(issuer.verifier().expect("verifier"))
        .resolver(|token: tower_passport::VerifiedToken| async move {
            Ok::<_, BackendError>(token.subject().map(str::to_owned))
        })
        .first_party_cookie(cookie.clone())
        .build()
        .expect("guard");
    let api = Router::new()
        .route("/user", get(whoami).post(whoami).put(whoami).patch(whoami).delete(whoami).options(whoami))
        .route_layer(guard);
    let web = Router::new()
        .route("/dashboard", get(|| async { "ok" }))
        .layer(FreshApiTokenLayer::new(cookie, hook).expect("layer"));
    web.nest("/api", api)
}

/// The browser's cookies: `(name, value)`.
type Jar = Vec<(String, String)>;

async fn send(app: &Router, method: &str, jar: &Jar, headers: &[(&str, &str)]) -> Response<Body> {
    let uri = if method == "DASHBOARD" { "/dashboard" } else { "/api/user" };
    let method = if method == "DASHBOARD" { "GET" } else { method };
    let mut request = Request::builder().method(method).uri(uri).header("host", "app.test");
    if !jar.is_empty() {
        let cookies: Vec<String> = jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
        request = request.header(COOKIE, cookies.join("; "));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("infallible")
}

/// Signs `user` in on the dashboard: the jar with the session, the sealed cookie and the
/// CSRF token.
async fn signed_in(app: &Router, user: &str) -> Jar {
    let mut jar: Jar = vec![("session".into(), user.into())];
    let response = send(app, "DASHBOARD", &jar, &[]).await;
    for set in response.headers().get_all(SET_COOKIE) {
        let set = set.to_str().expect("ascii");
        let (name, value) = set.split(';').next().and_then(|p| p.split_once('=')).expect("name=value");
        jar.push((name.to_owned(), value.to_owned()));
    }
    assert!(jar.iter().any(|(n, _)| n == "laravel_token"), "{jar:?}");
    jar
}

fn cookie_value<'a>(jar: &'a Jar, name: &str) -> &'a str {
    jar.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name}"))
}

/// The outcome: the subject let in, or the reason refused.
async fn outcome(response: Response<Body>) -> Result<String, (StatusCode, Option<Reason>)> {
    let status = response.status();
    let reason = response.extensions().get::<AuthError>().map(AuthError::reason);
    if status != StatusCode::OK {
        return Err((status, reason));
    }
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
    let body: Value = serde_json::from_slice(&bytes).expect("json");
    Ok(body["sub"].as_str().expect("sub").to_owned())
}

const CSRF_REFUSED: Result<String, (StatusCode, Option<Reason>)> =
    Err((StatusCode::UNAUTHORIZED, Some(Reason::CsrfTokenMismatch)));

#[tokio::test]
async fn every_unsafe_method_needs_the_csrf_token_and_no_override_skips_it() {
    let app = app();
    let jar = signed_in(&app, "7").await;
    let xsrf = cookie_value(&jar, "XSRF-TOKEN").to_owned();
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        assert_eq!(outcome(send(&app, method, &jar, &[]).await).await, CSRF_REFUSED, "{method}");
        for forged in ["", " ", "null", "undefined", "0"] {
            let answer = outcome(send(&app, method, &jar, &[("x-xsrf-token", forged)]).await).await;
            assert_eq!(answer, CSRF_REFUSED, "{method} {forged:?}");
        }
        // The right token with padding around it, or altered, is not the token.
        for altered in
            [format!("{xsrf}x"), format!("x{xsrf}"), xsrf[..xsrf.len() - 1].to_owned(), xsrf.to_uppercase()]
        {
            if altered == xsrf {
                continue;
            }
            let answer = outcome(send(&app, method, &jar, &[("x-xsrf-token", altered.as_str())]).await).await;
            assert_eq!(answer, CSRF_REFUSED, "{method} {altered}");
        }
        // A method override header does not make an unsafe request safe.
        for (name, value) in
            [("x-http-method-override", "GET"), ("x-http-method", "GET"), ("x-method-override", "GET")]
        {
            let answer = outcome(send(&app, method, &jar, &[(name, value)]).await).await;
            assert_eq!(answer, CSRF_REFUSED, "{method} {name}");
        }
        // Baseline: the right token passes.
        assert_eq!(
            outcome(send(&app, method, &jar, &[("x-xsrf-token", xsrf.as_str())]).await).await,
            Ok("7".into())
        );
    }
    // The token only in the cookie (what a cross-site form would carry) is not a header.
    assert_eq!(outcome(send(&app, "POST", &jar, &[]).await).await, CSRF_REFUSED);
    // An extension method spelled in lower case is not GET, so it is unsafe.
    let answer = send(&app, "get", &jar, &[]).await;
    assert_ne!(answer.status(), StatusCode::OK);
}

#[tokio::test]
async fn two_csrf_headers_one_right_one_wrong_are_refused() {
    let app = app();
    let jar = signed_in(&app, "7").await;
    let xsrf = cookie_value(&jar, "XSRF-TOKEN").to_owned();
    for headers in [
        vec![("x-xsrf-token", xsrf.as_str()), ("x-xsrf-token", "forged")],
        vec![("x-xsrf-token", "forged"), ("x-xsrf-token", xsrf.as_str())],
        vec![("x-xsrf-token", xsrf.as_str()), ("x-csrf-token", "forged")],
        vec![("x-csrf-token", "forged"), ("x-xsrf-token", xsrf.as_str())],
    ] {
        let answer = outcome(send(&app, "POST", &jar, &headers).await).await;
        assert_ne!(answer, Ok("7".into()), "{headers:?}");
    }
}

#[tokio::test]
async fn a_cookie_replayed_for_another_user_stays_its_own_user() {
    let app = app();
    let taylor = signed_in(&app, "7").await;
    let abigail = signed_in(&app, "8").await;
    // Taylor's sealed cookie in Abigail's browser, with Abigail's session and CSRF token.
    let mut replayed: Jar = abigail.iter().filter(|(n, _)| n != "laravel_token").cloned().collect();
    replayed.push(("laravel_token".into(), cookie_value(&taylor, "laravel_token").into()));
    assert_eq!(outcome(send(&app, "GET", &replayed, &[]).await).await, Ok("7".into()), "never Abigail");
    let abigail_xsrf = cookie_value(&abigail, "XSRF-TOKEN").to_owned();
    let answer =
        outcome(send(&app, "POST", &replayed, &[("x-xsrf-token", abigail_xsrf.as_str())]).await).await;
    assert_eq!(answer, CSRF_REFUSED, "Abigail's CSRF token does not fit Taylor's cookie");
    // Two sealed cookies at once: not one user or the other by order.
    let mut both = taylor.clone();
    both.push(("laravel_token".into(), cookie_value(&abigail, "laravel_token").into()));
    let answer = outcome(send(&app, "GET", &both, &[]).await).await;
    assert!(answer.is_err(), "{answer:?}");
}

#[tokio::test]
async fn cross_site_requests_cannot_use_the_cookie() {
    let app = app();
    let jar = signed_in(&app, "7").await;
    let cross = Err((StatusCode::UNAUTHORIZED, Some(Reason::CrossSiteRequest)));
    for headers in [
        vec![("origin", "null")],
        vec![("origin", "https://app.test.evil.example")],
        vec![("origin", "http://evil.example/app.test")],
        vec![("origin", "http://evil.example"), ("sec-fetch-site", "same-origin")],
        vec![("origin", "http://app.test"), ("sec-fetch-site", "cross-site")],
        vec![("origin", "http://app.test"), ("origin", "http://evil.example")],
    ] {
        let answer = outcome(send(&app, "GET", &jar, &headers).await).await;
        assert_eq!(answer, cross, "{headers:?}");
    }
    // Same origin passes, by either signal.
    for headers in [vec![("origin", "http://app.test")], vec![("sec-fetch-site", "same-origin")]] {
        assert_eq!(outcome(send(&app, "GET", &jar, &headers).await).await, Ok("7".into()), "{headers:?}");
    }
}
