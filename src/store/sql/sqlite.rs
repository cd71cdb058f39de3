use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::convert::{self, MigrationError, MigrationProblem};
use super::schema;
use super::store::{now, sql_store};
use crate::store::{
    AccessTokenRecord, ClientRecord, FamilyRecord, Purge, PurgeCounts, RefreshTokenRecord, RevokedAccess,
    Rotation, RotationOutcome, Store, StoreError,
};

/// A [`Store`] in one SQLite file: the embedded, durable default. WAL mode, migrations
/// embedded, nothing to run beside the process.
///
/// ```
/// use tower_passport::store::{SqliteStore, Store};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport::store::StoreError> {
/// let store = SqliteStore::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// assert!(!store.is_revoked("some-jti").await?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    prefix: String,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("prefix", &self.prefix).finish_non_exhaustive()
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
            .busy_timeout(Duration::from_secs(5));
        // An in-memory database lives in one connection; a file is shared by several.
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { 8 })
            .min_connections(if memory { 1 } else { 0 })
            .idle_timeout(if memory { None } else { Some(Duration::from_secs(600)) })
            .max_lifetime(if memory { None } else { Some(Duration::from_secs(1800)) })
            .connect_with(options)
            .await
            .map_err(StoreError::backend)?;
        Ok(Self { pool, prefix })
    }

    /// Closes the pool (waiting for connections in use), as before a restart.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

sql_store!(SqliteStore, sqlx::Sqlite, begin = |pool| pool.begin_with("BEGIN IMMEDIATE"), lock = "");
