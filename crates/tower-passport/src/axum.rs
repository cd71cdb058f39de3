//! axum 0.8 extractors (feature `axum`).
//!
//! [`Principal<U>`](crate::Principal) extracts the principal the guard resolved;
//! `Option<Principal<U>>` extracts it behind an optional guard, `None` when no token came.
//!
//! ```
//! use axum::{routing::get, Json, Router};
//! use tower_passport::Principal;
//!
//! async fn me(principal: Principal) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({ "sub": principal.subject(), "scopes": principal.scopes().to_string() }))
//! }
//!
//! async fn greeting(principal: Option<Principal>) -> String {
//!     match principal {
//!         Some(p) => format!("hello {}", p.subject().unwrap_or("client")),
//!         None => "hello stranger".into(),
//!     }
//! }
//!
//! let app: Router = Router::new().route("/me", get(me)).route("/hello", get(greeting));
//! ```
//!
//! Handlers can check more scopes with [`can`](crate::Principal::can),
//! [`can_all`](crate::Principal::can_all) and [`can_any`](crate::Principal::can_any),
//! Passport's `tokenCan`.
//!
//! # Wiring mistakes
//!
//! A handler that asks for `Principal<Admin>` behind a guard whose resolver yields `User`,
//! or that runs with no guard in front, is a server bug. axum cannot catch it at compile
//! time: `Router::layer` and `route_layer` erase the layer's type, so nothing links a
//! handler's extractor to the guard that runs before it (a typed state would, at the cost
//! of a state type in every router, the common case included). The extractor answers 500
//! instead, and its body, its `warn` log line and the error's `Display` name both sides
//! ([`AuthError::detail`]):
//!
//! ```text
//! The principal type asked for differs from the one the guard's resolver yields: the
//! handler asked for `Principal<app::Admin>`, the guard put `Principal<app::User>` in the request
//! ```

use std::sync::Arc;

use axum_core::body::Body;
use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use crate::error::{AuthError, ResponseConfig};
use crate::guard::{GuardContext, Principal};

/// Why a [`Principal`] could not be extracted, rendered exactly as the guard renders it.
///
/// ```
/// use axum::response::IntoResponse;
/// use tower_passport::{axum::PrincipalRejection, AuthError};
/// let response = PrincipalRejection::from(AuthError::missing_guard()).into_response();
/// assert_eq!(response.status(), 500);
/// ```
#[derive(Debug)]
pub struct PrincipalRejection {
    error: AuthError,
    responses: Option<Arc<ResponseConfig>>,
}

impl PrincipalRejection {
    /// The error behind the rejection.
    pub fn error(&self) -> &AuthError {
        &self.error
    }
}

impl From<AuthError> for PrincipalRejection {
    fn from(error: AuthError) -> Self {
        Self { error, responses: None }
    }
}

/// Answers with the guard's realm, metadata URL and responder when the guard ran, the
/// defaults otherwise; the [`AuthError`] is left in the response's extensions.
impl IntoResponse for PrincipalRejection {
    fn into_response(self) -> Response {
        let responses = self.responses.unwrap_or_default();
        responses.reject(self.error, Body::from)
    }
}

/// Renders the error with the **defaults only**: realm `api`, no RFC 9728 metadata URL,
/// the [`JsonResponder`](crate::error::JsonResponder) body. An `AuthError` does not know which
/// guard it came from; behind a guard configured otherwise, return the extractor's
/// [`PrincipalRejection`], or let the guard and scope layers answer, which use the guard's
/// configuration. The error is left in the response's extensions.
///
/// ```
/// use axum::response::IntoResponse;
/// use tower_passport::AuthError;
/// let response = AuthError::missing_token().into_response();
/// assert_eq!(response.status(), 401);
/// assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"api\"");
/// assert!(response.extensions().get::<AuthError>().is_some());
/// ```
impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        PrincipalRejection::from(self).into_response()
    }
}

fn lookup<U>(parts: &Parts) -> Result<Option<Principal<U>>, PrincipalRejection>
where
    U: Clone + Send + Sync + 'static,
{
    if let Some(principal) = parts.extensions.get::<Principal<U>>() {
        return Ok(Some(principal.clone()));
    }
    let asked = std::any::type_name::<U>();
    match GuardContext::of(&parts.extensions) {
        None => Err(AuthError::missing_guard_for(asked).into()),
        Some(GuardContext { token: None, .. }) => Ok(None),
        Some(context) => Err(PrincipalRejection {
            error: AuthError::principal_type_mismatch(asked, context.principal_type),
            responses: Some(context.responses.clone()),
        }),
    }
}

impl<S, U> FromRequestParts<S> for Principal<U>
where
    S: Send + Sync,
    U: Clone + Send + Sync + 'static,
{
    type Rejection = PrincipalRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match lookup(parts)? {
            Some(principal) => Ok(principal),
            None => Err(PrincipalRejection {
                error: AuthError::missing_token(),
                responses: GuardContext::of(&parts.extensions).map(|c| c.responses.clone()),
            }),
        }
    }
}

impl<S, U> OptionalFromRequestParts<S> for Principal<U>
where
    S: Send + Sync,
    U: Clone + Send + Sync + 'static,
{
    type Rejection = PrincipalRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        lookup(parts)
    }
}
