//! Rejections shaped for gRPC clients (tonic, grpc-go, grpc-java, …).

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use percent_encoding::{percent_encode, AsciiSet, CONTROLS};

use super::{AuthError, ErrorBody, Kind, Responder};

const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");

/// What the gRPC spec leaves unencoded in `grpc-message` is space and visible ASCII but
/// `%` (`%x20-%x24 / %x26-%x7E`); every other byte, non-ASCII UTF-8 included, is `%XX`.
const MESSAGE_ENCODE: &AsciiSet = &CONTROLS.add(b'%');

/// Answers rejections as a gRPC server does, for a tonic (or any gRPC-over-HTTP/2) service
/// behind the guard.
///
/// A "Trailers-Only" response, `200 OK` with `content-type: application/grpc`, the code in
/// `grpc-status`, the error's description in `grpc-message` (percent-encoded, as the gRPC spec
/// asks), and no body, so no JSON.
///
/// The RFC 6750 challenge is still in `WWW-Authenticate`, where a gRPC client finds it in the
/// status's metadata (tonic's `Status::metadata()`).
///
/// | rejection | HTTP status otherwise | `grpc-status` |
/// |---|---|---|
/// | no token; bad, expired, revoked or unknown token | 401 | 16 `UNAUTHENTICATED` |
/// | missing scope, wrong kind of token | 403 | 7 `PERMISSION_DENIED` |
/// | malformed request (`invalid_request`: two credentials, a malformed header, a token too long) | 400 | 3 `INVALID_ARGUMENT` |
/// | store, resolver or key failure | 503 | 14 `UNAVAILABLE` (gRPC clients may retry it) |
/// | scope layer without a guard in front, other server bugs | 500 | 13 `INTERNAL` |
///
/// `grpc-message` is the [`Reason`](super::Reason)'s description, also when no token came
/// (the challenge then stays bare, as RFC 6750 §3.1 asks). This crate does not depend on
/// tonic: the responder only writes headers.
///
/// ```
/// use tower_passport::error::{AuthError, GrpcResponder, Reason, Responder};
///
/// let error = AuthError::invalid_token(Reason::Expired);
/// let mut headers = http::HeaderMap::new();
/// GrpcResponder.headers(&error, &mut headers);
/// assert_eq!(GrpcResponder.status(&error), 200);
/// assert_eq!(headers["grpc-status"], "16");
/// assert_eq!(headers["grpc-message"], "The access token expired");
/// assert!(GrpcResponder.body(&error).bytes().is_empty());
/// ```
///
/// Set it on the guard; the scope layers behind it answer the same way:
///
/// ```
/// # use tower_passport::{Algorithm, GuardLayer, KeySet, RequireLayer, Verifier, VerifyingKey};
/// use tower_passport::error::GrpcResponder;
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
/// #     .issuer("https://auth.example.com").audience("api").build()?;
/// let layers = tower::ServiceBuilder::new()
///     .layer(GuardLayer::builder(verifier).responder(GrpcResponder).build()?)
///     .layer(RequireLayer::all_scopes(["orders:read"]));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcResponder;

impl Responder for GrpcResponder {
    /// No body, with `content-type: application/grpc`.
    fn body(&self, _error: &AuthError) -> ErrorBody {
        ErrorBody::new("application/grpc", Bytes::new())
    }

    /// `200 OK`: gRPC carries the outcome in `grpc-status`.
    fn status(&self, _error: &AuthError) -> StatusCode {
        StatusCode::OK
    }

    /// `grpc-status` and `grpc-message`.
    fn headers(&self, error: &AuthError, headers: &mut HeaderMap) {
        headers.insert(GRPC_STATUS, HeaderValue::from_static(code(error)));
        let detail = error.detail();
        if let Some(message) = message(detail.as_deref().unwrap_or(error.reason().description())) {
            headers.insert(GRPC_MESSAGE, message);
        }
    }
}

/// The gRPC status code for `error`, as `grpc-status` writes it.
fn code(error: &AuthError) -> &'static str {
    match error.kind {
        Kind::MissingToken | Kind::InvalidToken(_) | Kind::InvalidDpopProof(_) | Kind::UseDpopNonce => "16",
        Kind::InsufficientScope { .. } => "7",
        Kind::InvalidRequest(_) => "3",
        Kind::Unavailable { .. } => "14",
        Kind::MissingGuard { .. } | Kind::PrincipalTypeMismatch { .. } | Kind::Internal(_) => "13",
    }
}

/// `text` percent-encoded for `grpc-message`; `None` only if the encoding were not a
/// header value, which it always is (space and visible ASCII).
fn message(text: &str) -> Option<HeaderValue> {
    let encoded = percent_encode(text.as_bytes(), MESSAGE_ENCODE).to_string();
    HeaderValue::from_str(&encoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{BackendError, Reason};

    fn headers(error: &AuthError) -> HeaderMap {
        let mut headers = HeaderMap::new();
        GrpcResponder.headers(error, &mut headers);
        headers
    }

    #[test]
    fn each_kind_maps_to_its_grpc_code() {
        let cases = [
            (AuthError::missing_token(), "16"),
            (AuthError::invalid_token(Reason::BadSignature), "16"),
            (AuthError::invalid_token(Reason::Revoked), "16"),
            (AuthError::insufficient_scope("orders:read"), "7"),
            (AuthError::wrong_principal_kind(Reason::ClientTokenRequired), "7"),
            (AuthError::invalid_request(Reason::DuplicateCredentials), "3"),
            (AuthError::unavailable(Reason::ResolverFailed, BackendError::msg("down")), "14"),
            (AuthError::missing_guard(), "13"),
            (AuthError::polled_after_completion(), "13"),
        ];
        for (error, code) in cases {
            assert_eq!(headers(&error)["grpc-status"], code, "{error:?}");
            assert_eq!(GrpcResponder.status(&error), StatusCode::OK, "{error:?}");
        }
    }

    #[test]
    fn the_message_is_the_reason_even_without_a_token() {
        assert_eq!(headers(&AuthError::missing_token())["grpc-message"], "No bearer token was presented");
        assert_eq!(
            headers(&AuthError::insufficient_scope("admin"))["grpc-message"],
            "The access token lacks a required scope"
        );
    }

    #[test]
    fn the_message_is_percent_encoded_as_the_grpc_spec_says() {
        // Space and visible ASCII stay, `%` and everything else is %XX (UTF-8 bytes).
        let encoded = message("50% off: \"ok\" {x}\né\u{7f}").expect("a header value");
        assert_eq!(encoded, "50%25 off: \"ok\" {x}%0A%C3%A9%7F");
        assert_eq!(
            message("The access token's user does not exist").expect("a header value"),
            "The access token's user does not exist"
        );
    }

    #[test]
    fn the_body_is_empty_and_grpc_typed() {
        let body = GrpcResponder.body(&AuthError::insufficient_scope("admin"));
        assert!(body.bytes().is_empty());
        assert_eq!(body.content_type, "application/grpc");
    }

    #[test]
    fn rendered_it_is_trailers_only_and_keeps_the_challenge() {
        let config = super::super::ResponseConfig {
            responder: std::sync::Arc::new(GrpcResponder),
            ..super::super::ResponseConfig::default()
        };
        let response = config.reject(AuthError::insufficient_scope("orders:read"), |bytes| bytes);
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.body().is_empty());
        let headers = response.headers();
        assert_eq!(headers["content-type"], "application/grpc");
        assert_eq!(headers["grpc-status"], "7");
        assert_eq!(
            headers["www-authenticate"],
            r#"Bearer realm="api", error="insufficient_scope", error_description="The access token lacks a required scope", scope="orders:read""#
        );
        assert_eq!(headers["cache-control"], "no-store");
        assert!(response.extensions().get::<AuthError>().is_some());
    }
}
