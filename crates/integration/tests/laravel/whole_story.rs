//! The whole migration against MariaDB, as a team off Laravel Passport lives it: a
//! Passport-shaped database (integer client ids, bcrypt secrets, users, access and refresh
//! tokens); the strangler step (the guard refuses a token revoked in Laravel within the
//! bound); the cut-over (`import_clients` copies the clients, read only and idempotent);
//! then the imported confidential client authenticates with its old secret, the issuer
//! publishes Passport's public key beside its own, a Passport
//! refresh token is exchanged once, and a Laravel user signs in with their old password.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::StatusCode;
use tower_passport_issuer::store::{ClientStore, GrantType};
use tower_passport_issuer::{Issuer, ScopeRegistry, TokenRequest};
use tower_passport_laravel::{
    import_clients, AppKey, LaravelUsers, PassportRefreshTokens, PassportRevocations, SkipReason,
};

use crate::fixtures::{self, APP_KEY};
use crate::passport_db::{ClientFlags, Engine, PassportDb};
use crate::revocations::{guard, jti, status, token};

const BOUND: Duration = Duration::from_millis(300);

/// The target store: MariaDB too (`TEST_MYSQL_URL`), the tables under their own prefix,
/// dropped first so that every run starts from an empty store.
async fn target_store(prefix: &str) -> Arc<tower_passport_sql::MySqlStore> {
    use sqlx::Row;
    let url = std::env::var("TEST_MYSQL_URL").expect("TEST_MYSQL_URL (the Passport database needed it too)");
    let pool = sqlx::MySqlPool::connect(&url).await.expect("MariaDB");
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    let tables = sqlx::query(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name LIKE ?",
    )
    .bind(pattern)
    .fetch_all(&pool)
    .await
    .expect("list the store's tables");
    for table in tables {
        let name: String = table.get(0);
        sqlx::query(&format!("DROP TABLE `{name}`")).execute(&pool).await.expect("drop a store table");
    }
    pool.close().await;
    let store = tower_passport_sql::MySqlStore::connect_with_prefix(&url, prefix).await.expect("store");
    store.migrate().await.expect("migrations");
    Arc::new(store)
}

/// Every row of Passport's clients table as text, to show the import wrote nothing there.
async fn snapshot(db: &PassportDb) -> Vec<(String, String, String)> {
    let sql = format!(
        "SELECT CAST(id AS CHAR), name, COALESCE(secret, '') FROM {} ORDER BY id",
        db.table("oauth_clients")
    );
    sqlx::query_as(&sql).fetch_all(&db.pool).await.expect("snapshot")
}

#[tokio::test]
async fn moving_off_passport_on_mariadb_logs_nobody_out() {
    let Some(db) = PassportDb::create(Engine::MySql).await else { return };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let refresh_payload = fixtures::payload("1", &"rf".repeat(40), &jti(21), "2", now + 86_400);
    let Some(made) =
        fixtures::make(&[refresh_payload], &["mobile-app-secret", "web-app-secret", "taylor-password"]).await
    else {
        return;
    };
    let [mobile_hash, web_hash, password_hash] = &made.bcrypt[..] else { panic!("three hashes") };

    // Laravel's database, as Passport left it.
    let mobile = ClientFlags { password: true, ..ClientFlags::default() };
    db.insert_client(1, "Mobile app", Some(mobile_hash), "", mobile).await;
    let web = ClientFlags { user_id: Some(2), ..ClientFlags::default() };
    db.insert_client(2, "Web app", Some(web_hash), "https://web.test/callback,https://web.test/alt", web)
        .await;
    db.insert_client(3, "SPA", None, "https://spa.test/callback", ClientFlags::default()).await;
    let personal = ClientFlags { personal_access: true, ..ClientFlags::default() };
    db.insert_client(4, "Personal Access Client", Some(web_hash), "http://localhost", personal).await;
    // User 2: the same id as client 2, as Laravel's auto-increments have it.
    db.insert_user(2, "taylor@example.com", password_hash).await;
    db.insert_access_token(&jti(20), Some(2), 1).await;
    db.insert_access_token(&jti(21), Some(2), 1).await;
    db.insert_refresh_token(&"rf".repeat(40), &jti(21), 86_400).await;

    // The strangler step: a Rust service behind Passport's tokens honours Laravel's logout.
    let revocations = PassportRevocations::builder(db.database())
        .tables(db.tables())
        .staleness(BOUND)
        .build()
        .expect("check");
    let guard = guard(revocations);
    let access = token(&jti(20), 1, "2");
    assert_eq!(status(&guard, &access).await, StatusCode::OK);
    db.execute(&format!(
        "UPDATE {} SET revoked = 1 WHERE id = '{}'",
        db.table("oauth_access_tokens"),
        jti(20)
    ))
    .await;
    tokio::time::sleep(BOUND + Duration::from_millis(100)).await;
    assert_eq!(
        status(&guard, &access).await,
        StatusCode::UNAUTHORIZED,
        "revoked in Laravel, refused within the bound"
    );

    // The cut-over: the clients are copied, the source untouched, a second run copies nothing.
    let store = target_store("whole_story_").await;
    let before = snapshot(&db).await;
    let report = import_clients(&db.database(), &db.tables(), &store).await.expect("import");
    assert_eq!(report.copied, ["1", "2", "3"]);
    assert_eq!(report.skipped, [("4".to_owned(), SkipReason::PersonalAccessClient)]);
    assert_eq!(snapshot(&db).await, before, "the import only reads");
    let again = import_clients(&db.database(), &db.tables(), &store).await.expect("import again");
    assert!(again.copied.is_empty());
    assert_eq!(again.skipped.iter().filter(|(_, reason)| *reason == SkipReason::Exists).count(), 3);
    let web = store.client("2").await.expect("store").expect("client 2");
    assert_eq!((web.name.as_str(), web.owner.as_deref()), ("Web app", Some("2")));
    assert_eq!(web.redirect_uris, ["https://web.test/callback", "https://web.test/alt"]);
    assert!(
        web.grants.contains(&GrantType::AuthorizationCode)
            && web.grants.contains(&GrantType::ClientCredentials)
    );
    let spa = store.client("3").await.expect("store").expect("client 3");
    assert!(spa.secret_hash.is_none() && spa.require_pkce, "a client without a secret is public");
    let mobile = store.client("1").await.expect("store").expect("client 1");
    assert!(mobile.grants.contains(&GrantType::Password) && mobile.first_party);

    // The new issuer over the store, taking Passport's refresh tokens and Laravel's users.
    let users = LaravelUsers::builder(db.database())
        .table(&db.table("users"))
        .expect("table")
        .dummy_cost(4)
        .build()
        .expect("users");
    let legacy =
        PassportRefreshTokens::with_tables(db.database(), AppKey::parse(APP_KEY).expect("key"), &db.tables());
    let issuer = Issuer::builder("https://auth.test", store.clone())
        .audience("api")
        .scopes(ScopeRegistry::new().scope("read-orders", "Read orders"))
        .enable_password_grant(users)
        .legacy_refresh_tokens(legacy)
        .verification_key(crate::league::keys().public_pem.as_bytes())
        .expect("Passport's public key")
        .build()
        .expect("issuer");

    // Dual keys: a resource server reading the new issuer's JWKS still takes Passport's
    // tokens (no kid: the one RS256 key), beside the issuer's own.
    let jwks = serde_json::to_string(&issuer.jwks()).expect("jwks");
    let keys = tower_passport::KeySet::from_jwks(&jwks).expect("the issuer's JWKS");
    let verifier = tower_passport::Verifier::builder(keys).laravel_passport().build().expect("verifier");
    verifier.verify(&token(&jti(22), 1, "2")).expect("a Passport token verifies with the issuer's JWKS");

    // The imported confidential client authenticates with its old secret.
    let client = issuer.authenticate_client("1", Some("mobile-app-secret")).await.expect("its old secret");
    assert!(issuer.authenticate_client("1", Some("web-app-secret")).await.is_err(), "another's secret");
    issuer.authenticate_client("2", Some("web-app-secret")).await.expect("the web app's old secret");

    // A Passport refresh token is exchanged once for a new pair, refused the second time.
    let passport_refresh = made.refresh_tokens[0].clone();
    let pair = issuer
        .grant(TokenRequest::refresh_token(client.clone(), passport_refresh.clone()))
        .await
        .expect("exchanged");
    assert!(pair.refresh_token.is_some() && !pair.access_token.is_empty());
    assert!(db.revoked("oauth_refresh_tokens", &"rf".repeat(40)).await, "spent in Passport's table");
    let replay = issuer.grant(TokenRequest::refresh_token(client.clone(), passport_refresh)).await;
    assert_eq!(replay.expect_err("a replay").code().as_str(), "invalid_grant");
    // The replay is reuse: the family the exchange started is revoked with it.
    let new_refresh = pair.refresh_token.clone().expect("a new refresh token");
    let after_reuse = issuer.grant(TokenRequest::refresh_token(client.clone(), new_refresh)).await;
    assert_eq!(
        after_reuse.expect_err("the family was revoked").code().as_str(),
        "invalid_grant",
        "a replayed Passport token takes the family it started with it"
    );

    // A Laravel user signs in with their old password (user 2, beside the imported client 2).
    let signed_in = issuer
        .grant(TokenRequest::password(client, "taylor@example.com", "taylor-password"))
        .await
        .expect("signed in with the old password");
    assert!(signed_in.refresh_token.is_some());
    db.drop_tables().await;
}
