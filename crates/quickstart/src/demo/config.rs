//! The quickstart's configuration: every variable it reads, and what it derives from the
//! address it listens on when one is unset. It starts with any bind address and any issuer
//! URL: a derived value that could not work (an issuer URL on `0.0.0.0`, a demo redirect
//! URI on a plain-http host) is derived differently, with a note the banner prints naming
//! the variable that changes it. It remembers which variables were set, so that an error
//! or a warning names a variable the user set, and never blames a derived default.

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use tower_passport_issuer::Backoff;

use super::sign_in;

/// What the quickstart is configured with (from the environment in the example).
#[derive(Clone, Debug)]
pub struct QuickstartConfig {
    pub issuer: String,
    pub audience: String,
    pub client_id: String,
    pub client_secret: String,
    /// Demo user 1 (`DEMO_USER`, `DEMO_PASSWORD`).
    pub username: String,
    pub password: String,
    /// Demo user 2 (`DEMO_USER2`, `DEMO_PASSWORD2`).
    pub username2: String,
    pub password2: String,
    /// PBKDF2 rounds for the demo users' passwords.
    pub password_iterations: u32,
    pub signing_key: Option<Arc<SigningKeyPem>>,
    /// `PASSPORT_STORE`: `memory`, `sqlite://…`, `postgres://…`, `mysql://…` or `redis://…`.
    pub store: String,
    /// `PASSPORT_REDIS_URL`: the Redis revocation bus.
    pub redis_url: Option<String>,
    /// The demo third-party app: a confidential client that must get the user's approval.
    pub demo_app: DemoApp,
    /// How failed sign-ins and password grants hold an account back (`Backoff::ACCOUNTS`).
    pub accounts: Backoff,
    /// `PASSPORT_REVOCATION_CACHE_CAPACITY`: how many answers the issuer's revocation list
    /// caches (100,000 by default); past it, answers are asked of the store again.
    pub revocation_cache_capacity: u64,
    /// `PASSPORT_COOKIE_ORIGINS` (comma-separated `scheme://host[:port]`): apps on other
    /// origins whose pages call the demo API with the first-party cookie.
    pub cookie_origins: Vec<String>,
    /// The variables the environment set (non-empty). A problem with a seeded value names
    /// its variable when it is here, and says the value was derived otherwise.
    pub set_variables: Vec<&'static str>,
    /// One line for each value derived differently than the obvious way, saying why and
    /// which variable to set; the banner prints them.
    pub notes: Vec<String>,
}

/// The demo third-party app (`DEMO_APP_CLIENT_ID`, `DEMO_APP_CLIENT_SECRET`,
/// `DEMO_APP_NAME`, `DEMO_APP_REDIRECT_URI`): a confidential client of the authorization
/// code grant that may ask for every demo scope, and is not first-party, so users see the
/// approval screen.
#[derive(Clone, Debug)]
pub struct DemoApp {
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    /// Its one redirect URI; by default the quickstart's own demo callback page.
    pub redirect_uri: String,
}

/// A PEM private key given by `PASSPORT_PRIVATE_KEY`.
#[derive(Debug)]
pub struct SigningKeyPem(pub String);

/// Every variable [`QuickstartConfig::from_vars`] reads.
const VARIABLES: [&str; 16] = [
    "PASSPORT_ISSUER",
    "PASSPORT_AUDIENCE",
    "PASSPORT_PRIVATE_KEY",
    "PASSPORT_STORE",
    "PASSPORT_REDIS_URL",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_USER",
    "DEMO_PASSWORD",
    "DEMO_USER2",
    "DEMO_PASSWORD2",
    "DEMO_APP_CLIENT_ID",
    "DEMO_APP_CLIENT_SECRET",
    "DEMO_APP_NAME",
    "DEMO_APP_REDIRECT_URI",
    "PASSPORT_REVOCATION_CACHE_CAPACITY",
];

impl QuickstartConfig {
    /// [`from_vars`](Self::from_vars) over the process environment.
    pub fn from_env(listening: SocketAddr) -> Result<Self, Box<dyn Error>> {
        Self::from_vars(listening, |name| std::env::var(name).ok())
    }

    /// The configuration for a quickstart listening on `listening`, with `var` looking up
    /// `PASSPORT_ISSUER`, `PASSPORT_AUDIENCE`, `PASSPORT_PRIVATE_KEY`, `PASSPORT_STORE`,
    /// `PASSPORT_REDIS_URL`, `DEMO_CLIENT_ID`, `DEMO_CLIENT_SECRET`, `DEMO_USER`,
    /// `DEMO_PASSWORD`, `DEMO_USER2`, `DEMO_PASSWORD2`, `DEMO_APP_CLIENT_ID`,
    /// `DEMO_APP_CLIENT_SECRET`, `DEMO_APP_NAME`, `DEMO_APP_REDIRECT_URI` and
    /// `PASSPORT_REVOCATION_CACHE_CAPACITY` (a positive integer) (an empty value counts as
    /// unset). A client secret must be at least 32 characters of letters,
    /// digits and `-._~`.
    pub fn from_vars(
        listening: SocketAddr,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Box<dyn Error>> {
        let set = |name: &str| var(name).filter(|value| !value.is_empty());
        let set_variables: Vec<&'static str> =
            VARIABLES.into_iter().filter(|name| set(name).is_some()).collect();
        let or = |name: &str, default: &str| set(name).unwrap_or_else(|| default.to_owned());
        let signing_key = match set("PASSPORT_PRIVATE_KEY") {
            Some(value) if value.trim_start().starts_with("-----BEGIN") => {
                Some(Arc::new(SigningKeyPem(value)))
            }
            Some(path) => Some(Arc::new(SigningKeyPem(
                std::fs::read_to_string(path.trim())
                    .map_err(|e| format!("cannot read PASSPORT_PRIVATE_KEY {path}: {e}"))?,
            ))),
            None => None,
        };
        let mut notes = Vec::new();
        let issuer = set("PASSPORT_ISSUER").unwrap_or_else(|| {
            let url = reachable_url(listening);
            if listening.ip().is_unspecified() {
                notes.push(format!(
                    "issuer {url}: BIND {listening} listens on every interface, which is no URL; \
                     set PASSPORT_ISSUER to the URL clients reach"
                ));
            }
            url
        });
        let redirect_uri = set("DEMO_APP_REDIRECT_URI").unwrap_or_else(|| {
            let (uri, note) = derived_redirect_uri(&issuer, listening);
            notes.extend(note);
            uri
        });
        let demo_app = DemoApp {
            client_id: or("DEMO_APP_CLIENT_ID", "demo-app"),
            client_secret: or("DEMO_APP_CLIENT_SECRET", "demo-app-secret-0123456789-abcdefghij"),
            name: or("DEMO_APP_NAME", "Demo Photo Printer"),
            redirect_uri,
        };
        let client_secret = or("DEMO_CLIENT_SECRET", "demo-secret-0123456789-abcdefghijklmn");
        check_secret("DEMO_CLIENT_SECRET", &client_secret)?;
        check_secret("DEMO_APP_CLIENT_SECRET", &demo_app.client_secret)?;
        let revocation_cache_capacity = match set("PASSPORT_REVOCATION_CACHE_CAPACITY") {
            None => tower_passport_issuer::DEFAULT_REVOCATION_CACHE_CAPACITY,
            Some(value) => value.trim().parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                format!("PASSPORT_REVOCATION_CACHE_CAPACITY must be a positive integer, not {value:?}")
            })?,
        };
        Ok(Self {
            issuer,
            audience: or("PASSPORT_AUDIENCE", "quickstart-api"),
            client_id: or("DEMO_CLIENT_ID", "demo-client"),
            client_secret,
            username: or("DEMO_USER", "taylor@example.com"),
            password: or("DEMO_PASSWORD", "password"),
            username2: or("DEMO_USER2", "abigail@example.com"),
            password2: or("DEMO_PASSWORD2", "password"),
            password_iterations: 100_000,
            signing_key,
            store: or("PASSPORT_STORE", "sqlite://quickstart.db"),
            redis_url: set("PASSPORT_REDIS_URL"),
            demo_app,
            accounts: Backoff::ACCOUNTS,
            revocation_cache_capacity,
            cookie_origins: set("PASSPORT_COOKIE_ORIGINS")
                .map(|origins| {
                    origins.split(',').map(str::trim).filter(|o| !o.is_empty()).map(String::from).collect()
                })
                .unwrap_or_default(),
            set_variables,
            notes,
        })
    }

    /// Whether the environment set `variable` (rather than the quickstart deriving it).
    pub fn is_set(&self, variable: &str) -> bool {
        self.set_variables.contains(&variable)
    }
}

/// `http://<listening>`, with a loopback address for one that listens on every interface
/// (`0.0.0.0`, `[::]`): an address to connect to, never one to bind.
pub fn reachable_url(listening: SocketAddr) -> String {
    let ip = match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, listening.port()))
}

/// The demo app's default redirect URI: the quickstart's own callback page on the issuer's
/// origin, when a redirect URI may be there (https, or loopback http); otherwise the same
/// page on a loopback address of this node, with a note saying why.
fn derived_redirect_uri(issuer: &str, listening: SocketAddr) -> (String, Option<String>) {
    let origin = sign_in::origin(issuer);
    let loopback = ["http://127.0.0.1", "http://[::1]", "http://localhost"]
        .iter()
        .any(|host| origin == *host || origin.strip_prefix(host).is_some_and(|rest| rest.starts_with(':')));
    if origin.starts_with("https://") || loopback {
        return (format!("{origin}{}", sign_in::CALLBACK_PATH), None);
    }
    let host = match listening.ip() {
        ip if ip.is_loopback() || ip.is_unspecified() => reachable_url(listening),
        _ => format!("http://127.0.0.1:{}", listening.port()),
    };
    let uri = format!("{host}{}", sign_in::CALLBACK_PATH);
    let note = format!(
        "demo app callback {uri}: a redirect URI on {origin} would have to be https or loopback; \
         set DEMO_APP_REDIRECT_URI to change it"
    );
    (uri, Some(note))
}

/// The issuer's rule for a chosen secret (at least 32 RFC 3986 unreserved characters),
/// checked at start-up so that the message names the variable.
fn check_secret(variable: &str, secret: &str) -> Result<(), String> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    if secret.len() < 32 || !secret.bytes().all(unreserved) {
        return Err(format!(
            "{variable} must be at least 32 characters, each a letter, a digit or one of - . _ ~"
        ));
    }
    Ok(())
}

/// `url` with the password of its user information, if any, replaced by `***`: a store URL
/// as the banner may print it.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        _ => url.to_owned(),
    }
}
