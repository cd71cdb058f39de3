//! The store conformance suite against SQLite (a fresh file per case), migrations, and
//! persistence across a restart.

use std::path::PathBuf;

use crate::conformance::{start, T0};
use tower_passport_cli::AnyStore;
use tower_passport_issuer::store::{
    ClientStore, CodeRedemption, CodeStore, RevocationStore, RotationOutcome, SecretHash, SettingsStore,
    TokenStore,
};
use tower_passport_sql::SqliteStore;

fn temp_db() -> PathBuf {
    std::env::temp_dir().join(format!("{}.db", crate::conformance::unique("tower-passport-test")))
}

async fn fresh() -> Option<SqliteStore> {
    let url = format!("sqlite://{}", temp_db().display());
    let store = SqliteStore::connect(&url).await.expect("open sqlite");
    store.migrate().await.expect("migrate");
    Some(store)
}

conformance_suite!(sqlite, fresh().await);
code_conformance_suite!(sqlite_codes, fresh().await);
device_conformance_suite!(sqlite_devices, fresh().await);
device_conformance_suite!(
    any_sqlite_memory_devices,
    Some(AnyStore::open("sqlite::memory:").await.expect("open"))
);
failure_conformance_suite!(sqlite_failures, fresh().await);
// The store `PASSPORT_STORE=sqlite::memory:` opens: one connection, so takes queue on it.
code_conformance_suite!(
    any_sqlite_memory_codes,
    Some(AnyStore::open("sqlite::memory:").await.expect("open"))
);

#[tokio::test]
async fn a_purge_removes_codes_a_day_past_their_expiry() {
    crate::code_conformance::a_purge_removes_codes_a_day_past_their_expiry(fresh().await.expect("store"))
        .await;
}

#[tokio::test]
async fn a_used_code_survives_a_restart_and_its_reuse_is_still_caught() {
    let path = temp_db();
    let url = format!("sqlite://{}", path.display());
    let secret = crate::conformance::unique("code");
    let hash = SecretHash::of(secret.as_bytes());
    {
        let store = SqliteStore::connect(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        store.put_code(crate::code_conformance::code(&secret, "client")).await.expect("put");
        assert!(matches!(store.take_code(&hash, T0 + 1).await.expect("take"), CodeRedemption::Fresh(_)));
        store.close().await;
    }
    let reopened = SqliteStore::connect(&url).await.expect("reopen");
    reopened.migrate().await.expect("migrate again");
    let CodeRedemption::Reused(reused) = reopened.take_code(&hash, T0 + 2).await.expect("take") else {
        panic!("the use survived the restart")
    };
    assert_eq!(reused.used_at, Some(T0 + 1));
    let stored = std::fs::read(&path).expect("the database file");
    let needle = secret.as_bytes();
    assert!(!stored.windows(needle.len()).any(|w| w == needle), "the code itself is not stored");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn migrate_is_idempotent() {
    let store = fresh().await.expect("store");
    store.migrate().await.expect("second run is a no-op");
}

#[tokio::test]
async fn nothing_acknowledged_is_lost_across_a_restart() {
    let path = temp_db();
    let url = format!("sqlite://{}", path.display());
    let family;
    {
        let store = SqliteStore::connect(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        store.put_client(crate::conformance::client("restart-client")).await.expect("client");
        family = start(&store).await;
        store
            .put_access_token(crate::conformance::access("restart-jti", None, T0, 3600))
            .await
            .expect("access");
        store.revoke_access_token("restart-jti", T0 + 1).await.expect("revoke");
        store.put_setting_if_absent("signing_key", "pem").await.expect("setting");
        store.close().await;
    }
    let reopened = SqliteStore::connect(&url).await.expect("reopen");
    reopened.migrate().await.expect("migrate again");
    assert_eq!(
        reopened.client("restart-client").await.expect("client"),
        Some(crate::conformance::client("restart-client"))
    );
    assert!(reopened.family(&family).await.expect("family").is_some());
    assert!(reopened.refresh_token(&format!("{family}-r0")).await.expect("refresh").is_some());
    assert!(reopened.is_revoked("restart-jti").await.expect("revocation"), "the revocation survived");
    assert_eq!(reopened.put_setting_if_absent("signing_key", "other").await.expect("setting"), "pem");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_custom_table_prefix_keeps_deployments_apart() {
    let url = format!("sqlite://{}", temp_db().display());
    let blue = SqliteStore::connect_with_prefix(&url, "blue_").await.expect("blue");
    let green = SqliteStore::connect_with_prefix(&url, "green_").await.expect("green");
    blue.migrate().await.expect("blue migrate");
    green.migrate().await.expect("green migrate");
    blue.put_client(crate::conformance::client("only-blue")).await.expect("client");
    assert!(blue.client("only-blue").await.expect("blue").is_some());
    assert!(green.client("only-blue").await.expect("green").is_none());
    assert!(SqliteStore::connect_with_prefix(&url, "bad; drop table x").await.is_err());
}

#[tokio::test]
async fn a_half_applied_migration_is_reported_clearly() {
    let url = format!("sqlite://{}", temp_db().display());
    // A table of migration 1 exists already, made by someone else: the step fails, is
    // rolled back, and the error says which step and why.
    let store = SqliteStore::connect_with_prefix(&url, "half_").await.expect("open");
    let pool = sqlx::SqlitePool::connect(&url).await.expect("raw pool");
    sqlx::query("CREATE TABLE half_settings (name TEXT)").execute(&pool).await.expect("pre-existing table");
    let error = store.migrate().await.expect_err("half-applied schema").to_string();
    assert!(error.contains("migration 1"), "{error}");
    assert!(error.contains("half-applied"), "{error}");

    // A step marked as started by a run that never finished is reported, not re-run.
    let other = SqliteStore::connect_with_prefix(&url, "died_").await.expect("open");
    sqlx::query("CREATE TABLE died_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, success BOOLEAN NOT NULL, applied_at BIGINT NOT NULL)")
        .execute(&pool)
        .await
        .expect("migrations table");
    sqlx::query("INSERT INTO died_migrations VALUES (1, 'initial', FALSE, 0)")
        .execute(&pool)
        .await
        .expect("marker");
    let error = other.migrate().await.expect_err("interrupted").to_string();
    assert!(error.contains("migration 1") && error.contains("never finished"), "{error}");
}

#[tokio::test]
async fn a_database_from_before_redirect_uris_upgrades_and_keeps_its_clients() {
    let url = format!("sqlite://{}", temp_db().display());
    // The schema as migration 1 left it, with a client in it.
    let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=rwc")).await.expect("raw pool");
    let initial =
        include_str!("../../../tower-passport-sql/src/migrations/0001_initial.sql").replace("{p}", "old_");
    for statement in initial.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        sqlx::query(statement).execute(&pool).await.expect("migration 1");
    }
    sqlx::query(
        "CREATE TABLE old_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
         success BOOLEAN NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&pool)
    .await
    .expect("migrations table");
    sqlx::query("INSERT INTO old_migrations VALUES (1, 'initial', TRUE, 0)")
        .execute(&pool)
        .await
        .expect("v1");
    sqlx::query(
        "INSERT INTO old_clients VALUES ('legacy', 'Legacy', NULL, 'refresh_token', NULL, FALSE, FALSE, 7)",
    )
    .execute(&pool)
    .await
    .expect("a client");
    let store = SqliteStore::connect_with_prefix(&url, "old_").await.expect("open");
    store.migrate().await.expect("upgrade");
    let client = store.client("legacy").await.expect("read").expect("kept");
    assert_eq!((client.name.as_str(), client.created_at), ("Legacy", 7));
    assert!(client.redirect_uris.is_empty());
    assert_eq!(client.owner, None);
    assert!(client.require_pkce, "PKCE stays required for clients that predate the setting");
}

/// Four nodes started at the same instant on one new database file, ten rounds (a fresh
/// file each): every node comes up, and the schema is applied once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_started_together_on_an_empty_database_all_come_up_and_migrate_once() {
    const NODES: usize = 4;
    const ROUNDS: usize = 10;
    let mut failures = Vec::new();
    for round in 0..ROUNDS {
        let path = temp_db();
        let url = format!("sqlite://{}", path.display());
        let (up, failed) = crate::conformance::start_together(NODES, || {
            let url = url.clone();
            async move {
                let store = SqliteStore::connect(&url).await.map_err(|e| format!("connect: {e}"))?;
                store.migrate().await.map(|()| store).map_err(|e| format!("migrate: {e}"))
            }
        })
        .await;
        failures.extend(failed.into_iter().map(|error| format!("round {round}: {error}")));
        for store in up {
            store.close().await;
        }
        if failures.is_empty() {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("raw pool");
            let recorded: Vec<(i64, bool)> =
                sqlx::query_as("SELECT version, success FROM passport_migrations ORDER BY version")
                    .fetch_all(&pool)
                    .await
                    .expect("the migrations table");
            assert!(!recorded.is_empty() && recorded.iter().all(|(_, success)| *success), "{recorded:?}");
            let versions: Vec<i64> = recorded.iter().map(|(version, _)| *version).collect();
            assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>(), "each step once");
            let tables: i64 =
                sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'passport_clients'")
                    .fetch_one(&pool)
                    .await
                    .expect("sqlite_master");
            assert_eq!(tables, 1);
            pool.close().await;
        }
        let _ = std::fs::remove_file(&path);
    }
    let started = NODES * ROUNDS;
    eprintln!("nodes up / nodes started: {} / {started}", started - failures.len());
    assert!(failures.is_empty(), "every node comes up: {failures:#?}");
}

/// A refresh token used before migration 6 has `used_at` in seconds only: its race window
/// is measured from the start of that second, never longer than configured.
#[tokio::test]
async fn a_token_used_before_milliseconds_were_kept_is_measured_from_its_second() {
    let url = format!("sqlite://{}", temp_db().display());
    let store = SqliteStore::connect(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    let raw = sqlx::SqlitePool::connect(&url).await.expect("raw pool");
    let used_at_second = (T0 + 60) * 1_000;
    let mut families = Vec::new();
    for _ in 0..2 {
        let family = start(&store).await;
        store
            .rotate(crate::conformance::racing_at_millis(&family, 0, 1, used_at_second + 900))
            .await
            .expect("rotate");
        // As an older version wrote it: seconds only.
        sqlx::query("UPDATE passport_refresh_tokens SET used_at_ms = NULL WHERE id = $1")
            .bind(format!("{family}-r0"))
            .execute(&raw)
            .await
            .expect("an old row");
        let old = store.refresh_token(&format!("{family}-r0")).await.expect("read").expect("kept");
        assert_eq!((old.used_at, old.used_at_millis), (Some(T0 + 60), None));
        families.push(family);
    }
    // 0.8 s into the window (from the start of the second): a lost race.
    let inside =
        store.rotate(crate::conformance::racing_at_millis(&families[0], 0, 2, used_at_second + 800)).await;
    assert_eq!(inside.expect("rotate"), RotationOutcome::AlreadyRotated);
    // 1.5 s from the start of the second, though only 0.6 s from the real use: reuse.
    let past =
        store.rotate(crate::conformance::racing_at_millis(&families[1], 0, 2, used_at_second + 1_500)).await;
    assert!(matches!(past.expect("rotate"), RotationOutcome::ReuseDetected { .. }));
    raw.close().await;
}

#[tokio::test]
async fn a_purge_removes_expired_device_requests() {
    crate::device_conformance::a_purge_removes_expired_device_requests(fresh().await.expect("store")).await;
}
