//! The registered claims the verifier reads, parsed once in one pass.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// The claims of an access token as sent. Unknown claims are skipped here and stay
/// available raw through [`VerifiedToken::claims`](crate::VerifiedToken::claims).
/// A duplicated registered claim is a parse error, so two parsers can never disagree.
#[derive(Deserialize)]
pub(crate) struct RawClaims {
    pub(crate) iss: Option<Box<str>>,
    pub(crate) sub: Option<Box<str>>,
    pub(crate) aud: Option<AudienceList>,
    pub(crate) exp: Option<NumericDate>,
    pub(crate) nbf: Option<NumericDate>,
    pub(crate) iat: Option<NumericDate>,
    pub(crate) jti: Option<Box<str>>,
    pub(crate) client_id: Option<Box<str>>,
    pub(crate) azp: Option<Box<str>>,
    pub(crate) scope: Option<StringList>,
    pub(crate) scp: Option<StringList>,
    pub(crate) scopes: Option<StringList>,
}

/// A JSON string or array of strings. A string is split on spaces, so the same type reads
/// `aud` ("a" or ["a", "b"]) and the scope claims ("a b" or ["a", "b"]).
pub(crate) struct StringList(pub(crate) Vec<Box<str>>);

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = StringList;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<StringList, E> {
        Ok(StringList(value.split(' ').filter(|s| !s.is_empty()).map(Box::from).collect()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StringList, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
        while let Some(item) = seq.next_element::<Box<str>>()? {
            items.push(item);
        }
        Ok(StringList(items))
    }
}

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListVisitor)
    }
}

/// `aud`: one string (a single audience, never split, RFC 7519 §4.1.3) or an array.
pub(crate) struct AudienceList(pub(crate) Vec<Box<str>>);

impl<'de> Deserialize<'de> for AudienceList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AudienceVisitor;
        impl<'de> Visitor<'de> for AudienceVisitor {
            type Value = AudienceList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<AudienceList, E> {
                Ok(AudienceList(vec![Box::from(value)]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<AudienceList, A::Error> {
                ListVisitor.visit_seq(seq).map(|list| AudienceList(list.0))
            }
        }
        deserializer.deserialize_any(AudienceVisitor)
    }
}

/// Whether `json` is a JSON object (serde's derived structs also accept arrays).
pub(crate) fn is_json_object(json: &[u8]) -> bool {
    json.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// An RFC 7519 NumericDate: seconds since the epoch, integer or fractional. Fractions are
/// truncated; negative values read as 0.
pub(crate) struct NumericDate(pub(crate) u64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DateVisitor;
        impl Visitor<'_> for DateVisitor {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate")
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<NumericDate, E> {
                Ok(NumericDate(value))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<NumericDate, E> {
                Ok(NumericDate(u64::try_from(value).unwrap_or(0)))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<NumericDate, E> {
                if !value.is_finite() {
                    return Err(E::custom("NumericDate is not finite"));
                }
                // Saturating float-to-int conversion: negative → 0, huge → u64::MAX.
                Ok(NumericDate(value as u64))
            }
        }
        deserializer.deserialize_any(DateVisitor)
    }
}
