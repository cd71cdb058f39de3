//! Protection of the credential checks: a bound on concurrent password checks (PBKDF2 is
//! CPU-heavy and runs on blocking threads, never on the executor), and a hook that
//! rate-limits failed client and user authentication.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::OAuthError;
use crate::error::BackendError;

/// One attempt to authenticate, as an [`AuthLimiter`] sees it. It never carries a secret
/// or a password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthAttempt<'a> {
    /// A client authenticating with its id (and secret) at the token, revocation or
    /// introspection endpoint.
    Client {
        /// The client id it claims.
        client_id: &'a str,
    },
    /// A user signing in through the password grant.
    User {
        /// The (already authenticated) client asking.
        client_id: &'a str,
        /// The username tried.
        username: &'a str,
    },
}

/// Rate-limits failed authentication: asked before each attempt, told of each failure.
/// Refusing an attempt answers 429 with `Retry-After`, before any secret is hashed.
///
/// This is a hook: the crate keeps no counters itself. The example below refuses a key
/// after three failures; a deployment of several nodes would keep its counters in a shared
/// store, or limit at the gateway.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::Duration;
/// use tower_passport::issuer::{AuthAttempt, AuthLimiter};
///
/// #[derive(Default)]
/// struct ThreeStrikes(Mutex<HashMap<String, u32>>);
///
/// fn key(attempt: &AuthAttempt<'_>) -> String {
///     match attempt {
///         AuthAttempt::Client { client_id } => format!("client:{client_id}"),
///         AuthAttempt::User { username, .. } => format!("user:{username}"),
///         _ => "other".to_owned(),
///     }
/// }
///
/// impl AuthLimiter for ThreeStrikes {
///     fn check(&self, attempt: &AuthAttempt<'_>) -> Result<(), Duration> {
///         let failures = self.0.lock().map(|m| m.get(&key(attempt)).copied().unwrap_or(0)).unwrap_or(0);
///         if failures >= 3 { Err(Duration::from_secs(60)) } else { Ok(()) }
///     }
///     fn failed(&self, attempt: &AuthAttempt<'_>) {
///         if let Ok(mut map) = self.0.lock() {
///             *map.entry(key(attempt)).or_default() += 1;
///         }
///     }
///     fn succeeded(&self, attempt: &AuthAttempt<'_>) {
///         if let Ok(mut map) = self.0.lock() {
///             map.remove(&key(attempt));
///         }
///     }
/// }
///
/// let limiter = ThreeStrikes::default();
/// let attempt = AuthAttempt::Client { client_id: "billing" };
/// for _ in 0..3 {
///     assert!(limiter.check(&attempt).is_ok());
///     limiter.failed(&attempt);
/// }
/// assert_eq!(limiter.check(&attempt), Err(Duration::from_secs(60)));
/// ```
///
/// Install it with [`IssuerBuilder::auth_limiter`](super::IssuerBuilder::auth_limiter).
pub trait AuthLimiter: Send + Sync + 'static {
    /// Whether the attempt may go ahead; `Err(retry_after)` refuses it with 429.
    fn check(&self, attempt: &AuthAttempt<'_>) -> Result<(), Duration>;

    /// The attempt failed (wrong secret, unknown client, wrong password).
    fn failed(&self, attempt: &AuthAttempt<'_>);

    /// The attempt succeeded. Nothing by default.
    fn succeeded(&self, attempt: &AuthAttempt<'_>) {
        let _ = attempt;
    }
}

/// No limits: the default.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct NoLimit;

impl AuthLimiter for NoLimit {
    fn check(&self, _attempt: &AuthAttempt<'_>) -> Result<(), Duration> {
        Ok(())
    }

    fn failed(&self, _attempt: &AuthAttempt<'_>) {}
}

/// How many password checks may run at once (each on a blocking thread); beyond that a
/// password grant answers 503 at once rather than queueing CPU work without bound.
#[derive(Clone, Debug)]
pub(crate) struct PasswordChecks {
    permits: Arc<Semaphore>,
}

impl PasswordChecks {
    pub(crate) fn new(concurrent: usize) -> Self {
        Self { permits: Arc::new(Semaphore::new(concurrent.max(1))) }
    }

    /// A slot for one password check, or 503 when every slot is taken.
    pub(crate) fn acquire(&self) -> Result<OwnedSemaphorePermit, OAuthError> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            tracing::warn!("password checks saturated; refusing a password grant with 503");
            OAuthError::busy("Too many sign-ins are being checked right now; try again shortly")
        })
    }
}

/// The default bound on concurrent password checks: the machine's parallelism.
pub(crate) fn default_password_checks() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// Runs a CPU-heavy closure (a password hash) on tokio's blocking threads, off the
/// executor. Without a tokio runtime it runs inline.
pub(crate) async fn off_executor<T, F>(work: F) -> Result<T, BackendError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(work)
            .await
            .map_err(|_| BackendError::msg("a password check did not finish")),
        Err(_) => Ok(work()),
    }
}
