//! The quickstart deployment: one process that issues tokens (the authorization code flow
//! with its demo sign-in page included) and serves the demo API guarded by its own keys and
//! revocation list. Shared by `examples/quickstart.rs` and the `tests/quickstart*.rs`,
//! `tests/browser_authorization.rs` and `tests/interop_python.rs` tests.

use std::error::Error;
use std::sync::Arc;

use axum::Router;
use tower::ServiceBuilder;
use tower_passport::cookie::FirstPartyCookie;
use tower_passport::endpoint::FreshApiTokenLayer;
use tower_passport::issuer::{ClientRegistration, Issuer, ScopeRegistry, SigningKey, StaticUsers};
use tower_passport::revocation::{BusHandle, LocalCaches, PgRevocationBus, RedisRevocationBus};
use tower_passport::store::ClientRecord;
use tower_passport::store::SettingsStore;
use tower_passport::store::{AnyStore, ClientStore, GrantType, SecretHash};
use tower_passport::{Algorithm, GuardLayer};

use super::sign_in::{self, SignInPages};
use super::{cors, spa};
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
    /// The demo third-party app: a confidential client that must get the user's approval.
    pub demo_app: DemoApp,
    /// `PASSPORT_COOKIE_ORIGINS` (comma-separated `scheme://host[:port]`): apps on other
    /// origins whose pages call the demo API with the first-party cookie.
    pub cookie_origins: Vec<String>,
}

/// The demo third-party app (`DEMO_APP_CLIENT_ID`, `DEMO_APP_CLIENT_SECRET`,
/// `DEMO_APP_NAME`, `DEMO_APP_REDIRECT_URI`): a confidential client of the authorization
/// code grant that may ask for every demo scope, and is not first-party, so users see the
/// approval screen.
#[derive(Clone, Debug)]
pub struct DemoApp {
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    /// Its one redirect URI; by default the quickstart's own demo callback page.
    pub redirect_uri: String,
}

/// The first-party public client (a CLI or desktop app): it skips the approval screen.
pub const NATIVE_CLIENT_ID: &str = "demo-cli";
/// Its loopback redirect URI; the port may vary (RFC 8252 §7.3).
pub const NATIVE_REDIRECT_URI: &str = "http://127.0.0.1/callback";

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
    /// `DEMO_CLIENT_ID`, `DEMO_CLIENT_SECRET`, `DEMO_USER`, `DEMO_PASSWORD`,
    /// `DEMO_APP_CLIENT_ID`, `DEMO_APP_CLIENT_SECRET`, `DEMO_APP_NAME`,
    /// `DEMO_APP_REDIRECT_URI` and `PASSPORT_COOKIE_ORIGINS`. A client secret must be at least 32 characters of letters,
    /// digits and `-._~`.
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
        let issuer = var("PASSPORT_ISSUER", &format!("http://{bind}"));
        let demo_app = DemoApp {
            client_id: var("DEMO_APP_CLIENT_ID", "demo-app"),
            client_secret: var("DEMO_APP_CLIENT_SECRET", "demo-app-secret-0123456789-abcdefghij"),
            name: var("DEMO_APP_NAME", "Demo Photo Printer"),
            redirect_uri: var(
                "DEMO_APP_REDIRECT_URI",
                &format!("{}{}", sign_in::origin(&issuer), sign_in::CALLBACK_PATH),
            ),
        };
        let client_secret = var("DEMO_CLIENT_SECRET", "demo-secret-0123456789-abcdefghijklmn");
        check_secret("DEMO_CLIENT_SECRET", &client_secret)?;
        check_secret("DEMO_APP_CLIENT_SECRET", &demo_app.client_secret)?;
        Ok(Self {
            issuer,
            audience: var("PASSPORT_AUDIENCE", "quickstart-api"),
            client_id: var("DEMO_CLIENT_ID", "demo-client"),
            client_secret,
            username: var("DEMO_USER", "taylor@example.com"),
            password: var("DEMO_PASSWORD", "password"),
            password_iterations: 100_000,
            signing_key,
            store: var("PASSPORT_STORE", "sqlite://quickstart.db"),
            redis_url: std::env::var("PASSPORT_REDIS_URL").ok().filter(|url| !url.is_empty()),
            demo_app,
            cookie_origins: std::env::var("PASSPORT_COOKIE_ORIGINS")
                .map(|origins| {
                    origins.split(',').map(str::trim).filter(|o| !o.is_empty()).map(String::from).collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// The issuer's rule for a chosen secret (at least 32 RFC 3986 unreserved characters),
/// checked at start-up so that the message names the variable, and so that a client kept
/// in a durable store from an earlier run is held to it too.
fn check_secret(variable: &str, secret: &str) -> Result<(), String> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    if secret.len() < 32 || !secret.bytes().all(unreserved) {
        return Err(format!(
            "{variable} must be at least 32 characters, each a letter, a digit or one of - . _ ~"
        ));
    }
    Ok(())
}

/// A client the quickstart seeds.
struct Seed<'a> {
    id: &'a str,
    name: &'a str,
    secret: Option<&'a str>,
    grants: &'a [GrantType],
    redirect_uris: &'a [&'a str],
    first_party: bool,
}

/// Registers `seed`, or brings a client a durable store kept from an earlier run in line
/// with it.
async fn seed(issuer: &Issuer<AnyStore>, seed: Seed<'_>) -> Result<(), Box<dyn Error>> {
    let store = issuer.store();
    let Some(mut client) = store.client(seed.id).await? else {
        let registration = match seed.secret {
            Some(secret) => ClientRegistration::confidential(seed.name).secret(secret),
            None => ClientRegistration::public(seed.name),
        };
        let registration = registration
            .id(seed.id)
            .grants(seed.grants.iter().copied())
            .allowed_scopes(SCOPES.map(|(id, _)| id))
            .first_party(seed.first_party)
            .redirect_uris(seed.redirect_uris.iter().copied());
        issuer.register_client(registration).await?;
        return Ok(());
    };
    let ClientRecord {
        name, secret_hash, grants, allowed_scopes, first_party, revoked, redirect_uris, ..
    } = &mut client;
    *name = seed.name.to_owned();
    *secret_hash = seed.secret.map(|secret| SecretHash::of(secret.as_bytes()));
    *grants = seed.grants.to_vec();
    *allowed_scopes = Some(SCOPES.map(|(id, _)| id.to_owned()).to_vec());
    *first_party = seed.first_party;
    *revoked = false;
    *redirect_uris = seed.redirect_uris.iter().map(|uri| (*uri).to_owned()).collect();
    store.put_client(client).await?;
    Ok(())
}

/// The URL that starts the authorization code flow for `client_id` (the metadata's
/// `authorization_endpoint`): `response_type=code`, every demo scope, `state`, and the PKCE
/// `S256` challenge of a verifier the caller keeps.
pub fn authorization_url(
    issuer: &Issuer<AnyStore>,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    code_challenge: &str,
) -> String {
    let endpoint = issuer.metadata().authorization_endpoint.unwrap_or_default();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &SCOPES.map(|(id, _)| id).join(" "))
        .append_pair("state", state)
        .append_pair("code_challenge", code_challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("{endpoint}?{query}")
}

/// A fresh PKCE pair: a 43-character verifier and its `S256` challenge (RFC 7636 §4.2).
pub fn pkce_pair() -> Result<(String, String), Box<dyn Error>> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| "no randomness for a PKCE verifier")?;
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    Ok((verifier, URL_SAFE_NO_PAD.encode(digest.as_ref())))
}

/// The first-party cookie, sealed with a secret kept in the store (the first node to start
/// makes it). `Secure` is dropped only for a plain-http issuer (local development). It
/// lives as long as an idle session ([`sign_in::SESSION_IDLE`]): the layer renews it
/// while the session is used, so it never outlives the session it was minted for.
async fn first_party_cookie(store: &AnyStore, plain_http: bool) -> Result<FirstPartyCookie, Box<dyn Error>> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut candidate = [0u8; 32];
    aws_lc_rs::rand::fill(&mut candidate).map_err(|_| "no randomness for the cookie secret")?;
    let stored =
        store.put_setting_if_absent("quickstart_cookie_secret", &URL_SAFE_NO_PAD.encode(candidate)).await?;
    let secret = URL_SAFE_NO_PAD
        .decode(stored)
        .map_err(|_| "the quickstart_cookie_secret setting is not base64url")?;
    let cookie = FirstPartyCookie::new(&secret)?.lifetime(sign_in::SESSION_IDLE);
    Ok(if plain_http { cookie.insecure_for_local_http() } else { cookie })
}

/// The Prometheus recorder the crate's counters go to (feature `metrics`), installed once
/// per process before the first request; `None` if something else installed one first.
fn prometheus() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .clone()
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
    // The authorization code flow: the demo sign-in session tells who is signed in.
    let issuer = Issuer::builder(config.issuer.as_str(), store.clone())
        .audience(config.audience.as_str())
        .scopes(scopes)
        .enable_password_grant(users.clone())
        .enable_authorization_code(sign_in::signed_in_user)
        .signing_key(signing_key)
        .build()?;
    if shared_key {
        // The store's key ring: a rotation on any node (`rotate_shared_signing_key`)
        // reaches every node through the store and the bus.
        issuer.share_signing_keys("quickstart_signing_key").await?;
    }
    // Seed the demo clients, or bring stored ones in line with the configuration: the
    // first-party password client, the third-party demo app (approval screen), and a
    // first-party public CLI on a loopback redirect URI (no screen).
    let code_grants = [GrantType::AuthorizationCode, GrantType::RefreshToken];
    let app = &config.demo_app;
    let seeds = [
        Seed {
            id: &config.client_id,
            name: "Quickstart demo client",
            secret: Some(&config.client_secret),
            grants: &[GrantType::Password, GrantType::ClientCredentials, GrantType::RefreshToken],
            redirect_uris: &[],
            first_party: true,
        },
        Seed {
            id: &app.client_id,
            name: &app.name,
            secret: Some(&app.client_secret),
            grants: &code_grants,
            redirect_uris: &[&app.redirect_uri],
            first_party: false,
        },
        Seed {
            id: NATIVE_CLIENT_ID,
            name: "Quickstart CLI",
            secret: None,
            grants: &code_grants,
            redirect_uris: &[NATIVE_REDIRECT_URI],
            first_party: true,
        },
    ];
    for client in seeds {
        seed(&issuer, client).await?;
    }

    // The first-party cookie (Passport's CreateFreshApiToken): its secret is shared through
    // the store, as the signing key is, so every node opens every node's cookies.
    let mut cookie = first_party_cookie(&store, config.issuer.starts_with("http://")).await?;
    for origin in &config.cookie_origins {
        cookie = cookie.allow_origin(origin.as_str());
    }
    let guard = GuardLayer::builder(issuer.verifier())
        .realm("demo")
        .first_party_cookie(cookie.clone())
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
    let token_url = issuer.metadata().token_endpoint;
    let pages = SignInPages::new(users, &config.issuer, &token_url, &app.redirect_uri)
        .sign_out_revokes_cookies(issuer.clone());
    // The session layer wraps the sign-in pages and `/oauth/authorize` (in the fallback)
    // both: the hook reads the session the sign-in page wrote.
    let metrics = prometheus();
    let app = cors::allow(router(guard), &config.cookie_origins)
        .route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move {
                    match metrics {
                        Some(handle) => (http::StatusCode::OK, handle.render()),
                        None => (
                            http::StatusCode::SERVICE_UNAVAILABLE,
                            "another metrics recorder is installed".into(),
                        ),
                    }
                }
            }),
        )
        .merge(pages.routes().merge(spa::routes()).layer(
            FreshApiTokenLayer::new(cookie, sign_in::signed_in_user)?.revocation(issuer.revocation_list()),
        ))
        .route_service("/oauth/personal-access-tokens", personal.clone())
        .route_service("/oauth/personal-access-tokens/{id}", personal)
        .fallback_service(issuer.routes())
        .layer(sign_in::session_layer(config.issuer.starts_with("https://")));
    Ok(Quickstart { issuer, app, bus })
}
