//! The asynchronous half of the guard: revocation, client check, user resolution, behind
//! an object-safe trait that erases the resolver and revocation types.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use super::{ClientStatus, Principal, ResolvePrincipal};
use crate::error::{AuthError, Reason};
use crate::revocation::RevocationCheck;
use crate::token::{Credential, PrincipalKind, VerifiedToken};

/// What the guard waits for once a token verified: the principal, or why not.
pub(crate) type AuthorizeFuture<U> = Pin<Box<dyn Future<Output = Result<Principal<U>, AuthError>> + Send>>;

/// The guard's asynchronous half, its resolver and revocation check erased: the guard
/// boxes the authorize future anyway, so the types buy nothing at run time and only
/// `U` stays visible (`GuardLayer<U>`).
pub(crate) trait Authorize<U>: Send + Sync {
    /// Checks revocation and the client, resolves the user.
    fn authorize(self: Arc<Self>, token: VerifiedToken) -> AuthorizeFuture<U>;
    /// Drops what the resolver cache holds about `client_id`.
    fn invalidate_client(&self, client_id: &str);
    /// Drops every cached resolver answer.
    fn invalidate_everything(&self);
}

/// Caches the resolver's answers, keyed by issuer and subject or client id, for a TTL.
/// Errors are never cached.
pub(crate) struct ResolverCache<U> {
    users: Cache<String, Option<U>>,
    clients: Cache<String, ClientStatus>,
}

impl<U: Clone + Send + Sync + 'static> ResolverCache<U> {
    pub(crate) fn new(capacity: u64, ttl: Duration) -> Self {
        Self {
            users: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            clients: Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
        }
    }
}

impl<U: Clone + Send + Sync + 'static> ResolverCache<U> {
    /// Drops the cached status of `client_id`, whatever its issuer.
    fn invalidate_client(&self, client_id: &str) {
        let suffix = format!("\0{client_id}");
        let keys: Vec<_> =
            self.clients.iter().map(|(key, _)| key).filter(|key| key.ends_with(&suffix)).collect();
        for key in keys {
            self.clients.invalidate(&*key);
        }
    }

    fn invalidate_everything(&self) {
        self.users.invalidate_all();
        self.clients.invalidate_all();
    }
}

fn cache_key(issuer: &str, id: &str) -> String {
    let mut key = String::with_capacity(issuer.len() + 1 + id.len());
    key.push_str(issuer);
    key.push('\0');
    key.push_str(id);
    key
}

pub(crate) struct Authorizer<R: ResolvePrincipal, C> {
    pub(crate) resolver: R,
    pub(crate) cache: Option<ResolverCache<R::User>>,
    pub(crate) revocation: C,
    /// The user provider the guard is bound to, if any.
    pub(crate) provider: Option<Arc<str>>,
}

impl<R: ResolvePrincipal, C: RevocationCheck> Authorize<R::User> for Authorizer<R, C> {
    fn authorize(self: Arc<Self>, token: VerifiedToken) -> AuthorizeFuture<R::User> {
        Box::pin(async move { self.run(token).await })
    }

    fn invalidate_client(&self, client_id: &str) {
        if let Some(cache) = &self.cache {
            cache.invalidate_client(client_id);
        }
    }

    fn invalidate_everything(&self) {
        if let Some(cache) = &self.cache {
            cache.invalidate_everything();
        }
    }
}

impl<R: ResolvePrincipal, C: RevocationCheck> Authorizer<R, C> {
    async fn run(&self, token: VerifiedToken) -> Result<Principal<R::User>, AuthError> {
        if let Some(provider) = &self.provider {
            if token.kind() == PrincipalKind::User && token.provider_or_default() != &**provider {
                return Err(AuthError::invalid_token(Reason::WrongProvider));
            }
        }
        match self.revocation.is_revoked(&token).await {
            Ok(false) => {}
            Ok(true) => return Err(AuthError::invalid_token(Reason::Revoked)),
            Err(error) => return Err(AuthError::unavailable(Reason::RevocationUnavailable, error)),
        }
        if token.credential() == Credential::FirstPartyCookie && self.signed_out(&token).await? {
            return Err(AuthError::invalid_token(Reason::Revoked));
        }
        if let Some(client_id) = token.client_id() {
            if self.client_status(token.issuer(), client_id).await? != ClientStatus::Active {
                return Err(AuthError::invalid_token(Reason::RevokedClient));
            }
        }
        let user = match token.kind() {
            PrincipalKind::Client => None,
            PrincipalKind::User => Some(self.user(&token).await?),
        };
        Ok(Principal::new(token, user))
    }

    /// Whether a first-party cookie was sealed before its user's "not before" instant, or
    /// in the same millisecond (a sign-out since: what was sealed in that millisecond may
    /// have come before it). Bearer tokens are revoked one by one instead.
    async fn signed_out(&self, token: &VerifiedToken) -> Result<bool, AuthError> {
        let Some(subject) = token.subject() else { return Ok(false) };
        let not_before = self
            .revocation
            .user_not_before(token.provider_or_default(), subject)
            .await
            .map_err(|error| AuthError::unavailable(Reason::RevocationUnavailable, error))?;
        Ok(not_before.is_some_and(|not_before| token.issued_at_ms().unwrap_or(0) <= not_before))
    }

    async fn client_status(&self, issuer: &str, client_id: &str) -> Result<ClientStatus, AuthError> {
        let key = self.cache.as_ref().map(|_| cache_key(issuer, client_id));
        if let (Some(cache), Some(key)) = (&self.cache, &key) {
            if let Some(status) = cache.clients.get(key) {
                crate::telemetry::principal_cache(true, true);
                return Ok(status);
            }
            crate::telemetry::principal_cache(true, false);
        }
        let status = self
            .resolver
            .client_status(client_id)
            .await
            .map_err(|error| AuthError::unavailable(Reason::ResolverFailed, error))?;
        if let (Some(cache), Some(key)) = (&self.cache, key) {
            cache.clients.insert(key, status);
        }
        Ok(status)
    }

    async fn user(&self, token: &VerifiedToken) -> Result<R::User, AuthError> {
        let key = match (&self.cache, token.subject()) {
            (Some(_), Some(subject)) => Some(cache_key(token.issuer(), subject)),
            _ => None,
        };
        let cached = match (&self.cache, &key) {
            (Some(cache), Some(key)) => cache.users.get(key),
            _ => None,
        };
        if key.is_some() {
            crate::telemetry::principal_cache(false, cached.is_some());
        }
        let user = match cached {
            Some(user) => user,
            None => {
                let user = self
                    .resolver
                    .resolve_user(token)
                    .await
                    .map_err(|error| AuthError::unavailable(Reason::ResolverFailed, error))?;
                if let (Some(cache), Some(key)) = (&self.cache, key) {
                    cache.users.insert(key, user.clone());
                }
                user
            }
        };
        user.ok_or(AuthError::invalid_token(Reason::UnknownUser))
    }
}
