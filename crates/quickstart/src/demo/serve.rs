//! Serving the examples' routes as a deployment should: `RUST_LOG`, hyper's header-read
//! timeout (which also closes idle keep-alive connections), a bound on open connections,
//! the peer address in every request (axum's `ConnectInfo`, which the issuer's throttle
//! reads), and a `ServiceBuilder` that sheds load beyond a concurrency limit (503) and
//! times requests out (408). Shared by `quickstart` and `resource_server`, and driven by
//! `crates/quickstart/tests/quickstart/resource_server.rs`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::header::RETRY_AFTER;
use http::{Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::{BoxError, ServiceBuilder, ServiceExt};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// The quickstart's default `BIND`.
pub const QUICKSTART_BIND: &str = "127.0.0.1:8080";
/// The resource server's default `BIND`: another port than the quickstart's, so that one
/// runs against the other with no variable set.
pub const RESOURCE_SERVER_BIND: &str = "127.0.0.1:8090";

/// Logs to stderr, filtered by `RUST_LOG` (`info` when unset).
pub fn init_tracing() -> Result<(), String> {
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref())?;
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_target(false).with_writer(std::io::stderr))
        .with(filter)
        .init();
    Ok(())
}

/// The log filter for a `RUST_LOG` value (`info` when unset), parsed by
/// `tracing_subscriber::filter::Targets`: `target=level` pairs and a default level.
pub fn log_filter(rust_log: Option<&str>) -> Result<Targets, String> {
    let spec = rust_log.map(str::trim).filter(|spec| !spec.is_empty()).unwrap_or("info");
    spec.parse().map_err(|e| {
        format!("RUST_LOG={spec:?}: {e} (use target=level pairs, e.g. info,tower_passport=debug)")
    })
}

/// What the server admits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// hyper closes a connection whose request headers take longer than this (slowloris),
    /// and a keep-alive connection that stays idle this long.
    pub header_read_timeout: Duration,
    /// Open connections at most, idle ones included; further clients wait in the listen
    /// backlog until one closes.
    pub max_connections: usize,
    /// The longest a request may take; past it, 408.
    pub request_timeout: Duration,
    /// Requests handled at once; past it, 503 with `Retry-After` at once (load shedding).
    pub max_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            request_timeout: Duration::from_secs(30),
            max_in_flight: 512,
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    // Outermost first: shed what the limit has no room for, then time the rest out.
    let stack = ServiceBuilder::new()
        .load_shed()
        .concurrency_limit(limits.max_in_flight)
        .timeout(limits.request_timeout)
        .service(app);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
            () = &mut shutdown => return Ok(()),
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let stack = stack.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let stack = stack.clone();
            // The peer address, as axum's `serve` with connect info passes it: the issuer's
            // throttle keys failed sign-ins on it.
            request.extensions_mut().insert(ConnectInfo(peer));
            async move { Ok::<_, Infallible>(stack.oneshot(request).await.unwrap_or_else(rejected)) }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed");
            }
            drop(permit);
        });
    }
}

/// The answer for a request the limits refused: errors become responses.
fn rejected(error: BoxError) -> Response {
    if error.is::<tower::load_shed::error::Overloaded>() {
        (StatusCode::SERVICE_UNAVAILABLE, [(RETRY_AFTER, "1")], "overloaded, retry shortly").into_response()
    } else if error.is::<tower::timeout::error::Elapsed>() {
        (StatusCode::REQUEST_TIMEOUT, "the request took too long").into_response()
    } else {
        tracing::error!(%error, "request failed");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}
