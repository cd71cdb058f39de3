//! The store conformance suite against a real PostgreSQL (`TEST_POSTGRES_URL`), each case
//! in its own schema; migrations; and a killed connection mid-traffic.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::conformance::T0;
use sqlx::postgres::PgConnectOptions;
use tower_passport_issuer::store::{RevocationStore, TokenStore};
use tower_passport_sql::PostgresStore;

/// A store in a fresh schema, or `None` (with the reason printed) without a server.
async fn fresh() -> Option<PostgresStore> {
    fresh_named("tower-passport-test").await
}

/// As [`fresh`], with connections named `application_name` (so a test can kill exactly them).
async fn fresh_named(application_name: &str) -> Option<PostgresStore> {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return None;
    };
    let schema = schema_for_this_case(&url).await;
    let options: PgConnectOptions = url.parse().expect("TEST_POSTGRES_URL");
    let options = options.options([("search_path", schema.as_str())]).application_name(application_name);
    let store = PostgresStore::connect_with_options(options, "passport_").expect("store");
    store.migrate().await.expect("migrate");
    Some(store)
}

/// Creates `tp_<pid>_<n>`, after dropping what earlier test runs left behind.
async fn schema_for_this_case(url: &str) -> String {
    static CLEANED: AtomicBool = AtomicBool::new(false);
    let pool = sqlx::PgPool::connect(url).await.expect("connect to TEST_POSTGRES_URL");
    let pid = std::process::id();
    if !CLEANED.swap(true, Ordering::SeqCst) {
        let stale: Vec<String> = sqlx::query_scalar(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tp\\_%' AND nspname NOT LIKE $1",
        )
        .bind(format!("tp\\_{pid}\\_%"))
        .fetch_all(&pool)
        .await
        .expect("list schemas");
        for schema in stale {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).execute(&pool).await;
        }
    }
    let schema = crate::conformance::unique("tp").replace('-', "_");
    let schema = format!("tp_{pid}_{}", schema.rsplit('_').next().unwrap_or("0"));
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\"")).execute(&pool).await.expect("create schema");
    pool.close().await;
    schema
}

conformance_suite!(postgres, fresh().await);
code_conformance_suite!(postgres_codes, fresh().await);
device_conformance_suite!(postgres_devices, fresh().await);
failure_conformance_suite!(postgres_failures, fresh().await);

/// Two nodes: two pools on one schema, each under its own throttle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_throttles_on_one_database_share_their_counts() {
    let Some(node_a) = fresh().await else { return };
    let options = (*node_a.pool().connect_options()).clone();
    let node_b = PostgresStore::connect_with_options(options, "passport_").expect("second node");
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
}

#[tokio::test]
async fn a_half_applied_migration_is_reported_clearly() {
    let Some(store) = fresh().await else { return };
    sqlx::query("CREATE TABLE other_settings (name TEXT)")
        .execute(store.pool())
        .await
        .expect("pre-existing table");
    let url = std::env::var("TEST_POSTGRES_URL").expect("url");
    let search_path: String =
        sqlx::query_scalar("SELECT current_schema()").fetch_one(store.pool()).await.expect("schema");
    let options: PgConnectOptions = url.parse().expect("url");
    let other = PostgresStore::connect_with_options(
        options.options([("search_path", search_path.as_str())]),
        "other_",
    )
    .expect("store");
    let error = other.migrate().await.expect_err("half-applied").to_string();
    assert!(error.contains("migration 1") && error.contains("half-applied"), "{error}");
}

/// Kills every connection named `application_name`, as an operator or a failover would.
async fn kill_connections(application_name: &str) -> u64 {
    let url = std::env::var("TEST_POSTGRES_URL").expect("url");
    let admin = sqlx::PgPool::connect(&url).await.expect("admin connection");
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
    )
    .bind(application_name)
    .fetch_all(&admin)
    .await
    .expect("terminate");
    admin.close().await;
    killed.len() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_connections_give_errors_not_wrong_answers_and_recover() {
    let name = format!("tp-kill-{}", std::process::id());
    let Some(store) = fresh_named(&name).await else { return };
    let store = Arc::new(store);
    let mut acknowledged = Vec::new();
    let mut kills = 0;
    for round in 0..30u64 {
        let jti = crate::conformance::unique("kill");
        let _ = store.put_access_token(crate::conformance::access(&jti, None, T0, 3600)).await;
        if round % 10 == 5 {
            kills += kill_connections(&name).await;
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

/// How many nodes start together on one empty database, and how many times.
const NODES: usize = 4;
const ROUNDS: usize = 10;

/// Four nodes started at the same instant on one empty database (a fresh `CREATE DATABASE`
/// each round, as a Kubernetes rollout of a new deployment meets it), ten rounds: every node
/// comes up, and the schema is applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_started_together_on_an_empty_database_all_come_up_and_migrate_once() {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return;
    };
    let admin = sqlx::PgPool::connect(&url).await.expect("connect to TEST_POSTGRES_URL");
    let mut failures = Vec::new();
    let mut schema_problems = Vec::new();
    for round in 0..ROUNDS {
        let database = crate::conformance::unique("passport_race").replace('-', "_");
        sqlx::query(&format!("CREATE DATABASE \"{database}\""))
            .execute(&admin)
            .await
            .expect("create database");
        let options: PgConnectOptions = url.parse::<PgConnectOptions>().expect("url").database(&database);
        let (up, failed) = crate::conformance::start_together(NODES, || {
            let options = options.clone();
            async move {
                let store =
                    PostgresStore::connect_with_options(options, "passport_").map_err(|e| e.to_string())?;
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
        for store in up {
            store.pool().close().await;
        }
        sqlx::query(&format!("DROP DATABASE \"{database}\" WITH (FORCE)"))
            .execute(&admin)
            .await
            .expect("drop database");
    }
    let started = NODES * ROUNDS;
    eprintln!("nodes up / nodes started: {} / {started}", started - failures.len());
    assert!(failures.is_empty(), "every node comes up: {failures:#?}");
    assert!(schema_problems.is_empty(), "{schema_problems:#?}");
}

/// Every migration is recorded once, finished, and the tables exist once.
async fn applied_once(store: &PostgresStore) -> Result<(), String> {
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
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'passport_clients'")
            .fetch_one(store.pool())
            .await
            .map_err(|error| error.to_string())?;
    if tables != 1 {
        return Err(format!("{tables} passport_clients tables"));
    }
    Ok(())
}

#[tokio::test]
async fn a_purge_removes_expired_device_requests() {
    let Some(store) = fresh().await else { return };
    crate::device_conformance::a_purge_removes_expired_device_requests(store).await;
}
