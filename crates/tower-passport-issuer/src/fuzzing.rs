//! Entry points for the coverage-guided fuzz targets in `fuzz/` at the repository root.
//!
//! Not public API: this module exists only with the `fuzzing` feature, is hidden from the
//! docs, and may change in any release. Each function runs one crate-private parser the
//! way the endpoints run it, from plain bytes a fuzzer can produce.

use aws_lc_rs::hmac;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue};

use crate::endpoint::authorize::csrf;
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
    let mut headers = HeaderMap::new();
    if let Some(value) = content_type.and_then(|value| HeaderValue::from_bytes(value).ok()) {
        headers.insert(CONTENT_TYPE, value);
    }
    for value in authorization.iter().filter_map(|value| HeaderValue::from_bytes(value).ok()) {
        headers.append(AUTHORIZATION, value);
    }
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
