//! RFC 8707 resource indicators through the issuer's grants: the access token's `aud` is
//! narrowed to the requested resources; the authorization request's resources are the
//! code's grant, which its exchange and every refresh may narrow but never widen; a client
//! may be restricted to some resources; anything else is `invalid_target`.

use std::sync::Arc;

use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{
    AuthenticatedClient, ClientRegistration, Issuer, OAuthErrorCode, StaticUsers, TokenRequest,
};

const ORDERS: &str = "https://orders.example.com";
const BILLING: &str = "https://billing.example.com";
const STOCK: &str = "https://stock.example.com";
const REDIRECT: &str = "https://app.example.com/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn issuer() -> Issuer {
    Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
        .audience(ORDERS)
        .audience(BILLING)
        .audience(STOCK)
        .enable_password_grant(StaticUsers::new(1_000).user("ann", "a-password", "7").expect("user"))
        .build()
        .expect("issuer")
}

async fn client(issuer: &Issuer, registration: ClientRegistration) -> AuthenticatedClient {
    let registered = issuer.register_client(registration).await.expect("registered");
    let secret = registered.secret.as_ref().map(|secret| secret.expose().to_owned());
    issuer.authenticate_client(&registered.client.id, secret.as_deref()).await.expect("authenticated")
}

fn audience(issuer: &Issuer, token: &str) -> Vec<String> {
    issuer.verifier().verify(token).expect("a valid token").audience().map(str::to_owned).collect()
}

/// A code approved for user 7 from an authorization request naming `resources`.
async fn code(issuer: &Issuer, client_id: &str, resources: &[&str]) -> String {
    let mut query = format!(
        "response_type=code&client_id={client_id}&redirect_uri={REDIRECT}\
         &code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    for resource in resources {
        query.push_str("&resource=");
        query.push_str(&form_urlencoded::byte_serialize(resource.as_bytes()).collect::<String>());
    }
    let request = issuer.authorization_request(&query).await.expect("a valid request");
    let location = issuer.approve_authorization(&request, "7").await.expect("approved");
    location.split(['=', '&']).nth(1).expect("a code").to_owned()
}

fn web_app() -> ClientRegistration {
    ClientRegistration::confidential("Web app")
        .grants([GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::Password])
        .redirect_uris([REDIRECT])
}

#[tokio::test]
async fn the_token_names_only_the_resources_asked_for_and_every_one_without() {
    let issuer = issuer();
    let worker = client(&issuer, ClientRegistration::confidential("Worker")).await;

    let all = issuer.grant(TokenRequest::client_credentials(worker.clone())).await.expect("tokens");
    assert_eq!(audience(&issuer, &all.access_token), [ORDERS, BILLING, STOCK]);

    let one = TokenRequest::client_credentials(worker.clone()).resource(BILLING);
    let one = issuer.grant(one).await.expect("tokens");
    assert_eq!(audience(&issuer, &one.access_token), [BILLING]);

    let two = TokenRequest::client_credentials(worker).resource(STOCK).resource(ORDERS).resource(STOCK);
    let two = issuer.grant(two).await.expect("tokens");
    assert_eq!(audience(&issuer, &two.access_token), [STOCK, ORDERS], "in order, without duplicates");
}

#[tokio::test]
async fn an_unknown_or_malformed_resource_is_invalid_target() {
    let issuer = issuer();
    let worker = client(&issuer, ClientRegistration::confidential("Worker")).await;
    for resource in [
        "https://elsewhere.example.com",
        "orders",
        "https://orders.example.com#top",
        "https://orders.example.com/",
    ] {
        let request = TokenRequest::client_credentials(worker.clone()).resource(resource);
        let refused = issuer.grant(request).await.expect_err(resource);
        assert_eq!(refused.code(), OAuthErrorCode::InvalidTarget, "{resource}");
        assert_eq!(refused.status(), 400);
    }
}

#[tokio::test]
async fn a_restricted_client_gets_only_its_resources() {
    let issuer = issuer();
    let registration = ClientRegistration::confidential("Orders worker").resources([ORDERS, STOCK]);
    let worker = client(&issuer, registration).await;

    let default = issuer.grant(TokenRequest::client_credentials(worker.clone())).await.expect("tokens");
    assert_eq!(audience(&issuer, &default.access_token), [ORDERS, STOCK], "its resources, not the issuer's");
    let billing = TokenRequest::client_credentials(worker.clone()).resource(BILLING);
    assert_eq!(issuer.grant(billing).await.expect_err("forbidden").code(), OAuthErrorCode::InvalidTarget);
    let mixed = TokenRequest::client_credentials(worker).resource(ORDERS).resource(BILLING);
    assert_eq!(issuer.grant(mixed).await.expect_err("forbidden").code(), OAuthErrorCode::InvalidTarget);

    // A resource the issuer does not serve is registered (another node may), never granted.
    let elsewhere = ClientRegistration::confidential("Lost").resources(["https://elsewhere.example.com"]);
    let lost = client(&issuer, elsewhere).await;
    let refused = issuer.grant(TokenRequest::client_credentials(lost)).await.expect_err("nothing to grant");
    assert_eq!(refused.code(), OAuthErrorCode::InvalidTarget);
    // Only absolute URIs can be registered.
    let malformed = ClientRegistration::confidential("Typo").resources(["orders"]);
    assert!(issuer.register_client(malformed).await.is_err());
}

#[tokio::test]
async fn a_refresh_may_ask_for_part_of_the_grant_never_more() {
    let issuer = issuer();
    let app = client(&issuer, web_app()).await;
    let tokens = TokenRequest::password(app.clone(), "ann", "a-password").resource(ORDERS).resource(BILLING);
    let tokens = issuer.grant(tokens).await.expect("tokens");
    assert_eq!(audience(&issuer, &tokens.access_token), [ORDERS, BILLING]);

    // A part of the grant.
    let refresh = tokens.refresh_token.expect("a refresh token");
    let narrowed = TokenRequest::refresh_token(app.clone(), refresh).resource(BILLING);
    let narrowed = issuer.grant(narrowed).await.expect("refreshed");
    assert_eq!(audience(&issuer, &narrowed.access_token), [BILLING]);

    // The grant is still both: the next refresh may ask for the other part, or for all.
    let refresh = narrowed.refresh_token.expect("a refresh token");
    let other =
        issuer.grant(TokenRequest::refresh_token(app.clone(), refresh).resource(ORDERS)).await.expect("ok");
    assert_eq!(audience(&issuer, &other.access_token), [ORDERS]);
    let refresh = other.refresh_token.expect("a refresh token");
    let whole = issuer.grant(TokenRequest::refresh_token(app.clone(), refresh)).await.expect("refreshed");
    assert_eq!(audience(&issuer, &whole.access_token), [ORDERS, BILLING]);

    // Never wider than the grant, though the issuer knows the resource.
    let refresh = whole.refresh_token.expect("a refresh token");
    let wider = TokenRequest::refresh_token(app, refresh).resource(STOCK);
    assert_eq!(issuer.grant(wider).await.expect_err("wider").code(), OAuthErrorCode::InvalidTarget);
}

#[tokio::test]
async fn the_authorization_requests_resources_bind_the_code_and_its_refresh_tokens() {
    let issuer = issuer();
    let app = client(&issuer, web_app()).await;

    // Asked for orders and stock at the authorize endpoint; the exchange narrows to stock.
    let code_for_two = code(&issuer, &app.id, &[ORDERS, STOCK]).await;
    let exchange =
        TokenRequest::authorization_code(app.clone(), code_for_two, Some(REDIRECT), Some(VERIFIER))
            .resource(STOCK);
    let tokens = issuer.grant(exchange).await.expect("exchanged");
    assert_eq!(audience(&issuer, &tokens.access_token), [STOCK]);
    // Its refresh token covers what the user approved: both.
    let refresh = TokenRequest::refresh_token(app.clone(), tokens.refresh_token.expect("a refresh token"));
    let refreshed = issuer.grant(refresh).await.expect("refreshed");
    assert_eq!(audience(&issuer, &refreshed.access_token), [ORDERS, STOCK]);

    // An exchange may not widen the code's resources.
    let code_for_one = code(&issuer, &app.id, &[ORDERS]).await;
    let wider = TokenRequest::authorization_code(app.clone(), code_for_one, Some(REDIRECT), Some(VERIFIER))
        .resource(BILLING);
    assert_eq!(issuer.grant(wider).await.expect_err("wider").code(), OAuthErrorCode::InvalidTarget);

    // With none named at authorize, the code grants every resource the client may obtain.
    let code_for_all = code(&issuer, &app.id, &[]).await;
    let plain = TokenRequest::authorization_code(app.clone(), code_for_all, Some(REDIRECT), Some(VERIFIER));
    assert_eq!(
        audience(&issuer, &issuer.grant(plain).await.expect("tokens").access_token),
        [ORDERS, BILLING, STOCK]
    );
}

#[tokio::test]
async fn an_unknown_resource_at_the_authorize_endpoint_goes_back_to_the_client_as_invalid_target() {
    let issuer = issuer();
    let app = client(&issuer, web_app().resources([ORDERS])).await;
    for resource in [BILLING, "not-a-uri"] {
        let query = format!(
            "response_type=code&client_id={}&redirect_uri={REDIRECT}&state=s1\
             &code_challenge={CHALLENGE}&code_challenge_method=S256&resource={resource}",
            app.id
        );
        let refused = issuer.authorization_request(&query).await.expect_err(resource);
        assert_eq!(refused.error().code(), OAuthErrorCode::InvalidTarget, "{resource}");
        let back = refused.redirect_to().expect("sent back to the client");
        assert!(back.starts_with(&format!("{REDIRECT}?error=invalid_target")), "{back}");
        assert!(back.contains("state=s1"), "{back}");
    }
    // Its own resource, named twice, is one.
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={REDIRECT}\
         &code_challenge={CHALLENGE}&code_challenge_method=S256&resource={ORDERS}&resource={ORDERS}",
        app.id
    );
    assert_eq!(issuer.authorization_request(&query).await.expect("valid").resources(), [ORDERS]);
}

#[tokio::test]
async fn a_device_poll_may_narrow_to_a_resource_and_a_forbidden_one_spends_nothing() {
    let issuer = issuer();
    let tv = ClientRegistration::public("TV").grants([GrantType::DeviceCode]).resources([ORDERS, BILLING]);
    let tv = client(&issuer, tv).await;
    let started = issuer
        .device_authorization(&tv, None, "https://auth.example.com/oauth/device")
        .await
        .expect("started");
    let request = issuer.device_request(&started.user_code, "7", None).await.expect("a request");
    assert!(issuer.decide_device_request(&request, "7", true).await.expect("decided"));

    // Not the client's: refused before the poll, so the approval is still there.
    let stock = TokenRequest::device_code(tv.clone(), &started.device_code).resource(STOCK);
    assert_eq!(issuer.grant(stock).await.expect_err("forbidden").code(), OAuthErrorCode::InvalidTarget);
    let orders = TokenRequest::device_code(tv, &started.device_code).resource(ORDERS);
    let tokens = issuer.grant(orders).await.expect("tokens");
    assert_eq!(audience(&issuer, &tokens.access_token), [ORDERS]);
}
