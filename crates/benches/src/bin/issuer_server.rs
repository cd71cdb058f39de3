//! The token endpoint alone over a plain hyper server, for `issuer_load.sh` (wrk).
//!
//! ```text
//! cargo run --release -p benches --features issuer --bin issuer_server    # prints "<client id> <secret> <addr>"
//! ```
//!
//! Environment: `BIND` (default `127.0.0.1:8099`), `ISSUER_STORE` (`memory` by default,
//! `sqlite`, `postgres` or `redis`: see `issuer_fixture.rs`), `ISSUER_ALG` (`es256` by
//! default, `rs256` or `eddsa`), `WORKERS` (the runtime's worker threads; tokio's default,
//! one per core, otherwise). It serves `OAuthRoutes` (every issuer endpoint) with nothing in
//! front, the connection's peer passed on as `PeerAddr` for the throttle, and prints one line
//! once it listens: the client id, its secret and the address, for the load script.

use std::convert::Infallible;
use std::io::Write;
use std::process::ExitCode;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tower_passport::Algorithm;
use tower_passport_issuer::endpoint::{OAuthServer, PeerAddr};
use tower_service::Service;

#[allow(dead_code)] // each user of the fixture takes the part it needs
#[path = "../issuer_fixture.rs"]
mod issuer_fixture;

fn algorithm(name: &str) -> Result<Algorithm, String> {
    match name {
        "es256" => Ok(Algorithm::ES256),
        "rs256" => Ok(Algorithm::RS256),
        "eddsa" => Ok(Algorithm::EdDSA),
        other => Err(format!("ISSUER_ALG={other}: use es256, rs256 or eddsa")),
    }
}

async fn serve() -> Result<(), String> {
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8099".into());
    let store = std::env::var("ISSUER_STORE").unwrap_or_else(|_| "memory".into());
    let alg = algorithm(&std::env::var("ISSUER_ALG").unwrap_or_else(|_| "es256".into()))?;
    let fixture = issuer_fixture::fixture(&store, issuer_fixture::key(alg)?).await?;
    let routes = OAuthServer::new(fixture.issuer.clone()).build();
    let listener = TcpListener::bind(&bind).await.map_err(|error| format!("BIND={bind}: {error}"))?;
    let local = listener.local_addr().map_err(|error| error.to_string())?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{} {} {local}", fixture.client_id, fixture.secret)
        .map_err(|error| error.to_string())?;
    stdout.flush().map_err(|error| error.to_string())?;
    loop {
        let Ok((stream, peer)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let routes = routes.clone();
        tokio::spawn(async move {
            let service = service_fn(move |mut request: http::Request<Incoming>| {
                request.extensions_mut().insert(PeerAddr(peer));
                let mut routes = routes.clone();
                async move {
                    Ok::<_, Infallible>(routes.call(request).await.unwrap_or_else(|never| match never {}))
                }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

fn main() -> ExitCode {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = std::env::var("WORKERS").ok().and_then(|workers| workers.parse().ok()) {
        builder.worker_threads(workers);
    }
    let outcome = builder
        .enable_all()
        .build()
        .map_err(|error| error.to_string())
        .and_then(|runtime| runtime.block_on(serve()));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("issuer_server: {error}");
            ExitCode::FAILURE
        }
    }
}
