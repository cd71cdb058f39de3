//! The last scope requirement a verified token passed, so that a warm request checks the
//! same requirement with one load instead of scanning the token's scopes again.
//!
//! A token's scopes never change once it is verified, and each requirement has an id of
//! its own for the life of the process ([`RequirementId::next`]), so "this token passed
//! requirement `id`" stays true for as long as the token lives. Only the last passing id
//! is kept: a token that goes through several routes' requirements in turn is checked in
//! full whenever the id differs, exactly as without the memo.

use std::sync::atomic::{AtomicU64, Ordering};

/// One requirement's id; never 0, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RequirementId(u64);

impl RequirementId {
    /// A fresh id (a process-wide counter from 1; `u64` does not wrap in practice).
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// What a verified token remembers: the id of the last requirement it passed (0: none).
#[derive(Debug, Default)]
pub(crate) struct LastPassed(AtomicU64);

impl LastPassed {
    /// Whether the last requirement this token passed is `id`.
    #[inline]
    pub(crate) fn is(&self, id: RequirementId) -> bool {
        self.0.load(Ordering::Relaxed) == id.0
    }

    /// Remembers that the token passed `id` (checked in full just now).
    #[inline]
    pub(crate) fn remember(&self, id: RequirementId) {
        self.0.store(id.0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_never_zero() {
        let (a, b) = (RequirementId::next(), RequirementId::next());
        assert_ne!(a, b);
        assert!(a.0 != 0 && b.0 != 0);
    }

    #[test]
    fn only_the_last_passed_requirement_is_remembered() {
        let (a, b) = (RequirementId::next(), RequirementId::next());
        let last = LastPassed::default();
        assert!(!last.is(a), "a fresh token has passed nothing");
        last.remember(a);
        assert!(last.is(a));
        last.remember(b);
        assert!(last.is(b));
        assert!(!last.is(a), "a was forgotten when b passed");
    }
}
