//! The one rejection path. The guard, the scope layers, the axum extractors and the
//! services that read the guard's context (the personal-access-token API) all answer a
//! rejection through [`ResponseConfig::reject`]: it
//! traces the rejection, renders the [`AuthError`] (the challenge from the error; body,
//! status and any extra headers from the configured responder, which defaults to the
//! error's status) and puts the error into the response's extensions,
//! as tower-http's csrf layer does, so outer layers (metrics, access logs) can read the
//! [`Reason`](super::Reason) without parsing a body.

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING, WWW_AUTHENTICATE,
};
use http::{HeaderMap, HeaderValue, Response, Version};

use super::{AuthError, DpopChallenge, Reason, ResponseConfig};
use crate::dpop::DPOP_NONCE;

impl ResponseConfig {
    /// Traces `error`, renders it with this configuration, the body built by `make_body`,
    /// and leaves it in the response's extensions.
    pub fn reject<T>(&self, error: AuthError, make_body: impl FnOnce(Bytes) -> T) -> Response<T> {
        trace(&error);
        crate::telemetry::rejected(error.reason());
        let mut response = self.render(&error, make_body);
        response.extensions_mut().insert(error);
        response
    }

    /// The body, status and extra headers come from the responder; the challenge from the
    /// error, set last, so no responder can drop or replace it.
    fn render<T>(&self, error: &AuthError, make_body: impl FnOnce(Bytes) -> T) -> Response<T> {
        let body = self.responder.body(error);
        let mut response = Response::new(make_body(body.bytes));
        *response.status_mut() = self.responder.status(error);
        let headers = response.headers_mut();
        self.responder.headers(error, headers);
        if !body.content_type.is_empty() {
            headers.insert(CONTENT_TYPE, body.content_type);
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let Some(dpop) = &self.dpop else {
            if let Some(challenge) = error.challenge(&self.realm, self.resource_metadata.as_deref()) {
                headers.insert(WWW_AUTHENTICATE, header_value(&challenge, "Bearer"));
            }
            return response;
        };
        self.dpop_challenges(error, dpop, headers);
        response
    }

    /// With DPoP on: the challenge of the scheme the request used carries the error, and
    /// the other scheme's (when offered) is bare. DPoP alone: one `DPoP` challenge.
    fn dpop_challenges(&self, error: &AuthError, dpop: &DpopChallenge, headers: &mut HeaderMap) {
        let (realm, metadata) = (&*self.realm, self.resource_metadata.as_deref());
        let error_under_dpop = error.is_dpop() || !dpop.bearer;
        let bearer = match (dpop.bearer, error_under_dpop) {
            (false, _) => None,
            (true, true) => error.bare_bearer_challenge(realm, metadata),
            (true, false) => error.challenge(realm, metadata),
        };
        if let Some(bearer) = bearer {
            headers.append(WWW_AUTHENTICATE, header_value(&bearer, "Bearer"));
        }
        if let Some(challenge) = error.dpop_challenge(realm, metadata, &dpop.algs, error_under_dpop) {
            headers.append(WWW_AUTHENTICATE, header_value(&challenge, "DPoP"));
        }
        if let (Some(nonces), Reason::DpopNonceRequired) = (&dpop.nonces, error.reason()) {
            if let Ok(nonce) = HeaderValue::try_from(nonces.issue()) {
                headers.insert(DPOP_NONCE, nonce);
            }
        }
    }
}

/// Realm and metadata URL were validated when configured, scopes are escaped; a value that
/// still cannot be a header falls back to the bare scheme.
fn header_value(challenge: &str, scheme: &'static str) -> HeaderValue {
    HeaderValue::from_str(challenge).unwrap_or(HeaderValue::from_static(scheme))
}

/// Whether a rejection answered before the request's body is read must close the connection: an
/// HTTP/1 request that announced a body (`Content-Length` above zero, or `Transfer-Encoding`).
///
/// hyper does not read a body nobody asked for: it drops the connection after the answer, and a
/// keep-alive client that was not told so fails its next request on it. HTTP/2 streams need
/// nothing (and forbid `Connection`).
pub fn body_left_unread(version: Version, headers: &HeaderMap) -> bool {
    if !matches!(version, Version::HTTP_09 | Version::HTTP_10 | Version::HTTP_11) {
        return false;
    }
    let announced_length = headers.get_all(CONTENT_LENGTH).iter().any(|length| {
        // An unreadable length announces something too.
        length.to_str().ok().and_then(|length| length.trim().parse::<u64>().ok()).is_none_or(|n| n > 0)
    });
    announced_length || headers.contains_key(TRANSFER_ENCODING)
}

/// Adds `Connection: close` to an early rejection when [`body_left_unread`] said so, so
/// the client opens a new connection for its next request.
pub fn close_if<T>(mut response: Response<T>, body_left_unread: bool) -> Response<T> {
    if body_left_unread {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// One event per rejection, with its reason and never the token.
fn trace(error: &AuthError) {
    let status = error.status().as_u16();
    if let Some(detail) = error.detail() {
        tracing::warn!(status, reason = ?error.reason(), detail = %detail, "request rejected");
    } else if status >= 500 {
        tracing::warn!(status, reason = ?error.reason(), source = ?error.backend_error(), "request rejected");
    } else {
        tracing::debug!(status, reason = ?error.reason(), "request rejected");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Reason;

    #[test]
    fn a_request_with_a_body_announced_over_http1_closes_the_connection_of_an_early_rejection() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.append(*name, HeaderValue::from_static(value));
            }
            map
        };
        for announced in
            [&[("content-length", "5")][..], &[("transfer-encoding", "chunked")], &[("content-length", "x")]]
        {
            assert!(body_left_unread(Version::HTTP_11, &headers(announced)), "{announced:?}");
            assert!(!body_left_unread(Version::HTTP_2, &headers(announced)), "{announced:?}");
        }
        for none in [&[][..], &[("content-length", "0")]] {
            assert!(!body_left_unread(Version::HTTP_11, &headers(none)), "{none:?}");
        }
        let response = ResponseConfig::default().reject(AuthError::missing_token(), |b| b);
        assert_eq!(close_if(response, true).headers()["connection"], "close");
        let response = ResponseConfig::default().reject(AuthError::missing_token(), |b| b);
        assert!(!close_if(response, false).headers().contains_key("connection"));
    }

    #[test]
    fn a_rejection_carries_its_error_in_the_extensions() {
        let response = ResponseConfig::default().reject(AuthError::invalid_token(Reason::Expired), |b| b);
        assert_eq!(response.status(), http::StatusCode::UNAUTHORIZED);
        let error = response.extensions().get::<AuthError>().expect("the error is in the extensions");
        assert_eq!(error.reason(), Reason::Expired);
    }
}
