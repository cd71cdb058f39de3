//! A Laravel application's database with Passport's tables, shaped as Passport's
//! migrations (`database/migrations/2016_06_01_*`) and Laravel's schema grammar make them
//! on each engine, under a table prefix of its own so tests never collide.
//!
//! The test side talks to it through sqlx's `Any` driver with literal SQL (values the test
//! controls), independently of the crate under test.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::AnyPool;
use tower_passport_laravel::{PassportDatabase, PassportTables};

use crate::tools;

/// The engines Laravel supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    MySql,
    Postgres,
    Sqlite,
}

/// One test's Passport tables.
pub struct PassportDb {
    pub engine: Engine,
    pub url: String,
    pub prefix: String,
    pub pool: AnyPool,
}

impl PassportDb {
    /// Passport's tables (and Laravel's `users`) on `engine`, under a fresh prefix; `None`
    /// when the engine's server is not configured (a failure under CI).
    pub async fn create(engine: Engine) -> Option<Self> {
        sqlx::any::install_default_drivers();
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let prefix = format!("lp{}_{}_", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let url = match engine {
            Engine::MySql => match std::env::var("TEST_MYSQL_URL") {
                Ok(url) => url,
                Err(_) => return tools::unavailable("MariaDB", "TEST_MYSQL_URL is not set"),
            },
            Engine::Postgres => match std::env::var("TEST_POSTGRES_URL") {
                Ok(url) => url,
                Err(_) => return tools::unavailable("PostgreSQL", "TEST_POSTGRES_URL is not set"),
            },
            Engine::Sqlite => {
                let path = std::env::temp_dir().join(format!("{prefix}laravel.sqlite"));
                let _ = std::fs::remove_file(&path);
                format!("sqlite://{}?mode=rwc", path.display())
            }
        };
        let pool = sqlx::any::AnyPoolOptions::new().max_connections(4).connect(&url).await.expect("connect");
        let db = Self { engine, url, prefix, pool };
        for statement in db.schema() {
            db.execute(&statement).await;
        }
        Some(db)
    }

    /// The crate under test's view of the same database.
    pub fn database(&self) -> PassportDatabase {
        PassportDatabase::connect_lazy(&self.url).expect("database URL")
    }

    pub fn tables(&self) -> PassportTables {
        PassportTables::with_prefix(&self.prefix).expect("prefix")
    }

    /// `name` with this test's prefix.
    pub fn table(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub async fn execute(&self, sql: &str) {
        sqlx::raw_sql(sql).execute(&self.pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// A client row as `Passport::client()->forceFill([...])->save()` writes it (Passport
    /// 12's columns), with the given id.
    pub async fn insert_client(
        &self,
        id: u64,
        name: &str,
        secret: Option<&str>,
        redirect: &str,
        flags: ClientFlags,
    ) {
        let secret = secret.map_or("NULL".to_owned(), |secret| format!("'{secret}'"));
        let sql = format!(
            "INSERT INTO {t} (id, user_id, name, secret, provider, redirect, personal_access_client, \
             password_client, revoked, created_at, updated_at) VALUES ({id}, {user}, '{name}', {secret}, \
             {provider}, '{redirect}', {pac}, {password}, {revoked}, {now}, {now})",
            t = self.table("oauth_clients"),
            user = flags.user_id.map_or("NULL".to_owned(), |id| id.to_string()),
            provider = flags.provider.map_or("NULL".to_owned(), |p| format!("'{p}'")),
            pac = bool_sql(flags.personal_access),
            password = bool_sql(flags.password),
            revoked = bool_sql(flags.revoked),
            now = self.now(),
        );
        self.execute(&sql).await;
    }

    /// An access token's row, as Passport's `AccessTokenRepository::persistNewAccessToken`.
    pub async fn insert_access_token(&self, jti: &str, user_id: Option<u64>, client_id: u64) {
        let sql = format!(
            "INSERT INTO {t} (id, user_id, client_id, name, scopes, revoked, created_at, updated_at, expires_at) \
             VALUES ('{jti}', {user}, {client_id}, NULL, '[]', FALSE, {now}, {now}, {later})",
            t = self.table("oauth_access_tokens"),
            user = user_id.map_or("NULL".to_owned(), |id| id.to_string()),
            now = self.now(),
            later = self.later(),
        );
        self.execute(&sql).await;
    }

    /// A refresh token's row, as Passport's `RefreshTokenRepository::persistNewRefreshToken`.
    pub async fn insert_refresh_token(&self, id: &str, access_token_id: &str, expires_in_seconds: i64) {
        let sql = format!(
            "INSERT INTO {t} (id, access_token_id, revoked, expires_at) VALUES ('{id}', '{access_token_id}', \
             FALSE, {expires})",
            t = self.table("oauth_refresh_tokens"),
            expires = self.seconds_from_now(expires_in_seconds),
        );
        self.execute(&sql).await;
    }

    /// A user as Laravel's default `users` migration shapes it.
    pub async fn insert_user(&self, id: u64, email: &str, password_hash: &str) {
        let sql = format!(
            "INSERT INTO {t} (id, name, email, password, created_at, updated_at) VALUES ({id}, 'User {id}', \
             '{email}', '{password_hash}', {now}, {now})",
            t = self.table("users"),
            now = self.now(),
        );
        self.execute(&sql).await;
    }

    /// Whether a row's `revoked` is set.
    pub async fn revoked(&self, table: &str, id: &str) -> bool {
        let sql = format!("SELECT COUNT(*) FROM {} WHERE id = '{id}' AND revoked", self.table(table));
        let (revoked,): (i64,) = sqlx::query_as(&sql).fetch_one(&self.pool).await.expect("read revoked");
        revoked == 1
    }

    fn now(&self) -> String {
        self.seconds_from_now(0)
    }

    fn later(&self) -> String {
        self.seconds_from_now(3600)
    }

    /// `CURRENT_TIMESTAMP` moved by `seconds`, in the engine's SQL (UTC, as Laravel's
    /// `app.timezone` defaults to).
    fn seconds_from_now(&self, seconds: i64) -> String {
        match self.engine {
            Engine::MySql => format!("TIMESTAMPADD(SECOND, {seconds}, UTC_TIMESTAMP())"),
            Engine::Postgres => format!("(NOW() AT TIME ZONE 'UTC' + INTERVAL '{seconds} seconds')"),
            Engine::Sqlite => format!("datetime('now', '{seconds:+} seconds')"),
        }
    }

    /// Drops this test's tables.
    pub async fn drop_tables(&self) {
        for table in ["oauth_access_tokens", "oauth_refresh_tokens", "oauth_clients", "users"] {
            let _ = sqlx::raw_sql(&format!("DROP TABLE IF EXISTS {}", self.table(table)))
                .execute(&self.pool)
                .await;
        }
    }

    /// The `CREATE TABLE`s Laravel's schema grammar emits for Passport's migrations and
    /// the default `users` migration, on this engine.
    fn schema(&self) -> Vec<String> {
        let (bool_t, big_increments, ubig, string_t, id_string, datetime, timestamp) = match self.engine {
            Engine::MySql => (
                "tinyint(1)",
                "bigint unsigned not null auto_increment primary key",
                "bigint unsigned",
                "varchar(255)",
                "varchar(100)",
                "datetime",
                "timestamp",
            ),
            Engine::Postgres => (
                "boolean",
                "bigserial not null primary key",
                "bigint",
                "varchar(255)",
                "varchar(100)",
                "timestamp(0) without time zone",
                "timestamp(0) without time zone",
            ),
            Engine::Sqlite => (
                "tinyint(1)",
                "integer not null primary key autoincrement",
                "integer",
                "varchar",
                "varchar",
                "datetime",
                "datetime",
            ),
        };
        let t = |name: &str| self.table(name);
        vec![
            format!(
                "CREATE TABLE {} (id {id_string} not null primary key, user_id {ubig} null, client_id {ubig} not null, \
                 name {string_t} null, scopes text null, revoked {bool_t} not null, created_at {timestamp} null, \
                 updated_at {timestamp} null, expires_at {datetime} null)",
                t("oauth_access_tokens")
            ),
            format!(
                "CREATE TABLE {} (id {id_string} not null primary key, access_token_id {id_string} not null, \
                 revoked {bool_t} not null, expires_at {datetime} null)",
                t("oauth_refresh_tokens")
            ),
            format!(
                "CREATE TABLE {} (id {big_increments}, user_id {ubig} null, name {string_t} not null, \
                 secret {id_string} null, provider {string_t} null, redirect text not null, \
                 personal_access_client {bool_t} not null, password_client {bool_t} not null, \
                 revoked {bool_t} not null, created_at {timestamp} null, updated_at {timestamp} null)",
                t("oauth_clients")
            ),
            format!(
                "CREATE TABLE {} (id {big_increments}, name {string_t} not null, email {string_t} not null unique, \
                 email_verified_at {timestamp} null, password {string_t} not null, remember_token {id_string} null, \
                 created_at {timestamp} null, updated_at {timestamp} null)",
                t("users")
            ),
        ]
    }
}

/// A client's columns beside its id, name, secret and redirect.
#[derive(Clone, Copy, Default)]
pub struct ClientFlags {
    pub user_id: Option<u64>,
    pub provider: Option<&'static str>,
    pub personal_access: bool,
    pub password: bool,
    pub revoked: bool,
}

fn bool_sql(value: bool) -> &'static str {
    if value {
        "TRUE"
    } else {
        "FALSE"
    }
}
