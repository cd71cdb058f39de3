//! The tokens the soak makes itself: the server's signing key (ES256, handed to the
//! quickstart as `PASSPORT_PRIVATE_KEY`), expired tokens signed with it, and garbage
//! (malformed, truncated, tampered, signed by a stranger).

use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::Value;

/// An ES256 key: its PKCS #8 PEM for the server, and the same key for signing here.
pub struct ServerKey {
    pub pem: String,
    encoding: EncodingKey,
}

impl ServerKey {
    pub fn generate() -> Result<Self, String> {
        let pair =
            EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|_| "EC key generation")?;
        let pkcs8 = pair.to_pkcs8v1().map_err(|_| "PKCS #8 encoding")?;
        let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec()));
        Ok(Self { pem, encoding: EncodingKey::from_ec_der(pkcs8.as_ref()) })
    }

    /// `template` (a token the server minted) re-signed with its claims moved `age` seconds
    /// into the past and a new `jti`: a token the server's keys verify, expired.
    pub fn expired_like(&self, template: &str, age: u64, nth: usize) -> Result<String, String> {
        let header = jsonwebtoken::decode_header(template).map_err(|e| e.to_string())?;
        let mut claims = payload(template)?;
        let claims_map = claims.as_object_mut().ok_or("the template's payload is no object")?;
        for name in ["exp", "iat", "nbf"] {
            if let Some(instant) = claims_map.get(name).and_then(Value::as_u64) {
                claims_map.insert(name.into(), instant.saturating_sub(age).into());
            }
        }
        claims_map.insert("jti".into(), format!("soak-expired-{nth}").into());
        let mut signed_header = Header::new(header.alg);
        signed_header.kid = header.kid;
        signed_header.typ = header.typ;
        jsonwebtoken::encode(&signed_header, &claims, &self.encoding).map_err(|e| e.to_string())
    }
}

/// The JSON payload of a compact JWS.
fn payload(token: &str) -> Result<Value, String> {
    let part = token.split('.').nth(1).ok_or("no payload")?;
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

/// Garbage the guard must refuse, made from `valid` (a token it accepts) and `stranger` (a
/// token of the same shape signed by another key): `count` values cycling through the
/// kinds, each made distinct by `nth`.
pub fn garbage(valid: &str, stranger: &str, count: usize) -> Vec<String> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..count)
        .map(|nth| match nth % 6 {
            // Not a JWS at all.
            0 => format!("garbage{nth:04}{}", "x".repeat(nth % 40)),
            // Three segments of nothing meaningful.
            1 => format!("eyJ{nth}.eyJ{nth}.c2lnbmF0dXJl"),
            // Truncated.
            2 => valid.get(..valid.len().saturating_sub(1 + nth % 20)).unwrap_or_default().to_owned(),
            // A signature character changed (in the middle, never the trailing bits).
            3 => {
                let mut bytes = valid.as_bytes().to_vec();
                let at = valid.rfind('.').map_or(0, |dot| dot + 1 + (valid.len() - dot) / 2);
                let Some(&old) = bytes.get(at) else { return format!("short{nth}") };
                bytes[at] = alphabet
                    .iter()
                    .copied()
                    .find(|c| *c != old && (*c as usize + nth) % 7 == 0)
                    .unwrap_or(b'A');
                if bytes[at] == old {
                    bytes[at] = if old == b'A' { b'B' } else { b'A' };
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
            // The payload of one token with the signature of another.
            4 => {
                let head = valid.rsplit_once('.').map_or(valid, |(head, _)| head);
                let signature = stranger.rsplit_once('.').map_or(stranger, |(_, signature)| signature);
                format!("{head}.{signature}")
            }
            // Signed by a key the server does not know.
            _ => stranger.to_owned(),
        })
        .collect()
}

/// A token with `valid`'s claims signed by a fresh key the server does not know.
pub fn stranger(valid: &str) -> Result<String, String> {
    ServerKey::generate()?.expired_like(valid, 0, usize::MAX)
}
