//! Storage for the issuer: clients, access-token records, refresh-token families and the
//! revocation list.
//!
//! The store is split by role: [`ClientStore`], [`TokenStore`] (access tokens, refresh
//! tokens and their families), [`RevocationStore`], [`PurgeStore`], [`SettingsStore`] and
//! [`CodeStore`] (authorization codes) and [`DeviceCodeStore`] (RFC 8628 device authorization
//! requests). [`Store`] is all of them at once, implemented for every type that implements
//! the seven.
//! None carries a backend dependency. Rotation is one call, [`TokenStore::rotate`], so that
//! a SQL backend can run it in one transaction with row locking and Redis in one script:
//! exactly one of N concurrent refreshes of a token wins, and the losers, inside the race
//! window, change nothing (the family lives on). Which way a rotation goes is decided once,
//! by a pure function (`rotation::plan`) every backend carries out.
//! [`MemoryStore`] is the embedded implementation.
//!
//! [`FailureStore`] (failed authentication attempts, for the issuer's
//! [`Throttle`](crate::Throttle)) is a role outside the umbrella: [`MemoryFailures`] for one node, and the SQL and
//! Redis stores for several.

mod client_secret;
pub mod codes;
pub mod device;
mod dyn_failures;
mod dyn_store;
mod error;
mod failures;
mod memory;
mod records;
mod roles;
pub mod rotation;

pub use client_secret::ClientSecretHash;
pub use codes::{AuthorizationCodeRecord, CodeRedemption, CodeStore, IssuedFromCode};
pub use device::{DeviceCodeRecord, DeviceCodeStore, DeviceDecision, DevicePoll};
pub(crate) use dyn_failures::DynFailures;
pub use dyn_store::ErasedStore;
pub use error::StoreError;
pub use failures::{FailureStore, Failures, MemoryFailures};
pub use memory::MemoryStore;
pub use records::{
    AccessTokenRecord, ClientRecord, ClientTokens, ClientUpdate, FamilyRecord, GrantType, Purge, PurgeCounts,
    RefreshTokenRecord, RevokedAccess, RevokedTokens, Rotation, RotationOutcome, SecretHash,
};
pub use roles::{ClientStore, PurgeStore, SettingsStore, Store, TokenStore};
pub use tower_passport::revocation::RevocationStore;
