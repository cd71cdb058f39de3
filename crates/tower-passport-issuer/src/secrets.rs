//! Random identifiers and secrets: client secrets, refresh tokens, `jti`s.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::store::SecretHash;

/// `n` random bytes, base64url-encoded.
pub(crate) fn random_b64(n: usize) -> Result<String, aws_lc_rs::error::Unspecified> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new().fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A random identifier of 128 bits (a client id, a `jti`): 22 base64url characters, never
/// starting with `-`, so that no id can be taken for a flag on a command line
/// (`passport token --revoke <jti>`). An id that would start with `-` is drawn again, which
/// keeps every accepted id equally likely.
pub(crate) fn random_id() -> Result<String, aws_lc_rs::error::Unspecified> {
    loop {
        let id = random_b64(16)?;
        if !id.starts_with('-') {
            return Ok(id);
        }
    }
}

/// A fresh refresh token `"<id>.<secret>"`: a 128-bit lookup id and a 256-bit secret.
/// Only the id and the hash of the whole token are stored.
pub(crate) struct NewRefreshToken {
    pub(crate) id: String,
    pub(crate) token: String,
    pub(crate) hash: SecretHash,
}

pub(crate) fn new_refresh_token() -> Result<NewRefreshToken, aws_lc_rs::error::Unspecified> {
    // One draw for both parts, encoded in place: a refresh costs one call to the random
    // source fewer, and no intermediate strings.
    let mut random = [0u8; 48];
    SystemRandom::new().fill(&mut random)?;
    let (id, secret) = random.split_at(16);
    let mut token = String::with_capacity(22 + 1 + 43);
    URL_SAFE_NO_PAD.encode_string(id, &mut token);
    let id = token.clone();
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(secret, &mut token);
    let hash = SecretHash::of(token.as_bytes());
    Ok(NewRefreshToken { id, token, hash })
}

/// Splits a presented refresh token into its lookup id and the hash of the whole token,
/// or `None` when it does not have the shape of one of ours.
pub(crate) fn parse_refresh_token(token: &str) -> Option<(&str, SecretHash)> {
    let (id, secret) = token.split_once('.')?;
    let b64url = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id.len() == 22 && secret.len() == 43 && b64url(id) && b64url(secret))
        .then(|| (id, SecretHash::of(token.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_round_trip_and_carry_256_bits_of_secret() {
        let fresh = new_refresh_token().unwrap();
        let (id, hash) = parse_refresh_token(&fresh.token).unwrap();
        assert_eq!(id, fresh.id);
        assert!(hash.ct_eq(&fresh.hash));
        assert_eq!(fresh.token.len(), 22 + 1 + 43);
        assert_ne!(new_refresh_token().unwrap().token, fresh.token);
    }

    #[test]
    fn random_ids_never_start_with_a_dash() {
        // One draw in 64 would start with `-` without the redraw: 10 000 draws would
        // hold about 156 of them.
        for _ in 0..10_000 {
            let id = random_id().unwrap();
            assert!(!id.starts_with('-'), "{id}");
            assert_eq!(id.len(), 22);
        }
    }

    #[test]
    fn malformed_refresh_tokens_are_refused() {
        for bad in [
            "",
            "abc",
            "a.b",
            &format!("{}.{}", "a".repeat(22), "b".repeat(42)),
            &format!("{}!{}", "a".repeat(22), "b".repeat(43)),
        ] {
            assert!(parse_refresh_token(bad).is_none(), "{bad}");
        }
    }
}
