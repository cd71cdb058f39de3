//! A programmable RFC 7662 endpoint on loopback: it answers each token as the test says
//! (JSON, a status, raw bytes, after a delay, or once a gate opens), records every call's
//! credentials and form, and serves an RFC 8414 metadata document.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub const PATH: &str = "/oauth/introspect";

/// What the endpoint answers about one token.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with this JSON.
    Json(Value),
    /// This status, with an empty body.
    Status(u16),
    /// 200 with these bytes as they are.
    Raw(Vec<u8>),
    /// 302 to this location, with an empty body.
    #[allow(dead_code, reason = "only the security suite, which includes this file, redirects")]
    Redirect(String),
    /// This reply, after the delay.
    Late(Duration, Box<Reply>),
    /// This reply, once the gate opens.
    Held(Box<Reply>),
}

/// One call, as received.
#[derive(Clone, Debug)]
pub struct Call {
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub form: Vec<(String, String)>,
}

impl Call {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

struct State {
    replies: HashMap<String, Reply>,
    calls: Vec<Call>,
    metadata: Option<Value>,
}

#[derive(Clone)]
pub struct Endpoint {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    gate: watch::Sender<bool>,
}

impl Endpoint {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("addr");
        let state =
            Arc::new(Mutex::new(State { replies: HashMap::new(), calls: Vec::new(), metadata: None }));
        let (gate, _) = watch::channel(false);
        let endpoint = Self { addr, state, gate };
        let shared = endpoint.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| shared.clone().answer(request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        endpoint
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self) -> String {
        format!("{}{PATH}", self.base())
    }

    /// Answers `token` with `reply` from now on; unknown tokens are `{"active":false}`.
    pub fn reply(&self, token: &str, reply: Reply) {
        self.state.lock().expect("state").replies.insert(token.to_owned(), reply);
    }

    /// Serves RFC 8414 metadata for the issuer `base()`, naming this endpoint.
    pub fn publish_metadata(&self) {
        let metadata = json!({"issuer": self.base(), "introspection_endpoint": self.url()});
        self.state.lock().expect("state").metadata = Some(metadata);
    }

    /// Opens the gate: held replies go out.
    pub fn open(&self) {
        self.gate.send_replace(true);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().expect("state").calls.clone()
    }

    pub fn call_count(&self) -> usize {
        self.state.lock().expect("state").calls.len()
    }

    /// Waits (a few seconds at most) until `count` calls came in.
    pub async fn wait_for_calls(&self, count: usize) {
        for _ in 0..500 {
            if self.call_count() >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{count} calls never came: {}", self.call_count());
    }

    async fn answer(self, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        let header = |name| {
            request.headers().get(name).and_then(|v: &http::HeaderValue| v.to_str().ok()).map(str::to_owned)
        };
        let (authorization, content_type) = (header(AUTHORIZATION), header(CONTENT_TYPE));
        if request.method() == Method::GET {
            let metadata = self.state.lock().expect("state").metadata.clone();
            let found =
                metadata.filter(|_| request.uri().path() == "/.well-known/oauth-authorization-server");
            return Ok(match found {
                Some(metadata) => Response::new(Full::new(Bytes::from(metadata.to_string()))),
                None => status(404, Vec::new()),
            });
        }
        let body = request.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
        let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
        let token =
            form.iter().find(|(key, _)| key == "token").map(|(_, value)| value.clone()).unwrap_or_default();
        let reply = {
            let mut state = self.state.lock().expect("state");
            state.calls.push(Call { authorization, content_type, form });
            state.replies.get(&token).cloned().unwrap_or_else(|| Reply::Json(json!({"active": false})))
        };
        Ok(self.send(reply).await)
    }

    async fn send(&self, mut reply: Reply) -> Response<Full<Bytes>> {
        loop {
            reply = match reply {
                Reply::Json(value) => {
                    let mut response = status(200, value.to_string().into_bytes());
                    response.headers_mut().insert(CONTENT_TYPE, "application/json".parse().expect("value"));
                    return response;
                }
                Reply::Status(code) => return status(code, Vec::new()),
                Reply::Redirect(location) => {
                    let mut response = status(302, Vec::new());
                    response
                        .headers_mut()
                        .insert(http::header::LOCATION, location.parse().expect("location"));
                    return response;
                }
                Reply::Raw(bytes) => return status(200, bytes),
                Reply::Late(delay, then) => {
                    tokio::time::sleep(delay).await;
                    *then
                }
                Reply::Held(then) => {
                    let mut gate = self.gate.subscribe();
                    let _ = gate.wait_for(|open| *open).await;
                    *then
                }
            }
        }
    }
}

fn status(code: u16, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(code).expect("status");
    response
}
