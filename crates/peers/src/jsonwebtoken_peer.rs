//! A bare `jsonwebtoken::decode` (version 11, aws-lc-rs backend), the key loaded once from
//! PEM (the secret for HMAC), checking `iss`, `aud` and `exp`, into [`PeerClaims`].

use benches::support::{self, TestKey};
use jsonwebtoken::{DecodingKey, Validation};
use tower_passport::Algorithm;

use crate::claims::PeerClaims;

/// jsonwebtoken's key and validation for one [`TestKey`].
pub struct JsonwebtokenPeer {
    key: DecodingKey,
    validation: Validation,
}

impl JsonwebtokenPeer {
    /// Loads `key` and checks that `token` decodes.
    pub fn new(key: &TestKey, token: &str) -> Result<Self, String> {
        let pem = key.public_pem.as_bytes();
        let decoding = match key.alg {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(pem),
            Algorithm::ES256 => DecodingKey::from_ec_pem(pem),
            Algorithm::HS256 => Ok(DecodingKey::from_secret(&key.public_der)),
            other => return Err(format!("jsonwebtoken peer: {} is not measured", other.name())),
        }
        .map_err(|error| error.to_string())?;
        let alg = key.alg.name().parse().map_err(|error: jsonwebtoken::errors::Error| error.to_string())?;
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[support::ISSUER]);
        validation.set_audience(&[support::AUDIENCE]);
        let peer = Self { key: decoding, validation };
        peer.decode(token)?;
        Ok(peer)
    }

    /// Decodes and validates `token`.
    pub fn decode(&self, token: &str) -> Result<PeerClaims, String> {
        jsonwebtoken::decode::<PeerClaims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| error.to_string())
    }
}
