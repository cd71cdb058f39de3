//! The RFC 9728 document and its builder.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::Uri;
use serde::Serialize;

use crate::error::{ConfigError, ConfigErrorKind};
use crate::keys::Algorithm;
use crate::loopback::is_loopback;

/// The path every protected resource's metadata lives under (RFC 9728 §3).
pub const WELL_KNOWN_PATH: &str = "/.well-known/oauth-protected-resource";

/// How a resource accepts access tokens (RFC 9728 `bearer_methods_supported`, the three
/// ways of RFC 6750 §2).
///
/// ```
/// use tower_passport::resource_metadata::BearerMethod;
/// assert_eq!(BearerMethod::Header.name(), "header");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BearerMethod {
    /// The `Authorization` header (RFC 6750 §2.1): what every guard reads.
    Header,
    /// A form-encoded body parameter (RFC 6750 §2.2).
    Body,
    /// The `access_token` query parameter (RFC 6750 §2.3):
    /// [`GuardBuilder::allow_query_parameter`](crate::guard::GuardBuilder::allow_query_parameter).
    Query,
}

impl BearerMethod {
    /// The RFC 9728 name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Body => "body",
            Self::Query => "query",
        }
    }
}

/// A protected resource's metadata (RFC 9728 §2): what a client that knows only the API's
/// URL needs to find its authorization server.
///
/// Built once by [`ResourceMetadata::builder`], then served by a
/// [`ResourceMetadataLayer`](super::ResourceMetadataLayer) at [`url`](Self::url).
///
/// ```
/// use tower_passport::resource_metadata::ResourceMetadata;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let metadata = ResourceMetadata::builder("https://api.example.com/orders")
///     .authorization_server("https://auth.example.com")
///     .scopes_supported(["check-status", "place-orders"])
///     .build()?;
/// assert_eq!(metadata.url(), "https://api.example.com/.well-known/oauth-protected-resource/orders");
/// assert_eq!(metadata.path(), "/.well-known/oauth-protected-resource/orders");
/// let json: serde_json::Value = serde_json::from_slice(metadata.json())?;
/// assert_eq!(json["authorization_servers"][0], "https://auth.example.com");
/// assert_eq!(json["bearer_methods_supported"][0], "header");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ResourceMetadata {
    inner: Arc<Built>,
}

struct Built {
    document: Document,
    json: Bytes,
    url: String,
    path: String,
}

/// The JSON document, members in RFC 9728 §2's order; empty lists and absent values left
/// out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct Document {
    resource: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authorization_servers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scopes_supported: Vec<String>,
    bearer_methods_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_documentation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dpop_signing_alg_values_supported: Vec<&'static str>,
}

impl fmt::Debug for ResourceMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceMetadata")
            .field("document", &self.inner.document)
            .field("url", &self.inner.url)
            .finish()
    }
}

impl ResourceMetadata {
    /// Starts the metadata of the resource identified by `resource`: an absolute `https`
    /// URL with no query or fragment (RFC 9728 §1.2; plain `http` only to a loopback host,
    /// or with [`allow_http`](ResourceMetadataBuilder::allow_http)). It is the `resource`
    /// member, which a client compares with the URL it started from (§3.3), and, with RFC
    /// 8707, the `resource` a client asks the authorization server for a token for.
    pub fn builder(resource: impl Into<String>) -> ResourceMetadataBuilder {
        ResourceMetadataBuilder {
            resource: resource.into(),
            authorization_servers: Vec::new(),
            scopes_supported: Vec::new(),
            bearer_methods: vec![BearerMethod::Header],
            resource_documentation: None,
            dpop_algorithms: Vec::new(),
            allow_http: false,
        }
    }

    /// The resource identifier (the `resource` member).
    pub fn resource(&self) -> &str {
        &self.inner.document.resource
    }

    /// Where the document is served (RFC 9728 §3.1): `/.well-known/oauth-protected-resource`
    /// inserted between the resource identifier's host and its path. This is the
    /// `resource_metadata` of every challenge once the layer is mounted.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The path part of [`url`](Self::url): the request path the layer answers.
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// The document, serialized once at `build()`.
    pub fn json(&self) -> &Bytes {
        &self.inner.json
    }

    /// The authorization servers' issuer identifiers.
    pub fn authorization_servers(&self) -> &[String] {
        &self.inner.document.authorization_servers
    }
}

/// Configures a [`ResourceMetadata`].
#[derive(Clone, Debug)]
#[must_use]
pub struct ResourceMetadataBuilder {
    resource: String,
    authorization_servers: Vec<String>,
    scopes_supported: Vec<String>,
    bearer_methods: Vec<BearerMethod>,
    resource_documentation: Option<String>,
    dpop_algorithms: Vec<Algorithm>,
    allow_http: bool,
}

impl ResourceMetadataBuilder {
    /// Adds an authorization server, by its issuer identifier (the `iss` of its tokens and
    /// the `issuer` of its RFC 8414 metadata), which clients fetch from
    /// `/.well-known/oauth-authorization-server`. Call once per trusted issuer.
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// The scopes a client may ask for to call this resource (`scopes_supported`).
    pub fn scopes_supported<I>(mut self, scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.scopes_supported = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// How the resource accepts tokens (`bearer_methods_supported`); `header` unless set.
    /// Add [`BearerMethod::Query`] when the guard
    /// [`allow_query_parameter`](crate::guard::GuardBuilder::allow_query_parameter)s.
    pub fn bearer_methods_supported(mut self, methods: impl IntoIterator<Item = BearerMethod>) -> Self {
        self.bearer_methods = methods.into_iter().collect();
        self
    }

    /// A page with the resource's documentation for developers (`resource_documentation`).
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }

    /// The DPoP proof algorithms the resource accepts (`dpop_signing_alg_values_supported`,
    /// RFC 9449): set it to the guard's DPoP algorithms when DPoP is on; left out when empty.
    pub fn dpop_signing_alg_values_supported(
        mut self,
        algorithms: impl IntoIterator<Item = Algorithm>,
    ) -> Self {
        self.dpop_algorithms = algorithms.into_iter().collect();
        self
    }

    /// Allows plain `http` identifiers and URLs to any host, not only loopback ones (a
    /// resource behind a TLS-terminating proxy on a private network, say).
    pub fn allow_http(mut self) -> Self {
        self.allow_http = true;
        self
    }

    /// Checks the URLs and serializes the document.
    ///
    /// # Errors
    /// [`ConfigErrorKind::Url`] when the resource identifier, an authorization server or the
    /// documentation URL is not an absolute `https` URL (or `http` where allowed), the
    /// resource identifier has a query or fragment, or the metadata URL cannot be carried
    /// in a `WWW-Authenticate` challenge; [`ConfigErrorKind::Algorithm`] for a symmetric
    /// DPoP algorithm (proofs are signed with the client's private key).
    ///
    /// ```
    /// use tower_passport::error::ConfigErrorKind;
    /// use tower_passport::resource_metadata::ResourceMetadata;
    /// for refused in ["https://api.example.com/#top", "https://api.example.com/?v=1", "/orders", "http://api.example.com"] {
    ///     let error = ResourceMetadata::builder(refused).build().unwrap_err();
    ///     assert_eq!(error.kind(), ConfigErrorKind::Url, "{refused}");
    /// }
    /// assert!(ResourceMetadata::builder("http://127.0.0.1:8080").build().is_ok());
    /// ```
    pub fn build(self) -> Result<ResourceMetadata, ConfigError> {
        let resource = self.check_url(&self.resource, "resource identifier")?;
        if self.resource.contains(['?', '#']) {
            return Err(ConfigError::new(
                ConfigErrorKind::Url,
                format!("the resource identifier {:?} must have no query or fragment", self.resource),
            ));
        }
        for issuer in &self.authorization_servers {
            self.check_url(issuer, "authorization server")?;
        }
        if let Some(documentation) = &self.resource_documentation {
            self.check_url(documentation, "resource documentation URL")?;
        }
        if let Some(symmetric) = self.dpop_algorithms.iter().find(|alg| alg.is_symmetric()) {
            return Err(ConfigError::new(
                ConfigErrorKind::Algorithm,
                format!(
                    "{} cannot sign DPoP proofs: they are signed with the client's private key",
                    symmetric.name()
                ),
            ));
        }
        let (url, path) = metadata_location(&resource);
        if !url.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') {
            return Err(ConfigError::new(
                ConfigErrorKind::Url,
                "the metadata URL must be printable ASCII without quotes or backslashes",
            ));
        }
        let mut dpop_algorithms: Vec<&'static str> = Vec::new();
        for alg in self.dpop_algorithms.iter().map(|alg| alg.name()) {
            if !dpop_algorithms.contains(&alg) {
                dpop_algorithms.push(alg);
            }
        }
        let document = Document {
            resource: self.resource,
            authorization_servers: self.authorization_servers,
            scopes_supported: self.scopes_supported,
            bearer_methods_supported: self.bearer_methods.iter().map(|method| method.name()).collect(),
            resource_documentation: self.resource_documentation,
            dpop_signing_alg_values_supported: dpop_algorithms,
        };
        let json = serde_json::to_vec(&document).map_err(|error| {
            ConfigError::new(ConfigErrorKind::Url, "the metadata cannot be serialized").with_source(error)
        })?;
        Ok(ResourceMetadata { inner: Arc::new(Built { document, json: Bytes::from(json), url, path }) })
    }

    /// Parses `url` as an absolute `https` URL, or `http` to loopback (or anywhere when
    /// allowed).
    fn check_url(&self, url: &str, what: &str) -> Result<Uri, ConfigError> {
        let invalid = |why: &str| ConfigError::new(ConfigErrorKind::Url, format!("the {what} {url:?} {why}"));
        let uri: Uri = url.parse().map_err(|_| invalid("is not a valid URL"))?;
        let host = uri.host().ok_or_else(|| invalid("is not an absolute URL"))?;
        match uri.scheme_str() {
            Some("https") => Ok(uri),
            Some("http") if self.allow_http || is_loopback(host) => Ok(uri),
            Some("http") => {
                Err(invalid("uses http to a non-loopback host; use https, or allow_http() to opt in"))
            }
            _ => Err(invalid("is not an http(s) URL")),
        }
    }
}

/// The metadata URL of `resource` and its path (RFC 9728 §3.1): the well-known path
/// between the authority and the resource's own path, which keeps a terminating slash; a
/// bare `/` path adds nothing.
fn metadata_location(resource: &Uri) -> (String, String) {
    let own_path = match resource.path() {
        "" | "/" => "",
        path => path,
    };
    let path = format!("{WELL_KNOWN_PATH}{own_path}");
    let scheme = resource.scheme_str().unwrap_or("https");
    let authority = resource.authority().map_or("", |authority| authority.as_str());
    (format!("{scheme}://{authority}{path}"), path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(resource: &str) -> (String, String) {
        metadata_location(&resource.parse().unwrap())
    }

    #[test]
    fn the_well_known_path_goes_between_the_host_and_the_path() {
        let root = "https://api.example.com/.well-known/oauth-protected-resource";
        assert_eq!(location("https://api.example.com").0, root);
        assert_eq!(location("https://api.example.com/").0, root);
        assert_eq!(
            location("https://api.example.com:8443/v1/orders").0,
            "https://api.example.com:8443/.well-known/oauth-protected-resource/v1/orders"
        );
        // RFC 9728 §3.1: a terminating slash is kept.
        assert_eq!(location("http://127.0.0.1:9/api/").1, "/.well-known/oauth-protected-resource/api/");
    }

    #[test]
    fn the_document_carries_every_member_set_and_leaves_out_the_empty_ones() {
        let metadata = ResourceMetadata::builder("https://api.example.com")
            .authorization_server("https://auth.example.com")
            .scopes_supported(["read"])
            .bearer_methods_supported([BearerMethod::Header, BearerMethod::Query])
            .resource_documentation("https://docs.example.com/api")
            .dpop_signing_alg_values_supported([Algorithm::ES256, Algorithm::EdDSA, Algorithm::ES256])
            .build()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(metadata.json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "resource": "https://api.example.com",
                "authorization_servers": ["https://auth.example.com"],
                "scopes_supported": ["read"],
                "bearer_methods_supported": ["header", "query"],
                "resource_documentation": "https://docs.example.com/api",
                "dpop_signing_alg_values_supported": ["ES256", "EdDSA"],
            })
        );
        let bare = ResourceMetadata::builder("https://api.example.com").build().unwrap();
        let json: serde_json::Value = serde_json::from_slice(bare.json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"resource": "https://api.example.com", "bearer_methods_supported": ["header"]})
        );
    }

    #[test]
    fn urls_must_be_https_except_to_loopback_or_when_allowed() {
        let refused = ResourceMetadata::builder("https://api.example.com")
            .authorization_server("http://auth.example.com")
            .build()
            .unwrap_err();
        assert_eq!(refused.kind(), ConfigErrorKind::Url);
        assert!(refused.to_string().contains("allow_http"), "{refused}");
        assert!(ResourceMetadata::builder("http://api.internal")
            .authorization_server("http://auth.internal")
            .allow_http()
            .build()
            .is_ok());
        let docs =
            ResourceMetadata::builder("https://api.example.com").resource_documentation("docs").build();
        assert_eq!(docs.unwrap_err().kind(), ConfigErrorKind::Url);
    }

    #[test]
    fn a_symmetric_dpop_algorithm_is_refused() {
        let error = ResourceMetadata::builder("https://api.example.com")
            .dpop_signing_alg_values_supported([Algorithm::HS256])
            .build()
            .unwrap_err();
        assert_eq!(error.kind(), ConfigErrorKind::Algorithm);
    }
}
