//! The demo API of the examples (`examples/demo`), served over a real loopback socket by
//! axum and called with a hyper client: every route and every response row.

use crate::support;

use crate::demo;

use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use support::{client_claims, user_claims, TestKey, AUDIENCE, ISSUER, NOW};
use tower_passport::{clock::ManualClock, Algorithm, KeySet, Verifier};

struct Demo {
    addr: SocketAddr,
    key: TestKey,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>,
}

struct Reply {
    status: StatusCode,
    challenge: Option<String>,
    body: Value,
}

async fn start() -> Demo {
    let key = TestKey::generate(Algorithm::RS256);
    let verifier = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .build()
        .expect("verifier");
    let app = demo::router(demo::guard(verifier).expect("guard"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    Demo { addr, key, client: Client::builder(TokioExecutor::new()).build_http() }
}

impl Demo {
    async fn send(&self, method: Method, path: &str, token: Option<&str>) -> Reply {
        let mut request = Request::builder().method(method).uri(format!("http://{}{path}", self.addr));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response =
            self.client.request(request.body(Empty::new()).expect("request")).await.expect("response");
        let status = response.status();
        let challenge =
            response.headers().get("www-authenticate").map(|v| v.to_str().expect("ascii").to_owned());
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("json") };
        Reply { status, challenge, body }
    }

    fn user(&self, sub: &str, scope: &str) -> String {
        self.key.sign(&user_claims(sub, scope))
    }

    fn client_token(&self, scope: &str) -> String {
        self.key.sign(&client_claims("billing-service", scope))
    }
}

#[tokio::test]
async fn health_is_public() {
    let demo = start().await;
    let reply = demo.send(Method::GET, "/health", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"status": "ok"}));
}

#[tokio::test]
async fn api_user_describes_user_and_client_tokens() {
    let demo = start().await;
    let user = demo.send(Method::GET, "/api/user", Some(&demo.user("1", "read-posts admin"))).await;
    assert_eq!(user.status, StatusCode::OK);
    assert_eq!(user.body["sub"], "1");
    assert_eq!(user.body["client_id"], "app");
    assert_eq!(user.body["scopes"], json!(["admin", "read-posts"]));
    assert_eq!(user.body["kind"], "user");
    assert_eq!(user.body["user"]["name"], "Taylor");

    let client = demo.send(Method::GET, "/api/user", Some(&demo.client_token("check-status"))).await;
    assert_eq!(client.status, StatusCode::OK);
    assert_eq!(client.body["kind"], "client");
    assert_eq!(client.body["sub"], "billing-service");
    assert_eq!(client.body["user"], Value::Null);
}

#[tokio::test]
async fn no_token_is_a_bare_challenge() {
    let demo = start().await;
    let reply = demo.send(Method::GET, "/api/user", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.challenge.as_deref(), Some(r#"Bearer realm="demo""#));
    assert_eq!(reply.body, Value::Null);
}

#[tokio::test]
async fn unknown_user_is_invalid_token() {
    let demo = start().await;
    let reply = demo.send(Method::GET, "/api/user", Some(&demo.user("3", "read-posts"))).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.body["error"], "invalid_token");
    assert!(reply.challenge.expect("challenge").contains(r#"error="invalid_token""#));
}

#[tokio::test]
async fn posts_routes_enforce_their_scopes() {
    let demo = start().await;
    let reader = demo.user("1", "read-posts");
    let writer = demo.user("2", "write-posts");
    let admin = demo.user("1", "admin");
    assert_eq!(demo.send(Method::GET, "/api/posts", Some(&reader)).await.status, StatusCode::OK);
    let denied = demo.send(Method::GET, "/api/posts", Some(&writer)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(denied.challenge.expect("challenge").ends_with(r#"scope="read-posts""#));
    assert_eq!(demo.send(Method::POST, "/api/posts", Some(&writer)).await.status, StatusCode::CREATED);
    let denied = demo.send(Method::POST, "/api/posts", Some(&reader)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(denied.challenge.expect("challenge").ends_with(r#"scope="write-posts""#));
    let deleted = demo.send(Method::DELETE, "/api/posts/5", Some(&admin)).await;
    assert_eq!((deleted.status, deleted.body["deleted"].clone()), (StatusCode::OK, json!(5)));
    let denied = demo.send(Method::DELETE, "/api/posts/5", Some(&reader)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(denied.challenge.expect("challenge").ends_with(r#"scope="admin""#));
    let wildcard = demo.user("1", "*");
    assert_eq!(demo.send(Method::DELETE, "/api/posts/5", Some(&wildcard)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn orders_accept_any_of_its_scopes() {
    let demo = start().await;
    for scope in ["check-status", "place-orders"] {
        let reply = demo.send(Method::GET, "/api/orders", Some(&demo.user("1", scope))).await;
        assert_eq!(reply.status, StatusCode::OK, "{scope}");
        assert_eq!(reply.body["can_place_orders"], scope == "place-orders");
    }
    let denied = demo.send(Method::GET, "/api/orders", Some(&demo.user("1", "read-posts"))).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert!(denied.challenge.expect("challenge").ends_with(r#"scope="check-status place-orders""#));
}

#[tokio::test]
async fn m2m_is_for_client_tokens_only() {
    let demo = start().await;
    let client = demo.send(Method::GET, "/api/m2m", Some(&demo.client_token("check-status"))).await;
    assert_eq!(client.status, StatusCode::OK);
    assert_eq!(client.body["client_id"], "billing-service");
    let user = demo.send(Method::GET, "/api/m2m", Some(&demo.user("1", "*"))).await;
    assert_eq!(user.status, StatusCode::FORBIDDEN);
    assert_eq!(user.body["error"], "insufficient_scope");
}

#[tokio::test]
async fn a_forged_or_expired_token_is_invalid_token_on_every_route() {
    let demo = start().await;
    let other = TestKey::generate(Algorithm::ES256);
    let mut forged_claims = user_claims("1", "*");
    forged_claims["sub"] = json!("1");
    let forged = other.sign(&forged_claims);
    let mut expired_claims = user_claims("1", "*");
    expired_claims["exp"] = json!(NOW - 120);
    let expired = demo.key.sign(&expired_claims);
    for (method, path) in [
        (Method::GET, "/api/user"),
        (Method::GET, "/api/posts"),
        (Method::POST, "/api/posts"),
        (Method::DELETE, "/api/posts/1"),
        (Method::GET, "/api/orders"),
        (Method::GET, "/api/m2m"),
    ] {
        for token in [&forged, &expired] {
            let reply = demo.send(method.clone(), path, Some(token)).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert_eq!(reply.body["error"], "invalid_token");
        }
    }
}

#[tokio::test]
async fn a_malformed_authorization_header_is_invalid_request() {
    let demo = start().await;
    let reply = demo.send(Method::GET, "/api/user", Some("has\"quote")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["error"], "invalid_request");
}
