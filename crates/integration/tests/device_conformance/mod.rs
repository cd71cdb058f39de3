//! The [`DeviceCodeStore`] conformance suite, written once and run against every store:
//! memory, SQLite, PostgreSQL, MySQL, Redis, and `AnyStore`.
//!
//! `device_conformance_suite!(module_name, make_store().await)` expands to one
//! `#[tokio::test]` per case, like `code_conformance_suite!` (with the same fixture form), whose
//! helpers (`crate::conformance`) it uses: include both modules.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use tower_passport_issuer::store::{DeviceCodeRecord, DeviceDecision, DevicePoll, Purge, SecretHash, Store};

use crate::conformance::{unique, T0};

/// T0 in milliseconds.
const T0_MS: u64 = T0 * 1000;

/// A pending request of client `client` with a fresh device code and user code, issued at
/// `T0`, living 600 s, polled every 5 s; returns it with its two hashes.
pub fn request(client: &str) -> (DeviceCodeRecord, SecretHash, SecretHash) {
    let (device, user) =
        (SecretHash::of(unique("device").as_bytes()), SecretHash::of(unique("user").as_bytes()));
    let record = DeviceCodeRecord {
        device_hash: device,
        user_code_hash: user,
        client_id: client.to_owned(),
        scopes: vec!["read".into(), "write".into()],
        issued_at: T0,
        expires_at: T0 + 600,
        interval: 5,
        last_polled_at_ms: None,
        decision: DeviceDecision::Pending,
        used_at: None,
    };
    (record, device, user)
}

pub async fn a_request_is_found_by_its_user_code_only_while_pending<S: Store>(store: S) {
    let (record, _, user) = request("tv");
    store.put_device_code(record.clone()).await.unwrap();
    assert_eq!(store.pending_device_code(&user, T0 + 1).await.unwrap(), Some(record));
    assert_eq!(store.pending_device_code(&user, T0 + 600).await.unwrap(), None, "expired");
    assert_eq!(store.pending_device_code(&SecretHash::of(b"no such code"), T0).await.unwrap(), None);
    assert!(store.decide_device_code(&user, DeviceDecision::Denied, T0 + 2).await.unwrap());
    assert_eq!(store.pending_device_code(&user, T0 + 3).await.unwrap(), None, "decided");
}

pub async fn a_duplicate_device_or_user_code_is_a_conflict<S: Store>(store: S) {
    let (record, _, _) = request("tv");
    store.put_device_code(record.clone()).await.unwrap();
    let (mut same_device, _, _) = request("tv");
    same_device.device_hash = record.device_hash;
    assert!(store.put_device_code(same_device).await.unwrap_err().is_conflict());
    let (mut same_user_code, _, _) = request("tv");
    same_user_code.user_code_hash = record.user_code_hash;
    assert!(store.put_device_code(same_user_code).await.unwrap_err().is_conflict());
}

pub async fn polling_answers_pending_then_slow_down_then_the_approval_once<S: Store>(store: S) {
    let (record, device, user) = request("tv");
    store.put_device_code(record.clone()).await.unwrap();
    assert_eq!(store.poll_device_code(&device, "tv", T0_MS + 1_000).await.unwrap(), DevicePoll::Pending);
    assert_eq!(store.poll_device_code(&device, "tv", T0_MS + 2_000).await.unwrap(), DevicePoll::SlowDown);
    // The interval grew to 10 s, counted from the refused poll.
    assert_eq!(store.poll_device_code(&device, "tv", T0_MS + 8_000).await.unwrap(), DevicePoll::SlowDown);
    assert!(store
        .decide_device_code(&user, DeviceDecision::Approved("user-1".into()), T0 + 9)
        .await
        .unwrap());
    assert!(!store.decide_device_code(&user, DeviceDecision::Denied, T0 + 9).await.unwrap(), "decided once");
    assert_eq!(store.poll_device_code(&device, "other", T0_MS + 30_000).await.unwrap(), DevicePoll::Invalid);
    let DevicePoll::Approved(approved) = store.poll_device_code(&device, "tv", T0_MS + 30_000).await.unwrap()
    else {
        panic!("approved")
    };
    let expected = DeviceCodeRecord {
        interval: 15,
        last_polled_at_ms: Some(T0_MS + 30_000),
        decision: DeviceDecision::Approved("user-1".into()),
        used_at: Some(T0 + 30),
        ..record
    };
    assert_eq!(approved, expected);
    assert_eq!(store.poll_device_code(&device, "tv", T0_MS + 60_000).await.unwrap(), DevicePoll::Used);
    assert_eq!(
        store.poll_device_code(&SecretHash::of(b"unknown"), "tv", T0_MS).await.unwrap(),
        DevicePoll::Invalid
    );
}

pub async fn a_denied_request_answers_denied_and_an_expired_one_expired<S: Store>(store: S) {
    let (denied, device, user) = request("tv");
    store.put_device_code(denied).await.unwrap();
    assert!(store.decide_device_code(&user, DeviceDecision::Denied, T0 + 1).await.unwrap());
    assert_eq!(store.poll_device_code(&device, "tv", T0_MS + 5_000).await.unwrap(), DevicePoll::Denied);

    let (late, device, user) = request("tv");
    store.put_device_code(late).await.unwrap();
    assert!(!store
        .decide_device_code(&user, DeviceDecision::Approved("user-1".into()), T0 + 600)
        .await
        .unwrap());
    assert_eq!(store.poll_device_code(&device, "tv", T0_MS + 600_000).await.unwrap(), DevicePoll::Expired);
    // Nothing was recorded: a node whose clock is behind still finds it pending.
    assert_eq!(store.poll_device_code(&device, "tv", T0_MS + 599_000).await.unwrap(), DevicePoll::Pending);
}

pub async fn of_16_concurrent_polls_of_an_approval_exactly_one_redeems_it<S: Store>(store: S) {
    let store = Arc::new(store);
    let (mut record, device, _) = request("tv");
    record.decision = DeviceDecision::Approved("user-1".into());
    store.put_device_code(record).await.unwrap();
    let polls = (0..16).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.poll_device_code(&device, "tv", T0_MS + 10_000).await.unwrap() })
    });
    let mut approved = 0;
    for poll in polls.collect::<Vec<_>>() {
        match poll.await.unwrap() {
            DevicePoll::Approved(_) => approved += 1,
            other => assert!(matches!(other, DevicePoll::Used | DevicePoll::SlowDown), "{other:?}"),
        }
    }
    assert_eq!(approved, 1);
}

/// The SQL stores' purge (memory sweeps on write, Redis keys expire): an expired-only purge
/// removes requests past their expiry, counted with the codes, and frees both hashes.
pub async fn a_purge_removes_expired_device_requests<S: Store>(store: S) {
    let (record, device, _) = request("tv");
    store.put_device_code(record.clone()).await.unwrap();
    let counts = store.purge(Purge { revoked: true, expired: false, before: T0 + 601 }).await.unwrap();
    assert_eq!(counts.codes, 0, "a revoked-only purge leaves it");
    let counts = store.purge(Purge { revoked: false, expired: true, before: T0 + 600 }).await.unwrap();
    assert_eq!(counts.codes, 0, "not yet past its expiry");
    let counts = store.purge(Purge { revoked: false, expired: true, before: T0 + 601 }).await.unwrap();
    assert_eq!(counts.codes, 1);
    assert_eq!(store.poll_device_code(&device, "tv", T0_MS).await.unwrap(), DevicePoll::Invalid, "purged");
    store.put_device_code(record).await.unwrap();
}

#[macro_export]
macro_rules! device_conformance_suite {
    ($name:ident, $make:expr) => {
        $crate::device_conformance_suite!($name, $make, |store| store);
    };
    ($name:ident, $make:expr, |$fixture:ident| $store:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::device_conformance_suite!(@cases $make, $fixture, $store;
                a_request_is_found_by_its_user_code_only_while_pending,
                a_duplicate_device_or_user_code_is_a_conflict,
                polling_answers_pending_then_slow_down_then_the_approval_once,
                a_denied_request_answers_denied_and_an_expired_one_expired,
                of_16_concurrent_polls_of_an_approval_exactly_one_redeems_it
            );
        }
    };
    (@cases $make:expr, $fixture:ident, $store:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some($fixture) = $make else { return };
                $crate::device_conformance::$case($store).await;
            }
        )+
    };
}
