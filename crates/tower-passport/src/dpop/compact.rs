//! A DPoP proof (a compact JWS) split at its dots: searched for, or, under a header a
//! bound token remembers, found where they must be.

use crate::Algorithm;

/// The base64url length of an `algorithm` signature when all of them have the same: ECDSA
/// (`r || s`) and Ed25519. An RSA signature is as long as the key's modulus.
pub(super) fn signature_chars(algorithm: Algorithm) -> Option<usize> {
    match algorithm {
        // 64 bytes: 86 characters; 96 bytes: 128.
        Algorithm::ES256 | Algorithm::EdDSA => Some(86),
        Algorithm::ES384 => Some(128),
        _ => None,
    }
}

/// The three parts of a compact JWS, split at its first and its last dot (found with
/// `memchr`, from the front and from the back); parts may be empty, and fail their own
/// checks then. A third dot can only lie inside the payload, which base64url decoding
/// then refuses: no pass over the payload looks for one.
pub(super) fn split(proof: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    split_after(proof, memchr::memchr(b'.', proof)?)
}

/// [`split`], its first dot at `first` already.
fn split_after(proof: &[u8], first: usize) -> Option<(&[u8], &[u8], &[u8])> {
    split_at(proof, first, memchr::memrchr(b'.', proof)?)
}

/// [`split_after`], for a key whose signatures are `signature` characters long: when the
/// byte before the last `signature` ones is a dot after the first, it is taken as the last
/// dot, without a search. If another dot came after it, the signature taken holds it and
/// base64url decoding refuses it, as it refuses the payload a search would have found
/// (which then holds this dot): malformed either way; without one, it is the last dot.
pub(super) fn split_sized(
    proof: &[u8],
    first: usize,
    signature: Option<usize>,
) -> Option<(&[u8], &[u8], &[u8])> {
    let guess = signature.and_then(|signature| proof.len().checked_sub(signature + 1));
    match guess {
        Some(last) if last > first && proof.get(last) == Some(&b'.') => split_at(proof, first, last),
        _ => split_after(proof, first),
    }
}

/// The three parts of `proof` around its dots at `first` and `last`.
fn split_at(proof: &[u8], first: usize, last: usize) -> Option<(&[u8], &[u8], &[u8])> {
    if last == first {
        return None;
    }
    Some((&proof[..first], &proof[first + 1..last], &proof[last + 1..]))
}
