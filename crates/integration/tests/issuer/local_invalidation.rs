//! A revocation reaches this node's caches before the revoking call returns, with no
//! bus: the issuer publishes into its hub, where the guard registered at `build()`.

use crate::issuer_support as support;

use std::sync::Arc;

use http::StatusCode;
use support::{scopes, through_guard, AUDIENCE, ISSUER};
use tower_passport::guard::TokenOnly;
use tower_passport::GuardLayer;
use tower_passport_issuer::store::MemoryStore;
use tower_passport_issuer::{ClientRegistration, Issuer, RegistryResolver, TokenRequest};

async fn client_token(issuer: &Issuer) -> (String, String) {
    let registered =
        issuer.register_client(ClientRegistration::confidential("Billing")).await.expect("client");
    let secret = registered.secret.as_ref().map(|s| s.expose());
    let client = issuer.authenticate_client(&registered.client.id, secret).await.expect("authenticated");
    let tokens = issuer.grant(TokenRequest::client_credentials(client.clone())).await.expect("tokens");
    (registered.client.id, tokens.access_token)
}

fn issuer_and_guard() -> (Issuer, GuardLayer) {
    let issuer = Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
        .audience(AUDIENCE)
        .scopes(scopes())
        .build()
        .expect("issuer");
    let guard = GuardLayer::builder(issuer.verifier())
        .resolver(issuer.resolver(TokenOnly))
        .revocation(issuer.revocation_list())
        .build()
        .expect("guard");
    (issuer, guard)
}

#[tokio::test]
async fn a_revoked_client_is_refused_on_the_next_request_without_a_bus() {
    let (issuer, guard) = issuer_and_guard();
    let (client_id, token) = client_token(&issuer).await;
    // The guard now caches "this client is active" (for 60 s by default).
    assert_eq!(through_guard(&guard, &token).await.status, StatusCode::OK);
    assert!(issuer.revoke_client(&client_id).await.expect("revoked"));
    through_guard(&guard, &token).await.assert_invalid_token("The access token's client was revoked");
}

#[tokio::test]
async fn a_guard_with_only_the_issuers_resolver_follows_too() {
    // No revocation check: the resolver from `Issuer::resolver` ties the guard to the
    // issuer's hub just the same, so its cached "client active" answer is dropped.
    let (issuer, _) = issuer_and_guard();
    let registered = issuer.hub().len();
    let guard =
        GuardLayer::builder(issuer.verifier()).resolver(issuer.resolver(TokenOnly)).build().expect("guard");
    assert_eq!(issuer.hub().len(), registered + 1);
    let (client_id, token) = client_token(&issuer).await;
    assert_eq!(through_guard(&guard, &token).await.status, StatusCode::OK);
    assert!(issuer.revoke_client(&client_id).await.expect("revoked"));
    through_guard(&guard, &token).await.assert_invalid_token("The access token's client was revoked");
}

#[tokio::test]
async fn a_guard_registers_once_when_its_check_and_resolver_share_a_hub() {
    let (issuer, _) = issuer_and_guard();
    let registered = issuer.hub().len();
    let _guard = GuardLayer::builder(issuer.verifier())
        .resolver(issuer.resolver(TokenOnly))
        .revocation(issuer.revocation_list())
        .build()
        .expect("guard");
    assert_eq!(issuer.hub().len(), registered + 1, "one registration, so one application per invalidation");
}

#[tokio::test]
async fn without_it_the_cached_answer_would_stand() {
    // The same steps with a guard tied to no hub (a resolver of its own over the same
    // store, no revocation check): its cached "active" answer outlives the revocation.
    // This is what registering with the hub at `build()` fixes.
    let (issuer, _) = issuer_and_guard();
    let guard = GuardLayer::builder(issuer.verifier())
        .resolver(RegistryResolver::new(TokenOnly, Arc::new(issuer.store().clone())))
        .build()
        .expect("guard");
    let (client_id, token) = client_token(&issuer).await;
    assert_eq!(through_guard(&guard, &token).await.status, StatusCode::OK);
    assert!(issuer.revoke_client(&client_id).await.expect("revoked"));
    assert_eq!(through_guard(&guard, &token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn logging_out_by_jti_refuses_the_token_on_the_next_request() {
    // Passport's `$request->user()->token()->revoke()`: the verified-token cache and the
    // revocation list on this node forget the token at once.
    let (issuer, guard) = issuer_and_guard();
    let (_, token) = client_token(&issuer).await;
    assert_eq!(through_guard(&guard, &token).await.status, StatusCode::OK);
    let verified = issuer.verifier().verify(&token).expect("verifies");
    let jti = verified.jti().expect("jti").to_owned();
    assert!(issuer.revoke_access_token_by_jti(&jti).await.expect("revoked").is_some());
    through_guard(&guard, &token).await.assert_invalid_token("The access token was revoked");
}

/// Without a bus, a later sign-out on another node (a later "not before" in the shared
/// store) is seen once this node's cached answer expires: the same bound as a cached "not
/// revoked", however long ago the earlier instant was cached.
#[tokio::test]
async fn a_later_not_before_set_elsewhere_is_seen_within_the_negative_bound() {
    use std::time::Duration;
    use tower_passport::clock::SystemClock;
    use tower_passport::revocation::{Hub, RevocationList};
    use tower_passport_issuer::store::RevocationStore;

    let store = Arc::new(MemoryStore::new());
    let bound = Duration::from_millis(50);
    let list = RevocationList::with_options(&Hub::new(), store.clone(), Arc::new(SystemClock), 1_000, bound);
    // This node signs the user out, then reads it back: both cached.
    store.set_user_not_before("users", "7", 1_000).await.expect("store");
    list.record_user_not_before("users", "7", 1_000);
    assert_eq!(list.user_not_before("users", "7").await.expect("list"), Some(1_000));
    // Another node, with no bus to tell this one, signs the user out again later.
    store.set_user_not_before("users", "7", 2_000).await.expect("store");
    tokio::time::sleep(bound * 6).await;
    assert_eq!(list.user_not_before("users", "7").await.expect("list"), Some(2_000));
}
