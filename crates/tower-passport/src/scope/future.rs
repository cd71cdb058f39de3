//! The response future of the scope layers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use crate::body::ResponseBody;
use crate::error::{close_if, AuthError, ResponseConfig};

pin_project! {
    /// Response future of [`Require`](super::Require) and of the gateway layers behind the
    /// guard: the inner service's, or a rejection.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Inner { #[pin] future: F },
        // The error is taken when answered; `close`: the request's body is left unread.
        Rejected { error: Option<AuthError>, responses: Arc<ResponseConfig>, close: bool },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn inner(future: F) -> Self {
        Self { state: State::Inner { future } }
    }

    pub(crate) fn rejected(error: AuthError, responses: Arc<ResponseConfig>, close: bool) -> Self {
        Self { state: State::Rejected { error: Some(error), responses, close } }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => future.poll(cx).map_ok(|r| r.map(ResponseBody::inner)),
            StateProj::Rejected { error, responses, close } => {
                let error = error.take().unwrap_or_else(AuthError::polled_after_completion);
                Poll::Ready(Ok(close_if(responses.reject(error, ResponseBody::full), *close)))
            }
        }
    }
}
