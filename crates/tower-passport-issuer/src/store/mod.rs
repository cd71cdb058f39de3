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

/// How long past its `exp` (in seconds) an access token still counts as live when a store
/// revokes a refresh-token family or a user's tokens.
///
/// A guard admits a token until `exp` plus its verifier's leeway (60 s by default, RFC 7519
/// §4.1.4: "usually no more than a few minutes"); a revocation that skipped a token in that
/// window would leave it working until the leeway ran out. Five minutes covers every
/// leeway up to five minutes.
///
/// ```
/// use tower_passport_issuer::store::{live_after, EXPIRY_MARGIN};
/// assert_eq!(EXPIRY_MARGIN, 300);
/// // At 1000, a token that expired at 800 is still revoked; one that expired at 700 is not.
/// assert_eq!(live_after(1_000), 700);
/// assert_eq!(live_after(10), 0);
/// ```
pub const EXPIRY_MARGIN: u64 = 300;

/// The `exp` a token must be past (strictly) to be revoked by a family or user revocation
/// at `now`: `now` less [`EXPIRY_MARGIN`].
pub const fn live_after(now: u64) -> u64 {
    now.saturating_sub(EXPIRY_MARGIN)
}
pub use tower_passport::revocation::RevocationStore;
