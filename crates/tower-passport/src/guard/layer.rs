use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use http::HeaderValue;
use tower_layer::Layer;

use super::authorize::{Authorize, Authorizer, ResolverCache};
use super::resolve_timeout::DEFAULT_RESOLVE_TIMEOUT;
use super::{Guard, ResolvePrincipal, TokenOnly};
use crate::cookie::FirstPartyCookie;
use crate::dpop::{Dpop, DpopGuard};
use crate::error::{ConfigError, ConfigErrorKind, Responder, ResponseConfig};
use crate::revocation::{Invalidate, NoRevocation, RevocationCheck};
use crate::token::BearerOptions;
use crate::verify::Verifier;

/// Whether a request without a token is rejected or passed through.
///
/// ```
/// use tower_passport::guard::GuardMode;
/// assert_eq!(GuardMode::default(), GuardMode::Required);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GuardMode {
    /// No token → 401 with a bare challenge.
    #[default]
    Required,
    /// No token → the request passes without a principal. A bad token is still rejected.
    Optional,
}

/// How long a guard caches its resolver's answers unless [`GuardBuilder::resolver_cache`] says
/// otherwise.
///
/// The longest a node keeps accepting the tokens of a client revoked on another node when no
/// revocation bus tells it.
pub const DEFAULT_RESOLVER_CACHE_TTL: Duration = Duration::from_secs(60);

/// What every [`Guard`] of one layer shares. The resolver and revocation types are
/// erased behind [`Authorize`]: only the user type remains.
pub(crate) struct GuardConfig<U> {
    pub(crate) verifier: Verifier,
    pub(crate) mode: GuardMode,
    pub(crate) bearer: BearerOptions,
    pub(crate) responses: Arc<ResponseConfig>,
    pub(crate) authorizer: Arc<dyn Authorize<U>>,
    pub(crate) cookie: Option<FirstPartyCookie>,
    /// The introspector, and which tokens it takes.
    #[cfg(feature = "introspection")]
    pub(crate) opaque: Option<super::opaque::Opaque>,
    pub(crate) dpop: Option<DpopGuard>,
}

impl<U> fmt::Debug for GuardConfig<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("GuardConfig");
        debug
            .field("verifier", &self.verifier)
            .field("mode", &self.mode)
            .field("bearer", &self.bearer)
            .field("responses", &self.responses)
            .field("cookie", &self.cookie)
            .field("dpop", &self.dpop);
        #[cfg(feature = "introspection")]
        debug.field("introspection", &self.opaque);
        debug.finish_non_exhaustive()
    }
}

/// Applies the [`Guard`]: every request is either authenticated, with a
/// [`Principal<U>`](crate::Principal) in its extensions, or answered as RFC 6750 prescribes.
///
/// `U` is the user type the resolver yields (`()` without one); the resolver and the
/// revocation check chosen on the [`GuardBuilder`] do not show in the type, so a helper
/// that takes a guard writes `GuardLayer<User>`.
///
/// ```
/// use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
/// #     .issuer("https://auth.example.com").audience("api").build()?;
/// #[derive(Clone)]
/// struct User { name: String }
///
/// let layer: GuardLayer<User> = GuardLayer::builder(verifier)
///     .optional()
///     .realm("orders")
///     .resolver(|token: tower_passport::VerifiedToken| async move {
///         Ok(token.subject().map(|sub| User { name: format!("user {sub}") }))
///     })
///     .build()?;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct GuardLayer<U = ()> {
    config: Arc<GuardConfig<U>>,
}

impl<U> Clone for GuardLayer<U> {
    fn clone(&self) -> Self {
        Self { config: self.config.clone() }
    }
}

impl<U> fmt::Debug for GuardLayer<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardLayer").field("config", &self.config).finish()
    }
}

impl GuardLayer {
    /// A required guard with the defaults: no resolver (the token is the principal), no
    /// revocation check, realm `api`, JSON error bodies, 8 KiB token cap.
    ///
    /// ```
    /// use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?);
    /// let verifier = Verifier::builder(keys).issuer("https://auth.example.com").audience("api").build()?;
    /// let _layer: GuardLayer = GuardLayer::new(verifier);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(verifier: Verifier) -> Self {
        Self::builder(verifier).build_infallible()
    }

    /// Starts configuring a guard.
    pub fn builder(verifier: Verifier) -> GuardBuilder {
        GuardBuilder {
            verifier,
            mode: GuardMode::Required,
            bearer: BearerOptions::default(),
            responses: ResponseConfig::default(),
            resolver: TokenOnly,
            resolver_cache: None,
            resolve_timeout: Some(DEFAULT_RESOLVE_TIMEOUT),
            revocation: NoRevocation,
            provider: None,
            cookie: None,
            #[cfg(feature = "introspection")]
            opaque: None,
            dpop: None,
        }
    }

    /// Starts configuring a guard that introspects every token (RFC 7662), JWTs
    /// included; see [`introspection`](crate::introspection). For JWTs verified locally
    /// and every other token introspected, start from [`builder`](Self::builder) and add
    /// [`GuardBuilder::introspection`].
    ///
    /// ```
    /// use tower_passport::introspection::Introspector;
    /// use tower_passport::GuardLayer;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let introspector = Introspector::builder("https://auth.example.com/oauth/introspect")
    ///     .issuer("https://auth.example.com")
    ///     .audience("orders-api")
    ///     .client_secret_basic("orders-api", "the-resource-servers-secret")
    ///     .build()?;
    /// let guard: GuardLayer = GuardLayer::introspecting(introspector).build()?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "introspection")]
    #[cfg_attr(docsrs, doc(cfg(feature = "introspection")))]
    pub fn introspecting(introspector: crate::introspection::Introspector) -> GuardBuilder {
        let mut builder = Self::builder(Verifier::introspection_only());
        builder.opaque = Some(super::opaque::Opaque::every_token(introspector));
        builder
    }
}

impl<U> GuardLayer<U> {
    /// Drops what the resolver cache holds about `client_id`, so the next request asks
    /// the resolver again (after a client was revoked on another node, for instance).
    pub fn invalidate_client(&self, client_id: &str) {
        self.config.authorizer.invalidate_client(client_id);
        #[cfg(feature = "introspection")]
        if let Some(opaque) = &self.config.opaque {
            opaque.introspector.invalidate_client(client_id);
        }
    }

    /// Drops every cached resolver answer and every verified token.
    pub fn invalidate_everything(&self) {
        self.config.authorizer.invalidate_everything();
        self.config.verifier.invalidate_everything();
        #[cfg(feature = "introspection")]
        if let Some(opaque) = &self.config.opaque {
            opaque.introspector.invalidate_everything();
        }
    }

    /// Drops the verified tokens whose `jti` is `jti`.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
    /// #     .issuer("https://auth.example.com").audience("api").build()?;
    /// let guard = GuardLayer::new(verifier);
    /// guard.invalidate_jti("3f6c1b2a");
    /// guard.invalidate_client("billing");
    /// guard.invalidate_everything();
    /// # Ok(())
    /// # }
    /// ```
    pub fn invalidate_jti(&self, jti: &str) {
        self.config.verifier.invalidate_jti(jti);
        #[cfg(feature = "introspection")]
        if let Some(opaque) = &self.config.opaque {
            opaque.introspector.invalidate_jti(jti);
        }
    }
}

/// A guard layer is one of a node's caches. Built with a revocation check or resolver tied
/// to a [`Hub`](crate::revocation::Hub) (a `RevocationList`, `HeardRevocations`,
/// `Issuer::resolver`), it is registered there at `build()`; otherwise
/// [`Hub::register`](crate::revocation::Hub::register) it.
impl<U: 'static> Invalidate for GuardLayer<U> {
    fn invalidate_jti(&self, jti: &str) {
        GuardLayer::invalidate_jti(self, jti);
    }

    fn invalidate_client(&self, client_id: &str) {
        GuardLayer::invalidate_client(self, client_id);
    }

    fn invalidate_everything(&self) {
        GuardLayer::invalidate_everything(self);
    }
}

impl<S, U> Layer<S> for GuardLayer<U> {
    type Service = Guard<S, U>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard::from_config(inner, self.config.clone())
    }
}

/// Configures a [`GuardLayer`]. Its type follows the resolver (`R`) and revocation check
/// (`C`) chosen so far; [`build`](Self::build) erases both.
#[must_use]
pub struct GuardBuilder<R = TokenOnly, C = NoRevocation> {
    verifier: Verifier,
    mode: GuardMode,
    bearer: BearerOptions,
    responses: ResponseConfig,
    resolver: R,
    resolver_cache: Option<(u64, Duration)>,
    resolve_timeout: Option<Duration>,
    revocation: C,
    provider: Option<Arc<str>>,
    cookie: Option<FirstPartyCookie>,
    #[cfg(feature = "introspection")]
    opaque: Option<super::opaque::Opaque>,
    dpop: Option<Dpop>,
}

impl<R, C> fmt::Debug for GuardBuilder<R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("GuardBuilder");
        debug
            .field("verifier", &self.verifier)
            .field("mode", &self.mode)
            .field("bearer", &self.bearer)
            .field("responses", &self.responses)
            .field("resolver_cache", &self.resolver_cache)
            .field("resolve_timeout", &self.resolve_timeout)
            .field("cookie", &self.cookie)
            .field("dpop", &self.dpop);
        #[cfg(feature = "introspection")]
        debug.field("introspection", &self.opaque);
        debug.finish_non_exhaustive()
    }
}

impl<R: ResolvePrincipal, C: RevocationCheck> GuardBuilder<R, C> {
    /// Binds the guard to one user provider (Passport's guard `provider`, "Multiple
    /// Authentication Guards"): a user token is accepted only when its user comes from
    /// `provider`, as its `provider` claim says (a token without the claim comes from
    /// [`DEFAULT_PROVIDER`](crate::token::DEFAULT_PROVIDER), `"users"`). Any other user
    /// token is refused with 401 `invalid_token` ([`Reason::WrongProvider`](crate::error::Reason::WrongProvider))
    /// before the resolver sees it, even when its `sub` is the id of one of this provider's
    /// users: customer 5 is never user 5. Client-credentials tokens have no user and are not
    /// affected. Unbound (the default), the guard accepts every provider's users: then tell
    /// them apart with [`VerifiedToken::provider`](crate::VerifiedToken::provider).
    ///
    /// ```
    /// # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
    /// #     .issuer("https://auth.example.com").audience("api").build()?;
    /// let customers_only: GuardLayer = GuardLayer::builder(verifier).provider("customers").build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn provider(mut self, provider: impl Into<Arc<str>>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Mixed mode: tokens shaped like a JWT are verified by the guard's verifier, as
    /// before, and every other token is asked about at `introspector`'s endpoint (RFC
    /// 7662). On a guard from [`GuardLayer::introspecting`], replaces its introspector.
    /// See [`introspection`](crate::introspection).
    ///
    /// ```
    /// use tower_passport::introspection::Introspector;
    /// # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
    /// #     .issuer("https://auth.example.com").audience("orders-api").build()?;
    /// let introspector = Introspector::discover("https://auth.example.com")
    ///     .audience("orders-api")
    ///     .client_secret_post("orders-api", "the-resource-servers-secret")
    ///     .build()?;
    /// let mixed: GuardLayer = GuardLayer::builder(verifier).introspection(introspector).build()?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "introspection")]
    #[cfg_attr(docsrs, doc(cfg(feature = "introspection")))]
    pub fn introspection(mut self, introspector: crate::introspection::Introspector) -> Self {
        self.opaque = Some(super::opaque::Opaque::added(self.opaque.take(), introspector));
        self
    }

    /// Passes requests without a token through, without a principal.
    pub fn optional(mut self) -> Self {
        self.mode = GuardMode::Optional;
        self
    }

    /// Sets the mode.
    pub fn mode(mut self, mode: GuardMode) -> Self {
        self.mode = mode;
        self
    }

    /// The realm of the `WWW-Authenticate` challenge (`api` by default).
    pub fn realm(mut self, realm: impl Into<Arc<str>>) -> Self {
        self.responses.realm = realm.into();
        self
    }

    /// An RFC 9728 protected-resource metadata URL, added to every challenge. A
    /// [`ResourceMetadataLayer`](crate::resource_metadata::ResourceMetadataLayer) in front
    /// of the guard serves the document and adds its URL without this; set it here for a
    /// document served elsewhere.
    pub fn resource_metadata(mut self, url: impl Into<Arc<str>>) -> Self {
        self.responses.resource_metadata = Some(url.into());
        self
    }

    /// Shapes rejections through `responder`: their body and, with a responder that sets
    /// them, their status and extra headers, for the guard and every scope layer behind
    /// it. The challenge stays. For a tonic service, [`GrpcResponder`](crate::error::GrpcResponder):
    ///
    /// ```
    /// # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
    /// use tower_passport::error::GrpcResponder;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
    /// #     .issuer("https://auth.example.com").audience("api").build()?;
    /// let grpc: GuardLayer = GuardLayer::builder(verifier).responder(GrpcResponder).build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn responder(mut self, responder: impl Responder) -> Self {
        self.responses.responder = Arc::new(responder);
        self
    }

    /// The longest token accepted, in bytes (8 KiB by default). Longer is `invalid_request`.
    pub fn max_token_len(mut self, bytes: usize) -> Self {
        self.bearer.max_len = bytes;
        self
    }

    /// Also reads the `access_token` query parameter (RFC 6750 §2.3). Off by default:
    /// URLs end up in logs and browser history.
    pub fn allow_query_parameter(mut self) -> Self {
        self.bearer.query_parameter = true;
        self
    }

    /// Resolves users and checks clients through `resolver`, caching its answers for
    /// 60 seconds unless [`resolver_cache`](Self::resolver_cache) says otherwise.
    pub fn resolver<R2: ResolvePrincipal>(self, resolver: R2) -> GuardBuilder<R2, C> {
        GuardBuilder {
            verifier: self.verifier,
            mode: self.mode,
            bearer: self.bearer,
            responses: self.responses,
            resolver,
            resolver_cache: Some(self.resolver_cache.unwrap_or((10_000, DEFAULT_RESOLVER_CACHE_TTL))),
            resolve_timeout: self.resolve_timeout,
            revocation: self.revocation,
            provider: self.provider,
            cookie: self.cookie,
            #[cfg(feature = "introspection")]
            opaque: self.opaque,
            dpop: self.dpop,
        }
    }

    /// How many resolver answers are cached, and for how long. A zero capacity or TTL
    /// turns the cache off.
    pub fn resolver_cache(mut self, capacity: u64, ttl: Duration) -> Self {
        self.resolver_cache = Some((capacity, ttl));
        self
    }

    /// How long a request waits for the resolver (the client check and the user lookup
    /// together) before the guard answers 503 [`Reason::ResolverFailed`](crate::error::Reason::ResolverFailed),
    /// as for a failing resolver: [`DEFAULT_RESOLVE_TIMEOUT`] (5 s) unless set. A request
    /// whose answers are at hand (cached, or the resolver's `*_now`) sets no timer. See
    /// [`resolve_timeout`](super::resolve_timeout) for the runtime it needs.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
    /// use std::time::Duration;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
    /// #     .issuer("https://auth.example.com").audience("api").build()?;
    /// let guard: GuardLayer<String> = GuardLayer::builder(verifier)
    ///     .resolver(|token: tower_passport::VerifiedToken| async move { Ok(token.subject().map(str::to_owned)) })
    ///     .resolve_timeout(Duration::from_millis(1500))
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn resolve_timeout(mut self, timeout: Duration) -> Self {
        self.resolve_timeout = Some(timeout);
        self
    }

    /// Waits for the resolver without a bound: for a runtime without timers, or a
    /// `tower::timeout` layer in front that is the bound.
    pub fn no_resolve_timeout(mut self) -> Self {
        self.resolve_timeout = None;
        self
    }

    /// Consults `revocation` for every verified token, cache hit or not. When it belongs to
    /// a node's [`Hub`](crate::revocation::Hub) ([`RevocationCheck::hub`]), the guard's
    /// caches register there at [`build`](Self::build), so the node's invalidations reach
    /// them: there is no step to forget.
    pub fn revocation<C2: RevocationCheck>(self, revocation: C2) -> GuardBuilder<R, C2> {
        GuardBuilder {
            verifier: self.verifier,
            mode: self.mode,
            bearer: self.bearer,
            responses: self.responses,
            resolver: self.resolver,
            resolver_cache: self.resolver_cache,
            resolve_timeout: self.resolve_timeout,
            revocation,
            provider: self.provider,
            cookie: self.cookie,
            #[cfg(feature = "introspection")]
            opaque: self.opaque,
            dpop: self.dpop,
        }
    }

    /// Also accepts the first-party cookie (Passport's `laravel_token`, attached by
    /// `FreshApiTokenLayer` (tower-passport-issuer) on the app's web routes)
    /// when no `Authorization` header came: the app's own JavaScript calls the API with no
    /// token handling. A bearer token, when sent, is used instead. The cookie's user is
    /// resolved and checked as a token's would be, and holds every scope. See
    /// [`cookie`](crate::cookie) for the origin and CSRF checks.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
    /// use tower_passport::cookie::FirstPartyCookie;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
    /// #     .issuer("https://auth.example.com").audience("api").build()?;
    /// let cookie = FirstPartyCookie::new(b"a secret of at least thirty-two bytes!")?;
    /// let guard: GuardLayer = GuardLayer::builder(verifier).first_party_cookie(cookie).build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn first_party_cookie(mut self, cookie: FirstPartyCookie) -> Self {
        self.cookie = Some(cookie);
        self
    }

    /// Accepts DPoP-bound tokens (RFC 9449) under the `DPoP` scheme, each with a proof
    /// of possession of its key; see [`crate::dpop`]. [`Dpop::new`] keeps the `Bearer`
    /// scheme for unbound tokens too (both challenges are then sent);
    /// [`Dpop::required`] takes DPoP alone.
    ///
    /// ```
    /// # use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
    /// use tower_passport::dpop::Dpop;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
    /// #     .issuer("https://auth.example.com").audience("api").build()?;
    /// let guard: GuardLayer = GuardLayer::builder(verifier).dpop(Dpop::new()).build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn dpop(mut self, dpop: Dpop) -> Self {
        self.dpop = Some(dpop);
        self
    }

    /// Checks the configuration and builds the layer, erasing the resolver and revocation
    /// types: the layer is a `GuardLayer<R::User>`. Synchronous, never blocks.
    ///
    /// # Errors
    /// When the realm ([`ConfigErrorKind::Realm`]) or metadata URL
    /// ([`ConfigErrorKind::Url`]) cannot be carried in a header, the token cap or the
    /// resolve timeout is 0 ([`ConfigErrorKind::Limit`]), or the [`Dpop`] public URL is not an absolute URL.
    pub fn build(mut self) -> Result<GuardLayer<R::User>, ConfigError> {
        for (kind, name, value) in [
            (ConfigErrorKind::Realm, "realm", Some(&self.responses.realm)),
            (ConfigErrorKind::Url, "resource_metadata", self.responses.resource_metadata.as_ref()),
        ] {
            if let Some(value) = value {
                let printable = HeaderValue::from_str(value).is_ok() && !value.contains(['"', '\\']);
                if !printable {
                    return Err(ConfigError::new(
                        kind,
                        format!("the {name} must be printable ASCII without quotes or backslashes"),
                    ));
                }
            }
        }
        if let Some(cookie) = &self.cookie {
            cookie.validate()?;
        }
        if self.bearer.max_len == 0 {
            return Err(ConfigError::new(ConfigErrorKind::Limit, "the token length cap must be positive"));
        }
        if self.resolve_timeout.is_some_and(|timeout| timeout.is_zero()) {
            return Err(ConfigError::new(ConfigErrorKind::Limit, "the resolve timeout must be positive"));
        }
        let dpop = match self.dpop.take() {
            Some(settings) => {
                let (dpop, challenge) = DpopGuard::new(settings)?;
                self.responses.dpop = Some(challenge);
                Some(dpop)
            }
            None => None,
        };
        Ok(self.build_with(dpop))
    }

    fn build_infallible(self) -> GuardLayer<R::User> {
        self.build_with(None)
    }

    fn build_with(self, dpop: Option<DpopGuard>) -> GuardLayer<R::User> {
        // The layers behind find `Principal<R::User>` without knowing the type (else the
        // guard leaves its context beside it: see `context`).
        super::context::register::<R::User>();
        let hubs = [self.revocation.hub(), self.resolver.hub()];
        let cache = self
            .resolver_cache
            .filter(|(capacity, ttl)| *capacity > 0 && !ttl.is_zero())
            .map(|(capacity, ttl)| ResolverCache::new(capacity, ttl));
        let authorizer: Arc<dyn Authorize<R::User>> = Arc::new(Authorizer {
            resolver: self.resolver,
            cache,
            revocation: self.revocation,
            provider: self.provider,
            resolve_timeout: self.resolve_timeout,
        });
        let layer = GuardLayer {
            config: Arc::new(GuardConfig {
                verifier: self.verifier,
                mode: self.mode,
                bearer: self.bearer,
                responses: Arc::new(self.responses),
                authorizer,
                cookie: self.cookie,
                #[cfg(feature = "introspection")]
                opaque: self.opaque,
                dpop,
            }),
        };
        // Every hub the revocation check and the resolver answer to, once each.
        let [first, second] = hubs;
        let second = second.filter(|hub| !first.as_ref().is_some_and(|first| first.same_as(hub)));
        for hub in first.into_iter().chain(second) {
            hub.register(RegisteredGuard(Arc::downgrade(&layer.config)));
        }
        layer
    }
}

/// A guard's caches as registered with a hub: weak, so a dropped guard is not kept alive
/// (and is then no longer invalidated).
struct RegisteredGuard<U>(Weak<GuardConfig<U>>);

impl<U: 'static> Invalidate for RegisteredGuard<U> {
    fn invalidate_jti(&self, jti: &str) {
        if let Some(config) = self.0.upgrade() {
            GuardLayer { config }.invalidate_jti(jti);
        }
    }

    fn invalidate_client(&self, client_id: &str) {
        if let Some(config) = self.0.upgrade() {
            GuardLayer { config }.invalidate_client(client_id);
        }
    }

    fn invalidate_everything(&self) {
        if let Some(config) = self.0.upgrade() {
            GuardLayer { config }.invalidate_everything();
        }
    }
}
