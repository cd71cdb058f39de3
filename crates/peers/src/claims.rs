//! The typed claims jsonwebtoken and jwt-authorizer decode into: the fields tower-passport
//! reads from the same token (the rest, `email` and `amr`, are skipped as it skips them).

use serde::Deserialize;

/// The registered claims, `client_id` and `scope`, owned.
#[derive(Clone, Debug, Deserialize)]
pub struct PeerClaims {
    /// `iss`.
    pub iss: String,
    /// `aud` (a single audience in this token).
    pub aud: String,
    /// `sub`.
    pub sub: String,
    /// `client_id`.
    pub client_id: String,
    /// `exp`.
    pub exp: u64,
    /// `nbf`.
    pub nbf: u64,
    /// `iat`.
    pub iat: u64,
    /// `jti`.
    pub jti: String,
    /// `scope`, space-separated.
    pub scope: String,
}
