//! User providers (Passport's `--provider` and "Multiple Authentication Guards"): two
//! providers whose ids overlap (user 5 and customer 5), clients that name the provider
//! their users come from, grants that resolve users through it, tokens that name it, and
//! guards bound to one provider that refuse the other's tokens.

use std::sync::Arc;

use axum::body::Body;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::{BackendError, GuardLayer, Principal};
use tower_passport_issuer::endpoint::{OAuthRoutes, OAuthServer, SignIn, SignInRequest};
use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{
    AuthenticatedClient, ClientRegistration, Issuer, OAuthError, OAuthErrorCode, StaticUsers, TokenRequest,
};

const ISSUER: &str = "https://auth.test";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CALLBACK: &str = "https://shop.example.com/callback";

/// The sign-in hook: the user provider of the client decides who is signed in. Customer
/// "5" and user "5" are different people with the same id.
fn hook(request: &SignInRequest<'_>) -> impl std::future::Future<Output = Result<SignIn, BackendError>> {
    let provider = request.provider().map(str::to_owned);
    async move {
        Ok(match provider.as_deref() {
            Some("customers") => SignIn::User("5".into()),
            None => SignIn::User("5".into()),
            Some(_) => SignIn::Redirect("/nowhere".into()),
        })
    }
}

fn issuer() -> Issuer {
    Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
        .audience("api")
        .enable_password_grant(StaticUsers::new(1_000).user("ann", "ann-password", "5").expect("user"))
        .user_provider(
            "customers",
            StaticUsers::new(1_000).user("carl", "carl-password", "5").expect("customer"),
        )
        .build()
        .expect("issuer")
}

/// The issuer's HTTP front, with the sign-in hook.
fn routes(issuer: &Issuer) -> OAuthRoutes {
    OAuthServer::new(issuer.clone()).sign_in(hook).build()
}

async fn client(issuer: &Issuer, registration: ClientRegistration) -> AuthenticatedClient {
    let registered = issuer.register_client(registration).await.expect("client");
    let secret = registered.secret.as_ref().map(|s| s.expose());
    issuer.authenticate_client(&registered.client.id, secret).await.expect("authenticated")
}

fn password_client(name: &str) -> ClientRegistration {
    ClientRegistration::confidential(name)
        .first_party(true)
        .grants([GrantType::Password, GrantType::RefreshToken])
}

fn claims(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

/// A guard (bound to `provider`, when given) in front of a route that says who came in.
async fn call(issuer: &Issuer, provider: Option<&str>, token: &str) -> (StatusCode, Value) {
    let mut builder = GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list());
    if let Some(provider) = provider {
        builder = builder.provider(provider);
    }
    let guard = builder.build().expect("guard");
    let service = ServiceBuilder::new().layer(guard).service_fn(|request: Request<Body>| async move {
        let principal = request.extensions().get::<Principal>().expect("principal");
        let body = serde_json::json!({
            "sub": principal.subject(),
            "provider": principal.token().provider_or_default(),
        });
        Ok::<_, std::convert::Infallible>(http::Response::new(Body::from(body.to_string())))
    });
    let request = Request::get("/me")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let response = service.oneshot(request).await.expect("infallible");
    let status = response.status();
    let challenge =
        response.headers().get("www-authenticate").map(|v| v.to_str().unwrap_or_default().to_owned());
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let mut body: Value = serde_json::from_slice(&bytes).expect("json");
    body["challenge"] = challenge.map_or(Value::Null, Value::String);
    (status, body)
}

#[tokio::test]
async fn the_password_grant_resolves_users_through_the_clients_provider() {
    let issuer = issuer();
    let web = client(&issuer, password_client("Web")).await;
    let shop = client(&issuer, password_client("Shop").provider("customers")).await;

    let user = issuer
        .grant(TokenRequest::password(web.clone(), "ann", "ann-password"))
        .await
        .expect("ann is a user");
    let customer = issuer
        .grant(TokenRequest::password(shop.clone(), "carl", "carl-password"))
        .await
        .expect("carl is a customer");
    assert_eq!(claims(&user.access_token)["sub"], "5");
    assert_eq!(claims(&customer.access_token)["sub"], "5", "the ids overlap");
    assert!(claims(&user.access_token).get("provider").is_none(), "the default provider is not named");
    assert_eq!(claims(&customer.access_token)["provider"], "customers");

    // Each client's users come from its own provider only.
    let wrong = issuer
        .grant(TokenRequest::password(shop.clone(), "ann", "ann-password"))
        .await
        .expect_err("ann is no customer");
    assert_eq!(wrong.code(), OAuthErrorCode::InvalidGrant);
    let wrong = issuer
        .grant(TokenRequest::password(web.clone(), "carl", "carl-password"))
        .await
        .expect_err("carl is no user");
    assert_eq!(wrong.code(), OAuthErrorCode::InvalidGrant);

    // A refreshed token keeps naming its provider.
    let refreshed = issuer
        .grant(TokenRequest::refresh_token(
            shop.clone(),
            customer.refresh_token.as_deref().expect("refresh token"),
        ))
        .await
        .expect("refresh");
    assert_eq!(claims(&refreshed.access_token)["provider"], "customers");
    let refreshed = issuer
        .grant(TokenRequest::refresh_token(
            web.clone(),
            user.refresh_token.as_deref().expect("refresh token"),
        ))
        .await
        .expect("refresh");
    assert!(claims(&refreshed.access_token).get("provider").is_none());
}

#[tokio::test]
async fn a_guard_bound_to_one_provider_refuses_the_others_tokens_even_when_sub_collides() {
    let issuer = issuer();
    let web = client(&issuer, password_client("Web")).await;
    let shop = client(&issuer, password_client("Shop").provider("customers")).await;
    let user = issuer
        .grant(TokenRequest::password(web.clone(), "ann", "ann-password"))
        .await
        .expect("user")
        .access_token;
    let customer = issuer
        .grant(TokenRequest::password(shop.clone(), "carl", "carl-password"))
        .await
        .expect("customer")
        .access_token;

    // `auth:api` (users): user 5 in, customer 5 out.
    let (status, body) = call(&issuer, Some("users"), &user).await;
    assert_eq!((status, &body["sub"], &body["provider"]), (StatusCode::OK, &"5".into(), &"users".into()));
    let (status, body) = call(&issuer, Some("users"), &customer).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "customer 5 is never user 5");
    assert!(body["challenge"].as_str().is_some_and(|c| c.contains("invalid_token")), "{body}");

    // `auth:api-customers`: the other way round.
    let (status, body) = call(&issuer, Some("customers"), &customer).await;
    assert_eq!((status, &body["provider"]), (StatusCode::OK, &"customers".into()));
    let (status, _) = call(&issuer, Some("customers"), &user).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "user 5 is never customer 5");

    // An unbound guard lets both in, and says which is which.
    assert_eq!(call(&issuer, None, &user).await.1["provider"], "users");
    assert_eq!(call(&issuer, None, &customer).await.1["provider"], "customers");
}

#[tokio::test]
async fn client_tokens_are_not_bound_to_a_provider() {
    let issuer = issuer();
    let service = client(&issuer, ClientRegistration::confidential("Billing").provider("customers")).await;
    let token = issuer
        .grant(TokenRequest::client_credentials(service.clone()))
        .await
        .expect("client token")
        .access_token;
    assert!(claims(&token).get("provider").is_none(), "no user, no provider");
    assert_eq!(call(&issuer, Some("users"), &token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_client_whose_provider_is_not_configured_gets_no_password_tokens() {
    let issuer = issuer();
    let staff = client(&issuer, password_client("Staff").provider("staff")).await;
    let error = issuer
        .grant(TokenRequest::password(staff.clone(), "ann", "ann-password"))
        .await
        .expect_err("no staff provider");
    assert_eq!(error.code(), OAuthErrorCode::UnauthorizedClient);
    assert!(issuer.register_client(password_client("Blank").provider(" ")).await.is_err());
}

#[tokio::test]
async fn the_authorization_code_grant_asks_the_hook_for_the_clients_provider_and_names_it() {
    let issuer = issuer();
    let shop = ClientRegistration::public("Shop")
        .skips_authorization_even_if_public()
        .grants([GrantType::AuthorizationCode])
        .redirect_uris([CALLBACK])
        .provider("customers");
    let shop = issuer.register_client(shop).await.expect("client").client;
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={}&state=s1&code_challenge={CHALLENGE}&code_challenge_method=S256",
        shop.id,
        form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>(),
    );
    let request = Request::get(format!("/oauth/authorize?{query}")).body(Body::empty()).expect("request");
    let response = routes(&issuer).oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::FOUND, "marked to skip the screen: no screen");
    let location = response.headers()["location"].to_str().expect("location").to_owned();
    let code = url_param(&location, "code").expect("a code");

    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("client_id", &shop.id)
        .append_pair("code", &code)
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("code_verifier", VERIFIER)
        .finish();
    let request = Request::post("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .expect("request");
    let response = routes(&issuer).oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let tokens: Value = serde_json::from_slice(&bytes).expect("json");
    let token = tokens["access_token"].as_str().expect("token");
    assert_eq!(claims(token)["sub"], "5");
    assert_eq!(claims(token)["provider"], "customers");
    assert_eq!(call(&issuer, Some("users"), token).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&issuer, Some("customers"), token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn another_providers_users_cannot_manage_the_default_providers_tokens() {
    let issuer = issuer();
    let shop = client(&issuer, password_client("Shop").provider("customers")).await;
    let customer = issuer
        .grant(TokenRequest::password(shop.clone(), "carl", "carl-password"))
        .await
        .expect("customer")
        .access_token;
    let verified = issuer.verifier().verify(&customer).expect("verified");
    // No personal access token for customer 5: it would read as user 5's.
    let refused = issuer
        .create_personal_access_token_through(verified.jti().expect("jti"), "cli", &[])
        .await
        .expect_err("refused");
    assert_eq!(OAuthError::from(refused).code(), OAuthErrorCode::InvalidGrant);

    // The JSON APIs (known by user id only) serve the default provider's users.
    let guard =
        GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).build().expect("guard");
    for endpoint in ["clients", "personal-access-tokens", "tokens"] {
        let request = Request::get(format!("/oauth/{endpoint}"))
            .header("authorization", format!("Bearer {customer}"))
            .body(Body::empty())
            .expect("request");
        let status = match endpoint {
            "clients" => {
                ServiceBuilder::new()
                    .layer(guard.clone())
                    .service(routes(&issuer).clients())
                    .oneshot(request)
                    .await
            }
            "tokens" => {
                ServiceBuilder::new()
                    .layer(guard.clone())
                    .service(routes(&issuer).authorized_tokens())
                    .oneshot(request)
                    .await
            }
            _ => {
                ServiceBuilder::new()
                    .layer(guard.clone())
                    .service(routes(&issuer).personal_access_tokens())
                    .oneshot(request)
                    .await
            }
        }
        .expect("infallible")
        .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{endpoint}");
    }
}

fn url_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}
