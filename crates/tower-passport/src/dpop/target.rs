//! The request a proof is for: `htm` and `htu` compared as RFC 9449 §4.3 says, the URL
//! normalised (RFC 3986 §6.2.2 and §6.2.3) and its query and fragment ignored.

use http::{HeaderMap, Method, Uri};

use crate::error::{ConfigError, ConfigErrorKind};

/// A URL reduced to what `htu` is compared on: scheme and host lower-cased, the scheme's
/// default port dropped, the path's percent-encoding normalised, no query or fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NormalUrl {
    /// `None` when the request did not say (a server behind no TLS-aware proxy sees
    /// origin-form targets only): `http` and `https` then both match.
    scheme: Option<String>,
    authority: String,
    path: String,
}

impl NormalUrl {
    /// Parses and normalises an absolute `http`/`https` URL; `None` for anything else.
    pub(crate) fn parse(url: &str) -> Option<Self> {
        let url = url.split('#').next().unwrap_or_default();
        let uri: Uri = url.parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let authority = normal_authority(uri.authority()?.as_str(), Some(&scheme))?;
        Some(Self { scheme: Some(scheme), authority, path: normal_path(uri.path()) })
    }

    /// The URL of a request as the server received it: its target's scheme and authority
    /// when absolute, else the `Host` header.
    pub(crate) fn of_request(uri: &Uri, headers: &HeaderMap) -> Option<Self> {
        let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
        let authority = match uri.authority() {
            Some(authority) => authority.as_str(),
            None => headers.get(http::header::HOST)?.to_str().ok()?,
        };
        let authority = normal_authority(authority, scheme.as_deref())?;
        Some(Self { scheme, authority, path: normal_path(uri.path()) })
    }

    /// The URL of a request behind a proxy: the public base URL, with the request's path
    /// appended to the base's own.
    pub(crate) fn under(&self, uri: &Uri) -> Self {
        let base = self.path.trim_end_matches('/');
        Self {
            scheme: self.scheme.clone(),
            authority: self.authority.clone(),
            path: format!("{base}{}", normal_path(uri.path())),
        }
    }

    /// Whether the proof's `htu`, normalised, names this URL.
    pub(crate) fn matches(&self, htu: &NormalUrl) -> bool {
        let scheme = match (&self.scheme, &htu.scheme) {
            (Some(ours), Some(theirs)) => ours == theirs,
            (None, Some(theirs)) => theirs == "http" || theirs == "https",
            (_, None) => false,
        };
        // An origin-form request says no scheme: the authority may carry either default port.
        let authority = self.authority == htu.authority
            || (self.scheme.is_none()
                && strip_default_port(&self.authority, htu.scheme.as_deref()) == htu.authority);
        scheme && authority && self.path == htu.path
    }
}

/// Checks a configured public base URL (`PASSPORT_PUBLIC_URL`).
pub(crate) fn public_base(url: &str) -> Result<NormalUrl, ConfigError> {
    match NormalUrl::parse(url) {
        Some(base) if !url.contains(['?', '#']) => Ok(base),
        _ => Err(ConfigError::new(
            ConfigErrorKind::Url,
            format!("the DPoP public URL {url:?} is not an absolute http(s) URL without query or fragment"),
        )),
    }
}

/// Whether the proof's `htm` is the request's method (compared exactly, RFC 9110 §9.1).
pub(crate) fn method_matches(method: &Method, htm: &str) -> bool {
    method.as_str() == htm
}

fn default_port(scheme: Option<&str>) -> Option<&'static str> {
    match scheme {
        Some("http") => Some("80"),
        Some("https") => Some("443"),
        _ => None,
    }
}

fn strip_default_port<'a>(authority: &'a str, scheme: Option<&str>) -> &'a str {
    match (authority.rsplit_once(':'), default_port(scheme)) {
        (Some((host, port)), Some(default)) if port == default => host,
        _ => authority,
    }
}

/// Lower-cases the host, drops an empty or default port; refuses user information.
fn normal_authority(authority: &str, scheme: Option<&str>) -> Option<String> {
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let lowered = authority.to_ascii_lowercase();
    let (host, port) = match lowered.rfind(':') {
        // An IPv6 literal's colons are inside the brackets.
        Some(colon) if !lowered[colon..].contains(']') => (&lowered[..colon], Some(&lowered[colon + 1..])),
        _ => (&lowered[..], None),
    };
    match port {
        None | Some("") => Some(host.to_owned()),
        Some(port) if Some(port) == default_port(scheme) => Some(host.to_owned()),
        Some(port) if port.bytes().all(|b| b.is_ascii_digit()) => Some(format!("{host}:{port}")),
        Some(_) => None,
    }
}

/// An empty path is `/`; percent-escapes get upper-case hex, and those of unreserved
/// characters are decoded (RFC 3986 §6.2.2.1 and §6.2.2.2).
fn normal_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len().max(1));
    if !bytes.starts_with(b"/") {
        out.push('/');
    }
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let escaped = match (byte, bytes.get(i + 1..i + 3)) {
            (b'%', Some(&[high, low])) => hex(high).zip(hex(low)).map(|(high, low)| high << 4 | low),
            _ => None,
        };
        match escaped {
            Some(decoded) if decoded.is_ascii_alphanumeric() || b"-._~".contains(&decoded) => {
                out.push(char::from(decoded));
                i += 3;
            }
            Some(decoded) => {
                out.push_str(&format!("%{decoded:02X}"));
                i += 3;
            }
            None => {
                // The path came from a parsed `Uri`: ASCII only.
                out.push(char::from(byte));
                i += 1;
            }
        }
    }
    out
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> NormalUrl {
        NormalUrl::parse(text).unwrap()
    }

    #[test]
    fn htu_is_normalised_before_it_is_compared() {
        let request = url("https://api.example.com/orders/7");
        for same in [
            "https://api.example.com/orders/7",
            "HTTPS://API.Example.COM/orders/7",
            "https://api.example.com:443/orders/7",
            "https://api.example.com/orders/7?page=2",
            "https://api.example.com/orders/7#top",
            "https://api.example.com/%6Frders/7",
        ] {
            assert!(request.matches(&url(same)), "{same}");
        }
        for other in [
            "http://api.example.com/orders/7",
            "https://api.example.com:8443/orders/7",
            "https://other.example.com/orders/7",
            "https://api.example.com/orders/8",
            "https://api.example.com/Orders/7",
        ] {
            assert!(!request.matches(&url(other)), "{other}");
        }
    }

    #[test]
    fn percent_escapes_compare_by_their_octet() {
        assert_eq!(url("https://a.example/x%2fy").path, "/x%2Fy");
        assert_eq!(url("https://a.example").path, "/");
    }

    #[test]
    fn only_absolute_http_urls_without_user_information_are_urls() {
        for bad in ["/orders", "ftp://a.example/x", "https://user@a.example/x", "https://a.example:x/y"] {
            assert!(NormalUrl::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn an_origin_form_request_is_named_by_its_host_header_and_either_scheme() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, "API.example.com:8080".parse().unwrap());
        let request = NormalUrl::of_request(&"/orders?x=1".parse().unwrap(), &headers).unwrap();
        assert!(request.matches(&url("http://api.example.com:8080/orders")));
        assert!(request.matches(&url("https://api.example.com:8080/orders")));
        assert!(!request.matches(&url("https://api.example.com/orders")));
        headers.insert(http::header::HOST, "api.example.com".parse().unwrap());
        let request = NormalUrl::of_request(&"/orders".parse().unwrap(), &headers).unwrap();
        assert!(request.matches(&url("https://api.example.com:443/orders")));
        assert!(request.matches(&url("http://api.example.com/orders")));
    }

    #[test]
    fn behind_a_proxy_the_public_base_url_names_the_request() {
        let base = public_base("https://api.example.com/v1/").unwrap();
        let request = base.under(&"/orders".parse().unwrap());
        assert!(request.matches(&url("https://api.example.com/v1/orders")));
        assert!(!request.matches(&url("http://api.example.com/v1/orders")));
        assert!(!request.matches(&url("https://api.example.com/orders")));
        assert!(public_base("https://api.example.com/?x").is_err());
        assert!(public_base("api.example.com").is_err());
    }

    #[test]
    fn the_method_is_compared_exactly() {
        assert!(method_matches(&Method::POST, "POST"));
        assert!(!method_matches(&Method::POST, "post"));
        assert!(!method_matches(&Method::GET, "POST"));
    }
}
