//! Public keys the issuer publishes without signing with them: another server's (Laravel
//! Passport's `oauth-public.key`), so that resource servers reading this issuer's JWKS
//! keep accepting that server's tokens through a cut-over.

use serde_json::{json, Value};
use tower_passport::error::{ConfigError, ConfigErrorKind};
use tower_passport::keys::thumbprint::PublicJwk;

/// The JWK of an RSA public key in PEM (SPKI, `-----BEGIN PUBLIC KEY-----`, as
/// `passport:keys` writes `oauth-public.key`), for RS256, named by its RFC 7638
/// thumbprint.
pub(crate) fn rsa_verification_jwk(pem: &[u8]) -> Result<Value, ConfigError> {
    let invalid = |message: &'static str| ConfigError::new(ConfigErrorKind::InvalidKey, message);
    let parsed = pem::parse(pem).map_err(|e| invalid("the verification key is not PEM").with_source(e))?;
    if parsed.tag() != "PUBLIC KEY" {
        return Err(invalid("the verification key must be a PEM public key (-----BEGIN PUBLIC KEY-----)"));
    }
    let public = aws_lc_rs::rsa::PublicKey::from_der(parsed.contents())
        .map_err(|_| invalid("the verification key is not an RSA public key"))?;
    let components = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(&public);
    let jwk = PublicJwk::rsa(&components.n, &components.e);
    let mut value = jwk.to_json();
    if let Value::Object(members) = &mut value {
        members.insert("kid".into(), json!(jwk.thumbprint()));
        members.insert("alg".into(), json!("RS256"));
        members.insert("use".into(), json!("sig"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;
    use tower_passport::Algorithm;

    #[test]
    fn an_rsa_public_key_is_published_by_its_thumbprint_and_nothing_else_is_taken() {
        let rsa = SigningKey::generate(Algorithm::RS256).expect("key");
        let jwk = rsa_verification_jwk(rsa.to_public_pem().expect("pem").as_bytes()).expect("jwk");
        assert_eq!(
            (jwk["kty"].as_str(), jwk["alg"].as_str(), jwk["use"].as_str()),
            (Some("RSA"), Some("RS256"), Some("sig"))
        );
        assert_eq!(
            jwk["kid"],
            rsa.public_jwk()["kid"],
            "the same RFC 7638 thumbprint the issuer names keys by"
        );
        assert!(rsa_verification_jwk(rsa.to_pkcs8_pem().as_bytes()).is_err(), "a private key");
        let ec = SigningKey::generate(Algorithm::ES256).expect("key");
        assert!(rsa_verification_jwk(ec.to_public_pem().expect("pem").as_bytes()).is_err(), "not RSA");
        assert!(rsa_verification_jwk(b"not pem").is_err());
    }
}
