//! The Redis revocation bus down and stalled between two nodes (sharing a PostgreSQL
//! store in a `storefaults…` schema): one node's connection to Redis goes through the fault proxy. The bus is off the
//! request path, so its faults never turn into 503s; what they must not do is lose an
//! acknowledged revocation: once the bus is back, the other node refuses the token, long
//! before its 300 s cache bound.
//!
//! Skipped, saying so, without `TEST_POSTGRES_URL` and `TEST_REDIS_URL`.

use crate::nodes::{self, nodes_sharing, time_until_refused, NodeBus};
use crate::proxy::Proxy;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use sqlx::postgres::PgConnectOptions;
use tower_passport::revocation::BusHandle;
use tower_passport_issuer::AuthenticatedClient;
use tower_passport_redis::RedisRevocationBus;
use tower_passport_sql::PostgresStore;

/// How long a revocation may take to reach the other node once the bus is back.
const CATCH_UP: Duration = Duration::from_secs(15);

/// Which node reaches Redis through the proxy.
#[derive(Clone, Copy, PartialEq)]
enum Behind {
    /// The node that revokes (its publisher).
    Revoker,
    /// The node that must hear of it (its subscriber).
    Listener,
}

struct Pair {
    a: nodes::Node,
    b: nodes::Node,
    client: AuthenticatedClient,
    proxy: Proxy,
    buses: [BusHandle; 2],
    admin: sqlx::PgPool,
    schema: String,
}

/// Nodes A (revokes) and B (listens), caching "not revoked" for 300 s, on a Redis bus of
/// their own channel; `behind` reaches Redis through the proxy.
async fn pair(behind: Behind) -> Option<Pair> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (Ok(url), Ok(pg_url)) = (std::env::var("TEST_REDIS_URL"), std::env::var("TEST_POSTGRES_URL")) else {
        eprintln!("skipping: TEST_REDIS_URL or TEST_POSTGRES_URL is not set");
        return None;
    };
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let schema = format!("storefaults_{}_bus_{n}", std::process::id());
    let admin = sqlx::PgPool::connect(&pg_url).await.expect("admin connection");
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\"")).execute(&admin).await.expect("schema");
    let open = || {
        let options: PgConnectOptions = pg_url.parse().expect("TEST_POSTGRES_URL parses");
        Arc::new(
            PostgresStore::connect_with_options(
                options.options([("search_path", schema.as_str())]),
                "passport_",
            )
            .expect("store"),
        )
    };
    let (store_a, store_b) = (open(), open());
    store_a.migrate().await.expect("migrate");
    let (a, b, client) =
        nodes_sharing(store_a, store_b, NodeBus::None, Duration::from_secs(300), Some(Duration::ZERO)).await;
    let info = redis::Client::open(url.as_str()).expect("TEST_REDIS_URL parses");
    let redis::ConnectionAddr::Tcp(host, port) = info.get_connection_info().addr().clone() else {
        panic!("TEST_REDIS_URL is not a plain TCP address");
    };
    let target =
        tokio::net::lookup_host((host.as_str(), port)).await.expect("resolve").next().expect("address");
    let proxy = Proxy::start(target).await;
    let db = info.get_connection_info().redis_settings().db();
    let through = format!("redis://127.0.0.1:{}/{db}", proxy.addr.port());
    let channel = format!("{schema}:bus");
    let (url_a, url_b) = match behind {
        Behind::Revoker => (through.as_str(), url.as_str()),
        Behind::Listener => (url.as_str(), through.as_str()),
    };
    let bus_a = RedisRevocationBus::connect(url_a, &channel).await.expect("bus A").start(a.issuer.hub());
    let bus_b = RedisRevocationBus::connect(url_b, &channel).await.expect("bus B").start(b.issuer.hub());
    for bus in [&bus_a, &bus_b] {
        until(|| bus.is_connected(), "the bus connects").await;
    }
    Some(Pair { a, b, client, proxy, buses: [bus_a, bus_b], admin, schema })
}

async fn until(condition: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + CATCH_UP;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}: not within {CATCH_UP:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// B has cached "not revoked"; A revokes (acknowledged) while the bus is faulty; then B
/// refuses the token once the bus is back.
/// A cut closes B's subscription, which B notices; a stall holds it open, silent.
async fn revoked_during(behind: Behind, fault: impl Fn(&Proxy), closes: bool) {
    let Some(pair) = pair(behind).await else { return };
    let token = pair.a.read_token(&pair.client).await;
    assert_eq!(pair.b.status(&token).await, StatusCode::OK, "B caches \"not revoked\" for 300 s");

    fault(&pair.proxy);
    if behind == Behind::Listener && closes {
        until(|| !pair.buses[1].is_connected(), "B sees its bus drop").await;
    }
    pair.a.issuer.revoke(&pair.client, &token, None).await.expect("acknowledged: the store has it");
    assert_eq!(pair.a.status(&token).await, StatusCode::UNAUTHORIZED, "at once on the revoking node");
    // The bus is not on the request path: B still answers meanwhile, no 503.
    assert_ne!(pair.b.status(&token).await, StatusCode::SERVICE_UNAVAILABLE);

    pair.proxy.restore();
    let delay =
        time_until_refused(&pair.b, &token, CATCH_UP).await.expect("no acknowledged revocation was lost");
    eprintln!("B refused the token {delay:?} after the bus came back");
    for bus in &pair.buses {
        until(|| bus.is_connected(), "the bus reconnects").await;
    }
    // And the bus carries revocations again.
    let next = pair.a.read_token(&pair.client).await;
    assert_eq!(pair.b.status(&next).await, StatusCode::OK);
    pair.a.issuer.revoke(&pair.client, &next, None).await.expect("revoked");
    time_until_refused(&pair.b, &next, CATCH_UP).await.expect("the bus works again");
    // The nodes' connections go first (one holding a lock would make the DROP wait), and the
    // DROP is bounded: a schema left behind is a smaller harm than a test that never ends.
    let Pair { a, b, buses, admin, schema, .. } = pair;
    drop((buses, a, b));
    let statement = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    let dropping = sqlx::query(&statement).execute(&admin);
    if tokio::time::timeout(CATCH_UP, dropping).await.is_err() {
        eprintln!("could not drop {schema}; left behind");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_cut_off_from_the_bus_catches_up_on_reconnect() {
    revoked_during(Behind::Listener, Proxy::cut, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_whose_bus_stalls_gets_the_held_revocation_when_it_flows_again() {
    revoked_during(Behind::Listener, Proxy::stall, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_published_while_the_revokers_bus_is_down_reaches_the_other_node() {
    revoked_during(Behind::Revoker, Proxy::cut, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_published_while_the_revokers_bus_stalls_reaches_the_other_node() {
    revoked_during(Behind::Revoker, Proxy::stall, false).await;
}
