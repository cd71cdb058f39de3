//! The migration runner, for every engine: `<prefix>migrations` records each step. Where DDL
//! is transactional (SQLite, PostgreSQL), each step runs in its own transaction together with
//! its record, so a step is applied whole or not at all. MySQL commits around every DDL
//! statement, so there a step is recorded as started (in a commit of its own) before it
//! runs and marked finished after: a step that failed or died half-way stays marked
//! started, and is reported.
//!
//! # The lock
//!
//! Nodes started together on one empty database (a rollout of three replicas) all call
//! `migrate()` at once. [`apply`] must therefore run under a lock the engine provides, held
//! on one connection from the first read of `<prefix>migrations` to the last step, so that
//! one node applies the steps and the others, once they get the lock, find them applied and
//! do nothing. Each engine takes it in its [`Engine::migrate`](super::engine::Engine::migrate):
//!
//! - PostgreSQL: a session-level `pg_advisory_lock` on a detached connection, keyed by the
//!   schema and the table prefix ([`lock_key`]), so two prefixes (or schemas) in one
//!   database do not wait for each other; the lock dies with the connection if the process
//!   does.
//! - SQLite: a write transaction taken up front (`BEGIN IMMEDIATE`) around the whole run,
//!   each step a savepoint inside it; the pool's busy timeout makes the other openers wait
//!   for it instead of failing.
//! - MySQL/MariaDB: a named lock (`GET_LOCK`) on a detached connection, named after the
//!   database and the table prefix ([`lock_name`]), released with `RELEASE_LOCK` when the
//!   run ends (whether it succeeded or not), and by the server if the connection dies.
//!
//! # Interrupted steps
//!
//! Versions before the lock marked a step as started in its own commit, then ran it. A row
//! left unfinished (`success` false) by such a run, or by hand, is still reported as
//! [`MigrationProblem::Interrupted`], never re-run behind the operator's back. On SQLite and
//! PostgreSQL this runner never leaves one: they roll DDL back with the transaction, so the
//! record is written in the step's own transaction. On MySQL it leaves one exactly when a
//! step failed or died half-way, which is what the operator must look at. Under the lock,
//! no node can see a step that another node is applying right now.

use std::fmt;

use sqlx::{Connection, Encode, Executor, IntoArguments, Type};

use super::convert;
use super::engine::Engine;
use super::queries::Queries;
use super::rows::Columns;
use super::schema;
use tower_passport_issuer::store::StoreError;

/// Creates or upgrades the schema on `conn`, for the tables `queries` names. The caller
/// holds the engine's migration lock on `conn` (see the module docs); each step runs in a
/// transaction of its own (a savepoint, when `conn` is in a transaction already), or, where
/// DDL is not transactional, between its "started" and "finished" records.
pub(crate) async fn apply<DB>(conn: &mut DB::Connection, queries: &Queries) -> Result<(), StoreError>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB>,
    for<'q> i64: Encode<'q, DB>,
    str: Type<DB>,
    i64: Type<DB>,
    DB::Row: Columns,
{
    sqlx::query(&queries.create_migrations).execute(&mut *conn).await.map_err(StoreError::backend)?;
    for migration in schema::MIGRATIONS {
        let state = sqlx::query(&queries.migration_state)
            .bind(migration.version)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StoreError::backend)?;
        let failure = |problem| MigrationError {
            version: migration.version,
            description: migration.description,
            problem,
        };
        match state.map(|row| row.flag("success")).transpose()? {
            Some(true) => continue,
            Some(false) => return Err(StoreError::backend(failure(MigrationProblem::Interrupted))),
            None => {}
        }
        let statements = schema::statements(migration, &queries.prefix, DB::SYNTAX);
        if DB::TRANSACTIONAL_DDL {
            let outcome: Result<(), sqlx::Error> = async {
                let mut tx = conn.begin().await?;
                for statement in &statements {
                    sqlx::query(statement).execute(&mut *tx).await?;
                }
                sqlx::query(&queries.migration_applied)
                    .bind(migration.version)
                    .bind(migration.description)
                    .bind(convert::int(now()))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await
            }
            .await;
            if let Err(error) = outcome {
                return Err(StoreError::backend(failure(MigrationProblem::Failed(error))));
            }
        } else {
            sqlx::query(&queries.migration_started)
                .bind(migration.version)
                .bind(migration.description)
                .bind(convert::int(now()))
                .execute(&mut *conn)
                .await
                .map_err(StoreError::backend)?;
            let outcome: Result<(), sqlx::Error> = async {
                for statement in &statements {
                    sqlx::query(statement).execute(&mut *conn).await?;
                }
                sqlx::query(&queries.migration_finished)
                    .bind(convert::int(now()))
                    .bind(migration.version)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
            .await;
            if let Err(error) = outcome {
                return Err(StoreError::backend(failure(MigrationProblem::FailedPartway(error))));
            }
        }
        tracing::info!(version = migration.version, "applied migration");
    }
    Ok(())
}

/// The key of the PostgreSQL advisory lock that migrations of the tables `<prefix>…` in
/// `schema` hold: the first 8 bytes of a SHA-256 over both, so another prefix or schema in
/// the same database (advisory locks are per database already) takes another key.
#[cfg(feature = "postgres")]
pub(crate) fn lock_key(schema: &str, prefix: &str) -> i64 {
    let named = format!("tower-passport migrations\0{schema}\0{prefix}");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, named.as_bytes());
    digest.as_ref().first_chunk::<8>().map_or(0, |key| i64::from_be_bytes(*key))
}

/// The name of the MySQL lock (`GET_LOCK`) that migrations of the tables `<prefix>…` in
/// `database` hold: `tower-passport:` and 32 hex digits of a SHA-256 over both, 47
/// characters (MySQL allows 64), so that another prefix or database on the same server (named
/// locks are server-wide) takes another lock.
#[cfg(feature = "mysql")]
pub(crate) fn lock_name(database: &str, prefix: &str) -> String {
    use std::fmt::Write;
    let named = format!("tower-passport migrations\0{database}\0{prefix}");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, named.as_bytes());
    let mut name = String::from("tower-passport:");
    for byte in digest.as_ref().iter().take(16) {
        let _ = write!(name, "{byte:02x}");
    }
    name
}

/// Wall-clock seconds, for the migrations table only.
fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// What went wrong while migrating, named by version.
#[derive(Debug)]
struct MigrationError {
    version: i64,
    description: &'static str,
    problem: MigrationProblem,
}

#[derive(Debug)]
enum MigrationProblem {
    /// A previous run started this step and never recorded its end.
    Interrupted,
    /// The step failed now; its transaction was rolled back.
    Failed(sqlx::Error),
    /// The step failed now, on an engine that cannot roll DDL back (MySQL): what ran of it
    /// stays, and the step stays marked as started.
    FailedPartway(sqlx::Error),
}

impl fmt::Display for MigrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            MigrationProblem::Interrupted => write!(
                f,
                "migration {} ({}) was started but never finished: the schema may be half-applied. \
                 Check the tables against the migration, then delete its row from the migrations table to retry",
                self.version, self.description
            ),
            MigrationProblem::Failed(error) => write!(
                f,
                "migration {} ({}) failed and was rolled back: {error}. \
                 If its tables partly exist already, the schema is half-applied from elsewhere",
                self.version, self.description
            ),
            MigrationProblem::FailedPartway(error) => write!(
                f,
                "migration {} ({}) failed: {error}. The database cannot roll schema changes back, so it \
                 may be half-applied. Check the tables against the migration, then delete its row from \
                 the migrations table to retry",
                self.version, self.description
            ),
        }
    }
}

impl std::error::Error for MigrationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            MigrationProblem::Failed(error) | MigrationProblem::FailedPartway(error) => Some(error),
            MigrationProblem::Interrupted => None,
        }
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::lock_key;

    #[test]
    fn each_schema_and_prefix_has_its_own_lock_key_and_it_never_changes() {
        let key = lock_key("public", "passport_");
        assert_eq!(key, lock_key("public", "passport_"), "the same tables, the same lock");
        let others =
            [lock_key("public", "blue_"), lock_key("tenant", "passport_"), lock_key("publicp", "assport_")];
        assert!(others.iter().all(|other| *other != key), "{key} {others:?}");
    }
}

#[cfg(all(test, feature = "mysql"))]
mod mysql_tests {
    use super::lock_name;

    #[test]
    fn each_database_and_prefix_has_its_own_lock_name_within_mysqls_64_characters() {
        let name = lock_name("app", "passport_");
        assert_eq!(name, lock_name("app", "passport_"), "the same tables, the same lock");
        assert!(name.len() <= 64 && name.starts_with("tower-passport:"), "{name}");
        let long = lock_name(&"d".repeat(64), &"p".repeat(32));
        assert_eq!(long.len(), name.len());
        let others =
            [lock_name("app", "blue_"), lock_name("other", "passport_"), lock_name("appp", "assport_")];
        assert!(others.iter().all(|other| *other != name), "{name} {others:?}");
    }
}
