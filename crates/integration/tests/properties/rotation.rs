//! The refresh-rotation rule (`store::rotation::plan`), driven through random sequences of
//! presentations (any token of the family, the right or a wrong secret, at increasing
//! times, with any race and grace windows), each plan carried out on a model store the way
//! the stores carry it out. With rotation on, a presented token rotates at most once, a
//! family never holds more than one unused token, and a revoked family never comes back.

use std::collections::HashMap;

use proptest::collection::vec;
use proptest::prelude::*;
use tower_passport_issuer::store::rotation::{plan, RotationPlan};
use tower_passport_issuer::store::{
    AccessTokenRecord, FamilyRecord, RefreshTokenRecord, Rotation, SecretHash,
};

use super::config;

const START_MILLIS: u64 = 1_800_000_000_000;
const TTL: u64 = 3_600;

#[derive(Debug, Clone)]
struct Presentation {
    which: prop::sample::Index,
    after_millis: u64,
    wrong_secret: bool,
}

fn presentation() -> impl Strategy<Value = Presentation> {
    (
        any::<prop::sample::Index>(),
        prop_oneof![0u64..50, 0u64..3_000, 0u64..200_000],
        prop::bool::weighted(0.1),
    )
        .prop_map(|(which, after_millis, wrong_secret)| Presentation {
            which,
            after_millis,
            wrong_secret,
        })
}

fn record(n: usize, now: u64) -> RefreshTokenRecord {
    RefreshTokenRecord {
        id: format!("t{n}"),
        secret_hash: SecretHash::of(format!("t{n}.secret").as_bytes()),
        family_id: "family".into(),
        client_id: "client".into(),
        user_id: Some("42".into()),
        scopes: vec!["read".into()],
        access_jti: format!("a{n}"),
        issued_at: now,
        expires_at: now + TTL,
        used_at: None,
        used_at_millis: None,
        revoked_at: None,
        dpop_jkt: None,
        resources: Vec::new(),
    }
}

fn access(n: usize, now: u64) -> AccessTokenRecord {
    AccessTokenRecord {
        jti: format!("a{n}"),
        client_id: "client".into(),
        user_id: Some("42".into()),
        scopes: vec!["read".into()],
        family_id: Some("family".into()),
        name: None,
        personal: false,
        issued_at: now,
        expires_at: now + 600,
        revoked_at: None,
    }
}

fn mark_used(token: &mut RefreshTokenRecord, now: u64, now_millis: u64) {
    if token.used_at.is_none() {
        token.used_at = Some(now);
        token.used_at_millis = Some(now_millis);
    }
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn a_presented_token_never_rotates_twice(
        race_millis in prop::option::of(0u64..2_000),
        grace_millis in prop::option::of(0u64..10_000),
        revoke_previous_access in any::<bool>(),
        presentations in vec(presentation(), 1..40),
    ) {
        let mut now_millis = START_MILLIS;
        let mut tokens = vec![record(0, now_millis / 1000)];
        let mut family = FamilyRecord {
            id: "family".into(),
            client_id: "client".into(),
            user_id: Some("42".into()),
            created_at: now_millis / 1000,
            revoked_at: None,
            current: "t0".into(),
            previous: None,
        };
        let mut rotations: HashMap<String, u32> = HashMap::new();
        for step in presentations {
            now_millis += step.after_millis;
            let now = now_millis / 1000;
            let at = step.which.index(tokens.len());
            let presented = tokens[at].clone();
            let secret = if step.wrong_secret { "wrong".to_owned() } else { format!("{}.secret", presented.id) };
            let n = tokens.len();
            let rotation = Rotation {
                presented_id: presented.id.clone(),
                presented_hash: SecretHash::of(secret.as_bytes()),
                now,
                now_millis,
                race_millis,
                grace_millis,
                consume: true,
                revoke_previous_access,
                next: record(n, now),
                next_access: access(n, now),
            };
            let was_revoked = family.revoked_at.is_some();
            let decided = plan(Some(&presented), Some(&family), &rotation);
            if step.wrong_secret || was_revoked {
                prop_assert_eq!(decided, RotationPlan::Invalid);
            }
            match decided {
                RotationPlan::Invalid | RotationPlan::AlreadyRotated => {}
                RotationPlan::Rotate { mark_used: marked, previous, .. } => {
                    prop_assert!(presented.used_at.is_none(), "a used token rotated");
                    prop_assert_eq!(marked, Some(presented.id.as_str()), "rotation on consumes the token");
                    let count = rotations.entry(presented.id.clone()).or_default();
                    *count += 1;
                    prop_assert!(*count <= 1, "{} rotated twice", presented.id);
                    let previous = previous.map(str::to_owned);
                    mark_used(&mut tokens[at], now, now_millis);
                    family.current = rotation.next.id.clone();
                    family.previous = previous;
                    tokens.push(rotation.next.clone());
                }
                RotationPlan::ReissueInGrace { superseded, previous, .. } => {
                    prop_assert_eq!(family.previous.as_deref(), Some(presented.id.as_str()));
                    prop_assert_eq!(previous, family.previous.as_deref());
                    let superseded = superseded.to_owned();
                    if let Some(current) = tokens.iter_mut().find(|t| t.id == superseded) {
                        mark_used(current, now, now_millis);
                    }
                    family.current = rotation.next.id.clone();
                    tokens.push(rotation.next.clone());
                }
                RotationPlan::RevokeFamily { .. } => {
                    prop_assert!(presented.used_at.is_some(), "an unused token revoked its family");
                    family.revoked_at = Some(now);
                }
            }
            let unused = tokens.iter().filter(|t| t.used_at.is_none()).count();
            prop_assert!(unused <= 1, "{} unused tokens in one family", unused);
            if was_revoked {
                prop_assert!(family.revoked_at.is_some());
            }
        }
    }
}
