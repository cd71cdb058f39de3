//! Load script: how long a revocation on node A takes to be refused on node B, over the
//! PostgreSQL LISTEN/NOTIFY bus, over Redis pub/sub, and with no bus (bounded by the
//! negative-answer TTL, 1 s here). Prints p50 / p99 / max over many revocations.
//!
//! ```text
//! TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test TEST_REDIS_URL=redis://127.0.0.1:6379 \
//!   cargo bench --bench revocation_propagation
//! ```
//!
//! Latency percentiles are what this measures, so it is a plain program rather than a
//! criterion bench (criterion reports means of repeated work, not tails).

#[path = "../../integration/tests/support/nodes.rs"]
mod nodes;

use std::time::Duration;

use http::StatusCode;
use nodes::{time_until_refused_every, two_nodes_on, Bus};

const ROUNDS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn measure(bus: Bus, name: &str, negative_ttl: Duration, rounds: usize) {
    let Some((a, b, client)) = two_nodes_on(bus, negative_ttl).await else {
        println!("{name}: skipped (server URL not set)");
        return;
    };
    let mut delays = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let token = a.read_token(&client).await;
        // B verifies the token and caches "not revoked".
        assert_eq!(b.status(&token).await, StatusCode::OK);
        a.issuer.revoke(&client, &token, None).await.expect("revoke");
        delays.push(
            time_until_refused_every(&b, &token, Duration::from_secs(10), Duration::ZERO)
                .await
                .expect("refused"),
        );
    }
    delays.sort();
    println!(
        "{name:<28} n={:<4} p50={:>10.3?} p99={:>10.3?} max={:>10.3?}",
        delays.len(),
        percentile(&delays, 0.50),
        percentile(&delays, 0.99),
        delays[delays.len() - 1]
    );
}

fn main() {
    // `cargo test --benches` runs benches with `--bench` absent: keep that cheap.
    let rounds = if std::env::args().any(|arg| arg == "--bench") { ROUNDS } else { 3 };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        measure(Bus::Postgres, "postgres LISTEN/NOTIFY bus", Duration::from_secs(300), rounds).await;
        measure(Bus::Redis, "redis pub/sub bus", Duration::from_secs(300), rounds).await;
        measure(Bus::None, "no bus (1 s negative TTL)", Duration::from_secs(1), rounds.min(20)).await;
    });
}
