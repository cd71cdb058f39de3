//! The migration runner, for both engines: `<prefix>migrations` records each step, a step
//! is marked as started in its own commit and then applied in one transaction, so a step a
//! previous run left unfinished is reported, never re-run behind your back.

use std::fmt;

use sqlx::{Database, Encode, Executor, IntoArguments, Pool, Type};

use super::convert;
use super::queries::Queries;
use super::rows::Columns;
use super::schema;
use crate::store::StoreError;

/// Creates or upgrades the schema in `pool`, for the tables `queries` names.
pub(crate) async fn migrate<DB>(pool: &Pool<DB>, queries: &Queries) -> Result<(), StoreError>
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
    sqlx::query(&queries.create_migrations).execute(pool).await.map_err(StoreError::backend)?;
    for migration in schema::MIGRATIONS {
        let state = sqlx::query(&queries.migration_state)
            .bind(migration.version)
            .fetch_optional(pool)
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
        // Mark the step as started in its own commit, then run it.
        sqlx::query(&queries.migration_started)
            .bind(migration.version)
            .bind(migration.description)
            .bind(convert::int(now()))
            .execute(pool)
            .await
            .map_err(StoreError::backend)?;
        let outcome: Result<(), sqlx::Error> = async {
            let mut tx = pool.begin().await?;
            for statement in schema::statements(migration, &queries.prefix) {
                sqlx::query(&statement).execute(&mut *tx).await?;
            }
            sqlx::query(&queries.migration_done).bind(migration.version).execute(&mut *tx).await?;
            tx.commit().await
        }
        .await;
        if let Err(error) = outcome {
            // The step rolled back: forget the marker so a fixed schema can retry.
            let _ = sqlx::query(&queries.migration_forget).bind(migration.version).execute(pool).await;
            return Err(StoreError::backend(failure(MigrationProblem::Failed(error))));
        }
        tracing::info!(version = migration.version, "applied migration");
    }
    Ok(())
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
