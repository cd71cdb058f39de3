//! What every route reads: the issuer, and where and behind what the routes are served.

use std::net::IpAddr;

use super::peer;
use crate::authorization::with_query;
use crate::{paths, AuthorizationRequest, Issuer};

/// The issuer and the HTTP settings the routes share.
pub(crate) struct Front {
    pub(crate) issuer: Issuer,
    pub(crate) mount_path: String,
    pub(crate) trusted_proxies: usize,
}

impl Front {
    /// The URL of the endpoint at `path`, below the issuer URL and the mount path.
    pub(crate) fn endpoint_url(&self, path: &str) -> String {
        let base = self.issuer.issuer_url().trim_end_matches('/');
        format!("{base}{}{path}", self.mount_path)
    }

    /// `path` without the mount prefix, if it has it.
    pub(crate) fn route_path<'p>(&self, path: &'p str) -> &'p str {
        let mount = self.mount_path.as_str();
        match path.strip_prefix(mount) {
            Some(rest) if !mount.is_empty() && rest.starts_with('/') => rest,
            _ => path,
        }
    }

    /// The path `path` is served at, below the mount path: what a page of the issuer links
    /// to (same origin as the page, whatever host the browser used).
    pub(crate) fn mounted_path(&self, path: &str) -> String {
        format!("{}{path}", self.mount_path)
    }

    /// The URL of the authorization endpoint for `request`: where a sign-in page returns.
    pub(crate) fn authorization_url(&self, request: &AuthorizationRequest) -> String {
        let params = request.parameters(true);
        let pairs: Vec<(&str, &str)> = params.iter().map(|(name, value)| (*name, value.as_str())).collect();
        with_query(&self.endpoint_url(paths::AUTHORIZE), &pairs)
    }

    /// The client's address, as the issuer's throttle sees it.
    pub(crate) fn client_ip(&self, parts: &http::request::Parts) -> Option<IpAddr> {
        peer::client_ip(parts, self.trusted_proxies)
    }
}
