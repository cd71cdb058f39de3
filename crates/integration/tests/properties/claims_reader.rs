//! The verifier's claims reader against serde_json's typed parse (issue 17): generated
//! claims objects, and mutations of them, are accepted or refused by both alike, and when
//! accepted read to the same values (`tower_passport::fuzzing::{claims_read, claims_serde}`).
//! The `claims` fuzz target asserts the same over coverage-guided inputs.

use proptest::collection::vec;
use proptest::prelude::*;
use tower_passport::fuzzing::{claims_read, claims_serde, ClaimList, ClaimsRead};

use super::config;
use super::json_literals::{self, mutate, mutation, number, string};

/// Member names: every registered claim, some spelled with escapes, and unknown ones.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop_oneof![
            Just("iss"), Just("sub"), Just("aud"), Just("exp"), Just("nbf"), Just("iat"),
            Just("jti"), Just("client_id"), Just("azp"), Just("scope"), Just("scp"),
            Just("scopes"), Just("idtyp"), Just("provider"), Just("cnf"),
        ]
        .prop_map(|name| format!("\"{name}\"")),
        1 => prop_oneof![
            Just(r#""\u0069ss""#), Just(r#""ex\u0070""#), Just(r#""sc\u006fpe""#), Just(r#""\u0063nf""#),
            Just(r#""jkt""#), Just(r#""profile""#), Just(r#""é""#), Just(r#""\ud83d\ude00""#),
            Just(r#""\ud800""#), Just(r#""iss ""#), Just(r#""""#),
        ]
        .prop_map(str::to_owned),
    ]
}

/// Any value, now and then nested.
fn value() -> impl Strategy<Value = String> {
    json_literals::value(name().boxed(), 3, 4)
}

/// Values shaped for the claim named `name` most of the time, anything otherwise.
fn value_for(claim: &str) -> BoxedStrategy<String> {
    let typed = match claim.trim_matches('"') {
        "exp" | "nbf" | "iat" | "ex\\u0070" => number().boxed(),
        "aud" | "scope" | "scp" | "scopes" | "sc\\u006fpe" => {
            prop_oneof![string(), vec(string(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),]
                .boxed()
        }
        "cnf" | "\\u0063nf" => prop_oneof![
            string().prop_map(|jkt| format!("{{\"jkt\":{jkt}}}")),
            (string(), name(), value()).prop_map(|(jkt, other, v)| format!("{{\"jkt\":{jkt},{other}:{v}}}")),
            value(),
        ]
        .boxed(),
        _ => string().boxed(),
    };
    prop_oneof![6 => typed, 1 => Just("null".to_owned()), 2 => value()].boxed()
}

/// A claims object: members in any order, names possibly repeated, with whitespace here
/// and there; or, as often, one an issuer would write (each claim once, well typed), whose
/// values the two readers must then read alike.
fn claims_object() -> impl Strategy<Value = String> {
    let member = name().prop_flat_map(|name| (Just(name.clone()), value_for(&name)));
    let space = prop_oneof![Just(""), Just(" "), Just("\n\t"), Just("\r\n  ")];
    let random = (vec((member, space.clone()), 0..10), space).prop_map(|(members, outer)| {
        let members: Vec<String> = members
            .into_iter()
            .map(|((name, value), space)| format!("{space}{name}{space}:{value}"))
            .collect();
        format!("{outer}{{{}}}{outer}", members.join(","))
    });
    prop_oneof![random, issued()]
}

/// Claims as an issuer writes them (serialized by serde_json, so always well-formed): a
/// random selection of the registered claims, each once and of its type, and unknown ones
/// beside them.
fn issued() -> impl Strategy<Value = String> {
    use serde_json::{json, Map, Value};
    let text = || prop_oneof!["[a-zA-Z0-9 _.:/-]{0,20}", "\\PC{0,8}"];
    let list = move || prop_oneof![text().prop_map(Value::from), vec(text(), 0..4).prop_map(Value::from)];
    let date = prop_oneof![
        4 => (0u64..4_000_000_000).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => (0.0f64..4e9).prop_map(Value::from),
    ];
    let cnf = prop_oneof![
        text().prop_map(|jkt| json!({ "jkt": jkt })),
        text().prop_map(|jkt| json!({ "jkt": jkt, "x5t#S256": "other" })),
        Just(Value::Null),
        Just(json!(["jkt"])),
    ];
    let unknown = vec(("[a-z_]{4,10}", prop_oneof![text().prop_map(Value::from), date.clone()]), 0..3);
    let strings = ["iss", "sub", "jti", "client_id", "azp", "idtyp", "provider"];
    let lists = ["aud", "scope", "scp", "scopes"];
    let dates = ["exp", "nbf", "iat"];
    (
        vec(prop::option::of(text()), strings.len()),
        vec(prop::option::of(list()), lists.len()),
        vec(prop::option::of(date), dates.len()),
        prop::option::of(cnf),
        unknown,
    )
        .prop_map(move |(texts, listed, dated, cnf, unknown)| {
            let mut claims = Map::new();
            for (name, value) in strings.iter().zip(texts) {
                value.map(|value| claims.insert((*name).to_owned(), Value::from(value)));
            }
            for (name, value) in lists.iter().zip(listed).chain(dates.iter().zip(dated)) {
                value.map(|value| claims.insert((*name).to_owned(), value));
            }
            cnf.map(|cnf| claims.insert("cnf".to_owned(), cnf));
            for (name, value) in unknown {
                claims.insert(format!("x_{name}"), value);
            }
            Value::Object(claims).to_string()
        })
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn the_claims_reader_agrees_with_serde_json(text in claims_object()) {
        prop_assert_eq!(claims_read(&text), claims_serde(&text), "{}", text);
    }

    #[test]
    fn the_claims_reader_agrees_with_serde_json_on_mutated_claims(
        text in claims_object(),
        mutations in vec(mutation(), 1..4),
    ) {
        let mutated = mutations.iter().fold(text, |text, mutation| mutate(&text, mutation));
        prop_assert_eq!(claims_read(&mutated), claims_serde(&mutated), "{}", mutated);
    }
}

/// The generator reaches both answers often: agreement on refusals alone would prove little.
#[test]
fn the_generated_claims_are_accepted_and_refused_in_good_measure() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = claims_object();
    let (mut accepted, mut with_dates, total) = (0, 0, 2000);
    for _ in 0..total {
        let text = strategy.new_tree(&mut runner).map(|tree| tree.current()).unwrap_or_default();
        if let Some(claims) = claims_serde(&text) {
            accepted += 1;
            with_dates += usize::from(claims.exp.is_some());
        }
    }
    assert!(accepted > total / 5 && accepted < total * 4 / 5, "{accepted} of {total} accepted");
    assert!(with_dates > total / 10, "{with_dates} of {total} with an exp");
}

#[test]
fn both_readers_read_a_typical_token_alike() {
    let text = r#"{"iss":"https://issuer.example","sub":"42","aud":["api","other"],"exp":1700000600,
        "nbf":1699999990.5,"iat":1700000000,"jti":"t\u00e9","client_id":"app","scope":"read write",
        "scp":["a","b"],"idtyp":"user","provider":"users","cnf":{"jkt":"thumb"},"extra":{"x":[1,2,{}]}}"#;
    let expected = ClaimsRead {
        iss: Some("https://issuer.example".into()),
        sub: Some("42".into()),
        aud: Some(ClaimList::Many(vec!["api".into(), "other".into()])),
        exp: Some(1_700_000_600),
        nbf: Some(1_699_999_990),
        iat: Some(1_700_000_000),
        jti: Some("té".into()),
        client_id: Some("app".into()),
        azp: None,
        scope: Some(ClaimList::One("read write".into())),
        scp: Some(ClaimList::Many(vec!["a".into(), "b".into()])),
        scopes: None,
        idtyp: Some("user".into()),
        provider: Some("users".into()),
        cnf: Some(Some("thumb".into())),
    };
    assert_eq!(claims_serde(text), Some(expected.clone()));
    assert_eq!(claims_read(text), Some(expected));
}

#[test]
fn both_readers_refuse_the_same_corner_cases() {
    for text in [
        r#"{"iss":"a","iss":"b"}"#,
        r#"{"iss":null,"\u0069ss":null}"#,
        r#"{"exp":1e400}"#,
        r#"{"cnf":1e400}"#,
        r#"{"cnf":{"jkt":5}}"#,
        r#"{"sub":"\ud800"}"#,
        r#"{"aud":["a",1]}"#,
        r#"{"aud":["a",]}"#,
        r#"{"scope":{}}"#,
        r#"{"exp":"1"}"#,
        r#"{"x":1,}"#,
        "\u{c}{}",
        "[]",
        "{} x",
    ] {
        assert_eq!(claims_serde(text), None, "{text}");
        assert_eq!(claims_read(text), None, "{text}");
    }
    for text in [
        r#"{"x":"\ud800","x":[[[[{}]]]],"cnf":null}"#,
        r#"{"cnf":[1e400]}"#,
        r#"{"cnf":{"jkt":"a","jkt":"b"}}"#,
        r#"{"exp":-5,"nbf":1.9,"iat":18446744073709551616}"#,
        " \t\r\n{}\n",
    ] {
        assert!(claims_serde(text).is_some(), "{text}");
        assert_eq!(claims_read(text), claims_serde(text), "{text}");
    }
}
