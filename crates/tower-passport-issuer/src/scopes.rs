//! The scope registry: Passport's `tokensCan` and `setDefaultScope`.

use serde::Serialize;

use super::OAuthError;
use crate::store::{ClientRecord, GrantType};

/// A scope the API defines, with a description for consent screens and the
/// `GET /oauth/scopes` listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScopeDefinition {
    /// The scope name (RFC 6749 NQCHARs, no space).
    pub id: String,
    /// What it allows.
    pub description: String,
}

/// Every scope the API defines, and the defaults applied when a request asks for none.
///
/// ```
/// use tower_passport_issuer::ScopeRegistry;
/// let scopes = ScopeRegistry::new()
///     .scope("place-orders", "Place orders")
///     .scope("check-status", "Check order status")
///     .default_scopes(["check-status"]);
/// assert!(scopes.has_scope("place-orders"));
/// assert_eq!(scopes.defaults(), ["check-status"]);
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct ScopeRegistry {
    scopes: Vec<ScopeDefinition>,
    defaults: Vec<String>,
}

impl ScopeRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defines a scope (Passport's `tokensCan`). Redefining replaces the description.
    pub fn scope(mut self, id: impl Into<String>, description: impl Into<String>) -> Self {
        let (id, description) = (id.into(), description.into());
        match self.scopes.iter_mut().find(|s| s.id == id) {
            Some(existing) => existing.description = description,
            None => self.scopes.push(ScopeDefinition { id, description }),
        }
        self
    }

    /// The scopes given to a token whose request names none (Passport's `setDefaultScope`).
    pub fn default_scopes<I>(mut self, scopes: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.defaults = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Whether `id` is defined.
    pub fn has_scope(&self, id: &str) -> bool {
        self.scopes.iter().any(|s| s.id == id)
    }

    /// Every defined scope (Passport's `Passport::scopes()`).
    pub fn scopes(&self) -> &[ScopeDefinition] {
        &self.scopes
    }

    /// The default scopes.
    pub fn defaults(&self) -> &[String] {
        &self.defaults
    }

    /// The scopes a request gets: the requested ones (space-delimited) or the defaults,
    /// each defined, allowed for the client, and `*` only for the password,
    /// client-credentials and personal grants.
    pub(crate) fn resolve(
        &self,
        requested: Option<&str>,
        grant: GrantType,
        client: Option<&ClientRecord>,
    ) -> Result<Vec<String>, OAuthError> {
        let mut scopes: Vec<String> = match requested {
            Some(requested) if !requested.trim().is_empty() => parse(requested)?,
            _ => self.defaults.clone(),
        };
        scopes.sort();
        scopes.dedup();
        for scope in &scopes {
            self.check(scope, grant, client)?;
        }
        Ok(scopes)
    }

    fn check(&self, scope: &str, grant: GrantType, client: Option<&ClientRecord>) -> Result<(), OAuthError> {
        let defined = if scope == "*" {
            matches!(grant, GrantType::Password | GrantType::ClientCredentials | GrantType::PersonalAccess)
        } else {
            self.has_scope(scope)
        };
        let allowed = client
            .and_then(|c| c.allowed_scopes.as_ref())
            .is_none_or(|allowed| allowed.iter().any(|a| a == scope || a == "*"));
        if defined && allowed {
            Ok(())
        } else {
            Err(OAuthError::invalid_scope())
        }
    }
}

/// Splits a `scope` parameter, refusing characters RFC 6749 §3.3 does not allow.
impl ScopeRegistry {
    /// The scopes a refresh may ask for: none asked keeps the original grant's, and any
    /// asked must lie within it (RFC 6749 §6: narrow, never widen). A `*` grant covers
    /// every scope this registry defines.
    ///
    /// ```
    /// use tower_passport_issuer::ScopeRegistry;
    /// let registry = ScopeRegistry::new().scope("read", "Read").scope("write", "Write");
    /// let original = vec!["read".to_owned(), "write".to_owned()];
    /// assert_eq!(registry.narrow(&original, None).unwrap(), original);
    /// assert_eq!(registry.narrow(&original, Some("read")).unwrap(), ["read"]);
    /// assert!(registry.narrow(&["read".to_owned()], Some("read write")).is_err());
    /// assert_eq!(registry.narrow(&["*".to_owned()], Some("write")).unwrap(), ["write"]);
    /// ```
    ///
    /// # Errors
    /// `invalid_scope` for a malformed scope or one outside the original grant.
    pub fn narrow(&self, original: &[String], requested: Option<&str>) -> Result<Vec<String>, OAuthError> {
        let Some(requested) = requested.filter(|s| !s.trim().is_empty()) else {
            return Ok(original.to_vec());
        };
        let mut requested = parse(requested)?;
        requested.sort();
        requested.dedup();
        let wildcard = original.iter().any(|s| s == "*");
        let within = requested.iter().all(|s| original.contains(s) || (wildcard && self.has_scope(s)));
        if within {
            Ok(requested)
        } else {
            Err(OAuthError::invalid_scope())
        }
    }

    /// The scopes a new personal access token gets when its caller holds `caller`
    /// scopes: the registry's defaults when none are asked, and never a scope the caller
    /// lacks (a token cannot mint a wider one).
    ///
    /// ```
    /// use tower_passport_issuer::ScopeRegistry;
    /// use tower_passport::Scopes;
    /// let registry = ScopeRegistry::new().scope("read", "Read").scope("write", "Write").default_scopes(["read"]);
    /// let caller = Scopes::from_space_delimited("read");
    /// assert_eq!(registry.within_caller(&caller, &[]).unwrap(), ["read"]);
    /// assert!(registry.within_caller(&caller, &["write".to_owned()]).is_err());
    /// ```
    ///
    /// # Errors
    /// `invalid_scope` when a requested (or default) scope is not among the caller's.
    pub fn within_caller(
        &self,
        caller: &tower_passport::token::Scopes,
        requested: &[String],
    ) -> Result<Vec<String>, OAuthError> {
        let granted = if requested.is_empty() { self.defaults.clone() } else { requested.to_vec() };
        if caller.can_all(&granted) {
            Ok(granted)
        } else {
            Err(OAuthError::new(
                super::OAuthErrorCode::InvalidScope,
                "A personal access token cannot have scopes the calling token lacks",
            ))
        }
    }
}

pub(crate) fn parse(scope: &str) -> Result<Vec<String>, OAuthError> {
    let valid =
        |s: &str| s.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| if valid(s) { Ok(s.to_owned()) } else { Err(OAuthError::invalid_scope()) })
        .collect()
}
