//! The warm path: a request whose token is already in the verified-token cache, through
//! the guard and an all-of scope check, next to the same stack verifying cold and a bare
//! service with no layers.
//!
//! Each iteration builds the request with its `Authorization` header, readies the
//! service, calls it and polls the response future once (the default resolver and
//! revocation check complete without waiting, so no runtime is needed).
//!
//! ```text
//! cargo bench --bench warm_hit -- --warm-up-time 1 --measurement-time 3
//! WARM_HIT_RECORDER=1 cargo bench --bench warm_hit -- …   # with a `metrics` recorder installed
//! ```
//!
//! With `WARM_HIT_RECORDER=1` a counting `metrics` recorder is installed first, so the
//! crate's counters (feature `metrics`) really count: run both ways, one after the other,
//! for what the counters cost on the warm path.

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Empty;
use tower::{service_fn, Service, ServiceBuilder};
use tower_passport::{clock::ManualClock, Algorithm, GuardLayer, KeySet, RequireLayer, Verifier};

#[path = "../../integration/tests/support/mod.rs"]
mod support;

/// The request body every service here takes.
type Body = Empty<Bytes>;

/// RS256, Passport's algorithm, makes the longest token (the cache key is the whole token).
const ALGORITHM: Algorithm = Algorithm::RS256;

fn verifier(key: &support::TestKey, cached: bool) -> Verifier {
    let builder = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .clock(ManualClock::new(support::NOW));
    let builder = if cached { builder } else { builder.no_cache() };
    builder.build().expect("verifier builds")
}

/// A request with the bearer token, as a server would hand it to the service.
fn request(authorization: &HeaderValue) -> Request<Body> {
    let mut request = Request::new(Body::new());
    request.headers_mut().insert(AUTHORIZATION, authorization.clone());
    request
}

/// Readies `service`, calls it and polls the response future once, with no runtime.
fn call_once<S, B>(service: &mut S, request: Request<Body>) -> Poll<Result<Response<B>, Infallible>>
where
    S: Service<Request<Body>, Response = Response<B>, Error = Infallible>,
{
    let mut cx = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_ready(), "the service is always ready");
    pin!(service.call(request)).poll(&mut cx)
}

fn assert_ok<B>(outcome: &Poll<Result<Response<B>, Infallible>>) {
    match outcome {
        Poll::Ready(Ok(response)) => assert_eq!(response.status(), StatusCode::OK),
        Poll::Ready(Err(never)) => match *never {},
        Poll::Pending => panic!("the stack completed without waiting"),
    }
}

/// Times one request through `service`, after checking that it is answered 200.
fn bench_service<S, B>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    mut service: S,
    authorization: &HeaderValue,
) where
    S: Service<Request<Body>, Response = Response<B>, Error = Infallible>,
{
    assert_ok(&call_once(&mut service, request(authorization)));
    c.bench_function(name, |b| {
        b.iter(|| black_box(call_once(&mut service, request(black_box(authorization)))));
    });
}

/// A recorder whose counters and histograms are plain atomics: about what a real one
/// costs per increment once its handles are registered.
mod recorder {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use metrics::{
        Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString,
        Unit,
    };

    struct Atomic(AtomicU64);

    impl CounterFn for Atomic {
        fn increment(&self, value: u64) {
            self.0.fetch_add(value, Ordering::Relaxed);
        }
        fn absolute(&self, value: u64) {
            self.0.store(value, Ordering::Relaxed);
        }
    }

    impl HistogramFn for Atomic {
        fn record(&self, value: f64) {
            self.0.fetch_add(value.to_bits() & 1, Ordering::Relaxed);
        }
    }

    pub(super) struct Counting;

    impl Recorder for Counting {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(Arc::new(Atomic(AtomicU64::new(0))))
        }
        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::noop()
        }
        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::from_arc(Arc::new(Atomic(AtomicU64::new(0))))
        }
    }
}

fn bench_warm_hit(c: &mut Criterion) {
    if std::env::var_os("WARM_HIT_RECORDER").is_some() {
        metrics::set_global_recorder(recorder::Counting).expect("the first recorder");
    }
    let key = support::TestKey::generate(ALGORITHM);
    let token = key.sign(&support::user_claims("1", "read-posts"));
    let authorization = HeaderValue::from_str(&format!("Bearer {token}")).expect("token is a header value");
    let handler = service_fn(|_: Request<Body>| async { Ok::<_, Infallible>(Response::new(Body::new())) });

    let warm = verifier(&key, true);
    // Fill the cache before timing: every timed request is a hit.
    warm.verify(&token).expect("verifier accepts");

    let mut group = c.benchmark_group("warm_hit");
    bench_service(&mut group, "bare_service", handler, &authorization);
    bench_service(
        &mut group,
        "guard_scope_warm",
        ServiceBuilder::new()
            .layer(GuardLayer::new(warm.clone()))
            .layer(RequireLayer::all_scopes(["read-posts"]))
            .service(handler),
        &authorization,
    );
    bench_service(
        &mut group,
        "guard_warm",
        ServiceBuilder::new().layer(GuardLayer::new(warm)).service(handler),
        &authorization,
    );
    bench_service(
        &mut group,
        "guard_scope_cold",
        ServiceBuilder::new()
            .layer(GuardLayer::new(verifier(&key, false)))
            .layer(RequireLayer::all_scopes(["read-posts"]))
            .service(handler),
        &authorization,
    );
    group.finish();
}

criterion_group!(benches, bench_warm_hit);
criterion_main!(benches);
