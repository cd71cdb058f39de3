//! Instructions per request through the gateway beside a plain pass-through proxy, in one
//! run, counted with callgrind (`crates/gateway/callgrind.sh`).
//!
//! ```text
//! instructions <scenario> <N>
//! ```
//!
//! Scenarios:
//! - `pass_through`: [`gateway::run_pass_through`], the same server, limits and hyper-util
//!   client as the gateway, with no guard, policy table or header rules;
//! - `gateway`: the gateway's proxy mode (guard with a warm token, policy table, header
//!   rules) in front of the same upstream;
//! - `upstream`: the upstream alone, what both add to.
//!
//! Client, gateway and upstream share one current-thread runtime in this process, over
//! loopback and keep-alive connections. Set-up (keys, token, servers, the first request)
//! runs before `run_measured`, the one function callgrind collects in; every request's
//! answer is checked, so an error path is never measured by mistake.

use std::convert::Infallible;
use std::hint::black_box;
use std::net::SocketAddr;
use std::process::ExitCode;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tower_passport_issuer::testing::TestIssuer;
use tower_passport_issuer::SigningKey;

/// Runs `step` `n` times: the only function callgrind collects in.
#[inline(never)]
fn run_measured(step: &mut dyn FnMut() -> bool, n: usize) -> usize {
    (0..n).filter(|_| step()).count()
}

const POLICY: &str = r#"
[headers]
subject = "x-user-id"
client_id = "x-client-id"
scopes = "x-scopes"
kind = "x-principal-kind"

[[policy.route]]
method = "GET"
path = "/orders/{id}"
check = "any-scope"
scopes = ["check-status", "place-orders"]
"#;

async fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}"));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_: Request<hyper::body::Incoming>| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"{\"id\":7}"))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// One keep-alive connection to `addr`.
async fn connect(addr: SocketAddr) -> SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap_or_else(|e| panic!("connect: {e}"));
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap_or_else(|e| panic!("handshake: {e}"));
    tokio::spawn(connection);
    sender
}

/// Sends one request; whether it got 200 and the upstream's body.
async fn request(sender: &mut SendRequest<Empty<Bytes>>, authorization: Option<&str>) -> bool {
    if sender.ready().await.is_err() {
        return false;
    }
    let mut request = Request::get("/orders/7").header("host", "gateway.test");
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let Ok(request) = request.body(Empty::new()) else { return false };
    let Ok(response) = sender.send_request(request).await else { return false };
    let ok = response.status() == StatusCode::OK;
    let body = response.into_body().collect().await.map(|body| body.to_bytes());
    ok && body.is_ok_and(|body| body.as_ref() == b"{\"id\":7}")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(scenario), Some(n)) = (args.first(), args.get(1).and_then(|n| n.parse::<usize>().ok())) else {
        eprintln!("usage: instructions <pass_through|gateway|upstream> <N>");
        return ExitCode::from(2);
    };
    let runtime: Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let dir = std::env::temp_dir().join(format!("gateway-instructions-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let key = SigningKey::generate(tower_passport::Algorithm::ES256).unwrap_or_else(|e| panic!("key: {e}"));
    let public_key = dir.join("oauth-public.key");
    let pem = key.to_public_pem().unwrap_or_else(|e| panic!("pem: {e}"));
    std::fs::write(&public_key, pem).unwrap_or_else(|e| panic!("write: {e}"));
    let issuer = TestIssuer::with_signing_key(key).issuer("https://auth.example.com").audience("orders-api");
    let token = issuer.user_token("42", ["check-status"]).unwrap_or_else(|e| panic!("token: {e}"));
    let authorization = format!("Bearer {token}");

    let mut sender = runtime.block_on(async {
        let upstream = upstream().await;
        let config = format!(
            "[upstream]\nurl = \"http://{upstream}\"\n\n[guard]\nissuer = \"https://auth.example.com\"\n\
             audience = \"orders-api\"\npublic_key = \"{}\"\n{POLICY}",
            public_key.display()
        );
        let config = gateway::Config::parse(&config, std::path::Path::new("bench.toml"))
            .unwrap_or_else(|e| panic!("config: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}"));
        match scenario.as_str() {
            "gateway" => drop(tokio::spawn(gateway::run(config, listener))),
            "pass_through" => drop(tokio::spawn(gateway::run_pass_through(config, listener))),
            "upstream" => return connect(upstream).await,
            other => panic!("unknown scenario {other}"),
        }
        connect(addr).await
    });
    // Every scenario sends the same request, token included: the pass-through proxy and the
    // upstream parse and forward the same bytes.
    let authorization = Some(authorization.as_str());
    // The first request outside the count: connections to the upstream made, token cached.
    if !runtime.block_on(request(&mut sender, authorization)) {
        eprintln!("{scenario}: the first request failed");
        return ExitCode::FAILURE;
    }
    let mut step = || runtime.block_on(request(&mut sender, black_box(authorization)));
    let answered = run_measured(&mut step, n);
    let _ = std::fs::remove_dir_all(&dir);
    if answered != n {
        eprintln!("{scenario}: only {answered} of {n} requests got the expected answer");
        return ExitCode::FAILURE;
    }
    println!("{scenario} n={n} ok");
    ExitCode::SUCCESS
}
