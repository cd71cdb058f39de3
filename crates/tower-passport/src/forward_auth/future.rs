//! The response future of [`ForwardAuth`](super::ForwardAuth).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use super::{Allow, ForwardAuthBody};
use crate::error::AuthError;
use crate::guard::future::ResponseFuture as GuardFuture;
use crate::policy::Policy;

pin_project! {
    /// Response future of [`ForwardAuth`](super::ForwardAuth): the guard's answer, or a
    /// refusal of a sub-request that does not name its original request.
    pub struct ResponseFuture<B, U> {
        #[pin]
        state: State<B, U>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<B, U> {
        Guarded { #[pin] future: GuardFuture<Policy<Allow>, B, U> },
        Refused { response: Option<Response<ForwardAuthBody>> },
    }
}

impl<B, U> ResponseFuture<B, U> {
    pub(super) fn guarded(future: GuardFuture<Policy<Allow>, B, U>) -> Self {
        Self { state: State::Guarded { future } }
    }

    pub(super) fn refused(response: Response<ForwardAuthBody>) -> Self {
        Self { state: State::Refused { response: Some(response) } }
    }
}

impl<B, U> Future for ResponseFuture<B, U>
where
    U: Clone + Send + Sync + 'static,
{
    type Output = Result<Response<ForwardAuthBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Guarded { future } => future.poll(cx),
            StateProj::Refused { response } => Poll::Ready(Ok(response.take().unwrap_or_else(|| {
                let error = AuthError::polled_after_completion();
                crate::error::ResponseConfig::default().reject(error, crate::body::ResponseBody::full)
            }))),
        }
    }
}
