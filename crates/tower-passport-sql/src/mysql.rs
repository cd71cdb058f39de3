use std::future::Future;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions, MySqlQueryResult};
use sqlx::{Connection, Executor, MySql, MySqlPool, Pool, Transaction};

use super::engine::{sql_store, Engine, Sql};
use super::migrate;
use super::queries::{Queries, Syntax};
use tower_passport_issuer::store::{
    AccessTokenRecord, AuthorizationCodeRecord, ClientRecord, ClientStore, ClientTokens, ClientUpdate,
    CodeRedemption, CodeStore, FailureStore, Failures, FamilyRecord, IssuedFromCode, Purge, PurgeCounts,
    PurgeStore, RefreshTokenRecord, RevocationStore, RevokedAccess, RevokedTokens, Rotation, RotationOutcome,
    SecretHash, SettingsStore, StoreError, TokenStore,
};

/// A [`Store`](tower_passport_issuer::store::Store) in MySQL or MariaDB (InnoDB), shared by
/// every node of a deployment: the database a Laravel application moving off Passport
/// usually has already.
///
/// Rotation and code exchange lock their rows (`SELECT … FOR UPDATE`) in one transaction,
/// so concurrent refreshes on different nodes still have exactly one winner. Ids and hashes
/// are `VARBINARY`, compared byte for byte whatever the server's default collation.
///
/// MySQL has no LISTEN/NOTIFY: revocations reach the other nodes' caches through another
/// bus, such as `tower_passport_redis::RedisRevocationBus`, or within the issuer's revocation
/// cache TTL without one.
///
/// ```no_run
/// use tower_passport_sql::MySqlStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = MySqlStore::connect("mysql://root@127.0.0.1:3306/test").await?;
/// store.migrate().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct MySqlStore {
    sql: Sql<MySql>,
}

impl std::fmt::Debug for MySqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MySqlStore").field("prefix", &self.sql.prefix()).finish_non_exhaustive()
    }
}

impl MySqlStore {
    /// Connects to `url` (`mysql://user:password@host:3306/database`; `mariadb://` is read
    /// the same way) with the default table prefix.
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
        let options: MySqlConnectOptions = url.parse().map_err(StoreError::backend)?;
        Self::connect_with_options(options, prefix)
    }

    /// Connects with explicit options (TLS, a socket) and a table prefix.
    ///
    /// # Errors
    /// When the prefix is not a plain identifier.
    pub fn connect_with_options(options: MySqlConnectOptions, prefix: &str) -> Result<Self, StoreError> {
        let prefix = super::checked_prefix(prefix)?;
        let pool = MySqlPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            .test_before_acquire(true)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(STRICT).await?;
                    Ok(())
                })
            })
            .connect_lazy_with(options);
        Ok(Self { sql: Sql::new(pool, &prefix) })
    }

    /// Opens one connection outside the pool and closes it: a server that refuses the
    /// connection, a wrong password or a missing database is reported with its cause, which
    /// the pool's acquire hides behind "pool timed out".
    ///
    /// # Errors
    /// The connection's own error, or a timeout after 10 seconds without an answer.
    pub async fn check_connection(&self) -> Result<(), StoreError> {
        let options = self.sql.pool.connect_options();
        let connecting = sqlx::MySqlConnection::connect_with(&*options);
        let connection = tokio::time::timeout(Duration::from_secs(10), connecting)
            .await
            .map_err(|_| {
                StoreError::backend(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "MySQL did not answer within 10 seconds",
                ))
            })?
            .map_err(StoreError::backend)?;
        connection.close().await.map_err(StoreError::backend)
    }

    /// The connection pool (for tests and administration).
    pub fn pool(&self) -> &MySqlPool {
        &self.sql.pool
    }
}

/// Adds `STRICT_ALL_TABLES` to the session's SQL mode, whatever the server's default: a
/// value too long for its column (an id past 255 bytes) is then an error, never cut short
/// in silence, which could make two long ids one.
const STRICT: &str = "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@sql_mode, ''), 'STRICT_ALL_TABLES')";

/// How long `migrate` waits for another node's migration run before giving up.
const MIGRATION_LOCK_WAIT: Duration = Duration::from_secs(600);

impl Engine for MySql {
    const LOCK: &'static str = " FOR UPDATE";
    const SYNTAX: Syntax = Syntax::MySql;
    const TRANSACTIONAL_DDL: bool = false;

    fn begin_write(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, sqlx::Error>> + Send {
        pool.begin()
    }

    fn rows_affected(result: &MySqlQueryResult) -> u64 {
        result.rows_affected()
    }

    /// Under a named lock (`GET_LOCK`) keyed by the database and the table prefix, on a
    /// connection taken out of the pool for the run: `RELEASE_LOCK` frees it when the run
    /// ends, however it ended, and if the run is dropped half-way the connection closes and
    /// the server frees the lock with it.
    async fn migrate(pool: &Pool<Self>, queries: &Queries) -> Result<(), StoreError> {
        let mut conn = pool.acquire().await.map_err(StoreError::backend)?.detach();
        let database: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
            .fetch_one(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        let name = migrate::lock_name(database.as_deref().unwrap_or_default(), &queries.prefix);
        let wait = i64::try_from(MIGRATION_LOCK_WAIT.as_secs()).unwrap_or(i64::MAX);
        // 1: taken; 0: still held by another run after the wait; NULL: an error.
        let taken: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
            .bind(&name)
            .bind(wait)
            .fetch_one(&mut conn)
            .await
            .map_err(StoreError::backend)?;
        if taken != Some(1) {
            let _ = conn.close().await;
            return Err(StoreError::backend(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "another node held the migration lock {name} for more than {} seconds",
                    MIGRATION_LOCK_WAIT.as_secs()
                ),
            )));
        }
        let outcome = migrate::apply::<MySql>(&mut conn, queries).await;
        // Closing the session releases the lock anyway; releasing first is the polite way.
        let _ = sqlx::query("SELECT RELEASE_LOCK(?)").bind(&name).execute(&mut conn).await;
        let _ = conn.close().await;
        outcome
    }
}

sql_store!(MySqlStore);
