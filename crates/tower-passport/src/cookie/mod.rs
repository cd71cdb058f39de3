//! First-party cookie authentication: Passport's `CreateFreshApiToken`.
//!
//! A first-party single-page app calls its own API without handling tokens. Two halves
//! share one [`FirstPartyCookie`]:
//!
//! - On the app's web routes, `FreshApiTokenLayer` (tower-passport-issuer)
//!   (in `tower-passport-issuer`) asks the signed-in-user hook who is signed in and attaches a
//!   short-lived sealed cookie (`laravel_token` by default) naming that user, plus an
//!   `XSRF-TOKEN` cookie the page's JavaScript reads.
//! - On the API, [`GuardBuilder::first_party_cookie`](crate::guard::GuardBuilder::first_party_cookie)
//!   makes the guard accept that cookie when no `Authorization` header came. The principal
//!   carries every scope (`*`, as Passport's `TransientToken` does) and
//!   [`Credential::FirstPartyCookie`](crate::token::Credential::FirstPartyCookie);
//!   [`RequireLayer::bearer_token`](crate::RequireLayer::bearer_token) keeps a route for
//!   bearer tokens.
//!
//! What the guard checks on a cookie request, in this order, each refusal a 401 with its
//! own [`Reason`](crate::error::Reason):
//!
//! 1. **Where it comes from.** An `Origin` listed with
//!    [`allow_origin`](FirstPartyCookie::allow_origin) passes, whatever `Sec-Fetch-Site`
//!    says (`same-site` or `cross-site`, for an app on another host or port). Otherwise
//!    `Sec-Fetch-Site`, when sent, must be `same-origin` or `none`, and `Origin`, when
//!    sent, the request's own origin (its `Host`). Anything else is a
//!    [`CrossSiteRequest`](crate::error::Reason::CrossSiteRequest): a page on another
//!    port of the same host is the same *site*, so `SameSite=Lax` alone would let it in.
//! 2. **The seal.** An HMAC-SHA256 over the cookie's claims with this configuration's
//!    secret, checked in constant time, and an expiry
//!    ([`InvalidCookie`](crate::error::Reason::InvalidCookie),
//!    [`Expired`](crate::error::Reason::Expired)).
//! 3. **CSRF**, for every method but `GET`, `HEAD` and `OPTIONS`: an `X-CSRF-TOKEN`
//!    header, or an `X-XSRF-TOKEN` header equal to the `XSRF-TOKEN` cookie, whose hash is
//!    the one sealed in this cookie
//!    ([`CsrfTokenMismatch`](crate::error::Reason::CsrfTokenMismatch)). The token is bound
//!    to the cookie, so a token from another session or user never fits.
//!
//! Laravel answers a CSRF failure 419; this crate answers 401 `invalid_token` with the
//! distinct reason, so every client of the API sees one status for "not authenticated"
//! and the challenge still follows RFC 6750.
//!
//! ```
//! use std::time::Duration;
//! use tower_passport::cookie::FirstPartyCookie;
//!
//! # fn main() -> Result<(), tower_passport::ConfigError> {
//! // The same secret on every node (a setting, like Laravel's APP_KEY).
//! let cookie = FirstPartyCookie::new(b"a secret of at least thirty-two bytes!")?
//!     .name("myapp_token") // Passport::cookie('myapp_token')
//!     .lifetime(Duration::from_secs(2 * 60 * 60)); // the session's lifetime
//! assert_eq!(cookie.cookie_name(), "myapp_token");
//! # Ok(())
//! # }
//! ```
//!
//! The guide `docs/first-party-cookie.md` (in the repository) shows the whole setup: the
//! issuer's layer that sets the cookie on your web routes, the guard that reads it, and
//! signing out.

mod csrf;
mod origin;
pub(crate) mod read;
mod seal;

pub use csrf::CsrfToken;

pub(crate) use read::authenticate;
pub use read::unambiguous_cookie;
pub use seal::CookieClaims;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;

use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, ConfigErrorKind};

/// The default cookie name, Passport's.
pub const DEFAULT_COOKIE_NAME: &str = "laravel_token";
/// The cookie the page's JavaScript reads the CSRF token from (Laravel's name; axios sends
/// it back as `X-XSRF-TOKEN` on its own).
pub const XSRF_COOKIE_NAME: &str = "XSRF-TOKEN";
/// The CSRF header a page fills from a `<meta name="csrf-token">` tag.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The CSRF header filled from the `XSRF-TOKEN` cookie.
pub const XSRF_HEADER: &str = "x-xsrf-token";

/// How first-party cookies are sealed, named, scoped and checked: shared by the layer that
/// attaches them and the guard that accepts them. Cheap to clone. See the
/// [module docs](self).
///
/// ```
/// use tower_passport::cookie::FirstPartyCookie;
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let cookie = FirstPartyCookie::new(&[7; 32])?;
/// assert_eq!(cookie.cookie_name(), "laravel_token");
/// assert!(FirstPartyCookie::new(b"too short").is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct FirstPartyCookie {
    inner: Arc<Settings>,
}

#[derive(Clone)]
struct Settings {
    key: hmac::Key,
    name: Box<str>,
    path: Box<str>,
    domain: Option<Box<str>>,
    secure: bool,
    lifetime: Duration,
    allowed_origins: Vec<Box<str>>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for FirstPartyCookie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.inner;
        f.debug_struct("FirstPartyCookie")
            .field("name", &s.name)
            .field("path", &s.path)
            .field("domain", &s.domain)
            .field("secure", &s.secure)
            .field("lifetime", &s.lifetime)
            .field("allowed_origins", &s.allowed_origins)
            .finish_non_exhaustive()
    }
}

impl FirstPartyCookie {
    /// Cookies sealed with `secret` (32 bytes or more; keep it out of the code, share it
    /// between the nodes). Named `laravel_token`, path `/`, `Secure`, living two hours
    /// (Laravel's default session lifetime).
    ///
    /// # Errors
    /// [`ConfigErrorKind::InvalidKey`] when the secret is shorter than 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < 32 {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidKey,
                "the first-party cookie secret must be at least 32 bytes",
            ));
        }
        Ok(Self {
            inner: Arc::new(Settings {
                key: hmac::Key::new(hmac::HMAC_SHA256, secret),
                name: DEFAULT_COOKIE_NAME.into(),
                path: "/".into(),
                domain: None,
                secure: true,
                lifetime: Duration::from_secs(2 * 60 * 60),
                allowed_origins: Vec::new(),
                clock: Arc::new(SystemClock),
            }),
        })
    }

    /// A fresh random secret (256 bits), for one process, and for tests. Several nodes need
    /// the same secret: give it to [`new`](Self::new) from your configuration.
    ///
    /// ```
    /// # use tower_passport::cookie::FirstPartyCookie;
    /// let cookie = FirstPartyCookie::generate()?;
    /// # Ok::<(), tower_passport::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// When the system has no randomness.
    pub fn generate() -> Result<Self, ConfigError> {
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret)
            .map_err(|_| ConfigError::new(ConfigErrorKind::Crypto, "no randomness for a cookie secret"))?;
        Self::new(&secret)
    }

    /// Renames the cookie (Passport's `Passport::cookie`). A cookie name is an RFC 6265
    /// token: letters, digits and ``!#$%&'*+-.^_`|~``.
    ///
    /// ```
    /// # use tower_passport::cookie::FirstPartyCookie;
    /// # fn main() -> Result<(), tower_passport::ConfigError> {
    /// assert_eq!(FirstPartyCookie::new(&[7; 32])?.name("api_token").cookie_name(), "api_token");
    /// # Ok(())
    /// # }
    /// ```
    pub fn name(self, name: impl Into<Box<str>>) -> Self {
        self.with(|s| s.name = name.into())
    }

    /// The cookie's `Path` (`/` by default). The `XSRF-TOKEN` cookie stays on `/`, where the
    /// page's JavaScript can read it. With a narrower path the layer on web routes outside
    /// it cannot see the cookie and attaches a fresh one to every page.
    pub fn path(self, path: impl Into<Box<str>>) -> Self {
        self.with(|s| s.path = path.into())
    }

    /// The cookies' `Domain` (none by default: this host only).
    pub fn domain(self, domain: impl Into<Box<str>>) -> Self {
        self.with(|s| s.domain = Some(domain.into()))
    }

    /// Drops `Secure`, for a development server on plain `http://`. Never in production:
    /// the cookie would travel in the clear.
    pub fn insecure_for_local_http(self) -> Self {
        self.with(|s| s.secure = false)
    }

    /// How long a cookie lives (two hours by default): make it your session's lifetime. The
    /// layer attaches a fresh one once less than half of it is left.
    pub fn lifetime(self, lifetime: Duration) -> Self {
        self.with(|s| s.lifetime = lifetime)
    }

    /// Also accepts cookie requests whose `Origin` is `origin` (`https://app.example.com`,
    /// compared case-insensitively), for an app served from another host or port than its
    /// API, or behind a proxy that rewrites `Host`. Such requests come marked
    /// `Sec-Fetch-Site: same-site` or `cross-site`; the listed origin is what lets them in.
    /// The browser only shows the page the answer, and only sends the cookie, when the API
    /// answers that origin with CORS headers (`Access-Control-Allow-Origin: <origin>`,
    /// `Access-Control-Allow-Credentials: true`) and the cookie's `SameSite` lets it go
    /// (`Lax` does for another port or subdomain of the same site).
    pub fn allow_origin(self, origin: impl Into<Box<str>>) -> Self {
        self.with(|s| s.allowed_origins.push(origin.into()))
    }

    /// The clock for expiry (the system's by default).
    pub fn clock(self, clock: impl Clock) -> Self {
        self.with(|s| s.clock = Arc::new(clock))
    }

    /// The cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.inner.name
    }

    /// Checks what the setters took: the layer and the guard call it when they are built.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.inner;
        let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
        if s.name.is_empty() || !s.name.bytes().all(token) {
            return Err(ConfigError::new(
                ConfigErrorKind::Cookie,
                "the cookie name must be an RFC 6265 token",
            ));
        }
        let attribute = |value: &str| value.bytes().all(|c| (0x21..0x7f).contains(&c) && c != b';');
        if !s.path.starts_with('/') || !attribute(&s.path) {
            return Err(ConfigError::new(
                ConfigErrorKind::Cookie,
                "the cookie path must start with / and hold no space, control character or ;",
            ));
        }
        if s.domain.as_deref().is_some_and(|domain| domain.is_empty() || !attribute(domain)) {
            return Err(ConfigError::new(
                ConfigErrorKind::Cookie,
                "the cookie domain is not a valid attribute",
            ));
        }
        if s.lifetime.as_secs() < 60 {
            return Err(ConfigError::new(
                ConfigErrorKind::Limit,
                "the cookie lifetime must be a minute or more",
            ));
        }
        Ok(())
    }

    /// Now, in Unix seconds, by this cookie's clock.
    pub fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    /// Now, in Unix milliseconds, by this cookie's clock.
    pub fn now_millis(&self) -> u64 {
        self.inner.clock.now_millis()
    }

    /// How long a cookie lives, in seconds.
    pub fn lifetime_secs(&self) -> u64 {
        self.inner.lifetime.as_secs()
    }

    pub(crate) fn key(&self) -> &hmac::Key {
        &self.inner.key
    }

    pub(crate) fn allowed_origins(&self) -> impl Iterator<Item = &str> {
        self.inner.allowed_origins.iter().map(|origin| &**origin)
    }

    /// `Set-Cookie` for the token cookie: `HttpOnly`, `SameSite=Lax`, `Secure` unless turned
    /// off, on the configured path, for the configured lifetime.
    pub fn token_cookie(&self, value: &str) -> String {
        self.set_cookie(&self.inner.name, value, &self.inner.path, true, self.lifetime_secs())
    }

    /// `Set-Cookie` for the `XSRF-TOKEN` cookie: readable by the page (no `HttpOnly`), on `/`.
    pub fn xsrf_cookie(&self, csrf: &CsrfToken) -> String {
        self.set_cookie(XSRF_COOKIE_NAME, csrf.as_str(), "/", false, self.lifetime_secs())
    }

    /// `Set-Cookie` headers that remove both cookies (signed out).
    pub fn expired_cookies(&self) -> [String; 2] {
        [
            self.set_cookie(&self.inner.name, "", &self.inner.path, true, 0),
            self.set_cookie(XSRF_COOKIE_NAME, "", "/", false, 0),
        ]
    }

    fn set_cookie(&self, name: &str, value: &str, path: &str, http_only: bool, max_age: u64) -> String {
        let mut cookie = format!("{name}={value}; Path={path}; Max-Age={max_age}; SameSite=Lax");
        if let Some(domain) = &self.inner.domain {
            cookie.push_str("; Domain=");
            cookie.push_str(domain);
        }
        if http_only {
            cookie.push_str("; HttpOnly");
        }
        if self.inner.secure {
            cookie.push_str("; Secure");
        }
        cookie
    }

    /// Changes the settings; copies them first only when a clone shares them.
    fn with(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(Arc::make_mut(&mut self.inner));
        self
    }
}
