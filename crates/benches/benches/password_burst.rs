//! Load script: `/health` latency while a burst of wrong-password grants hits the token
//! endpoint, side by side in one run:
//! - `inline, unbounded`: the user provider hashes on the executor and nothing bounds the
//!   checks (what the crate did before password checks moved off the executor);
//! - `off-executor, bounded`: `StaticUsers` (PBKDF2 on blocking threads) with the
//!   default bound on concurrent checks; grants beyond it get 503 at once.
//!
//! `cargo bench --bench password_burst` (not a criterion bench: it prints percentiles).
//! `BURST` sets the number of concurrent grants (150), `ITERATIONS` the PBKDF2 cost
//! (600,000, OWASP's figure for PBKDF2-SHA256).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower_passport::BackendError;
use tower_passport_issuer::endpoint::OAuthServer;
use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{ClientRegistration, Issuer, IssuerBuilder, NoLimit, PasswordHash, StaticUsers};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

/// Serves the issuer's routes and `/health`; returns the base URL.
async fn serve(issuer: Issuer) -> String {
    let app: Router = Router::new()
        .route("/health", get(|| async { "ok" }))
        .fallback_service(OAuthServer::new(issuer).build());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn scenario(name: &str, builder: IssuerBuilder, burst: usize) {
    let issuer = builder.build().expect("issuer");
    let registered = issuer
        .register_client(ClientRegistration::confidential("burst").grants([GrantType::Password]))
        .await
        .expect("client");
    let id = registered.client.id.clone();
    let secret = registered.secret.as_ref().expect("secret").expose().to_owned();
    let base = serve(issuer).await;
    let http: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();

    let health = |http: Client<_, Full<Bytes>>, base: String| async move {
        let started = Instant::now();
        let response = http.get(format!("{base}/health").parse().expect("uri")).await.expect("health");
        let _ = response.into_body().collect().await;
        started.elapsed()
    };
    let mut quiet = Vec::new();
    for _ in 0..50 {
        quiet.push(health(http.clone(), base.clone()).await);
    }

    let form =
        format!("grant_type=password&username=taylor&password=wrong&client_id={id}&client_secret={secret}");
    let started = Instant::now();
    let mut grants = Vec::new();
    for _ in 0..burst {
        let (http, base, form) = (http.clone(), base.clone(), form.clone());
        grants.push(tokio::spawn(async move {
            let request = Request::post(format!("{base}/oauth/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Full::new(Bytes::from(form)))
                .expect("request");
            let response = http.request(request).await.expect("grant");
            let status = response.status().as_u16();
            let _ = response.into_body().collect().await;
            status
        }));
    }
    let mut loaded = Vec::new();
    while grants.iter().any(|g| !g.is_finished()) {
        loaded.push(health(http.clone(), base.clone()).await);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for grant in grants {
        *statuses.entry(grant.await.expect("joined")).or_default() += 1;
    }
    let burst_time = started.elapsed();
    quiet.sort();
    loaded.sort();
    println!(
        "{name:<24} /health quiet p50 {:>9.2?} | under burst p50 {:>9.2?} p99 {:>9.2?} max {:>9.2?} \
         ({} probes) | burst {:>8.2?}, statuses {statuses:?}",
        percentile(&quiet, 0.5),
        percentile(&loaded, 0.5),
        percentile(&loaded, 0.99),
        loaded.last().copied().unwrap_or_default(),
        loaded.len(),
        burst_time,
    );
}

fn main() {
    let burst = env("BURST", 150);
    let iterations = env("ITERATIONS", 600_000) as u32;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        // No throttle: it would refuse the burst after five failures, before any hashing, and
        // this measures what the hashing costs the other requests.
        let base = || {
            Issuer::builder("https://bench.test", Arc::new(MemoryStore::new()))
                .audience("api")
                .auth_limiter(NoLimit)
        };
        let hash = PasswordHash::new("password", iterations).expect("hash");
        // Hashing inside the async fn: PBKDF2 on the executor thread.
        let inline = move |username: String, password: String| {
            let hash = hash.clone();
            async move {
                Ok::<_, BackendError>((username == "taylor" && hash.verify(&password)).then(|| "1".into()))
            }
        };
        scenario(
            "inline, unbounded",
            base().enable_password_grant(inline).max_concurrent_password_checks(1 << 20),
            burst,
        )
        .await;
        let users = StaticUsers::new(iterations).user("taylor", "password", "1").expect("user");
        scenario("off-executor, bounded", base().enable_password_grant(users), burst).await;
    });
}
