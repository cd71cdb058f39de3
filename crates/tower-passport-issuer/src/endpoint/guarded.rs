//! Passport's JSON APIs behind the guard [`OAuthServer::json_apis`](super::OAuthServer::json_apis)
//! was given, served by the routes: the guard's user type is erased here, so the routes
//! carry no type parameter. `A` is the APIs' service, made per call.

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use http::{Request, Response};
use http_body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use tower_layer::Layer;
use tower_service::Service;

use super::response::EndpointResponse;
use crate::paths;
use tower_passport::guard::GuardLayer;

/// A request body of any type, boxed.
pub(crate) type AnyBody = UnsyncBoxBody<Bytes, BodyError>;

/// A request body's error, boxed (a named type, so that the guarded call's future is `Send`
/// for every lifetime the compiler asks about).
#[derive(Debug)]
pub(crate) struct BodyError(Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for BodyError {}

/// A boxed answer.
pub(crate) type Answer = Pin<Box<dyn Future<Output = EndpointResponse> + Send>>;

/// The JSON APIs (the service `A`) behind their guard, for any guard user type.
pub(crate) struct GuardedApis<A> {
    serve: Arc<dyn Fn(A, Request<AnyBody>) -> Answer + Send + Sync>,
    apis: PhantomData<fn(A)>,
}

impl<A> GuardedApis<A>
where
    A: Service<Request<AnyBody>, Response = EndpointResponse, Error = Infallible> + Clone + Send + 'static,
    A::Future: Send,
{
    /// The APIs behind `guard`.
    pub(crate) fn new<U: Clone + Send + Sync + 'static>(guard: GuardLayer<U>) -> Self {
        let serve = move |apis: A, request: Request<AnyBody>| -> Answer {
            // The guard is layered per call (it clones a shared configuration), so that the
            // server does not hold itself.
            let mut guarded = guard.layer(apis);
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
        Self { serve: Arc::new(serve), apis: PhantomData }
    }

    /// Serves `request` (a path [`is_json_api`] accepted) through `apis`.
    pub(crate) fn call<B>(&self, apis: A, request: Request<B>) -> Answer
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
        (self.serve)(apis, request)
    }
}

/// Whether `path` (below the mount path) is one of the JSON APIs'.
pub(crate) fn is_json_api(path: &str) -> bool {
    [paths::PERSONAL_ACCESS_TOKENS, paths::TOKENS, paths::CLIENTS]
        .iter()
        .any(|api| path.strip_prefix(api).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}
