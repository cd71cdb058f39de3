use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use tower_layer::Layer;

use super::authorize::{Authorizer, ResolverCache};
use super::{Guard, ResolvePrincipal, TokenOnly};
use crate::error::{ConfigError, Responder, ResponseConfig};
use crate::token::BearerOptions;
use crate::verify::{NoRevocation, RevocationCheck, Verifier};

/// Whether a request without a token is rejected or passed through.
///
/// ```
/// use tower_passport::GuardMode;
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

pub(crate) struct GuardConfig<R: ResolvePrincipal, C> {
    pub(crate) verifier: Verifier,
    pub(crate) mode: GuardMode,
    pub(crate) bearer: BearerOptions,
    pub(crate) responses: Arc<ResponseConfig>,
    pub(crate) authorizer: Arc<Authorizer<R, C>>,
}

/// Applies the [`Guard`]: every request is either authenticated, with a
/// [`Principal`](crate::Principal) in its extensions, or answered as RFC 6750 prescribes.
///
/// ```
/// use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// # let verifier = Verifier::builder(KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32])?))
/// #     .issuer("https://auth.example.com").audience("api").build()?;
/// #[derive(Clone)]
/// struct User { name: String }
///
/// let layer = GuardLayer::builder(verifier)
///     .optional()
///     .realm("orders")
///     .resolver(|token: tower_passport::VerifiedToken| async move {
///         Ok(token.subject().map(|sub| User { name: format!("user {sub}") }))
///     })
///     .build()?;
/// # Ok(())
/// # }
/// ```
pub struct GuardLayer<R: ResolvePrincipal = TokenOnly, C = NoRevocation> {
    config: Arc<GuardConfig<R, C>>,
}

impl<R: ResolvePrincipal, C> Clone for GuardLayer<R, C> {
    fn clone(&self) -> Self {
        Self { config: self.config.clone() }
    }
}

impl GuardLayer {
    /// A required guard with the defaults: no resolver (the token is the principal), no
    /// revocation check, realm `api`, JSON error bodies, 8 KiB token cap.
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
            revocation: NoRevocation,
        }
    }
}

impl<R: ResolvePrincipal, C> GuardLayer<R, C> {
    /// Drops what the resolver cache holds about `client_id`, so the next request asks
    /// the resolver again (after a client was revoked on another node, for instance).
    pub fn forget_client(&self, client_id: &str) {
        if let Some(cache) = &self.config.authorizer.cache {
            cache.forget_client(client_id);
        }
    }

    /// Drops every cached resolver answer and every verified token.
    pub fn forget_everything(&self) {
        if let Some(cache) = &self.config.authorizer.cache {
            cache.forget_everything();
        }
        self.config.verifier.forget_everything();
    }

    /// Drops the verified tokens whose `jti` is `jti`.
    pub fn forget_access_token(&self, jti: &str) {
        self.config.verifier.forget_jti(jti);
    }
}

#[cfg(feature = "issuer")]
impl<R: ResolvePrincipal, C: Send + Sync + 'static> crate::bus::Forget for GuardLayer<R, C> {
    fn forget_access_token(&self, jti: &str) {
        GuardLayer::forget_access_token(self, jti);
    }

    fn forget_client(&self, client_id: &str) {
        GuardLayer::forget_client(self, client_id);
    }

    fn forget_everything(&self) {
        GuardLayer::forget_everything(self);
    }
}

impl<S, R: ResolvePrincipal, C> Layer<S> for GuardLayer<R, C> {
    type Service = Guard<S, R, C>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard::from_config(inner, self.config.clone())
    }
}

/// Configures a [`GuardLayer`].
#[must_use]
pub struct GuardBuilder<R: ResolvePrincipal = TokenOnly, C = NoRevocation> {
    verifier: Verifier,
    mode: GuardMode,
    bearer: BearerOptions,
    responses: ResponseConfig,
    resolver: R,
    resolver_cache: Option<(u64, Duration)>,
    revocation: C,
}

impl<R: ResolvePrincipal, C: RevocationCheck> GuardBuilder<R, C> {
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

    /// An RFC 9728 protected-resource metadata URL, added to every challenge.
    pub fn resource_metadata(mut self, url: impl Into<Arc<str>>) -> Self {
        self.responses.resource_metadata = Some(url.into());
        self
    }

    /// Replaces the body of rejections. The status and challenge stay.
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
            resolver_cache: Some(self.resolver_cache.unwrap_or((10_000, Duration::from_secs(60)))),
            revocation: self.revocation,
        }
    }

    /// How many resolver answers are cached, and for how long. A zero capacity or TTL
    /// turns the cache off.
    pub fn resolver_cache(mut self, capacity: u64, ttl: Duration) -> Self {
        self.resolver_cache = Some((capacity, ttl));
        self
    }

    /// Consults `revocation` for every verified token, cache hit or not.
    pub fn revocation<C2: RevocationCheck>(self, revocation: C2) -> GuardBuilder<R, C2> {
        GuardBuilder {
            verifier: self.verifier,
            mode: self.mode,
            bearer: self.bearer,
            responses: self.responses,
            resolver: self.resolver,
            resolver_cache: self.resolver_cache,
            revocation,
        }
    }

    /// Checks the configuration and builds the layer. Synchronous, never blocks.
    ///
    /// # Errors
    /// When the realm or metadata URL cannot be carried in a header, or the token cap is 0.
    pub fn build(self) -> Result<GuardLayer<R, C>, ConfigError> {
        for (name, value) in [
            ("realm", Some(&self.responses.realm)),
            ("resource_metadata", self.responses.resource_metadata.as_ref()),
        ] {
            if let Some(value) = value {
                let printable = HeaderValue::from_str(value).is_ok() && !value.contains(['"', '\\']);
                if !printable {
                    return Err(ConfigError::new(format!(
                        "the {name} must be printable ASCII without quotes or backslashes"
                    )));
                }
            }
        }
        if self.bearer.max_len == 0 {
            return Err(ConfigError::new("the token length cap must be positive"));
        }
        Ok(self.build_infallible())
    }

    fn build_infallible(self) -> GuardLayer<R, C> {
        let cache = self
            .resolver_cache
            .filter(|(capacity, ttl)| *capacity > 0 && !ttl.is_zero())
            .map(|(capacity, ttl)| ResolverCache::new(capacity, ttl));
        let authorizer = Arc::new(Authorizer { resolver: self.resolver, cache, revocation: self.revocation });
        GuardLayer {
            config: Arc::new(GuardConfig {
                verifier: self.verifier,
                mode: self.mode,
                bearer: self.bearer,
                responses: Arc::new(self.responses),
                authorizer,
            }),
        }
    }
}
