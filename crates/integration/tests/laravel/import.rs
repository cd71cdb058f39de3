//! `import_clients` on every engine Laravel supports: Passport's clients copied with their
//! integer ids, bcrypt hashes kept (and verified), plaintext secrets hashed, idempotent.

use std::sync::Arc;

use tower_passport_issuer::store::{ClientSecretHash, ClientStore, GrantType, MemoryStore};
use tower_passport_issuer::Issuer;
use tower_passport_laravel::{import_clients, SkipReason};

use crate::fixtures;
use crate::passport_db::{ClientFlags, Engine, PassportDb};

async fn passport_clients_are_imported(engine: Engine) {
    let Some(db) = PassportDb::create(engine).await else { return };
    let Some(made) = fixtures::make(&[], &["hashed-secret"]).await else { return };
    db.insert_client(10, "Hashed", Some(&made.bcrypt[0]), "https://a.test/cb", ClientFlags::default()).await;
    // Passport ≤ 12 without `Passport::hashClientSecrets()`: the secret in plaintext.
    db.insert_client(
        11,
        "Plain",
        Some("plaintext-secret-of-forty-characters-xx"),
        "https://b.test/cb",
        ClientFlags::default(),
    )
    .await;
    let revoked = ClientFlags { revoked: true, provider: Some("admins"), ..ClientFlags::default() };
    db.insert_client(12, "Revoked", Some(&made.bcrypt[0]), "https://c.test/cb", revoked).await;

    let store = Arc::new(MemoryStore::new());
    let report = import_clients(&db.database(), &db.tables(), &store).await.expect("import");
    assert_eq!(report.copied, ["10", "11", "12"], "{engine:?}");
    let plain = store.client("11").await.expect("store").expect("client");
    assert!(matches!(plain.secret_hash, Some(ClientSecretHash::Sha256(_))), "{engine:?}: hashed on import");
    let hashed = store.client("10").await.expect("store").expect("client");
    assert!(matches!(hashed.secret_hash, Some(ClientSecretHash::Bcrypt(_))), "{engine:?}: bcrypt kept");
    let revoked = store.client("12").await.expect("store").expect("client");
    assert!(revoked.revoked, "{engine:?}");
    assert_eq!(revoked.provider.as_deref(), Some("admins"));

    let issuer = Issuer::builder("https://auth.test", store.clone()).audience("api").build().expect("issuer");
    issuer.authenticate_client("10", Some("hashed-secret")).await.expect("bcrypt secret");
    issuer
        .authenticate_client("11", Some("plaintext-secret-of-forty-characters-xx"))
        .await
        .expect("plain secret");
    assert!(issuer.authenticate_client("10", Some("wrong")).await.is_err());
    assert!(issuer.authenticate_client("12", Some("hashed-secret")).await.is_err(), "revoked");

    let again = import_clients(&db.database(), &db.tables(), &store).await.expect("import again");
    assert!(again.copied.is_empty(), "{engine:?}: idempotent");
    assert!(again.skipped.iter().all(|(_, reason)| *reason == SkipReason::Exists));
    db.drop_tables().await;
}

#[tokio::test]
async fn mariadb_passport_clients_are_imported() {
    passport_clients_are_imported(Engine::MySql).await;
}

#[tokio::test]
async fn postgres_passport_clients_are_imported() {
    passport_clients_are_imported(Engine::Postgres).await;
}

#[tokio::test]
async fn sqlite_passport_clients_are_imported() {
    passport_clients_are_imported(Engine::Sqlite).await;
}

#[tokio::test]
async fn passport_13_clients_keep_their_uuids_owners_redirect_uris_and_grant_types() {
    let Some(db) = PassportDb::create(Engine::Sqlite).await else { return };
    // Passport 13's oauth_clients on SQLite: UUID ids, a morph owner, JSON columns.
    let table = db.table("p13_clients");
    db.execute(&format!(
        "CREATE TABLE {table} (id varchar not null primary key, owner_type varchar, owner_id integer, \
         name varchar not null, secret varchar, provider varchar, redirect_uris text not null, \
         grant_types text not null, revoked tinyint(1) not null, created_at datetime, updated_at datetime)"
    ))
    .await;
    let Some(made) = fixtures::make(&[], &["p13-secret"]).await else { return };
    db.execute(&format!(
        "INSERT INTO {table} (id, owner_type, owner_id, name, secret, provider, redirect_uris, grant_types, revoked) \
         VALUES ('9c1b7f3e-5d2a-4e8b-a1f0-3c6d2e9b8a71', 'App\\Models\\User', 5, 'Thirteen', '{}', NULL, \
         '[\"https://13.test/cb\",\"https://13.test/other\"]', '[\"authorization_code\",\"refresh_token\"]', 0), \
         ('0f0e8d7c-6b5a-4938-a7b6-c5d4e3f2a1b0', NULL, NULL, 'Personal', NULL, 'users', '[]', \
         '[\"personal_access\"]', 0)",
        made.bcrypt[0]
    ))
    .await;
    let tables = db.tables().clients(&table).expect("table");
    let store = Arc::new(MemoryStore::new());
    let report = import_clients(&db.database(), &tables, &store).await.expect("import");
    assert_eq!(report.copied, ["9c1b7f3e-5d2a-4e8b-a1f0-3c6d2e9b8a71"]);
    assert_eq!(
        report.skipped,
        [("0f0e8d7c-6b5a-4938-a7b6-c5d4e3f2a1b0".to_owned(), SkipReason::PersonalAccessClient)]
    );
    let client = store.client("9c1b7f3e-5d2a-4e8b-a1f0-3c6d2e9b8a71").await.expect("store").expect("client");
    assert_eq!(client.owner.as_deref(), Some("5"));
    assert_eq!(client.redirect_uris, ["https://13.test/cb", "https://13.test/other"]);
    assert_eq!(client.grants, [GrantType::AuthorizationCode, GrantType::RefreshToken]);
    let issuer = Issuer::builder("https://auth.test", store.clone()).audience("api").build().expect("issuer");
    issuer
        .authenticate_client("9c1b7f3e-5d2a-4e8b-a1f0-3c6d2e9b8a71", Some("p13-secret"))
        .await
        .expect("secret");
    db.drop_tables().await;
    db.execute(&format!("DROP TABLE {table}")).await;
}
