//! What the issuer publishes: its JWKS, typed (the RFC 8414 metadata, which names the
//! endpoints' URLs, is the HTTP front's: `endpoint::ServerMetadata`).

use serde::Serialize;
use serde_json::Value;

use super::Issuer;

/// A JWKS document (RFC 7517 §5): every key the issuer publishes.
///
/// ```
/// use std::sync::Arc;
/// use tower_passport_issuer::Issuer;
/// use tower_passport_issuer::store::MemoryStore;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let jwks = issuer.jwks();
/// assert_eq!(jwks.keys.len(), 1);
/// assert!(serde_json::to_string(&jwks)?.starts_with(r#"{"keys":[{"#));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Jwks {
    /// The public keys, as JWKs with `kid`, `alg` and `use`.
    pub keys: Vec<Value>,
}

impl Issuer {
    /// The JWKS document of every published key (`GET /.well-known/jwks.json`).
    pub fn jwks(&self) -> Jwks {
        let now = self.now();
        let mut jwks = match self.inner.keys.read() {
            Ok(keys) => keys.jwks(now),
            Err(poisoned) => poisoned.into_inner().jwks(now),
        };
        // Another server's keys, published for verification only.
        jwks.keys.extend(self.inner.verification_jwks.iter().cloned());
        jwks
    }

    /// How long clients may cache the JWKS, in seconds
    /// ([`IssuerBuilder::jwks_max_age`](super::IssuerBuilder::jwks_max_age)).
    pub fn jwks_max_age(&self) -> u64 {
        self.inner.jwks_max_age
    }
}
