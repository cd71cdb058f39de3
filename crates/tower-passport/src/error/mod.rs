//! One error type for every rejection, mapped to RFC 6750 in one place.
//!
//! An [`AuthError`] knows its HTTP status, its `WWW-Authenticate` challenge and its
//! JSON body. A [`Responder`] may replace the body, and for protocols that need it the
//! status and extra headers ([`GrpcResponder`] answers as gRPC does), never the
//! challenge. Configuration mistakes are a separate [`ConfigError`], with a
//! [`ConfigErrorKind`] and the error that caused them.
//!
//! Every rejection the guard, the scope layers and the extractors answer carries its
//! [`AuthError`] in the response's extensions, so an outer layer (metrics, access logs)
//! can read the [`Reason`] without parsing the body:
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response};
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_passport::error::{AuthError, Reason};
//! use tower_passport::RequireLayer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Infallible> {
//! let service = ServiceBuilder::new()
//!     .layer(RequireLayer::all_scopes(["admin"])) // no guard in front: a server bug
//!     .service_fn(|_: Request<String>| async { Ok::<_, Infallible>(Response::new(http_body_util::Empty::<bytes::Bytes>::new())) });
//! let response = service.oneshot(Request::new(String::new())).await?;
//! let error = response.extensions().get::<AuthError>().expect("the rejection's error");
//! assert_eq!(error.reason(), Reason::MissingGuard);
//! # Ok(())
//! # }
//! ```
//!
//! # What the guard answers
//!
//! | case | status | `WWW-Authenticate` |
//! |---|---|---|
//! | no token | 401 | `Bearer realm="api"` (no error code, empty body) |
//! | bad, expired, revoked token; unknown user; revoked client | 401 | `…, error="invalid_token", error_description="…"` |
//! | two `Authorization` headers, a second scheme, bad syntax, token over 8 KiB | 400 | `…, error="invalid_request", …` |
//! | missing scope | 403 | `…, error="insufficient_scope", …, scope="<required>"` |
//! | resolver or revocation store failure; remote keys never fetched or stale beyond their bound | 503 | none |
//! | scope layer or extractor with no guard in front | 500 | none, and a message that says so |
//! | `Principal<U>` extractor behind a guard whose principals are another `U` | 500 | none, and a message naming both types |
//!
//! Bodies are `{"error": …, "error_description": …}` and never repeat the token. A
//! `Responder` (a closure is enough) may replace the body, and the status stays; one that
//! also overrides `Responder::status` (as `GrpcResponder` does, answering 200 with a
//! `grpc-status`) may change it. The challenge and `Cache-Control: no-store` always stay. `GuardBuilder::resource_metadata(url)` adds the RFC 9728 `resource_metadata`
//! parameter to every challenge. Each rejection emits a `tracing` event with its reason
//! (`Expired`, `BadSignature`, `UnknownKid`, `MissingScope`, …), never the token.
//!
//! axum cannot tell at compile time which guard runs in front of a handler (layers are
//! erased from the router's type), so a wiring mistake is found by the extractor at run
//! time: its 500 says, in the body, in `Display` and in its `warn` line
//! ([`AuthError::detail`]), which `Principal<U>` the handler asked for and which one the
//! guard put in the request, or that no guard ran.

mod backend;
mod config;
mod grpc;
mod reason;
mod render;
mod responder;
mod sentence;

pub use backend::BackendError;
pub use config::{ConfigError, ConfigErrorKind};
pub use grpc::GrpcResponder;
pub use reason::Reason;
pub use responder::{ErrorBody, JsonResponder, Responder};
pub use sentence::sentence;

pub use render::{body_left_unread, close_if};
pub use responder::ResponseConfig;

use std::fmt;
use std::sync::Arc;

use http::StatusCode;

/// Why a request was not let through: the one error type of the guard and scope layers.
///
/// Each kind maps to exactly one response:
///
/// | kind | status | challenge |
/// |---|---|---|
/// | no token | 401 | bare `Bearer realm="…"` |
/// | bad, expired, revoked or unknown token | 401 | `error="invalid_token"` |
/// | malformed request | 400 | `error="invalid_request"` |
/// | missing scope | 403 | `error="insufficient_scope", scope="…"` |
/// | store, resolver or key failure | 503 | none |
/// | scope layer without a guard in front | 500 | none |
///
/// ```
/// use http::StatusCode;
/// use tower_passport::error::{AuthError, Reason};
///
/// let error = AuthError::invalid_token(Reason::Expired);
/// assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
/// assert_eq!(error.error_code(), Some("invalid_token"));
/// assert_eq!(error.description(), Some("The access token expired"));
/// ```
#[derive(Clone)]
pub struct AuthError {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    MissingToken,
    InvalidRequest(Reason),
    InvalidToken(Reason),
    InsufficientScope {
        reason: Reason,
        scope: Arc<str>,
    },
    Unavailable {
        reason: Reason,
        source: Option<BackendError>,
    },
    /// No guard ran; `asked` is the user type of the `Principal<U>` an extractor wanted.
    MissingGuard {
        asked: Option<&'static str>,
    },
    /// An extractor wanted `Principal<asked>`; the guard put `Principal<carried>` there.
    PrincipalTypeMismatch {
        asked: &'static str,
        carried: &'static str,
    },
    Internal(Reason),
}

impl AuthError {
    /// No bearer token came with the request.
    ///
    /// ```
    /// # use tower_passport::AuthError;
    /// assert_eq!(AuthError::missing_token().error_code(), None);
    /// ```
    pub const fn missing_token() -> Self {
        Self { kind: Kind::MissingToken }
    }

    /// The request was malformed (RFC 6750 `invalid_request`).
    ///
    /// ```
    /// # use tower_passport::{AuthError, error::Reason};
    /// let error = AuthError::invalid_request(Reason::DuplicateCredentials);
    /// assert_eq!(error.status(), http::StatusCode::BAD_REQUEST);
    /// ```
    pub const fn invalid_request(reason: Reason) -> Self {
        Self { kind: Kind::InvalidRequest(reason) }
    }

    /// The token is bad, expired, revoked, or names an unknown user or a revoked client.
    ///
    /// ```
    /// # use tower_passport::{AuthError, error::Reason};
    /// assert_eq!(AuthError::invalid_token(Reason::Revoked).reason(), Reason::Revoked);
    /// ```
    pub const fn invalid_token(reason: Reason) -> Self {
        Self { kind: Kind::InvalidToken(reason) }
    }

    /// The token lacks a scope; `scope` lists the scopes that would satisfy the check,
    /// space-delimited.
    ///
    /// ```
    /// # use tower_passport::AuthError;
    /// let error = AuthError::insufficient_scope("read-posts write-posts");
    /// assert_eq!(error.required_scope(), Some("read-posts write-posts"));
    /// ```
    pub fn insufficient_scope(scope: impl Into<Arc<str>>) -> Self {
        Self { kind: Kind::InsufficientScope { reason: Reason::MissingScope, scope: scope.into() } }
    }

    /// The token is valid but of the wrong kind for this route (a user token on a
    /// client-only route, or the reverse). Answered as `insufficient_scope`, 403.
    pub fn wrong_principal_kind(reason: Reason) -> Self {
        Self { kind: Kind::InsufficientScope { reason, scope: Arc::from("") } }
    }

    /// A backend (resolver, revocation store, key source) could not answer: 503.
    ///
    /// ```
    /// # use tower_passport::{AuthError, BackendError, error::Reason};
    /// let error = AuthError::unavailable(Reason::ResolverFailed, BackendError::msg("db down"));
    /// assert_eq!(error.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    /// ```
    pub fn unavailable(reason: Reason, source: BackendError) -> Self {
        Self { kind: Kind::Unavailable { reason, source: Some(source) } }
    }

    /// A scope layer or extractor found no guard in front of it: a server bug, 500.
    ///
    /// ```
    /// # use tower_passport::AuthError;
    /// assert_eq!(AuthError::missing_guard().status(), http::StatusCode::INTERNAL_SERVER_ERROR);
    /// ```
    pub const fn missing_guard() -> Self {
        Self { kind: Kind::MissingGuard { asked: None } }
    }

    /// An extractor of `Principal<U>` found no guard in front of it; `asked` is
    /// `type_name::<U>()`, named in [`detail`](Self::detail): 500.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) const fn missing_guard_for(asked: &'static str) -> Self {
        Self { kind: Kind::MissingGuard { asked: Some(asked) } }
    }

    /// No route of a policy table allows the request: 403 with an `insufficient_scope`
    /// challenge that names no scope (no token would be enough).
    ///
    /// ```
    /// # use tower_passport::{AuthError, error::Reason};
    /// let error = AuthError::route_not_allowed();
    /// assert_eq!(error.status(), http::StatusCode::FORBIDDEN);
    /// assert_eq!(error.reason(), Reason::RouteNotAllowed);
    /// ```
    pub fn route_not_allowed() -> Self {
        Self::wrong_principal_kind(Reason::RouteNotAllowed)
    }

    /// A forward-auth sub-request does not carry the original request's method or URI: the
    /// proxy in front is misconfigured, 500.
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) const fn missing_original_request() -> Self {
        Self { kind: Kind::Internal(Reason::MissingOriginalRequest) }
    }

    /// A layer was driven against its contract (a future polled after completion): 500.
    pub(crate) const fn polled_after_completion() -> Self {
        Self { kind: Kind::Internal(Reason::PolledAfterCompletion) }
    }

    /// An extractor asked for `Principal<asked>` and the guard put `Principal<carried>` in
    /// the request (both `type_name`s, named in [`detail`](Self::detail)): 500.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) const fn principal_type_mismatch(asked: &'static str, carried: &'static str) -> Self {
        Self { kind: Kind::PrincipalTypeMismatch { asked, carried } }
    }

    /// The HTTP status this error answers with.
    ///
    /// ```
    /// # use tower_passport::AuthError;
    /// assert_eq!(AuthError::insufficient_scope("admin").status(), http::StatusCode::FORBIDDEN);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self.kind {
            Kind::MissingToken | Kind::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Kind::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Kind::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            Kind::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Kind::MissingGuard { .. } | Kind::PrincipalTypeMismatch { .. } | Kind::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The RFC 6750 error code, or `None` where RFC 6750 wants none (no token) or the
    /// error is not an authentication error (503, 500).
    ///
    /// ```
    /// # use tower_passport::AuthError;
    /// assert_eq!(AuthError::insufficient_scope("admin").error_code(), Some("insufficient_scope"));
    /// ```
    pub fn error_code(&self) -> Option<&'static str> {
        match self.kind {
            Kind::MissingToken => None,
            Kind::InvalidRequest(_) => Some("invalid_request"),
            Kind::InvalidToken(_) => Some("invalid_token"),
            Kind::InsufficientScope { .. } => Some("insufficient_scope"),
            Kind::Unavailable { .. } => Some("temporarily_unavailable"),
            Kind::MissingGuard { .. } | Kind::PrincipalTypeMismatch { .. } | Kind::Internal(_) => {
                Some("server_error")
            }
        }
    }

    /// Why the request was rejected, for logs and tests.
    ///
    /// ```
    /// # use tower_passport::{AuthError, error::Reason};
    /// assert_eq!(AuthError::missing_token().reason(), Reason::MissingToken);
    /// ```
    pub fn reason(&self) -> Reason {
        match &self.kind {
            Kind::MissingToken => Reason::MissingToken,
            Kind::InvalidRequest(reason) | Kind::InvalidToken(reason) | Kind::Internal(reason) => *reason,
            Kind::InsufficientScope { reason, .. } | Kind::Unavailable { reason, .. } => *reason,
            Kind::MissingGuard { .. } => Reason::MissingGuard,
            Kind::PrincipalTypeMismatch { .. } => Reason::PrincipalTypeMismatch,
        }
    }

    /// A short human-readable description. It never repeats the token.
    ///
    /// ```
    /// # use tower_passport::AuthError;
    /// assert_eq!(AuthError::missing_token().description(), None);
    /// ```
    pub fn description(&self) -> Option<&'static str> {
        match self.kind {
            Kind::MissingToken => None,
            _ => Some(self.reason().description()),
        }
    }

    /// For a wiring mistake found by an axum extractor (500), the
    /// [`description`](Self::description) with the types involved: the `Principal<U>` the
    /// handler asked for, and the one the guard put in the request or that no guard ran.
    /// `None` for every other error. The JSON body, the gRPC message, the log line and
    /// `Display` use it; it names Rust types, never a token.
    ///
    /// ```
    /// # use tower_passport::AuthError;
    /// assert_eq!(AuthError::missing_token().detail(), None);
    /// ```
    pub fn detail(&self) -> Option<String> {
        let description = self.reason().description();
        match self.kind {
            Kind::MissingGuard { asked: Some(asked) } => Some(format!(
                "{description} (the handler asked for `Principal<{asked}>`, and no guard ran in front of it)"
            )),
            Kind::PrincipalTypeMismatch { asked, carried } => Some(format!(
                "{description}: the handler asked for `Principal<{asked}>`, the guard put `Principal<{carried}>` \
                 in the request"
            )),
            _ => None,
        }
    }

    /// The scopes that would satisfy a failed scope check, space-delimited.
    ///
    /// ```
    /// # use tower_passport::AuthError;
    /// assert_eq!(AuthError::missing_token().required_scope(), None);
    /// ```
    pub fn required_scope(&self) -> Option<&str> {
        match &self.kind {
            Kind::InsufficientScope { scope, .. } if !scope.is_empty() => Some(scope),
            _ => None,
        }
    }

    /// The backend error behind a 503, if any.
    ///
    /// ```
    /// # use tower_passport::{AuthError, BackendError, error::Reason};
    /// let error = AuthError::unavailable(Reason::RevocationUnavailable, BackendError::msg("timeout"));
    /// assert!(error.backend_error().is_some());
    /// ```
    pub fn backend_error(&self) -> Option<&BackendError> {
        match &self.kind {
            Kind::Unavailable { source, .. } => source.as_ref(),
            _ => None,
        }
    }

    /// Whether this error carries a `WWW-Authenticate` challenge (every 400/401/403).
    ///
    /// ```
    /// # use tower_passport::AuthError;
    /// assert!(AuthError::missing_token().has_challenge());
    /// assert!(!AuthError::missing_guard().has_challenge());
    /// ```
    pub fn has_challenge(&self) -> bool {
        !matches!(
            self.kind,
            Kind::Unavailable { .. }
                | Kind::MissingGuard { .. }
                | Kind::PrincipalTypeMismatch { .. }
                | Kind::Internal(_)
        )
    }

    /// The `WWW-Authenticate` value for this error, given the realm and optional RFC 9728
    /// `resource_metadata` URL. `None` for 500 and 503.
    ///
    /// ```
    /// # use tower_passport::{AuthError, error::Reason};
    /// let challenge = AuthError::invalid_token(Reason::Expired).challenge("api", None);
    /// assert_eq!(
    ///     challenge.as_deref(),
    ///     Some(r#"Bearer realm="api", error="invalid_token", error_description="The access token expired""#)
    /// );
    /// ```
    pub fn challenge(&self, realm: &str, resource_metadata: Option<&str>) -> Option<String> {
        if !self.has_challenge() {
            return None;
        }
        let mut out = String::with_capacity(96);
        out.push_str("Bearer realm=\"");
        push_quoted(&mut out, realm);
        out.push('"');
        if let Some(url) = resource_metadata {
            out.push_str(", resource_metadata=\"");
            push_quoted(&mut out, url);
            out.push('"');
        }
        if let Some(code) = self.error_code() {
            out.push_str(", error=\"");
            out.push_str(code);
            out.push('"');
            if let Some(description) = self.description() {
                out.push_str(", error_description=\"");
                out.push_str(description);
                out.push('"');
            }
            if let Some(scope) = self.required_scope() {
                out.push_str(", scope=\"");
                push_quoted(&mut out, scope);
                out.push('"');
            }
        }
        Some(out)
    }
}

/// Appends `value` as the inside of an RFC 7230 quoted-string.
fn push_quoted(out: &mut String, value: &str) {
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
}

impl fmt::Debug for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("AuthError");
        debug.field("status", &self.status().as_u16()).field("reason", &self.reason());
        match self.kind {
            Kind::MissingGuard { asked: Some(asked) } => {
                debug.field("asked", &asked);
            }
            Kind::PrincipalTypeMismatch { asked, carried } => {
                debug.field("asked", &asked).field("carried", &carried);
            }
            _ => {}
        }
        if let Some(scope) = self.required_scope() {
            debug.field("scope", &scope);
        }
        if let Some(source) = self.backend_error() {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detail = self.detail();
        let text = detail.as_deref().unwrap_or(self.reason().description());
        match self.error_code() {
            Some(code) => write!(f, "{code}: {text}"),
            None => f.write_str(text),
        }
    }
}

impl std::error::Error for AuthError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.backend_error().map(|e| e as &(dyn std::error::Error + 'static))
    }
}
