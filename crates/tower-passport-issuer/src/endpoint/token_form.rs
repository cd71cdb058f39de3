//! The token endpoint's form read into a [`TokenRequest`] (RFC 6749 §4.1.3, §4.3.2,
//! §4.4.2, §6).

use super::request::Form;
use crate::{AuthenticatedClient, Grant, OAuthError, TokenRequest};

impl TokenRequest {
    /// The request `client` makes with `form`: `invalid_request` for a missing
    /// `grant_type` or grant parameter, `unsupported_grant_type` for a grant not served.
    /// The code grant's `scope` is the authorization request's, so a `scope` beside a code
    /// is not read.
    pub(crate) fn from_form(client: AuthenticatedClient, form: &Form) -> Result<Self, OAuthError> {
        let owned = |value: &str| value.to_owned();
        let grant = match form.require("grant_type")? {
            "client_credentials" => Grant::ClientCredentials,
            "refresh_token" => {
                Grant::RefreshToken { refresh_token: form.require("refresh_token").map(owned)? }
            }
            "password" => {
                let username = form.require("username").map(owned)?;
                Grant::Password { username, password: form.require("password").map(owned)? }
            }
            "authorization_code" => {
                let code = form.require("code").map(owned)?;
                let (redirect_uri, code_verifier) = (form.get("redirect_uri"), form.get("code_verifier"));
                let mut request = Self::authorization_code(client, code, redirect_uri, code_verifier);
                request.resources = form.resources().to_vec();
                return Ok(request);
            }
            "urn:ietf:params:oauth:grant-type:device_code" => {
                let device_code = form.require("device_code")?;
                let mut request = Self::device_code(client, device_code);
                request.resources = form.resources().to_vec();
                return Ok(request);
            }
            _ => return Err(OAuthError::unsupported_grant_type()),
        };
        let mut request = Self::new(client, grant);
        request.resources = form.resources().to_vec();
        Ok(match form.get("scope") {
            Some(scope) => request.scope(scope),
            None => request,
        })
    }
}
