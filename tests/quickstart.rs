//! The quickstart's curl walkthrough, run against the quickstart app over loopback: get a
//! token, call the API, refresh, reuse the old refresh token, watch the family die.

#[path = "../examples/demo/mod.rs"]
mod demo;

use std::net::SocketAddr;

use base64::Engine;
use bytes::Bytes;
use demo::quickstart::{build, QuickstartConfig};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

struct App {
    addr: SocketAddr,
    config: QuickstartConfig,
    client: Client<HttpConnector, Full<Bytes>>,
}

struct Reply {
    status: StatusCode,
    body: Value,
}

async fn start() -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = QuickstartConfig::from_env(&addr.to_string()).expect("config");
    config.password_iterations = 1_000;
    config.store = "memory".into();
    let app = build(&config).await.expect("quickstart app").app;
    tokio::spawn(async move { axum::serve(listener, app).await });
    App { addr, config, client: Client::builder(TokioExecutor::new()).build_http() }
}

impl App {
    async fn send(&self, request: http::request::Builder, body: &str) -> Reply {
        let response = self
            .client
            .request(request.body(Full::new(Bytes::from(body.to_owned()))).expect("request"))
            .await
            .expect("response");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Reply { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
    }

    fn basic(&self) -> String {
        let credentials = format!("{}:{}", self.config.client_id, self.config.client_secret);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials))
    }

    async fn token(&self, form: &str) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("http://{}/oauth/token", self.addr))
            .header("authorization", self.basic())
            .header("content-type", "application/x-www-form-urlencoded");
        self.send(request, form).await
    }

    async fn api(&self, method: Method, path: &str, token: &str) -> StatusCode {
        let request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr))
            .header("authorization", format!("Bearer {token}"));
        self.send(request, "").await.status
    }
}

fn text(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or_else(|| panic!("no {field} in {value}")).to_owned()
}

#[tokio::test]
async fn the_walkthrough_works_end_to_end() {
    let app = start().await;

    // 1. client credentials, the client-only route
    let m2m = app.token("grant_type=client_credentials&scope=check-status").await;
    assert_eq!(m2m.status, StatusCode::OK);
    let m2m = text(&m2m.body, "access_token");
    assert_eq!(app.api(Method::GET, "/api/m2m", &m2m).await, StatusCode::OK);
    assert_eq!(app.api(Method::GET, "/api/orders", &m2m).await, StatusCode::OK);

    // 2. the password grant for the demo user
    let form = format!(
        "grant_type=password&username={}&password={}&scope=read-posts+write-posts",
        form_urlencoded::byte_serialize(app.config.username.as_bytes()).collect::<String>(),
        form_urlencoded::byte_serialize(app.config.password.as_bytes()).collect::<String>()
    );
    let tokens = app.token(&form).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert_eq!(text(&tokens.body, "scope"), "read-posts write-posts");
    let (access, refresh) = (text(&tokens.body, "access_token"), text(&tokens.body, "refresh_token"));
    assert_eq!(app.api(Method::GET, "/api/user", &access).await, StatusCode::OK);
    assert_eq!(app.api(Method::GET, "/api/posts", &access).await, StatusCode::OK);
    assert_eq!(app.api(Method::DELETE, "/api/posts/1", &access).await, StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::GET, "/api/m2m", &access).await, StatusCode::FORBIDDEN);

    // 3. refresh: the old access token is revoked, the new one works
    let renewed = app.token(&format!("grant_type=refresh_token&refresh_token={refresh}")).await;
    assert_eq!(renewed.status, StatusCode::OK);
    let new_access = text(&renewed.body, "access_token");
    assert_ne!(text(&renewed.body, "refresh_token"), refresh);
    assert_eq!(app.api(Method::GET, "/api/user", &access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.api(Method::GET, "/api/user", &new_access).await, StatusCode::OK);

    // 4. reuse of the old refresh token, past the race window (3 s, in which a repeat is a
    //    second tab that lost the race and changes nothing), kills the family
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let reuse = app.token(&format!("grant_type=refresh_token&refresh_token={refresh}")).await;
    assert_eq!(reuse.status, StatusCode::BAD_REQUEST);
    assert_eq!(text(&reuse.body, "error"), "invalid_grant");
    assert_eq!(app.api(Method::GET, "/api/user", &new_access).await, StatusCode::UNAUTHORIZED);

    // 5. introspect and revoke
    let introspect = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{}/oauth/introspect", app.addr))
        .header("authorization", app.basic())
        .header("content-type", "application/x-www-form-urlencoded");
    let answer = app.send(introspect, &format!("token={m2m}")).await;
    assert_eq!(answer.body["active"], true);
    assert_eq!(answer.body["client_id"], app.config.client_id.as_str());
    let revoke = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{}/oauth/revoke", app.addr))
        .header("authorization", app.basic())
        .header("content-type", "application/x-www-form-urlencoded");
    assert_eq!(app.send(revoke, &format!("token={m2m}")).await.status, StatusCode::OK);
    assert_eq!(app.api(Method::GET, "/api/m2m", &m2m).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn personal_access_tokens_work_in_the_quickstart() {
    let app = start().await;
    let form = format!(
        "grant_type=password&username={}&password={}&scope=read-posts",
        form_urlencoded::byte_serialize(app.config.username.as_bytes()).collect::<String>(),
        form_urlencoded::byte_serialize(app.config.password.as_bytes()).collect::<String>()
    );
    let access = text(&app.token(&form).await.body, "access_token");
    let create = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{}/oauth/personal-access-tokens", app.addr))
        .header("authorization", format!("Bearer {access}"))
        .header("content-type", "application/json");
    let created = app.send(create, r#"{"name":"cli","scopes":["read-posts"]}"#).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let personal = text(&created.body, "accessToken");
    assert_eq!(app.api(Method::GET, "/api/posts", &personal).await, StatusCode::OK);
}

#[tokio::test]
async fn wrong_demo_credentials_are_refused() {
    let app = start().await;
    let bad = app.token("grant_type=password&username=taylor%40example.com&password=nope").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(text(&bad.body, "error"), "invalid_grant");
    let jwks =
        app.send(Request::builder().uri(format!("http://{}/.well-known/jwks.json", app.addr)), "").await;
    assert_eq!(jwks.body["keys"].as_array().map(Vec::len), Some(1));
}
