//! Two issuer + guard nodes sharing PostgreSQL, with a revocation bus (PostgreSQL
//! LISTEN/NOTIFY or Redis pub/sub) or none: used by `tests/multinode.rs` and
//! `benches/revocation_propagation.rs`. [`nodes_sharing`] builds the pair on any shared
//! store (the MySQL tests use it with the Redis bus).
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use sqlx::postgres::PgConnectOptions;
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::revocation::BusHandle;
use tower_passport::{guard::TokenOnly, Algorithm, GuardLayer};
use tower_passport_issuer::store::{GrantType, Store};
use tower_passport_issuer::{
    AuthenticatedClient, ClientRegistration, Issuer, ScopeRegistry, SigningKey, StaticUsers, TokenRequest,
};
use tower_passport_redis::RedisRevocationBus;
use tower_passport_sql::PgRevocationBus;
use tower_passport_sql::PostgresStore;

pub struct Node {
    pub issuer: Issuer,
    pub guard: GuardLayer,
    pub bus: Option<BusHandle>,
}

impl Node {
    /// A client-credentials token of `client` for the `read` scope, issued by this node.
    pub async fn read_token(&self, client: &AuthenticatedClient) -> String {
        let request = TokenRequest::client_credentials(client.clone()).scope("read");
        self.issuer.grant(request).await.expect("token").access_token
    }

    pub async fn status(&self, token: &str) -> StatusCode {
        let service =
            ServiceBuilder::new().layer(self.guard.clone()).service_fn(|_: Request<Full<Bytes>>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
            });
        let request = Request::builder()
            .header("authorization", format!("Bearer {token}"))
            .body(Full::new(Bytes::new()))
            .expect("request");
        service.oneshot(request).await.expect("infallible").status()
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Bus {
    None,
    Postgres,
    Redis,
}

/// A fresh schema and two nodes on it, with the LISTEN/NOTIFY bus or none.
pub async fn two_nodes(with_bus: bool, negative_ttl: Duration) -> Option<(Node, Node, AuthenticatedClient)> {
    two_nodes_on(if with_bus { Bus::Postgres } else { Bus::None }, negative_ttl).await
}

/// A fresh schema and two nodes on it. `negative_ttl` bounds staleness without a bus. Their
/// reuse detection is strict (no race window), so that an immediate reuse is reuse.
pub async fn two_nodes_on(
    bus_kind: Bus,
    negative_ttl: Duration,
) -> Option<(Node, Node, AuthenticatedClient)> {
    two_nodes_with(bus_kind, negative_ttl, Some(Duration::ZERO)).await
}

/// As [`two_nodes_on`], with the issuer's default refresh race window.
pub async fn two_racing_nodes(
    bus_kind: Bus,
    negative_ttl: Duration,
) -> Option<(Node, Node, AuthenticatedClient)> {
    two_nodes_with(bus_kind, negative_ttl, None).await
}

/// Two nodes with `race_window` (the issuer's default when `None`).
async fn two_nodes_with(
    bus_kind: Bus,
    negative_ttl: Duration,
    race_window: Option<Duration>,
) -> Option<(Node, Node, AuthenticatedClient)> {
    let redis_url = std::env::var("TEST_REDIS_URL").ok();
    if bus_kind == Bus::Redis && redis_url.is_none() {
        eprintln!("skipping: TEST_REDIS_URL is not set");
        return None;
    }
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return None;
    };
    let admin = sqlx::PgPool::connect(&url).await.expect("connect");
    drop_stale_schemas(&admin).await;
    let schema = format!("tpmn_{}_{}", std::process::id(), rand_suffix());
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\"")).execute(&admin).await.expect("schema");
    admin.close().await;
    let open = || {
        let options: PgConnectOptions = url.parse().expect("url");
        PostgresStore::connect_with_options(options.options([("search_path", schema.as_str())]), "passport_")
            .expect("store")
    };
    let (store_a, store_b) = (Arc::new(open()), Arc::new(open()));
    store_a.migrate().await.expect("migrate");
    let bus = match (bus_kind, redis_url) {
        (Bus::None, _) | (Bus::Redis, None) => NodeBus::None,
        (Bus::Postgres, _) => NodeBus::Postgres(store_a.pool().clone(), format!("{schema}_bus")),
        (Bus::Redis, Some(url)) => NodeBus::Redis(url, format!("{schema}:bus")),
    };
    Some(nodes_sharing(store_a, store_b, bus, negative_ttl, race_window).await)
}

/// The revocation bus of a pair of nodes, with its channel.
pub enum NodeBus {
    None,
    /// LISTEN/NOTIFY on this pool.
    Postgres(sqlx::PgPool, String),
    /// Redis pub/sub at this URL.
    Redis(String, String),
}

/// Two nodes, one on each handle of a shared (migrated) store, with `bus`, and a
/// confidential client registered on the first. `negative_ttl` bounds staleness without a
/// bus; `race_window` is the issuer's default when `None`.
pub async fn nodes_sharing<S: Store>(
    store_a: Arc<S>,
    store_b: Arc<S>,
    bus: NodeBus,
    negative_ttl: Duration,
    race_window: Option<Duration>,
) -> (Node, Node, AuthenticatedClient) {
    let key_a = SigningKey::load_or_generate(&*store_a, "signing_key", Algorithm::ES256).await.expect("key");
    let key_b = SigningKey::load_or_generate(&*store_b, "signing_key", Algorithm::ES256).await.expect("key");
    assert_eq!(key_a.kid(), key_b.kid(), "both nodes sign with the shared key");
    let mut nodes = Vec::new();
    for (store, key) in [(store_a, key_a), (store_b, key_b)] {
        let mut builder = Issuer::builder("https://auth.multinode.test", store.clone())
            .audience("api")
            .signing_key(key)
            .scopes(ScopeRegistry::new().scope("read", "Read"))
            .enable_password_grant(
                StaticUsers::new(1_000).user("ann", "password-for-ann", "7").expect("user"),
            )
            .revocation_cache_ttl(negative_ttl);
        if let Some(window) = race_window {
            builder = builder.refresh_race_window(window);
        }
        let issuer = builder.build().expect("issuer");
        issuer.share_signing_keys("signing_key").await.expect("shared keys");
        let guard = GuardLayer::builder(issuer.verifier())
            .resolver(issuer.resolver(TokenOnly))
            .revocation(issuer.revocation_list())
            .build()
            .expect("guard");
        let bus = match &bus {
            NodeBus::None => None,
            NodeBus::Postgres(pool, channel) => {
                Some(PgRevocationBus::new(pool.clone(), channel).expect("bus").start(issuer.hub()))
            }
            NodeBus::Redis(url, channel) => {
                Some(RedisRevocationBus::connect(url, channel).await.expect("redis bus").start(issuer.hub()))
            }
        };
        nodes.push(Node { issuer, guard, bus });
    }
    let node_b = nodes.pop().expect("b");
    let node_a = nodes.pop().expect("a");
    let registered = node_a
        .issuer
        .register_client(ClientRegistration::confidential("multinode").grants([
            GrantType::ClientCredentials,
            GrantType::Password,
            GrantType::RefreshToken,
        ]))
        .await
        .expect("client");
    for node in [&node_a, &node_b] {
        if let Some(bus) = &node.bus {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !bus.is_connected() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(bus.is_connected(), "the bus connects");
        }
    }
    let secret = registered.secret.as_ref().map(|s| s.expose());
    let client =
        node_a.issuer.authenticate_client(&registered.client.id, secret).await.expect("authenticated");
    (node_a, node_b, client)
}

/// Drops the schemas earlier runs (other processes) left behind, once per process.
async fn drop_stale_schemas(admin: &sqlx::PgPool) {
    static CLEANED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if CLEANED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let ours = format!("tpmn\\_{}\\_%", std::process::id());
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tpmn\\_%' AND nspname NOT LIKE $1",
    )
    .bind(ours)
    .fetch_all(admin)
    .await
    .unwrap_or_default();
    for schema in stale {
        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).execute(admin).await;
    }
}

fn rand_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
    );
    format!("{:x}", hasher.finish() & 0xffff_ffff)
}

/// Polls `node` until `token` is refused; how long that took.
pub async fn time_until_refused(node: &Node, token: &str, limit: Duration) -> Option<Duration> {
    time_until_refused_every(node, token, limit, Duration::from_millis(2)).await
}

/// As [`time_until_refused`], polling every `interval` (zero: as fast as the runtime allows).
pub async fn time_until_refused_every(
    node: &Node,
    token: &str,
    limit: Duration,
    interval: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if node.status(token).await == StatusCode::UNAUTHORIZED {
            return Some(started.elapsed());
        }
        if interval.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(interval).await;
        }
    }
    None
}
