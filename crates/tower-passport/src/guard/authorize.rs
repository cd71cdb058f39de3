//! The asynchronous half of the guard: revocation, client check, user resolution, behind
//! an object-safe trait that erases the resolver and revocation types.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

use super::resolve_timeout::within;
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
    /// Checks revocation and the client, resolves the user, from `stage` on: the stages
    /// before it were passed already (by [`authorize_now`](Self::authorize_now)).
    fn authorize(self: Arc<Self>, token: VerifiedToken, stage: Stage) -> AuthorizeFuture<U>;
    /// [`authorize`](Self::authorize)'s answer when every part of it is at hand without
    /// waiting (the revocation check's, the resolver's or its cache's). Otherwise the token
    /// back, with the first stage that must wait: hand both to `authorize`.
    fn authorize_now(
        &self,
        token: VerifiedToken,
    ) -> Result<Result<Principal<U>, AuthError>, (VerifiedToken, Stage)>;
    /// Drops what the resolver cache holds about `client_id`.
    fn invalidate_client(&self, client_id: &str);
    /// Drops every cached resolver answer.
    fn invalidate_everything(&self);
}

/// The steps of authorizing a verified token, in order. Each is asked once per request:
/// a step passed without waiting is not asked again when a later one has to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Stage {
    /// The revocation check (the provider was checked before every stage).
    Revocation,
    /// A first-party cookie's user's last sign-out.
    SignedOut,
    /// The client's status.
    Client,
    /// The user behind the token.
    User,
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
    /// How long a request waits for the resolver; `None`: without a bound.
    pub(crate) resolve_timeout: Option<Duration>,
}

impl<R: ResolvePrincipal, C: RevocationCheck> Authorize<R::User> for Authorizer<R, C> {
    fn authorize(self: Arc<Self>, token: VerifiedToken, stage: Stage) -> AuthorizeFuture<R::User> {
        Box::pin(async move { self.run(token, stage).await })
    }

    fn authorize_now(
        &self,
        token: VerifiedToken,
    ) -> Result<Result<Principal<R::User>, AuthError>, (VerifiedToken, Stage)> {
        if let Err(error) = self.check_provider(&token) {
            return Ok(Err(error));
        }
        match self.revocation.is_revoked_now(&token) {
            None => return Err((token, Stage::Revocation)),
            Some(revoked) => {
                if let Err(error) = revocation_verdict(revoked) {
                    return Ok(Err(error));
                }
            }
        }
        // A first-party cookie also asks when its user last signed out: that waits.
        if token.credential() == Credential::FirstPartyCookie {
            return Err((token, Stage::SignedOut));
        }
        if let Some(client_id) = token.client_id() {
            match self.client_status_now(&token, client_id) {
                None => return Err((token, Stage::Client)),
                Some(Ok(ClientStatus::Active)) => {}
                Some(Ok(_)) => return Ok(Err(AuthError::invalid_token(Reason::RevokedClient))),
                Some(Err(error)) => return Ok(Err(error)),
            }
        }
        let user = match token.kind() {
            PrincipalKind::Client => None,
            PrincipalKind::User => match self.user_now(&token) {
                None => return Err((token, Stage::User)),
                Some(Ok(user)) => match user {
                    Some(user) => Some(user),
                    None => return Ok(Err(AuthError::invalid_token(Reason::UnknownUser))),
                },
                Some(Err(error)) => return Ok(Err(error)),
            },
        };
        Ok(Ok(Principal::new(token, user)))
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
    async fn run(&self, token: VerifiedToken, stage: Stage) -> Result<Principal<R::User>, AuthError> {
        if stage <= Stage::Revocation {
            self.check_provider(&token)?;
            revocation_verdict(self.revocation.is_revoked(&token).await)?;
        }
        if stage <= Stage::SignedOut
            && token.credential() == Credential::FirstPartyCookie
            && self.signed_out(&token).await?
        {
            return Err(AuthError::invalid_token(Reason::Revoked));
        }
        within(self.resolve_timeout, self.resolve(token, stage)).await
    }

    /// The client check and the user lookup, from `stage` on: the resolver's part, under
    /// one deadline.
    async fn resolve(&self, token: VerifiedToken, stage: Stage) -> Result<Principal<R::User>, AuthError> {
        if stage <= Stage::Client {
            if let Some(client_id) = token.client_id() {
                if self.client_status(token.issuer(), client_id).await? != ClientStatus::Active {
                    return Err(AuthError::invalid_token(Reason::RevokedClient));
                }
            }
        }
        let user = match token.kind() {
            PrincipalKind::Client => None,
            PrincipalKind::User => Some(self.user(&token).await?),
        };
        Ok(Principal::new(token, user))
    }

    /// A user token must come from the guard's user provider, when it names one.
    fn check_provider(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        match &self.provider {
            Some(provider)
                if token.kind() == PrincipalKind::User && token.provider_or_default() != &**provider =>
            {
                Err(AuthError::invalid_token(Reason::WrongProvider))
            }
            _ => Ok(()),
        }
    }

    /// The client's status from the resolver cache or the resolver, if at hand.
    /// (`token`'s issuer is read only for the cache's key.)
    fn client_status_now(
        &self,
        token: &VerifiedToken,
        client_id: &str,
    ) -> Option<Result<ClientStatus, AuthError>> {
        if let Some(cache) = &self.cache {
            // A hit is counted here; a miss by the stage that then waits for the resolver.
            let status = cache.clients.get(&cache_key(token.issuer(), client_id))?;
            crate::telemetry::principal_cache(true, true);
            return Some(Ok(status));
        }
        let status = self.resolver.client_status_now(client_id)?;
        Some(status.map_err(|error| AuthError::unavailable(Reason::ResolverFailed, error)))
    }

    /// The token's user from the resolver cache or the resolver, if at hand (`Ok(None)`:
    /// the resolver knows no such user).
    fn user_now(&self, token: &VerifiedToken) -> Option<Result<Option<R::User>, AuthError>> {
        // The subject is read only when there is a cache to key.
        if let Some((cache, subject)) = self.cache.as_ref().and_then(|cache| Some((cache, token.subject()?)))
        {
            // A hit is counted here; a miss by the stage that then waits for the resolver.
            let user = cache.users.get(&cache_key(token.issuer(), subject))?;
            crate::telemetry::principal_cache(false, true);
            return Some(Ok(user));
        }
        let user = self.resolver.resolve_user_now(token)?;
        Some(user.map_err(|error| AuthError::unavailable(Reason::ResolverFailed, error)))
    }

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

/// The guard's answer to a revocation check's.
fn revocation_verdict(revoked: Result<bool, crate::BackendError>) -> Result<(), AuthError> {
    match revoked {
        Ok(false) => Ok(()),
        Ok(true) => Err(AuthError::invalid_token(Reason::Revoked)),
        Err(error) => Err(AuthError::unavailable(Reason::RevocationUnavailable, error)),
    }
}
