//! Remote key sets against a real JWKS server on loopback: rotation, outages, floods of
//! unknown `kid`s, slow servers, malformed documents and bad keys, `ETag` revalidation,
//! `Cache-Control` freshness, discovery, and the 503 when no keys can be had.

use crate::jwks_server;
use crate::support;

use std::convert::Infallible;
use std::error::Error;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use jwks_server::{jwks, JwksServer, Reply};
use serde_json::json;
use support::{user_claims, TestKey, AUDIENCE, ISSUER, NOW};
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::error::Reason;
use tower_passport::keys::JwkOptions;
use tower_passport::{
    clock::ManualClock, Algorithm, AuthError, BackendError, GuardLayer, RemoteKeySet, Verifier,
};

pub(crate) const JWKS: &str = "/jwks";

/// A verifier over `keys` with the verified-token cache off, so that every call reads
/// the key set.
pub(crate) fn verifier(keys: &RemoteKeySet) -> Verifier {
    Verifier::builder(keys.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .no_cache()
        .build()
        .expect("verifier")
}

pub(crate) fn token(key: &TestKey) -> String {
    key.sign(&user_claims("7", "read"))
}

/// A token signed by `key` but naming `kid`.
pub(crate) fn token_with_kid(key: &TestKey, kid: &str) -> String {
    let mut header = key.header();
    header.kid = Some(kid.to_owned());
    key.sign_with(&header, &user_claims("7", "read"))
}

pub(crate) fn reason(result: Result<tower_passport::VerifiedToken, AuthError>) -> Reason {
    result.expect_err("rejected").reason()
}

/// An error and its sources, joined.
pub(crate) fn chain(error: &BackendError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// Polls `check` until it holds; fails the test after 5 s.
pub(crate) async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) async fn serving(keys: &[&TestKey]) -> JwksServer {
    let server = JwksServer::start().await;
    let jwks_doc = jwks(&keys.iter().map(|key| &key.jwk).collect::<Vec<_>>());
    server.serve(JWKS, Reply::json(&jwks_doc));
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_is_accepted_after_a_refetch_and_the_old_one_works_while_published() {
    let old = TestKey::generate_with_kid(Algorithm::ES256, "2025-01");
    let new = TestKey::generate_with_kid(Algorithm::ES256, "2025-02");
    let server = serving(&[&old]).await;
    let keys = RemoteKeySet::builder(server.url(JWKS))
        .unknown_kid_cooldown(Duration::from_millis(100))
        .build()
        .expect("remote set");
    keys.warm_up().await.expect("warm-up");
    let verifier = verifier(&keys);
    assert!(verifier.verify(&token(&old)).is_ok());

    // The provider publishes the new key next to the old one.
    server.serve(JWKS, Reply::json(&jwks(&[&old.jwk, &new.jwk])));
    assert_eq!(reason(verifier.verify(&token(&new))), Reason::UnknownKid, "fails fast, before the refetch");
    eventually("the refetch publishes the new kid", || keys.status().kids.contains(&new.kid)).await;
    assert!(verifier.verify(&token(&new)).is_ok(), "the new kid passes after the refetch");
    assert!(verifier.verify(&token(&old)).is_ok(), "the old kid passes while it is published");

    // The old key is withdrawn; the next unknown kid (after the cooldown) refetches.
    server.serve(JWKS, Reply::json(&jwks(&[&new.jwk])));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(reason(verifier.verify(&token_with_kid(&new, "2025-03"))), Reason::UnknownKid);
    eventually("the refetch drops the old kid", || keys.status().kids == [new.kid.as_str()]).await;
    assert_eq!(reason(verifier.verify(&token(&old))), Reason::UnknownKid, "a withdrawn key stops verifying");
    assert!(verifier.verify(&token(&new)).is_ok());
    assert_eq!(server.hits(JWKS), 3, "warm-up and two refetches");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_keeps_serving_the_last_good_set_and_reports_the_error() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = serving(&[&key]).await;
    let keys = RemoteKeySet::builder(server.url(JWKS))
        .retry_backoff(Duration::from_secs(30), Duration::from_secs(60))
        .build()
        .expect("remote set");
    keys.warm_up().await.expect("warm-up");
    let verifier = verifier(&keys);

    server.serve(JWKS, Reply::status(500));
    assert_eq!(reason(verifier.verify(&token_with_kid(&key, "unknown"))), Reason::UnknownKid);
    eventually("the refetch fails", || keys.metrics().failures == 1).await;
    assert!(verifier.verify(&token(&key)).is_ok(), "a known kid is served from the last good set");
    let status = keys.status();
    assert!(status.usable);
    assert_eq!(status.kids, [key.kid.as_str()]);
    let error = status.last_error.expect("the fetch error is reported");
    assert!(chain(&error).contains("answered 500"), "{}", chain(&error));
    assert_eq!(keys.metrics().fetches, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_stale_bound_requests_get_503_until_a_fetch_succeeds() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = serving(&[&key]).await;
    let keys = RemoteKeySet::builder(server.url(JWKS))
        .max_stale(Duration::from_millis(600))
        .refresh(Duration::from_millis(50), Duration::from_millis(100), Duration::from_millis(200))
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(100))
        .build()
        .expect("remote set");
    keys.warm_up().await.expect("warm-up");
    let verifier = verifier(&keys);
    server.serve(JWKS, Reply::status(503));
    assert!(verifier.verify(&token(&key)).is_ok(), "within the bound the last good set serves");

    eventually("the set goes stale", || !keys.status().usable).await;
    let error = verifier.verify(&token(&key)).expect_err("stale beyond the bound");
    assert_eq!(error.reason(), Reason::KeysUnavailable);
    assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!error.has_challenge());
    assert!(chain(error.backend_error().expect("source")).contains("answered 503"));
    assert!(keys.metrics().failures >= 2, "the background task kept retrying");

    let key_again = key.jwk.clone();
    server.serve(JWKS, Reply::json(&jwks(&[&key_again])));
    eventually("a retry succeeds", || keys.status().usable).await;
    assert!(verifier.verify(&token(&key)).is_ok());
}

#[tokio::test]
async fn never_fetched_answers_503_without_a_challenge_and_warm_up_says_why() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let keys = RemoteKeySet::builder(format!("http://127.0.0.1:{port}/jwks"))
        .retry_backoff(Duration::from_secs(30), Duration::from_secs(60))
        .build()
        .expect("remote set");
    let error = keys.warm_up().await.expect_err("nothing listens");
    assert!(
        chain(&error).starts_with(&format!("GET http://127.0.0.1:{port}/jwks failed")),
        "{}",
        chain(&error)
    );

    let key = TestKey::generate(Algorithm::ES256);
    let verifier = verifier(&keys);
    let rejected = verifier.verify(&token(&key)).expect_err("no keys");
    assert_eq!(rejected.reason(), Reason::KeysUnavailable);
    assert!(rejected.backend_error().is_some());

    let service =
        ServiceBuilder::new().layer(GuardLayer::new(verifier)).service_fn(|_: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        });
    let request = Request::builder()
        .header(AUTHORIZATION, format!("Bearer {}", token(&key)))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = service.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.headers().get(WWW_AUTHENTICATE).is_none(),
        "a key-fetch failure is not the client's fault"
    );
}

#[tokio::test]
async fn the_first_request_starts_the_fetch_without_waiting_for_it() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = serving(&[&key]).await;
    let keys = RemoteKeySet::builder(server.url(JWKS)).build().expect("remote set");
    let verifier = verifier(&keys);
    assert_eq!(reason(verifier.verify(&token(&key))), Reason::KeysUnavailable, "no warm-up: 503 at once");
    eventually("the background fetch lands", || keys.status().usable).await;
    assert!(verifier.verify(&token(&key)).is_ok());
    assert_eq!(server.hits(JWKS), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_costs_at_most_one_fetch_and_no_request_waits() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = serving(&[&key]).await;
    // The request that triggers the refetch waits for it, but only this long.
    let keys = RemoteKeySet::builder(server.url(JWKS))
        .unknown_kid_wait(Duration::from_millis(200))
        .build()
        .expect("remote set");
    keys.warm_up().await.expect("warm-up");
    // From now on the server takes 10 s to answer.
    server.serve(JWKS, Reply::json(&jwks(&[&key.jwk])).delay(Duration::from_secs(10)));
    let service = ServiceBuilder::new().layer(GuardLayer::new(verifier(&keys))).service_fn(
        |_: Request<Full<Bytes>>| async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) },
    );
    let request = |token: &str| {
        Request::builder()
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .body(Full::new(Bytes::new()))
            .expect("request")
    };
    let flood: Vec<String> = (0..1000).map(|i| token_with_kid(&key, &format!("random-{i}"))).collect();
    let known = token(&key);

    let answers = tokio::time::timeout(Duration::from_secs(2), async {
        let mut statuses = Vec::with_capacity(flood.len());
        for (i, token) in flood.iter().enumerate() {
            let response = service.clone().oneshot(request(token)).await.expect("infallible");
            let challenge = response.headers().get(WWW_AUTHENTICATE).cloned();
            statuses.push((response.status(), challenge));
            if i % 100 == 0 {
                let response = service.clone().oneshot(request(&known)).await.expect("infallible");
                assert_eq!(response.status(), StatusCode::OK, "a known kid passes during the flood");
            }
        }
        statuses
    })
    .await
    .expect("no request waited for the 10 s fetch");

    for (status, challenge) in &answers {
        assert_eq!(*status, StatusCode::UNAUTHORIZED);
        let challenge = challenge.as_ref().expect("challenge").to_str().expect("ascii");
        assert!(challenge.contains(r#"error="invalid_token""#), "{challenge}");
    }
    eventually("the refetch reaches the server", || server.hits(JWKS) == 2).await;
    assert_eq!(server.hits(JWKS), 2, "the warm-up and one refetch, for 1,000 unknown kids");
    let metrics = keys.metrics();
    assert_eq!(metrics.kid_misses, 1000);
    assert_eq!(metrics.refetches, 1);
    assert_eq!(metrics.cooldown_rejections, 999);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_times_out_and_known_kids_are_unaffected() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = serving(&[&key]).await;
    let keys = RemoteKeySet::builder(server.url(JWKS))
        .timeout(Duration::from_millis(300))
        .build()
        .expect("remote set");
    keys.warm_up().await.expect("warm-up");
    let verifier = verifier(&keys);
    server.serve(JWKS, Reply::json(&jwks(&[&key.jwk])).delay(Duration::from_secs(10)));

    assert_eq!(reason(verifier.verify(&token_with_kid(&key, "next"))), Reason::UnknownKid);
    eventually("the refetch is in flight", || server.hits(JWKS) == 2).await;
    let known = token(&key);
    let during = tokio::time::timeout(Duration::from_secs(2), async {
        for _ in 0..50 {
            assert!(verifier.verify(&known).is_ok());
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(during.is_ok(), "known kids never wait for the fetch");
    eventually("the timeout fires", || keys.metrics().failures == 1).await;
    let error = keys.status().last_error.expect("reported");
    assert!(chain(&error).contains("timed out after 300ms"), "{}", chain(&error));
    assert!(verifier.verify(&known).is_ok(), "and after it");
}

#[tokio::test]
async fn a_malformed_document_fails_the_fetch_and_keeps_the_last_good_set() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = JwksServer::start().await;
    let keys = RemoteKeySet::builder(server.url(JWKS)).build().expect("remote set");
    for (document, expected) in [
        ("<html>login</html>", "is not a JWKS"),
        (r#"{"keys": "none"}"#, "is not a JWKS"),
        (r#"[{"kty": "OKP"}]"#, "is not a JWKS"),
        (
            r#"{"keys": [{"kty": "oct", "alg": "HS256", "k": "c2VjcmV0"}, {"kty": "RSA"}]}"#,
            "no usable key (2 skipped)",
        ),
    ] {
        server.serve(JWKS, Reply::text(document));
        let error = keys.warm_up().await.expect_err(document);
        assert!(chain(&error).contains(expected), "{document}: {}", chain(&error));
        assert!(!chain(&error).contains("c2VjcmV0"), "no key material in errors");
    }
    assert_eq!(reason(verifier(&keys).verify(&token(&key))), Reason::KeysUnavailable);

    server.serve(JWKS, Reply::json(&jwks(&[&key.jwk])));
    keys.warm_up().await.expect("a good document");
    server.serve(JWKS, Reply::text("{not json"));
    assert!(keys.warm_up().await.is_err());
    assert!(verifier(&keys).verify(&token(&key)).is_ok(), "the last good set still serves");
}

#[tokio::test]
async fn one_bad_key_among_good_ones_is_skipped_and_the_rest_is_used() {
    let es = TestKey::generate_with_kid(Algorithm::ES256, "good-es");
    let ed = TestKey::generate_with_kid(Algorithm::EdDSA, "good-ed"); // its JWK has no alg
    let rsa = TestKey::generate_with_kid(Algorithm::RS256, "rsa-no-alg");
    let mut rsa_without_alg = rsa.jwk.clone();
    rsa_without_alg.as_object_mut().expect("object").remove("alg");
    let mut encryption = es.jwk.clone();
    encryption["kid"] = json!("enc-key");
    encryption["use"] = json!("enc");
    let document = json!({"keys": [
        es.jwk,
        {"kty": "RSA", "kid": "short-rsa", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
        encryption,
        {"kty": "oct", "kid": "shared", "alg": "HS256", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0"},
        {"kty": 7, "kid": "odd-shape"},
        {"kty": "OKP", "kid": "x448", "crv": "X448", "x": "AA"},
        ed.jwk,
        rsa_without_alg,
    ]});
    let server = JwksServer::start().await;
    server.serve(JWKS, Reply::json(&document));
    let keys = RemoteKeySet::builder(server.url(JWKS)).build().expect("remote set");
    keys.warm_up().await.expect("the good keys are enough");
    let status = keys.status();
    assert_eq!(status.kids, ["good-es", "good-ed", "rsa-no-alg"]);
    assert_eq!(status.skipped, 6);
    assert_eq!(keys.metrics().skipped_keys, 6);
    let verifier = verifier(&keys);
    assert!(verifier.verify(&token(&es)).is_ok());
    assert!(verifier.verify(&token(&ed)).is_ok(), "OKP Ed25519 without alg is EdDSA");
    assert!(verifier.verify(&token(&rsa)).is_ok(), "RSA without alg is RS256");
}

#[tokio::test]
async fn oct_keys_are_taken_from_a_remote_set_only_when_allowed() {
    let hs = TestKey::generate_with_kid(Algorithm::HS256, "shared");
    let es = TestKey::generate(Algorithm::ES256);
    let server = serving(&[&hs, &es]).await;
    let refused = RemoteKeySet::builder(server.url(JWKS)).build().expect("remote set");
    refused.warm_up().await.expect("the ES256 key is enough");
    assert_eq!(refused.status().kids, [es.kid.as_str()]);
    assert_eq!(reason(verifier(&refused).verify(&token(&hs))), Reason::UnknownKid);

    let allowed = RemoteKeySet::builder(server.url(JWKS))
        .jwk_options(JwkOptions::default().allow_symmetric(true))
        .build()
        .expect("remote set");
    allowed.warm_up().await.expect("warm-up");
    assert!(verifier(&allowed).verify(&token(&hs)).is_ok());
}

#[tokio::test]
async fn an_etag_is_revalidated_with_if_none_match_and_304_keeps_the_set() {
    let first = TestKey::generate_with_kid(Algorithm::ES256, "first");
    let second = TestKey::generate_with_kid(Algorithm::ES256, "second");
    let server = JwksServer::start().await;
    server.serve(JWKS, Reply::json(&jwks(&[&first.jwk])).etag("\"v1\""));
    let keys = RemoteKeySet::builder(server.url(JWKS)).build().expect("remote set");
    keys.warm_up().await.expect("warm-up");
    assert!(server.if_none_match().is_empty(), "nothing to revalidate the first time");

    keys.warm_up().await.expect("revalidation");
    assert_eq!(server.if_none_match(), ["\"v1\""]);
    assert_eq!(server.not_modified(), 1);
    assert_eq!(keys.metrics().not_modified, 1);
    assert_eq!(keys.status().kids, ["first"], "304 keeps the set");
    assert!(keys.status().last_error.is_none());
    assert!(verifier(&keys).verify(&token(&first)).is_ok());

    server.serve(JWKS, Reply::json(&jwks(&[&second.jwk])).etag("\"v2\""));
    keys.warm_up().await.expect("changed");
    assert_eq!(keys.status().kids, ["second"]);
    assert_eq!(server.not_modified(), 1, "the changed set was a 200");
    keys.warm_up().await.expect("revalidation");
    assert_eq!(server.if_none_match(), ["\"v1\"", "\"v1\"", "\"v2\""]);
    assert_eq!(server.not_modified(), 2);
    assert_eq!(keys.metrics().not_modified, 2);
}

#[tokio::test]
async fn max_age_sets_the_next_refresh_clamped_to_the_configured_bounds() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = JwksServer::start().await;
    let keys = RemoteKeySet::builder(server.url(JWKS))
        .refresh(Duration::from_secs(60), Duration::from_secs(300), Duration::from_secs(600))
        .build()
        .expect("remote set");
    let cases = [
        (Some("public, max-age=120"), 120),
        (Some("max-age=5"), 60),      // below the minimum
        (Some("max-age=86400"), 600), // above the maximum
        (Some("max-age=400"), 400),
        (Some("no-cache"), 60),
        (None, 300), // the default
    ];
    for (cache_control, expected) in cases {
        let mut reply = Reply::json(&jwks(&[&key.jwk]));
        if let Some(value) = cache_control {
            reply = reply.header("cache-control", value);
        }
        server.serve(JWKS, reply);
        keys.warm_up().await.expect("warm-up");
        let next = keys.status().next_refresh_in;
        let expected = Duration::from_secs(expected);
        assert!(next <= expected && next + Duration::from_secs(5) > expected, "{cache_control:?}: {next:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_background_task_refreshes_when_max_age_runs_out() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = JwksServer::start().await;
    server.serve(JWKS, Reply::json(&jwks(&[&key.jwk])).header("cache-control", "max-age=0, must-revalidate"));
    let keys = RemoteKeySet::builder(server.url(JWKS))
        .refresh(Duration::from_millis(100), Duration::from_secs(300), Duration::from_secs(600))
        .build()
        .expect("remote set");
    keys.warm_up().await.expect("warm-up");
    eventually("two background refreshes", || server.hits(JWKS) >= 3).await;
    assert!(keys.status().usable);
    assert_eq!(keys.metrics().failures, 0);
}

fn discovery_document(issuer: &str, jwks_uri: &str) -> serde_json::Value {
    json!({"issuer": issuer, "jwks_uri": jwks_uri, "token_endpoint": format!("{issuer}/token")})
}

#[tokio::test]
async fn discovery_finds_the_jwks_through_openid_configuration() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = serving(&[&key]).await;
    let issuer = server.base();
    server.serve(
        "/.well-known/openid-configuration",
        Reply::json(&discovery_document(&issuer, &server.url(JWKS))),
    );
    let keys = RemoteKeySet::discover(issuer.clone()).build().expect("remote set");
    keys.warm_up().await.expect("discovered");
    assert_eq!(keys.status().kids, [key.kid.as_str()]);
    let verifier = Verifier::builder(keys.clone())
        .issuer(issuer.clone())
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .build()
        .expect("verifier");
    let mut claims = user_claims("7", "read");
    claims["iss"] = json!(issuer);
    assert!(verifier.verify(&key.sign(&claims)).is_ok());

    keys.warm_up().await.expect("refresh");
    assert_eq!(server.hits("/.well-known/openid-configuration"), 1, "the jwks_uri is remembered");
    assert_eq!(server.hits(JWKS), 2);
}

#[tokio::test]
async fn discovery_falls_back_to_rfc_8414_for_an_issuer_with_a_path() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = serving(&[&key]).await;
    let issuer = server.url("/tenants/acme");
    server.serve(
        "/.well-known/oauth-authorization-server/tenants/acme",
        Reply::json(&discovery_document(&issuer, &server.url(JWKS))),
    );
    let keys = RemoteKeySet::discover(issuer).build().expect("remote set");
    keys.warm_up().await.expect("discovered through RFC 8414");
    assert_eq!(server.hits("/tenants/acme/.well-known/openid-configuration"), 1, "OpenID first");
    assert_eq!(keys.status().kids, [key.kid.as_str()]);
}

#[tokio::test]
async fn discovery_refuses_metadata_naming_another_issuer() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = serving(&[&key]).await;
    server.serve(
        "/.well-known/openid-configuration",
        Reply::json(&discovery_document("https://evil.example", &server.url(JWKS))),
    );
    let keys = RemoteKeySet::discover(server.base()).build().expect("remote set");
    let error = keys.warm_up().await.expect_err("issuer mismatch");
    assert!(chain(&error).contains("issuer mismatch"), "{}", chain(&error));
    assert_eq!(server.hits(JWKS), 0, "the jwks_uri of a mismatched document is never fetched");
    assert_eq!(reason(verifier(&keys).verify(&token(&key))), Reason::KeysUnavailable);
}

#[tokio::test]
async fn discovery_refuses_a_plain_http_jwks_uri_to_another_host() {
    let server = JwksServer::start().await;
    server.serve(
        "/.well-known/openid-configuration",
        Reply::json(&discovery_document(&server.base(), "http://keys.example.com/jwks")),
    );
    let keys = RemoteKeySet::discover(server.base()).build().expect("remote set");
    let error = keys.warm_up().await.expect_err("http jwks_uri");
    assert!(chain(&error).contains("allow_http"), "{}", chain(&error));
}

#[tokio::test]
async fn an_oversized_document_is_refused() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = serving(&[&key]).await;
    let keys = RemoteKeySet::builder(server.url(JWKS)).max_response_bytes(64).build().expect("remote set");
    let error = keys.warm_up().await.expect_err("too large");
    assert!(chain(&error).contains("larger than 64 bytes"), "{}", chain(&error));
}

#[test]
fn building_checks_the_configuration_and_never_fetches() {
    let ok = RemoteKeySet::builder("https://auth.example.com/jwks").build().expect("https");
    assert_eq!(ok.metrics().fetches, 0);
    assert!(RemoteKeySet::builder("http://auth.example.com/jwks").build().is_err());
    assert!(RemoteKeySet::builder("not a url").build().is_err());
    assert!(RemoteKeySet::discover("http://idp.example.com").build().is_err());
    let zero = RemoteKeySet::builder("https://auth.example.com/jwks").unknown_kid_cooldown(Duration::ZERO);
    assert!(zero.build().is_err());
    let inverted = RemoteKeySet::builder("https://auth.example.com/jwks").refresh(
        Duration::from_secs(600),
        Duration::from_secs(60),
        Duration::from_secs(3600),
    );
    assert!(inverted.build().is_err());
}

#[test]
fn debug_output_names_the_source_but_never_the_keys_or_query() {
    let keys = RemoteKeySet::builder("https://auth.example.com/jwks?api_key=secret").build().expect("set");
    let debug = format!("{keys:?}");
    assert!(debug.contains("https://auth.example.com/jwks"), "{debug}");
    assert!(!debug.contains("secret"), "{debug}");
}

// ---------------------------------------------------------------------------------------
// Key rotation through the guard: the request that brings a new kid waits for its refetch
// ---------------------------------------------------------------------------------------

/// The guard over `verifier` in front of a handler that answers 200, answering statuses.
pub(crate) fn guarded(
    verifier: Verifier,
) -> BoxCloneSyncService<Request<Full<Bytes>>, StatusCode, Infallible> {
    let service =
        ServiceBuilder::new().layer(GuardLayer::new(verifier)).service_fn(|_: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        });
    BoxCloneSyncService::new(service.map_response(|response| response.status()))
}

pub(crate) async fn send(
    service: &BoxCloneSyncService<Request<Full<Bytes>>, StatusCode, Infallible>,
    token: &str,
) -> StatusCode {
    let request = Request::builder()
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    service.clone().oneshot(request).await.expect("infallible")
}

/// A provider that publishes the key `2025-01` and will rotate to `2025-02`, and a remote
/// set over it, warmed up.
struct Rotation {
    old: TestKey,
    new: TestKey,
    server: JwksServer,
    keys: RemoteKeySet,
}

async fn before_rotation() -> Rotation {
    let old = TestKey::generate_with_kid(Algorithm::ES256, "2025-01");
    let new = TestKey::generate_with_kid(Algorithm::ES256, "2025-02");
    let server = serving(&[&old]).await;
    let keys = RemoteKeySet::builder(server.url(JWKS)).build().expect("remote set");
    keys.warm_up().await.expect("warm-up");
    Rotation { old, new, server, keys }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newly_published_key_passes_on_its_first_request_through_the_guard() {
    let Rotation { old, new, server, keys } = before_rotation().await;
    let service = guarded(verifier(&keys));

    // The provider publishes the new key and signs with it at once.
    server.serve(JWKS, Reply::json(&jwks(&[&old.jwk, &new.jwk])));
    assert_eq!(send(&service, &token(&new)).await, StatusCode::OK, "the first request with the new kid");
    assert_eq!(send(&service, &token(&old)).await, StatusCode::OK, "the old key while it is published");
    assert_eq!(server.hits(JWKS), 2, "the warm-up and the one refetch");
    let metrics = keys.metrics();
    assert_eq!((metrics.refetches, metrics.refetch_waits, metrics.kid_misses), (1, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_with_the_same_new_kid_join_the_one_refetch_and_all_pass() {
    let Rotation { old, new, server, keys } = before_rotation().await;
    let service = guarded(verifier(&keys));

    // The provider takes 300 ms to answer: the others arrive while the refetch runs.
    server.serve(JWKS, Reply::json(&jwks(&[&old.jwk, &new.jwk])).delay(Duration::from_millis(300)));
    let new_token = token(&new);
    let first = tokio::spawn({
        let (service, token) = (service.clone(), new_token.clone());
        async move { send(&service, &token).await }
    });
    eventually("the refetch is in flight", || server.hits(JWKS) == 2).await;
    let joined: Vec<_> = (0..20)
        .map(|_| {
            let (service, token) = (service.clone(), new_token.clone());
            tokio::spawn(async move { send(&service, &token).await })
        })
        .collect();
    // Another unknown kid during the refetch does not wait for it.
    let started = Instant::now();
    assert_eq!(send(&service, &token_with_kid(&new, "2025-03")).await, StatusCode::UNAUTHORIZED);
    assert!(started.elapsed() < Duration::from_millis(150), "fails fast: {:?}", started.elapsed());

    assert_eq!(first.await.expect("task"), StatusCode::OK);
    for request in joined {
        assert_eq!(request.await.expect("task"), StatusCode::OK, "a request that joined the refetch");
    }
    assert_eq!(server.hits(JWKS), 2, "one refetch for 21 requests with the new kid");
    let metrics = keys.metrics();
    assert_eq!((metrics.refetches, metrics.refetch_waits, metrics.cooldown_rejections), (1, 21, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wait_is_bounded_by_the_configured_wait_and_the_fetch_timeout() {
    let key = TestKey::generate(Algorithm::ES256);
    let server = serving(&[&key]).await;
    for (wait, timeout, bound) in [
        (Duration::from_millis(300), Duration::from_secs(10), Duration::from_millis(300)),
        (Duration::from_secs(5), Duration::from_millis(400), Duration::from_millis(400)),
    ] {
        let keys = RemoteKeySet::builder(server.url(JWKS))
            .unknown_kid_wait(wait)
            .timeout(timeout)
            .build()
            .expect("set");
        keys.warm_up().await.expect("warm-up");
        let service = guarded(verifier(&keys));
        // The refetch hangs for 10 s.
        server.serve(JWKS, Reply::json(&jwks(&[&key.jwk])).delay(Duration::from_secs(10)));

        let started = Instant::now();
        assert_eq!(send(&service, &token_with_kid(&key, "next")).await, StatusCode::UNAUTHORIZED);
        let waited = started.elapsed();
        assert!(
            waited >= bound && waited < bound + Duration::from_millis(700),
            "{wait:?}/{timeout:?}: {waited:?}"
        );
        // During the cooldown, the same kid again fails at once.
        let started = Instant::now();
        assert_eq!(send(&service, &token_with_kid(&key, "next")).await, StatusCode::UNAUTHORIZED);
        assert!(started.elapsed() < Duration::from_millis(150), "cooldown: {:?}", started.elapsed());
        assert_eq!(send(&service, &token(&key)).await, StatusCode::OK, "known kids never wait");
        server.serve(JWKS, Reply::json(&jwks(&[&key.jwk])));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_async_waits_for_the_refetch_and_verify_does_not() {
    let Rotation { old, new, server, keys } = before_rotation().await;
    let verifier = verifier(&keys);
    server.serve(JWKS, Reply::json(&jwks(&[&old.jwk, &new.jwk])));
    let verified = verifier.verify_async(&token(&new)).await.expect("waits and passes");
    assert_eq!(verified.key_id(), Some("2025-02"));

    let newer = TestKey::generate_with_kid(Algorithm::ES256, "2025-03");
    server.serve(JWKS, Reply::json(&jwks(&[&new.jwk, &newer.jwk])));
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Within the cooldown nothing is refetched, waiting or not.
    assert_eq!(reason(verifier.verify(&token(&newer))), Reason::UnknownKid);
    assert_eq!(
        verifier.verify_async(&token(&newer)).await.map_err(|e| e.reason()).err(),
        Some(Reason::UnknownKid)
    );
}

/// `clients` clients send requests for `run` through a guard over a remote set whose
/// provider answers in 50 ms; at `rotate_at` the provider publishes a new key and every
/// client signs with it from then on. Returns the requests sent and those not answered 200.
async fn across_a_rotation(wait: Duration) -> (usize, usize) {
    let (clients, run, rotate_at) = (8, Duration::from_millis(800), Duration::from_millis(300));
    let old = TestKey::generate_with_kid(Algorithm::ES256, "2025-01");
    let new = TestKey::generate_with_kid(Algorithm::ES256, "2025-02");
    let server = JwksServer::start().await;
    server.serve(JWKS, Reply::json(&jwks(&[&old.jwk])).delay(Duration::from_millis(50)));
    let keys = RemoteKeySet::builder(server.url(JWKS)).unknown_kid_wait(wait).build().expect("remote set");
    keys.warm_up().await.expect("warm-up");
    let service = guarded(verifier(&keys));
    let rotated = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tokens = std::sync::Arc::new((token(&old), token(&new)));
    let start = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (service, rotated, tokens) = (service.clone(), rotated.clone(), tokens.clone());
            tokio::spawn(async move {
                let (mut sent, mut failed) = (0, 0);
                while start.elapsed() < run {
                    let token = if rotated.load(std::sync::atomic::Ordering::Acquire) {
                        &tokens.1
                    } else {
                        &tokens.0
                    };
                    sent += 1;
                    if send(&service, token).await != StatusCode::OK {
                        failed += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                (sent, failed)
            })
        })
        .collect();
    tokio::time::sleep(rotate_at).await;
    server.serve(JWKS, Reply::json(&jwks(&[&old.jwk, &new.jwk])).delay(Duration::from_millis(50)));
    rotated.store(true, std::sync::atomic::Ordering::Release);
    let (mut sent, mut failed) = (0, 0);
    for worker in workers {
        let (worker_sent, worker_failed) = worker.await.expect("client");
        sent += worker_sent;
        failed += worker_failed;
    }
    assert_eq!(keys.metrics().refetches, 1);
    (sent, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_fails_no_request_through_the_guard() {
    // Without waiting (the behaviour before the wait existed), every request with the
    // new kid fails until the refetch lands.
    let (sent, failed) = across_a_rotation(Duration::ZERO).await;
    println!("rotation, no wait: {failed} of {sent} requests failed");
    assert!(failed > 0, "the first request with the new kid fails when nothing waits");
    let (sent, failed) = across_a_rotation(Duration::from_secs(2)).await;
    println!("rotation, default wait: {failed} of {sent} requests failed");
    assert_eq!(failed, 0, "of {sent} requests across the rotation");
}

// ---------------------------------------------------------------------------------------
// A withdrawn key stops admitting the tokens it signed from the verified-token cache
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawn_key_stops_admitting_cached_tokens_once_the_set_without_it_is_published() {
    let Rotation { old, new, server, keys } = before_rotation().await;
    server.serve(JWKS, Reply::json(&jwks(&[&old.jwk, &new.jwk])));
    keys.warm_up().await.expect("both keys published");
    // The verified-token cache on (5 min by default).
    let verifier = Verifier::builder(keys.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .build()
        .expect("verifier");
    let (old_token, new_token) = (token(&old), token(&new));
    assert!(verifier.verify(&old_token).is_ok() && verifier.verify(&new_token).is_ok(), "both cached");

    // A refresh that only revalidates (same keys) changes nothing.
    keys.warm_up().await.expect("refresh");
    assert!(verifier.verify(&old_token).is_ok());

    // The provider withdraws the old key; the next fetch publishes the set without it.
    server.serve(JWKS, Reply::json(&jwks(&[&new.jwk])));
    keys.warm_up().await.expect("refresh");
    assert_eq!(
        reason(verifier.verify(&old_token)),
        Reason::UnknownKid,
        "the cached token is refused at once"
    );
    assert_eq!(reason(verifier.verify(&old_token)), Reason::UnknownKid, "and stays refused");
    assert!(verifier.verify(&new_token).is_ok(), "tokens of the keys still published pass");

    // A key replaced under the same kid is a withdrawal too.
    let impostor = TestKey::generate_with_kid(Algorithm::ES256, "2025-02");
    server.serve(JWKS, Reply::json(&jwks(&[&impostor.jwk])));
    keys.warm_up().await.expect("refresh");
    assert_eq!(reason(verifier.verify(&new_token)), Reason::BadSignature);
}
