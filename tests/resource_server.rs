//! `examples/resource_server`, configured from an environment map and served on
//! loopback: Laravel Passport's own tokens with `PASSPORT_LARAVEL=1`, the PEM given
//! inline or as a path, the RSA algorithm of JWKs without `alg`, `RUST_LOG`, and the
//! limits in front of the routes (load shedding, request timeout, header-read timeout,
//! connection bound).
#![cfg(feature = "jwks")]

mod jwks_server;
mod league;
mod support;

#[path = "../examples/resource_server.rs"]
mod resource_server;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use jwks_server::{jwks, JwksServer, Reply};
use resource_server::{serve, verifier_from, Configured, Limits};
use serde_json::{json, Value};
use support::TestKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower_passport::error::Reason;
use tower_passport::Algorithm;

const CLIENT: &str = "9c1b7f3e-5d2a-4e8b-a1f0-3c6d2e9b8a71";

fn configure(vars: &[(&str, &str)]) -> Result<Configured, String> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    verifier_from(&move |name: &str| map.get(name).cloned()).map_err(|e| e.to_string())
}

/// Serves `app` on loopback within `limits`; the server stops with the test's runtime.
async fn start(app: Router, limits: Limits) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve(listener, app, limits, std::future::pending()));
    addr
}

struct Reply1 {
    status: u16,
    headers: String,
    body: String,
}

/// One HTTP/1.1 request on its own connection (`Connection: close`), read to the end.
async fn get_once(addr: SocketAddr, path: &str, token: Option<&str>) -> Reply1 {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let authorization = token.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\n{authorization}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a response");
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("status line");
    Reply1 { status, headers: head.to_ascii_lowercase(), body: body.to_owned() }
}

fn json_body(reply: &Reply1) -> Value {
    serde_json::from_str(&reply.body).expect("json")
}

#[tokio::test]
async fn laravel_passport_tokens_reach_the_demo_api() {
    let pem = league::keys().public_pem.clone();
    let one_line = pem.trim_end().replace('\n', "\\n");
    let path = std::env::temp_dir().join(format!("oauth-public-{}.key", std::process::id()));
    std::fs::write(&path, &pem).expect("key file");
    let path = path.to_str().expect("utf-8 path").to_owned();
    for key in [pem.as_str(), one_line.as_str(), path.as_str()] {
        let configured = configure(&[
            ("PASSPORT_LARAVEL", "1"),
            ("PASSPORT_PUBLIC_KEY", key),
            ("PASSPORT_AUDIENCE", &format!("{CLIENT}, 2")),
        ])
        .expect("configured");
        assert!(
            configured.described.contains("Laravel Passport tokens of the clients"),
            "{}",
            configured.described
        );
        let addr = start(resource_server::app(configured.verifier).expect("guard"), Limits::default()).await;

        // User 1 (Taylor) through the client CLIENT.
        let user = get_once(addr, "/api/user", Some(&league::token_now(CLIENT, "1", &["read-posts"]))).await;
        assert_eq!(user.status, 200, "{}", user.body);
        let body = json_body(&user);
        assert_eq!((body["sub"].clone(), body["client_id"].clone()), (json!("1"), json!(CLIENT)));
        assert_eq!(body["kind"], "user");
        // Client 2's client-credentials token (league 8: an empty sub) on the client-only route.
        let client = get_once(addr, "/api/m2m", Some(&league::token_now("2", "", &[]))).await;
        assert_eq!(client.status, 200, "{}", client.body);
        // Another client's token is refused.
        let other = get_once(addr, "/api/user", Some(&league::token_now("3", "1", &[]))).await;
        assert_eq!(other.status, 401);
        assert_eq!(json_body(&other)["error_description"], Reason::WrongAudience.description());
    }
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn the_settings_are_checked() {
    let pem = league::keys().public_pem.clone();
    let error =
        configure(&[("PASSPORT_PUBLIC_KEY", &pem), ("PASSPORT_AUDIENCE", "api")]).err().expect("no issuer");
    assert!(error.contains("PASSPORT_ISSUER"), "{error}");
    let error = configure(&[("PASSPORT_PUBLIC_KEY", &pem), ("PASSPORT_ISSUER", "https://a.test")])
        .err()
        .expect("no aud");
    assert!(error.contains("PASSPORT_AUDIENCE"), "{error}");
    // With the preset neither is needed.
    let configured = configure(&[("PASSPORT_LARAVEL", "1"), ("PASSPORT_PUBLIC_KEY", &pem)]).expect("preset");
    assert!(configured.described.contains("of any client"), "{}", configured.described);
    let missing =
        configure(&[("PASSPORT_LARAVEL", "1"), ("PASSPORT_PUBLIC_KEY", "/nonexistent/oauth-public.key")]);
    assert!(missing.err().expect("no file").contains("cannot read PASSPORT_PUBLIC_KEY"));
    let url = "https://auth.example.com/jwks";
    for bad in ["ES256", "RS1"] {
        let vars = [
            ("PASSPORT_JWKS_URL", url),
            ("PASSPORT_ISSUER", "i"),
            ("PASSPORT_AUDIENCE", "a"),
            ("PASSPORT_JWK_RSA_ALG", bad),
        ];
        assert!(configure(&vars).is_err(), "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_keys_published_without_alg_take_the_configured_algorithm() {
    let key = TestKey::generate_with_kid(Algorithm::PS256, "fapi-1");
    let mut jwk = key.jwk.clone();
    jwk.as_object_mut().expect("object").remove("alg");
    let server = JwksServer::start().await;
    server.serve("/jwks", Reply::json(&jwks(&[&jwk])));
    let url = server.url("/jwks");
    let common = [
        ("PASSPORT_JWKS_URL", url.as_str()),
        ("PASSPORT_ISSUER", support::ISSUER),
        ("PASSPORT_AUDIENCE", support::AUDIENCE),
    ];
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let mut claims = support::user_claims("1", "read");
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + 600);
    let token = key.sign(&claims);

    let default = configure(&common).expect("configured").verifier;
    default.warm_up().await.expect("fetch");
    assert_eq!(default.verify(&token).expect_err("RS256 by default").reason(), Reason::AlgorithmMismatch);
    let vars: Vec<_> = common.iter().copied().chain([("PASSPORT_JWK_RSA_ALG", "PS256")]).collect();
    let fapi = configure(&vars).expect("configured").verifier;
    fapi.warm_up().await.expect("fetch");
    assert!(fapi.verify(&token).is_ok(), "PS256, as configured");
}

#[test]
fn rust_log_is_read_as_target_level_pairs() {
    for spec in [None, Some(""), Some("debug"), Some("warn,tower_passport=debug,hyper=error")] {
        assert!(resource_server::log_filter(spec).is_ok(), "{spec:?}");
    }
    let error = resource_server::log_filter(Some("tower_passport=loud")).expect_err("not a level");
    assert!(error.contains("RUST_LOG"), "{error}");
}

/// A router with a route that takes `delay` to answer.
fn slow_app(delay: Duration) -> Router {
    Router::new().route(
        "/slow",
        get(move || async move {
            tokio::time::sleep(delay).await;
            "done"
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_the_concurrency_limit_requests_are_shed_with_503() {
    let limits = Limits { max_in_flight: 1, ..Limits::default() };
    let addr = start(slow_app(Duration::from_millis(500)), limits).await;
    let first = tokio::spawn(async move { get_once(addr, "/slow", None).await.status });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = Instant::now();
    let shed = get_once(addr, "/slow", None).await;
    assert_eq!(shed.status, 503);
    assert!(shed.headers.contains("retry-after: 1"), "{}", shed.headers);
    assert!(started.elapsed() < Duration::from_millis(300), "shed at once: {:?}", started.elapsed());
    assert_eq!(first.await.expect("task"), 200);
    assert_eq!(get_once(addr, "/slow", None).await.status, 200, "room again");
}

#[tokio::test]
async fn a_request_past_the_timeout_is_answered_408() {
    let limits = Limits { request_timeout: Duration::from_millis(100), ..Limits::default() };
    let addr = start(slow_app(Duration::from_secs(5)), limits).await;
    let started = Instant::now();
    assert_eq!(get_once(addr, "/slow", None).await.status, 408);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed_after_the_header_read_timeout() {
    let limits = Limits { header_read_timeout: Duration::from_millis(200), ..Limits::default() };
    let addr = start(slow_app(Duration::ZERO), limits).await;
    // Headers that never end.
    let mut slow = TcpStream::connect(addr).await.expect("connect");
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n").await.expect("write");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(3), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the server closed the connection");
    // A keep-alive connection that goes idle after one request.
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    idle.write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n").await.expect("write");
    let started = Instant::now();
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(3), idle.read_to_end(&mut answer)).await;
    assert!(closed.is_ok(), "the idle connection was closed");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"), "answered first");
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "kept alive for a while: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn open_connections_are_bounded() {
    let limits = Limits { max_connections: 1, ..Limits::default() };
    let addr = start(slow_app(Duration::ZERO), limits).await;
    let mut held = TcpStream::connect(addr).await.expect("connect");
    held.write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n").await.expect("write");
    let mut buffer = [0; 512];
    assert!(held.read(&mut buffer).await.expect("read") > 0, "the first connection is served");
    // The held connection is idle but open: the next client waits for it.
    let waiting = tokio::spawn(async move { get_once(addr, "/slow", None).await.status });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "a second connection waits while the first is open");
    drop(held);
    let status = tokio::time::timeout(Duration::from_secs(3), waiting).await.expect("served").expect("task");
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_server_passes_the_peer_address_on_for_the_throttle() {
    // What the issuer's throttle keys on (axum's ConnectInfo); without it this route's
    // extractor answers 500.
    let app = Router::new().route(
        "/peer",
        get(|axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>| async move {
            peer.ip().to_string()
        }),
    );
    let addr = start(app, Limits::default()).await;
    let reply = get_once(addr, "/peer", None).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "127.0.0.1"), "{}", reply.headers);
}
