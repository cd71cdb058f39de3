//! The store fault matrix: PostgreSQL, MariaDB and Redis, each down, killed mid-traffic,
//! stalled and slowed behind the fault proxy, under a running issuer, token endpoint and
//! guard. Each scenario is written once, over the engine's fixture (`faults_rig.rs`), and
//! run for every engine by [`matrix!`].
//!
//! What every scenario holds to:
//! - what needs the store answers 503 `temporarily_unavailable` (the guard with no RFC 6750
//!   challenge, the token endpoint with an RFC 6749 error body), never a 200 as if the
//!   token were not revoked, never a panic, never a hang (each request is bounded);
//! - a revocation either is acknowledged or returns `temporarily_unavailable` to its caller;
//! - after the fault, the same objects serve 200 again, with no restart;
//! - every acknowledged revocation is refused afterwards, asked of the store itself.
//!
//! Skipped, saying so, where the engine's `TEST_*_URL` is unset.

use crate::faults_rig::{assert_unavailable, bounded, Answer, Engine, Rig, OPERATION_TIMEOUT};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::StatusCode;

/// Down before the requests and while they are served: 503 everywhere the store is
/// needed, a revocation refused with an error, recovery, nothing acknowledged lost.
async fn down(engine: Engine) {
    let Some(rig) = engine.rig().await else { return };
    let (live, revoked, doomed) = (rig.read_token().await, rig.read_token().await, rig.read_token().await);
    rig.revoke(&revoked).await.expect("acknowledged before the outage");
    assert_eq!(rig.guard(&live).await.status, StatusCode::OK);

    rig.proxy().cut();
    rig.guard(&live).await.assert_guard_unavailable();
    // The revoking node refuses its own revocation from memory, store or no store.
    assert_eq!(rig.guard(&revoked).await.status, StatusCode::UNAUTHORIZED);
    rig.token_endpoint().await.assert_endpoint_unavailable();
    let refused = rig.revoke(&doomed).await.expect_err("no store, no acknowledgement");
    assert_unavailable(&refused);
    // Still down on the next requests: the failure is not a one-off.
    rig.guard(&live).await.assert_guard_unavailable();

    rig.proxy().restore();
    rig.await_recovery(&live).await;
    assert_eq!(rig.token_endpoint().await.status, StatusCode::OK);
    rig.revoke(&doomed).await.expect("acknowledged once the store is back");
    rig.assert_refused_by_the_store(&[revoked, doomed]).await;
    rig.clean_up().await;
}

/// Stalled: the server accepts and then says nothing. Only the stores' timeouts end the
/// wait; the requests answer 503 within them (each is bounded by the rig's hang detector),
/// those in flight when the stall begins included, whatever step they were at.
async fn stalled(engine: Engine) {
    let Some(rig) = engine.rig().await else { return };
    let rig = Arc::new(rig);
    let (live, revoked, doomed) = (rig.read_token().await, rig.read_token().await, rig.read_token().await);
    rig.revoke(&revoked).await.expect("acknowledged before the stall");

    let stalled_at = Instant::now() + Duration::from_millis(200);
    let in_flight: Vec<_> = (0..8)
        .map(|worker| {
            let (rig, live) = (rig.clone(), live.clone());
            tokio::spawn(async move {
                while Instant::now() < stalled_at + OPERATION_TIMEOUT * 2 {
                    if worker % 2 == 0 {
                        let answer = rig.guard(&live).await;
                        if answer.status != StatusCode::OK {
                            answer.assert_guard_unavailable();
                        }
                    } else {
                        let answer = rig.token_endpoint().await;
                        if answer.status != StatusCode::OK {
                            answer.assert_endpoint_unavailable();
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep_until(stalled_at.into()).await;
    rig.proxy().stall();
    for worker in in_flight {
        worker.await.expect("every request in flight answered, none hung");
    }
    rig.guard(&live).await.assert_guard_unavailable();
    assert_eq!(rig.guard(&revoked).await.status, StatusCode::UNAUTHORIZED);
    rig.token_endpoint().await.assert_endpoint_unavailable();
    let refused = rig.revoke(&doomed).await.expect_err("a stalled store acknowledges nothing");
    assert_unavailable(&refused);

    // What the stall held is delivered late; the stores must not mistake it for answers.
    rig.proxy().restore();
    rig.await_recovery(&live).await;
    assert_eq!(rig.token_endpoint().await.status, StatusCode::OK);
    rig.revoke(&doomed).await.expect("acknowledged once the store answers");
    rig.assert_refused_by_the_store(&[revoked, doomed]).await;
    if let Ok(rig) = Arc::try_unwrap(rig) {
        rig.clean_up().await;
    }
}

/// Slowed: a link slower than usual but within the timeouts still serves (slowly);
/// slower than the timeouts, 503; back to normal, 200.
async fn slowed(engine: Engine) {
    let Some(rig) = engine.rig().await else { return };
    let (live, revoked) = (rig.read_token().await, rig.read_token().await);
    rig.revoke(&revoked).await.expect("acknowledged before the slowdown");

    rig.proxy().delay(Duration::from_millis(10));
    assert_eq!(rig.guard(&live).await.status, StatusCode::OK, "slow but within the timeouts");
    assert_eq!(rig.token_endpoint().await.status, StatusCode::OK, "slow but within the timeouts");

    rig.proxy().delay(OPERATION_TIMEOUT * 2);
    rig.guard(&live).await.assert_guard_unavailable();
    assert_eq!(rig.guard(&revoked).await.status, StatusCode::UNAUTHORIZED);
    rig.token_endpoint().await.assert_endpoint_unavailable();

    rig.proxy().restore();
    rig.await_recovery(&live).await;
    assert_eq!(rig.token_endpoint().await.status, StatusCode::OK);
    rig.assert_refused_by_the_store(&[revoked]).await;
    rig.clean_up().await;
}

/// What the workers of [`killed_mid_traffic`] saw.
#[derive(Default)]
struct Seen {
    ok: usize,
    unavailable: usize,
    /// Tokens whose revocation was acknowledged while the faults ran.
    acknowledged: Vec<String>,
}

/// One worker's request, of four kinds by `kind`; every answer is one the fault allows.
async fn one_request(rig: &Rig, kind: usize, live: &str, revoked: &str, seen: &Mutex<Seen>) {
    let answer: Option<Answer> = match kind {
        0 => Some(rig.guard(live).await),
        1 => {
            let answer = rig.guard(revoked).await;
            assert_ne!(answer.status, StatusCode::OK, "a revoked token passed: {answer:?}");
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
            None
        }
        2 => Some(rig.token_endpoint().await),
        _ => {
            let request =
                tower_passport_issuer::TokenRequest::client_credentials(rig.client.clone()).scope("read");
            match bounded("a grant", rig.issuer.grant(request)).await {
                Err(error) => assert_unavailable(&error),
                Ok(tokens) => match rig.revoke(&tokens.access_token).await {
                    Ok(()) => seen.lock().expect("lock").acknowledged.push(tokens.access_token),
                    Err(error) => assert_unavailable(&error),
                },
            }
            None
        }
    };
    if let Some(answer) = answer {
        let mut seen = seen.lock().expect("lock");
        if answer.status == StatusCode::OK {
            seen.ok += 1;
        } else {
            if kind == 0 {
                answer.assert_guard_unavailable();
            } else {
                answer.assert_endpoint_unavailable();
            }
            seen.unavailable += 1;
        }
    }
}

/// Sixteen workers send guarded requests, token requests and revocations while the
/// fixture's connections are killed on the server, then cut, then killed again.
async fn killed_mid_traffic(engine: Engine) {
    let Some(rig) = engine.rig().await else { return };
    let rig = Arc::new(rig);
    let (live, revoked) = (rig.read_token().await, rig.read_token().await);
    rig.revoke(&revoked).await.expect("acknowledged before the faults");
    let (stop, seen) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Seen::default())));
    let workers: Vec<_> = (0..16)
        .map(|worker| {
            let (rig, live, revoked) = (rig.clone(), live.clone(), revoked.clone());
            let (stop, seen) = (stop.clone(), seen.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    one_request(&rig, worker % 4, &live, &revoked, &seen).await;
                    // A request answered from memory never waits, so never yields by itself.
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut killed = bounded("a kill", rig.kill()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    rig.proxy().cut();
    tokio::time::sleep(OPERATION_TIMEOUT * 2).await;
    rig.proxy().restore();
    tokio::time::sleep(Duration::from_millis(300)).await;
    killed += bounded("a kill", rig.kill()).await;
    // Long enough after the faults for revocations to be acknowledged on a loaded machine.
    tokio::time::sleep(Duration::from_millis(600)).await;
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("no worker panicked");
    }

    assert!(killed > 0, "the kills found the store's connections on the server");
    rig.await_recovery(&live).await;
    assert_eq!(rig.token_endpoint().await.status, StatusCode::OK);
    let seen = std::mem::take(&mut *seen.lock().expect("lock"));
    eprintln!(
        "{engine:?}: {} answered, {} unavailable, {} revocations acknowledged, {killed} connections killed",
        seen.ok,
        seen.unavailable,
        seen.acknowledged.len()
    );
    assert!(seen.unavailable > 0, "the cut was felt");
    assert!(seen.ok > 0, "requests were served around the faults");
    assert!(!seen.acknowledged.is_empty(), "revocations were acknowledged around the faults");
    let mut revoked_tokens = seen.acknowledged;
    revoked_tokens.push(revoked);
    rig.assert_refused_by_the_store(&revoked_tokens).await;
    if let Ok(rig) = Arc::try_unwrap(rig) {
        rig.clean_up().await;
    }
}

/// Every scenario, for every engine: `faults_matrix::<engine>::<scenario>`.
macro_rules! matrix {
    ($($module:ident: $engine:expr),* $(,)?) => {$(
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn down_answers_503_then_recovers_and_loses_no_acknowledged_revocation() {
                down($engine).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn stalled_answers_503_within_the_timeouts_then_recovers() {
                stalled($engine).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn slowed_serves_within_the_timeouts_and_answers_503_past_them() {
                slowed($engine).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn killed_mid_traffic_answers_200_or_503_and_loses_no_acknowledged_revocation() {
                killed_mid_traffic($engine).await;
            }
        }
    )*};
}

matrix!(postgres: Engine::Postgres, mariadb: Engine::MariaDb, redis: Engine::Redis);
