//! Compact JWS parsing: three base64url parts, the JOSE header decoded once.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use base64_simd::{Out, URL_SAFE_NO_PAD};
use serde::Deserialize;

use crate::error::{AuthError, Reason};
use crate::keys::Algorithm;
use crate::token::Text;

pub(super) struct Parts<'a> {
    pub(super) header: &'a str,
    pub(super) payload: &'a str,
    pub(super) signature: &'a str,
    /// `header.payload`, the bytes the signature covers.
    pub(super) signing_input: &'a str,
}

pub(super) fn split(token: &str) -> Result<Parts<'_>, AuthError> {
    let malformed = || AuthError::invalid_token(Reason::MalformedToken);
    // Exactly two dots, three non-empty parts. The first dot is searched from the front
    // (the header is short), the last from the back (so is the signature), and the payload
    // between them, the long part, is checked for a third in one SIMD pass of `memchr`.
    let bytes = token.as_bytes();
    let first = memchr::memchr(b'.', bytes).ok_or_else(malformed)?;
    let second = memchr::memrchr(b'.', bytes).ok_or_else(malformed)?;
    if second <= first + 1 || first == 0 || second + 1 == bytes.len() {
        return Err(malformed());
    }
    if memchr::memchr(b'.', &bytes[first + 1..second]).is_some() {
        return Err(malformed());
    }
    // The dots are ASCII, so every slice boundary is a char boundary.
    let (header, payload, signature) = (&token[..first], &token[first + 1..second], &token[second + 1..]);
    Ok(Parts { header, payload, signature, signing_input: &token[..second] })
}

pub(super) fn decode_part(part: &str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD.decode_to_vec(part).map_err(|_| AuthError::invalid_token(Reason::MalformedToken))
}

/// Decodes `part` into `buffer` when it fits (no allocation), else into `spill`.
#[cfg(test)]
fn decode_with<'b>(part: &str, buffer: &'b mut [u8], spill: &'b mut Vec<u8>) -> Result<&'b [u8], AuthError> {
    decode_to(part.as_bytes(), |length| buffer.get_mut(..length).map(Out::from_slice), spill)
        .map_err(|()| AuthError::invalid_token(Reason::MalformedToken))
}

/// Decodes `part` into `buffer` when it fits (no allocation), else into `spill`; the
/// buffer need not be initialised first (no `memset` of it). `Err` when `part` is not
/// unpadded base64url.
pub(crate) fn decode_into<'b>(
    part: &[u8],
    buffer: &'b mut [MaybeUninit<u8>],
    spill: &'b mut Vec<u8>,
) -> Result<&'b [u8], ()> {
    decode_to(part, |length| buffer.get_mut(..length).map(Out::from_uninit_slice), spill)
}

/// Decodes the unpadded base64url `part` into the window `window` gives for its decoded
/// length when there is one, else into `spill`.
fn decode_to<'b>(
    part: &[u8],
    window: impl FnOnce(usize) -> Option<Out<'b, [u8]>>,
    spill: &'b mut Vec<u8>,
) -> Result<&'b [u8], ()> {
    let length = URL_SAFE_NO_PAD.decoded_length(part).map_err(|_| ())?;
    match window(length) {
        Some(out) => Ok(URL_SAFE_NO_PAD.decode(part, out).map_err(|_| ())?),
        None => {
            *spill = URL_SAFE_NO_PAD.decode_to_vec(part).map_err(|_| ())?;
            Ok(spill.as_slice())
        }
    }
}

/// Decodes the payload into a buffer of exactly its decoded length, so that it becomes the
/// token's raw claims without a reallocation.
pub(super) fn decode_payload(part: &str) -> Result<String, AuthError> {
    // Unpadded base64url: every 4 characters are 3 bytes, a tail of 2 or 3 is 1 or 2.
    let decoded = decode_part(part)?;
    String::from_utf8(decoded).map_err(|_| AuthError::invalid_token(Reason::MalformedClaims))
}

/// The JOSE header members the verifier reads. Duplicated members are refused by serde.
#[derive(Deserialize)]
pub(super) struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) kid: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) typ: Option<Text<'a>>,
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
        let encoded = URL_SAFE_NO_PAD.encode_to_string([7u8; 300]);
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
        for bad in ["a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", "abc", "", ".", "..", "...", "a.b.c.", ".a.b"] {
            assert!(split(bad).is_err(), "{bad}");
        }
    }

    /// The SIMD decoder refuses exactly what the `base64` crate's strict URL-safe,
    /// unpadded engine refuses: padding, the standard alphabet, a dangling character and
    /// non-zero trailing bits.
    #[test]
    fn decoding_is_as_strict_as_the_base64_crate() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as REFERENCE;
        use base64::Engine;
        let cases = [
            "",
            "QQ",
            "QUI",
            "QUJD",
            "QR",
            "QUJ",
            "QQ==",
            "QUI=",
            "Q",
            "QUJDR",
            "a+b/",
            "a-b_",
            "ab\n",
            "eyJhbGciOiJIUzI1NiJ9",
            "eyJhbGciOiJIUzI1NiJ9=",
            "eyJhbGciOiJIUzI1NiJ8",
            " QUJD",
            "QUJD ",
        ];
        for case in cases {
            let (mut buffer, mut spill) = ([0u8; 64], Vec::new());
            let ours = decode_with(case, &mut buffer, &mut spill).map(<[u8]>::to_vec).ok();
            assert_eq!(ours, REFERENCE.decode(case).ok(), "{case:?}");
        }
        for length in 0..40 {
            let bytes: Vec<u8> = (0..length).map(|i| (i * 37 + 11) as u8).collect();
            let encoded = REFERENCE.encode(&bytes);
            assert_eq!(decode_part(&encoded).unwrap(), bytes);
        }
    }
}
