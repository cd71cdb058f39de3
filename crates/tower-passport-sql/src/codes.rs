//! The SQL store's authorization codes, written once for SQLite, PostgreSQL and MySQL: taken
//! as a rotation is (lock the row, read, ask `codes::take`, write the change back).

use sqlx::{Encode, Executor, IntoArguments, Type};

use super::convert;
use super::engine::{Engine, Sql};
use super::rows::{self, Columns};
use super::store::inserted;
use tower_passport_issuer::store::codes;
use tower_passport_issuer::store::{
    AuthorizationCodeRecord, CodeRedemption, IssuedFromCode, SecretHash, StoreError,
};

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
    pub(crate) async fn put_code(&self, code: AuthorizationCodeRecord) -> Result<(), StoreError> {
        let issued = code.issued.as_ref();
        let result = sqlx::query(&self.queries.insert_code)
            .bind(code.hash.to_hex())
            .bind(&code.client_id)
            .bind(&code.user_id)
            .bind(&code.redirect_uri)
            .bind(convert::join(&code.scopes))
            .bind(&code.code_challenge)
            .bind(&code.nonce)
            .bind(convert::int(code.issued_at))
            .bind(convert::int(code.expires_at))
            .bind(code.used_at.map(convert::int))
            .bind(code.reused_at.map(convert::int))
            .bind(issued.map(|issued| issued.access_jti.as_str()))
            .bind(issued.and_then(|issued| issued.family_id.as_deref()))
            .bind(&code.dpop_jkt)
            .bind(convert::join(&code.resources))
            .execute(&self.pool)
            .await;
        if !inserted::<DB>(result)? {
            return Err(StoreError::conflict("duplicate authorization code"));
        }
        Ok(())
    }

    /// One write transaction: the code's row is locked (PostgreSQL and MySQL: `FOR UPDATE`;
    /// SQLite: the write lock `BEGIN IMMEDIATE` took), read, and updated as `codes::take` says, so
    /// that of concurrent takes exactly one finds the code unused.
    pub(crate) async fn take_code(&self, hash: &SecretHash, now: u64) -> Result<CodeRedemption, StoreError> {
        let key = hash.to_hex();
        let mut tx = self.begin().await?;
        let row = self.locked(&mut tx, &self.queries.lock_code, &key).await?;
        let Some(mut code) = row.as_ref().map(rows::code).transpose()? else {
            return Ok(CodeRedemption::Invalid);
        };
        let first_reuse = code.reused_at.is_none();
        let redemption = codes::take(&mut code, now);
        let update = match &redemption {
            CodeRedemption::Invalid => return Ok(CodeRedemption::Invalid),
            CodeRedemption::Fresh(_) => Some(&self.queries.take_code),
            CodeRedemption::Reused(_) => first_reuse.then_some(&self.queries.reuse_code),
        };
        if let Some(update) = update {
            sqlx::query(update)
                .bind(convert::int(now))
                .bind(&key)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(redemption)
    }

    /// One write transaction, as [`take_code`](Self::take_code): the row is locked and its
    /// `reused_at` read as it is once any take that held the row has committed, then what
    /// was issued is recorded.
    pub(crate) async fn record_code_issue(
        &self,
        hash: &SecretHash,
        issued: IssuedFromCode,
    ) -> Result<bool, StoreError> {
        let key = hash.to_hex();
        let mut tx = self.begin().await?;
        let Some(row) = self.locked(&mut tx, &self.queries.lock_code_reuse, &key).await? else {
            return Ok(false);
        };
        let reused = row.opt_int("reused_at")?.is_some();
        sqlx::query(&self.queries.record_code_issue)
            .bind(&issued.access_jti)
            .bind(&issued.family_id)
            .bind(&key)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(reused)
    }
}
