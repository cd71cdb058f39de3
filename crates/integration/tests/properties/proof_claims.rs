//! The DPoP proof claims reader (issue 19): its one-pass reader for the shape clients send
//! and the general reader behind it read every payload as the general reader alone did,
//! and as serde_json's typed parse does (`tower_passport::fuzzing::{proof_claims_read,
//! proof_claims_general, proof_claims_serde}`): generated payloads, mostly proof-shaped
//! (which the one-pass reader takes), and mutations of them (which it mostly hands on).

use proptest::collection::vec;
use proptest::prelude::*;
use tower_passport::fuzzing::{proof_claims_general, proof_claims_read, proof_claims_serde};

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
/// `iat` as an `f64`, up to that (the readers take an integer's exact value, which beyond
/// 2^53 the nearest `f64` is not; a date in seconds never comes near).
fn agree(text: &str) -> Result<(), TestCaseError> {
    let read = proof_claims_read(text.as_bytes());
    prop_assert_eq!(&read, &proof_claims_general(text.as_bytes()), "{}", text);
    let as_float =
        read.map(|(jti, htm, htu, iat, ath, nonce)| (jti, htm, htu, iat as f64 as u64, ath, nonce));
    prop_assert_eq!(as_float, proof_claims_serde(text.as_bytes()), "{}", text);
    Ok(())
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
