//! The gateway's TOML file: where to listen, the upstream, the limits, the guard, the
//! header rules, the forward-auth protocol and the policy table.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use tower_passport::forward_auth::OriginalRequest;
use tower_passport::policy::{PolicyDocument, PolicyTable};
use tower_passport::upstream_headers::{AuthorizationHeader, HeaderRules};
use tower_passport::ConfigError;

use crate::Error;

/// The whole file, as read. [`Config::load`] reads and checks it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// The address to listen on, `127.0.0.1:8080` by default.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// `proxy` (the default): forward allowed requests to `upstream`. `forward-auth`:
    /// answer a proxy's sub-requests instead ([`ForwardAuthFile`]).
    #[serde(default)]
    pub mode: Mode,
    /// The upstream, for `proxy` mode.
    pub upstream: Option<UpstreamFile>,
    /// Limits in front of the guard.
    #[serde(default)]
    pub limits: LimitsFile,
    /// The guard: issuer, audience, keys.
    pub guard: GuardFile,
    /// The headers that carry the principal upstream.
    #[serde(default)]
    pub headers: HeadersFile,
    /// The forward-auth protocol, for `forward-auth` mode.
    #[serde(default)]
    pub forward_auth: ForwardAuthFile,
    /// The policy table ([`tower_passport::policy`]).
    pub policy: PolicyDocument,
}

/// What the gateway does with an allowed request.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Forward it to the upstream.
    #[default]
    Proxy,
    /// Answer 200 to the proxy that asked (nginx, Traefik, Envoy).
    ForwardAuth,
}

/// `[upstream]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamFile {
    /// `http://host:port`, optionally with a base path.
    pub url: String,
    /// Connecting to the upstream, in milliseconds (1000 by default).
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
}

/// `[limits]`: what protects the guard and the upstream.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// The whole request, guard and upstream answer head included, in milliseconds (30 s by
    /// default); past it, 504.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Reading a request head from a client, in milliseconds (10 s by default).
    #[serde(default = "default_header_read_timeout_ms")]
    pub header_read_timeout_ms: u64,
    /// Requests in flight at once (1024 by default); past it, 503 at once (load shedding),
    /// never a queue.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

impl Default for LimitsFile {
    fn default() -> Self {
        Self {
            request_timeout_ms: default_request_timeout_ms(),
            header_read_timeout_ms: default_header_read_timeout_ms(),
            concurrency: default_concurrency(),
        }
    }
}

/// `[guard]`: which tokens are accepted. Exactly one of `public_key` and `jwks_url`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardFile {
    /// The trusted issuer (`iss`).
    pub issuer: String,
    /// This API's audience (`aud`).
    pub audience: String,
    /// A PEM public key file (the issuer's `oauth-public.key`); algorithm inferred.
    pub public_key: Option<PathBuf>,
    /// A JWKS URL, refreshed in the background.
    pub jwks_url: Option<String>,
    /// The `realm` of the challenges (`api` by default).
    pub realm: Option<String>,
}

/// `[headers]`: see [`tower_passport::upstream_headers`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadersFile {
    /// The header carrying `sub`.
    pub subject: Option<String>,
    /// The header carrying `client_id`.
    pub client_id: Option<String>,
    /// The header carrying the scopes, joined by spaces.
    pub scopes: Option<String>,
    /// The header carrying `user` or `client`.
    pub kind: Option<String>,
    /// Claim name → header name.
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
    /// `forward` (the default), `remove`, or `{ header = "…", value_env = "VARIABLE" }`.
    pub authorization: Option<AuthorizationFile>,
}

/// What becomes of `Authorization`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum AuthorizationFile {
    /// `forward` or `remove`.
    Rule(AuthorizationRule),
    /// Replaced by an internal header whose value comes from an environment variable.
    Replace {
        /// The header name.
        header: String,
        /// The variable holding its value (a secret: never in the file).
        value_env: String,
    },
}

/// `forward` or `remove`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthorizationRule {
    /// Passed on.
    Forward,
    /// Removed.
    Remove,
}

/// `[forward_auth]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardAuthFile {
    /// `nginx` (the default), `traefik` or `envoy`.
    #[serde(default)]
    pub protocol: Protocol,
    /// nginx: the header carrying the original method (`X-Original-Method`).
    pub method_header: Option<String>,
    /// nginx: the header carrying the original URI (`X-Original-URI`).
    pub uri_header: Option<String>,
    /// Envoy: the `path_prefix` of its `http_service`.
    pub path_prefix: Option<String>,
}

/// The proxy asking.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// nginx `auth_request`.
    #[default]
    Nginx,
    /// Traefik `ForwardAuth`.
    Traefik,
    /// Envoy's HTTP `ext_authz`.
    Envoy,
}

/// A checked configuration.
#[derive(Debug)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Proxy or forward-auth.
    pub mode: Mode,
    /// The upstream URL (proxy mode).
    pub upstream: Option<http::Uri>,
    /// Connecting to the upstream.
    pub connect_timeout: Duration,
    /// The whole request.
    pub request_timeout: Duration,
    /// Reading a request head.
    pub header_read_timeout: Duration,
    /// Requests in flight.
    pub concurrency: usize,
    /// The guard's settings.
    pub guard: GuardFile,
    /// The header rules.
    pub headers: HeaderRules,
    /// Where forward-auth requests carry the original method and URI.
    pub original: OriginalRequest,
    /// The policy table.
    pub policy: PolicyTable,
}

impl Config {
    /// Reads and checks the file at `path`.
    ///
    /// # Errors
    /// When it cannot be read, does not parse (the message has the line), or does not hold
    /// together.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        Self::parse(&text, path)
    }

    /// Parses and checks `text`, the contents of `path`.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        let file: File = toml::from_str(text).map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        let policy = PolicyTable::from_document(file.policy, text, path)?;
        let upstream = match (&file.upstream, file.mode) {
            (Some(upstream), _) => Some(upstream_uri(&upstream.url)?),
            (None, Mode::Proxy) => return Err(Error::new("proxy mode needs an [upstream] url")),
            (None, Mode::ForwardAuth) => None,
        };
        let connect_timeout_ms =
            file.upstream.as_ref().map_or_else(default_connect_timeout_ms, |u| u.connect_timeout_ms);
        if file.limits.concurrency == 0 || file.limits.request_timeout_ms == 0 {
            return Err(Error::new("[limits] concurrency and request_timeout_ms must be above zero"));
        }
        Ok(Self {
            listen: file.listen,
            mode: file.mode,
            upstream,
            connect_timeout: Duration::from_millis(connect_timeout_ms),
            request_timeout: Duration::from_millis(file.limits.request_timeout_ms),
            header_read_timeout: Duration::from_millis(file.limits.header_read_timeout_ms),
            concurrency: file.limits.concurrency,
            guard: file.guard,
            headers: header_rules(file.headers)?,
            original: original_request(&file.forward_auth)?,
            policy,
        })
    }
}

fn header_rules(file: HeadersFile) -> Result<HeaderRules, Error> {
    let mut rules = HeaderRules::builder();
    if let Some(header) = file.subject {
        rules = rules.subject(header);
    }
    if let Some(header) = file.client_id {
        rules = rules.client_id(header);
    }
    if let Some(header) = file.scopes {
        rules = rules.scopes(header);
    }
    if let Some(header) = file.kind {
        rules = rules.kind(header);
    }
    for (claim, header) in file.claims {
        rules = rules.claim(claim, header);
    }
    let authorization = match file.authorization {
        None | Some(AuthorizationFile::Rule(AuthorizationRule::Forward)) => AuthorizationHeader::Forward,
        Some(AuthorizationFile::Rule(AuthorizationRule::Remove)) => AuthorizationHeader::Remove,
        Some(AuthorizationFile::Replace { header, value_env }) => {
            let value = std::env::var(&value_env).map_err(|_| {
                Error::new(format!("[headers] authorization: environment variable {value_env} is not set"))
            })?;
            AuthorizationHeader::replace(&header, &value)?
        }
    };
    Ok(rules.authorization(authorization).build()?)
}

fn original_request(file: &ForwardAuthFile) -> Result<OriginalRequest, ConfigError> {
    match (file.protocol, &file.method_header, &file.uri_header, &file.path_prefix) {
        (Protocol::Envoy, _, _, Some(prefix)) => OriginalRequest::envoy_with_prefix(prefix),
        (Protocol::Envoy, _, _, None) => Ok(OriginalRequest::envoy()),
        (Protocol::Traefik, None, None, _) => Ok(OriginalRequest::traefik()),
        (Protocol::Nginx, None, None, _) => Ok(OriginalRequest::nginx()),
        (_, method, uri, _) => OriginalRequest::headers(
            method.as_deref().unwrap_or("x-original-method"),
            uri.as_deref().unwrap_or("x-original-uri"),
        ),
    }
}

/// The upstream URL: plain `http` (the gateway and its upstream share a network), a host,
/// no query.
fn upstream_uri(url: &str) -> Result<http::Uri, Error> {
    let uri: http::Uri = url.parse().map_err(|e| Error::new(format!("[upstream] url `{url}`: {e}")))?;
    if uri.scheme_str() != Some("http") || uri.authority().is_none() || uri.query().is_some() {
        return Err(Error::new(format!("[upstream] url `{url}` must be http://host[:port][/base]")));
    }
    Ok(uri)
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_connect_timeout_ms() -> u64 {
    1_000
}

fn default_request_timeout_ms() -> u64 {
    30_000
}

fn default_header_read_timeout_ms() -> u64 {
    10_000
}

fn default_concurrency() -> usize {
    1_024
}
