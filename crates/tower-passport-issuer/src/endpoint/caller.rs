//! Who calls a JSON API (clients, personal access tokens, authorized tokens): the user
//! principal the guard left in the request, from a client allowed to manage tokens, or the
//! user signed in on the app's session, through the same [`SignedInUser`] hook the
//! authorization endpoint asks. One check, so that the APIs refuse the same callers the
//! same way.
//!
//! A call through the session that changes something (any method but `GET`, `HEAD` and
//! `OPTIONS`) must carry the `X-CSRF-TOKEN` header: a token the app got from
//! [`OAuthRoutes::session_csrf_token`](super::OAuthRoutes::session_csrf_token) or from the `X-CSRF-TOKEN` header of a `GET` answered
//! through the session. Without a valid one it is refused with 403 (Laravel answers 419).
//! Bearer calls need none: a cross-site page cannot make the browser send a bearer token.
//!
//! [`SignedInUser`]: super::SignedInUser

use std::sync::Arc;

use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::Full;

use super::response::{self, EndpointResponse};
use super::server::Server;
use crate::OAuthError;
use tower_passport::error::{body_left_unread, close_if, AuthError, Reason, ResponseConfig};
use tower_passport::guard::GuardContext;
use tower_passport::token::{Credential, PrincipalKind, VerifiedToken};

/// The header a session call that changes something carries, and that a session `GET`
/// answers with.
pub(crate) const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// A user who may call the JSON APIs.
pub(super) struct UserCaller {
    /// The verified token the request came with; `None` for a call through the session.
    pub(super) token: Option<VerifiedToken>,
    /// The user.
    pub(super) user_id: String,
    /// A fresh `X-CSRF-TOKEN`, for a session call: sent back with the answer.
    csrf: Option<String>,
}

impl UserCaller {
    /// Adds what every answer to this caller carries: a fresh `X-CSRF-TOKEN` for a session
    /// call, so that a page that read the list can then change it.
    pub(super) fn answer(&self, mut response: EndpointResponse) -> EndpointResponse {
        if let Some(mut value) = self.csrf.as_deref().and_then(|token| HeaderValue::from_str(token).ok()) {
            value.set_sensitive(true);
            response.headers_mut().insert(CSRF_HEADER, value);
        }
        response
    }
}

/// The caller, or the answer that refuses it.
///
/// With the first-party cookie (the guard's
/// [`first_party_cookie`](tower_passport::guard::GuardBuilder::first_party_cookie)): its user, as
/// through the session. With a token (from the guard in front): 401 `invalid_token` for a user of another user
/// provider than the default one, 403 `insufficient_scope` for a client token or
/// (unless `IssuerBuilder::token_management_first_party_only` is off) a third-party client's
/// token, 503 when the client registry cannot answer.
///
/// Without one, when the authorization code grant is enabled: the user the app's hook says
/// is signed in, 401 when nobody is, 403 for a call that changes something without a valid
/// `X-CSRF-TOKEN`, 503 when the hook or the store fails. Without the grant (no hook): 500
/// without a guard, 401 without a token.
///
/// Every refusal comes before the request's body is read: it closes the connection when a
/// body was announced, so a keep-alive client knows to open a new one.
pub(super) async fn user_caller(server: &Server, parts: &Parts) -> Result<UserCaller, EndpointResponse> {
    let close = body_left_unread(parts.version, &parts.headers);
    check_caller(server, parts).await.map_err(|refusal| close_if(refusal, close))
}

async fn check_caller(server: &Server, parts: &Parts) -> Result<UserCaller, EndpointResponse> {
    let context = GuardContext::of(&parts.extensions)
        .map(|context| (context.token.cloned(), context.responses.clone()));
    let (token, responses) = match context {
        Some((Some(token), responses)) => (token, responses),
        Some((None, responses)) => return session_caller(server, parts, Some(&responses)).await,
        None => return session_caller(server, parts, None).await,
    };
    let user_id = match (token.kind(), token.subject()) {
        (PrincipalKind::User, Some(user_id)) => user_id.to_owned(),
        _ => return Err(reject(AuthError::wrong_principal_kind(Reason::UserTokenRequired), &responses)),
    };
    // What the APIs manage (clients, personal access tokens, a user's tokens) is known by
    // user id only: they serve the default provider's users, or customer 5 would manage
    // user 5's.
    if token.provider_or_default() != tower_passport::token::DEFAULT_PROVIDER {
        return Err(reject(AuthError::invalid_token(Reason::WrongProvider), &responses));
    }
    // The app's own page over the first-party cookie is its signed-in user, as a call
    // through the session is; the guard checked the cookie's CSRF token on calls that
    // change something. Like a session call it has no calling token of this issuer.
    if token.credential() == Credential::FirstPartyCookie {
        return Ok(UserCaller { token: None, user_id, csrf: None });
    }
    match server.issuer.may_manage_tokens(token.client_id()).await {
        Ok(true) => Ok(UserCaller { token: Some(token), user_id, csrf: None }),
        Ok(false) => {
            Err(reject(AuthError::wrong_principal_kind(Reason::FirstPartyClientRequired), &responses))
        }
        Err(error) => Err(response::error(&error)),
    }
}

/// The user signed in on the session (see [`user_caller`]).
async fn session_caller(
    server: &Server,
    parts: &Parts,
    responses: Option<&Arc<ResponseConfig>>,
) -> Result<UserCaller, EndpointResponse> {
    let default_responses;
    let responses = match responses {
        Some(responses) => responses,
        None => {
            default_responses = Arc::new(ResponseConfig::default());
            &default_responses
        }
    };
    let Some(flow) = &server.flow else {
        // No hook: the guard is the only way in.
        return Err(match GuardContext::of(&parts.extensions) {
            None => reject(AuthError::missing_guard(), responses),
            Some(_) => reject(AuthError::missing_token(), responses),
        });
    };
    let user_id = match flow.session_user(parts).await {
        Ok(Some(user_id)) => user_id,
        Ok(None) => return Err(reject(AuthError::missing_token(), responses)),
        Err(error) => return Err(response::error(&OAuthError::from(error))),
    };
    let store = server.issuer.store();
    let now = server.issuer.now_for_endpoint();
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let presented = parts.headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok());
        let valid = match presented {
            Some(token) => flow.api_csrf_valid(store, &user_id, token, now).await,
            None => Ok(false),
        };
        match valid {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(method = %parts.method, "JSON API call through the session refused: CSRF token missing, stale or not this user's");
                return Err(csrf_mismatch());
            }
            Err(error) => return Err(response::error(&OAuthError::from(error))),
        }
    }
    match flow.api_csrf_token(store, &user_id, now).await {
        Ok(csrf) => Ok(UserCaller { token: None, user_id, csrf: Some(csrf) }),
        Err(error) => Err(response::error(&OAuthError::from(error))),
    }
}

/// 403 with Laravel's message for a CSRF mismatch.
fn csrf_mismatch() -> EndpointResponse {
    response::json(StatusCode::FORBIDDEN, &serde_json::json!({ "message": "CSRF token mismatch." }))
}

/// The one rejection path: traced, rendered, and the error put in the extensions.
fn reject(error: AuthError, responses: &ResponseConfig) -> EndpointResponse {
    responses.reject(error, Full::new)
}
