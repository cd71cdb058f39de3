//! Against this workspace's own issuer over loopback: its RFC 8414 metadata names the
//! endpoint, its `/oauth/introspect` answers, and a revoked token is refused within the
//! cache bound, or at once when the revocation event reaches the guard.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::StatusCode;
use tower_passport::clock::ManualClock;
use tower_passport::error::Reason;
use tower_passport::introspection::Introspector;
use tower_passport::GuardLayer;
use tower_passport_issuer::endpoint::OAuthServer;
use tower_passport_issuer::store::MemoryStore;
use tower_passport_issuer::{ClientRegistration, Issuer};

use crate::issuer_support::{client_credentials_token, scopes};
use crate::support::AUDIENCE;
use crate::Guarded;

/// The issuer at `http://127.0.0.1:<port>`, serving every OAuth endpoint there.
async fn serve_issuer() -> (Issuer, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let issuer = Issuer::builder(url.clone(), Arc::new(MemoryStore::new()))
        .audience(AUDIENCE)
        .scopes(scopes())
        .build()
        .expect("issuer");
    let app = axum::Router::new().fallback_service(OAuthServer::new(issuer.clone()).build());
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
    });
    (issuer, url)
}

/// The resource server's own confidential client: `(id, secret)`.
async fn resource_server(issuer: &Issuer) -> (String, String) {
    let registered =
        issuer.register_client(ClientRegistration::confidential("Orders API")).await.expect("client");
    let secret = registered.secret.expect("a confidential client's secret").expose().to_owned();
    (registered.client.id, secret)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

#[tokio::test]
async fn a_token_revoked_at_our_issuer_is_refused_within_the_cache_bound() {
    let (issuer, url) = serve_issuer().await;
    let (id, secret) = resource_server(&issuer).await;
    let (client_id, token) = client_credentials_token(&issuer, Some("read-posts")).await;
    let clock = ManualClock::new(now());
    // Discovered from the issuer's RFC 8414 metadata, as an operator would configure it.
    let introspector = Introspector::discover(url.clone())
        .audience(AUDIENCE)
        .client_secret_basic(id, secret)
        .cache_max_ttl(Duration::from_secs(30))
        .clock(clock.clone())
        .build()
        .expect("introspector");
    let service =
        Guarded::new(GuardLayer::introspecting(introspector).build().expect("guard"), &["read-posts"]);

    let answer = service.ask(&token).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["client_id"], client_id.as_str());
    assert_eq!(answer.json()["issuer"], url.as_str());
    assert_eq!(answer.json()["kind"], "Client");

    let jti = crate::issuer_support::claims(&token)["jti"].as_str().expect("jti").to_owned();
    issuer.revoke_access_token_by_jti(&jti).await.expect("revoked").expect("known");
    // Nothing told this guard: the cached answer stands, for at most the bound...
    clock.advance(29);
    assert_eq!(service.ask(&token).await.status, StatusCode::OK);
    // ...and no longer.
    clock.advance(1);
    service.ask(&token).await.assert_invalid_token(Reason::InactiveToken);
    // An unknown token is inactive too.
    service.ask("not-a-token-of-this-issuer").await.assert_invalid_token(Reason::InactiveToken);
}

#[tokio::test]
async fn a_token_revoked_at_our_issuer_is_refused_at_once_when_the_event_reaches_the_guard() {
    let (issuer, url) = serve_issuer().await;
    let (id, secret) = resource_server(&issuer).await;
    let (_, token) = client_credentials_token(&issuer, Some("read-posts")).await;
    let introspector = Introspector::builder(format!("{url}/oauth/introspect"))
        .issuer(url)
        .audience(AUDIENCE)
        .client_secret_post(id, secret)
        .cache_max_ttl(Duration::from_secs(3600))
        .build()
        .expect("introspector");
    let guard = GuardLayer::introspecting(introspector).build().expect("guard");
    // The node's hub: what the issuer revokes, every cache registered here forgets.
    issuer.hub().register(guard.clone());
    let service = Guarded::new(guard, &[]);

    assert_eq!(service.ask(&token).await.status, StatusCode::OK);
    let jti = crate::issuer_support::claims(&token)["jti"].as_str().expect("jti").to_owned();
    issuer.revoke_access_token_by_jti(&jti).await.expect("revoked").expect("known");
    // Inactive, as the endpoint now says: the event dropped the hour-long cached answer.
    service.ask(&token).await.assert_invalid_token(Reason::InactiveToken);
}
