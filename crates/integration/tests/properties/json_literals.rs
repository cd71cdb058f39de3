//! JSON string and number literals for the readers' properties (the token claims reader
//! and the DPoP proof claims reader): plain ones as clients and issuers write them, and the
//! grammar's corners, broken ones included.

use proptest::collection::vec;
use proptest::prelude::*;

/// String literals, as JSON text: plain (what clients and issuers send), escaped,
/// non-ASCII, and broken.
pub(crate) fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-zA-Z0-9 _.:/#?=&~-]{0,40}".prop_map(|text| format!("\"{text}\"")),
        2 => "\\PC{0,8}".prop_map(|text| serde_json::to_string(&text).unwrap_or_default()),
        1 => prop_oneof![
            Just(r#""a\"b\\c\/d\b\f\n\r\t""#), Just(r#""https:\/\/a.example\/""#), Just(r#""\u00e9\u20ac""#),
            Just(r#""\ud83d\ude00""#), Just(r#""\uD83D\uDE00x""#), Just(r#""\ud800""#), Just(r#""\udc00""#),
            Just(r#""\ud800\n""#), Just(r#""\ud800\u0041""#), Just(r#""\u00""#), Just(r#""\x""#),
            Just("\"tab\there\""), Just("\"\u{1}\""), Just(r#""unterminated"#), Just(r#""read write  admin""#),
        ]
        .prop_map(str::to_owned),
    ]
}

/// Number literals: dates in seconds, and the grammar's corners.
pub(crate) fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => (0u64..4_000_000_000).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => (0u64..4_000_000_000, 0u32..1_000_000).prop_map(|(n, f)| format!("{n}.{f}")),
        1 => prop_oneof![
            Just("0"), Just("-0"), Just("1.5e9"), Just("1E9"), Just("1e+3"), Just("2e-3"), Just("1e400"),
            Just("-1e400"), Just("9999999999999999999"), Just("18446744073709551615"),
            Just("18446744073709551616"), Just("123456789012345678901"), Just("99999999999999999999999"),
            Just("1699999999.99999999999"), Just("01"), Just("1."), Just("-"), Just(".5"), Just("1e"),
            Just("+1"), Just("0x10"), Just("NaN"), Just("Infinity"),
        ]
        .prop_map(str::to_owned),
    ]
}

/// Any value, nested up to `depth` levels (objects' members named by `name`, `width`
/// items or members at most).
pub(crate) fn value<N>(name: N, depth: u32, width: usize) -> impl Strategy<Value = String>
where
    N: Strategy<Value = String> + Clone + 'static,
{
    let leaf = prop_oneof![
        3 => string(),
        3 => number(),
        1 => prop_oneof![Just("null"), Just("true"), Just("false"), Just("nul"), Just("True")]
            .prop_map(str::to_owned),
    ];
    let size = u32::try_from(width).unwrap_or(4) * 6;
    leaf.prop_recursive(depth, size, u32::try_from(width).unwrap_or(4), move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..width).prop_map(|items| format!("[{}]", items.join(","))),
            vec((name.clone(), inner), 0..width).prop_map(|members| {
                let members: Vec<String> = members.into_iter().map(|(n, v)| format!("{n}:{v}")).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// One small edit of a JSON text, as a fuzzer makes them.
#[derive(Debug, Clone)]
pub(crate) enum Mutation {
    Delete(usize),
    Insert(usize, char),
    Truncate(usize),
    Append(&'static str),
}

pub(crate) fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![
        Just(','),
        Just(':'),
        Just('"'),
        Just('\\'),
        Just('{'),
        Just('}'),
        Just('['),
        Just(']'),
        Just(' '),
        Just('\u{1}'),
        Just('\u{c}'),
        Just('0'),
        Just('9'),
        Just('n'),
        Just('-'),
        Just('e'),
        Just('.'),
        Just('é'),
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), byte).prop_map(|(at, c)| Mutation::Insert(at, c)),
        any::<usize>().prop_map(Mutation::Truncate),
        prop_oneof![Just(" "), Just(","), Just("}"), Just("{}"), Just("x")].prop_map(Mutation::Append),
    ]
}

pub(crate) fn mutate(text: &str, mutation: &Mutation) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = |n: usize| if chars.is_empty() { 0 } else { n % (chars.len() + 1) };
    let mut out = chars.clone();
    match *mutation {
        Mutation::Delete(n) if !chars.is_empty() => {
            out.remove(n % chars.len());
        }
        Mutation::Delete(_) => {}
        Mutation::Insert(n, c) => out.insert(at(n), c),
        Mutation::Truncate(n) => out.truncate(at(n)),
        Mutation::Append(tail) => out.extend(tail.chars()),
    }
    out.into_iter().collect()
}
