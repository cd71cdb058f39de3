//! Laravel Passport's tokens, shaped exactly as league/oauth2-server's
//! `AccessTokenTrait::convertToJWT` builds them with lcobucci/jwt's default formatters,
//! minted with jsonwebtoken: header `{"typ":"JWT","alg":"RS256"}` with no `kid`; claims
//! `aud` (the client id, one string), `jti`, `iat`, `nbf`, `exp` (floats with
//! microseconds, since they come from `new DateTimeImmutable()`, or integers when the
//! microseconds are zero), `sub` (the user id; for client credentials an empty string up
//! to league 8 / Passport 12, the client id from league 9 / Passport 13) and `scopes`; no
//! `iss`.
#![allow(dead_code, unreachable_pub)]

use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;

/// Passport's `storage/oauth-private.key` and `oauth-public.key`.
pub struct PassportKeys {
    pub private: EncodingKey,
    /// `-----BEGIN PUBLIC KEY-----`, as `passport:keys` writes it.
    pub public_pem: String,
}

/// One key pair per test binary: RSA generation is the slow part.
pub fn keys() -> &'static PassportKeys {
    static KEYS: OnceLock<PassportKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("rsa keygen");
        let private = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).expect("pkcs8");
        let private_pem = pem::encode(&pem::Pem::new("PRIVATE KEY", private.as_ref().to_vec()));
        let public = pair.public_key().as_der().expect("spki");
        PassportKeys {
            private: EncodingKey::from_rsa_pem(private_pem.as_bytes()).expect("pem"),
            public_pem: pem::encode(&pem::Pem::new("PUBLIC KEY", public.as_ref().to_vec())),
        }
    })
}

/// A NumericDate as lcobucci's `MicrosecondBasedDateConversion` writes it.
#[derive(Clone, Copy, Serialize)]
#[serde(untagged)]
pub enum Date {
    /// Microseconds exactly zero: `(int) $date->format('U')`.
    Seconds(u64),
    /// Otherwise `(float) $date->format('U.u')`.
    Micro(f64),
}

/// The claims in league's order: `permittedFor`, `identifiedBy`, `issuedAt`,
/// `canOnlyBeUsedAfter`, `expiresAt`, `relatedTo`, then `withClaim('scopes', …)`.
#[derive(Serialize)]
pub struct LeagueClaims<'a> {
    pub aud: &'a str,
    pub jti: &'a str,
    pub iat: Date,
    pub nbf: Date,
    pub exp: Date,
    pub sub: &'a str,
    pub scopes: &'a [&'a str],
}

/// A token of `client` on behalf of `sub` ("" for client credentials under league 8),
/// issued at `now` (seconds, with a fraction) for an hour.
pub fn token_at(now: f64, client: &str, sub: &str, scopes: &[&str]) -> String {
    token_with(&LeagueClaims {
        aud: client,
        // `bin2hex(random_bytes(40))`: 80 hex digits.
        jti: &"5d2a4e8ba1f03c6d".repeat(5),
        iat: Date::Micro(now),
        nbf: Date::Micro(now),
        exp: Date::Micro(now + 3600.0),
        sub,
        scopes,
    })
}

/// `token_at` the current time.
pub fn token_now(client: &str, sub: &str, scopes: &[&str]) -> String {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64();
    token_at(now, client, sub, scopes)
}

pub fn token_with(claims: &impl Serialize) -> String {
    // jsonwebtoken's default header is lcobucci's: `{"typ":"JWT","alg":"RS256"}`, no kid.
    jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::RS256), claims, &keys().private).expect("sign")
}
