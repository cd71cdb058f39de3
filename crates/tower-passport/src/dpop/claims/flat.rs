//! The claims of a proof in the shape clients write them, read in one pass with no
//! general JSON machinery: a flat object with no whitespace, every name and every string
//! without escapes, every value a string or a plain non-negative integer, each claim once.
//! That is what every DPoP library sends (`JSON.stringify`, serde_json, Go's
//! `encoding/json`, Nimbus), and it is the whole of the warm path's proof parsing.
//!
//! It never refuses: anything else (whitespace, an escape, `null`, a fraction, a nested
//! or repeated member, a missing claim, a byte after the object) is handed back as `None`,
//! for [`ProofClaims::read_text`](super::ProofClaims) to read or refuse, as it always did.
//! So what it accepts must read to exactly what that reader gives, and it does, piece by
//! piece: a string with no escape is its own text (borrowed by both), a name with no escape
//! is matched as it is, a plain integer of at most 19 digits is its value (`u64` holds it;
//! the general reader takes the same `plain` path), and an unknown member's string or
//! integer is checked against the same grammar the general reader skips it with
//! ([`scan_string`] for strings, which both share). The unit tests and
//! `crates/integration/tests/properties/proof_claims.rs` hold the two to the same answers.

use std::borrow::Cow;

use super::{Claim, ProofClaims};
use crate::json::scan_string;

/// The claims of `text` (valid UTF-8 already), when it has the plain shape; `None` when it
/// has any other, to be read by the general reader.
pub(super) fn read(text: &str) -> Option<ProofClaims<'_>> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let mut at = 1;
    let mut strings: [Option<&str>; 5] = [None; 5];
    let mut iat = None;
    loop {
        // A name: a quote, text with no escape up to the closing quote, then a colon.
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let (claim, value) = match known_name(bytes, at + 1) {
            Some(known) => known,
            None => {
                let (name, after) = plain_string(text, at + 1)?;
                if bytes.get(after) != Some(&b':') {
                    return None;
                }
                (Claim::named(name), after + 1)
            }
        };
        at = value;
        at = match claim {
            Some(Claim::Iat) if iat.is_none() => {
                let (value, after) = plain_integer(bytes, at)?;
                iat = Some(value);
                after
            }
            Some(claim) => {
                let slot = match claim {
                    Claim::Jti => &mut strings[0],
                    Claim::Htm => &mut strings[1],
                    Claim::Htu => &mut strings[2],
                    Claim::Ath => &mut strings[3],
                    Claim::Nonce => &mut strings[4],
                    // A second `iat`.
                    Claim::Iat => return None,
                };
                if slot.is_some() || bytes.get(at) != Some(&b'"') {
                    return None;
                }
                let (value, after) = plain_string(text, at + 1)?;
                *slot = Some(value);
                after
            }
            None => match bytes.get(at) {
                Some(b'"') => plain_string(text, at + 1)?.1,
                _ => plain_integer(bytes, at)?.1,
            },
        };
        match bytes.get(at) {
            Some(b',') => at += 1,
            Some(b'}') if at + 1 == bytes.len() => break,
            _ => return None,
        }
    }
    let [jti, htm, htu, ath, nonce] = strings;
    Some(ProofClaims {
        jti: Cow::Borrowed(jti?),
        htm: Cow::Borrowed(htm?),
        htu: Cow::Borrowed(htu?),
        iat: iat?,
        ath: ath.map(Cow::Borrowed),
        nonce: nonce.map(Cow::Borrowed),
    })
}

/// The claim whose name, closing quote and colon follow at `at` (after the opening
/// quote), spelled as they are (`jti":`, `nonce":`), and the position of its value; `None`
/// for any other text, which [`plain_string`] then reads. Matched on the bytes at once:
/// what reading the name would give, without the scan.
#[inline(always)]
fn known_name(bytes: &[u8], at: usize) -> Option<(Option<Claim>, usize)> {
    let word: [u8; 5] = bytes.get(at..at + 5)?.try_into().ok()?;
    let claim = match word {
        [b'j', b't', b'i', b'"', b':'] => Claim::Jti,
        [b'h', b't', b'm', b'"', b':'] => Claim::Htm,
        [b'h', b't', b'u', b'"', b':'] => Claim::Htu,
        [b'i', b'a', b't', b'"', b':'] => Claim::Iat,
        [b'a', b't', b'h', b'"', b':'] => Claim::Ath,
        [b'n', b'o', b'n', b'c', b'e'] if bytes.get(at + 5..at + 7) == Some(b"\":") => {
            return Some((Some(Claim::Nonce), at + 7));
        }
        _ => return None,
    };
    Some((Some(claim), at + 5))
}

/// The string whose text starts at `start` (after its opening quote) when it has no
/// escape, and the position after its closing quote.
#[inline(always)]
fn plain_string(text: &str, start: usize) -> Option<(&str, usize)> {
    let bytes = text.as_bytes();
    let stop = scan_string(bytes, start).ok()?;
    if bytes.get(stop) != Some(&b'"') {
        return None;
    }
    Some((text.get(start..stop)?, stop + 1))
}

/// The plain integer at `at` (no sign, no leading zero, at most 19 digits) and the
/// position after its digits.
#[inline(always)]
fn plain_integer(bytes: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut end = at;
    let mut value = 0u64;
    while let Some(&byte) = bytes.get(end) {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
        end += 1;
    }
    let digits = end - at;
    // A leading zero is a plain 0 alone. A fraction or an exponent after the digits needs
    // no look here: the caller takes nothing but `,` or `}` after a value.
    if digits == 0 || digits > 19 || (digits > 1 && bytes.get(at) == Some(&b'0')) {
        return None;
    }
    Some((value, end))
}

#[cfg(test)]
mod tests;
