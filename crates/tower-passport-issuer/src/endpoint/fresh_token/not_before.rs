//! The layer's view of sign-outs: a [`RevocationCheck`] erased to the one question it asks.

use std::future::Future;
use std::pin::Pin;

use tower_passport::error::BackendError;
use tower_passport::revocation::RevocationCheck;

type NotBeforeFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<u64>, BackendError>> + Send + 'a>>;

/// [`RevocationCheck::user_not_before`], object-safe.
pub(super) trait UserNotBefore: Send + Sync {
    fn user_not_before<'a>(&'a self, provider: &'a str, user_id: &'a str) -> NotBeforeFuture<'a>;
}

impl<C: RevocationCheck> UserNotBefore for C {
    fn user_not_before<'a>(&'a self, provider: &'a str, user_id: &'a str) -> NotBeforeFuture<'a> {
        Box::pin(RevocationCheck::user_not_before(self, provider, user_id))
    }
}
