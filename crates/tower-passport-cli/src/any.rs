//! A store chosen at run time from a URL, for binaries configured by environment.

use tower_passport::error::BackendError;
use tower_passport_issuer::store::{
    AccessTokenRecord, AuthorizationCodeRecord, ClientRecord, ClientStore, ClientTokens, ClientUpdate,
    CodeRedemption, CodeStore, DeviceCodeRecord, DeviceCodeStore, DeviceDecision, DevicePoll, FamilyRecord,
    IssuedFromCode, MemoryStore, Purge, PurgeCounts, PurgeStore, RefreshTokenRecord, RevocationStore,
    RevokedAccess, RevokedTokens, Rotation, RotationOutcome, SecretHash, SettingsStore, StoreError,
    TokenStore,
};

/// One of the built-in stores, chosen from a URL such as `PASSPORT_STORE`: `memory`,
/// `sqlite://file.db`, `postgres://…`, `mysql://…` (or `mariadb://…`) or `redis://…`.
///
/// Every one keeps authorization codes and device authorization requests too ([`CodeStore`],
/// [`DeviceCodeStore`]), so the authorization code and device grants work whichever it is.
///
/// ```
/// use tower_passport_cli::AnyStore;
/// use tower_passport_issuer::store::RevocationStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = AnyStore::open("memory").await?;
/// assert_eq!(store.kind(), "memory");
/// assert!(!store.is_revoked("jti").await?);
/// assert!(AnyStore::open("ftp://nope").await.is_err_and(|error| error.is_config()));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
// One store per process: boxing the in-memory variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum AnyStore {
    /// [`MemoryStore`].
    Memory(MemoryStore),
    /// [`SqliteStore`](tower_passport_sql::SqliteStore).
    Sqlite(tower_passport_sql::SqliteStore),
    /// [`PostgresStore`](tower_passport_sql::PostgresStore).
    Postgres(tower_passport_sql::PostgresStore),
    /// [`MySqlStore`](tower_passport_sql::MySqlStore), for MySQL and MariaDB.
    MySql(tower_passport_sql::MySqlStore),
    /// [`RedisStore`](tower_passport_redis::RedisStore).
    Redis(tower_passport_redis::RedisStore),
}

impl AnyStore {
    /// Opens the store `url` names and runs its migrations.
    ///
    /// # Errors
    /// A configuration error ([`StoreError::is_config`]) for an unknown scheme (or one whose
    /// feature is off); a backend error when the store cannot be opened or migrated.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if url == "memory" || url.starts_with("memory:") {
            return Ok(Self::Memory(MemoryStore::new()));
        }
        if url.starts_with("sqlite:") {
            let store = tower_passport_sql::SqliteStore::connect(url).await?;
            store.migrate().await?;
            return Ok(Self::Sqlite(store));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let store = tower_passport_sql::PostgresStore::connect(url).await?;
            // The pool would report an unreachable server as "pool timed out".
            store.check_connection().await?;
            store.migrate().await?;
            return Ok(Self::Postgres(store));
        }
        if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            let store = tower_passport_sql::MySqlStore::connect(url).await?;
            // The pool would report an unreachable server as "pool timed out".
            store.check_connection().await?;
            store.migrate().await?;
            return Ok(Self::MySql(store));
        }
        if url.starts_with("redis://") || url.starts_with("rediss://") {
            return Ok(Self::Redis(tower_passport_redis::RedisStore::connect(url).await?));
        }
        let scheme = url.split(':').next().unwrap_or_default();
        Err(StoreError::config(format!(
            "unsupported store {scheme:?}: use memory, sqlite://…, postgres://…, mysql://… or redis://…"
        )))
    }

    /// `memory`, `sqlite`, `postgres`, `mysql` or `redis`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Memory(_) => "memory",
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
            Self::MySql(_) => "mysql",
            Self::Redis(_) => "redis",
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Memory($store) => $call.await,
            AnyStore::Sqlite($store) => $call.await,
            AnyStore::Postgres($store) => $call.await,
            AnyStore::MySql($store) => $call.await,
            AnyStore::Redis($store) => $call.await,
        }
    };
}

impl ClientStore for AnyStore {
    async fn put_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        dispatch!(self, store => store.put_client(client))
    }
    async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        dispatch!(self, store => store.client(id))
    }
    async fn set_client_revoked(&self, id: &str, revoked: bool) -> Result<bool, StoreError> {
        dispatch!(self, store => store.set_client_revoked(id, revoked))
    }
    async fn update_client(
        &self,
        id: &str,
        update: ClientUpdate,
    ) -> Result<Option<ClientRecord>, StoreError> {
        dispatch!(self, store => store.update_client(id, update))
    }
    async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientRecord>, StoreError> {
        dispatch!(self, store => store.clients_owned_by(owner))
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        dispatch!(self, store => store.clients())
    }
}

impl TokenStore for AnyStore {
    async fn put_access_token(&self, record: AccessTokenRecord) -> Result<(), StoreError> {
        dispatch!(self, store => store.put_access_token(record))
    }
    async fn access_token(&self, jti: &str) -> Result<Option<AccessTokenRecord>, StoreError> {
        dispatch!(self, store => store.access_token(jti))
    }
    async fn personal_access_tokens(&self, user_id: &str) -> Result<Vec<AccessTokenRecord>, StoreError> {
        dispatch!(self, store => store.personal_access_tokens(user_id))
    }
    async fn revoke_access_token(
        &self,
        jti: &str,
        now: u64,
    ) -> Result<Option<AccessTokenRecord>, StoreError> {
        dispatch!(self, store => store.revoke_access_token(jti, now))
    }
    async fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> Result<(), StoreError> {
        dispatch!(self, store => store.start_family(family, first, access))
    }
    async fn refresh_token(&self, id: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
        dispatch!(self, store => store.refresh_token(id))
    }
    async fn family(&self, id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        dispatch!(self, store => store.family(id))
    }
    async fn rotate(&self, rotation: Rotation) -> Result<RotationOutcome, StoreError> {
        dispatch!(self, store => store.rotate(rotation))
    }
    async fn revoke_family(&self, family_id: &str, now: u64) -> Result<Vec<RevokedAccess>, StoreError> {
        dispatch!(self, store => store.revoke_family(family_id, now))
    }
    async fn user_tokens(&self, user_id: &str, now: u64) -> Result<Vec<ClientTokens>, StoreError> {
        dispatch!(self, store => store.user_tokens(user_id, now))
    }
    async fn user_client_tokens(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Option<ClientTokens>, StoreError> {
        dispatch!(self, store => store.user_client_tokens(user_id, client_id, now))
    }
    async fn granted_scopes(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Option<Vec<String>>, StoreError> {
        dispatch!(self, store => store.granted_scopes(user_id, client_id, now))
    }
    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        client_id: Option<&str>,
        now: u64,
    ) -> Result<RevokedTokens, StoreError> {
        dispatch!(self, store => store.revoke_user_tokens(user_id, client_id, now))
    }
}

impl RevocationStore for AnyStore {
    async fn is_revoked(&self, jti: &str) -> Result<bool, BackendError> {
        dispatch!(self, store => store.is_revoked(jti))
    }
    async fn set_user_not_before(
        &self,
        provider: &str,
        user_id: &str,
        not_before_ms: u64,
    ) -> Result<(), BackendError> {
        dispatch!(self, store => store.set_user_not_before(provider, user_id, not_before_ms))
    }
    async fn user_not_before(&self, provider: &str, user_id: &str) -> Result<Option<u64>, BackendError> {
        dispatch!(self, store => store.user_not_before(provider, user_id))
    }
}

impl PurgeStore for AnyStore {
    async fn purge(&self, purge: Purge) -> Result<PurgeCounts, StoreError> {
        dispatch!(self, store => store.purge(purge))
    }
}

impl CodeStore for AnyStore {
    async fn put_code(&self, code: AuthorizationCodeRecord) -> Result<(), StoreError> {
        dispatch!(self, store => store.put_code(code))
    }
    async fn take_code(&self, hash: &SecretHash, now: u64) -> Result<CodeRedemption, StoreError> {
        dispatch!(self, store => store.take_code(hash, now))
    }
    async fn record_code_issue(&self, hash: &SecretHash, issued: IssuedFromCode) -> Result<bool, StoreError> {
        dispatch!(self, store => store.record_code_issue(hash, issued))
    }
}

impl DeviceCodeStore for AnyStore {
    async fn put_device_code(&self, record: DeviceCodeRecord) -> Result<(), StoreError> {
        dispatch!(self, store => store.put_device_code(record))
    }
    async fn pending_device_code(
        &self,
        user_code_hash: &SecretHash,
        now: u64,
    ) -> Result<Option<DeviceCodeRecord>, StoreError> {
        dispatch!(self, store => store.pending_device_code(user_code_hash, now))
    }
    async fn decide_device_code(
        &self,
        user_code_hash: &SecretHash,
        decision: DeviceDecision,
        now: u64,
    ) -> Result<bool, StoreError> {
        dispatch!(self, store => store.decide_device_code(user_code_hash, decision, now))
    }
    async fn poll_device_code(
        &self,
        device_hash: &SecretHash,
        client_id: &str,
        now_ms: u64,
    ) -> Result<DevicePoll, StoreError> {
        dispatch!(self, store => store.poll_device_code(device_hash, client_id, now_ms))
    }
}

impl SettingsStore for AnyStore {
    async fn put_setting_if_absent(&self, name: &str, value: &str) -> Result<String, StoreError> {
        dispatch!(self, store => store.put_setting_if_absent(name, value))
    }

    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self, store => store.setting(name))
    }
}
