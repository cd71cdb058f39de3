//! The Laravel application's database: one sqlx pool on MySQL/MariaDB, PostgreSQL or
//! SQLite, each behind its feature.

use std::fmt;
use std::time::Duration;

use crate::error::{LaravelError, LaravelErrorKind};

/// The engines Laravel supports and this crate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// MySQL or MariaDB (feature `mysql`).
    MySql,
    /// PostgreSQL (feature `postgres`).
    Postgres,
    /// SQLite (feature `sqlite`).
    Sqlite,
}

/// The Laravel application's database, where Passport keeps its tables. Cheap to clone
/// (a pool).
///
/// ```
/// use tower_passport_laravel::{Engine, PassportDatabase};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_laravel::LaravelError> {
/// let database = PassportDatabase::connect_lazy("sqlite::memory:")?;
/// assert_eq!(database.engine(), Engine::Sqlite);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PassportDatabase {
    pool: Pool,
}

#[derive(Clone)]
pub(crate) enum Pool {
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

/// Runs `$body` with `$pool` bound to the database's pool, whatever its engine: the body
/// is written once and compiled per engine.
macro_rules! on_pool {
    ($database:expr, $pool:ident => $body:expr) => {
        match *$database.pool() {
            #[cfg(feature = "mysql")]
            $crate::database::Pool::MySql(ref $pool) => $body,
            #[cfg(feature = "postgres")]
            $crate::database::Pool::Postgres(ref $pool) => $body,
            #[cfg(feature = "sqlite")]
            $crate::database::Pool::Sqlite(ref $pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// How long a request waits for a pooled connection before it fails (and the guard
/// answers 503).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

impl PassportDatabase {
    /// A pool on the database `url` names (`mysql://` or `mariadb://`, `postgres://` or
    /// `postgresql://`, `sqlite:`), connecting on first use: a database that is down now
    /// fails the first query, not this call. Call it inside a tokio runtime.
    ///
    /// # Errors
    /// When the URL is invalid or names an engine whose feature is off.
    pub fn connect_lazy(url: &str) -> Result<Self, LaravelError> {
        let scheme = url.split(':').next().unwrap_or_default().to_ascii_lowercase();
        let invalid = |e: sqlx::Error| {
            LaravelError::new(LaravelErrorKind::Url, "the database URL does not parse").with_source(e)
        };
        let _ = &invalid;
        match scheme.as_str() {
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => {
                let url =
                    url.strip_prefix("mariadb").map_or_else(|| url.to_owned(), |rest| format!("mysql{rest}"));
                let options: sqlx::mysql::MySqlConnectOptions = url.parse().map_err(invalid)?;
                let pool = sqlx::mysql::MySqlPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy_with(options);
                Ok(Self::mysql(pool))
            }
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => {
                let options: sqlx::postgres::PgConnectOptions = url.parse().map_err(invalid)?;
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy_with(options);
                Ok(Self::postgres(pool))
            }
            #[cfg(feature = "sqlite")]
            "sqlite" => {
                let options: sqlx::sqlite::SqliteConnectOptions = url.parse().map_err(invalid)?;
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy_with(options);
                Ok(Self::sqlite(pool))
            }
            _ => Err(LaravelError::new(
                LaravelErrorKind::Url,
                format!(
                    "the database URL's scheme {scheme:?} is not one this build reads \
                     (mysql://, postgres://, sqlite:, each behind its feature)"
                ),
            )),
        }
    }

    /// Over an existing MySQL/MariaDB pool.
    #[cfg(feature = "mysql")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
    pub fn mysql(pool: sqlx::MySqlPool) -> Self {
        Self { pool: Pool::MySql(pool) }
    }

    /// Over an existing PostgreSQL pool.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn postgres(pool: sqlx::PgPool) -> Self {
        Self { pool: Pool::Postgres(pool) }
    }

    /// Over an existing SQLite pool.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn sqlite(pool: sqlx::SqlitePool) -> Self {
        Self { pool: Pool::Sqlite(pool) }
    }

    /// The engine behind the pool.
    pub fn engine(&self) -> Engine {
        on_pool!(self, pool => engine_of(pool))
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The `n`th (from 1) bind parameter in this engine's syntax.
    pub(crate) fn placeholder(&self, n: usize) -> String {
        match self.engine() {
            Engine::Postgres => format!("${n}"),
            Engine::MySql | Engine::Sqlite => "?".to_owned(),
        }
    }
}

/// The engine of a pool, by its type.
trait EngineOf {
    fn engine(&self) -> Engine;
}

#[cfg(feature = "mysql")]
impl EngineOf for sqlx::MySqlPool {
    fn engine(&self) -> Engine {
        Engine::MySql
    }
}

#[cfg(feature = "postgres")]
impl EngineOf for sqlx::PgPool {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }
}

#[cfg(feature = "sqlite")]
impl EngineOf for sqlx::SqlitePool {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }
}

fn engine_of(pool: &impl EngineOf) -> Engine {
    pool.engine()
}

impl fmt::Debug for PassportDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The engine only: a URL or pool options may carry a password.
        f.debug_struct("PassportDatabase").field("engine", &self.engine()).finish_non_exhaustive()
    }
}
