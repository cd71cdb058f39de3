//! The device code role (RFC 8628): device authorization requests kept as hashes, decided
//! once by the user, polled under the interval rule, and redeemed once.
//!
//! Part of the [`Store`](super::Store) umbrella: every built-in store implements it
//! (memory, SQLite, PostgreSQL, MySQL, Redis and `tower_passport_cli::AnyStore`).
//!
//! A request is found by the SHA-256 of its `device_code` (the device polls with it) or of
//! its normalised `user_code` (the user types it); neither code is stored. The two rules
//! every store carries out, [`poll`] and [`decide`], are written once here: the memory
//! store applies them under its lock, the SQL stores in one write transaction that locks the
//! row, Redis in one Lua script that mirrors them.

use std::future::Future;
use std::sync::Arc;

use super::{SecretHash, StoreError};

/// How much a `slow_down` answer adds to the polling interval, in seconds (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: u64 = 5;

/// How much earlier than its interval a poll may arrive and still count as on time, in
/// milliseconds: the network may deliver a poll sent on time a little early relative to the
/// one before it.
pub const POLL_GRACE_MS: u64 = 250;

/// What the user decided about a device authorization request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceDecision {
    /// Nobody has decided yet.
    Pending,
    /// Approved by this user (the `sub` of the tokens the device gets).
    Approved(String),
    /// Denied.
    Denied,
}

impl DeviceDecision {
    /// How a store writes it: the decision's name (`pending`, `approved`, `denied`) and, when
    /// approved, the user.
    ///
    /// ```
    /// use tower_passport_issuer::store::DeviceDecision;
    /// let approved = DeviceDecision::Approved("7".into());
    /// assert_eq!(approved.to_parts(), ("approved", Some("7")));
    /// assert_eq!(DeviceDecision::from_parts("approved", Some("7".into())), Some(approved));
    /// assert_eq!(DeviceDecision::from_parts("approved", None), None);
    /// ```
    pub fn to_parts(&self) -> (&'static str, Option<&str>) {
        match self {
            Self::Pending => ("pending", None),
            Self::Approved(user_id) => ("approved", Some(user_id)),
            Self::Denied => ("denied", None),
        }
    }

    /// The decision a store wrote with [`to_parts`](Self::to_parts); `None` for anything else.
    pub fn from_parts(name: &str, user_id: Option<String>) -> Option<Self> {
        match (name, user_id) {
            ("pending", _) => Some(Self::Pending),
            ("denied", _) => Some(Self::Denied),
            ("approved", Some(user_id)) => Some(Self::Approved(user_id)),
            _ => None,
        }
    }
}

/// A device authorization request as the store keeps it: the hashes of its two codes (never
/// the codes), what it asks for, and where it stands.
///
/// ```
/// use tower_passport_issuer::store::{DeviceCodeRecord, DeviceDecision, SecretHash};
/// let record = DeviceCodeRecord {
///     device_hash: SecretHash::of(b"the device code, which is not stored"),
///     user_code_hash: SecretHash::of(b"BCDFGHJK"),
///     client_id: "tv".into(), scopes: vec!["read".into()],
///     issued_at: 100, expires_at: 700, interval: 5, last_polled_at_ms: None,
///     decision: DeviceDecision::Pending, used_at: None,
/// };
/// assert!(!format!("{record:?}").contains("device code"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCodeRecord {
    /// The SHA-256 of the `device_code`: the key the device's polls find it by.
    pub device_hash: SecretHash,
    /// The SHA-256 of the normalised `user_code` (upper case, no dashes): the key the
    /// verification page finds it by.
    pub user_code_hash: SecretHash,
    /// The client that asked.
    pub client_id: String,
    /// The scopes asked for (already resolved against the registry and the client).
    pub scopes: Vec<String>,
    /// Issue time, seconds since the Unix epoch.
    pub issued_at: u64,
    /// Expiry: neither code works from this second on.
    pub expires_at: u64,
    /// The polling interval, in seconds; each `slow_down` adds [`SLOW_DOWN_STEP`].
    pub interval: u64,
    /// When the device last polled, in milliseconds since the Unix epoch.
    pub last_polled_at_ms: Option<u64>,
    /// The user's decision.
    pub decision: DeviceDecision,
    /// When the device redeemed the approval for tokens, if it did.
    pub used_at: Option<u64>,
}

/// What one poll of the token endpoint found ([`DeviceCodeStore::poll_device_code`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DevicePoll {
    /// No such device code (or its record is gone), or one of another client. Nothing
    /// changed.
    Invalid,
    /// The request expired. Nothing changed.
    Expired,
    /// Polled sooner than the interval allows: the interval grew by [`SLOW_DOWN_STEP`].
    SlowDown,
    /// The user has not decided yet.
    Pending,
    /// The user denied the request.
    Denied,
    /// The approval was redeemed before: a device code works once. Nothing changed.
    Used,
    /// Approved, and now redeemed (`used_at` set): issue the tokens. The record is as
    /// stored.
    Approved(DeviceCodeRecord),
}

/// The polling rule (RFC 8628 §3.5), written once for every store: what a poll of `record` by
/// `client_id` at `now_ms` finds, with the record changed as the store must write it back.
///
/// A poll by another client than the one that asked is [`Invalid`](DevicePoll::Invalid)
/// (a device code is bound to its client), and, as a redeemed or expired request, changes
/// nothing. Otherwise a poll that comes sooner than
/// `interval` seconds (less [`POLL_GRACE_MS`]) after the previous one is `slow_down`, and the
/// interval grows; every counted poll sets `last_polled_at_ms`, so a device that floods must
/// wait a whole interval from its last request. An on-time poll reports the decision, and an
/// approval is redeemed at once.
///
/// ```
/// use tower_passport_issuer::store::device::{poll, DevicePoll};
/// use tower_passport_issuer::store::{DeviceCodeRecord, DeviceDecision, SecretHash};
/// let mut record = DeviceCodeRecord {
///     device_hash: SecretHash::of(b"d"), user_code_hash: SecretHash::of(b"U"),
///     client_id: "tv".into(), scopes: vec![], issued_at: 100, expires_at: 700, interval: 5,
///     last_polled_at_ms: None, decision: DeviceDecision::Pending, used_at: None,
/// };
/// assert_eq!(poll(&mut record, "tv", 101_000), DevicePoll::Pending);
/// assert_eq!(poll(&mut record, "tv", 102_000), DevicePoll::SlowDown);
/// assert_eq!(record.interval, 10);
/// ```
pub fn poll(record: &mut DeviceCodeRecord, client_id: &str, now_ms: u64) -> DevicePoll {
    let now = now_ms / 1000;
    if record.client_id != client_id {
        return DevicePoll::Invalid;
    }
    if record.used_at.is_some() {
        return DevicePoll::Used;
    }
    if record.expires_at <= now {
        return DevicePoll::Expired;
    }
    let due = record
        .last_polled_at_ms
        .map(|last| last.saturating_add(record.interval.saturating_mul(1000)).saturating_sub(POLL_GRACE_MS));
    record.last_polled_at_ms = Some(now_ms);
    if due.is_some_and(|due| now_ms < due) {
        record.interval = record.interval.saturating_add(SLOW_DOWN_STEP);
        return DevicePoll::SlowDown;
    }
    match record.decision {
        DeviceDecision::Pending => DevicePoll::Pending,
        DeviceDecision::Denied => DevicePoll::Denied,
        DeviceDecision::Approved(_) => {
            record.used_at = Some(now);
            DevicePoll::Approved(record.clone())
        }
    }
}

/// The decision rule, written once for every store: a request takes one decision, while it
/// is pending and unexpired at `now`. Returns whether `decision` was recorded.
///
/// ```
/// use tower_passport_issuer::store::device::decide;
/// use tower_passport_issuer::store::{DeviceCodeRecord, DeviceDecision, SecretHash};
/// let mut record = DeviceCodeRecord {
///     device_hash: SecretHash::of(b"d"), user_code_hash: SecretHash::of(b"U"),
///     client_id: "tv".into(), scopes: vec![], issued_at: 100, expires_at: 700, interval: 5,
///     last_polled_at_ms: None, decision: DeviceDecision::Pending, used_at: None,
/// };
/// assert!(decide(&mut record, DeviceDecision::Approved("7".into()), 200));
/// assert!(!decide(&mut record, DeviceDecision::Denied, 201), "decided once");
/// ```
pub fn decide(record: &mut DeviceCodeRecord, decision: DeviceDecision, now: u64) -> bool {
    if record.decision != DeviceDecision::Pending
        || record.expires_at <= now
        || decision == DeviceDecision::Pending
    {
        return false;
    }
    record.decision = decision;
    true
}

/// Device authorization requests. Every method is atomic.
///
/// ```
/// use tower_passport_issuer::store::{DeviceCodeRecord, DeviceCodeStore, DeviceDecision, DevicePoll, MemoryStore, SecretHash};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = MemoryStore::new();
/// let (device, user) = (SecretHash::of(b"device-code"), SecretHash::of(b"BCDFGHJK"));
/// store.put_device_code(DeviceCodeRecord {
///     device_hash: device, user_code_hash: user, client_id: "tv".into(), scopes: vec![],
///     issued_at: 100, expires_at: 700, interval: 5, last_polled_at_ms: None,
///     decision: DeviceDecision::Pending, used_at: None,
/// }).await?;
/// assert_eq!(store.poll_device_code(&device, "tv", 101_000).await?, DevicePoll::Pending);
/// assert!(store.pending_device_code(&user, 102).await?.is_some());
/// assert!(store.decide_device_code(&user, DeviceDecision::Approved("7".into()), 102).await?);
/// assert!(matches!(store.poll_device_code(&device, "tv", 106_000).await?, DevicePoll::Approved(_)));
/// assert_eq!(store.poll_device_code(&device, "tv", 111_000).await?, DevicePoll::Used);
/// # Ok(())
/// # }
/// ```
pub trait DeviceCodeStore: Send + Sync + 'static {
    /// Stores a new request. A request whose device code hash or user code hash is already
    /// stored is a conflict (the caller draws new codes).
    fn put_device_code(
        &self,
        record: DeviceCodeRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The request whose user code has this hash, if it is pending and unexpired at `now`.
    fn pending_device_code(
        &self,
        user_code_hash: &SecretHash,
        now: u64,
    ) -> impl Future<Output = Result<Option<DeviceCodeRecord>, StoreError>> + Send;

    /// Records the user's decision on the request whose user code has this hash, atomically,
    /// as [`decide`] says. Returns whether it was recorded (`false`: unknown, expired or
    /// already decided).
    fn decide_device_code(
        &self,
        user_code_hash: &SecretHash,
        decision: DeviceDecision,
        now: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// One poll by the device (its client, `client_id`), atomically, as [`poll`] says. Of N
    /// concurrent polls of an approved request, at most one is
    /// [`Approved`](DevicePoll::Approved).
    fn poll_device_code(
        &self,
        device_hash: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> impl Future<Output = Result<DevicePoll, StoreError>> + Send;
}

impl<S: DeviceCodeStore> DeviceCodeStore for Arc<S> {
    fn put_device_code(
        &self,
        record: DeviceCodeRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put_device_code(record)
    }
    fn pending_device_code(
        &self,
        user_code_hash: &SecretHash,
        now: u64,
    ) -> impl Future<Output = Result<Option<DeviceCodeRecord>, StoreError>> + Send {
        (**self).pending_device_code(user_code_hash, now)
    }
    fn decide_device_code(
        &self,
        user_code_hash: &SecretHash,
        decision: DeviceDecision,
        now: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).decide_device_code(user_code_hash, decision, now)
    }
    fn poll_device_code(
        &self,
        device_hash: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> impl Future<Output = Result<DevicePoll, StoreError>> + Send {
        (**self).poll_device_code(device_hash, client_id, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(decision: DeviceDecision) -> DeviceCodeRecord {
        DeviceCodeRecord {
            device_hash: SecretHash::of(b"d"),
            user_code_hash: SecretHash::of(b"U"),
            client_id: "tv".into(),
            scopes: vec![],
            issued_at: 100,
            expires_at: 700,
            interval: 5,
            last_polled_at_ms: Some(100_000),
            decision,
            used_at: None,
        }
    }

    /// The polling rule, one row per case: (decision, used, poll at ms) → answer, interval after.
    #[test]
    fn the_polling_rule_table() {
        let approved = DeviceDecision::Approved("7".into());
        let cases: [(DeviceDecision, bool, u64, &str, u64); 9] = [
            (DeviceDecision::Pending, false, 105_000, "pending", 5),
            (DeviceDecision::Pending, false, 104_750, "pending", 5),
            (DeviceDecision::Pending, false, 104_749, "slow_down", 10),
            (DeviceDecision::Denied, false, 105_000, "denied", 5),
            (DeviceDecision::Denied, false, 101_000, "slow_down", 10),
            (approved.clone(), false, 105_000, "approved", 5),
            (approved.clone(), false, 100_500, "slow_down", 10),
            (approved, true, 105_000, "used", 5),
            (DeviceDecision::Pending, false, 700_000, "expired", 5),
        ];
        for (decision, used, at, expected, interval) in cases {
            let mut record = record(decision);
            record.used_at = used.then_some(103);
            let answer = match poll(&mut record, "tv", at) {
                DevicePoll::Pending => "pending",
                DevicePoll::SlowDown => "slow_down",
                DevicePoll::Denied => "denied",
                DevicePoll::Approved(_) => "approved",
                DevicePoll::Used => "used",
                DevicePoll::Expired => "expired",
                DevicePoll::Invalid => "invalid",
            };
            assert_eq!((answer, record.interval), (expected, interval), "poll at {at}");
        }
    }

    #[test]
    fn a_redeemed_approval_is_marked_used_and_a_slow_down_resets_the_wait() {
        let mut record = record(DeviceDecision::Approved("7".into()));
        assert!(
            matches!(poll(&mut record, "tv", 105_000), DevicePoll::Approved(r) if r.used_at == Some(105))
        );
        assert_eq!(poll(&mut record, "tv", 200_000), DevicePoll::Used);

        let mut record = record_pending();
        assert_eq!(poll(&mut record, "tv", 101_000), DevicePoll::SlowDown);
        // The next poll is due a whole (grown) interval after the refused one.
        assert_eq!(poll(&mut record, "tv", 110_000), DevicePoll::SlowDown);
        assert_eq!(record.interval, 15);
        assert_eq!(poll(&mut record, "tv", 125_000), DevicePoll::Pending);
    }

    fn record_pending() -> DeviceCodeRecord {
        record(DeviceDecision::Pending)
    }

    #[test]
    fn another_clients_poll_finds_nothing_and_changes_nothing() {
        let mut record = record(DeviceDecision::Approved("7".into()));
        let before = record.clone();
        assert_eq!(poll(&mut record, "other", 105_000), DevicePoll::Invalid);
        assert_eq!(record, before);
    }

    #[test]
    fn only_a_pending_unexpired_request_takes_a_decision() {
        let mut pending = record_pending();
        assert!(!decide(&mut pending, DeviceDecision::Pending, 200));
        assert!(!decide(&mut pending.clone(), DeviceDecision::Denied, 700), "expired");
        assert!(decide(&mut pending, DeviceDecision::Denied, 699));
        assert_eq!(pending.decision, DeviceDecision::Denied);
        assert!(!decide(&mut pending, DeviceDecision::Approved("7".into()), 200));
    }
}
