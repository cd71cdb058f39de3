//! A store chosen at run time from a URL, for binaries configured by environment.

use std::future::Future;

use super::{
    AccessTokenRecord, ClientRecord, FamilyRecord, MemoryStore, Purge, PurgeCounts, RefreshTokenRecord,
    RevokedAccess, Rotation, RotationOutcome, Store, StoreError,
};

/// One of the built-in stores, chosen from a URL such as `PASSPORT_STORE`:
/// `memory`, `sqlite://file.db` (feature `sqlite`) or `postgres://…` (feature `postgres`).
///
/// ```
/// use tower_passport::store::{AnyStore, Store};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport::store::StoreError> {
/// let store = AnyStore::open("memory").await?;
/// assert_eq!(store.kind(), "memory");
/// assert!(!store.is_revoked("jti").await?);
/// assert!(AnyStore::open("ftp://nope").await.is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyStore {
    /// [`MemoryStore`].
    Memory(MemoryStore),
    /// [`SqliteStore`](super::SqliteStore).
    #[cfg(feature = "sqlite")]
    Sqlite(super::SqliteStore),
    /// [`PostgresStore`](super::PostgresStore).
    #[cfg(feature = "postgres")]
    Postgres(super::PostgresStore),
}

impl AnyStore {
    /// Opens the store `url` names and runs its migrations.
    ///
    /// # Errors
    /// For an unknown scheme (or one whose feature is off), or when the store cannot be
    /// opened or migrated.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if url == "memory" || url.starts_with("memory:") {
            return Ok(Self::Memory(MemoryStore::new()));
        }
        #[cfg(feature = "sqlite")]
        if url.starts_with("sqlite:") {
            let store = super::SqliteStore::connect(url).await?;
            store.migrate().await?;
            return Ok(Self::Sqlite(store));
        }
        #[cfg(feature = "postgres")]
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let store = super::PostgresStore::connect(url).await?;
            store.migrate().await?;
            return Ok(Self::Postgres(store));
        }
        let scheme = url.split(':').next().unwrap_or_default();
        Err(StoreError::conflict(format!(
            "unsupported store {scheme:?}: use memory, sqlite://… (feature sqlite) or postgres://… (feature postgres)"
        )))
    }

    /// `memory`, `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => "postgres",
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        async move {
            match $self {
                AnyStore::Memory($store) => $call.await,
                #[cfg(feature = "sqlite")]
                AnyStore::Sqlite($store) => $call.await,
                #[cfg(feature = "postgres")]
                AnyStore::Postgres($store) => $call.await,
            }
        }
    };
}

impl Store for AnyStore {
    fn put_client(&self, client: ClientRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        dispatch!(self, store => store.put_client(client))
    }
    fn client(&self, id: &str) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send {
        dispatch!(self, store => store.client(id))
    }
    fn set_client_revoked(
        &self,
        id: &str,
        revoked: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        dispatch!(self, store => store.set_client_revoked(id, revoked))
    }
    fn put_access_token(
        &self,
        record: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        dispatch!(self, store => store.put_access_token(record))
    }
    fn access_token(
        &self,
        jti: &str,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send {
        dispatch!(self, store => store.access_token(jti))
    }
    fn personal_access_tokens(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<AccessTokenRecord>, StoreError>> + Send {
        dispatch!(self, store => store.personal_access_tokens(user_id))
    }
    fn revoke_access_token(
        &self,
        jti: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send {
        dispatch!(self, store => store.revoke_access_token(jti, now))
    }
    fn is_revoked(&self, jti: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        dispatch!(self, store => store.is_revoked(jti))
    }
    fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        dispatch!(self, store => store.start_family(family, first, access))
    }
    fn refresh_token(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<RefreshTokenRecord>, StoreError>> + Send {
        dispatch!(self, store => store.refresh_token(id))
    }
    fn family(&self, id: &str) -> impl Future<Output = Result<Option<FamilyRecord>, StoreError>> + Send {
        dispatch!(self, store => store.family(id))
    }
    fn rotate(&self, rotation: Rotation) -> impl Future<Output = Result<RotationOutcome, StoreError>> + Send {
        dispatch!(self, store => store.rotate(rotation))
    }
    fn revoke_family(
        &self,
        family_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Vec<RevokedAccess>, StoreError>> + Send {
        dispatch!(self, store => store.revoke_family(family_id, now))
    }
    fn purge(&self, purge: Purge) -> impl Future<Output = Result<PurgeCounts, StoreError>> + Send {
        dispatch!(self, store => store.purge(purge))
    }
    fn put_setting_if_absent(
        &self,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        dispatch!(self, store => store.put_setting_if_absent(name, value))
    }
}
