//! An upstream that records what reaches it, the gateway started from a TOML text, tokens.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower_passport_issuer::testing::TestIssuer;
use tower_passport_issuer::SigningKey;

/// One request as the upstream saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path_and_query: String,
    pub headers: HeaderMap,
}

/// A loopback upstream that records every request. `/slow` answers after 10 s; `/hold`
/// waits until [`Upstream::release`].
pub struct Upstream {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    hold: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let hold = Arc::new(Notify::new());
        let task = {
            let (seen, hold) = (seen.clone(), hold.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else { continue };
                    let (seen, hold) = (seen.clone(), hold.clone());
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                            let (seen, hold) = (seen.clone(), hold.clone());
                            async move {
                                let path = request.uri().path_and_query().map(|p| p.as_str().to_owned());
                                seen.lock().unwrap().push(Seen {
                                    method: request.method().to_string(),
                                    path_and_query: path.clone().unwrap_or_default(),
                                    headers: request.headers().clone(),
                                });
                                match request.uri().path() {
                                    "/slow" => tokio::time::sleep(Duration::from_secs(10)).await,
                                    "/hold" => hold.notified().await,
                                    _ => {}
                                }
                                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("from upstream"))))
                            }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            })
        };
        Self { addr, seen, hold, task }
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests seen for `path_and_query`.
    pub fn seen_at(&self, path_and_query: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|seen| seen.path_and_query == path_and_query).collect()
    }

    /// Lets every held `/hold` request answer.
    pub fn release(&self) {
        self.hold.notify_waiters();
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The issuer the tests' tokens come from, and its public key in a PEM file.
pub struct Tokens {
    pub issuer: TestIssuer,
    pub public_key: PathBuf,
    /// The public key as a JWK, for a JWKS document.
    pub jwk: serde_json::Value,
    _dir: TempDir,
}

impl Tokens {
    pub fn new() -> Self {
        let key = SigningKey::generate(tower_passport::Algorithm::ES256).unwrap();
        let dir = TempDir::new("keys");
        let public_key = dir.path.join("oauth-public.key");
        std::fs::write(&public_key, key.to_public_pem().unwrap()).unwrap();
        let jwk = key.public_jwk().clone();
        let issuer =
            TestIssuer::with_signing_key(key).issuer("https://auth.example.com").audience("orders-api");
        Self { issuer, public_key, jwk, _dir: dir }
    }

    pub fn user(&self, sub: &str, scopes: &[&str]) -> String {
        self.issuer.user_token(sub, scopes.iter().copied()).unwrap()
    }

    pub fn client(&self, client: &str, scopes: &[&str]) -> String {
        self.issuer.client_token(client, scopes.iter().copied()).unwrap()
    }

    /// The `[guard]` table for these tokens.
    pub fn guard_toml(&self) -> String {
        format!(
            "[guard]\nissuer = \"https://auth.example.com\"\naudience = \"orders-api\"\npublic_key = \"{}\"\n",
            self.public_key.display()
        )
    }
}

/// A directory removed when dropped.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(name: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("gateway-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A gateway started from the TOML `config` on a loopback port.
pub struct Gateway {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<Result<(), gateway::Error>>,
}

impl Gateway {
    pub async fn start(config: &str) -> Self {
        let config = gateway::Config::parse(config, std::path::Path::new("gateway.toml")).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(gateway::run(config, listener));
        Self { addr, task }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An answer: status, headers, body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

/// Sends `method path` to `addr` with `headers`, within 20 s (a hang fails the test).
pub async fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, String)]) -> Answer {
    let client: Client<HttpConnector, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut request = Request::builder().method(method).uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request.body(Empty::new()).unwrap();
    let response = tokio::time::timeout(Duration::from_secs(20), client.request(request))
        .await
        .expect("an answer within 20 s, not a hang")
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Answer { status: parts.status, headers: parts.headers, body: String::from_utf8_lossy(&body).into_owned() }
}

/// `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

/// The policy and headers the tests share.
pub const POLICY_AND_HEADERS: &str = r#"
[headers]
subject = "x-user-id"
client_id = "x-client-id"
scopes = "x-scopes"
kind = "x-principal-kind"
claims = { iss = "x-token-issuer" }

[[policy.route]]
path = "/health"
check = "public"

[[policy.route]]
method = "GET"
path = "/orders/{id}"
check = "any-scope"
scopes = ["check-status", "place-orders"]

[[policy.route]]
method = "POST"
path = "/orders"
check = ["user-only", "all-scopes"]
scopes = ["place-orders"]

[[policy.route]]
path = "/internal/{*rest}"
check = "client-only"

[[policy.route]]
path = "/slow"
check = "public"

[[policy.route]]
path = "/hold"
check = "public"
"#;

/// Serves `{"keys": [jwk]}` at any path on loopback; the task ends with the runtime.
pub async fn jwks_server(jwk: serde_json::Value) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let document = Bytes::from(serde_json::json!({ "keys": [jwk] }).to_string());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let document = document.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_: Request<Incoming>| {
                    let mut response = Response::new(Full::new(document.clone()));
                    response.headers_mut().insert("content-type", "application/json".parse().unwrap());
                    async move { Ok::<_, Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}
