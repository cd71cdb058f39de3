//! The public key a proof carries in its `jwk` header: a public JWK (no private members)
//! that fits the proof's `alg`, and its RFC 7638 thumbprint.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::error::{AuthError, Reason};
use crate::keys::thumbprint::PublicJwk;
use crate::{Algorithm, VerifyingKey};

/// The members of a proof's `jwk`. The private members are read only to refuse them.
#[derive(Deserialize)]
pub(super) struct ProofJwk {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default)]
    d: Option<IgnoredAny>,
    #[serde(default)]
    p: Option<IgnoredAny>,
    #[serde(default)]
    q: Option<IgnoredAny>,
    #[serde(default)]
    dp: Option<IgnoredAny>,
    #[serde(default)]
    dq: Option<IgnoredAny>,
    #[serde(default)]
    qi: Option<IgnoredAny>,
    #[serde(default)]
    oth: Option<IgnoredAny>,
    #[serde(default)]
    k: Option<IgnoredAny>,
}

fn refused() -> AuthError {
    AuthError::invalid_dpop_proof(Reason::DpopProofKey)
}

impl ProofJwk {
    /// The RFC 7638 members of this key, once it is known to be a public key that fits
    /// `algorithm` (RFC 9449 §4.3, checks 4 and 6).
    pub(super) fn public_members(&self, algorithm: Algorithm) -> Result<PublicJwk, AuthError> {
        let private = [&self.d, &self.p, &self.q, &self.dp, &self.dq, &self.qi, &self.oth, &self.k];
        if private.iter().any(|member| member.is_some()) {
            return Err(refused());
        }
        if self.alg.as_deref().is_some_and(|alg| Algorithm::from_name(alg) != Some(algorithm)) {
            return Err(refused());
        }
        let member = |value: &Option<String>| value.clone().filter(|v| !v.is_empty()).ok_or_else(refused);
        match (self.kty.as_str(), self.crv.as_deref(), algorithm) {
            ("EC", Some("P-256"), Algorithm::ES256) => {
                Ok(PublicJwk::Ec { crv: "P-256", x: member(&self.x)?, y: member(&self.y)? })
            }
            ("EC", Some("P-384"), Algorithm::ES384) => {
                Ok(PublicJwk::Ec { crv: "P-384", x: member(&self.x)?, y: member(&self.y)? })
            }
            ("OKP", Some("Ed25519"), Algorithm::EdDSA) => Ok(PublicJwk::Ed25519 { x: member(&self.x)? }),
            ("RSA", _, algorithm) if algorithm.rsa_parameters().is_some() => {
                Ok(PublicJwk::Rsa { n: member(&self.n)?, e: member(&self.e)? })
            }
            _ => Err(refused()),
        }
    }
}

/// Loads the key `members` describe, for `algorithm` (which they were checked to fit).
pub(super) fn load(members: &PublicJwk, algorithm: Algorithm) -> Result<VerifyingKey, AuthError> {
    let decode = |value: &str| URL_SAFE_NO_PAD.decode(value).map_err(|_| refused());
    let key = match members {
        PublicJwk::Rsa { n, e } => VerifyingKey::from_rsa_components(&decode(n)?, &decode(e)?, algorithm),
        PublicJwk::Ec { crv, x, y } => {
            let size = if *crv == "P-256" { 32 } else { 48 };
            let (x, y) = (decode(x)?, decode(y)?);
            if x.len() != size || y.len() != size {
                return Err(refused());
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            VerifyingKey::from_der(&point, algorithm)
        }
        PublicJwk::Ed25519 { x } => {
            let x = decode(x)?;
            if x.len() != 32 {
                return Err(refused());
            }
            VerifyingKey::from_der(&x, algorithm)
        }
    };
    key.map_err(|_| refused())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(json: &str) -> ProofJwk {
        serde_json::from_str(json).unwrap()
    }

    const ED: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn a_public_key_that_fits_its_alg_loads() {
        let key = jwk(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED}"}}"#));
        let members = key.public_members(Algorithm::EdDSA).unwrap();
        assert_eq!(load(&members, Algorithm::EdDSA).unwrap().algorithm(), Algorithm::EdDSA);
        assert_eq!(members.thumbprint().len(), 43);
    }

    #[test]
    fn a_key_with_private_members_is_refused() {
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            let key = jwk(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED}","{private}":"AAAA"}}"#));
            let error = key.public_members(Algorithm::EdDSA).err().unwrap();
            assert_eq!(error.reason(), Reason::DpopProofKey, "{private}");
        }
    }

    #[test]
    fn a_key_of_another_family_than_the_alg_is_refused() {
        let key = jwk(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED}"}}"#));
        assert!(key.public_members(Algorithm::ES256).is_err());
        assert!(key.public_members(Algorithm::RS256).is_err());
        let named = jwk(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ED}","alg":"ES256"}}"#));
        assert!(named.public_members(Algorithm::EdDSA).is_err());
        let symmetric = jwk(r#"{"kty":"oct","k":"c2VjcmV0"}"#);
        assert!(symmetric.public_members(Algorithm::EdDSA).is_err());
    }

    #[test]
    fn a_point_of_the_wrong_length_is_refused() {
        let key = jwk(r#"{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}"#);
        let members = key.public_members(Algorithm::ES256).unwrap();
        assert!(load(&members, Algorithm::ES256).is_err());
    }
}
