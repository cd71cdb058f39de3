//! The store conformance suite against a real MySQL or MariaDB (`TEST_MYSQL_URL`, for
//! instance `mysql://root@127.0.0.1:3306/test`), each case in a database of its own;
//! migrations and their lock; byte-for-byte ids; killed connections; two nodes with the
//! Redis bus. Skipped, saying why, without the variable; under CI (`CI=true`) a missing
//! variable fails instead.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool};
use tower_passport_issuer::store::{ClientStore, RevocationStore, RotationOutcome, TokenStore};
use tower_passport_issuer::{AuthenticatedClient, TokenRequest};
use tower_passport_sql::MySqlStore;

use crate::conformance::{self, T0};

/// `TEST_MYSQL_URL`, or `None` after saying why not (a failure under CI).
fn url() -> Option<String> {
    let url = std::env::var("TEST_MYSQL_URL").ok().filter(|url| !url.is_empty());
    if url.is_none() {
        let ci = std::env::var("CI").is_ok_and(|value| value == "true");
        assert!(!ci, "TEST_MYSQL_URL is required under CI (mysql://root@127.0.0.1:3306/test)");
        eprintln!("skipping: TEST_MYSQL_URL is not set");
    }
    url
}

/// A store in a fresh database, or `None` (with the reason printed) without a server.
async fn fresh() -> Option<MySqlStore> {
    let url = url()?;
    let database = database_for_this_case(&url).await;
    let options: MySqlConnectOptions = url.parse().expect("TEST_MYSQL_URL");
    let store = MySqlStore::connect_with_options(options.database(&database), "passport_").expect("store");
    store.migrate().await.expect("migrate");
    Some(store)
}

/// Creates `tpm_<pid>_<n>`, after dropping what earlier test runs (processes that are gone)
/// left behind.
async fn database_for_this_case(url: &str) -> String {
    static CLEANED: AtomicBool = AtomicBool::new(false);
    let admin = MySqlPool::connect(url).await.expect("connect to TEST_MYSQL_URL");
    if !CLEANED.swap(true, Ordering::SeqCst) {
        drop_databases_of_finished_runs(&admin).await;
    }
    let case = conformance::unique("tpm").rsplit('-').next().unwrap_or("0").to_owned();
    let database = format!("tpm_{}_{case}", std::process::id());
    sqlx::query(&format!("CREATE DATABASE `{database}`")).execute(&admin).await.expect("create database");
    admin.close().await;
    database
}

/// Drops the `tpm_<pid>_…` databases of processes that no longer run (another test binary
/// running now keeps its own).
async fn drop_databases_of_finished_runs(admin: &MySqlPool) {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    let databases: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata WHERE schema_name LIKE 'tpm\\_%'",
    )
    .fetch_all(admin)
    .await
    .expect("list databases");
    for database in databases {
        let pid = database.split('_').nth(1).unwrap_or_default();
        if !pid.is_empty() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS `{database}`")).execute(admin).await;
        }
    }
}

/// Drops the database `store` lives in.
async fn drop_database_of(store: &MySqlStore) {
    let database: String = sqlx::query_scalar("SELECT CAST(DATABASE() AS CHAR)")
        .fetch_one(store.pool())
        .await
        .expect("database");
    store.pool().close().await;
    let admin = MySqlPool::connect(&url().expect("url")).await.expect("admin");
    sqlx::query(&format!("DROP DATABASE `{database}`")).execute(&admin).await.expect("drop database");
    admin.close().await;
}

conformance_suite!(mysql, fresh().await);
code_conformance_suite!(mysql_codes, fresh().await);
device_conformance_suite!(mysql_devices, fresh().await);
failure_conformance_suite!(mysql_failures, fresh().await);

/// Two nodes: two pools on one database, each under its own throttle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_throttles_on_one_database_share_their_counts() {
    let Some(node_a) = fresh().await else { return };
    let options = (*node_a.pool().connect_options()).clone();
    let node_b = MySqlStore::connect_with_options(options, "passport_").expect("second node");
    crate::failure_conformance::two_nodes_share_one_count(node_a, node_b).await;
}

#[tokio::test]
async fn a_purge_removes_codes_a_day_past_their_expiry() {
    let Some(store) = fresh().await else { return };
    crate::code_conformance::a_purge_removes_codes_a_day_past_their_expiry(store).await;
}

#[tokio::test]
async fn migrate_is_idempotent() {
    let Some(store) = fresh().await else { return };
    store.migrate().await.expect("second run is a no-op");
    let recorded: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM passport_migrations ORDER BY version")
            .fetch_all(store.pool())
            .await
            .expect("migrations");
    assert!(recorded.len() >= 9 && recorded.iter().all(|(_, success)| *success), "{recorded:?}");
}

/// MySQL cannot roll a failed step back: it stays marked as started, the error says the
/// schema may be half-applied, and the next run reports it (and finds the migration lock
/// free: the failed run released it).
#[tokio::test]
async fn a_failed_migration_is_reported_as_half_applied_and_the_lock_is_released() {
    let Some(store) = fresh().await else { return };
    sqlx::query("CREATE TABLE other_settings (name TEXT)").execute(store.pool()).await.expect("in the way");
    let options = (*store.pool().connect_options()).clone();
    let other = MySqlStore::connect_with_options(options, "other_").expect("store");
    let error = other.migrate().await.expect_err("the table is in the way").to_string();
    assert!(error.contains("migration 1") && error.contains("half-applied"), "{error}");
    let again = tokio::time::timeout(Duration::from_secs(20), other.migrate())
        .await
        .expect("the lock was released")
        .expect_err("still unfinished")
        .to_string();
    assert!(again.contains("migration 1") && again.contains("never finished"), "{again}");
}

/// Ids and hashes compare byte for byte, as on the other engines, whatever the server's
/// collation: a client id that differs in case or by a trailing space is another client.
#[tokio::test]
async fn ids_compare_byte_for_byte() {
    let Some(store) = fresh().await else { return };
    let id = conformance::unique("Client-CASE");
    store.put_client(conformance::client(&id)).await.expect("put");
    assert!(store.client(&id).await.expect("read").is_some());
    assert!(store.client(&id.to_lowercase()).await.expect("read").is_none(), "case counts");
    assert!(store.client(&format!("{id} ")).await.expect("read").is_none(), "a trailing space counts");
    let mut upper = conformance::client(&id.to_uppercase());
    upper.name = "Another client".into();
    store.put_client(upper).await.expect("a different id is a different row");
    assert_eq!(store.client(&id).await.expect("read").expect("kept").name, "Conformance client");
    let jti = conformance::unique("Jti");
    store.put_access_token(conformance::access(&jti, None, T0, 3600)).await.expect("put");
    store
        .put_access_token(conformance::access(&jti.to_lowercase(), None, T0, 3600))
        .await
        .expect("another jti");
}

/// A refresh token presented with its id in another case is unknown, not the token.
#[tokio::test]
async fn a_refresh_token_id_in_another_case_is_invalid() {
    let Some(store) = fresh().await else { return };
    let family = conformance::start(&store).await;
    let mut shouted = conformance::rotation(&family, 0, 1, T0 + 10, None);
    shouted.presented_id = shouted.presented_id.to_uppercase();
    assert!(matches!(store.rotate(shouted).await.expect("rotate"), RotationOutcome::Invalid));
    let rotation = conformance::rotation(&family, 0, 1, T0 + 10, None);
    assert!(matches!(store.rotate(rotation).await.expect("rotate"), RotationOutcome::Rotated { .. }));
}

/// How many nodes start together on one empty database, and how many times.
const NODES: usize = 4;
const ROUNDS: usize = 10;

/// Four nodes started at the same instant on one empty database (a fresh `CREATE DATABASE`
/// each round), ten rounds: every node comes up, and each step is applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_started_together_on_an_empty_database_all_come_up_and_migrate_once() {
    let Some(url) = url() else { return };
    let mut failures = Vec::new();
    let mut schema_problems = Vec::new();
    for round in 0..ROUNDS {
        let database = database_for_this_case(&url).await;
        let options: MySqlConnectOptions =
            url.parse::<MySqlConnectOptions>().expect("url").database(&database);
        let (up, failed) = conformance::start_together(NODES, || {
            let options = options.clone();
            async move {
                let store =
                    MySqlStore::connect_with_options(options, "passport_").map_err(|e| e.to_string())?;
                store.migrate().await.map(|()| store).map_err(|e| e.to_string())
            }
        })
        .await;
        failures.extend(failed.into_iter().map(|error| format!("round {round}: {error}")));
        if let Some(store) = up.first() {
            if let Err(problem) = applied_once(store).await {
                schema_problems.push(format!("round {round}: {problem}"));
            }
        }
        for store in &up[1..] {
            store.pool().close().await;
        }
        if let Some(store) = up.first() {
            drop_database_of(store).await;
        }
    }
    let started = NODES * ROUNDS;
    eprintln!("nodes up / nodes started: {} / {started}", started - failures.len());
    assert!(failures.is_empty(), "every node comes up: {failures:#?}");
    assert!(schema_problems.is_empty(), "{schema_problems:#?}");
}

/// Every migration is recorded once, finished, and the tables exist once.
async fn applied_once(store: &MySqlStore) -> Result<(), String> {
    let recorded: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM passport_migrations ORDER BY version")
            .fetch_all(store.pool())
            .await
            .map_err(|error| error.to_string())?;
    let versions: Vec<i64> = recorded.iter().map(|(version, _)| *version).collect();
    if versions.is_empty() || versions != (1..=versions.len() as i64).collect::<Vec<_>>() {
        return Err(format!("versions recorded: {versions:?}"));
    }
    if recorded.iter().any(|(_, success)| !success) {
        return Err(format!("unfinished steps: {recorded:?}"));
    }
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = 'passport_clients'",
    )
    .fetch_one(store.pool())
    .await
    .map_err(|error| error.to_string())?;
    if tables != 1 {
        return Err(format!("{tables} passport_clients tables"));
    }
    Ok(())
}

/// `PASSPORT_STORE=mysql://…` (or `mariadb://…`) opens this store through the CLI's
/// `AnyStore`, migrated.
#[tokio::test]
async fn any_store_opens_mysql_and_mariadb_urls() {
    let Some(url) = url() else { return };
    let database = database_for_this_case(&url).await;
    let base = url.rsplit_once('/').map_or(url.as_str(), |(base, _)| base);
    for scheme in ["mysql", "mariadb"] {
        let at = format!("{}/{database}", base.replacen("mysql", scheme, 1));
        let store = tower_passport_cli::AnyStore::open(&at).await.expect("open");
        assert_eq!(store.kind(), "mysql");
        assert!(!store.is_revoked("jti").await.expect("migrated and answering"));
    }
}

/// A server that refuses the connection is reported with that cause, not "pool timed out".
#[tokio::test]
async fn an_unreachable_mysql_is_reported_with_its_cause() {
    let error = tower_passport_cli::AnyStore::open("mysql://root@127.0.0.1:1/test")
        .await
        .expect_err("nothing listens on port 1")
        .to_string()
        .to_lowercase();
    assert!(error.contains("refused"), "{error}");
}

/// Two issuer + guard nodes on one MySQL database, with the Redis revocation bus (MySQL has
/// no LISTEN/NOTIFY), or `None` without `TEST_MYSQL_URL` or `TEST_REDIS_URL`.
async fn two_nodes_with_the_redis_bus(
    negative_ttl: Duration,
) -> Option<(crate::nodes::Node, crate::nodes::Node, AuthenticatedClient)> {
    let Some(redis_url) = std::env::var("TEST_REDIS_URL").ok().filter(|url| !url.is_empty()) else {
        eprintln!("skipping: TEST_REDIS_URL is not set");
        return None;
    };
    let node_a = fresh().await?;
    let options = (*node_a.pool().connect_options()).clone();
    let node_b = MySqlStore::connect_with_options(options, "passport_").expect("second node");
    let channel = format!("{}:bus", conformance::unique("tpm-nodes"));
    let bus = crate::nodes::NodeBus::Redis(redis_url, channel);
    Some(
        crate::nodes::nodes_sharing(
            Arc::new(node_a),
            Arc::new(node_b),
            bus,
            negative_ttl,
            Some(Duration::ZERO),
        )
        .await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_mysql_node_is_refused_on_the_other_through_the_redis_bus() {
    // A long negative TTL: without the bus, node B would keep saying "not revoked".
    let Some((a, b, client)) = two_nodes_with_the_redis_bus(Duration::from_secs(300)).await else { return };
    let token = a.read_token(&client).await;
    assert_eq!(b.status(&token).await, StatusCode::OK, "B has now cached \"not revoked\"");
    a.issuer.revoke(&client, &token, None).await.expect("revoke");
    assert_eq!(a.status(&token).await, StatusCode::UNAUTHORIZED, "immediately on the revoking node");
    let delay = crate::nodes::time_until_refused(&b, &token, Duration::from_secs(10))
        .await
        .expect("B refuses the token");
    eprintln!("revocation propagated to node B (MySQL + Redis bus) in {delay:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_across_mysql_nodes_have_exactly_one_winner() {
    let Some((a, b, client)) = two_nodes_with_the_redis_bus(Duration::from_secs(5)).await else { return };
    let tokens = a
        .issuer
        .grant(TokenRequest::password(client.clone(), "ann", "password-for-ann").scope("read"))
        .await
        .expect("tokens");
    let refresh = tokens.refresh_token.expect("refresh token");
    let tasks: Vec<_> = (0..40)
        .map(|attempt| {
            let issuer = if attempt % 2 == 0 { a.issuer.clone() } else { b.issuer.clone() };
            let (client, refresh) = (client.clone(), refresh.clone());
            tokio::spawn(async move { issuer.grant(TokenRequest::refresh_token(client, &refresh)).await })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if task.await.expect("task").is_ok() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

/// Kills every connection to `database` but the caller's, as an operator or a failover would.
async fn kill_connections(database: &str) -> u64 {
    let admin = MySqlPool::connect(&url().expect("url")).await.expect("admin connection");
    let ids: Vec<u64> = sqlx::query_scalar(
        "SELECT CAST(id AS UNSIGNED) FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
    )
    .bind(database)
    .fetch_all(&admin)
    .await
    .expect("processlist");
    for id in &ids {
        let _ = sqlx::query(&format!("KILL {id}")).execute(&admin).await;
    }
    admin.close().await;
    ids.len() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_connections_give_errors_not_wrong_answers_and_recover() {
    let Some(store) = fresh().await else { return };
    let database: String = sqlx::query_scalar("SELECT CAST(DATABASE() AS CHAR)")
        .fetch_one(store.pool())
        .await
        .expect("database");
    let store = Arc::new(store);
    let mut acknowledged = Vec::new();
    let mut kills = 0;
    for round in 0..30u64 {
        let jti = conformance::unique("kill");
        let _ = store.put_access_token(conformance::access(&jti, None, T0, 3600)).await;
        if round % 10 == 5 {
            kills += kill_connections(&database).await;
        }
        // Every call answers Ok or Err; an Ok revocation is durable.
        if let Ok(Some(_)) = store.revoke_access_token(&jti, T0 + 1).await {
            acknowledged.push(jti);
        }
    }
    assert!(kills > 0, "connections were killed mid-traffic");
    assert!(!acknowledged.is_empty(), "the pool recovered between kills");
    for jti in &acknowledged {
        let mut answer = store.is_revoked(jti).await;
        for _ in 0..5 {
            if answer.is_ok() {
                break;
            }
            answer = store.is_revoked(jti).await;
        }
        assert!(answer.expect("recovered"), "acknowledged revocation of {jti} was lost");
    }
}

/// Every connection runs in strict mode, whatever the server's default: an id too long for
/// its column is refused, never cut short (two long ids cut to one would collide).
#[tokio::test]
async fn an_id_too_long_for_its_column_is_refused_not_truncated() {
    let Some(store) = fresh().await else { return };
    let mode: String = sqlx::query_scalar("SELECT CAST(@@SESSION.sql_mode AS CHAR)")
        .fetch_one(store.pool())
        .await
        .expect("mode");
    assert!(mode.contains("STRICT_ALL_TABLES"), "{mode}");
    let long = "c".repeat(300);
    assert!(store.put_client(conformance::client(&long)).await.is_err(), "300 bytes do not fit in 255");
    assert!(store.client(&long[..255]).await.expect("read").is_none(), "nothing was stored cut short");
}

#[tokio::test]
async fn a_purge_removes_expired_device_requests() {
    let Some(store) = fresh().await else { return };
    crate::device_conformance::a_purge_removes_expired_device_requests(store).await;
}
