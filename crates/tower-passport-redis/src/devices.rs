//! Device authorization requests (RFC 8628) on Redis: one script each to store, find, decide
//! and poll, the last two mirroring `device::decide` and `device::poll`, so a request is
//! decided once and its approval redeemed at most once across every node.

use super::error::Malformed;
use super::{codec, RedisStore};
use tower_passport_issuer::store::device::{POLL_GRACE_MS, SLOW_DOWN_STEP};
use tower_passport_issuer::store::{
    DeviceCodeRecord, DeviceCodeStore, DeviceDecision, DevicePoll, SecretHash, StoreError,
};

/// A day, the lifetime of keys whose request already expired when written.
const DAY: u64 = 24 * 3600;

/// The record from the scripts' ten fields (user_code, client_id, scopes, issued_at,
/// expires_at, interval, last_polled_ms, decision, user_id, used_at).
fn record(device_hash: SecretHash, fields: Vec<Option<String>>) -> Result<DeviceCodeRecord, StoreError> {
    const WHAT: &str = "device code record";
    let mut fields = fields.into_iter();
    let mut next = || fields.next().flatten();
    let mut required = || next().ok_or_else(|| Malformed::error(WHAT));
    let number = |text: String| text.parse::<u64>().map_err(|_| Malformed::error(WHAT));
    let user_code = required()?;
    let client_id = required()?;
    let scopes = required().unwrap_or_default();
    let issued_at = number(required()?)?;
    let expires_at = number(required()?)?;
    let interval = number(required()?)?;
    let last_polled_at_ms = next().map(number).transpose()?;
    let decision = next().unwrap_or_default();
    let decision = DeviceDecision::from_parts(&decision, next()).ok_or_else(|| Malformed::error(WHAT))?;
    let used_at = next().map(number).transpose()?;
    Ok(DeviceCodeRecord {
        device_hash,
        user_code_hash: SecretHash::from_hex(&user_code).ok_or_else(|| Malformed::error(WHAT))?,
        client_id,
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        issued_at,
        expires_at,
        interval,
        last_polled_at_ms,
        decision,
        used_at,
    })
}

impl DeviceCodeStore for RedisStore {
    async fn put_device_code(&self, record: DeviceCodeRecord) -> Result<(), StoreError> {
        let (decision, user_id) = record.decision.to_parts();
        let args = [
            record.device_hash.to_hex(),
            record.user_code_hash.to_hex(),
            record.client_id,
            record.scopes.join(" "),
            record.issued_at.to_string(),
            record.expires_at.to_string(),
            record.interval.to_string(),
            DAY.to_string(),
            decision.to_owned(),
            codec::optional(user_id),
            codec::optional(record.last_polled_at_ms),
            codec::optional(record.used_at),
        ];
        let stored: i64 = self.eval(&self.scripts.put_device, &[], &args).await?;
        if stored == 1 {
            Ok(())
        } else {
            Err(StoreError::conflict("duplicate device or user code"))
        }
    }

    async fn pending_device_code(
        &self,
        user_code_hash: &SecretHash,
        now: u64,
    ) -> Result<Option<DeviceCodeRecord>, StoreError> {
        let reply: Vec<Option<String>> =
            self.eval(&self.scripts.device_by_user_code, &[], &[user_code_hash.to_hex()]).await?;
        let mut reply = reply.into_iter();
        let Some(device) = reply.next().flatten() else { return Ok(None) };
        let device = SecretHash::from_hex(&device).ok_or_else(|| Malformed::error("device code hash"))?;
        let found = record(device, reply.collect())?;
        Ok((found.decision == DeviceDecision::Pending && found.expires_at > now).then_some(found))
    }

    async fn decide_device_code(
        &self,
        user_code_hash: &SecretHash,
        decision: DeviceDecision,
        now: u64,
    ) -> Result<bool, StoreError> {
        if decision == DeviceDecision::Pending {
            return Ok(false);
        }
        let (name, user_id) = decision.to_parts();
        let args = [user_code_hash.to_hex(), name.to_owned(), codec::optional(user_id), now.to_string()];
        let decided: i64 = self.eval(&self.scripts.decide_device, &[], &args).await?;
        Ok(decided == 1)
    }

    async fn poll_device_code(
        &self,
        device_hash: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> Result<DevicePoll, StoreError> {
        let args = [
            device_hash.to_hex(),
            client_id.to_owned(),
            now_ms.to_string(),
            (now_ms / 1000).to_string(),
            POLL_GRACE_MS.to_string(),
            SLOW_DOWN_STEP.to_string(),
        ];
        let reply: Vec<Option<String>> = self.eval(&self.scripts.poll_device, &[], &args).await?;
        let mut reply = reply.into_iter();
        match reply.next().flatten().as_deref() {
            Some("invalid") => Ok(DevicePoll::Invalid),
            Some("used") => Ok(DevicePoll::Used),
            Some("expired") => Ok(DevicePoll::Expired),
            Some("slow_down") => Ok(DevicePoll::SlowDown),
            Some("pending") => Ok(DevicePoll::Pending),
            Some("denied") => Ok(DevicePoll::Denied),
            Some("approved") => Ok(DevicePoll::Approved(record(*device_hash, reply.collect())?)),
            _ => Err(Malformed::error("poll_device reply")),
        }
    }
}
