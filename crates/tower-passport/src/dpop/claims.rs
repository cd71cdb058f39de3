//! The claims of a DPoP proof (RFC 9449 §4.2), read from its decoded payload with the
//! crate's strict JSON reader ([`crate::json`], the one a token's claims are read with):
//! one pass, borrowed (a string with a JSON escape is decoded into a copy), no serde.
//! The shape clients send (no whitespace, no escape, strings and plain integers) is read
//! first by [`flat`], a single pass with nothing else to it, which hands anything else to
//! the general reader: the answers are that reader's either way.
//!
//! What it accepts is what serde_json's typed parse of the same struct accepted (the unit
//! tests hold the two to the same answers on a table of payloads):
//! - the payload is one JSON object (an array is refused), validated to its end, unknown
//!   members included, at any depth;
//! - a member name is compared after decoding its escapes (`"j\u0074i"` is `jti`);
//! - a claim read here twice is refused (even `null` twice); unknown members may repeat;
//! - `jti`, `htm` and `htu` are strings; `ath` and `nonce` strings or `null` (absent);
//! - `iat` is a number: an integer, or a fraction or exponent read as an `f64` and
//!   truncated (negatives read as 0, beyond a float's range refused).

use std::borrow::Cow;

use crate::json::{Malformed, Read, Reader};

mod flat;

/// The claims of a proof, borrowed from the decoded payload. Strings are held as their
/// UTF-8 bytes (the payload was UTF-8, or the one-pass reader found it ASCII): what they
/// are compared and hashed as, with no second UTF-8 check of what was checked once.
pub(super) struct ProofClaims<'a> {
    pub(super) jti: Cow<'a, [u8]>,
    pub(super) htm: Cow<'a, [u8]>,
    pub(super) htu: Cow<'a, [u8]>,
    /// Seconds: a fraction truncated, a negative number 0.
    pub(super) iat: u64,
    pub(super) ath: Option<Cow<'a, [u8]>>,
    pub(super) nonce: Option<Cow<'a, [u8]>>,
}

/// A claim this reader takes, by its member name.
#[derive(Clone, Copy)]
enum Claim {
    Jti,
    Htm,
    Htu,
    Iat,
    Ath,
    Nonce,
}

impl Claim {
    /// Matched byte by byte (a decision tree, no string comparisons).
    #[inline]
    fn named(name: &[u8]) -> Option<Self> {
        Some(match *name {
            [b'j', b't', b'i'] => Self::Jti,
            [b'h', b't', b'm'] => Self::Htm,
            [b'h', b't', b'u'] => Self::Htu,
            [b'i', b'a', b't'] => Self::Iat,
            [b'a', b't', b'h'] => Self::Ath,
            [b'n', b'o', b'n', b'c', b'e'] => Self::Nonce,
            _ => return None,
        })
    }
}

impl<'a> ProofClaims<'a> {
    /// The claims of the JSON object `payload`; `None` when it is no object of them.
    /// Inlined, with the one-pass reader, into the proof's check: the claims (six
    /// borrowed strings) are built where they are used, not copied out of two calls.
    #[inline]
    pub(super) fn read(payload: &'a [u8]) -> Option<Self> {
        // The plain shape every client sends in one pass (ASCII only, so UTF-8 with no
        // check of its own); anything else checked for UTF-8 and read in full.
        flat::read(payload).or_else(|| Self::read_text(std::str::from_utf8(payload).ok()?).ok())
    }

    /// [`read`](Self::read) of the payload as text.
    #[inline(never)]
    fn read_text(text: &'a str) -> Read<Self> {
        let mut reader = Reader::new(text);
        reader.open_object()?;
        let (mut jti, mut htm, mut htu, mut iat, mut ath, mut nonce) = (None, None, None, None, None, None);
        let mut seen = 0u8;
        let mut first = true;
        while let Some(name) = reader.member(first)? {
            first = false;
            let Some(claim) = Claim::named(name.as_bytes()) else {
                reader.skip_value()?;
                continue;
            };
            let bit = 1u8 << claim as u8;
            if seen & bit != 0 {
                return Err(Malformed);
            }
            seen |= bit;
            let slot = match claim {
                Claim::Iat => {
                    iat = Some(seconds(&mut reader)?);
                    continue;
                }
                Claim::Jti => &mut jti,
                Claim::Htm => &mut htm,
                Claim::Htu => &mut htu,
                Claim::Ath => &mut ath,
                Claim::Nonce => &mut nonce,
            };
            // Every other claim is a string, `ath` and `nonce` possibly `null` (absent).
            let optional = matches!(claim, Claim::Ath | Claim::Nonce);
            *slot = if optional && reader.null()? { None } else { Some(reader.string()?) };
        }
        reader.end()?;
        Ok(Self {
            jti: bytes(jti.ok_or(Malformed)?),
            htm: bytes(htm.ok_or(Malformed)?),
            htu: bytes(htu.ok_or(Malformed)?),
            iat: iat.ok_or(Malformed)?,
            ath: ath.map(bytes),
            nonce: nonce.map(bytes),
        })
    }
}

/// A string's bytes, borrowed or owned as it was.
fn bytes(text: Cow<'_, str>) -> Cow<'_, [u8]> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
        Cow::Owned(text) => Cow::Owned(text.into_bytes()),
    }
}

#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod reference;

/// `iat`: a plain integer as it is; any other number (a sign, a fraction, an exponent, more
/// than 19 digits) read as an `f64`, refused beyond its range, truncated to whole seconds
/// with negatives at 0.
#[inline(always)]
fn seconds(reader: &mut Reader<'_>) -> Read<u64> {
    let number = reader.number()?;
    if let Some(plain) = number.plain {
        return Ok(plain);
    }
    // The reader checked the JSON grammar, which `f64`'s parser reads exactly.
    let value: f64 = number.text.parse().map_err(|_| Malformed)?;
    if !value.is_finite() {
        return Err(Malformed);
    }
    // Saturating float-to-int conversion: negative → 0.
    Ok(value as u64)
}

#[cfg(test)]
mod tests {
    use super::reference::{owned_claims, serde_claims, OwnedClaims};
    use super::*;

    fn ours(json: &str) -> Option<OwnedClaims> {
        owned_claims(json.as_bytes(), false)
    }

    fn by_serde(json: &str) -> Option<OwnedClaims> {
        serde_claims(json.as_bytes())
    }

    /// Payloads serde_json reads.
    const READ: &[&str] = &[
        r#"{"jti":"e1j3V_bKic8-LAEB","htm":"GET","htu":"https://api.example.com/orders","iat":1700000000,"ath":"fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"}"#,
        r#"{"jti":"a","htm":"POST","htu":"https://a.example/token","iat":0}"#,
        r#" { "jti" : "a" , "htm":"GET", "htu":"https://a.example/x#y","iat":1700000000,"nonce":"n-1","extra":"ok","n":7 } "#,
        r#"{"jti":"","htm":"GET","htu":"x","iat":123456789012345}"#,
        // An unknown member twice is ignored.
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"extra":"x","extra":"y"}"#,
        // Escapes, in values and in names.
        r#"{"jti":"a\"b","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https:\/\/a.example\/","iat":1}"#,
        r#"{"j\u0074i":"a","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"\ud83d\ude00","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"é","htm":"GET","htu":"https://a.example/","iat":1}"#,
        // Numbers of every shape.
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1.5}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1e9}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1.7E+9}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":-1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":-0.0}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1234567890123456}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1e-400}"#,
        // `null` for an optional claim, nested and odd unknown members.
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"ath":null,"nonce":null}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"cnf":{"x":[1,2,{"y":null}]}}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"extra":true,"s":"\ud800"}"#,
        "{\"jti\":\"a\",\n\t\"htm\":\"GET\",\r\"htu\":\"https://a.example/\",\"iat\":1}",
        "{\"jti\":\"a\",\"htm\":\"GET\",\"htu\":\"https://a.example/\",\"iat\":1,\"x\":\"\u{7f}\"}",
    ];

    /// Payloads serde_json refuses.
    const REFUSED: &[&str] = &[
        r#"{"jti":"a","jti":"b","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","j\u0074i":"b","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"iat":2}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"ath":null,"ath":null}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/"}"#,
        r#"{"htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":null,"htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":1,"htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":"1"}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":null}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":01}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1.}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1e400}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"ath":7}"#,
        r#"{"jti":"\ud800","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a\x","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1} x"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1"#,
        r#"{"jti":"a" "htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a	b","htm":"GET","htu":"https://a.example/","iat":1}"#,
        r#"{"jti":"a","htm":"GET","htu":"https://a.example/","iat":1,"x":[1,]}"#,
        "{\"jti\":\"a\",\u{c}\"htm\":\"GET\",\"htu\":\"https://a.example/\",\"iat\":1}",
        r#"["a","GET","https://a.example/",1]"#,
        r#"{}"#,
        "",
    ];

    #[test]
    fn the_reader_reads_what_serde_json_reads_the_same_way() {
        for json in READ {
            let read = ours(json);
            assert!(read.is_some(), "{json}");
            assert_eq!(read, by_serde(json), "{json}");
        }
    }

    #[test]
    fn the_reader_refuses_what_serde_json_refuses() {
        for json in REFUSED {
            assert_eq!(by_serde(json), None, "{json}");
            assert_eq!(ours(json), None, "{json}");
        }
    }

    #[test]
    fn a_plain_payload_is_borrowed_and_an_escaped_string_decoded() {
        let json = br#"{"jti":"a\"b","htm":"GET","htu":"https://a.example/","iat":1700000000}"#;
        let claims = ProofClaims::read(json).unwrap();
        assert!(matches!(claims.htu, Cow::Borrowed(htu) if htu == b"https://a.example/"));
        assert_eq!(&*claims.jti, b"a\"b");
        assert_eq!(claims.iat, 1_700_000_000);
    }

    #[test]
    fn every_prefix_of_a_payload_is_refused_by_both() {
        let json = READ[0];
        for end in 0..json.len() {
            let prefix = &json[..end];
            assert_eq!(ours(prefix), None, "{end}");
            assert_eq!(by_serde(prefix), None, "{end}");
        }
    }

    #[test]
    fn a_payload_that_is_no_utf8_is_refused() {
        let json = b"{\"jti\":\"\xff\",\"htm\":\"GET\",\"htu\":\"https://a.example/\",\"iat\":1}";
        assert!(ProofClaims::read(json).is_none());
        assert!(serde_claims(json).is_none());
    }
}
