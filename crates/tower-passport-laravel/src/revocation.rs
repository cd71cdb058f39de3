//! The strangler step: the guard honours the revocations Laravel Passport records in its
//! own tables, as Passport's `TokenGuard` does, without a query per request.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use moka::future::Cache;
use moka::Expiry;
use tower_passport::revocation::RevocationCheck;
use tower_passport::{BackendError, VerifiedToken};

use crate::database::{on_pool, PassportDatabase};
use crate::error::{LaravelError, LaravelErrorKind};
use crate::tables::PassportTables;

/// How long an answer read from Passport's tables is trusted unless told otherwise: a
/// token revoked in Laravel is refused within this bound.
pub const DEFAULT_STALENESS: Duration = Duration::from_secs(5);

/// How long one lookup may take before it counts as a database failure.
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest a "revoked" answer is kept (Passport never un-revokes a token, but a row
/// may be rewritten by hand).
const MAX_REVOKED_TTL: Duration = Duration::from_secs(24 * 3600);

/// What a token whose `jti` has no row in `oauth_access_tokens` is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MissingToken {
    /// Revoked (the default): the row was purged (`passport:purge`), or the token was never
    /// issued by this Passport. Passport's own guard refuses it too.
    #[default]
    Revoked,
    /// Valid: for a Passport that does not store its tokens (`Passport::$revokeTokens`
    /// off, or a custom repository).
    Valid,
}

/// What the guard does when Passport's database fails or is slower than the query
/// timeout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnDatabaseError {
    /// Fail closed (the default): the guard answers 503.
    #[default]
    Refuse,
    /// Fail open: the token counts as not revoked, and a warning is logged. A token
    /// revoked in Laravel then passes while the database is down.
    Accept,
}

/// A [`RevocationCheck`] over Laravel Passport's own tables, as Passport's `TokenGuard`.
///
/// A token is revoked when its `jti` has `revoked = 1` in `oauth_access_tokens`, when its
/// row is missing (purged or forged, [configurable](PassportRevocationsBuilder::missing_token)),
/// or when its client is revoked (or gone) in `oauth_clients`. One query per lookup (a
/// join of the two).
///
/// Answers are cached (moka) for the [staleness bound](PassportRevocationsBuilder::staleness),
/// 5 seconds by default, and concurrent requests with the same `jti` wait for one query
/// (single flight): a hot token costs one query per bound, not one per request. A
/// "revoked" answer is kept until the token expires (at most a day). A database failure
/// fails closed (503) unless [configured](PassportRevocationsBuilder::on_database_error)
/// otherwise.
///
/// ```
/// use std::time::Duration;
/// use tower_passport::{GuardLayer, Verifier};
/// use tower_passport_laravel::{PassportDatabase, PassportRevocations};
/// # use tower_passport::{Algorithm, KeySet, VerifyingKey};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
/// let verifier = Verifier::builder(keys).laravel_passport().build()?;
/// let database = PassportDatabase::connect_lazy("sqlite:laravel/database/database.sqlite")?;
/// let revocations = PassportRevocations::builder(database).staleness(Duration::from_secs(2)).build()?;
/// let guard: GuardLayer = GuardLayer::builder(verifier).revocation(revocations).build()?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PassportRevocations {
    inner: Arc<Inner>,
}

struct Inner {
    database: PassportDatabase,
    /// The lookup, rendered once for the tables' names and the engine's placeholders.
    query: String,
    cache: Cache<Box<str>, Answer>,
    staleness: Duration,
    missing: MissingToken,
    on_error: OnDatabaseError,
    timeout: Duration,
}

/// A cached answer and how long it may be kept.
#[derive(Clone, Copy)]
struct Answer {
    revoked: bool,
    ttl: Duration,
}

struct AnswerTtl;

impl Expiry<Box<str>, Answer> for AnswerTtl {
    fn expire_after_create(&self, _key: &Box<str>, answer: &Answer, _at: Instant) -> Option<Duration> {
        Some(answer.ttl)
    }
}

/// Builds a [`PassportRevocations`].
#[derive(Clone, Debug)]
#[must_use]
pub struct PassportRevocationsBuilder {
    database: PassportDatabase,
    tables: PassportTables,
    staleness: Duration,
    missing: MissingToken,
    on_error: OnDatabaseError,
    timeout: Duration,
    capacity: u64,
}

impl PassportRevocations {
    /// A builder over `database` with Passport's default table names.
    pub fn builder(database: PassportDatabase) -> PassportRevocationsBuilder {
        PassportRevocationsBuilder {
            database,
            tables: PassportTables::default(),
            staleness: DEFAULT_STALENESS,
            missing: MissingToken::default(),
            on_error: OnDatabaseError::default(),
            timeout: DEFAULT_QUERY_TIMEOUT,
            capacity: 100_000,
        }
    }

    /// Whether the access token `jti` (expiring at `expires_at`, Unix seconds) is revoked
    /// in Passport's tables: from the cache, else from one query that concurrent callers
    /// share. Applies the [`OnDatabaseError`] policy.
    ///
    /// # Errors
    /// When the database fails or times out, and the policy is [`OnDatabaseError::Refuse`].
    pub async fn is_jti_revoked(&self, jti: &str, expires_at: u64) -> Result<bool, BackendError> {
        let answer = if self.inner.staleness.is_zero() {
            self.read(jti, expires_at).await
        } else if let Some(cached) = self.inner.cache.get(jti).await {
            Ok(cached)
        } else {
            // Single flight: callers asking for the same jti meanwhile wait for this read.
            self.inner
                .cache
                .try_get_with(Box::from(jti), self.read(jti, expires_at))
                .await
                .map_err(Arc::unwrap_or_clone)
        };
        match (answer, self.inner.on_error) {
            (Ok(answer), _) => Ok(answer.revoked),
            (Err(error), OnDatabaseError::Refuse) => Err(error),
            (Err(error), OnDatabaseError::Accept) => {
                tracing::warn!(%error, "Passport's tables cannot be read: the token passes (fail open)");
                Ok(false)
            }
        }
    }

    /// One lookup, bounded by the query timeout.
    async fn read(&self, jti: &str, expires_at: u64) -> Result<Answer, BackendError> {
        let lookup = self.lookup(jti);
        let row = tokio::time::timeout(self.inner.timeout, lookup)
            .await
            .map_err(|_| BackendError::msg("Passport's tables did not answer within the query timeout"))??;
        let revoked = match row {
            None => self.inner.missing == MissingToken::Revoked,
            // A client that is gone counts as revoked, as Passport's `ClientRepository::revoked`.
            Some((token_revoked, client_revoked)) => token_revoked || client_revoked.unwrap_or(true),
        };
        let ttl = if revoked {
            let left = expires_at.saturating_sub(unix_now());
            // Never shorter than the bound (whatever it is configured to), at most a day.
            Duration::from_secs(left).min(MAX_REVOKED_TTL).max(self.inner.staleness)
        } else {
            self.inner.staleness
        };
        Ok(Answer { revoked, ttl })
    }

    /// The token's `revoked` and its client's, `None` when the token has no row.
    async fn lookup(&self, jti: &str) -> Result<Option<(bool, Option<bool>)>, BackendError> {
        let query = self.inner.query.as_str();
        let row: Result<Option<(bool, Option<bool>)>, sqlx::Error> = on_pool!(self.inner.database, pool => {
            sqlx::query_as::<_, (bool, Option<bool>)>(query).bind(jti).fetch_optional(pool).await
        });
        row.map_err(|e| LaravelError::database("reading oauth_access_tokens", e).into())
    }
}

impl PassportRevocationsBuilder {
    /// Passport's tables under other names.
    pub fn tables(mut self, tables: PassportTables) -> Self {
        self.tables = tables;
        self
    }

    /// How long an answer is trusted: a token revoked in Laravel is refused within this
    /// bound (5 s by default). Zero asks the database on every request.
    pub fn staleness(mut self, bound: Duration) -> Self {
        self.staleness = bound;
        self
    }

    /// What a token with no row is ([`MissingToken::Revoked`] by default).
    pub fn missing_token(mut self, missing: MissingToken) -> Self {
        self.missing = missing;
        self
    }

    /// What a database failure means ([`OnDatabaseError::Refuse`], a 503, by default).
    pub fn on_database_error(mut self, policy: OnDatabaseError) -> Self {
        self.on_error = policy;
        self
    }

    /// How long one lookup may take (2 s by default) before it counts as a failure.
    pub fn query_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many answers are cached at most (100 000 by default).
    pub fn capacity(mut self, entries: u64) -> Self {
        self.capacity = entries;
        self
    }

    /// The check.
    ///
    /// # Errors
    /// When the query timeout is zero.
    pub fn build(self) -> Result<PassportRevocations, LaravelError> {
        if self.timeout.is_zero() {
            return Err(LaravelError::new(LaravelErrorKind::Database, "the query timeout must be positive"));
        }
        let query = format!(
            "SELECT t.revoked, c.revoked FROM {tokens} t LEFT JOIN {clients} c ON c.id = t.client_id \
             WHERE t.id = {jti}",
            tokens = self.tables.access_tokens_table(),
            clients = self.tables.clients_table(),
            jti = self.database.placeholder(1),
        );
        let cache = Cache::builder().max_capacity(self.capacity).expire_after(AnswerTtl).build();
        let inner = Inner {
            database: self.database,
            query,
            cache,
            staleness: self.staleness,
            missing: self.missing,
            on_error: self.on_error,
            timeout: self.timeout,
        };
        Ok(PassportRevocations { inner: Arc::new(inner) })
    }
}

impl RevocationCheck for PassportRevocations {
    async fn is_revoked(&self, token: &VerifiedToken) -> Result<bool, BackendError> {
        match token.jti() {
            Some(jti) => self.is_jti_revoked(jti, token.expires_at()).await,
            // Passport's tokens always carry one: a token without is not Passport's.
            None => Ok(self.inner.missing == MissingToken::Revoked),
        }
    }
}

impl fmt::Debug for PassportRevocations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassportRevocations")
            .field("database", &self.inner.database)
            .field("staleness", &self.inner.staleness)
            .field("missing", &self.inner.missing)
            .field("on_error", &self.inner.on_error)
            .field("cached", &self.inner.cache.entry_count())
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}
