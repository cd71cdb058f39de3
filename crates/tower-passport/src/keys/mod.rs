//! Verifying keys, each bound to exactly one algorithm when it is loaded.
//!
//! Keys come from PEM (SPKI, PKCS#1), DER, a JWK, or a JWKS document. A key is never
//! used with an algorithm other than its own, so an RSA public key can never be
//! misused as an HMAC secret, and `alg: none` never verifies. A public key's `kid` is its
//! RFC 7638 thumbprint unless it is given one (`thumbprint`); an HMAC secret has none.
//!
//! A verifier reads an issuer's keys from a [`KeySource`]: a static [`KeySet`], or with
//! the `jwks` feature a [`RemoteKeySet`] fetched over HTTP (directly or through OpenID /
//! RFC 8414 discovery) and refreshed in the background, or a [`SharedKeySet`] its owner
//! replaces at run time (a signer's keys across a rotation).
//!
//! # Crypto backend
//!
//! Signatures are verified with [aws-lc-rs](https://github.com/aws/aws-lc-rs), chosen by
//! measurement against RustCrypto (5.7× to 10× faster for RSA and ECDSA, on par for EdDSA;
//! see `BENCHMARKS.md`, *Crypto backend*). Keys are parsed once when loaded,
//! and each token's header and claims are decoded once. jsonwebtoken 11 is the independent
//! reference implementation the tests and benches check against.

mod algorithm;
mod jwk;
mod key_set;
#[cfg(feature = "jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
pub mod remote;
mod shared;
mod source;
pub mod thumbprint;
pub(crate) mod unknown_kid;
mod verifying_key;

pub use algorithm::Algorithm;
pub use jwk::JwkOptions;
pub use key_set::KeySet;
#[cfg(feature = "jwks")]
pub use remote::{HttpClient, HyperClient, RemoteKeySet, RemoteKeySetBuilder};
pub use shared::SharedKeySet;
pub use source::KeySource;
pub(crate) use source::{KeyWait, Lookup, Miss};
pub use verifying_key::VerifyingKey;
