//! The DPoP proof claims reader (issue 19): its one-pass reader for the shape clients send
//! and the general reader behind it read every payload as the general reader alone did,
//! and as serde_json's typed parse does (`tower_passport::fuzzing::{proof_claims_read,
//! proof_claims_general, proof_claims_serde}`): generated payloads, mostly proof-shaped
//! (which the one-pass reader takes), and mutations of them (which it mostly hands on).

use proptest::collection::vec;
use proptest::prelude::*;
use tower_passport::fuzzing::{proof_claims_general, proof_claims_read, proof_claims_serde, ProofClaimsRead};

use super::config;
use super::json_literals::{self, mutate, mutation, number, string};

/// Member names: the claims a proof's reader takes, some spelled with escapes, and others.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop_oneof![Just("jti"), Just("htm"), Just("htu"), Just("iat"), Just("ath"), Just("nonce")]
            .prop_map(|name| format!("\"{name}\"")),
        1 => prop_oneof![
            Just(r#""j\u0074i""#), Just(r#""i\u0061t""#), Just(r#""extra""#), Just(r#""é""#),
            Just(r#""jti ""#), Just(r#""""#), Just(r#""\ud800""#), Just(r#""nonc""#), Just(r#""noncee""#),
        ]
        .prop_map(str::to_owned),
    ]
}

/// Any value, now and then nested.
fn value() -> impl Strategy<Value = String> {
    json_literals::value(name().boxed(), 2, 3)
}

/// A value shaped for the member `name` most of the time, anything otherwise.
fn value_for(name: &str) -> BoxedStrategy<String> {
    let typed = if name == "\"iat\"" { number().boxed() } else { string().boxed() };
    prop_oneof![8 => typed, 1 => Just("null".to_owned()), 1 => value()].boxed()
}

/// A payload: the four claims a proof must have and a few other members (any of which may
/// repeat one), in any order, their values mostly of their type; whitespace now and then
/// (a client's serializer writes none).
fn payload() -> impl Strategy<Value = String> {
    let member = || name().prop_flat_map(|name| (Just(name.clone()), value_for(&name)));
    let required = ["\"jti\"", "\"htm\"", "\"htu\"", "\"iat\""]
        .map(|name| value_for(name).prop_map(move |value| (name.to_owned(), value)));
    let space = prop_oneof![8 => Just(""), 1 => Just(" "), 1 => Just("\n\t")];
    (required, vec(member(), 0..4), space.clone(), space)
        .prop_flat_map(|(required, others, inner, outer)| {
            let members: Vec<(String, String)> = required.into_iter().chain(others).collect();
            (Just(members).prop_shuffle(), Just(inner), Just(outer))
        })
        .prop_map(|(members, inner, outer)| {
            let members: Vec<String> =
                members.into_iter().map(|(name, value)| format!("{inner}{name}:{value}")).collect();
            format!("{outer}{{{}}}", members.join(","))
        })
}

/// A proof's claims as a client writes them: serialized by serde_json, the registered
/// ones each once, sometimes an unknown one.
fn proof() -> impl Strategy<Value = String> {
    use serde_json::{Map, Value};
    let text = || "[a-zA-Z0-9_.:/-]{0,48}";
    (
        text(),
        prop_oneof![Just("GET"), Just("POST")],
        text(),
        0u64..4_000_000_000,
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of((
            "[a-z_]{1,8}",
            prop_oneof![text().prop_map(Value::from), any::<u32>().prop_map(Value::from)],
        )),
    )
        .prop_map(|(jti, htm, htu, iat, ath, nonce, extra)| {
            let mut claims = Map::new();
            claims.insert("jti".into(), jti.into());
            claims.insert("htm".into(), htm.into());
            claims.insert("htu".into(), htu.into());
            claims.insert("iat".into(), iat.into());
            ath.map(|ath| claims.insert("ath".into(), ath.into()));
            nonce.map(|nonce| claims.insert("nonce".into(), nonce.into()));
            extra.map(|(name, value)| claims.insert(format!("x_{name}"), value));
            Value::Object(claims).to_string()
        })
}

/// All three readings of `text` agree: exactly the two readers; serde_json, which reads
/// `iat` as an `f64`, up to that ([`same_seconds`]).
fn agree(text: &str) -> Result<(), TestCaseError> {
    let read = proof_claims_read(text.as_bytes());
    prop_assert_eq!(&read, &proof_claims_general(text.as_bytes()), "{}", text);
    let serde = proof_claims_serde(text.as_bytes());
    let iats = (read.as_ref().map(|claims| claims.3), serde.as_ref().map(|claims| claims.3));
    let without_iat = |claims: Option<ProofClaimsRead>| {
        claims.map(|(jti, htm, htu, _, ath, nonce)| (jti, htm, htu, ath, nonce))
    };
    prop_assert_eq!(without_iat(read), without_iat(serde), "{}", text);
    if let (Some(ours), Some(theirs)) = iats {
        prop_assert!(same_seconds(ours, theirs), "iat {} against serde_json's {}: {}", ours, theirs, text);
    }
    Ok(())
}

/// Whether the readers' `iat` is serde_json's. The readers take an integer's exact value
/// and round a fraction to the nearest `f64` exactly; serde_json reads every number as an
/// `f64` and, without its `float_roundtrip` feature, may land a long fraction a float or two
/// off. Above 2^53 seconds (never a date) the two may then name neighbouring floats.
fn same_seconds(ours: u64, theirs: u64) -> bool {
    ours as f64 as u64 == theirs || (ours > 1 << 53 && ours.abs_diff(theirs) <= ours >> 50)
}

proptest! {
    #![proptest_config(config(4096))]

    #[test]
    fn proof_claims_read_as_before_and_as_serde_json_reads_them(text in prop_oneof![payload(), proof()]) {
        agree(&text)?;
    }

    #[test]
    fn mutated_proof_claims_read_as_before_and_as_serde_json_reads_them(
        text in prop_oneof![proof(), payload()],
        edits in vec(mutation(), 1..3),
    ) {
        let mutated = edits.iter().fold(text, |text, edit| mutate(&text, edit));
        agree(&mutated)?;
    }
}

/// Found by the mutation property: an inserted dot made a 19-digit `iat` a fraction beyond
/// 2^53, which serde_json reads a float off the exact rounding the readers make.
#[test]
fn a_long_fraction_beyond_two_to_the_53_reads_within_a_float_of_serde_json() {
    let text = r#"{"jti":"j","htu":"https://a.example/","iat":991296110736006275.7,"htm":"GET"}"#;
    assert_eq!(proof_claims_read(text.as_bytes()).map(|claims| claims.3), Some(991_296_110_736_006_272));
    assert!(agree(text).is_ok());
}

/// The generators reach both answers, and proofs as clients write them are read.
#[test]
fn the_generated_payloads_are_read_and_refused_in_good_measure() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut read, total) = (0, 2000);
    for _ in 0..total {
        let text = payload().new_tree(&mut runner).map(|tree| tree.current()).unwrap_or_default();
        read += usize::from(proof_claims_read(text.as_bytes()).is_some());
    }
    assert!(read > total / 10 && read < total * 9 / 10, "{read} of {total} read");
    for _ in 0..200 {
        let text = proof().new_tree(&mut runner).map(|tree| tree.current()).unwrap_or_default();
        assert!(proof_claims_read(text.as_bytes()).is_some(), "{text}");
    }
}
