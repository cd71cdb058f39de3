//! The demo API as a resource server for tokens from your own authorization server
//! (Laravel Passport, Keycloak, Auth0, or this crate's issuer), served by hyper with the
//! limits a public server needs.
//!
//! ```text
//! # Laravel Passport's own tokens (no iss, aud = the client id), with its public key:
//! PASSPORT_LARAVEL=1 PASSPORT_PUBLIC_KEY="$(cat storage/oauth-public.key)" \
//! cargo run -p quickstart --bin resource_server
//!
//! # an RFC 9068 issuer with a PEM key file:
//! PASSPORT_PUBLIC_KEY=oauth-public.key \
//! PASSPORT_ISSUER=https://auth.example.com \
//! PASSPORT_AUDIENCE=orders-api \
//! cargo run -p quickstart --bin resource_server
//!
//! # this crate's issuer (`passport keys` wrote oauth-public.key; no key id needed),
//! # seeing its revocations through its PostgreSQL store (LISTEN/NOTIFY):
//! PASSPORT_PUBLIC_KEY=oauth-public.key \
//! PASSPORT_ISSUER=https://auth.example.com PASSPORT_AUDIENCE=orders-api \
//! PASSPORT_STORE=postgres://localhost/passport \
//! cargo run -p quickstart --bin resource_server
//!
//! # or with the keys your identity provider publishes, found through discovery:
//! PASSPORT_DISCOVERY_URL=https://keycloak.example.com/realms/shop \
//! PASSPORT_AUDIENCE=account PASSPORT_ACCEPT_JWT_TYP=1 \
//! cargo run -p quickstart --bin resource_server
//! ```
//!
//! Environment:
//! - `BIND` (default `127.0.0.1:8090`, beside the quickstart's 8080);
//! - `RUST_LOG`: what to log, as `target=level` pairs and a default level
//!   (`info,tower_passport=debug`; `info` when unset);
//! - `PASSPORT_LARAVEL=1`: take Laravel Passport's own tokens
//!   ([`VerifierBuilder::laravel_passport`](tower_passport::verify::VerifierBuilder::laravel_passport)):
//!   `PASSPORT_ISSUER` becomes optional and `PASSPORT_AUDIENCE`, when set, lists the
//!   client ids whose tokens are accepted (any client's otherwise);
//! - `PASSPORT_AUDIENCE`: the accepted audiences, comma-separated (required but with
//!   `PASSPORT_LARAVEL=1`);
//! - the keys, one of:
//!   - `PASSPORT_JWKS_URL`: a JWKS URL, fetched at start and refreshed in the background;
//!   - `PASSPORT_DISCOVERY_URL`: an issuer URL whose OpenID / RFC 8414 metadata names the
//!     JWKS; it is also the issuer tokens must name, unless `PASSPORT_ISSUER` says otherwise;
//!   - `PASSPORT_PUBLIC_KEY`: a PEM public key (SPKI or PKCS#1), the PEM text itself (as
//!     Passport's own variable holds it, real or `\n` line breaks) or a path to it, with
//!     `PASSPORT_ALG` (otherwise RS256 for RSA, ES256 for P-256, ES384 for P-384 and
//!     EdDSA for Ed25519). Its key id is its RFC 7638 thumbprint, the `kid` this crate's
//!     issuer puts in its tokens; `PASSPORT_KEY_ID` names another (the `kid` your
//!     issuer's tokens carry). A token without `kid` (Laravel Passport's) needs none;
//! - `PASSPORT_JWK_RSA_ALG`: the algorithm of RSA keys a JWKS publishes without `alg`
//!   (RS256 by default; PS256 for FAPI providers);
//! - `PASSPORT_ISSUER`: the `iss` tokens must carry (required but with discovery or
//!   `PASSPORT_LARAVEL=1`);
//! - `PASSPORT_ACCEPT_JWT_TYP=1`: also accept `typ: JWT` and no `typ`, as most identity
//!   providers issue. Otherwise only `at+jwt` access tokens (RFC 9068) pass;
//! - `PASSPORT_CLIENT_TOKENS`: how a client-credentials token (no user) is recognised
//!   when it does not state it ([`ClientTokenRule`]): `subject-or-client-id` (the
//!   default, and what Laravel Passport 13's tokens need: their `sub` is the client id),
//!   `empty-subject` (the default with `PASSPORT_LARAVEL=1`: Passport up to 12) or
//!   `stated-only`;
//! - `PASSPORT_DPOP`: DPoP-bound tokens (RFC 9449, [`tower_passport::dpop`]): `1` takes
//!   them under the `DPoP` scheme beside bearer tokens (both challenges are sent),
//!   `required` takes DPoP alone; unset or `0`, bearer tokens only. `PASSPORT_PUBLIC_URL`
//!   (behind a proxy): the public base URL the proofs' `htu` names, in place of the
//!   request's own scheme, `Host` and path;
//! - revocations (see below): `PASSPORT_REDIS_URL`, the Redis revocation bus, and
//!   `PASSPORT_STORE`, the issuer's store (`postgres://…`, `redis://…`, `sqlite://…`);
//!   or, with `PASSPORT_LARAVEL=1`, `PASSPORT_LARAVEL_DB`, the Laravel application's
//!   database (`mysql://…`, `postgres://…`, `sqlite:…`);
//! - `PASSPORT_PUBLIC_URL`: the URL clients reach this server at (behind a proxy), its
//!   RFC 9728 resource identifier; `http://<BIND>` when unset. Its protected-resource
//!   metadata (`/.well-known/oauth-protected-resource`, named in every 401's
//!   `resource_metadata`) lists `PASSPORT_ISSUER` (or the discovery URL) as its
//!   authorization server, so a client that knows only this URL finds where to get a token.
//!
//! # Revocations
//!
//! A token is a signed statement: checking it needs no one else, so a resource server on
//! its own cannot know that it was revoked. **Without a bus or a store, a revoked token
//! keeps passing until its `exp`.** This server sees revocations when it joins the
//! revocation bus of the issuer (this crate's, as the quickstart runs it):
//!
//! - `PASSPORT_STORE=postgres://…` (or `redis://…`, or a `sqlite://…` file the issuer
//!   shares): every token's `jti` is checked in the issuer's revocation list and its
//!   client in its client registry (cached; a revoked client's tokens are refused too),
//!   kept current by the bus: `LISTEN/NOTIFY` on `passport_revocations` for PostgreSQL,
//!   pub/sub on `passport:revocations` for Redis (or `PASSPORT_REDIS_URL`). Without a bus
//!   (SQLite), a revocation is seen within 5 s;
//! - `PASSPORT_LARAVEL_DB=mysql://…` (with `PASSPORT_LARAVEL=1`): Passport's own tables
//!   ([`PassportRevocations`]), as Passport's `TokenGuard` reads them: a token whose
//!   `oauth_access_tokens` row is revoked or gone, or whose client is revoked, is refused
//!   within 5 s. A database that is down answers 503;
//! - `PASSPORT_REDIS_URL` alone: the `jti`s announced on the bus since this server
//!   started ([`HeardRevocations`]). A revocation published while it was not listening
//!   is never seen, nor is a client's revocation: give it `PASSPORT_STORE` as well.
//!
//! In front of the routes ([`serve`], [`Limits`]): hyper closes connections whose
//! request headers take longer than the header-read timeout (which also ends idle
//! keep-alive connections), the open connections are bounded, and a `ServiceBuilder`
//! sheds load beyond a concurrency limit (503) and times requests out (408). The
//! quickstart's variables set them: `PASSPORT_MAX_IN_FLIGHT`, `PASSPORT_REQUEST_TIMEOUT_MS`,
//! `PASSPORT_HEADER_READ_TIMEOUT_MS`, `PASSPORT_MAX_CONNECTIONS`.
#![allow(dead_code)]

#[path = "../demo/mod.rs"]
mod demo;

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tower_passport::dpop::Dpop;
use tower_passport::keys::{JwkOptions, KeySource};
use tower_passport::resource_metadata::{ResourceMetadata, ResourceMetadataLayer};
use tower_passport::revocation::RevocationList;
use tower_passport::revocation::{BusHandle, HeardRevocations, Hub};
use tower_passport::verify::ClientTokenRule;
use tower_passport::{Algorithm, GuardLayer, KeySet, RemoteKeySet, Verifier, VerifyingKey};
use tower_passport_cli::AnyStore;
use tower_passport_issuer::RegistryResolver;
use tower_passport_laravel::{PassportDatabase, PassportRevocations};
use tower_passport_redis::RedisRevocationBus;
use tower_passport_sql::PgRevocationBus;

use demo::exit::context;
pub use demo::serve::{init_tracing, log_filter, serve, Limits};
pub use demo::{POSTGRES_REVOCATION_CHANNEL, REDIS_REVOCATION_CHANNEL};

#[tokio::main]
async fn main() -> ExitCode {
    demo::exit::exit_on_error(run().await)
}

async fn run() -> Result<(), Box<dyn Error>> {
    init_tracing()?;
    let env = |name: &str| std::env::var(name).ok();
    let bind = env("BIND").unwrap_or_else(|| demo::serve::RESOURCE_SERVER_BIND.into());
    let limits = Limits::from_vars(env)?;
    let ResourceServer { app, described, revocations, bus: _bus } = build(&env).await?;
    println!("verifying {described} on http://{bind}");
    println!("revocations: {revocations}");

    let listener = TcpListener::bind(&bind)
        .await
        .map_err(|e| context(format!("BIND={bind}: cannot listen there"), e))?;
    serve(listener, app, limits, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// The demo API behind a guard over `verifier`, seeing no revocations.
pub fn app(verifier: Verifier) -> Result<Router, tower_passport::ConfigError> {
    Ok(demo::router(demo::guard(verifier)?))
}

/// The DPoP settings `PASSPORT_DPOP` and `PASSPORT_PUBLIC_URL` describe, if any.
fn dpop_from(var: &dyn Fn(&str) -> Option<String>) -> Result<Option<Dpop>, Box<dyn Error>> {
    let dpop = match var("PASSPORT_DPOP").as_deref().map(str::trim) {
        None | Some("0") => return Ok(None),
        Some("1") => Dpop::new(),
        Some("required") => Dpop::new().required(),
        Some(other) => return Err(format!("PASSPORT_DPOP={other}: expected 1, required or 0").into()),
    };
    Ok(Some(match var("PASSPORT_PUBLIC_URL") {
        Some(url) => dpop.public_url(url),
        None => dpop,
    }))
}

/// The resource server the environment describes, ready to serve.
pub struct ResourceServer {
    pub app: Router,
    /// What it verifies, for the start-up line.
    pub described: String,
    /// What it sees of revocations, for the start-up line.
    pub revocations: String,
    /// The revocation bus it listens on; dropping it stops listening.
    pub bus: Option<BusHandle>,
}

/// Builds the server `env` describes (see the top of this file): the verifier, its keys
/// fetched now (a wrong URL stops the server here rather than answering every request
/// 503), the issuer's store and revocation bus when given, and the demo API.
pub async fn build(env: &(dyn Fn(&str) -> Option<String> + Sync)) -> Result<ResourceServer, Box<dyn Error>> {
    let Configured { verifier, described } = verifier_from(env)?;
    let keys_from =
        if env("PASSPORT_JWKS_URL").is_some() { "PASSPORT_JWKS_URL" } else { "PASSPORT_DISCOVERY_URL" };
    verifier.warm_up().await.map_err(|e| context(format!("{keys_from}: cannot fetch the keys"), e))?;
    let var = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    let store = match var("PASSPORT_STORE") {
        Some(url) if url == "memory" || url.starts_with("memory:") => {
            return Err(
                "PASSPORT_STORE=memory: a resource server reads the issuer's store, which memory is not"
                    .into(),
            )
        }
        Some(url) => Some(Arc::new(
            AnyStore::open(&url).await.map_err(|e| context("PASSPORT_STORE: cannot open the store", e))?,
        )),
        None => None,
    };
    let redis_url = var("PASSPORT_REDIS_URL").or_else(|| {
        var("PASSPORT_STORE").filter(|_| store.as_deref().is_some_and(|store| store.kind() == "redis"))
    });
    // This node's revocation hub: the revocation check is made on it, and the guard built
    // with that check registers its caches there; the bus below starts on it.
    let hub = Hub::new();
    let guard = GuardLayer::builder(verifier).realm("demo");
    let dpop = dpop_from(&var)?;
    // The metadata names the proof algorithms of the guard's own DPoP settings.
    let metadata = metadata_from(env, dpop.as_ref())?;
    let guard = match dpop {
        Some(dpop) => guard.dpop(dpop),
        None => guard,
    };
    if let Some(url) = var("PASSPORT_LARAVEL_DB") {
        if store.is_some() || redis_url.is_some() {
            return Err("PASSPORT_LARAVEL_DB: Passport's tables are the revocation source; \
                        unset PASSPORT_STORE and PASSPORT_REDIS_URL"
                .into());
        }
        if !laravel_preset(env) {
            return Err(
                "PASSPORT_LARAVEL_DB reads Laravel Passport's tables: set PASSPORT_LARAVEL=1 too".into()
            );
        }
        let database = PassportDatabase::connect_lazy(&url)
            .map_err(|e| context("PASSPORT_LARAVEL_DB: not a database URL", e))?;
        let engine = format!("{:?}", database.engine());
        let check = PassportRevocations::builder(database).build()?;
        let guard = guard.resolver(demo::find_user).revocation(check).build()?;
        let revocations = format!("checked in Laravel Passport's tables ({engine}), seen within 5 s");
        let app = demo::router(guard).layer(ResourceMetadataLayer::new(metadata));
        return Ok(ResourceServer { app, described, revocations, bus: None });
    }
    let (guard, mut revocations) = match &store {
        Some(store) => {
            let guard = guard
                .resolver(RegistryResolver::new(demo::find_user, store.clone()))
                .revocation(RevocationList::new(&hub, store.clone()))
                .build()?;
            (guard, format!("checked in the {} store", store.kind()))
        }
        None if redis_url.is_some() => {
            let guard = guard.resolver(demo::find_user).revocation(HeardRevocations::new(&hub)).build()?;
            (guard, "those announced on the bus since start-up".to_owned())
        }
        None => (guard.resolver(demo::find_user).build()?, String::new()),
    };
    let postgres = match store.as_deref() {
        Some(AnyStore::Postgres(postgres)) => Some(postgres.pool().clone()),
        _ => None,
    };
    let bus = match (redis_url, postgres) {
        (Some(url), _) => {
            let bus = RedisRevocationBus::connect(&url, demo::REDIS_REVOCATION_CHANNEL)
                .await
                .map_err(|e| context("PASSPORT_REDIS_URL: cannot reach the Redis revocation bus", e))?;
            revocations.push_str(", kept current by Redis pub/sub");
            Some(bus.start(&hub))
        }
        (None, Some(pool)) => {
            revocations.push_str(", kept current by PostgreSQL LISTEN/NOTIFY");
            Some(PgRevocationBus::new(pool, demo::POSTGRES_REVOCATION_CHANNEL)?.start(&hub))
        }
        (None, None) if store.is_some() => {
            revocations.push_str(" (no bus: seen within 5 s)");
            None
        }
        (None, None) => {
            revocations =
                "not seen (set PASSPORT_REDIS_URL or PASSPORT_STORE): a revoked token passes until its exp"
                    .into();
            None
        }
    };
    let app = demo::router(guard).layer(ResourceMetadataLayer::new(metadata));
    Ok(ResourceServer { app, described, revocations, bus })
}

/// This server's RFC 9728 metadata (see the top of this file): `PASSPORT_PUBLIC_URL`, or
/// its own address, with the issuer tokens must come from as its authorization server,
/// and with `dpop` (the guard's DPoP settings, when on) its proof algorithms in
/// `dpop_signing_alg_values_supported`.
pub fn metadata_from(
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    dpop: Option<&Dpop>,
) -> Result<ResourceMetadata, Box<dyn Error>> {
    let var = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    let (resource, own) = match var("PASSPORT_PUBLIC_URL") {
        Some(url) => (url.trim_end_matches('/').to_owned(), false),
        None => (
            format!("http://{}", var("BIND").unwrap_or_else(|| demo::serve::RESOURCE_SERVER_BIND.into())),
            true,
        ),
    };
    let mut metadata = ResourceMetadata::builder(resource);
    if let Some(issuer) = var("PASSPORT_ISSUER").or_else(|| var("PASSPORT_DISCOVERY_URL")) {
        metadata = metadata.authorization_server(issuer);
    }
    if let Some(dpop) = dpop {
        metadata = metadata.dpop_signing_alg_values_supported(dpop.algorithm_list().iter().copied());
    }
    // Its own address is plain http (any interface with BIND=0.0.0.0:…); a public URL must be https.
    let metadata = if own { metadata.allow_http() } else { metadata };
    Ok(metadata.build().map_err(|e| context("PASSPORT_PUBLIC_URL (or PASSPORT_ISSUER)", e))?)
}

/// A verifier built from the environment, and what it verifies, for the start-up line.
pub struct Configured {
    pub verifier: Verifier,
    pub described: String,
}

/// The verifier the environment describes (see the top of this file). `env` reads one
/// variable: the process environment in `main`, a map in tests.
pub fn verifier_from(env: &dyn Fn(&str) -> Option<String>) -> Result<Configured, Box<dyn Error>> {
    let var = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    let laravel = laravel_preset(env);
    let discovery = var("PASSPORT_DISCOVERY_URL");
    let issuer = var("PASSPORT_ISSUER").or_else(|| discovery.clone());
    let audiences: Vec<String> = var("PASSPORT_AUDIENCE")
        .map(|list| list.split(',').map(str::trim).filter(|aud| !aud.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let jwk_options = jwk_options(var("PASSPORT_JWK_RSA_ALG").as_deref())?;
    let (keys, keys_described): (KeySource, String) = match (var("PASSPORT_JWKS_URL"), discovery) {
        (Some(url), _) => {
            let keys = RemoteKeySet::builder(url.as_str())
                .jwk_options(jwk_options)
                .build()
                .map_err(|e| context("PASSPORT_JWKS_URL", e))?;
            (keys.into(), format!("keys from {url}"))
        }
        (None, Some(issuer_url)) => {
            let described = format!("keys discovered from {issuer_url}");
            let keys = RemoteKeySet::discover(issuer_url)
                .jwk_options(jwk_options)
                .build()
                .map_err(|e| context("PASSPORT_DISCOVERY_URL", e))?;
            (keys.into(), described)
        }
        (None, None) => {
            let key = static_key(&var)?;
            let described = format!("the {} key {:?}", key.algorithm(), key.kid().unwrap_or("without kid"));
            (KeySet::new().with_key(key).into(), described)
        }
    };
    let mut builder = Verifier::builder(keys);
    let from = if laravel {
        builder = builder.laravel_passport();
        if let Some(issuer) = &issuer {
            builder = builder.issuer(issuer.as_str());
        }
        match audiences.as_slice() {
            [] => "Laravel Passport tokens of any client".to_owned(),
            clients => format!("Laravel Passport tokens of the clients {}", clients.join(", ")),
        }
    } else {
        let issuer = issuer
            .ok_or("set PASSPORT_ISSUER (see the top of crates/quickstart/src/bin/resource_server.rs)")?;
        if audiences.is_empty() {
            return Err(
                "set PASSPORT_AUDIENCE (see the top of crates/quickstart/src/bin/resource_server.rs)".into(),
            );
        }
        builder = builder.issuer(issuer.as_str());
        format!("tokens from {issuer} for {}", audiences.join(", "))
    };
    for audience in &audiences {
        builder = builder.audience(audience.as_str());
    }
    if var("PASSPORT_ACCEPT_JWT_TYP").is_some_and(|accept| accept == "1") {
        builder = builder.accept_generic_jwt_typ();
    }
    if let Some(rule) = var("PASSPORT_CLIENT_TOKENS") {
        builder = builder.client_token_rule(client_token_rule(&rule)?);
    }
    Ok(Configured { verifier: builder.build()?, described: format!("{from} with {keys_described}") })
}

/// `PASSPORT_LARAVEL=1` (or `true`): Laravel Passport's own tokens.
fn laravel_preset(env: &dyn Fn(&str) -> Option<String>) -> bool {
    env("PASSPORT_LARAVEL").is_some_and(|on| on.trim() == "1" || on.trim().eq_ignore_ascii_case("true"))
}

/// `PASSPORT_JWK_RSA_ALG`: the algorithm of RSA JWKs without `alg` (RS256 unless set).
fn jwk_options(rsa_alg: Option<&str>) -> Result<JwkOptions, Box<dyn Error>> {
    let Some(name) = rsa_alg else { return Ok(JwkOptions::default()) };
    let algorithm: Algorithm = name.parse().map_err(|e| context("PASSPORT_JWK_RSA_ALG", e))?;
    use Algorithm::{PS256, PS384, PS512, RS256, RS384, RS512};
    if !matches!(algorithm, RS256 | RS384 | RS512 | PS256 | PS384 | PS512) {
        return Err(format!("PASSPORT_JWK_RSA_ALG={name}: not an RSA algorithm (RS256 … PS512)").into());
    }
    Ok(JwkOptions::default().default_rsa_algorithm(algorithm))
}

/// `PASSPORT_CLIENT_TOKENS`: how a client-credentials token is recognised.
fn client_token_rule(name: &str) -> Result<ClientTokenRule, Box<dyn Error>> {
    match name.trim().to_ascii_lowercase().as_str() {
        "subject-or-client-id" => Ok(ClientTokenRule::SubjectOrClientId),
        "empty-subject" => Ok(ClientTokenRule::EmptySubject),
        "stated-only" => Ok(ClientTokenRule::StatedOnly),
        _ => Err(format!(
            "PASSPORT_CLIENT_TOKENS={name}: expected subject-or-client-id, empty-subject or stated-only"
        )
        .into()),
    }
}

/// The key named by `PASSPORT_PUBLIC_KEY`, `PASSPORT_ALG` and `PASSPORT_KEY_ID`.
fn static_key(var: &dyn Fn(&str) -> Option<String>) -> Result<VerifyingKey, Box<dyn Error>> {
    let value = var("PASSPORT_PUBLIC_KEY")
        .ok_or("set PASSPORT_JWKS_URL, PASSPORT_DISCOVERY_URL or PASSPORT_PUBLIC_KEY")?;
    let pem = if value.trim_start().starts_with("-----BEGIN") {
        // The PEM itself, as Laravel's .env holds PASSPORT_PUBLIC_KEY: real line breaks,
        // or `\n` escapes when it was written on one line.
        if value.contains('\n') { value } else { value.replace("\\n", "\n") }.into_bytes()
    } else {
        std::fs::read(value.trim()).map_err(|e| format!("cannot read PASSPORT_PUBLIC_KEY {value}: {e}"))?
    };
    let key = match var("PASSPORT_ALG") {
        Some(alg) => {
            let alg = alg.parse::<Algorithm>().map_err(|e| context("PASSPORT_ALG", e))?;
            VerifyingKey::from_pem(&pem, alg).map_err(|e| context("PASSPORT_PUBLIC_KEY", e))?
        }
        None => VerifyingKey::from_pem_infer_alg(&pem).map_err(|e| context("PASSPORT_PUBLIC_KEY", e))?,
    };
    Ok(match var("PASSPORT_KEY_ID") {
        Some(kid) => key.with_kid(kid),
        None => key,
    })
}
