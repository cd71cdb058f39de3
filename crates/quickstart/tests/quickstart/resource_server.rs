//! `examples/resource_server`, configured from an environment map and served on
//! loopback: Laravel Passport's own tokens with `PASSPORT_LARAVEL=1`, the PEM given
//! inline or as a path, the RSA algorithm of JWKs without `alg`, `RUST_LOG`, the limits
//! in front of the routes (load shedding, request timeout, header-read timeout,
//! connection bound), and in front of this crate's issuer: its PEM key with no key id,
//! Passport 13 client tokens (`PASSPORT_CLIENT_TOKENS`), and revocations over the Redis
//! bus (`PASSPORT_REDIS_URL`, `TEST_REDIS_URL`) or from the PostgreSQL store with
//! LISTEN/NOTIFY (`PASSPORT_STORE`, `TEST_POSTGRES_URL`).

use crate::jwks_server;
use crate::league;
use crate::support;

use crate::server_binary;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jwks_server::{jwks, JwksServer, Reply};
use serde_json::{json, Value};
use server_binary::{serve, verifier_from, Configured, Limits};
use support::TestKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower_passport::dpop::{ProofTarget, ProofVerifier};
use tower_passport::error::Reason;
use tower_passport::testing::DpopProver;
use tower_passport::Algorithm;
use tower_passport_cli::AnyStore;
use tower_passport_issuer::store::MemoryStore;
use tower_passport_issuer::{ClientRegistration, Issuer, ScopeRegistry, SigningKey, TokenRequest};
use tower_passport_redis::RedisRevocationBus;
use tower_passport_sql::PgRevocationBus;

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
    let authorization = token.map(|token| format!("Authorization: Bearer {token}\r\n")).unwrap_or_default();
    get_with(addr, path, &authorization).await
}

/// `GET path` with `Host: test` and the `headers` given (each ending in CRLF).
async fn get_with(addr: SocketAddr, path: &str, headers: &str) -> Reply1 {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\n{headers}Connection: close\r\n\r\n");
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
        let addr = start(server_binary::app(configured.verifier).expect("guard"), Limits::default()).await;

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
        assert!(server_binary::log_filter(spec).is_ok(), "{spec:?}");
    }
    let error = server_binary::log_filter(Some("tower_passport=loud")).expect_err("not a level");
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

// ---------------------------------------------------------------------------------------
// This crate's issuer in front: its PEM key, client tokens, and its revocations
// ---------------------------------------------------------------------------------------

/// The server `server_binary::build` makes of `vars`, served on loopback.
async fn start_built(vars: &[(&str, &str)]) -> (SocketAddr, server_binary::ResourceServer) {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let mut server = server_binary::build(&move |name: &str| map.get(name).cloned()).await.expect("built");
    let app = std::mem::replace(&mut server.app, Router::new());
    (start(app, Limits::default()).await, server)
}

/// An issuer on `store` signing with a fresh ES256 key, and that key's public PEM.
fn issuer_on<S>(store: std::sync::Arc<S>) -> (Issuer, String)
where
    S: tower_passport_issuer::store::Store,
{
    let key = SigningKey::generate(Algorithm::ES256).expect("key");
    let pem = key.to_public_pem().expect("public PEM");
    let issuer = Issuer::builder(support::ISSUER, store)
        .audience(support::AUDIENCE)
        .scopes(ScopeRegistry::new().scope("read-posts", "Read posts"))
        .signing_key(key)
        .build()
        .expect("issuer");
    (issuer, pem)
}

/// The settings for `issuer_on`'s tokens, verified with its PEM key (no key id), and `more`.
fn issuer_vars<'a>(pem: &'a str, more: &[(&'static str, &'a str)]) -> Vec<(&'static str, &'a str)> {
    let key = [
        ("PASSPORT_PUBLIC_KEY", pem),
        ("PASSPORT_ISSUER", support::ISSUER),
        ("PASSPORT_AUDIENCE", support::AUDIENCE),
    ];
    key.into_iter().chain(more.iter().copied()).collect()
}

/// A client-credentials token of a new client: (client id, token, jti).
async fn client_token(issuer: &Issuer) -> (String, String, String) {
    let registered =
        issuer.register_client(ClientRegistration::confidential("Orders")).await.expect("client");
    let secret = registered.secret.as_ref().map(|secret| secret.expose());
    let client = issuer.authenticate_client(&registered.client.id, secret).await.expect("authenticated");
    let token =
        issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("token").access_token;
    let payload = token.split('.').nth(1).expect("claims");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json");
    let jti = claims["jti"].as_str().expect("jti").to_owned();
    (registered.client.id, token, jti)
}

/// A client-credentials token bound to `prover`'s key, as the token endpoint mints it for a
/// request that carries a DPoP proof.
async fn dpop_token(issuer: &Issuer, prover: &DpopProver) -> String {
    let registered =
        issuer.register_client(ClientRegistration::confidential("Orders")).await.expect("client");
    let secret = registered.secret.as_ref().map(|secret| secret.expose());
    let client = issuer.authenticate_client(&registered.client.id, secret).await.expect("authenticated");
    let token_url = format!("{}/oauth/token", support::ISSUER);
    let proof = prover.proof("POST", &token_url, None, unix_now()).expect("proof");
    let target = ProofTarget::new(http::Method::POST, &token_url).expect("target");
    let proof = ProofVerifier::new().verify(&proof, &target).expect("proof verified");
    let tokens = issuer.grant(TokenRequest::client_credentials(client).dpop(&proof)).await.expect("token");
    assert_eq!(tokens.token_type, "DPoP");
    tokens.access_token
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
}

/// The `WWW-Authenticate` challenge of `scheme` (lower case) in `headers`, realm `demo`.
fn challenge<'a>(headers: &'a str, scheme: &str) -> Option<&'a str> {
    let prefix = format!("www-authenticate: {scheme} realm=\"demo\"");
    headers.lines().find(|line| line.starts_with(&prefix))
}

/// `GET path` with `token` under the `DPoP` scheme and a fresh proof for `htu`.
async fn get_dpop(addr: SocketAddr, path: &str, token: &str, prover: &DpopProver, htu: &str) -> Reply1 {
    let proof = prover.proof("GET", htu, Some(token), unix_now()).expect("proof");
    get_with(addr, path, &format!("Authorization: DPoP {token}\r\nDPoP: {proof}\r\n")).await
}

#[tokio::test]
async fn passport_dpop_takes_dpop_bound_tokens_beside_bearer_ones_or_alone() {
    let (issuer, pem) = issuer_on(std::sync::Arc::new(MemoryStore::new()));
    let prover = DpopProver::new().expect("key");
    let bound = dpop_token(&issuer, &prover).await;
    let (_, bearer, _) = client_token(&issuer).await;

    // Off (the default): a bound token is refused as a bearer token and DPoP is not read.
    let (addr, _server) = start_built(&issuer_vars(&pem, &[])).await;
    assert_eq!(get_once(addr, "/api/m2m", Some(&bound)).await.status, 401);
    let reply = get_dpop(addr, "/api/m2m", &bound, &prover, "http://test/api/m2m").await;
    assert_eq!(reply.status, 401, "{}", reply.body);

    // PASSPORT_DPOP=1: both schemes, both challenges.
    let (addr, _server) = start_built(&issuer_vars(&pem, &[("PASSPORT_DPOP", "1")])).await;
    let reply = get_dpop(addr, "/api/m2m", &bound, &prover, "http://test/api/m2m").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(get_once(addr, "/api/m2m", Some(&bearer)).await.status, 200);
    let refused = get_once(addr, "/api/m2m", Some(&bound)).await;
    assert_eq!(refused.status, 401);
    let bearer_challenge = challenge(&refused.headers, "bearer").unwrap_or_default();
    assert!(bearer_challenge.contains("error=\"invalid_token\""), "{}", refused.headers);
    let dpop_challenge = challenge(&refused.headers, "dpop").unwrap_or_default();
    assert!(dpop_challenge.contains("algs=") && !dpop_challenge.contains("error="), "{}", refused.headers);

    // PASSPORT_DPOP=required: DPoP alone, one challenge.
    let (addr, _server) = start_built(&issuer_vars(&pem, &[("PASSPORT_DPOP", "required")])).await;
    let reply = get_dpop(addr, "/api/m2m", &bound, &prover, "http://test/api/m2m").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let refused = get_once(addr, "/api/m2m", Some(&bearer)).await;
    assert_eq!(refused.status, 401);
    assert!(!refused.headers.contains("www-authenticate: bearer"), "{}", refused.headers);
    let dpop_challenge = challenge(&refused.headers, "dpop").unwrap_or_default();
    assert!(dpop_challenge.contains("error=\"invalid_token\""), "{}", refused.headers);

    // Behind a proxy: the proof names the public URL.
    let public = [("PASSPORT_DPOP", "1"), ("PASSPORT_PUBLIC_URL", "https://api.example.com")];
    let (addr, _server) = start_built(&issuer_vars(&pem, &public)).await;
    let reply = get_dpop(addr, "/api/m2m", &bound, &prover, "https://api.example.com/api/m2m").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = get_dpop(addr, "/api/m2m", &bound, &prover, "http://test/api/m2m").await;
    assert_eq!(reply.status, 401, "{}", reply.body);

    let map: HashMap<String, String> = issuer_vars(&pem, &[("PASSPORT_DPOP", "yes")])
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let error = server_binary::build(&move |name: &str| map.get(name).cloned()).await.err().expect("refused");
    assert!(error.to_string().contains("PASSPORT_DPOP"), "{error}");
}

/// Whether `addr` answers 401 to `token` within `bound`, asking every 50 ms.
async fn refused_within(addr: SocketAddr, token: &str, bound: Duration) -> bool {
    let deadline = Instant::now() + bound;
    loop {
        if get_once(addr, "/api/m2m", Some(token)).await.status == 401 {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_connected(bus: Option<&tower_passport::revocation::BusHandle>) {
    let bus = bus.expect("a bus");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !bus.is_connected() {
        assert!(Instant::now() < deadline, "the bus never connected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_issuers_own_pem_key_verifies_the_issuers_tokens_without_a_key_id() {
    let (issuer, pem) = issuer_on(std::sync::Arc::new(MemoryStore::new()));
    let (client_id, token, _) = client_token(&issuer).await;
    let (addr, server) = start_built(&issuer_vars(&pem, &[])).await;
    let reply = get_once(addr, "/api/m2m", Some(&token)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(json_body(&reply)["client_id"], json!(client_id));
    assert!(server.revocations.contains("not seen"), "no bus, no store: {}", server.revocations);
}

#[tokio::test]
async fn passport_13_client_tokens_pass_as_clients_with_passport_client_tokens() {
    let pem = league::keys().public_pem.clone();
    // Passport 13 (league 9): a client-credentials token's sub is the client id.
    let token = league::token_now(CLIENT, CLIENT, &[]);
    let preset = [("PASSPORT_LARAVEL", "1"), ("PASSPORT_PUBLIC_KEY", pem.as_str())];
    let (addr, _) = start_built(&preset).await;
    let refused = get_once(addr, "/api/m2m", Some(&token)).await;
    assert_eq!(refused.status, 401, "taken for a user {CLIENT} that does not exist: {}", refused.body);
    let with_rule: Vec<_> =
        preset.iter().copied().chain([("PASSPORT_CLIENT_TOKENS", "subject-or-client-id")]).collect();
    let (addr, _) = start_built(&with_rule).await;
    let client = get_once(addr, "/api/m2m", Some(&token)).await;
    assert_eq!(client.status, 200, "{}", client.body);
    let me = get_once(addr, "/api/user", Some(&token)).await;
    assert_eq!(
        (json_body(&me)["kind"].clone(), json_body(&me)["user"].clone()),
        (json!("client"), Value::Null)
    );
    let user = get_once(addr, "/api/user", Some(&league::token_now(CLIENT, "1", &[]))).await;
    assert_eq!(json_body(&user)["kind"], "user", "a user's token stays a user's");
    let bad: Vec<_> = preset.iter().copied().chain([("PASSPORT_CLIENT_TOKENS", "sub")]).collect();
    assert!(configure(&bad).err().expect("unknown rule").contains("PASSPORT_CLIENT_TOKENS"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_reach_a_resource_server_on_the_redis_bus() {
    let Ok(redis_url) = std::env::var("TEST_REDIS_URL") else {
        eprintln!("skipping: TEST_REDIS_URL is not set");
        return;
    };
    // The issuer node, as the quickstart runs it with PASSPORT_REDIS_URL.
    let (issuer, pem) = issuer_on(std::sync::Arc::new(MemoryStore::new()));
    let issuer_bus = RedisRevocationBus::connect(&redis_url, server_binary::REDIS_REVOCATION_CHANNEL)
        .await
        .expect("redis")
        .start(issuer.hub());
    wait_connected(Some(&issuer_bus)).await;
    let (stateless, _) = start_built(&issuer_vars(&pem, &[])).await;
    let (addr, server) = start_built(&issuer_vars(&pem, &[("PASSPORT_REDIS_URL", &redis_url)])).await;
    wait_connected(server.bus.as_ref()).await;
    assert!(server.revocations.contains("since start-up"), "{}", server.revocations);

    let (_, token, jti) = client_token(&issuer).await;
    let (_, other, _) = client_token(&issuer).await;
    assert_eq!(get_once(addr, "/api/m2m", Some(&token)).await.status, 200);
    assert!(issuer.revoke_access_token_by_jti(&jti).await.expect("revoked").is_some());
    assert!(refused_within(addr, &token, Duration::from_secs(10)).await, "the revocation reached it");
    assert_eq!(get_once(addr, "/api/m2m", Some(&other)).await.status, 200, "only that token");
    // Without a bus the same server keeps taking it: it cannot know.
    assert_eq!(get_once(stateless, "/api/m2m", Some(&token)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_reach_a_resource_server_reading_the_postgres_store() {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return;
    };
    // A schema of its own, named in the store URL both sides open, dropped pass or fail.
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").subsec_nanos();
    let schema = format!("tprs_{}_{nanos}", std::process::id());
    let admin = sqlx::PgPool::connect(&url).await.expect("connect");
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\"")).execute(&admin).await.expect("schema");
    let separator = if url.contains('?') { '&' } else { '?' };
    let store_url = format!("{url}{separator}options[search_path]={schema}");
    let outcome = tokio::spawn(revocations_from_the_store(store_url)).await;
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(&admin).await.expect("drop schema");
    if let Err(failed) = outcome {
        std::panic::resume_unwind(failed.into_panic());
    }
}

async fn revocations_from_the_store(store_url: String) {
    // The issuer node, as the quickstart runs it on PostgreSQL: LISTEN/NOTIFY.
    let store = std::sync::Arc::new(AnyStore::open(&store_url).await.expect("store"));
    let AnyStore::Postgres(postgres) = &*store else { panic!("a PostgreSQL store") };
    let pool = postgres.pool().clone();
    let (issuer, pem) = issuer_on(store.clone());
    let issuer_bus = PgRevocationBus::new(pool, server_binary::POSTGRES_REVOCATION_CHANNEL)
        .expect("bus")
        .start(issuer.hub());
    wait_connected(Some(&issuer_bus)).await;
    let (addr, server) = start_built(&issuer_vars(&pem, &[("PASSPORT_STORE", &store_url)])).await;
    wait_connected(server.bus.as_ref()).await;
    assert!(server.revocations.contains("LISTEN/NOTIFY"), "{}", server.revocations);

    let (_, token, jti) = client_token(&issuer).await;
    let (client_id, other, _) = client_token(&issuer).await;
    // Both cached as "not revoked" (60 s while the bus is up) and "client active".
    assert_eq!(get_once(addr, "/api/m2m", Some(&token)).await.status, 200);
    assert_eq!(get_once(addr, "/api/m2m", Some(&other)).await.status, 200);
    assert!(issuer.revoke_access_token_by_jti(&jti).await.expect("revoked").is_some());
    assert!(refused_within(addr, &token, Duration::from_secs(10)).await, "the token's revocation reached it");
    assert_eq!(get_once(addr, "/api/m2m", Some(&other)).await.status, 200, "only that token");
    assert!(issuer.revoke_client(&client_id).await.expect("revoked"));
    assert!(
        refused_within(addr, &other, Duration::from_secs(10)).await,
        "the client's revocation reached it"
    );
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

#[tokio::test]
async fn passport_laravel_db_refuses_tokens_laravel_revoked() {
    // Passport's two tables on SQLite, as its migrations shape them there.
    let path = std::env::temp_dir().join(format!("laravel-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let laravel = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
    for statement in [
        "CREATE TABLE oauth_clients (id integer not null primary key autoincrement, user_id integer, \
         name varchar not null, secret varchar, provider varchar, redirect text not null, \
         personal_access_client tinyint(1) not null, password_client tinyint(1) not null, \
         revoked tinyint(1) not null, created_at datetime, updated_at datetime)",
        "CREATE TABLE oauth_access_tokens (id varchar not null primary key, user_id integer, \
         client_id integer not null, name varchar, scopes text, revoked tinyint(1) not null, \
         created_at datetime, updated_at datetime, expires_at datetime)",
        "INSERT INTO oauth_clients (id, name, redirect, personal_access_client, password_client, revoked) \
         VALUES (2, 'Web', 'http://localhost/callback', 0, 0, 0)",
    ] {
        sqlx::query(statement).execute(&laravel).await.expect(statement);
    }
    let token = league::token_now("2", "1", &[]);
    // league's shape: `bin2hex(random_bytes(40))`, fixed in the fixture.
    let jti = "5d2a4e8ba1f03c6d".repeat(5);
    sqlx::query("INSERT INTO oauth_access_tokens (id, user_id, client_id, revoked) VALUES (?, 1, 2, 0)")
        .bind(&jti)
        .execute(&laravel)
        .await
        .expect("token row");

    let pem = league::keys().public_pem.clone();
    let vars =
        [("PASSPORT_LARAVEL", "1"), ("PASSPORT_PUBLIC_KEY", pem.as_str()), ("PASSPORT_LARAVEL_DB", &url)];
    let (addr, server) = start_built(&vars).await;
    assert!(server.revocations.contains("Laravel Passport's tables"), "{}", server.revocations);
    assert_eq!(get_once(addr, "/api/user", Some(&token)).await.status, 200, "its row is not revoked");
    sqlx::query("UPDATE oauth_access_tokens SET revoked = 1").execute(&laravel).await.expect("revoke");
    tokio::time::sleep(Duration::from_millis(5_100)).await;
    let refused = get_once(addr, "/api/user", Some(&token)).await;
    assert_eq!(refused.status, 401, "revoked in Laravel, refused within 5 s: {}", refused.body);

    let without_preset = [
        ("PASSPORT_PUBLIC_KEY", pem.as_str()),
        ("PASSPORT_ISSUER", "https://auth.test"),
        ("PASSPORT_AUDIENCE", "api"),
        ("PASSPORT_LARAVEL_DB", url.as_str()),
    ];
    let map: HashMap<String, String> =
        without_preset.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let error = server_binary::build(&move |name: &str| map.get(name).cloned()).await.err().expect("refused");
    assert!(error.to_string().contains("PASSPORT_LARAVEL=1"), "{error}");
    let _ = std::fs::remove_file(&path);
}

// ---------------------------------------------------------------------------------------
// RFC 9728: the server names its issuer
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_server_serves_its_protected_resource_metadata_and_names_it_in_its_challenges() {
    let (_issuer, pem) = issuer_on(std::sync::Arc::new(MemoryStore::new()));
    let public = [("PASSPORT_PUBLIC_URL", "https://api.example.com")];
    let (addr, _server) = start_built(&issuer_vars(&pem, &public)).await;
    let metadata = get_once(addr, "/.well-known/oauth-protected-resource", None).await;
    assert_eq!(metadata.status, 200, "{}", metadata.body);
    let metadata = json_body(&metadata);
    assert_eq!(metadata["resource"], "https://api.example.com");
    assert_eq!(metadata["authorization_servers"], json!([support::ISSUER]));
    // DPoP off: no proof algorithms; bearer tokens in the header.
    assert!(metadata.get("dpop_signing_alg_values_supported").is_none(), "{metadata}");
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
    let refused = get_once(addr, "/api/user", None).await;
    assert_eq!(refused.status, 401);
    assert!(
        refused.headers.contains(
            r#"www-authenticate: bearer realm="demo", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource""#
        ),
        "{}",
        refused.headers
    );

    // Without PASSPORT_PUBLIC_URL, its own address.
    let (addr, _server) = start_built(&issuer_vars(&pem, &[("BIND", "127.0.0.1:8090")])).await;
    let metadata = json_body(&get_once(addr, "/.well-known/oauth-protected-resource", None).await);
    assert_eq!(metadata["resource"], "http://127.0.0.1:8090");
    // A public URL in plain http is refused, naming the variable.
    let map: HashMap<String, String> =
        issuer_vars(&pem, &[("PASSPORT_PUBLIC_URL", "http://api.example.com")])
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    let error = server_binary::build(&move |name: &str| map.get(name).cloned()).await.err().expect("refused");
    assert!(error.to_string().contains("PASSPORT_PUBLIC_URL"), "{error}");
}

#[tokio::test]
async fn with_passport_dpop_the_metadata_names_the_guards_proof_algorithms() {
    let (_issuer, pem) = issuer_on(std::sync::Arc::new(MemoryStore::new()));
    for dpop in ["1", "required"] {
        let (addr, _server) = start_built(&issuer_vars(&pem, &[("PASSPORT_DPOP", dpop)])).await;
        let metadata = json_body(&get_once(addr, "/.well-known/oauth-protected-resource", None).await);
        let algs = ["ES256", "ES384", "EdDSA", "RS256", "PS256"];
        assert_eq!(metadata["dpop_signing_alg_values_supported"], json!(algs), "{metadata}");
        assert_eq!(metadata["bearer_methods_supported"], json!(["header"]), "{metadata}");
        // The same list as the challenge's `algs`.
        let refused = get_once(addr, "/api/user", None).await;
        let expected = format!("algs=\"{}\"", algs.join(" ")).to_ascii_lowercase();
        assert!(refused.headers.to_ascii_lowercase().contains(&expected), "{}", refused.headers);
    }
}
