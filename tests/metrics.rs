//! The counters and histograms the crate records through the `metrics` facade, read back
//! from a recorder installed for this test binary.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use http::{Request, Response, StatusCode};
use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::testing::TestIssuer;
use tower_passport::{GuardLayer, RequireLayer};

#[derive(Default)]
struct Count(AtomicU64);

impl CounterFn for Count {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct Samples(Mutex<Vec<f64>>);

impl HistogramFn for Samples {
    fn record(&self, value: f64) {
        self.0.lock().expect("lock").push(value);
    }
}

/// Every counter and histogram by its name and sorted labels.
#[derive(Default)]
struct Collected {
    counters: Mutex<BTreeMap<String, Arc<Count>>>,
    histograms: Mutex<BTreeMap<String, Arc<Samples>>>,
}

fn name(key: &Key) -> String {
    let mut labels: Vec<String> = key.labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for &'static Collected {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let count = self.counters.lock().expect("lock").entry(name(key)).or_default().clone();
        Counter::from_arc(count)
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let samples = self.histograms.lock().expect("lock").entry(name(key)).or_default().clone();
        Histogram::from_arc(samples)
    }
}

fn collected() -> &'static Collected {
    static COLLECTED: OnceLock<&'static Collected> = OnceLock::new();
    COLLECTED.get_or_init(|| {
        let collected: &'static Collected = Box::leak(Box::default());
        metrics::set_global_recorder(collected).expect("the only recorder");
        collected
    })
}

fn counter(name: &str) -> u64 {
    collected().counters.lock().expect("lock").get(name).map_or(0, |c| c.0.load(Ordering::Relaxed))
}

#[tokio::test]
async fn guard_decisions_caches_and_cold_verifications_are_counted() {
    let collected = collected();
    let issuer = TestIssuer::new().expect("issuer");
    let service = ServiceBuilder::new()
        .layer(GuardLayer::new(issuer.verifier().expect("verifier")))
        .layer(RequireLayer::all_scopes(["read-posts"]))
        .service_fn(|_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) });
    let call = |token: Option<String>| {
        let service = service.clone();
        async move {
            let mut request = Request::builder();
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            service.oneshot(request.body(String::new()).expect("request")).await.expect("infallible").status()
        }
    };
    let good = issuer.user_token("1", ["read-posts"]).expect("token");
    let narrow = issuer.user_token("1", ["check-status"]).expect("token");

    assert_eq!(call(None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(call(Some(good.clone())).await, StatusCode::OK);
    assert_eq!(call(Some(good)).await, StatusCode::OK);
    assert_eq!(call(Some(narrow)).await, StatusCode::FORBIDDEN);

    assert_eq!(
        counter("passport_auth_decisions_total{outcome=allowed,reason=none}"),
        3,
        "the guard let 3 in"
    );
    assert_eq!(counter("passport_auth_decisions_total{outcome=rejected,reason=MissingToken}"), 1);
    assert_eq!(counter("passport_auth_decisions_total{outcome=rejected,reason=MissingScope}"), 1);
    assert_eq!(counter("passport_verified_token_cache_total{result=miss}"), 2, "two distinct tokens");
    assert_eq!(counter("passport_verified_token_cache_total{result=hit}"), 1);
    let cold = collected.histograms.lock().expect("lock").get("passport_verify_cold_seconds{}").cloned();
    let cold = cold.expect("a cold-verify histogram");
    let samples = cold.0.lock().expect("lock").clone();
    assert_eq!(samples.len(), 2);
    assert!(samples.iter().all(|s| *s > 0.0 && *s < 1.0), "{samples:?}");
    // No label carries a token, a user or a client id.
    for name in collected.counters.lock().expect("lock").keys() {
        assert!(!name.contains("test-client") && !name.contains("sub"), "{name}");
    }
}

#[tokio::test]
async fn token_requests_are_counted_by_grant_type_and_outcome() {
    use tower_passport::issuer::{ClientRegistration, Issuer};
    use tower_passport::store::{GrantType, MemoryStore};
    collected();
    let issuer = Issuer::builder("https://auth.metrics.test", Arc::new(MemoryStore::new()))
        .audience("api")
        .build()
        .expect("issuer");
    let registered = issuer
        .register_client(ClientRegistration::confidential("App").grants([GrantType::ClientCredentials]))
        .await
        .expect("client");
    let (id, secret) = (registered.client.id.clone(), registered.secret.expect("secret").expose().to_owned());
    let post = |grant: &'static str| {
        let routes = issuer.routes();
        let body = format!("grant_type={grant}&client_id={id}&client_secret={secret}");
        async move {
            let request = Request::post("/oauth/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                .expect("request");
            routes.oneshot(request).await.expect("infallible").status()
        }
    };
    assert_eq!(post("client_credentials").await, StatusCode::OK);
    assert_eq!(post("urn:something:else").await, StatusCode::BAD_REQUEST);
    assert_eq!(counter("passport_token_requests_total{grant_type=client_credentials,outcome=issued}"), 1);
    assert_eq!(counter("passport_token_requests_total{grant_type=other,outcome=unsupported_grant_type}"), 1);
}
