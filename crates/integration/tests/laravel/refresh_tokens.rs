//! Passport's refresh tokens carried over: the issuer's refresh grant redeems one once,
//! starting a new family here, marks it revoked in Passport's table, and refuses a replay.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{ClientRegistration, Issuer, ScopeRegistry, TokenRequest};
use tower_passport_laravel::{AppKey, PassportRefreshTokens};

use crate::fixtures::{self, APP_KEY};
use crate::passport_db::{ClientFlags, Engine, PassportDb};

/// A Passport 12 client with `Passport::$clientUuids` (our own registry takes no
/// all-digit ids but for imported clients).
const CLIENT: &str = "9c1b7f3e-5d2a-4e8b-a1f0-3c6d2e9b8a71";
const OTHER: &str = "0f0e8d7c-6b5a-4938-a7b6-c5d4e3f2a1b0";
const SECRET: &str = "a-client-secret-of-at-least-32-characters";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

async fn a_passport_refresh_token_is_exchanged_once(engine: Engine) {
    let Some(db) = PassportDb::create(engine).await else { return };
    let later = now() + 3600;
    let payloads = [
        fixtures::payload(CLIENT, &"r1".repeat(40), &"a1".repeat(40), "7", later),
        fixtures::payload(CLIENT, &"r2".repeat(40), &"a2".repeat(40), "7", later),
        fixtures::payload(CLIENT, &"r3".repeat(40), &"a3".repeat(40), "7", now() - 10),
        fixtures::payload(CLIENT, &"r4".repeat(40), &"a4".repeat(40), "7", later),
    ];
    let Some(made) = fixtures::make(&payloads, &[]).await else { return };
    db.insert_client(1, "Web", None, "http://localhost/callback", ClientFlags::default()).await;
    for n in 1..=4 {
        let (refresh, access) = (format!("r{n}").repeat(40), format!("a{n}").repeat(40));
        db.insert_access_token(&access, Some(7), 1).await;
        db.insert_refresh_token(&refresh, &access, 3600).await;
    }
    // Revoked in Laravel before the cut-over (the user signed out).
    db.execute(&format!(
        "UPDATE {} SET revoked = TRUE WHERE id = '{}'",
        db.table("oauth_refresh_tokens"),
        "r4".repeat(40)
    ))
    .await;

    let legacy =
        PassportRefreshTokens::with_tables(db.database(), AppKey::parse(APP_KEY).expect("key"), &db.tables());
    let issuer = Issuer::builder("https://auth.test", Arc::new(MemoryStore::new()))
        .audience("api")
        .scopes(ScopeRegistry::new().scope("read-orders", "Read orders"))
        .legacy_refresh_tokens(legacy)
        .build()
        .expect("issuer");
    let grants = [GrantType::RefreshToken, GrantType::Password];
    for id in [CLIENT, OTHER] {
        issuer
            .register_client(ClientRegistration::confidential("Web").id(id).secret(SECRET).grants(grants))
            .await
            .expect("client");
    }
    let client = issuer.authenticate_client(CLIENT, Some(SECRET)).await.expect("client");
    let other = issuer.authenticate_client(OTHER, Some(SECRET)).await.expect("other");
    let [first, second, expired, revoked] = &made.refresh_tokens[..] else { panic!("four tokens") };

    let refresh = |client, token: &str| issuer.grant(TokenRequest::refresh_token(client, token.to_owned()));
    assert!(refresh(other.clone(), first).await.is_err(), "{engine:?}: another client's");
    assert!(!db.revoked("oauth_refresh_tokens", &"r1".repeat(40)).await, "a refused attempt spends nothing");

    let pair = refresh(client.clone(), first).await.expect("the Passport token is exchanged");
    assert_eq!(pair.scope, "read-orders");
    let new_refresh = pair.refresh_token.clone().expect("a new refresh token");
    assert!(
        db.revoked("oauth_refresh_tokens", &"r1".repeat(40)).await,
        "{engine:?}: spent in Passport's table"
    );
    assert!(
        db.revoked("oauth_access_tokens", &"a1".repeat(40)).await,
        "{engine:?}: its access token revoked"
    );
    // The new pair lives here: its refresh token rotates as the issuer's own.
    let rotated = refresh(client.clone(), &new_refresh).await.expect("the new family refreshes");
    let replay = refresh(client.clone(), first).await.expect_err("a replay");
    assert_eq!(replay.code().as_str(), "invalid_grant", "{engine:?}");
    // A replay of the Passport token is reuse: the family it started goes with it.
    let latest = rotated.refresh_token.clone().expect("a rotated refresh token");
    let after_reuse = refresh(client.clone(), &latest).await.expect_err("revoked with its family");
    assert_eq!(after_reuse.code().as_str(), "invalid_grant", "{engine:?}: the family was revoked");

    assert!(refresh(client.clone(), expired).await.is_err(), "{engine:?}: past its expire_time");
    assert!(refresh(client.clone(), revoked).await.is_err(), "{engine:?}: revoked in Laravel");
    let mut tampered = second.clone().into_bytes();
    let at = tampered.len() - 80;
    tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).expect("hex");
    assert!(refresh(client.clone(), &tampered).await.is_err(), "{engine:?}: a flipped bit");
    assert!(
        !db.revoked("oauth_refresh_tokens", &"r2".repeat(40)).await,
        "{engine:?}: a tampered copy spends nothing"
    );
    let other_key = PassportRefreshTokens::new(db.database(), AppKey::parse(&"k".repeat(32)).expect("key"));
    let with_other_key = Issuer::builder("https://auth.test", Arc::new(MemoryStore::new()))
        .audience("api")
        .legacy_refresh_tokens(other_key)
        .build()
        .expect("issuer");
    with_other_key
        .register_client(ClientRegistration::confidential("Web").id(CLIENT).secret(SECRET).grants(grants))
        .await
        .expect("client");
    let there = with_other_key.authenticate_client(CLIENT, Some(SECRET)).await.expect("client");
    assert!(
        with_other_key.grant(TokenRequest::refresh_token(there, second.clone())).await.is_err(),
        "another APP_KEY"
    );
    refresh(client, second).await.expect("the untampered token still works");
    db.drop_tables().await;
}

#[tokio::test]
async fn mariadb_passport_refresh_tokens_are_exchanged_once() {
    a_passport_refresh_token_is_exchanged_once(Engine::MySql).await;
}

#[tokio::test]
async fn postgres_passport_refresh_tokens_are_exchanged_once() {
    a_passport_refresh_token_is_exchanged_once(Engine::Postgres).await;
}

#[tokio::test]
async fn sqlite_passport_refresh_tokens_are_exchanged_once() {
    a_passport_refresh_token_is_exchanged_once(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_concurrent_redemptions_of_one_passport_token_exactly_one_wins() {
    let Some(db) = PassportDb::create(Engine::MySql).await else { return };
    let payload = fixtures::payload(CLIENT, &"rc".repeat(40), &"ac".repeat(40), "7", now() + 3600);
    let Some(made) = fixtures::make(&[payload], &[]).await else { return };
    db.insert_access_token(&"ac".repeat(40), Some(7), 1).await;
    db.insert_refresh_token(&"rc".repeat(40), &"ac".repeat(40), 3600).await;
    let legacy =
        PassportRefreshTokens::with_tables(db.database(), AppKey::parse(APP_KEY).expect("key"), &db.tables());
    let issuer = Issuer::builder("https://auth.test", Arc::new(MemoryStore::new()))
        .audience("api")
        .scopes(ScopeRegistry::new().scope("read-orders", "Read orders"))
        .legacy_refresh_tokens(legacy)
        .build()
        .expect("issuer");
    issuer
        .register_client(
            ClientRegistration::confidential("Web")
                .id(CLIENT)
                .secret(SECRET)
                .grants([GrantType::RefreshToken]),
        )
        .await
        .expect("client");
    let client = issuer.authenticate_client(CLIENT, Some(SECRET)).await.expect("client");
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let (issuer, client, token) = (issuer.clone(), client.clone(), made.refresh_tokens[0].clone());
            tokio::spawn(
                async move { issuer.grant(TokenRequest::refresh_token(client, token)).await.is_ok() },
            )
        })
        .collect();
    let mut won = 0;
    for attempt in attempts {
        won += usize::from(attempt.await.expect("attempt"));
    }
    assert_eq!(won, 1, "one new family, whatever the race");
    db.drop_tables().await;
}
