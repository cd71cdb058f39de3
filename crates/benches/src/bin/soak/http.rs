//! The soak's HTTP client: hyper 1 over loopback with keep-alive connections, each request
//! timed and counted in [`Stats`] under its class.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::stats::{Class, Stats};

/// How long one request may take before it counts as unanswered (status 0).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the client keeps an idle connection: under the quickstart's idle close (10 s).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// An answer: status (0 when none came), headers and body.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body's JSON member `name`, if it is a string.
    pub fn json_text(&self, name: &str) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        value.get(name)?.as_str().map(str::to_owned)
    }

    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION)?.to_str().ok()
    }

    /// The cookie `name` this answer set, as `name=value`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|cookie| {
            let pair = cookie.split(';').next()?;
            (pair.split_once('=')?.0 == name).then(|| pair.to_owned())
        })
    }
}

/// A keep-alive client for one server.
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

/// How a request authenticates.
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    /// HTTP Basic client authentication (`client_secret_basic`).
    Basic(&'a str, &'a str),
    /// A session cookie (`name=value`).
    Cookie(&'a str),
}

impl Http {
    /// A client for the server at `base` (`http://127.0.0.1:port`).
    pub fn new(base: &str) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        // Idle connections are dropped well before the quickstart closes them (its
        // header-read timeout, 10 s, also ends idle keep-alive connections): a request
        // sent on a connection the server is closing at that instant fails in transport.
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(1024)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build(connector);
        Self { client, base: base.trim_end_matches('/').to_owned() }
    }

    /// `GET path` (or a full URL on this server) with `auth`, counted under `class`.
    pub async fn get(&self, stats: &Stats, class: Class, path: &str, auth: Auth<'_>) -> Reply {
        self.send(stats, class, Method::GET, path, auth, None).await
    }

    /// `POST path` with the form `fields` and `auth`, counted under `class`.
    pub async fn post_form(
        &self,
        stats: &Stats,
        class: Class,
        path: &str,
        auth: Auth<'_>,
        fields: &[(&str, &str)],
    ) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        self.send(stats, class, Method::POST, path, auth, Some(body)).await
    }

    async fn send(
        &self,
        stats: &Stats,
        class: Class,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        form: Option<String>,
    ) -> Reply {
        let started = Instant::now();
        let reply = self.exchange(method, path, auth, form).await;
        let reply = reply.unwrap_or(Reply { status: 0, headers: HeaderMap::new(), body: Bytes::new() });
        stats.record(class, reply.status, started.elapsed());
        reply
    }

    async fn exchange(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        form: Option<String>,
    ) -> Option<Reply> {
        let url = if path.starts_with("http://") { path.to_owned() } else { format!("{}{path}", self.base) };
        let mut request = Request::builder().method(method).uri(url);
        request = match auth {
            Auth::None => request,
            Auth::Bearer(token) => request.header(AUTHORIZATION, format!("Bearer {token}")),
            Auth::Basic(id, secret) => {
                // RFC 6749 §2.3.1: each part form-encoded before base64.
                let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let pair = format!("{}:{}", encode(id), encode(secret));
                request.header(AUTHORIZATION, format!("Basic {}", STANDARD.encode(pair)))
            }
            Auth::Cookie(cookie) => request.header(COOKIE, cookie),
        };
        let body = match form {
            Some(form) => {
                request = request.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
                Bytes::from(form)
            }
            None => Bytes::new(),
        };
        let request = request.body(Full::new(body)).ok()?;
        let answer = async {
            let response = self.client.request(request).await.ok()?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.ok()?.to_bytes();
            Some(Reply { status: parts.status.as_u16(), headers: parts.headers, body })
        };
        tokio::time::timeout(REQUEST_TIMEOUT, answer).await.ok().flatten()
    }
}
