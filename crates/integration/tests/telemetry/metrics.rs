//! The counters and histograms the crate records through the `metrics` facade, read back
//! from a recorder installed for this test binary: every metric `docs/metrics.md` lists, after
//! traffic that moves it. The tests share one recorder, so they run one at a time
//! ([`serial`]) and compare counts before and after.

use crate::jwks_server;
use crate::support;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use http::{Request, Response, StatusCode};
use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use std::time::{Duration, Instant};

use jwks_server::{jwks, JwksServer, Reply};
use support::{user_claims, TestKey, AUDIENCE, ISSUER, NOW};
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::clock::ManualClock;
use tower_passport::revocation::{Hub, RevocationList};
use tower_passport::{
    Algorithm, BackendError, GuardLayer, RemoteKeySet, RequireLayer, VerifiedToken, Verifier,
};
use tower_passport_issuer::store::MemoryStore;
use tower_passport_issuer::testing::TestIssuer;
use tower_passport_issuer::TokenRequest;
use tower_passport_redis::RedisRevocationBus;
use tower_passport_sql::PgRevocationBus;

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

/// Every counter's value now, to compare with later.
fn counts() -> BTreeMap<String, u64> {
    let counters = collected().counters.lock().expect("lock");
    counters.iter().map(|(name, count)| (name.clone(), count.0.load(Ordering::Relaxed))).collect()
}

/// How much `name` moved since `before`.
fn moved(before: &BTreeMap<String, u64>, name: &str) -> u64 {
    counter(name) - before.get(name).copied().unwrap_or(0)
}

/// One test at a time: they share the process-wide recorder.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// A demo user the resolver finds.
#[derive(Clone, Debug)]
struct User;

async fn find_user(_token: VerifiedToken) -> Result<Option<User>, BackendError> {
    Ok(Some(User))
}

#[tokio::test]
async fn guard_decisions_caches_and_cold_verifications_are_counted() {
    let collected = collected();
    let _serial = serial().await;
    let before = counts();
    let cold_before = collected
        .histograms
        .lock()
        .expect("lock")
        .get("passport_verify_cold_seconds{}")
        .map_or(0, |samples| samples.0.lock().expect("lock").len());
    let issuer = TestIssuer::new().expect("issuer");
    let guard = GuardLayer::builder(issuer.verifier().expect("verifier"))
        .resolver(find_user)
        .revocation(RevocationList::new(&Hub::new(), Arc::new(MemoryStore::new())))
        .build()
        .expect("guard");
    let service = ServiceBuilder::new()
        .layer(guard)
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

    let moved = |name: &str| moved(&before, name);
    assert_eq!(moved("passport_auth_decisions_total{outcome=allowed,reason=none}"), 3, "the guard let 3 in");
    assert_eq!(moved("passport_auth_decisions_total{outcome=rejected,reason=MissingToken}"), 1);
    assert_eq!(moved("passport_auth_decisions_total{outcome=rejected,reason=MissingScope}"), 1);
    assert_eq!(moved("passport_verified_token_cache_total{result=miss}"), 2, "two distinct tokens");
    assert_eq!(moved("passport_verified_token_cache_total{result=hit}"), 1);
    // Each of the 3 verified tokens asks the revocation list: two jtis, one asked twice.
    assert_eq!(moved("passport_revocation_cache_total{result=miss}"), 2);
    assert_eq!(moved("passport_revocation_cache_total{result=hit}"), 1);
    // One client and one user behind the 3: looked up once each, then cached.
    assert_eq!(moved("passport_principal_cache_total{kind=client,result=miss}"), 1);
    assert_eq!(moved("passport_principal_cache_total{kind=client,result=hit}"), 2);
    assert_eq!(moved("passport_principal_cache_total{kind=user,result=miss}"), 1);
    assert_eq!(moved("passport_principal_cache_total{kind=user,result=hit}"), 2);
    let cold = collected.histograms.lock().expect("lock").get("passport_verify_cold_seconds{}").cloned();
    let cold = cold.expect("a cold-verify histogram");
    let samples = cold.0.lock().expect("lock")[cold_before..].to_vec();
    assert_eq!(samples.len(), 2);
    assert!(samples.iter().all(|s| *s > 0.0 && *s < 1.0), "{samples:?}");
    // No label carries a token, a user or a client id.
    for name in collected.counters.lock().expect("lock").keys() {
        assert!(!name.contains("test-client") && !name.contains("sub"), "{name}");
    }
}

#[tokio::test]
async fn token_requests_are_counted_by_grant_type_and_outcome() {
    use tower_passport_issuer::store::GrantType;
    use tower_passport_issuer::{ClientRegistration, Issuer};
    collected();
    let _serial = serial().await;
    let before = counts();
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
        let routes = tower_passport_issuer::endpoint::OAuthServer::new(issuer.clone()).build();
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
    assert_eq!(
        moved(&before, "passport_token_requests_total{grant_type=client_credentials,outcome=issued}"),
        1
    );
    assert_eq!(
        moved(&before, "passport_token_requests_total{grant_type=other,outcome=unsupported_grant_type}"),
        1
    );
}

#[tokio::test]
async fn refresh_token_reuse_is_counted() {
    use tower_passport_issuer::store::GrantType;
    use tower_passport_issuer::{ClientRegistration, Issuer, StaticUsers};
    collected();
    let _serial = serial().await;
    let before = counts();
    let users = StaticUsers::new(1_000).user("taylor@example.com", "password123", "1").expect("user");
    let issuer = Issuer::builder("https://auth.metrics.test", Arc::new(MemoryStore::new()))
        .audience("api")
        .enable_password_grant(users)
        .refresh_race_window(Duration::ZERO)
        .build()
        .expect("issuer");
    let registered = issuer
        .register_client(
            ClientRegistration::confidential("App")
                .grants([GrantType::Password, GrantType::RefreshToken])
                .first_party(true),
        )
        .await
        .expect("client");
    let secret = registered.secret.as_ref().map(|secret| secret.expose());
    let client = issuer.authenticate_client(&registered.client.id, secret).await.expect("client");
    let tokens = issuer
        .grant(TokenRequest::password(client.clone(), "taylor@example.com", "password123"))
        .await
        .expect("tokens");
    let refresh = tokens.refresh_token.expect("a refresh token");
    issuer.grant(TokenRequest::refresh_token(client.clone(), &refresh)).await.expect("rotated");
    assert_eq!(moved(&before, "passport_refresh_reuse_detected_total{}"), 0, "a rotation is not reuse");
    assert!(
        issuer.grant(TokenRequest::refresh_token(client.clone(), &refresh)).await.is_err(),
        "reuse is refused"
    );
    assert_eq!(moved(&before, "passport_refresh_reuse_detected_total{}"), 1);
}

const JWKS: &str = "/jwks";

/// A guard over `keys` in front of an empty handler, answering the status.
async fn status_through_guard(keys: &RemoteKeySet, token: &str) -> StatusCode {
    let verifier = Verifier::builder(keys.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .no_cache()
        .build()
        .expect("verifier");
    let service = ServiceBuilder::new()
        .layer(GuardLayer::new(verifier))
        .service_fn(|_: Request<String>| async { Ok::<_, Infallible>(Response::new(String::new())) });
    let request = Request::builder()
        .header("authorization", format!("Bearer {token}"))
        .body(String::new())
        .expect("request");
    service.oneshot(request).await.expect("infallible").status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_set_fetches_and_unknown_kids_are_counted() {
    collected();
    let _serial = serial().await;
    let before = counts();
    let (old, new) = (
        TestKey::generate_with_kid(Algorithm::ES256, "old"),
        TestKey::generate_with_kid(Algorithm::ES256, "new"),
    );
    let stranger = TestKey::generate_with_kid(Algorithm::ES256, "stranger");
    let server = JwksServer::start().await;
    server.serve(JWKS, Reply::json(&jwks(&[&old.jwk])).etag("\"v1\""));
    // No background fetch of its own during the test: only the ones below.
    let keys = RemoteKeySet::builder(server.url(JWKS))
        .refresh(Duration::from_secs(3600), Duration::from_secs(3600), Duration::from_secs(3600))
        .retry_backoff(Duration::from_secs(3600), Duration::from_secs(3600))
        .build()
        .expect("remote set");
    keys.warm_up().await.expect("fetched");
    keys.warm_up().await.expect("revalidated");
    server.serve(JWKS, Reply::status(500));
    assert!(keys.warm_up().await.is_err(), "the server failed");
    let moved = |name: &str| moved(&before, name);
    assert_eq!(moved("passport_jwks_fetches_total{result=ok}"), 1);
    assert_eq!(moved("passport_jwks_fetches_total{result=not_modified}"), 1);
    assert_eq!(moved("passport_jwks_fetches_total{result=failed}"), 1);

    // A new key: the request that brings its kid triggers the refetch and waits for it.
    server.serve(JWKS, Reply::json(&jwks(&[&old.jwk, &new.jwk])));
    assert_eq!(status_through_guard(&keys, &new.sign(&user_claims("7", "read"))).await, StatusCode::OK);
    assert_eq!(moved("passport_jwks_fetches_total{result=ok}"), 2);
    assert_eq!(moved("passport_jwks_unknown_kid_total{action=refetch}"), 1);
    assert_eq!(moved("passport_jwks_unknown_kid_total{action=joined}"), 1, "it waited for its refetch");
    // Another unknown kid at once: refused during the cooldown, no fetch.
    let refused = status_through_guard(&keys, &stranger.sign(&user_claims("7", "read"))).await;
    assert_eq!(refused, StatusCode::UNAUTHORIZED);
    assert_eq!(moved("passport_jwks_unknown_kid_total{action=cooldown}"), 1);
    assert_eq!(moved("passport_jwks_fetches_total{result=ok}"), 2);
}

/// Waits (generously) until `done`.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn unique(prefix: &str) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{prefix}_{}_{nanos}", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bus_that_lost_its_connection_counts_the_reconnect() {
    let (Ok(postgres), Ok(redis_url)) = (std::env::var("TEST_POSTGRES_URL"), std::env::var("TEST_REDIS_URL"))
    else {
        eprintln!("skipping: TEST_POSTGRES_URL and TEST_REDIS_URL must both be set");
        return;
    };
    collected();
    let _serial = serial().await;
    let before = counts();

    // PostgreSQL: the listener's connection, named so that only it is terminated.
    let name = unique("tp-metrics-bus");
    let options: sqlx::postgres::PgConnectOptions = postgres.parse().expect("url");
    let pool = sqlx::postgres::PgPoolOptions::new().connect_lazy_with(options.application_name(&name));
    let bus = PgRevocationBus::new(pool, &unique("metrics_bus")).expect("bus").start(&Hub::new());
    until("the PostgreSQL bus connects", || bus.is_connected()).await;
    let admin = sqlx::PgPool::connect(&postgres).await.expect("admin");
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&name)
    .fetch_all(&admin)
    .await
    .expect("terminate");
    admin.close().await;
    assert!(!killed.is_empty(), "the listener's connection was found");
    until("the PostgreSQL reconnect is counted", || {
        moved(&before, "passport_bus_reconnects_total{bus=postgres}") >= 1
    })
    .await;
    until("the PostgreSQL bus is back", || bus.is_connected()).await;

    // Redis: the subscriber's connection, told apart by appearing with this bus.
    let client = redis::Client::open(redis_url.as_str()).expect("client");
    let mut admin = client.get_multiplexed_async_connection().await.expect("admin");
    let subscribers = |list: String| -> Vec<String> {
        list.lines()
            .filter_map(|line| line.split(' ').find_map(|field| field.strip_prefix("id=")).map(str::to_owned))
            .collect()
    };
    let list = || redis::cmd("CLIENT").arg("LIST").arg("TYPE").arg("pubsub").to_owned();
    let earlier = subscribers(list().query_async(&mut admin).await.expect("CLIENT LIST"));
    let bus = RedisRevocationBus::connect(&redis_url, &unique("metrics:bus"))
        .await
        .expect("bus")
        .start(&Hub::new());
    until("the Redis bus connects", || bus.is_connected()).await;
    let ours: Vec<String> = subscribers(list().query_async(&mut admin).await.expect("CLIENT LIST"))
        .into_iter()
        .filter(|id| !earlier.contains(id))
        .collect();
    assert!(!ours.is_empty(), "the subscriber's connection was found");
    for id in &ours {
        let _: redis::Value =
            redis::cmd("CLIENT").arg("KILL").arg("ID").arg(id).query_async(&mut admin).await.expect("kill");
    }
    until("the Redis reconnect is counted", || {
        moved(&before, "passport_bus_reconnects_total{bus=redis}") >= 1
    })
    .await;
    until("the Redis bus is back", || bus.is_connected()).await;
}
