//! SQLite's faults: a database file locked by another connection's write transaction, and
//! a file opened read-only. The issuer, its token endpoint and a guard run on the file
//! (`faults_rig.rs`, `Engine::Sqlite`); the lock is taken by a plain sqlx pool of its own,
//! as another process would.
//!
//! The file is in WAL mode, so a writer never blocks readers: under the lock the guard keeps
//! answering from the store (200, and 401 for a revoked token), and what writes (a grant, a
//! revocation) answers 503 within the store's operation timeout, then works again once the
//! lock is released.

use crate::faults_rig::{assert_unavailable, Engine, OPERATION_TIMEOUT};

use std::sync::Arc;

use http::StatusCode;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{ConnectOptions, Connection};
use tower_passport_issuer::store::SettingsStore;
use tower_passport_sql::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_keeps_serving_reads_answers_503_to_writes_and_recovers() {
    let rig = Engine::Sqlite.rig().await.expect("sqlite needs no server");
    let (live, revoked, doomed) = (rig.read_token().await, rig.read_token().await, rig.read_token().await);
    rig.revoke(&revoked).await.expect("acknowledged before the lock");

    // Another connection, another pool: the lock another process would hold.
    let locker = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(rig.path()))
        .await
        .expect("the locking pool");
    let mut holder = locker.acquire().await.expect("a connection");
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut *holder).await.expect("the write lock");

    // Reads go on: the guard asks the store, which answers.
    assert_eq!(rig.guard(&live).await.status, StatusCode::OK, "reads are not blocked by a writer");
    rig.assert_refused_by_the_store(std::slice::from_ref(&revoked)).await;
    // Writes wait for the lock, up to the operation timeout, then 503.
    rig.token_endpoint().await.assert_endpoint_unavailable();
    let refused = rig.revoke(&doomed).await.expect_err("a locked database acknowledges nothing");
    assert_unavailable(&refused);

    sqlx::query("ROLLBACK").execute(&mut *holder).await.expect("released");
    drop(holder);
    locker.close().await;
    assert_eq!(rig.token_endpoint().await.status, StatusCode::OK, "writes work again, no restart");
    rig.revoke(&doomed).await.expect("acknowledged once the lock is gone");
    rig.assert_refused_by_the_store(&[revoked, doomed]).await;
    assert_eq!(rig.guard(&live).await.status, StatusCode::OK);
    rig.clean_up().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_serves_reads_answers_503_to_writes_and_is_left_intact() {
    let rig = Engine::Sqlite.rig().await.expect("sqlite needs no server");
    let (live, revoked, doomed) = (rig.read_token().await, rig.read_token().await, rig.read_token().await);
    rig.revoke(&revoked).await.expect("acknowledged while writable");

    // The same file, opened read-only (`chmod` would not stop the root user the tests may
    // run as; `mode=ro` stops everyone).
    let url = format!("sqlite://{}?mode=ro", rig.path().display());
    let read_only =
        SqliteStore::connect(&url).await.expect("opened read-only").operation_timeout(OPERATION_TIMEOUT);
    let error = read_only.put_setting_if_absent("storefaults", "x").await.expect_err("a write is refused");
    assert!(error.to_string().contains("readonly"), "a clear error: {error}");

    let on_read_only = rig.beside(Arc::new(read_only.clone())).await;
    assert_eq!(on_read_only.guard(&live).await.status, StatusCode::OK, "reads work");
    on_read_only.assert_refused_by_the_store(std::slice::from_ref(&revoked)).await;
    on_read_only.token_endpoint().await.assert_endpoint_unavailable();
    let refused = on_read_only.revoke(&doomed).await.expect_err("a read-only file acknowledges nothing");
    assert_unavailable(&refused);
    read_only.close().await;

    // Nothing was corrupted, nothing half-written: the file checks out, and the writable
    // rig carries on where it was.
    let mut check = SqliteConnectOptions::new().filename(rig.path()).connect().await.expect("a connection");
    let verdict: String =
        sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut check).await.expect("check");
    assert_eq!(verdict, "ok");
    check.close().await.expect("closed");
    assert_eq!(rig.guard(&live).await.status, StatusCode::OK);
    assert_eq!(rig.guard(&doomed).await.status, StatusCode::OK, "the refused revocation was not applied");
    rig.revoke(&doomed).await.expect("acknowledged on the writable file");
    rig.assert_refused_by_the_store(&[revoked, doomed]).await;
    rig.clean_up().await;
}
