//! The [`CodeStore`] conformance suite, written once for every store that implements the
//! role (today the memory store; the SQL and Redis stores run it once they do).
//!
//! `code_conformance_suite!(module_name, async { make_store().await })` expands to one
//! `#[tokio::test]` per case, like `conformance_suite!`, whose helpers (`crate::conformance`)
//! it uses: include both modules.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use tower_passport::store::{
    AuthorizationCodeRecord, CodeRedemption, CodeStore, IssuedFromCode, SecretHash, Store,
};

use crate::conformance::{unique, T0};

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
        issued_at: T0,
        expires_at: T0 + 600,
        used_at: None,
        reused_at: None,
        issued: None,
    }
}

pub async fn a_code_is_taken_once_with_everything_it_was_bound_to<S: Store + CodeStore>(store: S) {
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

pub async fn a_duplicate_code_is_a_conflict<S: Store + CodeStore>(store: S) {
    let secret = unique("code");
    store.put_code(code(&secret, "client")).await.unwrap();
    assert!(store.put_code(code(&secret, "other")).await.unwrap_err().is_conflict());
}

pub async fn a_code_expires_unused<S: Store + CodeStore>(store: S) {
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

pub async fn a_reuse_is_recorded_once_and_seen_even_past_expiry<S: Store + CodeStore>(store: S) {
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

pub async fn the_issue_record_tells_the_winner_about_a_reuse_and_the_reuse_about_the_issue<
    S: Store + CodeStore,
>(
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

pub async fn of_24_concurrent_takes_exactly_one_is_fresh<S: Store + CodeStore>(store: S) {
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

#[macro_export]
macro_rules! code_conformance_suite {
    ($name:ident, $make:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::code_conformance_suite!(@cases $make;
                a_code_is_taken_once_with_everything_it_was_bound_to,
                a_duplicate_code_is_a_conflict,
                a_code_expires_unused,
                a_reuse_is_recorded_once_and_seen_even_past_expiry,
                the_issue_record_tells_the_winner_about_a_reuse_and_the_reuse_about_the_issue,
                of_24_concurrent_takes_exactly_one_is_fresh
            );
        }
    };
    (@cases $make:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(store) = $make else { return };
                $crate::code_conformance::$case(store).await;
            }
        )+
    };
}
