//! Entry points for the coverage-guided fuzz targets in `fuzz/` at the repository root.
//!
//! Not public API: this module exists only with the `fuzzing` feature, is hidden from the
//! docs, and may change in any release. Each function runs one crate-private parser the
//! way the guard runs it, from plain bytes a fuzzer can produce.

use std::borrow::Cow;

use http::header::{AUTHORIZATION, COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use crate::cookie::FirstPartyCookie;
use crate::error::AuthError;
use crate::token::bearer::{extract_bearer, BearerOptions, Presented};
use crate::VerifiedToken;

/// A header map holding `values` under `name`, in order; values `http` refuses are skipped.
pub fn headers<'a>(entries: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in entries {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value))
        {
            map.append(name, value);
        }
    }
    map
}

/// A request target with `query` (none when `http` refuses it).
pub fn uri_with_query(query: &str) -> Option<Uri> {
    format!("/resource?{query}").parse().ok()
}

/// The guard's bearer extraction: the token of the `Authorization` values (and, when
/// `query_parameter`, of the `access_token` query parameter), syntax-checked.
///
/// # Errors
/// The `invalid_request` the guard answers.
pub fn bearer(
    authorization: &[&[u8]],
    uri: &Uri,
    max_len: usize,
    query_parameter: bool,
) -> Result<Option<String>, AuthError> {
    let headers = headers(authorization.iter().map(|value| (AUTHORIZATION.as_str(), *value)));
    let options = BearerOptions { max_len, query_parameter };
    let presented = extract_bearer(&headers, uri, &options)?;
    presented.map(Presented::into_token).transpose().map(|token| token.map(Cow::into_owned))
}

/// Whether `b` may appear in an RFC 6750 b64token (`=` only as trailing padding).
pub fn is_b64token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

/// The value of the cookie `name` among `Cookie` headers `values`: `Err` when it comes twice.
///
/// # Errors
/// `Err(())` for a cookie that comes more than once.
#[allow(clippy::result_unit_err)]
pub fn single_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ()> {
    crate::cookie::read::single_cookie(headers, name)
}

/// A header map of `Cookie` header `values`, for [`single_cookie`] and [`cookie_principal`].
pub fn cookie_headers(values: &[&[u8]]) -> HeaderMap {
    headers(values.iter().map(|value| (COOKIE.as_str(), *value)))
}

/// The guard's first-party cookie authentication of a request.
///
/// # Errors
/// The rejection the guard answers.
pub fn cookie_principal(
    cookie: &FirstPartyCookie,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Option<VerifiedToken>, AuthError> {
    crate::cookie::read::authenticate(cookie, method, uri, headers)
}

/// The policy table's path normal form (`None`: refused with 400).
#[cfg(feature = "gateway")]
pub fn normalized_path(path: &str) -> Option<Cow<'_, str>> {
    crate::policy::path::normalized(path)
}

/// A remote key set's lenient JWKS reading: the keys it keeps and the number it skipped.
///
/// # Errors
/// When the document is not a JWKS at all.
#[cfg(feature = "jwks")]
pub fn jwks_lenient(json: &str) -> Result<(crate::KeySet, usize), crate::ConfigError> {
    let mut skipped = 0;
    let set =
        crate::KeySet::from_jwks_lenient(json, &crate::keys::JwkOptions::default(), |_, _, _| skipped += 1)?;
    Ok((set, skipped))
}

/// A list claim as read: one string, or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimList {
    /// `"a b"`.
    One(String),
    /// `["a", "b"]`.
    Many(Vec<String>),
}

/// The registered claims of a token as the verifier reads them, owned and comparable: what
/// the claims reader and serde_json's typed parse must agree on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct ClaimsRead {
    pub iss: Option<String>,
    pub sub: Option<String>,
    pub aud: Option<ClaimList>,
    pub exp: Option<u64>,
    pub nbf: Option<u64>,
    pub iat: Option<u64>,
    pub jti: Option<String>,
    pub client_id: Option<String>,
    pub azp: Option<String>,
    pub scope: Option<ClaimList>,
    pub scp: Option<ClaimList>,
    pub scopes: Option<ClaimList>,
    pub idtyp: Option<String>,
    pub provider: Option<String>,
    /// `Some` when `cnf` is present (any value, `null` too); inside, its `jkt`.
    pub cnf: Option<Option<String>>,
}

/// The claims as the verifier reads them (`RawClaims::read`); `None` when it refuses them.
pub fn claims_read(text: &str) -> Option<ClaimsRead> {
    crate::token::RawClaims::read(text).ok().map(ClaimsRead::from)
}

/// The claims as serde_json's typed parse reads them (the verifier's reading before the
/// claims reader, kept as its reference); `None` when it refuses them.
pub fn claims_serde(text: &str) -> Option<ClaimsRead> {
    crate::token::RawClaims::from_serde(text).map(ClaimsRead::from)
}

impl From<crate::token::RawClaims<'_>> for ClaimsRead {
    fn from(claims: crate::token::RawClaims<'_>) -> Self {
        use crate::token::{StringList, Text};
        let text = |text: Option<Text<'_>>| text.map(|text| text.0.into_owned());
        let list = |list: Option<StringList<'_>>| {
            list.map(|list| match list {
                StringList::One(one) => ClaimList::One(one.into_owned()),
                StringList::Many(many) => {
                    ClaimList::Many(many.into_iter().map(|item| item.0.into_owned()).collect())
                }
            })
        };
        Self {
            iss: text(claims.iss),
            sub: text(claims.sub),
            aud: list(claims.aud),
            exp: claims.exp.map(|date| date.0),
            nbf: claims.nbf.map(|date| date.0),
            iat: claims.iat.map(|date| date.0),
            jti: text(claims.jti),
            client_id: text(claims.client_id),
            azp: text(claims.azp),
            scope: list(claims.scope),
            scp: list(claims.scp),
            scopes: list(claims.scopes),
            idtyp: text(claims.idtyp),
            provider: text(claims.provider),
            cnf: claims.cnf.map(|cnf| text(cnf.jkt)),
        }
    }
}

/// A DPoP proof's claims (RFC 9449 §4.2): `(jti, htm, htu, iat, ath, nonce)`.
pub type ProofClaimsRead = (String, String, String, u64, Option<String>, Option<String>);

/// A proof's claims as the proof verifier reads them (its one-pass reader for the shape
/// clients send, the general reader for anything else); `None` when it refuses them.
pub fn proof_claims_read(payload: &[u8]) -> Option<ProofClaimsRead> {
    crate::dpop::owned_claims(payload, false)
}

/// A proof's claims as the general reader alone reads them (what the verifier read them
/// with before the one-pass reader); `None` when it refuses them.
pub fn proof_claims_general(payload: &[u8]) -> Option<ProofClaimsRead> {
    crate::dpop::owned_claims(payload, true)
}

/// A proof's claims as serde_json's typed parse reads them; `None` when it refuses them.
///
/// The reference both readers were held to: duplicates refused, unknown members ignored,
/// `iat` a number truncated to whole seconds with negatives at 0.
pub fn proof_claims_serde(payload: &[u8]) -> Option<ProofClaimsRead> {
    crate::dpop::serde_claims(payload)
}
