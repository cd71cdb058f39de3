//! Entry points for the coverage-guided fuzz targets in `fuzz/` at the repository root.
//!
//! Not public API: this module exists only with the `fuzzing` feature, is hidden from the
//! docs, and may change in any release. Each function runs one crate-private parser the
//! way the endpoints run it, from plain bytes a fuzzer can produce.

use aws_lc_rs::hmac;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue};

use crate::endpoint::authorize::csrf;
use crate::endpoint::authorize::device::Decision;
use crate::endpoint::request::{client_credentials, Form};
use crate::store::{ClientRecord, GrantType};
use crate::{AuthenticatedClient, Grant, OAuthError, TokenRequest};

/// What the token endpoint read from a request before it looks the client up: the
/// client's id and secret, and the grant with its `scope`.
#[derive(Debug)]
pub struct ReadTokenRequest {
    /// The client id presented (Basic or form).
    pub client_id: String,
    /// Whether a secret came with it.
    pub has_secret: bool,
    /// The grant.
    pub grant: Grant,
    /// The `scope` parameter.
    pub scope: Option<String>,
}

/// The token endpoint's reading of a request: `Content-Type`, the `Authorization` values
/// (Basic) and the form body.
///
/// # Errors
/// The OAuth error the endpoint answers.
pub fn token_request(
    content_type: Option<&[u8]>,
    authorization: &[&[u8]],
    body: &[u8],
) -> Result<ReadTokenRequest, OAuthError> {
    let headers = form_headers(content_type, authorization);
    let form = Form::parse(&headers, body)?;
    let credentials = client_credentials(&headers, &form)?;
    let client = AuthenticatedClient::unchecked_for_fuzzing(client_record(&credentials.id));
    let request = TokenRequest::from_form(client, &form)?;
    Ok(ReadTokenRequest {
        client_id: credentials.id,
        has_secret: credentials.secret.is_some(),
        grant: request.grant,
        scope: request.scope,
    })
}

fn client_record(id: &str) -> ClientRecord {
    ClientRecord {
        id: id.to_owned(),
        name: "fuzz".into(),
        secret_hash: None,
        grants: vec![GrantType::AuthorizationCode],
        allowed_scopes: None,
        allowed_resources: None,
        first_party: false,
        skips_authorization: false,
        revoked: false,
        created_at: 0,
        redirect_uris: Vec::new(),
        owner: None,
        require_pkce: true,
        provider: None,
    }
}

/// The issuer's `scope` parameter split (RFC 6749 §3.3).
///
/// # Errors
/// `invalid_scope` for a character §3.3 does not allow.
pub fn parse_scope(scope: &str) -> Result<Vec<String>, OAuthError> {
    crate::scopes::parse(scope)
}

/// Whether `presented` matches the registered redirect URI `registered`.
pub fn redirect_uri_matches(registered: &str, presented: &str, native: bool) -> bool {
    crate::redirect_uri::matches(registered, presented, native)
}

/// Whether `uri` may be registered as a redirect URI.
pub fn redirect_uri_registrable(uri: &str) -> bool {
    crate::redirect_uri::registrable(uri)
}

/// The JSON APIs' `X-CSRF-TOKEN` for `user_id` under `key`, made at `now`.
pub fn api_csrf_token(key: &[u8], user_id: &str, now: u64) -> String {
    csrf::api_token(&hmac::Key::new(hmac::HMAC_SHA256, key), user_id, now)
}

/// Whether `token` is a JSON API `X-CSRF-TOKEN` for `user_id` under `key`, fresh at `now`.
pub fn verify_api_csrf_token(key: &[u8], user_id: &str, token: &str, now: u64) -> bool {
    csrf::verify_api(&hmac::Key::new(hmac::HMAC_SHA256, key), user_id, token, now)
}

/// What the device authorization endpoint (RFC 8628 §3.1) read from a request before it
/// looks the client up: the client's id and secret, and the scopes asked for.
#[derive(Debug)]
pub struct ReadDeviceRequest {
    /// The client id presented (Basic or form).
    pub client_id: String,
    /// Whether a secret came with it.
    pub has_secret: bool,
    /// The `scope` parameter, split.
    pub scopes: Option<Vec<String>>,
}

fn form_headers(content_type: Option<&[u8]>, authorization: &[&[u8]]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(value) = content_type.and_then(|value| HeaderValue::from_bytes(value).ok()) {
        headers.insert(CONTENT_TYPE, value);
    }
    for value in authorization.iter().filter_map(|value| HeaderValue::from_bytes(value).ok()) {
        headers.append(AUTHORIZATION, value);
    }
    headers
}

/// The device authorization endpoint's reading of a request: `Content-Type`, the
/// `Authorization` values (Basic) and the form body.
///
/// # Errors
/// The OAuth error the endpoint answers.
pub fn device_authorization_request(
    content_type: Option<&[u8]>,
    authorization: &[&[u8]],
    body: &[u8],
) -> Result<ReadDeviceRequest, OAuthError> {
    let headers = form_headers(content_type, authorization);
    let form = Form::parse(&headers, body)?;
    let credentials = client_credentials(&headers, &form)?;
    let scopes = form.get("scope").map(crate::scopes::parse).transpose()?;
    Ok(ReadDeviceRequest { client_id: credentials.id, has_secret: credentials.secret.is_some(), scopes })
}

/// The letters of a user code (RFC 8628 §6.1).
pub const USER_CODE_ALPHABET: &[u8] = crate::user_code::ALPHABET;

/// A typed user code as it is looked up (upper case, no dashes or spaces), or `None`
/// when it is no code of ours.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    crate::user_code::normalize(typed)
}

/// A fresh user code, as shown (`XXXX-XXXX`); `None` without randomness.
pub fn generate_user_code() -> Option<String> {
    crate::user_code::generate().ok()
}

/// The device approval form's decision, read as the endpoint reads it.
#[derive(Debug)]
pub struct ReadDecision {
    /// `decision=approve`.
    pub approve: bool,
    /// The user code, normalised (empty when the typed one is no code of ours).
    pub user_code: String,
    /// Whether the form's `csrf_token` is the one made for `user_id` and this code.
    pub csrf_valid: bool,
}

/// The device approval form (`POST /oauth/device`) as the endpoint reads it, its CSRF
/// token checked for `user_id` (no session) under `key` at `now`.
///
/// # Errors
/// The OAuth error the endpoint shows on its error page.
pub fn device_decision(
    content_type: Option<&[u8]>,
    body: &[u8],
    key: &[u8],
    user_id: &str,
    now: u64,
) -> Result<ReadDecision, OAuthError> {
    let headers = form_headers(content_type, &[]);
    let form = Form::parse(&headers, body)?;
    let decision = Decision::read(&form)?;
    let signer = csrf::Signer { user_id, session: None };
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let token = form.get("csrf_token").unwrap_or_default();
    let csrf_valid = csrf::verify_device(&key, signer, &decision.normalized, token, now);
    Ok(ReadDecision { approve: decision.approve, user_code: decision.normalized, csrf_valid })
}

/// The device approval form's CSRF token for `user_id` (no session) and the normalised
/// `user_code` under `key`, made at `now`.
pub fn device_csrf_token(key: &[u8], user_id: &str, user_code: &str, now: u64) -> String {
    let signer = csrf::Signer { user_id, session: None };
    csrf::device_token(&hmac::Key::new(hmac::HMAC_SHA256, key), signer, user_code, now)
}
