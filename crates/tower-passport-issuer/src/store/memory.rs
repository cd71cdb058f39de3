//! The in-memory store: one mutex around plain maps, never held across an await.

mod clients;
mod codes;
mod device;

use std::collections::{BTreeSet, HashMap};
use std::future::{ready, Future};
use std::sync::{Mutex, MutexGuard};

use super::rotation::{plan, RotationPlan};
use super::{
    AccessTokenRecord, ClientRecord, ClientTokens, FamilyRecord, Purge, PurgeCounts, PurgeStore,
    RefreshTokenRecord, RevocationStore, RevokedAccess, RevokedTokens, Rotation, RotationOutcome,
    SettingsStore, StoreError, TokenStore,
};
use tower_passport::error::BackendError;

/// A [`Store`](super::Store) in process memory: no server, nothing survives a restart. The default for
/// tests and single-process demos; the `sqlite` feature is the durable embedded store.
///
/// ```
/// use tower_passport_issuer::store::{ClientStore, MemoryStore, RevocationStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = MemoryStore::new();
/// assert_eq!(store.client("nobody").await?, None);
/// assert!(!store.is_revoked("some-jti").await?);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Authorization codes ([`CodeStore`](super::CodeStore)), behind their own lock.
    codes: Mutex<codes::Codes>,
    /// Device authorization requests ([`DeviceCodeStore`](super::DeviceCodeStore)), behind
    /// their own lock.
    devices: Mutex<device::Devices>,
}

#[derive(Debug, Default)]
struct State {
    clients: HashMap<String, ClientRecord>,
    access: HashMap<String, AccessTokenRecord>,
    refresh: HashMap<String, RefreshTokenRecord>,
    families: HashMap<String, FamilyRecord>,
    /// The revocation list: `jti` → the token's expiry.
    revoked: HashMap<String, u64>,
    /// Each user's "not before" (Unix ms), by (provider, user id).
    not_before: HashMap<(String, String), u64>,
    settings: HashMap<String, String>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::backend(Poisoned))
    }

    fn with<T: Send>(
        &self,
        f: impl FnOnce(&mut State) -> Result<T, StoreError>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        ready(self.lock().and_then(|mut state| f(&mut state)))
    }
}

#[derive(Debug)]
struct Poisoned;

impl std::fmt::Display for Poisoned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the memory store's lock was poisoned by a panic")
    }
}

impl std::error::Error for Poisoned {}

impl State {
    fn revoke_access(&mut self, jti: &str, now: u64) -> Option<RevokedAccess> {
        let record = self.access.get_mut(jti)?;
        if record.revoked_at.is_some() {
            return None;
        }
        record.revoked_at = Some(now);
        self.revoked.insert(jti.to_owned(), record.expires_at);
        Some(RevokedAccess { jti: jti.to_owned(), expires_at: record.expires_at })
    }

    fn revoke_family(&mut self, family_id: &str, now: u64) -> Vec<RevokedAccess> {
        let Some(family) = self.families.get_mut(family_id) else { return Vec::new() };
        if family.revoked_at.is_some() {
            return Vec::new();
        }
        family.revoked_at = Some(now);
        for token in self.refresh.values_mut().filter(|t| t.family_id == family_id) {
            token.revoked_at.get_or_insert(now);
        }
        let live: Vec<String> = self
            .access
            .values()
            .filter(|a| {
                a.family_id.as_deref() == Some(family_id)
                    && a.revoked_at.is_none()
                    && a.expires_at > super::live_after(now)
            })
            .map(|a| a.jti.clone())
            .collect();
        live.iter().filter_map(|jti| self.revoke_access(jti, now)).collect()
    }

    fn insert_new(&mut self, next: RefreshTokenRecord, access: AccessTokenRecord) -> Result<(), StoreError> {
        if self.refresh.contains_key(&next.id) || self.access.contains_key(&access.jti) {
            return Err(StoreError::conflict("duplicate refresh-token id or jti"));
        }
        self.access.insert(access.jti.clone(), access);
        self.refresh.insert(next.id.clone(), next);
        Ok(())
    }

    /// Moves the family on to `current`, with `previous` before it.
    fn move_family(&mut self, family_id: &str, current: &str, previous: Option<&str>) {
        if let Some(family) = self.families.get_mut(family_id) {
            family.current = current.to_owned();
            family.previous = previous.map(str::to_owned);
        }
    }

    /// Reads, asks [`plan`], and carries the plan out; the caller holds the lock.
    fn rotate(&mut self, rotation: Rotation) -> Result<RotationOutcome, StoreError> {
        let now = rotation.now;
        let presented = self.refresh.get(&rotation.presented_id).cloned();
        let family = presented.as_ref().and_then(|token| self.families.get(&token.family_id)).cloned();
        let next_id = rotation.next.id.clone();
        match plan(presented.as_ref(), family.as_ref(), &rotation) {
            RotationPlan::Invalid => Ok(RotationOutcome::Invalid),
            RotationPlan::AlreadyRotated => Ok(RotationOutcome::AlreadyRotated),
            RotationPlan::Rotate { family_id, revoke_access, mark_used, previous } => {
                self.insert_new(rotation.next, rotation.next_access)?;
                let revoked =
                    revoke_access.and_then(|jti| self.revoke_access(jti, now)).into_iter().collect();
                if let Some(token) = mark_used.and_then(|id| self.refresh.get_mut(id)) {
                    token.used_at = Some(now);
                    token.used_at_millis = Some(rotation.now_millis);
                }
                self.move_family(family_id, &next_id, previous);
                Ok(RotationOutcome::Rotated { revoked })
            }
            RotationPlan::ReissueInGrace { family_id, superseded, revoke_access, previous } => {
                self.insert_new(rotation.next, rotation.next_access)?;
                let mut revoked = Vec::new();
                if let Some(current) = self.refresh.get_mut(superseded) {
                    if current.used_at.is_none() {
                        current.used_at = Some(now);
                        current.used_at_millis = Some(rotation.now_millis);
                    }
                    let access_jti = current.access_jti.clone();
                    if revoke_access {
                        revoked.extend(self.revoke_access(&access_jti, now));
                    }
                }
                self.move_family(family_id, &next_id, previous);
                Ok(RotationOutcome::GraceReissued { revoked })
            }
            RotationPlan::RevokeFamily { family_id } => {
                let revoked = self.revoke_family(family_id, now);
                Ok(RotationOutcome::ReuseDetected { family_id: family_id.to_owned(), revoked })
            }
        }
    }

    /// Whether `family_id` names a family that exists and is not revoked.
    fn family_is_live(&self, family_id: &str) -> bool {
        self.families.get(family_id).is_some_and(|family| family.revoked_at.is_none())
    }

    fn revoke_user_tokens(&mut self, user_id: &str, client_id: Option<&str>, now: u64) -> RevokedTokens {
        let of_user = |user: &Option<String>, client: &str| {
            user.as_deref() == Some(user_id) && client_id.is_none_or(|wanted| wanted == client)
        };
        let families: Vec<String> = self
            .families
            .values()
            .filter(|f| f.revoked_at.is_none() && of_user(&f.user_id, &f.client_id))
            .map(|f| f.id.clone())
            .collect();
        let mut revoked: Vec<RevokedAccess> =
            families.iter().flat_map(|family| self.revoke_family(family, now)).collect();
        let live: Vec<String> = self
            .access
            .values()
            .filter(|a| {
                a.revoked_at.is_none()
                    && a.expires_at > super::live_after(now)
                    && of_user(&a.user_id, &a.client_id)
            })
            .map(|a| a.jti.clone())
            .collect();
        revoked.extend(live.iter().filter_map(|jti| self.revoke_access(jti, now)));
        RevokedTokens::new(families, revoked)
    }

    fn purge(&mut self, purge: Purge) -> PurgeCounts {
        let before = purge.before;
        let old_revocation = |at: Option<u64>| purge.revoked && at.is_some_and(|at| at < before);
        let expired = |exp: u64| purge.expired && exp < before;
        let mut counts = PurgeCounts::default();

        let access_before = self.access.len();
        self.access.retain(|_, a| !(old_revocation(a.revoked_at) || expired(a.expires_at)));
        counts.access_tokens = (access_before - self.access.len()) as u64;

        let refresh_before = self.refresh.len();
        self.refresh.retain(|_, r| !(old_revocation(r.revoked_at) || expired(r.expires_at)));
        counts.refresh_tokens = (refresh_before - self.refresh.len()) as u64;

        let families_before = self.families.len();
        let refresh = &self.refresh;
        self.families.retain(|id, family| {
            let has_tokens = refresh.values().any(|r| &r.family_id == id);
            has_tokens && !old_revocation(family.revoked_at)
        });
        counts.families = (families_before - self.families.len()) as u64;
        // A revocation entry is needed only while its token could still be presented.
        if purge.expired {
            let revocations_before = self.revoked.len();
            self.revoked.retain(|_, expires_at| *expires_at >= before);
            counts.revocations = (revocations_before - self.revoked.len()) as u64;
        }
        counts
    }
}

impl TokenStore for MemoryStore {
    fn put_access_token(
        &self,
        record: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.with(move |state| {
            if state.access.contains_key(&record.jti) {
                return Err(StoreError::conflict("duplicate jti"));
            }
            if record.family_id.as_deref().is_some_and(|family| !state.family_is_live(family)) {
                return Err(StoreError::conflict("the token's family is revoked or unknown"));
            }
            state.access.insert(record.jti.clone(), record);
            Ok(())
        })
    }

    fn access_token(
        &self,
        jti: &str,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send {
        self.with(move |state| Ok(state.access.get(jti).cloned()))
    }

    fn personal_access_tokens(
        &self,
        user_id: &str,
    ) -> impl Future<Output = Result<Vec<AccessTokenRecord>, StoreError>> + Send {
        self.with(move |state| {
            let mut tokens: Vec<_> = state
                .access
                .values()
                .filter(|a| a.personal && a.user_id.as_deref() == Some(user_id))
                .cloned()
                .collect();
            tokens.sort_by(|a, b| b.issued_at.cmp(&a.issued_at).then_with(|| a.jti.cmp(&b.jti)));
            Ok(tokens)
        })
    }

    fn revoke_access_token(
        &self,
        jti: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<AccessTokenRecord>, StoreError>> + Send {
        self.with(move |state| {
            state.revoke_access(jti, now);
            Ok(state.access.get(jti).cloned())
        })
    }

    fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.with(move |state| {
            if state.families.contains_key(&family.id) {
                return Err(StoreError::conflict("duplicate family id"));
            }
            state.insert_new(first, access)?;
            state.families.insert(family.id.clone(), family);
            Ok(())
        })
    }

    fn refresh_token(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<RefreshTokenRecord>, StoreError>> + Send {
        self.with(move |state| Ok(state.refresh.get(id).cloned()))
    }

    fn family(&self, id: &str) -> impl Future<Output = Result<Option<FamilyRecord>, StoreError>> + Send {
        self.with(move |state| Ok(state.families.get(id).cloned()))
    }

    fn rotate(&self, rotation: Rotation) -> impl Future<Output = Result<RotationOutcome, StoreError>> + Send {
        self.with(move |state| state.rotate(rotation))
    }

    fn revoke_family(
        &self,
        family_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Vec<RevokedAccess>, StoreError>> + Send {
        self.with(move |state| Ok(state.revoke_family(family_id, now)))
    }

    fn user_tokens(
        &self,
        user_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Vec<ClientTokens>, StoreError>> + Send {
        self.with(move |state| {
            let of_user = |user: &Option<String>| user.as_deref() == Some(user_id);
            let access = state.access.values().filter(|a| of_user(&a.user_id)).cloned();
            let refresh = state.refresh.values().filter(|r| of_user(&r.user_id)).cloned();
            Ok(ClientTokens::group_live(access, refresh, now))
        })
    }

    fn user_client_tokens(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<ClientTokens>, StoreError>> + Send {
        self.with(move |state| {
            let of =
                |user: &Option<String>, client: &str| user.as_deref() == Some(user_id) && client == client_id;
            let access = state.access.values().filter(|a| of(&a.user_id, &a.client_id)).cloned();
            let refresh = state.refresh.values().filter(|r| of(&r.user_id, &r.client_id)).cloned();
            Ok(ClientTokens::group_live(access, refresh, now).pop())
        })
    }

    fn granted_scopes(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> impl Future<Output = Result<Option<Vec<String>>, StoreError>> + Send {
        self.with(move |state| {
            let of =
                |user: &Option<String>, client: &str| user.as_deref() == Some(user_id) && client == client_id;
            let access = state
                .access
                .values()
                .filter(|a| of(&a.user_id, &a.client_id) && a.revoked_at.is_none() && a.expires_at > now);
            let refresh = state.refresh.values().filter(|r| {
                of(&r.user_id, &r.client_id)
                    && r.used_at.is_none()
                    && r.revoked_at.is_none()
                    && r.expires_at > now
            });
            let mut live = false;
            let mut granted = BTreeSet::new();
            for access in access {
                live = true;
                if !access.personal {
                    granted.extend(&access.scopes);
                }
            }
            for refresh in refresh {
                live = true;
                granted.extend(&refresh.scopes);
            }
            Ok(live.then(|| granted.into_iter().cloned().collect()))
        })
    }

    fn revoke_user_tokens(
        &self,
        user_id: &str,
        client_id: Option<&str>,
        now: u64,
    ) -> impl Future<Output = Result<RevokedTokens, StoreError>> + Send {
        self.with(move |state| Ok(state.revoke_user_tokens(user_id, client_id, now)))
    }
}

/// The revocation port, kept in memory: a later "not before" wins.
///
/// ```
/// use tower_passport_issuer::store::{MemoryStore, RevocationStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport::BackendError> {
/// let store = MemoryStore::new();
/// store.set_user_not_before("users", "7", 2_000).await?;
/// store.set_user_not_before("users", "7", 1_000).await?;
/// assert_eq!(store.user_not_before("users", "7").await?, Some(2_000));
/// assert_eq!(store.user_not_before("customers", "7").await?, None);
/// assert!(!store.is_revoked("some-jti").await?);
/// # Ok(())
/// # }
/// ```
impl RevocationStore for MemoryStore {
    async fn is_revoked(&self, jti: &str) -> Result<bool, BackendError> {
        self.with(move |state| Ok(state.revoked.contains_key(jti))).await.map_err(BackendError::new)
    }

    async fn set_user_not_before(
        &self,
        provider: &str,
        user_id: &str,
        not_before_ms: u64,
    ) -> Result<(), BackendError> {
        self.with(move |state| {
            let stored = state.not_before.entry((provider.to_owned(), user_id.to_owned())).or_default();
            *stored = (*stored).max(not_before_ms);
            Ok(())
        })
        .await
        .map_err(BackendError::new)
    }

    async fn user_not_before(&self, provider: &str, user_id: &str) -> Result<Option<u64>, BackendError> {
        self.with(move |state| Ok(state.not_before.get(&(provider.to_owned(), user_id.to_owned())).copied()))
            .await
            .map_err(BackendError::new)
    }
}

impl PurgeStore for MemoryStore {
    fn purge(&self, purge: Purge) -> impl Future<Output = Result<PurgeCounts, StoreError>> + Send {
        self.with(move |state| Ok(state.purge(purge)))
    }
}

impl SettingsStore for MemoryStore {
    fn put_setting_if_absent(
        &self,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send {
        self.with(move |state| {
            Ok(state.settings.entry(name.to_owned()).or_insert_with(|| value.to_owned()).clone())
        })
    }

    fn setting(&self, name: &str) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        self.with(move |state| Ok(state.settings.get(name).cloned()))
    }
}
