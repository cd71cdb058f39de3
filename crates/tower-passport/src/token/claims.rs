//! The registered claims the verifier reads, parsed once in one pass, borrowing from the
//! decoded payload wherever a string has no escapes.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// The claims of an access token as sent. Unknown claims are skipped here and stay
/// available raw through [`VerifiedToken::claims`](crate::VerifiedToken::claims).
/// A duplicated registered claim is a parse error, so two parsers can never disagree.
///
/// The verifier reads it with [`RawClaims::read`] (`claims_read.rs`); the `Deserialize`
/// derive is the reference that reader is tested against ([`RawClaims::from_serde`]).
#[derive(Default, Deserialize)]
pub(crate) struct RawClaims<'a> {
    #[serde(borrow)]
    pub(crate) iss: Option<Text<'a>>,
    #[serde(borrow)]
    pub(crate) sub: Option<Text<'a>>,
    #[serde(borrow = "'a")]
    pub(crate) aud: Option<AudienceList<'a>>,
    pub(crate) exp: Option<NumericDate>,
    pub(crate) nbf: Option<NumericDate>,
    pub(crate) iat: Option<NumericDate>,
    #[serde(borrow)]
    pub(crate) jti: Option<Text<'a>>,
    #[serde(borrow)]
    pub(crate) client_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub(crate) azp: Option<Text<'a>>,
    #[serde(borrow = "'a")]
    pub(crate) scope: Option<StringList<'a>>,
    #[serde(borrow = "'a")]
    pub(crate) scp: Option<StringList<'a>>,
    #[serde(borrow = "'a")]
    pub(crate) scopes: Option<StringList<'a>>,
    /// The token's own statement of its kind: `app` for a client acting for itself,
    /// `user` for a user's token (this crate's issuer states it on every token).
    #[serde(borrow)]
    pub(crate) idtyp: Option<Text<'a>>,
    /// The user provider the token's user comes from (this crate's issuer names it for
    /// clients registered with one); absent for the default provider.
    #[serde(borrow)]
    pub(crate) provider: Option<Text<'a>>,
    /// RFC 7800 confirmation: present at all (even `null`) means bound to a key; its
    /// `jkt` (RFC 9449 §6.1) names a DPoP key.
    #[serde(default, borrow, deserialize_with = "confirmation")]
    pub(crate) cnf: Option<Confirmation<'a>>,
}

impl<'a> RawClaims<'a> {
    /// The claims as the verifier read them before [`RawClaims::read`]: a JSON object
    /// (not an array, which serde's struct visitor would take), parsed by serde_json.
    /// The reference for that reader, in its property test and the `claims` fuzz target.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn from_serde(text: &'a str) -> Option<Self> {
        if !is_json_object(text.as_bytes()) {
            return None;
        }
        serde_json::from_str(text).ok()
    }
}

/// A `cnf` claim: the DPoP key thumbprint when it is an object with a string `jkt`, and
/// `None` for any other confirmation method (or shape), which binds the token all the same.
#[derive(Default)]
pub(crate) struct Confirmation<'a> {
    pub(crate) jkt: Option<Text<'a>>,
}

fn confirmation<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Confirmation<'a>>, D::Error> {
    struct ConfirmationVisitor;
    impl<'de> Visitor<'de> for ConfirmationVisitor {
        type Value = Confirmation<'de>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a confirmation claim")
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = Confirmation::default();
            let mut other_methods = false;
            while let Some(name) = map.next_key::<Text<'de>>()? {
                if &*name == "jkt" && found.jkt.is_none() {
                    found.jkt = Some(map.next_value::<Text<'de>>()?);
                } else {
                    other_methods = true;
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
            // A second confirmation method beside `jkt` (or `jkt` twice) is a binding this
            // crate cannot check: bound, with no key to prove.
            if other_methods {
                found.jkt = None;
            }
            Ok(found)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Confirmation::default())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Confirmation::default())
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Confirmation::default())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Confirmation::default())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Confirmation::default())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Confirmation::default())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Confirmation::default())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(Confirmation::default())
        }
    }
    deserializer.deserialize_any(ConfirmationVisitor).map(Some)
}

/// `Some(())` for a member that is present, whatever its value (`null` included); with
/// `#[serde(default)]` a missing member stays `None`.
/// A JSON string that borrows from the payload when it has no escapes. (`Option<Cow<str>>`
/// with `#[serde(borrow)]` would always allocate: serde borrows only a bare `Cow`.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(value.to_owned())))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

pub(crate) fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<()>, D::Error> {
    de::IgnoredAny::deserialize(deserializer).map(|_| Some(()))
}

/// A JSON string or array of strings. A string is split on spaces, as the scope claims
/// ("a b" or ["a", "b"]) want.
/// A list of strings as a claim carries it: one space-delimited string (`scope`), one
/// string (`aud`), or an array. A single string is kept as it came: no allocation.
pub(crate) enum StringList<'a> {
    /// One string: space-delimited for scopes, a single value for an audience.
    One(Cow<'a, str>),
    /// A JSON array of strings.
    Many(Vec<Text<'a>>),
}

impl StringList<'_> {
    /// The items, a single string as one item (an audience).
    pub(crate) fn items(&self) -> impl Iterator<Item = &str> + '_ {
        let (one, many) = match self {
            Self::One(value) => (Some(&**value), &[][..]),
            Self::Many(items) => (None, items.as_slice()),
        };
        one.into_iter().chain(many.iter().map(|item| &**item))
    }

    /// Hands each scope to `each`: a string split on spaces, an array item by item. Empty
    /// scopes are skipped.
    pub(crate) fn each_scope<'s>(&'s self, mut each: impl FnMut(&'s str)) {
        match self {
            Self::One(value) => {
                let mut rest: &str = value;
                while !rest.is_empty() {
                    let (scope, after) = match rest.as_bytes().iter().position(|&b| b == b' ') {
                        Some(space) => (&rest[..space], &rest[space + 1..]),
                        None => (rest, ""),
                    };
                    if !scope.is_empty() {
                        each(scope);
                    }
                    rest = after;
                }
            }
            Self::Many(items) => items.iter().filter(|item| !item.is_empty()).for_each(|item| each(item)),
        }
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = StringList<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or an array of strings")
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(StringList::One(Cow::Borrowed(value)))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(StringList::One(Cow::Owned(value.to_owned())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4).min(64));
        while let Some(item) = seq.next_element::<Text<'de>>()? {
            items.push(item);
        }
        Ok(StringList::Many(items))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for StringList<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListVisitor)
    }
}

/// `aud`: one string or an array of them.
pub(crate) type AudienceList<'a> = StringList<'a>;

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
