//! Responses of the OAuth endpoints: JSON, `Cache-Control: no-store`, RFC 6749 errors.

use bytes::Bytes;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

use crate::{OAuthError, OAuthErrorCode};

/// What every endpoint answers with.
pub type EndpointResponse = Response<Full<Bytes>>;

pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> EndpointResponse {
    // A token response (an access token of up to about 1 KB) fits without growing.
    let mut bytes = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => with_headers(status, Some("application/json"), Bytes::from(bytes)),
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

/// An RFC 6749 §5.2 error, with no challenge: see [`client_error`] for the endpoints
/// where clients authenticate.
pub(crate) fn error(error: &OAuthError) -> EndpointResponse {
    let mut response = with_headers(error.status(), Some("application/json"), Bytes::from(error.to_json()));
    if let Some(seconds) = error.retry_after() {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// An error of an endpoint where the client authenticates (token, revocation,
/// introspection): `invalid_client` is 401 and carries a Basic challenge only when the
/// client tried the `Authorization` header (RFC 6749 §5.2, as league/oauth2-server does).
/// A client that posted its credentials (`client_secret_post`, or a public client's bare
/// `client_id`) gets no challenge: it did not try HTTP authentication, and a challenge
/// would make a library such as openid-client report a challenge error instead of
/// `invalid_client`.
pub(crate) fn client_error(error: &OAuthError, headers: &HeaderMap) -> EndpointResponse {
    let mut response = self::error(error);
    if error.code() == OAuthErrorCode::InvalidClient && headers.contains_key(AUTHORIZATION) {
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
