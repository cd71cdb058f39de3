//! First-party cookie authentication (Passport's `CreateFreshApiToken`) in headless
//! Chromium, against the quickstart's app: the browser signs in, opens the first-party page,
//! and the page's own script calls the guarded API with the `laravel_token` cookie. A call
//! that changes something works with the `X-XSRF-TOKEN` header and is refused without it;
//! a page on another origin (another port of the same host: the same *site*, so the
//! `SameSite=Lax` cookie does go along) cannot use the cookie, which the quickstart's
//! `/metrics` counters show, since CORS hides the answer from that page; a page on an origin
//! the quickstart lists (`PASSPORT_COOKIE_ORIGINS`, `FirstPartyCookie::allow_origin`) can,
//! and reads the answer through the CORS headers the quickstart sends it.
//!
//! Skips, with the reason printed, when no browser is installed, except under CI.

use crate::browser;
use crate::in_process as quickstart;

use browser::Browser;
use quickstart::demo::spa::SPA_PATH;
use quickstart::{start_with, QuickstartApp};
use serde_json::json;

/// `passport_auth_decisions_total{outcome="rejected",reason="<reason>"}` on the
/// quickstart's `/metrics` page (0 when not there yet).
async fn rejections(app: &QuickstartApp, reason: &str) -> u64 {
    let (status, _, page) = app.get_page(&format!("{}/metrics", app.base), "x=y").await;
    assert_eq!(status, 200, "{page}");
    page.lines()
        .filter(|line| {
            line.starts_with("passport_auth_decisions_total{")
                && line.contains("outcome=\"rejected\"")
                && line.contains(&format!("reason=\"{reason}\""))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Waits until the element `css` shows something other than the placeholder.
async fn shown(browser: &Browser, css: &str) -> String {
    for _ in 0..100 {
        let text = browser.text(css).await;
        if !text.is_empty() && text != "…" {
            return text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{css} never showed an answer");
}

/// An app on another origin (another port of 127.0.0.1): a page with nothing on it.
async fn other_app() -> String {
    let page = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { axum::response::Html("<!DOCTYPE html><title>Listed app</title>") }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, page).await });
    origin
}

#[tokio::test]
async fn the_signed_in_page_calls_the_api_with_the_cookie_and_the_csrf_header() {
    let Some(browser) = Browser::start().await else { return };
    let listed = other_app().await;
    let origins = vec![listed.clone()];
    let app = start_with("memory", move |config| config.cookie_origins = origins).await;

    // Signing in comes back to the first-party page, which the cookie layer wraps.
    browser.goto(&format!("{}{SPA_PATH}", app.base)).await;
    assert_eq!(browser.title().await, "Sign in");
    browser.fill("#username", &app.config.username).await;
    browser.fill("#password", &app.config.password).await;
    browser.submit("form").await;
    browser.wait_for_url(|url| url.ends_with(SPA_PATH)).await;
    assert_eq!(browser.title().await, "First-party page");

    let token = browser.cookie("laravel_token").await.expect("the first-party cookie");
    assert_eq!(token.http_only(), Some(true));
    assert_eq!(format!("{:?}", token.same_site()), "Some(Lax)");
    let xsrf = browser.cookie("XSRF-TOKEN").await.expect("the XSRF-TOKEN cookie");
    let visible = browser.execute("return document.cookie;", vec![]).await;
    let visible = visible.as_str().unwrap_or_default();
    assert!(visible.contains("XSRF-TOKEN="), "the page's script reads XSRF-TOKEN: {visible}");
    assert!(!visible.contains("laravel_token"), "no script reads the token cookie: {visible}");

    // The page's own script: GET /api/user on load, POST /api/posts on a click.
    let user = shown(&browser, "#user").await;
    assert!(user.starts_with("200 "), "{user}");
    let body: serde_json::Value = serde_json::from_str(&user[4..]).expect("json");
    assert_eq!(body["sub"], "1");
    assert_eq!(body["scopes"], json!(["*"]), "a cookie carries every scope");
    browser.click("#post").await;
    let created = shown(&browser, "#created").await;
    assert!(created.starts_with("201 "), "the page's POST with X-XSRF-TOKEN: {created}");

    // The same POST from the page without the header is refused.
    let before = rejections(&app, "CsrfTokenMismatch").await;
    let refused = browser.fetch("/api/posts", json!({"method": "POST"})).await;
    assert_eq!(refused.status, 401, "{refused:?}");
    assert!(refused.headers["www-authenticate"].contains("invalid_token"), "{refused:?}");
    assert_eq!(rejections(&app, "CsrfTokenMismatch").await, before + 1);
    let with_header = browser
        .fetch("/api/posts", json!({"method": "POST", "headers": {"X-XSRF-TOKEN": xsrf.value()}}))
        .await;
    assert_eq!(with_header.status, 201, "{with_header:?}");

    // A page on another origin of the same host: the browser sends the cookie (same site),
    // and can even read XSRF-TOKEN (cookies ignore ports), but the guard refuses the call.
    let before = rejections(&app, "CrossSiteRequest").await;
    browser.goto(&app.callback.url).await;
    assert_eq!(browser.title().await, "Demo app");
    let api = format!("{}/api/user", app.base);
    let cross = browser.fetch(&api, json!({"credentials": "include"})).await;
    assert_eq!(cross.status, 0, "CORS hides the answer from the other origin: {cross:?}");
    let simple_post = json!({"method": "POST", "mode": "no-cors", "credentials": "include", "body": "x"});
    let posted = browser.fetch(&format!("{}/api/posts", app.base), simple_post).await;
    assert_eq!(posted.status, 0, "an opaque answer: {posted:?}");
    assert_eq!(
        rejections(&app, "CrossSiteRequest").await,
        before + 2,
        "both reached the guard and were refused"
    );

    // A page on a listed origin (another port too: `same-site`) uses the cookie, and the
    // API's CORS headers let it read the answer.
    browser.goto(&format!("{listed}/")).await;
    assert_eq!(browser.title().await, "Listed app");
    let allowed = browser.fetch(&api, json!({"credentials": "include"})).await;
    assert_eq!(allowed.status, 200, "{allowed:?}");
    let body: serde_json::Value = serde_json::from_str(&allowed.body).expect("json");
    assert_eq!(body["sub"], "1", "the signed-in user, through the cookie");
    // Its POST with X-XSRF-TOKEN: a preflight the quickstart answers, then the guard's CSRF check.
    let xsrf = browser.cookie("XSRF-TOKEN").await.expect("the XSRF-TOKEN cookie (cookies ignore ports)");
    let init = json!({"method": "POST", "credentials": "include", "headers": {"X-XSRF-TOKEN": xsrf.value()}});
    let posted = browser.fetch(&format!("{}/api/posts", app.base), init).await;
    assert_eq!(posted.status, 201, "{posted:?}");
}
