//! The service at the end of the forward-auth stack: 200 with the headers for upstream.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, HeaderValue, Request, Response};
use tower_service::Service;

use crate::guard::GuardContext;
use crate::upstream_headers::HeaderRules;

/// Answers a request the guard and the policy let through: 200, with the header rules'
/// headers for the proxy to copy upstream.
///
/// Every configured header is present, empty when
/// the principal has no value for it (or no token came, on a public route), so that a
/// proxy replacing headers by the answer's (Traefik's `authResponseHeaders`, Envoy's
/// `allowed_upstream_headers`) overwrites a spoofed copy instead of leaving it.
#[derive(Clone, Debug)]
pub struct Allow {
    rules: Arc<HeaderRules>,
}

impl Allow {
    pub(crate) fn new(rules: Arc<HeaderRules>) -> Self {
        Self { rules }
    }
}

impl<B> Service<Request<B>> for Allow {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let token = GuardContext::of(request.extensions()).and_then(|context| context.token);
        let mut response = Response::new(String::new());
        let headers: &mut HeaderMap = response.headers_mut();
        self.rules.apply(headers, token);
        for name in self.rules.header_names() {
            if !headers.contains_key(name) {
                headers.insert(name.clone(), HeaderValue::from_static(""));
            }
        }
        ready(Ok(response))
    }
}
