//! The guard's half: finding, checking and opening the first-party cookie of a request.

use http::header::COOKIE;
use http::{HeaderMap, Method, Uri};
use subtle::ConstantTimeEq;

use super::csrf::hash;
use super::{origin, CookieClaims, FirstPartyCookie, CSRF_HEADER, XSRF_COOKIE_NAME, XSRF_HEADER};
use crate::error::{AuthError, Reason};
use crate::token::{Credential, PrincipalKind, Scopes, Synthetic, VerifiedToken};

/// The issuer a cookie principal's token names: it was never a JWT from an issuer, and
/// resolver caches keyed by issuer keep its answers apart from bearer tokens'.
pub(crate) const COOKIE_ISSUER: &str = "urn:tower-passport:first-party-cookie";

/// The principal of a request's first-party cookie: `Ok(None)` when no such cookie came.
/// See the [module docs](super) for the checks and their order.
pub(crate) fn authenticate(
    cookie: &FirstPartyCookie,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Option<VerifiedToken>, AuthError> {
    let value = match single_cookie(headers, cookie.cookie_name()) {
        Ok(None) => return Ok(None),
        Ok(Some(value)) => value,
        Err(()) => return Err(AuthError::invalid_request(Reason::DuplicateCredentials)),
    };
    if !origin::same_origin(cookie, uri, headers) {
        return Err(AuthError::invalid_token(Reason::CrossSiteRequest));
    }
    let claims = CookieClaims::open(cookie, value).map_err(AuthError::invalid_token)?;
    if !is_safe(method) && !csrf_matches(headers, &claims.csrf) {
        return Err(AuthError::invalid_token(Reason::CsrfTokenMismatch));
    }
    Ok(Some(VerifiedToken::synthetic(Synthetic {
        issuer: COOKIE_ISSUER,
        subject: Some(&claims.sub),
        client_id: None,
        scopes: Scopes::from_space_delimited("*"),
        kind: PrincipalKind::User,
        expires_at: claims.exp,
        issued_at_ms: Some(claims.iat_ms),
        provider: claims.prv.as_deref(),
        credential: Credential::FirstPartyCookie,
    })))
}

/// `GET`, `HEAD` and `OPTIONS` change nothing and need no CSRF token.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `X-CSRF-TOKEN`, or `X-XSRF-TOKEN` equal to the `XSRF-TOKEN` cookie, hashing to the
/// cookie's bound hash. Compared in constant time.
fn csrf_matches(headers: &HeaderMap, bound: &str) -> bool {
    let presented = match (single_header(headers, CSRF_HEADER), single_header(headers, XSRF_HEADER)) {
        (Some(csrf), None) => csrf,
        (None, Some(xsrf)) => match single_cookie(headers, XSRF_COOKIE_NAME) {
            Ok(Some(cookie)) if bool::from(cookie.as_bytes().ct_eq(xsrf.as_bytes())) => xsrf,
            _ => return false,
        },
        // Neither, or both at once: one token, one place.
        _ => return false,
    };
    bool::from(hash(presented.as_bytes()).as_bytes().ct_eq(bound.as_bytes()))
}

fn single_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().ok().filter(|value| !value.is_empty()),
        _ => None,
    }
}

/// The value of the cookie `name` in the request's `Cookie` headers: `Err` when it comes
/// more than once (two paths or domains: which one is meant cannot be told).
pub(crate) fn single_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ()> {
    let mut found = None;
    let pairs = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|pair| pair.trim().split_once('='));
    for (key, value) in pairs {
        if key == name {
            if found.is_some() {
                return Err(());
            }
            found = Some(value.trim_matches('"'));
        }
    }
    Ok(found)
}

/// The value of the cookie `name` in the request's `Cookie` headers; `None` when it is
/// absent or comes more than once (two paths or domains: which one is meant cannot be told).
pub fn unambiguous_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    single_cookie(headers, name).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::cookie::CsrfToken;

    struct Fixture {
        cookie: FirstPartyCookie,
        sealed: String,
        csrf: CsrfToken,
    }

    fn fixture() -> Fixture {
        let cookie = FirstPartyCookie::new(&[3; 32]).expect("secret").clock(ManualClock::new(1_000));
        let csrf = CsrfToken::generate().expect("randomness");
        let claims =
            CookieClaims { sub: "7".into(), prv: None, iat_ms: 1_000_000, exp: 8_200, csrf: csrf.hash() };
        Fixture { sealed: claims.seal(&cookie).0, cookie, csrf }
    }

    fn request(method: Method, headers: &[(&str, String)]) -> (Method, HeaderMap) {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let name = http::HeaderName::from_bytes(name.as_bytes()).expect("name");
            map.append(name, value.parse().expect("value"));
        }
        (method, map)
    }

    fn run(f: &Fixture, method: Method, headers: &[(&str, String)]) -> Result<Option<VerifiedToken>, Reason> {
        let (method, headers) = request(method, headers);
        authenticate(&f.cookie, &method, &Uri::from_static("/api/posts"), &headers).map_err(|e| e.reason())
    }

    #[test]
    fn a_get_with_the_cookie_is_its_user_with_every_scope() {
        let f = fixture();
        let token = run(&f, Method::GET, &[("cookie", format!("a=b; laravel_token={}", f.sealed))])
            .expect("accepted")
            .expect("a principal");
        assert_eq!(token.subject(), Some("7"));
        assert_eq!(token.credential(), Credential::FirstPartyCookie);
        assert!(token.scopes().can("anything"));
        assert_eq!(token.kind(), PrincipalKind::User);
    }

    #[test]
    fn no_cookie_is_no_principal() {
        let f = fixture();
        assert!(matches!(run(&f, Method::POST, &[("cookie", "other=1".into())]), Ok(None)));
    }

    #[test]
    fn a_post_needs_the_bound_csrf_token() {
        let f = fixture();
        let jar = format!("laravel_token={}; XSRF-TOKEN={}", f.sealed, f.csrf.as_str());
        let cookie = ("cookie", jar);
        assert_eq!(
            run(&f, Method::POST, std::slice::from_ref(&cookie)).err(),
            Some(Reason::CsrfTokenMismatch)
        );
        let csrf = ("x-csrf-token", f.csrf.as_str().to_owned());
        assert!(run(&f, Method::POST, &[cookie.clone(), csrf.clone()]).is_ok_and(|t| t.is_some()));
        let xsrf = ("x-xsrf-token", f.csrf.as_str().to_owned());
        assert!(run(&f, Method::DELETE, &[cookie.clone(), xsrf.clone()]).is_ok_and(|t| t.is_some()));
        let other = CsrfToken::generate().expect("randomness");
        let wrong = ("x-csrf-token", other.as_str().to_owned());
        assert_eq!(run(&f, Method::POST, &[cookie.clone(), wrong]).err(), Some(Reason::CsrfTokenMismatch));
        assert_eq!(run(&f, Method::POST, &[cookie, csrf, xsrf]).err(), Some(Reason::CsrfTokenMismatch));
    }

    #[test]
    fn x_xsrf_token_must_equal_the_xsrf_cookie() {
        let f = fixture();
        let only_token = ("cookie", format!("laravel_token={}", f.sealed));
        let xsrf = ("x-xsrf-token", f.csrf.as_str().to_owned());
        assert_eq!(run(&f, Method::PUT, &[only_token, xsrf.clone()]).err(), Some(Reason::CsrfTokenMismatch));
        let other = CsrfToken::generate().expect("randomness");
        let mismatched = ("cookie", format!("laravel_token={}; XSRF-TOKEN={}", f.sealed, other.as_str()));
        assert_eq!(run(&f, Method::PUT, &[mismatched, xsrf]).err(), Some(Reason::CsrfTokenMismatch));
    }

    #[test]
    fn cross_site_requests_and_forged_or_doubled_cookies_are_refused() {
        let f = fixture();
        let jar = ("cookie", format!("laravel_token={}", f.sealed));
        let site = ("sec-fetch-site", "same-site".to_owned());
        assert_eq!(run(&f, Method::GET, &[jar.clone(), site]).err(), Some(Reason::CrossSiteRequest));
        let forged = ("cookie", format!("laravel_token={}x", f.sealed));
        assert_eq!(run(&f, Method::GET, &[forged]).err(), Some(Reason::InvalidCookie));
        let doubled = ("cookie", format!("laravel_token={0}; laravel_token={0}", f.sealed));
        assert_eq!(run(&f, Method::GET, &[doubled]).err(), Some(Reason::DuplicateCredentials));
    }
}
