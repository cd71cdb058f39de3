//! Hostile introspection answers: the guard as an RFC 7662 client of a programmable
//! authorization server on loopback that lies, stalls, redirects or floods. Every case
//! asserts its exact status: 401 `invalid_token` with the reason a JWT with those claims
//! would get when the answer is well formed, 503 without a challenge when it is no usable
//! answer at all; never a pass.
//!
//! Cases already in `introspection/faults.rs` are not repeated in full: another issuer or
//! audience, a missing audience, a missing or past `exp`, `nbf` ahead, `cnf`, a refresh or
//! DPoP `token_type`, Hydra's `token_use`, `active` as a string, garbage, a 500 or 401, a
//! slow or oversized answer, and an endpoint that is down. This file adds the variants.

use crate::introspection_endpoint::{Endpoint, Reply};
use crate::issuer_support::{through_guard, Answer};
use crate::support::{AUDIENCE, ISSUER, NOW};

use std::time::Duration;

use http::StatusCode;
use serde_json::{json, Value};
use tower_passport::clock::ManualClock;
use tower_passport::error::Reason;
use tower_passport::introspection::Introspector;
use tower_passport::GuardLayer;

/// An answer the guard accepts: user 42, for us, valid for an hour.
fn active() -> Value {
    json!({"active": true, "token_type": "Bearer", "iss": ISSUER, "aud": AUDIENCE, "sub": "42",
        "client_id": "shop", "scope": "read-orders", "exp": NOW + 3600, "iat": NOW, "jti": "opaque-1"})
}

/// `active()` as JSON text with `member` set to the JSON text `value` (added first when
/// absent, so a duplicate can be made by hand).
fn with(member: &str, value: &str) -> Vec<u8> {
    let mut answer = active();
    answer.as_object_mut().expect("an object").remove(member);
    answer.to_string().replacen('{', &format!(r#"{{"{member}":{value},"#), 1).into_bytes()
}

/// `active()` as JSON text with `member` given first as the JSON text `value`, and again
/// later with its own value.
fn twice(member: &str, value: &str) -> Vec<u8> {
    active().to_string().replacen('{', &format!(r#"{{"{member}":{value},"#), 1).into_bytes()
}

/// `depth` arrays, one in another.
fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn without(member: &str) -> Vec<u8> {
    let mut answer = active();
    answer.as_object_mut().expect("an object").remove(member);
    answer.to_string().into_bytes()
}

/// A guard that introspects every token at `endpoint`, at `NOW`, without leeway, with a
/// half-second timeout.
fn guard(endpoint: &Endpoint) -> GuardLayer {
    let introspector = Introspector::builder(endpoint.url())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .client_secret_basic("orders-api", "s3cret")
        .clock(ManualClock::new(NOW))
        .leeway(Duration::ZERO)
        .timeout(Duration::from_millis(500))
        .build()
        .expect("introspector");
    GuardLayer::introspecting(introspector).build().expect("guard")
}

fn assert_unavailable(token: &str, answer: &Answer) {
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{token}: {answer:?}");
    assert_eq!(answer.challenge, None, "{token}: a 503 has no challenge");
    assert!(!answer.body.contains(token), "{token}: the token is never echoed");
}

#[tokio::test]
async fn an_answer_that_is_not_of_the_rfc_7662_types_is_503_never_a_pass() {
    let endpoint = Endpoint::start().await;
    let later = NOW + 600;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("active-one", with("active", "1")),
        ("active-string-true", with("active", r#""true""#)),
        ("active-null", with("active", "null")),
        ("active-list", with("active", "[true]")),
        ("exp-string", with("exp", &format!(r#""{later}""#))),
        ("exp-nan", with("exp", "NaN")),
        ("exp-out-of-range", with("exp", "1e400")),
        ("exp-object", with("exp", &format!(r#"{{"$date":{later}}}"#))),
        ("iss-number", with("iss", "1")),
        ("aud-object", with("aud", &format!(r#"{{"aud":"{AUDIENCE}"}}"#))),
        ("scope-number", with("scope", "7")),
        // Duplicate members, literal and escaped: which one wins is never guessed.
        ("active-twice", twice("active", "false")),
        ("iss-twice", twice("iss", r#""https://evil.example""#)),
        ("exp-twice", twice("exp", &(NOW - 10).to_string())),
        ("aud-twice", twice("aud", r#""another-api""#)),
        ("escaped-active-twice", twice(r"\u0061ctive", "false")),
        ("not-json", b"active=true&exp=9999999999".to_vec()),
        ("json-array", b"[{\"active\":true}]".to_vec()),
        ("json-string", b"\"active\"".to_vec()),
        ("trailing-garbage", [active().to_string().as_bytes(), b"{}"].concat()),
        ("not-utf8", [&b"{\"active\":true,\"sub\":\""[..], &[0xff, 0xfe], b"\"}"].concat()),
        ("empty", Vec::new()),
        ("giant", {
            let padding = "x".repeat(1024 * 1024);
            let mut answer = active();
            answer["padding"] = json!(padding);
            answer.to_string().into_bytes()
        }),
        ("aud-nested", with("aud", &nested(10_000))),
        ("scope-nested", with("scope", &nested(10_000))),
        ("exp-nested", with("exp", &nested(10_000))),
        ("unbalanced", with("extra", &"[".repeat(10_000))),
    ];
    for (token, body) in &cases {
        endpoint.reply(token, Reply::Raw(body.clone()));
    }
    let guard = guard(&endpoint);
    for (token, _) in &cases {
        let answer = through_guard(&guard, token).await;
        assert_unavailable(token, &answer);
    }
    assert_eq!(endpoint.call_count(), cases.len(), "every answer was asked for");
}

#[tokio::test]
async fn a_well_formed_answer_that_fails_a_claim_check_is_401_with_the_jwt_reason() {
    let endpoint = Endpoint::start().await;
    let cases: Vec<(&str, Vec<u8>, Reason)> = vec![
        ("no-exp", without("exp"), Reason::MissingExpiry),
        ("exp-null", with("exp", "null"), Reason::MissingExpiry),
        ("exp-now", with("exp", &NOW.to_string()), Reason::Expired),
        ("exp-float-past", with("exp", &format!("{}.999", NOW - 1)), Reason::Expired),
        ("exp-negative", with("exp", "-1"), Reason::Expired),
        ("exp-below-zero-range", with("exp", "-18446744073709551616"), Reason::Expired),
        ("iss-other", with("iss", r#""https://evil.example""#), Reason::WrongIssuer),
        ("iss-prefix", with("iss", &format!(r#""{ISSUER}.evil.example""#)), Reason::WrongIssuer),
        ("iss-trailing-slash", with("iss", &format!(r#""{ISSUER}/""#)), Reason::WrongIssuer),
        ("iss-case", with("iss", &format!(r#""{}""#, ISSUER.to_uppercase())), Reason::WrongIssuer),
        ("aud-other", with("aud", r#""https://other-api.example""#), Reason::WrongAudience),
        ("aud-empty-list", with("aud", "[]"), Reason::WrongAudience),
        ("aud-case", with("aud", &format!(r#""{}""#, AUDIENCE.to_uppercase())), Reason::WrongAudience),
        ("aud-joined", with("aud", &format!(r#""{AUDIENCE} other""#)), Reason::WrongAudience),
        ("token-type-mac", with("token_type", r#""mac""#), Reason::WrongType),
        ("token-type-dpop", with("token_type", r#""DPoP""#), Reason::WrongType),
        ("token-type-refresh", with("token_type", r#""refresh_token""#), Reason::WrongType),
        ("token-type-empty", with("token_type", r#""""#), Reason::WrongType),
        ("nbf-ahead", with("nbf", &(NOW + 1).to_string()), Reason::NotYetValid),
        ("iat-ahead", with("iat", &(NOW + 1).to_string()), Reason::IssuedInFuture),
        ("inactive", br#"{"active":false,"sub":"42","exp":9999999999}"#.to_vec(), Reason::InactiveToken),
    ];
    for (token, body, _) in &cases {
        endpoint.reply(token, Reply::Raw(body.clone()));
    }
    let guard = guard(&endpoint);
    for (token, _, reason) in &cases {
        let answer = through_guard(&guard, token).await;
        assert_eq!(answer.json()["error_description"], reason.description(), "{token}: {answer:?}");
        answer.assert_invalid_token(reason.description());
    }
}

#[tokio::test]
async fn a_token_active_for_another_resource_is_refused_here() {
    let endpoint = Endpoint::start().await;
    // The authorization server says yes, for the billing API: not for us.
    let mut billing = active();
    billing["aud"] = json!(["https://billing.example", format!("{AUDIENCE}-staging")]);
    billing["scope"] = json!("read-orders admin");
    endpoint.reply("billing-token", Reply::Json(billing));
    let answer = through_guard(&guard(&endpoint), "billing-token").await;
    answer.assert_invalid_token(Reason::WrongAudience.description());
    // The same answer naming us among others passes: the check is membership.
    let mut shared = active();
    shared["aud"] = json!(["https://billing.example", AUDIENCE]);
    endpoint.reply("shared-token", Reply::Json(shared));
    let answer = through_guard(&guard(&endpoint), "shared-token").await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["sub"], "42");
}

#[tokio::test]
async fn a_redirect_is_never_followed() {
    let elsewhere = Endpoint::start().await;
    elsewhere.reply("moved", Reply::Json(active()));
    let endpoint = Endpoint::start().await;
    endpoint.reply("moved", Reply::Redirect(elsewhere.url()));
    for (token, status) in [("see-other", 303), ("temporary", 307), ("permanent", 308), ("not-modified", 304)]
    {
        endpoint.reply(token, Reply::Status(status));
    }
    let guard = guard(&endpoint);
    for token in ["moved", "see-other", "temporary", "permanent", "not-modified"] {
        assert_unavailable(token, &through_guard(&guard, token).await);
    }
    assert_eq!(elsewhere.call_count(), 0, "the redirect's target was never asked");
}

#[tokio::test]
async fn a_slow_or_stalled_answer_is_503_within_the_timeout() {
    let endpoint = Endpoint::start().await;
    endpoint.reply("slow", Reply::Late(Duration::from_secs(2), Box::new(Reply::Json(active()))));
    endpoint.reply("stalled", Reply::Held(Box::new(Reply::Json(active()))));
    let guard = guard(&endpoint);
    for token in ["slow", "stalled"] {
        let started = std::time::Instant::now();
        let answer = through_guard(&guard, token).await;
        assert_unavailable(token, &answer);
        // A bound on the wait, not a performance figure: the timeout is half a second.
        assert!(started.elapsed() < Duration::from_secs(2), "{token} waited {:?}", started.elapsed());
    }
    endpoint.open();
}

#[tokio::test]
async fn a_fractional_or_far_exp_is_a_numeric_date_and_the_cache_still_bounds_it() {
    // RFC 7519 NumericDates may be fractional; beyond u64 they saturate. Both are the
    // server's word about a token it says is active, and the answer is cached for at most
    // the cache's bound (60 s by default), so a far `exp` keeps nothing alive here.
    let endpoint = Endpoint::start().await;
    endpoint.reply("fractional", Reply::Raw(with("exp", &format!("{}.5", NOW + 60))));
    endpoint.reply("far", Reply::Raw(with("exp", "18446744073709551616")));
    let clock = ManualClock::new(NOW);
    let introspector = Introspector::builder(endpoint.url())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .client_secret_basic("orders-api", "s3cret")
        .clock(clock.clone())
        .leeway(Duration::ZERO)
        .build()
        .expect("introspector");
    let guard = GuardLayer::introspecting(introspector).build().expect("guard");
    for token in ["fractional", "far"] {
        assert_eq!(through_guard(&guard, token).await.status, StatusCode::OK, "{token}");
    }
    assert_eq!(endpoint.call_count(), 2);
    // Past the cache bound the server is asked again, and its new word counts.
    clock.set(NOW + 61);
    endpoint.reply("far", Reply::Json(json!({"active": false})));
    let answer = through_guard(&guard, "far").await;
    answer.assert_invalid_token(Reason::InactiveToken.description());
    assert_eq!(endpoint.call_count(), 3);
}

#[tokio::test]
async fn a_deeply_nested_member_nobody_reads_is_skipped_without_recursion() {
    // Members the guard does not read are skipped by serde_json iteratively: 30,000 levels
    // (60 KB, under the 64 KiB answer cap) cost no stack, and the answer means what its
    // read members say.
    let endpoint = Endpoint::start().await;
    endpoint.reply("nested-extra", Reply::Raw(with("extra", &nested(30_000))));
    let mut inactive = json!({"active": false}).to_string();
    inactive.insert_str(1, &format!(r#""extra":{},"#, nested(30_000)));
    endpoint.reply("nested-inactive", Reply::Raw(inactive.into_bytes()));
    let guard = guard(&endpoint);
    let answer = through_guard(&guard, "nested-extra").await;
    assert_eq!((answer.status, answer.json()["sub"].as_str()), (StatusCode::OK, Some("42")), "{answer:?}");
    through_guard(&guard, "nested-inactive").await.assert_invalid_token(Reason::InactiveToken.description());
}
