//! The registered claims the verifier reads, parsed once in one pass, borrowing from the
//! decoded payload wherever a string has no escapes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// The claims of an access token as sent. Unknown claims are skipped here and stay
/// available raw through [`VerifiedToken::claims`](crate::VerifiedToken::claims).
/// A duplicated registered claim is a parse error, so two parsers can never disagree.
#[derive(Deserialize)]
pub(crate) struct RawClaims<'a> {
    #[serde(borrow)]
    pub(crate) iss: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) sub: Option<Cow<'a, str>>,
    #[serde(borrow = "'a")]
    pub(crate) aud: Option<AudienceList<'a>>,
    pub(crate) exp: Option<NumericDate>,
    pub(crate) nbf: Option<NumericDate>,
    pub(crate) iat: Option<NumericDate>,
    #[serde(borrow)]
    pub(crate) jti: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) client_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) azp: Option<Cow<'a, str>>,
    #[serde(borrow = "'a")]
    pub(crate) scope: Option<StringList<'a>>,
    #[serde(borrow = "'a")]
    pub(crate) scp: Option<StringList<'a>>,
    #[serde(borrow = "'a")]
    pub(crate) scopes: Option<StringList<'a>>,
    /// The token's own statement of its kind: `app` for a client acting for itself,
    /// `user` for a user's token (this crate's issuer states it on every token).
    #[serde(borrow)]
    pub(crate) idtyp: Option<Cow<'a, str>>,
    /// The user provider the token's user comes from (this crate's issuer names it for
    /// clients registered with one); absent for the default provider.
    #[serde(borrow)]
    pub(crate) provider: Option<Cow<'a, str>>,
    /// RFC 7800 confirmation: present at all (even `null`) means bound to a key.
    #[serde(default, deserialize_with = "present")]
    pub(crate) cnf: Option<()>,
}

/// `Some(())` for a member that is present, whatever its value (`null` included); with
/// `#[serde(default)]` a missing member stays `None`.
pub(crate) fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<()>, D::Error> {
    de::IgnoredAny::deserialize(deserializer).map(|_| Some(()))
}

/// A JSON string or array of strings. A string is split on spaces, as the scope claims
/// ("a b" or ["a", "b"]) want.
pub(crate) struct StringList<'a>(pub(crate) Vec<Cow<'a, str>>);

/// Splits a space-delimited string, keeping borrowed pieces borrowed.
fn split_spaces(value: Cow<'_, str>) -> Vec<Cow<'_, str>> {
    match value {
        Cow::Borrowed(value) => value.split(' ').filter(|s| !s.is_empty()).map(Cow::Borrowed).collect(),
        Cow::Owned(value) => {
            value.split(' ').filter(|s| !s.is_empty()).map(|s| Cow::Owned(s.to_owned())).collect()
        }
    }
}

/// Reads a string or an array of strings; `split` says whether a single string is split
/// on spaces.
struct ListVisitor {
    split: bool,
}

impl<'de> Visitor<'de> for ListVisitor {
    type Value = Vec<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(if self.split { split_spaces(Cow::Borrowed(value)) } else { vec![Cow::Borrowed(value)] })
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        let owned = Cow::Owned(value.to_owned());
        Ok(if self.split { split_spaces(owned) } else { vec![owned] })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
        while let Some(item) = seq.next_element::<Cow<'de, str>>()? {
            items.push(item);
        }
        Ok(items)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for StringList<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListVisitor { split: true }).map(StringList)
    }
}

/// `aud`: one string (a single audience, never split, RFC 7519 §4.1.3) or an array.
pub(crate) struct AudienceList<'a>(pub(crate) Vec<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for AudienceList<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListVisitor { split: false }).map(AudienceList)
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
