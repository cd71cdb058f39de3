//! Passport's JSON APIs behind the guard [`OAuthServer::json_apis`](super::OAuthServer::json_apis)
//! was given, served by the routes: the guard's user type is erased here, so the routes
//! carry no type parameter.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::{Request, Response};
use http_body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use tower_layer::Layer;
use tower_service::Service;

use super::response::EndpointResponse;
use super::server::Server;
use super::{AuthorizedTokens, Clients, PersonalAccessTokens};
use crate::guard::GuardLayer;
use crate::issuer::paths;

/// A request body of any type, boxed.
type AnyBody = UnsyncBoxBody<Bytes, BodyError>;

/// A request body's error, boxed (a named type, so that the guarded call's future is `Send`
/// for every lifetime the compiler asks about).
#[derive(Debug)]
struct BodyError(Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BodyError {}

/// A boxed answer.
type Answer = Pin<Box<dyn Future<Output = EndpointResponse> + Send>>;

/// The JSON APIs behind their guard, for any guard user type.
#[derive(Clone)]
pub(crate) struct GuardedApis {
    serve: Arc<dyn Fn(Arc<Server>, Request<AnyBody>) -> Answer + Send + Sync>,
}

impl GuardedApis {
    /// The APIs behind `guard`.
    pub(crate) fn new<U: Clone + Send + Sync + 'static>(guard: GuardLayer<U>) -> Self {
        let serve = move |server: Arc<Server>, request: Request<AnyBody>| -> Answer {
            // The guard is layered per call (it clones a shared configuration), so that the
            // server does not hold itself.
            let mut guarded = guard.layer(JsonApis { server });
            Box::pin(async move {
                let Ok(()) = std::future::poll_fn(|cx| guarded.poll_ready(cx)).await;
                let Ok(response) = guarded.call(request).await;
                let (parts, body) = response.into_parts();
                let bytes = match body.collect().await {
                    Ok(collected) => collected.to_bytes(),
                    Err(never) => match never {},
                };
                Response::from_parts(parts, Full::new(bytes))
            })
        };
        Self { serve: Arc::new(serve) }
    }

    /// Serves `request` (a path [`is_json_api`] accepted).
    pub(crate) fn call<B>(&self, server: Arc<Server>, request: Request<B>) -> Answer
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let request = request.map(|body| {
            let body = body
                .map_frame(|frame| frame.map_data(|mut data| data.copy_to_bytes(data.remaining())))
                .map_err(|error| BodyError(error.into()));
            UnsyncBoxBody::new(body)
        });
        (self.serve)(server, request)
    }
}

/// Whether `path` (below the mount path) is one of the JSON APIs'.
pub(crate) fn is_json_api(path: &str) -> bool {
    [paths::PERSONAL_ACCESS_TOKENS, paths::TOKENS, paths::CLIENTS]
        .iter()
        .any(|api| path.strip_prefix(api).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// The three JSON APIs as one service, dispatched by path.
#[derive(Clone)]
struct JsonApis {
    server: Arc<Server>,
}

impl Service<Request<AnyBody>> for JsonApis {
    type Response = EndpointResponse;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<EndpointResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<AnyBody>) -> Self::Future {
        let server = self.server.clone();
        let path = server.route_path(request.uri().path()).to_owned();
        if path.starts_with(paths::PERSONAL_ACCESS_TOKENS) {
            PersonalAccessTokens::new(server).call(request)
        } else if path.starts_with(paths::TOKENS) {
            AuthorizedTokens::new(server).call(request)
        } else {
            Clients::new(server).call(request)
        }
    }
}
