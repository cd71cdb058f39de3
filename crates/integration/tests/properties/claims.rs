//! Claims: what an issuer writes is what the verifier reads back, whatever the strings
//! hold (escapes, quotes, non-ASCII) and whichever shape `aud` and the scopes take.

use std::sync::OnceLock;

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{json, Value};
use tower_passport::{Algorithm, Verifier};

use super::config;
use super::support::{verifier_for, TestKey, AUDIENCE, ISSUER, NOW};

fn fixture() -> &'static (TestKey, Verifier) {
    static FIXTURE: OnceLock<(TestKey, Verifier)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = TestKey::generate(Algorithm::ES256);
        let verifier = verifier_for(&key);
        (key, verifier)
    })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9_.-]{1,24}", "\\PC{1,16}", "[\"\\\\/é€😀 ]{1,8}"]
}

fn scope() -> impl Strategy<Value = String> {
    "[!#-\\[\\]-~]{1,10}"
}

#[derive(Debug, Clone)]
enum ScopeShape {
    SpaceDelimited,
    Array,
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn the_claims_read_back_are_the_claims_written(
        sub in text(),
        client_id in text(),
        jti in text(),
        other_audiences in vec("[a-z]{1,8}", 0..3),
        scopes in vec(scope(), 0..6),
        shape in prop_oneof![Just(ScopeShape::SpaceDelimited), Just(ScopeShape::Array)],
        exp in (NOW + 1)..(NOW + 10_000_000),
    ) {
        let (key, verifier) = fixture();
        let aud: Value = if other_audiences.is_empty() {
            json!(AUDIENCE)
        } else {
            let mut list = other_audiences.clone();
            list.push(AUDIENCE.to_owned());
            json!(list)
        };
        let mut claims = json!({
            "iss": ISSUER, "aud": aud, "sub": sub, "client_id": client_id, "jti": jti,
            "iat": NOW, "exp": exp,
        });
        match shape {
            ScopeShape::SpaceDelimited => claims["scope"] = json!(scopes.join(" ")),
            ScopeShape::Array => claims["scopes"] = json!(scopes),
        }
        let verified = verifier.verify(&key.sign(&claims)).expect("a well-formed token verifies");
        prop_assert_eq!(verified.issuer(), ISSUER);
        prop_assert_eq!(verified.subject(), Some(sub.as_str()));
        prop_assert_eq!(verified.client_id(), Some(client_id.as_str()));
        prop_assert_eq!(verified.jti(), Some(jti.as_str()));
        prop_assert_eq!(verified.expires_at(), exp);
        let mut audiences: Vec<&str> = verified.audience().collect();
        audiences.sort_unstable();
        let mut expected_audiences: Vec<&str> = other_audiences.iter().map(String::as_str).collect();
        expected_audiences.push(AUDIENCE);
        expected_audiences.sort_unstable();
        prop_assert_eq!(audiences, expected_audiences);
        let mut expected_scopes = scopes.clone();
        expected_scopes.sort();
        expected_scopes.dedup();
        prop_assert_eq!(
            verified.scopes().iter().collect::<Vec<_>>(),
            expected_scopes.iter().map(String::as_str).collect::<Vec<_>>()
        );
        let raw: Value = serde_json::from_str(verified.raw_claims()).expect("raw claims are JSON");
        prop_assert_eq!(raw, claims);
    }
}
