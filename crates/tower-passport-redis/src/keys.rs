//! Key names. Every key the store writes is `<prefix><kind>:<id>`; the Lua scripts build the
//! same names with their `key(kind, id)` helper, so the kinds below are the whole layout.

/// A client: hash of `record` (JSON) and `revoked` (`0`/`1`). No TTL.
pub(super) const CLIENT: &str = "client";
/// An access-token record: hash of `record` (JSON) and the fields the scripts read. TTL: the
/// token's expiry.
pub(super) const ACCESS: &str = "access";
/// A revocation-list entry: string holding the token's expiry. TTL: the token's expiry.
pub(super) const REVOKED: &str = "revoked";
/// A refresh-token record, laid out like an access-token record. TTL: the token's expiry.
pub(super) const REFRESH: &str = "refresh";
/// Failed authentication attempts under one throttle key (a hash): hash of `count` and
/// `last`. TTL: until every failure is forgotten.
pub(super) const FAILURES: &str = "failures";
/// A user's first-party cookie "not before" (Unix ms, a string), by
/// [`user_id`](Keys::user_id). No TTL.
pub(super) const NOT_BEFORE: &str = "not-before";
/// A family: hash of `record` (JSON), `current`, `previous`, `revoked_at`. TTL: its
/// longest-lived token's expiry.
pub(super) const FAMILY: &str = "family";
// Written and read by the scripts only: `code:<hash>` (an authorization code, by the hex
// SHA-256 of the code: hash of `record` (JSON), `expires_at`, `used_at`, `reused_at`,
// `access_jti`, `family_id`; gone a day after the code's expiry), `setting:<name>` (string,
// no TTL), and the indexes `family-refresh:<family>` and `family-access:<family>` (sets of
// the family's token ids), `pats:<user>` (set of a user's personal access tokens),
// `user-access:<user>` and `user-families:<user>` (sorted sets of a user's access tokens and
// families, scored by expiry), each living as long as its longest-lived member; and
// `owner-clients:<owner>` (set of the ids of the clients an owner owns, kept by
// `put_client.lua`, no TTL).

/// The key names under one prefix.
#[derive(Clone, Debug)]
pub(super) struct Keys {
    prefix: String,
}

impl Keys {
    pub(super) fn new(prefix: String) -> Self {
        Self { prefix }
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The id of a user of `provider` under [`NOT_BEFORE`]: the provider's length first,
    /// so that no two users share one.
    pub(super) fn user_id(provider: &str, user_id: &str) -> String {
        format!("{}:{provider}:{user_id}", provider.len())
    }

    /// The key of `id` of `kind`.
    pub(super) fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// A `SCAN MATCH` pattern for every key of `kind`; the prefix is taken literally.
    pub(super) fn pattern(&self, kind: &str) -> String {
        let mut pattern = String::with_capacity(self.prefix.len() + kind.len() + 2);
        for c in self.prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push_str(kind);
        pattern.push_str(":*");
        pattern
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sit_under_the_prefix() {
        let keys = Keys::new("app:".into());
        assert_eq!(keys.key(ACCESS, "j:1"), "app:access:j:1");
        assert_eq!(keys.pattern(FAMILY), "app:family:*");
    }

    #[test]
    fn patterns_escape_glob_characters_in_the_prefix() {
        let keys = Keys::new(r"a*b?[c]\:".into());
        assert_eq!(keys.pattern(REFRESH), r"a\*b\?\[c\]\\:refresh:*");
    }
}
