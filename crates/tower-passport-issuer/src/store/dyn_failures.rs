//! [`FailureStore`] behind one type: a private object-safe mirror with boxed futures,
//! implemented for every failure store, so that the throttle carries no store parameter.
//! Failure counts are read and written only on a failed or throttled authentication, never
//! on the guard's path.

use std::future::Future;
use std::pin::Pin;

use super::{FailureStore, Failures, StoreError};

/// A boxed store call.
type Call<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// [`FailureStore`]'s calls, object-safe.
pub(crate) trait DynFailures: Send + Sync + 'static {
    /// [`FailureStore::failures`].
    fn failures<'a>(&'a self, keys: &'a [&'a str]) -> Call<'a, Vec<Option<Failures>>>;
    /// [`FailureStore::record_failure`].
    fn record_failure<'a>(&'a self, key: &'a str, now: u64, forget_every: u64) -> Call<'a, Failures>;
    /// [`FailureStore::clear_failures`].
    fn clear_failures<'a>(&'a self, key: &'a str) -> Call<'a, ()>;
}

impl<F: FailureStore> DynFailures for F {
    fn failures<'a>(&'a self, keys: &'a [&'a str]) -> Call<'a, Vec<Option<Failures>>> {
        Box::pin(FailureStore::failures(self, keys))
    }
    fn record_failure<'a>(&'a self, key: &'a str, now: u64, forget_every: u64) -> Call<'a, Failures> {
        Box::pin(FailureStore::record_failure(self, key, now, forget_every))
    }
    fn clear_failures<'a>(&'a self, key: &'a str) -> Call<'a, ()> {
        Box::pin(FailureStore::clear_failures(self, key))
    }
}
