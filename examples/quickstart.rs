//! The quickstart: the demo API, guarded by a key generated at start, with sample tokens
//! and ready-to-paste `curl` lines printed to the terminal.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Environment: `BIND` (default `127.0.0.1:8080`), `PASSPORT_ISSUER` (default
//! `http://<BIND>`), `PASSPORT_AUDIENCE` (default `quickstart-api`).

#[path = "demo/mod.rs"]
mod demo;

use std::error::Error;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};

const KID: &str = "quickstart-es256";

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt().with_max_level(tracing::Level::DEBUG).with_target(false).init();
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let issuer = std::env::var("PASSPORT_ISSUER").unwrap_or_else(|_| format!("http://{bind}"));
    let audience = std::env::var("PASSPORT_AUDIENCE").unwrap_or_else(|_| "quickstart-api".into());

    // A fresh ES256 key for this run: the guard gets the public half only.
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
        .map_err(|_| "could not generate a P-256 key")?;
    let signing_key = EncodingKey::from_ec_der(pair.to_pkcs8v1().map_err(|_| "pkcs8 export")?.as_ref());
    let public_der = pair.public_key().as_der().map_err(|_| "public key export")?;
    let verifying_key = VerifyingKey::from_der(public_der.as_ref(), Algorithm::ES256)?.with_kid(KID);

    let verifier = Verifier::builder(KeySet::new().with_key(verifying_key))
        .issuer(issuer.as_str())
        .audience(audience.as_str())
        .build()?;
    let app = demo::router(verifier)?;

    let mint = |sub: &str, client: &str, scope: &str| -> Result<String, jsonwebtoken::errors::Error> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(KID.into());
        let claims = json!({
            "iss": issuer, "aud": audience, "sub": sub, "client_id": client,
            "iat": now, "exp": now + 3600, "jti": format!("{sub}-{now}"), "scope": scope,
        });
        jsonwebtoken::encode(&header, &claims, &signing_key)
    };
    let samples = [
        (
            "user 1, every scope",
            mint("1", "demo-client", "read-posts write-posts admin check-status place-orders")?,
        ),
        ("user 2, read-posts only", mint("2", "demo-client", "read-posts")?),
        ("client credentials (no user), check-status", mint("demo-client", "demo-client", "check-status")?),
        ("user 3, who does not exist", mint("3", "demo-client", "read-posts")?),
    ];

    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e} (set BIND to another address)"))?;
    println!("tower-passport quickstart: the demo API is listening on http://{bind}\n");
    println!("issuer   {issuer}\naudience {audience}\nkey      ES256, kid {KID} (generated for this run)\n");
    for (label, token) in &samples {
        println!("# {label}\nTOKEN='{token}'");
        println!("curl -i http://{bind}/api/user -H \"Authorization: Bearer $TOKEN\"\n");
    }
    println!("# more routes to try with a TOKEN from above:");
    println!("curl -i http://{bind}/health");
    println!("curl -i http://{bind}/api/user                      # no token: 401, bare challenge");
    println!("curl -i http://{bind}/api/posts -H \"Authorization: Bearer $TOKEN\"            # read-posts");
    println!("curl -i -X POST http://{bind}/api/posts -H \"Authorization: Bearer $TOKEN\"    # write-posts");
    println!("curl -i -X DELETE http://{bind}/api/posts/1 -H \"Authorization: Bearer $TOKEN\" # admin");
    println!("curl -i http://{bind}/api/orders -H \"Authorization: Bearer $TOKEN\"           # check-status or place-orders");
    println!(
        "curl -i http://{bind}/api/m2m -H \"Authorization: Bearer $TOKEN\"              # client tokens only"
    );
    println!("\nCtrl-C stops the server.");

    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
