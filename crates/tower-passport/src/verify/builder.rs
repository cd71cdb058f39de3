use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, ConfigErrorKind};
use crate::keys::unknown_kid::UnknownKidLog;
use crate::keys::KeySource;

use super::cache::{Budget, VerifiedCache};
use super::claims_check::ClaimsPolicy;
use super::issuers::TrustedIssuer;
use super::{ClientTokenRule, Inner, Verifier};

/// Which JOSE `typ` values are accepted.
///
/// ```
/// use tower_passport::verify::TypPolicy;
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
/// [`issuer`](Self::issuer), [`audience`](Self::audience) and the `typ` methods configure
/// the first trusted issuer (the one whose keys were given to
/// [`Verifier::builder`](Verifier::builder)); [`trust`](Self::trust) adds more, each with
/// its own keys, audiences and `typ` policy. Leeway, scopes, clock and cache are shared.
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
    /// Never empty: the first is the one the issuer/audience/typ methods configure.
    issuers: Vec<TrustedIssuer>,
    leeway: Duration,
    inherited_scopes: bool,
    clock: Arc<dyn Clock>,
    cache_budget: Budget,
    cache_max_ttl: Duration,
}

impl std::fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("issuers", &self.issuers)
            .field("leeway", &self.leeway)
            .field("inherited_scopes", &self.inherited_scopes)
            .field("cache_budget", &self.cache_budget)
            .field("cache_max_ttl", &self.cache_max_ttl)
            .finish_non_exhaustive()
    }
}

impl VerifierBuilder {
    pub(super) fn new(keys: KeySource) -> Self {
        Self::trusting(TrustedIssuer::new("", keys))
    }

    pub(super) fn trusting(first: TrustedIssuer) -> Self {
        Self {
            issuers: vec![first],
            leeway: Duration::from_secs(60),
            inherited_scopes: false,
            clock: Arc::new(SystemClock),
            cache_budget: Budget::Entries(10_000),
            cache_max_ttl: Duration::from_secs(300),
        }
    }

    /// The issuer (`iss`) tokens must name, compared exactly. Required.
    pub fn issuer(mut self, issuer: impl Into<Box<str>>) -> Self {
        if let Some(first) = self.issuers.first_mut() {
            first.issuer = issuer.into();
        }
        self
    }

    /// An audience tokens may name in `aud`; call again to accept several. At least one is
    /// required (RFC 9068 §4).
    pub fn audience(mut self, audience: impl Into<Box<str>>) -> Self {
        if let Some(first) = self.issuers.first_mut() {
            first.audiences.push(audience.into());
        }
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat`. Sixty seconds by default.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Accepts `typ: JWT` and tokens without `typ`, as Passport and many identity
    /// providers issue them. By default only `at+jwt` passes.
    pub fn accept_generic_jwt_typ(self) -> Self {
        self.typ_policy(TypPolicy::AllowGenericJwt)
    }

    /// Sets the `typ` policy.
    pub fn typ_policy(mut self, policy: TypPolicy) -> Self {
        if let Some(first) = self.issuers.first_mut() {
            first.typ = Some(policy);
        }
        self
    }

    /// How tokens without an `idtyp` claim are told to be client-credentials tokens
    /// ([`ClientTokenRule::SubjectOrClientId`] by default; see [`ClientTokenRule`]).
    ///
    /// ```
    /// use tower_passport::verify::ClientTokenRule;
    /// # use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
    /// let verifier = Verifier::builder(keys)
    ///     .issuer("https://auth.example.com")
    ///     .audience("api")
    ///     .client_token_rule(ClientTokenRule::StatedOnly)
    ///     .build()?;
    /// # let _ = verifier;
    /// # Ok(())
    /// # }
    /// ```
    pub fn client_token_rule(mut self, rule: ClientTokenRule) -> Self {
        if let Some(first) = self.issuers.first_mut() {
            first.client_rule = Some(rule);
        }
        self
    }

    /// Takes Laravel Passport's own access tokens, as league/oauth2-server mints them:
    ///
    /// - header `{"typ":"JWT","alg":"RS256"}`, no `kid` (the one key of the set is used);
    /// - **no `iss`**: [`issuer`](Self::issuer) becomes optional, and when it is set a
    ///   token that does carry `iss` must name it;
    /// - `aud` is the client id: tokens of any client pass, unless
    ///   [`laravel_passport_clients`](Self::laravel_passport_clients) (or
    ///   [`audience`](Self::audience)) lists the accepted ones;
    /// - the client id comes from `aud` when there is no `client_id` claim;
    /// - `sub` is the user id, or empty in a client-credentials token (Passport up to 12;
    ///   league/oauth2-server 9, in Passport 13, puts the client id there); the preset's
    ///   [`ClientTokenRule`] is [`EmptySubject`](ClientTokenRule::EmptySubject), so a user
    ///   whose id equals a client id (both sequential integers) stays a user;
    /// - `jti`, `iat`, `nbf` and `exp`, fractional NumericDates included;
    /// - the `scopes` array.
    ///
    /// [`VerifiedToken::issuer`](crate::VerifiedToken::issuer) is the token's `iss`, or
    /// the configured issuer (empty without one) when the token has none.
    ///
    /// ```
    /// use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// // Passport's storage/oauth-public.key (or the PASSPORT_PUBLIC_KEY it reads).
    /// # let pem = b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----";
    /// # let algorithm = Algorithm::EdDSA; // an RSA key and RS256 in a real deployment
    /// let keys = KeySet::new().with_key(VerifyingKey::from_pem(pem, algorithm)?);
    /// let any_client = Verifier::builder(keys.clone()).laravel_passport().build()?;
    /// let two_clients = Verifier::builder(keys)
    ///     .laravel_passport_clients(["9c1b7f3e-5d2a-4e8b-a1f0-3c6d2e9b8a71", "mobile-app"])
    ///     .build()?;
    /// # let _ = (any_client, two_clients);
    /// # Ok(())
    /// # }
    /// ```
    pub fn laravel_passport(mut self) -> Self {
        if let Some(first) = self.issuers.first_mut() {
            first.laravel_passport = true;
        }
        self
    }

    /// The [Laravel Passport preset](Self::laravel_passport), taking only the tokens of
    /// these clients (their ids, as Passport puts them in `aud`).
    pub fn laravel_passport_clients<I>(mut self, clients: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Box<str>>,
    {
        for client in clients {
            self = self.audience(client);
        }
        self.laravel_passport()
    }

    /// Also trusts `issuer`, with its own keys, audiences and `typ` policy. Tokens are
    /// routed by their `iss` claim to exactly one issuer's keys.
    ///
    /// ```
    /// use tower_passport::{Algorithm, KeySet, verify::TrustedIssuer, Verifier, VerifyingKey};
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let ours = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
    /// let theirs = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[8; 32])?);
    /// let verifier = Verifier::builder(ours)
    ///     .issuer("https://auth.example.com")
    ///     .audience("orders-api")
    ///     .trust(TrustedIssuer::new("https://idp.example", theirs).audience("orders-api"))
    ///     .build()?;
    /// # let _ = verifier;
    /// // The same issuer twice is a mistake.
    /// # let ours = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
    /// # let theirs = ours.clone();
    /// let twice = Verifier::builder(ours)
    ///     .issuer("https://auth.example.com")
    ///     .audience("orders-api")
    ///     .trust(TrustedIssuer::new("https://auth.example.com", theirs).audience("orders-api"))
    ///     .build();
    /// assert!(twice.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn trust(mut self, issuer: TrustedIssuer) -> Self {
        self.issuers.push(issuer);
        self
    }

    /// Lets a granted `orders` satisfy `orders:create`. Off by default.
    pub fn inherited_scopes(mut self, inherit: bool) -> Self {
        self.inherited_scopes = inherit;
        self
    }

    /// The clock to read; the system clock by default. Tests use
    /// [`ManualClock`](crate::clock::ManualClock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How many verified tokens the cache holds (10 000 by default); 0 turns it off.
    /// Replaces a [`cache_memory`](Self::cache_memory) budget.
    pub fn cache_capacity(mut self, capacity: u64) -> Self {
        self.cache_budget = Budget::Entries(capacity);
        self
    }

    /// Bounds the verified-token cache by memory instead of by count: about `bytes` in all,
    /// counting each entry's token, its decoded claims and the entry's own fields (about
    /// 1.5 KB for a 600-byte token; the figures are in `docs/performance.md`). 0 turns the
    /// cache off. Replaces a [`cache_capacity`](Self::cache_capacity) budget.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
    /// # let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).unwrap());
    /// let verifier = Verifier::builder(keys)
    ///     .issuer("https://auth.example.com")
    ///     .audience("orders-api")
    ///     .cache_memory(64 * 1024 * 1024) // 64 MiB of verified tokens
    ///     .build();
    /// assert!(verifier.is_ok());
    /// ```
    pub fn cache_memory(mut self, bytes: u64) -> Self {
        self.cache_budget = Budget::Bytes(bytes);
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
    /// When an issuer or every audience of an issuer is missing (both are optional with
    /// the Laravel Passport preset), a static key set is empty, the same issuer is trusted
    /// twice, or two issuers take tokens without `iss`.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        if self.issuers.iter().filter(|trusted| trusted.laravel_passport).count() > 1 {
            return Err(ConfigError::new(
                ConfigErrorKind::Issuer,
                "only one trusted issuer can take tokens without iss (the Laravel Passport preset)",
            ));
        }
        let mut issuers = Vec::with_capacity(self.issuers.len());
        for (position, trusted) in self.issuers.into_iter().enumerate() {
            let policy = trusted.into_policy(position)?;
            if issuers.iter().any(|known: &super::issuers::IssuerPolicy| known.issuer == policy.issuer) {
                return Err(ConfigError::new(
                    ConfigErrorKind::Issuer,
                    format!("the issuer {:?} is trusted twice", policy.issuer),
                ));
            }
            issuers.push(policy);
        }
        let budget = match self.cache_budget {
            Budget::Entries(limit) | Budget::Bytes(limit) => limit,
        };
        let cache = (budget > 0 && !self.cache_max_ttl.is_zero())
            .then(|| VerifiedCache::new(self.cache_budget, self.cache_max_ttl));
        let policy = ClaimsPolicy { leeway: self.leeway.as_secs(), inherited_scopes: self.inherited_scopes };
        let issuers = issuers.into_boxed_slice();
        Ok(Verifier {
            inner: Arc::new(Inner {
                issuers,
                policy,
                clock: self.clock,
                cache,
                unknown_kids: UnknownKidLog::default(),
                headers: super::headers::KnownHeaders::new(),
            }),
        })
    }
}
