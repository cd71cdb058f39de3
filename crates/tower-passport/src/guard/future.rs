//! The guard's response future.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use super::authorize::AuthorizeFuture;
use super::{context, Principal};
use crate::body::ResponseBody;
use crate::error::{body_left_unread, close_if, AuthError, ResponseConfig};

pin_project! {
    /// Response future of [`Guard`](super::Guard): authorizes, then calls the inner service.
    pub struct ResponseFuture<S, ReqBody, U>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, ReqBody, U>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqBody, U>
    where
        S: Service<Request<ReqBody>>,
    {
        Authorizing {
            authorize: AuthorizeFuture<U>,
            call: Option<(S, Request<ReqBody>)>,
            responses: Arc<ResponseConfig>,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
        Rejected {
            // Taken when answered.
            error: Option<AuthError>,
            responses: Arc<ResponseConfig>,
            // The request announced a body nobody will read: close the connection.
            close: bool,
        },
    }
}

impl<S, ReqBody, U> ResponseFuture<S, ReqBody, U>
where
    S: Service<Request<ReqBody>>,
{
    pub(super) fn authorizing(
        authorize: AuthorizeFuture<U>,
        inner: S,
        request: Request<ReqBody>,
        responses: Arc<ResponseConfig>,
    ) -> Self {
        Self { state: State::Authorizing { authorize, call: Some((inner, request)), responses } }
    }

    pub(super) fn calling(future: S::Future) -> Self {
        Self { state: State::Calling { future } }
    }

    /// Answers `error` at once, before anything reads `request`'s body.
    pub(super) fn rejected<B>(
        error: AuthError,
        responses: Arc<ResponseConfig>,
        request: &Request<B>,
    ) -> Self {
        let close = body_left_unread(request.version(), request.headers());
        Self { state: State::Rejected { error: Some(error), responses, close } }
    }
}

/// Lets an authorized request through: counts it, and puts its [`Principal`] into its
/// extensions, where the layers behind find its [`GuardContext`](super::GuardContext) too.
#[inline]
pub(super) fn admit<B, U: Clone + Send + Sync + 'static>(
    request: &mut Request<B>,
    principal: Principal<U>,
    responses: &Arc<ResponseConfig>,
) {
    crate::telemetry::allowed();
    context::hand_over(request.extensions_mut(), principal.admitted_under(responses));
}

impl<S, ReqBody, ResBody, U> Future for ResponseFuture<S, ReqBody, U>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    U: Clone + Send + Sync + 'static,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Authorizing { authorize, call, responses } => {
                    let outcome = ready!(authorize.as_mut().poll(cx));
                    let (error, close) = match (outcome, call.take()) {
                        (Ok(principal), Some((mut inner, mut request))) => {
                            admit(&mut request, principal, responses);
                            let future = inner.call(request);
                            state.set(State::Calling { future });
                            continue;
                        }
                        (Err(error), Some((_, request))) => {
                            (error, body_left_unread(request.version(), request.headers()))
                        }
                        (Err(error), None) => (error, false),
                        (Ok(_), None) => (AuthError::polled_after_completion(), false),
                    };
                    // A second poll answers "polled after completion", never re-polls.
                    let responses = responses.clone();
                    state.set(State::Rejected { error: None, responses: responses.clone(), close: false });
                    return Poll::Ready(Ok(close_if(responses.reject(error, ResponseBody::full), close)));
                }
                StateProj::Calling { future } => {
                    return future.poll(cx).map_ok(|response| response.map(ResponseBody::inner));
                }
                StateProj::Rejected { error, responses, close } => {
                    let error = error.take().unwrap_or_else(AuthError::polled_after_completion);
                    return Poll::Ready(Ok(close_if(responses.reject(error, ResponseBody::full), *close)));
                }
            }
        }
    }
}
