use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgQueryResult};
use sqlx::{Connection, PgPool, Pool, Postgres, Transaction};

use super::engine::{sql_store, Engine, Sql};
use super::migrate;
use super::queries::{Queries, Syntax};
use tower_passport_issuer::store::{
    AccessTokenRecord, AuthorizationCodeRecord, ClientRecord, ClientStore, ClientTokens, ClientUpdate,
    CodeRedemption, CodeStore, FailureStore, Failures, FamilyRecord, IssuedFromCode, Purge, PurgeCounts,
    PurgeStore, RefreshTokenRecord, RevocationStore, RevokedAccess, RevokedTokens, Rotation, RotationOutcome,
    SecretHash, SettingsStore, StoreError, TokenStore,
};

/// A [`Store`](tower_passport_issuer::store::Store) in PostgreSQL, shared by every node of a
/// deployment.
///
/// Rotation locks the family and token rows (`SELECT … FOR UPDATE`) in one transaction, so
/// concurrent refreshes on different nodes still have exactly one winner.
///
/// ```no_run
/// use tower_passport_sql::PostgresStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
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

    /// Opens one connection outside the pool and closes it: a server that refuses the
    /// connection, a wrong password or a missing database is reported with its cause
    /// (`Connection refused`), which the pool's acquire hides behind "pool timed out"
    /// because it retries a refused connection until its timeout.
    ///
    /// # Errors
    /// The connection's own error, or a timeout after 10 seconds without an answer.
    pub async fn check_connection(&self) -> Result<(), StoreError> {
        use sqlx::Connection;
        let options = self.sql.pool.connect_options();
        let connecting = sqlx::PgConnection::connect_with(&*options);
        let connection = tokio::time::timeout(Duration::from_secs(10), connecting)
            .await
            .map_err(|_| {
                StoreError::backend(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "PostgreSQL did not answer within 10 seconds",
                ))
            })?
            .map_err(StoreError::backend)?;
        connection.close().await.map_err(StoreError::backend)
    }

    /// The connection pool (for LISTEN/NOTIFY and tests).
    pub fn pool(&self) -> &PgPool {
        &self.sql.pool
    }
}

impl Engine for Postgres {
    const LOCK: &'static str = " FOR UPDATE";
    const SYNTAX: Syntax = Syntax::Standard;
    const TRANSACTIONAL_DDL: bool = true;

    fn begin_write(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, sqlx::Error>> + Send {
        pool.begin()
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    /// Under a session-level advisory lock keyed by the schema and the table prefix, on a
    /// connection taken out of the pool for the run: if the run is dropped half-way, the
    /// connection closes and the lock goes with it, rather than staying on a pooled
    /// connection.
    async fn migrate(pool: &Pool<Self>, queries: &Queries) -> Result<(), StoreError> {
        let mut conn = pool.acquire().await.map_err(StoreError::backend)?.detach();
        let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        let key = migrate::lock_key(schema.as_deref().unwrap_or_default(), &queries.prefix);
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        let outcome = migrate::apply::<Postgres>(&mut conn, queries).await;
        // Closing the session releases the lock anyway; unlocking first is the polite way.
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(key).execute(&mut conn).await;
        let _ = conn.close().await;
        outcome
    }
}

sql_store!(PostgresStore);
