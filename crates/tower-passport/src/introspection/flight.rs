//! Single flight and the in-flight bound: concurrent requests for the same uncached token
//! share one call, and past the bound a new call is refused at once (503), never queued.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{OnceCell, Semaphore};

use super::cache::{TokenDigest, Verdict};
use crate::error::{AuthError, Reason};
use crate::BackendError;

type Call = Arc<OnceCell<Verdict>>;

/// The calls in flight, by token digest, and the permits that bound them.
pub(super) struct Flights {
    calls: Mutex<HashMap<TokenDigest, Call>>,
    permits: Semaphore,
    bound: usize,
}

impl Flights {
    pub(super) fn new(bound: usize) -> Self {
        let bound = bound.min(Semaphore::MAX_PERMITS);
        Self { calls: Mutex::default(), permits: Semaphore::new(bound), bound }
    }

    fn calls(&self) -> MutexGuard<'_, HashMap<TokenDigest, Call>> {
        // Never held across an await, and every critical section leaves the map whole.
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The verdict of the call for `key`: joins the one in flight, or makes `call`, if a
    /// permit is free. The first to arrive calls; the others wait for its verdict (and one
    /// of them takes over if it is dropped before the end).
    pub(super) async fn run<F, Fut>(&self, key: TokenDigest, call: F) -> Verdict
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Verdict>,
    {
        let cell = self.calls().entry(key).or_default().clone();
        let mut seat = Seat { flights: self, key, cell, done: false };
        let verdict = seat
            .cell
            .get_or_init(|| async {
                match self.permits.try_acquire() {
                    Ok(_permit) => call().await,
                    Err(_) => Err(AuthError::unavailable(
                        Reason::IntrospectionUnavailable,
                        BackendError::msg(format!(
                            "{} introspection calls are in flight already",
                            self.bound
                        )),
                    )),
                }
            })
            .await
            .clone();
        seat.done = true;
        verdict
    }

    /// How many tokens have a call in flight (or waiters left over).
    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.calls().len()
    }
}

/// A request's place in a call: on leaving, a finished call leaves the map (later
/// requests read the answer cache, or call again after an error), and an abandoned one
/// leaves with its last waiter.
struct Seat<'a> {
    flights: &'a Flights,
    key: TokenDigest,
    cell: Call,
    done: bool,
}

impl Drop for Seat<'_> {
    fn drop(&mut self) {
        let mut calls = self.flights.calls();
        let ours = calls.get(&self.key).is_some_and(|cell| Arc::ptr_eq(cell, &self.cell));
        // Two references: the map's and ours. Anyone else still waiting keeps it.
        if ours && (self.done || Arc::strong_count(&self.cell) <= 2) {
            calls.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn key(n: u8) -> TokenDigest {
        super::super::cache::digest(&n.to_string())
    }

    fn refused() -> Verdict {
        Err(AuthError::invalid_token(Reason::InactiveToken))
    }

    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_requests_for_one_token_make_one_call() {
        let flights = Flights::new(4);
        let calls = AtomicUsize::new(0);
        let (release, gate) = tokio::sync::watch::channel(false);
        let call = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            let mut gate = gate.clone();
            let _ = gate.wait_for(|open| *open).await;
            refused()
        };
        let waiters = (0..8).map(|_| flights.run(key(1), call));
        let opener = async {
            tokio::task::yield_now().await;
            let _ = release.send(true);
        };
        let (verdicts, ()) = tokio::join!(futures_join(waiters.collect()), opener);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(verdicts
            .iter()
            .all(|verdict| verdict.as_ref().is_err_and(|e| e.reason() == Reason::InactiveToken)));
        assert_eq!(flights.in_flight(), 0, "the finished call left the map");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn past_the_bound_a_new_call_is_refused_at_once() {
        let flights = Flights::new(1);
        let (release, gate) = tokio::sync::watch::channel(false);
        let blocked = flights.run(key(1), || async {
            let mut gate = gate.clone();
            let _ = gate.wait_for(|open| *open).await;
            refused()
        });
        let refused_at_once = async {
            tokio::task::yield_now().await;
            let verdict = flights.run(key(2), || async { refused() }).await;
            let _ = release.send(true);
            verdict
        };
        let (first, second) = tokio::join!(blocked, refused_at_once);
        assert_eq!(first.unwrap_err().reason(), Reason::InactiveToken);
        let second = second.unwrap_err();
        assert_eq!(second.reason(), Reason::IntrospectionUnavailable);
        assert_eq!(second.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        // The permit came back: the next call is made.
        assert_eq!(
            flights.run(key(2), || async { refused() }).await.unwrap_err().reason(),
            Reason::InactiveToken
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_abandoned_call_leaves_no_entry_behind() {
        let flights = Flights::new(1);
        let pending = flights.run(key(3), std::future::pending);
        assert!(futures_poll_once(pending).await, "still pending");
        assert_eq!(flights.in_flight(), 0);
    }

    /// Drives every future to its end, concurrently, on this task.
    async fn futures_join<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
        let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
        let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
        std::future::poll_fn(|cx| {
            for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
                if output.is_none() {
                    if let std::task::Poll::Ready(value) = future.as_mut().poll(cx) {
                        *output = Some(value);
                    }
                }
            }
            if outputs.iter().all(Option::is_some) {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
        outputs.into_iter().flatten().collect()
    }

    /// Polls `future` once and drops it; whether it was still pending.
    async fn futures_poll_once<F: Future>(future: F) -> bool {
        let mut future = Box::pin(future);
        std::future::poll_fn(|cx| std::task::Poll::Ready(future.as_mut().poll(cx).is_pending())).await
    }
}
