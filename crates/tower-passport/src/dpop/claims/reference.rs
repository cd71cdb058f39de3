//! The claims as owned values, and serde_json's typed parse of them: what the tests and
//! the fuzzing entry points (`crate::fuzzing`) compare the readers with, written once.

use std::borrow::Cow;

use super::ProofClaims;
use crate::token::{is_json_object, Text};

/// A proof's claims as owned values: `(jti, htm, htu, iat, ath, nonce)`.
pub(crate) type OwnedClaims = (String, String, String, u64, Option<String>, Option<String>);

/// `claims` as owned values; `None` when a string is not UTF-8 (the readers hand out only
/// UTF-8, so never).
pub(crate) fn owned(claims: ProofClaims<'_>) -> Option<OwnedClaims> {
    let text = |text: Cow<'_, [u8]>| String::from_utf8(text.into_owned()).ok();
    Some((
        text(claims.jti)?,
        text(claims.htm)?,
        text(claims.htu)?,
        claims.iat,
        claims.ath.map(text).map(|ath| ath.ok_or(())).transpose().ok()?,
        claims.nonce.map(text).map(|nonce| nonce.ok_or(())).transpose().ok()?,
    ))
}

/// The claims of `payload` as the proof check reads them (`general: false`: the one-pass
/// reader, then the general one), or by the general reader alone (`general: true`).
pub(crate) fn owned_claims(payload: &[u8], general: bool) -> Option<OwnedClaims> {
    let claims = if general {
        ProofClaims::read_text(std::str::from_utf8(payload).ok()?).ok()?
    } else {
        ProofClaims::read(payload)?
    };
    owned(claims)
}

/// The reference the readers are held to: serde_json's typed parse of the same claims, as
/// the crate read them before it had a reader of its own (duplicates refused, unknown
/// members ignored, `iat` a number truncated to whole seconds with negatives at 0).
pub(crate) fn serde_claims(payload: &[u8]) -> Option<OwnedClaims> {
    #[derive(serde::Deserialize)]
    struct Claims<'a> {
        #[serde(borrow)]
        jti: Text<'a>,
        #[serde(borrow)]
        htm: Text<'a>,
        #[serde(borrow)]
        htu: Text<'a>,
        iat: f64,
        #[serde(borrow, default)]
        ath: Option<Text<'a>>,
        #[serde(borrow, default)]
        nonce: Option<Text<'a>>,
    }
    let claims = is_json_object(payload).then(|| serde_json::from_slice::<Claims<'_>>(payload).ok())??;
    if !claims.iat.is_finite() {
        return None;
    }
    let text = |text: Text<'_>| text.0.into_owned();
    Some((
        text(claims.jti),
        text(claims.htm),
        text(claims.htu),
        // What the proof check does with it: saturating, negatives at 0.
        claims.iat as u64,
        claims.ath.map(text),
        claims.nonce.map(text),
    ))
}
