//! The guard layer, driven with `tower::ServiceBuilder` over non-axum body types: every
//! RFC 6750 response row, modes, resolution, revocation, caching and tracing.

use crate::support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use serde_json::{json, Value};
use support::{client_claims, user_claims, TestKey, AUDIENCE, ISSUER, NOW};
use tower::{service_fn, ServiceBuilder, ServiceExt};
use tower_passport::error::Reason;
use tower_passport::revocation::{Hub, Invalidation};
use tower_passport::{
    body::ResponseBody, clock::ManualClock, error::ErrorBody, guard::ClientStatus, token::PrincipalKind,
    Algorithm, AuthError, BackendError, GuardLayer, KeySet, Principal, RequireLayer, ResolvePrincipal,
    RevocationCheck, VerifiedToken, Verifier,
};

fn verifier(key: &TestKey, clock: &ManualClock) -> Verifier {
    Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(clock.clone())
        .build()
        .expect("verifier")
}

/// The inner service: echoes what the guard left in the extensions, as JSON.
async fn echo<U: Clone + Send + Sync + std::fmt::Debug + 'static>(
    request: Request<Full<Bytes>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let principal = request.extensions().get::<Principal<U>>();
    let body = json!({
        "principal": principal.is_some(),
        "sub": principal.and_then(|p| p.subject()),
        "client_id": principal.and_then(|p| p.client_id()),
        "user": principal.and_then(|p| p.user()).map(|u| format!("{u:?}")),
        "kind": principal.map(|p| format!("{:?}", p.kind())),
    });
    Ok(Response::new(Full::new(Bytes::from(body.to_string()))))
}

fn request(token: Option<&str>) -> Request<Full<Bytes>> {
    let mut builder = Request::builder().uri("/api/thing");
    if let Some(token) = token {
        builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Full::new(Bytes::new())).expect("request")
}

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("json body")
    }
}

async fn answer<B>(response: Response<B>) -> Answer
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let status = response.status();
    let challenge = response.headers().get(WWW_AUTHENTICATE).map(|v| v.to_str().expect("ascii").to_owned());
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Answer { status, challenge, body: String::from_utf8(bytes.to_vec()).expect("utf8") }
}

async fn call<S, B>(service: S, request: Request<Full<Bytes>>) -> Answer
where
    S: tower::Service<Request<Full<Bytes>>, Response = Response<B>, Error = Infallible>,
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Debug,
{
    let response = service.oneshot(request).await.expect("infallible");
    answer(response).await
}

#[tokio::test]
async fn no_token_gets_a_bare_challenge_and_no_error_code() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&key, &clock))).service_fn(echo::<()>);
    let answer = call(service, request(None)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.challenge.as_deref(), Some(r#"Bearer realm="api""#));
    assert_eq!(answer.body, "");
}

#[tokio::test]
async fn a_valid_token_reaches_the_service_with_a_principal() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&key, &clock))).service_fn(echo::<()>);
    let token = key.sign(&user_claims("7", "read-posts"));
    let answer = call(service, request(Some(&token))).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(body["principal"], true);
    assert_eq!(body["sub"], "7");
    assert_eq!(body["client_id"], "app");
    assert_eq!(body["kind"], "User");
}

#[tokio::test]
async fn a_bad_token_is_invalid_token_without_repeating_it() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&key, &clock))).service_fn(echo::<()>);
    let mut token = key.sign(&user_claims("7", "read-posts"));
    token.push_str("AAAA"); // corrupt the signature
    let answer = call(service, request(Some(&token))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let challenge = answer.challenge.clone().expect("challenge");
    assert!(
        challenge.starts_with(r#"Bearer realm="api", error="invalid_token", error_description=""#),
        "{challenge}"
    );
    assert_eq!(answer.json()["error"], "invalid_token");
    assert!(answer.json()["error_description"].as_str().is_some_and(|d| !d.is_empty()));
    let signature = token.rsplit('.').next().expect("signature");
    assert!(!answer.body.contains(signature) && !challenge.contains(signature));
}

#[tokio::test]
async fn an_expired_token_is_invalid_token() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&key, &clock))).service_fn(echo::<()>);
    let token = key.sign(&user_claims("7", "read-posts"));
    clock.advance(3600);
    let answer = call(service, request(Some(&token))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["error_description"], "The access token expired");
}

#[tokio::test]
async fn two_authorization_headers_are_invalid_request() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&key, &clock))).service_fn(echo::<()>);
    let token = key.sign(&user_claims("7", "read-posts"));
    let mut req = request(Some(&token));
    req.headers_mut().append(AUTHORIZATION, "Basic dXNlcjpwYXNz".parse().expect("header"));
    let answer = call(service, req).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.challenge.as_deref().expect("challenge").contains(r#"error="invalid_request""#));
    assert_eq!(answer.json()["error"], "invalid_request");
}

#[tokio::test]
async fn an_oversized_token_is_invalid_request() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let layer = GuardLayer::builder(verifier(&key, &clock)).max_token_len(64).build().expect("layer");
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<()>);
    let token = key.sign(&user_claims("7", "read-posts"));
    let answer = call(service, request(Some(&token))).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error_description"], "The access token is too long");
}

#[tokio::test]
async fn the_default_cap_is_eight_kib() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&key, &clock))).service_fn(echo::<()>);
    let huge = "a".repeat(8 * 1024 + 1);
    assert_eq!(call(service.clone(), request(Some(&huge))).await.status, StatusCode::BAD_REQUEST);
    let at_cap = "a".repeat(8 * 1024);
    // At the cap the token is read (and is then merely not a JWT).
    assert_eq!(call(service, request(Some(&at_cap))).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_missing_scope_is_insufficient_scope_with_the_scope_attribute() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new()
        .layer(GuardLayer::new(verifier(&key, &clock)))
        .layer(RequireLayer::all_scopes(["read-posts", "write-posts"]))
        .service_fn(echo::<()>);
    let token = key.sign(&user_claims("7", "read-posts"));
    let answer = call(service, request(Some(&token))).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="read-posts write-posts""#
        )
    );
    assert_eq!(answer.json()["error"], "insufficient_scope");
}

#[tokio::test]
async fn query_parameter_is_ignored_unless_enabled() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let token = key.sign(&user_claims("7", "read-posts"));
    let req = || {
        Request::builder().uri(format!("/x?access_token={token}")).body(Full::new(Bytes::new())).expect("req")
    };
    let off = ServiceBuilder::new().layer(GuardLayer::new(verifier(&key, &clock))).service_fn(echo::<()>);
    assert_eq!(call(off, req()).await.status, StatusCode::UNAUTHORIZED);
    let on = ServiceBuilder::new()
        .layer(GuardLayer::builder(verifier(&key, &clock)).allow_query_parameter().build().expect("layer"))
        .service_fn(echo::<()>);
    assert_eq!(call(on, req()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn optional_mode_passes_anonymous_requests_but_rejects_bad_tokens() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let layer = GuardLayer::builder(verifier(&key, &clock)).optional().build().expect("layer");
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<()>);
    let anonymous = call(service.clone(), request(None)).await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert_eq!(anonymous.json()["principal"], false);
    let bad = call(service.clone(), request(Some("not-a-jwt"))).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let good = call(service, request(Some(&key.sign(&user_claims("7", "a"))))).await;
    assert_eq!(good.json()["sub"], "7");
}

#[tokio::test]
async fn scope_layer_behind_optional_guard_without_token_is_a_bare_401() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let layer = GuardLayer::builder(verifier(&key, &clock)).optional().realm("shop").build().expect("layer");
    let service = ServiceBuilder::new()
        .layer(layer)
        .layer(RequireLayer::any_scope(["check-status"]))
        .service_fn(echo::<()>);
    let answer = call(service, request(None)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.challenge.as_deref(), Some(r#"Bearer realm="shop""#));
}

#[tokio::test]
async fn scope_layer_without_a_guard_answers_500_saying_so() {
    let service = ServiceBuilder::new().layer(RequireLayer::all_scopes(["admin"])).service_fn(echo::<()>);
    let answer = call(service, request(Some("whatever"))).await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.challenge, None);
    assert!(answer.json()["error_description"].as_str().expect("text").contains("forgot to add GuardLayer"));
    for layer in [RequireLayer::client_only(), RequireLayer::user_only(), RequireLayer::any_scope(["a"])] {
        let service = ServiceBuilder::new().layer(layer).service_fn(echo::<()>);
        assert_eq!(call(service, request(None)).await.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}

#[tokio::test]
async fn all_of_any_of_and_wildcard() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let guarded = |layer: RequireLayer| {
        ServiceBuilder::new()
            .layer(GuardLayer::new(verifier(&key, &clock)))
            .layer(layer)
            .service_fn(echo::<()>)
    };
    let token = |scope: &str| key.sign(&user_claims("7", scope));
    let cases = [
        (
            RequireLayer::all_scopes(["check-status", "place-orders"]),
            "check-status place-orders",
            StatusCode::OK,
        ),
        (RequireLayer::all_scopes(["check-status", "place-orders"]), "check-status", StatusCode::FORBIDDEN),
        (RequireLayer::any_scope(["check-status", "place-orders"]), "place-orders", StatusCode::OK),
        (RequireLayer::any_scope(["check-status", "place-orders"]), "read-posts", StatusCode::FORBIDDEN),
        (RequireLayer::all_scopes(["check-status", "place-orders"]), "*", StatusCode::OK),
        (RequireLayer::any_scope(["check-status"]), "*", StatusCode::OK),
    ];
    for (layer, scope, expected) in cases {
        let answer = call(guarded(layer), request(Some(&token(scope)))).await;
        assert_eq!(answer.status, expected, "granted {scope:?}");
    }
    let answer = call(
        guarded(RequireLayer::any_scope(["check-status", "place-orders"])),
        request(Some(&token("read-posts"))),
    )
    .await;
    assert!(answer.challenge.expect("challenge").ends_with(r#"scope="check-status place-orders""#));
}

#[tokio::test]
async fn inherited_scopes_are_opt_in() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let token = key.sign(&user_claims("7", "orders"));
    for (inherit, expected) in [(false, StatusCode::FORBIDDEN), (true, StatusCode::OK)] {
        let verifier = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .clock(clock.clone())
            .inherited_scopes(inherit)
            .build()
            .expect("verifier");
        let service = ServiceBuilder::new()
            .layer(GuardLayer::new(verifier))
            .layer(RequireLayer::all_scopes(["orders:create"]))
            .service_fn(echo::<()>);
        assert_eq!(call(service, request(Some(&token))).await.status, expected, "inherit={inherit}");
    }
}

#[tokio::test]
async fn client_only_and_user_only_layers() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let user = key.sign(&user_claims("7", "a"));
    let client = key.sign(&client_claims("machine", "a"));
    let stack = |layer: RequireLayer| {
        ServiceBuilder::new()
            .layer(GuardLayer::new(verifier(&key, &clock)))
            .layer(layer)
            .service_fn(echo::<()>)
    };
    assert_eq!(call(stack(RequireLayer::client_only()), request(Some(&client))).await.status, StatusCode::OK);
    let rejected = call(stack(RequireLayer::client_only()), request(Some(&user))).await;
    assert_eq!(rejected.status, StatusCode::FORBIDDEN);
    assert!(rejected.challenge.expect("challenge").contains(r#"error="insufficient_scope""#));
    assert_eq!(call(stack(RequireLayer::user_only()), request(Some(&user))).await.status, StatusCode::OK);
    assert_eq!(
        call(stack(RequireLayer::user_only()), request(Some(&client))).await.status,
        StatusCode::FORBIDDEN
    );
}

/// A resolver that counts its calls and knows users 1 and 2 and one revoked client.
#[derive(Default)]
struct CountingUsers {
    user_calls: AtomicUsize,
    client_calls: AtomicUsize,
    fail: std::sync::atomic::AtomicBool,
}

impl ResolvePrincipal for CountingUsers {
    type User = String;

    async fn resolve_user(&self, token: &VerifiedToken) -> Result<Option<String>, BackendError> {
        self.user_calls.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(BackendError::msg("user table unreachable"));
        }
        Ok(match token.subject() {
            Some("1") => Some("Taylor".into()),
            Some("2") => Some("Abigail".into()),
            _ => None,
        })
    }

    async fn client_status(&self, client_id: &str) -> Result<ClientStatus, BackendError> {
        self.client_calls.fetch_add(1, Ordering::SeqCst);
        Ok(match client_id {
            "revoked-app" => ClientStatus::Revoked,
            "ghost-app" => ClientStatus::Unknown,
            _ => ClientStatus::Active,
        })
    }
}

#[tokio::test]
async fn the_resolver_yields_the_user_and_is_cached() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let users = Arc::new(CountingUsers::default());
    let layer = GuardLayer::builder(verifier(&key, &clock)).resolver(users.clone()).build().expect("layer");
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<String>);
    let token = key.sign(&user_claims("1", "a"));
    for _ in 0..3 {
        let answer = call(service.clone(), request(Some(&token))).await;
        assert_eq!(answer.json()["user"], "\"Taylor\"");
    }
    assert_eq!(users.user_calls.load(Ordering::SeqCst), 1, "answers are cached");
    assert_eq!(users.client_calls.load(Ordering::SeqCst), 1, "client status is cached");
}

#[tokio::test]
async fn an_unknown_user_is_invalid_token() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let layer = GuardLayer::builder(verifier(&key, &clock))
        .resolver(Arc::new(CountingUsers::default()))
        .build()
        .expect("layer");
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<String>);
    let answer = call(service, request(Some(&key.sign(&user_claims("3", "a"))))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["error"], "invalid_token");
    assert_eq!(answer.json()["error_description"], "The access token's user does not exist");
}

#[tokio::test]
async fn a_client_token_yields_a_client_principal_without_asking_for_a_user() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let users = Arc::new(CountingUsers::default());
    let layer = GuardLayer::builder(verifier(&key, &clock)).resolver(users.clone()).build().expect("layer");
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<String>);
    let mut no_sub = client_claims("machine", "a");
    no_sub.as_object_mut().expect("object").remove("sub");
    for claims in [client_claims("machine", "a"), no_sub] {
        let answer = call(service.clone(), request(Some(&key.sign(&claims)))).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.json()["kind"], "Client");
        assert_eq!(answer.json()["user"], Value::Null);
    }
    assert_eq!(users.user_calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_revoked_or_unknown_client_is_invalid_token() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let layer = GuardLayer::builder(verifier(&key, &clock))
        .resolver(Arc::new(CountingUsers::default()))
        .build()
        .expect("layer");
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<String>);
    for client in ["revoked-app", "ghost-app"] {
        let client_token = key.sign(&client_claims(client, "a"));
        let mut user_claims = user_claims("1", "a");
        user_claims["client_id"] = json!(client);
        for token in [client_token, key.sign(&user_claims)] {
            let answer = call(service.clone(), request(Some(&token))).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{client}");
            assert_eq!(answer.json()["error_description"], "The access token's client was revoked");
        }
    }
}

#[tokio::test]
async fn a_resolver_error_is_503_without_a_challenge_and_is_not_cached() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let users = Arc::new(CountingUsers::default());
    users.fail.store(true, Ordering::SeqCst);
    let layer = GuardLayer::builder(verifier(&key, &clock)).resolver(users.clone()).build().expect("layer");
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<String>);
    let token = key.sign(&user_claims("1", "a"));
    let answer = call(service.clone(), request(Some(&token))).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.challenge, None);
    assert!(!answer.body.contains("unreachable"), "backend details stay in the logs");
    users.fail.store(false, Ordering::SeqCst);
    assert_eq!(call(service, request(Some(&token))).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_resolver_can_be_a_closure() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let resolver = |token: VerifiedToken| async move {
        Ok::<_, BackendError>(token.subject().filter(|s| *s == "1").map(|s| format!("user-{s}")))
    };
    let layer = GuardLayer::builder(verifier(&key, &clock)).resolver(resolver).build().expect("layer");
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<String>);
    let known = call(service.clone(), request(Some(&key.sign(&user_claims("1", "a"))))).await;
    assert_eq!(known.json()["user"], "\"user-1\"");
    let unknown = call(service, request(Some(&key.sign(&user_claims("2", "a"))))).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
}

/// A deny list of `jti`s that can be made to fail.
#[derive(Default)]
struct DenyList {
    revoked: Mutex<Vec<String>>,
    down: std::sync::atomic::AtomicBool,
    asked: AtomicUsize,
}

impl RevocationCheck for DenyList {
    async fn is_revoked(&self, token: &VerifiedToken) -> Result<bool, BackendError> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(BackendError::msg("revocation store down"));
        }
        let revoked = self.revoked.lock().map_err(|_| BackendError::msg("poisoned"))?;
        Ok(token.jti().is_some_and(|jti| revoked.iter().any(|r| r == jti)))
    }
}

#[tokio::test]
async fn a_cache_hit_still_asks_the_revocation_check() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let deny = Arc::new(DenyList::default());
    let layer = GuardLayer::builder(verifier(&key, &clock)).revocation(deny.clone()).build().expect("layer");
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<()>);
    let claims = user_claims("7", "a");
    let token = key.sign(&claims);
    assert_eq!(call(service.clone(), request(Some(&token))).await.status, StatusCode::OK);
    deny.revoked.lock().expect("lock").push(claims["jti"].as_str().expect("jti").to_owned());
    let answer = call(service, request(Some(&token))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["error_description"], "The access token was revoked");
    assert_eq!(deny.asked.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_revocation_store_failure_fails_closed_with_503() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let deny = Arc::new(DenyList::default());
    deny.down.store(true, Ordering::SeqCst);
    let layer = GuardLayer::builder(verifier(&key, &clock)).revocation(deny).build().expect("layer");
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<()>);
    let answer = call(service, request(Some(&key.sign(&user_claims("7", "a"))))).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.challenge, None);
    assert_eq!(answer.json()["error"], "temporarily_unavailable");
}

#[tokio::test]
async fn a_cache_hit_after_expiry_is_rejected() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&key, &clock))).service_fn(echo::<()>);
    let token = key.sign(&user_claims("7", "a"));
    assert_eq!(call(service.clone(), request(Some(&token))).await.status, StatusCode::OK);
    clock.advance(600 + 61);
    let answer = call(service, request(Some(&token))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["error_description"], "The access token expired");
}

#[tokio::test]
async fn realm_and_resource_metadata_go_into_every_challenge() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let layer = GuardLayer::builder(verifier(&key, &clock))
        .realm("orders")
        .resource_metadata("https://api.test/.well-known/oauth-protected-resource")
        .build()
        .expect("layer");
    let service =
        ServiceBuilder::new().layer(layer).layer(RequireLayer::all_scopes(["admin"])).service_fn(echo::<()>);
    let bare = call(service.clone(), request(None)).await;
    assert_eq!(
        bare.challenge.as_deref(),
        Some(
            r#"Bearer realm="orders", resource_metadata="https://api.test/.well-known/oauth-protected-resource""#
        )
    );
    let forbidden = call(service, request(Some(&key.sign(&user_claims("7", "a"))))).await;
    let challenge = forbidden.challenge.expect("challenge");
    assert!(
        challenge.starts_with(r#"Bearer realm="orders", resource_metadata="https://api.test/"#),
        "{challenge}"
    );
    assert!(challenge.ends_with(r#"scope="admin""#), "{challenge}");
}

#[test]
fn a_realm_that_cannot_be_a_header_is_a_config_error() {
    let (key, clock) = (TestKey::generate(Algorithm::HS256), ManualClock::new(NOW));
    assert!(GuardLayer::builder(verifier(&key, &clock)).realm("a\"b").build().is_err());
    assert!(GuardLayer::builder(verifier(&key, &clock)).realm("line\nbreak").build().is_err());
    assert!(GuardLayer::builder(verifier(&key, &clock)).max_token_len(0).build().is_err());
}

#[tokio::test]
async fn a_custom_responder_replaces_the_body_but_keeps_the_challenge() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let responder =
        |error: &AuthError| ErrorBody::new("text/plain", format!("denied: {}", error.status().as_u16()));
    let layer = GuardLayer::builder(verifier(&key, &clock)).responder(responder).build().expect("layer");
    let service =
        ServiceBuilder::new().layer(layer).layer(RequireLayer::all_scopes(["admin"])).service_fn(echo::<()>);
    let unauthorized = call(service.clone(), request(Some("junk"))).await;
    assert_eq!(unauthorized.body, "denied: 401");
    assert_eq!(unauthorized.status, StatusCode::UNAUTHORIZED, "a body-only responder keeps the status");
    assert!(unauthorized.challenge.expect("challenge").contains("invalid_token"));
    let forbidden = call(service, request(Some(&key.sign(&user_claims("7", "a"))))).await;
    assert_eq!(forbidden.body, "denied: 403");
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert!(forbidden.challenge.expect("challenge").contains("insufficient_scope"));
}

#[tokio::test]
async fn rejections_are_no_store() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&key, &clock))).service_fn(echo::<()>);
    let response = service.oneshot(request(None)).await.expect("infallible");
    assert_eq!(response.headers()["cache-control"], "no-store");
}

/// A body type of our own: the layers must not care what the inner body is.
struct Chunks(Vec<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        let next = if self.0.is_empty() { None } else { Some(self.0.remove(0)) };
        std::task::Poll::Ready(next.map(|chunk| Ok(http_body::Frame::data(chunk))))
    }
}

#[tokio::test]
async fn layers_work_over_a_non_axum_body_type() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new()
        .layer(GuardLayer::new(verifier(&key, &clock)))
        .layer(RequireLayer::all_scopes(["a"]))
        .service(service_fn(|request: Request<Chunks>| async move {
            let principal = request.extensions().get::<Principal>().cloned();
            let sub = principal.and_then(|p| p.subject().map(str::to_owned)).unwrap_or_default();
            Ok::<_, std::io::Error>(Response::new(Chunks(vec![Bytes::from("hello "), Bytes::from(sub)])))
        }));
    let token = key.sign(&user_claims("9", "a"));
    let request = Request::builder()
        .header(AUTHORIZATION, format!("bearer {token}"))
        .body(Chunks(vec![Bytes::from("in")]))
        .expect("request");
    let response: Response<ResponseBody<ResponseBody<Chunks>>> =
        service.clone().oneshot(request).await.expect("ok");
    assert_eq!(answer(response).await.body, "hello 9");
    let rejected = service.oneshot(Request::new(Chunks(vec![]))).await.expect("ok");
    assert_eq!(rejected.status(), StatusCode::UNAUTHORIZED);
    let _: Empty<Bytes> = Empty::new();
}

#[tokio::test]
async fn the_principal_exposes_its_claims() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let seen: Arc<Mutex<Option<Principal>>> = Arc::default();
    let sink = seen.clone();
    let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&key, &clock))).service_fn(
        move |request: Request<Full<Bytes>>| {
            let sink = sink.clone();
            async move {
                *sink.lock().expect("lock") = request.extensions().get::<Principal>().cloned();
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
            }
        },
    );
    let mut claims = user_claims("7", "read-posts place-orders");
    claims["tenant"] = json!("acme");
    let token = key.sign(&claims);
    service.oneshot(request(Some(&token))).await.expect("ok");
    let principal = seen.lock().expect("lock").clone().expect("principal");
    assert_eq!(principal.subject(), Some("7"));
    assert_eq!(principal.client_id(), Some("app"));
    assert_eq!(principal.issuer(), ISSUER);
    assert_eq!(principal.expires_at(), NOW + 600);
    assert_eq!(principal.jti(), claims["jti"].as_str());
    assert_eq!(principal.kind(), PrincipalKind::User);
    assert!(principal.can("place-orders") && !principal.can("admin"));
    assert!(principal.can_all(["read-posts", "place-orders"]) && !principal.can_all(["read-posts", "admin"]));
    assert!(principal.can_any(["admin", "read-posts"]) && !principal.can_any(["admin"]));
    #[derive(serde::Deserialize)]
    struct Tenant {
        tenant: String,
    }
    assert_eq!(principal.claims::<Tenant>().expect("claims").tenant, "acme");
    let debug = format!("{principal:?}");
    assert!(!debug.contains(&token) && !debug.contains(token.rsplit('.').next().expect("sig")));
}

/// Wraps `inner` in an outer layer that records the reason of every rejection it sees, as
/// a metrics or access-log layer would: from the response extensions, not the body.
fn observed<S, B>(
    seen: &Arc<Mutex<Vec<Option<Reason>>>>,
    inner: S,
) -> impl tower::Service<Request<Full<Bytes>>, Response = Response<B>, Error = Infallible> + Clone
where
    S: tower::Service<Request<Full<Bytes>>, Response = Response<B>, Error = Infallible> + Clone,
{
    let seen = seen.clone();
    ServiceBuilder::new()
        .map_response(move |response: Response<B>| {
            let reason = response.extensions().get::<AuthError>().map(AuthError::reason);
            seen.lock().expect("lock").push(reason);
            response
        })
        .service(inner)
}

#[tokio::test]
async fn an_outer_layer_reads_the_rejection_from_the_response_extensions() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let service = observed(
        &seen,
        ServiceBuilder::new()
            .layer(GuardLayer::new(verifier(&key, &clock)))
            .layer(RequireLayer::all_scopes(["admin"]))
            .service_fn(echo::<()>),
    );
    let mut expired = user_claims("7", "admin");
    expired["exp"] = json!(NOW - 3600);
    let guard_rejection = call(service.clone(), request(Some(&key.sign(&expired)))).await;
    assert_eq!(guard_rejection.status, StatusCode::UNAUTHORIZED);
    let scope_rejection = call(service.clone(), request(Some(&key.sign(&user_claims("7", "read"))))).await;
    assert_eq!(scope_rejection.status, StatusCode::FORBIDDEN);
    let missing = call(service.clone(), request(None)).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    let passed = call(service, request(Some(&key.sign(&user_claims("7", "admin"))))).await;
    assert_eq!(passed.status, StatusCode::OK);
    assert_eq!(
        *seen.lock().expect("lock"),
        [Some(Reason::Expired), Some(Reason::MissingScope), Some(Reason::MissingToken), None]
    );

    // A scope layer without a guard in front leaves its error too.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let unguarded =
        observed(&seen, ServiceBuilder::new().layer(RequireLayer::client_only()).service_fn(echo::<()>));
    assert_eq!(call(unguarded, request(None)).await.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(*seen.lock().expect("lock"), [Some(Reason::MissingGuard)]);
}

#[tokio::test]
async fn the_error_in_the_extensions_is_the_one_rendered() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new()
        .layer(GuardLayer::new(verifier(&key, &clock)))
        .layer(RequireLayer::any_scope(["admin", "write"]))
        .service_fn(echo::<()>);
    let response =
        service.oneshot(request(Some(&key.sign(&user_claims("7", "read"))))).await.expect("infallible");
    let error = response.extensions().get::<AuthError>().expect("the rejection's error").clone();
    assert_eq!(error.status(), response.status());
    assert_eq!(error.required_scope(), Some("admin write"));
    let challenge = response.headers()[WWW_AUTHENTICATE].to_str().expect("ascii");
    assert_eq!(Some(challenge), error.challenge("api", None).as_deref());
}

#[tokio::test]
async fn a_guard_layer_registered_with_a_hub_drops_what_an_invalidation_names() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let users = Arc::new(CountingUsers::default());
    let layer: GuardLayer<String> =
        GuardLayer::builder(verifier(&key, &clock)).resolver(users.clone()).build().expect("layer");
    let caches = Hub::new();
    caches.register(layer.clone());
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<String>);
    let claims = user_claims("1", "a");
    let token = key.sign(&claims);
    assert_eq!(call(service.clone(), request(Some(&token))).await.status, StatusCode::OK);

    // A client invalidation makes the guard ask the resolver about the client again.
    caches.apply(&Invalidation::Client { client_id: "app".into() });
    assert_eq!(call(service.clone(), request(Some(&token))).await.status, StatusCode::OK);
    assert_eq!(users.client_calls.load(Ordering::SeqCst), 2);
    assert_eq!(users.user_calls.load(Ordering::SeqCst), 1, "the user answer stays cached");

    // Before `iat`, only a cache hit passes: after a jti invalidation the token is verified
    // afresh and refused.
    clock.set(NOW - 1000);
    assert_eq!(call(service.clone(), request(Some(&token))).await.status, StatusCode::OK);
    caches.apply(&Invalidation::AccessToken { jti: claims["jti"].as_str().expect("jti").to_owned() });
    let answer = call(service.clone(), request(Some(&token))).await;
    assert_eq!(answer.json()["error_description"], "The access token was issued in the future");

    // Everything: the resolver is asked again for the user as well.
    clock.set(NOW);
    caches.apply(&Invalidation::Everything);
    assert_eq!(call(service, request(Some(&token))).await.status, StatusCode::OK);
    assert_eq!(users.user_calls.load(Ordering::SeqCst), 2);
}

#[test]
fn guard_types_are_debug_without_key_material() {
    let secret = [0x5a_u8; 32];
    let key = tower_passport::VerifyingKey::from_hmac_secret(Algorithm::HS256, &secret).expect("key");
    let verifier_builder = Verifier::builder(KeySet::new().with_key(key)).issuer(ISSUER).audience(AUDIENCE);
    let verifier_builder_debug = format!("{verifier_builder:?}");
    assert!(verifier_builder_debug.starts_with("VerifierBuilder"), "{verifier_builder_debug}");
    let verifier = verifier_builder.build().expect("verifier");
    let builder =
        GuardLayer::builder(verifier.clone()).realm("orders").resolver(Arc::new(CountingUsers::default()));
    let builder_debug = format!("{builder:?}");
    let layer = builder.build().expect("layer");
    let layer_debug = format!("{layer:?}");
    let guard = tower::Layer::layer(&layer, "inner service");
    let guard_debug = format!("{guard:?}");
    assert!(builder_debug.starts_with("GuardBuilder") && builder_debug.contains("orders"), "{builder_debug}");
    assert!(layer_debug.starts_with("GuardLayer") && layer_debug.contains("orders"), "{layer_debug}");
    assert!(guard_debug.starts_with("Guard") && guard_debug.contains("inner service"), "{guard_debug}");
    for debug in [verifier_builder_debug, builder_debug, layer_debug, guard_debug] {
        assert!(!debug.contains("5a") && !debug.contains("90, 90"), "no secret in {debug}");
    }
}

/// A revocation store in a few lines: the one role the revocation list needs.
#[derive(Default)]
struct RevokedJtis(Mutex<Vec<String>>, AtomicUsize);

impl tower_passport::revocation::RevocationStore for RevokedJtis {
    async fn is_revoked(&self, jti: &str) -> Result<bool, tower_passport::BackendError> {
        self.1.fetch_add(1, Ordering::SeqCst);
        Ok(self.0.lock().expect("lock").iter().any(|revoked| revoked == jti))
    }
}

#[tokio::test]
async fn the_revocation_list_caches_a_revocation_store_and_is_invalidated_through_its_hub() {
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let store = Arc::new(RevokedJtis::default());
    let caches = Hub::new();
    let list = tower_passport::revocation::RevocationList::with_options(
        &caches,
        store.clone(),
        Arc::new(clock.clone()),
        100,
        std::time::Duration::from_secs(300),
    );
    let layer = GuardLayer::builder(verifier(&key, &clock)).revocation(list).build().expect("layer");
    assert_eq!(caches.len(), 2, "the list, and the guard built with it");
    let service = ServiceBuilder::new().layer(layer).service_fn(echo::<()>);
    let claims = user_claims("7", "a");
    let token = key.sign(&claims);
    let jti = claims["jti"].as_str().expect("jti").to_owned();
    assert_eq!(call(service.clone(), request(Some(&token))).await.status, StatusCode::OK);
    store.0.lock().expect("lock").push(jti.clone());
    // "Not revoked" is cached for 300 s: the store is not asked again...
    assert_eq!(call(service.clone(), request(Some(&token))).await.status, StatusCode::OK);
    assert_eq!(store.1.load(Ordering::SeqCst), 1);
    // ...until an invalidation names the token.
    caches.apply(&Invalidation::AccessToken { jti });
    let answer = call(service, request(Some(&token))).await;
    assert_eq!(answer.json()["error_description"], "The access token was revoked");
    assert_eq!(store.1.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_token_bound_to_a_key_is_invalid_token_when_sent_as_bearer() {
    // A DPoP-bound token from a certified provider, sent as `Bearer` with no proof.
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&key, &clock))).service_fn(echo::<()>);
    for cnf in
        [json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}), json!({"x5t#S256": "bwcK0esc3A"})]
    {
        let mut claims = user_claims("1", "a");
        claims["cnf"] = cnf;
        let answer = call(service.clone(), request(Some(&key.sign(&claims)))).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.json()["error_description"], Reason::KeyBoundToken.description());
        assert!(answer.challenge.expect("challenge").contains(r#"error="invalid_token""#));
    }
}

#[tokio::test]
async fn a_user_whose_id_equals_a_client_id_never_passes_as_that_client() {
    // RFC 9700 §4.15: user "machine" signed in through the client "machine". The token
    // states it is a user's, as this crate's issuer mints every user token.
    let (key, clock) = (TestKey::generate(Algorithm::ES256), ManualClock::new(NOW));
    let users = Arc::new(CountingUsers::default());
    let layer = GuardLayer::builder(verifier(&key, &clock)).resolver(users.clone()).build().expect("layer");
    let mut user = client_claims("machine", "a");
    user["idtyp"] = json!("user");
    let user = key.sign(&user);
    let mut client = client_claims("machine", "a");
    client["idtyp"] = json!("app");
    let client = key.sign(&client);

    let client_only = ServiceBuilder::new()
        .layer(layer.clone())
        .layer(RequireLayer::client_only())
        .service_fn(echo::<String>);
    // No user "machine" exists: the user token is refused instead of reaching the route.
    let answer = call(client_only.clone(), request(Some(&user))).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json()["error_description"], Reason::UnknownUser.description());
    assert_eq!(users.user_calls.load(Ordering::SeqCst), 1, "user resolution is not skipped");
    let answer = call(client_only, request(Some(&client))).await;
    assert_eq!((answer.status, answer.json()["kind"].clone()), (StatusCode::OK, json!("Client")));
    assert_eq!(users.user_calls.load(Ordering::SeqCst), 1, "a client token asks for no user");
}
