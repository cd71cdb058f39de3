//! Where a forward-auth sub-request carries the original request's method and URI.

use http::{HeaderMap, HeaderName, Method, Uri};

use crate::error::{AuthError, ConfigError, ConfigErrorKind, Reason};

/// Where the original request's method and URI come from, per proxy protocol.
///
/// ```
/// use tower_passport::forward_auth::OriginalRequest;
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let _nginx = OriginalRequest::nginx(); // X-Original-Method, X-Original-URI
/// let _traefik = OriginalRequest::traefik(); // X-Forwarded-Method, X-Forwarded-Uri
/// let _envoy = OriginalRequest::envoy(); // the request itself (ext_authz's HTTP service)
/// let _envoy = OriginalRequest::envoy_with_prefix("/authz")?; // its `path_prefix`
/// let _custom = OriginalRequest::headers("x-auth-method", "x-auth-uri")?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct OriginalRequest {
    source: Source,
}

#[derive(Clone, Debug)]
enum Source {
    /// Two headers the proxy sets.
    Headers { method: HeaderName, uri: HeaderName },
    /// The sub-request's own method and path, after a prefix.
    Itself { path_prefix: Option<String> },
}

impl OriginalRequest {
    /// nginx `auth_request`, with the headers the gateways guide's snippet sets:
    /// `X-Original-Method: $request_method` and `X-Original-URI: $request_uri`.
    pub fn nginx() -> Self {
        Self::from_static("x-original-method", "x-original-uri")
    }

    /// Traefik `ForwardAuth`: `X-Forwarded-Method` and `X-Forwarded-Uri`.
    pub fn traefik() -> Self {
        Self::from_static("x-forwarded-method", "x-forwarded-uri")
    }

    /// Envoy's HTTP `ext_authz` service: the check request has the original method and
    /// path.
    pub fn envoy() -> Self {
        Self { source: Source::Itself { path_prefix: None } }
    }

    /// Envoy's HTTP `ext_authz` service with `path_prefix` set: the prefix is taken off
    /// the check request's path.
    ///
    /// # Errors
    /// [`ConfigErrorKind::Url`] when `prefix` does not start with `/`.
    pub fn envoy_with_prefix(prefix: &str) -> Result<Self, ConfigError> {
        if !prefix.starts_with('/') {
            return Err(ConfigError::new(
                ConfigErrorKind::Url,
                format!("path prefix `{prefix}` does not start with `/`"),
            ));
        }
        let prefix = prefix.trim_end_matches('/');
        Ok(Self { source: Source::Itself { path_prefix: (!prefix.is_empty()).then(|| prefix.to_owned()) } })
    }

    /// Any proxy that puts the method and the URI (path and query) in two headers.
    ///
    /// # Errors
    /// [`ConfigErrorKind::Header`] when a name is not a valid header name.
    pub fn headers(method: &str, uri: &str) -> Result<Self, ConfigError> {
        let parse = |name: &str| {
            HeaderName::from_bytes(name.as_bytes()).map_err(|source| {
                ConfigError::new(ConfigErrorKind::Header, format!("`{name}` is not a valid header name"))
                    .with_source(source)
            })
        };
        Ok(Self { source: Source::Headers { method: parse(method)?, uri: parse(uri)? } })
    }

    fn from_static(method: &'static str, uri: &'static str) -> Self {
        let (method, uri) = (HeaderName::from_static(method), HeaderName::from_static(uri));
        Self { source: Source::Headers { method, uri } }
    }

    /// The original method and URI of a sub-request with this `method`, `uri` and
    /// `headers`.
    ///
    /// # Errors
    /// 500 when the proxy sent no method or URI header, or (Envoy) a path outside its
    /// prefix: the proxy is misconfigured. 400 `invalid_request` when they came but do not
    /// parse as a method and a path: the client's request is malformed.
    pub(crate) fn read(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Result<(Method, Uri), AuthError> {
        let malformed = || AuthError::invalid_request(Reason::UnnormalizedPath);
        match &self.source {
            Source::Headers { method, uri } => {
                // One copy of each, or none. Two copies mean a proxy passed the client's own
                // copy along beside its own; judging either could judge another request.
                let only = |name: &HeaderName| {
                    let mut values = headers.get_all(name).iter();
                    match (values.next(), values.next()) {
                        (value, None) => Ok(value),
                        (Some(_), Some(_)) | (None, Some(_)) => Err(malformed()),
                    }
                };
                let (Some(method), Some(uri)) = (only(method)?, only(uri)?) else {
                    return Err(AuthError::missing_original_request());
                };
                let method = Method::from_bytes(method.as_bytes()).map_err(|_| malformed())?;
                let uri = Uri::try_from(uri.as_bytes()).map_err(|_| malformed())?;
                // A path and query only: `$request_uri` never carries a scheme or host.
                if uri.scheme().is_some() || !uri.path().starts_with('/') {
                    return Err(malformed());
                }
                Ok((method, uri))
            }
            Source::Itself { path_prefix: None } => Ok((method.clone(), uri.clone())),
            Source::Itself { path_prefix: Some(prefix) } => {
                let path_and_query = uri.path_and_query().map_or("/", |path| path.as_str());
                let Some(rest) =
                    path_and_query.strip_prefix(prefix.as_str()).filter(|rest| rest.starts_with('/'))
                else {
                    return Err(AuthError::missing_original_request());
                };
                Ok((method.clone(), Uri::try_from(rest).map_err(|_| malformed())?))
            }
        }
    }
}
