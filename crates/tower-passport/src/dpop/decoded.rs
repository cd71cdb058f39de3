//! A proof's payload and signature, base64url-decoded together in one pass.
//!
//! Decoded one by one, each part ends in a scalar tail: base64-simd decodes 32 characters
//! a step while at least 38 are left, then up to 37 one table lookup at a time, and those
//! two tails were about half of what decoding a proof cost. Here both parts are copied
//! into one buffer, each padded with `A` (zero bits) to whole groups of four characters,
//! and the whole padded to 32 characters a step plus 6: one decode, every step but the
//! last six characters a SIMD one.
//!
//! The answer is what decoding each part alone (unpadded base64url, trailing bits zero)
//! gives, error for error:
//! - a part of 4n + 1 characters is no base64url, and is refused here before decoding;
//! - any byte outside the alphabet is refused by the decode, wherever it lies;
//! - a part of 4n + 2 or 4n + 3 characters must leave its unused low bits zero (RFC 4648
//!   §3.5, as base64-simd checks): padded with `A`, those bits are the bytes its padding
//!   decodes to, which must then be zero.
//!
//! The unit tests hold it to decoding each part alone, on every length and on generated
//! parts with bytes outside the alphabet and trailing bits set.

use std::cell::RefCell;
use std::mem::MaybeUninit;

use base64_simd::{Out, URL_SAFE_NO_PAD};

/// The longest padded pair decoded here, in characters: an ES256, ES384 or EdDSA proof
/// with a payload of up to about 500 characters, or an RS256 one (2048-bit) of up to about
/// 280. Longer ones are decoded part by part, as before.
pub(super) const STAGED: usize = 640;

/// The decoded pair's bytes, at most: `STAGED` characters decode to three quarters.
pub(super) const DECODED: usize = STAGED / 4 * 3 + 1;

/// A proof's payload and signature, decoded.
pub(super) type Pair<'b> = (&'b [u8], &'b [u8]);

/// The padding written after each part: more than a part's last group and the tail to
/// the staged length ever need (at most 3 and 38), as one fixed-size store rather than
/// a fill of a length known only at run time (a `memset` call).
const PADDING: [u8; 48] = [b'A'; 48];

/// The stage's length: the staged pair, and room for the last part's padding past it.
const STAGE_LEN: usize = STAGED + PADDING.len();

thread_local! {
    /// Where the pair is copied and padded: one per thread, reused, so no request pays
    /// for filling a fresh one (the bytes past the padded pair are never read).
    static STAGE: RefCell<[u8; STAGE_LEN]> = const { RefCell::new([0; STAGE_LEN]) };
}

/// The payload and signature decoded into `out` from a padded copy of both: `Ok(None)`
/// when the padded pair is longer than [`STAGED`] characters (decode them part by part
/// then); `Err` when either is no unpadded base64url.
pub(super) fn decode_pair<'b>(
    payload: &[u8],
    signature: &[u8],
    out: &'b mut [MaybeUninit<u8>; DECODED],
) -> Result<Option<Pair<'b>>, ()> {
    let (payload_groups, signature_groups) = (groups(payload.len())?, groups(signature.len())?);
    let staged = staged_len(4 * (payload_groups + signature_groups));
    if staged > STAGED {
        return Ok(None);
    }
    let signature_at = 4 * payload_groups;
    let window = &mut out[..staged / 4 * 3 + 1];
    // The thread's stage, or none should it be out of reach (a thread being torn down):
    // the parts are then decoded one by one.
    let decoded = STAGE
        .try_with(move |stage| {
            let mut stage = stage.try_borrow_mut().ok()?;
            // Each part, then padding past its end; the signature overwrites what the
            // payload's padding wrote past its last group.
            stage[..payload.len()].copy_from_slice(payload);
            stage[payload.len()..payload.len() + PADDING.len()].copy_from_slice(&PADDING);
            let signature_end = signature_at + signature.len();
            stage[signature_at..signature_end].copy_from_slice(signature);
            stage[signature_end..signature_end + PADDING.len()].copy_from_slice(&PADDING);
            Some(URL_SAFE_NO_PAD.decode(&stage[..staged], Out::from_uninit_slice(window)).map_err(|_| ()))
        })
        .ok()
        .flatten();
    let decoded: &'b [u8] = match decoded {
        Some(decoded) => decoded?,
        None => return Ok(None),
    };
    let payload = part(decoded, 0, payload.len())?;
    let signature = part(decoded, 3 * payload_groups, signature.len())?;
    Ok(Some((payload, signature)))
}

/// How many characters `padded` ones are staged as: 32 a SIMD step while 38 are left,
/// then 6 (a group and two), the shortest tail base64-simd leaves. The two extra
/// characters decode to one byte, never read.
fn staged_len(padded: usize) -> usize {
    (padded + (STAGED + 6 - padded % 32) % 32).max(38)
}

/// How many groups of four characters a part of `chars` characters takes, its last one
/// padded; `Err` for a length no unpadded base64url has (4n + 1).
fn groups(chars: usize) -> Result<usize, ()> {
    if chars % 4 == 1 {
        return Err(());
    }
    Ok(chars.div_ceil(4))
}

/// The bytes of a part of `chars` characters decoded at `at`; `Err` when the bits its
/// padding supplied the rest of were not zero (the bytes they decode to are not).
fn part(decoded: &[u8], at: usize, chars: usize) -> Result<&[u8], ()> {
    let bytes = chars / 4 * 3 + (chars % 4).saturating_sub(1);
    let padded = chars.div_ceil(4) * 3;
    let (part, padding) =
        (decoded.get(at..at + bytes).ok_or(())?, decoded.get(at + bytes..at + padded).ok_or(())?);
    if padding.iter().any(|&byte| byte != 0) {
        return Err(());
    }
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each part decoded alone, as the proof's check did before.
    fn alone(part: &[u8]) -> Result<Vec<u8>, ()> {
        URL_SAFE_NO_PAD.decode_to_vec(part).map_err(|_| ())
    }

    /// A decoded pair, owned.
    type Owned = (Vec<u8>, Vec<u8>);

    /// The pair decoded together, or `None` when it is too long to be.
    fn together(payload: &[u8], signature: &[u8]) -> Option<Result<Owned, ()>> {
        let mut out = [MaybeUninit::uninit(); DECODED];
        match decode_pair(payload, signature, &mut out) {
            Ok(Some((payload, signature))) => Some(Ok((payload.to_vec(), signature.to_vec()))),
            Ok(None) => None,
            Err(()) => Some(Err(())),
        }
    }

    fn agrees(payload: &[u8], signature: &[u8]) -> bool {
        let expected = alone(payload).and_then(|payload| Ok((payload, alone(signature)?)));
        match together(payload, signature) {
            Some(answer) => answer == expected,
            // Too long: only when the padded pair is.
            None => staged_len(4 * (payload.len().div_ceil(4) + signature.len().div_ceil(4))) > STAGED,
        }
    }

    /// A deterministic generator (a 64-bit LCG): every run checks the same pairs.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 33
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound as u64) as usize
        }
    }

    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    fn text(rng: &mut Lcg, len: usize) -> Vec<u8> {
        (0..len).map(|_| ALPHABET[rng.below(64)]).collect()
    }

    #[test]
    fn every_length_pair_decodes_as_each_part_alone() {
        let mut rng = Lcg(7);
        for payload_len in 0..200 {
            for signature_len in [0, 1, 2, 3, 43, 86, 87, 128, 342, 343] {
                let (payload, signature) = (text(&mut rng, payload_len), text(&mut rng, signature_len));
                assert!(agrees(&payload, &signature), "{payload_len} {signature_len}");
            }
        }
    }

    #[test]
    fn encoded_bytes_come_back() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as ENGINE;
        use base64::Engine;
        let mut rng = Lcg(11);
        for len in 0..120 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let signature: Vec<u8> = (0..64).map(|_| rng.next() as u8).collect();
            let (encoded, encoded_signature) = (ENGINE.encode(&bytes), ENGINE.encode(&signature));
            let decoded = together(encoded.as_bytes(), encoded_signature.as_bytes());
            assert_eq!(decoded, Some(Ok((bytes, signature))), "{len}");
        }
    }

    #[test]
    fn trailing_bits_set_are_refused_in_either_part() {
        // `AB` leaves four bits of `B` (1) unused, `AAB` two of `B`: both non-canonical.
        for bad in [&b"AB"[..], b"AAB", b"AAAAAB", b"AAAAAAB", b"Ab"] {
            assert_eq!(together(bad, b"AAAA"), Some(Err(())), "{bad:?}");
            assert_eq!(together(b"AAAA", bad), Some(Err(())), "{bad:?}");
            assert!(alone(bad).is_err());
        }
        assert_eq!(together(b"AQ", b"AAE"), Some(Ok((vec![1], vec![0, 1]))));
    }

    #[test]
    fn lengths_of_4n_plus_1_and_bytes_outside_the_alphabet_are_refused() {
        for bad in [&b"A"[..], b"AAAAA", b"AA.A", b"AA=A", b"AA+A", b"AA/A", b"AA A", b"AA\xc3\xa9", b"AA\0A"]
        {
            assert_eq!(together(bad, b"AAAA"), Some(Err(())), "{bad:?}");
            assert_eq!(together(b"AAAA", bad), Some(Err(())), "{bad:?}");
        }
    }

    #[test]
    fn generated_pairs_with_stray_bytes_agree() {
        let mut rng = Lcg(2024);
        let strays = [b'.', b'=', b'+', b'/', b' ', 0, 0x7f, 0x80, 0xff, b'A', b'B', b'Q', b'g'];
        for _ in 0..20_000 {
            let (payload_len, signature_len) = (rng.below(260), rng.below(400));
            let mut payload = text(&mut rng, payload_len);
            let mut signature = text(&mut rng, signature_len);
            for part in [&mut payload, &mut signature] {
                if !part.is_empty() && rng.below(3) == 0 {
                    let at = rng.below(part.len());
                    part[at] = strays[rng.below(strays.len())];
                }
            }
            assert!(agrees(&payload, &signature), "{payload:?} {signature:?}");
        }
    }
}
