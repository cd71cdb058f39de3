//! The release server `crates/benches/load.sh` drives with `wrk`: hyper 1's HTTP/1.1 server
//! on a multi-threaded tokio runtime, one inner handler, and in front of it what `<mode>`
//! names:
//!
//! - `none`: the handler alone;
//! - `warm`: tower-passport's `GuardLayer`, verified-token cache on (every request a hit);
//! - `cold`: the same guard with the cache off (every request checks the signature);
//! - `jwt-authorizer`: jwt-authorizer 0.15's layer (its answers are axum 0.7 responses, so the
//!   handler's response is mapped into one: the body boxed, one allocation);
//! - `aliri`: aliri_tower 0.6's `jwt_layer`;
//! - `dpop`: tower-passport's `GuardLayer` taking DPoP (both schemes), an HS256 token bound
//!   to the proof key in its verified-token cache (`benches::dpop::DpopFixture`).
//!
//! ```text
//! load_server <mode> [--alg rs256|es256|hs256] [--workers N] [--port P] [--proofs FILE --count N]
//! ```
//!
//! It mints one token (the claims every bench uses, `benches::fixture::claims`; in the
//! DPoP modes the bound token, whatever `--alg` says), binds `127.0.0.1:<port>` (0: any free
//! port), and prints one line, `<url> <token>`, once it accepts connections; then it serves
//! until killed. Every mode goes through the same accept loop and the same `oneshot` per
//! request. With `--proofs`, it first writes `--count` DPoP proofs for the bound token, one
//! a line, each for `GET http://bench.example/orders`, the same every run.

use std::convert::Infallible;
use std::error::Error;
use std::future::{ready, Ready};
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::task::{Context, Poll};

use axum_core_04::body::Body as AxumBody;
use benches::dpop::DpopFixture;
use benches::fixture::{self, claims};
use benches::support::TestKey;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use peers::{aliri_peer, jwt_authorizer_peer, passport};
use tokio::net::TcpListener;
use tower::{Layer, Service, ServiceExt};
use tower_passport::{Algorithm, GuardLayer};

/// What every mode finally answers: 200, `ok`.
#[derive(Clone, Copy, Debug)]
struct Handler;

impl<B> Service<Request<B>> for Handler {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Full<Bytes>>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<B>) -> Self::Future {
        ready(Ok(Response::new(Full::new(Bytes::from_static(b"ok\n")))))
    }
}

/// The command line.
struct Options {
    mode: String,
    alg: Algorithm,
    workers: usize,
    port: u16,
    /// Where to write `count` DPoP proofs.
    proofs: Option<String>,
    count: usize,
}

/// The options in `args` (the program's name left out).
fn options(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut args = args.into_iter();
    let mode = args.next().ok_or("a mode is needed")?;
    let mut options = Options { mode, alg: Algorithm::RS256, workers: 2, port: 0, proofs: None, count: 0 };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--alg" => {
                options.alg = fixture::algorithm(&value).ok_or_else(|| format!("unknown alg {value}"))?
            }
            "--workers" => options.workers = value.parse().map_err(|_| format!("bad --workers {value}"))?,
            "--port" => options.port = value.parse().map_err(|_| format!("bad --port {value}"))?,
            "--proofs" => options.proofs = Some(value),
            "--count" => options.count = value.parse().map_err(|_| format!("bad --count {value}"))?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if options.workers == 0 {
        return Err("--workers must be at least 1".into());
    }
    if options.proofs.is_some() && options.count == 0 {
        return Err("--proofs needs --count".into());
    }
    Ok(options)
}

/// Serves `service` on `listener`: one task per connection, one `oneshot` per request.
async fn serve<S, B>(listener: TcpListener, service: S) -> std::io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn Error + Send + Sync>>,
{
    let http = hyper::server::conn::http1::Builder::new();
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("load_server: accept failed: {error}");
                continue;
            }
        };
        stream.set_nodelay(true)?;
        let service = service.clone();
        let connection = http.serve_connection(
            TokioIo::new(stream),
            hyper::service::service_fn(move |request| service.clone().oneshot(request)),
        );
        tokio::spawn(async move {
            // wrk closes its connections at the end of a run: not worth a line.
            let _ = connection.await;
        });
    }
}

/// Writes `count` proofs for the fixture's token to `path`, one a line.
fn write_proofs(fixture: &DpopFixture, path: &str, count: usize) -> Result<(), String> {
    let mut text = (0..count).map(|n| fixture.proof(n)).collect::<Vec<_>>().join("\n");
    text.push('\n');
    std::fs::write(path, text).map_err(|error| format!("{path}: {error}"))
}

/// Builds the mode's service, prints `<url> <token>` and serves.
async fn run(options: Options) -> Result<(), String> {
    let dpop = options.mode.starts_with("dpop") || options.proofs.is_some();
    let fixture = if dpop { Some(DpopFixture::new()?) } else { None };
    if let (Some(fixture), Some(path)) = (&fixture, &options.proofs) {
        write_proofs(fixture, path, options.count)?;
    }
    let key = TestKey::generate(options.alg);
    let token = match &fixture {
        Some(fixture) => fixture.token().to_owned(),
        None => key.sign(&claims("jti-warm")),
    };
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.port)))
        .await
        .map_err(|error| error.to_string())?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    let announce = || {
        let mut stdout = std::io::stdout();
        writeln!(stdout, "http://{address}/ {token}")
            .and_then(|()| stdout.flush())
            .map_err(|error| error.to_string())
    };
    let served = match options.mode.as_str() {
        "none" => {
            announce()?;
            serve(listener, Handler).await
        }
        "warm" => {
            let guard = GuardLayer::new(passport::warm_verifier(&key, &token)?).layer(Handler);
            announce()?;
            serve(listener, guard).await
        }
        "cold" => {
            let guard = GuardLayer::new(passport::cold_verifier(&key, &token)?).layer(Handler);
            announce()?;
            serve(listener, guard).await
        }
        "jwt-authorizer" => {
            let handler =
                ServiceExt::<Request<Incoming>>::map_response(Handler, |response: Response<Full<Bytes>>| {
                    response.map(AxumBody::new)
                });
            let service = jwt_authorizer_peer::layer(&key).await?.layer(handler);
            announce()?;
            serve(listener, service).await
        }
        "aliri" => {
            let service = aliri_peer::wrap(&key, Handler)?;
            announce()?;
            serve(listener, service).await
        }
        "dpop" => {
            let fixture = fixture.as_ref().ok_or("no DPoP fixture")?;
            let guard = fixture.guard()?.layer(Handler);
            announce()?;
            serve(listener, guard).await
        }
        other => return Err(format!("unknown mode {other} (none, warm, cold, jwt-authorizer, aliri, dpop)")),
    };
    served.map_err(|error| error.to_string())
}

fn main() -> ExitCode {
    let options = match options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("load_server: {error}\nusage: load_server <none|warm|cold|jwt-authorizer|aliri|dpop> [--alg rs256|es256|hs256] [--workers N] [--port P] [--proofs FILE --count N]");
            return ExitCode::from(2);
        }
    };
    let runtime =
        match tokio::runtime::Builder::new_multi_thread().worker_threads(options.workers).enable_io().build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                eprintln!("load_server: {error}");
                return ExitCode::FAILURE;
            }
        };
    // The accept loop runs on a worker too, so `--workers N` is every thread that serves.
    match runtime.block_on(async { tokio::spawn(run(options)).await }) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            eprintln!("load_server: {error}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("load_server: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Options, String> {
        options(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn defaults_are_rs256_on_two_workers_on_any_port() {
        let options = parse("warm").unwrap();
        assert_eq!(options.mode, "warm");
        assert_eq!(options.alg, Algorithm::RS256);
        assert_eq!((options.workers, options.port), (2, 0));
    }

    #[test]
    fn every_option_is_read() {
        let options = parse("cold --alg es256 --workers 1 --port 8099").unwrap();
        assert_eq!(options.alg, Algorithm::ES256);
        assert_eq!((options.workers, options.port), (1, 8099));
        let options = parse("dpop --proofs /tmp/p --count 30").unwrap();
        assert_eq!((options.proofs.as_deref(), options.count), (Some("/tmp/p"), 30));
    }

    #[test]
    fn bad_command_lines_are_refused() {
        for line in [
            "",
            "warm --alg ps256",
            "warm --workers 0",
            "warm --workers",
            "warm --threads 2",
            "dpop --proofs /tmp/p",
            "dpop --count x",
        ] {
            assert!(parse(line).is_err(), "{line:?}");
        }
    }
}
