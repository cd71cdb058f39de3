//! Minting RFC 9068 access tokens with a pre-parsed signing key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;

use super::SigningKey;

/// The claims of an RFC 9068 access token.
#[derive(Serialize)]
pub(crate) struct AccessClaims<'a> {
    pub(crate) iss: &'a str,
    pub(crate) sub: &'a str,
    pub(crate) aud: Audience<'a>,
    pub(crate) client_id: &'a str,
    pub(crate) iat: u64,
    pub(crate) exp: u64,
    pub(crate) jti: &'a str,
    pub(crate) scope: String,
}

/// `aud` is a string for one audience and an array for several.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Audience<'a> {
    One(&'a str),
    Many(&'a [String]),
}

impl<'a> Audience<'a> {
    pub(crate) fn of(audiences: &'a [String]) -> Self {
        match audiences {
            [one] => Self::One(one),
            many => Self::Many(many),
        }
    }
}

/// `header.payload.signature`, header `{"alg", "kid", "typ": "at+jwt"}`.
pub(crate) fn mint(key: &SigningKey, claims: &AccessClaims<'_>) -> Result<String, MintError> {
    let header = format!(r#"{{"alg":"{}","kid":"{}","typ":"at+jwt"}}"#, key.algorithm().name(), key.kid());
    let payload = serde_json::to_vec(claims).map_err(|_| MintError)?;
    let mut token = String::with_capacity(512);
    URL_SAFE_NO_PAD.encode_string(header, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = key.sign(token.as_bytes()).map_err(|_| MintError)?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

/// Signing or serialization failed (a broken key or random source).
#[derive(Debug)]
pub(crate) struct MintError;
