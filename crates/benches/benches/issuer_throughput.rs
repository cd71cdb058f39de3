//! `cargo bench -p benches --bench issuer_throughput` (a load run, not criterion): per store,
//! alone and with 32 concurrent clients, each on its own refresh family, the throughput and
//! latency of
//!
//! - `sign`: the floor, one bare ES256 signature (aws-lc-rs, the key parsed once) per request;
//! - `round trip`: the store's own round trip, one client lookup by id;
//! - `client_credentials`: `Issuer::grant` of client credentials (sign, store the record);
//! - `refresh`: `Issuer::grant` of a refresh token, each client rotating its own family.
//!
//! on a 2-worker runtime, in the same process, the kinds interleaved round by round
//! (`ROUNDS`, default 2, of `SECONDS`, default 2, each). The ratios put each request beside
//! its floors: a refresh "in round trips" is how many store round trips take as long. The
//! stores are those of `issuer_fixture.rs`; PostgreSQL and Redis run when
//! `TEST_POSTGRES_URL` / `TEST_REDIS_URL` are set (skipped with a note otherwise).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use tower_passport::Algorithm;

#[allow(dead_code)] // each user of the fixture takes the part it needs
#[path = "../src/issuer_fixture.rs"]
mod issuer_fixture;

use issuer_fixture::{fixture, key, Fixture, STORES};

/// Concurrent clients: alone, and 32 at once.
const CONCURRENCY: [usize; 2] = [1, 32];

/// What one round of one kind measured.
struct Measured {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Measured {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1);
        sorted.get(index).copied().unwrap_or_default()
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// Runs `clients` tasks for `duration`, each calling `request(client index)` in a loop;
/// every request must succeed.
async fn load<F, Fut>(clients: usize, duration: Duration, request: F) -> Measured
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let request = Arc::new(request);
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    request(client).await.expect("every measured request succeeds");
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("a load task"));
    }
    Measured { requests: latencies.len(), elapsed: started.elapsed(), latencies }
}

/// The kinds of request, in the order each round runs them.
const KINDS: [&str; 4] = ["sign", "round trip", "client_credentials", "refresh"];

/// One round of `kind` with `clients` concurrent clients.
async fn round(
    kind: &str,
    fixture: &Arc<Fixture>,
    families: &Arc<Vec<tokio::sync::Mutex<String>>>,
    clients: usize,
    duration: Duration,
) -> Measured {
    match kind {
        "sign" => {
            let rng = SystemRandom::new();
            let document = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
            let pair = Arc::new(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, document.as_ref()).expect("key"),
            );
            let input = Arc::new(vec![b'x'; 450]);
            load(clients, duration, move |_| {
                let (pair, input) = (pair.clone(), input.clone());
                async move {
                    pair.sign(&SystemRandom::new(), &input)
                        .map(|_| ())
                        .map_err(|_| "signing failed".to_owned())
                }
            })
            .await
        }
        "round trip" => {
            let fixture = fixture.clone();
            load(clients, duration, move |_| {
                let fixture = fixture.clone();
                async move { fixture.round_trip().await }
            })
            .await
        }
        "client_credentials" => {
            let fixture = fixture.clone();
            load(clients, duration, move |_| {
                let fixture = fixture.clone();
                async move {
                    fixture
                        .issuer
                        .grant(fixture.client_credentials())
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
            })
            .await
        }
        _ => {
            let (fixture, families) = (fixture.clone(), families.clone());
            load(clients, duration, move |client| {
                let (fixture, families) = (fixture.clone(), families.clone());
                async move {
                    // Each client holds its own family: the lock is never contended.
                    let mut current = families[client].lock().await;
                    *current = fixture.rotate(&current).await?;
                    Ok(())
                }
            })
            .await
        }
    }
}

fn micros(duration: Duration) -> String {
    format!("{:.0} µs", duration.as_secs_f64() * 1e6)
}

fn main() {
    let rounds = env_number("ROUNDS", 2);
    let duration = Duration::from_secs(env_number("SECONDS", 2));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    println!("| store | clients | request | requests/s | p50 | p99 | ÷ sign (time) | in round trips |");
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    for store in STORES {
        let fixture = match runtime.block_on(fixture(store, key(Algorithm::ES256).expect("key"))) {
            Ok(fixture) => Arc::new(fixture),
            Err(error) => {
                eprintln!("skipping {store}: {error}");
                continue;
            }
        };
        let max = CONCURRENCY.into_iter().max().unwrap_or(1);
        let families: Vec<_> = (0..max)
            .map(|_| runtime.block_on(fixture.refresh_family()).map(tokio::sync::Mutex::new).expect("family"))
            .collect();
        let families = Arc::new(families);
        for clients in CONCURRENCY {
            let mut best: Vec<Option<Measured>> = KINDS.iter().map(|_| None).collect();
            for _ in 0..rounds {
                for (index, kind) in KINDS.iter().enumerate() {
                    let measured = runtime.block_on(round(kind, &fixture, &families, clients, duration));
                    // The round with the most requests: the one least disturbed by neighbours.
                    if best[index].as_ref().is_none_or(|best| measured.per_second() > best.per_second()) {
                        best[index] = Some(measured);
                    }
                }
            }
            let per_second = |index: usize| best[index].as_ref().map_or(0.0, Measured::per_second);
            let (sign, round_trip) = (per_second(0), per_second(1));
            for (index, kind) in KINDS.iter().enumerate() {
                let Some(measured) = &best[index] else { continue };
                let rate = measured.per_second();
                println!(
                    "| {store} | {clients} | {kind} | {rate:.0} | {} | {} | {:.2} | {:.2} |",
                    micros(measured.percentile(0.50)),
                    micros(measured.percentile(0.99)),
                    sign / rate,
                    round_trip / rate,
                );
            }
        }
    }
}
