use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult, SqliteSynchronous,
};
use sqlx::{Connection, Pool, Sqlite, Transaction};

use super::engine::{sql_store, Engine, Sql};
use super::migrate;
use super::queries::{Queries, Syntax};
use tower_passport_issuer::store::{
    AccessTokenRecord, AuthorizationCodeRecord, ClientRecord, ClientStore, ClientTokens, ClientUpdate,
    CodeRedemption, CodeStore, FailureStore, Failures, FamilyRecord, IssuedFromCode, Purge, PurgeCounts,
    PurgeStore, RefreshTokenRecord, RevocationStore, RevokedAccess, RevokedTokens, Rotation, RotationOutcome,
    SecretHash, SettingsStore, StoreError, TokenStore,
};

/// A [`Store`](tower_passport_issuer::store::Store) in one SQLite file: the embedded, durable default. WAL mode, migrations
/// embedded, nothing to run beside the process.
///
/// ```
/// use tower_passport_issuer::store::RevocationStore;
/// use tower_passport_sql::SqliteStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = SqliteStore::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// assert!(!store.is_revoked("some-jti").await?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    sql: Sql<Sqlite>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("prefix", &self.sql.prefix()).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://quickstart.db`,
    /// `sqlite::memory:`), in WAL mode, with the default table prefix.
    ///
    /// # Errors
    /// When the file cannot be opened.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_prefix(url, super::DEFAULT_PREFIX).await
    }

    /// As [`connect`](Self::connect), with a table prefix of ASCII letters, digits and `_`.
    ///
    /// # Errors
    /// When the file cannot be opened or the prefix is not a plain identifier.
    pub async fn connect_with_prefix(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let prefix = super::checked_prefix(prefix)?;
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(StoreError::backend)?
            .create_if_missing(true)
            .journal_mode(if memory { SqliteJournalMode::Memory } else { SqliteJournalMode::Wal })
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT);
        // An in-memory database lives in one connection; a file is shared by several.
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { 8 })
            .min_connections(if memory { 1 } else { 0 })
            .idle_timeout(if memory { None } else { Some(Duration::from_secs(600)) })
            .max_lifetime(if memory { None } else { Some(Duration::from_secs(1800)) });
        let pool = open(pool, options).await.map_err(StoreError::backend)?;
        Ok(Self { sql: Sql::new(pool, &prefix) })
    }

    /// Closes the pool (waiting for connections in use), as before a restart.
    pub async fn close(&self) {
        self.sql.pool.close().await;
    }
}

/// How long a connection waits for another one's write lock before `database is locked`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens the pool. Nodes that open a brand-new database file at the same instant race to
/// set it up (WAL mode), and SQLite answers a loser `database is locked` at once, without
/// waiting through the busy timeout: such a failure is retried, with short pauses, for as
/// long as the busy timeout would have waited.
async fn open(pool: SqlitePoolOptions, options: SqliteConnectOptions) -> Result<Pool<Sqlite>, sqlx::Error> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(10);
    loop {
        match pool.clone().connect_with(options.clone()).await {
            Err(error) if is_busy(&error) && Instant::now() + pause < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(250));
            }
            opened => return opened,
        }
    }
}

/// Whether `error` is SQLite's `SQLITE_BUSY` (5), in any of its extended forms.
fn is_busy(error: &sqlx::Error) -> bool {
    let code = error.as_database_error().and_then(|error| error.code()?.parse::<i32>().ok());
    code.is_some_and(|code| code & 0xff == 5)
}

impl Engine for Sqlite {
    // `BEGIN IMMEDIATE` took the write lock already.
    const LOCK: &'static str = "";
    const SYNTAX: Syntax = Syntax::Standard;
    const TRANSACTIONAL_DDL: bool = true;

    fn begin_write(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, sqlx::Error>> + Send {
        pool.begin_with("BEGIN IMMEDIATE")
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    /// In one write transaction taken up front (`BEGIN IMMEDIATE`), each step a savepoint
    /// in it: other openers wait for it (the pool's busy timeout), then find the steps
    /// applied. A step that fails rolls back to its savepoint; the steps before it are kept.
    async fn migrate(pool: &Pool<Self>, queries: &Queries) -> Result<(), StoreError> {
        let mut conn = pool.acquire().await.map_err(StoreError::backend)?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(StoreError::backend)?;
        let outcome = migrate::apply::<Sqlite>(&mut tx, queries).await;
        // Keeps the steps that were applied before a failed one; the failure is the news.
        let committed = tx.commit().await.map_err(StoreError::backend);
        outcome.and(committed)
    }
}

sql_store!(SqliteStore);
