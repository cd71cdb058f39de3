//! The demo API as a resource server for tokens from your own authorization server
//! (Laravel Passport, Keycloak, Auth0, or this crate's issuer), served by hyper with the
//! limits a public server needs.
//!
//! ```text
//! # Laravel Passport's own tokens (no iss, aud = the client id), with its public key:
//! PASSPORT_LARAVEL=1 PASSPORT_PUBLIC_KEY="$(cat storage/oauth-public.key)" \
//! cargo run --example resource_server
//!
//! # an RFC 9068 issuer with a PEM key file:
//! PASSPORT_PUBLIC_KEY=oauth-public.key \
//! PASSPORT_ISSUER=https://auth.example.com \
//! PASSPORT_AUDIENCE=orders-api \
//! cargo run --example resource_server
//!
//! # or with the keys your identity provider publishes, found through discovery:
//! PASSPORT_DISCOVERY_URL=https://keycloak.example.com/realms/shop \
//! PASSPORT_AUDIENCE=account PASSPORT_ACCEPT_JWT_TYP=1 \
//! cargo run --example resource_server
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
//!     EdDSA for Ed25519) and `PASSPORT_KEY_ID` (the `kid` your tokens carry, if any);
//! - `PASSPORT_JWK_RSA_ALG`: the algorithm of RSA keys a JWKS publishes without `alg`
//!   (RS256 by default; PS256 for FAPI providers);
//! - `PASSPORT_ISSUER`: the `iss` tokens must carry (required but with discovery or
//!   `PASSPORT_LARAVEL=1`);
//! - `PASSPORT_ACCEPT_JWT_TYP=1`: also accept `typ: JWT` and no `typ`, as most identity
//!   providers issue. Otherwise only `at+jwt` access tokens (RFC 9068) pass.
//!
//! In front of the routes ([`serve`], [`Limits`]): hyper closes connections whose
//! request headers take longer than the header-read timeout (which also ends idle
//! keep-alive connections), the open connections are bounded, and a `ServiceBuilder`
//! sheds load beyond a concurrency limit (503) and times requests out (408).
#![allow(dead_code)]

#[path = "demo/mod.rs"]
mod demo;

use std::error::Error;

use axum::Router;
use tokio::net::TcpListener;
use tower_passport::keys::{JwkOptions, KeySource};
use tower_passport::{Algorithm, KeySet, RemoteKeySet, Verifier, VerifyingKey};

pub use demo::serve::{init_tracing, log_filter, serve, Limits};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    init_tracing()?;
    let env = |name: &str| std::env::var(name).ok();
    let bind = env("BIND").unwrap_or_else(|| demo::serve::RESOURCE_SERVER_BIND.into());
    let Configured { verifier, described } = verifier_from(&env)?;
    // Remote keys are fetched now, so a wrong URL stops the server here rather than
    // answering every request 503.
    verifier.warm_up().await.map_err(|e| format!("cannot fetch the keys: {e}"))?;
    println!("verifying {described} on http://{bind}");

    let app = app(verifier)?;
    let listener = TcpListener::bind(&bind).await.map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    serve(listener, app, Limits::default(), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// The demo API behind a guard over `verifier`.
pub fn app(verifier: Verifier) -> Result<Router, tower_passport::ConfigError> {
    Ok(demo::router(demo::guard(verifier)?))
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
    let laravel = var("PASSPORT_LARAVEL").is_some_and(|on| on == "1" || on.eq_ignore_ascii_case("true"));
    let discovery = var("PASSPORT_DISCOVERY_URL");
    let issuer = var("PASSPORT_ISSUER").or_else(|| discovery.clone());
    let audiences: Vec<String> = var("PASSPORT_AUDIENCE")
        .map(|list| list.split(',').map(str::trim).filter(|aud| !aud.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let jwk_options = jwk_options(var("PASSPORT_JWK_RSA_ALG").as_deref())?;
    let (keys, keys_described): (KeySource, String) = match (var("PASSPORT_JWKS_URL"), discovery) {
        (Some(url), _) => {
            let keys = RemoteKeySet::builder(url.as_str()).jwk_options(jwk_options).build()?;
            (keys.into(), format!("keys from {url}"))
        }
        (None, Some(issuer_url)) => {
            let described = format!("keys discovered from {issuer_url}");
            (RemoteKeySet::discover(issuer_url).jwk_options(jwk_options).build()?.into(), described)
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
        let issuer = issuer.ok_or("set PASSPORT_ISSUER (see the top of examples/resource_server.rs)")?;
        if audiences.is_empty() {
            return Err("set PASSPORT_AUDIENCE (see the top of examples/resource_server.rs)".into());
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
    Ok(Configured { verifier: builder.build()?, described: format!("{from} with {keys_described}") })
}

/// `PASSPORT_JWK_RSA_ALG`: the algorithm of RSA JWKs without `alg` (RS256 unless set).
fn jwk_options(rsa_alg: Option<&str>) -> Result<JwkOptions, Box<dyn Error>> {
    let Some(name) = rsa_alg else { return Ok(JwkOptions::default()) };
    let algorithm: Algorithm = name.trim().parse()?;
    use Algorithm::{PS256, PS384, PS512, RS256, RS384, RS512};
    if !matches!(algorithm, RS256 | RS384 | RS512 | PS256 | PS384 | PS512) {
        return Err(format!("PASSPORT_JWK_RSA_ALG={name}: not an RSA algorithm (RS256 … PS512)").into());
    }
    Ok(JwkOptions::default().default_rsa_algorithm(algorithm))
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
        Some(alg) => VerifyingKey::from_pem(&pem, alg.parse::<Algorithm>()?)?,
        None => VerifyingKey::from_pem_infer_alg(&pem)?,
    };
    Ok(match var("PASSPORT_KEY_ID") {
        Some(kid) => key.with_kid(kid),
        None => key,
    })
}
