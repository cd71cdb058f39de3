//! The [`FailureStore`] conformance suite (the issuer throttle's counters), written once and
//! run against every backend: `MemoryFailures`, SQLite, PostgreSQL and Redis; and the
//! two-node case, two throttles on two handles of one shared store.
//!
//! `failure_conformance_suite!(module_name, make_store().await)` expands to one
//! `#[tokio::test]` per case, like `conformance_suite!` (with the same fixture form), whose
//! helpers (`crate::conformance`) it uses: include both modules.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use tower_passport::clock::ManualClock;
use tower_passport_issuer::store::{FailureStore, Failures};
use tower_passport_issuer::{AuthAttempt, AuthLimiter, Throttle, Verdict};

use crate::conformance::{unique, T0};

pub async fn failures_count_up_and_read_back_in_the_order_asked<S: FailureStore>(store: S) {
    let (key, other) = (unique("failures"), unique("failures"));
    for (n, now) in [T0, T0 + 1, T0 + 2].into_iter().enumerate() {
        let recorded = store.record_failure(&key, now, 600).await.expect("recorded");
        assert_eq!(recorded, Failures { count: n as u32 + 1, last_at: now });
    }
    let read = store.failures(&[&other, &key]).await.expect("read");
    assert_eq!(read, vec![None, Some(Failures { count: 3, last_at: T0 + 2 })]);
    let read = store.failures(&[&key]).await.expect("read");
    assert_eq!(read, vec![Some(Failures { count: 3, last_at: T0 + 2 })]);
    let three = [key.as_str(), other.as_str(), key.as_str()];
    assert_eq!(store.failures(&three).await.expect("read"), vec![read[0], None, read[0]]);
}

pub async fn one_failure_is_forgotten_per_period_as_the_rule_says<S: FailureStore>(store: S) {
    let key = unique("failures");
    let mut expected = None;
    // (now, forget_every): counting up, forgetting two periods' worth, forgetting
    // everything, and a clock that went back (nothing forgotten).
    for (now, every) in
        [(T0, 60), (T0 + 10, 60), (T0 + 20, 60), (T0 + 140, 60), (T0 + 1_000, 60), (T0 + 990, 60)]
    {
        expected = Some(Failures::after(expected, now, every));
        let recorded = store.record_failure(&key, now, every).await.expect("recorded");
        assert_eq!(Some(recorded), expected, "at {now}");
    }
    assert_eq!(expected.map(|f| f.count), Some(2));
}

pub async fn clearing_forgets_only_that_key<S: FailureStore>(store: S) {
    let (key, other) = (unique("failures"), unique("failures"));
    store.record_failure(&key, T0, 600).await.expect("recorded");
    store.record_failure(&other, T0, 600).await.expect("recorded");
    store.clear_failures(&key).await.expect("cleared");
    store.clear_failures(&unique("never-seen")).await.expect("clearing nothing is fine");
    let read = store.failures(&[&key, &other]).await.expect("read");
    assert_eq!(read, vec![None, Some(Failures { count: 1, last_at: T0 })]);
}

pub async fn concurrent_failures_are_all_counted<S: FailureStore>(store: S) {
    let store = Arc::new(store);
    let key = unique("failures");
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move { store.record_failure(&key, T0, 600).await.expect("recorded").count })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.expect("joined"));
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=24).collect::<Vec<_>>(), "each failure saw the one before it");
}

/// Two nodes, each with its own handle on one shared store and its own throttle: a guesser
/// who alternates between them is held back as on one node, and a success on either forgets
/// the account on both.
pub async fn two_nodes_share_one_count<S: FailureStore>(node_a: S, node_b: S) {
    let clock = ManualClock::new(T0);
    let a = Throttle::new(node_a).clock(clock.clone());
    let b = Throttle::new(node_b).clock(clock.clone());
    let username = unique("user");
    let peer = Some(std::net::IpAddr::from([192, 0, 2, 77]));
    let attempt = AuthAttempt::User { client_id: Some("web"), provider: None, username: &username, peer };
    for node in [&a, &b, &a, &b, &a, &b] {
        assert_eq!(node.check(&attempt).await.expect("checked"), Verdict::Allow);
        node.failed(&attempt).await.expect("recorded");
    }
    // Six failures across the two nodes: both refuse.
    for node in [&a, &b] {
        assert_eq!(node.check(&attempt).await.expect("checked"), Verdict::RetryAfter(Duration::from_secs(1)));
    }
    clock.advance(1);
    b.failed(&attempt).await.expect("recorded");
    assert_eq!(a.check(&attempt).await.expect("checked"), Verdict::RetryAfter(Duration::from_secs(2)));
    clock.advance(2);
    // A success on one node forgets the account on the other.
    a.succeeded(&attempt).await.expect("cleared");
    b.failed(&attempt).await.expect("recorded");
    assert_eq!(a.check(&attempt).await.expect("checked"), Verdict::Allow);
}

#[macro_export]
macro_rules! failure_conformance_suite {
    ($name:ident, $make:expr) => {
        $crate::failure_conformance_suite!($name, $make, |store| store);
    };
    ($name:ident, $make:expr, |$fixture:ident| $store:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::failure_conformance_suite!(@cases $make, $fixture, $store;
                failures_count_up_and_read_back_in_the_order_asked,
                one_failure_is_forgotten_per_period_as_the_rule_says,
                clearing_forgets_only_that_key,
                concurrent_failures_are_all_counted
            );
        }
    };
    (@cases $make:expr, $fixture:ident, $store:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some($fixture) = $make else { return };
                $crate::failure_conformance::$case($store).await;
            }
        )+
    };
}
