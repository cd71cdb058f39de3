//! Signing-key rotation on one node reaches every node: through the store (the key ring
//! lives there) and an invalidation source (what a revocation bus carries; here the
//! rotating issuer's own event stream, forwarded as a bus would).

use crate::issuer_support as support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use support::{scopes, AUDIENCE, ISSUER};
use tower_passport::clock::ManualClock;
use tower_passport::revocation::InvalidationSource;
use tower_passport::Algorithm;
use tower_passport_issuer::store::MemoryStore;
use tower_passport_issuer::{ClientRegistration, Issuer, SigningKey, TokenRequest};

const NOW: u64 = 1_800_000_000;

async fn node(store: &Arc<MemoryStore>, clock: &ManualClock) -> Issuer {
    let key = SigningKey::load_or_generate(&**store, "signing_key", Algorithm::ES256).await.expect("key");
    let issuer = Issuer::builder(ISSUER, store.clone())
        .audience(AUDIENCE)
        .scopes(scopes())
        .signing_key(key)
        .clock(clock.clone())
        .build()
        .expect("issuer");
    issuer.share_signing_keys("signing_key").await.expect("shared");
    issuer
}

fn kids(issuer: &Issuer) -> BTreeSet<String> {
    issuer.jwks().keys.iter().filter_map(|key| key["kid"].as_str().map(str::to_owned)).collect()
}

async fn token_kid(issuer: &Issuer) -> (String, String) {
    let registered = issuer.register_client(ClientRegistration::confidential("App")).await.expect("client");
    let secret = registered.secret.as_ref().map(|s| s.expose());
    let client = issuer.authenticate_client(&registered.client.id, secret).await.expect("authenticated");
    let token =
        issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("token").access_token;
    let kid = support::header(&token)["kid"].as_str().expect("kid").to_owned();
    (token, kid)
}

/// Waits until `condition` holds (the other node reloads in the background).
async fn eventually(mut condition: impl FnMut() -> bool) {
    for _ in 0..200 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the other node never caught up");
}

#[tokio::test]
async fn a_rotation_on_one_node_is_published_accepted_and_used_by_the_other() {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::new(NOW);
    let (a, b) = (node(&store, &clock).await, node(&store, &clock).await);
    assert_eq!(kids(&a), kids(&b), "both nodes start with the shared key");
    let first = kids(&a).into_iter().next().expect("a key");

    // What a revocation bus does: A's events, applied to B's hub (where B's issuer
    // registered its key-ring reload at build).
    let caches_b = b.hub().clone();
    let mut events_a = a.subscribe();
    tokio::spawn(async move {
        while let Some(invalidation) = events_a.next_invalidation().await {
            caches_b.apply(&invalidation);
        }
    });

    let next = SigningKey::generate(Algorithm::ES256).expect("key");
    let taken = a.rotate_shared_signing_key(next, Duration::from_secs(300)).await.expect("rotated");
    let second = taken.kid().to_owned();
    // B publishes the new key at once (ahead of use), and keeps the old one.
    eventually(|| kids(&b).contains(&second)).await;
    assert_eq!(kids(&b), BTreeSet::from([first.clone(), second.clone()]));
    // Neither signs with it before its time: resource servers caching the JWKS see it first.
    assert_eq!(token_kid(&a).await.1, first);
    assert_eq!(token_kid(&b).await.1, first);

    clock.advance(301);
    let (from_a, kid_a) = token_kid(&a).await;
    let (from_b, kid_b) = token_kid(&b).await;
    assert_eq!((kid_a.as_str(), kid_b.as_str()), (second.as_str(), second.as_str()), "both sign with it now");
    // Each node accepts the other's tokens under the new key.
    assert!(b.verifier().verify(&from_a).is_ok());
    assert!(a.verifier().verify(&from_b).is_ok());
    // The old key stays published until every token it signed has expired (personal
    // access tokens live 180 days)…
    assert!(kids(&b).contains(&first));
    clock.advance(180 * 24 * 3600 + 61);
    // …and then leaves both JWKS.
    assert_eq!(kids(&a), BTreeSet::from([second.clone()]));
    assert_eq!(kids(&b), BTreeSet::from([second]));
}

#[tokio::test]
async fn two_nodes_rotating_at_once_agree_on_one_key() {
    let store = Arc::new(MemoryStore::new());
    let clock = ManualClock::new(NOW);
    let (a, b) = (node(&store, &clock).await, node(&store, &clock).await);
    let (key_a, key_b) = (
        SigningKey::generate(Algorithm::ES256).expect("a"),
        SigningKey::generate(Algorithm::ES256).expect("b"),
    );
    let (taken_a, taken_b) = tokio::join!(
        a.rotate_shared_signing_key(key_a, Duration::ZERO),
        b.rotate_shared_signing_key(key_b, Duration::ZERO)
    );
    let (taken_a, taken_b) = (taken_a.expect("a rotated"), taken_b.expect("b rotated"));
    // Both rotations landed as generations 2 and 3 or both took generation 2: either way
    // the nodes end on the same ring after a reload.
    a.reload_signing_keys().await.expect("reload a");
    b.reload_signing_keys().await.expect("reload b");
    assert_eq!(kids(&a), kids(&b));
    assert_eq!(token_kid(&a).await.1, token_kid(&b).await.1);
    assert!(kids(&a).contains(taken_a.kid()) && kids(&a).contains(taken_b.kid()));
}

#[tokio::test]
async fn rotating_without_sharing_is_refused() {
    let clock = ManualClock::new(NOW);
    let issuer = Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
        .audience(AUDIENCE)
        .clock(clock)
        .build()
        .expect("i");
    let key = SigningKey::generate(Algorithm::ES256).expect("key");
    assert!(issuer.rotate_shared_signing_key(key, Duration::ZERO).await.is_err());
}
