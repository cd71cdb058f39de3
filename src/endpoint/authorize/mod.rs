//! `GET` and `POST /oauth/authorize`: the browser side of the authorization code grant.
//!
//! `GET` validates the request (an unknown client or redirect URI is a 400 page; later
//! errors redirect back with `error`, `state` and `iss`), asks the app's
//! [`SignedInUser`] hook who is signed in (or sends the browser to sign in), then either
//! skips the screen (a client marked to skip it, or scopes the user already granted) or
//! renders the [`ApprovalScreen`] with a CSRF token bound to the request, the user and the
//! session the hook reported ([`SignIn::UserInSession`]). `POST`
//! takes the decision: the same request again, the token, and `decision=approve|deny`.

mod csrf;
mod hook;
mod screen;

pub(crate) use hook::ErasedHook;
pub use hook::{SignIn, SignInRequest, SignedInUser};
pub use screen::{escape_html, ApprovalContext, ApprovalScreen};

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, PRAGMA, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;

use super::request::{Form, MAX_BODY};
use super::response::{self, EndpointResponse};
use crate::issuer::{
    paths, redirect_uri, AuthorizationError, AuthorizationRequest, Grant, Issuer, IssuerBuilder, OAuthError,
    OAuthErrorCode, TokenRequest, TokenResponse,
};
use crate::store::{CodeStore, SecretHash, Store};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The authorization endpoint for an issuer over `S`.
pub(crate) type AuthorizeFn<S> = for<'a> fn(&'a Issuer<S>, Parts, Bytes) -> Boxed<'a, EndpointResponse>;

/// The `authorization_code` grant of a token request, for an issuer over `S`.
pub(crate) type ExchangeFn<S> =
    for<'a> fn(&'a Issuer<S>, &'a TokenRequest) -> Boxed<'a, Result<TokenResponse, OAuthError>>;

/// The authorization code flow as the issuer's routes serve it: the app's hook and screen,
/// and the two handlers, made where `S: CodeStore` is known so that the routes (for any
/// store) can call them.
pub(crate) struct Flow<S> {
    hook: Arc<dyn hook::ErasedHook>,
    screen: Arc<dyn ApprovalScreen>,
    csrf: csrf::CsrfKey,
    pub(crate) authorize: AuthorizeFn<S>,
    pub(crate) exchange: ExchangeFn<S>,
}

fn authorize<S: Store + CodeStore>(
    issuer: &Issuer<S>,
    parts: Parts,
    body: Bytes,
) -> Boxed<'_, EndpointResponse> {
    Box::pin(handle(issuer, parts, body))
}

fn exchange<'a, S: Store + CodeStore>(
    issuer: &'a Issuer<S>,
    request: &'a TokenRequest,
) -> Boxed<'a, Result<TokenResponse, OAuthError>> {
    Box::pin(async move {
        let Grant::AuthorizationCode { code, redirect_uri, code_verifier } = &request.grant else {
            return Err(OAuthError::unsupported_grant_type());
        };
        let (redirect_uri, code_verifier) = (redirect_uri.as_deref(), code_verifier.as_deref());
        issuer.authorization_code_grant(&request.client, code, redirect_uri, code_verifier).await
    })
}

impl<S: Store + CodeStore> IssuerBuilder<S> {
    /// Enables the authorization code grant on [`Issuer::routes`]: `GET` and
    /// `POST /oauth/authorize` (the approval screen), `grant_type=authorization_code` at
    /// the token endpoint, and the metadata that says so. `hook` tells who is signed in
    /// on a request, or where to sign in ([`SignedInUser`]; a closure will do).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower::ServiceExt;
    /// use tower_passport::endpoint::{SignIn, SignInRequest};
    /// use tower_passport::issuer::Issuer;
    /// use tower_passport::store::MemoryStore;
    /// use tower_passport::BackendError;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .enable_authorization_code(|request: &SignInRequest<'_>| {
    ///         let sign_in = format!("/login?next={}", request.return_to_encoded());
    ///         async move { Ok::<_, BackendError>(SignIn::Redirect(sign_in)) }
    ///     })
    ///     .build()?;
    /// assert_eq!(issuer.metadata().response_types_supported, ["code"]);
    ///
    /// // An unknown client is a page, never a redirect.
    /// let request = http::Request::get("/oauth/authorize?response_type=code&client_id=nobody")
    ///     .body(http_body_util::Empty::<bytes::Bytes>::new())?;
    /// let response = issuer.routes().oneshot(request).await?;
    /// assert_eq!(response.status(), 400);
    /// assert!(response.headers().get("location").is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn enable_authorization_code<H: SignedInUser>(mut self, hook: H) -> Self {
        let screen = match self.codes.flow.take() {
            Some(flow) => flow.screen,
            None => Arc::new(screen::DefaultScreen),
        };
        self.codes.flow = Some(Flow {
            hook: Arc::new(hook),
            screen,
            csrf: csrf::CsrfKey::default(),
            authorize: authorize::<S>,
            exchange: exchange::<S>,
        });
        self
    }

    /// Replaces the approval screen ([`ApprovalScreen`]; a closure will do). Call it after
    /// [`enable_authorization_code`](Self::enable_authorization_code); without that it does
    /// nothing.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport::endpoint::{escape_html, ApprovalContext, SignIn, SignInRequest};
    /// use tower_passport::issuer::Issuer;
    /// use tower_passport::store::MemoryStore;
    /// use tower_passport::BackendError;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .enable_authorization_code(|_: &SignInRequest<'_>| async { Ok::<_, BackendError>(SignIn::User("1".into())) })
    ///     .approval_screen(|context: &ApprovalContext<'_>| {
    ///         format!("<h1>Let {} in?</h1>…", escape_html(context.client_name()))
    ///     })
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn approval_screen<T: ApprovalScreen>(mut self, screen: T) -> Self {
        if let Some(flow) = &mut self.codes.flow {
            flow.screen = Arc::new(screen);
        }
        self
    }
}

impl<S: Store> Flow<S> {
    /// Who is signed in on `parts`, through the app's hook, for the JSON APIs: `None` when
    /// nobody is (the hook would send the browser to sign in).
    pub(crate) async fn session_user(&self, parts: &Parts) -> Result<Option<String>, crate::BackendError> {
        let return_to = parts.uri.to_string();
        let asked = hook::SignInRequest::new(parts, &return_to, false);
        Ok(self.hook.ask(&asked).await?.into_signed_in().map(|(user_id, _)| user_id))
    }

    /// A JSON API CSRF token (`X-CSRF-TOKEN`) for `user_id`, made at `now`.
    pub(crate) async fn api_csrf_token(
        &self,
        store: &S,
        user_id: &str,
        now: u64,
    ) -> Result<String, crate::store::StoreError> {
        Ok(csrf::api_token(self.csrf.get(store).await?, user_id, now))
    }

    /// Whether `token` is a JSON API CSRF token of `user_id`, still fresh at `now`.
    pub(crate) async fn api_csrf_valid(
        &self,
        store: &S,
        user_id: &str,
        token: &str,
        now: u64,
    ) -> Result<bool, crate::store::StoreError> {
        Ok(csrf::verify_api(self.csrf.get(store).await?, user_id, token, now))
    }
}

impl<S> std::fmt::Debug for Flow<S> {
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
pub(crate) async fn serve<S, B>(issuer: &Issuer<S>, parts: Parts, body: B) -> EndpointResponse
where
    S: Store,
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(flow) = &issuer.code_settings().flow else { return response::empty(StatusCode::NOT_FOUND) };
    match super::request::read_body(&parts.headers, body).await {
        Ok(bytes) => (flow.authorize)(issuer, parts, bytes).await,
        Err(error) => error_page(&error),
    }
}

/// Whether the issuer's token endpoint serves `grant_type=authorization_code` (the flow is
/// enabled).
pub(crate) fn serves_code_grant<S: Store>(issuer: &Issuer<S>) -> bool {
    issuer.code_settings().flow.is_some()
}

async fn handle<S: Store + CodeStore>(issuer: &Issuer<S>, parts: Parts, body: Bytes) -> EndpointResponse {
    let Some(flow) = &issuer.code_settings().flow else { return response::empty(StatusCode::NOT_FOUND) };
    match parts.method {
        // Not HEAD: a skipped screen issues a code, which no HEAD should.
        Method::GET => {
            let query = parts.uri.query().unwrap_or_default().to_owned();
            show(issuer, flow, &parts, &query).await
        }
        Method::POST => decide(issuer, flow, &parts, &body).await,
        _ => response::method_not_allowed("GET, POST"),
    }
}

/// Who is signed in (the user, and the hash of the session the hook reported), or the
/// response that sends the browser to sign in (`Err`).
async fn signed_in<S: Store + CodeStore>(
    issuer: &Issuer<S>,
    flow: &Flow<S>,
    parts: &Parts,
    request: &AuthorizationRequest,
    status: StatusCode,
) -> Result<(String, Option<SecretHash>), EndpointResponse> {
    let return_to = issuer.authorization_url(request);
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
async fn show<S: Store + CodeStore>(
    issuer: &Issuer<S>,
    flow: &Flow<S>,
    parts: &Parts,
    query: &str,
) -> EndpointResponse {
    let found = StatusCode::FOUND;
    let request = match issuer.authorization_request(query).await {
        Ok(request) => request,
        Err(error) => return failed(error, found),
    };
    let (user_id, session) = match signed_in(issuer, flow, parts, &request, found).await {
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
    let key = match flow.csrf.get(&**issuer.store()).await {
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
                .unwrap_or_else(|| crate::issuer::ScopeDefinition { id: id.clone(), description: id.clone() })
        })
        .collect();
    let client = request.client();
    let context = ApprovalContext {
        client_name: &client.name,
        client_id: &client.id,
        redirect_uri: request.redirect_uri(),
        user_id: &user_id,
        scopes,
        action: issuer.mounted_path(paths::AUTHORIZE),
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
async fn decide<S: Store + CodeStore>(
    issuer: &Issuer<S>,
    flow: &Flow<S>,
    parts: &Parts,
    body: &[u8],
) -> EndpointResponse {
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
    let (user_id, session) = match signed_in(issuer, flow, parts, &request, see_other).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
    let signer = csrf::Signer { user_id: &user_id, session: session.as_ref() };
    let key = match flow.csrf.get(&**issuer.store()).await {
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
