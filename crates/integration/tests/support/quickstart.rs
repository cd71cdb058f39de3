//! The quickstart app for the authorization code tests: its `build()` served on a loopback
//! port, a demo third-party app's callback on another origin (another port) that records
//! what the browser brought, and the client side of the flow (the code exchange, refresh,
//! API calls) over hyper.
//!
//! ```ignore
//! #[path = "support/quickstart.rs"]
//! mod quickstart;
//!
//! let app = quickstart::start("memory").await;
//! let (verifier, challenge) = quickstart::demo::quickstart::pkce_pair().unwrap();
//! let url = app.demo_app_url("some-state", &challenge);
//! // … a browser or a script signs in and approves, landing on app.callback …
//! let tokens = app.exchange(&code, &verifier).await;
//! ```
#![allow(dead_code, unreachable_pub)]

pub(crate) use crate::demo;

use std::sync::{Arc, Mutex};

use axum::extract::RawQuery;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use base64::Engine;
use bytes::Bytes;
use demo::quickstart::{authorization_url, build, Quickstart, QuickstartConfig};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// The demo third-party app's callback: another origin than the quickstart's (another
/// port), so the approval form's redirect crosses origins as a real app's does.
pub struct Callback {
    /// Its URL: the demo app's registered redirect URI.
    pub url: String,
    /// The raw query of every request it got, in order.
    pub received: Arc<Mutex<Vec<String>>>,
}

impl Callback {
    async fn start() -> Self {
        let received: Arc<Mutex<Vec<String>>> = Arc::default();
        let record = received.clone();
        let app = Router::new().route(
            "/callback",
            get(move |RawQuery(query): RawQuery| {
                record.lock().expect("lock").push(query.unwrap_or_default());
                async { Html("<!DOCTYPE html><title>Demo app</title><h1>Back at the demo app</h1>") }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/callback", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, received }
    }

    /// The decoded parameters of the last request it got.
    pub fn last(&self) -> Vec<(String, String)> {
        let received = self.received.lock().expect("lock");
        let query = received.last().expect("the callback was called");
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    /// How many requests it got.
    pub fn count(&self) -> usize {
        self.received.lock().expect("lock").len()
    }
}

/// The quickstart app on loopback.
pub struct QuickstartApp {
    /// `http://127.0.0.1:<port>`, also the issuer URL.
    pub base: String,
    pub config: QuickstartConfig,
    pub node: Quickstart,
    pub callback: Callback,
    client: Client<HttpConnector, Full<Bytes>>,
    /// The SQLite file of [`start_sqlite`], removed on drop.
    db: Option<std::path::PathBuf>,
}

impl Drop for QuickstartApp {
    fn drop(&mut self) {
        if let Some(db) = &self.db {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
        }
    }
}

/// A fresh SQLite file's store URL (the quickstart's default store), and its path.
pub fn temp_sqlite() -> (String, std::path::PathBuf) {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let db = std::env::temp_dir().join(format!("passport-quickstart-{}-{nanos}.db", std::process::id()));
    (format!("sqlite://{}", db.display()), db)
}

/// [`start_with`] on a fresh SQLite file, removed when the app is dropped.
pub async fn start_sqlite(configure: impl FnOnce(&mut QuickstartConfig)) -> QuickstartApp {
    let (url, db) = temp_sqlite();
    let mut app = start_with(&url, configure).await;
    app.db = Some(db);
    app
}

/// A response, read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

/// Serves the quickstart's app on `store` (`memory`, `sqlite://…`), with the demo app's
/// redirect URI on a callback server of its own.
pub async fn start(store: &str) -> QuickstartApp {
    start_with(store, |_| {}).await
}

/// [`start`], with `configure` having the last word on the configuration (it may put the
/// demo app's redirect URI back on the quickstart's own callback page, say).
pub async fn start_with(store: &str, configure: impl FnOnce(&mut QuickstartConfig)) -> QuickstartApp {
    let callback = Callback::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = QuickstartConfig::from_env(addr).expect("config");
    config.password_iterations = 1_000;
    config.store = store.into();
    config.demo_app.redirect_uri = callback.url.clone();
    configure(&mut config);
    let node = build(&config).await.expect("quickstart app");
    let app = node.app.clone();
    // With the peer address, as the example's server passes it on (examples/demo/serve.rs).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    QuickstartApp {
        base: format!("http://{addr}"),
        config,
        node,
        callback,
        client: Client::builder(TokioExecutor::new()).build_http(),
        db: None,
    }
}

impl QuickstartApp {
    /// The URL that starts the flow for the demo third-party app, with every demo scope.
    pub fn demo_app_url(&self, state: &str, challenge: &str) -> String {
        let app = &self.config.demo_app;
        authorization_url(&self.node.oauth, &app.client_id, &app.redirect_uri, state, challenge)
    }

    /// The same for the first-party CLI, on a loopback port of the callback server.
    pub fn cli_url(&self, state: &str, challenge: &str) -> String {
        authorization_url(
            &self.node.oauth,
            demo::quickstart::NATIVE_CLIENT_ID,
            &self.callback.url,
            state,
            challenge,
        )
    }

    async fn send(&self, request: http::request::Builder, body: String) -> Reply {
        let (status, _, body) = self.raw(request, body).await;
        Reply { status, body: serde_json::from_str(&body).unwrap_or(Value::Null) }
    }

    /// `POST /oauth/token` with `form`, authenticated as the demo app (Basic) or, with
    /// `None`, as a public client that names itself in the form.
    pub async fn token(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Reply {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/oauth/token", self.base))
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some((id, secret)) = basic {
            let credentials = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
            request = request.header("authorization", format!("Basic {credentials}"));
        }
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        self.send(request, body).await
    }

    /// The demo app exchanges `code` with its secret and `verifier`.
    pub async fn exchange(&self, code: &str, verifier: &str) -> Reply {
        let app = &self.config.demo_app;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", app.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        self.token(&form, Some((&app.client_id, &app.client_secret))).await
    }

    /// Sends `request` and reads the whole answer: status, headers, body.
    async fn raw(
        &self,
        request: http::request::Builder,
        body: String,
    ) -> (StatusCode, http::HeaderMap, String) {
        let request = request.body(Full::new(Bytes::from(body))).expect("request");
        let response = self.client.request(request).await.expect("response");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `GET url` as the browser with `cookie` (`name=value`) would: status, headers, body.
    pub async fn get_page(&self, url: &str, cookie: &str) -> (StatusCode, http::HeaderMap, String) {
        self.raw(Request::get(url).header("cookie", cookie), String::new()).await
    }

    /// `POST url` with a form body, as the browser with `cookie` would.
    pub async fn post_form(
        &self,
        url: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, http::HeaderMap, String) {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let request = Request::post(url)
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded");
        self.raw(request, body).await
    }

    /// Signs the demo user in through the sign-in page, as a browser does: the session
    /// cookie (`name=value`) it ends with, and the form token kept in that session (which
    /// signing out needs too).
    pub async fn sign_in(&self) -> (String, String) {
        let login = format!("{}{}", self.base, demo::sign_in::LOGIN_PATH);
        let (status, headers, page) = self.get_page(&login, "").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let cookie = set_cookie(&headers, demo::sign_in::SESSION_COOKIE).expect("a session cookie");
        let token = hidden_input(&page, "token");
        let form = [
            ("username", self.config.username.as_str()),
            ("password", self.config.password.as_str()),
            ("next", "/"),
            ("token", token.as_str()),
        ];
        let (status, headers, page) = self.post_form(&login, &cookie, &form).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
        let session = set_cookie(&headers, demo::sign_in::SESSION_COOKIE).expect("a renewed session cookie");
        (session, token)
    }

    /// `GET path` on the demo API with `token`: the status and the JSON body.
    pub async fn api(&self, path: &str, token: &str) -> Reply {
        let request = Request::builder()
            .uri(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {token}"));
        self.send(request, String::new()).await
    }
}

/// The cookie `name` a response set, as `name=value`.
pub fn set_cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers.get_all(http::header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|cookie| {
        let pair = cookie.split(';').next()?;
        pair.starts_with(&format!("{name}=")).then(|| pair.to_owned())
    })
}

/// The value of a hidden input `name` in `html` (its escaping undone for `&amp;`).
pub fn hidden_input(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].replace("&amp;", "&")
}

/// `value[field]` as a string, or a panic naming it.
pub fn text(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or_else(|| panic!("no {field} in {value}")).to_owned()
}
