//! tower-passport's gateway example: a small reverse proxy on hyper 1 and hyper-util's
//! client that puts the guard, a [policy table](tower_passport::policy) and the
//! [header rules](tower_passport::upstream_headers) in front of an upstream URL, configured
//! by one TOML file. In `forward-auth` mode it answers nginx's, Traefik's or Envoy's
//! sub-requests instead ([`tower_passport::forward_auth`]).
//!
//! The stack, outermost first:
//!
//! | layer | what it does |
//! |---|---|
//! | error mapping | a timeout answers 504, shed load 503, an unreachable upstream 502 |
//! | load shedding | past the concurrency limit, 503 at once: no queue grows |
//! | concurrency limit | `[limits] concurrency` requests in flight |
//! | timeout | `[limits] request_timeout_ms` for the guard and the upstream's answer head |
//! | guard (optional mode) | verifies a token if one came |
//! | policy table | the route's checks; unmatched routes denied unless the file says otherwise |
//! | header rules | spoofed copies stripped, the principal's headers set |
//! | proxy | hyper-util's pooled client, with a connect timeout |
//!
//! Each connection also has a header read timeout (`[limits] header_read_timeout_ms`).
//!
//! ```sh
//! cargo run -p gateway -- gateway.toml
//! ```

mod config;
mod error;
mod proxy;

pub use config::{Config, Mode};
pub use error::Error;
pub use proxy::Proxy;

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{BoxError, Service, ServiceBuilder, ServiceExt};
use tower_passport::body::ResponseBody;
use tower_passport::forward_auth::ForwardAuth;
use tower_passport::policy::PolicyLayer;
use tower_passport::upstream_headers::UpstreamHeadersLayer;
use tower_passport::{GuardLayer, KeySet, RemoteKeySet, Verifier, VerifyingKey};

/// Builds the stack `config` describes and serves it on `listener` until the task is
/// dropped.
///
/// # Errors
/// When the guard's keys cannot be loaded, or the listener fails.
pub async fn run(config: Config, listener: TcpListener) -> Result<(), Error> {
    let guard = guard(&config.guard).await?;
    let limits = (config.concurrency, config.request_timeout);
    match (config.mode, config.upstream) {
        (Mode::ForwardAuth, _) => {
            let service = ForwardAuth::new(guard, config.policy, config.headers, config.original);
            serve(listener, limited(limits, service), config.header_read_timeout).await
        }
        (Mode::Proxy, Some(upstream)) => {
            let service = ServiceBuilder::new()
                .layer(guard)
                .layer(PolicyLayer::new(config.policy))
                .layer(UpstreamHeadersLayer::new(config.headers))
                .service(Proxy::new(upstream, config.connect_timeout));
            serve(listener, limited(limits, service), config.header_read_timeout).await
        }
        (Mode::Proxy, None) => Err(Error::new("proxy mode needs an [upstream] url")),
    }
}

/// The same server, limits and proxy as [`run`]'s proxy mode, without the guard, the
/// policy table and the header rules: the pass-through baseline the gateway's benchmark
/// (`crates/gateway/callgrind.sh`) compares with.
///
/// # Errors
/// When `config` has no upstream, or the listener fails.
pub async fn run_pass_through(config: Config, listener: TcpListener) -> Result<(), Error> {
    let upstream =
        config.upstream.ok_or_else(|| Error::new("the pass-through proxy needs an [upstream] url"))?;
    let service = Proxy::new(upstream, config.connect_timeout)
        .map_response(|response| response.map(ResponseBody::inner));
    let limits = (config.concurrency, config.request_timeout);
    serve(listener, limited(limits, service), config.header_read_timeout).await
}

/// `service` behind the timeout, the concurrency limit and load shedding, with their
/// errors answered (504, 503, and 502 for the upstream's).
fn limited<S, B>(
    (concurrency, timeout): (usize, Duration),
    service: S,
) -> impl Service<Request<Incoming>, Response = Response<ResponseBody<B>>, Error = BoxError, Future: Send> + Clone
where
    S: Service<Request<Incoming>, Response = Response<ResponseBody<B>>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    ServiceBuilder::new()
        .map_result(answer_errors::<B>)
        .load_shed()
        .concurrency_limit(concurrency)
        .timeout(timeout)
        .service(service)
}

/// A timeout → 504, shed load → 503, anything else (the upstream) → 502. Never an error,
/// which hyper would answer by closing the connection.
fn answer_errors<B>(
    result: Result<Response<ResponseBody<B>>, BoxError>,
) -> Result<Response<ResponseBody<B>>, BoxError> {
    let error = match result {
        Ok(response) => return Ok(response),
        Err(error) => error,
    };
    let status = if error.is::<tower::timeout::error::Elapsed>() {
        StatusCode::GATEWAY_TIMEOUT
    } else if error.is::<tower::load_shed::error::Overloaded>() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        tracing::warn!(%error, "upstream request failed");
        StatusCode::BAD_GATEWAY
    };
    let mut response =
        Response::new(ResponseBody::full(Bytes::from(status.canonical_reason().unwrap_or(""))));
    *response.status_mut() = status;
    Ok(response)
}

/// The guard: optional (the policy table decides which routes need a token), with the
/// file's issuer, audience, keys and realm.
async fn guard(file: &config::GuardFile) -> Result<GuardLayer, Error> {
    let builder = match (&file.public_key, &file.jwks_url) {
        (Some(path), None) => {
            let pem = std::fs::read(path)
                .map_err(|e| Error::new(format!("[guard] public_key {}: {e}", path.display())))?;
            Verifier::builder(KeySet::new().with_key(VerifyingKey::from_pem_infer_alg(&pem)?))
        }
        (None, Some(url)) => {
            let keys = RemoteKeySet::builder(url.as_str()).build()?;
            if let Err(error) = keys.warm_up().await {
                // The guard answers 503 until a fetch succeeds; the refresh keeps trying.
                tracing::warn!(%error, "the first JWKS fetch failed");
            }
            Verifier::builder(keys)
        }
        _ => return Err(Error::new("[guard] needs exactly one of public_key and jwks_url")),
    };
    let verifier = builder.issuer(file.issuer.as_str()).audience(file.audience.as_str()).build()?;
    let mut guard = GuardLayer::builder(verifier).optional();
    if let Some(realm) = &file.realm {
        guard = guard.realm(realm.as_str());
    }
    Ok(guard.build()?)
}

/// Accepts connections on `listener` and serves each over HTTP/1.1 with `service`.
async fn serve<S, B>(listener: TcpListener, service: S, header_read_timeout: Duration) -> Result<(), Error>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, a connection reset before accept: wait, go on.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
}
