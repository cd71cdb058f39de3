//! RFC 7638 JWK thumbprints.
//!
//! The `kid` a public key gets when it is loaded without one, and the one the issuer names its
//! own signing keys by, so that a resource server given the issuer's PEM public key finds the
//! key its tokens name.
//!
//! Only public keys have a thumbprint here. An HMAC secret's would be a hash of the
//! secret, published in every token header: HMAC keys stay without `kid` unless given one.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::ParsedPublicKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::Algorithm;

/// The members of a public JWK that RFC 7638 §3.2 hashes, base64url-encoded.
#[allow(missing_docs)] // the members are RFC 7517's, named as there
pub enum PublicJwk {
    /// An RSA key: modulus and exponent.
    Rsa { n: String, e: String },
    /// An elliptic-curve key: curve and coordinates.
    Ec { crv: &'static str, x: String, y: String },
    /// An Ed25519 key (`OKP`).
    Ed25519 { x: String },
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl PublicJwk {
    /// An RSA key from its big-endian modulus and exponent.
    pub fn rsa(n: &[u8], e: &[u8]) -> Self {
        Self::Rsa { n: b64(n), e: b64(e) }
    }

    /// An EC key on `crv` (`P-256`, `P-384`) from its coordinates.
    pub fn ec(crv: &'static str, x: &[u8], y: &[u8]) -> Self {
        Self::Ec { crv, x: b64(x), y: b64(y) }
    }

    /// An Ed25519 key from its 32 bytes.
    pub fn ed25519(x: &[u8]) -> Self {
        Self::Ed25519 { x: b64(x) }
    }

    /// The members of `key`, parsed for `algorithm`; `None` for an HMAC algorithm or a
    /// form this crate does not read (it reads every key it can load).
    pub(crate) fn of(key: &ParsedPublicKey, algorithm: Algorithm) -> Option<Self> {
        let spki = key.as_der().ok()?;
        let spki = spki.as_ref();
        if algorithm.rsa_parameters().is_some() {
            let public = aws_lc_rs::rsa::PublicKey::from_der(spki).ok()?;
            let components = aws_lc_rs::rsa::PublicKeyComponents::<Vec<u8>>::from(&public);
            return Some(Self::rsa(&components.n, &components.e));
        }
        let (crv, size) = match algorithm {
            Algorithm::ES256 => ("P-256", 32),
            Algorithm::ES384 => ("P-384", 48),
            Algorithm::EdDSA => return spki_key(spki, 32).map(Self::ed25519),
            _ => return None,
        };
        match spki_key(spki, 1 + 2 * size)?.split_first() {
            Some((0x04, xy)) => {
                let (x, y) = xy.split_at(size);
                Some(Self::ec(crv, x, y))
            }
            _ => None,
        }
    }

    /// The required members, lexicographically ordered, without whitespace (RFC 7638
    /// §3.3). base64url needs no JSON escaping.
    fn canonical(&self) -> String {
        match self {
            Self::Rsa { n, e } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
            Self::Ec { crv, x, y } => format!(r#"{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}"#),
            Self::Ed25519 { x } => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#),
        }
    }

    /// The RFC 7638 SHA-256 thumbprint, base64url-encoded (43 characters).
    pub fn thumbprint(&self) -> String {
        b64(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.canonical().as_bytes()).as_ref())
    }

    /// The members as a JSON object, to publish the key (the issuer's JWKS).
    pub fn to_json(&self) -> Value {
        match self {
            Self::Rsa { n, e } => json!({"e": e, "kty": "RSA", "n": n}),
            Self::Ec { crv, x, y } => json!({"crv": crv, "kty": "EC", "x": x, "y": y}),
            Self::Ed25519 { x } => json!({"crv": "Ed25519", "kty": "OKP", "x": x}),
        }
    }
}

/// The last `len` bytes of an SPKI when they are its whole `subjectPublicKey` BIT STRING
/// (`03 len+1 00` before them): the uncompressed EC point, or the Ed25519 key.
fn spki_key(spki: &[u8], len: usize) -> Option<&[u8]> {
    let start = spki.len().checked_sub(len)?;
    let header = spki.get(start.checked_sub(3)?..start)?;
    let bits_len = u8::try_from(len + 1).ok()?;
    (header == [0x03, bits_len, 0x00]).then(|| spki.get(start..)).flatten()
}

#[cfg(test)]
mod tests {
    use crate::{Algorithm, VerifyingKey};

    /// RFC 7638 §3.1: the example RSA key and its thumbprint.
    #[test]
    fn the_rfc_7638_example_key_has_the_rfc_thumbprint() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let jwk = format!(r#"{{"kty":"RSA","n":"{n}","e":"AQAB","alg":"RS256"}}"#);
        let key = VerifyingKey::from_jwk(&jwk).expect("the RFC's key");
        assert_eq!(key.kid(), Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"));
    }

    #[test]
    fn keys_loaded_raw_or_as_spki_get_the_same_thumbprint() {
        let ed = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let from_jwk = VerifyingKey::from_jwk(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{ed}"}}"#))
            .expect("Ed25519 JWK");
        let pem = b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----";
        let from_pem = VerifyingKey::from_pem(pem, Algorithm::EdDSA).expect("Ed25519 PEM");
        assert!(from_jwk.kid().is_some_and(|kid| kid.len() == 43));
        assert_eq!(from_jwk.kid(), from_pem.kid());
    }

    #[test]
    fn an_hmac_secret_has_no_kid_of_its_own() {
        let key = VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).expect("secret");
        assert_eq!(key.kid(), None);
    }
}
