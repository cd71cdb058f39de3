//! [`DeviceCodeStore`] for [`MemoryStore`]: the requests behind their own mutex, keyed by
//! the device code's hash, with an index by the user code's hash.

use std::collections::HashMap;
use std::future::{ready, Future};

use super::{MemoryStore, Poisoned};
use crate::store::device::{self, DeviceCodeRecord, DeviceCodeStore, DeviceDecision, DevicePoll};
use crate::store::{SecretHash, StoreError};

/// How often (at most) expired requests are swept, in seconds.
const SWEEP_EVERY: u64 = 60;

#[derive(Debug, Default)]
pub(super) struct Devices {
    by_device: HashMap<[u8; 32], DeviceCodeRecord>,
    /// User code hash → device code hash.
    by_user_code: HashMap<[u8; 32], [u8; 32]>,
    next_sweep: u64,
}

impl Devices {
    fn sweep(&mut self, now: u64) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now.saturating_add(SWEEP_EVERY);
        self.by_device.retain(|_, record| record.expires_at > now);
        let live = &self.by_device;
        self.by_user_code.retain(|_, device| live.contains_key(device));
    }

    fn by_user_code(&mut self, user_code_hash: &SecretHash) -> Option<&mut DeviceCodeRecord> {
        let device = self.by_user_code.get(user_code_hash.as_bytes())?;
        self.by_device.get_mut(device)
    }
}

impl MemoryStore {
    fn with_devices<T: Send>(
        &self,
        f: impl FnOnce(&mut Devices) -> Result<T, StoreError>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        let locked = self.devices.lock().map_err(|_| StoreError::backend(Poisoned));
        ready(locked.and_then(|mut devices| f(&mut devices)))
    }
}

impl DeviceCodeStore for MemoryStore {
    fn put_device_code(
        &self,
        record: DeviceCodeRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.with_devices(move |devices| {
            devices.sweep(record.issued_at);
            let (device, user_code) = (*record.device_hash.as_bytes(), *record.user_code_hash.as_bytes());
            if devices.by_device.contains_key(&device) || devices.by_user_code.contains_key(&user_code) {
                return Err(StoreError::conflict("duplicate device or user code"));
            }
            devices.by_user_code.insert(user_code, device);
            devices.by_device.insert(device, record);
            Ok(())
        })
    }

    fn pending_device_code(
        &self,
        user_code_hash: &SecretHash,
        now: u64,
    ) -> impl Future<Output = Result<Option<DeviceCodeRecord>, StoreError>> + Send {
        self.with_devices(move |devices| {
            let found = devices.by_user_code(user_code_hash);
            Ok(found
                .filter(|record| record.decision == DeviceDecision::Pending && record.expires_at > now)
                .cloned())
        })
    }

    fn decide_device_code(
        &self,
        user_code_hash: &SecretHash,
        decision: DeviceDecision,
        now: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.with_devices(move |devices| {
            Ok(devices
                .by_user_code(user_code_hash)
                .is_some_and(|record| device::decide(record, decision, now)))
        })
    }

    fn poll_device_code(
        &self,
        device_hash: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> impl Future<Output = Result<DevicePoll, StoreError>> + Send {
        self.with_devices(move |devices| {
            Ok(match devices.by_device.get_mut(device_hash.as_bytes()) {
                Some(record) => device::poll(record, client_id, now_ms),
                None => DevicePoll::Invalid,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_requests_are_swept_with_their_user_codes() {
        let mut devices = Devices::default();
        let record = DeviceCodeRecord {
            device_hash: SecretHash::of(b"d"),
            user_code_hash: SecretHash::of(b"U"),
            client_id: "tv".into(),
            scopes: vec![],
            issued_at: 0,
            expires_at: 600,
            interval: 5,
            last_polled_at_ms: None,
            decision: DeviceDecision::Pending,
            used_at: None,
        };
        devices.by_user_code.insert(*record.user_code_hash.as_bytes(), *record.device_hash.as_bytes());
        devices.by_device.insert(*record.device_hash.as_bytes(), record);
        devices.sweep(599);
        assert_eq!((devices.by_device.len(), devices.by_user_code.len()), (1, 1));
        devices.next_sweep = 0;
        devices.sweep(600);
        assert!(devices.by_device.is_empty() && devices.by_user_code.is_empty());
    }
}
