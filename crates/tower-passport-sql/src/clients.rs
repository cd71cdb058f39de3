//! The SQL store's client operations, written once for SQLite, PostgreSQL and MySQL.

use sqlx::{Encode, Executor, IntoArguments, Type};

use super::convert;
use super::engine::{Engine, Sql};
use super::rows::{self, Columns};
use tower_passport_issuer::store::{ClientRecord, ClientSecretHash, ClientUpdate, StoreError};

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
    pub(crate) async fn put_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        sqlx::query(&self.queries.put_client)
            .bind(&client.id)
            .bind(&client.name)
            .bind(client.secret_hash.as_ref().map(ClientSecretHash::to_stored))
            .bind(convert::grants_text(&client.grants))
            .bind(client.allowed_scopes.as_deref().map(convert::join))
            .bind(client.first_party)
            .bind(client.revoked)
            .bind(convert::int(client.created_at))
            .bind(convert::join(&client.redirect_uris))
            .bind(client.owner.as_deref())
            .bind(client.require_pkce)
            .bind(client.provider.as_deref())
            .bind(client.skips_authorization)
            .bind(client.allowed_resources.as_deref().map(convert::join))
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    pub(crate) async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        self.find(&self.queries.client, id).await?.as_ref().map(rows::client).transpose()
    }

    pub(crate) async fn set_client_revoked(&self, id: &str, revoked: bool) -> Result<bool, StoreError> {
        let done = sqlx::query(&self.queries.set_client_revoked)
            .bind(revoked)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(DB::rows_affected(&done) > 0)
    }

    /// Locks the client, applies the update as [`ClientUpdate::apply`] does, and writes the
    /// columns it may change, in one transaction.
    pub(crate) async fn update_client(
        &self,
        id: &str,
        update: ClientUpdate,
    ) -> Result<Option<ClientRecord>, StoreError> {
        let mut tx = self.begin().await?;
        let Some(row) = self.locked(&mut tx, &self.queries.lock_client, id).await? else {
            return Ok(None);
        };
        let mut client = rows::client(&row)?;
        update.apply(&mut client);
        sqlx::query(&self.queries.update_client)
            .bind(&client.name)
            .bind(convert::join(&client.redirect_uris))
            .bind(client.secret_hash.as_ref().map(ClientSecretHash::to_stored))
            .bind(client.revoked)
            .bind(client.skips_authorization)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(Some(client))
    }

    pub(crate) async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let found = sqlx::query(&self.queries.all_clients)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        found.iter().map(rows::client).collect()
    }

    pub(crate) async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientRecord>, StoreError> {
        let found = sqlx::query(&self.queries.clients_of_owner)
            .bind(owner)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        found.iter().map(rows::client).collect()
    }
}
