//! Verifying keys, each bound to exactly one algorithm when it is loaded.
//!
//! Keys come from PEM (SPKI, PKCS#1), DER, a JWK, or a JWKS document. A key is never
//! used with an algorithm other than its own, so an RSA public key can never be
//! misused as an HMAC secret, and `alg: none` never verifies.

mod algorithm;
mod jwk;
mod key_set;
mod verifying_key;

pub use algorithm::Algorithm;
pub use jwk::JwkOptions;
pub use key_set::KeySet;
pub use verifying_key::VerifyingKey;
