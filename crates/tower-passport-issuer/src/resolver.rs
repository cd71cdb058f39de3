//! The guard's resolver, with client checks answered by the issuer's client registry.

use std::future::Future;
use std::sync::Arc;

use tower_passport::error::BackendError;
use tower_passport::guard::{ClientStatus, ResolvePrincipal};
use tower_passport::revocation::Hub;
use crate::store::ClientStore;
use tower_passport::token::VerifiedToken;

/// Resolves users with `R` and checks every token's client against the issuer's store:
/// an unknown or revoked client's tokens are refused. Built by
/// [`Issuer::resolver`](super::Issuer::resolver).
pub struct RegistryResolver<R, S> {
    pub(crate) users: R,
    pub(crate) store: Arc<S>,
    /// The issuer's hub, for the guard to register with (`None` from [`new`](Self::new)).
    pub(crate) hub: Option<Hub>,
}

impl<R, S> RegistryResolver<R, S> {
    /// Resolves users with `users` and checks clients in `store`: what
    /// [`Issuer::resolver`](super::Issuer::resolver) builds, for a resource server that
    /// reads the issuer's store without running an issuer.
    pub fn new(users: R, store: Arc<S>) -> Self {
        Self { users, store, hub: None }
    }
}

impl<R: ResolvePrincipal, S: ClientStore> ResolvePrincipal for RegistryResolver<R, S> {
    type User = R::User;

    fn resolve_user(
        &self,
        token: &VerifiedToken,
    ) -> impl Future<Output = Result<Option<Self::User>, BackendError>> + Send {
        self.users.resolve_user(token)
    }

    fn client_status(
        &self,
        client_id: &str,
    ) -> impl Future<Output = Result<ClientStatus, BackendError>> + Send {
        let lookup = self.store.client(client_id);
        async move {
            Ok(match lookup.await.map_err(BackendError::new)? {
                None => ClientStatus::Unknown,
                Some(client) if client.revoked => ClientStatus::Revoked,
                Some(_) => ClientStatus::Active,
            })
        }
    }

    fn hub(&self) -> Option<Hub> {
        self.hub.clone()
    }
}
