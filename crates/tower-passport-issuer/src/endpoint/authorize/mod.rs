//! `GET` and `POST /oauth/authorize`: the browser side of the authorization code grant.
//!
//! `GET` validates the request (an unknown client or redirect URI is a 400 page; later
//! errors redirect back with `error`, `state` and `iss`), asks the app's
//! [`SignedInUser`] hook who is signed in (or sends the browser to sign in), then either
//! skips the screen (a client marked to skip it, or scopes the user already granted) or
//! renders the [`ApprovalScreen`] with a CSRF token bound to the request, the user and the
//! session the hook reported ([`SignIn::UserInSession`]). `POST`
//! takes the decision: the same request again, the token, and `decision=approve|deny`.

pub(crate) mod csrf;
pub(crate) mod device;
mod hook;
mod screen;

pub(crate) use hook::ErasedHook;
pub use hook::{SignIn, SignInRequest, SignedInUser};
pub use screen::{escape_html, ApprovalContext, ApprovalScreen};

use std::sync::Arc;

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, PRAGMA, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;

use super::front::Front;
use super::request::{Form, MAX_BODY};
use super::response::{self, EndpointResponse};
use crate::store::{ErasedStore, SecretHash};
use crate::{paths, redirect_uri, AuthorizationError, AuthorizationRequest, OAuthError, OAuthErrorCode};

/// The authorization code flow as the issuer's routes serve it: the app's hook and screen,
/// and the key of the approval form's CSRF tokens.
pub(crate) struct Flow {
    hook: Arc<dyn hook::ErasedHook>,
    screen: Arc<dyn ApprovalScreen>,
    csrf: csrf::CsrfKey,
}

impl Flow {
    /// The flow with the app's `hook`, the default approval screen and the CSRF key kept in
    /// the store.
    pub(crate) fn new<H: SignedInUser>(hook: H) -> Self {
        Self { hook: Arc::new(hook), screen: Arc::new(screen::DefaultScreen), csrf: csrf::CsrfKey::default() }
    }

    /// Replaces the approval screen.
    pub(crate) fn set_screen(&mut self, screen: Arc<dyn ApprovalScreen>) {
        self.screen = screen;
    }

    /// Who is signed in on `parts`, through the app's hook, for the JSON APIs: `None` when
    /// nobody is (the hook would send the browser to sign in).
    pub(crate) async fn session_user(
        &self,
        parts: &Parts,
    ) -> Result<Option<String>, tower_passport::BackendError> {
        let return_to = parts.uri.to_string();
        let asked = hook::SignInRequest::new(parts, &return_to, false);
        Ok(self.hook.ask(&asked).await?.into_signed_in().map(|(user_id, _)| user_id))
    }

    /// A JSON API CSRF token (`X-CSRF-TOKEN`) for `user_id`, made at `now`.
    pub(crate) async fn api_csrf_token(
        &self,
        store: &ErasedStore,
        user_id: &str,
        now: u64,
    ) -> Result<String, crate::store::StoreError> {
        Ok(csrf::api_token(self.csrf.get(store).await?, user_id, now))
    }

    /// Whether `token` is a JSON API CSRF token of `user_id`, still fresh at `now`.
    pub(crate) async fn api_csrf_valid(
        &self,
        store: &ErasedStore,
        user_id: &str,
        token: &str,
        now: u64,
    ) -> Result<bool, crate::store::StoreError> {
        Ok(csrf::verify_api(self.csrf.get(store).await?, user_id, token, now))
    }
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow").finish_non_exhaustive()
    }
}

// ---- responses ----------------------------------------------------------------------

fn security_headers(response: &mut EndpointResponse) {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

fn html(status: StatusCode, body: String, policy: &str) -> EndpointResponse {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    security_headers(&mut response);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    match HeaderValue::from_str(policy) {
        Ok(value) => headers.insert(CONTENT_SECURITY_POLICY, value),
        // Never serve the page without a policy.
        Err(_) => headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'")),
    };
    response
}

/// The error page (400, or 503 when the store failed).
fn error_page(error: &OAuthError) -> EndpointResponse {
    let status = match error.code() {
        OAuthErrorCode::TemporarilyUnavailable | OAuthErrorCode::ServerError => error.status(),
        _ => StatusCode::BAD_REQUEST,
    };
    let policy = screen::full_policy(&screen::default_policy(), None);
    html(status, screen::error_page(error.description()), &policy)
}

/// `302 Found` (or `303 See Other`, after a form) to `location`.
fn redirect(status: StatusCode, location: &str) -> EndpointResponse {
    let Ok(value) = HeaderValue::from_str(location) else {
        return error_page(&OAuthError::new(OAuthErrorCode::ServerError, "The redirect URI cannot be sent"));
    };
    let mut response = response::empty(status);
    security_headers(&mut response);
    response.headers_mut().insert(LOCATION, value);
    response
}

fn failed(error: AuthorizationError, status: StatusCode) -> EndpointResponse {
    match error.redirect_to() {
        Some(location) => redirect(status, location),
        None => error_page(error.error()),
    }
}

// ---- the endpoint -------------------------------------------------------------------

/// `/oauth/authorize` on the issuer's routes: 404 unless the flow is enabled.
pub(crate) async fn serve<B>(front: &Front, flow: Option<&Flow>, parts: Parts, body: B) -> EndpointResponse
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(flow) = flow else { return response::empty(StatusCode::NOT_FOUND) };
    match super::request::read_body(&parts.headers, body).await {
        Ok(bytes) => handle(front, flow, parts, bytes).await,
        Err(error) => error_page(&error),
    }
}

async fn handle(front: &Front, flow: &Flow, parts: Parts, body: Bytes) -> EndpointResponse {
    match parts.method {
        // Not HEAD: a skipped screen issues a code, which no HEAD should.
        Method::GET => {
            let query = parts.uri.query().unwrap_or_default().to_owned();
            show(front, flow, &parts, &query).await
        }
        Method::POST => decide(front, flow, &parts, &body).await,
        _ => response::method_not_allowed("GET, POST"),
    }
}

/// Who is signed in (the user, and the hash of the session the hook reported), or the
/// response that sends the browser to sign in (`Err`).
async fn signed_in(
    front: &Front,
    flow: &Flow,
    parts: &Parts,
    request: &AuthorizationRequest,
    status: StatusCode,
) -> Result<(String, Option<SecretHash>), EndpointResponse> {
    let issuer = &front.issuer;
    let return_to = front.authorization_url(request);
    let asked = hook::SignInRequest::new(parts, &return_to, request.prompt().login())
        .for_provider(request.client().provider.as_deref());
    let sign_in = match flow.hook.ask(&asked).await {
        Ok(sign_in) => sign_in,
        Err(error) => return Err(failed(issuer.redirect_error(request, error.into()), status)),
    };
    let location = match &sign_in {
        SignIn::Redirect(location) => Some(location.clone()),
        _ => None,
    };
    match (sign_in.into_signed_in(), location) {
        (Some(signed_in), _) => Ok(signed_in),
        (None, _) if request.prompt().none() => Err(failed(
            issuer.redirect_error(
                request,
                OAuthError::new(OAuthErrorCode::LoginRequired, "Nobody is signed in"),
            ),
            status,
        )),
        (None, Some(location)) => Err(redirect(status, &location)),
        (None, None) => {
            Err(error_page(&OAuthError::new(OAuthErrorCode::ServerError, "The application named no user")))
        }
    }
}

/// `GET`: validate, sign in, then skip the screen or show it.
async fn show(front: &Front, flow: &Flow, parts: &Parts, query: &str) -> EndpointResponse {
    let issuer = &front.issuer;
    let found = StatusCode::FOUND;
    let request = match issuer.authorization_request(query).await {
        Ok(request) => request,
        Err(error) => return failed(error, found),
    };
    let (user_id, session) = match signed_in(front, flow, parts, &request, found).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
    let signer = csrf::Signer { user_id: &user_id, session: session.as_ref() };
    match issuer.skips_approval(&request, &user_id).await {
        Ok(true) => {
            return match issuer.approve_authorization(&request, &user_id).await {
                Ok(location) => redirect(found, &location),
                Err(error) => failed(error, found),
            }
        }
        Ok(false) if request.prompt().none() => {
            let error =
                OAuthError::new(OAuthErrorCode::ConsentRequired, "The user has not approved this client");
            return failed(issuer.redirect_error(&request, error), found);
        }
        Ok(false) => {}
        Err(error) => return failed(error, found),
    }
    let key = match flow.csrf.get(issuer.store()).await {
        Ok(key) => key,
        Err(error) => return failed(issuer.redirect_error(&request, error.into()), found),
    };
    let mut fields = request.parameters(false);
    fields.push(("csrf_token", csrf::token(key, signer, &request, issuer.now_for_endpoint())));
    let registry = issuer.scope_registry();
    let scopes = request
        .scopes()
        .iter()
        .map(|id| {
            let defined = registry.scopes().iter().find(|scope| &scope.id == id);
            defined
                .cloned()
                .unwrap_or_else(|| crate::ScopeDefinition { id: id.clone(), description: id.clone() })
        })
        .collect();
    let client = request.client();
    let context = ApprovalContext {
        client_name: &client.name,
        client_id: &client.id,
        redirect_uri: request.redirect_uri(),
        user_id: &user_id,
        scopes,
        action: front.mounted_path(paths::AUTHORIZE),
        fields,
    };
    let body = flow.screen.render(&context);
    let form_action = redirect_uri::csp_source(request.redirect_uri());
    let policy = screen::full_policy(&flow.screen.content_security_policy(), form_action.as_deref());
    html(StatusCode::OK, body, &policy)
}

/// The parameters of the authorization request a decision form carries.
const REQUEST_FIELDS: [&str; 8] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
];

/// `POST`: the decision. The request is validated again from the form, and the CSRF token
/// must be this user's, for this request.
async fn decide(front: &Front, flow: &Flow, parts: &Parts, body: &[u8]) -> EndpointResponse {
    let issuer = &front.issuer;
    let see_other = StatusCode::SEE_OTHER;
    if body.len() > MAX_BODY {
        return error_page(&OAuthError::invalid_request("The request body is too large"));
    }
    let form = match Form::parse(&parts.headers, body) {
        Ok(form) => form,
        Err(error) => return error_page(&error),
    };
    let query = {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for name in REQUEST_FIELDS {
            if let Some(value) = form.get(name) {
                query.append_pair(name, value);
            }
        }
        // RFC 8707's `resource`, repeated as the screen's form carries it.
        for resource in form.resources() {
            query.append_pair("resource", resource);
        }
        query.finish()
    };
    let request = match issuer.authorization_request(&query).await {
        Ok(request) => request,
        Err(error) => return failed(error, see_other),
    };
    let approve = match form.get("decision") {
        Some("approve") => true,
        Some("deny") => false,
        _ => return error_page(&OAuthError::invalid_request("The decision must be approve or deny")),
    };
    let (user_id, session) = match signed_in(front, flow, parts, &request, see_other).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
    let signer = csrf::Signer { user_id: &user_id, session: session.as_ref() };
    let key = match flow.csrf.get(issuer.store()).await {
        Ok(key) => key,
        Err(error) => return failed(issuer.redirect_error(&request, error.into()), see_other),
    };
    let token = form.get("csrf_token").unwrap_or_default();
    if !csrf::verify(key, signer, &request, token, issuer.now_for_endpoint()) {
        tracing::warn!(client_id = %request.client().id, "approval form refused: CSRF token missing, stale, or not this user's or session's");
        return error_page(&OAuthError::invalid_request(
            "This approval form has expired or was not made for you. Go back to the application and start again.",
        ));
    }
    if !approve {
        return redirect(see_other, &issuer.deny_authorization(&request));
    }
    match issuer.approve_authorization(&request, &user_id).await {
        Ok(location) => redirect(see_other, &location),
        Err(error) => failed(error, see_other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_refuses_framing_and_caching() {
        let page = error_page(&OAuthError::invalid_request("The client is unknown"));
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
        for (name, value) in [
            ("cache-control", "no-store"),
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
        ] {
            assert_eq!(page.headers()[name], value, "{name}");
        }
        let policy = page.headers()["content-security-policy"].to_str().unwrap_or_default();
        assert!(policy.contains("frame-ancestors 'none'") && policy.starts_with("default-src 'none'"));
    }

    #[test]
    fn a_location_that_is_not_a_header_value_is_a_server_error_page() {
        let response = redirect(StatusCode::FOUND, "https://app.example.com/\n");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().get(LOCATION).is_none());
    }
}
