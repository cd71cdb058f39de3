//! The claims of a DPoP proof (RFC 9449 §4.2), read from its decoded payload.
//!
//! A client's proofs are flat objects of short ASCII strings and one integer `iat`; those
//! are read here in one pass, borrowed, without serde ([`read_plain`]). Any other payload
//! (an escape, a non-ASCII string, a fraction, a nested value, `null`, a member twice, a
//! missing one, anything malformed) is left to serde_json, whose answer is the rule: the
//! plain reader gives the same claims or no answer, never another one. The unit tests hold
//! it to that on a table of payloads.

use std::borrow::Cow;

use serde::Deserialize;

use crate::token::{is_json_object, Text};

/// The claims of a proof, borrowed from the decoded payload (a string with a JSON escape
/// is copied). Duplicated members are refused.
#[derive(Deserialize)]
pub(super) struct ProofClaims<'a> {
    #[serde(borrow)]
    pub(super) jti: Text<'a>,
    #[serde(borrow)]
    pub(super) htm: Text<'a>,
    #[serde(borrow)]
    pub(super) htu: Text<'a>,
    pub(super) iat: f64,
    #[serde(borrow, default)]
    pub(super) ath: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub(super) nonce: Option<Text<'a>>,
}

impl<'a> ProofClaims<'a> {
    /// The claims of the JSON object `payload`; `None` when it is no object of them.
    pub(super) fn read(payload: &'a [u8]) -> Option<Self> {
        read_plain(payload).or_else(|| {
            // A JSON array would read as a struct's fields in order: refused.
            is_json_object(payload).then(|| serde_json::from_slice(payload).ok()).flatten()
        })
    }
}

/// One member's value, as the plain reader takes it.
enum Plain<'a> {
    Text(&'a str),
    Integer(u64),
}

/// The claims of a payload in the plain shape; `None` for any other payload (which may
/// still be valid: serde_json then reads it). The shape: printable ASCII throughout, no
/// `\` anywhere (so no escape), spaces only between tokens, and members whose values are
/// strings or integers of up to 15 digits.
fn read_plain(json: &[u8]) -> Option<ProofClaims<'_>> {
    fn text(value: &str) -> Text<'_> {
        Text(Cow::Borrowed(value))
    }
    // One branch-free pass (it vectorises) rules out escapes, control characters (inside
    // a string, serde_json refuses them; between tokens, the fallback reads them) and
    // anything beyond ASCII, so every string below is a slice of `json` as it is.
    // `b - 0x20 < 0x5f`: printable ASCII, 0x20 to 0x7e, in one compare.
    let plain = json.iter().fold(true, |plain, &b| plain & (b.wrapping_sub(0x20) < 0x5f) & (b != b'\\'));
    if !plain {
        return None;
    }
    let json = std::str::from_utf8(json).ok()?;
    let bytes = json.as_bytes();
    let mut at = skip_spaces(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    let (mut jti, mut htm, mut htu, mut iat, mut ath, mut nonce) = (None, None, None, None, None, None);
    at = skip_spaces(bytes, at + 1);
    loop {
        let (name, next) = plain_string(json, at)?;
        at = skip_spaces(bytes, next);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip_spaces(bytes, at + 1);
        let (value, next) = match bytes.get(at)? {
            b'"' => plain_string(json, at).map(|(text, next)| (Plain::Text(text), next))?,
            b'0'..=b'9' => plain_integer(bytes, at).map(|(value, next)| (Plain::Integer(value), next))?,
            _ => return None,
        };
        at = skip_spaces(bytes, next);
        // A member twice, or of the wrong type: serde_json's answer (an error).
        match (name, value) {
            ("jti", Plain::Text(text)) if jti.is_none() => jti = Some(text),
            ("htm", Plain::Text(text)) if htm.is_none() => htm = Some(text),
            ("htu", Plain::Text(text)) if htu.is_none() => htu = Some(text),
            ("ath", Plain::Text(text)) if ath.is_none() => ath = Some(text),
            ("nonce", Plain::Text(text)) if nonce.is_none() => nonce = Some(text),
            ("iat", Plain::Integer(value)) if iat.is_none() => iat = Some(value),
            ("jti" | "htm" | "htu" | "ath" | "nonce" | "iat", _) => return None,
            _ => {}
        }
        match bytes.get(at)? {
            b',' => at = skip_spaces(bytes, at + 1),
            b'}' => break,
            _ => return None,
        }
    }
    if skip_spaces(bytes, at + 1) != bytes.len() {
        return None;
    }
    Some(ProofClaims {
        jti: text(jti?),
        htm: text(htm?),
        htu: text(htu?),
        // Up to 15 digits: exact in an f64, as serde_json's conversion of the integer.
        iat: iat? as f64,
        ath: ath.map(text),
        nonce: nonce.map(text),
    })
}

/// Spaces from `at` (the only whitespace a plain payload has).
fn skip_spaces(json: &[u8], mut at: usize) -> usize {
    while json.get(at) == Some(&b' ') {
        at += 1;
    }
    at
}

/// The string that starts at `at` (its opening quote), and where it ends. The payload
/// was checked to hold no escape and no control character.
fn plain_string(json: &str, at: usize) -> Option<(&str, usize)> {
    if json.as_bytes().get(at) != Some(&b'"') {
        return None;
    }
    let length = memchr::memchr(b'"', json.as_bytes().get(at + 1..)?)?;
    Some((json.get(at + 1..at + 1 + length)?, at + 1 + length + 1))
}

/// The integer that starts at `at` when it has 1 to 15 digits, no leading zero, and no
/// fraction or exponent after it, and where it ends; `None` for any other number.
fn plain_integer(json: &[u8], at: usize) -> Option<(u64, usize)> {
    let digits = json[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    let end = at + digits;
    if digits == 0 || digits > 15 || (digits > 1 && json[at] == b'0') {
        return None;
    }
    if matches!(json.get(end), Some(b'.' | b'e' | b'E')) {
        return None;
    }
    let value = json[at..end].iter().fold(0u64, |value, digit| value * 10 + u64::from(digit - b'0'));
    Some((value, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Fields = (String, String, String, u64, Option<String>, Option<String>);

    fn fields(claims: ProofClaims<'_>) -> Fields {
        let owned = |text: Text<'_>| text.0.into_owned();
        (
            owned(claims.jti),
            owned(claims.htm),
            owned(claims.htu),
            claims.iat.to_bits(),
            claims.ath.map(owned),
            claims.nonce.map(owned),
        )
    }

    fn by_serde(json: &str) -> Option<Fields> {
        let bytes = json.as_bytes();
        is_json_object(bytes)
            .then(|| serde_json::from_slice::<ProofClaims<'_>>(bytes).ok().map(fields))
            .flatten()
    }

    const PLAIN: &[&str] = &[
        r#"{"jti":"e1j3V_bKic8-LAEB","htm":"GET","htu":"https://api.example.com/orders","iat":1700000000,"ath":"fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"}"#,
        r#"{"jti":"a","htm":"POST","htu":"https://a.example/token","iat":0}"#,
        r#" { "jti" : "a" , "htm":"GET", "htu":"https://a.example/x#y","iat":1700000000,"nonce":"n-1","extra":"ok","n":7 } "#,
        r#"{"jti":"","htm":"GET","htu":"x","iat":123456789012345}"#,
        // An unknown member twice is ignored, by serde_json too.
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"extra":"x","extra":"y"}"#,
    ];

    const OTHERS: &[&str] = &[
        // serde_json reads these; the plain reader leaves them to it.
        r#"{"jti":"a\"b","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https:\/\/a.example\/","iat":1}"#,
        r#"{"j\u0074i":"a","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"é","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1.5}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1e9}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":-1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1234567890123456}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"ath":null}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"cnf":{"x":[1,2]}}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"extra":true}"#,
        r#"{"jti":"a",
            "htm":"GET","htu":"https://a.example/","iat":1}"#,
        "{\"jti\":\"a\",\t\"htm\":\"GET\",\"htu\":\"https://a.example/\",\"iat\":1}",
        "{\"jti\":\"a\",\"htm\":\"GET\",\"htu\":\"https://a.example/\",\"iat\":1,\"x\":\"\u{7f}\"}",
        // serde_json refuses these.
        r#"{"jti":"a","jti":"b","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"iat":2}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/"}"#,
        r#"{"jti":1,"htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":"1"}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":01}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1} x"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1"#,
        r#"{"jti":"a" "htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a	b","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"["a","GET","https://a.example/",1]"#,
        r#"{}"#,
        "",
    ];

    #[test]
    fn the_plain_reader_reads_a_clients_payload_as_serde_json_does() {
        for json in PLAIN {
            let plain = read_plain(json.as_bytes()).map(fields);
            assert!(plain.is_some(), "{json}");
            assert_eq!(plain, by_serde(json), "{json}");
        }
    }

    #[test]
    fn the_plain_reader_leaves_every_other_payload_to_serde_json() {
        for json in OTHERS {
            assert!(read_plain(json.as_bytes()).is_none(), "{json}");
            assert_eq!(ProofClaims::read(json.as_bytes()).map(fields), by_serde(json), "{json}");
        }
        // Some of them serde_json reads, some it refuses: both kinds are in the table.
        assert!(by_serde(OTHERS[0]).is_some());
        assert!(by_serde(OTHERS[OTHERS.len() - 1]).is_none());
    }

    #[test]
    fn every_prefix_of_a_plain_payload_is_refused_by_both() {
        let json = PLAIN[0];
        for end in 0..json.len() {
            let prefix = &json.as_bytes()[..end];
            assert!(read_plain(prefix).is_none(), "{end}");
            assert!(ProofClaims::read(prefix).is_none(), "{end}");
        }
    }
}
