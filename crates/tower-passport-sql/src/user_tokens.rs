//! A user's live tokens, written once for SQLite, PostgreSQL and MySQL: listed by client
//! (the authorized-apps API), of one client, and the scopes they grant that client (the
//! approval screen's question, answered in the database).

use sqlx::{Encode, Executor, IntoArguments, Type};
use std::collections::BTreeSet;

use super::convert;
use super::engine::{Engine, Sql};
use super::rows::{self, Columns};
use tower_passport_issuer::store::{ClientTokens, StoreError};

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
    pub(crate) async fn user_tokens(&self, user_id: &str, now: u64) -> Result<Vec<ClientTokens>, StoreError> {
        let access = self.user_rows(&self.queries.live_user_access, user_id, now).await?;
        let refresh = self.user_rows(&self.queries.live_user_refresh, user_id, now).await?;
        let access = access.iter().map(rows::access).collect::<Result<Vec<_>, _>>()?;
        let refresh = refresh.iter().map(rows::refresh).collect::<Result<Vec<_>, _>>()?;
        Ok(ClientTokens::group_live(access, refresh, now))
    }

    pub(crate) async fn user_client_tokens(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Option<ClientTokens>, StoreError> {
        let access =
            self.user_client_rows(&self.queries.live_user_client_access, user_id, client_id, now).await?;
        let refresh =
            self.user_client_rows(&self.queries.live_user_client_refresh, user_id, client_id, now).await?;
        let access = access.iter().map(rows::access).collect::<Result<Vec<_>, _>>()?;
        let refresh = refresh.iter().map(rows::refresh).collect::<Result<Vec<_>, _>>()?;
        Ok(ClientTokens::group_live(access, refresh, now).pop())
    }

    pub(crate) async fn granted_scopes(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let now = convert::int(now);
        let lists = sqlx::query(&self.queries.granted_scopes)
            .bind(user_id)
            .bind(now)
            .bind(client_id)
            .bind(user_id)
            .bind(now)
            .bind(client_id)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        if lists.is_empty() {
            return Ok(None);
        }
        let mut granted = BTreeSet::new();
        for list in &lists {
            granted.extend(convert::split(&list.text("scopes")?));
        }
        Ok(Some(granted.into_iter().collect()))
    }

    /// The rows `query` finds for a user (`$1`) at `now` (`$2`) and a client (`$3`).
    async fn user_client_rows(
        &self,
        query: &str,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Vec<DB::Row>, StoreError> {
        sqlx::query(query)
            .bind(user_id)
            .bind(convert::int(now))
            .bind(client_id)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)
    }

    /// The rows `query` finds for a user (`$1`) at `now` (`$2`).
    async fn user_rows(&self, query: &str, user_id: &str, now: u64) -> Result<Vec<DB::Row>, StoreError> {
        sqlx::query(query)
            .bind(user_id)
            .bind(convert::int(now))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)
    }
}
