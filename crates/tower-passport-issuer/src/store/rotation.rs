//! The refresh-rotation decision, written once: [`plan`] looks at the presented token, its
//! family and the [`Rotation`] asked for, and says what to do.
//!
//! It reads no store and writes nothing. [`MemoryStore`](super::MemoryStore) and the SQL stores
//! lock, read the two records, call it and carry out the plan it returns; the Redis script
//! `rotate.lua`, which cannot call Rust, mirrors its branches in the same order. Change the
//! rule here, then there, and the conformance suite checks that every backend still agrees.

use super::{FamilyRecord, RefreshTokenRecord, Rotation};

/// What a rotation does. Every plan but [`Invalid`](Self::Invalid) and
/// [`AlreadyRotated`](Self::AlreadyRotated) writes, atomically with the reads it was made
/// from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RotationPlan<'a> {
    /// Unknown or mismatched token, unknown or revoked family, revoked or expired token:
    /// nothing changes ([`RotationOutcome::Invalid`](super::RotationOutcome::Invalid)).
    Invalid,
    /// The presented token is unused. Store the successor pair (a taken id or `jti` is a
    /// conflict and writes nothing), revoke `revoke_access`, mark `mark_used` used at `now` (`now_millis`),
    /// and move the family: `current` becomes the successor, `previous` becomes `previous`
    /// ([`RotationOutcome::Rotated`](super::RotationOutcome::Rotated)).
    Rotate {
        /// The family.
        family_id: &'a str,
        /// The access token issued with the presented token, when it is to be revoked.
        revoke_access: Option<&'a str>,
        /// The presented token, when it is consumed.
        mark_used: Option<&'a str>,
        /// The family's `previous` afterwards: the presented token when it is consumed,
        /// otherwise unchanged.
        previous: Option<&'a str>,
    },
    /// The family's previous token came back inside the race window: a concurrent request
    /// (a second tab) presented it too and lost. Nothing changes: the winner's pair and the
    /// family live on ([`RotationOutcome::AlreadyRotated`](super::RotationOutcome::AlreadyRotated)).
    AlreadyRotated,
    /// The family's previous token came back inside the grace window: the response that
    /// carried `current` was probably lost. Store the successor pair, mark `superseded` used
    /// at `now` (`now_millis`) unless it was used already, revoke its access token if `revoke_access`, and
    /// move the family: `current` becomes the successor, `previous` stays `previous`
    /// ([`RotationOutcome::GraceReissued`](super::RotationOutcome::GraceReissued)).
    ReissueInGrace {
        /// The family.
        family_id: &'a str,
        /// The family's current token, which the successor supersedes.
        superseded: &'a str,
        /// Whether the superseded token's access token is revoked.
        revoke_access: bool,
        /// The family's `previous`, unchanged.
        previous: Option<&'a str>,
    },
    /// A used token came back outside both windows: revoke the whole family, with every
    /// still-live access token in it, and store nothing
    /// ([`RotationOutcome::ReuseDetected`](super::RotationOutcome::ReuseDetected)).
    RevokeFamily {
        /// The family.
        family_id: &'a str,
    },
}

/// The rule.
///
/// `presented` is the stored record with the presented id, `family` the stored family of that
/// record (`None` when either is missing); both must have been read under the lock the plan
/// will be carried out under.
///
/// The checks run in this order, which `rotate.lua` repeats:
/// 1. an unknown token, or a hash that does not match the stored one, is invalid;
/// 2. so is a token without its family, a revoked family, a revoked token, and a token
///    expired at `now` (its expiry is the first second it is no longer valid);
/// 3. an unused token rotates; `consume` and `revoke_previous_access` shape what that writes;
/// 4. a used token that is the family's previous one, presented no later than
///    `used_at + race_millis`, lost a race: it is already rotated, and nothing changes;
/// 5. a used token that is the family's previous one, presented no later than
///    `used_at + grace_millis`, reissues in grace;
/// 6. any other used token (also with neither window) revokes the family.
///
/// Steps 4 and 5 are one rule, "the family's previous token came back soon after its
/// use", with two answers by how soon: within the race window the winner's response is
/// still on its way to a sibling request, so the family must not change at all; after it,
/// up to the grace window, the response was probably lost, so a fresh pair replaces it.
///
/// Both windows are measured in milliseconds: from the token's `used_at_millis` to the
/// rotation's `now_millis`. A record stored before milliseconds were kept has `used_at`
/// only; its windows start at the beginning of that second (the earliest the use can have
/// been), so they are never longer than configured.
pub fn plan<'a>(
    presented: Option<&'a RefreshTokenRecord>,
    family: Option<&'a FamilyRecord>,
    rotation: &Rotation,
) -> RotationPlan<'a> {
    let now = rotation.now;
    // 1. Unknown token, or not its secret (compared in constant time).
    let Some(presented) = presented else { return RotationPlan::Invalid };
    if !presented.secret_hash.ct_eq(&rotation.presented_hash) {
        return RotationPlan::Invalid;
    }
    // 2. No family, a revoked family, a revoked token, an expired token.
    let Some(family) = family.filter(|family| family.id == presented.family_id) else {
        return RotationPlan::Invalid;
    };
    if family.revoked_at.is_some() || presented.revoked_at.is_some() || presented.expires_at <= now {
        return RotationPlan::Invalid;
    }
    let Some(used_at) = presented.used_at else {
        // 3. Unused: rotate.
        let mark_used = rotation.consume.then_some(presented.id.as_str());
        return RotationPlan::Rotate {
            family_id: &family.id,
            revoke_access: rotation.revoke_previous_access.then_some(presented.access_jti.as_str()),
            mark_used,
            previous: mark_used.or(family.previous.as_deref()),
        };
    };
    let is_previous = family.previous.as_deref() == Some(presented.id.as_str());
    let used_at_millis = presented.used_at_millis.unwrap_or(used_at.saturating_mul(1_000));
    let within = |window: Option<u64>| {
        window.is_some_and(|window| rotation.now_millis <= used_at_millis.saturating_add(window))
    };
    // 4. Used, the family's previous token, inside the race window: already rotated.
    if is_previous && within(rotation.race_millis) {
        return RotationPlan::AlreadyRotated;
    }
    // 5. Used, the family's previous token, inside the grace window: reissue.
    if is_previous && within(rotation.grace_millis) {
        return RotationPlan::ReissueInGrace {
            family_id: &family.id,
            superseded: &family.current,
            revoke_access: rotation.revoke_previous_access,
            previous: family.previous.as_deref(),
        };
    }
    // 6. Reuse: the family dies.
    RotationPlan::RevokeFamily { family_id: &family.id }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AccessTokenRecord, SecretHash};

    const NOW: u64 = 1_000;
    const NOW_MS: u64 = NOW * 1_000;
    const GRACE: u64 = 30_000;

    /// Family `f`: `r0` was rotated to `r1` (so `r0` is `previous`), and `r1` is presented.
    struct Case {
        presented: Option<RefreshTokenRecord>,
        family: Option<FamilyRecord>,
        rotation: Rotation,
    }

    fn token(id: &str) -> RefreshTokenRecord {
        RefreshTokenRecord {
            id: id.into(),
            secret_hash: SecretHash::of(format!("{id}-secret").as_bytes()),
            family_id: "f".into(),
            client_id: "c".into(),
            user_id: None,
            scopes: vec![],
            access_jti: format!("{id}-access"),
            issued_at: 0,
            expires_at: NOW + 100,
            used_at: None,
            used_at_millis: None,
            revoked_at: None,
            dpop_jkt: None,
            resources: Vec::new(),
        }
    }

    fn case() -> Case {
        let family = FamilyRecord {
            id: "f".into(),
            client_id: "c".into(),
            user_id: None,
            created_at: 0,
            revoked_at: None,
            current: "r1".into(),
            previous: Some("r0".into()),
        };
        let access = AccessTokenRecord {
            jti: "r2-access".into(),
            client_id: "c".into(),
            user_id: None,
            scopes: vec![],
            family_id: Some("f".into()),
            name: None,
            personal: false,
            issued_at: NOW,
            expires_at: NOW + 60,
            revoked_at: None,
        };
        let rotation = Rotation {
            presented_id: "r1".into(),
            presented_hash: SecretHash::of(b"r1-secret"),
            now: NOW,
            now_millis: NOW_MS,
            race_millis: None,
            grace_millis: Some(GRACE),
            consume: true,
            revoke_previous_access: true,
            next: token("r2"),
            next_access: access,
        };
        Case { presented: Some(token("r1")), family: Some(family), rotation }
    }

    /// `r0`, the family's previous token, is presented; it was used at `used_at_millis`.
    fn previous_used_at(c: &mut Case, used_at_millis: u64) {
        let mut r0 = token("r0");
        r0.used_at = Some(used_at_millis / 1_000);
        r0.used_at_millis = Some(used_at_millis);
        c.rotation.presented_hash = r0.secret_hash;
        c.presented = Some(r0);
    }

    const ROTATE: RotationPlan<'static> = RotationPlan::Rotate {
        family_id: "f",
        revoke_access: Some("r1-access"),
        mark_used: Some("r1"),
        previous: Some("r1"),
    };
    const REISSUE: RotationPlan<'static> = RotationPlan::ReissueInGrace {
        family_id: "f",
        superseded: "r1",
        revoke_access: true,
        previous: Some("r0"),
    };
    const REVOKE: RotationPlan<'static> = RotationPlan::RevokeFamily { family_id: "f" };
    const ALREADY: RotationPlan<'static> = RotationPlan::AlreadyRotated;
    const RACE: u64 = 3_000;
    const INVALID: RotationPlan<'static> = RotationPlan::Invalid;

    /// A row: what it is, how it changes the base case, and the plan it must get.
    type Row = (&'static str, fn(&mut Case), RotationPlan<'static>);

    #[test]
    fn every_row_of_the_rule() {
        let rows: &[Row] = &[
            // Invalid, and every way to get there.
            ("an unknown token", |c| c.presented = None, INVALID),
            ("a wrong hash", |c| c.rotation.presented_hash = SecretHash::of(b"guess"), INVALID),
            ("a token without its family", |c| c.family = None, INVALID),
            ("another token's family", |c| c.family.as_mut().unwrap().id = "g".into(), INVALID),
            ("a revoked family", |c| c.family.as_mut().unwrap().revoked_at = Some(1), INVALID),
            ("a revoked token", |c| c.presented.as_mut().unwrap().revoked_at = Some(1), INVALID),
            ("a token expiring now", |c| c.presented.as_mut().unwrap().expires_at = NOW, INVALID),
            ("an expired token", |c| c.presented.as_mut().unwrap().expires_at = NOW - 1, INVALID),
            (
                "a used token of a revoked family, in grace",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.family.as_mut().unwrap().revoked_at = Some(NOW);
                },
                INVALID,
            ),
            (
                "a used, revoked token",
                |c| {
                    c.presented.as_mut().unwrap().used_at = Some(NOW);
                    c.presented.as_mut().unwrap().revoked_at = Some(NOW);
                },
                INVALID,
            ),
            (
                "a used token with a wrong hash",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.rotation.presented_hash = SecretHash::of(b"guess");
                },
                INVALID,
            ),
            // Rotate.
            ("an unused token", |_| {}, ROTATE),
            (
                "an unused token a second before expiry",
                |c| c.presented.as_mut().unwrap().expires_at = NOW + 1,
                ROTATE,
            ),
            ("an unused token without a grace window", |c| c.rotation.grace_millis = None, ROTATE),
            (
                "an unused token, not consumed: previous stays",
                |c| c.rotation.consume = false,
                RotationPlan::Rotate {
                    family_id: "f",
                    revoke_access: Some("r1-access"),
                    mark_used: None,
                    previous: Some("r0"),
                },
            ),
            (
                "an unused first token, not consumed: no previous yet",
                |c| {
                    c.rotation.consume = false;
                    c.family.as_mut().unwrap().previous = None;
                },
                RotationPlan::Rotate {
                    family_id: "f",
                    revoke_access: Some("r1-access"),
                    mark_used: None,
                    previous: None,
                },
            ),
            (
                "an unused token, keeping its access token",
                |c| c.rotation.revoke_previous_access = false,
                RotationPlan::Rotate {
                    family_id: "f",
                    revoke_access: None,
                    mark_used: Some("r1"),
                    previous: Some("r1"),
                },
            ),
            // Reissue in grace.
            ("the previous token, inside the window", |c| previous_used_at(c, NOW_MS - 10_000), REISSUE),
            (
                "the previous token, at the window's last millisecond",
                |c| previous_used_at(c, NOW_MS - GRACE),
                REISSUE,
            ),
            (
                "the previous token, a zero window, at once",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.rotation.grace_millis = Some(0);
                },
                REISSUE,
            ),
            (
                "the previous token, an unbounded window",
                |c| {
                    previous_used_at(c, NOW_MS - 500_000);
                    c.rotation.grace_millis = Some(u64::MAX);
                },
                REISSUE,
            ),
            (
                "the previous token in grace, keeping the access token",
                |c| {
                    previous_used_at(c, NOW_MS - 10_000);
                    c.rotation.revoke_previous_access = false;
                },
                RotationPlan::ReissueInGrace {
                    family_id: "f",
                    superseded: "r1",
                    revoke_access: false,
                    previous: Some("r0"),
                },
            ),
            (
                "the previous token in grace, with consume off",
                |c| {
                    previous_used_at(c, NOW_MS - 10_000);
                    c.rotation.consume = false;
                },
                REISSUE,
            ),
            // Already rotated: a lost race, inside the race window.
            (
                "the previous token, inside the race window",
                |c| {
                    previous_used_at(c, NOW_MS - 1_000);
                    c.rotation.race_millis = Some(RACE);
                },
                ALREADY,
            ),
            (
                "the previous token, in the same second, with no grace window",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.rotation.race_millis = Some(RACE);
                    c.rotation.grace_millis = None;
                },
                ALREADY,
            ),
            (
                "the previous token, at the race window's last millisecond",
                |c| {
                    previous_used_at(c, NOW_MS - RACE);
                    c.rotation.race_millis = Some(RACE);
                },
                ALREADY,
            ),
            (
                "the previous token, presented before its use was recorded (another node's clock)",
                |c| {
                    previous_used_at(c, NOW_MS + 1_000);
                    c.rotation.race_millis = Some(RACE);
                },
                ALREADY,
            ),
            (
                "the previous token, a zero race window, at once",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.rotation.race_millis = Some(0);
                    c.rotation.grace_millis = None;
                },
                ALREADY,
            ),
            (
                "the previous token, inside both windows: the race window decides",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.rotation.race_millis = Some(GRACE);
                },
                ALREADY,
            ),
            (
                "the previous token with consume off, inside the race window",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.rotation.race_millis = Some(RACE);
                    c.rotation.consume = false;
                },
                ALREADY,
            ),
            (
                "the previous token, a millisecond past the race window, inside grace",
                |c| {
                    previous_used_at(c, NOW_MS - RACE - 1);
                    c.rotation.race_millis = Some(RACE);
                },
                REISSUE,
            ),
            // The windows are milliseconds: no whole second of slack at either end.
            (
                "the previous token, 3.999 s after its use, a 3 s race window: past it",
                |c| {
                    previous_used_at(c, NOW_MS - RACE);
                    c.rotation.now_millis = NOW_MS + 999;
                    c.rotation.race_millis = Some(RACE);
                },
                REISSUE,
            ),
            (
                "the previous token, 3.5 s after its use, a 3 s race window, no grace: reuse",
                |c| {
                    previous_used_at(c, NOW_MS - RACE);
                    c.rotation.now_millis = NOW_MS + 500;
                    c.rotation.race_millis = Some(RACE);
                    c.rotation.grace_millis = None;
                },
                REVOKE,
            ),
            (
                "the previous token, 2.9 s after a use late in its second: inside",
                |c| {
                    previous_used_at(c, NOW_MS - 2_100);
                    c.rotation.now_millis = NOW_MS + 800;
                    c.rotation.race_millis = Some(RACE);
                },
                ALREADY,
            ),
            (
                "a record with seconds only: the window starts with its second (3.999 s: past)",
                |c| {
                    previous_used_at(c, NOW_MS - RACE);
                    c.presented.as_mut().unwrap().used_at_millis = None;
                    c.rotation.now_millis = NOW_MS + 999;
                    c.rotation.race_millis = Some(RACE);
                },
                REISSUE,
            ),
            (
                "a record with seconds only, 2.999 s into its second: inside",
                |c| {
                    previous_used_at(c, NOW_MS - 2_000);
                    c.presented.as_mut().unwrap().used_at_millis = None;
                    c.rotation.now_millis = NOW_MS + 999;
                    c.rotation.race_millis = Some(RACE);
                },
                ALREADY,
            ),
            (
                "a wrong hash, inside the race window",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.rotation.race_millis = Some(RACE);
                    c.rotation.presented_hash = SecretHash::of(b"guess");
                },
                INVALID,
            ),
            (
                "the previous token of a revoked family, inside the race window",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.rotation.race_millis = Some(RACE);
                    c.family.as_mut().unwrap().revoked_at = Some(NOW);
                },
                INVALID,
            ),
            (
                "an unused token, inside anybody's race window: it rotates",
                |c| c.rotation.race_millis = Some(RACE),
                ROTATE,
            ),
            // Revoke the family.
            (
                "the previous token, a millisecond past the race window, no grace window",
                |c| {
                    previous_used_at(c, NOW_MS - RACE - 1);
                    c.rotation.race_millis = Some(RACE);
                    c.rotation.grace_millis = None;
                },
                REVOKE,
            ),
            (
                "a used token that is not the previous one, inside the race window",
                |c| {
                    c.presented.as_mut().unwrap().used_at = Some(NOW);
                    c.rotation.race_millis = Some(RACE);
                },
                REVOKE,
            ),
            (
                "an older used token, inside the race window",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.rotation.race_millis = Some(RACE);
                    c.family.as_mut().unwrap().previous = Some("r-older".into());
                },
                REVOKE,
            ),
            (
                "the previous token, a millisecond past the window",
                |c| previous_used_at(c, NOW_MS - GRACE - 1),
                REVOKE,
            ),
            (
                "the previous token, no grace window",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.rotation.grace_millis = None;
                },
                REVOKE,
            ),
            (
                "a used token that is not the previous one, inside the window",
                |c| c.presented.as_mut().unwrap().used_at = Some(NOW),
                REVOKE,
            ),
            (
                "an older used token, inside the window",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.family.as_mut().unwrap().previous = Some("r-older".into());
                },
                REVOKE,
            ),
            (
                "a used token with consume off and no window",
                |c| {
                    previous_used_at(c, NOW_MS);
                    c.rotation.consume = false;
                    c.rotation.grace_millis = None;
                },
                REVOKE,
            ),
        ];
        for (name, change, expected) in rows {
            let mut c = case();
            change(&mut c);
            let got = plan(c.presented.as_ref(), c.family.as_ref(), &c.rotation);
            assert_eq!(got, *expected, "{name}");
        }
    }
}
