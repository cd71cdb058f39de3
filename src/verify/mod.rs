//! The [`Verifier`]: signature, `typ`, time, issuer and audience checks, in front of a
//! verified-token cache.

mod builder;
mod cache;
mod claims_check;
mod jws;
mod revocation;

pub use builder::{TypPolicy, VerifierBuilder};
pub use revocation::{NoRevocation, RevocationCheck};

use std::sync::Arc;

use crate::clock::Clock;
use crate::error::AuthError;
use crate::keys::KeySet;
use crate::token::VerifiedToken;

use cache::VerifiedCache;
use claims_check::ClaimsPolicy;

/// Verifies JWT access tokens against a key set and a claims policy. Cheap to clone.
///
/// A token passes when its signature verifies under the key its `kid` names (bound to the
/// token's `alg`), its `typ` fits the [`TypPolicy`], `exp` has not passed, `nbf`/`iat` are
/// not in the future (each with the leeway), `iss` is the configured issuer and `aud`
/// contains a configured audience.
///
/// A verified-token cache (on by default) remembers tokens that passed, keyed on the
/// whole token string, for no longer than the token's remaining lifetime. A hit still
/// checks expiry.
///
/// ```
/// use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey, error::Reason};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
/// let verifier = Verifier::builder(keys)
///     .issuer("https://auth.example.com")
///     .audience("orders-api")
///     .build()?;
/// let error = verifier.verify("not.a.jwt").unwrap_err();
/// assert_eq!(error.reason(), Reason::MalformedHeaderParameters);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    keys: KeySet,
    policy: ClaimsPolicy,
    clock: Arc<dyn Clock>,
    cache: Option<VerifiedCache>,
}

impl Verifier {
    /// Starts a verifier over `keys`. The issuer and at least one audience are required.
    pub fn builder(keys: KeySet) -> VerifierBuilder {
        VerifierBuilder::new(keys)
    }

    /// Verifies `token` (the compact JWS, without the `Bearer ` prefix).
    ///
    /// # Errors
    /// An `invalid_token` [`AuthError`] whose [`reason`](AuthError::reason) says why.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let now = self.inner.clock.now();
        if let Some(cache) = &self.inner.cache {
            if let Some(hit) = cache.get(token) {
                self.inner.policy.check_expiry(hit.expires_at(), now)?;
                return Ok(hit);
            }
        }
        let verified = self.verify_uncached(token, now)?;
        if let Some(cache) = &self.inner.cache {
            cache.insert(token, verified.clone());
        }
        Ok(verified)
    }

    /// Verifies `token` without consulting or filling the cache.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub fn verify_uncached(&self, token: &str, now: u64) -> Result<VerifiedToken, AuthError> {
        let parts = jws::split(token)?;
        let header_bytes = jws::decode_part(parts.header)
            .map_err(|_| AuthError::invalid_token(crate::error::Reason::MalformedHeaderParameters))?;
        let header = jws::Header::parse(&header_bytes)?;
        self.inner.policy.check_type(header.typ.as_deref())?;
        let algorithm = header.algorithm()?;
        let key =
            self.inner.keys.select(header.kid.as_deref(), algorithm).map_err(AuthError::invalid_token)?;
        let signature = jws::decode_part(parts.signature)?;
        if !key.verify(parts.signing_input.as_bytes(), &signature) {
            return Err(AuthError::invalid_token(crate::error::Reason::BadSignature));
        }
        let payload = jws::decode_payload(parts.payload)?;
        self.inner.policy.check_claims(payload, header.kid.as_deref(), now)
    }

    /// The clock this verifier reads.
    pub fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    /// Drops a token from the verified-token cache (for example when it is revoked).
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
    /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).unwrap()))
    /// #     .issuer("i").audience("a").build().unwrap();
    /// verifier.forget("eyJ...");
    /// ```
    pub fn forget(&self, token: &str) {
        if let Some(cache) = &self.inner.cache {
            cache.remove(token);
        }
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.inner.keys.len())
            .field("policy", &self.inner.policy)
            .field("cache", &self.inner.cache.is_some())
            .finish()
    }
}
