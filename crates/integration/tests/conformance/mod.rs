//! The store conformance suite, written once and run against every backend.
//!
//! `conformance_suite!(module_name, async { make_store().await })` expands to one
//! `#[tokio::test]` per case; each case builds a fresh store with the given expression.
//! Ids are unique per call, so backends that share a server between cases do not collide.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::{clock::ManualClock, GuardLayer};
use tower_passport_issuer::store::{
    AccessTokenRecord, ClientRecord, ClientSecretHash, ClientTokens, ClientUpdate, FamilyRecord, GrantType,
    Purge, RefreshTokenRecord, RevocationStore, RevokedAccess, Rotation, RotationOutcome, SecretHash, Store,
    TokenStore, EXPIRY_MARGIN,
};
use tower_passport_issuer::{ClientRegistration, Issuer, ScopeRegistry, StaticUsers, TokenRequest};

pub const T0: u64 = 1_900_000_000;

/// A unique id: `prefix-<process>-<counter>`.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}-{}-{}", std::process::id(), T0, NEXT.fetch_add(1, Ordering::SeqCst))
}

pub fn client(id: &str) -> ClientRecord {
    ClientRecord {
        id: id.to_owned(),
        name: "Conformance client".into(),
        secret_hash: Some(SecretHash::of(b"a-secret-of-thirty-two-characters!").into()),
        grants: vec![GrantType::ClientCredentials, GrantType::RefreshToken],
        allowed_scopes: Some(vec!["read".into(), "write".into()]),
        first_party: true,
        skips_authorization: true,
        revoked: false,
        created_at: T0,
        redirect_uris: vec!["https://app.example.com/callback".into(), "http://127.0.0.1/callback".into()],
        owner: Some("owner-1".into()),
        require_pkce: false,
        provider: Some("customers".into()),
        allowed_resources: Some(vec!["https://orders.example.com".into()]),
    }
}

pub fn access(jti: &str, family: Option<&str>, issued_at: u64, ttl: u64) -> AccessTokenRecord {
    AccessTokenRecord {
        jti: jti.to_owned(),
        client_id: "client".into(),
        user_id: Some("user-1".into()),
        scopes: vec!["read".into()],
        family_id: family.map(str::to_owned),
        name: None,
        personal: false,
        issued_at,
        expires_at: issued_at + ttl,
        revoked_at: None,
    }
}

/// A refresh token of `family` whose secret is `secret`.
pub fn refresh(id: &str, family: &str, secret: &str, access_jti: &str, issued_at: u64) -> RefreshTokenRecord {
    RefreshTokenRecord {
        id: id.to_owned(),
        secret_hash: SecretHash::of(secret.as_bytes()),
        family_id: family.to_owned(),
        client_id: "client".into(),
        user_id: Some("user-1".into()),
        scopes: vec!["read".into(), "write".into()],
        access_jti: access_jti.to_owned(),
        issued_at,
        expires_at: issued_at + 30 * 24 * 3600,
        used_at: None,
        used_at_millis: None,
        revoked_at: None,
        dpop_jkt: None,
        resources: vec!["https://orders.example.com".into(), "https://billing.example.com".into()],
    }
}

/// A family with its first token (`<family>-r0`, secret `<family>-s0`) and access token
/// (`<family>-a0`), started at `T0`.
pub async fn start<S: Store>(store: &S) -> String {
    start_of(store, "user-1", "client").await
}

/// As [`start`], for `user` and `client`.
pub async fn start_of<S: Store>(store: &S, user: &str, client: &str) -> String {
    let family = unique("family");
    let mut first =
        refresh(&format!("{family}-r0"), &family, &format!("{family}-s0"), &format!("{family}-a0"), T0);
    first.user_id = Some(user.to_owned());
    first.client_id = client.to_owned();
    let record = FamilyRecord {
        id: family.clone(),
        client_id: client.to_owned(),
        user_id: Some(user.to_owned()),
        created_at: T0,
        revoked_at: None,
        current: first.id.clone(),
        previous: None,
    };
    let mut first_access = access(&format!("{family}-a0"), Some(&family), T0, 3600);
    first_access.user_id = Some(user.to_owned());
    first_access.client_id = client.to_owned();
    store.start_family(record, first, first_access).await.expect("start family");
    family
}

/// `rotation`'s successor pair, for `user` and `client`.
pub fn owned_by(mut rotation: Rotation, user: &str, client: &str) -> Rotation {
    rotation.next.user_id = Some(user.to_owned());
    rotation.next.client_id = client.to_owned();
    rotation.next_access.user_id = Some(user.to_owned());
    rotation.next_access.client_id = client.to_owned();
    rotation
}

/// An access token of `user` and `client`, outside any family.
pub fn access_of(jti: &str, user: &str, client: &str, issued_at: u64, ttl: u64) -> AccessTokenRecord {
    AccessTokenRecord {
        user_id: Some(user.to_owned()),
        client_id: client.to_owned(),
        ..access(jti, None, issued_at, ttl)
    }
}

fn jtis(revoked: &[RevokedAccess]) -> Vec<&str> {
    revoked.iter().map(|r| r.jti.as_str()).collect()
}

/// Rotation of generation `from` to `to` of `family` at `now`, with a grace window of
/// `grace` seconds.
pub fn rotation(family: &str, from: u32, to: u32, now: u64, grace: Option<u64>) -> Rotation {
    Rotation {
        presented_id: format!("{family}-r{from}"),
        presented_hash: SecretHash::of(format!("{family}-s{from}").as_bytes()),
        now,
        now_millis: now * 1_000,
        race_millis: None,
        grace_millis: grace.map(|seconds| seconds * 1_000),
        consume: true,
        revoke_previous_access: true,
        next: refresh(
            &format!("{family}-r{to}"),
            family,
            &format!("{family}-s{to}"),
            &format!("{family}-a{to}"),
            now,
        ),
        next_access: access(&format!("{family}-a{to}"), Some(family), now, 3600),
    }
}

pub async fn clients_round_trip<S: Store>(store: S) {
    let id = unique("client");
    assert_eq!(store.client(&id).await.unwrap(), None);
    store.put_client(client(&id)).await.unwrap();
    assert_eq!(store.client(&id).await.unwrap(), Some(client(&id)));
    assert!(store.set_client_revoked(&id, true).await.unwrap());
    assert!(store.client(&id).await.unwrap().unwrap().revoked);
    assert!(!store.set_client_revoked(&unique("nobody"), true).await.unwrap());
    let mut renamed = client(&id);
    renamed.name = "Renamed".into();
    store.put_client(renamed.clone()).await.unwrap();
    assert_eq!(store.client(&id).await.unwrap(), Some(renamed));
}

/// RFC 8707: a client's allowed resources are kept, and an unrestricted client stays
/// unrestricted (no resources is not the same as every resource); a refresh token keeps
/// the resources its grant covers, through rotation, and a grant from before resource
/// indicators keeps none.
pub async fn resource_indicators_are_kept_with_clients_and_refresh_tokens<S: Store>(store: S) {
    let id = unique("client");
    let unrestricted = ClientRecord { allowed_resources: None, ..client(&id) };
    store.put_client(unrestricted.clone()).await.unwrap();
    assert_eq!(store.client(&id).await.unwrap(), Some(unrestricted));
    let two = vec!["https://orders.example.com".to_owned(), "https://billing.example.com".to_owned()];
    let restricted = ClientRecord { allowed_resources: Some(two.clone()), ..client(&id) };
    store.put_client(restricted.clone()).await.unwrap();
    assert_eq!(store.client(&id).await.unwrap(), Some(restricted));
    let nothing = ClientRecord { allowed_resources: Some(vec![]), ..client(&id) };
    store.put_client(nothing).await.unwrap();
    assert_eq!(store.client(&id).await.unwrap().unwrap().allowed_resources, Some(vec![]));

    let family = start(&store).await;
    let first = store.refresh_token(&format!("{family}-r0")).await.unwrap().unwrap();
    assert_eq!(first.resources, two);
    let mut step = rotation(&family, 0, 1, T0 + 10, None);
    step.next.resources = vec!["https://billing.example.com".into()];
    assert!(matches!(store.rotate(step).await.unwrap(), RotationOutcome::Rotated { .. }));
    let next = store.refresh_token(&format!("{family}-r1")).await.unwrap().unwrap();
    assert_eq!(next.resources, ["https://billing.example.com"]);
    let listed = store.user_tokens("user-1", T0 + 11).await.unwrap();
    let listed: Vec<_> =
        listed.iter().flat_map(|tokens| &tokens.refresh_tokens).filter(|r| r.family_id == family).collect();
    assert_eq!(listed[0].resources, ["https://billing.example.com"]);

    let legacy = unique("family");
    let mut old = refresh(&format!("{legacy}-r0"), &legacy, "s", &format!("{legacy}-a0"), T0);
    old.resources = vec![];
    let record = FamilyRecord {
        id: legacy.clone(),
        client_id: "client".into(),
        user_id: None,
        created_at: T0,
        revoked_at: None,
        current: old.id.clone(),
        previous: None,
    };
    store.start_family(record, old, access(&format!("{legacy}-a0"), Some(&legacy), T0, 3600)).await.unwrap();
    assert!(store.refresh_token(&format!("{legacy}-r0")).await.unwrap().unwrap().resources.is_empty());
}

/// An imported client keeps its bcrypt secret hash (Laravel Passport's), and an all-digit
/// id (Passport's integer keys), through every store.
pub async fn an_imported_clients_bcrypt_hash_and_integer_id_are_kept<S: Store>(store: S) {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = format!("{}{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
    let mut imported = client(&id);
    // bcrypt("secret", cost 4), as Laravel's Hash::make writes it.
    let hash = "$2y$04$zjv7WVsfcDz0.SvHCsMW/.4N7rjTaIK0QXRCc/rcou4COdFJiXTmK";
    imported.secret_hash = Some(ClientSecretHash::bcrypt(hash).expect("a bcrypt hash"));
    store.put_client(imported.clone()).await.unwrap();
    let stored = store.client(&id).await.unwrap().expect("kept");
    assert_eq!(stored, imported);
    assert_eq!(stored.secret_hash.map(|hash| hash.to_stored()).as_deref(), Some(hash));
}

pub async fn a_clients_approval_screen_setting_is_kept_both_ways<S: Store>(store: S) {
    for skips in [true, false] {
        let id = unique("skips");
        store.put_client(ClientRecord { skips_authorization: skips, ..client(&id) }).await.unwrap();
        assert_eq!(store.client(&id).await.unwrap().unwrap().skips_authorization, skips);
        let rename = ClientUpdate { name: Some("Renamed".into()), ..ClientUpdate::default() };
        let updated = store.update_client(&id, rename).await.unwrap().unwrap();
        assert_eq!(updated.skips_authorization, skips, "an update keeps it");
        assert_eq!(store.client(&id).await.unwrap().unwrap().skips_authorization, skips);
        let flip = ClientUpdate { skips_authorization: Some(!skips), ..ClientUpdate::default() };
        assert_eq!(store.update_client(&id, flip).await.unwrap().unwrap().skips_authorization, !skips);
        assert_eq!(
            store.client(&id).await.unwrap().unwrap().skips_authorization,
            !skips,
            "an update sets it"
        );
    }
}

pub async fn clients_are_updated_in_place<S: Store>(store: S) {
    let id = unique("client");
    let rename = ClientUpdate { name: Some("Renamed".into()), ..ClientUpdate::default() };
    assert_eq!(store.update_client(&id, rename.clone()).await.unwrap(), None, "no such client");
    assert_eq!(store.client(&id).await.unwrap(), None, "an update creates nothing");
    store.put_client(client(&id)).await.unwrap();

    let mut expected = client(&id);
    expected.name = "Renamed".into();
    assert_eq!(store.update_client(&id, rename).await.unwrap(), Some(expected.clone()));
    assert_eq!(store.client(&id).await.unwrap(), Some(expected.clone()));

    let everything = ClientUpdate {
        name: Some("Photo printer".into()),
        redirect_uris: Some(vec!["https://printer.example.com/cb".into()]),
        secret_hash: Some(SecretHash::of(b"a-regenerated-secret-of-32-characters")),
        revoked: Some(true),
        skips_authorization: Some(false),
    };
    expected.name = "Photo printer".into();
    expected.skips_authorization = false;
    expected.redirect_uris = vec!["https://printer.example.com/cb".into()];
    expected.secret_hash = Some(SecretHash::of(b"a-regenerated-secret-of-32-characters").into());
    expected.revoked = true;
    assert_eq!(store.update_client(&id, everything).await.unwrap(), Some(expected.clone()));
    let stored = store.client(&id).await.unwrap().unwrap();
    assert_eq!(stored, expected, "every other field kept: grants, owner, provider, PKCE, creation time");
    assert!(stored.secret_hash.unwrap().matches(b"a-regenerated-secret-of-32-characters"));

    let unrevoke = ClientUpdate { revoked: Some(false), ..ClientUpdate::default() };
    assert!(!store.update_client(&id, unrevoke).await.unwrap().unwrap().revoked);
    assert!(!store.client(&id).await.unwrap().unwrap().revoked);
}

pub async fn concurrent_client_updates_all_land<S: Store>(store: S) {
    let id = unique("client");
    store.put_client(client(&id)).await.unwrap();
    let store = Arc::new(store);
    // Each task changes a different field: none of the changes may be lost.
    let updates = [
        ClientUpdate { name: Some("Concurrent".into()), ..ClientUpdate::default() },
        ClientUpdate {
            redirect_uris: Some(vec!["https://other.example.com/cb".into()]),
            ..ClientUpdate::default()
        },
        ClientUpdate { secret_hash: Some(SecretHash::of(b"concurrent-secret")), ..ClientUpdate::default() },
        ClientUpdate { revoked: Some(true), ..ClientUpdate::default() },
    ];
    let tasks: Vec<_> = updates
        .into_iter()
        .map(|update| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move { store.update_client(&id, update).await.unwrap().is_some() })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap());
    }
    let stored = store.client(&id).await.unwrap().unwrap();
    assert_eq!(stored.name, "Concurrent");
    assert_eq!(stored.redirect_uris, ["https://other.example.com/cb"]);
    assert!(stored.secret_hash.unwrap().matches(b"concurrent-secret"));
    assert!(stored.revoked);
}

pub async fn every_client_is_listed_oldest_first<S: Store>(store: S) {
    let (older, newer) = (unique("listed"), unique("listed"));
    store.put_client(ClientRecord { created_at: T0 + 5, ..client(&newer) }).await.unwrap();
    store.put_client(ClientRecord { created_at: T0, revoked: true, ..client(&older) }).await.unwrap();
    let all = store.clients().await.unwrap();
    let position = |id: &str| all.iter().position(|c| c.id == id).expect("listed");
    assert!(position(&older) < position(&newer), "oldest first");
    assert!(all[position(&older)].revoked, "revoked clients are listed, as stored");
    assert_eq!(all[position(&newer)], ClientRecord { created_at: T0 + 5, ..client(&newer) });
}

pub async fn clients_are_listed_by_owner<S: Store>(store: S) {
    let (ann, bob) = (unique("ann"), unique("bob"));
    assert!(store.clients_owned_by(&ann).await.unwrap().is_empty());
    let owned = |id: &str, owner: &str, created_at: u64| ClientRecord {
        owner: Some(owner.to_owned()),
        created_at,
        ..client(id)
    };
    let (first, second, bobs) = (unique("client"), unique("client"), unique("client"));
    store.put_client(owned(&second, &ann, T0 + 10)).await.unwrap();
    store.put_client(owned(&first, &ann, T0)).await.unwrap();
    store.put_client(owned(&bobs, &bob, T0)).await.unwrap();
    store.put_client(ClientRecord { owner: None, ..client(&unique("client")) }).await.unwrap();
    let ids = |clients: Vec<ClientRecord>| clients.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.clients_owned_by(&ann).await.unwrap()),
        [first.clone(), second.clone()],
        "oldest first"
    );
    assert_eq!(ids(store.clients_owned_by(&bob).await.unwrap()), std::slice::from_ref(&bobs));

    // Revoked clients are listed too, as stored.
    store.set_client_revoked(&first, true).await.unwrap();
    let listed = store.clients_owned_by(&ann).await.unwrap();
    assert_eq!(listed[0], ClientRecord { revoked: true, ..owned(&first, &ann, T0) });

    // A replacement that changes the owner moves the client from one list to the other.
    store.put_client(owned(&second, &bob, T0 + 10)).await.unwrap();
    assert_eq!(ids(store.clients_owned_by(&ann).await.unwrap()), std::slice::from_ref(&first));
    assert_eq!(ids(store.clients_owned_by(&bob).await.unwrap()), [bobs, second.clone()]);
    store.put_client(ClientRecord { owner: None, ..client(&second) }).await.unwrap();
    assert_eq!(store.clients_owned_by(&bob).await.unwrap().len(), 1);
}

pub async fn access_tokens_and_the_revocation_list<S: Store>(store: S) {
    let jti = unique("jti");
    assert!(!store.is_revoked(&jti).await.unwrap());
    store.put_access_token(access(&jti, None, T0, 3600)).await.unwrap();
    assert_eq!(store.access_token(&jti).await.unwrap(), Some(access(&jti, None, T0, 3600)));
    assert!(
        store.put_access_token(access(&jti, None, T0, 3600)).await.is_err(),
        "a duplicate jti is refused"
    );
    let revoked = store.revoke_access_token(&jti, T0 + 5).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(T0 + 5));
    assert!(store.is_revoked(&jti).await.unwrap());
    assert_eq!(store.revoke_access_token(&unique("missing"), T0).await.unwrap(), None);
}

pub async fn personal_tokens_are_listed_per_user_newest_first<S: Store>(store: S) {
    let user = unique("user");
    for (offset, personal) in [(0, true), (10, true), (20, false)] {
        let mut record = access(&unique("pat"), None, T0 + offset, 3600);
        record.user_id = Some(user.clone());
        record.personal = personal;
        record.name = Some(format!("token {offset}"));
        store.put_access_token(record).await.unwrap();
    }
    let listed = store.personal_access_tokens(&user).await.unwrap();
    let names: Vec<_> = listed.iter().map(|r| r.name.clone().unwrap()).collect();
    assert_eq!(names, ["token 10", "token 0"]);
    assert!(store.personal_access_tokens(&unique("other")).await.unwrap().is_empty());
}

pub async fn a_family_starts_atomically<S: Store>(store: S) {
    let family = start(&store).await;
    let first = store.refresh_token(&format!("{family}-r0")).await.unwrap().unwrap();
    assert_eq!(first.family_id, family);
    assert!(first.secret_hash.matches(format!("{family}-s0").as_bytes()));
    assert_eq!(store.family(&family).await.unwrap().unwrap().current, format!("{family}-r0"));
    assert!(store.access_token(&format!("{family}-a0")).await.unwrap().is_some());
}

pub async fn rotation_consumes_the_token_and_links_the_family<S: Store>(store: S) {
    let family = start(&store).await;
    let outcome = store.rotate(rotation(&family, 0, 1, T0 + 60, None)).await.unwrap();
    let RotationOutcome::Rotated { revoked } = outcome else { panic!("expected Rotated, got {outcome:?}") };
    assert_eq!(revoked.iter().map(|r| r.jti.as_str()).collect::<Vec<_>>(), [format!("{family}-a0")]);
    assert!(store.is_revoked(&format!("{family}-a0")).await.unwrap(), "the old access token is revoked");
    let old = store.refresh_token(&format!("{family}-r0")).await.unwrap().unwrap();
    assert_eq!(old.used_at, Some(T0 + 60));
    let record = store.family(&family).await.unwrap().unwrap();
    assert_eq!(record.current, format!("{family}-r1"));
    assert_eq!(record.previous.as_deref(), Some(format!("{family}-r0").as_str()));
    assert!(store.access_token(&format!("{family}-a1")).await.unwrap().is_some());
    let next = store.rotate(rotation(&family, 1, 2, T0 + 120, None)).await.unwrap();
    assert!(matches!(next, RotationOutcome::Rotated { .. }), "{next:?}");
}

/// RFC 9449 §5: a public client's refresh token bound to a DPoP key keeps the binding
/// through the store, from the family's first token and through rotation; an unbound one
/// stays unbound.
pub async fn a_refresh_tokens_dpop_binding_is_kept<S: Store>(store: S) {
    let family = unique("family");
    let jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    let mut first =
        refresh(&format!("{family}-r0"), &family, &format!("{family}-s0"), &format!("{family}-a0"), T0);
    first.dpop_jkt = Some(jkt.to_owned());
    let record = FamilyRecord {
        id: family.clone(),
        client_id: "client".into(),
        user_id: Some("user-1".into()),
        created_at: T0,
        revoked_at: None,
        current: first.id.clone(),
        previous: None,
    };
    let first_access = access(&format!("{family}-a0"), Some(&family), T0, 3600);
    store.start_family(record, first, first_access).await.expect("start family");
    let stored = store.refresh_token(&format!("{family}-r0")).await.unwrap().unwrap();
    assert_eq!(stored.dpop_jkt.as_deref(), Some(jkt));
    let mut next = rotation(&family, 0, 1, T0 + 60, None);
    next.next.dpop_jkt = Some(jkt.to_owned());
    let outcome = store.rotate(next).await.unwrap();
    assert!(matches!(outcome, RotationOutcome::Rotated { .. }), "{outcome:?}");
    let rotated = store.refresh_token(&format!("{family}-r1")).await.unwrap().unwrap();
    assert_eq!(rotated.dpop_jkt.as_deref(), Some(jkt));
    let used = store.refresh_token(&format!("{family}-r0")).await.unwrap().unwrap();
    assert_eq!(used.dpop_jkt.as_deref(), Some(jkt), "marking it used keeps the binding");
    let unbound = start(&store).await;
    let stored = store.refresh_token(&format!("{unbound}-r0")).await.unwrap().unwrap();
    assert_eq!(stored.dpop_jkt, None);
}

pub async fn rotation_can_keep_the_old_access_token<S: Store>(store: S) {
    let family = start(&store).await;
    let mut keep = rotation(&family, 0, 1, T0 + 60, None);
    keep.revoke_previous_access = false;
    assert_eq!(store.rotate(keep).await.unwrap(), RotationOutcome::Rotated { revoked: vec![] });
    assert!(!store.is_revoked(&format!("{family}-a0")).await.unwrap());
}

pub async fn rotation_without_consuming_leaves_the_token_usable<S: Store>(store: S) {
    let family = start(&store).await;
    let mut first = rotation(&family, 0, 1, T0 + 60, None);
    first.consume = false;
    assert!(matches!(store.rotate(first).await.unwrap(), RotationOutcome::Rotated { .. }));
    let mut again = rotation(&family, 0, 2, T0 + 120, None);
    again.consume = false;
    assert!(matches!(store.rotate(again).await.unwrap(), RotationOutcome::Rotated { .. }));
    assert_eq!(store.refresh_token(&format!("{family}-r0")).await.unwrap().unwrap().used_at, None);
    assert!(store.family(&family).await.unwrap().unwrap().revoked_at.is_none());
}

pub async fn a_wrong_secret_an_unknown_or_expired_token_is_invalid_and_changes_nothing<S: Store>(store: S) {
    let family = start(&store).await;
    let mut wrong = rotation(&family, 0, 1, T0 + 60, None);
    wrong.presented_hash = SecretHash::of(b"not the secret");
    assert_eq!(store.rotate(wrong).await.unwrap(), RotationOutcome::Invalid);
    let mut unknown = rotation(&family, 0, 1, T0 + 60, None);
    unknown.presented_id = unique("unknown");
    assert_eq!(store.rotate(unknown).await.unwrap(), RotationOutcome::Invalid);
    let expired = rotation(&family, 0, 1, T0 + 31 * 24 * 3600, None);
    assert_eq!(store.rotate(expired).await.unwrap(), RotationOutcome::Invalid);
    let untouched = store.refresh_token(&format!("{family}-r0")).await.unwrap().unwrap();
    assert_eq!((untouched.used_at, untouched.revoked_at), (None, None));
    assert!(store.refresh_token(&format!("{family}-r1")).await.unwrap().is_none(), "nothing was inserted");
    assert!(!store.is_revoked(&format!("{family}-a0")).await.unwrap());
}

pub async fn reuse_revokes_the_whole_family<S: Store>(store: S) {
    let family = start(&store).await;
    assert!(matches!(
        store.rotate(rotation(&family, 0, 1, T0 + 60, None)).await.unwrap(),
        RotationOutcome::Rotated { .. }
    ));
    let reuse = store.rotate(rotation(&family, 0, 9, T0 + 90, None)).await.unwrap();
    let RotationOutcome::ReuseDetected { family_id, revoked } = reuse else {
        panic!("expected reuse, got {reuse:?}")
    };
    assert_eq!(family_id, family);
    assert_eq!(revoked.iter().map(|r| r.jti.as_str()).collect::<Vec<_>>(), [format!("{family}-a1")]);
    assert!(
        store.is_revoked(&format!("{family}-a1")).await.unwrap(),
        "live access tokens die with the family"
    );
    assert!(store.family(&family).await.unwrap().unwrap().revoked_at.is_some());
    assert!(store.refresh_token(&format!("{family}-r1")).await.unwrap().unwrap().revoked_at.is_some());
    assert!(store.refresh_token(&format!("{family}-r9")).await.unwrap().is_none(), "no token was issued");
    assert_eq!(
        store.rotate(rotation(&family, 1, 2, T0 + 120, None)).await.unwrap(),
        RotationOutcome::Invalid
    );
}

pub async fn the_grace_window_covers_only_the_previous_token<S: Store>(store: S) {
    let family = start(&store).await;
    let grace = Some(30);
    assert!(matches!(
        store.rotate(rotation(&family, 0, 1, T0 + 60, grace)).await.unwrap(),
        RotationOutcome::Rotated { .. }
    ));
    // r0 is the previous token: inside the window it yields a fresh pair, superseding r1.
    let again = store.rotate(rotation(&family, 0, 2, T0 + 70, grace)).await.unwrap();
    assert!(matches!(again, RotationOutcome::GraceReissued { .. }), "{again:?}");
    let record = store.family(&family).await.unwrap().unwrap();
    assert_eq!((record.current.as_str(), record.revoked_at), (format!("{family}-r2").as_str(), None));
    assert!(store.refresh_token(&format!("{family}-r1")).await.unwrap().unwrap().used_at.is_some());
    // r2 goes on normally.
    assert!(matches!(
        store.rotate(rotation(&family, 2, 3, T0 + 80, grace)).await.unwrap(),
        RotationOutcome::Rotated { .. }
    ));
    // r0 is no longer the previous token: even inside the window, reuse kills the family.
    let late = store.rotate(rotation(&family, 0, 4, T0 + 85, grace)).await.unwrap();
    assert!(matches!(late, RotationOutcome::ReuseDetected { .. }), "{late:?}");
}

pub async fn the_grace_window_ends<S: Store>(store: S) {
    let family = start(&store).await;
    let grace = Some(30);
    assert!(matches!(
        store.rotate(rotation(&family, 0, 1, T0 + 60, grace)).await.unwrap(),
        RotationOutcome::Rotated { .. }
    ));
    let late = store.rotate(rotation(&family, 0, 2, T0 + 91, grace)).await.unwrap();
    assert!(matches!(late, RotationOutcome::ReuseDetected { .. }), "{late:?}");
}

pub async fn concurrent_rotations_have_exactly_one_winner<S: Store>(store: S) {
    let store = Arc::new(store);
    let family = start(&*store).await;
    let mut tasks = Vec::new();
    for attempt in 1..=50u32 {
        let (store, family) = (store.clone(), family.clone());
        tasks.push(tokio::spawn(
            async move { store.rotate(rotation(&family, 0, attempt, T0 + 60, None)).await },
        ));
    }
    let mut rotated = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            RotationOutcome::Rotated { .. } => rotated += 1,
            RotationOutcome::ReuseDetected { .. } | RotationOutcome::Invalid => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(rotated, 1);
    assert!(store.family(&family).await.unwrap().unwrap().revoked_at.is_some(), "the losers were reuse");
}

pub async fn revoking_a_family_takes_its_live_access_tokens<S: Store>(store: S) {
    let family = start(&store).await;
    let mut keep = rotation(&family, 0, 1, T0 + 60, None);
    keep.revoke_previous_access = false;
    store.rotate(keep).await.unwrap();
    // a0 expires at T0 + 3600: a second later a guard still admits it inside its leeway, so
    // the revocation takes it; only past `EXPIRY_MARGIN` does it need nothing.
    let inside = start(&store).await;
    let mut keep = rotation(&inside, 0, 1, T0 + 60, None);
    keep.revoke_previous_access = false;
    store.rotate(keep).await.unwrap();
    let revoked = store.revoke_family(&inside, T0 + 3601).await.unwrap();
    let mut jtis: Vec<&str> = revoked.iter().map(|r| r.jti.as_str()).collect();
    jtis.sort_unstable();
    assert_eq!(jtis, [format!("{inside}-a0"), format!("{inside}-a1")], "inside the margin");
    assert!(store.is_revoked(&format!("{inside}-a0")).await.unwrap());
    // Past the margin, only a1 (expiring at T0 + 3660) is live.
    let past = T0 + 3600 + EXPIRY_MARGIN;
    let revoked = store.revoke_family(&family, past).await.unwrap();
    assert_eq!(revoked.iter().map(|r| r.jti.as_str()).collect::<Vec<_>>(), [format!("{family}-a1")]);
    assert_eq!(revoked[0].expires_at, T0 + 60 + 3600);
    assert!(store.revoke_family(&family, past + 1).await.unwrap().is_empty(), "idempotent");
    assert!(store.revoke_family(&unique("unknown"), T0).await.unwrap().is_empty());
}

pub async fn purge_drops_old_expired_and_revoked_records<S: Store>(store: S) {
    let expired = unique("expired");
    let fresh = unique("fresh");
    let revoked = unique("revoked");
    store.put_access_token(access(&expired, None, T0, 60)).await.unwrap();
    store.put_access_token(access(&fresh, None, T0 + 10_000, 3600)).await.unwrap();
    store.put_access_token(access(&revoked, None, T0, 100_000)).await.unwrap();
    store.revoke_access_token(&revoked, T0 + 100).await.unwrap();

    // Nothing is older than T0: nothing goes.
    let none = store.purge(Purge { revoked: true, expired: true, before: T0 }).await.unwrap();
    assert_eq!(none.access_tokens, 0);

    // Expired only: the token that expired at T0 + 60 goes, the revoked one stays.
    let counts = store.purge(Purge { revoked: false, expired: true, before: T0 + 1000 }).await.unwrap();
    assert!(counts.access_tokens >= 1);
    assert!(store.access_token(&expired).await.unwrap().is_none());
    assert!(store.access_token(&revoked).await.unwrap().is_some());

    // Revoked: the record goes, but its revocation entry stays until the token expires.
    store.purge(Purge { revoked: true, expired: false, before: T0 + 1000 }).await.unwrap();
    assert!(store.access_token(&revoked).await.unwrap().is_none());
    assert!(store.is_revoked(&revoked).await.unwrap(), "revocation outlives the record until expiry");
    assert!(store.access_token(&fresh).await.unwrap().is_some());

    // Once the revoked token has expired, its revocation entry goes with an expired purge.
    store.purge(Purge { revoked: false, expired: true, before: T0 + 200_000 }).await.unwrap();
    assert!(!store.is_revoked(&revoked).await.unwrap());
}

pub async fn purge_drops_revoked_families<S: Store>(store: S) {
    let family = start(&store).await;
    store.revoke_family(&family, T0 + 10).await.unwrap();
    store.purge(Purge { revoked: true, expired: false, before: T0 + 20 }).await.unwrap();
    assert!(store.family(&family).await.unwrap().is_none());
    assert!(store.refresh_token(&format!("{family}-r0")).await.unwrap().is_none());
}

pub async fn settings_are_first_writer_wins<S: Store>(store: S) {
    let name = unique("setting");
    assert_eq!(store.put_setting_if_absent(&name, "first").await.unwrap(), "first");
    assert_eq!(store.put_setting_if_absent(&name, "second").await.unwrap(), "first");
    let multiline = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";
    let other = unique("setting");
    assert_eq!(store.put_setting_if_absent(&other, multiline).await.unwrap(), multiline);
    // Reading never writes.
    assert_eq!(store.setting(&name).await.unwrap().as_deref(), Some("first"));
    assert_eq!(store.setting(&other).await.unwrap().as_deref(), Some(multiline));
    let absent = unique("setting");
    assert_eq!(store.setting(&absent).await.unwrap(), None);
    assert_eq!(store.setting(&absent).await.unwrap(), None);
}

pub async fn concurrent_settings_agree_on_one_value<S: Store>(store: S) {
    let store = Arc::new(store);
    let name = unique("setting");
    let mut tasks = Vec::new();
    for writer in 0..20 {
        let (store, name) = (store.clone(), name.clone());
        tasks.push(tokio::spawn(async move {
            store.put_setting_if_absent(&name, &format!("value-{writer}")).await
        }));
    }
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap().unwrap());
    }
    seen.dedup();
    assert_eq!(seen.len(), 1, "every writer saw the same winner: {seen:?}");
}

pub async fn a_duplicate_inside_the_race_window_changes_nothing<S: Store>(store: S) {
    let family = start(&store).await;
    let racing =
        |from, to, now| Rotation { race_millis: Some(3_000), ..rotation(&family, from, to, now, None) };
    assert!(matches!(store.rotate(racing(0, 1, T0 + 60)).await.unwrap(), RotationOutcome::Rotated { .. }));
    // A second request with r0, a moment later: it lost the race, and nothing changes.
    assert_eq!(store.rotate(racing(0, 2, T0 + 62)).await.unwrap(), RotationOutcome::AlreadyRotated);
    assert_eq!(store.rotate(racing(0, 3, T0 + 63)).await.unwrap(), RotationOutcome::AlreadyRotated);
    let record = store.family(&family).await.unwrap().unwrap();
    assert_eq!((record.current, record.revoked_at), (format!("{family}-r1"), None));
    for lost in [2, 3] {
        assert!(store.refresh_token(&format!("{family}-r{lost}")).await.unwrap().is_none(), "nothing stored");
        assert!(store.access_token(&format!("{family}-a{lost}")).await.unwrap().is_none());
    }
    assert!(!store.is_revoked(&format!("{family}-a1")).await.unwrap(), "the winner's access token lives");
    let winner = store.refresh_token(&format!("{family}-r1")).await.unwrap().unwrap();
    assert_eq!((winner.used_at, winner.revoked_at), (None, None));
    // Past the window, the same presentation is reuse.
    let late = store.rotate(racing(0, 4, T0 + 64)).await.unwrap();
    assert!(matches!(late, RotationOutcome::ReuseDetected { .. }), "{late:?}");
    assert!(store.is_revoked(&format!("{family}-a1")).await.unwrap());
}

pub async fn the_race_window_comes_before_the_grace_window<S: Store>(store: S) {
    let family = start(&store).await;
    let both =
        |from, to, now| Rotation { race_millis: Some(3_000), ..rotation(&family, from, to, now, Some(30)) };
    assert!(matches!(store.rotate(both(0, 1, T0 + 60)).await.unwrap(), RotationOutcome::Rotated { .. }));
    assert_eq!(store.rotate(both(0, 2, T0 + 61)).await.unwrap(), RotationOutcome::AlreadyRotated);
    // After the race window, inside the grace window: a fresh pair supersedes r1.
    let again = store.rotate(both(0, 3, T0 + 70)).await.unwrap();
    assert!(matches!(again, RotationOutcome::GraceReissued { .. }), "{again:?}");
    assert_eq!(store.family(&family).await.unwrap().unwrap().current, format!("{family}-r3"));
    assert!(store.refresh_token(&format!("{family}-r2")).await.unwrap().is_none());
}

/// Starts `nodes` nodes at the same instant (a barrier, each on its own task), each
/// running `open`: the nodes that came up, and the errors of those that did not.
pub async fn start_together<S, F, Fut>(nodes: usize, open: F) -> (Vec<S>, Vec<String>)
where
    S: Send + 'static,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<S, String>> + Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(nodes));
    let tasks: Vec<_> = (0..nodes)
        .map(|_| {
            let (start, node) = (start.clone(), open());
            tokio::spawn(async move {
                start.wait().await;
                node.await
            })
        })
        .collect();
    let (mut up, mut failures) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await.expect("node task") {
            Ok(store) => up.push(store),
            Err(error) => failures.push(error),
        }
    }
    (up, failures)
}

/// Rotation of generation `from` to `to` of `family` at `at_millis`, with a race window of
/// one second and no grace window.
pub fn racing_at_millis(family: &str, from: u32, to: u32, at_millis: u64) -> Rotation {
    Rotation {
        now_millis: at_millis,
        race_millis: Some(1_000),
        ..rotation(family, from, to, at_millis / 1_000, None)
    }
}

/// The race window is counted in milliseconds, from the instant of the rotation: with a
/// one-second window, a replay 0.5 s after it is a lost race and 1.5 s after it is reuse,
/// even when both land in the second after the rotation's; and a rotation late in its
/// second is measured from that instant, not from the start of the second.
pub async fn the_race_window_is_measured_in_milliseconds<S: Store>(store: S) {
    let at_second = (T0 + 60) * 1_000;
    let family = start(&store).await;
    let rotated = store.rotate(racing_at_millis(&family, 0, 1, at_second)).await.unwrap();
    assert!(matches!(rotated, RotationOutcome::Rotated { .. }), "{rotated:?}");
    let early = store.rotate(racing_at_millis(&family, 0, 2, at_second + 500)).await.unwrap();
    assert_eq!(early, RotationOutcome::AlreadyRotated, "0.5 s after the rotation: a lost race");
    let late = store.rotate(racing_at_millis(&family, 0, 3, at_second + 1_500)).await.unwrap();
    assert!(matches!(late, RotationOutcome::ReuseDetected { .. }), "1.5 s after the rotation: {late:?}");

    let family = start(&store).await;
    let late_in_its_second = at_second + 900;
    store.rotate(racing_at_millis(&family, 0, 1, late_in_its_second)).await.unwrap();
    let used = store.refresh_token(&format!("{family}-r0")).await.unwrap().unwrap();
    assert_eq!((used.used_at, used.used_at_millis), (Some(T0 + 60), Some(late_in_its_second)));
    let replay = store.rotate(racing_at_millis(&family, 0, 2, late_in_its_second + 900)).await.unwrap();
    assert_eq!(
        replay,
        RotationOutcome::AlreadyRotated,
        "0.9 s after the rotation, 1.8 s after its second began"
    );
    assert_eq!(store.family(&family).await.unwrap().unwrap().revoked_at, None);
}

/// An issuer on `store` and `clock` (with `race` as its race window, if given) where "ann"
/// signs in with the password grant, and the id and secret of its confidential client
/// "Tabs", which may use the password and refresh grants.
async fn tabs<S: Store>(
    store: S,
    clock: ManualClock,
    race: Option<std::time::Duration>,
) -> (Issuer, String, String) {
    let user = unique("user");
    let mut builder = Issuer::builder("https://conformance.test", Arc::new(store))
        .audience("api")
        .clock(clock)
        .scopes(ScopeRegistry::new().scope("read", "Read"))
        .enable_password_grant(StaticUsers::new(1_000).user("ann", "password-for-ann", &user).unwrap());
    if let Some(race) = race {
        builder = builder.refresh_race_window(race);
    }
    let issuer = builder.build().unwrap();
    let registered = issuer
        .register_client(
            ClientRegistration::confidential("Tabs").grants([GrantType::Password, GrantType::RefreshToken]),
        )
        .await
        .unwrap();
    let secret = registered.secret.as_ref().map(|s| s.expose().to_owned()).unwrap();
    (issuer, registered.client.id, secret)
}

/// Through the issuer, on a clock moved by milliseconds: with a one-second race window, a
/// replay of the rotated token 0.5 s later changes nothing, and 1.5 s later it revokes the
/// family, so the winner's refresh token stops working.
pub async fn the_issuers_race_window_ends_to_the_millisecond<S: Store>(store: S) {
    let clock = ManualClock::new(T0);
    let (issuer, client_id, secret) =
        tabs(store, clock.clone(), Some(std::time::Duration::from_secs(1))).await;
    let client = issuer.authenticate_client(&client_id, Some(&secret)).await.unwrap();
    let first =
        issuer.grant(TokenRequest::password(client.clone(), "ann", "password-for-ann")).await.unwrap();
    let first = first.refresh_token.unwrap();
    let winner = issuer
        .grant(TokenRequest::refresh_token(client.clone(), &first))
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let family_id =
        issuer.store().refresh_token(first.split('.').next().unwrap()).await.unwrap().unwrap().family_id;
    let family_revoked = || async { issuer.store().family(&family_id).await.unwrap().unwrap().revoked_at };

    clock.advance_millis(500);
    assert!(
        issuer.grant(TokenRequest::refresh_token(client.clone(), &first)).await.is_err(),
        "the loser is refused"
    );
    assert_eq!(family_revoked().await, None, "0.5 s after the rotation: a lost race, the family lives");

    clock.advance_millis(1_000);
    assert!(issuer.grant(TokenRequest::refresh_token(client.clone(), &first)).await.is_err());
    assert!(family_revoked().await.is_some(), "1.5 s after the rotation: reuse, the family dies");
    assert!(
        issuer.grant(TokenRequest::refresh_token(client.clone(), &winner)).await.is_err(),
        "the winner's token died with it"
    );
}

/// 24 requests refresh one token at once through the issuer's token endpoint, with its
/// default race window: every pair answered with 200 still works afterwards (its access
/// token is not revoked, its refresh token refreshes), and the family lives.
pub async fn concurrent_refreshes_inside_the_race_window_keep_every_pair<S: Store>(store: S) {
    const RACERS: usize = 24;
    let (issuer, client_id, secret) = tabs(store, ManualClock::new(T0), None).await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"))
    );
    let client = issuer.authenticate_client(&client_id, Some(&secret)).await.unwrap();
    let login = issuer
        .grant(TokenRequest::password(client.clone(), "ann", "password-for-ann").scope("read"))
        .await
        .unwrap();
    let refresh = login.refresh_token.unwrap();

    let token_request = |refresh: &str| {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", refresh)
            .finish();
        Request::builder()
            .method("POST")
            .uri("/oauth/token")
            .header("authorization", &basic)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    let routes = tower_passport_issuer::endpoint::OAuthServer::new(issuer.clone()).build();
    let send = move |request: Request<Full<Bytes>>| {
        let routes = routes.clone();
        async move {
            let response = routes.oneshot(request).await.unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null))
        }
    };
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));
    let racers: Vec<_> = (0..RACERS)
        .map(|_| {
            let (start, request, send) = (start.clone(), token_request(&refresh), send.clone());
            tokio::spawn(async move {
                start.wait().await;
                send(request).await
            })
        })
        .collect();
    let mut pairs = Vec::new();
    for racer in racers {
        let (status, body) = racer.await.unwrap();
        match status {
            StatusCode::OK => pairs.push(body),
            StatusCode::BAD_REQUEST => assert_eq!(body["error"], "invalid_grant", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(pairs.len(), 1, "one request wins the rotation");

    let guard = GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).build().unwrap();
    let api = ServiceBuilder::new().layer(guard).service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    });
    for pair in &pairs {
        let access = pair["access_token"].as_str().unwrap();
        let jti = issuer.verifier().verify(access).unwrap().jti().unwrap().to_owned();
        assert!(!issuer.store().is_revoked(&jti).await.unwrap(), "the access token of a 200 is not revoked");
        let call = Request::builder()
            .header("authorization", format!("Bearer {access}"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        assert_eq!(api.clone().oneshot(call).await.unwrap().status(), StatusCode::OK);
        let (status, next) = send(token_request(pair["refresh_token"].as_str().unwrap())).await;
        assert_eq!(status, StatusCode::OK, "the refresh token of a 200 refreshes: {next}");
    }
    let record = issuer.store().refresh_token(refresh.split('.').next().unwrap()).await.unwrap().unwrap();
    assert_eq!(issuer.store().family(&record.family_id).await.unwrap().unwrap().revoked_at, None);
}

pub async fn a_personal_token_of_a_family_dies_with_it<S: Store>(store: S) {
    let personal = |family: &str| AccessTokenRecord {
        personal: true,
        name: Some("cli".into()),
        client_id: "personal-access-client".into(),
        ..access(&unique("pat"), Some(family), T0, 180 * 24 * 3600)
    };
    // Revoking the family takes it.
    let family = start(&store).await;
    let pat = personal(&family);
    store.put_access_token(pat.clone()).await.unwrap();
    assert_eq!(
        store.access_token(&pat.jti).await.unwrap().unwrap().family_id.as_deref(),
        Some(family.as_str())
    );
    let revoked = store.revoke_family(&family, T0 + 10).await.unwrap();
    let mut expected = vec![format!("{family}-a0"), pat.jti.clone()];
    expected.sort();
    let mut got: Vec<String> = jtis(&revoked).into_iter().map(str::to_owned).collect();
    got.sort();
    assert_eq!(got, expected);
    assert!(store.is_revoked(&pat.jti).await.unwrap());
    // So does reuse detection.
    let family = start(&store).await;
    let pat = personal(&family);
    store.put_access_token(pat.clone()).await.unwrap();
    store.rotate(rotation(&family, 0, 1, T0 + 60, None)).await.unwrap();
    let reuse = store.rotate(rotation(&family, 0, 2, T0 + 90, None)).await.unwrap();
    let RotationOutcome::ReuseDetected { revoked, .. } = reuse else {
        panic!("expected reuse, got {reuse:?}")
    };
    assert!(jtis(&revoked).contains(&pat.jti.as_str()), "{revoked:?}");
    assert!(store.is_revoked(&pat.jti).await.unwrap());
    // And once the family is revoked, no token of it can be written any more.
    let late = personal(&family);
    assert!(store.put_access_token(late.clone()).await.unwrap_err().is_conflict());
    assert_eq!(store.access_token(&late.jti).await.unwrap(), None, "nothing was written");
    let orphan = personal(&unique("no-such-family"));
    assert!(store.put_access_token(orphan.clone()).await.unwrap_err().is_conflict());
    assert_eq!(store.access_token(&orphan.jti).await.unwrap(), None);
}

pub async fn a_users_live_tokens_are_listed_by_client<S: Store>(store: S) {
    let (user, other) = (unique("user"), unique("user"));
    let (web, mobile) = (unique("web"), unique("mobile"));
    // A web login, refreshed once (a0 and r0 are spent), a mobile login, and loose tokens.
    let web_family = start_of(&store, &user, &web).await;
    store.rotate(owned_by(rotation(&web_family, 0, 1, T0 + 60, None), &user, &web)).await.unwrap();
    let mobile_family = start_of(&store, &user, &mobile).await;
    let loose = access_of(&unique("loose"), &user, &web, T0 + 100, 3600);
    let expired = access_of(&unique("expired"), &user, &web, T0, 10);
    let revoked = access_of(&unique("revoked"), &user, &web, T0, 3600);
    for record in [&loose, &expired, &revoked] {
        store.put_access_token(record.clone()).await.unwrap();
    }
    store.revoke_access_token(&revoked.jti, T0 + 1).await.unwrap();
    start_of(&store, &other, &web).await;

    let listed = store.user_tokens(&user, T0 + 200).await.unwrap();
    let mut clients = vec![web.clone(), mobile.clone()];
    clients.sort();
    assert_eq!(listed.iter().map(|c| c.client_id.clone()).collect::<Vec<_>>(), clients);
    let of = |client: &str| listed.iter().find(|c| c.client_id == client).unwrap();
    let web_tokens = of(&web);
    let access_ids: Vec<&str> = web_tokens.access_tokens.iter().map(|a| a.jti.as_str()).collect();
    assert_eq!(access_ids, [loose.jti.clone(), format!("{web_family}-a1")], "newest first");
    let refresh_ids: Vec<&str> = web_tokens.refresh_tokens.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(refresh_ids, [format!("{web_family}-r1")], "the used r0 is not live");
    let mobile_tokens = of(&mobile);
    assert_eq!(mobile_tokens.access_tokens[0].jti, format!("{mobile_family}-a0"));
    assert_eq!(mobile_tokens.refresh_tokens[0].id, format!("{mobile_family}-r0"));
    assert!(mobile_tokens
        .access_tokens
        .iter()
        .chain(&web_tokens.access_tokens)
        .all(|a| a.user_id.as_deref() == Some(user.as_str())));

    // Later, only the refresh tokens are live; much later, nothing.
    let later = store.user_tokens(&user, T0 + 7200).await.unwrap();
    assert!(later.iter().all(|c| c.access_tokens.is_empty() && c.refresh_tokens.len() == 1), "{later:?}");
    assert!(store.user_tokens(&user, T0 + 40 * 24 * 3600).await.unwrap().is_empty());
    assert!(store.user_tokens(&unique("nobody"), T0).await.unwrap().is_empty());

    // One client's tokens alone, as the listing has them (what the approval screen asks).
    for client in [&web, &mobile] {
        let alone = store.user_client_tokens(&user, client, T0 + 200).await.unwrap();
        assert_eq!(alone.as_ref(), Some(of(client)), "{client}");
    }
    let at_7200 = store.user_client_tokens(&user, &web, T0 + 7200).await.unwrap();
    assert_eq!(at_7200.as_ref(), later.iter().find(|c| c.client_id == web));
    assert_eq!(store.user_client_tokens(&user, &unique("other-client"), T0 + 200).await.unwrap(), None);
    assert_eq!(store.user_client_tokens(&unique("nobody"), &web, T0).await.unwrap(), None);
    assert_eq!(store.user_client_tokens(&user, &web, T0 + 40 * 24 * 3600).await.unwrap(), None);
}

/// A family of `user` and `client` whose first pair (`<family>-r0`, `<family>-a0`) holds
/// `scopes`, started at `T0`.
async fn start_scoped<S: Store>(store: &S, user: &str, client: &str, scopes: &[&str]) -> String {
    let family = unique("family");
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let first = RefreshTokenRecord {
        user_id: Some(user.to_owned()),
        client_id: client.to_owned(),
        scopes: scopes.clone(),
        ..refresh(&format!("{family}-r0"), &family, &format!("{family}-s0"), &format!("{family}-a0"), T0)
    };
    let record = FamilyRecord {
        id: family.clone(),
        client_id: client.to_owned(),
        user_id: Some(user.to_owned()),
        created_at: T0,
        revoked_at: None,
        current: first.id.clone(),
        previous: None,
    };
    let first_access = AccessTokenRecord {
        family_id: Some(family.clone()),
        scopes,
        ..access_of(&format!("{family}-a0"), user, client, T0, 3600)
    };
    store.start_family(record, first, first_access).await.expect("start family");
    family
}

pub async fn the_scopes_a_user_granted_a_client_are_the_union_of_its_live_tokens<S: Store>(store: S) {
    let (user, other) = (unique("user"), unique("user"));
    let (web, mobile, personal) = (unique("web"), unique("mobile"), unique("personal"));
    let scoped = |jti: &str, user: &str, client: &str, scopes: &[&str], ttl: u64| AccessTokenRecord {
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ..access_of(&unique(jti), user, client, T0 + 100, ttl)
    };
    // Web: a family refreshed once (its first pair, with a scope of its own, is spent), many
    // loose tokens holding the same scopes, one more, and tokens that grant nothing any more.
    let web_family = start_scoped(&store, &user, &web, &["spent"]).await;
    store.rotate(owned_by(rotation(&web_family, 0, 1, T0 + 60, None), &user, &web)).await.unwrap();
    for _ in 0..5 {
        store.put_access_token(scoped("same", &user, &web, &["read"], 3600)).await.unwrap();
    }
    store.put_access_token(scoped("admin", &user, &web, &["admin", "read"], 3600)).await.unwrap();
    store.put_access_token(scoped("expired", &user, &web, &["expired"], 10)).await.unwrap();
    let revoked = scoped("revoked", &user, &web, &["revoked"], 3600);
    store.put_access_token(revoked.clone()).await.unwrap();
    store.revoke_access_token(&revoked.jti, T0 + 101).await.unwrap();
    let pat = AccessTokenRecord { personal: true, ..scoped("pat", &user, &web, &["pat"], 3600) };
    store.put_access_token(pat).await.unwrap();
    // Another user's tokens of web, and this user's of mobile, grant web nothing.
    store.put_access_token(scoped("other", &other, &web, &["other-user"], 3600)).await.unwrap();
    start_scoped(&store, &user, &mobile, &["mobile"]).await;
    // Only a personal access token: live, but no grant.
    let only_pat = AccessTokenRecord { personal: true, ..scoped("pat", &user, &personal, &["pat"], 3600) };
    store.put_access_token(only_pat).await.unwrap();

    let strings = |scopes: &[&str]| Some(scopes.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
    let (store, user_id) = (&store, user.as_str());
    let granted = move |client: &str, at: u64| {
        let client = client.to_owned();
        async move { store.granted_scopes(user_id, &client, at).await.unwrap() }
    };
    assert_eq!(granted(&web, T0 + 200).await, strings(&["admin", "read", "write"]));
    assert_eq!(granted(&mobile, T0 + 200).await, strings(&["mobile"]));
    assert_eq!(granted(&personal, T0 + 200).await, strings(&[]), "live, but a personal token grants nothing");
    // Once the access tokens expired, the live refresh token's scopes alone.
    assert_eq!(granted(&web, T0 + 7200).await, strings(&["read", "write"]));
    assert_eq!(granted(&personal, T0 + 7200).await, None);
    assert_eq!(granted(&web, T0 + 40 * 24 * 3600).await, None);
    assert_eq!(granted(&unique("other-client"), T0 + 200).await, None);
    assert_eq!(store.granted_scopes(&unique("nobody"), &web, T0).await.unwrap(), None);
    // The same answer as the user's tokens of that client give.
    for (client, at) in [(&web, T0 + 200), (&mobile, T0 + 200), (&personal, T0 + 200), (&web, T0 + 7200)] {
        let tokens = store.user_client_tokens(&user, client, at).await.unwrap();
        assert_eq!(tokens.as_ref().map(ClientTokens::granted_scopes), granted(client, at).await, "{client}");
    }
}

pub async fn revoking_a_users_tokens_takes_every_family_and_access_token<S: Store>(store: S) {
    let (user, other) = (unique("user"), unique("user"));
    let (web, mobile) = (unique("web"), unique("mobile"));
    let web_family = start_of(&store, &user, &web).await;
    let mobile_family = start_of(&store, &user, &mobile).await;
    let loose = access_of(&unique("loose"), &user, &web, T0, 3600);
    let pat = AccessTokenRecord { personal: true, ..access_of(&unique("pat"), &user, "personal", T0, 3600) };
    // Expired before the margin: nothing to revoke. Expired inside it: still admitted by a
    // guard's leeway, so revoked.
    let expired = access_of(&unique("expired"), &user, &web, T0 - EXPIRY_MARGIN - 100, 10);
    let in_leeway = access_of(&unique("leeway"), &user, &web, T0 - 100, 150);
    for record in [&loose, &pat, &expired, &in_leeway] {
        store.put_access_token(record.clone()).await.unwrap();
    }
    let theirs = start_of(&store, &other, &web).await;

    // One client: its families and loose tokens, nothing else.
    let now = T0 + 100;
    let revoked = store.revoke_user_tokens(&user, Some(&web), now).await.unwrap();
    assert_eq!(revoked.families, std::slice::from_ref(&web_family));
    let mut expected = vec![format!("{web_family}-a0"), loose.jti.clone(), in_leeway.jti.clone()];
    expected.sort();
    assert_eq!(jtis(&revoked.access_tokens), expected, "sorted by jti; the expired token needs nothing");
    assert!(store.family(&web_family).await.unwrap().unwrap().revoked_at.is_some());
    assert!(store.refresh_token(&format!("{web_family}-r0")).await.unwrap().unwrap().revoked_at.is_some());
    assert!(store.is_revoked(&loose.jti).await.unwrap());
    assert!(store.is_revoked(&in_leeway.jti).await.unwrap(), "inside a guard's leeway");
    assert!(!store.is_revoked(&expired.jti).await.unwrap(), "long expired");
    assert!(!store.is_revoked(&pat.jti).await.unwrap());
    assert!(store.family(&mobile_family).await.unwrap().unwrap().revoked_at.is_none());
    assert!(store.family(&theirs).await.unwrap().unwrap().revoked_at.is_none(), "another user's family");

    // Every client: the rest.
    let revoked = store.revoke_user_tokens(&user, None, now).await.unwrap();
    assert_eq!(revoked.families, std::slice::from_ref(&mobile_family));
    let mut expected = vec![format!("{mobile_family}-a0"), pat.jti.clone()];
    expected.sort();
    assert_eq!(jtis(&revoked.access_tokens), expected);
    assert!(store.is_revoked(&pat.jti).await.unwrap());
    assert!(store.user_tokens(&user, now).await.unwrap().is_empty());
    assert_eq!(
        store.rotate(owned_by(rotation(&mobile_family, 0, 1, now, None), &user, &mobile)).await.unwrap(),
        RotationOutcome::Invalid
    );
    assert!(store.revoke_user_tokens(&user, None, now).await.unwrap().is_empty(), "idempotent");
    assert!(store.family(&theirs).await.unwrap().unwrap().revoked_at.is_none());
    assert!(!store.is_revoked(&format!("{theirs}-a0")).await.unwrap());
}

pub async fn a_users_not_before_only_moves_forward_and_is_theirs_alone<S: Store>(store: S) {
    let (user, other) = (unique("user"), unique("user"));
    assert_eq!(store.user_not_before("users", &user).await.unwrap(), None);
    let at = 1_700_000_000_123;
    store.set_user_not_before("users", &user, at).await.unwrap();
    assert_eq!(store.user_not_before("users", &user).await.unwrap(), Some(at));
    store.set_user_not_before("users", &user, at - 1).await.unwrap();
    assert_eq!(
        store.user_not_before("users", &user).await.unwrap(),
        Some(at),
        "an earlier instant never wins"
    );
    store.set_user_not_before("users", &user, at + 1).await.unwrap();
    assert_eq!(store.user_not_before("users", &user).await.unwrap(), Some(at + 1));
    assert_eq!(store.user_not_before("users", &other).await.unwrap(), None, "another user");
    assert_eq!(store.user_not_before("customers", &user).await.unwrap(), None, "another provider");
    // Separators in names never make two users one.
    store.set_user_not_before("a:b", &format!("c:{user}"), at).await.unwrap();
    assert_eq!(store.user_not_before("a", &format!("b:c:{user}")).await.unwrap(), None);
}

/// One test per case against the store `$make` builds. `$make` may instead build a fixture
/// that holds the store and what must live as long as the case: then
/// `conformance_suite!(name, make().await, |fixture| store_of(fixture))` hands each case the
/// store, and drops the fixture when the case ends.
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, $make:expr) => {
        $crate::conformance_suite!($name, $make, |store| store);
    };
    ($name:ident, $make:expr, |$fixture:ident| $store:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::conformance_suite!(@cases $make, $fixture, $store;
                clients_round_trip,
                an_imported_clients_bcrypt_hash_and_integer_id_are_kept,
                a_clients_approval_screen_setting_is_kept_both_ways,
                clients_are_updated_in_place,
                concurrent_client_updates_all_land,
                clients_are_listed_by_owner,
                every_client_is_listed_oldest_first,
                access_tokens_and_the_revocation_list,
                personal_tokens_are_listed_per_user_newest_first,
                a_family_starts_atomically,
                rotation_consumes_the_token_and_links_the_family,
                a_refresh_tokens_dpop_binding_is_kept,
                rotation_can_keep_the_old_access_token,
                rotation_without_consuming_leaves_the_token_usable,
                a_wrong_secret_an_unknown_or_expired_token_is_invalid_and_changes_nothing,
                reuse_revokes_the_whole_family,
                the_grace_window_covers_only_the_previous_token,
                the_grace_window_ends,
                concurrent_rotations_have_exactly_one_winner,
                revoking_a_family_takes_its_live_access_tokens,
                purge_drops_old_expired_and_revoked_records,
                purge_drops_revoked_families,
                settings_are_first_writer_wins,
                concurrent_settings_agree_on_one_value,
                a_duplicate_inside_the_race_window_changes_nothing,
                the_race_window_comes_before_the_grace_window,
                the_race_window_is_measured_in_milliseconds,
                the_issuers_race_window_ends_to_the_millisecond,
                concurrent_refreshes_inside_the_race_window_keep_every_pair,
                a_personal_token_of_a_family_dies_with_it,
                a_users_live_tokens_are_listed_by_client,
                the_scopes_a_user_granted_a_client_are_the_union_of_its_live_tokens,
                revoking_a_users_tokens_takes_every_family_and_access_token,
                a_users_not_before_only_moves_forward_and_is_theirs_alone,
                resource_indicators_are_kept_with_clients_and_refresh_tokens
            );
        }
    };
    (@cases $make:expr, $fixture:ident, $store:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some($fixture) = $make else { return };
                $crate::conformance::$case($store).await;
            }
        )+
    };
}
