//! The resolver's deadline: how long a request waits for its [`ResolvePrincipal`]
//! resolver before the guard answers 503.
//!
//! A resolver that has to wait (a database query, a call to a user service) gets one
//! deadline per request, [`DEFAULT_RESOLVE_TIMEOUT`] (5 s) unless
//! [`GuardBuilder::resolve_timeout`](super::GuardBuilder::resolve_timeout) says otherwise,
//! for the client check and the user lookup together. Past it the guard drops the
//! resolver's future and answers as for a failing resolver: `503 Service Unavailable`
//! with no challenge, [`Reason::ResolverFailed`], the `error_description` "The service
//! cannot authenticate requests right now", a [`BackendError`] saying "the resolver did
//! not answer within 5s" as its source, and the `warn`-level `request rejected` event
//! every 503 emits (with `reason=ResolverFailed` and that source; the metric
//! `passport_auth_decisions_total{outcome="rejected",reason="ResolverFailed"}`). Nothing is
//! cached: the next request asks the resolver again.
//!
//! Five seconds is long enough for a slow query on a loaded database and short enough
//! that a stalled one does not hold every request (and the connection behind it) until the
//! client or a proxy gives up, typically after 30 to 60 s. A failing resolver (`Err`)
//! answers the same 503 at once.
//!
//! What the deadline costs: nothing on the warm path. A request whose every answer is at
//! hand (the resolver cache's, or [`resolve_user_now`](super::ResolvePrincipal::resolve_user_now)'s
//! and [`client_status_now`](super::ResolvePrincipal::client_status_now)'s) is authorized
//! without a future, so without a timer. Only a request that waits for the resolver (or
//! for the revocation check, whose own bound is the check's) sets one.
//!
//! The timer is tokio's, taken from the runtime the request runs on. On a tokio runtime it
//! needs timers enabled (`#[tokio::main]`, `#[tokio::test]` and `Builder::enable_all` do;
//! a runtime built with `enable_io` alone panics when a request waits for the resolver,
//! as tokio's timers always do there). Off a tokio runtime (another executor) there is no
//! timer: the resolver is awaited without a bound, and a `tower::timeout` layer in front
//! is the bound. [`GuardBuilder::no_resolve_timeout`](super::GuardBuilder::no_resolve_timeout)
//! turns the deadline off.
//!
//! [`ResolvePrincipal`]: super::ResolvePrincipal
//! [`Reason::ResolverFailed`]: crate::error::Reason::ResolverFailed

use std::future::Future;
use std::time::Duration;

use crate::error::{AuthError, BackendError, Reason};

/// How long a request waits for the resolver unless
/// [`GuardBuilder::resolve_timeout`](super::GuardBuilder::resolve_timeout) says otherwise.
///
/// ```
/// assert_eq!(tower_passport::guard::DEFAULT_RESOLVE_TIMEOUT.as_secs(), 5);
/// ```
pub const DEFAULT_RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// `resolving`'s answer, or 503 [`Reason::ResolverFailed`] once `timeout` passed (`None`:
/// no deadline). Without a current tokio runtime there is no timer, and no deadline.
pub(super) async fn within<T>(
    timeout: Option<Duration>,
    resolving: impl Future<Output = Result<T, AuthError>>,
) -> Result<T, AuthError> {
    let Some(timeout) = timeout.filter(|_| tokio::runtime::Handle::try_current().is_ok()) else {
        return resolving.await;
    };
    match tokio::time::timeout(timeout, resolving).await {
        Ok(answer) => answer,
        Err(_elapsed) => Err(AuthError::unavailable(
            Reason::ResolverFailed,
            BackendError::msg(format!("the resolver did not answer within {timeout:?}")),
        )),
    }
}

#[cfg(test)]
#[path = "resolve_timeout_tests.rs"]
mod tests;
