//! A DPoP client's key, for tests: signs proofs (RFC 9449 §4.2) as a client library would.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::dpop::access_token_hash;
use crate::error::{ConfigError, ConfigErrorKind};
use crate::keys::thumbprint::PublicJwk;

/// A fresh P-256 key that signs `ES256` DPoP proofs, and its RFC 7638 thumbprint (what a
/// token bound to it names in `cnf.jkt`). `Debug` shows the thumbprint only.
///
/// ```
/// use tower_passport::dpop::{ProofTarget, ProofVerifier};
/// use tower_passport::testing::DpopProver;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let prover = DpopProver::new()?;
/// let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
/// let proof = prover.proof("POST", "https://auth.example.com/oauth/token", None, now)?;
/// let target = ProofTarget::new(http::Method::POST, "https://auth.example.com/oauth/token")?;
/// let verified = ProofVerifier::new().verify(&proof, &target)?;
/// assert_eq!(verified.thumbprint(), prover.thumbprint());
/// # Ok(())
/// # }
/// ```
pub struct DpopProver {
    key: EcdsaKeyPair,
    jwk: Value,
    thumbprint: String,
}

impl std::fmt::Debug for DpopProver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopProver").field("thumbprint", &self.thumbprint).finish_non_exhaustive()
    }
}

fn crypto(what: &'static str) -> ConfigError {
    ConfigError::new(ConfigErrorKind::Crypto, what)
}

impl DpopProver {
    /// A new random key.
    ///
    /// # Errors
    /// When the system has no randomness.
    pub fn new() -> Result<Self, ConfigError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| crypto("no P-256 key could be generated"))?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| crypto("the generated key does not load"))?;
        let point = key.public_key().as_ref();
        let (x, y) = point.get(1..).ok_or_else(|| crypto("not an uncompressed point"))?.split_at(32);
        let members = PublicJwk::ec("P-256", x, y);
        Ok(Self { jwk: members.to_json(), thumbprint: members.thumbprint(), key })
    }

    /// The RFC 7638 thumbprint of the public key.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &Value {
        &self.jwk
    }

    /// The header of a well-formed proof: `typ: dpop+jwt`, `alg: ES256`, the public `jwk`.
    pub fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk})
    }

    /// The claims of a well-formed proof for `method` and `url` at `iat`, with a random
    /// `jti`, and `ath` when `access_token` is given.
    ///
    /// # Errors
    /// When the system has no randomness.
    pub fn claims(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        iat: u64,
    ) -> Result<Value, ConfigError> {
        let mut jti = [0u8; 16];
        SystemRandom::new().fill(&mut jti).map_err(|_| crypto("no randomness for a jti"))?;
        let mut claims = json!({"jti": URL_SAFE_NO_PAD.encode(jti), "htm": method, "htu": url, "iat": iat});
        if let Some(token) = access_token {
            claims["ath"] = json!(access_token_hash(token));
        }
        Ok(claims)
    }

    /// A well-formed proof for `method` and `url` at `iat` (with `ath` when `access_token`
    /// is given).
    ///
    /// # Errors
    /// When the system has no randomness.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        iat: u64,
    ) -> Result<String, ConfigError> {
        self.sign(&self.header(), &self.claims(method, url, access_token, iat)?)
    }

    /// Any header and claims, signed with this key: for proofs that must fail one check.
    ///
    /// # Errors
    /// When the system has no randomness.
    pub fn sign(&self, header: &Value, claims: &Value) -> Result<String, ConfigError> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .map_err(|_| crypto("the proof could not be signed"))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref())))
    }
}
