//! The HTTP client a remote key set fetches through: a small trait, so that any client
//! (or a test double) can stand in for the default one.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use http::{Request, Response};

use crate::error::BackendError;

/// What [`HttpClient::get`] returns: the response with its whole body, or why there is none.
///
/// ```
/// use bytes::Bytes;
/// use http::Response;
/// use tower_passport::keys::remote::FetchFuture;
/// let answer: FetchFuture<'static> = Box::pin(async { Ok(Response::new(Bytes::from_static(b"{}"))) });
/// # let _ = answer;
/// ```
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Response<Bytes>, BackendError>> + Send + 'a>>;

/// Sends a remote key set's `GET`s and an introspection client's `POST`s.
///
/// A [`RemoteKeySet`](super::RemoteKeySet) fetches the JWKS document and the discovery
/// documents with [`get`](Self::get); with the `introspection` feature, an RFC 7662
/// introspection client sends its form `POST`s with [`post`](Self::post).
///
/// An implementation sends `request` as it is (its headers include `If-None-Match` when
/// the set has an `ETag`), follows no redirect, and answers with the status, headers and
/// whole body. It should cap the body it reads; the key set also refuses bodies over its
/// [`max_response_bytes`](super::RemoteKeySetBuilder::max_response_bytes) and bounds every
/// request with its [`timeout`](super::RemoteKeySetBuilder::timeout).
///
/// [`HyperClient`](super::HyperClient) (hyper 1 and rustls) is the default. The trait is
/// also implemented for closures, which makes test doubles one line:
///
/// ```
/// use bytes::Bytes;
/// use http::{Request, Response};
/// use tower_passport::keys::remote::HttpClient;
/// use tower_passport::BackendError;
///
/// let offline = |_request: Request<()>| async {
///     Err::<Response<Bytes>, _>(BackendError::msg("offline"))
/// };
/// # fn is_client(_: &impl HttpClient) {}
/// is_client(&offline);
/// ```
pub trait HttpClient: Send + Sync + 'static {
    /// Sends `request`, a `GET` with no body.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::{Request, Response, StatusCode};
    /// use tower_passport::keys::remote::HttpClient;
    /// use tower_passport::BackendError;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), BackendError> {
    /// let gone = |_request: Request<()>| async {
    ///     let mut response = Response::new(Bytes::new());
    ///     *response.status_mut() = StatusCode::GONE;
    ///     Ok::<_, BackendError>(response)
    /// };
    /// let response = gone.get(Request::new(())).await?;
    /// assert_eq!(response.status(), StatusCode::GONE);
    /// # Ok(())
    /// # }
    /// ```
    fn get(&self, request: Request<()>) -> FetchFuture<'_>;

    /// Sends `request`, a `POST` with its whole body (an RFC 7662 introspection request,
    /// `application/x-www-form-urlencoded`), under the same rules as [`get`](Self::get).
    ///
    /// [`HyperClient`](super::HyperClient) sends it. A client that only fetches key sets
    /// (a closure, for one) keeps this default, which fails without sending anything.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::{Request, Response};
    /// use tower_passport::keys::remote::HttpClient;
    /// use tower_passport::BackendError;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let get_only = |_request: Request<()>| async { Ok::<_, BackendError>(Response::new(Bytes::new())) };
    /// assert!(get_only.post(Request::new(Bytes::from_static(b"token=abc"))).await.is_err());
    /// # }
    /// ```
    fn post(&self, request: Request<Bytes>) -> FetchFuture<'_> {
        let _ = request;
        Box::pin(async { Err(BackendError::msg("this HTTP client sends GET requests only")) })
    }
}

impl<F, Fut> HttpClient for F
where
    F: Fn(Request<()>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Bytes>, BackendError>> + Send + 'static,
{
    fn get(&self, request: Request<()>) -> FetchFuture<'_> {
        Box::pin(self(request))
    }
}
