//! The README's two-node deployment: two quickstart nodes on different ports, pointed at
//! the same PostgreSQL (`TEST_POSTGRES_URL`) and Redis (`TEST_REDIS_URL`). A token issued
//! by one is accepted by the other, and a revocation on one is seen by the other.

#[path = "../examples/demo/mod.rs"]
mod demo;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use demo::quickstart::{build, Quickstart, QuickstartConfig};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

async fn node(config: &QuickstartConfig) -> (SocketAddr, Quickstart) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let node = build(config).await.expect("node");
    let app = node.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, node)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_quickstart_nodes_share_tokens_and_revocations() {
    let (Ok(postgres), Ok(redis)) = (std::env::var("TEST_POSTGRES_URL"), std::env::var("TEST_REDIS_URL"))
    else {
        eprintln!("skipping: TEST_POSTGRES_URL and TEST_REDIS_URL must both be set");
        return;
    };
    let mut config = QuickstartConfig::from_env("127.0.0.1:0").expect("config");
    config.issuer = "http://auth.two-nodes.test".into();
    config.store = postgres;
    config.redis_url = Some(redis);
    config.password_iterations = 1_000;
    config.signing_key = None; // both nodes load the key kept in the store
    let (a, node_a) = node(&config).await;
    let (b, node_b) = node(&config).await;
    for bus in [&node_a.bus, &node_b.bus] {
        let bus = bus.as_ref().expect("a bus");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !bus.is_connected() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(bus.is_connected());
    }
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let send = |request: http::request::Builder, body: String| {
        let client = client.clone();
        async move {
            let response = client
                .request(request.body(Full::new(Bytes::from(body))).expect("request"))
                .await
                .expect("response");
            let status = response.status();
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null))
        }
    };
    let form = |addr: SocketAddr, path: &str| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("http://{addr}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
    };
    let credentials = format!(
        "client_id={}&client_secret={}",
        form_urlencoded::byte_serialize(config.client_id.as_bytes()).collect::<String>(),
        form_urlencoded::byte_serialize(config.client_secret.as_bytes()).collect::<String>()
    );
    let (status, tokens) = send(
        form(a, "/oauth/token"),
        format!("grant_type=client_credentials&scope=check-status&{credentials}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let token = tokens["access_token"].as_str().expect("token").to_owned();
    let api = |addr: SocketAddr| {
        Request::builder()
            .uri(format!("http://{addr}/api/m2m"))
            .header("authorization", format!("Bearer {token}"))
    };
    assert_eq!(send(api(b), String::new()).await.0, StatusCode::OK, "node B accepts node A's token");
    let (status, _) = send(form(a, "/oauth/revoke"), format!("token={token}&{credentials}")).await;
    assert_eq!(status, StatusCode::OK);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = send(api(b), String::new()).await.0;
    while seen != StatusCode::UNAUTHORIZED && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
        seen = send(api(b), String::new()).await.0;
    }
    assert_eq!(seen, StatusCode::UNAUTHORIZED, "node B sees node A's revocation");
}
