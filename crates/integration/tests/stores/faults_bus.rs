//! Each revocation bus (Redis pub/sub, PostgreSQL `LISTEN/NOTIFY`) down and stalled
//! between two nodes (sharing a PostgreSQL store in a `storefaults…` schema): one node's
//! connection to the bus's server goes through the fault proxy. The bus is off the request
//! path, so its faults never turn into 503s; what they must not do is lose an acknowledged
//! revocation: once the bus is back, the other node refuses the token, long before its
//! 300 s cache bound.
//!
//! Skipped, saying so, without `TEST_POSTGRES_URL` (and `TEST_REDIS_URL` for Redis).

use crate::nodes::{self, nodes_sharing, time_until_refused, NodeBus};
use crate::proxy::Proxy;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tower_passport::revocation::BusHandle;
use tower_passport_issuer::AuthenticatedClient;
use tower_passport_redis::RedisRevocationBus;
use tower_passport_sql::{PgRevocationBus, PostgresStore};

/// How long a revocation may take to reach the other node once the bus is back.
const CATCH_UP: Duration = Duration::from_secs(15);

/// What carries the revocations between the nodes.
#[derive(Clone, Copy, PartialEq)]
enum Carrier {
    Redis,
    Postgres,
}

/// Which node reaches the bus's server through the proxy.
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

/// Nodes A (revokes) and B (listens), caching "not revoked" for 300 s, on a `carrier` bus
/// of their own channel; `behind` reaches the bus's server through the proxy.
async fn pair(carrier: Carrier, behind: Behind) -> Option<Pair> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let Ok(pg_url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return None;
    };
    let redis_url = std::env::var("TEST_REDIS_URL").ok();
    if carrier == Carrier::Redis && redis_url.is_none() {
        eprintln!("skipping: TEST_REDIS_URL is not set");
        return None;
    }
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
    let (proxy, bus_a, bus_b) = match (carrier, redis_url) {
        (Carrier::Redis, Some(url)) => redis_buses(&url, &schema, behind, [&a, &b]).await,
        _ => postgres_buses(&pg_url, &schema, behind, [&a, &b]).await,
    };
    for bus in [&bus_a, &bus_b] {
        until(|| bus.is_connected(), "the bus connects").await;
    }
    Some(Pair { a, b, client, proxy, buses: [bus_a, bus_b], admin, schema })
}

/// The Redis buses of A and B; `behind`'s goes through the returned proxy.
async fn redis_buses(
    url: &str,
    schema: &str,
    behind: Behind,
    [a, b]: [&nodes::Node; 2],
) -> (Proxy, BusHandle, BusHandle) {
    let info = redis::Client::open(url).expect("TEST_REDIS_URL parses");
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
        Behind::Revoker => (through.as_str(), url),
        Behind::Listener => (url, through.as_str()),
    };
    let bus_a = RedisRevocationBus::connect(url_a, &channel).await.expect("bus A").start(a.issuer.hub());
    let bus_b = RedisRevocationBus::connect(url_b, &channel).await.expect("bus B").start(b.issuer.hub());
    (proxy, bus_a, bus_b)
}

/// The PostgreSQL `LISTEN/NOTIFY` buses of A and B, each on a pool of its own (as a node
/// has); `behind`'s pool reaches the server through the returned proxy.
async fn postgres_buses(
    pg_url: &str,
    schema: &str,
    behind: Behind,
    [a, b]: [&nodes::Node; 2],
) -> (Proxy, BusHandle, BusHandle) {
    let direct: PgConnectOptions = pg_url.parse().expect("TEST_POSTGRES_URL parses");
    let target = tokio::net::lookup_host((direct.get_host(), direct.get_port()))
        .await
        .expect("resolve")
        .next()
        .expect("address");
    let proxy = Proxy::start(target).await;
    let through = direct.clone().host("127.0.0.1").port(proxy.addr.port());
    // Short acquire timeouts, so that a publish into a cut pool fails and is retried
    // rather than waiting out sqlx's default 30 s.
    let pool = |options: PgConnectOptions| {
        PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(2))
            .connect_lazy_with(options)
    };
    let (pool_a, pool_b) = match behind {
        Behind::Revoker => (pool(through), pool(direct)),
        Behind::Listener => (pool(direct), pool(through)),
    };
    let channel = format!("{schema}_bus");
    let bus_a = PgRevocationBus::new(pool_a, &channel).expect("bus A").start(a.issuer.hub());
    let bus_b = PgRevocationBus::new(pool_b, &channel).expect("bus B").start(b.issuer.hub());
    (proxy, bus_a, bus_b)
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
/// A cut closes B's subscription, which B notices; a stall holds it open, silent, until
/// B's heartbeat goes unanswered.
async fn revoked_during(carrier: Carrier, behind: Behind, fault: impl Fn(&Proxy), closes: bool) {
    let Some(pair) = pair(carrier, behind).await else { return };
    let token = pair.a.read_token(&pair.client).await;
    assert_eq!(pair.b.status(&token).await, StatusCode::OK, "B caches \"not revoked\" for 300 s");

    fault(&pair.proxy);
    if behind == Behind::Listener {
        // A cut closes B's subscription; a stall leaves it open and silent, which B's
        // heartbeat finds out (within 10 s).
        let what = if closes { "B sees its bus drop" } else { "B's heartbeat finds its bus stalled" };
        until(|| !pair.buses[1].is_connected(), what).await;
    }
    pair.a.issuer.revoke(&pair.client, &token, None).await.expect("acknowledged: the store has it");
    assert_eq!(pair.a.status(&token).await, StatusCode::UNAUTHORIZED, "at once on the revoking node");
    if behind == Behind::Listener {
        // B knows its bus is down: it dropped its cached answers and asks the store.
        assert_eq!(
            pair.b.status(&token).await,
            StatusCode::UNAUTHORIZED,
            "B refuses it before the bus is back"
        );
    } else {
        // The bus is not on the request path: B still answers meanwhile, no 503.
        assert_ne!(pair.b.status(&token).await, StatusCode::SERVICE_UNAVAILABLE);
    }

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

/// One test per carrier, fault and side of the proxy.
macro_rules! bus_faults {
    ($($name:ident: $carrier:ident, $behind:ident, $fault:ident, $closes:literal;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            revoked_during(Carrier::$carrier, Behind::$behind, Proxy::$fault, $closes).await;
        }
    )*};
}

bus_faults! {
    a_listener_cut_off_from_the_bus_catches_up_on_reconnect: Redis, Listener, cut, true;
    a_listener_whose_bus_stalls_finds_out_by_heartbeat_and_asks_the_store: Redis, Listener, stall, false;
    a_revocation_published_while_the_revokers_bus_is_down_reaches_the_other_node: Redis, Revoker, cut, true;
    a_revocation_published_while_the_revokers_bus_stalls_reaches_the_other_node: Redis, Revoker, stall, false;
    a_listener_cut_off_from_postgres_notify_catches_up_on_reconnect: Postgres, Listener, cut, true;
    a_listener_whose_postgres_notify_stalls_finds_out_by_heartbeat_and_asks_the_store: Postgres, Listener, stall, false;
    a_revocation_notified_while_the_revokers_postgres_is_down_reaches_the_other_node: Postgres, Revoker, cut, true;
    a_revocation_notified_while_the_revokers_postgres_stalls_reaches_the_other_node: Postgres, Revoker, stall, false;
}
