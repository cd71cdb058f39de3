//! The verifier's Laravel Passport preset, with Passport's own tokens shaped exactly as
//! league/oauth2-server builds them (see `tests/league`).

use crate::league;
use crate::support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Header;
use league::{Date, LeagueClaims};
use support::NOW;
use tower_passport::error::{ConfigErrorKind, Reason};
use tower_passport::{
    clock::ManualClock, token::PrincipalKind, verify::ClientTokenRule, verify::TrustedIssuer,
    verify::VerifierBuilder, Algorithm, KeySet, Verifier, VerifyingKey,
};

fn league_token(client: &str, sub: &str, scopes: &[&str]) -> String {
    league::token_at(NOW as f64 - 0.25, client, sub, scopes)
}

fn league_token_with(claims: &LeagueClaims<'_>) -> String {
    league::token_with(claims)
}

fn passport_keys() -> &'static league::PassportKeys {
    league::keys()
}

fn public_key() -> VerifyingKey {
    VerifyingKey::from_pem(passport_keys().public_pem.as_bytes(), Algorithm::RS256).expect("public key")
}

fn passport(builder: impl FnOnce(VerifierBuilder) -> VerifierBuilder) -> Verifier {
    let keys = KeySet::new().with_key(public_key());
    builder(Verifier::builder(keys).clock(ManualClock::new(NOW))).build().expect("verifier")
}

const CLIENT: &str = "9c1b7f3e-5d2a-4e8b-a1f0-3c6d2e9b8a71";

fn decoded(part: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

#[test]
fn the_tokens_here_are_shaped_as_league_builds_them() {
    let token = league_token(CLIENT, "1", &["read-orders"]);
    let mut parts = token.split('.');
    let header = parts.next().expect("header");
    assert_eq!(URL_SAFE_NO_PAD.decode(header).expect("b64"), br#"{"typ":"JWT","alg":"RS256"}"#);
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts.next().expect("payload")).expect("b64"))
        .expect("utf8");
    assert!(payload.starts_with(&format!(r#"{{"aud":"{CLIENT}","jti":""#)), "{payload}");
    assert!(payload.contains(r#""iat":1799999999.75,"nbf":1799999999.75,"exp":1800003599.75"#), "{payload}");
    assert!(payload.ends_with(r#""sub":"1","scopes":["read-orders"]}"#), "{payload}");
    assert!(!payload.contains("iss"));
}

#[test]
fn without_the_preset_passport_tokens_are_refused_for_their_missing_issuer() {
    let verifier = passport(|b| b.issuer("https://shop.test").audience(CLIENT).accept_generic_jwt_typ());
    let error = verifier.verify(&league_token(CLIENT, "1", &[])).expect_err("no iss");
    assert_eq!(error.reason(), Reason::WrongIssuer);
}

#[test]
fn a_user_token_passes_with_its_user_client_and_scopes() {
    let verifier = passport(VerifierBuilder::laravel_passport);
    let verified =
        verifier.verify(&league_token(CLIENT, "1", &["read-orders", "place-orders"])).expect("valid");
    assert_eq!(verified.kind(), PrincipalKind::User);
    assert_eq!(verified.subject(), Some("1"));
    assert_eq!(verified.client_id(), Some(CLIENT), "the client id comes from aud");
    assert_eq!(verified.issuer(), "", "no iss, and none configured");
    assert!(verified.scopes().can("read-orders") && verified.scopes().can("place-orders"));
    assert!(verified.jti().is_some_and(|jti| jti.len() == 80));
    assert_eq!(verified.key_id(), None);
    assert_eq!(verified.expires_at(), NOW + 3599, "a fractional exp, truncated");
    assert_eq!(verified.issued_at(), Some(NOW - 1));
}

#[test]
fn a_client_credentials_token_is_a_client_token_with_its_client_from_aud() {
    // league 8 (Passport up to 12): `relatedTo((string) $this->getUserIdentifier())`, "".
    let verifier = passport(VerifierBuilder::laravel_passport);
    let verified = verifier.verify(&league_token(CLIENT, "", &["check-status"])).expect("valid");
    assert_eq!(verified.kind(), PrincipalKind::Client);
    assert_eq!(verified.subject(), None);
    assert_eq!(verified.client_id(), Some(CLIENT));
    assert!(verified.scopes().can("check-status"));
}

#[test]
fn league_9_client_tokens_carry_the_client_id_as_sub_and_need_the_subject_rule() {
    // league 9 (Passport 13): `getUserIdentifier() ?? getClient()->getIdentifier()`.
    let token = league_token(CLIENT, CLIENT, &[]);
    let strict = passport(VerifierBuilder::laravel_passport);
    assert_eq!(strict.verify(&token).expect("valid").kind(), PrincipalKind::User, "the preset's rule");
    let league_9 = passport(|b| b.laravel_passport().client_token_rule(ClientTokenRule::SubjectOrClientId));
    assert_eq!(league_9.verify(&token).expect("valid").kind(), PrincipalKind::Client);
    // The order of the calls does not matter.
    let league_9 = passport(|b| b.client_token_rule(ClientTokenRule::SubjectOrClientId).laravel_passport());
    assert_eq!(league_9.verify(&token).expect("valid").kind(), PrincipalKind::Client);
}

#[test]
fn user_1_through_client_1_stays_a_user() {
    // Passport's integer ids: user 1's personal access token, minted through client 1.
    let verifier = passport(VerifierBuilder::laravel_passport);
    let verified = verifier.verify(&league_token("1", "1", &["*"])).expect("valid");
    assert_eq!(verified.kind(), PrincipalKind::User, "RFC 9700 §4.15");
    assert_eq!((verified.subject(), verified.client_id()), (Some("1"), Some("1")));
    assert!(verified.scopes().can("anything"), "Passport's `*` scope");
}

#[test]
fn integer_dates_and_the_time_checks_work_as_for_any_token() {
    let verifier = passport(VerifierBuilder::laravel_passport);
    let at = |iat: Date, exp: Date| {
        league_token_with(&LeagueClaims { aud: CLIENT, jti: "j", iat, nbf: iat, exp, sub: "1", scopes: &[] })
    };
    assert!(verifier.verify(&at(Date::Seconds(NOW), Date::Seconds(NOW + 60))).is_ok(), "microseconds zero");
    let expired = at(Date::Micro(NOW as f64 - 3600.5), Date::Micro(NOW as f64 - 60.5));
    assert_eq!(verifier.verify(&expired).expect_err("expired").reason(), Reason::Expired);
    let early = at(Date::Micro(NOW as f64 + 120.5), Date::Micro(NOW as f64 + 3600.5));
    assert_eq!(verifier.verify(&early).expect_err("not yet").reason(), Reason::NotYetValid);
}

#[test]
fn a_list_of_clients_limits_the_accepted_audiences() {
    let verifier = passport(|b| b.laravel_passport_clients([CLIENT, "2"]));
    assert!(verifier.verify(&league_token(CLIENT, "1", &[])).is_ok());
    assert!(verifier.verify(&league_token("2", "", &[])).is_ok());
    let other = verifier.verify(&league_token("3", "1", &[])).expect_err("another client");
    assert_eq!(other.reason(), Reason::WrongAudience);
    // Any client, but a client there must be.
    let any = passport(VerifierBuilder::laravel_passport);
    assert_eq!(any.verify(&league_token("", "1", &[])).expect_err("no aud").reason(), Reason::WrongAudience);
}

#[test]
fn a_configured_issuer_is_optional_in_tokens_but_checked_when_present() {
    let verifier = passport(|b| b.laravel_passport().issuer("https://shop.test"));
    let verified = verifier.verify(&league_token(CLIENT, "1", &[])).expect("no iss");
    assert_eq!(verified.issuer(), "https://shop.test", "the configured issuer");
    // A Passport whose token builder was customised to add `iss`.
    let signed = |iss: &str| {
        let claims = serde_json::json!({"iss": iss, "aud": CLIENT, "jti": "j", "iat": NOW, "nbf": NOW,
            "exp": NOW + 60, "sub": "1", "scopes": []});
        jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::RS256), &claims, &passport_keys().private)
            .expect("sign")
    };
    assert!(verifier.verify(&signed("https://shop.test")).is_ok());
    assert_eq!(verifier.verify(&signed("https://evil.test")).expect_err("iss").reason(), Reason::WrongIssuer);
    // Without a configured issuer, a token that names one is not Passport's.
    let unconfigured = passport(VerifierBuilder::laravel_passport);
    assert_eq!(
        unconfigured.verify(&signed("https://shop.test")).expect_err("iss").reason(),
        Reason::WrongIssuer
    );
}

#[test]
fn the_preset_accepts_at_jwt_and_jwt_but_still_checks_the_signature() {
    let verifier = passport(VerifierBuilder::laravel_passport);
    let token = league_token(CLIENT, "1", &[]);
    let (input, _) = token.rsplit_once('.').expect("jws");
    let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode([7u8; 256]));
    assert_eq!(verifier.verify(&forged).expect_err("forged").reason(), Reason::BadSignature);
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.typ = Some("at+jwt".into());
    let claims = decoded(token.split('.').nth(1).expect("payload"));
    let at_jwt = jsonwebtoken::encode(&header, &claims, &passport_keys().private).expect("sign");
    assert!(verifier.verify(&at_jwt).is_ok());
}

#[test]
fn among_several_issuers_tokens_without_iss_go_to_passport() {
    let other = support::TestKey::generate(Algorithm::ES256);
    let verifier =
        Verifier::trusting(TrustedIssuer::new("", KeySet::new().with_key(public_key())).laravel_passport())
            .trust(
                TrustedIssuer::new(support::ISSUER, KeySet::new().with_key(other.verifying_key()))
                    .audience(support::AUDIENCE),
            )
            .clock(ManualClock::new(NOW))
            .build()
            .expect("verifier");
    assert_eq!(verifier.verify(&league_token(CLIENT, "1", &[])).expect("passport").client_id(), Some(CLIENT));
    let theirs = other.sign(&support::user_claims("7", "read"));
    assert_eq!(verifier.verify(&theirs).expect("the other issuer").issuer(), support::ISSUER);
    // A token without iss signed by the other issuer's key goes to Passport's keys only.
    let mut claims = support::user_claims("7", "read");
    claims.as_object_mut().expect("object").remove("iss");
    let mut header = other.header();
    header.typ = Some("JWT".into());
    let stray = other.sign_with(&header, &claims);
    assert_eq!(verifier.verify(&stray).expect_err("wrong keys").reason(), Reason::UnknownKid);

    // Only one issuer can take tokens without iss.
    let twice =
        Verifier::trusting(TrustedIssuer::new("", KeySet::new().with_key(public_key())).laravel_passport())
            .trust(
                TrustedIssuer::new("https://b.test", KeySet::new().with_key(public_key())).laravel_passport(),
            )
            .build()
            .expect_err("ambiguous");
    assert_eq!(twice.kind(), ConfigErrorKind::Issuer);
}
