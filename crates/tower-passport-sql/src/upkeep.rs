//! The SQL stores' upkeep, written once for SQLite, PostgreSQL and MySQL: purging what can no
//! longer be presented, the shared settings (first writer wins), and each user's
//! first-party cookie "not before" instant (migration 7).

use sqlx::{Encode, Executor, IntoArguments, Type};

use super::convert;
use super::engine::{Engine, Sql};
use super::rows::Columns;
use tower_passport_issuer::store::codes::KEPT_AFTER_EXPIRY;
use tower_passport_issuer::store::{Purge, PurgeCounts, StoreError};

impl<DB> Sql<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB>,
    for<'q> i64: Encode<'q, DB>,
    for<'q> bool: Encode<'q, DB>,
    str: Type<DB>,
    i64: Type<DB>,
    bool: Type<DB>,
    DB::Row: Columns,
{
    pub(crate) async fn purge(&self, purge: Purge) -> Result<PurgeCounts, StoreError> {
        let mut tx = DB::begin_write(&self.pool).await.map_err(StoreError::backend)?;
        let before = convert::int(purge.before);
        let mut counts = PurgeCounts::default();
        for (query, count) in [
            (&self.queries.purge_access, &mut counts.access_tokens),
            (&self.queries.purge_refresh, &mut counts.refresh_tokens),
        ] {
            let done = sqlx::query(query)
                .bind(purge.revoked)
                .bind(before)
                .bind(purge.expired)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
            *count = DB::rows_affected(&done);
        }
        let families = sqlx::query(&self.queries.purge_families)
            .bind(purge.revoked)
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        counts.families = DB::rows_affected(&families);
        // A revocation entry is needed only while its token could still be presented.
        if purge.expired {
            let done = sqlx::query(&self.queries.purge_revocations)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
            counts.revocations = DB::rows_affected(&done);
            // A code's record is kept a day past its expiry, to catch a late reuse.
            let done = sqlx::query(&self.queries.purge_codes)
                .bind(convert::int(purge.before.saturating_sub(KEPT_AFTER_EXPIRY)))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
            counts.codes = DB::rows_affected(&done);
            // Device authorization requests go once they expired; counted with the codes.
            let done = sqlx::query(&self.queries.purge_devices)
                .bind(convert::int(purge.before))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
            counts.codes += DB::rows_affected(&done);
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(counts)
    }

    pub(crate) async fn set_user_not_before(
        &self,
        provider: &str,
        user_id: &str,
        not_before_ms: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(&self.queries.set_not_before)
            .bind(provider)
            .bind(user_id)
            .bind(convert::int(not_before_ms))
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    pub(crate) async fn user_not_before(
        &self,
        provider: &str,
        user_id: &str,
    ) -> Result<Option<u64>, StoreError> {
        let row = sqlx::query(&self.queries.not_before)
            .bind(provider)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.map(|row| row.int("not_before").map(convert::uint)).transpose()
    }

    pub(crate) async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(&self.queries.setting)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.map(|row| row.text("value")).transpose()
    }

    pub(crate) async fn put_setting_if_absent(&self, name: &str, value: &str) -> Result<String, StoreError> {
        sqlx::query(&self.queries.put_setting)
            .bind(name)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        let row = sqlx::query(&self.queries.setting)
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.text("value")
    }
}
