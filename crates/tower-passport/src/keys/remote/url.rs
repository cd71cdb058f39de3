//! Which URLs a remote key set may fetch, and how they appear in logs and errors.

use http::Uri;

use crate::loopback::is_loopback;

/// Parses an absolute `http(s)` URL and applies the transport rule: `https`, or `http`
/// to a loopback address (`127.0.0.0/8`, `::1`, `localhost`), or `http` anywhere when
/// explicitly allowed. `what` names the URL in the error.
pub(crate) fn parse_fetch_url(url: &str, allow_http: bool, what: &str) -> Result<Uri, String> {
    let uri: Uri = url.parse().map_err(|_| format!("the {what} {url:?} is not a valid URL"))?;
    let host = uri.host().ok_or_else(|| format!("the {what} {url:?} is not an absolute URL"))?;
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if allow_http || is_loopback(host) => Ok(uri),
        Some("http") => Err(format!(
            "the {what} {} uses http to a non-loopback host; use https, or allow_http() to opt in",
            display(&uri)
        )),
        _ => Err(format!("the {what} {url:?} is not an http(s) URL")),
    }
}

/// `scheme://host[:port]/path`: the URL without user info, query or fragment, which may
/// carry credentials and have no place in logs.
pub(crate) fn display(uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let host = uri.host().unwrap_or("");
    match uri.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}{}", uri.path()),
        None => format!("{scheme}://{host}{}", uri.path()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_always_allowed() {
        assert!(parse_fetch_url("https://auth.example.com/jwks", false, "JWKS URL").is_ok());
    }

    #[test]
    fn http_is_allowed_only_to_loopback_unless_opted_in() {
        for url in [
            "http://127.0.0.1:8080/jwks",
            "http://127.8.9.10/jwks",
            "http://[::1]:80/j",
            "http://localhost/j",
        ] {
            assert!(parse_fetch_url(url, false, "JWKS URL").is_ok(), "{url}");
        }
        let refused = parse_fetch_url("http://auth.example.com/jwks", false, "JWKS URL").unwrap_err();
        assert!(refused.contains("allow_http"), "{refused}");
        assert!(parse_fetch_url("http://10.0.0.1/jwks", false, "JWKS URL").is_err());
        assert!(parse_fetch_url("http://auth.example.com/jwks", true, "JWKS URL").is_ok());
    }

    #[test]
    fn other_schemes_and_relative_urls_are_refused() {
        for url in ["ftp://auth.example.com/jwks", "/jwks", "auth.example.com/jwks", "not a url"] {
            assert!(parse_fetch_url(url, true, "JWKS URL").is_err(), "{url}");
        }
    }

    #[test]
    fn display_drops_credentials_and_query() {
        let uri: Uri = "https://user:secret@auth.example.com:8443/jwks?key=secret".parse().unwrap();
        assert_eq!(display(&uri), "https://auth.example.com:8443/jwks");
    }
}
