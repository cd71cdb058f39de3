//! The SQL stores' [`FailureStore`](tower_passport_issuer::store::FailureStore) operations, written once
//! for SQLite and PostgreSQL: one row per key in `{p}auth_failures` (migration 9), a failure
//! recorded by one atomic upsert that applies `Failures::after`.

use sqlx::{Encode, Executor, IntoArguments, Type};

use super::convert;
use super::engine::{Engine, Sql};
use super::rows::Columns;
use tower_passport_issuer::store::{Failures, StoreError};

impl<DB> Sql<DB>
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
        let row = sqlx::query(&self.queries.record_failure)
            .bind(key)
            .bind(convert::int(now))
            .bind(convert::int(forget_every.max(1)))
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        let recorded = failures(&row)?;
        // Keys whose failures are all forgotten go, so the table holds what still counts.
        sqlx::query(&self.queries.drop_forgotten_failures)
            .bind(convert::int(now))
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
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
