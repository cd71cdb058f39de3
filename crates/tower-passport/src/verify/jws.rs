//! Compact JWS parsing: three base64url parts, the JOSE header decoded once.

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

use crate::error::{AuthError, Reason};
use crate::keys::Algorithm;

pub(super) struct Parts<'a> {
    pub(super) header: &'a str,
    pub(super) payload: &'a str,
    pub(super) signature: &'a str,
    /// `header.payload`, the bytes the signature covers.
    pub(super) signing_input: &'a str,
}

pub(super) fn split(token: &str) -> Result<Parts<'_>, AuthError> {
    let malformed = || AuthError::invalid_token(Reason::MalformedToken);
    // One pass: exactly two dots, three non-empty parts.
    let mut dots = token.bytes().enumerate().filter(|&(_, b)| b == b'.').map(|(i, _)| i);
    let (first, second) = match (dots.next(), dots.next(), dots.next()) {
        (Some(first), Some(second), None) => (first, second),
        _ => return Err(malformed()),
    };
    let (header, payload, signature) = (&token[..first], &token[first + 1..second], &token[second + 1..]);
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(malformed());
    }
    Ok(Parts { header, payload, signature, signing_input: &token[..second] })
}

pub(super) fn decode_part(part: &str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| AuthError::invalid_token(Reason::MalformedToken))
}

/// Decodes `part` into `buffer` when it fits (no allocation), else into `spill`.
pub(super) fn decode_with<'b>(
    part: &str,
    buffer: &'b mut [u8],
    spill: &'b mut Vec<u8>,
) -> Result<&'b [u8], AuthError> {
    match URL_SAFE_NO_PAD.decode_slice(part, &mut *buffer) {
        Ok(len) => Ok(&buffer[..len]),
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
            *spill = decode_part(part)?;
            Ok(spill.as_slice())
        }
        Err(base64::DecodeSliceError::DecodeError(_)) => {
            Err(AuthError::invalid_token(Reason::MalformedToken))
        }
    }
}

pub(super) fn decode_payload(part: &str) -> Result<String, AuthError> {
    String::from_utf8(decode_part(part)?).map_err(|_| AuthError::invalid_token(Reason::MalformedClaims))
}

/// The JOSE header members the verifier reads. Duplicated members are refused by serde.
#[derive(Deserialize)]
pub(super) struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) typ: Option<Cow<'a, str>>,
    /// Present at all (even `null`) means refused.
    #[serde(default, deserialize_with = "crate::token::present")]
    crit: Option<()>,
}

impl<'a> Header<'a> {
    /// Parses the decoded header bytes; the result borrows them.
    pub(super) fn parse(bytes: &'a [u8]) -> Result<Self, AuthError> {
        if !crate::token::is_json_object(bytes) {
            return Err(AuthError::invalid_token(Reason::MalformedHeaderParameters));
        }
        let header: Header<'a> = serde_json::from_slice(bytes)
            .map_err(|_| AuthError::invalid_token(Reason::MalformedHeaderParameters))?;
        if header.crit.is_some() {
            // RFC 7515 §4.1.11: we understand no extension, so any `crit` is refused.
            return Err(AuthError::invalid_token(Reason::MalformedHeaderParameters));
        }
        Ok(header)
    }

    pub(super) fn algorithm(&self) -> Result<Algorithm, AuthError> {
        Algorithm::from_name(&self.alg).ok_or(AuthError::invalid_token(Reason::UnsupportedAlgorithm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_with_uses_the_buffer_when_it_fits_and_spills_when_not() {
        let encoded = URL_SAFE_NO_PAD.encode([7u8; 300]);
        let (mut small, mut spill) = ([0u8; 16], Vec::new());
        assert_eq!(decode_with(&encoded, &mut small, &mut spill).unwrap(), &[7u8; 300][..]);
        assert_eq!(spill.len(), 300, "too long for the buffer: decoded into the spill");
        let (mut large, mut unused) = ([0u8; 512], Vec::new());
        assert_eq!(decode_with(&encoded, &mut large, &mut unused).unwrap().len(), 300);
        assert!(unused.is_empty(), "fits: no allocation");
        assert!(decode_with("not*base64", &mut large, &mut unused).is_err());
    }

    #[test]
    fn split_needs_exactly_three_non_empty_parts() {
        let parts = split("a.b.c").unwrap();
        assert_eq!(
            (parts.header, parts.payload, parts.signature, parts.signing_input),
            ("a", "b", "c", "a.b")
        );
        for bad in ["a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", "abc"] {
            assert!(split(bad).is_err(), "{bad}");
        }
    }
}
