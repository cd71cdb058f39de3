//! The [`CodeStore`] conformance suite, written once and run against every store: memory,
//! SQLite, PostgreSQL, Redis, and `AnyStore`.
//!
//! `code_conformance_suite!(module_name, make_store().await)` expands to one
//! `#[tokio::test]` per case, like `conformance_suite!` (with the same fixture form,
//! `code_conformance_suite!(name, make().await, |fixture| fixture.store.clone())`), whose
//! helpers (`crate::conformance`) it uses: include both modules.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use tower_passport_issuer::store::{
    AuthorizationCodeRecord, CodeRedemption, CodeStore, IssuedFromCode, Purge, SecretHash, Store,
};

use crate::conformance::{unique, T0};

/// How long a store keeps a code's record past its expiry, to catch a late reuse: a day.
pub const KEPT_AFTER_EXPIRY: u64 = 24 * 3600;

/// A code `secret` of client `client`, for user `user-1`, issued at `T0`, living 600 s.
pub fn code(secret: &str, client: &str) -> AuthorizationCodeRecord {
    AuthorizationCodeRecord {
        hash: SecretHash::of(secret.as_bytes()),
        client_id: client.to_owned(),
        user_id: "user-1".into(),
        redirect_uri: Some("https://app.example.com/callback".into()),
        scopes: vec!["read".into(), "write".into()],
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        nonce: Some("n-0S6_WzA2Mj".into()),
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
        issued_at: T0,
        expires_at: T0 + 600,
        used_at: None,
        reused_at: None,
        issued: None,
        resources: vec!["https://orders.example.com".into(), "https://billing.example.com".into()],
    }
}

pub async fn a_code_is_taken_once_with_everything_it_was_bound_to<S: Store>(store: S) {
    let secret = unique("code");
    store.put_code(code(&secret, "client")).await.unwrap();
    let mut expected = code(&secret, "client");
    expected.used_at = Some(T0 + 5);
    assert_eq!(
        store.take_code(&SecretHash::of(secret.as_bytes()), T0 + 5).await.unwrap(),
        CodeRedemption::Fresh(expected)
    );
    assert!(matches!(
        store.take_code(&SecretHash::of(secret.as_bytes()), T0 + 6).await.unwrap(),
        CodeRedemption::Reused(_)
    ));
    assert_eq!(store.take_code(&SecretHash::of(b"unknown"), T0).await.unwrap(), CodeRedemption::Invalid);
}

pub async fn a_duplicate_code_is_a_conflict<S: Store>(store: S) {
    let secret = unique("code");
    store.put_code(code(&secret, "client")).await.unwrap();
    assert!(store.put_code(code(&secret, "other")).await.unwrap_err().is_conflict());
}

pub async fn a_code_expires_unused<S: Store>(store: S) {
    let (fresh, late) = (unique("code"), unique("code"));
    store.put_code(code(&fresh, "client")).await.unwrap();
    store.put_code(code(&late, "client")).await.unwrap();
    assert!(matches!(
        store.take_code(&SecretHash::of(fresh.as_bytes()), T0 + 599).await.unwrap(),
        CodeRedemption::Fresh(_)
    ));
    let hash = SecretHash::of(late.as_bytes());
    assert_eq!(store.take_code(&hash, T0 + 600).await.unwrap(), CodeRedemption::Invalid);
    // The refused take marked nothing: a node whose clock is a second behind still could.
    assert!(matches!(store.take_code(&hash, T0 + 599).await.unwrap(), CodeRedemption::Fresh(_)));
}

pub async fn a_reuse_is_recorded_once_and_seen_even_past_expiry<S: Store>(store: S) {
    let secret = unique("code");
    let hash = SecretHash::of(secret.as_bytes());
    store.put_code(code(&secret, "client")).await.unwrap();
    store.take_code(&hash, T0 + 1).await.unwrap();
    let CodeRedemption::Reused(first) = store.take_code(&hash, T0 + 2).await.unwrap() else {
        panic!("a reuse")
    };
    assert_eq!((first.used_at, first.reused_at), (Some(T0 + 1), Some(T0 + 2)));
    let CodeRedemption::Reused(later) = store.take_code(&hash, T0 + 3600).await.unwrap() else {
        panic!("still a reuse past the code's expiry")
    };
    assert_eq!(later.reused_at, Some(T0 + 2), "the first reuse is kept");
}

pub async fn the_issue_record_tells_the_winner_about_a_reuse_and_the_reuse_about_the_issue<S: Store>(
    store: S,
) {
    let issued = IssuedFromCode { access_jti: unique("jti"), family_id: Some(unique("family")) };
    // The winner records first: no reuse yet; a later reuse learns what to revoke.
    let secret = unique("code");
    let hash = SecretHash::of(secret.as_bytes());
    store.put_code(code(&secret, "client")).await.unwrap();
    store.take_code(&hash, T0 + 1).await.unwrap();
    assert!(!store.record_code_issue(&hash, issued.clone()).await.unwrap());
    let CodeRedemption::Reused(reused) = store.take_code(&hash, T0 + 2).await.unwrap() else {
        panic!("a reuse")
    };
    assert_eq!(reused.issued, Some(issued.clone()));
    // The reuse comes first: nothing to revoke yet, and the winner hears of it.
    let secret = unique("code");
    let hash = SecretHash::of(secret.as_bytes());
    store.put_code(code(&secret, "client")).await.unwrap();
    store.take_code(&hash, T0 + 1).await.unwrap();
    let CodeRedemption::Reused(early) = store.take_code(&hash, T0 + 1).await.unwrap() else {
        panic!("a reuse")
    };
    assert_eq!(early.issued, None);
    assert!(store.record_code_issue(&hash, issued).await.unwrap());
    // An unknown code has seen no reuse.
    let unknown = IssuedFromCode { access_jti: unique("jti"), family_id: None };
    assert!(!store.record_code_issue(&SecretHash::of(b"unknown"), unknown).await.unwrap());
}

pub async fn of_24_concurrent_takes_exactly_one_is_fresh<S: Store>(store: S) {
    let store = Arc::new(store);
    let secret = unique("code");
    store.put_code(code(&secret, "client")).await.unwrap();
    let hash = SecretHash::of(secret.as_bytes());
    let takes: Vec<_> = (0..24)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.take_code(&hash, T0 + 1).await.unwrap() })
        })
        .collect();
    let mut fresh = 0;
    for take in takes {
        match take.await.unwrap() {
            CodeRedemption::Fresh(_) => fresh += 1,
            CodeRedemption::Reused(_) => {}
            CodeRedemption::Invalid => panic!("an existing code is never invalid here"),
        }
    }
    assert_eq!(fresh, 1);
}

pub async fn a_code_without_optional_bindings_keeps_them_absent<S: Store>(store: S) {
    let secret = unique("code");
    let bare = AuthorizationCodeRecord {
        redirect_uri: None,
        scopes: vec![],
        code_challenge: None,
        nonce: None,
        dpop_jkt: None,
        resources: vec![],
        ..code(&secret, "client")
    };
    store.put_code(bare.clone()).await.unwrap();
    let CodeRedemption::Fresh(taken) = store.take_code(&bare.hash, T0 + 1).await.unwrap() else {
        panic!("a fresh take")
    };
    assert_eq!(taken, AuthorizationCodeRecord { used_at: Some(T0 + 1), ..bare });
}

pub async fn what_a_code_issued_without_a_refresh_token_is_reported_on_reuse<S: Store>(store: S) {
    let secret = unique("code");
    let hash = SecretHash::of(secret.as_bytes());
    store.put_code(code(&secret, "client")).await.unwrap();
    store.take_code(&hash, T0 + 1).await.unwrap();
    let issued = IssuedFromCode { access_jti: unique("jti"), family_id: None };
    assert!(!store.record_code_issue(&hash, issued.clone()).await.unwrap());
    let CodeRedemption::Reused(reused) = store.take_code(&hash, T0 + 2).await.unwrap() else {
        panic!("a reuse")
    };
    assert_eq!(reused.issued, Some(issued), "the lone access token is what to revoke");
    assert_eq!((reused.used_at, reused.reused_at), (Some(T0 + 1), Some(T0 + 2)));
}

/// The handshake under concurrency: the winner's record and a reuse race, and whichever
/// comes second sees the other (the winner hears of the reuse, or the reuse of the issue).
pub async fn the_issue_record_and_a_concurrent_reuse_always_meet<S: Store>(store: S) {
    let store = Arc::new(store);
    for round in 0..20 {
        let secret = unique("code");
        let hash = SecretHash::of(secret.as_bytes());
        store.put_code(code(&secret, "client")).await.unwrap();
        assert!(matches!(store.take_code(&hash, T0 + 1).await.unwrap(), CodeRedemption::Fresh(_)));
        let issued = IssuedFromCode { access_jti: unique("jti"), family_id: Some(unique("family")) };
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let record = {
            let (store, issued, barrier) = (store.clone(), issued.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.record_code_issue(&hash, issued).await.unwrap()
            })
        };
        let reuse = {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.take_code(&hash, T0 + 2).await.unwrap()
            })
        };
        let winner_saw_reuse = record.await.unwrap();
        let CodeRedemption::Reused(reused) = reuse.await.unwrap() else { panic!("a reuse") };
        assert!(
            winner_saw_reuse || reused.issued.as_ref() == Some(&issued),
            "round {round}: neither side saw the other"
        );
    }
}

pub async fn a_purge_keeps_a_used_code_for_a_day_past_its_expiry<S: Store>(store: S) {
    let secret = unique("code");
    let hash = SecretHash::of(secret.as_bytes());
    let record = code(&secret, "client");
    store.put_code(record.clone()).await.unwrap();
    store.take_code(&hash, T0 + 1).await.unwrap();
    let before = record.expires_at + KEPT_AFTER_EXPIRY - 1;
    store.purge(Purge { revoked: true, expired: true, before }).await.unwrap();
    assert!(
        matches!(store.take_code(&hash, before).await.unwrap(), CodeRedemption::Reused(_)),
        "a late reuse is still caught"
    );
}

/// Not in the suite (the memory store sweeps codes on its own, Redis lets their keys
/// expire): a purge a day past a code's expiry removes it.
pub async fn a_purge_removes_codes_a_day_past_their_expiry<S: Store>(store: S) {
    let (used, unused) = (unique("code"), unique("code"));
    store.put_code(code(&used, "client")).await.unwrap();
    store.put_code(code(&unused, "client")).await.unwrap();
    store.take_code(&SecretHash::of(used.as_bytes()), T0 + 1).await.unwrap();
    let after = T0 + 600 + KEPT_AFTER_EXPIRY + 1;
    // An expired-only purge is what removes them; a revoked-only one leaves them.
    let counts = store.purge(Purge { revoked: true, expired: false, before: after }).await.unwrap();
    assert_eq!(counts.codes, 0);
    assert!(matches!(
        store.take_code(&SecretHash::of(used.as_bytes()), T0 + 2).await.unwrap(),
        CodeRedemption::Reused(_)
    ));
    let counts = store.purge(Purge { revoked: false, expired: true, before: after }).await.unwrap();
    assert_eq!(counts.codes, 2, "both codes are counted");
    for secret in [&used, &unused] {
        let hash = SecretHash::of(secret.as_bytes());
        assert_eq!(store.take_code(&hash, T0 + 3).await.unwrap(), CodeRedemption::Invalid, "purged");
        // The hash is free again.
        store.put_code(code(secret, "client")).await.unwrap();
    }
}

#[macro_export]
macro_rules! code_conformance_suite {
    ($name:ident, $make:expr) => {
        $crate::code_conformance_suite!($name, $make, |store| store);
    };
    ($name:ident, $make:expr, |$fixture:ident| $store:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::code_conformance_suite!(@cases $make, $fixture, $store;
                a_code_is_taken_once_with_everything_it_was_bound_to,
                a_duplicate_code_is_a_conflict,
                a_code_expires_unused,
                a_reuse_is_recorded_once_and_seen_even_past_expiry,
                the_issue_record_tells_the_winner_about_a_reuse_and_the_reuse_about_the_issue,
                of_24_concurrent_takes_exactly_one_is_fresh,
                a_code_without_optional_bindings_keeps_them_absent,
                what_a_code_issued_without_a_refresh_token_is_reported_on_reuse,
                the_issue_record_and_a_concurrent_reuse_always_meet,
                a_purge_keeps_a_used_code_for_a_day_past_its_expiry
            );
        }
    };
    (@cases $make:expr, $fixture:ident, $store:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some($fixture) = $make else { return };
                $crate::code_conformance::$case($store).await;
            }
        )+
    };
}
