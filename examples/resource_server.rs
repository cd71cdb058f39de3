//! The demo API as a resource server for tokens from your own authorization server
//! (Passport, Keycloak, Auth0, or this crate's issuer).
//!
//! ```text
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
//! - `BIND` (default `127.0.0.1:8080`);
//! - `PASSPORT_AUDIENCE` (required);
//! - the keys, one of:
//!   - `PASSPORT_JWKS_URL`: a JWKS URL, fetched at start and refreshed in the background;
//!   - `PASSPORT_DISCOVERY_URL`: an issuer URL whose OpenID / RFC 8414 metadata names the
//!     JWKS; it is also the issuer tokens must name, unless `PASSPORT_ISSUER` says otherwise;
//!   - `PASSPORT_PUBLIC_KEY`: path to a PEM public key (SPKI or PKCS#1), with
//!     `PASSPORT_ALG` (otherwise RS256 for RSA, ES256 for P-256, ES384 for P-384 and
//!     EdDSA for Ed25519) and `PASSPORT_KEY_ID` (the `kid` your tokens carry, if any);
//! - `PASSPORT_ISSUER`: the `iss` tokens must carry (required but with discovery);
//! - `PASSPORT_ACCEPT_JWT_TYP=1`: also accept `typ: JWT` and no `typ`, as most identity
//!   providers issue. Otherwise only `at+jwt` access tokens (RFC 9068) pass.

#[path = "demo/mod.rs"]
mod demo;

use std::error::Error;

use tower_passport::{keys::KeySource, Algorithm, KeySet, RemoteKeySet, Verifier, VerifyingKey};

fn required(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name} (see the top of examples/resource_server.rs)"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt().with_max_level(tracing::Level::DEBUG).with_target(false).init();
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let discovery = std::env::var("PASSPORT_DISCOVERY_URL").ok();
    let issuer = match (std::env::var("PASSPORT_ISSUER"), &discovery) {
        (Ok(issuer), _) => issuer,
        (Err(_), Some(discovered)) => discovered.clone(),
        (Err(_), None) => required("PASSPORT_ISSUER")?,
    };
    let audience = required("PASSPORT_AUDIENCE")?;
    let (keys, described): (KeySource, String) = match (std::env::var("PASSPORT_JWKS_URL"), discovery) {
        (Ok(url), _) => (RemoteKeySet::builder(url.as_str()).build()?.into(), format!("keys from {url}")),
        (Err(_), Some(issuer_url)) => {
            let described = format!("keys discovered from {issuer_url}");
            (RemoteKeySet::discover(issuer_url).build()?.into(), described)
        }
        (Err(_), None) => {
            let key = static_key()?;
            let described = format!("{} key {:?}", key.algorithm(), key.kid());
            (KeySet::new().with_key(key).into(), described)
        }
    };
    let mut builder = Verifier::builder(keys).issuer(issuer.as_str()).audience(audience.as_str());
    if std::env::var("PASSPORT_ACCEPT_JWT_TYP").is_ok_and(|accept| accept == "1") {
        builder = builder.accept_generic_jwt_typ();
    }
    let verifier = builder.build()?;
    // Remote keys are fetched now, so a wrong URL stops the server here rather than
    // answering every request 503.
    verifier.warm_up().await.map_err(|e| format!("cannot fetch the keys ({described}): {e}"))?;
    println!("verifying tokens from {issuer} for {audience} with {described} on http://{bind}");

    let app = demo::router(demo::guard(verifier)?);
    let listener =
        tokio::net::TcpListener::bind(&bind).await.map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// The key named by `PASSPORT_PUBLIC_KEY`, `PASSPORT_ALG` and `PASSPORT_KEY_ID`.
fn static_key() -> Result<VerifyingKey, Box<dyn Error>> {
    let key_path = required("PASSPORT_PUBLIC_KEY")
        .map_err(|_| "set PASSPORT_JWKS_URL, PASSPORT_DISCOVERY_URL or PASSPORT_PUBLIC_KEY")?;
    let pem =
        std::fs::read(&key_path).map_err(|e| format!("cannot read PASSPORT_PUBLIC_KEY {key_path}: {e}"))?;
    let key = match std::env::var("PASSPORT_ALG") {
        Ok(alg) => VerifyingKey::from_pem(&pem, alg.parse::<Algorithm>()?)?,
        Err(_) => VerifyingKey::from_pem_infer_alg(&pem)?,
    };
    Ok(match std::env::var("PASSPORT_KEY_ID") {
        Ok(kid) => key.with_kid(kid),
        Err(_) => key,
    })
}
