//! The RFC 8414 metadata (`GET /.well-known/oauth-authorization-server`): the issuer's
//! protocol facts and the URLs its routes are served at.

use serde::Serialize;

use super::server::Server;
use crate::paths;

/// RFC 8414 authorization server metadata.
///
/// ```
/// use std::sync::Arc;
/// use tower_passport_issuer::endpoint::OAuthServer;
/// use tower_passport_issuer::Issuer;
/// use tower_passport_issuer::store::MemoryStore;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let metadata = OAuthServer::new(issuer).mount_path("/auth").build().metadata();
/// assert_eq!(metadata.token_endpoint, "https://auth.example.com/auth/oauth/token");
/// assert_eq!(metadata.grant_types_supported, ["client_credentials", "refresh_token"]);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ServerMetadata {
    /// The issuer identifier (the `iss` of every token).
    pub issuer: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The JWKS.
    pub jwks_uri: String,
    /// The RFC 7009 revocation endpoint.
    pub revocation_endpoint: String,
    /// The RFC 7662 introspection endpoint.
    pub introspection_endpoint: String,
    /// The authorization endpoint, when the authorization code grant is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// The RFC 8628 device authorization endpoint, when the device grant is served (with a
    /// sign-in hook, as the authorization endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<String>,
    /// The grants this issuer serves.
    pub grant_types_supported: Vec<&'static str>,
    /// The `response_type`s the authorization endpoint serves: `code` when the
    /// authorization code grant is enabled, none otherwise.
    pub response_types_supported: Vec<&'static str>,
    /// The PKCE methods (RFC 7636): `S256` only, when the authorization code grant is enabled.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code_challenge_methods_supported: Vec<&'static str>,
    /// RFC 9207: every authorization response carries `iss` (when the authorization code
    /// grant is enabled).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub authorization_response_iss_parameter_supported: bool,
    /// How clients authenticate at the token endpoint.
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    /// How clients authenticate at the revocation endpoint.
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    /// How clients authenticate at the introspection endpoint.
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// The scopes the registry defines.
    pub scopes_supported: Vec<String>,
}

impl ServerMetadata {
    /// The metadata of `server`: its endpoints' URLs below the issuer URL and the mount path,
    /// the grants (the authorization code grant once a sign-in hook is set), the scopes.
    pub(super) fn of(server: &Server) -> Self {
        let issuer = &server.issuer;
        let mut grants = vec!["client_credentials", "refresh_token"];
        if issuer.password_grant_enabled() {
            grants.push("password");
        }
        let codes = server.flow.is_some();
        if codes {
            grants.insert(0, "authorization_code");
            grants.push("urn:ietf:params:oauth:grant-type:device_code");
        }
        // Public clients (`none`) may use the token and revocation endpoints; only
        // confidential clients may introspect.
        let auth_methods = vec!["client_secret_basic", "client_secret_post", "none"];
        let confidential_only = vec!["client_secret_basic", "client_secret_post"];
        Self {
            issuer: issuer.issuer_url().to_owned(),
            token_endpoint: server.endpoint_url(paths::TOKEN),
            jwks_uri: server.endpoint_url(paths::JWKS),
            revocation_endpoint: server.endpoint_url(paths::REVOKE),
            introspection_endpoint: server.endpoint_url(paths::INTROSPECT),
            authorization_endpoint: codes.then(|| server.endpoint_url(paths::AUTHORIZE)),
            device_authorization_endpoint: codes.then(|| server.endpoint_url(paths::DEVICE_CODE)),
            grant_types_supported: grants,
            response_types_supported: if codes { vec!["code"] } else { Vec::new() },
            code_challenge_methods_supported: if codes { vec!["S256"] } else { Vec::new() },
            authorization_response_iss_parameter_supported: codes,
            token_endpoint_auth_methods_supported: auth_methods.clone(),
            revocation_endpoint_auth_methods_supported: auth_methods,
            introspection_endpoint_auth_methods_supported: confidential_only,
            scopes_supported: issuer.scope_registry().scopes().iter().map(|s| s.id.clone()).collect(),
        }
    }
}
