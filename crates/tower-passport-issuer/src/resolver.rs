//! The guard's resolver, with client checks answered by the issuer's client registry.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::store::{ClientRecord, ClientStore, StoreError};
use tower_passport::error::BackendError;
use tower_passport::guard::{ClientStatus, ResolvePrincipal};
use tower_passport::revocation::Hub;
use tower_passport::token::VerifiedToken;

/// Resolves users with `R` and checks every token's client against the issuer's store:
/// an unknown or revoked client's tokens are refused. Built by
/// [`Issuer::resolver`](super::Issuer::resolver).
pub struct RegistryResolver<R> {
    users: R,
    store: Arc<dyn ClientLookup>,
    /// The issuer's hub, for the guard to register with (`None` from [`new`](Self::new)).
    pub(crate) hub: Option<Hub>,
}

impl<R> RegistryResolver<R> {
    /// Resolves users with `users` and checks clients in `store` (any
    /// [`ClientStore`], whose type is erased): what
    /// [`Issuer::resolver`](super::Issuer::resolver) builds, for a resource server that
    /// reads the issuer's store without running an issuer.
    pub fn new<S: ClientStore>(users: R, store: Arc<S>) -> Self {
        Self { users, store, hub: None }
    }
}

impl<R: fmt::Debug> fmt::Debug for RegistryResolver<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryResolver").field("users", &self.users).finish_non_exhaustive()
    }
}

/// A boxed client lookup.
type Lookup<'a> = Pin<Box<dyn Future<Output = Result<Option<ClientRecord>, StoreError>> + Send + 'a>>;

/// [`ClientStore::client`], object-safe.
trait ClientLookup: Send + Sync + 'static {
    fn client<'a>(&'a self, id: &'a str) -> Lookup<'a>;
}

impl<S: ClientStore> ClientLookup for S {
    fn client<'a>(&'a self, id: &'a str) -> Lookup<'a> {
        Box::pin(ClientStore::client(self, id))
    }
}

impl<R: ResolvePrincipal> ResolvePrincipal for RegistryResolver<R> {
    type User = R::User;

    fn resolve_user(
        &self,
        token: &VerifiedToken,
    ) -> impl Future<Output = Result<Option<Self::User>, BackendError>> + Send {
        self.users.resolve_user(token)
    }

    async fn client_status(&self, client_id: &str) -> Result<ClientStatus, BackendError> {
        Ok(match self.store.client(client_id).await.map_err(BackendError::new)? {
            None => ClientStatus::Unknown,
            Some(client) if client.revoked => ClientStatus::Revoked,
            Some(_) => ClientStatus::Active,
        })
    }

    fn hub(&self) -> Option<Hub> {
        self.hub.clone()
    }
}
