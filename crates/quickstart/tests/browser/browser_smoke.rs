//! The browser harness end to end, against a page served in the test: headless Chromium
//! loads a form, fills and submits it, lands on the result page, calls `fetch` from the page
//! and reads an `HttpOnly` cookie, and a screenshot is saved to `target/browser-smoke.png`.
//! It skips (with the reason printed) when no browser is installed, except under CI.

use crate::browser;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use browser::Browser;
use serde_json::{json, Value};

/// What the server was sent through the form.
type Received = Arc<Mutex<Vec<String>>>;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Harness smoke test</title>
  <style>
    body { font-family: sans-serif; max-width: 32rem; margin: 3rem auto; color: #1f2937; }
    form { display: grid; gap: .75rem; padding: 1.5rem; border: 1px solid #d1d5db; border-radius: .5rem; }
    input { padding: .5rem; font-size: 1rem; }
    button { padding: .5rem 1rem; font-size: 1rem; background: #2563eb; color: white; border: 0; border-radius: .375rem; }
  </style>
</head>
<body>
  <h1>Send a message</h1>
  <form id="send" method="post" action="/submit">
    <label for="message">Message</label>
    <input id="message" name="message" required>
    <button type="submit">Send</button>
  </form>
</body>
</html>"#;

async fn form_page() -> Html<&'static str> {
    Html(PAGE)
}

/// Records the posted message and redirects to the result page (post/redirect/get).
async fn submit(State(received): State<Received>, body: String) -> Redirect {
    let message = form_urlencoded::parse(body.as_bytes())
        .find(|(name, _)| name == "message")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    received.lock().expect("lock").push(message);
    Redirect::to("/result")
}

/// Shows the last message, and sets an `HttpOnly` cookie the page's scripts cannot read.
async fn result_page(State(received): State<Received>) -> Response {
    let last = received.lock().expect("lock").last().cloned().unwrap_or_default();
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Received</title>
<style>body {{ font-family: sans-serif; max-width: 32rem; margin: 3rem auto; }}
#received {{ padding: 1rem; background: #ecfdf5; border: 1px solid #10b981; border-radius: .5rem; }}</style>
</head><body><h1>Thank you</h1><p id="received">Received: {}</p></body></html>"#,
        escape(&last)
    );
    let cookie = (header::SET_COOKIE, "smoke=seen; Path=/; HttpOnly; SameSite=Lax");
    ([cookie], Html(html)).into_response()
}

/// Echoes what a `fetch` from the page sent: its header, body and the cookie it carried.
async fn echo(headers: HeaderMap, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let answer = json!({"x-smoke": header("x-smoke"), "cookie": header("cookie"), "body": body});
    (StatusCode::CREATED, Json(answer))
}

#[tokio::test]
async fn a_form_a_fetch_and_a_screenshot_in_headless_chromium() {
    let Some(browser) = Browser::start().await else { return };
    let received = Received::default();
    let app = Router::new()
        .route("/", get(form_page))
        .route("/submit", post(submit))
        .route("/result", get(result_page))
        .route("/api/echo", post(echo))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    browser.goto(&format!("{base}/")).await;
    assert_eq!(browser.title().await, "Harness smoke test");
    // Characters that need escaping in a form body and in HTML both.
    let message = "héllo & <goodbye>";
    browser.fill("#message", message).await;
    browser.submit("form#send").await;

    assert_eq!(*received.lock().expect("lock"), [message], "the server got the typed value");
    assert_eq!(browser.current_url().await, format!("{base}/result"), "the redirect was followed");
    assert_eq!(browser.text("#received").await, format!("Received: {message}"));
    assert!(browser.page_source().await.contains("héllo &amp; &lt;goodbye&gt;"));

    let cookie = browser.cookie("smoke").await.expect("the cookie the result page set");
    assert_eq!(cookie.value(), "seen");
    assert_eq!(cookie.http_only(), Some(true));
    let visible = browser.execute("return document.cookie;", vec![]).await;
    assert_eq!(visible, "", "an HttpOnly cookie is hidden from the page's scripts");

    let init = json!({
        "method": "POST",
        "headers": {"content-type": "application/json", "x-smoke": "from-the-page"},
        "body": json!({"n": 42}).to_string(),
    });
    let reply = browser.fetch("/api/echo", init).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.headers.get("content-type").map(String::as_str), Some("application/json"));
    let echoed = reply.json();
    assert_eq!(echoed["x-smoke"], "from-the-page");
    assert_eq!(echoed["body"], json!({"n": 42}));
    assert_eq!(echoed["cookie"], "smoke=seen", "a same-origin fetch sends the page's cookies");

    // A fetch that fails is reported, not thrown: nothing listens on port 9 of loopback.
    let refused = browser.fetch("http://127.0.0.1:9/", json!({})).await;
    assert_eq!(refused.status, 0);
    assert!(refused.error.as_deref().is_some_and(|e| e.contains("TypeError")), "{refused:?}");

    let path = browser.screenshot("browser-smoke.png").await;
    let png = std::fs::read(&path).expect("the screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG at {}", path.display());
    assert!(png.len() > 2_000, "an image with something drawn, not an empty one");
}
