//! The migration runner, for both engines: `<prefix>migrations` records each step, and
//! each step runs in its own transaction together with its record, so a step is applied
//! whole or not at all.
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
//! - An engine added later takes its own (MySQL: `GET_LOCK`). One whose DDL is not
//!   transactional (MySQL again) must also record a step as started in its own commit
//!   before running it, so that a step it died in is reported.
//!
//! # Interrupted steps
//!
//! Versions before the lock marked a step as started in its own commit, then ran it. A row
//! left unfinished (`success` false) by such a run, or by hand, is still reported as
//! [`MigrationProblem::Interrupted`], never re-run behind the operator's back. This runner
//! never leaves one: both engines roll DDL back with the transaction, so the record is
//! written in the step's own transaction, and under the lock no node can see a step that
//! another node is applying right now.

use std::fmt;

use sqlx::{Connection, Database, Encode, Executor, IntoArguments, Type};

use super::convert;
use super::queries::Queries;
use super::rows::Columns;
use super::schema;
use tower_passport_issuer::store::StoreError;

/// Creates or upgrades the schema on `conn`, for the tables `queries` names. The caller
/// holds the engine's migration lock on `conn` (see the module docs); each step runs in a
/// transaction of its own (a savepoint, when `conn` is in a transaction already).
pub(crate) async fn apply<DB>(conn: &mut DB::Connection, queries: &Queries) -> Result<(), StoreError>
where
    DB: Database,
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
        let outcome: Result<(), sqlx::Error> = async {
            let mut tx = conn.begin().await?;
            for statement in schema::statements(migration, &queries.prefix) {
                sqlx::query(&statement).execute(&mut *tx).await?;
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
        }
    }
}

impl std::error::Error for MigrationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.problem {
            MigrationProblem::Failed(error) => Some(error),
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
