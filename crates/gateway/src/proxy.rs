//! The reverse proxy at the end of the stack: hyper-util's pooled client to one upstream.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName};
use http::uri::{PathAndQuery, Uri};
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::Service;

use crate::Error;

/// Forwards requests to one upstream: the path and query kept, the authority and scheme
/// (and any base path) the upstream's, hop-by-hop headers dropped both ways.
#[derive(Debug)]
pub struct Proxy<B> {
    client: Client<HttpConnector, B>,
    upstream: Uri,
}

impl<B> Clone for Proxy<B> {
    fn clone(&self) -> Self {
        Self { client: self.client.clone(), upstream: self.upstream.clone() }
    }
}

impl<B> Proxy<B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// A proxy to `upstream` (`http://host[:port][/base]`), connecting within `connect_timeout`.
    pub fn new(upstream: Uri, connect_timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Self { client, upstream }
    }

    /// `uri`'s path and query on the upstream.
    fn upstream_uri(&self, uri: &Uri) -> Result<Uri, Error> {
        let base = self.upstream.path().trim_end_matches('/');
        let path_and_query = uri.path_and_query().map_or("/", PathAndQuery::as_str);
        let mut parts = self.upstream.clone().into_parts();
        parts.path_and_query =
            Some(format!("{base}{path_and_query}").parse().map_err(|_| Error::new("bad path"))?);
        Uri::from_parts(parts).map_err(|_| Error::new("bad upstream URI"))
    }
}

type ProxyFuture = Pin<Box<dyn Future<Output = Result<Response<Incoming>, Error>> + Send>>;

impl<B> Service<Request<B>> for Proxy<B>
where
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Incoming>;
    type Error = Error;
    type Future = ProxyFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        let uri = match self.upstream_uri(&parts.uri) {
            Ok(uri) => uri,
            Err(error) => return Box::pin(async move { Err(error) }),
        };
        parts.uri = uri;
        remove_hop_by_hop(&mut parts.headers);
        // The client sets `Host` to the upstream's, as nginx's `proxy_pass` does.
        parts.headers.remove(header::HOST);
        let client = self.client.clone();
        Box::pin(async move {
            let mut response =
                client.request(Request::from_parts(parts, body)).await.map_err(Error::upstream)?;
            remove_hop_by_hop(response.headers_mut());
            Ok(response)
        })
    }
}

/// Drops the headers that belong to one connection (RFC 9110 §7.6.1), and those the
/// `Connection` header names.
fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        header::CONNECTION,
        HeaderName::from_static("keep-alive"),
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        HeaderName::from_static("proxy-connection"),
    ] {
        headers.remove(name);
    }
}
