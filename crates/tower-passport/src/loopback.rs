//! Whether a URL's host is this machine: plain `http` is allowed there (JWKS URLs,
//! protected-resource identifiers) without an explicit opt-in.

use std::net::IpAddr;

/// Whether `host` (as `Uri::host` gives it, IPv6 in brackets) is a loopback address
/// (`127.0.0.0/8`, `::1`, `localhost`).
pub(crate) fn is_loopback(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
