use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::error::ConfigError;
use crate::keys::KeySet;

use super::cache::VerifiedCache;
use super::claims_check::ClaimsPolicy;
use super::{Inner, Verifier};

/// Which JOSE `typ` values are accepted.
///
/// ```
/// use tower_passport::TypPolicy;
/// assert_eq!(TypPolicy::default(), TypPolicy::AccessTokenOnly);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TypPolicy {
    /// Only `at+jwt` / `application/at+jwt` (RFC 9068 §2.1). The default: an ID token or
    /// another JWT signed by the same key cannot pass as an access token.
    #[default]
    AccessTokenOnly,
    /// Also `JWT` and a missing `typ`, as Passport, league/oauth2-server and many identity
    /// providers issue.
    AllowGenericJwt,
}

/// Builds a [`Verifier`]. Every method is chained; [`build`](Self::build) checks the whole.
///
/// ```
/// use std::time::Duration;
/// use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
/// let verifier = Verifier::builder(keys)
///     .issuer("https://auth.example.com")
///     .audience("orders-api")
///     .leeway(Duration::from_secs(30))
///     .accept_generic_jwt_typ()
///     .inherited_scopes(true)
///     .cache_capacity(50_000)
///     .build()?;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct VerifierBuilder {
    keys: KeySet,
    issuer: Option<Box<str>>,
    audiences: Vec<Box<str>>,
    leeway: Duration,
    typ: TypPolicy,
    inherited_scopes: bool,
    clock: Arc<dyn Clock>,
    cache_capacity: u64,
    cache_max_ttl: Duration,
}

impl VerifierBuilder {
    pub(super) fn new(keys: KeySet) -> Self {
        Self {
            keys,
            issuer: None,
            audiences: Vec::new(),
            leeway: Duration::from_secs(60),
            typ: TypPolicy::AccessTokenOnly,
            inherited_scopes: false,
            clock: Arc::new(SystemClock),
            cache_capacity: 10_000,
            cache_max_ttl: Duration::from_secs(300),
        }
    }

    /// The issuer (`iss`) tokens must name, compared exactly. Required.
    pub fn issuer(mut self, issuer: impl Into<Box<str>>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// An audience tokens may name in `aud`; call again to accept several. At least one is
    /// required (RFC 9068 §4).
    pub fn audience(mut self, audience: impl Into<Box<str>>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat`. Sixty seconds by default.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Accepts `typ: JWT` and tokens without `typ`, as Passport and many identity
    /// providers issue them. By default only `at+jwt` passes.
    pub fn accept_generic_jwt_typ(mut self) -> Self {
        self.typ = TypPolicy::AllowGenericJwt;
        self
    }

    /// Sets the `typ` policy.
    pub fn typ_policy(mut self, policy: TypPolicy) -> Self {
        self.typ = policy;
        self
    }

    /// Lets a granted `orders` satisfy `orders:create`. Off by default.
    pub fn inherited_scopes(mut self, inherit: bool) -> Self {
        self.inherited_scopes = inherit;
        self
    }

    /// The clock to read; the system clock by default. Tests use
    /// [`ManualClock`](crate::ManualClock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How many verified tokens the cache holds (10 000 by default); 0 turns it off.
    pub fn cache_capacity(mut self, capacity: u64) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// The longest a verified token stays cached, whatever its lifetime (5 minutes by
    /// default). An entry never outlives the token's own `exp`.
    pub fn cache_max_ttl(mut self, ttl: Duration) -> Self {
        self.cache_max_ttl = ttl;
        self
    }

    /// Turns the verified-token cache off.
    pub fn no_cache(self) -> Self {
        self.cache_capacity(0)
    }

    /// Checks the configuration and builds the verifier. Synchronous, never blocks.
    ///
    /// # Errors
    /// When the issuer or every audience is missing, or the key set is empty.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        let issuer = self
            .issuer
            .filter(|issuer| !issuer.is_empty())
            .ok_or_else(|| ConfigError::new("the verifier needs an issuer (VerifierBuilder::issuer)"))?;
        if self.audiences.iter().all(|aud| aud.is_empty()) {
            return Err(ConfigError::new("the verifier needs an audience (VerifierBuilder::audience)"));
        }
        if self.keys.is_empty() {
            return Err(ConfigError::new("the verifier needs at least one key"));
        }
        let cache = (self.cache_capacity > 0 && !self.cache_max_ttl.is_zero())
            .then(|| VerifiedCache::new(self.cache_capacity, self.cache_max_ttl, self.clock.clone()));
        let policy = ClaimsPolicy {
            issuer,
            audiences: self.audiences.into_iter().filter(|aud| !aud.is_empty()).collect(),
            leeway: self.leeway.as_secs(),
            typ: self.typ,
            inherited_scopes: self.inherited_scopes,
        };
        Ok(Verifier { inner: Arc::new(Inner { keys: self.keys, policy, clock: self.clock, cache }) })
    }
}
