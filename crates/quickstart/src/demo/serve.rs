//! Serving the examples' routes as a deployment should: `RUST_LOG`, hyper's header-read
//! timeout (which also closes idle keep-alive connections), a bound on open connections,
//! the peer address in every request (axum's `ConnectInfo`, which the issuer's throttle
//! reads), and a `ServiceBuilder` that sheds load beyond a concurrency limit (503) and
//! times requests out (408). Shared by `quickstart` and `resource_server`, and driven by
//! `crates/quickstart/tests/quickstart/resource_server.rs` and `overload.rs`.
//!
//! The limits wrap the whole router: the guard, the demo API and the issuer's endpoints
//! all sit behind them. Outermost first:
//!
//! | layer (tower 0.5) | past its limit | variable (default) |
//! |---|---|---|
//! | `load_shed` | `503 Service Unavailable`, `Retry-After: 1`, at once: no queue | — |
//! | `concurrency_limit` | requests handled at once | `PASSPORT_MAX_IN_FLIGHT` (512) |
//! | `timeout` | `408 Request Timeout`, the handler's future dropped | `PASSPORT_REQUEST_TIMEOUT_MS` (30000) |
//! | hyper's header-read timeout | the connection closed | `PASSPORT_HEADER_READ_TIMEOUT_MS` (10000) |
//! | open connections | further clients wait in the listen backlog | `PASSPORT_MAX_CONNECTIONS` (1024) |
//!
//! A timed-out request answers 408 as tower-http's `TimeoutLayer` does, so that a client
//! or proxy tells "this request took too long" (do not blindly retry) from "the server is
//! full" (503 with `Retry-After`: retry shortly).

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

/// The variables [`Limits::from_vars`] reads, and the field each sets.
pub const LIMIT_VARIABLES: [&str; 4] = [
    "PASSPORT_MAX_IN_FLIGHT",
    "PASSPORT_REQUEST_TIMEOUT_MS",
    "PASSPORT_HEADER_READ_TIMEOUT_MS",
    "PASSPORT_MAX_CONNECTIONS",
];

impl Limits {
    /// [`from_vars`](Self::from_vars) over the process environment.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The limits `var` sets, the [defaults](Limits::default) for the others:
    /// `PASSPORT_MAX_IN_FLIGHT` (requests handled at once), `PASSPORT_REQUEST_TIMEOUT_MS`,
    /// `PASSPORT_HEADER_READ_TIMEOUT_MS` (milliseconds) and `PASSPORT_MAX_CONNECTIONS`,
    /// each a positive integer (an empty value counts as unset).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let positive = |name: &str| -> Result<Option<u64>, String> {
            let Some(value) = var(name).filter(|value| !value.trim().is_empty()) else { return Ok(None) };
            match value.trim().parse::<u64>() {
                Ok(number) if number > 0 => Ok(Some(number)),
                _ => Err(format!("{name}={value:?}: expected a positive integer")),
            }
        };
        let count = |name: &str, default: usize| -> Result<usize, String> {
            positive(name)?.map_or(Ok(default), |n| usize::try_from(n).map_err(|e| format!("{name}: {e}")))
        };
        let millis = |name: &str, default: Duration| -> Result<Duration, String> {
            Ok(positive(name)?.map_or(default, Duration::from_millis))
        };
        let defaults = Self::default();
        Ok(Self {
            max_in_flight: count(LIMIT_VARIABLES[0], defaults.max_in_flight)?,
            request_timeout: millis(LIMIT_VARIABLES[1], defaults.request_timeout)?,
            header_read_timeout: millis(LIMIT_VARIABLES[2], defaults.header_read_timeout)?,
            max_connections: count(LIMIT_VARIABLES[3], defaults.max_connections)?,
        })
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
