//! The SQL store's device authorization requests (RFC 8628), written once for SQLite,
//! PostgreSQL and MySQL: a poll or a decision locks the row in one write transaction, asks
//! `device::poll` or `device::decide`, and writes the change back, so that of concurrent polls
//! of an approved request exactly one redeems it.

use sqlx::{Encode, Executor, IntoArguments, Type};

use super::convert;
use super::engine::{Engine, Sql};
use super::rows::Columns;
use super::store::inserted;
use tower_passport_issuer::store::device::{self, DeviceCodeRecord, DeviceDecision, DevicePoll};
use tower_passport_issuer::store::{SecretHash, StoreError};

/// A request's row.
fn record(row: &impl Columns) -> Result<DeviceCodeRecord, StoreError> {
    let decision = DeviceDecision::from_parts(&row.text("decision")?, row.opt_text("user_id")?)
        .ok_or_else(|| StoreError::config("a device code row has an unknown decision"))?;
    Ok(DeviceCodeRecord {
        device_hash: convert::hash(&row.text("device_hash")?)?,
        user_code_hash: convert::hash(&row.text("user_code_hash")?)?,
        client_id: row.text("client_id")?,
        scopes: convert::split(&row.text("scopes")?),
        issued_at: convert::uint(row.int("issued_at")?),
        expires_at: convert::uint(row.int("expires_at")?),
        interval: convert::uint(row.int("poll_interval")?),
        last_polled_at_ms: convert::opt_uint(row.opt_int("last_polled_at_ms")?),
        decision,
        used_at: convert::opt_uint(row.opt_int("used_at")?),
    })
}

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
    pub(crate) async fn put_device_code(&self, record: DeviceCodeRecord) -> Result<(), StoreError> {
        let (decision, user_id) = record.decision.to_parts();
        let result = sqlx::query(&self.queries.insert_device)
            .bind(record.device_hash.to_hex())
            .bind(record.user_code_hash.to_hex())
            .bind(&record.client_id)
            .bind(convert::join(&record.scopes))
            .bind(convert::int(record.issued_at))
            .bind(convert::int(record.expires_at))
            .bind(convert::int(record.interval))
            .bind(record.last_polled_at_ms.map(convert::int))
            .bind(decision)
            .bind(user_id)
            .bind(record.used_at.map(convert::int))
            .execute(&self.pool)
            .await;
        if !inserted::<DB>(result)? {
            return Err(StoreError::conflict("duplicate device or user code"));
        }
        Ok(())
    }

    pub(crate) async fn pending_device_code(
        &self,
        user_code_hash: &SecretHash,
        now: u64,
    ) -> Result<Option<DeviceCodeRecord>, StoreError> {
        let row = self.find(&self.queries.device_by_user_code, &user_code_hash.to_hex()).await?;
        let found = row.as_ref().map(record).transpose()?;
        Ok(found.filter(|record| record.decision == DeviceDecision::Pending && record.expires_at > now))
    }

    /// One write transaction: the row locked by its user code, `device::decide`, the change
    /// written back.
    pub(crate) async fn decide_device_code(
        &self,
        user_code_hash: &SecretHash,
        decision: DeviceDecision,
        now: u64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let row =
            self.locked(&mut tx, &self.queries.lock_device_by_user_code, &user_code_hash.to_hex()).await?;
        let Some(mut found) = row.as_ref().map(record).transpose()? else { return Ok(false) };
        if !device::decide(&mut found, decision, now) {
            return Ok(false);
        }
        self.write_back(&mut tx, &found).await?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(true)
    }

    /// One write transaction: the row locked by its device code, `device::poll`, the change
    /// written back.
    pub(crate) async fn poll_device_code(
        &self,
        device_hash: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> Result<DevicePoll, StoreError> {
        let mut tx = self.begin().await?;
        let row = self.locked(&mut tx, &self.queries.lock_device, &device_hash.to_hex()).await?;
        let Some(mut found) = row.as_ref().map(record).transpose()? else { return Ok(DevicePoll::Invalid) };
        let before = found.clone();
        let polled = device::poll(&mut found, client_id, now_ms);
        if found != before {
            self.write_back(&mut tx, &found).await?;
            tx.commit().await.map_err(StoreError::backend)?;
        }
        Ok(polled)
    }

    async fn write_back(
        &self,
        tx: &mut sqlx::Transaction<'static, DB>,
        record: &DeviceCodeRecord,
    ) -> Result<(), StoreError> {
        let (decision, user_id) = record.decision.to_parts();
        sqlx::query(&self.queries.update_device)
            .bind(convert::int(record.interval))
            .bind(record.last_polled_at_ms.map(convert::int))
            .bind(decision)
            .bind(user_id)
            .bind(record.used_at.map(convert::int))
            .bind(record.device_hash.to_hex())
            .execute(&mut **tx)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}
