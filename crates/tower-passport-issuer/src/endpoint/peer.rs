//! The address a request came from, for the issuer's throttle: the peer of the connection
//! as the server passed it on, or, only when the operator trusts a proxy in front
//! ([`OAuthServer::trusted_proxies`](super::OAuthServer::trusted_proxies)), the
//! address that proxy appended to `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};

use http::request::Parts;
use http::HeaderMap;

/// The peer address of the connection a request came on, put in the request's extensions by a
/// plain hyper server so that the issuer can throttle failed authentication per client address.
///
/// With axum, serving with `into_make_service_with_connect_info::<SocketAddr>()` is enough (its
/// `ConnectInfo` is read too, with the `axum` feature).
///
/// ```
/// use std::net::SocketAddr;
/// use tower_passport_issuer::endpoint::PeerAddr;
/// let peer: SocketAddr = "192.0.2.1:50123".parse().unwrap();
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(PeerAddr(peer));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The client's address: the connection's peer, or with `trusted_proxies` proxies in front,
/// the address the outermost trusted one saw (counted from the right of
/// `X-Forwarded-For`; the entries further left are the client's own say and never used).
/// `None` when the server passed no peer on.
pub(crate) fn client_ip(parts: &Parts, trusted_proxies: usize) -> Option<IpAddr> {
    let peer = connection_peer(parts)?;
    if trusted_proxies == 0 {
        return Some(peer);
    }
    // Every X-Forwarded-For header, as one list, in order.
    let forwarded = forwarded_for(&parts.headers);
    match forwarded.len().checked_sub(trusted_proxies) {
        Some(index) => forwarded.get(index).copied().or(Some(peer)),
        // Fewer entries than trusted proxies: the request did not come through them all.
        None => Some(peer),
    }
}

fn connection_peer(parts: &Parts) -> Option<IpAddr> {
    if let Some(PeerAddr(peer)) = parts.extensions.get::<PeerAddr>() {
        return Some(peer.ip());
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(peer)) =
        parts.extensions.get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(peer.ip());
    }
    None
}

/// The addresses of every `X-Forwarded-For` header, left to right; an entry that is not an
/// address (`unknown`, a port, garbage) ends the list there, so nothing left of it is used.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let mut addresses = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else { return Vec::new() };
        for entry in value.split(',') {
            match entry.trim().parse::<IpAddr>() {
                Ok(address) => addresses.push(address),
                // Untrustworthy from here leftwards: start over right of it.
                Err(_) => addresses.clear(),
            }
        }
    }
    addresses
}

#[cfg(test)]
mod tests {
    use super::{client_ip, PeerAddr};

    fn parts(peer: Option<&str>, forwarded: &[&str]) -> http::request::Parts {
        let mut request = http::Request::new(());
        if let Some(peer) = peer {
            request.extensions_mut().insert(PeerAddr(peer.parse().unwrap()));
        }
        for value in forwarded {
            request.headers_mut().append("x-forwarded-for", value.parse().unwrap());
        }
        request.into_parts().0
    }

    #[test]
    fn the_peer_unless_a_proxy_is_trusted() {
        let ip = |text: &str| Some(text.parse().unwrap());
        let spoofed = parts(Some("10.0.0.2:4000"), &["203.0.113.9"]);
        assert_eq!(client_ip(&spoofed, 0), ip("10.0.0.2"), "X-Forwarded-For is ignored by default");
        assert_eq!(client_ip(&spoofed, 1), ip("203.0.113.9"));
        // The client's own entries, left of what the proxy appended, are never used.
        let chained = parts(Some("10.0.0.2:4000"), &["1.1.1.1, 198.51.100.7", "203.0.113.9"]);
        assert_eq!(client_ip(&chained, 1), ip("203.0.113.9"));
        assert_eq!(client_ip(&chained, 2), ip("198.51.100.7"));
        assert_eq!(client_ip(&parts(Some("10.0.0.2:4000"), &[]), 1), ip("10.0.0.2"));
        assert_eq!(client_ip(&parts(Some("10.0.0.2:4000"), &["garbage, 203.0.113.9"]), 2), ip("10.0.0.2"));
        assert_eq!(client_ip(&parts(None, &["203.0.113.9"]), 1), None);
    }
}
