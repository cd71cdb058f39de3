//! Configuring a [`RemoteKeySet`]: synchronous, checks everything, opens no connection.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::Uri;

use super::client::HttpClient;
use super::discovery::metadata_urls;
use super::hyper_client::{HyperClient, DEFAULT_MAX_RESPONSE_BYTES};
use super::url::{display, parse_fetch_url};
use super::RemoteKeySet;
use crate::error::{ConfigError, ConfigErrorKind};
use crate::keys::JwkOptions;

/// Where the set comes from.
pub(super) enum Location {
    /// A JWKS URL.
    Jwks(Uri),
    /// An issuer whose metadata names the `jwks_uri`; the metadata URLs in the order tried.
    Discovery { issuer: Box<str>, metadata: [Uri; 2] },
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Jwks(uri) => f.debug_tuple("Jwks").field(&display(uri)).finish(),
            Self::Discovery { issuer, .. } => f.debug_struct("Discovery").field("issuer", issuer).finish(),
        }
    }
}

/// The tunable settings: what the builder collects and the set then reads.
#[derive(Clone, Copy, Debug)]
pub(super) struct Settings {
    pub(super) timeout: Duration,
    pub(super) max_response_bytes: usize,
    pub(super) min_refresh: Duration,
    pub(super) default_refresh: Duration,
    pub(super) max_refresh: Duration,
    pub(super) max_stale: Duration,
    pub(super) cooldown: Duration,
    /// How long the request that triggers an unknown-`kid` refetch (and those that join
    /// it) may wait for it; zero for never. Capped by `timeout` where it is read.
    pub(super) kid_wait: Duration,
    pub(super) retry_initial: Duration,
    pub(super) retry_max: Duration,
    pub(super) jwk_options: JwkOptions,
    pub(super) allow_http: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            min_refresh: Duration::from_secs(60),
            default_refresh: Duration::from_secs(300),
            max_refresh: Duration::from_secs(3600),
            max_stale: Duration::from_secs(24 * 3600),
            cooldown: Duration::from_secs(30),
            kid_wait: Duration::from_secs(2),
            retry_initial: Duration::from_secs(1),
            retry_max: Duration::from_secs(120),
            jwk_options: JwkOptions::default(),
            allow_http: false,
        }
    }
}

impl Settings {
    fn check(&self) -> Result<(), ConfigError> {
        let durations = [self.timeout, self.min_refresh, self.max_stale, self.cooldown, self.retry_initial];
        if durations.iter().any(Duration::is_zero) || self.max_response_bytes == 0 {
            return Err(ConfigError::new(
                ConfigErrorKind::Limit,
                "the timeout, refresh interval, stale bound, cooldown, retry backoff and size cap must be positive",
            ));
        }
        if self.min_refresh > self.default_refresh || self.default_refresh > self.max_refresh {
            return Err(ConfigError::new(
                ConfigErrorKind::Limit,
                "the refresh intervals must satisfy min <= default <= max",
            ));
        }
        if self.retry_initial > self.retry_max {
            return Err(ConfigError::new(
                ConfigErrorKind::Limit,
                "the initial retry backoff must not exceed the maximum",
            ));
        }
        Ok(())
    }
}

/// A remote key set's configuration, checked.
pub(super) struct Config {
    pub(super) location: Location,
    pub(super) client: Arc<dyn HttpClient>,
    pub(super) settings: Settings,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("location", &self.location)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

enum Target {
    Jwks(String),
    Discovery(String),
}

/// Configures a [`RemoteKeySet`]. Every method is chained; [`build`](Self::build) is
/// synchronous, checks the whole, and opens no connection.
///
/// | setting | default |
/// |---|---|
/// | [`timeout`](Self::timeout) (each request, connect to last byte) | 10 s |
/// | [`max_response_bytes`](Self::max_response_bytes) | 256 KiB |
/// | [`refresh`](Self::refresh): `Cache-Control: max-age` clamped to `min..=max`, or `default` without one | 1 min ..= 1 h, 5 min |
/// | [`max_stale`](Self::max_stale): the last good set serves while fetches fail, this long after it was fetched | 24 h |
/// | [`unknown_kid_cooldown`](Self::unknown_kid_cooldown): after an unknown `kid` triggers a refetch, no other does for | 30 s |
/// | [`unknown_kid_wait`](Self::unknown_kid_wait): the request that triggers that refetch, and those with the same `kid` during it, wait for it at most | 2 s (never more than the timeout) |
/// | [`retry_backoff`](Self::retry_backoff) after a failed fetch, doubling, with jitter | 1 s up to 2 min |
/// | [`jwk_options`](Self::jwk_options) | RSA without `alg` is RS256; no `oct` keys |
/// | plain `http` | loopback addresses only, unless [`allow_http`](Self::allow_http) |
///
/// ```
/// use std::time::Duration;
/// use tower_passport::RemoteKeySet;
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let keys = RemoteKeySet::builder("https://auth.example.com/.well-known/jwks.json")
///     .timeout(Duration::from_secs(5))
///     .refresh(Duration::from_secs(60), Duration::from_secs(600), Duration::from_secs(3600))
///     .max_stale(Duration::from_secs(6 * 3600))
///     .unknown_kid_cooldown(Duration::from_secs(60))
///     .build()?;
/// assert!(!keys.status().usable); // nothing fetched yet: build() never touches the network
///
/// // Plain http only to loopback, or by explicit opt-in.
/// assert!(RemoteKeySet::builder("http://auth.example.com/jwks").build().is_err());
/// assert!(RemoteKeySet::builder("http://127.0.0.1:8080/jwks").build().is_ok());
/// assert!(RemoteKeySet::builder("http://auth.example.com/jwks").allow_http().build().is_ok());
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct RemoteKeySetBuilder {
    target: Target,
    client: Option<Arc<dyn HttpClient>>,
    settings: Settings,
}

impl fmt::Debug for RemoteKeySetBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteKeySetBuilder").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl RemoteKeySetBuilder {
    fn new(target: Target) -> Self {
        Self { target, client: None, settings: Settings::default() }
    }

    pub(super) fn jwks(url: String) -> Self {
        Self::new(Target::Jwks(url))
    }

    pub(super) fn discovery(issuer: String) -> Self {
        Self::new(Target::Discovery(issuer))
    }

    /// Fetches through `client` instead of the default [`HyperClient`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_passport::keys::HyperClient;
    /// use tower_passport::RemoteKeySet;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// let client = HyperClient::builder().connect_timeout(Duration::from_secs(1)).build()?;
    /// let keys = RemoteKeySet::builder("https://auth.example.com/jwks").http_client(client).build()?;
    /// # let _ = keys;
    /// # Ok(())
    /// # }
    /// ```
    pub fn http_client(mut self, client: impl HttpClient) -> Self {
        self.client = Some(Arc::new(client));
        self
    }

    /// The longest one request may take, from connecting to the last byte (10 s by
    /// default). It bounds every client, the default one and injected ones alike.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_passport::RemoteKeySet;
    /// let url = "https://auth.example.com/jwks";
    /// assert!(RemoteKeySet::builder(url).timeout(Duration::from_secs(3)).build().is_ok());
    /// assert!(RemoteKeySet::builder(url).timeout(Duration::ZERO).build().is_err());
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// The largest document accepted, in bytes (256 KiB by default).
    ///
    /// ```
    /// use tower_passport::RemoteKeySet;
    /// let url = "https://auth.example.com/jwks";
    /// assert!(RemoteKeySet::builder(url).max_response_bytes(64 * 1024).build().is_ok());
    /// assert!(RemoteKeySet::builder(url).max_response_bytes(0).build().is_err());
    /// ```
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.settings.max_response_bytes = bytes;
        self
    }

    /// When the set is fetched again: after the response's `Cache-Control: max-age`
    /// (less its `Age`) clamped to `min..=max`, or after `default` when the response has
    /// none. 1 min, 5 min and 1 h by default. `no-cache` and `no-store` mean `min`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_passport::RemoteKeySet;
    /// let (min, default, max) = (Duration::from_secs(30), Duration::from_secs(600), Duration::from_secs(7200));
    /// let url = "https://auth.example.com/jwks";
    /// assert!(RemoteKeySet::builder(url).refresh(min, default, max).build().is_ok());
    /// assert!(RemoteKeySet::builder(url).refresh(max, default, min).build().is_err());
    /// ```
    pub fn refresh(mut self, min: Duration, default: Duration, max: Duration) -> Self {
        self.settings.min_refresh = min;
        self.settings.default_refresh = default;
        self.settings.max_refresh = max;
        self
    }

    /// How long after its last successful fetch (or `304` revalidation) the set keeps
    /// serving while fetches fail (stale-if-error); 24 h by default. Past it, requests are
    /// answered 503 until a fetch succeeds. Refreshes are scheduled at least twice per
    /// bound.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_passport::RemoteKeySet;
    /// let keys = RemoteKeySet::builder("https://auth.example.com/jwks").max_stale(Duration::from_secs(3600)).build();
    /// assert!(keys.is_ok());
    /// ```
    pub fn max_stale(mut self, bound: Duration) -> Self {
        self.settings.max_stale = bound;
        self
    }

    /// After a token with an unknown `kid` triggers a refetch, how long other unknown
    /// `kid`s fail at once without triggering another (30 s by default). A flood of random
    /// `kid`s costs at most one fetch per cooldown.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_passport::RemoteKeySet;
    /// let url = "https://auth.example.com/jwks";
    /// assert!(RemoteKeySet::builder(url).unknown_kid_cooldown(Duration::from_secs(60)).build().is_ok());
    /// assert!(RemoteKeySet::builder(url).unknown_kid_cooldown(Duration::ZERO).build().is_err());
    /// ```
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.settings.cooldown = cooldown;
        self
    }

    /// How long the request whose unknown `kid` triggers a refetch waits for it through
    /// the guard (2 s by default, and never longer than the [`timeout`](Self::timeout)).
    /// Requests with the same `kid` that arrive while that fetch runs join it and wait
    /// with it; any other unknown `kid` during the cooldown fails at once. When the fetch
    /// publishes the new key before the wait runs out, the waiting requests pass: a key
    /// rotation at the identity provider costs no failed request. `Duration::ZERO` turns
    /// waiting off (every unknown `kid` fails at once while the refetch runs).
    ///
    /// [`Verifier::verify`](crate::Verifier::verify) never waits;
    /// [`Verifier::verify_async`](crate::Verifier::verify_async) and the guard do.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_passport::RemoteKeySet;
    /// let url = "https://auth.example.com/jwks";
    /// assert!(RemoteKeySet::builder(url).unknown_kid_wait(Duration::from_millis(500)).build().is_ok());
    /// assert!(RemoteKeySet::builder(url).unknown_kid_wait(Duration::ZERO).build().is_ok()); // never wait
    /// ```
    pub fn unknown_kid_wait(mut self, wait: Duration) -> Self {
        self.settings.kid_wait = wait;
        self
    }

    /// The delay before retrying a failed fetch: `initial`, doubling with each further
    /// failure up to `max`, less up to a quarter of jitter. 1 s and 2 min by default.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_passport::RemoteKeySet;
    /// let (short, long) = (Duration::from_millis(500), Duration::from_secs(60));
    /// let url = "https://auth.example.com/jwks";
    /// assert!(RemoteKeySet::builder(url).retry_backoff(short, long).build().is_ok());
    /// assert!(RemoteKeySet::builder(url).retry_backoff(long, short).build().is_err());
    /// ```
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.settings.retry_initial = initial;
        self.settings.retry_max = max;
        self
    }

    /// How JWKs become keys: the algorithm of RSA keys without `alg`, and whether `oct`
    /// keys are taken (never, by default).
    ///
    /// ```
    /// use tower_passport::{keys::JwkOptions, Algorithm, RemoteKeySet};
    /// let keys = RemoteKeySet::builder("https://auth.example.com/jwks")
    ///     .jwk_options(JwkOptions::default().default_rsa_algorithm(Algorithm::PS256))
    ///     .build();
    /// assert!(keys.is_ok());
    /// ```
    pub fn jwk_options(mut self, options: JwkOptions) -> Self {
        self.settings.jwk_options = options;
        self
    }

    /// Allows plain `http` to any host. Without it, `http` is only allowed to loopback
    /// addresses; this applies to discovered `jwks_uri`s too.
    ///
    /// ```
    /// use tower_passport::RemoteKeySet;
    /// assert!(RemoteKeySet::builder("http://keys.internal/jwks").build().is_err());
    /// assert!(RemoteKeySet::builder("http://keys.internal/jwks").allow_http().build().is_ok());
    /// ```
    pub fn allow_http(mut self) -> Self {
        self.settings.allow_http = true;
        self
    }

    /// Checks the configuration and builds the set. Synchronous: nothing is fetched until
    /// [`RemoteKeySet::warm_up`] or the first request.
    ///
    /// ```
    /// use tower_passport::RemoteKeySet;
    /// let keys = RemoteKeySet::builder("https://auth.example.com/jwks").build();
    /// assert_eq!(keys.map(|keys| keys.metrics().fetches).ok(), Some(0));
    /// ```
    ///
    /// # Errors
    /// When the URL is invalid or breaks the https rule, a duration or limit is zero,
    /// `min > default` or `default > max`, or the default client cannot be built.
    pub fn build(self) -> Result<RemoteKeySet, ConfigError> {
        let settings = self.settings;
        let location = match &self.target {
            Target::Jwks(url) => {
                Location::Jwks(parse_fetch_url(url, settings.allow_http, "JWKS URL").map_err(url_error)?)
            }
            Target::Discovery(issuer) => {
                let uri = parse_fetch_url(issuer, settings.allow_http, "issuer URL").map_err(url_error)?;
                let metadata = metadata_urls(&uri).map_err(url_error)?;
                Location::Discovery { issuer: issuer.as_str().into(), metadata }
            }
        };
        settings.check()?;
        let client = match self.client {
            Some(client) => client,
            None => Arc::new(
                HyperClient::builder()
                    .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
                    .max_response_bytes(settings.max_response_bytes)
                    .build()?,
            ),
        };
        Ok(RemoteKeySet::from_config(Config { location, client, settings }))
    }
}

/// A URL the configuration names cannot be fetched from; `problem` says why.
fn url_error(problem: String) -> ConfigError {
    ConfigError::new(ConfigErrorKind::Url, problem)
}
