use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

use super::convert::{self, MigrationError, MigrationProblem};
use super::schema;
use super::store::{now, sql_store};
use crate::store::{
    AccessTokenRecord, ClientRecord, FamilyRecord, Purge, PurgeCounts, RefreshTokenRecord, RevokedAccess,
    Rotation, RotationOutcome, Store, StoreError,
};

/// A [`Store`] in PostgreSQL, shared by every node of a deployment. Rotation locks the
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
    pool: PgPool,
    prefix: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("prefix", &self.prefix).finish_non_exhaustive()
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
        Ok(Self { pool, prefix })
    }

    /// The connection pool (for LISTEN/NOTIFY and tests).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

sql_store!(PostgresStore, sqlx::Postgres, begin = |pool| pool.begin(), lock = "FOR UPDATE");
