//! Reading the bearer token from a request (RFC 6750 §2.1 and, when enabled, §2.3).

use std::borrow::Cow;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Uri};

use super::header_value::{header_values, HeaderValues};
use super::other_scheme::{after_scheme, names_dpop};
use super::OtherScheme;
use crate::error::{AuthError, Reason};

/// Where and how strictly the guard looks for a token.
#[derive(Clone, Debug)]
pub(crate) struct BearerOptions {
    pub(crate) max_len: usize,
    pub(crate) query_parameter: bool,
}

impl Default for BearerOptions {
    fn default() -> Self {
        Self { max_len: 8 * 1024, query_parameter: false }
    }
}

/// A bearer token as the request presented it.
///
/// From the `Authorization` header it is the raw bytes, not yet checked against the
/// b64token syntax: the verified-token cache is asked first, and a hit is a token that
/// passed every check before, syntax included. [`into_token`](Self::into_token) checks it.
#[derive(Debug)]
pub(crate) enum Presented<'a> {
    /// The credential of the `Authorization: Bearer` header, unchecked.
    Header(&'a [u8]),
    /// The `access_token` query parameter, decoded and checked.
    Query(String),
}

impl<'a> Presented<'a> {
    /// The token's bytes, as presented.
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Header(token) => token,
            Self::Query(token) => token.as_bytes(),
        }
    }

    /// The token, once it is known to be a b64token.
    ///
    /// # Errors
    /// `invalid_request`: bad syntax, or (when a `,` follows the token) a second credential.
    pub(crate) fn into_token(self) -> Result<Cow<'a, str>, AuthError> {
        match self {
            Self::Query(token) => Ok(Cow::Owned(token)),
            Self::Header(token) => as_b64token(token).map(Cow::Borrowed).map_err(|error| {
                // "Bearer abc, Basic xyz": a second credential after ours. ',' is not a
                // b64token character, so it is only looked for once the token failed the check.
                if token.contains(&b',') {
                    AuthError::invalid_request(Reason::DuplicateCredentials)
                } else {
                    error
                }
            }),
        }
    }
}

/// What a request presented in its `Authorization` header and (when enabled) its query.
#[derive(Debug)]
pub(crate) enum Credentials<'a> {
    /// A bearer token.
    Bearer(Presented<'a>),
    /// No bearer token; the single `Authorization` header's value (trimmed, unchecked)
    /// when it names another scheme, for the `DPoP` path to read without looking it up
    /// again. Under the `DPoP` scheme it may still fold a `Bearer` credential: see
    /// [`OtherScheme::check_folded`].
    Other(Option<OtherScheme<'a>>),
}

/// Finds the bearer token of a request.
///
/// `Ok(None)` means no bearer credential came (no header, or only a non-Bearer scheme).
/// Two `Authorization` headers, a non-Bearer scheme beside a Bearer one, or a header and a
/// query parameter together are `invalid_request`, and so is an oversized token. The
/// syntax of a header's token is checked by [`Presented::into_token`].
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn extract_bearer<'a>(
    headers: &'a HeaderMap,
    uri: &'a Uri,
    options: &BearerOptions,
) -> Result<Option<Presented<'a>>, AuthError> {
    extract_credentials(headers, uri, options).and_then(|credentials| match credentials {
        Credentials::Bearer(presented) => Ok(Some(presented)),
        // The check the guard runs when the DPoP path does not take the value.
        Credentials::Other(other) => other.map_or(Ok(None), |other| other.check_folded().map(|()| None)),
    })
}

/// [`extract_bearer`], handing out the value of an `Authorization` header under another
/// scheme instead of `None`. Without the query parameter, a `DPoP` value's
/// folded-credential check is left to the guard ([`OtherScheme::check_folded`]).
pub(crate) fn extract_credentials<'a>(
    headers: &'a HeaderMap,
    uri: &'a Uri,
    options: &BearerOptions,
) -> Result<Credentials<'a>, AuthError> {
    let from_header = match single_authorization(headers)? {
        None => None,
        Some(value) => match parse_authorization(value.as_bytes(), options)? {
            // With no query parameter to look at, a Bearer header is the answer.
            Authorization::Bearer(token) if !options.query_parameter => {
                return Ok(Credentials::Bearer(Presented::Header(token)));
            }
            authorization => Some(authorization),
        },
    };
    let from_query = if options.query_parameter { query_token(uri, options)? } else { None };
    match (from_header, from_query) {
        (Some(Authorization::Bearer(_)), Some(_)) => {
            Err(AuthError::invalid_request(Reason::DuplicateCredentials))
        }
        (Some(Authorization::Bearer(token)), None) => Ok(Credentials::Bearer(Presented::Header(token))),
        (_, Some(token)) => Ok(Credentials::Bearer(Presented::Query(token))),
        (Some(Authorization::Other(value)), None) => Ok(Credentials::Other(Some(value))),
        (None, None) => Ok(Credentials::Other(None)),
    }
}

/// The request's one `Authorization` value, if it has one; two are refused.
#[inline]
fn single_authorization(headers: &HeaderMap) -> Result<Option<&HeaderValue>, AuthError> {
    match header_values(headers, &AUTHORIZATION) {
        HeaderValues::None => Ok(None),
        HeaderValues::One(value) => Ok(Some(value)),
        HeaderValues::Several => Err(AuthError::invalid_request(Reason::DuplicateCredentials)),
    }
}

/// An `Authorization` value, read as far as its scheme.
enum Authorization<'a> {
    /// The credential of the `Bearer` scheme, its length checked but not its syntax.
    Bearer(&'a [u8]),
    /// The whole value (trimmed) of another scheme.
    Other(OtherScheme<'a>),
}

/// Reads an `Authorization` value as far as its scheme.
fn parse_authorization<'a>(value: &'a [u8], options: &BearerOptions) -> Result<Authorization<'a>, AuthError> {
    // The usual shape, `Bearer <token>` without stray whitespace, read as one word; any
    // other takes the general path below, which answers the same for this shape.
    if let Some(token) = plain_bearer(value) {
        if token.len() > options.max_len {
            return Err(AuthError::invalid_request(Reason::TokenTooLong));
        }
        return Ok(Authorization::Bearer(token));
    }
    // The usual `DPoP <token>`, with no whitespace at its end: what the general path reads
    // it as (nothing to trim, the scheme up to the space, not `Bearer`), its scheme known.
    if names_dpop(value) && value.last().is_some_and(|byte| !matches!(byte, b' ' | b'\t')) {
        return OtherScheme::read_dpop(value, !options.query_parameter).map(Authorization::Other);
    }
    parse_any_authorization(value, options)
}

/// [`parse_authorization`] of any shape.
fn parse_any_authorization<'a>(
    value: &'a [u8],
    options: &BearerOptions,
) -> Result<Authorization<'a>, AuthError> {
    let value = trim_ows(value);
    let (scheme, rest) = match value.iter().position(|&b| b == b' ') {
        Some(space) => (&value[..space], &value[space + 1..]),
        None => (value, &[][..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        // Another scheme alone is "no bearer token"; another scheme with a Bearer
        // credential folded into the same header is two sets of credentials. With a query
        // parameter to read, that is looked at before it; without one, a DPoP value's check
        // waits for the verified-token cache (see `OtherScheme`).
        return OtherScheme::read(value, !options.query_parameter).map(Authorization::Other);
    }
    let token = trim_ows(rest);
    if token.is_empty() {
        return Err(AuthError::invalid_request(Reason::MalformedHeader));
    }
    if token.len() > options.max_len {
        return Err(AuthError::invalid_request(Reason::TokenTooLong));
    }
    Ok(Authorization::Bearer(token))
}

/// The credential of `value` when it is `Bearer ` (any case) and a non-empty credential
/// with no whitespace at either end; `None` for anything else.
#[inline]
fn plain_bearer(value: &[u8]) -> Option<&[u8]> {
    let token = after_scheme(value, b"bearer")?;
    let is_ows = |byte: &u8| matches!(byte, b' ' | b'\t');
    let bounded = token.first().is_some_and(|b| !is_ows(b)) && token.last().is_some_and(|b| !is_ows(b));
    bounded.then_some(token)
}

/// Validates the RFC 6750 b64token syntax: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
/// "+" / "/" ) *"="`.
pub(crate) fn as_b64token(token: &[u8]) -> Result<&str, AuthError> {
    let body_len = token.iter().rposition(|&b| b != b'=').map_or(0, |last| last + 1);
    let valid = body_len > 0 && token[..body_len].iter().fold(true, |ok, &b| ok & is_b64token_byte(b));
    if !valid {
        return Err(AuthError::invalid_request(Reason::MalformedHeader));
    }
    // Every byte is ASCII, so this cannot fail; the error arm keeps it panic-free anyway.
    std::str::from_utf8(token).map_err(|_| AuthError::invalid_request(Reason::MalformedHeader))
}

/// Branch-free, so the check over a whole token vectorises (about 4x faster than a
/// short-circuiting `all` on a 600-byte token).
#[inline(always)]
fn is_b64token_byte(b: u8) -> bool {
    ((b | 0x20).wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
        | (b == b'/')
}

fn trim_ows(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = value {
        value = rest;
    }
    value
}

fn query_token(uri: &Uri, options: &BearerOptions) -> Result<Option<String>, AuthError> {
    let Some(query) = uri.query() else { return Ok(None) };
    if !query.contains("access_token") {
        return Ok(None);
    }
    let mut found = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name != "access_token" {
            continue;
        }
        if found.is_some() {
            return Err(AuthError::invalid_request(Reason::DuplicateCredentials));
        }
        if value.len() > options.max_len {
            return Err(AuthError::invalid_request(Reason::TokenTooLong));
        }
        found = Some(as_b64token(value.as_bytes())?.to_owned());
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_shape_is_read_as_the_general_path_reads_it() {
        let options = BearerOptions { max_len: 16, query_parameter: false };
        let long = format!("Bearer {}", "a".repeat(17));
        let cases = [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "BeArEr a.b.c",
            "Bearer  abc",
            "Bearer abc ",
            "Bearer\tabc",
            "Bearer ",
            "Bearer",
            "Bearerx abc",
            "Bearer abc def",
            "Basic abc",
            "Bearer\u{0}abc",
            "Bearer a",
            " Bearer abc",
            "Bearer\tabc\t",
            "Cearer abc",
            "Bfarer abc",
            "bearer\u{0}abc",
            long.as_str(),
            "Bearer abc,Basic x",
            "DPoP abc",
        ];
        // What an answer says, comparable (the credential types have no `Debug`).
        let seen = |answer: Result<Authorization<'_>, AuthError>| match answer {
            Ok(Authorization::Bearer(token)) => format!("bearer {token:?}"),
            Ok(Authorization::Other(value)) => format!("other {value:?}"),
            Err(error) => format!("error {error:?}"),
        };
        for case in cases {
            let value = case.as_bytes();
            let fast = seen(parse_authorization(value, &options));
            let general = seen(parse_any_authorization(value, &options));
            assert_eq!(fast, general, "{case:?}");
        }
        assert_eq!(plain_bearer(b"bEaReR tok"), Some(&b"tok"[..]));
        assert_eq!(plain_bearer(b"Bearer@tok"), None, "the space is exactly a space");
        assert_eq!(plain_bearer(b"Bearer \ttok"), None);
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn extract(values: &[&str], uri: &str, query: bool) -> Result<Option<String>, Reason> {
        let options = BearerOptions { max_len: 32, query_parameter: query };
        let uri: Uri = uri.parse().unwrap();
        extract_bearer(&headers(values), &uri, &options)
            .and_then(|token| token.map(Presented::into_token).transpose())
            .map(|token| token.map(Cow::into_owned))
            .map_err(|e| e.reason())
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            assert_eq!(extract(&[&format!("{scheme} abc.def")], "/", false), Ok(Some("abc.def".into())));
        }
    }

    #[test]
    fn another_repeated_header_leaves_one_authorization_alone() {
        let options = BearerOptions { max_len: 32, query_parameter: false };
        let mut map = headers(&["Bearer abc"]);
        map.append(http::header::ACCEPT, HeaderValue::from_static("text/plain"));
        map.append(http::header::ACCEPT, HeaderValue::from_static("application/json"));
        let token = extract_bearer(&map, &Uri::from_static("/"), &options)
            .map(|token| token.map(|token| token.as_bytes().to_vec()))
            .map_err(|e| e.reason());
        assert_eq!(token, Ok(Some(b"abc".to_vec())));
        map.append(AUTHORIZATION, HeaderValue::from_static("Bearer def"));
        let token =
            extract_bearer(&map, &Uri::from_static("/"), &options).map(|_| ()).map_err(|e| e.reason());
        assert_eq!(token, Err(Reason::DuplicateCredentials), "two values among repeated headers");
    }

    #[test]
    fn no_header_is_no_token() {
        assert_eq!(extract(&[], "/", false), Ok(None));
    }

    #[test]
    fn other_scheme_alone_is_no_token() {
        assert_eq!(extract(&["Basic dXNlcjpwYXNz"], "/", false), Ok(None));
    }

    #[test]
    fn two_headers_are_invalid_request() {
        assert_eq!(extract(&["Bearer a", "Bearer b"], "/", false), Err(Reason::DuplicateCredentials));
        assert_eq!(extract(&["Basic x", "Bearer b"], "/", false), Err(Reason::DuplicateCredentials));
    }

    #[test]
    fn other_scheme_beside_bearer_is_invalid_request() {
        assert_eq!(extract(&["Basic x, Bearer b"], "/", false), Err(Reason::DuplicateCredentials));
        assert_eq!(extract(&["Bearer b, Basic x"], "/", false), Err(Reason::DuplicateCredentials));
    }

    #[test]
    fn charset_is_b64token() {
        assert_eq!(extract(&["Bearer a-b.c_d~e+f/g=="], "/", false), Ok(Some("a-b.c_d~e+f/g==".into())));
        assert_eq!(extract(&["Bearer a=b"], "/", false), Err(Reason::MalformedHeader));
        assert_eq!(extract(&["Bearer a\"b"], "/", false), Err(Reason::MalformedHeader));
        assert_eq!(extract(&["Bearer ==="], "/", false), Err(Reason::MalformedHeader));
        assert_eq!(extract(&["Bearer"], "/", false), Err(Reason::MalformedHeader));
        assert_eq!(extract(&["Bearer a b"], "/", false), Err(Reason::MalformedHeader));
    }

    #[test]
    fn length_is_capped() {
        let long = format!("Bearer {}", "a".repeat(33));
        assert_eq!(extract(&[&long], "/", false), Err(Reason::TokenTooLong));
        let exact = format!("Bearer {}", "a".repeat(32));
        assert!(extract(&[&exact], "/", false).unwrap().is_some());
    }

    #[test]
    fn query_parameter_is_off_by_default() {
        assert_eq!(extract(&[], "/?access_token=abc", false), Ok(None));
    }

    #[test]
    fn query_parameter_when_enabled() {
        assert_eq!(extract(&[], "/?x=1&access_token=ab%2Bc", true), Ok(Some("ab+c".into())));
        assert_eq!(extract(&[], "/?access_token=a&access_token=b", true), Err(Reason::DuplicateCredentials));
        assert_eq!(extract(&["Bearer a"], "/?access_token=b", true), Err(Reason::DuplicateCredentials));
    }
}
