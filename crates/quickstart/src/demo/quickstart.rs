//! The quickstart deployment: one process that issues tokens (the authorization code flow
//! with its demo sign-in page included) and serves the demo API guarded by its own keys and
//! revocation list. Shared by `crates/quickstart/src/main.rs` and the `tests/quickstart*.rs`,
//! `crates/quickstart/tests/browser/browser_authorization.rs` and `crates/quickstart/tests/quickstart/interop_python.rs` tests.

use std::error::Error;
use std::sync::Arc;

use axum::Router;
use tower_passport::cookie::FirstPartyCookie;
use tower_passport::dpop::Dpop;
use tower_passport::resource_metadata::{ResourceMetadata, ResourceMetadataLayer};
use tower_passport::revocation::BusHandle;
use tower_passport::{Algorithm, GuardLayer};
use tower_passport_cli::AnyStore;
use tower_passport_issuer::endpoint::{FreshApiTokenLayer, OAuthRoutes, OAuthServer};
use tower_passport_issuer::store::GrantType;
use tower_passport_issuer::store::SettingsStore;
use tower_passport_issuer::{Issuer, ScopeRegistry, SigningKey, StaticUsers, Throttle};
use tower_passport_redis::RedisRevocationBus;
use tower_passport_sql::PgRevocationBus;

pub use super::config::QuickstartConfig;
use super::exit::context;
use super::seed::{seed, Seed, SeedConflict, SeedVariables, Variable};
use super::sign_in::{self, SignInPages};
use super::{cors, spa};
use super::{find_user, router};

/// The first-party public client (a CLI or desktop app): it gets the approval screen, as
/// any local process could claim it on its loopback redirect URI (RFC 8252 §8.6).
pub const NATIVE_CLIENT_ID: &str = "demo-cli";
/// Its loopback redirect URI; the port may vary (RFC 8252 §7.3).
pub const NATIVE_REDIRECT_URI: &str = "http://127.0.0.1/callback";

/// The public device client (a TV or a CLI without a browser): the device authorization grant
/// (RFC 8628), approved on `/oauth/device` by the signed-in user, as Passport's
/// `passport:client --device` makes.
pub const DEVICE_CLIENT_ID: &str = "demo-device";

pub use super::seed::SCOPES;

/// Seeds the demo clients (see [`super::seed`]): the first-party password client, the
/// third-party demo app (approval screen), and a first-party public CLI on a loopback
/// redirect URI (the screen too), and a public device client ([`DEVICE_CLIENT_ID`]). Each conflict with a stored client is logged as a warning.
/// The demo app's redirect URI in force, and the conflicts.
async fn seed_demo_clients(
    issuer: &Issuer,
    config: &QuickstartConfig,
) -> Result<(String, Vec<SeedConflict>), Box<dyn Error>> {
    let variable = |name: &'static str| Some(Variable { name, set: config.is_set(name) });
    let if_set = |name: &'static str| config.is_set(name).then_some(Variable { name, set: true });
    let app = &config.demo_app;
    let code_grants = [GrantType::AuthorizationCode, GrantType::RefreshToken];
    let app_redirect = [app.redirect_uri.as_str()];
    let app_blame = if config.is_set("DEMO_APP_REDIRECT_URI") {
        format!("the demo app {:?} (DEMO_APP_REDIRECT_URI={})", app.client_id, app.redirect_uri)
    } else {
        format!(
            "the demo app {:?} (its redirect URI {} is derived from PASSPORT_ISSUER; set DEMO_APP_REDIRECT_URI)",
            app.client_id, app.redirect_uri
        )
    };
    let seeds = [
        Seed {
            id: &config.client_id,
            name: "Quickstart demo client",
            secret: Some(&config.client_secret),
            grants: &[GrantType::Password, GrantType::ClientCredentials, GrantType::RefreshToken],
            redirect_uris: &[],
            first_party: true,
            variables: SeedVariables { secret: variable("DEMO_CLIENT_SECRET"), ..SeedVariables::default() },
            blame: format!("the demo client {:?} (DEMO_CLIENT_ID)", config.client_id),
        },
        Seed {
            id: &app.client_id,
            name: &app.name,
            secret: Some(&app.client_secret),
            grants: &code_grants,
            redirect_uris: &app_redirect,
            first_party: false,
            variables: SeedVariables {
                name: if_set("DEMO_APP_NAME"),
                secret: variable("DEMO_APP_CLIENT_SECRET"),
                redirect_uri: if_set("DEMO_APP_REDIRECT_URI"),
            },
            blame: app_blame,
        },
        Seed {
            id: NATIVE_CLIENT_ID,
            name: "Quickstart CLI",
            secret: None,
            grants: &code_grants,
            redirect_uris: &[NATIVE_REDIRECT_URI],
            first_party: true,
            variables: SeedVariables::default(),
            blame: format!("the demo CLI {NATIVE_CLIENT_ID:?}"),
        },
        Seed {
            id: DEVICE_CLIENT_ID,
            name: "Quickstart TV",
            secret: None,
            grants: &[GrantType::DeviceCode, GrantType::RefreshToken],
            redirect_uris: &[],
            first_party: false,
            variables: SeedVariables::default(),
            blame: format!("the demo device client {DEVICE_CLIENT_ID:?}"),
        },
    ];
    let mut redirect_uri = app.redirect_uri.clone();
    let mut conflicts = Vec::new();
    for client in &seeds {
        let seeded = seed(issuer, client).await?;
        if seeded.client.revoked {
            tracing::info!(
                client_id = client.id,
                "this demo client is revoked in the store and stays revoked"
            );
        }
        for conflict in &seeded.conflicts {
            tracing::warn!("{conflict}");
        }
        let stored = &seeded.client.redirect_uris;
        if client.id == app.client_id && !stored.contains(&redirect_uri) {
            redirect_uri = stored.first().cloned().unwrap_or(redirect_uri);
        }
        conflicts.extend(seeded.conflicts);
    }
    Ok((redirect_uri, conflicts))
}

/// The URL that starts the authorization code flow for `client_id` (the metadata's
/// `authorization_endpoint`): `response_type=code`, every demo scope, `state`, and the PKCE
/// `S256` challenge of a verifier the caller keeps.
pub fn authorization_url(
    oauth: &OAuthRoutes,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    code_challenge: &str,
) -> String {
    let endpoint = oauth.metadata().authorization_endpoint.unwrap_or_default();
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
    pub issuer: Issuer,
    /// The issuer's HTTP front, as the app serves it.
    pub oauth: OAuthRoutes,
    pub app: Router,
    /// The revocation bus, when the store is shared (PostgreSQL, Redis) or
    /// `PASSPORT_REDIS_URL` is set.
    pub bus: Option<BusHandle>,
    /// The bus's name for the banner: `Redis pub/sub` or `PostgreSQL LISTEN/NOTIFY`.
    pub bus_name: Option<&'static str>,
    /// The demo app's redirect URI in force: the stored one, when the store held the app.
    pub demo_app_redirect_uri: String,
    /// Where the stored demo clients differ from this node's configuration (each was
    /// logged as a warning; the stored values stay in force).
    pub seed_conflicts: Vec<SeedConflict>,
}

/// The demo API's resource identifier: `<issuer URL>/api`, where it is served.
pub fn api_resource(config: &QuickstartConfig) -> String {
    format!("{}/api", config.issuer.trim_end_matches('/'))
}

/// The demo API's RFC 9728 metadata, served at
/// `/.well-known/oauth-protected-resource/api` and named in its challenges: this issuer,
/// the demo scopes and the proof algorithms of the guard's `dpop` settings.
fn api_metadata(config: &QuickstartConfig, dpop: &Dpop) -> Result<ResourceMetadata, Box<dyn Error>> {
    let metadata = ResourceMetadata::builder(api_resource(config))
        .authorization_server(config.issuer.as_str())
        .scopes_supported(SCOPES.map(|(id, _)| id))
        .dpop_signing_alg_values_supported(dpop.algorithm_list().iter().copied());
    // A plain-http issuer (the demo's default) is the operator's choice already.
    let metadata = if config.issuer.starts_with("http://") { metadata.allow_http() } else { metadata };
    Ok(metadata.build().map_err(|e| context("PASSPORT_ISSUER: not a URL the API's metadata can name", e))?)
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
    let users = StaticUsers::new(config.password_iterations)
        .user(&config.username, &config.password, "1")?
        .user(&config.username2, &config.password2, "2")?;
    let store = Arc::new(
        AnyStore::open(&config.store)
            .await
            .map_err(|e| context("PASSPORT_STORE: cannot open the store", e))?,
    );
    // Every node signs with the same key: the given one, or the one kept in the store.
    let shared_key = config.signing_key.is_none();
    let signing_key = match &config.signing_key {
        Some(pem) => {
            SigningKey::from_pem(pem.0.as_bytes()).map_err(|e| context("PASSPORT_PRIVATE_KEY", e))?
        }
        None => SigningKey::load_or_generate(&*store, "quickstart_signing_key", Algorithm::ES256).await?,
    };
    // Failed sign-ins are throttled with their counts in the store, so that every node sharing it
    // sees them (in memory with the memory store).
    let builder = Issuer::builder(config.issuer.as_str(), store.clone())
        .revocation_cache_capacity(config.revocation_cache_capacity);
    let builder = match &*store {
        AnyStore::Sqlite(sqlite) => {
            builder.auth_limiter(Throttle::new(sqlite.clone()).accounts(config.accounts))
        }
        AnyStore::Postgres(postgres) => {
            builder.auth_limiter(Throttle::new(postgres.clone()).accounts(config.accounts))
        }
        AnyStore::MySql(mysql) => {
            builder.auth_limiter(Throttle::new(mysql.clone()).accounts(config.accounts))
        }
        AnyStore::Redis(redis) => {
            builder.auth_limiter(Throttle::new(redis.clone()).accounts(config.accounts))
        }
        _ => builder.auth_limiter(Throttle::in_memory().accounts(config.accounts)),
    };
    let issuer = builder
        .audience(config.audience.as_str())
        // The demo API's resource identifier (RFC 8707): a token request naming it gets a
        // token for the demo API alone.
        .audience(api_resource(config))
        .scopes(scopes)
        .enable_password_grant(users)
        .signing_key(signing_key)
        .build()?;
    if shared_key {
        // The store's key ring: a rotation on any node (`rotate_shared_signing_key`)
        // reaches every node through the store and the bus.
        issuer.share_signing_keys("quickstart_signing_key").await?;
    }
    let (demo_app_redirect_uri, seed_conflicts) = seed_demo_clients(&issuer, config).await?;

    // The first-party cookie (Passport's CreateFreshApiToken): its secret is shared through
    // the store, as the signing key is, so every node opens every node's cookies.
    let mut cookie = first_party_cookie(&store, config.issuer.starts_with("http://")).await?;
    for origin in &config.cookie_origins {
        cookie = cookie.allow_origin(origin.as_str());
    }
    // Both schemes: bearer tokens, and the DPoP-bound tokens the issuer mints for every
    // token request that carries a `DPoP` proof. The API's metadata names its algorithms.
    let dpop = Dpop::new();
    let guard = GuardLayer::builder(issuer.verifier())
        .realm("demo")
        .dpop(dpop.clone())
        .first_party_cookie(cookie.clone())
        .resolver(issuer.resolver(find_user))
        .revocation(issuer.revocation_list())
        .build()?;
    // The guard's caches joined the issuer's hub at `build()`: this node's revocations
    // reach them at once, bus or no bus. The revocation bus, started on the same hub: Redis
    // when configured (or when Redis is the store), else LISTEN/NOTIFY when the store is
    // PostgreSQL. A single-node store needs none.
    let redis_url =
        config.redis_url.clone().or_else(|| config.store.starts_with("redis").then(|| config.store.clone()));
    let (bus, bus_name) = match (&redis_url, &*store) {
        (Some(url), _) => (
            Some(RedisRevocationBus::connect(url, "passport:revocations").await?.start(issuer.hub())),
            Some("Redis pub/sub"),
        ),
        (None, AnyStore::Postgres(postgres)) => (
            Some(PgRevocationBus::new(postgres.pool().clone(), "passport_revocations")?.start(issuer.hub())),
            Some("PostgreSQL LISTEN/NOTIFY"),
        ),
        (None, _) => (None, None),
    };
    // Every OAuth endpoint: the authorization code flow (the demo sign-in session tells who
    // is signed in) and Passport's JSON APIs behind the guard.
    let oauth =
        OAuthServer::new(issuer.clone()).sign_in(sign_in::signed_in_user).json_apis(guard.clone()).build();
    let token_url = oauth.metadata().token_endpoint;
    let pages = SignInPages::new(oauth.clone(), &token_url, &demo_app_redirect_uri);
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
        .merge(pages.clone().routes().merge(super::callback::routes(pages)).merge(spa::routes()).layer(
            FreshApiTokenLayer::new(cookie, sign_in::signed_in_user)?.revocation(issuer.revocation_list()),
        ))
        .fallback_service(oauth.clone())
        .layer(sign_in::session_layer(config.issuer.starts_with("https://")))
        .layer(ResourceMetadataLayer::new(api_metadata(config, &dpop)?));
    Ok(Quickstart { issuer, oauth, app, bus, bus_name, demo_app_redirect_uri, seed_conflicts })
}
