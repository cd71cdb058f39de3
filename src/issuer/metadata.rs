//! What the issuer publishes: its JWKS and its RFC 8414 metadata, both typed.

use serde::Serialize;
use serde_json::Value;

use super::{paths, Issuer};

/// A JWKS document (RFC 7517 §5): every key the issuer publishes.
///
/// ```
/// use std::sync::Arc;
/// use tower_passport::issuer::Issuer;
/// use tower_passport::store::MemoryStore;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
/// let jwks = issuer.jwks();
/// assert_eq!(jwks.keys.len(), 1);
/// assert!(serde_json::to_string(&jwks)?.starts_with(r#"{"keys":[{"#));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Jwks {
    /// The public keys, as JWKs with `kid`, `alg` and `use`.
    pub keys: Vec<Value>,
}

/// RFC 8414 authorization server metadata.
///
/// ```
/// use std::sync::Arc;
/// use tower_passport::issuer::Issuer;
/// use tower_passport::store::MemoryStore;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api")
///     .mount_path("/auth")
///     .build()?;
/// let metadata = issuer.metadata();
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

impl Issuer {
    /// The JWKS document of every published key (`GET /.well-known/jwks.json`).
    pub fn jwks(&self) -> Jwks {
        let now = self.now();
        match self.inner.keys.read() {
            Ok(keys) => keys.jwks(now),
            Err(poisoned) => poisoned.into_inner().jwks(now),
        }
    }

    /// How long clients may cache the JWKS, in seconds
    /// ([`IssuerBuilder::jwks_max_age`](super::IssuerBuilder::jwks_max_age)).
    pub fn jwks_max_age(&self) -> u64 {
        self.inner.jwks_max_age
    }

    /// The public URL of an endpoint path from [`paths`]: the issuer URL, the mount
    /// path, then the path.
    pub fn endpoint_url(&self, path: &str) -> String {
        let base = self.inner.issuer.trim_end_matches('/');
        format!("{base}{}{path}", self.inner.mount_path)
    }

    /// `path` with the mount path taken off, if it has it: what the router matches
    /// against [`paths`].
    pub(crate) fn route_path<'p>(&self, path: &'p str) -> &'p str {
        let mount = self.inner.mount_path.as_str();
        match path.strip_prefix(mount) {
            Some(rest) if !mount.is_empty() && rest.starts_with('/') => rest,
            _ => path,
        }
    }

    /// RFC 8414 authorization server metadata
    /// (`GET /.well-known/oauth-authorization-server`).
    pub fn metadata(&self) -> ServerMetadata {
        let mut grants = vec!["client_credentials", "refresh_token"];
        if self.inner.users.is_some() {
            grants.push("password");
        }
        let codes = self.inner.codes.flow.is_some();
        if codes {
            grants.insert(0, "authorization_code");
        }
        // Public clients (`none`) may use the token and revocation endpoints; only
        // confidential clients may introspect.
        let auth_methods = vec!["client_secret_basic", "client_secret_post", "none"];
        let confidential_only = vec!["client_secret_basic", "client_secret_post"];
        ServerMetadata {
            issuer: self.inner.issuer.clone(),
            token_endpoint: self.endpoint_url(paths::TOKEN),
            jwks_uri: self.endpoint_url(paths::JWKS),
            revocation_endpoint: self.endpoint_url(paths::REVOKE),
            introspection_endpoint: self.endpoint_url(paths::INTROSPECT),
            authorization_endpoint: codes.then(|| self.endpoint_url(paths::AUTHORIZE)),
            grant_types_supported: grants,
            response_types_supported: if codes { vec!["code"] } else { Vec::new() },
            code_challenge_methods_supported: if codes { vec!["S256"] } else { Vec::new() },
            authorization_response_iss_parameter_supported: codes,
            token_endpoint_auth_methods_supported: auth_methods.clone(),
            revocation_endpoint_auth_methods_supported: auth_methods,
            introspection_endpoint_auth_methods_supported: confidential_only,
            scopes_supported: self.inner.scopes.scopes().iter().map(|s| s.id.clone()).collect(),
        }
    }
}
