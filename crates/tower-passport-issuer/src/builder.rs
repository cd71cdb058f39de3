use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::broadcast;

use super::key_ring::KeyRing;
use super::limits::{default_password_checks, AuthLimiter, DynLimiter, Limiter, PasswordChecks, Throttle};
use super::{Issuer, IssuerInner, RevocationList, ScopeRegistry, SigningKey, UserProvider};
use crate::store::ErasedStore;
use tower_passport::clock::{Clock, SystemClock};
use tower_passport::error::{BackendError, ConfigError, ConfigErrorKind};
use tower_passport::keys::{Algorithm, SharedKeySet};
use tower_passport::revocation::Hub;

pub(crate) type BoxedUserProvider = Arc<
    dyn Fn(String, String) -> Pin<Box<dyn Future<Output = Result<Option<String>, BackendError>> + Send>>
        + Send
        + Sync,
>;

fn boxed_provider<P: UserProvider>(provider: P) -> BoxedUserProvider {
    let provider = Arc::new(provider);
    Arc::new(move |username: String, password: String| {
        let provider = provider.clone();
        Box::pin(async move { provider.authenticate(&username, &password).await })
    })
}

/// The default [`IssuerBuilder::refresh_race_window`].
const DEFAULT_RACE_WINDOW: Duration = Duration::from_secs(3);

/// How many answers an issuer's revocation list caches unless
/// [`IssuerBuilder::revocation_cache_capacity`] says otherwise.
pub const DEFAULT_REVOCATION_CACHE_CAPACITY: u64 = 100_000;

/// Configures an [`Issuer`].
///
/// Lifetimes default short (unlike Passport's one year): 1 hour for access tokens, 30 days for
/// refresh tokens, 180 days for personal access tokens. Refresh tokens rotate with reuse
/// detection and a 3-second race window ([`refresh_race_window`](Self::refresh_race_window)),
/// so that two tabs refreshing at once keep the session.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tower_passport_issuer::{Issuer, ScopeRegistry, SigningKey};
/// use tower_passport_issuer::store::MemoryStore;
/// use tower_passport::Algorithm;
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
///     .audience("orders-api")
///     .signing_key(SigningKey::generate(Algorithm::ES256)?)
///     .scopes(ScopeRegistry::new().scope("place-orders", "Place orders"))
///     .access_token_ttl(Duration::from_secs(15 * 60))
///     .build()?;
/// assert_eq!(issuer.issuer_url(), "https://auth.example.com");
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct IssuerBuilder {
    issuer: String,
    store: ErasedStore,
    audiences: Vec<String>,
    signing_key: Option<SigningKey>,
    scopes: ScopeRegistry,
    access_ttl: Duration,
    refresh_ttl: Duration,
    personal_ttl: Duration,
    rotate_refresh_tokens: bool,
    revoke_access_on_refresh: bool,
    race: Duration,
    grace: Option<Duration>,
    first_party_token_management: bool,
    users: Option<BoxedUserProvider>,
    legacy_refresh: Option<crate::legacy_refresh::BoxedLegacy>,
    verification_jwks: Vec<serde_json::Value>,
    providers: HashMap<String, BoxedUserProvider>,
    clock: Arc<dyn Clock>,
    negative_revocation_ttl: Duration,
    revocation_cache_capacity: u64,
    /// The node's revocation hub; `None`: a hub of the issuer's own.
    hub: Option<Hub>,
    personal_client_id: String,
    jwks_max_age: Duration,
    /// `None`: the default [`Throttle`], in memory, on the issuer's clock.
    limiter: Option<Arc<dyn DynLimiter>>,
    password_checks: usize,
    /// The authorization code grant's settings (`issuer/authorization.rs`).
    pub(crate) codes: super::authorization::CodeSettings,
    /// The device grant's settings (`issuer/device_grant.rs`).
    pub(crate) devices: super::device_grant::DeviceSettings,
}

impl std::fmt::Debug for IssuerBuilder {
    /// The settings, never a key or a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerBuilder")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("personal_ttl", &self.personal_ttl)
            .field("password_grant", &self.users.is_some())
            .field("legacy_refresh_tokens", &self.legacy_refresh.is_some())
            .field("user_providers", &self.providers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl IssuerBuilder {
    pub(super) fn new(issuer: String, store: ErasedStore) -> Self {
        Self {
            issuer,
            store,
            audiences: Vec::new(),
            signing_key: None,
            scopes: ScopeRegistry::new(),
            access_ttl: Duration::from_secs(3600),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            personal_ttl: Duration::from_secs(180 * 24 * 3600),
            rotate_refresh_tokens: true,
            revoke_access_on_refresh: true,
            race: DEFAULT_RACE_WINDOW,
            grace: None,
            first_party_token_management: true,
            users: None,
            legacy_refresh: None,
            verification_jwks: Vec::new(),
            providers: HashMap::new(),
            clock: Arc::new(SystemClock),
            negative_revocation_ttl: tower_passport::revocation::DEFAULT_NOT_REVOKED_TTL,
            revocation_cache_capacity: DEFAULT_REVOCATION_CACHE_CAPACITY,
            hub: None,
            personal_client_id: "personal-access-client".into(),
            jwks_max_age: Duration::from_secs(300),
            limiter: None,
            password_checks: default_password_checks(),
            codes: Default::default(),
            devices: Default::default(),
        }
    }

    /// An audience (`aud`) for the tokens; call again for several. Required.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The signing key. Without one, an ES256 key is generated at build time (tokens then
    /// do not survive a restart: load a key for production).
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// The scope registry (Passport's `tokensCan` and default scopes).
    pub fn scopes(mut self, scopes: ScopeRegistry) -> Self {
        self.scopes = scopes;
        self
    }

    /// Access-token lifetime (1 hour by default).
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// Refresh-token lifetime (30 days by default).
    pub fn refresh_token_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// Personal-access-token lifetime (180 days by default).
    pub fn personal_access_token_ttl(mut self, ttl: Duration) -> Self {
        self.personal_ttl = ttl;
        self
    }

    /// Whether a used refresh token is consumed (on by default; Passport 13's
    /// `revokeRefreshTokenAfterUse`). Public clients always rotate (RFC 9700 §4.14.2).
    pub fn rotate_refresh_tokens(mut self, rotate: bool) -> Self {
        self.rotate_refresh_tokens = rotate;
        self
    }

    /// Whether a refresh revokes the access token issued with the old refresh token (on by
    /// default, as Passport does).
    pub fn revoke_access_token_on_refresh(mut self, revoke: bool) -> Self {
        self.revoke_access_on_refresh = revoke;
        self
    }

    /// The race window (3 seconds by default; zero for strict reuse detection). When two
    /// requests (two browser tabs, a retrying client) present the same refresh token at
    /// once, one of them wins the rotation; a loser that arrives no later than this after
    /// the winner's rotation gets `invalid_grant` and changes nothing: the winner's new
    /// pair works, the family lives on, and no reuse is reported. Past the window, a
    /// rotated token that comes back is reuse and revokes the whole family. Only the
    /// family's immediately previous token is covered. Measured in milliseconds, from the
    /// instant of the winner's rotation ([`Clock::now_millis`]), to within a millisecond
    /// (at least one).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower_passport_issuer::{ClientRegistration, Issuer, OAuthErrorCode, StaticUsers, TokenRequest};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// use tower_passport::clock::ManualClock;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let clock = ManualClock::new(1_800_000_000);
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .clock(clock.clone())
    ///     .enable_password_grant(StaticUsers::new(1_000).user("ann", "a-password", "7")?)
    ///     .refresh_race_window(Duration::from_secs(5))
    ///     .build()?;
    /// let registered = issuer
    ///     .register_client(ClientRegistration::confidential("Web").grants([GrantType::Password, GrantType::RefreshToken]))
    ///     .await?;
    /// let client = issuer.authenticate_client(&registered.client.id, registered.secret.as_ref().map(|s| s.expose())).await?;
    /// let first = issuer.grant(TokenRequest::password(client.clone(), "ann", "a-password")).await?.refresh_token.unwrap();
    ///
    /// // Two tabs refresh at once: one wins, the other is refused, and the session lives on.
    /// let winner = issuer.grant(TokenRequest::refresh_token(client.clone(), &first)).await?;
    /// let loser = issuer.grant(TokenRequest::refresh_token(client.clone(), &first)).await.unwrap_err();
    /// assert_eq!(loser.code(), OAuthErrorCode::InvalidGrant);
    /// let next = issuer.grant(TokenRequest::refresh_token(client.clone(), winner.refresh_token.as_deref().unwrap())).await?;
    ///
    /// // Past the window, the same presentation is reuse: the family dies.
    /// clock.advance(6);
    /// assert!(issuer.grant(TokenRequest::refresh_token(client.clone(), winner.refresh_token.as_deref().unwrap())).await.is_err());
    /// assert!(issuer.grant(TokenRequest::refresh_token(client.clone(), next.refresh_token.as_deref().unwrap())).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn refresh_race_window(mut self, window: Duration) -> Self {
        self.race = window;
        self
    }

    /// A grace window (off by default) during which the family's immediately previous
    /// refresh token may be exchanged again for a fresh pair, for clients that lost a
    /// response: the pair they never saw is superseded. It starts where the race window
    /// ([`refresh_race_window`](Self::refresh_race_window)) ends, since inside that a
    /// repeat is a concurrent request whose sibling's pair must keep working. Past it,
    /// reuse revokes the family. Measured in milliseconds, as the race window.
    pub fn refresh_grace_window(mut self, window: Duration) -> Self {
        self.grace = (!window.is_zero()).then_some(window);
        self
    }

    /// Publishes another server's RSA public key (PEM, as Laravel Passport's
    /// `oauth-public.key`) in the JWKS, for verification only: the issuer never signs with
    /// it. Resource servers that read this issuer's JWKS then keep accepting the tokens
    /// that server issued (RS256, named by the key's RFC 7638 thumbprint; a Passport token
    /// has no `kid` and finds it as the one RS256 key) until they expire. Remove it once
    /// they have.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use tower_passport_issuer::{Issuer, SigningKey};
    /// # use tower_passport_issuer::store::MemoryStore;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let passport = SigningKey::generate(tower_passport::Algorithm::RS256)?;
    /// # let oauth_public_key = passport.to_public_pem()?;
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .verification_key(oauth_public_key.as_bytes())?
    ///     .build()?;
    /// assert_eq!(issuer.jwks().keys.len(), 2, "its own ES256 key and Passport's");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When `pem` is not an RSA public key in PEM.
    pub fn verification_key(mut self, pem: &[u8]) -> Result<Self, ConfigError> {
        self.verification_jwks.push(crate::verification_keys::rsa_verification_jwk(pem)?);
        Ok(self)
    }

    /// Redeems, once each, the refresh tokens of the server this issuer replaces (Laravel
    /// Passport's, with `tower-passport-laravel`'s `PassportRefreshTokens`): the refresh
    /// grant hands `legacy` every refresh token that is not its own, and starts a new
    /// refresh family here for the client and user it answers. A replay is refused.
    pub fn legacy_refresh_tokens(mut self, legacy: impl crate::LegacyRefreshTokens) -> Self {
        self.legacy_refresh = Some(Arc::new(legacy));
        self
    }

    /// Enables the password grant with this user provider. RFC 9700 §2.4 says the
    /// password grant MUST NOT be used; it is here, as in Passport 12+, only by explicit
    /// opt-in, for first-party migrations.
    pub fn enable_password_grant<P: UserProvider>(mut self, provider: P) -> Self {
        self.users = Some(boxed_provider(provider));
        self
    }

    /// A named user provider (Passport's `--provider`, "Customizing The User Provider"):
    /// the password grant of a client registered with
    /// [`ClientRegistration::provider`](super::ClientRegistration::provider)`(name)`
    /// resolves its users here, and it enables the password grant for those clients
    /// (clients without a provider use [`enable_password_grant`](Self::enable_password_grant)'s,
    /// the default `"users"`). Every token issued to such a client's users names the
    /// provider in its `provider` claim, and a guard bound to another provider
    /// ([`GuardBuilder::provider`](tower_passport::guard::GuardBuilder::provider)) refuses it, so
    /// that two providers' ids may overlap: customer 5 is never user 5. Naming a provider
    /// again replaces it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{ClientRegistration, Issuer, StaticUsers, TokenRequest};
    /// use tower_passport_issuer::store::{GrantType, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .enable_password_grant(StaticUsers::new(1_000).user("ann", "ann-password", "5")?)
    ///     .user_provider("customers", StaticUsers::new(1_000).user("carl", "carl-password", "5")?)
    ///     .build()?;
    /// let shop = ClientRegistration::confidential("Shop").grants([GrantType::Password]).provider("customers");
    /// let shop = issuer.register_client(shop).await?;
    /// let shop = issuer.authenticate_client(&shop.client.id, shop.secret.as_ref().map(|s| s.expose())).await?;
    /// let token = issuer.grant(TokenRequest::password(shop.clone(), "carl", "carl-password")).await?;
    /// let verified = issuer.verifier().verify(&token.access_token)?;
    /// assert_eq!((verified.subject(), verified.provider()), (Some("5"), Some("customers")));
    /// // The default provider's users do not sign in through the shop.
    /// assert!(issuer.grant(TokenRequest::password(shop.clone(), "ann", "ann-password")).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn user_provider<P: UserProvider>(mut self, name: impl Into<String>, provider: P) -> Self {
        self.providers.insert(name.into(), boxed_provider(provider));
        self
    }

    /// How many password checks may run at once, each on a blocking thread (the machine's
    /// parallelism by default). A password grant beyond that answers 503
    /// `temporarily_unavailable` at once, so a burst of guesses cannot queue unbounded
    /// CPU work or slow down other requests. The same bound covers the other CPU-heavy
    /// checks: an imported client's bcrypt secret and the decryption of a
    /// [legacy refresh token](Self::legacy_refresh_tokens).
    pub fn max_concurrent_password_checks(mut self, checks: usize) -> Self {
        self.password_checks = checks.max(1);
        self
    }

    /// Rate-limits failed client and user authentication through `limiter`; see
    /// [`AuthLimiter`]. By default a [`Throttle`] in memory, on the issuer's clock:
    /// exponential back-off per account, per client and per client address (for several
    /// nodes, give it a [`Throttle`] over the shared store). [`NoLimit`](super::NoLimit)
    /// turns throttling off.
    pub fn auth_limiter(mut self, limiter: impl AuthLimiter) -> Self {
        self.limiter = Some(Arc::new(limiter));
        self
    }

    /// The clock (the system clock by default).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How long a "not revoked" answer is cached (5 s by default): the staleness bound for
    /// revocations made on other nodes when no revocation bus is configured.
    pub fn revocation_cache_ttl(mut self, ttl: Duration) -> Self {
        self.negative_revocation_ttl = ttl;
        self
    }

    /// How many answers the revocation list caches (100,000 by default,
    /// [`DEFAULT_REVOCATION_CACHE_CAPACITY`]): revoked `jti`s (each kept until its token
    /// expires) and "not revoked" answers alike, about 300 bytes each. Past it the least
    /// useful answers are dropped and asked of the store again, so the bound costs store
    /// reads, never a revocation. Zero is taken as one.
    pub fn revocation_cache_capacity(mut self, capacity: u64) -> Self {
        self.revocation_cache_capacity = capacity.max(1);
        self
    }

    /// The node's revocation hub, when the node made one before the issuer (a hub of the
    /// issuer's own otherwise, [`Issuer::hub`]). At [`build`](Self::build) the issuer
    /// registers its revocation list and its key-ring reload there, and publishes every
    /// revocation it makes into it.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport::revocation::Hub;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let hub = Hub::new();
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .revocation_hub(&hub)
    ///     .build()?;
    /// assert!(issuer.hub().same_as(&hub));
    /// # Ok(())
    /// # }
    /// ```
    pub fn revocation_hub(mut self, hub: &Hub) -> Self {
        self.hub = Some(hub.clone());
        self
    }

    /// How long clients may cache the JWKS (`Cache-Control: public, max-age=…`; 5 minutes
    /// by default). A resource server holding a cached set learns of a new signing key
    /// within this bound, or at once if it refetches on an unknown `kid` as this crate's
    /// remote key sets do; retired keys stay published long after it.
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.jwks_max_age = max_age;
        self
    }

    /// Whether only first-party clients' user tokens (a [`ClientRecord::first_party`]
    /// client, such as your own web app, or a personal access token) may call the
    /// token-management JSON APIs: `endpoint::PersonalAccessTokens` and `endpoint::AuthorizedTokens`. On by
    /// default, as Passport guards them with your own app's session: a third-party app's
    /// token gets 403 `insufficient_scope`, so it can neither mint long-lived tokens nor
    /// see or revoke the user's other authorizations.
    ///
    /// [`ClientRecord::first_party`]: crate::store::ClientRecord::first_party
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::Issuer;
    /// use tower_passport_issuer::store::MemoryStore;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// // Any client's user tokens may mint personal access tokens (not recommended).
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new()))
    ///     .audience("api")
    ///     .token_management_first_party_only(false)
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn token_management_first_party_only(mut self, first_party_only: bool) -> Self {
        self.first_party_token_management = first_party_only;
        self
    }

    /// The client id personal access tokens are issued to (`personal-access-client`).
    pub fn personal_access_client_id(mut self, id: impl Into<String>) -> Self {
        self.personal_client_id = id.into();
        self
    }

    /// Checks the configuration and builds the issuer. Synchronous.
    ///
    /// # Errors
    /// When the issuer URL or audience is missing, a lifetime is zero, or key generation
    /// fails.
    pub fn build(self) -> Result<Issuer, ConfigError> {
        if self.issuer.is_empty() {
            return Err(ConfigError::new(ConfigErrorKind::Issuer, "the issuer needs its URL"));
        }
        if self.audiences.is_empty() {
            return Err(ConfigError::new(
                ConfigErrorKind::Audience,
                "the issuer needs an audience (IssuerBuilder::audience)",
            ));
        }
        if [self.access_ttl, self.refresh_ttl, self.personal_ttl].iter().any(|ttl| ttl.as_secs() == 0) {
            return Err(ConfigError::new(
                ConfigErrorKind::Limit,
                "token lifetimes must be at least one second",
            ));
        }
        let signing_key = match self.signing_key {
            Some(key) => key,
            None => SigningKey::generate(Algorithm::ES256)?,
        };
        let retire_after = self.access_ttl.max(self.personal_ttl).as_secs().saturating_add(60);
        let keys = KeyRing::new(signing_key, retire_after);
        let published = SharedKeySet::new(keys.key_set(self.clock.now())?);
        let verifier = super::build_verifier(&self.issuer, &self.audiences, &published, &self.clock)?;
        let hub = self.hub.unwrap_or_default();
        let revocations = RevocationList::with_options(
            &hub,
            Arc::new(self.store.clone()),
            self.clock.clone(),
            self.revocation_cache_capacity,
            self.negative_revocation_ttl,
        );
        let (events, _) = broadcast::channel(1024);
        let issuer = Issuer {
            inner: Arc::new(IssuerInner {
                issuer: self.issuer,
                jwks_max_age: self.jwks_max_age.as_secs(),
                limiter: Limiter(
                    self.limiter
                        .unwrap_or_else(|| Arc::new(Throttle::in_memory().clock_shared(self.clock.clone()))),
                ),
                password_checks: PasswordChecks::new(self.password_checks),
                audiences: self.audiences,
                access_ttl: self.access_ttl.as_secs(),
                refresh_ttl: self.refresh_ttl.as_secs(),
                personal_ttl: self.personal_ttl.as_secs(),
                rotate_refresh_tokens: self.rotate_refresh_tokens,
                revoke_access_on_refresh: self.revoke_access_on_refresh,
                race: (!self.race.is_zero()).then(|| millis(self.race)),
                grace: self.grace.map(millis),
                first_party_token_management: self.first_party_token_management,
                users: self.users,
                legacy_refresh: self.legacy_refresh,
                verification_jwks: self.verification_jwks,
                providers: self.providers,
                scopes: self.scopes,
                keys: RwLock::new(keys),
                published,
                verifier,
                store: self.store,
                revocations,
                clock: self.clock,
                events,
                personal_client_id: self.personal_client_id,
                hub: hub.clone(),
                shared_keys: RwLock::new(None),
                codes: self.codes.checked()?,
                devices: self.devices.checked()?,
            }),
        };
        hub.register(super::shared_keys::KeyReload::of(&issuer));
        Ok(issuer)
    }
}

/// A window in whole milliseconds, at least one (a non-zero window never rounds to none).
fn millis(window: Duration) -> u64 {
    u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1)
}
