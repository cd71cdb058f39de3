//! The store behind one type: a private object-safe mirror of the seven roles, with boxed
//! futures, implemented for every [`Store`], and [`ErasedStore`], the cheap-to-clone handle
//! the issuer holds, so that no issuer type carries a store parameter. Store calls do I/O,
//! so one box per call costs nothing measurable; the guard's hot path never calls them.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{
    AccessTokenRecord, AuthorizationCodeRecord, ClientRecord, ClientStore, ClientTokens, ClientUpdate,
    CodeRedemption, CodeStore, DeviceCodeRecord, DeviceCodeStore, DeviceDecision, DevicePoll, FamilyRecord,
    IssuedFromCode, Purge, PurgeCounts, PurgeStore, RefreshTokenRecord, RevocationStore, RevokedAccess,
    RevokedTokens, Rotation, RotationOutcome, SecretHash, SettingsStore, Store, StoreError, TokenStore,
};
use tower_passport::error::BackendError;

/// A boxed store call.
type Call<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Every role's calls, object-safe: what [`ErasedStore`] dispatches to.
trait DynStore: Send + Sync + 'static {
    fn put_client(&self, client: ClientRecord) -> Call<'_, ()>;
    fn client<'a>(&'a self, id: &'a str) -> Call<'a, Option<ClientRecord>>;
    fn set_client_revoked<'a>(&'a self, id: &'a str, revoked: bool) -> Call<'a, bool>;
    fn update_client<'a>(&'a self, id: &'a str, update: ClientUpdate) -> Call<'a, Option<ClientRecord>>;
    fn clients_owned_by<'a>(&'a self, owner: &'a str) -> Call<'a, Vec<ClientRecord>>;
    fn clients(&self) -> Call<'_, Vec<ClientRecord>>;
    fn put_access_token(&self, record: AccessTokenRecord) -> Call<'_, ()>;
    fn access_token<'a>(&'a self, jti: &'a str) -> Call<'a, Option<AccessTokenRecord>>;
    fn personal_access_tokens<'a>(&'a self, user_id: &'a str) -> Call<'a, Vec<AccessTokenRecord>>;
    fn revoke_access_token<'a>(&'a self, jti: &'a str, now: u64) -> Call<'a, Option<AccessTokenRecord>>;
    fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> Call<'_, ()>;
    fn refresh_token<'a>(&'a self, id: &'a str) -> Call<'a, Option<RefreshTokenRecord>>;
    fn family<'a>(&'a self, id: &'a str) -> Call<'a, Option<FamilyRecord>>;
    fn rotate(&self, rotation: Rotation) -> Call<'_, RotationOutcome>;
    fn revoke_family<'a>(&'a self, family_id: &'a str, now: u64) -> Call<'a, Vec<RevokedAccess>>;
    fn user_tokens<'a>(&'a self, user_id: &'a str, now: u64) -> Call<'a, Vec<ClientTokens>>;
    fn user_client_tokens<'a>(
        &'a self,
        user_id: &'a str,
        client_id: &'a str,
        now: u64,
    ) -> Call<'a, Option<ClientTokens>>;
    fn granted_scopes<'a>(
        &'a self,
        user_id: &'a str,
        client_id: &'a str,
        now: u64,
    ) -> Call<'a, Option<Vec<String>>>;
    fn revoke_user_tokens<'a>(
        &'a self,
        user_id: &'a str,
        client_id: Option<&'a str>,
        now: u64,
    ) -> Call<'a, RevokedTokens>;
    fn is_revoked<'a>(&'a self, jti: &'a str) -> Call<'a, bool>;
    fn set_user_not_before<'a>(
        &'a self,
        provider: &'a str,
        user_id: &'a str,
        not_before_ms: u64,
    ) -> Call<'a, ()>;
    fn user_not_before<'a>(&'a self, provider: &'a str, user_id: &'a str) -> Call<'a, Option<u64>>;
    fn purge(&self, purge: Purge) -> Call<'_, PurgeCounts>;
    fn put_setting_if_absent<'a>(&'a self, name: &'a str, value: &'a str) -> Call<'a, String>;
    fn setting<'a>(&'a self, name: &'a str) -> Call<'a, Option<String>>;
    fn put_code(&self, code: AuthorizationCodeRecord) -> Call<'_, ()>;
    fn take_code<'a>(&'a self, hash: &'a SecretHash, now: u64) -> Call<'a, CodeRedemption>;
    fn record_code_issue<'a>(&'a self, hash: &'a SecretHash, issued: IssuedFromCode) -> Call<'a, bool>;
    fn put_device_code(&self, record: DeviceCodeRecord) -> Call<'_, ()>;
    fn pending_device_code<'a>(
        &'a self,
        user_code: &'a SecretHash,
        now: u64,
    ) -> Call<'a, Option<DeviceCodeRecord>>;
    fn decide_device_code<'a>(
        &'a self,
        user_code: &'a SecretHash,
        decision: DeviceDecision,
        now: u64,
    ) -> Call<'a, bool>;
    fn poll_device_code<'a>(
        &'a self,
        device: &'a SecretHash,
        client_id: &'a str,
        now_ms: u64,
    ) -> Call<'a, DevicePoll>;
}

impl<S: Store> DynStore for S {
    fn put_client(&self, client: ClientRecord) -> Call<'_, ()> {
        Box::pin(ClientStore::put_client(self, client))
    }
    fn client<'a>(&'a self, id: &'a str) -> Call<'a, Option<ClientRecord>> {
        Box::pin(ClientStore::client(self, id))
    }
    fn set_client_revoked<'a>(&'a self, id: &'a str, revoked: bool) -> Call<'a, bool> {
        Box::pin(ClientStore::set_client_revoked(self, id, revoked))
    }
    fn update_client<'a>(&'a self, id: &'a str, update: ClientUpdate) -> Call<'a, Option<ClientRecord>> {
        Box::pin(ClientStore::update_client(self, id, update))
    }
    fn clients_owned_by<'a>(&'a self, owner: &'a str) -> Call<'a, Vec<ClientRecord>> {
        Box::pin(ClientStore::clients_owned_by(self, owner))
    }
    fn clients(&self) -> Call<'_, Vec<ClientRecord>> {
        Box::pin(ClientStore::clients(self))
    }
    fn put_access_token(&self, record: AccessTokenRecord) -> Call<'_, ()> {
        Box::pin(TokenStore::put_access_token(self, record))
    }
    fn access_token<'a>(&'a self, jti: &'a str) -> Call<'a, Option<AccessTokenRecord>> {
        Box::pin(TokenStore::access_token(self, jti))
    }
    fn personal_access_tokens<'a>(&'a self, user_id: &'a str) -> Call<'a, Vec<AccessTokenRecord>> {
        Box::pin(TokenStore::personal_access_tokens(self, user_id))
    }
    fn revoke_access_token<'a>(&'a self, jti: &'a str, now: u64) -> Call<'a, Option<AccessTokenRecord>> {
        Box::pin(TokenStore::revoke_access_token(self, jti, now))
    }
    fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> Call<'_, ()> {
        Box::pin(TokenStore::start_family(self, family, first, access))
    }
    fn refresh_token<'a>(&'a self, id: &'a str) -> Call<'a, Option<RefreshTokenRecord>> {
        Box::pin(TokenStore::refresh_token(self, id))
    }
    fn family<'a>(&'a self, id: &'a str) -> Call<'a, Option<FamilyRecord>> {
        Box::pin(TokenStore::family(self, id))
    }
    fn rotate(&self, rotation: Rotation) -> Call<'_, RotationOutcome> {
        Box::pin(TokenStore::rotate(self, rotation))
    }
    fn revoke_family<'a>(&'a self, family_id: &'a str, now: u64) -> Call<'a, Vec<RevokedAccess>> {
        Box::pin(TokenStore::revoke_family(self, family_id, now))
    }
    fn user_tokens<'a>(&'a self, user_id: &'a str, now: u64) -> Call<'a, Vec<ClientTokens>> {
        Box::pin(TokenStore::user_tokens(self, user_id, now))
    }
    fn user_client_tokens<'a>(
        &'a self,
        user_id: &'a str,
        client_id: &'a str,
        now: u64,
    ) -> Call<'a, Option<ClientTokens>> {
        Box::pin(TokenStore::user_client_tokens(self, user_id, client_id, now))
    }
    fn granted_scopes<'a>(
        &'a self,
        user_id: &'a str,
        client_id: &'a str,
        now: u64,
    ) -> Call<'a, Option<Vec<String>>> {
        Box::pin(TokenStore::granted_scopes(self, user_id, client_id, now))
    }
    fn revoke_user_tokens<'a>(
        &'a self,
        user_id: &'a str,
        client_id: Option<&'a str>,
        now: u64,
    ) -> Call<'a, RevokedTokens> {
        Box::pin(TokenStore::revoke_user_tokens(self, user_id, client_id, now))
    }
    fn is_revoked<'a>(&'a self, jti: &'a str) -> Call<'a, bool> {
        Box::pin(async move { RevocationStore::is_revoked(self, jti).await.map_err(StoreError::from) })
    }
    fn set_user_not_before<'a>(
        &'a self,
        provider: &'a str,
        user_id: &'a str,
        not_before_ms: u64,
    ) -> Call<'a, ()> {
        Box::pin(async move {
            RevocationStore::set_user_not_before(self, provider, user_id, not_before_ms)
                .await
                .map_err(StoreError::from)
        })
    }
    fn user_not_before<'a>(&'a self, provider: &'a str, user_id: &'a str) -> Call<'a, Option<u64>> {
        Box::pin(async move {
            RevocationStore::user_not_before(self, provider, user_id).await.map_err(StoreError::from)
        })
    }
    fn purge(&self, purge: Purge) -> Call<'_, PurgeCounts> {
        Box::pin(PurgeStore::purge(self, purge))
    }
    fn put_setting_if_absent<'a>(&'a self, name: &'a str, value: &'a str) -> Call<'a, String> {
        Box::pin(SettingsStore::put_setting_if_absent(self, name, value))
    }
    fn setting<'a>(&'a self, name: &'a str) -> Call<'a, Option<String>> {
        Box::pin(SettingsStore::setting(self, name))
    }
    fn put_code(&self, code: AuthorizationCodeRecord) -> Call<'_, ()> {
        Box::pin(CodeStore::put_code(self, code))
    }
    fn take_code<'a>(&'a self, hash: &'a SecretHash, now: u64) -> Call<'a, CodeRedemption> {
        Box::pin(CodeStore::take_code(self, hash, now))
    }
    fn record_code_issue<'a>(&'a self, hash: &'a SecretHash, issued: IssuedFromCode) -> Call<'a, bool> {
        Box::pin(CodeStore::record_code_issue(self, hash, issued))
    }
    fn put_device_code(&self, record: DeviceCodeRecord) -> Call<'_, ()> {
        Box::pin(DeviceCodeStore::put_device_code(self, record))
    }
    fn pending_device_code<'a>(
        &'a self,
        user_code: &'a SecretHash,
        now: u64,
    ) -> Call<'a, Option<DeviceCodeRecord>> {
        Box::pin(DeviceCodeStore::pending_device_code(self, user_code, now))
    }
    fn decide_device_code<'a>(
        &'a self,
        user_code: &'a SecretHash,
        decision: DeviceDecision,
        now: u64,
    ) -> Call<'a, bool> {
        Box::pin(DeviceCodeStore::decide_device_code(self, user_code, decision, now))
    }
    fn poll_device_code<'a>(
        &'a self,
        device: &'a SecretHash,
        client_id: &'a str,
        now_ms: u64,
    ) -> Call<'a, DevicePoll> {
        Box::pin(DeviceCodeStore::poll_device_code(self, device, client_id, now_ms))
    }
}

/// Any [`Store`] behind one type: what the issuer holds, so that [`Issuer`](crate::Issuer) and
/// everything built from it carry no store type parameter.
///
/// Implements every role itself; cheap to clone (one `Arc`).
///
/// ```
/// use std::sync::Arc;
/// use tower_passport_issuer::store::{ClientStore, ErasedStore, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = ErasedStore::new(Arc::new(MemoryStore::new()));
/// assert_eq!(store.client("nobody").await?, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ErasedStore {
    inner: Arc<dyn DynStore>,
}

impl ErasedStore {
    /// Erases `store`'s type.
    pub fn new<S: Store>(store: Arc<S>) -> Self {
        Self { inner: store }
    }
}

impl fmt::Debug for ErasedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErasedStore").finish_non_exhaustive()
    }
}

impl ClientStore for ErasedStore {
    async fn put_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        self.inner.put_client(client).await
    }
    async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        self.inner.client(id).await
    }
    async fn set_client_revoked(&self, id: &str, revoked: bool) -> Result<bool, StoreError> {
        self.inner.set_client_revoked(id, revoked).await
    }
    async fn update_client(
        &self,
        id: &str,
        update: ClientUpdate,
    ) -> Result<Option<ClientRecord>, StoreError> {
        self.inner.update_client(id, update).await
    }
    async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientRecord>, StoreError> {
        self.inner.clients_owned_by(owner).await
    }
    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.inner.clients().await
    }
}

impl TokenStore for ErasedStore {
    async fn put_access_token(&self, record: AccessTokenRecord) -> Result<(), StoreError> {
        self.inner.put_access_token(record).await
    }
    async fn access_token(&self, jti: &str) -> Result<Option<AccessTokenRecord>, StoreError> {
        self.inner.access_token(jti).await
    }
    async fn personal_access_tokens(&self, user_id: &str) -> Result<Vec<AccessTokenRecord>, StoreError> {
        self.inner.personal_access_tokens(user_id).await
    }
    async fn revoke_access_token(
        &self,
        jti: &str,
        now: u64,
    ) -> Result<Option<AccessTokenRecord>, StoreError> {
        self.inner.revoke_access_token(jti, now).await
    }
    async fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> Result<(), StoreError> {
        self.inner.start_family(family, first, access).await
    }
    async fn refresh_token(&self, id: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.inner.refresh_token(id).await
    }
    async fn family(&self, id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        self.inner.family(id).await
    }
    async fn rotate(&self, rotation: Rotation) -> Result<RotationOutcome, StoreError> {
        self.inner.rotate(rotation).await
    }
    async fn revoke_family(&self, family_id: &str, now: u64) -> Result<Vec<RevokedAccess>, StoreError> {
        self.inner.revoke_family(family_id, now).await
    }
    async fn user_tokens(&self, user_id: &str, now: u64) -> Result<Vec<ClientTokens>, StoreError> {
        self.inner.user_tokens(user_id, now).await
    }
    async fn user_client_tokens(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Option<ClientTokens>, StoreError> {
        self.inner.user_client_tokens(user_id, client_id, now).await
    }
    async fn granted_scopes(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Option<Vec<String>>, StoreError> {
        self.inner.granted_scopes(user_id, client_id, now).await
    }
    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        client_id: Option<&str>,
        now: u64,
    ) -> Result<RevokedTokens, StoreError> {
        self.inner.revoke_user_tokens(user_id, client_id, now).await
    }
}

impl RevocationStore for ErasedStore {
    async fn is_revoked(&self, jti: &str) -> Result<bool, BackendError> {
        self.inner.is_revoked(jti).await.map_err(BackendError::new)
    }
    async fn set_user_not_before(
        &self,
        provider: &str,
        user_id: &str,
        not_before_ms: u64,
    ) -> Result<(), BackendError> {
        self.inner.set_user_not_before(provider, user_id, not_before_ms).await.map_err(BackendError::new)
    }
    async fn user_not_before(&self, provider: &str, user_id: &str) -> Result<Option<u64>, BackendError> {
        self.inner.user_not_before(provider, user_id).await.map_err(BackendError::new)
    }
}

impl PurgeStore for ErasedStore {
    async fn purge(&self, purge: Purge) -> Result<PurgeCounts, StoreError> {
        self.inner.purge(purge).await
    }
}

impl SettingsStore for ErasedStore {
    async fn put_setting_if_absent(&self, name: &str, value: &str) -> Result<String, StoreError> {
        self.inner.put_setting_if_absent(name, value).await
    }
    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.inner.setting(name).await
    }
}

impl CodeStore for ErasedStore {
    async fn put_code(&self, code: AuthorizationCodeRecord) -> Result<(), StoreError> {
        self.inner.put_code(code).await
    }
    async fn take_code(&self, hash: &SecretHash, now: u64) -> Result<CodeRedemption, StoreError> {
        self.inner.take_code(hash, now).await
    }
    async fn record_code_issue(&self, hash: &SecretHash, issued: IssuedFromCode) -> Result<bool, StoreError> {
        self.inner.record_code_issue(hash, issued).await
    }
}

impl DeviceCodeStore for ErasedStore {
    async fn put_device_code(&self, record: DeviceCodeRecord) -> Result<(), StoreError> {
        self.inner.put_device_code(record).await
    }
    async fn pending_device_code(
        &self,
        user_code_hash: &SecretHash,
        now: u64,
    ) -> Result<Option<DeviceCodeRecord>, StoreError> {
        self.inner.pending_device_code(user_code_hash, now).await
    }
    async fn decide_device_code(
        &self,
        user_code_hash: &SecretHash,
        decision: DeviceDecision,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.inner.decide_device_code(user_code_hash, decision, now).await
    }
    async fn poll_device_code(
        &self,
        device_hash: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> Result<DevicePoll, StoreError> {
        self.inner.poll_device_code(device_hash, client_id, now_ms).await
    }
}
