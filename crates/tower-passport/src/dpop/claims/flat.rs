//! The claims of a proof in the shape clients write them, read in one pass with no
//! general JSON machinery: a flat object with no whitespace, every name and every string
//! without escapes, every value a string or a plain non-negative integer, each claim once.
//! That is what every DPoP library sends (`JSON.stringify`, serde_json, Go's
//! `encoding/json`, Nimbus), and it is the whole of the warm path's proof parsing.
//!
//! It reads bytes, and takes ASCII alone: a payload it reads is UTF-8 with no check of its
//! own (the general reader checks the whole payload first).
//!
//! It never refuses: anything else (whitespace, an escape, a byte beyond ASCII, `null`, a
//! fraction, a nested or repeated member, a missing claim, a byte after the object) is handed back as `None`,
//! for [`ProofClaims::read_text`](super::ProofClaims) to read or refuse, as it always did.
//! So what it accepts must read to exactly what that reader gives, and it does, piece by
//! piece: a string with no escape is its own text (borrowed by both), a name with no escape
//! is matched as it is, a plain integer of at most 19 digits is its value (`u64` holds it;
//! the general reader takes the same `plain` path), and an unknown member's string or
//! integer is checked against the same grammar the general reader skips it with (a
//! string runs to its first quote, backslash or control character, as in the general
//! reader's [`scan_string`](crate::json::scan_string), with the same word-at-a-time test).
//! The unit tests hold the two to the same answers on tables, on every integer length and
//! on generated payloads and their mutations.

use std::borrow::Cow;

use super::{Claim, ProofClaims};

/// The claims of `bytes`, when it has the plain shape and is ASCII (so UTF-8, which the
/// general reader requires of a payload); `None` when it has any other, to be read by the
/// general reader.
#[inline]
pub(super) fn read(bytes: &[u8]) -> Option<ProofClaims<'_>> {
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let mut at = 1;
    let mut strings: [Option<&[u8]>; 5] = [None; 5];
    let mut iat = None;
    loop {
        // A name: a quote, text with no escape up to the closing quote, then a colon.
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let (claim, value) = match known_name(bytes, at + 1) {
            Some(known) => known,
            None => {
                let (name, after) = plain_string(bytes, at + 1)?;
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
                let (value, after) = plain_string(bytes, at + 1)?;
                *slot = Some(value);
                after
            }
            None => match bytes.get(at) {
                Some(b'"') => plain_string(bytes, at + 1)?.1,
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
    /// Four bytes as one word, to match a name with one compare.
    const fn word(text: &[u8; 4]) -> u32 {
        u32::from_le_bytes(*text)
    }
    const JTI: u32 = word(b"jti\"");
    const HTM: u32 = word(b"htm\"");
    const HTU: u32 = word(b"htu\"");
    const IAT: u32 = word(b"iat\"");
    const ATH: u32 = word(b"ath\"");
    const NONC: u32 = word(b"nonc");
    let [a, b, c, d, colon]: [u8; 5] = bytes.get(at..at + 5)?.try_into().ok()?;
    let head = u32::from_le_bytes([a, b, c, d]);
    if colon != b':' {
        return (head == NONC && colon == b'e' && bytes.get(at + 5..at + 7) == Some(b"\":"))
            .then_some((Some(Claim::Nonce), at + 7));
    }
    let claim = match head {
        JTI => Claim::Jti,
        HTM => Claim::Htm,
        HTU => Claim::Htu,
        IAT => Claim::Iat,
        ATH => Claim::Ath,
        _ => return None,
    };
    Some((Some(claim), at + 5))
}

/// The string whose text starts at `start` (after its opening quote) when it is ASCII with
/// no escape, and the position after its closing quote.
#[inline(always)]
fn plain_string(bytes: &[u8], start: usize) -> Option<(&[u8], usize)> {
    let stop = first_special(bytes.get(start..)?).map(|stop| start + stop)?;
    if bytes.get(stop) != Some(&b'"') {
        return None;
    }
    Some((bytes.get(start..stop)?, stop + 1))
}

/// Where the first quote, backslash, control character (below U+0020) or byte beyond ASCII
/// of `bytes` is: the bytes [`scan_string`](crate::json::scan_string) stops at (or
/// refuses), and those this reader leaves to the general one. Eight bytes
/// a step, as it does, walking the slice's whole words (no bounds check per step), then
/// the last few one by one.
#[inline(always)]
fn first_special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let words = bytes.chunks_exact(8);
    let rest = words.remainder();
    let mut at = 0;
    for word in words {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(word).ok()?);
        // A quote or a control character is a byte below 0x21 once bit 1 is flipped (which
        // maps 0x00..=0x1F onto itself and 0x22 to 0x20): one "less than" test for both,
        // and a "zero" test for the backslash. The high bit of each such byte; a borrow may
        // mark bytes after the first one, never before it. A byte beyond ASCII is its own
        // high bit.
        let flipped = word ^ (ONES * 0x02);
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let found = ((flipped.wrapping_sub(ONES * 0x21) & !flipped)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | word)
            & HIGH;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    rest.iter()
        .position(|&byte| (byte == b'"') | (byte == b'\\') | !(0x20..0x80).contains(&byte))
        .map(|stop| at + stop)
}

/// The plain integer at `at` (no sign, no leading zero, at most 19 digits) and the
/// position after its digits.
#[inline(always)]
fn plain_integer(bytes: &[u8], at: usize) -> Option<(u64, usize)> {
    let (mut value, mut end) = (0u64, at);
    // A date in seconds has ten digits: the first eight taken at once when they are digits.
    if let Some(value_of_eight) = bytes.get(at..at + 8).and_then(eight_digits) {
        (value, end) = (value_of_eight, at + 8);
    }
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

/// The value of `word`'s eight bytes when they are all ASCII digits (the first the most
/// significant), `None` when any is not. The digit test and the three multiply-and-shift
/// steps are simdjson's (Lemire, "Parsing series of integers with SIMD", SWAR form): a byte
/// passes when its high nibble and that of itself plus 6 are both 3, which is 0x30..=0x39
/// exactly (a carry out of a byte of 0xFA or more fails that byte first).
#[inline(always)]
fn eight_digits(word: &[u8]) -> Option<u64> {
    let word = u64::from_le_bytes(<[u8; 8]>::try_from(word).ok()?);
    let high_nibbles = (word & 0xF0F0_F0F0_F0F0_F0F0)
        | ((word.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4);
    if high_nibbles != 0x3333_3333_3333_3333 {
        return None;
    }
    let pairs = ((word & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561)) >> 8;
    let quads = ((pairs & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601)) >> 16;
    Some(((quads & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001)) >> 32)
}

#[cfg(test)]
mod tests;
