//! Two issuer + guard nodes in one process sharing PostgreSQL (`TEST_POSTGRES_URL`), with
//! the LISTEN/NOTIFY revocation bus: tokens cross nodes, revocations reach the other
//! node, refresh races have one winner across nodes, and reuse kills the family
//! everywhere. Skipped, saying why, without the server.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use sqlx::postgres::PgConnectOptions;
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::bus::{BusHandle, LocalCaches, PgRevocationBus, RedisRevocationBus};
use tower_passport::issuer::{
    ClientRegistration, Issuer, RevocationList, ScopeRegistry, SigningKey, StaticUsers,
};
use tower_passport::store::{ClientRecord, GrantType, PostgresStore};
use tower_passport::{Algorithm, GuardLayer, TokenOnly};

struct Node {
    issuer: Issuer<PostgresStore>,
    guard: GuardLayer<
        tower_passport::issuer::RegistryResolver<TokenOnly, PostgresStore>,
        RevocationList<PostgresStore>,
    >,
    bus: Option<BusHandle>,
}

impl Node {
    async fn status(&self, token: &str) -> StatusCode {
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
enum Bus {
    None,
    Postgres,
    Redis,
}

/// A fresh schema and two nodes on it, with the LISTEN/NOTIFY bus or none.
async fn two_nodes(with_bus: bool, negative_ttl: Duration) -> Option<(Node, Node, ClientRecord)> {
    two_nodes_on(if with_bus { Bus::Postgres } else { Bus::None }, negative_ttl).await
}

/// A fresh schema and two nodes on it. `negative_ttl` bounds staleness without a bus.
async fn two_nodes_on(bus_kind: Bus, negative_ttl: Duration) -> Option<(Node, Node, ClientRecord)> {
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
    let key_a = SigningKey::load_or_generate(&*store_a, "signing_key", Algorithm::ES256).await.expect("key");
    let key_b = SigningKey::load_or_generate(&*store_b, "signing_key", Algorithm::ES256).await.expect("key");
    assert_eq!(key_a.kid(), key_b.kid(), "both nodes sign with the shared key");
    let mut nodes = Vec::new();
    for (store, key) in [(store_a, key_a), (store_b, key_b)] {
        let issuer = Issuer::builder("https://auth.multinode.test", store.clone())
            .audience("api")
            .signing_key(key)
            .scopes(ScopeRegistry::new().scope("read", "Read"))
            .enable_password_grant(
                StaticUsers::new(1_000).user("ann", "password-for-ann", "7").expect("user"),
            )
            .revocation_cache_ttl(negative_ttl)
            .build()
            .expect("issuer");
        let guard = GuardLayer::builder(issuer.verifier())
            .resolver(issuer.resolver(TokenOnly))
            .revocation(issuer.revocation_list())
            .build()
            .expect("guard");
        let caches = LocalCaches::new().with(issuer.revocation_list()).with(guard.clone());
        let bus = match (bus_kind, &redis_url) {
            (Bus::None, _) | (Bus::Redis, None) => None,
            (Bus::Postgres, _) => Some(
                PgRevocationBus::new(store.pool().clone(), &format!("{schema}_bus"))
                    .expect("bus")
                    .start(Some(&issuer), caches),
            ),
            (Bus::Redis, Some(url)) => Some(
                RedisRevocationBus::connect(url, &format!("{schema}:bus"))
                    .await
                    .expect("redis bus")
                    .start(Some(&issuer), caches),
            ),
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
    Some((node_a, node_b, registered.client))
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
async fn time_until_refused(node: &Node, token: &str, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if node.status(token).await == StatusCode::UNAUTHORIZED {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_issued_by_one_node_is_accepted_by_the_other() {
    let Some((a, b, client)) = two_nodes(true, Duration::from_secs(5)).await else { return };
    let token = a.issuer.client_credentials_grant(&client, Some("read")).await.expect("token").access_token;
    assert_eq!(b.status(&token).await, StatusCode::OK);
    assert_eq!(a.status(&token).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_node_is_rejected_on_the_other_through_the_bus() {
    // A long negative TTL: without the bus, node B would keep saying "not revoked".
    let Some((a, b, client)) = two_nodes(true, Duration::from_secs(300)).await else { return };
    let token = a.issuer.client_credentials_grant(&client, Some("read")).await.expect("token").access_token;
    assert_eq!(b.status(&token).await, StatusCode::OK, "B has now cached \"not revoked\"");
    a.issuer.revoke(&client, &token, None).await.expect("revoke");
    assert_eq!(a.status(&token).await, StatusCode::UNAUTHORIZED, "immediately on the revoking node");
    let delay = time_until_refused(&b, &token, Duration::from_secs(10)).await.expect("B refuses the token");
    eprintln!("revocation propagated to node B in {delay:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_bus_the_other_node_catches_up_within_the_staleness_bound() {
    let Some((a, b, client)) = two_nodes(false, Duration::from_secs(1)).await else { return };
    let token = a.issuer.client_credentials_grant(&client, Some("read")).await.expect("token").access_token;
    assert_eq!(b.status(&token).await, StatusCode::OK);
    a.issuer.revoke(&client, &token, None).await.expect("revoke");
    let delay = time_until_refused(&b, &token, Duration::from_secs(10)).await.expect("B refuses the token");
    assert!(delay <= Duration::from_millis(1_500), "bounded by the 1 s negative TTL (took {delay:?})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_across_nodes_have_exactly_one_winner() {
    let Some((a, b, client)) = two_nodes(true, Duration::from_secs(5)).await else { return };
    let tokens =
        a.issuer.password_grant(&client, "ann", "password-for-ann", Some("read")).await.expect("tokens");
    let refresh = tokens.refresh_token.expect("refresh token");
    let mut tasks = Vec::new();
    for attempt in 0..40 {
        let issuer = if attempt % 2 == 0 { a.issuer.clone() } else { b.issuer.clone() };
        let (client, refresh) = (client.clone(), refresh.clone());
        tasks.push(tokio::spawn(async move { issuer.refresh_token_grant(&client, &refresh, None).await }));
    }
    let mut winners = 0;
    for task in tasks {
        if task.await.expect("task").is_ok() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reuse_detected_on_one_node_kills_the_family_on_the_other() {
    let Some((a, b, client)) = two_nodes(true, Duration::from_secs(300)).await else { return };
    let first =
        a.issuer.password_grant(&client, "ann", "password-for-ann", Some("read")).await.expect("tokens");
    let old_refresh = first.refresh_token.expect("refresh");
    let second = b.issuer.refresh_token_grant(&client, &old_refresh, None).await.expect("rotated on B");
    assert_eq!(b.status(&second.access_token).await, StatusCode::OK);
    assert_eq!(a.status(&second.access_token).await, StatusCode::OK, "A caches \"not revoked\" too");
    let reuse = a.issuer.refresh_token_grant(&client, &old_refresh, None).await;
    assert!(reuse.is_err(), "reuse is refused");
    time_until_refused(&b, &second.access_token, Duration::from_secs(10))
        .await
        .expect("the family died on B");
    let newest = second.refresh_token.expect("refresh");
    assert!(b.issuer.refresh_token_grant(&client, &newest, None).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_client_is_refused_on_the_other_node_through_the_bus() {
    let Some((a, b, client)) = two_nodes(true, Duration::from_secs(300)).await else { return };
    let token = a.issuer.client_credentials_grant(&client, Some("read")).await.expect("token").access_token;
    assert_eq!(b.status(&token).await, StatusCode::OK, "B caches the client as active");
    a.issuer.revoke_client(&client.id).await.expect("revoke client");
    time_until_refused(&b, &token, Duration::from_secs(10)).await.expect("B refuses the revoked client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_crosses_nodes_over_the_redis_bus() {
    let Some((a, b, client)) = two_nodes_on(Bus::Redis, Duration::from_secs(300)).await else { return };
    let token = a.issuer.client_credentials_grant(&client, Some("read")).await.expect("token").access_token;
    assert_eq!(b.status(&token).await, StatusCode::OK);
    a.issuer.revoke(&client, &token, None).await.expect("revoke");
    let delay = time_until_refused(&b, &token, Duration::from_secs(10)).await.expect("B refuses the token");
    eprintln!("revocation propagated to node B over Redis in {delay:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_redis_subscriber_reconnects_and_loses_no_revocation() {
    let Some((a, b, client)) = two_nodes_on(Bus::Redis, Duration::from_secs(300)).await else { return };
    let url = std::env::var("TEST_REDIS_URL").expect("url");
    let token = a.issuer.client_credentials_grant(&client, Some("read")).await.expect("token").access_token;
    assert_eq!(b.status(&token).await, StatusCode::OK, "B caches \"not revoked\" for 300 s");
    // Kill every pub/sub connection: B's subscriber drops and messages are lost meanwhile.
    let admin = redis::Client::open(url.as_str()).expect("client");
    let mut admin = admin.get_multiplexed_async_connection().await.expect("admin");
    let _: i64 = redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("pubsub").query_async(&mut admin).await.expect("kill");
    a.issuer.revoke(&client, &token, None).await.expect("revoke");
    // On reconnect B drops everything it cached and re-reads the store.
    let delay = time_until_refused(&b, &token, Duration::from_secs(15)).await.expect("no revocation was lost");
    eprintln!("after the kill, node B refused the revoked token within {delay:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !b.bus.as_ref().expect("bus").is_connected() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(b.bus.as_ref().expect("bus").is_connected(), "the subscriber reconnected");
}
