//! The strangler step: a token revoked in Laravel (`revoked = 1`), a revoked client and a
//! purged row are refused within the staleness bound, on every engine Laravel supports.

use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{service_fn, ServiceBuilder, ServiceExt};
use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
use tower_passport_laravel::{MissingToken, OnDatabaseError, PassportDatabase, PassportRevocations};

use crate::league::{self, Date, LeagueClaims};
use crate::passport_db::{ClientFlags, Engine, PassportDb};

const BOUND: Duration = Duration::from_millis(400);

/// A Passport token with its own `jti` (league's `bin2hex(random_bytes(40))` shape).
pub(crate) fn token(jti: &str, client: u64, user: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs_f64();
    let client = client.to_string();
    league::token_with(&LeagueClaims {
        aud: &client,
        jti,
        iat: Date::Micro(now),
        nbf: Date::Micro(now),
        exp: Date::Micro(now + 3600.0),
        sub: user,
        scopes: &[],
    })
}

pub(crate) fn jti(n: u8) -> String {
    format!("{n:02x}").repeat(40)
}

fn verifier() -> Verifier {
    let key = VerifyingKey::from_pem(league::keys().public_pem.as_bytes(), Algorithm::RS256).expect("key");
    Verifier::builder(KeySet::new().with_key(key)).laravel_passport().build().expect("verifier")
}

/// The status a guarded route answers `token` with.
pub(crate) async fn status(guard: &GuardLayer, token: &str) -> StatusCode {
    let service =
        ServiceBuilder::new().layer(guard.clone()).service(service_fn(|_req: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
        }));
    let request = Request::get("/").header("authorization", format!("Bearer {token}")).body(Full::default());
    service.oneshot(request.expect("request")).await.expect("infallible").status()
}

pub(crate) fn guard(revocations: PassportRevocations) -> GuardLayer {
    GuardLayer::builder(verifier()).revocation(revocations).build().expect("guard")
}

async fn revoked_in_laravel_are_refused_within_the_bound(engine: Engine) {
    let Some(db) = PassportDb::create(engine).await else { return };
    db.insert_client(1, "Web", None, "http://localhost/callback", ClientFlags::default()).await;
    db.insert_client(2, "Mobile", None, "http://localhost/callback", ClientFlags::default()).await;
    for (n, client) in [(1, 1), (2, 1), (3, 1), (4, 2)] {
        db.insert_access_token(&jti(n), Some(7), client).await;
    }
    let revocations = PassportRevocations::builder(db.database())
        .tables(db.tables())
        .staleness(BOUND)
        .build()
        .expect("check");
    let guard = guard(revocations);
    let (kept, revoked, purged, of_revoked_client) =
        (token(&jti(1), 1, "7"), token(&jti(2), 1, "7"), token(&jti(3), 1, "7"), token(&jti(4), 2, "7"));
    for token in [&kept, &revoked, &purged, &of_revoked_client] {
        assert_eq!(status(&guard, token).await, StatusCode::OK, "{engine:?}: a live token passes");
    }
    assert_eq!(
        status(&guard, &token(&jti(9), 1, "7")).await,
        StatusCode::UNAUTHORIZED,
        "{engine:?}: a jti Passport never stored is refused"
    );

    // What Laravel does: `$token->revoke()`, `$client->revoke()` (Passport's
    // `ClientRepository::delete`), and `passport:purge`.
    db.execute(&format!(
        "UPDATE {} SET revoked = TRUE WHERE id = '{}'",
        db.table("oauth_access_tokens"),
        jti(2)
    ))
    .await;
    db.execute(&format!("UPDATE {} SET revoked = TRUE WHERE id = 2", db.table("oauth_clients"))).await;
    db.execute(&format!("DELETE FROM {} WHERE id = '{}'", db.table("oauth_access_tokens"), jti(3))).await;
    tokio::time::sleep(BOUND + Duration::from_millis(100)).await;

    assert_eq!(status(&guard, &revoked).await, StatusCode::UNAUTHORIZED, "{engine:?}: revoked = 1");
    assert_eq!(
        status(&guard, &of_revoked_client).await,
        StatusCode::UNAUTHORIZED,
        "{engine:?}: revoked client"
    );
    assert_eq!(status(&guard, &purged).await, StatusCode::UNAUTHORIZED, "{engine:?}: purged row");
    assert_eq!(status(&guard, &kept).await, StatusCode::OK, "{engine:?}: the others still pass");
    db.drop_tables().await;
}

#[tokio::test]
async fn mariadb_revocations_are_refused_within_the_bound() {
    revoked_in_laravel_are_refused_within_the_bound(Engine::MySql).await;
}

#[tokio::test]
async fn postgres_revocations_are_refused_within_the_bound() {
    revoked_in_laravel_are_refused_within_the_bound(Engine::Postgres).await;
}

#[tokio::test]
async fn sqlite_revocations_are_refused_within_the_bound() {
    revoked_in_laravel_are_refused_within_the_bound(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_hot_token_is_read_once_per_bound_not_once_per_request() {
    let Some(db) = PassportDb::create(Engine::Sqlite).await else { return };
    db.insert_client(1, "Web", None, "http://localhost/callback", ClientFlags::default()).await;
    db.insert_access_token(&jti(1), Some(7), 1).await;
    let revocations = PassportRevocations::builder(db.database())
        .tables(db.tables())
        .staleness(Duration::from_secs(30))
        .build()
        .expect("check");
    let guard = guard(revocations);
    let hot = token(&jti(1), 1, "7");
    assert_eq!(status(&guard, &hot).await, StatusCode::OK);
    // With the table gone, any query fails (503): answers within the bound come from the cache.
    db.drop_tables().await;
    for _ in 0..20 {
        assert_eq!(status(&guard, &hot).await, StatusCode::OK, "answered from the cache");
    }
    assert_eq!(
        status(&guard, &token(&jti(2), 1, "7")).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "an uncached jti asks the database, which now fails"
    );
}

#[tokio::test]
async fn concurrent_requests_for_one_jti_share_one_query() {
    // MariaDB shows its running statements: while a write lock holds the table, the
    // lookups of 16 concurrent requests for one jti must be one statement waiting.
    let Some(db) = PassportDb::create(Engine::MySql).await else { return };
    db.insert_client(1, "Web", None, "http://localhost/callback", ClientFlags::default()).await;
    db.insert_access_token(&jti(1), Some(7), 1).await;
    let revocations = PassportRevocations::builder(db.database())
        .tables(db.tables())
        .query_timeout(Duration::from_secs(20))
        .build()
        .expect("check");
    let guard = guard(revocations);
    let hot = token(&jti(1), 1, "7");

    let mut locker = db.pool.acquire().await.expect("connection");
    sqlx::raw_sql(&format!("LOCK TABLES {} WRITE", db.table("oauth_access_tokens")))
        .execute(&mut *locker)
        .await
        .expect("lock");
    let requests: Vec<_> = (0..16)
        .map(|_| {
            let (guard, hot) = (guard.clone(), hot.clone());
            tokio::spawn(async move { status(&guard, &hot).await })
        })
        .collect();
    let waiting = async {
        let sql = format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT t.revoked%{}%'",
            db.table("oauth_access_tokens")
        );
        let mut seen = 0;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let (count,): (i64,) = sqlx::query_as(&sql).fetch_one(&db.pool).await.expect("processlist");
            seen = seen.max(count);
        }
        seen
    }
    .await;
    sqlx::raw_sql("UNLOCK TABLES").execute(&mut *locker).await.expect("unlock");
    drop(locker);
    for request in requests {
        assert_eq!(request.await.expect("request"), StatusCode::OK);
    }
    assert_eq!(waiting, 1, "one lookup for 16 concurrent requests");
    db.drop_tables().await;
}

#[tokio::test]
async fn a_database_that_is_down_answers_503_unless_told_to_fail_open() {
    // Nothing listens on port 9: the connection is refused.
    let down = || PassportDatabase::connect_lazy("postgres://postgres@127.0.0.1:9/laravel").expect("url");
    let token = token(&jti(1), 1, "7");
    let closed = PassportRevocations::builder(down()).build().expect("check");
    assert_eq!(status(&guard(closed), &token).await, StatusCode::SERVICE_UNAVAILABLE);
    let open = PassportRevocations::builder(down())
        .on_database_error(OnDatabaseError::Accept)
        .build()
        .expect("check");
    assert_eq!(status(&guard(open), &token).await, StatusCode::OK);
}

#[tokio::test]
async fn a_missing_row_can_be_taken_as_valid_for_a_passport_that_does_not_store_tokens() {
    let Some(db) = PassportDb::create(Engine::Sqlite).await else { return };
    let revocations = PassportRevocations::builder(db.database())
        .tables(db.tables())
        .missing_token(MissingToken::Valid)
        .build()
        .expect("check");
    assert_eq!(status(&guard(revocations), &token(&jti(5), 1, "7")).await, StatusCode::OK);
    db.drop_tables().await;
}
