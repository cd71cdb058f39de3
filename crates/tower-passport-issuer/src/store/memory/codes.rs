//! [`CodeStore`] for [`MemoryStore`]: the codes behind their own mutex, keyed by the
//! code's hash.

use std::collections::HashMap;
use std::future::{ready, Future};

use super::{MemoryStore, Poisoned};
use crate::store::codes::{self, KEPT_AFTER_EXPIRY};
use crate::store::{
    AuthorizationCodeRecord, CodeRedemption, CodeStore, IssuedFromCode, SecretHash, StoreError,
};

/// How often (at most) expired records are swept, in seconds.
const SWEEP_EVERY: u64 = 60;

#[derive(Debug, Default)]
pub(super) struct Codes {
    by_hash: HashMap<[u8; 32], AuthorizationCodeRecord>,
    next_sweep: u64,
}

impl Codes {
    fn sweep(&mut self, now: u64) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now.saturating_add(SWEEP_EVERY);
        self.by_hash.retain(|_, code| code.expires_at.saturating_add(KEPT_AFTER_EXPIRY) > now);
    }

    fn take(&mut self, hash: &SecretHash, now: u64) -> CodeRedemption {
        let Some(code) = self.by_hash.get_mut(hash.as_bytes()) else { return CodeRedemption::Invalid };
        codes::take(code, now)
    }
}

impl MemoryStore {
    fn with_codes<T: Send>(
        &self,
        f: impl FnOnce(&mut Codes) -> Result<T, StoreError>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        let locked = self.codes.lock().map_err(|_| StoreError::backend(Poisoned));
        ready(locked.and_then(|mut codes| f(&mut codes)))
    }
}

impl CodeStore for MemoryStore {
    fn put_code(&self, code: AuthorizationCodeRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.with_codes(move |codes| {
            codes.sweep(code.issued_at);
            if codes.by_hash.contains_key(code.hash.as_bytes()) {
                return Err(StoreError::conflict("duplicate authorization code"));
            }
            codes.by_hash.insert(*code.hash.as_bytes(), code);
            Ok(())
        })
    }

    fn take_code(
        &self,
        hash: &SecretHash,
        now: u64,
    ) -> impl Future<Output = Result<CodeRedemption, StoreError>> + Send {
        self.with_codes(move |codes| Ok(codes.take(hash, now)))
    }

    fn record_code_issue(
        &self,
        hash: &SecretHash,
        issued: IssuedFromCode,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.with_codes(move |codes| {
            Ok(codes.by_hash.get_mut(hash.as_bytes()).is_some_and(|code| {
                code.issued = Some(issued);
                code.reused_at.is_some()
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(secret: &[u8], expires_at: u64) -> AuthorizationCodeRecord {
        AuthorizationCodeRecord {
            hash: SecretHash::of(secret),
            client_id: "app".into(),
            user_id: "7".into(),
            redirect_uri: None,
            scopes: vec![],
            code_challenge: None,
            nonce: None,
            dpop_jkt: None,
            issued_at: 0,
            expires_at,
            used_at: None,
            reused_at: None,
            issued: None,
            resources: Vec::new(),
        }
    }

    #[test]
    fn used_codes_are_kept_a_day_past_expiry_then_swept() {
        let mut codes = Codes::default();
        codes.by_hash.insert(*SecretHash::of(b"a").as_bytes(), code(b"a", 600));
        codes.sweep(600 + KEPT_AFTER_EXPIRY - 1);
        assert_eq!(codes.by_hash.len(), 1);
        codes.next_sweep = 0;
        codes.sweep(600 + KEPT_AFTER_EXPIRY);
        assert!(codes.by_hash.is_empty());
    }

    #[test]
    fn an_expired_unused_code_is_invalid_and_stays_unused() {
        let mut codes = Codes::default();
        codes.by_hash.insert(*SecretHash::of(b"a").as_bytes(), code(b"a", 600));
        assert_eq!(codes.take(&SecretHash::of(b"a"), 600), CodeRedemption::Invalid);
        assert_eq!(codes.by_hash[SecretHash::of(b"a").as_bytes()].used_at, None);
    }
}
