//! [`IntrospectorBuilder`]: the endpoint, the client's credentials, the claims policy,
//! the transport limits and the cache.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;

use super::cache::AnswerCache;
use super::call::{Caller, ClientAuth};
use super::endpoint::{Discovery, Endpoint};
use super::flight::Flights;
use super::{Inner, Introspector};
use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, ConfigErrorKind};
use crate::keys::remote::{metadata_urls, parse_fetch_url, HttpClient, HyperClient};
use crate::verify::introspected::AnswerPolicy;
use crate::verify::ClientTokenRule;

/// The largest introspection answer read by default: 64 KiB.
pub const DEFAULT_MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Configures an [`Introspector`]. Every method is chained; [`build`](Self::build) checks
/// the whole and opens no connection.
///
/// ```
/// use std::time::Duration;
/// use tower_passport::introspection::Introspector;
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let introspector = Introspector::builder("https://auth.example.com/oauth/introspect")
///     .issuer("https://auth.example.com")
///     .audience("orders-api")
///     .client_secret_post("orders-api", "the-resource-servers-secret")
///     .timeout(Duration::from_secs(2))
///     .max_in_flight(32)
///     .cache_max_ttl(Duration::from_secs(30))
///     .negative_cache_ttl(Duration::from_secs(5))
///     .build()?;
/// # let _ = introspector;
/// # Ok(())
/// # }
/// ```
#[must_use]
pub struct IntrospectorBuilder {
    location: Location,
    issuer: Option<Box<str>>,
    audiences: Vec<Box<str>>,
    credentials: Option<Credentials>,
    client_rule: ClientTokenRule,
    leeway: Duration,
    inherited_scopes: bool,
    clock: Arc<dyn Clock>,
    client: Option<Box<dyn HttpClient>>,
    allow_http: bool,
    timeout: Duration,
    max_response_bytes: usize,
    max_in_flight: usize,
    cache_capacity: u64,
    cache_max_ttl: Duration,
    negative_cache_ttl: Duration,
}

enum Location {
    Endpoint(String),
    Issuer(String),
}

/// The client's credentials as given; the secret never shows in `Debug`.
enum Credentials {
    Basic { client_id: String, secret: String },
    Post { client_id: String, secret: String },
}

impl fmt::Debug for IntrospectorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (endpoint, discovered_from) = match &self.location {
            Location::Endpoint(url) => (Some(url), None),
            Location::Issuer(issuer) => (None, Some(issuer)),
        };
        let credentials = self.credentials.as_ref().map(|credentials| match credentials {
            Credentials::Basic { client_id, .. } => ("client_secret_basic", client_id),
            Credentials::Post { client_id, .. } => ("client_secret_post", client_id),
        });
        f.debug_struct("IntrospectorBuilder")
            .field("endpoint", &endpoint)
            .field("discovered_from", &discovered_from)
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("credentials", &credentials)
            .field("timeout", &self.timeout)
            .field("max_in_flight", &self.max_in_flight)
            .field("cache_max_ttl", &self.cache_max_ttl)
            .field("negative_cache_ttl", &self.negative_cache_ttl)
            .finish_non_exhaustive()
    }
}

impl IntrospectorBuilder {
    fn new(location: Location, issuer: Option<Box<str>>) -> Self {
        Self {
            location,
            issuer,
            audiences: Vec::new(),
            credentials: None,
            client_rule: ClientTokenRule::default(),
            leeway: Duration::from_secs(60),
            inherited_scopes: false,
            clock: Arc::new(SystemClock),
            client: None,
            allow_http: false,
            timeout: Duration::from_secs(5),
            max_response_bytes: DEFAULT_MAX_ANSWER_BYTES,
            max_in_flight: 64,
            cache_capacity: 10_000,
            cache_max_ttl: Duration::from_secs(60),
            negative_cache_ttl: Duration::from_secs(10),
        }
    }

    pub(super) fn endpoint(url: String) -> Self {
        Self::new(Location::Endpoint(url), None)
    }

    pub(super) fn discover(issuer: String) -> Self {
        let expected = Some(issuer.clone().into_boxed_str());
        Self::new(Location::Issuer(issuer), expected)
    }

    /// The issuer the tokens come from: an answer's `iss`, when it names one, must be
    /// exactly this, and it is the [`issuer`](crate::VerifiedToken::issuer) of every
    /// introspected token. Required with [`Introspector::builder`]; with
    /// [`Introspector::discover`] it is the issuer discovered from.
    pub fn issuer(mut self, issuer: impl Into<Box<str>>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// An audience an answer's `aud` may name; call again to accept several. At least one
    /// is required, as for a JWT.
    pub fn audience(mut self, audience: impl Into<Box<str>>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Authenticates with `client_secret_basic`: HTTP Basic, the id and secret
    /// form-encoded first (RFC 6749 §2.3.1). Replaces earlier credentials.
    pub fn client_secret_basic(mut self, client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::Basic { client_id: client_id.into(), secret: secret.into() });
        self
    }

    /// Authenticates with `client_secret_post`: `client_id` and `client_secret` in the
    /// form body. Replaces earlier credentials.
    pub fn client_secret_post(mut self, client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::Post { client_id: client_id.into(), secret: secret.into() });
        self
    }

    /// How an answer without `idtyp` is told to be about a client-credentials token, as
    /// for a JWT ([`ClientTokenRule::SubjectOrClientId`] by default).
    pub fn client_token_rule(mut self, rule: ClientTokenRule) -> Self {
        self.client_rule = rule;
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat` (60 s by default).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Lets a granted `orders` satisfy `orders:create`. Off by default.
    pub fn inherited_scopes(mut self, inherit: bool) -> Self {
        self.inherited_scopes = inherit;
        self
    }

    /// The clock the claims and the cache are read against; the system clock by default.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The HTTP client calls go through (a [`HyperClient`] by default). It must implement
    /// [`HttpClient::post`]; discovery uses [`HttpClient::get`].
    pub fn http_client(mut self, client: impl HttpClient) -> Self {
        self.client = Some(Box::new(client));
        self
    }

    /// Allows plain `http` to hosts other than loopback ones. Off by default: the token
    /// and the client's secret travel in every call.
    pub fn allow_http(mut self) -> Self {
        self.allow_http = true;
        self
    }

    /// The longest a call (or a discovery) may take, connection included (5 s by
    /// default). A slower endpoint is a 503 for the requests waiting on it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest answer read ([`DEFAULT_MAX_ANSWER_BYTES`] by default); a larger one is
    /// a 503.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// How many calls may be in flight at once (64 by default). A request whose token
    /// needs a call past the bound gets 503 at once; it is never queued. Requests for a
    /// token whose call is in flight join it and need no slot.
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.max_in_flight = calls;
        self
    }

    /// How many answers are cached (10 000 by default); 0 turns the cache off.
    pub fn cache_capacity(mut self, answers: u64) -> Self {
        self.cache_capacity = answers;
        self
    }

    /// The longest an active answer is cached, whatever its `exp` (60 s by default): the
    /// bound on how long a token revoked at the authorization server keeps working here
    /// when no revocation event reaches this node. An entry never outlives its `exp`.
    pub fn cache_max_ttl(mut self, ttl: Duration) -> Self {
        self.cache_max_ttl = ttl;
        self
    }

    /// How long a refusal (`active: false`, or an answer failing a claim check) is cached
    /// (10 s by default). A failed call is never cached.
    pub fn negative_cache_ttl(mut self, ttl: Duration) -> Self {
        self.negative_cache_ttl = ttl;
        self
    }

    /// Checks the configuration and builds the introspector. Synchronous: nothing is
    /// fetched until the first token (discovery included).
    ///
    /// # Errors
    /// A bad endpoint or issuer URL, or plain `http` to a non-loopback host without
    /// [`allow_http`](Self::allow_http) ([`ConfigErrorKind::Url`]); no issuer
    /// ([`ConfigErrorKind::Issuer`]) or audience ([`ConfigErrorKind::Audience`]); missing
    /// or empty client credentials ([`ConfigErrorKind::Credentials`]); a zero timeout,
    /// answer cap or in-flight bound ([`ConfigErrorKind::Limit`]).
    pub fn build(self) -> Result<Introspector, ConfigError> {
        let url_error = |problem: String| ConfigError::new(ConfigErrorKind::Url, problem);
        let endpoint = match &self.location {
            Location::Endpoint(url) => Endpoint::Fixed(
                parse_fetch_url(url, self.allow_http, "introspection endpoint").map_err(url_error)?,
            ),
            Location::Issuer(issuer) => {
                let uri = parse_fetch_url(issuer, self.allow_http, "issuer URL").map_err(url_error)?;
                Endpoint::Discovered(Box::new(Discovery {
                    issuer: issuer.clone().into_boxed_str(),
                    metadata: rfc8414_first(metadata_urls(&uri).map_err(url_error)?),
                    allow_http: self.allow_http,
                    found: OnceCell::new(),
                }))
            }
        };
        let issuer = self.issuer.filter(|issuer| !issuer.is_empty()).ok_or_else(|| {
            ConfigError::new(
                ConfigErrorKind::Issuer,
                "the introspector needs an issuer (IntrospectorBuilder::issuer)",
            )
        })?;
        let audiences: Box<[Box<str>]> = self.audiences.into_iter().filter(|aud| !aud.is_empty()).collect();
        if audiences.is_empty() {
            return Err(ConfigError::new(
                ConfigErrorKind::Audience,
                "the introspector needs an audience (IntrospectorBuilder::audience)",
            ));
        }
        let auth = match self.credentials {
            Some(Credentials::Basic { client_id, secret }) if !client_id.is_empty() && !secret.is_empty() => {
                ClientAuth::basic(&client_id, &secret).map_err(|error| {
                    ConfigError::new(ConfigErrorKind::Credentials, "cannot build the Basic credentials")
                        .with_source(error)
                })?
            }
            Some(Credentials::Post { client_id, secret }) if !client_id.is_empty() && !secret.is_empty() => {
                ClientAuth::Post { client_id: client_id.into(), secret: secret.into() }
            }
            _ => return Err(ConfigError::new(
                ConfigErrorKind::Credentials,
                "the introspector needs a client id and secret (client_secret_basic or client_secret_post)",
            )),
        };
        if self.timeout.is_zero() || self.max_response_bytes == 0 || self.max_in_flight == 0 {
            return Err(ConfigError::new(
                ConfigErrorKind::Limit,
                "the introspection timeout, answer cap and in-flight bound must be positive",
            ));
        }
        let client = match self.client {
            Some(client) => client,
            None => Box::new(HyperClient::builder().max_response_bytes(self.max_response_bytes).build()?),
        };
        let cache = (self.cache_capacity > 0 && !self.cache_max_ttl.is_zero()).then(|| {
            AnswerCache::new(
                self.cache_capacity,
                self.cache_max_ttl.as_secs(),
                self.negative_cache_ttl.as_secs(),
            )
        });
        let policy = AnswerPolicy::new(
            issuer,
            audiences,
            self.client_rule,
            self.leeway.as_secs(),
            self.inherited_scopes,
        );
        Ok(Introspector {
            inner: Arc::new(Inner {
                endpoint,
                caller: Caller {
                    client,
                    auth,
                    timeout: self.timeout,
                    max_response_bytes: self.max_response_bytes,
                    policy,
                },
                cache,
                flights: Flights::new(self.max_in_flight),
                clock: self.clock,
            }),
        })
    }
}

/// RFC 8414's location first, then OpenID Connect Discovery's.
fn rfc8414_first([openid, rfc8414]: [http::Uri; 2]) -> [http::Uri; 2] {
    [rfc8414, openid]
}
