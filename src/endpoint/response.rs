//! Responses of the OAuth endpoints: JSON, `Cache-Control: no-store`, RFC 6749 errors.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

use crate::issuer::{OAuthError, OAuthErrorCode};

/// What every endpoint answers with.
pub type EndpointResponse = Response<Full<Bytes>>;

pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> EndpointResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => with_headers(status, Some("application/json"), Bytes::from(bytes)),
        Err(_) => error(&OAuthError::new(OAuthErrorCode::ServerError, "The response could not be encoded")),
    }
}

/// A public document that may be cached for `max_age` seconds (the JWKS, the metadata).
pub(crate) fn cacheable_json<T: Serialize + ?Sized>(body: &T, max_age: u64) -> EndpointResponse {
    let mut response = json(StatusCode::OK, body);
    if response.status() == StatusCode::OK {
        let headers = response.headers_mut();
        headers.remove(PRAGMA);
        if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
            headers.insert(CACHE_CONTROL, value);
        }
    }
    response
}

/// 405 with the `Allow` header RFC 9110 §15.5.6 requires.
pub(crate) fn method_not_allowed(allow: &'static str) -> EndpointResponse {
    let mut response = empty(StatusCode::METHOD_NOT_ALLOWED);
    response.headers_mut().insert(http::header::ALLOW, HeaderValue::from_static(allow));
    response
}

pub(crate) fn empty(status: StatusCode) -> EndpointResponse {
    with_headers(status, None, Bytes::new())
}

/// An RFC 6749 §5.2 error. `invalid_client` is 401 and always carries a Basic challenge:
/// RFC 6749 §5.2 requires it after Basic authentication, and RFC 9110 §15.5.2 requires a
/// challenge on every 401, whatever method the client tried.
pub(crate) fn error(error: &OAuthError) -> EndpointResponse {
    let mut response = with_headers(error.status(), Some("application/json"), Bytes::from(error.to_json()));
    if let Some(seconds) = error.retry_after() {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    if error.code() == OAuthErrorCode::InvalidClient {
        response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="oauth""#));
    }
    response
}

fn with_headers(status: StatusCode, content_type: Option<&'static str>, body: Bytes) -> EndpointResponse {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(content_type) = content_type {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    // RFC 6749 §5.1: token responses must not be cached; nothing here should be.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
