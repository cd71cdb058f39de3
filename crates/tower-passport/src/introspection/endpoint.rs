//! Where the introspection endpoint is: configured, or discovered once from the issuer's
//! RFC 8414 metadata (then OpenID Connect Discovery's), and looked up again after a
//! failed discovery.

use std::fmt;
use std::time::Duration;

use http::header::{ACCEPT, USER_AGENT};
use http::{HeaderValue, Request, StatusCode, Uri};
use tokio::sync::OnceCell;

use crate::error::{AuthError, Reason};
use crate::keys::remote::{display, introspection_endpoint, HttpClient};
use crate::BackendError;

/// Where to discover the endpoint, and what was found.
pub(super) struct Discovery {
    pub(super) issuer: Box<str>,
    /// RFC 8414's metadata URL, then OpenID Connect Discovery's.
    pub(super) metadata: [Uri; 2],
    pub(super) allow_http: bool,
    pub(super) found: OnceCell<Uri>,
}

/// The endpoint, as configured.
pub(super) enum Endpoint {
    /// Given.
    Fixed(Uri),
    /// Read from the issuer's metadata at the first call; a failed lookup is tried again
    /// at the next.
    Discovered(Box<Discovery>),
}

impl Endpoint {
    /// The endpoint's URL, discovering it first if needed (concurrent first calls share one
    /// lookup).
    pub(super) async fn uri(&self, client: &dyn HttpClient, timeout: Duration) -> Result<&Uri, AuthError> {
        match self {
            Self::Fixed(uri) => Ok(uri),
            Self::Discovered(discovery) => discovery
                .found
                .get_or_try_init(|| {
                    discover(client, timeout, &discovery.issuer, &discovery.metadata, discovery.allow_http)
                })
                .await
                .map_err(|error| AuthError::unavailable(Reason::IntrospectionUnavailable, error)),
        }
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Without user info or query, which may carry credentials.
        match self {
            Self::Fixed(uri) => write!(f, "{}", display(uri)),
            Self::Discovered(discovery) => match discovery.found.get() {
                Some(uri) => write!(f, "{} (discovered from {})", display(uri), discovery.issuer),
                None => write!(f, "to be discovered from {}", discovery.issuer),
            },
        }
    }
}

async fn discover(
    client: &dyn HttpClient,
    timeout: Duration,
    issuer: &str,
    metadata: &[Uri; 2],
    allow_http: bool,
) -> Result<Uri, BackendError> {
    let mut tried = Vec::with_capacity(metadata.len());
    for url in metadata {
        let mut request = Request::new(());
        *request.uri_mut() = url.clone();
        request.headers_mut().insert(ACCEPT, HeaderValue::from_static("application/json"));
        request.headers_mut().insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("tower-passport/", env!("CARGO_PKG_VERSION"))),
        );
        match tokio::time::timeout(timeout, client.get(request)).await {
            Ok(Ok(response)) if response.status() == StatusCode::OK => {
                let found =
                    introspection_endpoint(response.body(), issuer, allow_http).map_err(|problem| {
                        BackendError::msg(format!("discovery at {}: {problem}", display(url)))
                    })?;
                tracing::debug!(issuer, metadata = %display(url), endpoint = %display(&found), "introspection endpoint discovered");
                return Ok(found);
            }
            Ok(Ok(response)) => tried.push(format!("{} answered {}", display(url), response.status())),
            Ok(Err(error)) => tried.push(format!("GET {} failed: {error}", display(url))),
            Err(_elapsed) => tried.push(format!("GET {} timed out after {timeout:?}", display(url))),
        }
    }
    Err(BackendError::msg(format!(
        "discovering the introspection endpoint of {issuer} failed: {}",
        tried.join("; ")
    )))
}
