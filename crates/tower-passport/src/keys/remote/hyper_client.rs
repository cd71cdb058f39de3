//! The default HTTP client: hyper 1 and hyper-util's pooled client over rustls.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::client::{FetchFuture, HttpClient};
use crate::error::{BackendError, ConfigError, ConfigErrorKind};

/// The largest JWKS or discovery document read by default: 256 KiB, a hundred times the
/// size of a typical identity provider's set.
pub(super) const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// The default [`HttpClient`].
///
/// Hyper 1 with hyper-util's pooled client, TLS by rustls (aws-lc-rs crypto) trusting the
/// Mozilla roots from `webpki-roots`, or the platform's roots with the `jwks-native-roots`
/// feature and [`HyperClientBuilder::native_roots`].
///
/// It has a connect timeout (5 s by default) and reads at most
/// [`max_response_bytes`](HyperClientBuilder::max_response_bytes) of a body; the key set
/// adds the total timeout. It speaks `http://` too, but a
/// [`RemoteKeySet`](super::RemoteKeySet) only sends it there for loopback addresses or
/// after [`allow_http`](super::RemoteKeySetBuilder::allow_http).
///
/// ```
/// use std::time::Duration;
/// use tower_passport::keys::HyperClient;
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let client = HyperClient::builder()
///     .connect_timeout(Duration::from_secs(2))
///     .max_response_bytes(64 * 1024)
///     .build()?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct HyperClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    max_response_bytes: usize,
}

impl HyperClient {
    /// Starts configuring a client.
    ///
    /// ```
    /// assert!(tower_passport::keys::HyperClient::builder().build().is_ok());
    /// ```
    pub fn builder() -> HyperClientBuilder {
        HyperClientBuilder::default()
    }
}

impl HttpClient for HyperClient {
    fn get(&self, request: Request<()>) -> FetchFuture<'_> {
        Box::pin(self.send(request.map(|()| Full::new(Bytes::new()))))
    }

    fn post(&self, request: Request<Bytes>) -> FetchFuture<'_> {
        Box::pin(self.send(request.map(Full::new)))
    }
}

impl HyperClient {
    /// Sends `request` and reads at most `max_response_bytes` of the answer's body.
    async fn send(&self, request: Request<Full<Bytes>>) -> Result<Response<Bytes>, BackendError> {
        let max = self.max_response_bytes;
        let too_large = || BackendError::msg(format!("the response is larger than {max} bytes"));
        let response = self.client.request(request).await.map_err(BackendError::new)?;
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|len| len.to_str().ok())
            .and_then(|len| len.parse::<u64>().ok());
        if declared.is_some_and(|len| len > max as u64) {
            return Err(too_large());
        }
        let (parts, body) = response.into_parts();
        let body = Limited::new(body, max).collect().await.map_err(|error| {
            if error.is::<LengthLimitError>() {
                too_large()
            } else {
                BackendError::msg(format!("reading the response failed: {error}"))
            }
        })?;
        Ok(Response::from_parts(parts, body.to_bytes()))
    }
}

impl fmt::Debug for HyperClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperClient")
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

/// Configures a [`HyperClient`]. Building is synchronous and opens no connection.
///
/// ```
/// use std::time::Duration;
/// let builder = tower_passport::keys::remote::HyperClientBuilder::default()
///     .connect_timeout(Duration::from_secs(2));
/// assert!(builder.build().is_ok());
/// ```
#[must_use]
#[derive(Clone, Debug)]
pub struct HyperClientBuilder {
    connect_timeout: Duration,
    max_response_bytes: usize,
    #[cfg(feature = "jwks-native-roots")]
    native_roots: bool,
}

impl Default for HyperClientBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            #[cfg(feature = "jwks-native-roots")]
            native_roots: false,
        }
    }
}

impl HyperClientBuilder {
    /// How long establishing a TCP connection may take (5 s by default).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_passport::keys::HyperClient;
    /// assert!(HyperClient::builder().connect_timeout(Duration::from_secs(1)).build().is_ok());
    /// assert!(HyperClient::builder().connect_timeout(Duration::ZERO).build().is_err());
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest response body read, in bytes (256 KiB by default). A larger body, or a
    /// larger `Content-Length`, fails the request.
    ///
    /// ```
    /// use tower_passport::keys::HyperClient;
    /// assert!(HyperClient::builder().max_response_bytes(16 * 1024).build().is_ok());
    /// assert!(HyperClient::builder().max_response_bytes(0).build().is_err());
    /// ```
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// Trusts the platform's root certificates instead of the Mozilla roots.
    ///
    /// ```no_run
    /// // Fails where the platform has no root certificates installed.
    /// let client = tower_passport::keys::HyperClient::builder().native_roots().build();
    /// # let _ = client;
    /// ```
    #[cfg(feature = "jwks-native-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "jwks-native-roots")))]
    pub fn native_roots(mut self) -> Self {
        self.native_roots = true;
        self
    }

    /// Builds the client. Synchronous: no connection is opened until the first request.
    ///
    /// # Errors
    /// When a limit is zero, or (with native roots) the platform has no usable root
    /// certificate.
    ///
    /// ```
    /// let client = tower_passport::keys::HyperClient::builder().build();
    /// assert!(client.is_ok());
    /// ```
    pub fn build(self) -> Result<HyperClient, ConfigError> {
        if self.connect_timeout.is_zero() || self.max_response_bytes == 0 {
            return Err(ConfigError::new(
                ConfigErrorKind::Limit,
                "the connect timeout and the response size cap must be positive",
            ));
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = hyper_rustls::HttpsConnectorBuilder::new();
        #[cfg(feature = "jwks-native-roots")]
        let native = self.native_roots;
        #[cfg(not(feature = "jwks-native-roots"))]
        let native = false;
        let tls = if native {
            with_native_roots(tls, provider)?
        } else {
            tls.with_provider_and_webpki_roots(provider)
                .map_err(|e| ConfigError::new(ConfigErrorKind::Tls, "cannot configure TLS").with_source(e))?
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(self.connect_timeout));
        http.set_nodelay(true);
        let connector = tls.https_or_http().enable_http1().wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).pool_timer(TokioTimer::new()).build(connector);
        Ok(HyperClient { client, max_response_bytes: self.max_response_bytes })
    }
}

type TlsBuilder = hyper_rustls::HttpsConnectorBuilder<hyper_rustls::builderstates::WantsTlsConfig>;
type TlsWithRoots = hyper_rustls::HttpsConnectorBuilder<hyper_rustls::builderstates::WantsSchemes>;

#[cfg(feature = "jwks-native-roots")]
fn with_native_roots(
    tls: TlsBuilder,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<TlsWithRoots, ConfigError> {
    tls.with_provider_and_native_roots(provider).map_err(|e| {
        ConfigError::new(ConfigErrorKind::Tls, "cannot load the platform's root certificates").with_source(e)
    })
}

#[cfg(not(feature = "jwks-native-roots"))]
fn with_native_roots(
    _tls: TlsBuilder,
    _provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<TlsWithRoots, ConfigError> {
    Err(ConfigError::new(ConfigErrorKind::Feature, "native roots need the jwks-native-roots feature"))
}
