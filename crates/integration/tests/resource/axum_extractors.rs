//! The axum extractors (feature `axum`): `Principal<U>` and `Option<Principal<U>>`.

use crate::issuer_support;
use crate::support;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use support::{client_claims, user_claims, TestKey};
use tower::ServiceExt;
use tower_passport::{Algorithm, BackendError, GuardLayer, Principal, VerifiedToken, Verifier};

fn verifier(key: &TestKey) -> Verifier {
    support::verifier_for(key)
}

#[derive(Clone, Debug)]
struct Account {
    name: String,
}

async fn resolve(token: VerifiedToken) -> Result<Option<Account>, BackendError> {
    Ok(token.subject().map(|sub| Account { name: format!("account {sub}") }))
}

async fn who(principal: Principal<Account>) -> String {
    match principal.user() {
        Some(account) => account.name.clone(),
        None => format!("client {}", principal.client_id().unwrap_or("?")),
    }
}

async fn maybe(principal: Option<Principal<Account>>) -> String {
    principal.map_or_else(|| "anonymous".to_owned(), |p| p.subject().unwrap_or("?").to_owned())
}

async fn get_text(app: Router, token: Option<&str>) -> (StatusCode, Option<String>, String) {
    let mut request = Request::builder().uri("/");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app.oneshot(request.body(Body::empty()).expect("request")).await.expect("infallible");
    let status = response.status();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().expect("ascii").to_owned());
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, challenge, String::from_utf8(body.to_vec()).expect("utf8"))
}

#[tokio::test]
async fn principal_extracts_the_resolved_user_or_client() {
    let key = TestKey::generate(Algorithm::ES256);
    let guard = GuardLayer::builder(verifier(&key)).resolver(resolve).build().expect("guard");
    let app = Router::new().route("/", get(who)).layer(guard);
    let (status, _, body) = get_text(app.clone(), Some(&key.sign(&user_claims("4", "a")))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "account 4"));
    let (status, _, body) = get_text(app, Some(&key.sign(&client_claims("cron", "a")))).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "client cron"));
}

#[tokio::test]
async fn optional_principal_is_none_without_a_token_behind_an_optional_guard() {
    let key = TestKey::generate(Algorithm::ES256);
    let guard = GuardLayer::builder(verifier(&key)).optional().resolver(resolve).build().expect("guard");
    let app = Router::new().route("/", get(maybe)).layer(guard);
    assert_eq!(get_text(app.clone(), None).await.2, "anonymous");
    assert_eq!(get_text(app.clone(), Some(&key.sign(&user_claims("8", "a")))).await.2, "8");
    assert_eq!(get_text(app, Some("bad-token")).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn required_principal_behind_an_optional_guard_without_token_is_a_bare_401() {
    let key = TestKey::generate(Algorithm::ES256);
    let guard = GuardLayer::builder(verifier(&key))
        .optional()
        .realm("accounts")
        .resolver(resolve)
        .build()
        .expect("guard");
    let app = Router::new().route("/", get(who)).layer(guard);
    let (status, challenge, _) = get_text(app, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="accounts""#));
}

#[tokio::test]
async fn extractors_without_a_guard_answer_500_saying_so() {
    for app in [Router::new().route("/", get(who)), Router::new().route("/", get(maybe))] {
        let (status, challenge, body) = get_text(app, None).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(challenge, None);
        assert!(body.contains("forgot to add GuardLayer"), "{body}");
    }
}

#[tokio::test]
async fn asking_for_another_user_type_than_the_resolver_yields_is_500() {
    let key = TestKey::generate(Algorithm::ES256);
    // The guard resolves no user type (`()`), the handler asks for `Account`.
    let app = Router::new().route("/", get(who)).layer(GuardLayer::new(verifier(&key)));
    let (status, _, body) = get_text(app, Some(&key.sign(&user_claims("4", "a")))).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(body.contains("principal type"), "{body}");
}

/// The README's "axum in ten lines", verbatim: the issuer's public key PEM is all it gets.
fn readme_app(public_key_pem: &[u8]) -> Result<Router, tower_passport::ConfigError> {
    use tower_passport::{KeySet, RequireLayer, VerifyingKey};
    let key = VerifyingKey::from_pem_infer_alg(public_key_pem)?;
    let verifier = Verifier::builder(KeySet::new().with_key(key))
        .issuer("https://auth.example.com")
        .audience("orders-api")
        .build()?;
    Ok(Router::new()
        .route(
            "/",
            get(|p: Principal| async move { format!("hi {:?}", p.subject()) })
                .route_layer(RequireLayer::any_scope(["check-status", "place-orders"])),
        )
        .route_layer(GuardLayer::new(verifier)))
}

#[tokio::test]
async fn the_readme_axum_app_given_the_issuers_pem_accepts_the_issuers_tokens() {
    use std::sync::Arc;
    use tower_passport_issuer::store::MemoryStore;
    use tower_passport_issuer::{Issuer, ScopeRegistry, SigningKey};
    for alg in [Algorithm::ES256, Algorithm::RS256, Algorithm::EdDSA] {
        let signing = SigningKey::generate(alg).expect("key");
        let pem = signing.to_public_pem().expect("public PEM");
        let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
            .audience("orders-api")
            .scopes(ScopeRegistry::new().scope("place-orders", "Place orders"))
            .signing_key(signing)
            .build()
            .expect("issuer");
        let (client_id, token) =
            issuer_support::client_credentials_token(&issuer, Some("place-orders")).await;
        let app = readme_app(pem.as_bytes()).expect("app");
        let (status, _, body) = get_text(app, Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{alg}: {body}");
        assert_eq!(body, format!("hi {:?}", Some(client_id.as_str())), "{alg}");
    }
}

#[tokio::test]
async fn a_mistyped_principal_answers_500_naming_the_type_asked_for_and_the_guards() {
    let key = TestKey::generate(Algorithm::ES256);
    // The guard resolves no user type (`()`), the handler asks for `Account`.
    let app = Router::new().route("/", get(who)).layer(GuardLayer::new(verifier(&key)));
    let (status, challenge, body) = get_text(app, Some(&key.sign(&user_claims("4", "a")))).await;
    assert_eq!((status, challenge), (StatusCode::INTERNAL_SERVER_ERROR, None));
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let description = body["error_description"].as_str().expect("a description");
    assert!(
        description.contains("asked for `Principal<resource::axum_extractors::Account>`"),
        "{description}"
    );
    assert!(description.contains("the guard put `Principal<()>`"), "{description}");
}

#[tokio::test]
async fn a_principal_without_a_guard_answers_500_naming_the_type_and_that_no_guard_ran() {
    let app = Router::new().route("/", get(who));
    let (status, challenge, body) = get_text(app, None).await;
    assert_eq!((status, challenge), (StatusCode::INTERNAL_SERVER_ERROR, None));
    assert!(
        body.contains("asked for `Principal<resource::axum_extractors::Account>`, and no guard ran"),
        "{body}"
    );
}
