//! The answer cache: introspection answers by the SHA-256 of their token (the token
//! itself is never kept), each good until a set instant.
//!
//! An active answer is good until its token's `exp`, capped by the configured longest
//! lifetime; a refusal (inactive, or active but failing a claim check) for the short
//! negative lifetime. A failure to get an answer (503) is never cached. As in the
//! verified-token cache there is no timer: an entry carries the instant it stops being
//! good, read against the introspector's clock, and a lookup past it is a miss.

use std::hash::{Hash, Hasher};

use quick_cache::sync::Cache;
use subtle::ConstantTimeEq;

use crate::error::AuthError;
use crate::token::VerifiedToken;

/// The SHA-256 of a token: what it is cached and coalesced under. Compared in constant
/// time.
#[derive(Clone, Copy, Eq)]
pub(super) struct TokenDigest([u8; 32]);

impl PartialEq for TokenDigest {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Hash for TokenDigest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // A digest's bytes are uniform already: the first eight are as good as all 32.
        state.write(&self.0[..8]);
    }
}

/// The digest a token is cached and coalesced under.
pub(super) fn digest(token: &str) -> TokenDigest {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(digest.as_ref());
    TokenDigest(key)
}

/// What an answer became: the token, or the 401 it earned.
pub(super) type Verdict = Result<VerifiedToken, AuthError>;

#[derive(Clone)]
struct Entry {
    verdict: Verdict,
    /// Unix seconds: a lookup at or after this instant is a miss.
    good_until: u64,
}

/// The cached verdicts of one introspector.
pub(super) struct AnswerCache {
    cache: Cache<TokenDigest, Entry>,
    /// Seconds: the longest an active answer is kept.
    max_ttl: u64,
    /// Seconds: how long a refusal is kept.
    negative_ttl: u64,
}

impl AnswerCache {
    pub(super) fn new(capacity: u64, max_ttl: u64, negative_ttl: u64) -> Self {
        let capacity = usize::try_from(capacity.max(1)).unwrap_or(usize::MAX);
        Self { cache: Cache::new(capacity), max_ttl, negative_ttl }
    }

    /// The verdict for the token with this digest, if one is still good at `now`.
    pub(super) fn get(&self, key: &TokenDigest, now: u64) -> Option<Verdict> {
        let entry = self.cache.get(key)?;
        (now < entry.good_until).then_some(entry.verdict)
    }

    /// Keeps `verdict` from `now`: an active token until its `exp` (at most the longest
    /// lifetime), a refusal for the negative lifetime.
    pub(super) fn insert(&self, key: TokenDigest, verdict: &Verdict, now: u64) {
        let good_until = match verdict {
            Ok(token) => token.expires_at().min(now.saturating_add(self.max_ttl)),
            Err(_) => now.saturating_add(self.negative_ttl),
        };
        if good_until > now {
            self.cache.insert(key, Entry { verdict: verdict.clone(), good_until });
        } else {
            self.cache.remove(&key);
        }
    }

    /// Drops the answer about the token with this digest.
    pub(super) fn remove(&self, key: &TokenDigest) {
        self.cache.remove(key);
    }

    /// Drops the active answers whose token has this `jti`.
    pub(super) fn remove_jti(&self, jti: &str) {
        self.cache.retain(|_, entry| entry.verdict.as_ref().map_or(true, |token| token.jti() != Some(jti)));
    }

    /// Drops the active answers about tokens of this client.
    pub(super) fn remove_client(&self, client_id: &str) {
        self.cache.retain(|_, entry| {
            entry.verdict.as_ref().map_or(true, |token| token.client_id() != Some(client_id))
        });
    }

    pub(super) fn clear(&self) {
        self.cache.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Reason;
    use crate::token::{Credential, PrincipalKind, Scopes, Synthetic};

    fn active(expires_at: u64) -> Verdict {
        Ok(VerifiedToken::synthetic(Synthetic {
            issuer: "https://auth.example.com",
            subject: Some("7"),
            client_id: Some("app"),
            scopes: Scopes::from_space_delimited("read"),
            kind: PrincipalKind::User,
            expires_at,
            issued_at_ms: None,
            provider: None,
            credential: Credential::Bearer,
        }))
    }

    #[test]
    fn an_active_answer_lives_until_exp_capped_by_the_longest_lifetime() {
        let cache = AnswerCache::new(10, 60, 5);
        let (soon, late) = (digest("soon"), digest("late"));
        cache.insert(soon, &active(1_030), 1_000);
        cache.insert(late, &active(9_999), 1_000);
        assert!(cache.get(&soon, 1_029).is_some());
        assert!(cache.get(&soon, 1_030).is_none(), "gone with its token's exp");
        assert!(cache.get(&late, 1_059).is_some());
        assert!(cache.get(&late, 1_060).is_none(), "no longer than the longest lifetime");
    }

    #[test]
    fn a_refusal_lives_for_the_negative_lifetime() {
        let cache = AnswerCache::new(10, 60, 5);
        let key = digest("inactive");
        cache.insert(key, &Err(AuthError::invalid_token(Reason::InactiveToken)), 1_000);
        let cached = cache.get(&key, 1_004).expect("cached");
        assert_eq!(cached.unwrap_err().reason(), Reason::InactiveToken);
        assert!(cache.get(&key, 1_005).is_none());
    }

    #[test]
    fn entries_go_by_jti_by_client_and_all_at_once() {
        let cache = AnswerCache::new(10, 600, 5);
        let key = digest("a");
        cache.insert(key, &active(9_999), 1_000);
        cache.remove_jti("another");
        cache.remove_client("another-app");
        assert!(cache.get(&key, 1_001).is_some());
        cache.remove_client("app");
        assert!(cache.get(&key, 1_001).is_none());
        cache.insert(key, &active(9_999), 1_000);
        cache.clear();
        assert!(cache.get(&key, 1_001).is_none());
    }

    #[test]
    fn the_key_is_the_tokens_sha256() {
        assert!(digest("a") != digest("b"));
        assert!(digest("a") == digest("a"));
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(digest("abc").0[..4], [0xba, 0x78, 0x16, 0xbf]);
    }
}
