//! [`RawClaims`] read in one pass with the crate's borrowed JSON reader ([`crate::json`])
//! instead of serde_json's typed parse: about half the instructions on a typical token
//! (BENCHMARKS.md, "Profile of the hot path"), and exactly as strict.
//!
//! "Exactly" is checked, not assumed: the `Deserialize` derive on [`RawClaims`] is kept as
//! the reference ([`RawClaims::from_serde`]), and a property test
//! (`crates/integration/tests/properties/claims_reader.rs`) and the `claims` fuzz target
//! assert that both accept and refuse the same payloads and read the same values. What
//! serde_json does, and so what this does:
//! - the whole text is one JSON object, validated to its end (unknown members too, at any
//!   depth);
//! - a member name is compared after decoding its escapes (`"\u0069ss"` is `iss`);
//! - a registered claim twice is refused (even `null` twice); unknown ones may repeat;
//! - `null` is an absent claim, except for `cnf`, where any value binds the token;
//! - a string claim must be a string, a list claim a string or an array of strings, a
//!   date a number (integer or fraction; fractions truncate, negatives read as 0);
//! - a string that is read refuses unpaired surrogates; one that is skipped does not.
//!
//! A number that is not a plain non-negative integer of at most 19 digits (a fraction, an
//! exponent, a sign, a huge one) is handed to serde_json itself, so that its value and its
//! range check are serde_json's to the bit: rare, and off the path of any issuer's tokens.

use crate::json::{Malformed, Read, Reader};

use super::claims::{Confirmation, NumericDate, RawClaims, StringList, Text};

/// A registered claim, by its member name.
#[derive(Clone, Copy)]
enum Claim {
    Iss,
    Sub,
    Aud,
    Exp,
    Nbf,
    Iat,
    Jti,
    ClientId,
    Azp,
    Scope,
    Scp,
    Scopes,
    Idtyp,
    Provider,
    Cnf,
}

impl Claim {
    /// Matched byte by byte (a decision tree, no string comparisons).
    #[inline]
    fn named(name: &str) -> Option<Self> {
        Some(match *name.as_bytes() {
            [b'i', b's', b's'] => Self::Iss,
            [b's', b'u', b'b'] => Self::Sub,
            [b'a', b'u', b'd'] => Self::Aud,
            [b'e', b'x', b'p'] => Self::Exp,
            [b'n', b'b', b'f'] => Self::Nbf,
            [b'i', b'a', b't'] => Self::Iat,
            [b'j', b't', b'i'] => Self::Jti,
            [b'c', b'l', b'i', b'e', b'n', b't', b'_', b'i', b'd'] => Self::ClientId,
            [b'a', b'z', b'p'] => Self::Azp,
            [b's', b'c', b'o', b'p', b'e'] => Self::Scope,
            [b's', b'c', b'p'] => Self::Scp,
            [b's', b'c', b'o', b'p', b'e', b's'] => Self::Scopes,
            [b'i', b'd', b't', b'y', b'p'] => Self::Idtyp,
            [b'p', b'r', b'o', b'v', b'i', b'd', b'e', b'r'] => Self::Provider,
            [b'c', b'n', b'f'] => Self::Cnf,
            _ => return None,
        })
    }
}

impl<'a> RawClaims<'a> {
    /// Reads a token's claims: `Err` for anything serde_json's typed parse refuses.
    pub(crate) fn read(text: &'a str) -> Read<Self> {
        let mut reader = Reader::new(text);
        reader.open_object()?;
        let mut claims = Self::default();
        let mut seen = 0u16;
        let mut first = true;
        while let Some(name) = reader.member(first)? {
            first = false;
            let Some(claim) = Claim::named(&name) else {
                reader.skip_value()?;
                continue;
            };
            let bit = 1u16 << claim as u16;
            if seen & bit != 0 {
                return Err(Malformed);
            }
            seen |= bit;
            match claim {
                Claim::Iss => claims.iss = text_or_null(&mut reader)?,
                Claim::Sub => claims.sub = text_or_null(&mut reader)?,
                Claim::Jti => claims.jti = text_or_null(&mut reader)?,
                Claim::ClientId => claims.client_id = text_or_null(&mut reader)?,
                Claim::Azp => claims.azp = text_or_null(&mut reader)?,
                Claim::Idtyp => claims.idtyp = text_or_null(&mut reader)?,
                Claim::Provider => claims.provider = text_or_null(&mut reader)?,
                Claim::Aud => claims.aud = list_or_null(&mut reader)?,
                Claim::Scope => claims.scope = list_or_null(&mut reader)?,
                Claim::Scp => claims.scp = list_or_null(&mut reader)?,
                Claim::Scopes => claims.scopes = list_or_null(&mut reader)?,
                Claim::Exp => claims.exp = date_or_null(&mut reader)?,
                Claim::Nbf => claims.nbf = date_or_null(&mut reader)?,
                Claim::Iat => claims.iat = date_or_null(&mut reader)?,
                Claim::Cnf => claims.cnf = Some(confirmation(&mut reader)?),
            }
        }
        reader.end()?;
        Ok(claims)
    }
}

/// A string claim: a string, or `null` for none.
#[inline(always)]
fn text_or_null<'a>(reader: &mut Reader<'a>) -> Read<Option<Text<'a>>> {
    if reader.null()? {
        return Ok(None);
    }
    reader.string().map(|text| Some(Text(text)))
}

/// A list claim: one string, an array of strings, or `null` for none.
fn list_or_null<'a>(reader: &mut Reader<'a>) -> Read<Option<StringList<'a>>> {
    if reader.null()? {
        return Ok(None);
    }
    if reader.peek() == Some(b'"') {
        return reader.string().map(|one| Some(StringList::One(one)));
    }
    reader.open_array()?;
    let mut items = Vec::new();
    let mut first = true;
    while reader.element(first)? {
        first = false;
        items.push(Text(reader.string()?));
    }
    Ok(Some(StringList::Many(items)))
}

/// A NumericDate claim: a number, or `null` for none.
#[inline(always)]
fn date_or_null(reader: &mut Reader<'_>) -> Read<Option<NumericDate>> {
    if reader.null()? {
        return Ok(None);
    }
    let number = reader.number()?;
    match number.plain {
        Some(seconds) => Ok(Some(NumericDate(seconds))),
        None => serde_json::from_str::<NumericDate>(number.text).map(Some).map_err(|_| Malformed),
    }
}

/// `cnf`, whatever its shape: an object's `jkt` is the DPoP key's thumbprint when it is the
/// only member; any other value binds the token to no key this crate can check.
fn confirmation<'a>(reader: &mut Reader<'a>) -> Read<Confirmation<'a>> {
    match reader.peek() {
        Some(b'{') => {}
        Some(b'"') => return reader.string().map(|_| Confirmation::default()),
        Some(b'[') => {
            reader.open_array()?;
            let mut first = true;
            while reader.element(first)? {
                first = false;
                reader.skip_value()?;
            }
            return Ok(Confirmation::default());
        }
        Some(b'-' | b'0'..=b'9') => {
            // serde_json reads it as a number and refuses one out of a float's range.
            let number = reader.number()?;
            if number.plain.is_none() && serde_json::from_str::<NumericDate>(number.text).is_err() {
                return Err(Malformed);
            }
            return Ok(Confirmation::default());
        }
        _ => {
            if reader.null()? || reader.boolean()? {
                return Ok(Confirmation::default());
            }
            return Err(Malformed);
        }
    }
    reader.open_object()?;
    let mut found = Confirmation::default();
    let mut other_methods = false;
    let mut first = true;
    while let Some(name) = reader.member(first)? {
        first = false;
        if name == "jkt" && found.jkt.is_none() {
            found.jkt = Some(Text(reader.string()?));
        } else {
            other_methods = true;
            reader.skip_value()?;
        }
    }
    if other_methods {
        found.jkt = None;
    }
    Ok(found)
}
