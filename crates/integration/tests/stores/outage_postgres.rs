//! PostgreSQL goes away under a running guard and issuer, then comes back: the paths
//! that need it answer 503 (never a silent "not revoked", never a panic), acknowledged
//! revocations survive, and everything recovers without a restart. The server is real;
//! a TCP proxy between it and the crate is cut and restored.

use crate::proxy;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use proxy::Proxy;
use sqlx::postgres::PgConnectOptions;
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::{guard::TokenOnly, GuardLayer};
use tower_passport_issuer::store::GrantType;
use tower_passport_issuer::{ClientRegistration, Issuer, OAuthErrorCode, ScopeRegistry, TokenRequest};
use tower_passport_sql::PostgresStore;

async fn status<U: Clone + Send + Sync + 'static>(guard: &GuardLayer<U>, token: &str) -> StatusCode {
    let service = ServiceBuilder::new().layer(guard.clone()).service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    });
    let request = Request::builder()
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    service.oneshot(request).await.expect("infallible").status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_is_503_and_recovers_without_a_restart() {
    let Ok(url) = std::env::var("TEST_POSTGRES_URL") else {
        eprintln!("skipping: TEST_POSTGRES_URL is not set");
        return;
    };
    let options: PgConnectOptions = url.parse().expect("url");
    let target: SocketAddr =
        tokio::net::lookup_host(format!("{}:{}", options.get_host(), options.get_port()))
            .await
            .expect("resolve")
            .next()
            .expect("address");
    let proxy = Proxy::start(target).await;
    let schema = format!("tpout_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&url).await.expect("admin");
    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).execute(&admin).await.expect("drop");
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\"")).execute(&admin).await.expect("schema");
    let through_proxy =
        options.host("127.0.0.1").port(proxy.addr.port()).options([("search_path", schema.as_str())]);
    let store = Arc::new(PostgresStore::connect_with_options(through_proxy, "passport_").expect("store"));
    store.migrate().await.expect("migrate");

    // Negative answers are never cached here, so every request asks the store.
    let issuer = Issuer::builder("https://auth.outage.test", store.clone())
        .audience("api")
        .scopes(ScopeRegistry::new().scope("read", "Read"))
        .revocation_cache_ttl(Duration::ZERO)
        .build()
        .expect("issuer");
    let guard = GuardLayer::builder(issuer.verifier())
        .resolver(issuer.resolver(TokenOnly))
        .resolver_cache(0, Duration::ZERO)
        .revocation(issuer.revocation_list())
        .build()
        .expect("guard");
    let client = issuer
        .register_client(ClientRegistration::confidential("outage").grants([GrantType::ClientCredentials]))
        .await
        .expect("client");
    let secret = client.secret.as_ref().map(|s| s.expose());
    let client = issuer.authenticate_client(&client.client.id, secret).await.expect("authenticated");
    let live = issuer
        .grant(TokenRequest::client_credentials(client.clone()).scope("read"))
        .await
        .expect("token")
        .access_token;
    let revoked = issuer
        .grant(TokenRequest::client_credentials(client.clone()).scope("read"))
        .await
        .expect("token")
        .access_token;
    issuer.revoke(&client, &revoked, None).await.expect("revocation acknowledged");
    assert_eq!(status(&guard, &live).await, StatusCode::OK);

    proxy.cut();
    // The revoking node knows at once, store or no store.
    assert_eq!(status(&guard, &revoked).await, StatusCode::UNAUTHORIZED);
    // Anything that needs the store answers 503 while it is gone: never a silent pass.
    assert_eq!(status(&guard, &live).await, StatusCode::SERVICE_UNAVAILABLE);
    let grant = issuer
        .grant(TokenRequest::client_credentials(client.clone()).scope("read"))
        .await
        .expect_err("no store, no token");
    assert_eq!(grant.code(), OAuthErrorCode::TemporarilyUnavailable);
    assert_eq!(grant.status(), StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut recovered = status(&guard, &live).await;
    while recovered != StatusCode::OK && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        recovered = status(&guard, &live).await;
    }
    assert_eq!(recovered, StatusCode::OK, "recovered without a restart");
    // A fresh node (empty caches) still sees the revocation made before the outage.
    let fresh =
        GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).build().expect("guard");
    issuer.revocation_list().invalidate_everything();
    assert_eq!(
        status(&fresh, &revoked).await,
        StatusCode::UNAUTHORIZED,
        "no acknowledged revocation was lost"
    );
    assert!(issuer.grant(TokenRequest::client_credentials(client.clone()).scope("read")).await.is_ok());

    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).execute(&admin).await;
}
