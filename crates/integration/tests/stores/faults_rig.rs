//! The fixture of the store fault matrix (`faults_matrix.rs`): one issuer, its token
//! endpoint and a guard, on a real server (PostgreSQL, MariaDB or Redis) reached through
//! the fault [`Proxy`] (SQLite: a file, no proxy), with a database, schema or key prefix of its own (named
//! `storefaults…`), and what the scenarios ask of it: a guarded request, a token request,
//! a revocation, a kill of its own connections on the server.
//!
//! Every store runs with short timeouts ([`OPERATION_TIMEOUT`]), so a stalled server costs
//! the matrix half a second per request, and every request is bounded by [`HANG`], a hang
//! detector rather than a performance assertion.

use crate::proxy::Proxy;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::postgres::PgConnectOptions;
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::{guard::TokenOnly, Algorithm, GuardLayer};
use tower_passport_issuer::endpoint::{OAuthRoutes, OAuthServer};
use tower_passport_issuer::store::{GrantType, Store};
use tower_passport_issuer::{
    AuthenticatedClient, ClientRegistration, Issuer, OAuthError, OAuthErrorCode, ScopeRegistry, SigningKey,
    TokenRequest,
};
use tower_passport_redis::RedisStore;
use tower_passport_sql::{MySqlStore, PostgresStore, SqliteStore};

/// The stores' operation timeout (SQL) and response and connection timeouts (Redis) here.
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(500);

/// How long any one request may take before the test calls it a hang: ten operation
/// timeouts, for a loaded machine.
pub const HANG: Duration = Duration::from_secs(5);

/// How long the stores get to serve again after the fault ends.
pub const RECOVERY: Duration = Duration::from_secs(15);

/// The servers of the matrix.
#[derive(Clone, Copy, Debug)]
pub enum Engine {
    Postgres,
    MariaDb,
    Redis,
    /// A file of its own, no proxy (`faults_sqlite.rs`).
    Sqlite,
}

/// What the fixture needs to kill its connections and to clean up after itself.
enum Admin {
    /// The pool, and the schema (also the store's `application_name`).
    Postgres(sqlx::PgPool, String),
    /// The pool, and the database.
    MariaDb(sqlx::MySqlPool, String),
    /// The server's URL, and the key prefix.
    Redis(String, String),
    /// The database file.
    Sqlite(PathBuf),
    /// Another rig's data: nothing of its own.
    Nothing,
}

/// One answer: status, `WWW-Authenticate`, body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub challenge: Option<String>,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("a JSON body: {self:?}"))
    }

    /// The guard's answer to a store it cannot reach: 503 `temporarily_unavailable`, and no
    /// RFC 6750 challenge (the token was not found wanting).
    pub fn assert_guard_unavailable(&self) {
        assert_eq!(self.status, StatusCode::SERVICE_UNAVAILABLE, "{self:?}");
        assert_eq!(self.challenge, None, "{self:?}");
        assert_eq!(self.json()["error"], "temporarily_unavailable", "{self:?}");
    }

    /// The token endpoint's: an RFC 6749 §5.2 error body, `temporarily_unavailable`, with 503.
    pub fn assert_endpoint_unavailable(&self) {
        assert_eq!(self.status, StatusCode::SERVICE_UNAVAILABLE, "{self:?}");
        assert_eq!(self.json()["error"], "temporarily_unavailable", "{self:?}");
        assert!(self.json()["error_description"].is_string(), "{self:?}");
        assert!(self.json().get("access_token").is_none(), "{self:?}");
    }
}

pub struct Rig {
    pub engine: Engine,
    proxy: Option<Proxy>,
    pub issuer: Issuer,
    pub guard: GuardLayer,
    pub routes: OAuthRoutes,
    pub client: AuthenticatedClient,
    client_id: String,
    secret: String,
    admin: Admin,
}

/// `storefaults_<process>_<n>`: unique in this run, and among the helpers' runs.
fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("storefaults_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

async fn resolve(host: &str, port: u16) -> SocketAddr {
    tokio::net::lookup_host((host, port)).await.expect("resolve").next().expect("an address")
}

fn env(name: &str) -> Option<String> {
    let value = std::env::var(name).ok().filter(|value| !value.is_empty());
    if value.is_none() {
        eprintln!("skipping: {name} is not set");
    }
    value
}

impl Engine {
    /// The fixture on this engine's server, or `None` (saying why) without it.
    pub async fn rig(self) -> Option<Rig> {
        let name = unique_name();
        match self {
            Engine::Postgres => {
                let url = env("TEST_POSTGRES_URL")?;
                let options: PgConnectOptions = url.parse().expect("TEST_POSTGRES_URL parses");
                let proxy = Proxy::start(resolve(options.get_host(), options.get_port()).await).await;
                let admin = sqlx::PgPool::connect(&url).await.expect("admin connection");
                sqlx::query(&format!("CREATE SCHEMA \"{name}\"")).execute(&admin).await.expect("schema");
                let through = options
                    .host("127.0.0.1")
                    .port(proxy.addr.port())
                    .application_name(&name)
                    .options([("search_path", name.as_str())]);
                let store = PostgresStore::connect_with_options(through, "passport_")
                    .expect("store")
                    .operation_timeout(OPERATION_TIMEOUT);
                store.migrate().await.expect("migrate");
                Some(Rig::on(self, Arc::new(store), Some(proxy), Admin::Postgres(admin, name)).await)
            }
            Engine::MariaDb => {
                let url = env("TEST_MYSQL_URL")?;
                let options: MySqlConnectOptions = url.parse().expect("TEST_MYSQL_URL parses");
                let proxy = Proxy::start(resolve(options.get_host(), options.get_port()).await).await;
                let admin = sqlx::MySqlPool::connect(&url).await.expect("admin connection");
                sqlx::query(&format!("CREATE DATABASE `{name}`")).execute(&admin).await.expect("database");
                let through = options.host("127.0.0.1").port(proxy.addr.port()).database(&name);
                let store = MySqlStore::connect_with_options(through, "passport_")
                    .expect("store")
                    .operation_timeout(OPERATION_TIMEOUT);
                store.migrate().await.expect("migrate");
                Some(Rig::on(self, Arc::new(store), Some(proxy), Admin::MariaDb(admin, name)).await)
            }
            Engine::Redis => {
                let url = env("TEST_REDIS_URL")?;
                let info = redis::Client::open(url.as_str()).expect("TEST_REDIS_URL parses");
                let info = info.get_connection_info();
                let redis::ConnectionAddr::Tcp(host, port) = info.addr() else {
                    panic!("TEST_REDIS_URL is not a plain TCP address");
                };
                let proxy = Proxy::start(resolve(host, *port).await).await;
                let db = info.redis_settings().db();
                let through = format!("redis://127.0.0.1:{}/{db}", proxy.addr.port());
                let prefix = format!("{}:", name.replace('_', "-"));
                let store = RedisStore::builder()
                    .prefix(&prefix)
                    .response_timeout(OPERATION_TIMEOUT)
                    .connection_timeout(OPERATION_TIMEOUT)
                    .reconnect_retries(1)
                    .connect(&through)
                    .await
                    .expect("store");
                Some(Rig::on(self, Arc::new(store), Some(proxy), Admin::Redis(url, prefix)).await)
            }
            Engine::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = format!("sqlite://{}", path.display());
                let store =
                    SqliteStore::connect(&url).await.expect("store").operation_timeout(OPERATION_TIMEOUT);
                store.migrate().await.expect("migrate");
                Some(Rig::on(self, Arc::new(store), None, Admin::Sqlite(path)).await)
            }
        }
    }
}

impl Rig {
    /// An issuer on `store` (see [`issuer_on`]), its endpoints, a guard, and a confidential
    /// client.
    async fn on<S: Store>(engine: Engine, store: Arc<S>, proxy: Option<Proxy>, admin: Admin) -> Self {
        let issuer = issuer_on(store).await;
        let registered = issuer
            .register_client(
                ClientRegistration::confidential("storefaults").grants([GrantType::ClientCredentials]),
            )
            .await
            .expect("client");
        let secret = registered.secret.as_ref().map(|s| s.expose().to_owned()).expect("a secret");
        let client_id = registered.client.id.clone();
        Self::around(engine, issuer, client_id, secret, proxy, admin).await
    }

    /// The rig of `issuer`, whose store holds the client `client_id`.
    async fn around(
        engine: Engine,
        issuer: Issuer,
        client_id: String,
        secret: String,
        proxy: Option<Proxy>,
        admin: Admin,
    ) -> Self {
        let guard = GuardLayer::builder(issuer.verifier())
            .resolver(issuer.resolver(TokenOnly))
            .resolver_cache(0, Duration::ZERO)
            .revocation(issuer.revocation_list())
            .build()
            .expect("guard");
        let routes = OAuthServer::new(issuer.clone()).build();
        let client = issuer.authenticate_client(&client_id, Some(&secret)).await.expect("authenticated");
        Self { engine, proxy, issuer, guard, routes, client, client_id, secret, admin }
    }

    /// A second rig on `store`, another handle on this rig's data (the same file opened
    /// read-only, say): the same signing key and client, read from the store. Dropping it
    /// cleans nothing up.
    pub async fn beside<S: Store>(&self, store: Arc<S>) -> Rig {
        let issuer = issuer_on(store).await;
        Self::around(self.engine, issuer, self.client_id.clone(), self.secret.clone(), None, Admin::Nothing)
            .await
    }

    /// The proxy between the store and its server.
    pub fn proxy(&self) -> &Proxy {
        self.proxy.as_ref().expect("an engine behind the proxy")
    }

    /// The database file (SQLite).
    pub fn path(&self) -> &Path {
        match &self.admin {
            Admin::Sqlite(path) => path,
            _ => panic!("{:?} has no file", self.engine),
        }
    }

    /// A `read` token, from the issuer's API; the store must be up.
    pub async fn read_token(&self) -> String {
        let request = TokenRequest::client_credentials(self.client.clone()).scope("read");
        self.issuer.grant(request).await.expect("a token").access_token
    }

    /// The guard's answer to a request bearing `token`.
    pub async fn guard(&self, token: &str) -> Answer {
        let service =
            ServiceBuilder::new().layer(self.guard.clone()).service_fn(|_: Request<Full<Bytes>>| async {
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"{}"))))
            });
        let request = Request::builder()
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .body(Full::new(Bytes::new()))
            .expect("request");
        let response = bounded("the guard", service.oneshot(request)).await.expect("infallible");
        answer(response).await
    }

    /// The token endpoint's answer to a client-credentials request (Basic authentication).
    pub async fn token_endpoint(&self) -> Answer {
        let basic = STANDARD.encode(format!("{}:{}", self.client_id, self.secret));
        let request = Request::post(tower_passport_issuer::paths::TOKEN)
            .header(AUTHORIZATION, format!("Basic {basic}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(b"grant_type=client_credentials&scope=read")))
            .expect("request");
        let response =
            bounded("the token endpoint", self.routes.clone().oneshot(request)).await.expect("routes");
        answer(response).await
    }

    /// Revokes `token` through the issuer's API: `Ok` is an acknowledged revocation.
    pub async fn revoke(&self, token: &str) -> Result<(), OAuthError> {
        bounded("a revocation", self.issuer.revoke(&self.client, token, None)).await.map(|_| ())
    }

    /// Waits until the guard accepts `token` again, through the same objects.
    pub async fn await_recovery(&self, token: &str) {
        let deadline = Instant::now() + RECOVERY;
        loop {
            let answer = self.guard(token).await;
            if answer.status == StatusCode::OK {
                return;
            }
            assert!(Instant::now() < deadline, "{:?} never recovered: {answer:?}", self.engine);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every token in `revoked` is refused with 401, asked of the store itself: the
    /// issuer's caches are emptied first, so nothing is answered from this node's memory.
    pub async fn assert_refused_by_the_store(&self, revoked: &[String]) {
        self.issuer.revocation_list().invalidate_everything();
        for token in revoked {
            let answer = self.guard(token).await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{:?} lost a revocation: {answer:?}",
                self.engine
            );
            assert!(answer.challenge.as_deref().is_some_and(|c| c.contains("invalid_token")), "{answer:?}");
        }
    }

    /// Kills the fixture's own connections on the server (`pg_terminate_backend`, MariaDB's
    /// `KILL`, `CLIENT KILL`); how many.
    pub async fn kill(&self) -> u64 {
        match &self.admin {
            Admin::Postgres(admin, name) => sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = $1 AND pid <> pg_backend_pid()) AS killed",
            )
            .bind(name)
            .fetch_one(admin)
            .await
            .expect("pg_terminate_backend")
            .unsigned_abs(),
            Admin::MariaDb(admin, name) => {
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
                )
                .bind(name)
                .fetch_all(admin)
                .await
                .expect("the process list");
                let mut killed = 0;
                for id in ids {
                    // Gone already is fine: it is killed either way.
                    if sqlx::query(&format!("KILL {id}")).execute(admin).await.is_ok() {
                        killed += 1;
                    }
                }
                killed
            }
            Admin::Sqlite(_) | Admin::Nothing => 0,
            Admin::Redis(url, _) => {
                let Ok(mut admin) = plain_redis(url).await else { return 0 };
                let mut killed = 0;
                for addr in self.proxy().upstream() {
                    let outcome: redis::RedisResult<u64> = redis::cmd("CLIENT")
                        .arg("KILL")
                        .arg("ADDR")
                        .arg(addr.to_string())
                        .arg("SKIPME")
                        .arg("yes")
                        .query_async(&mut admin)
                        .await;
                    killed += outcome.unwrap_or(0);
                }
                killed
            }
        }
    }

    /// Drops the fixture's schema, database, keys or file.
    ///
    /// The store's connections are closed first (the proxy cut, the store dropped): one
    /// left holding a lock would make the `DROP` wait. The `DROP` is bounded all the same: a
    /// schema left behind is a smaller harm than a test that never ends.
    pub async fn clean_up(self) {
        let Rig { admin, proxy, issuer, guard, routes, client, .. } = self;
        if let Some(proxy) = &proxy {
            proxy.cut();
        }
        drop((issuer, guard, routes, client));
        if tokio::time::timeout(HANG, drop_everything(admin)).await.is_err() {
            eprintln!("could not clean up within {HANG:?}; left behind");
        }
    }
}

/// Drops what `admin` names.
async fn drop_everything(admin: Admin) {
    match admin {
        Admin::Nothing => {}
        Admin::Sqlite(path) => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        Admin::Postgres(admin, name) => {
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")).execute(&admin).await;
        }
        Admin::MariaDb(admin, name) => {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`")).execute(&admin).await;
        }
        Admin::Redis(url, prefix) => {
            if let Ok(mut admin) = plain_redis(&url).await {
                // Prefixes here hold no glob characters.
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{prefix}*"))
                    .query_async(&mut admin)
                    .await
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _: redis::RedisResult<u64> =
                        redis::cmd("DEL").arg(keys).query_async(&mut admin).await;
                }
            }
        }
    }
}

/// An issuer on `store` whose negative revocation answers are never cached (every guarded
/// request asks the store), signing with the key the store holds (made on first use).
async fn issuer_on<S: Store>(store: Arc<S>) -> Issuer {
    // Reads the stored key first, so this works on a read-only file as well.
    let key = SigningKey::load_or_generate(&*store, "signing_key", Algorithm::ES256).await.expect("a key");
    Issuer::builder("https://auth.storefaults.test", store)
        .audience("api")
        .signing_key(key)
        .scopes(ScopeRegistry::new().scope("read", "Read"))
        .revocation_cache_ttl(Duration::ZERO)
        .build()
        .expect("issuer")
}

async fn plain_redis(url: &str) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    redis::Client::open(url)?.get_multiplexed_async_connection().await
}

/// `future`'s output, or a panic naming `what` if it takes longer than [`HANG`].
pub async fn bounded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(HANG, future).await {
        Ok(output) => output,
        Err(_) => panic!("{what} hung for {HANG:?}"),
    }
}

async fn answer(
    response: Response<impl http_body::Body<Data = Bytes, Error = impl std::fmt::Debug>>,
) -> Answer {
    let status = response.status();
    let challenge =
        response.headers().get(WWW_AUTHENTICATE).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let body = response.into_body().collect().await.expect("body").to_bytes();
    Answer { status, challenge, body }
}

/// An error that a revocation, or a grant, returns while its store is unreachable.
pub fn assert_unavailable(error: &OAuthError) {
    assert_eq!(error.code(), OAuthErrorCode::TemporarilyUnavailable, "{error}");
    assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE, "{error}");
}
