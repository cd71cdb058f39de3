//! The authorization code flow with PKCE in headless Chromium, against the quickstart's app
//! (its `build()` on a loopback port, the memory store): the demo third-party app starts
//! the flow, the browser signs in on the demo sign-in page, the approval screen shows the
//! scopes, Approve sends the browser (a 303 after the form post, across origins) to the
//! app's callback with `code`, `state` and `iss`, and the code is exchanged and used. Then
//! the other paths: Deny, a first-party public client (the screen too), a second
//! authorization, a tampered CSRF token. Screenshots of the approval screen go to `target/approval-screen.png` and
//! `target/approval-screen-phone.png` (390 px wide) on every run.
//!
//! Skips, with the reason printed, when no browser is installed, except under CI. The tests
//! take turns (one Chromium at a time), so a loaded machine does not slow them past their
//! waits.

use crate::browser;
use crate::in_process as quickstart;

use browser::Browser;
use quickstart::demo::quickstart::{pkce_pair, SCOPES};
use quickstart::{start, text, QuickstartApp};
use serde_json::json;

/// One browser at a time across this file's tests.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const APPROVE: &str = "button.approve";
const DENY: &str = "button.deny";

/// Signs in on the demo sign-in page the browser was sent to.
pub(crate) async fn sign_in(browser: &Browser, app: &QuickstartApp) {
    let url = browser.current_url().await;
    assert!(url.starts_with(&format!("{}/login?next=", app.base)), "sent to the sign-in page: {url}");
    browser.fill("#username", &app.config.username).await;
    browser.fill("#password", &app.config.password).await;
    browser.submit("form").await;
}

/// Starts the demo app's flow, signs in, and waits for the approval screen.
async fn to_the_approval_screen(browser: &Browser, app: &QuickstartApp, state: &str, challenge: &str) {
    browser.goto(&app.demo_app_url(state, challenge)).await;
    sign_in(browser, app).await;
    let url = browser.current_url().await;
    assert!(url.starts_with(&format!("{}/oauth/authorize?", app.base)), "back at the request: {url}");
    browser.find(APPROVE).await;
}

/// The callback's parameter `name`, once.
fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut values = query.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let value = values.next();
    assert!(values.next().is_none(), "{name} appears once: {query:?}");
    value
}

/// Asserts the browser is at the demo app's callback, and returns its query.
async fn at_callback(browser: &Browser, app: &QuickstartApp) -> Vec<(String, String)> {
    let url = browser.wait_for_url(|url| url.starts_with(&app.callback.url)).await;
    assert_eq!(browser.title().await, "Demo app", "{url}");
    let query = browser.current_query().await;
    assert_eq!(query, app.callback.last(), "what the browser shows is what the app got");
    query
}

#[tokio::test]
async fn a_third_party_app_signs_in_approves_exchanges_the_code_and_calls_the_api() {
    let _turn = TURN.lock().await;
    let Some(browser) = Browser::start().await else { return };
    let app = start("memory").await;
    let (verifier, challenge) = pkce_pair().expect("pkce");

    // (1) The demo third-party app starts the flow; (2) the browser is sent to sign in, and
    // comes back to the authorization request afterwards.
    browser.goto(&app.demo_app_url("xyz-state", &challenge)).await;
    assert_eq!(browser.title().await, "Sign in");
    browser.screenshot("sign-in.png").await;
    sign_in(&browser, &app).await;
    let session = browser.cookie(quickstart::demo::sign_in::SESSION_COOKIE).await.expect("a session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(format!("{:?}", session.same_site()), "Some(Lax)");

    // (3) The approval screen: the client's name, each scope's description, two buttons.
    assert_eq!(browser.title().await, format!("Authorize {}", app.config.demo_app.name));
    let shown = browser.text("main").await;
    assert!(shown.contains(&app.config.demo_app.name), "{shown}");
    for (id, description) in SCOPES {
        assert!(shown.contains(description), "the description of {id} is shown: {shown}");
    }
    assert_eq!(browser.text(APPROVE).await, "Approve");
    assert_eq!(browser.text(DENY).await, "Deny");
    let screenshot = browser.screenshot("approval-screen.png").await;
    assert!(std::fs::read(&screenshot).expect("png").starts_with(b"\x89PNG"));
    browser.set_window_size(390, 844).await;
    let phone = browser.screenshot("approval-screen-phone.png").await;
    assert!(std::fs::read(&phone).expect("png").starts_with(b"\x89PNG"));
    let fits =
        browser.execute("return document.documentElement.scrollWidth <= window.innerWidth;", vec![]).await;
    assert_eq!(fits, true, "no sideways scrolling on a phone");
    browser.set_window_size(1280, 900).await;
    // The page may open no connection (the CSP's default-src 'none'), so no injected
    // script could send anything anywhere.
    let screen_url = browser.current_url().await;
    let blocked = browser.fetch(&screen_url, json!({})).await;
    assert_eq!(blocked.status, 0, "{blocked:?}");
    // The screen's headers, for this session: no caching, no framing, no inline script.
    let cookie = format!("{}={}", session.name(), session.value());
    let (status, headers, body) = app.get_page(&screen_url, &cookie).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    let policy = headers["content-security-policy"].to_str().expect("ascii");
    assert!(policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"), "{policy}");
    assert!(
        policy.contains(&format!(
            "form-action 'self' {}",
            quickstart::demo::sign_in::origin(&app.callback.url)
        )),
        "{policy}"
    );

    // (4) Approve: the 303 after the form post is followed to the app's origin (so the
    // CSP's form-action allows it), with code, state and iss (RFC 9207).
    browser.submit(APPROVE).await;
    let query = at_callback(&browser, &app).await;
    let code = param(&query, "code").expect("a code").to_owned();
    assert_eq!(param(&query, "state"), Some("xyz-state"));
    assert_eq!(param(&query, "iss"), Some(app.base.as_str()));
    assert_eq!(param(&query, "error"), None);

    // (5) The exchange, with the code_verifier, and the token on the demo API.
    let tokens = app.exchange(&code, &verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let mut granted: Vec<String> = text(&tokens.body, "scope").split(' ').map(str::to_owned).collect();
    granted.sort();
    let mut asked: Vec<&str> = SCOPES.map(|(id, _)| id).to_vec();
    asked.sort_unstable();
    assert_eq!(granted, asked, "every scope asked for");
    let access = text(&tokens.body, "access_token");
    assert!(tokens.body["refresh_token"].is_string(), "{}", tokens.body);
    let posts = app.api("/api/posts", &access).await;
    assert_eq!(posts.status, 200, "{}", posts.body);
    let me = app.api("/api/user", &access).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["sub"], "1", "the signed-in demo user");
    assert_eq!(me.body["client_id"], app.config.demo_app.client_id.as_str());
    assert_eq!(me.body["user"]["name"], "Taylor");
    // Once only.
    assert_eq!(app.exchange(&code, &verifier).await.body["error"], "invalid_grant");
}

#[tokio::test]
async fn deny_sends_access_denied_back_to_the_app() {
    let _turn = TURN.lock().await;
    let Some(browser) = Browser::start().await else { return };
    let app = start("memory").await;
    let (_, challenge) = pkce_pair().expect("pkce");
    to_the_approval_screen(&browser, &app, "deny-state", &challenge).await;

    browser.submit(DENY).await;
    let query = at_callback(&browser, &app).await;
    assert_eq!(param(&query, "error"), Some("access_denied"));
    assert_eq!(param(&query, "state"), Some("deny-state"));
    assert_eq!(param(&query, "iss"), Some(app.base.as_str()));
    assert_eq!(param(&query, "code"), None);
}

#[tokio::test]
async fn a_first_party_public_client_on_a_loopback_uri_gets_the_screen() {
    let _turn = TURN.lock().await;
    let Some(browser) = Browser::start().await else { return };
    let app = start("memory").await;
    let (verifier, challenge) = pkce_pair().expect("pkce");

    // The first-party public CLI, on a loopback redirect URI (any port): any local process
    // could claim it (RFC 8252 §8.6), so the user sees the screen and approves.
    browser.goto(&app.cli_url("cli-state", &challenge)).await;
    sign_in(&browser, &app).await;
    browser.find(APPROVE).await;
    assert_eq!(app.callback.count(), 0, "no code before the user approves");
    browser.submit(APPROVE).await;
    let query = at_callback(&browser, &app).await;
    assert_eq!(app.callback.count(), 1);
    assert_eq!(param(&query, "state"), Some("cli-state"));
    assert_eq!(param(&query, "iss"), Some(app.base.as_str()));
    let code = param(&query, "code").expect("a code, once approved");

    // A public client: no secret, its client_id in the form, PKCE.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", app.callback.url.as_str()),
        ("client_id", quickstart::demo::quickstart::NATIVE_CLIENT_ID),
        ("code_verifier", verifier.as_str()),
    ];
    let tokens = app.token(&form, None).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(app.api("/api/user", &text(&tokens.body, "access_token")).await.status, 200);
}

#[tokio::test]
async fn a_second_authorization_with_the_same_scopes_skips_the_screen() {
    let _turn = TURN.lock().await;
    let Some(browser) = Browser::start().await else { return };
    let app = start("memory").await;
    let (verifier, challenge) = pkce_pair().expect("pkce");
    to_the_approval_screen(&browser, &app, "first", &challenge).await;
    browser.submit(APPROVE).await;
    let code = param(&at_callback(&browser, &app).await, "code").expect("a code").to_owned();
    assert_eq!(app.exchange(&code, &verifier).await.status, 200);

    // Signed in still, the same scopes again: straight back with a new code.
    let (verifier, challenge) = pkce_pair().expect("pkce");
    browser.goto(&app.demo_app_url("second", &challenge)).await;
    let query = at_callback(&browser, &app).await;
    assert_eq!(app.callback.count(), 2);
    assert_eq!(param(&query, "state"), Some("second"));
    let second = param(&query, "code").expect("a code, with no screen in between");
    assert_ne!(second, code);
    assert_eq!(app.exchange(second, &verifier).await.status, 200);

    // prompt=consent asks again.
    browser.goto(&format!("{}&prompt=consent", app.demo_app_url("third", &challenge))).await;
    browser.find(APPROVE).await;
    assert_eq!(app.callback.count(), 2);
}

#[tokio::test]
async fn a_tampered_csrf_token_is_refused() {
    let _turn = TURN.lock().await;
    let Some(browser) = Browser::start().await else { return };
    let app = start("memory").await;
    let (_, challenge) = pkce_pair().expect("pkce");
    to_the_approval_screen(&browser, &app, "tampered", &challenge).await;

    // Flip the last character of the token in both forms, then Approve.
    let tampered = browser
        .execute(
            "const inputs = document.querySelectorAll('input[name=csrf_token]');
             for (const input of inputs) {
               const last = input.value.slice(-1);
               input.value = input.value.slice(0, -1) + (last === 'A' ? 'B' : 'A');
             }
             return inputs.length;",
            vec![],
        )
        .await;
    assert_eq!(tampered, 2, "both forms carry the token");
    browser.submit(APPROVE).await;
    assert!(browser.current_url().await.starts_with(&format!("{}/oauth/authorize", app.base)));
    let refused = browser.text("main").await;
    assert!(refused.contains("cannot be completed") && refused.contains("expired"), "{refused}");
    assert_eq!(app.callback.count(), 0, "nothing reached the app");
    assert!(browser.try_find(APPROVE).await.is_none());
}
