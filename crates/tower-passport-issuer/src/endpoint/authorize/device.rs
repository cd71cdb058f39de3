//! `GET` and `POST /oauth/device`: the browser side of the device authorization grant
//! (RFC 8628 §3.3), the `verification_uri`.
//!
//! `GET` asks the app's [`SignedInUser`](super::SignedInUser) hook who is signed in (or
//! sends the browser to sign in and come back, the typed code kept in the URL), then shows
//! a page to type the user code; with `?user_code=` (typed there, or from
//! `verification_uri_complete`) it finds the pending request
//! ([`Issuer::device_request`](crate::Issuer::device_request): wrong codes are throttled per
//! user and address) and shows the same [`ApprovalScreen`](super::ApprovalScreen) as the
//! authorization code grant, never skipped (RFC 8628 §5.4). `POST` takes the decision: the
//! user code, the CSRF token bound to it, the user and the session, and
//! `decision=approve|deny`.

use http::request::Parts;
use http::StatusCode;

use super::screen::{self, escape_html};
use super::{csrf, error_page, html, redirect, ApprovalContext, Flow, SignIn, SignInRequest};
use crate::endpoint::front::Front;
use crate::endpoint::request::{Form, MAX_BODY};
use crate::endpoint::response::{self, EndpointResponse};
use crate::store::SecretHash;
use crate::{paths, DeviceRequest, OAuthError, OAuthErrorCode};

/// `/oauth/device` on the issuer's routes: 404 unless the flow (a sign-in hook) is enabled.
pub(crate) async fn serve<B>(front: &Front, flow: Option<&Flow>, parts: Parts, body: B) -> EndpointResponse
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Some(flow) = flow else { return response::empty(StatusCode::NOT_FOUND) };
    match parts.method {
        http::Method::GET => {
            let query = parts.uri.query().unwrap_or_default();
            let typed = form_urlencoded::parse(query.as_bytes())
                .find(|(name, _)| name == "user_code")
                .map(|(_, value)| value.into_owned())
                .filter(|value| !value.trim().is_empty());
            show(front, flow, &parts, typed.as_deref()).await
        }
        http::Method::POST => match crate::endpoint::request::read_body(&parts.headers, body).await {
            Ok(bytes) => decide(front, flow, &parts, &bytes).await,
            Err(error) => error_page(&error),
        },
        _ => response::method_not_allowed("GET, POST"),
    }
}

/// Who is signed in (the user, and the hash of the session the hook reported), or the
/// response that sends the browser to sign in and back to `return_to` (`Err`).
async fn signed_in(
    flow: &Flow,
    parts: &Parts,
    return_to: &str,
    status: StatusCode,
) -> Result<(String, Option<SecretHash>), EndpointResponse> {
    let sign_in = match flow.hook.ask(&SignInRequest::new(parts, return_to, false)).await {
        Ok(sign_in) => sign_in,
        Err(error) => return Err(error_page(&error.into())),
    };
    let location = match &sign_in {
        SignIn::Redirect(location) => Some(location.clone()),
        _ => None,
    };
    match (sign_in.into_signed_in(), location) {
        (Some(signed_in), _) => Ok(signed_in),
        (None, Some(location)) => Err(redirect(status, &location)),
        (None, None) => {
            Err(error_page(&OAuthError::new(OAuthErrorCode::ServerError, "The application named no user")))
        }
    }
}

/// The page to type the code on, with `problem` above the form (400) or without (200).
fn entry_page(front: &Front, problem: Option<&str>) -> EndpointResponse {
    let status = if problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let problem =
        problem.map(|text| format!("<p class=\"muted\"><strong>{}</strong></p>\n", escape_html(text)));
    let main = format!(
        "<h1>Connect a device</h1>\n{}<p>Type the code your device shows.</p>\n\
         <form method=\"get\" action=\"{}\"><p><input name=\"user_code\" autocomplete=\"off\" \
         autocapitalize=\"characters\" spellcheck=\"false\" placeholder=\"BCDF-GHJK\" required></p>\
         <div class=\"buttons\"><button type=\"submit\" class=\"approve\">Continue</button></div></form>",
        problem.unwrap_or_default(),
        escape_html(&front.mounted_path(paths::DEVICE)),
    );
    let policy = screen::full_policy(&screen::default_policy(), None);
    html(status, screen::page("Connect a device", &main), &policy)
}

/// What a refused code shows: the entry page again, or the error page when throttled or the
/// store failed.
fn refused(front: &Front, error: &OAuthError) -> EndpointResponse {
    if error.code() == OAuthErrorCode::InvalidGrant {
        return entry_page(
            front,
            Some("That code is wrong, expired or already used. Check your device and try again."),
        );
    }
    let mut page = error_page(error);
    if let Some(seconds) = error.retry_after() {
        *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        if let Ok(value) = http::HeaderValue::from_str(&seconds.to_string()) {
            page.headers_mut().insert(http::header::RETRY_AFTER, value);
        }
    }
    page
}

/// `GET`: sign in, then the entry page, or the approval screen for a right code.
async fn show(front: &Front, flow: &Flow, parts: &Parts, typed: Option<&str>) -> EndpointResponse {
    let issuer = &front.issuer;
    let mut return_to = front.endpoint_url(paths::DEVICE);
    if let Some(typed) = typed {
        return_to.push('?');
        return_to.push_str(
            &form_urlencoded::Serializer::new(String::new()).append_pair("user_code", typed).finish(),
        );
    }
    let (user_id, session) = match signed_in(flow, parts, &return_to, StatusCode::FOUND).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
    let Some(typed) = typed else { return entry_page(front, None) };
    let request = match issuer.device_request(typed, &user_id, front.client_ip(parts)).await {
        Ok(request) => request,
        Err(error) => return refused(front, &error),
    };
    let key = match flow.csrf.get(issuer.store()).await {
        Ok(key) => key,
        Err(error) => return error_page(&error.into()),
    };
    let signer = csrf::Signer { user_id: &user_id, session: session.as_ref() };
    let token = csrf::device_token(key, signer, request.user_code(), issuer.now_for_endpoint());
    let verification_uri = front.endpoint_url(paths::DEVICE);
    let client = request.client();
    let context = ApprovalContext {
        client_name: &client.name,
        client_id: &client.id,
        redirect_uri: &verification_uri,
        user_id: &user_id,
        scopes: request.scopes().to_vec(),
        action: front.mounted_path(paths::DEVICE),
        fields: vec![("user_code", request.user_code().to_owned()), ("csrf_token", token)],
    };
    let body = flow.screen.render(&context);
    let policy = screen::full_policy(&flow.screen.content_security_policy(), None);
    html(StatusCode::OK, body, &policy)
}

/// `POST`: the decision, for the user the CSRF token was made for, on the code it names.
async fn decide(front: &Front, flow: &Flow, parts: &Parts, body: &[u8]) -> EndpointResponse {
    let issuer = &front.issuer;
    if body.len() > MAX_BODY {
        return error_page(&OAuthError::invalid_request("The request body is too large"));
    }
    let form = match Form::parse(&parts.headers, body) {
        Ok(form) => form,
        Err(error) => return error_page(&error),
    };
    let Decision { approve, typed, normalized } = match Decision::read(&form) {
        Ok(decision) => decision,
        Err(error) => return error_page(&error),
    };
    let return_to = front.endpoint_url(paths::DEVICE);
    let (user_id, session) = match signed_in(flow, parts, &return_to, StatusCode::SEE_OTHER).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
    let key = match flow.csrf.get(issuer.store()).await {
        Ok(key) => key,
        Err(error) => return error_page(&error.into()),
    };
    let signer = csrf::Signer { user_id: &user_id, session: session.as_ref() };
    let token = form.get("csrf_token").unwrap_or_default();
    if !csrf::verify_device(key, signer, &normalized, token, issuer.now_for_endpoint()) {
        tracing::warn!("device approval form refused: CSRF token missing, stale, or not this user's, session's or code's");
        return error_page(&OAuthError::invalid_request(
            "This approval form has expired or was not made for you. Type the code from your device again.",
        ));
    }
    let request = match issuer.device_request(typed, &user_id, front.client_ip(parts)).await {
        Ok(request) => request,
        Err(error) => return refused(front, &error),
    };
    match issuer.decide_device_request(&request, &user_id, approve).await {
        Ok(true) => done_page(&request, approve),
        Ok(false) => refused(front, &OAuthError::invalid_grant("The request was decided meanwhile")),
        Err(error) => error_page(&error),
    }
}

/// What the approval form posts: the decision and the user code, as typed and normalised.
pub(crate) struct Decision<'a> {
    pub(crate) approve: bool,
    pub(crate) typed: &'a str,
    /// The code the CSRF token is made over (empty when the typed one is no code of ours).
    pub(crate) normalized: String,
}

impl<'a> Decision<'a> {
    /// Reads `decision=approve|deny` and `user_code` from the form.
    ///
    /// # Errors
    /// `invalid_request` for any other decision.
    pub(crate) fn read(form: &'a Form) -> Result<Self, OAuthError> {
        let approve = match form.get("decision") {
            Some("approve") => true,
            Some("deny") => false,
            _ => return Err(OAuthError::invalid_request("The decision must be approve or deny")),
        };
        let typed = form.get("user_code").unwrap_or_default();
        // The token is made over the normalised code; a form may post it as typed.
        let normalized = crate::user_code::normalize(typed).unwrap_or_default();
        Ok(Self { approve, typed, normalized })
    }
}

/// The page after the decision: back to the device.
fn done_page(request: &DeviceRequest, approved: bool) -> EndpointResponse {
    let client = escape_html(&request.client().name);
    let main = if approved {
        format!("<h1>Device connected</h1>\n<p><strong>{client}</strong> is now signed in. You can close this page and return to your device.</p>")
    } else {
        format!("<h1>Request denied</h1>\n<p><strong>{client}</strong> was not given access. You can close this page.</p>")
    };
    let policy = screen::full_policy(&screen::default_policy(), None);
    html(StatusCode::OK, screen::page("Connect a device", &main), &policy)
}
