//! Which headers carry the principal upstream, and what happens to `Authorization`.

use std::fmt;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::error::{ConfigError, ConfigErrorKind};
use crate::token::{PrincipalKind, VerifiedToken};

/// What reaches the upstream of the `Authorization` header the client sent.
///
/// ```
/// use tower_passport::upstream_headers::AuthorizationHeader;
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let _keep = AuthorizationHeader::Forward;
/// let _drop = AuthorizationHeader::Remove;
/// // The upstream trusts the gateway's own credential instead of the client's token.
/// let internal = AuthorizationHeader::replace("x-gateway-key", "an-internal-secret")?;
/// assert!(!format!("{internal:?}").contains("an-internal-secret"));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum AuthorizationHeader {
    /// Passed on as the client sent it (the default): the upstream may verify the token
    /// again.
    #[default]
    Forward,
    /// Removed: the upstream sees only the forwarded claims.
    Remove,
    /// Removed, and this header (an internal credential the upstream trusts, which may be
    /// `Authorization` itself) set instead. The value is marked sensitive and never shown
    /// by `Debug`.
    Replace(HeaderName, HeaderValue),
}

impl AuthorizationHeader {
    /// [`Replace`](Self::Replace) with a header `name` and `value` checked here.
    ///
    /// # Errors
    /// [`ConfigErrorKind::Header`] when either cannot be carried in HTTP.
    pub fn replace(name: &str, value: &str) -> Result<Self, ConfigError> {
        let name = header_name(name)?;
        let mut value = HeaderValue::from_str(value).map_err(|source| {
            ConfigError::new(
                ConfigErrorKind::Header,
                format!("the value of header `{name}` is not a valid header value"),
            )
            .with_source(source)
        })?;
        value.set_sensitive(true);
        Ok(Self::Replace(name, value))
    }
}

impl fmt::Debug for AuthorizationHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Forward => f.write_str("Forward"),
            Self::Remove => f.write_str("Remove"),
            Self::Replace(name, _) => f.debug_tuple("Replace").field(name).field(&"<redacted>").finish(),
        }
    }
}

/// The header rules of an [`UpstreamHeadersLayer`](super::UpstreamHeadersLayer): which
/// header carries which part of the principal, and what becomes of `Authorization`.
///
/// Built by [`HeaderRulesBuilder`]; see the [module docs](super).
#[derive(Clone, Debug)]
pub struct HeaderRules {
    subject: Option<HeaderName>,
    client_id: Option<HeaderName>,
    scopes: Option<HeaderName>,
    kind: Option<HeaderName>,
    claims: Vec<(Box<str>, HeaderName)>,
    authorization: AuthorizationHeader,
    /// Every name above, and the replacement's: stripped from every incoming request.
    names: Vec<HeaderName>,
}

/// Builds [`HeaderRules`]. Each method names the header that carries one part of the
/// principal; [`build`](Self::build) checks every name once.
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct HeaderRulesBuilder {
    subject: Option<String>,
    client_id: Option<String>,
    scopes: Option<String>,
    kind: Option<String>,
    claims: Vec<(String, String)>,
    authorization: AuthorizationHeader,
}

impl HeaderRules {
    /// Starts a set of rules that forwards nothing and passes `Authorization` on.
    pub fn builder() -> HeaderRulesBuilder {
        HeaderRulesBuilder::default()
    }

    /// Every header name these rules set, which is stripped from incoming requests:
    /// the principal's headers and the `Authorization` replacement, if any.
    pub fn header_names(&self) -> &[HeaderName] {
        &self.names
    }

    /// Strips every configured header from `headers`, applies the `Authorization` rule, then
    /// sets the principal's headers from `token` (none when `None`).
    ///
    /// With a token, each configured header is set (which replaces every incoming copy) or,
    /// when the token has no value for it, removed: one lookup a header.
    pub fn apply(&self, headers: &mut HeaderMap, token: Option<&VerifiedToken>) {
        let Some(token) = token else {
            for name in &self.names {
                headers.remove(name);
            }
            self.apply_authorization(headers);
            return;
        };
        self.apply_authorization(headers);
        set_or_remove(headers, self.subject.as_ref(), token.subject());
        set_or_remove(headers, self.client_id.as_ref(), token.client_id());
        if self.scopes.is_some() {
            let mut joined = String::with_capacity(64);
            for scope in token.scopes().iter() {
                if !joined.is_empty() {
                    joined.push(' ');
                }
                joined.push_str(scope);
            }
            set_or_remove(headers, self.scopes.as_ref(), Some(&joined));
        }
        let kind = match token.kind() {
            PrincipalKind::User => "user",
            PrincipalKind::Client => "client",
        };
        set_or_remove(headers, self.kind.as_ref(), Some(kind));
        if !self.claims.is_empty() {
            self.set_claims(headers, token);
        }
    }

    /// Forwards, removes or replaces `Authorization`.
    fn apply_authorization(&self, headers: &mut HeaderMap) {
        match &self.authorization {
            AuthorizationHeader::Forward => {}
            AuthorizationHeader::Remove => {
                headers.remove(AUTHORIZATION);
            }
            AuthorizationHeader::Replace(name, value) => {
                headers.remove(AUTHORIZATION);
                headers.insert(name.clone(), value.clone());
            }
        }
    }

    /// The named claims: a string as it is, anything else JSON-encoded. A claim that is
    /// absent, or whose value a header cannot carry (control characters), sets nothing, and
    /// its header is removed.
    fn set_claims(&self, headers: &mut HeaderMap, token: &VerifiedToken) {
        let claims =
            serde_json::from_str::<serde_json::Map<String, Value>>(token.raw_claims()).unwrap_or_default();
        for (claim, name) in &self.claims {
            let encoded = match claims.get(&**claim) {
                None | Some(Value::Null) => None,
                Some(Value::String(text)) => HeaderValue::from_str(text).ok(),
                Some(other) => HeaderValue::from_str(&other.to_string()).ok(),
            };
            match encoded {
                Some(value) => {
                    headers.insert(name.clone(), value);
                }
                None => {
                    headers.remove(name);
                }
            }
        }
    }
}

/// Sets `name` (when configured) to `value`, replacing every incoming copy; removes it when
/// there is no value or a header cannot carry it.
fn set_or_remove(headers: &mut HeaderMap, name: Option<&HeaderName>, value: Option<&str>) {
    let Some(name) = name else { return };
    match value.and_then(|value| HeaderValue::from_str(value).ok()) {
        Some(value) => {
            headers.insert(name.clone(), value);
        }
        None => {
            headers.remove(name);
        }
    }
}

impl HeaderRulesBuilder {
    /// The header carrying `sub` (the user id, or the client id of a client token).
    pub fn subject(mut self, header: impl Into<String>) -> Self {
        self.subject = Some(header.into());
        self
    }

    /// The header carrying `client_id`.
    pub fn client_id(mut self, header: impl Into<String>) -> Self {
        self.client_id = Some(header.into());
        self
    }

    /// The header carrying the granted scopes, joined by spaces.
    pub fn scopes(mut self, header: impl Into<String>) -> Self {
        self.scopes = Some(header.into());
        self
    }

    /// The header carrying the principal kind: `user` or `client`.
    pub fn kind(mut self, header: impl Into<String>) -> Self {
        self.kind = Some(header.into());
        self
    }

    /// The header carrying the claim named `claim`: a string claim as it is, any other
    /// JSON value JSON-encoded.
    pub fn claim(mut self, claim: impl Into<String>, header: impl Into<String>) -> Self {
        self.claims.push((claim.into(), header.into()));
        self
    }

    /// What becomes of the client's `Authorization` header (default: forwarded).
    pub fn authorization(mut self, rule: AuthorizationHeader) -> Self {
        self.authorization = rule;
        self
    }

    /// Checks every header name.
    ///
    /// # Errors
    /// [`ConfigErrorKind::Header`] when a name is not a valid header name, is
    /// `Authorization`, or is configured twice.
    pub fn build(self) -> Result<HeaderRules, ConfigError> {
        let mut names = Vec::new();
        let mut parse = |header: Option<String>,
                         replacing: bool|
         -> Result<Option<HeaderName>, ConfigError> {
            let Some(header) = header else { return Ok(None) };
            let name = header_name(&header)?;
            if name == AUTHORIZATION && !replacing {
                return Err(ConfigError::new(
                    ConfigErrorKind::Header,
                    "`authorization` cannot carry a claim: use `AuthorizationHeader` to decide what becomes of it",
                ));
            }
            if names.contains(&name) {
                return Err(ConfigError::new(
                    ConfigErrorKind::Header,
                    format!("header `{name}` is configured twice"),
                ));
            }
            names.push(name.clone());
            Ok(Some(name))
        };
        let subject = parse(self.subject, false)?;
        let client_id = parse(self.client_id, false)?;
        let scopes = parse(self.scopes, false)?;
        let kind = parse(self.kind, false)?;
        let mut claims = Vec::with_capacity(self.claims.len());
        for (claim, header) in self.claims {
            let name = parse(Some(header), false)?;
            claims.extend(name.map(|name| (claim.into_boxed_str(), name)));
        }
        if let AuthorizationHeader::Replace(name, _) = &self.authorization {
            parse(Some(name.as_str().to_owned()), true)?;
        }
        Ok(HeaderRules { subject, client_id, scopes, kind, claims, authorization: self.authorization, names })
    }
}

/// `header` as a header name, or why not.
fn header_name(header: &str) -> Result<HeaderName, ConfigError> {
    HeaderName::from_bytes(header.as_bytes()).map_err(|source| {
        ConfigError::new(ConfigErrorKind::Header, format!("`{header}` is not a valid header name"))
            .with_source(source)
    })
}
