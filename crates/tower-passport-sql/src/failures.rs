//! The SQL stores' [`FailureStore`](tower_passport_issuer::store::FailureStore) operations, written once
//! for SQLite, PostgreSQL and MySQL: one row per key in `{p}auth_failures` (migration 9). A
//! failure is recorded in one write transaction: the key's row is made to exist, locked,
//! read, and written back as [`Failures::after`] says, so concurrent failures under one key
//! on any number of nodes each count.

use sqlx::{Encode, Executor, IntoArguments, Type};

use super::convert;
use super::engine::{Engine, Sql};
use super::rows::Columns;
use tower_passport_issuer::store::{Failures, StoreError};

// The engine bounds of `store.rs` (Rust has no alias for a where clause).
impl<DB> Sql<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> String: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> i64: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'q> bool: Encode<'q, DB>,
    str: Type<DB>,
    String: Type<DB>,
    i64: Type<DB>,
    bool: Type<DB>,
    DB::Row: Columns,
{
    pub(crate) async fn failures(&self, keys: &[&str]) -> Result<Vec<Option<Failures>>, StoreError> {
        let mut found = vec![None; keys.len()];
        for pair in keys.chunks(2) {
            let [first, rest @ ..] = pair else { continue };
            let second = rest.first().unwrap_or(first);
            let rows = sqlx::query(&self.queries.failures)
                .bind(first)
                .bind(second)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::backend)?;
            for row in rows {
                let key = row.text("key_hash")?;
                let failures = failures(&row)?;
                for (slot, wanted) in found.iter_mut().zip(keys) {
                    if *wanted == key {
                        *slot = Some(failures);
                    }
                }
            }
        }
        Ok(found)
    }

    pub(crate) async fn record_failure(
        &self,
        key: &str,
        now: u64,
        forget_every: u64,
    ) -> Result<Failures, StoreError> {
        let mut retries = DEADLOCK_RETRIES;
        let recorded = loop {
            match self.record_one_failure(key, now, forget_every).await {
                Err(Attempt::Deadlock(_)) if retries > 0 => retries -= 1,
                Err(Attempt::Deadlock(error)) => return Err(StoreError::backend(error)),
                Err(Attempt::Failed(error)) => return Err(error),
                Ok(recorded) => break recorded,
            }
        };
        self.drop_forgotten_failures(now).await?;
        Ok(recorded)
    }

    /// Keys whose failures are all forgotten go, so the table holds what still counts: a
    /// few at a time, each by its primary key. A delete chosen as a deadlock's victim leaves
    /// its row for the next sweep.
    async fn drop_forgotten_failures(&self, now: u64) -> Result<(), StoreError> {
        let now = convert::int(now);
        let forgotten = sqlx::query(&self.queries.forgotten_failures)
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        for row in forgotten {
            let key = row.text("key_hash")?;
            let dropped = sqlx::query(&self.queries.drop_forgotten_failure)
                .bind(&key)
                .bind(now)
                .execute(&self.pool)
                .await;
            match dropped {
                Err(error) if !is_deadlock(&error) => return Err(StoreError::backend(error)),
                _ => {}
            }
        }
        Ok(())
    }

    /// One write transaction: the key's row is made to exist (a first failure's row is
    /// inserted by whichever transaction comes first; the others wait for it, then find it),
    /// locked, read, and written back as [`Failures::after`] says.
    async fn record_one_failure(&self, key: &str, now: u64, forget_every: u64) -> Result<Failures, Attempt> {
        let mut tx = self.begin().await?;
        sqlx::query(&self.queries.ensure_failures)
            .bind(key)
            .bind(convert::int(now))
            .bind(convert::int(now))
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(&self.queries.lock_failures).bind(key).fetch_optional(&mut *tx).await?;
        // A row with no failures yet is the one just ensured: no previous failures.
        let previous = row.as_ref().map(failures).transpose()?.filter(|previous| previous.count > 0);
        let recorded = Failures::after(previous, now, forget_every);
        sqlx::query(&self.queries.set_failures)
            .bind(i64::from(recorded.count))
            .bind(convert::int(recorded.last_at))
            .bind(convert::int(recorded.last_at.saturating_add(recorded.kept_for(forget_every))))
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(recorded)
    }

    pub(crate) async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query(&self.queries.clear_failures)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}

fn failures(row: &impl Columns) -> Result<Failures, StoreError> {
    let count = u32::try_from(convert::uint(row.int("failures")?)).unwrap_or(u32::MAX);
    Ok(Failures { count, last_at: convert::uint(row.int("last_failure")?) })
}

/// How many times a failure whose transaction was a deadlock's victim is tried again.
/// (InnoDB resolves a deadlock by rolling one transaction back, and its manual asks
/// applications to run that transaction again.)
const DEADLOCK_RETRIES: u32 = 3;

/// Why one attempt to record a failure did not.
enum Attempt {
    /// The database rolled the transaction back to break a deadlock: nothing was written.
    Deadlock(sqlx::Error),
    Failed(StoreError),
}

impl From<sqlx::Error> for Attempt {
    fn from(error: sqlx::Error) -> Self {
        if is_deadlock(&error) {
            Attempt::Deadlock(error)
        } else {
            Attempt::Failed(StoreError::backend(error))
        }
    }
}

impl From<StoreError> for Attempt {
    fn from(error: StoreError) -> Self {
        Attempt::Failed(error)
    }
}

/// Whether the database rolled the statement's transaction back to break a deadlock or a
/// serialization conflict (SQLSTATE `40001`, MySQL's error 1213; PostgreSQL's `40P01`).
fn is_deadlock(error: &sqlx::Error) -> bool {
    let code = error.as_database_error().and_then(|error| error.code());
    matches!(code.as_deref(), Some("40001" | "40P01"))
}
