//! Faults of a real JWKS endpoint (issue 21, *Faults*): down, slow past the timeout,
//! garbage with a 200 and a JSON content type, an empty set, a 500, a redirect, a body
//! over the cap; and a key rotation while requests keep coming and the endpoint flaps.
//! Throughout, a token whose `kid` is known keeps passing and no request waits beyond the
//! stated bound (the fetch timeout, which caps the one wait a new `kid` may cause).
//!
//! Each fault is injected twice: after a good fetch (the last good set keeps serving, the
//! fault is reported in `status().last_error`, nothing the faulty answer carries is
//! trusted) and before any (the guard answers 503 without a challenge: no keys, not the
//! client's fault). The outage, stale-bound, flood, malformed-document and slow-server
//! cases of `remote_keys.rs` are not repeated here.

use crate::faults_proxy::Proxy;
use crate::jwks_server::{jwks, JwksServer, Reply};
use crate::remote_keys::{chain, eventually, guarded, send, token, verifier, JWKS};
use crate::support::TestKey;

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use serde_json::json;
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::{Algorithm, GuardLayer, RemoteKeySet};

/// The fetch timeout of every set here: the longest any request may wait for a fetch.
const FETCH_TIMEOUT: Duration = Duration::from_millis(300);
/// The response cap of every set here (a one-key JWKS is about 200 bytes).
const CAP: usize = 4096;
/// Slack over [`FETCH_TIMEOUT`] for a loaded 2-core machine: a hang detector, not a
/// performance bound (a stalled fetch would take the 10 s of [`slow`]).
const SLACK: Duration = Duration::from_millis(1500);
/// Where the redirects point: a path serving a valid JWKS with a key the set must never take.
const ELSEWHERE: &str = "/elsewhere/jwks";

/// A reply that takes 10 s, far past [`FETCH_TIMEOUT`].
fn slow(keys: &[&TestKey]) -> Reply {
    Reply::json(&jwks(&keys.iter().map(|key| &key.jwk).collect::<Vec<_>>())).delay(Duration::from_secs(10))
}

/// How a fault is injected: through the server's answers, or the proxy in front.
type Inject = Box<dyn Fn(&JwksServer, &Proxy)>;

/// One fault of the endpoint: its name, how to inject it, and what the fetch error says.
struct Fault {
    name: &'static str,
    inject: Inject,
    says: &'static str,
}

/// Every fault, each carrying `intruder`'s key where the answer has room for one: a set
/// that took it would let `intruder`'s tokens in.
fn faults(intruder: &TestKey) -> Vec<Fault> {
    let with_intruder = jwks(&[&intruder.jwk]);
    let padded = json!({"keys": [intruder.jwk], "padding": "x".repeat(CAP)});
    let slow_reply = slow(&[intruder]);
    let serve =
        move |reply: Reply| -> Inject { Box::new(move |server, _| server.serve(JWKS, reply.clone())) };
    let mut faults = vec![
        Fault { name: "down", inject: Box::new(|_, proxy| proxy.cut()), says: "failed" },
        Fault { name: "slow past the timeout", inject: serve(slow_reply), says: "timed out after 300ms" },
        Fault {
            name: "garbage with a 200 and a JSON content type",
            inject: serve(Reply::text("\u{1}garbage{{[").header("content-type", "application/json")),
            says: "was refused",
        },
        Fault {
            name: "a JSON value that is not a JWKS, as application/jwk-set+json",
            inject: serve(Reply::text("[1, 2, 3]").header("content-type", "application/jwk-set+json")),
            says: "was refused",
        },
        Fault {
            name: "an empty set",
            inject: serve(Reply::json(&json!({"keys": []}))),
            says: "has no usable key (0 skipped)",
        },
        Fault {
            name: "a 500",
            inject: serve(Reply::status(500)),
            says: "answered 500 Internal Server Error",
        },
        Fault {
            name: "a 500 whose body is a valid JWKS",
            inject: serve(Reply { status: 500, ..Reply::json(&with_intruder) }),
            says: "answered 500 Internal Server Error",
        },
        Fault {
            name: "a 200 over the response cap",
            inject: serve(Reply::json(&padded)),
            says: "larger than 4096 bytes",
        },
    ];
    let elsewhere = Reply::json(&with_intruder);
    for (status, says) in [
        (301, "answered 301 Moved Permanently"),
        (302, "answered 302 Found"),
        (307, "answered 307 Temporary Redirect"),
        (308, "answered 308 Permanent Redirect"),
    ] {
        let elsewhere = elsewhere.clone();
        faults.push(Fault {
            name: "a redirect to a valid JWKS",
            inject: Box::new(move |server, _| {
                server.serve(ELSEWHERE, elsewhere.clone());
                server.serve(JWKS, Reply::status(status).header("location", &server.url(ELSEWHERE)));
            }),
            says,
        });
    }
    faults
}

/// A JWKS server behind a proxy the test can cut, publishing `keys`, and a remote set over
/// it with the fault tests' timeout and cap.
async fn endpoint(keys: &[&TestKey]) -> (JwksServer, Proxy, RemoteKeySet) {
    let server = JwksServer::start().await;
    server.serve(JWKS, Reply::json(&jwks(&keys.iter().map(|key| &key.jwk).collect::<Vec<_>>())));
    let addr = server.base().trim_start_matches("http://").parse().expect("server address");
    let proxy = Proxy::start(addr).await;
    let keys = RemoteKeySet::builder(format!("http://{}{JWKS}", proxy.addr))
        .timeout(FETCH_TIMEOUT)
        .max_response_bytes(CAP)
        .unknown_kid_cooldown(Duration::from_millis(50))
        .retry_backoff(Duration::from_secs(30), Duration::from_secs(60))
        .build()
        .expect("remote set");
    (server, proxy, keys)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_keeps_the_last_good_set_and_trusts_nothing_the_faulty_answer_carries() {
    let known = TestKey::generate_with_kid(Algorithm::ES256, "known");
    let intruder = TestKey::generate_with_kid(Algorithm::ES256, "intruder");
    let faults = faults(&intruder);
    assert_eq!(faults.len(), 12);
    for fault in faults {
        let name = fault.name;
        let (server, proxy, keys) = endpoint(&[&known]).await;
        keys.warm_up().await.expect("the first fetch is good");
        let service = guarded(verifier(&keys));
        (fault.inject)(&server, &proxy);

        let started = Instant::now();
        let error = keys.warm_up().await.expect_err(name);
        assert!(started.elapsed() < FETCH_TIMEOUT + SLACK, "{name}: the fetch is bounded");
        assert!(chain(&error).contains(fault.says), "{name}: {}", chain(&error));
        let status = keys.status();
        assert!(status.usable, "{name}: within the stale bound");
        assert_eq!(status.kids, ["known"], "{name}: the last good set");
        assert!(status.last_error.is_some_and(|last| chain(&last) == chain(&error)), "{name}: reported");

        assert_eq!(send(&service, &token(&known)).await, StatusCode::OK, "{name}: a known kid passes");
        // The intruder's kid is new: its request triggers one refetch, which meets the
        // fault, and is refused after at most the fetch timeout.
        let started = Instant::now();
        assert_eq!(send(&service, &token(&intruder)).await, StatusCode::UNAUTHORIZED, "{name}");
        assert!(started.elapsed() < FETCH_TIMEOUT + SLACK, "{name}: waited {:?}", started.elapsed());
        assert_eq!(send(&service, &token(&known)).await, StatusCode::OK, "{name}: and after it");
        assert_eq!(server.hits(ELSEWHERE), 0, "{name}: no redirect is followed");
        eventually("the refetch fails too", || keys.metrics().failures >= 2).await;
        proxy.restore();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_before_the_first_good_fetch_answers_503_without_a_challenge() {
    let intruder = TestKey::generate_with_kid(Algorithm::ES256, "intruder");
    for fault in faults(&intruder) {
        let name = fault.name;
        let (server, proxy, keys) = endpoint(&[]).await;
        (fault.inject)(&server, &proxy);
        let error = keys.warm_up().await.expect_err(name);
        assert!(chain(&error).contains(fault.says), "{name}: {}", chain(&error));

        let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&keys))).service_fn(
            |_: Request<Full<Bytes>>| async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) },
        );
        let request = Request::builder()
            .header(AUTHORIZATION, format!("Bearer {}", token(&intruder)))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = service.oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{name}");
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none(), "{name}: not the client's fault");
        assert_eq!(server.hits(ELSEWHERE), 0, "{name}: no redirect is followed");
        proxy.restore();
    }
}

// ---------------------------------------------------------------------------------------
// A rotation mid-load, with the endpoint flapping through the faults
// ---------------------------------------------------------------------------------------

type Guarded = BoxCloneSyncService<Request<Full<Bytes>>, StatusCode, Infallible>;

/// What one client saw: requests sent, those not answered 200, the longest answer.
#[derive(Default)]
struct Seen {
    sent: usize,
    failed: usize,
    longest: Duration,
}

/// Sends `token()` through `service` until `stop`, counting.
async fn client(service: Guarded, token: impl Fn() -> Option<String>, stop: Arc<AtomicBool>) -> Seen {
    let mut seen = Seen::default();
    while !stop.load(Ordering::Acquire) {
        let Some(token) = token() else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let started = Instant::now();
        let status = send(&service, &token).await;
        seen.longest = seen.longest.max(started.elapsed());
        seen.sent += 1;
        if status != StatusCode::OK {
            seen.failed += 1;
        }
        tokio::task::yield_now().await;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_mid_load_with_a_flapping_endpoint_fails_no_known_kid_and_parks_none() {
    let old = TestKey::generate_with_kid(Algorithm::ES256, "2025-01");
    let new = TestKey::generate_with_kid(Algorithm::ES256, "2025-02");
    let server = JwksServer::start().await;
    server.serve(JWKS, Reply::json(&jwks(&[&old.jwk])));
    // Background refreshes every 50-100 ms, so the flapping endpoint is asked all along;
    // a failed one is retried after 20-40 ms.
    let keys = RemoteKeySet::builder(server.url(JWKS))
        .timeout(FETCH_TIMEOUT)
        .refresh(Duration::from_millis(50), Duration::from_millis(100), Duration::from_millis(100))
        .retry_backoff(Duration::from_millis(20), Duration::from_millis(40))
        .unknown_kid_cooldown(Duration::from_millis(50))
        .build()
        .expect("remote set");
    keys.warm_up().await.expect("warm-up");
    let service = guarded(verifier(&keys));
    let (old_token, new_token) = (token(&old), token(&new));
    let (stop, rotated) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));

    // Eight clients with the old, known kid from start to end; four with the new kid from
    // the rotation on.
    let known: Vec<_> = (0..8)
        .map(|_| {
            let token = old_token.clone();
            tokio::spawn(client(service.clone(), move || Some(token.clone()), stop.clone()))
        })
        .collect();
    let rotating: Vec<_> = (0..4)
        .map(|_| {
            let (token, rotated) = (new_token.clone(), rotated.clone());
            let next = move || rotated.load(Ordering::Acquire).then(|| token.clone());
            tokio::spawn(client(service.clone(), next, stop.clone()))
        })
        .collect();

    // The endpoint flaps through the faults; the provider rotates in the middle of it
    // (the new key appears in the good answers, and the new clients start).
    let both = jwks(&[&old.jwk, &new.jwk]);
    let flaps: Vec<Reply> = vec![
        Reply::status(500),
        Reply::text("\u{1}garbage").header("content-type", "application/json"),
        Reply::json(&json!({"keys": []})),
        Reply::status(302).header("location", &server.url(ELSEWHERE)),
        slow(&[&old, &new]),
        Reply::json(&json!({"keys": [old.jwk.clone()], "padding": "x".repeat(CAP * 64)})),
    ];
    for round in 0..4 {
        if round == 2 {
            rotated.store(true, Ordering::Release);
        }
        for flap in &flaps {
            server.serve(JWKS, flap.clone());
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        let good = if round >= 2 { Reply::json(&both) } else { Reply::json(&jwks(&[&old.jwk])) };
        server.serve(JWKS, good);
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    // The endpoint settles with both keys published: the new kid must get in.
    server.serve(JWKS, Reply::json(&both));
    eventually("the settled set publishes the new kid", || keys.status().kids.contains(&new.kid)).await;
    assert_eq!(send(&service, &new_token).await, StatusCode::OK, "the new kid passes once published");
    stop.store(true, Ordering::Release);

    let (mut known_sent, mut longest) = (0, Duration::ZERO);
    for task in known {
        let seen = task.await.expect("client");
        assert_eq!(seen.failed, 0, "a known kid failed {} of {} requests", seen.failed, seen.sent);
        known_sent += seen.sent;
        longest = longest.max(seen.longest);
    }
    let (mut new_sent, mut new_failed) = (0, 0);
    for task in rotating {
        let seen = task.await.expect("client");
        new_sent += seen.sent;
        new_failed += seen.failed;
        longest = longest.max(seen.longest);
    }
    let metrics = keys.metrics();
    println!(
        "rotation mid-load: {known_sent} known-kid requests (0 failed), {new_sent} new-kid requests \
         ({new_failed} refused while the endpoint flapped), {} fetches, {} failed, {} refetches, \
         {} requests parked, longest answer {longest:?}",
        metrics.fetches, metrics.failures, metrics.refetches, metrics.refetch_waits
    );
    assert!(known_sent >= 100 && new_sent > 0, "load ran: {known_sent} / {new_sent}");
    assert!(metrics.failures >= 6, "the faults were met: {} failed fetches", metrics.failures);
    // Only a request with a kid the set did not hold can miss, and only a miss can park:
    // every known-kid request was answered from the snapshot, without waiting.
    assert!(metrics.kid_misses <= new_sent as u64 + 1, "{} misses", metrics.kid_misses);
    assert!(metrics.refetch_waits <= metrics.kid_misses, "{} parked", metrics.refetch_waits);
    // A parked request waits at most the fetch timeout (the slow answer takes 10 s).
    assert!(longest < FETCH_TIMEOUT + SLACK, "a request waited {longest:?}");
    assert_eq!(server.hits(ELSEWHERE), 0, "no redirect is followed");
}
