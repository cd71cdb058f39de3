//! The Verifier: signature, algorithm binding, time, issuer, audience, `typ`, key
//! selection, claims parsing, scopes, principal kind and the verified-token cache. Every
//! rejection is asserted by its exact `Reason`.

use crate::issuer_support;
use crate::support;

use std::sync::OnceLock;
use std::time::Duration;

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use proptest::prelude::*;
use serde_json::{json, Value};
use support::{TestKey, AUDIENCE, ISSUER, NOW};
use tower_passport::error::Reason;
use tower_passport::keys::SharedKeySet;
use tower_passport::{
    clock::ManualClock, token::PrincipalKind, verify::ClientTokenRule, verify::TypPolicy,
    verify::VerifierBuilder, Algorithm, AuthError, KeySet, VerifiedToken, Verifier, VerifyingKey,
};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn builder(keys: &[&TestKey], clock: &ManualClock) -> VerifierBuilder {
    let set = keys.iter().fold(KeySet::new(), |set, key| set.with_key(key.verifying_key()));
    Verifier::builder(set).issuer(ISSUER).audience(AUDIENCE).clock(clock.clone())
}

fn setup(keys: &[&TestKey]) -> (Verifier, ManualClock) {
    let clock = ManualClock::new(NOW);
    (builder(keys, &clock).build().expect("verifier"), clock)
}

fn reason(result: Result<VerifiedToken, AuthError>) -> Reason {
    result.expect_err("the token must be refused").reason()
}

fn es256() -> TestKey {
    TestKey::generate(Algorithm::ES256)
}

fn hs256() -> TestKey {
    TestKey::generate(Algorithm::HS256)
}

fn claims() -> Value {
    support::user_claims("42", "read")
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn parts(token: &str) -> (&str, &str, &str) {
    let mut parts = token.split('.');
    let parts = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    assert_eq!(token.matches('.').count(), 2, "a compact JWS");
    parts
}

/// `token` with the first byte of its signature flipped.
fn flip_signature(token: &str) -> String {
    let (header, payload, signature) = parts(token);
    let mut signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    signature[0] ^= 0x01;
    format!("{header}.{payload}.{}", b64(&signature))
}

/// A header like `key.header()` with its `typ` replaced.
fn header_with_typ(key: &TestKey, typ: Option<&str>) -> Header {
    let mut header = key.header();
    header.typ = typ.map(str::to_owned);
    header
}

/// A header like `key.header()` with its `kid` replaced.
fn header_with_kid(key: &TestKey, kid: Option<&str>) -> Header {
    let mut header = key.header();
    header.kid = kid.map(str::to_owned);
    header
}

/// HMAC-signs `signing_input` with an HS* test key: the compact token.
fn hmac_sign(key: &TestKey, signing_input: &str) -> String {
    let algorithm = match key.alg {
        Algorithm::HS256 => hmac::HMAC_SHA256,
        Algorithm::HS384 => hmac::HMAC_SHA384,
        Algorithm::HS512 => hmac::HMAC_SHA512,
        other => panic!("{other} is not HMAC"),
    };
    let tag = hmac::sign(&hmac::Key::new(algorithm, &key.public_der), signing_input.as_bytes());
    format!("{signing_input}.{}", b64(tag.as_ref()))
}

/// A token whose header and payload are exactly these JSON texts, validly HMAC-signed.
fn hmac_token(key: &TestKey, header: &str, payload: &str) -> String {
    hmac_sign(key, &format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes())))
}

fn hs256_header_text() -> String {
    r#"{"alg":"HS256","typ":"at+jwt","kid":"hs256-key"}"#.to_owned()
}

/// The JSON text of valid claims, with the registered members in a fixed order.
fn claims_text() -> String {
    format!(
        r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"42","client_id":"app","iat":{NOW},"exp":{},"jti":"t1","scope":"read"}}"#,
        NOW + 600
    )
}

// ---------------------------------------------------------------------------------------
// Signatures and algorithm confusion
// ---------------------------------------------------------------------------------------

#[test]
fn a_valid_token_verifies_under_every_algorithm() {
    for alg in [
        Algorithm::RS256,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
        Algorithm::HS512,
    ] {
        let key = TestKey::generate(alg);
        let (verifier, _) = setup(&[&key]);
        let verified = verifier.verify(&key.sign(&claims())).expect("valid");
        assert_eq!(verified.subject(), Some("42"), "{alg}");
    }
}

#[test]
fn hs256_token_signed_with_the_rsa_public_key_and_its_kid_is_algorithm_mismatch() {
    let rsa = TestKey::generate(Algorithm::RS256);
    let (verifier, _) = setup(&[&rsa]);
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(rsa.kid.clone());
    for secret in [rsa.public_pem.as_bytes(), &rsa.public_der] {
        let token = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(secret)).unwrap();
        assert_eq!(reason(verifier.verify(&token)), Reason::AlgorithmMismatch);
    }
}

#[test]
fn hs256_token_signed_with_the_rsa_public_key_without_kid_is_ambiguous_key() {
    let rsa = TestKey::generate(Algorithm::RS256);
    let (verifier, _) = setup(&[&rsa]);
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    let token =
        jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(rsa.public_pem.as_bytes()))
            .unwrap();
    // No HS256 key at all: nothing to choose.
    assert_eq!(reason(verifier.verify(&token)), Reason::AmbiguousKey);

    // With a real HS256 key beside the RSA key, that key is used, and the forgery fails.
    let hs = hs256();
    let (verifier, _) = setup(&[&rsa, &hs]);
    assert_eq!(reason(verifier.verify(&token)), Reason::BadSignature);
}

#[test]
fn alg_none_with_an_empty_signature_is_malformed_token() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for header in
        [json!({"alg": "none", "typ": "at+jwt"}), json!({"alg": "none", "typ": "at+jwt", "kid": key.kid})]
    {
        let token = support::raw_token(&header, &claims(), b"");
        assert!(token.ends_with('.'));
        assert_eq!(reason(verifier.verify(&token)), Reason::MalformedToken);
    }
}

#[test]
fn alg_none_with_a_junk_signature_is_unsupported_algorithm() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for alg in ["none", "None", "NONE", "nOnE"] {
        for header in
            [json!({"alg": alg, "typ": "at+jwt"}), json!({"alg": alg, "typ": "at+jwt", "kid": key.kid})]
        {
            let token = support::raw_token(&header, &claims(), b"junk");
            assert_eq!(reason(verifier.verify(&token)), Reason::UnsupportedAlgorithm, "{header}");
        }
    }
    // The generic-typ policy changes nothing.
    let clock = ManualClock::new(NOW);
    let verifier = builder(&[&key], &clock).accept_generic_jwt_typ().build().unwrap();
    let token = support::raw_token(&json!({"alg": "none"}), &claims(), b"junk");
    assert_eq!(reason(verifier.verify(&token)), Reason::UnsupportedAlgorithm);
}

#[test]
fn unknown_algorithms_are_unsupported_algorithm() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for alg in ["ES512", "HS1", "RS1", "es256", "ES256 ", "ML-DSA-44", ""] {
        let header = json!({"alg": alg, "typ": "at+jwt", "kid": key.kid});
        let token = support::raw_token(&header, &claims(), b"junk");
        assert_eq!(reason(verifier.verify(&token)), Reason::UnsupportedAlgorithm, "{alg:?}");
    }
}

#[test]
fn a_flipped_signature_byte_is_bad_signature() {
    for alg in [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA, Algorithm::HS256] {
        let key = TestKey::generate(alg);
        let (verifier, _) = setup(&[&key]);
        let token = key.sign(&claims());
        assert!(verifier.verify(&token).is_ok(), "{alg}");
        assert_eq!(reason(verifier.verify(&flip_signature(&token))), Reason::BadSignature, "{alg}");
        // A truncated signature.
        let (header, payload, signature) = parts(&token);
        let mut short = URL_SAFE_NO_PAD.decode(signature).unwrap();
        short.pop();
        let truncated = format!("{header}.{payload}.{}", b64(&short));
        assert_eq!(reason(verifier.verify(&truncated)), Reason::BadSignature, "{alg}");
    }
}

/// The verifier keeps the JOSE headers of tokens that verified, parsed: a later token with
/// the same header skips its parse, and nothing else.
#[test]
fn a_header_seen_before_skips_no_check_of_the_signature_or_the_claims() {
    let key = TestKey::generate(Algorithm::ES256);
    let (verifier, _) = setup(&[&key]);
    let token = key.sign(&claims());
    assert!(verifier.verify(&token).is_ok());
    let same_header = |claims: &Value| {
        let signed = key.sign(claims);
        assert_eq!(parts(&signed).0, parts(&token).0, "the same header text");
        signed
    };
    let mut expired = claims();
    expired["exp"] = json!(NOW - 3_600);
    assert_eq!(reason(verifier.verify(&same_header(&expired))), Reason::Expired);
    let mut elsewhere = claims();
    elsewhere["aud"] = json!("another-api");
    assert_eq!(reason(verifier.verify(&same_header(&elsewhere))), Reason::WrongAudience);
    let other = same_header(&support::user_claims("43", "read"));
    assert_eq!(reason(verifier.verify(&flip_signature(&other))), Reason::BadSignature);
    assert!(verifier.verify_uncached(&other, NOW).is_ok(), "and a good one still passes");
}

#[test]
fn a_signature_by_another_key_with_the_same_alg_and_kid_is_bad_signature() {
    for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA] {
        let trusted = TestKey::generate_with_kid(alg, "signing-key");
        let attacker = TestKey::generate_with_kid(alg, "signing-key");
        let (verifier, _) = setup(&[&trusted]);
        assert!(verifier.verify(&trusted.sign(&claims())).is_ok());
        assert_eq!(reason(verifier.verify(&attacker.sign(&claims()))), Reason::BadSignature, "{alg}");
    }
}

#[test]
fn a_tampered_payload_is_bad_signature() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let token = key.sign(&claims());
    let (header, _, signature) = parts(&token);
    let mut elevated = claims();
    elevated["scope"] = json!("read admin");
    let forged = format!("{header}.{}.{signature}", b64(elevated.to_string().as_bytes()));
    assert_eq!(reason(verifier.verify(&forged)), Reason::BadSignature);
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

#[test]
fn exp_beyond_the_leeway_is_expired() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for exp in [NOW - 61, NOW - 3600, 0] {
        let mut claims = claims();
        claims["iat"] = json!(exp.saturating_sub(600));
        claims["exp"] = json!(exp);
        assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::Expired, "exp {exp}");
    }
    let mut claims = claims();
    claims["exp"] = json!(-5);
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::Expired);
}

#[test]
fn exp_within_the_default_leeway_of_60_seconds_passes() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for exp in [NOW - 59, NOW - 30, NOW - 1, NOW + 1] {
        let mut claims = claims();
        claims["exp"] = json!(exp);
        let verified = verifier.verify(&key.sign(&claims)).expect("within the leeway");
        assert_eq!(verified.expires_at(), exp);
    }
}

#[test]
fn zero_leeway_rejects_a_token_that_expired_a_second_ago() {
    let key = es256();
    let clock = ManualClock::new(NOW);
    let verifier = builder(&[&key], &clock).leeway(Duration::ZERO).build().unwrap();
    let mut claims = claims();
    claims["exp"] = json!(NOW - 1);
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::Expired);
    claims["exp"] = json!(NOW + 1);
    assert!(verifier.verify(&key.sign(&claims)).is_ok());
}

#[test]
fn a_token_is_expired_at_the_exact_second_of_exp_without_leeway() {
    let key = es256();
    let clock = ManualClock::new(NOW);
    let verifier = builder(&[&key], &clock).leeway(Duration::ZERO).build().unwrap();
    let mut claims = claims();
    claims["exp"] = json!(NOW);
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::Expired);
}

#[test]
fn a_custom_leeway_bounds_exp_nbf_and_iat() {
    let key = es256();
    let clock = ManualClock::new(NOW);
    let verifier = builder(&[&key], &clock).leeway(Duration::from_secs(10)).build().unwrap();
    let with = |name: &str, value: u64| {
        let mut claims = claims();
        claims[name] = json!(value);
        verifier.verify(&key.sign(&claims))
    };
    // RFC 7519 §4.1.4: valid strictly before exp (+ leeway).
    assert!(with("exp", NOW - 9).is_ok());
    assert_eq!(reason(with("exp", NOW - 10)), Reason::Expired);
    assert!(with("nbf", NOW + 10).is_ok());
    assert_eq!(reason(with("nbf", NOW + 11)), Reason::NotYetValid);
    assert!(with("iat", NOW + 10).is_ok());
    assert_eq!(reason(with("iat", NOW + 11)), Reason::IssuedInFuture);
}

#[test]
fn a_missing_exp_is_missing_expiry() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove("exp");
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::MissingExpiry);
    claims["exp"] = Value::Null;
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::MissingExpiry);
}

#[test]
fn an_exp_that_is_not_a_number_is_malformed_claims() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for exp in [json!(format!("{}", NOW + 600)), json!(true), json!([NOW + 600]), json!({"t": NOW})] {
        let mut claims = claims();
        claims["exp"] = exp.clone();
        assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::MalformedClaims, "{exp}");
    }
}

#[test]
fn nbf_in_the_future_beyond_the_leeway_is_not_yet_valid() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims["nbf"] = json!(NOW + 61);
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::NotYetValid);
}

#[test]
fn nbf_in_the_future_within_the_leeway_passes() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims["nbf"] = json!(NOW + 60);
    let verified = verifier.verify(&key.sign(&claims)).expect("within the leeway");
    assert_eq!(verified.not_before(), Some(NOW + 60));
}

#[test]
fn iat_in_the_future_is_issued_in_future() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims["iat"] = json!(NOW + 61);
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::IssuedInFuture);
    claims["iat"] = json!(NOW + 60);
    assert_eq!(verifier.verify(&key.sign(&claims)).unwrap().issued_at(), Some(NOW + 60));
}

#[test]
fn fractional_numeric_dates_are_accepted() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims["exp"] = json!(NOW as f64 + 600.75);
    claims["iat"] = json!(NOW as f64 - 0.5);
    claims["nbf"] = json!(NOW as f64 + 0.25);
    let verified = verifier.verify(&key.sign(&claims)).expect("fractional dates");
    assert_eq!(verified.expires_at(), NOW + 600);
    assert_eq!(verified.issued_at(), Some(NOW - 1));
    assert_eq!(verified.not_before(), Some(NOW));

    // A fractional exp is still checked (truncated): 60.5 s ago is past the 60 s leeway,
    // 58.5 s is not.
    claims["exp"] = json!(NOW as f64 - 60.5);
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::Expired);
    claims["exp"] = json!(NOW as f64 - 58.5);
    assert!(verifier.verify(&key.sign(&claims)).is_ok());
    // And a fractional nbf beyond the leeway too.
    claims["exp"] = json!(NOW + 600);
    claims["nbf"] = json!(NOW as f64 + 61.5);
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::NotYetValid);
}

#[test]
fn the_verifier_reads_its_clock_on_every_call() {
    let key = es256();
    let clock = ManualClock::new(NOW);
    let verifier = builder(&[&key], &clock).no_cache().build().unwrap();
    let token = key.sign(&claims());
    // NOW lies after the system clock: accepting the token shows the verifier reads `clock`.
    assert!(verifier.verify(&token).is_ok());
    clock.set(NOW + 600 + 59);
    assert!(verifier.verify(&token).is_ok());
    clock.advance(1);
    assert_eq!(reason(verifier.verify(&token)), Reason::Expired);
}

// ---------------------------------------------------------------------------------------
// Issuer and audience
// ---------------------------------------------------------------------------------------

#[test]
fn a_wrong_issuer_is_wrong_issuer() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for iss in ["https://evil.test", "https://auth.test/", "HTTPS://AUTH.TEST", "https://auth.tes", ""] {
        let mut claims = claims();
        claims["iss"] = json!(iss);
        assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::WrongIssuer, "{iss:?}");
    }
}

#[test]
fn a_missing_issuer_is_wrong_issuer() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove("iss");
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::WrongIssuer);
    claims["iss"] = Value::Null;
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::WrongIssuer);
}

#[test]
fn a_wrong_audience_is_wrong_audience() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for aud in [json!("other-api"), json!("TEST-API"), json!(["a", "b"]), json!(["test-api "]), json!([])] {
        let mut claims = claims();
        claims["aud"] = aud.clone();
        assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::WrongAudience, "{aud}");
    }
}

#[test]
fn a_missing_audience_is_wrong_audience() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove("aud");
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::WrongAudience);
    claims["aud"] = Value::Null;
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::WrongAudience);
}

#[test]
fn an_audience_array_containing_the_audience_passes() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims["aud"] = json!(["billing-api", AUDIENCE]);
    let verified = verifier.verify(&key.sign(&claims)).expect("our audience is in the array");
    assert_eq!(verified.audience().collect::<Vec<_>>(), ["billing-api", AUDIENCE]);
}

#[test]
fn a_single_string_audience_is_not_split_on_spaces() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    // RFC 7519 §4.1.3: a string `aud` is one StringOrURI value, not a list.
    for aud in [format!("other-api {AUDIENCE}"), format!("{AUDIENCE} "), format!(" {AUDIENCE}")] {
        claims["aud"] = json!(aud);
        assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::WrongAudience, "{aud:?}");
    }
}

#[test]
fn several_configured_audiences_each_pass() {
    let key = es256();
    let clock = ManualClock::new(NOW);
    let verifier = builder(&[&key], &clock).audience("second-api").build().unwrap();
    for aud in [json!(AUDIENCE), json!("second-api"), json!(["x", "second-api"])] {
        let mut claims = claims();
        claims["aud"] = aud.clone();
        assert!(verifier.verify(&key.sign(&claims)).is_ok(), "{aud}");
    }
    let mut claims = claims();
    claims["aud"] = json!("third-api");
    assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::WrongAudience);
}

#[test]
fn the_builder_requires_an_issuer_an_audience_and_a_key() {
    let key = es256();
    let keys = || KeySet::new().with_key(key.verifying_key());
    assert!(Verifier::builder(keys()).audience(AUDIENCE).build().is_err());
    assert!(Verifier::builder(keys()).issuer("").audience(AUDIENCE).build().is_err());
    assert!(Verifier::builder(keys()).issuer(ISSUER).build().is_err());
    assert!(Verifier::builder(keys()).issuer(ISSUER).audience("").build().is_err());
    assert!(Verifier::builder(KeySet::new()).issuer(ISSUER).audience(AUDIENCE).build().is_err());
    assert!(Verifier::builder(keys()).issuer(ISSUER).audience(AUDIENCE).build().is_ok());
}

// ---------------------------------------------------------------------------------------
// typ
// ---------------------------------------------------------------------------------------

#[test]
fn the_default_typ_policy_accepts_at_jwt_case_insensitively() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for typ in
        ["at+jwt", "AT+JWT", "At+Jwt", "application/at+jwt", "Application/AT+JWT", "APPLICATION/at+jwt"]
    {
        let token = key.sign_with(&header_with_typ(&key, Some(typ)), &claims());
        assert!(verifier.verify(&token).is_ok(), "{typ}");
    }
}

#[test]
fn the_default_typ_policy_rejects_jwt_and_a_missing_typ() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    assert_eq!(TypPolicy::default(), TypPolicy::AccessTokenOnly);
    for typ in [Some("JWT"), Some("jwt"), Some("application/jwt"), None] {
        let token = key.sign_with(&header_with_typ(&key, typ), &claims());
        assert_eq!(reason(verifier.verify(&token)), Reason::WrongType, "{typ:?}");
    }
}

#[test]
fn the_default_typ_policy_rejects_other_types() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for typ in ["id_token+jwt", "JOSE", "at+jwt+x", "application/", "", "application/application/at+jwt"] {
        let token = key.sign_with(&header_with_typ(&key, Some(typ)), &claims());
        assert_eq!(reason(verifier.verify(&token)), Reason::WrongType, "{typ:?}");
    }
}

#[test]
fn accept_generic_jwt_typ_accepts_jwt_and_a_missing_typ() {
    let key = es256();
    let clock = ManualClock::new(NOW);
    let verifier = builder(&[&key], &clock).accept_generic_jwt_typ().build().unwrap();
    for typ in
        [Some("JWT"), Some("jwt"), Some("application/JWT"), None, Some("at+jwt"), Some("application/at+jwt")]
    {
        let token = key.sign_with(&header_with_typ(&key, typ), &claims());
        assert!(verifier.verify(&token).is_ok(), "{typ:?}");
    }
    // The same through typ_policy.
    let verifier = builder(&[&key], &clock).typ_policy(TypPolicy::AllowGenericJwt).build().unwrap();
    assert!(verifier.verify(&key.sign_with(&header_with_typ(&key, None), &claims())).is_ok());
}

#[test]
fn accept_generic_jwt_typ_still_rejects_other_types() {
    let key = es256();
    let clock = ManualClock::new(NOW);
    let verifier = builder(&[&key], &clock).accept_generic_jwt_typ().build().unwrap();
    for typ in ["id_token+jwt", "application/id_token+jwt", "logout+jwt", "JWS", "JOSE+JSON", ""] {
        let token = key.sign_with(&header_with_typ(&key, Some(typ)), &claims());
        assert_eq!(reason(verifier.verify(&token)), Reason::WrongType, "{typ:?}");
    }
}

// ---------------------------------------------------------------------------------------
// kid and key selection
// ---------------------------------------------------------------------------------------

#[test]
fn an_unknown_kid_is_unknown_kid() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for kid in ["no-such-key", "", "ES256-KEY", "es256-key "] {
        let token = key.sign_with(&header_with_kid(&key, Some(kid)), &claims());
        assert_eq!(reason(verifier.verify(&token)), Reason::UnknownKid, "{kid:?}");
    }
}

#[test]
fn no_kid_with_exactly_one_key_of_that_alg_passes() {
    let es = es256();
    let ed = TestKey::generate(Algorithm::EdDSA);
    let (verifier, _) = setup(&[&es, &ed]);
    let token = es.sign_with(&header_with_kid(&es, None), &claims());
    let verified = verifier.verify(&token).expect("the only ES256 key");
    assert_eq!(verified.key_id(), None);
    let token = ed.sign_with(&header_with_kid(&ed, None), &claims());
    assert!(verifier.verify(&token).is_ok());
}

#[test]
fn no_kid_with_two_keys_of_that_alg_is_ambiguous_key() {
    let first = TestKey::generate_with_kid(Algorithm::ES256, "first");
    let second = TestKey::generate_with_kid(Algorithm::ES256, "second");
    let (verifier, _) = setup(&[&first, &second]);
    let token = first.sign_with(&header_with_kid(&first, None), &claims());
    assert_eq!(reason(verifier.verify(&token)), Reason::AmbiguousKey);
    // Naming the key resolves it.
    assert_eq!(verifier.verify(&first.sign(&claims())).unwrap().key_id(), Some("first"));
    assert_eq!(verifier.verify(&second.sign(&claims())).unwrap().key_id(), Some("second"));
}

#[test]
fn no_kid_with_no_key_of_that_alg_is_ambiguous_key() {
    let es = es256();
    let ed = TestKey::generate(Algorithm::EdDSA);
    let (verifier, _) = setup(&[&es]);
    let token = ed.sign_with(&header_with_kid(&ed, None), &claims());
    assert_eq!(reason(verifier.verify(&token)), Reason::AmbiguousKey);
}

#[test]
fn the_kid_of_a_key_with_another_alg_is_algorithm_mismatch() {
    let es = es256();
    let ed = TestKey::generate(Algorithm::EdDSA);
    let (verifier, _) = setup(&[&es, &ed]);
    let token = ed.sign_with(&header_with_kid(&ed, Some(&es.kid)), &claims());
    assert_eq!(reason(verifier.verify(&token)), Reason::AlgorithmMismatch);
}

#[test]
fn one_kid_on_keys_of_different_algs_selects_by_alg() {
    let es = TestKey::generate_with_kid(Algorithm::ES256, "shared");
    let ed = TestKey::generate_with_kid(Algorithm::EdDSA, "shared");
    let (verifier, _) = setup(&[&es, &ed]);
    assert!(verifier.verify(&es.sign(&claims())).is_ok());
    assert!(verifier.verify(&ed.sign(&claims())).is_ok());
    let hs = TestKey::generate_with_kid(Algorithm::HS256, "shared");
    assert_eq!(reason(verifier.verify(&hs.sign(&claims()))), Reason::AlgorithmMismatch);
}

#[test]
fn a_key_loaded_without_a_kid_is_found_by_its_thumbprint_or_by_no_kid() {
    let key = es256();
    let loaded = VerifyingKey::from_pem(key.public_pem.as_bytes(), Algorithm::ES256).unwrap();
    let thumbprint = loaded.kid().expect("a thumbprint").to_owned();
    let clock = ManualClock::new(NOW);
    let verifier = Verifier::builder(KeySet::new().with_key(loaded))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(clock)
        .build()
        .unwrap();
    // Another kid (the one the signer was given) is unknown.
    assert_eq!(reason(verifier.verify(&key.sign(&claims()))), Reason::UnknownKid);
    let by_thumbprint = key.sign_with(&header_with_kid(&key, Some(&thumbprint)), &claims());
    assert_eq!(
        verifier.verify(&by_thumbprint).expect("named by its thumbprint").key_id(),
        Some(&*thumbprint)
    );
    assert!(verifier.verify(&key.sign_with(&header_with_kid(&key, None), &claims())).is_ok());
}

#[tokio::test]
async fn the_issuers_pem_public_key_verifies_the_issuers_tokens() {
    use std::sync::Arc;
    use tower_passport_issuer::store::MemoryStore;
    use tower_passport_issuer::{Issuer, SigningKey};
    for alg in [Algorithm::ES256, Algorithm::RS256, Algorithm::EdDSA] {
        let signing = SigningKey::generate(alg).expect("key");
        let pem = signing.to_public_pem().expect("public PEM");
        let issuer = Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
            .audience(AUDIENCE)
            .signing_key(signing)
            .build()
            .expect("issuer");
        let (client_id, token) = issuer_support::client_credentials_token(&issuer, None).await;
        // Only the PEM, as a resource server is given it: no key id.
        let key = VerifyingKey::from_pem_infer_alg(pem.as_bytes()).expect("PEM");
        let verifier = Verifier::builder(KeySet::new().with_key(key))
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .build()
            .expect("verifier");
        let verified = verifier.verify(&token).unwrap_or_else(|e| panic!("{alg}: {:?}", e.reason()));
        assert_eq!(verified.client_id(), Some(client_id.as_str()));
    }
}

// ---------------------------------------------------------------------------------------
// Header and claims parsing, token shape
// ---------------------------------------------------------------------------------------

#[test]
fn a_crit_header_is_malformed_header_parameters() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for crit in [vec!["exp".to_owned()], vec!["b64".to_owned()], vec![]] {
        let mut header = key.header();
        header.crit = Some(crit.clone());
        let token = key.sign_with(&header, &claims());
        assert_eq!(reason(verifier.verify(&token)), Reason::MalformedHeaderParameters, "{crit:?}");
    }
    // Baseline: the same header without crit passes.
    assert!(verifier.verify(&key.sign(&claims())).is_ok());
}

#[test]
fn a_crit_header_of_null_is_malformed_header_parameters() {
    let hs = hs256();
    let (verifier, _) = setup(&[&hs]);
    let token =
        hmac_token(&hs, r#"{"alg":"HS256","typ":"at+jwt","kid":"hs256-key","crit":null}"#, &claims_text());
    assert_eq!(reason(verifier.verify(&token)), Reason::MalformedHeaderParameters);
}

#[test]
fn hand_built_tokens_verify() {
    // The baseline for the hand-built tokens below: the helper signs correctly.
    let hs = hs256();
    let (verifier, _) = setup(&[&hs]);
    let verified = verifier.verify(&hmac_token(&hs, &hs256_header_text(), &claims_text())).expect("valid");
    assert_eq!(verified.jti(), Some("t1"));
    // JSON escapes in the header are decoded before comparison.
    let escaped = r#"{"alg":"HS\u0032\u0035\u0036","typ":"at\u002bjwt","kid":"hs256\u002dkey"}"#;
    let verified = verifier.verify(&hmac_token(&hs, escaped, &claims_text())).expect("escaped header");
    assert_eq!(verified.key_id(), Some("hs256-key"));
}

#[test]
fn a_duplicate_exp_claim_is_malformed_claims() {
    let hs = hs256();
    let (verifier, _) = setup(&[&hs]);
    // The second exp would be expired; the first is not. Neither wins: the token is refused.
    let payload = claims_text().replacen('{', &format!(r#"{{"exp":{},"#, NOW - 3600), 1);
    assert_eq!(payload.matches("\"exp\"").count(), 2);
    let token = hmac_token(&hs, &hs256_header_text(), &payload);
    assert_eq!(reason(verifier.verify(&token)), Reason::MalformedClaims);
}

#[test]
fn every_duplicated_registered_claim_is_malformed_claims() {
    let hs = hs256();
    let (verifier, _) = setup(&[&hs]);
    for (name, value) in [
        ("iss", json!(ISSUER)),
        ("sub", json!("admin")),
        ("aud", json!(AUDIENCE)),
        ("exp", json!(NOW + 600)),
        ("nbf", json!(NOW)),
        ("iat", json!(NOW)),
        ("jti", json!("t2")),
        ("client_id", json!("other")),
        ("azp", json!("other")),
        ("scope", json!("admin")),
        ("scp", json!(["admin"])),
        ("scopes", json!(["admin"])),
    ] {
        let once = format!(r#"{{"{name}":{value},"#);
        let payload = claims_text().replacen('{', &format!("{once}{}", &once[1..]), 1);
        assert_eq!(
            payload.matches(&format!("\"{name}\":")).count(),
            2 + usize::from(claims()[name] != Value::Null)
        );
        let token = hmac_token(&hs, &hs256_header_text(), &payload);
        assert_eq!(reason(verifier.verify(&token)), Reason::MalformedClaims, "duplicate {name}");
    }
}

#[test]
fn a_duplicate_header_member_is_malformed_header_parameters() {
    let hs = hs256();
    let (verifier, _) = setup(&[&hs]);
    for header in [
        r#"{"alg":"HS256","alg":"none","typ":"at+jwt","kid":"hs256-key"}"#,
        r#"{"alg":"HS256","typ":"at+jwt","kid":"hs256-key","kid":"other"}"#,
        r#"{"alg":"HS256","typ":"JWT","typ":"at+jwt","kid":"hs256-key"}"#,
    ] {
        let token = hmac_token(&hs, header, &claims_text());
        assert_eq!(reason(verifier.verify(&token)), Reason::MalformedHeaderParameters, "{header}");
    }
}

#[test]
fn an_invalid_header_is_malformed_header_parameters() {
    let hs = hs256();
    let (verifier, _) = setup(&[&hs]);
    for header in [
        "not json",
        "{}",
        "null",
        r#""HS256""#,
        r#"{"typ":"at+jwt","kid":"hs256-key"}"#,
        r#"{"alg":256,"typ":"at+jwt","kid":"hs256-key"}"#,
        r#"{"alg":"HS256","typ":1,"kid":"hs256-key"}"#,
        r#"{"alg":"HS256","typ":"at+jwt","kid":["hs256-key"]}"#,
        r#"{"alg":"HS256","typ":"at+jwt","kid":"hs256-key"} trailing"#,
    ] {
        let token = format!("{}.{}.c2ln", b64(header.as_bytes()), b64(claims_text().as_bytes()));
        assert_eq!(reason(verifier.verify(&token)), Reason::MalformedHeaderParameters, "{header:?}");
    }
}

#[test]
fn a_header_that_is_a_json_array_is_malformed_header_parameters() {
    let hs = hs256();
    let (verifier, _) = setup(&[&hs]);
    // RFC 7515 §4: the JOSE header is a JSON object.
    let token = hmac_token(&hs, r#"["HS256","hs256-key","at+jwt"]"#, &claims_text());
    assert_eq!(reason(verifier.verify(&token)), Reason::MalformedHeaderParameters);
}

#[test]
fn claims_that_are_not_a_json_object_are_malformed_claims() {
    let hs = hs256();
    let (verifier, _) = setup(&[&hs]);
    for payload in ["not json", "null", "42", r#""claims""#, "[]", &format!("{} trailing", claims_text())] {
        let token = hmac_token(&hs, &hs256_header_text(), payload);
        assert_eq!(reason(verifier.verify(&token)), Reason::MalformedClaims, "{payload:?}");
    }
    // Not UTF-8.
    let signing_input = format!("{}.{}", b64(hs256_header_text().as_bytes()), b64(&[0xff, 0xfe, b'{', b'}']));
    assert_eq!(reason(verifier.verify(&hmac_sign(&hs, &signing_input))), Reason::MalformedClaims);
}

#[test]
fn claims_that_are_a_json_array_are_malformed_claims() {
    let hs = hs256();
    let (verifier, _) = setup(&[&hs]);
    // RawClaims' fields in declaration order: iss, sub, aud, exp, nbf, iat, jti, client_id,
    // azp, scope, scp, scopes. RFC 7519 §7.2: the claims set must be a JSON object.
    let payload =
        json!([ISSUER, "42", AUDIENCE, NOW + 600, null, NOW, "t1", "app", null, "read", null, null])
            .to_string();
    let token = hmac_token(&hs, &hs256_header_text(), &payload);
    assert_eq!(reason(verifier.verify(&token)), Reason::MalformedClaims);
}

#[test]
fn claims_of_the_wrong_type_are_malformed_claims() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for (name, value) in [
        ("iss", json!([ISSUER])),
        ("sub", json!(42)),
        ("aud", json!(1)),
        ("aud", json!([AUDIENCE, 1])),
        ("scope", json!(7)),
        ("scopes", json!([["nested"]])),
        ("client_id", json!({"id": "app"})),
        ("nbf", json!("soon")),
        ("iat", json!(false)),
    ] {
        let mut claims = claims();
        claims[name] = value.clone();
        assert_eq!(reason(verifier.verify(&key.sign(&claims))), Reason::MalformedClaims, "{name}: {value}");
    }
}

#[test]
fn malformed_token_shapes_are_malformed_token() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let token = key.sign(&claims());
    let (h, p, s) = parts(&token);
    let shapes = [
        String::new(),
        "abc".to_owned(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}."),
        format!("{h}.{p}.{p}.{s}"),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}.{p}."),
        ".".to_owned(),
        "..".to_owned(),
        "...".to_owned(),
        format!("{h}.{p}.!!!"),
        format!("{h}.{p}.{s}=="),
        format!("{h}.{p}.{s} "),
        format!("{h}.{p}.{}", s.replacen(|c: char| c.is_ascii_alphanumeric(), "+", 1)),
    ];
    for shape in shapes {
        assert_eq!(reason(verifier.verify(&shape)), Reason::MalformedToken, "{shape:?}");
    }
}

#[test]
fn a_validly_signed_payload_that_is_not_base64url_is_malformed_token() {
    let hs = hs256();
    let (verifier, _) = setup(&[&hs]);
    let header = b64(hs256_header_text().as_bytes());
    let payload = b64(claims_text().as_bytes());
    for bad in
        ["%%%%".to_owned(), format!("{payload}="), format!("{payload} "), format!("+{}", &payload[1..])]
    {
        let token = hmac_sign(&hs, &format!("{header}.{bad}"));
        assert_eq!(reason(verifier.verify(&token)), Reason::MalformedToken, "{bad:?}");
    }
}

#[test]
fn a_header_that_is_not_base64url_is_malformed_header_parameters() {
    // As the crate documents ("not.a.jwt"): an undecodable header is a header problem.
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let token = key.sign(&claims());
    let (h, p, s) = parts(&token);
    for bad in ["!!!".to_owned(), format!("{h}="), h.replacen('e', "+", 1), "not".to_owned()] {
        let token = format!("{bad}.{p}.{s}");
        assert_eq!(reason(verifier.verify(&token)), Reason::MalformedHeaderParameters, "{bad:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Scopes
// ---------------------------------------------------------------------------------------

#[test]
fn scope_string_scp_array_and_passport_scopes_array_are_merged() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims["scope"] = json!("read  write");
    claims["scp"] = json!(["admin"]);
    claims["scopes"] = json!(["export", "read"]);
    let verified = verifier.verify(&key.sign(&claims)).unwrap();
    let scopes = verified.scopes();
    assert_eq!(scopes.iter().collect::<Vec<_>>(), ["admin", "export", "read", "write"]);
    assert!(scopes.can_all(["read", "write", "admin", "export"]));
    assert!(!scopes.can("delete"));
    assert!(!scopes.is_wildcard());
}

#[test]
fn each_scope_claim_alone_is_read() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for (name, value) in [
        ("scope", json!("place-orders")),
        ("scp", json!(["place-orders"])),
        ("scopes", json!(["place-orders"])),
    ] {
        let mut claims = claims();
        claims.as_object_mut().unwrap().remove("scope");
        claims[name] = value;
        let verified = verifier.verify(&key.sign(&claims)).unwrap();
        assert_eq!(verified.scopes().iter().collect::<Vec<_>>(), ["place-orders"], "{name}");
    }
    // No scope claim: no scopes.
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove("scope");
    assert!(verifier.verify(&key.sign(&claims)).unwrap().scopes().is_empty());
}

#[test]
fn the_wildcard_scope_grants_everything() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims.as_object_mut().unwrap().remove("scope");
    claims["scopes"] = json!(["*"]);
    let verified = verifier.verify(&key.sign(&claims)).unwrap();
    assert!(verified.scopes().is_wildcard());
    assert!(verified.scopes().can("anything"));
    assert!(verified.scopes().can_all(["orders:create", "admin"]));
}

#[test]
fn inherited_scopes_are_off_by_default() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let verified = verifier.verify(&key.sign(&support::user_claims("42", "orders"))).unwrap();
    assert!(verified.scopes().can("orders"));
    assert!(!verified.scopes().can("orders:create"));
}

#[test]
fn inherited_scopes_on_let_a_parent_scope_satisfy_its_children() {
    let key = es256();
    let clock = ManualClock::new(NOW);
    let verifier = builder(&[&key], &clock).inherited_scopes(true).build().unwrap();
    let verified = verifier.verify(&key.sign(&support::user_claims("42", "orders"))).unwrap();
    let scopes = verified.scopes();
    assert!(scopes.can("orders"));
    assert!(scopes.can("orders:create"));
    assert!(scopes.can("orders:create:bulk"));
    assert!(!scopes.can("ordersx"));
    assert!(!scopes.can("order"));
    assert!(!scopes.can("orders-admin"));
    assert!(!scopes.can("billing:orders"));
}

// ---------------------------------------------------------------------------------------
// Principal kind
// ---------------------------------------------------------------------------------------

fn kind_of(verifier: &Verifier, key: &TestKey, edit: impl FnOnce(&mut Value)) -> VerifiedToken {
    let mut claims = claims();
    edit(&mut claims);
    verifier.verify(&key.sign(&claims)).expect("valid")
}

#[test]
fn sub_equal_to_client_id_is_a_client() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let verified = verifier.verify(&key.sign(&support::client_claims("app", "read"))).unwrap();
    assert_eq!(verified.kind(), PrincipalKind::Client);
    assert_eq!(verified.subject(), Some("app"));
    assert_eq!(verified.client_id(), Some("app"));
}

#[test]
fn a_missing_sub_is_a_client() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let verified = kind_of(&verifier, &key, |claims| {
        claims.as_object_mut().unwrap().remove("sub");
    });
    assert_eq!(verified.kind(), PrincipalKind::Client);
    assert_eq!(verified.subject(), None);
    assert_eq!(verified.client_id(), Some("app"));
}

#[test]
fn an_empty_sub_is_a_client_without_subject() {
    // Passport's client-credentials tokens carry `"sub": ""`.
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let verified = kind_of(&verifier, &key, |claims| claims["sub"] = json!(""));
    assert_eq!(verified.kind(), PrincipalKind::Client);
    assert_eq!(verified.subject(), None);
    assert_eq!(verified.client_id(), Some("app"));
}

#[test]
fn sub_different_from_client_id_is_a_user() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let verified = verifier.verify(&key.sign(&claims())).unwrap();
    assert_eq!(verified.kind(), PrincipalKind::User);
    assert_eq!(verified.subject(), Some("42"));
    // A sub without any client id is a user too.
    let verified = kind_of(&verifier, &key, |claims| {
        claims.as_object_mut().unwrap().remove("client_id");
    });
    assert_eq!(verified.kind(), PrincipalKind::User);
    assert_eq!(verified.client_id(), None);
}

#[test]
fn azp_is_the_client_id_when_client_id_is_absent() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let verified = kind_of(&verifier, &key, |claims| {
        claims.as_object_mut().unwrap().remove("client_id");
        claims["azp"] = json!("spa");
    });
    assert_eq!(verified.client_id(), Some("spa"));
    assert_eq!(verified.kind(), PrincipalKind::User);
    let verified = kind_of(&verifier, &key, |claims| {
        claims.as_object_mut().unwrap().remove("client_id");
        claims["azp"] = json!("spa");
        claims["sub"] = json!("spa");
    });
    assert_eq!(verified.kind(), PrincipalKind::Client);
    // client_id wins when both are present.
    let verified = kind_of(&verifier, &key, |claims| claims["azp"] = json!("spa"));
    assert_eq!(verified.client_id(), Some("app"));
}

#[test]
fn a_stated_kind_wins_over_the_subject_whatever_the_rule() {
    // RFC 9700 §4.15: user "app" signed in through the client "app" keeps a user token.
    let key = es256();
    let clock = ManualClock::new(NOW);
    for rule in
        [ClientTokenRule::SubjectOrClientId, ClientTokenRule::EmptySubject, ClientTokenRule::StatedOnly]
    {
        let verifier = builder(&[&key], &clock).client_token_rule(rule).build().unwrap();
        let user = kind_of(&verifier, &key, |claims| {
            claims["sub"] = json!("app");
            claims["idtyp"] = json!("user");
        });
        assert_eq!(user.kind(), PrincipalKind::User, "{rule:?}");
        assert_eq!(user.subject(), Some("app"));
        let client = kind_of(&verifier, &key, |claims| {
            claims["sub"] = json!("app");
            claims["idtyp"] = json!("app");
        });
        assert_eq!(client.kind(), PrincipalKind::Client, "{rule:?}");
        // Only "app" makes a client token.
        let other = kind_of(&verifier, &key, |claims| {
            claims.as_object_mut().unwrap().remove("sub");
            claims["idtyp"] = json!("device");
        });
        assert_eq!(other.kind(), PrincipalKind::User, "{rule:?}");
    }
    // A statement that is not a string is a malformed token, never a guess.
    let (verifier, _) = setup(&[&key]);
    let token = key.sign(&{
        let mut claims = claims();
        claims["idtyp"] = json!(["app"]);
        claims
    });
    assert_eq!(reason(verifier.verify(&token)), Reason::MalformedClaims);
}

#[test]
fn the_client_token_rule_decides_for_tokens_that_state_nothing() {
    let key = es256();
    let clock = ManualClock::new(NOW);
    let kinds = |rule: ClientTokenRule| {
        let verifier = builder(&[&key], &clock).client_token_rule(rule).build().unwrap();
        let same = verifier.verify(&key.sign(&support::client_claims("app", "read"))).unwrap().kind();
        let empty = kind_of(&verifier, &key, |claims| claims["sub"] = json!("")).kind();
        (same, empty)
    };
    use PrincipalKind::{Client, User};
    assert_eq!(kinds(ClientTokenRule::default()), (Client, Client), "sub == client_id, or no sub");
    assert_eq!(kinds(ClientTokenRule::EmptySubject), (User, Client), "a subject always means a user");
    assert_eq!(kinds(ClientTokenRule::StatedOnly), (User, User), "nothing but idtyp");
}

// ---------------------------------------------------------------------------------------
// Cache
// ---------------------------------------------------------------------------------------

#[test]
fn a_cache_hit_after_expiry_is_expired() {
    let key = es256();
    let (verifier, clock) = setup(&[&key]);
    let token = key.sign(&claims());
    assert!(verifier.verify(&token).is_ok());
    assert!(verifier.verify(&token).is_ok());
    clock.advance(700);
    assert_eq!(reason(verifier.verify(&token)), Reason::Expired);
    // A clone shares the cache and the clock, with the same answer.
    assert_eq!(reason(verifier.clone().verify(&token)), Reason::Expired);
}

#[test]
fn a_cached_signature_does_not_validate_another_payload() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let token = key.sign(&claims());
    assert!(verifier.verify(&token).is_ok());
    let (header, _, signature) = parts(&token);
    let mut other = claims();
    other["sub"] = json!("1");
    other["scope"] = json!("admin");
    let forged = format!("{header}.{}.{signature}", b64(other.to_string().as_bytes()));
    assert_eq!(reason(verifier.verify(&forged)), Reason::BadSignature);
    // Nor another header with the same payload and signature.
    let (_, payload, _) = parts(&token);
    let other_header =
        b64(json!({"alg": "ES256", "typ": "at+jwt", "kid": key.kid, "x": 1}).to_string().as_bytes());
    assert_eq!(
        reason(verifier.verify(&format!("{other_header}.{payload}.{signature}"))),
        Reason::BadSignature
    );
    // The original still passes.
    assert!(verifier.verify(&token).is_ok());
}

#[test]
fn a_cache_hit_is_served_until_invalidated() {
    // A hit re-checks only expiry; moving the clock back before `iat` tells a hit (passes)
    // from a fresh verification (IssuedInFuture).
    let key = es256();
    let (verifier, clock) = setup(&[&key]);
    let token = key.sign(&claims());
    assert!(verifier.verify(&token).is_ok());
    clock.set(NOW - 1000);
    assert!(verifier.verify(&token).is_ok(), "served from the cache");
    verifier.invalidate(&token);
    assert_eq!(reason(verifier.verify(&token)), Reason::IssuedInFuture);
    // A verifier without a cache never reads one.
    clock.set(NOW);
    assert!(verifier.verify(&token).is_ok());
    let uncached = builder(&[&key], &ManualClock::new(NOW - 1000)).no_cache().build().unwrap();
    assert_eq!(reason(uncached.verify(&token)), Reason::IssuedInFuture);
}

#[test]
fn verify_after_invalidate_re_verifies_and_succeeds() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let token = key.sign(&claims());
    let first = verifier.verify(&token).unwrap();
    verifier.invalidate(&token);
    let second = verifier.verify(&token).expect("re-verified");
    assert_eq!(first.jti(), second.jti());
    assert_eq!(first.raw_claims(), second.raw_claims());
    // Invalidating a token that was never cached is harmless.
    verifier.invalidate("never.seen.token");
    verifier.invalidate("");
    assert!(verifier.verify(&token).is_ok());
}

#[test]
fn no_cache_still_verifies_every_call() {
    let key = es256();
    let clock = ManualClock::new(NOW);
    let verifier = builder(&[&key], &clock).no_cache().build().unwrap();
    let token = key.sign(&claims());
    assert!(verifier.verify(&token).is_ok());
    assert!(verifier.verify(&token).is_ok());
    assert_eq!(reason(verifier.verify(&flip_signature(&token))), Reason::BadSignature);
    // Nothing was cached: moving the clock back is seen at once.
    clock.set(NOW - 1000);
    assert_eq!(reason(verifier.verify(&token)), Reason::IssuedInFuture);
    clock.set(NOW + 700);
    assert_eq!(reason(verifier.verify(&token)), Reason::Expired);
    verifier.invalidate(&token);
}

#[test]
fn a_zero_cache_ttl_turns_the_cache_off() {
    let key = es256();
    let clock = ManualClock::new(NOW);
    let verifier = builder(&[&key], &clock).cache_max_ttl(Duration::ZERO).build().unwrap();
    let token = key.sign(&claims());
    assert!(verifier.verify(&token).is_ok());
    clock.set(NOW - 1000);
    assert_eq!(reason(verifier.verify(&token)), Reason::IssuedInFuture);
}

// ---------------------------------------------------------------------------------------
// VerifiedToken
// ---------------------------------------------------------------------------------------

#[test]
fn verified_token_debug_contains_neither_the_token_nor_its_signature() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let token = key.sign(&claims());
    let verified = verifier.verify(&token).unwrap();
    let (header, payload, signature) = parts(&token);
    for debug in [format!("{verified:?}"), format!("{verified:#?}")] {
        assert!(debug.contains("42"), "{debug}");
        for secret in
            [token.as_str(), signature, &signature[..16], &signature[signature.len() - 16..], payload, header]
        {
            assert!(!debug.contains(secret), "{debug} contains {secret}");
        }
    }
}

#[test]
fn verified_token_exposes_the_registered_claims() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims["nbf"] = json!(NOW - 5);
    let verified = verifier.verify(&key.sign(&claims)).unwrap();
    assert_eq!(verified.issuer(), ISSUER);
    assert_eq!(verified.subject(), Some("42"));
    assert_eq!(verified.client_id(), Some("app"));
    assert_eq!(verified.audience().collect::<Vec<_>>(), [AUDIENCE]);
    assert_eq!(verified.jti(), Some("jti-42-read"));
    assert_eq!(verified.expires_at(), NOW + 600);
    assert_eq!(verified.issued_at(), Some(NOW));
    assert_eq!(verified.not_before(), Some(NOW - 5));
    assert_eq!(verified.key_id(), Some(key.kid.as_str()));
}

#[test]
fn claims_deserializes_custom_claims() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Custom {
        tenant: String,
        roles: Vec<String>,
        exp: u64,
        #[serde(default)]
        absent: Option<String>,
    }
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims["tenant"] = json!("acme");
    claims["roles"] = json!(["owner", "billing"]);
    let verified = verifier.verify(&key.sign(&claims)).unwrap();
    let custom: Custom = verified.claims().unwrap();
    assert_eq!(
        custom,
        Custom {
            tenant: "acme".into(),
            roles: vec!["owner".into(), "billing".into()],
            exp: NOW + 600,
            absent: None
        }
    );
    // Claims that do not fit are an error, not a panic.
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Strict {
        tenant: u64,
    }
    assert!(verified.claims::<Strict>().is_err());
}

#[test]
fn raw_claims_is_the_claims_json_as_sent() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    let mut claims = claims();
    claims["tenant"] = json!({"id": 7, "name": "acme"});
    let token = key.sign(&claims);
    let verified = verifier.verify(&token).unwrap();
    let (_, payload, _) = parts(&token);
    let sent = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(verified.raw_claims(), sent);
    assert_eq!(serde_json::from_str::<Value>(verified.raw_claims()).unwrap(), claims);

    // Byte for byte, even for hand-built JSON with whitespace and member order of its own.
    let hs = hs256();
    let (verifier, _) = setup(&[&hs]);
    let text = format!(" {{ \"zeta\": 1, {} ", &claims_text()[1..]);
    let verified = verifier.verify(&hmac_token(&hs, &hs256_header_text(), &text)).unwrap();
    assert_eq!(verified.raw_claims(), text);
}

// ---------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------

struct Fixture {
    verifier: Verifier,
    token: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let es = es256();
        let hs = hs256();
        let (verifier, _) = setup(&[&es, &hs]);
        let token = es.sign(&claims());
        // Cached: a mutated token must not be served from the entry of the original.
        assert!(verifier.verify(&token).is_ok());
        Fixture { verifier, token }
    })
}

fn config() -> ProptestConfig {
    // No regression files: this suite writes nothing to the source tree.
    ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_strings_never_verify(token in any::<String>()) {
        prop_assert!(fixture().verifier.verify(&token).is_err());
    }

    #[test]
    fn arbitrary_dotted_base64url_strings_never_verify(token in "[A-Za-z0-9_.=-]{0,300}") {
        prop_assert!(fixture().verifier.verify(&token).is_err());
    }

    #[test]
    fn arbitrary_three_part_base64url_strings_never_verify(
        header in "[A-Za-z0-9_-]{0,120}",
        payload in "[A-Za-z0-9_-]{0,200}",
        signature in "[A-Za-z0-9_-]{0,120}",
    ) {
        let token = format!("{header}.{payload}.{signature}");
        prop_assert!(fixture().verifier.verify(&token).is_err());
    }

    #[test]
    fn a_real_header_with_arbitrary_payload_and_signature_never_verifies(
        payload in "[A-Za-z0-9_-]{1,200}",
        signature in "[A-Za-z0-9_-]{1,120}",
    ) {
        let fixture = fixture();
        let (header, _, _) = parts(&fixture.token);
        let token = format!("{header}.{payload}.{signature}");
        let reason = fixture.verifier.verify(&token).expect_err("never verifies").reason();
        prop_assert!(matches!(reason, Reason::BadSignature | Reason::MalformedToken), "{:?}", reason);
    }

    #[test]
    fn changing_one_character_of_a_valid_token_never_verifies(
        index in any::<prop::sample::Index>(),
        replacement in "[A-Za-z0-9_.=+/ -]",
    ) {
        let fixture = fixture();
        let mut chars: Vec<char> = fixture.token.chars().collect();
        let at = index.index(chars.len());
        let replacement = replacement.chars().next().unwrap();
        prop_assume!(chars[at] != replacement);
        chars[at] = replacement;
        let token: String = chars.into_iter().collect();
        prop_assert!(fixture.verifier.verify(&token).is_err());
    }

    #[test]
    fn appending_to_a_valid_token_never_verifies(suffix in "[A-Za-z0-9_.=-]{1,8}") {
        let fixture = fixture();
        let token = format!("{}{suffix}", fixture.token);
        prop_assert!(fixture.verifier.verify(&token).is_err());
    }
}

// ---------------------------------------------------------------------------------------
// Tokens bound to a key (cnf) are never bearer tokens
// ---------------------------------------------------------------------------------------

#[test]
fn a_token_bound_to_a_key_is_refused_as_a_bearer_token() {
    let key = es256();
    let (verifier, _) = setup(&[&key]);
    for cnf in [
        json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
        json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        json!({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}),
        json!({}),
        Value::Null,
    ] {
        let mut claims = claims();
        claims["cnf"] = cnf.clone();
        let token = key.sign(&claims);
        let error = verifier.verify(&token).expect_err("bound");
        assert_eq!(error.reason(), Reason::KeyBoundToken, "{cnf}");
        assert_eq!(error.status(), http::StatusCode::UNAUTHORIZED);
        assert_eq!(error.error_code(), Some("invalid_token"));
    }
    // The same token without cnf passes.
    assert!(verifier.verify(&key.sign(&claims())).is_ok());
}

// ---------------------------------------------------------------------------------------
// RFC 9864: Ed25519 is the algorithm's name, EdDSA its deprecated one
// ---------------------------------------------------------------------------------------

#[test]
fn an_ed25519_key_verifies_tokens_that_say_ed25519_or_eddsa() {
    use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
    let pair = Ed25519KeyPair::generate().unwrap();
    let x = b64(pair.public_key().as_ref());
    let sign = |alg: &str| {
        let header = json!({"alg": alg, "typ": "at+jwt", "kid": "ed"});
        let input =
            format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims().to_string().as_bytes()));
        format!("{input}.{}", b64(pair.sign(input.as_bytes()).as_ref()))
    };
    let jwks = [
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": x}),
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "alg": "EdDSA", "x": x}),
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "alg": "Ed25519", "x": x}),
    ];
    for jwk in jwks {
        let key = VerifyingKey::from_jwk(&jwk.to_string()).expect("an Ed25519 JWK");
        assert_eq!(key.algorithm(), Algorithm::EdDSA);
        let verifier = Verifier::builder(KeySet::new().with_key(key))
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .clock(ManualClock::new(NOW))
            .no_cache()
            .build()
            .unwrap();
        for alg in ["EdDSA", "Ed25519"] {
            assert!(verifier.verify(&sign(alg)).is_ok(), "{jwk}: alg {alg}");
        }
        assert_eq!(reason(verifier.verify(&sign("Ed448"))), Reason::UnsupportedAlgorithm);
    }
    // Other key types do not answer to Ed25519.
    let es = es256();
    let (verifier, _) = setup(&[&es]);
    let header = json!({"alg": "Ed25519", "typ": "at+jwt", "kid": es.kid});
    let token = support::raw_token(&header, &claims(), &[0; 64]);
    assert_eq!(reason(verifier.verify(&token)), Reason::AlgorithmMismatch);
}

// ---------------------------------------------------------------------------------------
// A key withdrawn from a shared set stops admitting cached tokens
// ---------------------------------------------------------------------------------------

#[test]
fn a_key_retired_from_a_shared_set_stops_admitting_its_cached_tokens() {
    let (old, new) = (
        TestKey::generate_with_kid(Algorithm::ES256, "old"),
        TestKey::generate_with_kid(Algorithm::ES256, "new"),
    );
    let both = KeySet::new().with_key(old.verifying_key()).with_key(new.verifying_key());
    let shared = SharedKeySet::new(both.clone());
    let verifier = Verifier::builder(shared.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .build()
        .unwrap();
    let (old_token, new_token) = (old.sign(&claims()), new.sign(&support::client_claims("app", "read")));
    assert!(verifier.verify(&old_token).is_ok() && verifier.verify(&new_token).is_ok());
    // The same keys again withdraw nothing.
    shared.replace(both);
    assert!(verifier.verify(&old_token).is_ok());
    shared.replace(KeySet::new().with_key(new.verifying_key()));
    assert_eq!(reason(verifier.verify(&old_token)), Reason::UnknownKid, "cached, but its key is gone");
    assert!(verifier.verify(&new_token).is_ok());
}
