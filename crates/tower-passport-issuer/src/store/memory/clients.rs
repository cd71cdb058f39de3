//! [`ClientStore`] for [`MemoryStore`]: the clients in the store's one map, behind its mutex.

use std::future::Future;

use super::MemoryStore;
use crate::store::{ClientRecord, ClientStore, ClientUpdate, StoreError};

impl ClientStore for MemoryStore {
    fn put_client(&self, client: ClientRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.with(move |state| {
            state.clients.insert(client.id.clone(), client);
            Ok(())
        })
    }

    fn client(&self, id: &str) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send {
        self.with(move |state| Ok(state.clients.get(id).cloned()))
    }

    fn set_client_revoked(
        &self,
        id: &str,
        revoked: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.with(move |state| Ok(state.clients.get_mut(id).map(|client| client.revoked = revoked).is_some()))
    }

    fn update_client(
        &self,
        id: &str,
        update: ClientUpdate,
    ) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send {
        self.with(move |state| {
            Ok(state.clients.get_mut(id).map(|client| {
                update.apply(client);
                client.clone()
            }))
        })
    }

    fn clients(&self) -> impl Future<Output = Result<Vec<ClientRecord>, StoreError>> + Send {
        self.with(|state| {
            let mut all: Vec<ClientRecord> = state.clients.values().cloned().collect();
            all.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
            Ok(all)
        })
    }

    fn clients_owned_by(
        &self,
        owner: &str,
    ) -> impl Future<Output = Result<Vec<ClientRecord>, StoreError>> + Send {
        self.with(move |state| {
            let mut owned: Vec<ClientRecord> =
                state.clients.values().filter(|c| c.owner.as_deref() == Some(owner)).cloned().collect();
            owned.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
            Ok(owned)
        })
    }
}
