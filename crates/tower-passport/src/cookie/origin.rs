//! Where a cookie request comes from: `Sec-Fetch-Site` and `Origin`.

use http::header::{HOST, ORIGIN};
use http::{HeaderMap, Uri};

use super::FirstPartyCookie;

/// Whether a request carrying the first-party cookie may use it: its `Origin` is one of
/// the allowed ones ([`FirstPartyCookie::allow_origin`], an app on another host or port:
/// `Sec-Fetch-Site` then says `same-site` or `cross-site`, and that is expected), or else
/// `Sec-Fetch-Site`, when sent, is `same-origin` or `none` (the user typed the URL) and
/// `Origin`, when sent, is the request's own origin. A request with neither header (no
/// browser, or a very old one) passes this check; CSRF still guards its unsafe methods.
pub(crate) fn same_origin(cookie: &FirstPartyCookie, uri: &Uri, headers: &HeaderMap) -> bool {
    let mut origins = headers.get_all(ORIGIN).iter();
    let origin = match (origins.next(), origins.next()) {
        (None, _) => None,
        (Some(origin), None) => Some(origin.to_str().unwrap_or_default()),
        _ => return false,
    };
    if origin
        .is_some_and(|origin| cookie.allowed_origins().any(|allowed| allowed.eq_ignore_ascii_case(origin)))
    {
        return true;
    }
    let mut sites = headers.get_all("sec-fetch-site").iter();
    match (sites.next(), sites.next()) {
        (None, _) => {}
        (Some(site), None) if matches!(site.as_bytes(), b"same-origin" | b"none") => {}
        _ => return false,
    }
    let Some(origin) = origin else { return true };
    // `scheme://host[:port]` against the request's authority (`Host` in HTTP/1.1,
    // `:authority` in HTTP/2). "null" and anything with a path are never equal.
    let Some((_, authority)) = origin.split_once("://") else { return false };
    let host =
        headers.get(HOST).and_then(|host| host.to_str().ok()).or_else(|| uri.authority().map(|a| a.as_str()));
    host.is_some_and(|host| !authority.is_empty() && host.eq_ignore_ascii_case(authority))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(headers: &[(&'static str, &'static str)]) -> bool {
        let cookie = FirstPartyCookie::new(&[1; 32]).expect("secret").allow_origin("https://app.example.com");
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        same_origin(&cookie, &Uri::from_static("/api/user"), &map)
    }

    #[test]
    fn same_origin_requests_pass() {
        assert!(check(&[]));
        assert!(check(&[("host", "api.example.com"), ("sec-fetch-site", "same-origin")]));
        assert!(check(&[("host", "api.example.com"), ("origin", "https://api.example.com")]));
        assert!(check(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")]));
        assert!(check(&[("host", "api.example.com"), ("origin", "https://app.example.com")]));
        assert!(check(&[("sec-fetch-site", "none")]));
    }

    #[test]
    fn an_allowed_origin_passes_from_another_site_or_port() {
        for site in ["same-site", "cross-site", "same-origin"] {
            let headers = [
                ("host", "api.example.com"),
                ("sec-fetch-site", site),
                ("origin", "https://app.example.com"),
            ];
            assert!(check(&headers), "{site}");
            let headers = [
                ("host", "api.example.com"),
                ("sec-fetch-site", site),
                ("origin", "HTTPS://APP.example.com"),
            ];
            assert!(check(&headers), "{site}, case-insensitive");
        }
        // Not listed, absent, or doubled: refused as before.
        assert!(!check(&[("sec-fetch-site", "same-site"), ("origin", "https://other.example.com")]));
        assert!(!check(&[("host", "api.example.com"), ("sec-fetch-site", "cross-site")]));
        assert!(!check(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://app.example.com"),
            ("origin", "https://app.example.com")
        ]));
        assert!(!check(&[
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example")
        ]));
    }

    #[test]
    fn cross_site_and_same_site_requests_are_refused() {
        assert!(!check(&[("sec-fetch-site", "cross-site")]));
        // Another port on the same host is the same site: SameSite=Lax sends the cookie.
        assert!(!check(&[("sec-fetch-site", "same-site")]));
        assert!(!check(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:9090")]));
        assert!(!check(&[("host", "api.example.com"), ("origin", "null")]));
        assert!(!check(&[("host", "api.example.com"), ("origin", "https://evil.example")]));
        assert!(!check(&[("origin", "https://api.example.com")])); // no Host to compare with
        assert!(!check(&[
            ("host", "api.example.com"),
            ("origin", "https://api.example.com"),
            ("origin", "https://evil.example")
        ]));
    }
}
