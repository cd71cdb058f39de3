//! Storage for the issuer: clients, access-token records, refresh-token families and the
//! revocation list.
//!
//! [`Store`] carries no backend dependency. Rotation is one call, [`Store::rotate`], so
//! that a SQL backend can run it in one transaction with row locking and Redis in one
//! script: exactly one of N concurrent refreshes of a token wins. [`MemoryStore`] is the
//! embedded implementation.

mod any;
mod error;
mod memory;
mod records;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::{RedisStore, RedisStoreBuilder};
pub use any::AnyStore;
pub use error::StoreError;
pub use memory::MemoryStore;
pub use records::{
    AccessTokenRecord, ClientRecord, FamilyRecord, GrantType, Purge, PurgeCounts, RefreshTokenRecord,
    RevokedAccess, Rotation, RotationOutcome, SecretHash,
};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use sql::PostgresStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sql::SqliteStore;

use std::future::Future;
use std::sync::Arc;

/// Where the issuer keeps its state. Every method is atomic on its own; [`rotate`](Self::rotate)
/// and [`revoke_family`](Self::revoke_family) are atomic as a whole.
///
/// The conformance suite in `tests/conformance/` runs against every implementation.
pub trait Store: Send + Sync + 'static {
    /// Inserts or replaces a client.
    fn put_client(&self, client: ClientRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The client with this id.
    fn client(&self, id: &str) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send;

    /// Sets a client's revoked flag; `false` if there is no such client.
    fn set_client_revoked(
        &self,
        id: &str,
        revoked: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records an access token that belongs to no refresh family (client credentials,
    /// personal access tokens).
    fn put_access_token(
        &self,
        record: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The access-token record with this `jti`.
    fn access_token(
        &self,
        jti: &str,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send;

    /// A user's personal access tokens, newest first.
    fn personal_access_tokens(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<AccessTokenRecord>, StoreError>> + Send;

    /// Revokes an access token and puts its `jti` on the revocation list until its
    /// expiry. Returns the record, or `None` if there is no such token.
    fn revoke_access_token(
        &self,
        jti: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send;

    /// Whether `jti` is on the revocation list.
    fn is_revoked(&self, jti: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Starts a refresh-token family: the family, its first refresh token and the access
    /// token issued with it, atomically.
    fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The refresh-token record with this id.
    fn refresh_token(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<RefreshTokenRecord>, StoreError>> + Send;

    /// The family with this id.
    fn family(&self, id: &str) -> impl Future<Output = Result<Option<FamilyRecord>, StoreError>> + Send;

    /// Exchanges a refresh token atomically; see [`Rotation`] and [`RotationOutcome`].
    fn rotate(&self, rotation: Rotation) -> impl Future<Output = Result<RotationOutcome, StoreError>> + Send;

    /// Revokes a family atomically: the family, every refresh token in it, and every
    /// still-live access token in it (which go on the revocation list). Returns the
    /// access tokens it revoked; empty if the family was already revoked or is unknown.
    fn revoke_family(
        &self,
        family_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Vec<RevokedAccess>, StoreError>> + Send;

    /// Removes expired and/or revoked records older than [`Purge::before`].
    fn purge(&self, purge: Purge) -> impl Future<Output = Result<PurgeCounts, StoreError>> + Send;

    /// Stores `value` under `name` unless a value is already there, and returns the stored
    /// value: the first writer wins, atomically. For state every node must share, such as
    /// a generated signing key (which is why values are kept as given, not hashed).
    fn put_setting_if_absent(
        &self,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
}

impl<S: Store> Store for Arc<S> {
    fn put_client(&self, client: ClientRecord) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put_client(client)
    }
    fn client(&self, id: &str) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send {
        (**self).client(id)
    }
    fn set_client_revoked(
        &self,
        id: &str,
        revoked: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).set_client_revoked(id, revoked)
    }
    fn put_access_token(
        &self,
        record: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put_access_token(record)
    }
    fn access_token(
        &self,
        jti: &str,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send {
        (**self).access_token(jti)
    }
    fn personal_access_tokens(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<AccessTokenRecord>, StoreError>> + Send {
        (**self).personal_access_tokens(user_id)
    }
    fn revoke_access_token(
        &self,
        jti: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send {
        (**self).revoke_access_token(jti, now)
    }
    fn is_revoked(&self, jti: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).is_revoked(jti)
    }
    fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).start_family(family, first, access)
    }
    fn refresh_token(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<RefreshTokenRecord>, StoreError>> + Send {
        (**self).refresh_token(id)
    }
    fn family(&self, id: &str) -> impl Future<Output = Result<Option<FamilyRecord>, StoreError>> + Send {
        (**self).family(id)
    }
    fn rotate(&self, rotation: Rotation) -> impl Future<Output = Result<RotationOutcome, StoreError>> + Send {
        (**self).rotate(rotation)
    }
    fn revoke_family(
        &self,
        family_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Vec<RevokedAccess>, StoreError>> + Send {
        (**self).revoke_family(family_id, now)
    }
    fn purge(&self, purge: Purge) -> impl Future<Output = Result<PurgeCounts, StoreError>> + Send {
        (**self).purge(purge)
    }
    fn put_setting_if_absent(
        &self,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        (**self).put_setting_if_absent(name, value)
    }
}
