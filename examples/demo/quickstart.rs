//! The quickstart deployment: one process that issues tokens and serves the demo API
//! guarded by its own keys and revocation list. Shared by `examples/quickstart.rs` and
//! `tests/quickstart.rs`.

use std::error::Error;
use std::sync::Arc;

use axum::Router;
use tower::ServiceBuilder;
use tower_passport::issuer::{ClientRegistration, Issuer, ScopeRegistry, SigningKey, StaticUsers};
use tower_passport::revocation::{BusHandle, LocalCaches, PgRevocationBus, RedisRevocationBus};
use tower_passport::store::{AnyStore, ClientStore, GrantType, SecretHash};
use tower_passport::{Algorithm, GuardLayer};

use super::{find_user, router};

/// What the quickstart is configured with (from the environment in the example).
#[derive(Clone, Debug)]
pub struct QuickstartConfig {
    pub issuer: String,
    pub audience: String,
    pub client_id: String,
    pub client_secret: String,
    pub username: String,
    pub password: String,
    /// PBKDF2 rounds for the demo user's password.
    pub password_iterations: u32,
    pub signing_key: Option<Arc<SigningKeyPem>>,
    /// `PASSPORT_STORE`: `memory`, `sqlite://…`, `postgres://…` or `redis://…`.
    pub store: String,
    /// `PASSPORT_REDIS_URL`: the Redis revocation bus.
    pub redis_url: Option<String>,
}

/// A PEM private key given by `PASSPORT_PRIVATE_KEY`.
#[derive(Debug)]
pub struct SigningKeyPem(pub String);

pub const SCOPES: [(&str, &str); 5] = [
    ("read-posts", "Read posts"),
    ("write-posts", "Create posts"),
    ("admin", "Delete posts"),
    ("check-status", "Check order status"),
    ("place-orders", "Place orders"),
];

impl QuickstartConfig {
    /// Defaults for `bind`, overridable with `PASSPORT_ISSUER`, `PASSPORT_AUDIENCE`,
    /// `DEMO_CLIENT_ID`, `DEMO_CLIENT_SECRET`, `DEMO_USER` and `DEMO_PASSWORD`.
    pub fn from_env(bind: &str) -> Result<Self, Box<dyn Error>> {
        let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        let signing_key = match std::env::var("PASSPORT_PRIVATE_KEY") {
            Ok(value) if value.trim_start().starts_with("-----BEGIN") => Some(Arc::new(SigningKeyPem(value))),
            Ok(path) => Some(Arc::new(SigningKeyPem(
                std::fs::read_to_string(path.trim())
                    .map_err(|e| format!("cannot read PASSPORT_PRIVATE_KEY {path}: {e}"))?,
            ))),
            Err(_) => None,
        };
        Ok(Self {
            issuer: var("PASSPORT_ISSUER", &format!("http://{bind}")),
            audience: var("PASSPORT_AUDIENCE", "quickstart-api"),
            client_id: var("DEMO_CLIENT_ID", "demo-client"),
            client_secret: var("DEMO_CLIENT_SECRET", "demo-secret-0123456789-abcdefghijklmn"),
            username: var("DEMO_USER", "taylor@example.com"),
            password: var("DEMO_PASSWORD", "password"),
            password_iterations: 100_000,
            signing_key,
            store: var("PASSPORT_STORE", "sqlite://quickstart.db"),
            redis_url: std::env::var("PASSPORT_REDIS_URL").ok().filter(|url| !url.is_empty()),
        })
    }
}

/// A running quickstart node.
pub struct Quickstart {
    pub issuer: Issuer<AnyStore>,
    pub app: Router,
    /// The revocation bus, when the store is shared (PostgreSQL, Redis) or
    /// `PASSPORT_REDIS_URL` is set.
    pub bus: Option<BusHandle>,
}

/// The issuer, seeded with the demo client and user, and the whole app: the OAuth
/// endpoints, the personal-access-token API and the demo API, all guarded by the
/// issuer's own keys, client registry and revocation list. With a shared store, a
/// revocation bus keeps every node's caches in step.
pub async fn build(config: &QuickstartConfig) -> Result<Quickstart, Box<dyn Error>> {
    let mut scopes = ScopeRegistry::new();
    for (id, description) in SCOPES {
        scopes = scopes.scope(id, description);
    }
    let users = StaticUsers::new(config.password_iterations).user(&config.username, &config.password, "1")?;
    let store = Arc::new(AnyStore::open(&config.store).await?);
    // Every node signs with the same key: the given one, or the one kept in the store.
    let shared_key = config.signing_key.is_none();
    let signing_key = match &config.signing_key {
        Some(pem) => SigningKey::from_pem(pem.0.as_bytes())?,
        None => SigningKey::load_or_generate(&*store, "quickstart_signing_key", Algorithm::ES256).await?,
    };
    let issuer = Issuer::builder(config.issuer.as_str(), store.clone())
        .audience(config.audience.as_str())
        .scopes(scopes)
        .enable_password_grant(users)
        .signing_key(signing_key)
        .build()?;
    if shared_key {
        // The store's key ring: a rotation on any node (`rotate_shared_signing_key`)
        // reaches every node through the store and the bus.
        issuer.share_signing_keys("quickstart_signing_key").await?;
    }
    // Seed the demo client, or bring a stored one in line with the configured secret.
    let grants = [GrantType::Password, GrantType::ClientCredentials, GrantType::RefreshToken];
    match store.client(&config.client_id).await? {
        None => {
            issuer
                .register_client(
                    ClientRegistration::confidential("Quickstart demo client")
                        .id(config.client_id.as_str())
                        .secret(config.client_secret.as_str())
                        .grants(grants)
                        .allowed_scopes(SCOPES.map(|(id, _)| id))
                        .first_party(true),
                )
                .await?;
        }
        Some(mut client) => {
            client.secret_hash = Some(SecretHash::of(config.client_secret.as_bytes()));
            client.grants = grants.to_vec();
            client.revoked = false;
            store.put_client(client).await?;
        }
    }

    let guard = GuardLayer::builder(issuer.verifier())
        .realm("demo")
        .resolver(issuer.resolver(find_user))
        .revocation(issuer.revocation_list())
        .build()?;
    // This node's revocations reach its own guard at once, bus or no bus.
    issuer.invalidate_locally(LocalCaches::new().with(guard.clone()));
    // The revocation bus: Redis when configured (or when Redis is the store), else
    // LISTEN/NOTIFY when the store is PostgreSQL. A single-node store needs none.
    let caches = LocalCaches::new().with(issuer.revocation_list()).with(guard.clone()).with(issuer.clone());
    let redis_url =
        config.redis_url.clone().or_else(|| config.store.starts_with("redis").then(|| config.store.clone()));
    let bus = match (&redis_url, &*store) {
        (Some(url), _) => Some(
            RedisRevocationBus::connect(url, "passport:revocations").await?.start(issuer.subscribe(), caches),
        ),
        (None, AnyStore::Postgres(postgres)) => Some(
            PgRevocationBus::new(postgres.pool().clone(), "passport_revocations")?
                .start(issuer.subscribe(), caches),
        ),
        (None, _) => None,
    };
    let personal =
        ServiceBuilder::new().layer(guard.clone()).service(issuer.personal_access_tokens_endpoint());
    let app = router(guard)
        .route_service("/oauth/personal-access-tokens", personal.clone())
        .route_service("/oauth/personal-access-tokens/{id}", personal)
        .fallback_service(issuer.routes());
    Ok(Quickstart { issuer, app, bus })
}
