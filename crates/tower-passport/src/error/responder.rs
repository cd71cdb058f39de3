use std::sync::Arc;

use bytes::Bytes;
use http::HeaderValue;

use super::AuthError;

/// The body of a rejection: its content type and bytes.
///
/// ```
/// use tower_passport::error::ErrorBody;
/// let body = ErrorBody::new("text/plain", "nope");
/// assert_eq!(body.bytes(), "nope");
/// ```
#[derive(Clone, Debug)]
pub struct ErrorBody {
    pub(super) content_type: HeaderValue,
    pub(super) bytes: Bytes,
}

impl ErrorBody {
    /// A body with the given content type. A content type that is not a valid header value
    /// falls back to `application/octet-stream`.
    pub fn new(content_type: &str, bytes: impl Into<Bytes>) -> Self {
        let content_type = HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        Self { content_type, bytes: bytes.into() }
    }

    /// An empty body, with no content type.
    ///
    /// ```
    /// assert!(tower_passport::error::ErrorBody::empty().bytes().is_empty());
    /// ```
    pub fn empty() -> Self {
        Self { content_type: HeaderValue::from_static(""), bytes: Bytes::new() }
    }

    /// The bytes of the body.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }
}

/// Shapes rejection responses: their body and, for protocols that want it (gRPC's
/// [`GrpcResponder`](super::GrpcResponder)), their HTTP status and extra headers.
///
/// Every rejection keeps what the layers set from the [`AuthError`] themselves, after the
/// responder: the `WWW-Authenticate` challenge, `Cache-Control: no-store`, and the
/// [`AuthError`] in the response's extensions.
///
/// Only [`body`](Responder::body) is required; the status defaults to
/// [`AuthError::status`] and no header is added. Implemented for closures, which choose
/// the body:
///
/// ```
/// use tower_passport::{AuthError, error::ErrorBody, error::Responder};
/// let html = |error: &AuthError| ErrorBody::new("text/html", format!("<h1>{}</h1>", error.status()));
/// let body = html.body(&AuthError::missing_token());
/// assert_eq!(body.bytes(), "<h1>401 Unauthorized</h1>");
/// assert_eq!(html.status(&AuthError::missing_token()), 401);
/// ```
///
/// A responder of its own, for a protocol that carries the error in a header:
///
/// ```
/// use http::{HeaderMap, HeaderValue, StatusCode};
/// use tower_passport::{AuthError, error::ErrorBody, error::Responder};
///
/// struct Teapot;
///
/// impl Responder for Teapot {
///     fn body(&self, _error: &AuthError) -> ErrorBody {
///         ErrorBody::empty()
///     }
///     fn status(&self, _error: &AuthError) -> StatusCode {
///         StatusCode::IM_A_TEAPOT
///     }
///     fn headers(&self, error: &AuthError, headers: &mut HeaderMap) {
///         headers.insert("x-auth-error", HeaderValue::from_static(error.error_code().unwrap_or("none")));
///     }
/// }
///
/// let mut headers = HeaderMap::new();
/// Teapot.headers(&AuthError::insufficient_scope("admin"), &mut headers);
/// assert_eq!(headers["x-auth-error"], "insufficient_scope");
/// ```
pub trait Responder: Send + Sync + 'static {
    /// The body for `error`, and its content type.
    fn body(&self, error: &AuthError) -> ErrorBody;

    /// The HTTP status for `error`: [`AuthError::status`] unless the protocol wants
    /// another (gRPC answers every error `200 OK`, with the code in `grpc-status`).
    ///
    /// ```
    /// use tower_passport::{AuthError, error::JsonResponder, error::Responder};
    /// assert_eq!(JsonResponder.status(&AuthError::insufficient_scope("admin")), 403);
    /// ```
    fn status(&self, error: &AuthError) -> http::StatusCode {
        error.status()
    }

    /// Adds headers of the responder's own for `error` (none by default). The layers set
    /// `Content-Type` (from the [`body`](Responder::body)), `Cache-Control` and
    /// `WWW-Authenticate` after it, so those always say what the rejection says.
    ///
    /// ```
    /// use tower_passport::{AuthError, error::JsonResponder, error::Responder};
    /// let mut headers = http::HeaderMap::new();
    /// JsonResponder.headers(&AuthError::missing_token(), &mut headers);
    /// assert!(headers.is_empty());
    /// ```
    fn headers(&self, error: &AuthError, headers: &mut http::HeaderMap) {
        let _ = (error, headers);
    }
}

impl<F> Responder for F
where
    F: Fn(&AuthError) -> ErrorBody + Send + Sync + 'static,
{
    fn body(&self, error: &AuthError) -> ErrorBody {
        self(error)
    }
}

/// The default body: `{"error": …, "error_description": …}`, and no body at all when no
/// token came (RFC 6750 §3.1 asks for no error information then).
///
/// ```
/// use tower_passport::{AuthError, error::JsonResponder, error::Responder};
/// let body = JsonResponder.body(&AuthError::insufficient_scope("admin"));
/// assert_eq!(
///     body.bytes(),
///     r#"{"error":"insufficient_scope","error_description":"The access token lacks a required scope"}"#
/// );
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonResponder;

impl Responder for JsonResponder {
    fn body(&self, error: &AuthError) -> ErrorBody {
        let (Some(code), Some(description)) = (error.error_code(), error.description()) else {
            return ErrorBody::empty();
        };
        let detail = error.detail();
        let description = detail.as_deref().unwrap_or(description);
        let json = serde_json::json!({ "error": code, "error_description": description });
        ErrorBody::new("application/json", json.to_string())
    }
}

/// How rejections are rendered: realm, RFC 9728 metadata URL and body responder. Shared by
/// the guard with the layers behind it through the request extensions.
#[derive(Clone)]
pub struct ResponseConfig {
    /// The `realm` of the challenges.
    pub realm: Arc<str>,
    /// The RFC 9728 `resource_metadata` URL the challenges name, if any.
    pub resource_metadata: Option<Arc<str>>,
    /// Renders the body of each rejection.
    pub responder: Arc<dyn Responder>,
    /// The `DPoP` scheme's challenge (RFC 9449 §7.1), when the guard accepts DPoP.
    pub dpop: Option<DpopChallenge>,
}

/// The `DPoP` scheme's part in the challenges (RFC 9449 §7.1), when the guard accepts
/// DPoP ([`GuardBuilder::dpop`](crate::guard::GuardBuilder::dpop)).
///
/// With both schemes offered, every rejection carries two challenges: the one of the
/// scheme the request used carries the error, the other is bare. When DPoP is required,
/// only the `DPoP` challenge is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpopChallenge {
    /// The accepted proof algorithms, space-delimited: the challenge's `algs`.
    pub algs: Arc<str>,
    /// Whether the `Bearer` scheme is offered too.
    pub bearer: bool,
    /// The nonces proofs must carry (RFC 9449 §9), when required: a `use_dpop_nonce`
    /// rejection then carries a fresh one in the `DPoP-Nonce` header.
    pub nonces: Option<crate::dpop::Nonces>,
}

impl std::fmt::Debug for ResponseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseConfig")
            .field("realm", &self.realm)
            .field("resource_metadata", &self.resource_metadata)
            .field("dpop", &self.dpop)
            .finish_non_exhaustive()
    }
}

impl Default for ResponseConfig {
    fn default() -> Self {
        Self {
            realm: Arc::from("api"),
            resource_metadata: None,
            responder: Arc::new(JsonResponder),
            dpop: None,
        }
    }
}
