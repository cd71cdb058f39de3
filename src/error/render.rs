//! The one rejection path. The guard, the scope layers, the axum extractors and the
//! services that read the guard's context (the personal-access-token API) all answer a
//! rejection through [`ResponseConfig::reject`]: it
//! traces the rejection, renders the [`AuthError`] (the challenge from the error; body,
//! status and any extra headers from the configured responder, which defaults to the
//! error's status) and puts the error into the response's extensions,
//! as tower-http's csrf layer does, so outer layers (metrics, access logs) can read the
//! [`Reason`](super::Reason) without parsing a body.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Response};

use super::{AuthError, ResponseConfig};

impl ResponseConfig {
    /// Traces `error`, renders it with this configuration, the body built by `make_body`,
    /// and leaves it in the response's extensions.
    pub(crate) fn reject<T>(&self, error: AuthError, make_body: impl FnOnce(Bytes) -> T) -> Response<T> {
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
        if let Some(challenge) = error.challenge(&self.realm, self.resource_metadata.as_deref()) {
            // Realm and metadata URL were validated when configured, scopes are escaped;
            // a value that still cannot be a header falls back to the bare scheme.
            let value = HeaderValue::from_str(&challenge).unwrap_or(HeaderValue::from_static("Bearer"));
            headers.insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// One event per rejection, with its reason and never the token.
fn trace(error: &AuthError) {
    let status = error.status().as_u16();
    if status >= 500 {
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
    fn a_rejection_carries_its_error_in_the_extensions() {
        let response = ResponseConfig::default().reject(AuthError::invalid_token(Reason::Expired), |b| b);
        assert_eq!(response.status(), http::StatusCode::UNAUTHORIZED);
        let error = response.extensions().get::<AuthError>().expect("the error is in the extensions");
        assert_eq!(error.reason(), Reason::Expired);
    }
}
