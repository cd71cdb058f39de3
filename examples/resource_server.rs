//! The demo API as a resource server for tokens from your own authorization server
//! (Passport, Keycloak, Auth0, or this crate's issuer).
//!
//! ```text
//! PASSPORT_PUBLIC_KEY=oauth-public.key \
//! PASSPORT_ISSUER=https://auth.example.com \
//! PASSPORT_AUDIENCE=orders-api \
//! cargo run --example resource_server
//! ```
//!
//! Environment:
//! - `BIND` (default `127.0.0.1:8080`);
//! - `PASSPORT_ISSUER` and `PASSPORT_AUDIENCE` (required);
//! - `PASSPORT_PUBLIC_KEY`: path to a PEM public key (SPKI or PKCS#1);
//! - `PASSPORT_ALG`: the algorithm; otherwise RS256 for RSA, ES256 for P-256, ES384 for
//!   P-384 and EdDSA for Ed25519;
//! - `PASSPORT_KEY_ID`: the `kid` your tokens carry, if they carry one.
//!
//! The default `typ` policy applies: only `at+jwt` access tokens (RFC 9068) pass.

#[path = "demo/mod.rs"]
mod demo;

use std::error::Error;

use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};

fn required(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name} (see the top of examples/resource_server.rs)"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt().with_max_level(tracing::Level::DEBUG).with_target(false).init();
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let issuer = required("PASSPORT_ISSUER")?;
    let audience = required("PASSPORT_AUDIENCE")?;
    let key_path = required("PASSPORT_PUBLIC_KEY")?;
    let pem =
        std::fs::read(&key_path).map_err(|e| format!("cannot read PASSPORT_PUBLIC_KEY {key_path}: {e}"))?;
    let key = match std::env::var("PASSPORT_ALG") {
        Ok(alg) => VerifyingKey::from_pem(&pem, alg.parse::<Algorithm>()?)?,
        Err(_) => VerifyingKey::from_pem_infer_alg(&pem)?,
    };
    let key = match std::env::var("PASSPORT_KEY_ID") {
        Ok(kid) => key.with_kid(kid),
        Err(_) => key,
    };
    println!("verifying {} tokens from {issuer} for {audience} on http://{bind}", key.algorithm());

    let verifier =
        Verifier::builder(KeySet::new().with_key(key)).issuer(issuer).audience(audience).build()?;
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
