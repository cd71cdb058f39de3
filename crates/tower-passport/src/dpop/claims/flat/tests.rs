//! The one-pass reader against the general one: whatever it reads, the general reader
//! reads to the same claims; whatever else, it hands back. Tables of the corners, and
//! generated payloads (proof-shaped ones and byte-level mutations of them) from a fixed
//! seed, so every run checks the same tens of thousands.

use super::*;

use super::super::reference::{owned, OwnedClaims as Fields};

fn fields(claims: ProofClaims<'_>) -> Fields {
    owned(claims).expect("the readers hand out UTF-8")
}

fn flat(text: &str) -> Option<Fields> {
    read(text.as_bytes()).map(fields)
}

fn general(text: &str) -> Option<Fields> {
    ProofClaims::read_text(text).ok().map(fields)
}

/// The property: the one-pass reader says nothing or what the general reader says, and the
/// two together (what proofs are read with) say exactly what the general reader says.
/// `true` when the one-pass reader read it.
fn check(text: &str) -> bool {
    let general = general(text);
    let flat = flat(text);
    let read = flat.is_some();
    if let Some(flat) = flat {
        assert_eq!(Some(flat), general, "{text:?}");
    }
    let combined = ProofClaims::read(text.as_bytes()).map(fields);
    assert_eq!(combined, general, "{text:?}");
    read
}

const PLAIN: &str = r#"{"jti":"e1j3V_bKic8-LAEB","htm":"GET","htu":"https://api.example.com/orders","iat":1700000000,"ath":"fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"}"#;

#[test]
fn the_plain_shape_is_read_in_one_pass() {
    for text in [
        PLAIN,
        r#"{"htu":"https://a.example/","iat":0,"htm":"POST","jti":"a","nonce":"n-1"}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/x#y","iat":9999999999999999999,"x":"y","n":7,"x":1}"#,
        r#"{"jti":"","htm":"GET","htu":"x","iat":1,"ath":"","nonce":""}"#,
    ] {
        assert!(flat(text).is_some(), "{text}");
        check(text);
    }
    let claims = read(PLAIN.as_bytes()).unwrap();
    assert!(matches!(claims.htu, Cow::Borrowed(htu) if htu == b"https://api.example.com/orders"));
    assert_eq!(claims.iat, 1_700_000_000);
}

#[test]
fn every_other_shape_is_handed_to_the_general_reader() {
    for text in [
        // Read by the general reader.
        r#"{ "jti":"a","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1} "#,
        r#"{"jti":"a\"b","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"j\u0074i":"a","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1.5}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1e9}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":-1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":12345678901234567890}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"ath":null}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"x":{"y":[1]}}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"x":true}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"x":"\u0041"}"#,
        // Beyond ASCII, in a value or a name.
        r#"{"jti":"é","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"é":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/€","iat":1}"#,
        // Refused by it.
        r#"{"jti":"a","jti":"b","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":01}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1.}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":"1"}"#,
        r#"{"jti":1,"htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/"}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1}x"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1}}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","x":-,"iat":1}"#,
        "{\"jti\":\"a\u{1}\",\"htm\":\"GET\",\"htu\":\"https://a.example/\",\"iat\":1}",
        r#"{"jti""a","htm":"GET","htu":"https://a.example/","iat":1}"#,
        "{}",
        "{",
        "",
        "[]",
    ] {
        assert!(flat(text).is_none(), "{text}");
        check(text);
    }
}

#[test]
fn every_prefix_agrees() {
    for end in 0..=PLAIN.len() {
        if let Some(prefix) = PLAIN.get(..end) {
            check(prefix);
        }
    }
}

#[test]
fn integers_of_every_length_read_as_the_general_reader_reads_them() {
    let mut rng = Lcg(7);
    for length in 1..=21 {
        for _ in 0..200 {
            let mut digits: String =
                (0..length).map(|_| char::from(b'0' + (rng.next() % 10) as u8)).collect();
            if rng.next() % 4 == 0 {
                digits.replace_range(..1, "0");
            }
            for after in [",", "}", ".5,", "e3}", "x,", ""] {
                let text = format!("{digits}{after}");
                let general = {
                    let mut reader = crate::json::Reader::new(&text);
                    reader
                        .number()
                        .ok()
                        .and_then(|number| number.plain.map(|plain| (plain, number.text.len())))
                };
                // What `read` takes: a plain integer, then `,` or `}`.
                let taken = plain_integer(text.as_bytes(), 0)
                    .filter(|&(_, end)| matches!(text.as_bytes().get(end), Some(b',' | b'}')));
                if let Some(taken) = taken {
                    assert_eq!(Some(taken), general, "{text}");
                }
                // A plain integer of the general reader's is one here, unless a leading zero
                // makes the general reader stop after it (a `0` and then more digits).
                if general.is_some() && !(digits.len() > 1 && digits.starts_with('0')) {
                    assert!(plain_integer(text.as_bytes(), 0).is_some(), "{text}");
                }
            }
            check(&format!(r#"{{"jti":"a","htm":"GET","htu":"x","iat":{digits}}}"#));
        }
    }
    assert_eq!(eight_digits(b"12345678"), Some(12_345_678));
    assert_eq!(eight_digits(b"1234567/"), None);
    assert_eq!(eight_digits(b"1234567:"), None);
    assert_eq!(eight_digits(&[0xFA, b'1', b'1', b'1', b'1', b'1', b'1', b'1']), None);
    assert_eq!(eight_digits(&[b'1', 0xFF, b'1', b'1', b'1', b'1', b'1', b'1']), None);
    for position in 0..8 {
        for byte in 0..=255u8 {
            let mut word = *b"55555555";
            word[position] = byte;
            let expected = byte
                .is_ascii_digit()
                .then(|| std::str::from_utf8(&word).ok().and_then(|text| text.parse::<u64>().ok()));
            assert_eq!(eight_digits(&word), expected.flatten(), "{position} {byte}");
        }
    }
    assert_eq!(eight_digits(b"00000000"), Some(0));
    assert_eq!(eight_digits(b"99999999"), Some(99_999_999));
}

#[test]
fn the_word_scan_stops_where_a_byte_by_byte_scan_does() {
    let special = |byte: u8| byte == b'"' || byte == b'\\' || !(0x20..0x80).contains(&byte);
    for length in [7, 8, 16, 19] {
        for position in 0..length {
            for byte in 0..=255u8 {
                // Plain bytes of every kind around it, and a second stop after it.
                let mut bytes: Vec<u8> =
                    (0..length).map(|i| [b'a', 0x7f, b'0', b'!', b'#', b'~'][i % 6]).collect();
                bytes[position] = byte;
                if position + 2 < length {
                    bytes[position + 2] = b'"';
                }
                let expected = bytes.iter().position(|&b| special(b));
                assert_eq!(first_special(&bytes), expected, "{length} {position} {byte}");
            }
        }
    }
}

/// A small deterministic generator (64-bit LCG, Knuth's constants): no dependency, the
/// same cases every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.next() as usize % from.len()]
    }
}

const NAMES: &[&str] = &[
    r#""jti""#,
    r#""htm""#,
    r#""htu""#,
    r#""iat""#,
    r#""ath""#,
    r#""nonce""#,
    r#""x""#,
    r#""""#,
    r#""j\u0074i""#,
    r#""iat ""#,
    r#""é""#,
    r#""jtI""#,
];

const VALUES: &[&str] = &[
    r#""a""#,
    r#""GET""#,
    r#""https://a.example/x""#,
    r#""""#,
    r#""é€""#,
    r#""a\"b""#,
    r#""\u0041""#,
    r#""\ud800""#,
    r#""\x""#,
    "\"\u{1}\"",
    r#""unterminated"#,
    "0",
    "7",
    "1700000000",
    "01",
    "-1",
    "1.5",
    "1e9",
    "1.",
    "9999999999999999999",
    "18446744073709551616",
    "123456789012345678901",
    "null",
    "true",
    "nul",
    "[]",
    "[1,{\"a\":null}]",
    "{}",
    "{\"y\":\"z\"}",
    "-",
    "+1",
];

const SEPARATORS: &[&str] = &["", "", " ", "\n", "\t"];

/// A proof-shaped payload: the usual claims in some order, sometimes an odd member, an
/// odd value, whitespace or a claim missing.
fn payload(rng: &mut Lcg) -> String {
    let mut members = vec![
        (r#""jti""#.to_owned(), format!("\"{}\"", rng.next())),
        (r#""htm""#.to_owned(), r#""GET""#.to_owned()),
        (r#""htu""#.to_owned(), r#""https://a.example/orders""#.to_owned()),
        (r#""iat""#.to_owned(), rng.next().to_string()),
        (r#""ath""#.to_owned(), r#""fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo""#.to_owned()),
    ];
    for _ in 0..rng.next() % 3 {
        let at = rng.next() as usize % (members.len() + 1);
        members.insert(at, (rng.pick(NAMES).to_owned(), rng.pick(VALUES).to_owned()));
    }
    for _ in 0..rng.next() % 2 {
        let at = rng.next() as usize % members.len();
        members[at].1 = rng.pick(VALUES).to_owned();
    }
    if rng.next() % 4 == 0 {
        let at = rng.next() as usize % members.len();
        members.remove(at);
    }
    // Whitespace in one payload of four.
    let spaced = rng.next() % 4 == 0;
    let mut text = String::from("{");
    for (index, (name, value)) in members.iter().enumerate() {
        if index > 0 {
            text.push(',');
        }
        if spaced {
            text.push_str(rng.pick(SEPARATORS));
        }
        text.push_str(name);
        text.push(':');
        text.push_str(value);
    }
    text.push('}');
    text
}

/// Bytes a mutation puts in: the grammar's own, and a few that break it.
const INSERTED: &[u8] = b"{}[]\",:\\ 0123456789.eE-+nulx\x01\t";

#[test]
fn generated_payloads_agree() {
    let mut rng = Lcg(0x5eed_d0b0);
    let (mut read_in_one_pass, mut read_in_full) = (0, 0);
    for _ in 0..20_000 {
        let text = payload(&mut rng);
        if check(&text) {
            read_in_one_pass += 1;
        } else if general(&text).is_some() {
            read_in_full += 1;
        }
        // And a byte-level mutation of it.
        let mut bytes = text.into_bytes();
        let at = rng.next() as usize % (bytes.len() + 1);
        let byte = INSERTED[rng.next() as usize % INSERTED.len()];
        match rng.next() % 3 {
            0 => bytes.insert(at, byte),
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ if at < bytes.len() => bytes[at] = byte,
            _ => bytes.push(byte),
        }
        if let Ok(mutated) = String::from_utf8(bytes) {
            check(&mutated);
        }
    }
    // Both paths are exercised, not one alone.
    assert!(read_in_one_pass > 2_000 && read_in_full > 2_000, "{read_in_one_pass} {read_in_full}");
}
