//! The scope requirements a verified token passed, so that a warm request checks a
//! requirement it passed before with a few loads instead of scanning the token's scopes.
//!
//! A token's scopes never change once it is verified, and each requirement has an id of
//! its own for the life of the process ([`RequirementId::next`]), so "this token passed
//! requirement `id`" stays true for as long as the token lives. A token remembers the
//! first [`REMEMBERED`] requirements it passes and then stops writing: a token that goes
//! through more requirements than that is checked in full for the others, exactly as
//! without the memo, and a token hot on many cores is only ever read (no cache line
//! bounces between them once its slots are set).

use std::sync::atomic::{AtomicU64, Ordering};

/// How many passed requirements a token remembers.
pub(crate) const REMEMBERED: usize = 4;

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

/// What a verified token remembers: the ids of the first requirements it passed (0: an
/// empty slot).
#[derive(Debug, Default)]
pub(crate) struct Passed([AtomicU64; REMEMBERED]);

impl Passed {
    /// Whether this token passed `id` before.
    #[inline]
    pub(crate) fn includes(&self, id: RequirementId) -> bool {
        self.0.iter().any(|slot| slot.load(Ordering::Relaxed) == id.0)
    }

    /// Remembers that the token passed `id` (checked in full just now), in the first empty
    /// slot; with every slot taken, nothing is written.
    #[inline]
    pub(crate) fn remember(&self, id: RequirementId) {
        for slot in &self.0 {
            match slot.compare_exchange(0, id.0, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return,
                Err(held) if held == id.0 => return,
                Err(_) => {}
            }
        }
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
    fn the_first_requirements_passed_are_remembered_and_no_others() {
        let ids: Vec<RequirementId> = (0..REMEMBERED + 2).map(|_| RequirementId::next()).collect();
        let passed = Passed::default();
        assert!(!passed.includes(ids[0]), "a fresh token has passed nothing");
        for id in &ids {
            passed.remember(*id);
        }
        for id in &ids[..REMEMBERED] {
            assert!(passed.includes(*id));
        }
        for id in &ids[REMEMBERED..] {
            assert!(!passed.includes(*id), "a full memo takes no more");
        }
    }

    #[test]
    fn remembering_the_same_requirement_twice_takes_one_slot() {
        let (a, b) = (RequirementId::next(), RequirementId::next());
        let passed = Passed::default();
        passed.remember(a);
        passed.remember(a);
        passed.remember(b);
        assert!(passed.includes(a) && passed.includes(b));
        assert_eq!(passed.0.iter().filter(|slot| slot.load(Ordering::Relaxed) != 0).count(), 2);
    }
}
