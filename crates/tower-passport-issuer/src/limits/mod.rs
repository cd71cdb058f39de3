//! Protection of the credential checks: a throttle on failed client and user
//! authentication, and a bound on concurrent password checks (PBKDF2 is CPU-heavy and runs
//! on blocking threads, never on the executor).
//!
//! Every issuer throttles by default: [`Throttle`], in memory, per account (and per client
//! id) and per client address, with exponential back-off past a few free failures. A
//! deployment of several nodes keeps the counters in its shared store
//! ([`Throttle::new`] over a [`FailureStore`](crate::store::FailureStore) such as
//! `PostgresStore` or `RedisStore`); [`NoLimit`] turns throttling off. Any other policy is
//! an [`AuthLimiter`].

mod backoff;
mod throttle;

pub use backoff::Backoff;
pub use throttle::Throttle;

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::OAuthError;
use tower_passport::error::BackendError;

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
        /// The address the request came from, when the server passed it on (see
        /// `endpoint::PeerAddr`).
        peer: Option<IpAddr>,
    },
    /// A user signing in: through the password grant, or on the app's own sign-in page
    /// ([`Issuer::sign_in`](super::Issuer::sign_in)).
    User {
        /// The (already authenticated) client asking; `None` on the app's own page.
        client_id: Option<&'a str>,
        /// The user provider the username belongs to (`None`: the default one).
        provider: Option<&'a str>,
        /// The username tried.
        username: &'a str,
        /// The address the request came from, when known.
        peer: Option<IpAddr>,
    },
    /// A signed-in user typing a device grant's user code on the verification page
    /// ([`Issuer::device_request`](super::Issuer::device_request), RFC 8628 §5.1). Only
    /// failures are recorded: anyone can make right codes of their own.
    UserCode {
        /// The signed-in user typing.
        user_id: &'a str,
        /// The address the request came from, when known.
        peer: Option<IpAddr>,
    },
}

impl AuthAttempt<'_> {
    /// The address the attempt came from, when known.
    pub fn peer(&self) -> Option<IpAddr> {
        match self {
            Self::Client { peer, .. } | Self::User { peer, .. } | Self::UserCode { peer, .. } => *peer,
        }
    }
}

/// Whether an attempt may go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Allow,
    /// Refused: answered with 429 and `Retry-After` (in whole seconds, at least one).
    RetryAfter(Duration),
}

/// Rate-limits failed authentication: asked before each attempt, told of each outcome.
///
/// Refusing an attempt answers 429 with `Retry-After`, before any secret is hashed; a limiter
/// that cannot answer (its store is down) makes the attempt answer 503.
///
/// [`Throttle`] is the built-in one (and the default). The example below refuses a key
/// after three failures:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::Duration;
/// use tower_passport_issuer::{AuthAttempt, AuthLimiter, Verdict};
/// use tower_passport::BackendError;
///
/// #[derive(Default)]
/// struct ThreeStrikes(Mutex<HashMap<String, u32>>);
///
/// fn key(attempt: &AuthAttempt<'_>) -> String {
///     match attempt {
///         AuthAttempt::Client { client_id, .. } => format!("client:{client_id}"),
///         AuthAttempt::User { username, .. } => format!("user:{username}"),
///         _ => "other".to_owned(),
///     }
/// }
///
/// impl AuthLimiter for ThreeStrikes {
///     async fn check(&self, attempt: &AuthAttempt<'_>) -> Result<Verdict, BackendError> {
///         let failures = self.0.lock().map(|m| m.get(&key(attempt)).copied().unwrap_or(0)).unwrap_or(0);
///         Ok(if failures >= 3 { Verdict::RetryAfter(Duration::from_secs(60)) } else { Verdict::Allow })
///     }
///     async fn failed(&self, attempt: &AuthAttempt<'_>) -> Result<(), BackendError> {
///         if let Ok(mut map) = self.0.lock() {
///             *map.entry(key(attempt)).or_default() += 1;
///         }
///         Ok(())
///     }
///     async fn succeeded(&self, attempt: &AuthAttempt<'_>) -> Result<(), BackendError> {
///         if let Ok(mut map) = self.0.lock() {
///             map.remove(&key(attempt));
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BackendError> {
/// let limiter = ThreeStrikes::default();
/// let attempt = AuthAttempt::Client { client_id: "billing", peer: None };
/// for _ in 0..3 {
///     assert_eq!(limiter.check(&attempt).await?, Verdict::Allow);
///     limiter.failed(&attempt).await?;
/// }
/// assert_eq!(limiter.check(&attempt).await?, Verdict::RetryAfter(Duration::from_secs(60)));
/// # Ok(())
/// # }
/// ```
///
/// Install it with [`IssuerBuilder::auth_limiter`](super::IssuerBuilder::auth_limiter).
pub trait AuthLimiter: Send + Sync + 'static {
    /// Whether the attempt may go ahead.
    fn check(&self, attempt: &AuthAttempt<'_>) -> impl Future<Output = Result<Verdict, BackendError>> + Send;

    /// The attempt failed (wrong secret, unknown client, wrong password).
    fn failed(&self, attempt: &AuthAttempt<'_>) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// The attempt succeeded. Nothing by default.
    fn succeeded(&self, attempt: &AuthAttempt<'_>) -> impl Future<Output = Result<(), BackendError>> + Send {
        let _ = attempt;
        std::future::ready(Ok(()))
    }
}

/// No limits: failed authentication is never throttled. Install it explicitly
/// ([`IssuerBuilder::auth_limiter`](super::IssuerBuilder::auth_limiter)`(NoLimit)`) when a
/// gateway in front limits instead.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoLimit;

impl AuthLimiter for NoLimit {
    async fn check(&self, _attempt: &AuthAttempt<'_>) -> Result<Verdict, BackendError> {
        Ok(Verdict::Allow)
    }

    async fn failed(&self, _attempt: &AuthAttempt<'_>) -> Result<(), BackendError> {
        Ok(())
    }
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// [`AuthLimiter`], object-safe: what the issuer keeps.
pub(crate) trait DynLimiter: Send + Sync + 'static {
    fn check<'a>(&'a self, attempt: &'a AuthAttempt<'a>) -> Boxed<'a, Verdict>;
    fn failed<'a>(&'a self, attempt: &'a AuthAttempt<'a>) -> Boxed<'a, ()>;
    fn succeeded<'a>(&'a self, attempt: &'a AuthAttempt<'a>) -> Boxed<'a, ()>;
}

impl<L: AuthLimiter> DynLimiter for L {
    fn check<'a>(&'a self, attempt: &'a AuthAttempt<'a>) -> Boxed<'a, Verdict> {
        Box::pin(AuthLimiter::check(self, attempt))
    }

    fn failed<'a>(&'a self, attempt: &'a AuthAttempt<'a>) -> Boxed<'a, ()> {
        Box::pin(AuthLimiter::failed(self, attempt))
    }

    fn succeeded<'a>(&'a self, attempt: &'a AuthAttempt<'a>) -> Boxed<'a, ()> {
        Box::pin(AuthLimiter::succeeded(self, attempt))
    }
}

/// The issuer's limiter, used the one way every credential check uses it.
#[derive(Clone)]
pub(crate) struct Limiter(pub(crate) Arc<dyn DynLimiter>);

impl Limiter {
    /// Refuses the attempt with 429 (`Retry-After`) when the limiter says so, 503 when it
    /// cannot answer.
    pub(crate) async fn admit(&self, attempt: &AuthAttempt<'_>) -> Result<(), OAuthError> {
        match self.0.check(attempt).await? {
            Verdict::Allow => Ok(()),
            Verdict::RetryAfter(wait) => {
                let (kind, client_id) = match attempt {
                    AuthAttempt::Client { client_id, .. } => ("client", Some(*client_id)),
                    AuthAttempt::User { client_id, .. } => ("user", *client_id),
                    AuthAttempt::UserCode { .. } => ("user_code", None),
                };
                tracing::warn!(kind, client_id, peer = ?attempt.peer(), retry_after = wait.as_secs(), "authentication throttled after repeated failures");
                Err(OAuthError::rate_limited(wait))
            }
        }
    }

    /// Tells the limiter the outcome. A limiter that cannot record it is logged, and the
    /// answer stays what the credentials earned.
    pub(crate) async fn record(&self, attempt: &AuthAttempt<'_>, succeeded: bool) {
        let recorded = if succeeded { self.0.succeeded(attempt).await } else { self.0.failed(attempt).await };
        if let Err(error) = recorded {
            tracing::warn!(%error, succeeded, "the authentication limiter could not record an attempt");
        }
    }
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
