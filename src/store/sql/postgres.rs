use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgQueryResult};
use sqlx::{PgPool, Pool, Postgres, Transaction};

use super::engine::{sql_store, Engine, Sql};
use crate::store::{
    AccessTokenRecord, AuthorizationCodeRecord, ClientRecord, ClientStore, ClientTokens, ClientUpdate,
    CodeRedemption, CodeStore, FailureStore, Failures, FamilyRecord, IssuedFromCode, Purge, PurgeCounts,
    PurgeStore, RefreshTokenRecord, RevocationStore, RevokedAccess, RevokedTokens, Rotation, RotationOutcome,
    SecretHash, SettingsStore, StoreError, TokenStore,
};

/// A [`Store`](crate::store::Store) in PostgreSQL, shared by every node of a deployment. Rotation locks the
/// family and token rows (`SELECT … FOR UPDATE`) in one transaction, so concurrent
/// refreshes on different nodes still have exactly one winner.
///
/// ```no_run
/// use tower_passport::store::PostgresStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport::store::StoreError> {
/// let store = PostgresStore::connect("postgres://postgres@127.0.0.1:5432/test").await?;
/// store.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    sql: Sql<Postgres>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("prefix", &self.sql.prefix()).finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` with the default table prefix.
    ///
    /// # Errors
    /// When the URL is invalid. The pool connects lazily, so a database that is down now
    /// makes requests fail with a [`StoreError`] (503 at the guard) until it is back.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_prefix(url, super::DEFAULT_PREFIX).await
    }

    /// As [`connect`](Self::connect), with a table prefix.
    ///
    /// # Errors
    /// When the URL is invalid or the prefix is not a plain identifier.
    pub async fn connect_with_prefix(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse().map_err(StoreError::backend)?;
        Self::connect_with_options(options, prefix)
    }

    /// Connects with explicit options (a `search_path`, for instance) and a table prefix.
    ///
    /// # Errors
    /// When the prefix is not a plain identifier.
    pub fn connect_with_options(options: PgConnectOptions, prefix: &str) -> Result<Self, StoreError> {
        let prefix = super::checked_prefix(prefix)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            .test_before_acquire(true)
            .connect_lazy_with(options);
        Ok(Self { sql: Sql::new(pool, &prefix) })
    }

    /// The connection pool (for LISTEN/NOTIFY and tests).
    pub fn pool(&self) -> &PgPool {
        &self.sql.pool
    }
}

impl Engine for Postgres {
    const LOCK: &'static str = " FOR UPDATE";

    fn begin_write(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, sqlx::Error>> + Send {
        pool.begin()
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

sql_store!(PostgresStore);
