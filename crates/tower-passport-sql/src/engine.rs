//! The two halves of the SQL store that are not its operations: [`Engine`], what differs
//! between SQLite, PostgreSQL and MySQL (down to the lock its migrations run under), and
//! [`Sql`], the engine-generic store the public types wrap, whose operations are in
//! `store.rs`. [`sql_store!`] implements the store roles for the public types by handing
//! each call to [`Sql`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::{Database, Pool, Transaction};

use super::queries::{Queries, Syntax};
use tower_passport_issuer::store::StoreError;

/// What differs between the engines.
pub(crate) trait Engine: Database {
    /// Appended to the row reads that must lock (PostgreSQL and MySQL: ` FOR UPDATE`).
    const LOCK: &'static str;

    /// The engine's dialect (placeholders, upserts).
    const SYNTAX: Syntax;

    /// Whether a schema change rolls back with its transaction (SQLite, PostgreSQL); MySQL
    /// commits before and after every DDL statement.
    const TRANSACTIONAL_DDL: bool;

    /// Opens a write transaction (SQLite: `BEGIN IMMEDIATE`, which takes the database's
    /// write lock up front).
    fn begin_write(
        pool: &Pool<Self>,
    ) -> impl Future<Output = Result<Transaction<'static, Self>, sqlx::Error>> + Send;

    /// How many rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Creates or upgrades the schema with `migrate::apply`, under this engine's migration
    /// lock for `queries.prefix`, so that nodes started together apply each step once and
    /// the others wait, then find it applied (PostgreSQL: an advisory lock; SQLite:
    /// `BEGIN IMMEDIATE`; MySQL: `GET_LOCK`; see the docs of `migrate.rs`). A new engine
    /// brings its own lock.
    fn migrate(pool: &Pool<Self>, queries: &Queries) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// How long one store operation may take, waiting for a pooled connection included, before
/// it fails with a [`StoreError`] (503 at the guard and the endpoints), unless the store is
/// given another bound with `operation_timeout`.
pub(crate) const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// The pool, the queries for its table prefix and the operation timeout. Cheap to clone.
pub(crate) struct Sql<DB: Database> {
    pub(crate) pool: Pool<DB>,
    pub(crate) queries: Arc<Queries>,
    pub(crate) operation_timeout: Duration,
}

impl<DB: Database> Clone for Sql<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            queries: self.queries.clone(),
            operation_timeout: self.operation_timeout,
        }
    }
}

impl<DB: Engine> Sql<DB> {
    /// A store on `pool` whose tables start with `prefix` (already checked).
    pub(crate) fn new(pool: Pool<DB>, prefix: &str) -> Self {
        Self {
            pool,
            queries: Arc::new(Queries::new(prefix, DB::LOCK, DB::SYNTAX)),
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
        }
    }

    /// `operation`, failed with a [`StoreError`] if it takes longer than the operation
    /// timeout. A server that stops answering in the middle of a query (a hung server, a
    /// black-holed route) gives no error of its own: this bound is what ends the wait.
    /// Dropping the operation drops its connection's transaction, which rolls back; a write
    /// whose commit was already on its way may still have been applied, as with any error.
    pub(crate) async fn timed<T>(
        &self,
        operation: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.operation_timeout, operation).await {
            Ok(outcome) => outcome,
            Err(_) => Err(StoreError::backend(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("the database did not answer within {:?}", self.operation_timeout),
            ))),
        }
    }

    /// The table prefix.
    pub(crate) fn prefix(&self) -> &str {
        &self.queries.prefix
    }
}

/// Implements every store role, [`CodeStore`](tower_passport_issuer::store::CodeStore), [`FailureStore`](tower_passport_issuer::store::FailureStore) and `migrate`, for `$store`, a struct with a field
/// `sql: Sql<_>`, by handing each call to [`Sql`].
macro_rules! sql_store {
    ($store:ty) => {
        impl $store {
            /// Creates or upgrades the schema. Run it explicitly at start-up; it is safe to run
            /// again, and nodes that start together on one database may all run it: they take
            /// the engine's migration lock in turn (PostgreSQL: an advisory lock per schema and
            /// table prefix; SQLite: `BEGIN IMMEDIATE`; MySQL: `GET_LOCK` per database and
            /// table prefix), one applies each step and the others find it applied. A step
            /// that a previous run left unfinished is reported, never silently re-run.
            ///
            /// # Errors
            /// When the database is unreachable or a step fails or was left half-applied.
            pub async fn migrate(&self) -> Result<(), StoreError> {
                self.sql.migrate().await
            }

            /// Bounds every operation of the store (5 s unless set), the wait for a pooled
            /// connection included: past it the operation fails with a [`StoreError`], which
            /// the guard and the endpoints answer with 503. It ends the wait on a server that
            /// stops answering without closing the connection, which gives no error of its
            /// own. `migrate` and `purge` are not bounded: they may rightly take long.
            ///
            /// A write that timed out may still have been applied, as with any error.
            #[must_use]
            pub fn operation_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.sql.operation_timeout = timeout;
                self
            }
        }

        impl ClientStore for $store {
            async fn put_client(&self, client: ClientRecord) -> Result<(), StoreError> {
                self.sql.timed(self.sql.put_client(client)).await
            }
            async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
                self.sql.timed(self.sql.client(id)).await
            }
            async fn set_client_revoked(&self, id: &str, revoked: bool) -> Result<bool, StoreError> {
                self.sql.timed(self.sql.set_client_revoked(id, revoked)).await
            }
            async fn update_client(
                &self,
                id: &str,
                update: ClientUpdate,
            ) -> Result<Option<ClientRecord>, StoreError> {
                self.sql.timed(self.sql.update_client(id, update)).await
            }
            async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientRecord>, StoreError> {
                self.sql.timed(self.sql.clients_owned_by(owner)).await
            }
            async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
                self.sql.timed(self.sql.clients()).await
            }
        }

        impl TokenStore for $store {
            async fn put_access_token(&self, record: AccessTokenRecord) -> Result<(), StoreError> {
                self.sql.timed(self.sql.put_access_token(record)).await
            }
            async fn access_token(&self, jti: &str) -> Result<Option<AccessTokenRecord>, StoreError> {
                self.sql.timed(self.sql.access_token(jti)).await
            }
            async fn personal_access_tokens(&self, user: &str) -> Result<Vec<AccessTokenRecord>, StoreError> {
                self.sql.timed(self.sql.personal_access_tokens(user)).await
            }
            async fn revoke_access_token(
                &self,
                jti: &str,
                now: u64,
            ) -> Result<Option<AccessTokenRecord>, StoreError> {
                self.sql.timed(self.sql.revoke_access_token(jti, now)).await
            }
            async fn start_family(
                &self,
                family: FamilyRecord,
                first: RefreshTokenRecord,
                access: AccessTokenRecord,
            ) -> Result<(), StoreError> {
                self.sql.timed(self.sql.start_family(family, first, access)).await
            }
            async fn refresh_token(&self, id: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
                self.sql.timed(self.sql.refresh_token(id)).await
            }
            async fn family(&self, id: &str) -> Result<Option<FamilyRecord>, StoreError> {
                self.sql.timed(self.sql.family(id)).await
            }
            async fn rotate(&self, rotation: Rotation) -> Result<RotationOutcome, StoreError> {
                self.sql.timed(self.sql.rotate(rotation)).await
            }
            async fn revoke_family(
                &self,
                family_id: &str,
                now: u64,
            ) -> Result<Vec<RevokedAccess>, StoreError> {
                self.sql.timed(self.sql.revoke_family(family_id, now)).await
            }
            async fn user_tokens(&self, user_id: &str, now: u64) -> Result<Vec<ClientTokens>, StoreError> {
                self.sql.timed(self.sql.user_tokens(user_id, now)).await
            }
            async fn user_client_tokens(
                &self,
                user_id: &str,
                client_id: &str,
                now: u64,
            ) -> Result<Option<ClientTokens>, StoreError> {
                self.sql.timed(self.sql.user_client_tokens(user_id, client_id, now)).await
            }
            async fn granted_scopes(
                &self,
                user_id: &str,
                client_id: &str,
                now: u64,
            ) -> Result<Option<Vec<String>>, StoreError> {
                self.sql.timed(self.sql.granted_scopes(user_id, client_id, now)).await
            }
            async fn revoke_user_tokens(
                &self,
                user_id: &str,
                client_id: Option<&str>,
                now: u64,
            ) -> Result<RevokedTokens, StoreError> {
                self.sql.timed(self.sql.revoke_user_tokens(user_id, client_id, now)).await
            }
        }

        impl RevocationStore for $store {
            async fn is_revoked(&self, jti: &str) -> Result<bool, ::tower_passport::error::BackendError> {
                self.sql
                    .timed(self.sql.is_revoked(jti))
                    .await
                    .map_err(::tower_passport::error::BackendError::new)
            }
            async fn set_user_not_before(
                &self,
                provider: &str,
                user_id: &str,
                not_before_ms: u64,
            ) -> Result<(), ::tower_passport::error::BackendError> {
                self.sql
                    .timed(self.sql.set_user_not_before(provider, user_id, not_before_ms))
                    .await
                    .map_err(::tower_passport::error::BackendError::new)
            }
            async fn user_not_before(
                &self,
                provider: &str,
                user_id: &str,
            ) -> Result<Option<u64>, ::tower_passport::error::BackendError> {
                self.sql
                    .timed(self.sql.user_not_before(provider, user_id))
                    .await
                    .map_err(::tower_passport::error::BackendError::new)
            }
        }

        impl PurgeStore for $store {
            async fn purge(&self, purge: Purge) -> Result<PurgeCounts, StoreError> {
                self.sql.purge(purge).await
            }
        }

        impl CodeStore for $store {
            async fn put_code(&self, code: AuthorizationCodeRecord) -> Result<(), StoreError> {
                self.sql.timed(self.sql.put_code(code)).await
            }
            async fn take_code(&self, hash: &SecretHash, now: u64) -> Result<CodeRedemption, StoreError> {
                self.sql.timed(self.sql.take_code(hash, now)).await
            }
            async fn record_code_issue(
                &self,
                hash: &SecretHash,
                issued: IssuedFromCode,
            ) -> Result<bool, StoreError> {
                self.sql.timed(self.sql.record_code_issue(hash, issued)).await
            }
        }

        impl ::tower_passport_issuer::store::DeviceCodeStore for $store {
            async fn put_device_code(
                &self,
                record: ::tower_passport_issuer::store::DeviceCodeRecord,
            ) -> Result<(), StoreError> {
                self.sql.timed(self.sql.put_device_code(record)).await
            }
            async fn pending_device_code(
                &self,
                user_code_hash: &SecretHash,
                now: u64,
            ) -> Result<Option<::tower_passport_issuer::store::DeviceCodeRecord>, StoreError> {
                self.sql.timed(self.sql.pending_device_code(user_code_hash, now)).await
            }
            async fn decide_device_code(
                &self,
                user_code_hash: &SecretHash,
                decision: ::tower_passport_issuer::store::DeviceDecision,
                now: u64,
            ) -> Result<bool, StoreError> {
                self.sql.timed(self.sql.decide_device_code(user_code_hash, decision, now)).await
            }
            async fn poll_device_code(
                &self,
                device_hash: &SecretHash,
                client_id: &str,
                now_ms: u64,
            ) -> Result<::tower_passport_issuer::store::DevicePoll, StoreError> {
                self.sql.timed(self.sql.poll_device_code(device_hash, client_id, now_ms)).await
            }
        }

        impl FailureStore for $store {
            async fn failures(&self, keys: &[&str]) -> Result<Vec<Option<Failures>>, StoreError> {
                self.sql.timed(self.sql.failures(keys)).await
            }
            async fn record_failure(
                &self,
                key: &str,
                now: u64,
                forget_every: u64,
            ) -> Result<Failures, StoreError> {
                self.sql.timed(self.sql.record_failure(key, now, forget_every)).await
            }
            async fn clear_failures(&self, key: &str) -> Result<(), StoreError> {
                self.sql.timed(self.sql.clear_failures(key)).await
            }
        }

        impl SettingsStore for $store {
            async fn put_setting_if_absent(&self, name: &str, value: &str) -> Result<String, StoreError> {
                self.sql.timed(self.sql.put_setting_if_absent(name, value)).await
            }
            async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
                self.sql.timed(self.sql.setting(name)).await
            }
        }
    };
}

pub(crate) use sql_store;
