//! A real JWKS (and discovery) server on loopback, for the remote key set tests and the
//! `remote_keys` bench: a hyper 1 server whose replies, delays and `ETag`s the test
//! changes while it runs, and which counts every request per path.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ETAG, IF_NONE_MATCH};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// What the server answers on one path.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
    /// How long the server waits before answering.
    pub delay: Duration,
}

impl Reply {
    /// A 200 with `body` as JSON.
    pub fn json(body: &Value) -> Self {
        Self { status: 200, body: body.to_string(), headers: Vec::new(), delay: Duration::ZERO }
    }

    /// A 200 with `body` as it is (for malformed documents).
    pub fn text(body: &str) -> Self {
        Self { status: 200, body: body.to_owned(), headers: Vec::new(), delay: Duration::ZERO }
    }

    /// An empty reply with `status`.
    pub fn status(status: u16) -> Self {
        Self { status, body: String::new(), headers: Vec::new(), delay: Duration::ZERO }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends `ETag: tag` and answers `304` to a matching `If-None-Match`.
    pub fn etag(self, tag: &str) -> Self {
        self.header("etag", tag)
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// `{"keys": [...]}` from JWK objects.
pub fn jwks(keys: &[&Value]) -> Value {
    json!({ "keys": keys })
}

#[derive(Default)]
struct State {
    replies: HashMap<String, Reply>,
    hits: HashMap<String, usize>,
    not_modified: usize,
    if_none_match: Vec<String>,
}

/// The server; it runs until the test's runtime shuts down.
#[derive(Clone)]
pub struct JwksServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl JwksServer {
    /// Binds `127.0.0.1:0` and serves on the current tokio runtime.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let server = Self { addr, state: Arc::default() };
        let state = server.state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(state.clone(), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        server
    }

    /// `http://127.0.0.1:port`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    pub fn serve(&self, path: &str, reply: Reply) {
        self.state.lock().expect("state").replies.insert(path.to_owned(), reply);
    }

    /// Requests received on `path`, answered or not yet.
    pub fn hits(&self, path: &str) -> usize {
        self.state.lock().expect("state").hits.get(path).copied().unwrap_or(0)
    }

    /// `304` answers sent.
    pub fn not_modified(&self) -> usize {
        self.state.lock().expect("state").not_modified
    }

    /// Every `If-None-Match` value received, in order.
    pub fn if_none_match(&self) -> Vec<String> {
        self.state.lock().expect("state").if_none_match.clone()
    }
}

async fn answer(
    state: Arc<Mutex<State>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let condition = request.headers().get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let reply = {
        let mut state = state.lock().expect("state");
        *state.hits.entry(path.clone()).or_default() += 1;
        if let Some(condition) = &condition {
            state.if_none_match.push(condition.clone());
        }
        state.replies.get(&path).cloned()
    };
    let Some(reply) = reply else {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::NOT_FOUND;
        return Ok(response);
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let etag = reply.headers.iter().find(|(name, _)| name.eq_ignore_ascii_case(ETAG.as_str()));
    let unchanged = matches!((etag, &condition), (Some((_, tag)), Some(condition)) if tag == condition);
    let mut response =
        Response::new(Full::new(if unchanged { Bytes::new() } else { Bytes::from(reply.body) }));
    *response.status_mut() = if unchanged {
        state.lock().expect("state").not_modified += 1;
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::from_u16(reply.status).expect("status")
    };
    for (name, value) in &reply.headers {
        response.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            http::HeaderValue::from_str(value).expect("value"),
        );
    }
    Ok(response)
}
