//! The request a proof is for: `htm` and `htu` compared as RFC 9449 §4.3 says, the URL
//! normalised (RFC 3986 §6.2.2 and §6.2.3) and its query and fragment ignored.
//!
//! Every part of a [`NormalUrl`] borrows the text it came from when that text is in normal
//! form already (lower case, no default port, no percent-escape, a path that starts with
//! `/`), which is what clients send and servers see: the warm DPoP path then builds no
//! string. Anything else is normalised into an owned copy. Either way the parts hold the
//! same text and [`NormalUrl::matches`] compares them the same way; the unit tests check
//! both ways against a table of URLs.

use std::borrow::Cow;

use http::{HeaderMap, Method, Uri};

use crate::error::{ConfigError, ConfigErrorKind};

/// A URL reduced to what `htu` is compared on: scheme and host lower-cased, the scheme's
/// default port dropped, the path's percent-encoding normalised, no query or fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NormalUrl<'a> {
    /// `None` when the request did not say (a server behind no TLS-aware proxy sees
    /// origin-form targets only): `http` and `https` then both match.
    scheme: Option<Cow<'a, str>>,
    authority: Cow<'a, str>,
    path: Cow<'a, str>,
}

impl<'a> NormalUrl<'a> {
    /// Parses and normalises an absolute `http`/`https` URL; `None` for anything else.
    pub(crate) fn parse(url: &'a str) -> Option<Self> {
        Self::parse_plain(url).or_else(|| Self::parse_full(url.split('#').next().unwrap_or_default()))
    }

    /// [`parse`](Self::parse) through [`Uri`], for any URL without a fragment.
    fn parse_full(url: &str) -> Option<Self> {
        let uri: Uri = url.parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let authority = normal_authority(uri.authority()?.as_str(), Some(&scheme))?.into_owned();
        let path = normal_path(uri.path()).into_owned();
        Some(Self {
            scheme: Some(Cow::Owned(scheme)),
            authority: Cow::Owned(authority),
            path: Cow::Owned(path),
        })
    }

    /// [`parse`](Self::parse) without [`Uri`], for the common shape only: `http://` or
    /// `https://` in lower case, a host of lower-case letters, digits, `.` and `-` with no
    /// port, then a path of unreserved characters, sub-delimiters, `:`, `@` and `/` (no
    /// `%`), and nothing after it but a fragment. Every such URL parses as a [`Uri`], and
    /// is already in the normal form [`parse`](Self::parse) would give it, so both give the
    /// same parts. `None` for anything else, which the full parse then reads.
    fn parse_plain(url: &'a str) -> Option<Self> {
        // `Uri` refuses anything this long; leave it that answer.
        if url.len() >= usize::from(u16::MAX - 1) {
            return None;
        }
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
            ("https", rest)
        } else {
            ("http", url.strip_prefix("http://")?)
        };
        let bytes = rest.as_bytes();
        // The host's plain bytes up to a `/`, then the path's up to the end or a `#`.
        let slash = first_not_of(bytes, 0, PLAIN_HOST);
        if slash == 0 || bytes.get(slash) != Some(&b'/') {
            return None;
        }
        let end = first_not_of(bytes, slash, PLAIN_PATH);
        if end < bytes.len() && bytes[end] != b'#' {
            return None;
        }
        // Every byte up to `end` is ASCII: both slices end on char boundaries.
        Some(Self {
            scheme: Some(Cow::Borrowed(scheme)),
            authority: Cow::Borrowed(&rest[..slash]),
            path: Cow::Borrowed(&rest[slash..end]),
        })
    }

    /// The URL of a request as the server received it: its target's scheme and authority
    /// when absolute, else the `Host` header.
    pub(crate) fn of_request(uri: &'a Uri, headers: &'a HeaderMap) -> Option<Self> {
        let scheme = uri.scheme_str().map(lower_case);
        let authority = match uri.authority() {
            Some(authority) => authority.as_str(),
            None => crate::token::first_header_value(headers, &http::header::HOST)?.to_str().ok()?,
        };
        let authority = normal_authority(authority, scheme.as_deref())?;
        Some(Self { scheme, authority, path: normal_path(uri.path()) })
    }

    /// What [`of_request`](Self::of_request) builds for an origin-form target whose `Host`
    /// is `host`, a plain host name ([`is_plain_host`]): no scheme, the host as it is, the
    /// path normalised.
    pub(crate) fn of_origin(host: &'a str, path: &'a str) -> Self {
        Self { scheme: None, authority: Cow::Borrowed(host), path: normal_path(path) }
    }

    /// The URL of a request behind a proxy: the public base URL, with the request's path
    /// appended to the base's own.
    pub(crate) fn under(&self, uri: &Uri) -> NormalUrl<'static> {
        let base = self.path.trim_end_matches('/');
        NormalUrl {
            scheme: self.scheme.as_deref().map(|scheme| Cow::Owned(scheme.to_owned())),
            authority: Cow::Owned(self.authority.clone().into_owned()),
            path: Cow::Owned(format!("{base}{}", normal_path(uri.path()))),
        }
    }

    /// This URL owning its parts.
    pub(crate) fn into_owned(self) -> NormalUrl<'static> {
        NormalUrl {
            scheme: self.scheme.map(|scheme| Cow::Owned(scheme.into_owned())),
            authority: Cow::Owned(self.authority.into_owned()),
            path: Cow::Owned(self.path.into_owned()),
        }
    }

    /// Whether the proof's `htu` names this URL: compared as text when this URL's host and
    /// path are plain (see [`parse_plain`](Self::parse_plain)) and `htu` spells them as
    /// they are, else normalised and compared part by part ([`matches`](Self::matches)).
    /// Either way the answer is the same: such an `htu` parses, plainly, into exactly these
    /// parts.
    pub(crate) fn named_by(&self, htu: &str) -> bool {
        self.spelled_by(htu) || NormalUrl::parse(htu).is_some_and(|htu| self.matches(&htu))
    }

    /// Whether `htu` is this URL's scheme (either one when it has none), `://`, authority
    /// and path as they are, and then nothing or a fragment, this URL's host and path being
    /// plain: what [`parse_plain`](Self::parse_plain) reads into these very parts.
    fn spelled_by(&self, htu: &str) -> bool {
        // The length `parse_plain` leaves to `Uri` (which refuses it).
        if htu.len() >= usize::from(u16::MAX - 1) {
            return false;
        }
        let (scheme, rest) = if let Some(rest) = htu.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = htu.strip_prefix("http://") {
            ("http", rest)
        } else {
            return false;
        };
        let Some(tail) =
            rest.strip_prefix(&*self.authority).and_then(|after| after.strip_prefix(&*self.path))
        else {
            return false;
        };
        self.scheme.as_deref().is_none_or(|ours| ours == scheme)
            && (tail.is_empty() || tail.starts_with('#'))
            && !self.authority.is_empty()
            && all_of(self.authority.as_bytes(), PLAIN_HOST)
            && self.path.starts_with('/')
            && all_of(self.path.as_bytes(), PLAIN_PATH)
    }

    /// Whether the proof's `htu`, normalised, names this URL.
    pub(crate) fn matches(&self, htu: &NormalUrl<'_>) -> bool {
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
pub(crate) fn public_base(url: &str) -> Result<NormalUrl<'static>, ConfigError> {
    match NormalUrl::parse(url) {
        Some(base) if !url.contains(['?', '#']) => Ok(base.into_owned()),
        _ => Err(ConfigError::new(
            ConfigErrorKind::Url,
            format!("the DPoP public URL {url:?} is not an absolute http(s) URL without query or fragment"),
        )),
    }
}

/// Whether the proof's `htm` is the request's method (compared exactly, RFC 9110 §9.1).
/// Inlined: a few bytes compared, where a call costs more than the comparison.
#[inline(always)]
pub(crate) fn method_matches(method: &Method, htm: &[u8]) -> bool {
    method.as_str().as_bytes() == htm
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

/// `text` lower-cased: borrowed when it has no upper-case ASCII letter.
#[inline]
fn lower_case(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// Lower-cases the host, drops an empty or default port; refuses user information.
/// Borrowed when that changes nothing.
fn normal_authority<'a>(authority: &'a str, scheme: Option<&str>) -> Option<Cow<'a, str>> {
    if authority.is_empty() {
        return None;
    }
    // The common case: a registered name in lower case, no port.
    if all_of(authority.as_bytes(), PLAIN_HOST) {
        return Some(Cow::Borrowed(authority));
    }
    // One pass: user information, the last `:` outside an IPv6 literal's brackets, and
    // whether there is anything to lower-case. Lower-casing keeps every byte's position,
    // and ports are digits, so the port is judged on the text as it came.
    let (mut colon, mut upper) = (None, false);
    for (at, &byte) in authority.as_bytes().iter().enumerate() {
        match byte {
            b'@' => return None,
            b':' => colon = Some(at),
            b']' => colon = None,
            b'A'..=b'Z' => upper = true,
            _ => {}
        }
    }
    let (host, port) = match colon {
        Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
        None => (authority, None),
    };
    let kept = match port {
        None | Some("") => host,
        Some(port) if Some(port) == default_port(scheme) => host,
        // Digits only: any upper case was in the host.
        Some(port) if port.bytes().all(|b| b.is_ascii_digit()) => authority,
        Some(_) => return None,
    };
    Some(if upper { Cow::Owned(kept.to_ascii_lowercase()) } else { Cow::Borrowed(kept) })
}

/// [`BYTE_CLASS`]: the byte may be in a host that is in normal form as it is (a registered
/// name in lower case: letters, digits, `.` and `-`).
const PLAIN_HOST: u8 = 1;

/// [`BYTE_CLASS`]: the byte may be in a path that is in normal form as it is: RFC 3986's
/// `pchar` and `/`, less `%` (whose escapes may need normalising).
const PLAIN_PATH: u8 = 2;

/// The classes of every byte, looked up rather than matched (a URL's bytes are each looked
/// at once, branch-free).
static BYTE_CLASS: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        let host = b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-';
        let path = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            );
        classes[byte] = if host { PLAIN_HOST } else { 0 } | if path { PLAIN_PATH } else { 0 };
        byte += 1;
    }
    classes
};

/// Whether `host` is a non-empty registered name in lower case, no port: an authority that
/// is in normal form as it is.
#[inline]
pub(crate) fn is_plain_host(host: &[u8]) -> bool {
    !host.is_empty() && all_of(host, PLAIN_HOST)
}

/// Whether `path` starts with `/` and has nothing but `pchar`s and `/`, no `%`: a path in
/// normal form as it is.
#[inline]
pub(crate) fn is_plain_path(path: &str) -> bool {
    path.starts_with('/') && all_of(path.as_bytes(), PLAIN_PATH)
}

/// Where the first byte of `bytes` from `at` that is not of `class` is; the length if none.
#[inline]
fn first_not_of(bytes: &[u8], at: usize, class: u8) -> usize {
    let mut at = at;
    while let Some(&byte) = bytes.get(at) {
        if BYTE_CLASS[usize::from(byte)] & class == 0 {
            break;
        }
        at += 1;
    }
    at
}

/// Whether every byte of `bytes` is of `class`: the classes of all of them and-ed, then
/// tested once (a load and an `and` a byte).
#[inline]
fn all_of(bytes: &[u8], class: u8) -> bool {
    bytes.iter().fold(u8::MAX, |all, &byte| all & BYTE_CLASS[usize::from(byte)]) & class != 0
}

/// An empty path is `/`; percent-escapes get upper-case hex, and those of unreserved
/// characters are decoded (RFC 3986 §6.2.2.1 and §6.2.2.2). Borrowed when the path
/// starts with `/` and has no `%` and no byte beyond ASCII: it is normal already.
fn normal_path(path: &str) -> Cow<'_, str> {
    if path.starts_with('/') && path.bytes().all(|b| b.is_ascii() && b != b'%') {
        return Cow::Borrowed(path);
    }
    Cow::Owned(normalise_path(path))
}

/// [`normal_path`], always into a new string.
fn normalise_path(path: &str) -> String {
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

    /// The normalisation as it was before any part was borrowed: every string built anew.
    mod reference {
        use http::Uri;

        pub(super) fn authority(authority: &str, scheme: Option<&str>) -> Option<String> {
            if authority.is_empty() || authority.contains('@') {
                return None;
            }
            let lowered = authority.to_ascii_lowercase();
            let (host, port) = match lowered.rfind(':') {
                Some(colon) if !lowered[colon..].contains(']') => {
                    (&lowered[..colon], Some(&lowered[colon + 1..]))
                }
                _ => (&lowered[..], None),
            };
            match port {
                None | Some("") => Some(host.to_owned()),
                Some(port) if Some(port) == super::default_port(scheme) => Some(host.to_owned()),
                Some(port) if port.bytes().all(|b| b.is_ascii_digit()) => Some(format!("{host}:{port}")),
                Some(_) => None,
            }
        }

        /// (scheme, authority, path) of an absolute URL.
        pub(super) fn url(url: &str) -> Option<(String, String, String)> {
            let url = url.split('#').next().unwrap_or_default();
            let uri: Uri = url.parse().ok()?;
            let scheme = uri.scheme_str()?.to_ascii_lowercase();
            if scheme != "http" && scheme != "https" {
                return None;
            }
            let authority = authority(uri.authority()?.as_str(), Some(&scheme))?;
            Some((scheme, authority, super::normalise_path(uri.path())))
        }
    }

    fn url(text: &str) -> NormalUrl<'_> {
        NormalUrl::parse(text).unwrap()
    }

    fn parts(url: Option<NormalUrl<'_>>) -> Option<(String, String, String)> {
        url.map(|url| {
            (url.scheme.unwrap_or_default().into_owned(), url.authority.into_owned(), url.path.into_owned())
        })
    }

    /// URLs in normal form, and every way of writing one that §4.3's normalisation undoes
    /// (default ports, upper case, percent-escapes, an empty path), and some that are no
    /// http(s) URL at all.
    const URLS: &[&str] = &[
        "http://bench.example/orders",
        "https://api.example.com/orders/7",
        "https://api.example.com/orders",
        "http://api.example.com/orders",
        "https://api.example.com/orders#top",
        "https://api.example.com/orders/",
        "https://api.example.com/ordersx",
        "https://api.example.comx/orders",
        "https://api.example.com/",
        "https://api.example.com",
        "https://api.example.com/a-b_c.d~e/!$&'()*+,;=:@/x",
        "https://api.example.com./orders",
        "https://xn--bcher-kva.example/orders",
        "https://10.0.0.1/orders",
        "https://api-1.example.com/orders",
        "HTTPS://API.Example.COM/orders/7",
        "https://API.example.com/orders",
        "Http://api.example.com/orders",
        "https://api.example.com:443/orders/7",
        "http://api.example.com:80/orders",
        "https://api.example.com:80/orders",
        "http://api.example.com:443/orders",
        "https://api.example.com:8443/orders/7",
        "https://api.example.com:/orders",
        "https://api.example.com/orders/7?page=2",
        "https://api.example.com/orders/7#top",
        "https://api.example.com/orders/7?page=2#top",
        "https://api.example.com/%6Frders/7",
        "https://api.example.com/x%2fy",
        "https://api.example.com/x%2Fy",
        "https://api.example.com/x%zzy",
        "https://api.example.com/x%",
        "https://[::1]/orders",
        "https://[::1]:443/orders",
        "https://[::1]:8443/orders",
        "https://user@api.example.com/orders",
        "https://api.example.com:x/orders",
        "https:///orders",
        "ftp://api.example.com/orders",
        "/orders",
        "https://api.example.com/orders with space",
        "https://api.example.com/orders\\x",
        "https://api.example.com/{orders}",
        "https://api.example.com/\u{e9}",
        "https://ap\u{ee}.example.com/orders",
        "",
    ];

    #[test]
    fn the_plain_parse_and_the_full_one_agree_on_every_url() {
        for text in URLS {
            if let Some(plain) = NormalUrl::parse_plain(text) {
                let full = NormalUrl::parse_full(text.split('#').next().unwrap_or_default());
                assert_eq!(Some(&plain), full.as_ref(), "{text}");
                assert!(matches!(plain.path, Cow::Borrowed(_)), "{text}");
            }
            assert_eq!(parts(NormalUrl::parse(text)), reference::url(text), "{text}");
        }
        // The table reaches both: plain URLs, and URLs only the full parse reads.
        assert!(NormalUrl::parse_plain("http://bench.example/orders").is_some());
        assert!(NormalUrl::parse_plain("http://bench.example/orders#top").is_some());
        assert!(NormalUrl::parse_plain("http://bench.example/orders?page=2").is_none());
        assert!(NormalUrl::parse_plain("https://api.example.com:443/orders").is_none());
        assert!(NormalUrl::parse_plain("https://api.example.com/%6Frders").is_none());
        assert!(NormalUrl::parse_plain("HTTPS://api.example.com/orders").is_none());
        assert!(NormalUrl::parse_plain("https://api.example.com").is_none());
    }

    #[test]
    fn every_byte_the_plain_parse_takes_in_a_path_is_one_the_full_parse_takes_as_it_is() {
        for byte in 0..=u8::MAX {
            let text = format!("https://a.example/x{}y", char::from(byte));
            if let Some(plain) = NormalUrl::parse_plain(&text) {
                assert_eq!(Some(plain), NormalUrl::parse_full(&text), "{byte:#04x}");
            }
        }
    }

    #[test]
    fn a_borrowed_authority_or_path_is_the_one_the_full_normalisation_builds() {
        let authorities = [
            "api.example.com",
            "API.example.com",
            "api.example.com:443",
            "api.example.com:80",
            "api.example.com:",
            "api.example.com:8080",
            "api.example.com.",
            "API.EXAMPLE.COM.:443",
            "[::1]",
            "[::1]:443",
            "[::1]:x",
            "user@api.example.com",
            "api.example.com:8o",
            "",
            "b\u{fc}cher.example",
            "B\u{dc}CHER.example:80",
        ];
        for authority in authorities {
            for scheme in [None, Some("http"), Some("https")] {
                let ours = normal_authority(authority, scheme).map(Cow::into_owned);
                assert_eq!(ours, reference::authority(authority, scheme), "{authority} {scheme:?}");
            }
        }
        assert!(matches!(normal_authority("api.example.com:8080", Some("https")), Some(Cow::Borrowed(_))));
        assert!(matches!(normal_authority("api.example.com:443", Some("https")), Some(Cow::Borrowed(_))));
        assert!(matches!(normal_authority("API.example.com", Some("https")), Some(Cow::Owned(_))));
        let paths = ["/orders", "", "orders", "/%6Frders", "/x%2fy", "/x%zz", "/x%", "/a/b/", "/\u{e9}"];
        for path in paths {
            assert_eq!(normal_path(path), normalise_path(path), "{path}");
        }
        assert!(matches!(normal_path("/orders/7"), Cow::Borrowed(_)));
        assert!(matches!(normal_path("/%6Frders"), Cow::Owned(_)));
    }

    #[test]
    fn a_request_matches_the_same_htus_whichever_way_its_parts_were_read() {
        let mut headers = HeaderMap::new();
        for host in [
            "api.example.com",
            "API.example.com",
            "api.example.com:443",
            "api.example.com:80",
            "api.example.com:8443",
        ] {
            headers.insert(http::header::HOST, host.parse().unwrap());
            for target in
                ["/orders", "/%6Frders", "https://api.example.com/orders", "http://API.example.com:80/orders"]
            {
                let uri: Uri = target.parse().unwrap();
                let request = NormalUrl::of_request(&uri, &headers).unwrap();
                let owned = request.clone().into_owned();
                for htu in URLS {
                    let (Some(borrowed), Some(rebuilt)) = (NormalUrl::parse(htu), NormalUrl::parse_full(htu))
                    else {
                        continue;
                    };
                    let expected = owned.matches(&rebuilt);
                    assert_eq!(request.matches(&borrowed), expected, "{host} {target} {htu}");
                    assert_eq!(request.named_by(htu), expected, "{host} {target} {htu}");
                    assert_eq!(owned.named_by(htu), expected, "{host} {target} {htu}");
                }
            }
        }
    }

    #[test]
    fn an_htu_that_spells_a_plain_request_url_is_taken_without_a_parse() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, "api.example.com".parse().unwrap());
        let uri: Uri = "/orders?x=1".parse().unwrap();
        let request = NormalUrl::of_request(&uri, &headers).unwrap();
        for htu in ["https://api.example.com/orders", "http://api.example.com/orders#top"] {
            assert!(request.spelled_by(htu), "{htu}");
        }
        // Not plain: normalised and compared part by part instead.
        for htu in ["https://api.example.com:443/orders", "HTTPS://api.example.com/orders"] {
            assert!(!request.spelled_by(htu) && request.named_by(htu), "{htu}");
        }
        for htu in [
            "https://api.example.com/orders/",
            "https://api.example.com/ordersx",
            "ftp://api.example.com/orders",
        ] {
            assert!(!request.named_by(htu), "{htu}");
        }
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
        let uri: Uri = "/orders?x=1".parse().unwrap();
        let request = NormalUrl::of_request(&uri, &headers).unwrap();
        assert!(request.matches(&url("http://api.example.com:8080/orders")));
        assert!(request.matches(&url("https://api.example.com:8080/orders")));
        assert!(!request.matches(&url("https://api.example.com/orders")));
        headers.insert(http::header::HOST, "api.example.com".parse().unwrap());
        let uri: Uri = "/orders".parse().unwrap();
        let request = NormalUrl::of_request(&uri, &headers).unwrap();
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
        assert!(method_matches(&Method::POST, b"POST"));
        assert!(!method_matches(&Method::POST, b"post"));
        assert!(!method_matches(&Method::GET, b"POST"));
    }
}
