//! What the issuer benches share: an issuer over a named store, with one confidential
//! client allowed client credentials, the password grant (for starting refresh families) and
//! refresh, and the request the token endpoint is sent.
//!
//! Stores by name: `memory`; `sqlite` (a file in the temporary directory, removed first);
//! `postgres` (`TEST_POSTGRES_URL`) and `redis` (`TEST_REDIS_URL`), each under a table or
//! key prefix of its own so that the benches never touch another user's rows.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Request};
use http_body_util::Full;
use tower_passport::Algorithm;
use tower_passport_issuer::store::{GrantType, MemoryStore, Store};
use tower_passport_issuer::{
    AuthenticatedClient, ClientRegistration, Issuer, IssuerBuilder, ScopeRegistry, SigningKey, StaticUsers,
    TokenRequest,
};
use tower_passport_redis::RedisStore;
use tower_passport_sql::{PostgresStore, SqliteStore};

/// The issuer URL every bench issuer has.
pub(crate) const ISSUER: &str = "https://bench.test";

/// The stores the benches run on.
pub(crate) const STORES: [&str; 4] = ["memory", "sqlite", "postgres", "redis"];

/// The table prefix (SQL) and key prefix (Redis) of the benches' rows.
const PREFIX: &str = "issuerbench_";

/// The demo user whose password grants start refresh families (PBKDF2 at 1,000 iterations:
/// setup only, never measured).
const USER: (&str, &str, &str) = ("ann", "a-password", "1");

/// An issuer over a store, the client it serves and that client's secret.
pub(crate) struct Fixture {
    pub(crate) issuer: Issuer,
    pub(crate) client: AuthenticatedClient,
    pub(crate) client_id: String,
    pub(crate) secret: String,
}

impl Fixture {
    /// A client-credentials request for scope `a`.
    pub(crate) fn client_credentials(&self) -> TokenRequest {
        TokenRequest::client_credentials(self.client.clone()).scope("a")
    }

    /// Starts a refresh family (a password grant): its refresh token.
    pub(crate) async fn refresh_family(&self) -> Result<String, String> {
        let (username, password, _) = USER;
        let tokens = self
            .issuer
            .grant(TokenRequest::password(self.client.clone(), username, password).scope("a"))
            .await
            .map_err(|error| error.to_string())?;
        tokens.refresh_token.ok_or_else(|| "the password grant issued no refresh token".to_owned())
    }

    /// The refresh grant of `refresh_token`: the next refresh token.
    pub(crate) async fn rotate(&self, refresh_token: &str) -> Result<String, String> {
        let tokens = self
            .issuer
            .grant(TokenRequest::refresh_token(self.client.clone(), refresh_token))
            .await
            .map_err(|error| error.to_string())?;
        tokens.refresh_token.ok_or_else(|| "the refresh grant issued no refresh token".to_owned())
    }

    /// The store's own round trip: one lookup of the client by id, the cheapest query
    /// every backend answers (one primary-key read).
    pub(crate) async fn round_trip(&self) -> Result<(), String> {
        use tower_passport_issuer::store::ClientStore;
        match self.issuer.store().client(&self.client_id).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err("the client is missing from the store".to_owned()),
            Err(error) => Err(error.to_string()),
        }
    }

    /// `POST /oauth/token` with `grant_type=client_credentials&scope=a`, the client
    /// authenticating with HTTP Basic (`client_secret_basic`).
    pub(crate) fn token_request(&self) -> Result<Request<Full<Bytes>>, String> {
        let basic = STANDARD.encode(format!("{}:{}", self.client_id, self.secret));
        let authorization =
            HeaderValue::from_str(&format!("Basic {basic}")).map_err(|error| error.to_string())?;
        let mut request = Request::post("/oauth/token")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from_static(b"grant_type=client_credentials&scope=a")))
            .map_err(|error| error.to_string())?;
        request.headers_mut().insert(AUTHORIZATION, authorization);
        Ok(request)
    }
}

/// The issuer of `key` over the store named `store` (see the module docs), with its
/// client registered and authenticated.
pub(crate) async fn fixture(store: &str, key: SigningKey) -> Result<Fixture, String> {
    let error = |error: &dyn std::fmt::Display| format!("{store}: {error}");
    match store {
        "memory" => on(Arc::new(MemoryStore::new()), key).await,
        "sqlite" => {
            // A file of its own per fixture: an earlier one's pool may still hold its file
            // (and its -wal and -shm) open for a moment after it is dropped.
            static FIXTURES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let nth = FIXTURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = format!("tower-passport-issuerbench-{}-{nth}.db", std::process::id());
            let path = std::env::temp_dir().join(name);
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            let url = format!("sqlite://{}", path.display());
            let sqlite = SqliteStore::connect_with_prefix(&url, PREFIX).await.map_err(|e| error(&e))?;
            sqlite.migrate().await.map_err(|e| error(&e))?;
            on(Arc::new(sqlite), key).await
        }
        "postgres" => {
            let url =
                std::env::var("TEST_POSTGRES_URL").map_err(|_| error(&"TEST_POSTGRES_URL is not set"))?;
            let postgres = PostgresStore::connect_with_prefix(&url, PREFIX).await.map_err(|e| error(&e))?;
            postgres.migrate().await.map_err(|e| error(&e))?;
            on(Arc::new(postgres), key).await
        }
        "redis" => {
            let url = std::env::var("TEST_REDIS_URL").map_err(|_| error(&"TEST_REDIS_URL is not set"))?;
            let redis = RedisStore::builder()
                .prefix(PREFIX.replace('_', ":"))
                .connect(&url)
                .await
                .map_err(|e| error(&e))?;
            on(Arc::new(redis), key).await
        }
        other => Err(format!("unknown store {other}: {}", STORES.join(", "))),
    }
}

/// A fresh signing key for `algorithm`.
pub(crate) fn key(algorithm: Algorithm) -> Result<SigningKey, String> {
    SigningKey::generate(algorithm).map_err(|error| error.to_string())
}

async fn on<S: Store>(store: Arc<S>, key: SigningKey) -> Result<Fixture, String> {
    let (username, password, user_id) = USER;
    let users =
        StaticUsers::new(1_000).user(username, password, user_id).map_err(|error| error.to_string())?;
    let issuer = configure(Issuer::builder(ISSUER, store))
        .signing_key(key)
        .enable_password_grant(users)
        .build()
        .map_err(|error| error.to_string())?;
    let registered = issuer
        .register_client(ClientRegistration::confidential("bench").allowed_scopes(["a", "b"]).grants([
            GrantType::ClientCredentials,
            GrantType::Password,
            GrantType::RefreshToken,
        ]))
        .await
        .map_err(|error| error.to_string())?;
    let secret = registered.secret.as_ref().map(|secret| secret.expose().to_owned()).unwrap_or_default();
    let client_id = registered.client.id.clone();
    let client =
        issuer.authenticate_client(&client_id, Some(&secret)).await.map_err(|error| error.to_string())?;
    Ok(Fixture { issuer, client, client_id, secret })
}

/// The issuer's settings the benches share: audience `api`, scopes `a` and `b`.
fn configure(builder: IssuerBuilder) -> IssuerBuilder {
    builder.audience("api").scopes(ScopeRegistry::new().scope("a", "A").scope("b", "B"))
}
