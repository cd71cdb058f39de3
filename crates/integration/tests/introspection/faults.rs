//! The guard and an `Introspector` against a programmable loopback endpoint: what each
//! answer means, the client's authentication, caching, single flight, the in-flight
//! bound, mixed mode, invalidation and discovery.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::StatusCode;
use serde_json::{json, Value};
use tower_passport::clock::ManualClock;
use tower_passport::error::Reason;
use tower_passport::introspection::{Introspector, IntrospectorBuilder};
use tower_passport::revocation::{Hub, Invalidation};
use tower_passport::{Algorithm, GuardLayer};

use crate::endpoint::{Endpoint, Reply};
use crate::support::{user_claims, verifier_for, TestKey, AUDIENCE, ISSUER, NOW};
use crate::Guarded;

const TOKEN: &str = "2YotnFZFEjr1zCsicMWpAA";

/// An active answer about user 42 of client `shop`, valid for an hour.
fn active() -> Value {
    json!({"active": true, "token_type": "Bearer", "iss": ISSUER, "aud": AUDIENCE, "sub": "42",
        "client_id": "shop", "scope": "read-orders write-orders", "exp": NOW + 3600, "iat": NOW,
        "jti": "opaque-1"})
}

fn with(mut answer: Value, member: &str, value: Value) -> Value {
    answer[member] = value;
    answer
}

fn without(mut answer: Value, member: &str) -> Value {
    answer.as_object_mut().expect("object").remove(member);
    answer
}

fn builder(endpoint: &Endpoint, clock: &ManualClock) -> IntrospectorBuilder {
    Introspector::builder(endpoint.url())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .client_secret_basic("orders api", "s3cret:with/odd&chars")
        .clock(clock.clone())
        .leeway(Duration::ZERO)
        .timeout(Duration::from_millis(500))
}

fn guarded(introspector: Introspector, scopes: &[&str]) -> Guarded {
    Guarded::new(GuardLayer::introspecting(introspector).build().expect("guard"), scopes)
}

#[tokio::test]
async fn an_active_answer_lets_the_request_through_with_the_principal_built_as_for_a_jwt() {
    let endpoint = Endpoint::start().await;
    endpoint.reply(TOKEN, Reply::Json(active()));
    let service =
        guarded(builder(&endpoint, &ManualClock::new(NOW)).build().expect("introspector"), &["read-orders"]);

    let answer = service.ask(TOKEN).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"sub": "42", "client_id": "shop", "issuer": ISSUER, "kind": "User",
            "scopes": ["read-orders", "write-orders"]})
    );
    // The scope layers work unchanged.
    let admin =
        guarded(builder(&endpoint, &ManualClock::new(NOW)).build().expect("introspector"), &["admin"]);
    let refused = admin.ask(TOKEN).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert_eq!(refused.reason, Some(Reason::MissingScope));
    assert_eq!(admin.reached(), 0);
}

#[tokio::test]
async fn client_secret_basic_sends_form_encoded_credentials_in_the_header() {
    let endpoint = Endpoint::start().await;
    endpoint.reply(TOKEN, Reply::Json(active()));
    let service = guarded(builder(&endpoint, &ManualClock::new(NOW)).build().expect("introspector"), &[]);
    assert_eq!(service.ask(TOKEN).await.status, StatusCode::OK);

    let calls = endpoint.calls();
    let call = calls.first().expect("one call");
    // RFC 6749 §2.3.1: id and secret form-encoded, then joined and base64-encoded.
    let expected = format!("Basic {}", STANDARD.encode("orders+api:s3cret%3Awith%2Fodd%26chars"));
    assert_eq!(call.authorization.as_deref(), Some(expected.as_str()));
    assert_eq!(call.content_type.as_deref(), Some("application/x-www-form-urlencoded"));
    assert_eq!(call.field("token"), Some(TOKEN));
    assert_eq!(call.field("token_type_hint"), Some("access_token"));
    assert_eq!(call.field("client_secret"), None);
}

#[tokio::test]
async fn client_secret_post_sends_the_credentials_in_the_form() {
    let endpoint = Endpoint::start().await;
    endpoint.reply(TOKEN, Reply::Json(active()));
    let introspector = builder(&endpoint, &ManualClock::new(NOW))
        .client_secret_post("orders-api", "the-secret")
        .build()
        .expect("introspector");
    let service = guarded(introspector, &[]);
    assert_eq!(service.ask(TOKEN).await.status, StatusCode::OK);

    let calls = endpoint.calls();
    let call = calls.first().expect("one call");
    assert_eq!(call.authorization, None);
    assert_eq!(call.field("client_id"), Some("orders-api"));
    assert_eq!(call.field("client_secret"), Some("the-secret"));
    assert_eq!(call.field("token"), Some(TOKEN));
}

#[tokio::test]
async fn an_inactive_answer_is_401_invalid_token_and_is_cached_briefly() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new(NOW);
    let introspector =
        builder(&endpoint, &clock).negative_cache_ttl(Duration::from_secs(5)).build().expect("i");
    let service = guarded(introspector, &[]);

    let answer = service.ask("never-issued").await;
    answer.assert_invalid_token(Reason::InactiveToken);
    assert_eq!(answer.json()["error_description"], "The access token is not active");
    service.ask("never-issued").await.assert_invalid_token(Reason::InactiveToken);
    assert_eq!(endpoint.call_count(), 1, "the refusal is cached");
    clock.advance(5);
    service.ask("never-issued").await.assert_invalid_token(Reason::InactiveToken);
    assert_eq!(endpoint.call_count(), 2, "for the negative lifetime only");
    assert_eq!(service.reached(), 0);
}

#[tokio::test]
async fn an_active_answer_is_cached_until_exp_capped_by_the_configured_maximum() {
    let endpoint = Endpoint::start().await;
    let clock = ManualClock::new(NOW);
    endpoint.reply("short", Reply::Json(with(active(), "exp", json!(NOW + 30))));
    endpoint.reply("long", Reply::Json(active()));
    let introspector = builder(&endpoint, &clock).cache_max_ttl(Duration::from_secs(60)).build().expect("i");
    let service = guarded(introspector, &[]);

    for token in ["short", "long"] {
        assert_eq!(service.ask(token).await.status, StatusCode::OK);
    }
    clock.advance(29);
    for token in ["short", "long"] {
        assert_eq!(service.ask(token).await.status, StatusCode::OK);
    }
    assert_eq!(endpoint.call_count(), 2, "both cached");
    clock.advance(1);
    // `short` expired: its entry went with its `exp`, and the endpoint is asked again.
    assert_eq!(service.ask("short").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(endpoint.call_count(), 3);
    clock.advance(29);
    assert_eq!(service.ask("long").await.status, StatusCode::OK);
    assert_eq!(endpoint.call_count(), 3, "`long` is still cached at 59 s");
    clock.advance(1);
    assert_eq!(service.ask("long").await.status, StatusCode::OK);
    assert_eq!(endpoint.call_count(), 4, "and asked about again at the 60 s cap");
}

#[tokio::test]
async fn the_answers_members_are_checked_like_a_jwts_claims() {
    let endpoint = Endpoint::start().await;
    let cases = [
        ("another-issuer", with(active(), "iss", json!("https://evil.example")), Reason::WrongIssuer),
        ("another-audience", with(active(), "aud", json!(["another-api"])), Reason::WrongAudience),
        ("no-audience", without(active(), "aud"), Reason::WrongAudience),
        ("no-exp", without(active(), "exp"), Reason::MissingExpiry),
        ("expired", with(active(), "exp", json!(NOW - 1)), Reason::Expired),
        ("not-yet", with(active(), "nbf", json!(NOW + 600)), Reason::NotYetValid),
        (
            "bound",
            with(active(), "cnf", json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})),
            Reason::KeyBoundToken,
        ),
        ("refresh", with(active(), "token_type", json!("refresh_token")), Reason::WrongType),
        ("dpop", with(active(), "token_type", json!("DPoP")), Reason::WrongType),
        ("hydra-refresh", with(active(), "token_use", json!("refresh_token")), Reason::WrongType),
    ];
    for (token, answer, _) in &cases {
        endpoint.reply(token, Reply::Json(answer.clone()));
    }
    let service = guarded(builder(&endpoint, &ManualClock::new(NOW)).build().expect("i"), &[]);
    for (token, _, reason) in cases {
        service.ask(token).await.assert_invalid_token(reason);
    }
    // `iss` may be left out: the endpoint speaks for its issuer.
    endpoint.reply("no-iss", Reply::Json(without(active(), "iss")));
    let answer = service.ask("no-iss").await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["issuer"], ISSUER);
    // Hydra's access tokens say so.
    endpoint.reply("hydra-access", Reply::Json(with(active(), "token_use", json!("access_token"))));
    assert_eq!(service.ask("hydra-access").await.status, StatusCode::OK);
    // A client-credentials token: `sub` is the client, so no user.
    endpoint.reply("client", Reply::Json(with(active(), "sub", json!("shop"))));
    assert_eq!(service.ask("client").await.json()["kind"], "Client");
    assert_eq!(service.reached(), 3);
}

#[tokio::test]
async fn an_endpoint_that_is_down_slow_garbage_failing_or_oversized_is_503_never_a_pass() {
    let endpoint = Endpoint::start().await;
    let big = format!(r#"{{"active":true,"pad":"{}"}}"#, "x".repeat(70 * 1024));
    let cases = [
        ("slow", Reply::Late(Duration::from_secs(3), Box::new(Reply::Json(active())))),
        ("garbage", Reply::Raw(b"<html>Bad gateway</html>".to_vec())),
        ("not-an-object", Reply::Raw(b"[true]".to_vec())),
        ("no-active", Reply::Json(without(active(), "active"))),
        ("active-as-string", Reply::Json(with(active(), "active", json!("true")))),
        ("exp-as-string", Reply::Json(with(active(), "exp", json!("soon")))),
        ("server-error", Reply::Status(500)),
        ("unauthorized", Reply::Status(401)),
        ("oversized", Reply::Raw(big.into_bytes())),
    ];
    for (token, reply) in &cases {
        endpoint.reply(token, reply.clone());
    }
    let service = guarded(builder(&endpoint, &ManualClock::new(NOW)).build().expect("i"), &[]);
    for (token, _) in &cases {
        let answer = service.ask(token).await;
        answer.assert_unavailable();
    }
    // Failures are never cached: each token was asked about, and is asked about again.
    let asked = endpoint.call_count();
    assert_eq!(asked, cases.len());
    service.ask("server-error").await.assert_unavailable();
    assert_eq!(endpoint.call_count(), asked + 1);

    // Down: nothing listens on the port.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let down = Introspector::builder(format!("http://127.0.0.1:{port}/oauth/introspect"))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .client_secret_basic("orders-api", "secret")
        .build()
        .expect("introspector");
    let down = guarded(down, &[]);
    down.ask(TOKEN).await.assert_unavailable();
    assert_eq!(service.reached() + down.reached(), 0, "nothing passed");
}

#[tokio::test]
async fn concurrent_requests_for_one_uncached_token_make_one_call() {
    let endpoint = Endpoint::start().await;
    endpoint.reply(TOKEN, Reply::Held(Box::new(Reply::Json(active()))));
    let service = guarded(builder(&endpoint, &ManualClock::new(NOW)).build().expect("i"), &[]);

    let requests: Vec<_> = (0..16)
        .map(|_| {
            tokio::spawn({
                let service = service.clone();
                async move { service.ask(TOKEN).await.status }
            })
        })
        .collect();
    endpoint.wait_for_calls(1).await;
    // Give every request time to join the call in flight before it is answered.
    tokio::time::sleep(Duration::from_millis(200)).await;
    endpoint.open();
    for request in requests {
        assert_eq!(request.await.expect("task"), StatusCode::OK);
    }
    assert_eq!(endpoint.call_count(), 1, "one call for sixteen requests");
    assert_eq!(service.reached(), 16);
}

#[tokio::test]
async fn past_the_in_flight_bound_a_request_gets_503_at_once_not_a_place_in_a_queue() {
    let endpoint = Endpoint::start().await;
    endpoint.reply("held", Reply::Held(Box::new(Reply::Json(active()))));
    endpoint.reply(TOKEN, Reply::Json(active()));
    let introspector = builder(&endpoint, &ManualClock::new(NOW)).max_in_flight(1).build().expect("i");
    let service = guarded(introspector, &[]);

    let held = tokio::spawn({
        let service = service.clone();
        async move { service.ask("held").await.status }
    });
    endpoint.wait_for_calls(1).await;
    // The one slot is taken and stays taken until the gate opens: a queued request would
    // never finish, so this answer proves it was not queued.
    let refused =
        tokio::time::timeout(Duration::from_secs(10), service.ask(TOKEN)).await.expect("answered at once");
    refused.assert_unavailable();
    assert_eq!(endpoint.call_count(), 1, "the refused request made no call");
    endpoint.open();
    assert_eq!(held.await.expect("task"), StatusCode::OK);
    // The slot is free again.
    assert_eq!(service.ask(TOKEN).await.status, StatusCode::OK);
}

#[tokio::test]
async fn mixed_mode_verifies_jwts_locally_and_introspects_every_other_token() {
    let endpoint = Endpoint::start().await;
    endpoint.reply(TOKEN, Reply::Json(active()));
    let key = TestKey::generate(Algorithm::ES256);
    let introspector = builder(&endpoint, &ManualClock::new(NOW)).build().expect("i");
    let guard = GuardLayer::builder(verifier_for(&key)).introspection(introspector).build().expect("guard");
    let service = Guarded::new(guard, &[]);

    let jwt = key.sign(&user_claims("7", "read-orders"));
    let answer = service.ask(&jwt).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["sub"], "7");
    assert_eq!(endpoint.call_count(), 0, "a JWT is never introspected");
    // Same shape, same `kid`, another key: refused locally, and still not introspected.
    let forged =
        TestKey::generate_with_kid(Algorithm::ES256, &key.kid).sign(&user_claims("7", "read-orders"));
    service.ask(&forged).await.assert_invalid_token(Reason::BadSignature);
    assert_eq!(endpoint.call_count(), 0);

    let answer = service.ask(TOKEN).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["sub"], "42");
    assert_eq!(endpoint.call_count(), 1, "an opaque token is");
}

#[tokio::test]
async fn revocation_events_reach_the_answer_cache_through_the_guards_hub() {
    let endpoint = Endpoint::start().await;
    endpoint.reply(TOKEN, Reply::Json(active()));
    let introspector = builder(&endpoint, &ManualClock::new(NOW)).build().expect("i");
    let guard = GuardLayer::introspecting(introspector).build().expect("guard");
    let hub = Hub::new();
    hub.register(guard.clone());
    let service = Guarded::new(guard, &[]);

    assert_eq!(service.ask(TOKEN).await.status, StatusCode::OK);
    assert_eq!(service.ask(TOKEN).await.status, StatusCode::OK);
    assert_eq!(endpoint.call_count(), 1);
    // The authorization server revoked it, and says so.
    endpoint.reply(TOKEN, Reply::Json(json!({"active": false})));
    hub.apply(&Invalidation::AccessToken { jti: "opaque-1".into() });
    service.ask(TOKEN).await.assert_invalid_token(Reason::InactiveToken);
    assert_eq!(endpoint.call_count(), 2);

    endpoint.reply(TOKEN, Reply::Json(active()));
    hub.apply(&Invalidation::Everything);
    assert_eq!(service.ask(TOKEN).await.status, StatusCode::OK);
    hub.apply(&Invalidation::Client { client_id: "shop".into() });
    assert_eq!(service.ask(TOKEN).await.status, StatusCode::OK);
    assert_eq!(endpoint.call_count(), 4, "each invalidation dropped the answer");
}

#[tokio::test]
async fn the_endpoint_is_discovered_from_the_issuers_rfc_8414_metadata() {
    let endpoint = Endpoint::start().await;
    endpoint.publish_metadata();
    let issuer = endpoint.base();
    endpoint.reply(TOKEN, Reply::Json(with(active(), "iss", json!(issuer))));
    let introspector = Introspector::discover(issuer.clone())
        .audience(AUDIENCE)
        .client_secret_basic("orders-api", "secret")
        .clock(ManualClock::new(NOW))
        .build()
        .expect("introspector");
    assert!(format!("{introspector:?}").contains("to be discovered"), "{introspector:?}");
    let service = guarded(introspector.clone(), &[]);
    let answer = service.ask(TOKEN).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["issuer"], issuer);
    assert_eq!(endpoint.call_count(), 1);
    assert!(format!("{introspector:?}").contains(crate::endpoint::PATH), "{introspector:?}");

    // Metadata for another issuer is refused, and that is a 503.
    let other = Endpoint::start().await;
    other.publish_metadata();
    let wrong = Introspector::discover(format!("{}/", other.base()))
        .audience(AUDIENCE)
        .client_secret_basic("orders-api", "secret")
        .build()
        .expect("introspector");
    guarded(wrong, &[]).ask(TOKEN).await.assert_unavailable();
    assert_eq!(other.call_count(), 0);
}

#[test]
fn the_secret_never_shows_in_debug_output() {
    let builder = Introspector::builder("https://auth.example.com/oauth/introspect")
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .client_secret_post("orders-api", "hunter2-secret");
    assert!(!format!("{builder:?}").contains("hunter2"), "{builder:?}");
    let introspector = builder.build().expect("introspector");
    let shown = format!("{introspector:?}");
    assert!(!shown.contains("hunter2") && shown.contains("orders-api"), "{shown}");
    let basic = Introspector::builder("https://auth.example.com/oauth/introspect")
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .client_secret_basic("orders-api", "hunter2-secret")
        .build()
        .expect("introspector");
    let guard = GuardLayer::introspecting(basic).build().expect("guard");
    let shown = format!("{guard:?}");
    assert!(!shown.contains("hunter2") && !shown.contains("aHVudGVy"), "{shown}");
}

#[test]
fn a_configuration_without_credentials_audience_or_https_is_refused() {
    use tower_passport::error::ConfigErrorKind;
    let base = || {
        Introspector::builder("https://auth.example.com/oauth/introspect").issuer(ISSUER).audience(AUDIENCE)
    };
    assert_eq!(base().build().unwrap_err().kind(), ConfigErrorKind::Credentials);
    assert_eq!(base().client_secret_basic("", "x").build().unwrap_err().kind(), ConfigErrorKind::Credentials);
    let no_audience = Introspector::builder("https://auth.example.com/oauth/introspect").issuer(ISSUER);
    assert_eq!(
        no_audience.client_secret_basic("a", "b").build().unwrap_err().kind(),
        ConfigErrorKind::Audience
    );
    let plain =
        Introspector::builder("http://auth.example.com/oauth/introspect").issuer(ISSUER).audience(AUDIENCE);
    assert_eq!(plain.client_secret_basic("a", "b").build().unwrap_err().kind(), ConfigErrorKind::Url);
    let no_issuer = Introspector::builder("https://auth.example.com/oauth/introspect").audience(AUDIENCE);
    assert_eq!(no_issuer.client_secret_basic("a", "b").build().unwrap_err().kind(), ConfigErrorKind::Issuer);
    assert_eq!(
        base().client_secret_basic("a", "b").max_in_flight(0).build().unwrap_err().kind(),
        ConfigErrorKind::Limit
    );
}
