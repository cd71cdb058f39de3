//! The device authorization grant (RFC 8628) in headless Chromium, against the quickstart's
//! app (its `build()` on a loopback port, the memory store): the seeded device client asks for
//! codes, the browser opens `verification_uri_complete`, is sent to the demo sign-in page and
//! back, sees the same approval screen as the authorization code grant, approves, and the
//! device's next poll gets the tokens. Then a user who types the code by hand on the entry
//! page, in lower case, and denies. A screenshot of the entry page goes to
//! `target/device-entry.png`.
//!
//! Skips, with the reason printed, when no browser is installed, except under CI. The tests
//! take turns (one Chromium at a time).

use crate::browser;
use crate::browser_authorization::sign_in;
use crate::in_process as quickstart;

use browser::Browser;
use quickstart::demo::quickstart::{DEVICE_CLIENT_ID, SCOPES};
use quickstart::{start, QuickstartApp};
use serde_json::Value;

/// One browser at a time across this file's tests.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The device asks for codes.
async fn start_device(app: &QuickstartApp) -> Value {
    let url = format!("{}/oauth/device/code", app.base);
    let scope = SCOPES.map(|(id, _)| id).join(" ");
    let (status, _, body) =
        app.post_form(&url, "", &[("client_id", DEVICE_CLIENT_ID), ("scope", &scope)]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

/// One poll of the token endpoint by the device.
async fn poll(app: &QuickstartApp, device_code: &str) -> Value {
    let grant = ("grant_type", "urn:ietf:params:oauth:grant-type:device_code");
    app.token(&[grant, ("client_id", DEVICE_CLIENT_ID), ("device_code", device_code)], None).await.body
}

#[tokio::test]
async fn a_user_opens_the_complete_uri_signs_in_approves_and_the_device_gets_tokens() {
    let _turn = TURN.lock().await;
    let Some(browser) = Browser::start().await else { return };
    let app = start("memory").await;
    let started = start_device(&app).await;
    let device_code = started["device_code"].as_str().expect("device_code");
    assert_eq!(poll(&app, device_code).await["error"], "authorization_pending");

    browser.goto(started["verification_uri_complete"].as_str().expect("complete")).await;
    sign_in(&browser, &app).await;
    let url = browser.current_url().await;
    assert!(url.starts_with(&format!("{}/oauth/device?user_code=", app.base)), "back with the code: {url}");
    assert_eq!(browser.title().await, "Authorize Quickstart TV");
    let shown = browser.text("main").await;
    for (_, description) in SCOPES {
        assert!(shown.contains(description), "{shown}");
    }
    browser.click("button.approve").await;
    browser.wait_for_url(|url| !url.contains("user_code=")).await;
    assert!(browser.text("main").await.contains("Device connected"));

    // RFC 8628: the device waits its interval (5 s) before polling again.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let tokens = poll(&app, device_code).await;
    let access = tokens["access_token"].as_str().unwrap_or_else(|| panic!("tokens: {tokens}"));
    let verified = app.node.issuer.verifier().verify(access).expect("valid");
    assert_eq!(verified.client_id(), Some(DEVICE_CLIENT_ID));
    assert!(verified.subject().is_some_and(|sub| !sub.is_empty()));
}

#[tokio::test]
async fn a_user_types_the_code_by_hand_and_denies() {
    let _turn = TURN.lock().await;
    let Some(browser) = Browser::start().await else { return };
    let app = start("memory").await;
    let started = start_device(&app).await;
    let device_code = started["device_code"].as_str().expect("device_code");

    browser.goto(started["verification_uri"].as_str().expect("verification_uri")).await;
    sign_in(&browser, &app).await;
    assert_eq!(browser.title().await, "Connect a device");
    browser.screenshot("device-entry.png").await;
    let typed = started["user_code"].as_str().expect("user_code").replace('-', " ").to_lowercase();
    browser.fill("input[name=user_code]", &typed).await;
    browser.submit("form").await;
    assert_eq!(browser.title().await, "Authorize Quickstart TV");
    browser.click("button.deny").await;
    browser.wait_for_url(|url| !url.contains("user_code=")).await;
    assert!(browser.text("main").await.contains("Request denied"));
    assert_eq!(poll(&app, device_code).await["error"], "access_denied");
}
