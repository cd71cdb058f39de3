//! Laravel's users sign in with the passwords they have: `LaravelUsers` over the `users`
//! table, with `$2y$` hashes made by an independent bcrypt (Python's).

use std::sync::Arc;

use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{ClientRegistration, Issuer, TokenRequest, UserProvider};
use tower_passport_laravel::LaravelUsers;

use crate::fixtures;
use crate::passport_db::{Engine, PassportDb};

const CLIENT: &str = "9c1b7f3e-5d2a-4e8b-a1f0-3c6d2e9b8a71";
const SECRET: &str = "a-client-secret-of-at-least-32-characters";

async fn laravel_users_sign_in_with_their_passwords(engine: Engine) {
    let Some(db) = PassportDb::create(engine).await else { return };
    let Some(made) = fixtures::make(&[], &["taylor-password", "abigail-password"]).await else { return };
    assert!(made.bcrypt.iter().all(|hash| hash.starts_with("$2y$04$")), "{:?}", made.bcrypt);
    db.insert_user(7, "taylor@example.com", &made.bcrypt[0]).await;
    db.insert_user(8, "abigail@example.com", &made.bcrypt[1]).await;
    let users = LaravelUsers::builder(db.database())
        .table(&db.table("users"))
        .expect("table")
        .dummy_cost(4)
        .build()
        .expect("users");

    let sign_in = |username: &'static str, password: &'static str| {
        let users = users.clone();
        async move { users.authenticate(username, password).await.expect("answer") }
    };
    assert_eq!(sign_in("taylor@example.com", "taylor-password").await.as_deref(), Some("7"), "{engine:?}");
    assert_eq!(sign_in("abigail@example.com", "abigail-password").await.as_deref(), Some("8"), "{engine:?}");
    assert_eq!(
        sign_in("taylor@example.com", "abigail-password").await,
        None,
        "{engine:?}: another's password"
    );
    assert_eq!(sign_in("nobody@example.com", "taylor-password").await, None, "{engine:?}: unknown user");

    // Through the password grant, as a Laravel client would.
    let issuer = Issuer::builder("https://auth.test", Arc::new(MemoryStore::new()))
        .audience("api")
        .enable_password_grant(users)
        .build()
        .expect("issuer");
    issuer
        .register_client(
            ClientRegistration::confidential("Mobile")
                .id(CLIENT)
                .secret(SECRET)
                .grants([GrantType::Password, GrantType::RefreshToken]),
        )
        .await
        .expect("client");
    let client = issuer.authenticate_client(CLIENT, Some(SECRET)).await.expect("client");
    let tokens = issuer
        .grant(TokenRequest::password(client.clone(), "taylor@example.com", "taylor-password"))
        .await
        .expect("signed in");
    let claims = tokens.access_token.split('.').nth(1).expect("payload");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims).expect("b64"),
    )
    .expect("json");
    assert_eq!(claims["sub"], "7", "{engine:?}");
    assert!(issuer.grant(TokenRequest::password(client, "taylor@example.com", "wrong")).await.is_err());
    db.drop_tables().await;
}

#[tokio::test]
async fn mariadb_laravel_users_sign_in_with_their_passwords() {
    laravel_users_sign_in_with_their_passwords(Engine::MySql).await;
}

#[tokio::test]
async fn postgres_laravel_users_sign_in_with_their_passwords() {
    laravel_users_sign_in_with_their_passwords(Engine::Postgres).await;
}

#[tokio::test]
async fn sqlite_laravel_users_sign_in_with_their_passwords() {
    laravel_users_sign_in_with_their_passwords(Engine::Sqlite).await;
}
