//! The URL a proof's `htu` must name, taken from the request without building a
//! [`NormalUrl`] when it is what servers see nearly always: an origin-form target
//! (`GET /orders`) and a `Host` that is a plain host name.
//!
//! Such a request's normal URL is known without normalising anything: no scheme (either
//! matches), the `Host` as it is for authority (lower case, no port: normal already), and
//! the path. An `htu` that spells `http://` or `https://`, that host and that path, then
//! nothing or a fragment, names it, the path being plain (no `%`, nothing outside RFC
//! 3986's `pchar` and `/`): that is [`NormalUrl::named_by`]'s own first test, made here on
//! the request's parts in one pass over `htu`. Any other `htu` (or path) is compared by
//! [`NormalUrl::named_by`] itself, on the very URL [`NormalUrl::of_request`] builds, so
//! the answer is its answer in every case; the unit tests hold the two side by side.

use http::{HeaderMap, HeaderValue, Uri};

use super::target::{self, NormalUrl};

/// The URL of the request a proof is checked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TargetUrl<'a> {
    /// Normalised: an absolute target, a public base URL, a URL given to
    /// [`ProofTarget::new`](super::ProofTarget::new).
    Normal(NormalUrl<'a>),
    /// An origin-form target and its `Host`, which is a plain host name (lower-case
    /// letters, digits, `.` and `-`, no port), held as the header's bytes (ASCII, so
    /// UTF-8: no check of its own); the path as the request has it.
    Origin { host: &'a [u8], path: &'a str },
}

impl<'a> TargetUrl<'a> {
    /// The URL of a request as the server received it (see [`NormalUrl::of_request`]);
    /// `None` when it has none (no `Host`, or a malformed one), as there.
    pub(crate) fn of_request(uri: &'a Uri, headers: &'a HeaderMap) -> Option<Self> {
        if uri.scheme().is_none() && uri.authority().is_none() {
            // The bytes, with no `to_str` pass: a plain host is ASCII.
            let host =
                crate::token::first_header_value(headers, &http::header::HOST).map(HeaderValue::as_bytes);
            if let Some(host) = host.filter(|host| target::is_plain_host(host)) {
                return Some(Self::Origin { host, path: uri.path() });
            }
        }
        NormalUrl::of_request(uri, headers).map(Self::Normal)
    }

    /// Whether the proof's `htu` (its UTF-8 bytes) names this URL ([`NormalUrl::named_by`]).
    pub(crate) fn named_by(&self, htu: &[u8]) -> bool {
        // Text for `NormalUrl`: `htu` is UTF-8 already, so this cannot fail.
        let text = || std::str::from_utf8(htu).ok();
        match self {
            Self::Normal(url) => text().is_some_and(|htu| url.named_by(htu)),
            Self::Origin { host, path } => {
                spells(host, path, htu)
                    || std::str::from_utf8(host).is_ok_and(|host| {
                        text().is_some_and(|htu| NormalUrl::of_origin(host, path).named_by(htu))
                    })
            }
        }
    }
}

/// Whether `htu` is `http://` or `https://`, `host`, `path`, then nothing or a fragment,
/// `path` being plain: what [`NormalUrl::named_by`] takes without a parse for the URL
/// `NormalUrl::of_origin(host, path)` (whose path is then `path` itself).
#[inline]
fn spells(host: &[u8], path: &str, htu: &[u8]) -> bool {
    // The length the plain parse leaves to `Uri` (which refuses it).
    if htu.len() >= usize::from(u16::MAX - 1) {
        return false;
    }
    let Some(rest) = htu.strip_prefix(b"https://").or_else(|| htu.strip_prefix(b"http://")) else {
        return false;
    };
    let tail = rest.strip_prefix(host).and_then(|after| after.strip_prefix(path.as_bytes()));
    let Some(tail) = tail else {
        return false;
    };
    tail.first().is_none_or(|&byte| byte == b'#') && target::is_plain_path(path)
}

#[cfg(test)]
mod tests;
