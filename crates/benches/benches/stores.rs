//! Store benches, side by side in one run:
//! - `refresh_rotation`: one refresh-token rotation (the atomic store call plus minting)
//!   per iteration, per backend: memory, SQLite, and PostgreSQL / Redis when
//!   `TEST_POSTGRES_URL` / `TEST_REDIS_URL` are set;
//! - `guard_hot_path`: a warm request through the guard with the issuer's revocation list,
//!   without and with the PostgreSQL revocation bus running (the bus is off the request
//!   path, so the ratio should be about 1.0), and with the Redis bus.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use http_body_util::Full;
use tower::{Service, ServiceBuilder};
use tower_passport::GuardLayer;
use tower_passport_cli::AnyStore;
use tower_passport_issuer::store::{GrantType, Store};
use tower_passport_issuer::{
    AuthenticatedClient, ClientRegistration, Issuer, ScopeRegistry, StaticUsers, TokenRequest,
};
use tower_passport_redis::RedisRevocationBus;
use tower_passport_redis::RedisStore;
use tower_passport_sql::PgRevocationBus;
use tower_passport_sql::PostgresStore;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

async fn issuer_on<S: Store>(store: Arc<S>) -> (Issuer, AuthenticatedClient) {
    let issuer = Issuer::builder("https://bench.test", store)
        .audience("api")
        .scopes(ScopeRegistry::new().scope("read", "Read"))
        .enable_password_grant(StaticUsers::new(1_000).user("ann", "password", "1").expect("user"))
        // Long enough that the warm path never expires during a measurement.
        .revocation_cache_ttl(Duration::from_secs(600))
        .build()
        .expect("issuer");
    let client = issuer
        .register_client(ClientRegistration::confidential("bench").grants([
            GrantType::Password,
            GrantType::RefreshToken,
            GrantType::ClientCredentials,
        ]))
        .await
        .expect("client");
    let secret = client.secret.as_ref().map(|s| s.expose());
    let client = issuer.authenticate_client(&client.client.id, secret).await.expect("authenticated");
    (issuer, client)
}

fn bench_rotation<S: Store>(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, store: S) {
    let (issuer, client) = rt.block_on(issuer_on(Arc::new(store)));
    let mut refresh = rt
        .block_on(issuer.grant(TokenRequest::password(client.clone(), "ann", "password").scope("read")))
        .expect("tokens")
        .refresh_token
        .expect("refresh");
    let mut group = c.benchmark_group("refresh_rotation");
    group.bench_function(name, |b| {
        b.iter_custom(|iterations| {
            let started = Instant::now();
            for _ in 0..iterations {
                let next = rt
                    .block_on(issuer.grant(TokenRequest::refresh_token(client.clone(), &refresh)))
                    .expect("rotation");
                refresh = next.refresh_token.expect("refresh");
            }
            started.elapsed()
        })
    });
    group.finish();
}

fn rotation(c: &mut Criterion) {
    let rt = runtime();
    bench_rotation(c, &rt, "memory", rt.block_on(AnyStore::open("memory")).expect("memory"));
    let path = std::env::temp_dir().join(format!("tower-passport-bench-{}.db", std::process::id()));
    let sqlite = rt.block_on(AnyStore::open(&format!("sqlite://{}", path.display()))).expect("sqlite");
    bench_rotation(c, &rt, "sqlite", sqlite);
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) => bench_rotation(c, &rt, "postgres", rt.block_on(AnyStore::open(&url)).expect("postgres")),
        Err(_) => eprintln!("skipping postgres: TEST_POSTGRES_URL is not set"),
    }
    match std::env::var("TEST_REDIS_URL") {
        Ok(url) => {
            let prefix = format!("passport-bench-{}:", std::process::id());
            let store = rt.block_on(RedisStore::builder().prefix(prefix).connect(&url)).expect("redis");
            bench_rotation(c, &rt, "redis", store);
        }
        Err(_) => eprintln!("skipping redis: TEST_REDIS_URL is not set"),
    }
    let _ = std::fs::remove_file(&path);
}

fn poll_once<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the warm path completes without waiting"),
    }
}

fn guard_hot_path(c: &mut Criterion) {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping guard_hot_path: TEST_POSTGRES_URL is not set");
        return;
    };
    let rt = runtime();
    let store = Arc::new(rt.block_on(PostgresStore::connect(&url)).expect("postgres"));
    rt.block_on(store.migrate()).expect("migrate");
    let (issuer, client) = rt.block_on(issuer_on(store.clone()));
    let token = rt
        .block_on(issuer.grant(TokenRequest::client_credentials(client.clone()).scope("read")))
        .expect("token")
        .access_token;
    let mut group = c.benchmark_group("guard_hot_path");
    let redis_url = std::env::var("TEST_REDIS_URL").ok();
    for bus_kind in ["without_bus", "with_pg_bus", "with_redis_bus"] {
        let guard = GuardLayer::builder(issuer.verifier())
            .revocation(issuer.revocation_list())
            .build()
            .expect("guard");
        let bus = match (bus_kind, &redis_url) {
            ("with_pg_bus", _) => {
                let _entered = rt.enter();
                Some(
                    PgRevocationBus::new(store.pool().clone(), "passport_bench")
                        .expect("bus")
                        .start(issuer.hub()),
                )
            }
            ("with_redis_bus", Some(url)) => {
                let bus =
                    rt.block_on(RedisRevocationBus::connect(url, "passport-bench:bus")).expect("redis bus");
                let _entered = rt.enter();
                Some(bus.start(issuer.hub()))
            }
            ("with_redis_bus", None) => {
                eprintln!("skipping with_redis_bus: TEST_REDIS_URL is not set");
                continue;
            }
            _ => None,
        };
        if let Some(bus) = &bus {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !bus.is_connected() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let mut service = ServiceBuilder::new().layer(guard).service_fn(|_: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        });
        let request = || {
            Request::builder()
                .header("authorization", format!("Bearer {token}"))
                .body(Full::new(Bytes::new()))
                .expect("request")
        };
        // Warm the verified-token and revocation caches (the first check asks the store).
        let warm = rt.block_on(service.call(request())).expect("warm");
        assert_eq!(warm.status(), 200);
        group.bench_function(bus_kind, |b| {
            b.iter(|| {
                let response = poll_once(service.call(request())).expect("infallible");
                std::hint::black_box(response.status())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, rotation, guard_hot_path);
criterion_main!(benches);
