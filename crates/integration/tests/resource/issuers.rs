//! A verifier that trusts several issuers, each with its own key source, audiences and
//! `typ` policy: tokens are routed by `iss` to exactly one issuer's keys, never tried
//! against the others.

use crate::jwks_server;
use crate::support;

use jwks_server::{jwks, JwksServer, Reply};
use serde_json::{json, Value};
use support::{user_claims, TestKey, NOW};
use tower_passport::error::Reason;
use tower_passport::{
    clock::ManualClock, verify::TrustedIssuer, Algorithm, AuthError, KeySet, RemoteKeySet, VerifiedToken,
    Verifier,
};

const PASSPORT: &str = "https://passport.test";
const PARTNER: &str = "https://partner.test";

fn claims(iss: &str, aud: &str) -> Value {
    let mut claims = user_claims("7", "read");
    claims["iss"] = json!(iss);
    claims["aud"] = json!(aud);
    claims
}

/// A token signed by `key`, with `typ` as given (None: no `typ`).
fn signed(key: &TestKey, claims: &Value, typ: Option<&str>) -> String {
    let mut header = key.header();
    header.typ = typ.map(str::to_owned);
    key.sign_with(&header, claims)
}

fn reason(result: Result<VerifiedToken, AuthError>) -> Reason {
    result.expect_err("rejected").reason()
}

/// Passport's own tokens: a static key, audience `orders`, `at+jwt` only. The partner's:
/// a JWKS served on loopback, audience `partner-api`, plain `JWT` accepted.
struct TwoIssuers {
    verifier: Verifier,
    passport_key: TestKey,
    partner_key: TestKey,
    partner_server: JwksServer,
}

async fn two_issuers(passport_kid: &str, partner_kid: &str) -> TwoIssuers {
    let passport_key = TestKey::generate_with_kid(Algorithm::ES256, passport_kid);
    let partner_key = TestKey::generate_with_kid(Algorithm::ES256, partner_kid);
    let partner_server = JwksServer::start().await;
    partner_server.serve("/jwks", Reply::json(&jwks(&[&partner_key.jwk])));
    let partner_keys = RemoteKeySet::builder(partner_server.url("/jwks")).build().expect("remote set");
    let verifier = Verifier::trusting(
        TrustedIssuer::new(PASSPORT, KeySet::new().with_key(passport_key.verifying_key())).audience("orders"),
    )
    .trust(TrustedIssuer::new(PARTNER, partner_keys).audience("partner-api").accept_generic_jwt_typ())
    .clock(ManualClock::new(NOW))
    .no_cache()
    .build()
    .expect("verifier");
    verifier.warm_up().await.expect("warm-up");
    assert_eq!(partner_server.hits("/jwks"), 1);
    TwoIssuers { verifier, passport_key, partner_key, partner_server }
}

#[tokio::test]
async fn tokens_are_routed_by_iss_to_their_issuer() {
    let setup = two_issuers("passport-1", "partner-1").await;
    let ours =
        setup.verifier.verify(&setup.passport_key.sign(&claims(PASSPORT, "orders"))).expect("passport");
    assert_eq!(ours.issuer(), PASSPORT);
    let theirs = setup
        .verifier
        .verify(&signed(&setup.partner_key, &claims(PARTNER, "partner-api"), Some("JWT")))
        .expect("partner");
    assert_eq!(theirs.issuer(), PARTNER);
    assert_eq!(theirs.key_id(), Some("partner-1"));
}

#[tokio::test]
async fn an_unknown_iss_is_invalid_token_and_touches_no_key_source() {
    let setup = two_issuers("passport-1", "partner-1").await;
    let stranger = setup.partner_key.sign(&claims("https://stranger.test", "partner-api"));
    let error = setup.verifier.verify(&stranger).expect_err("untrusted issuer");
    assert_eq!(error.reason(), Reason::WrongIssuer);
    assert_eq!(error.error_code(), Some("invalid_token"));
    let mut no_iss = claims(PASSPORT, "orders");
    no_iss.as_object_mut().expect("object").remove("iss");
    assert_eq!(reason(setup.verifier.verify(&setup.passport_key.sign(&no_iss))), Reason::WrongIssuer);
    assert_eq!(setup.partner_server.hits("/jwks"), 1, "no fetch for a token no issuer claims");
}

#[tokio::test]
async fn a_token_naming_issuer_a_but_signed_by_issuer_b_is_refused_without_trying_b() {
    // Different kids: issuer A's keys have no such kid.
    let setup = two_issuers("passport-1", "partner-1").await;
    let forged = setup.partner_key.sign(&claims(PASSPORT, "orders"));
    assert_eq!(reason(setup.verifier.verify(&forged)), Reason::UnknownKid);

    // The same kid on both sides: issuer A's key is chosen, and the signature fails.
    let setup = two_issuers("k1", "k1").await;
    let forged = setup.partner_key.sign(&claims(PASSPORT, "orders"));
    assert_eq!(reason(setup.verifier.verify(&forged)), Reason::BadSignature);
    assert!(setup.verifier.verify(&setup.passport_key.sign(&claims(PASSPORT, "orders"))).is_ok());

    // The other way round, against the remote set.
    let forged = signed(&setup.passport_key, &claims(PARTNER, "partner-api"), Some("JWT"));
    assert_eq!(reason(setup.verifier.verify(&forged)), Reason::BadSignature);
    assert_eq!(setup.partner_server.hits("/jwks"), 1, "a known kid never refetches");
}

#[tokio::test]
async fn audiences_and_typ_policies_are_per_issuer() {
    let setup = two_issuers("passport-1", "partner-1").await;
    let (verifier, ours, theirs) = (&setup.verifier, &setup.passport_key, &setup.partner_key);
    assert_eq!(reason(verifier.verify(&ours.sign(&claims(PASSPORT, "partner-api")))), Reason::WrongAudience);
    assert_eq!(reason(verifier.verify(&theirs.sign(&claims(PARTNER, "orders")))), Reason::WrongAudience);
    assert_eq!(
        reason(verifier.verify(&signed(ours, &claims(PASSPORT, "orders"), Some("JWT")))),
        Reason::WrongType
    );
    assert_eq!(reason(verifier.verify(&signed(ours, &claims(PASSPORT, "orders"), None))), Reason::WrongType);
    assert!(verifier.verify(&signed(theirs, &claims(PARTNER, "partner-api"), None)).is_ok());
    assert!(verifier.verify(&signed(theirs, &claims(PARTNER, "partner-api"), Some("at+jwt"))).is_ok());
}

#[tokio::test]
async fn warm_up_fetches_every_remote_set_and_reports_the_first_failure() {
    let key = TestKey::generate(Algorithm::ES256);
    let (good, bad) = (JwksServer::start().await, JwksServer::start().await);
    good.serve("/jwks", Reply::json(&jwks(&[&key.jwk])));
    let remote =
        |server: &JwksServer| RemoteKeySet::builder(server.url("/jwks")).build().expect("remote set");
    let verifier = Verifier::builder(remote(&good))
        .issuer(PASSPORT)
        .audience("orders")
        .trust(TrustedIssuer::new(PARTNER, remote(&bad)).audience("orders"))
        .build()
        .expect("verifier");
    let error = verifier.warm_up().await.expect_err("the partner's JWKS is missing");
    assert!(error.to_string().contains("answered 404"), "{error}");
    assert_eq!((good.hits("/jwks"), bad.hits("/jwks")), (1, 1));
}

#[test]
fn every_issuer_is_checked_when_building() {
    let key = TestKey::generate(Algorithm::ES256);
    let keys = || KeySet::new().with_key(key.verifying_key());
    let base = || Verifier::builder(keys()).issuer(PASSPORT).audience("orders");
    assert!(base().build().is_ok());
    let twice = base().trust(TrustedIssuer::new(PASSPORT, keys()).audience("orders")).build();
    assert!(twice.expect_err("duplicate").to_string().contains("trusted twice"));
    let no_audience = base().trust(TrustedIssuer::new(PARTNER, keys())).build();
    assert!(no_audience.expect_err("audience").to_string().contains("needs an audience"));
    let no_keys = base().trust(TrustedIssuer::new(PARTNER, KeySet::new()).audience("orders")).build();
    assert!(no_keys.expect_err("keys").to_string().contains("needs at least one key"));
    let empty = base().trust(TrustedIssuer::new("", keys()).audience("orders")).build();
    assert!(empty.is_err());
}

#[test]
fn the_single_issuer_builder_still_names_what_is_missing() {
    let key = TestKey::generate(Algorithm::ES256);
    let keys = || KeySet::new().with_key(key.verifying_key());
    let no_issuer = Verifier::builder(keys()).audience("orders").build().expect_err("issuer");
    assert_eq!(no_issuer.to_string(), "the verifier needs an issuer (VerifierBuilder::issuer)");
    let no_audience = Verifier::builder(keys()).issuer(PASSPORT).build().expect_err("audience");
    assert_eq!(no_audience.to_string(), "the verifier needs an audience (VerifierBuilder::audience)");
    let no_keys = Verifier::builder(KeySet::new()).issuer(PASSPORT).audience("orders").build();
    assert_eq!(no_keys.expect_err("keys").to_string(), "the verifier needs at least one key");
}
