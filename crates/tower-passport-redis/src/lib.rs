//! A [`Store`](tower_passport_issuer::store::Store) on a Redis server (the `redis` feature).
//!
//! Every operation that must be atomic is one Lua script (EVALSHA), so Redis runs it without
//! interleaving: [`TokenStore::rotate`] among them, which makes exactly one of N concurrent
//! refreshes of a token win, and [`CodeStore::take_code`](tower_passport_issuer::store::CodeStore::take_code),
//! which makes exactly one of N concurrent exchanges of an authorization code find it
//! unused. The scripts make the same decisions as [`MemoryStore`]
//! (`rotate.lua` mirrors the rotation rule, `store::rotation::plan`, branch by branch), and
//! the conformance suite checks both.
//!
//! # Keys
//! Everything lives under one prefix (default [`DEFAULT_PREFIX`]) as `<prefix><kind>:<id>`:
//!
//! | key | type | expires |
//! |---|---|---|
//! | `client:<id>` | hash: `record`, `revoked`, `owner` | never |
//! | `owner-clients:<owner>` | set of the ids of the clients `owner` owns | never |
//! | `access:<jti>` | hash: `record`, `expires_at`, `revoked_at`, `family_id`, `pat_user`, `client_id`, `user_id` | at the token's expiry |
//! | `revoked:<jti>` | string: the token's expiry | at the token's expiry |
//! | `refresh:<id>` | hash: `record` (JSON, with the DPoP `dpop_jkt` a token is bound to), `secret_hash`, `family_id`, `access_jti`, `expires_at`, `used_at`, `used_at_ms` (milliseconds, for the refresh windows), `revoked_at` | at the token's expiry |
//! | `family:<id>` | hash: `record`, `current`, `previous`, `revoked_at`, `client_id`, `user_id` | when its last token expires |
//! | `family-refresh:<id>`, `family-access:<id>` | sets of the family's token ids | when their last member expires |
//! | `pats:<user>` | set of the user's personal access tokens | when its last member expires |
//! | `user-access:<user>`, `user-families:<user>` | sorted sets of the user's access tokens and families, scored by expiry (expired members are dropped on every write) | when their last member expires |
//! | `code:<hash>` | hash: `record`, `expires_at`, `used_at`, `reused_at`, `access_jti`, `family_id` (an authorization code, by the hex SHA-256 of the code) | a day after the code's expiry |
//! | `device:<hash>` | hash: `user_code`, `client_id`, `scopes`, `issued_at`, `expires_at`, `interval`, `last_polled_ms`, `decision`, `user_id`, `used_at` (an RFC 8628 device authorization request, by the hex SHA-256 of the device code) | at the request's expiry |
//! | `device-user:<hash>` | string: the device code's hash (by the hex SHA-256 of the normalised user code) | at the request's expiry |
//! | `setting:<name>` | string | never |
//! | `failures:<hash>` | hash: `count`, `last` (failed authentication attempts under one throttle key) | when every failure is forgotten |
//!
//! `record` is the record's immutable part as JSON. Expiries are absolute (EXPIREAT, on the
//! server's clock); a record whose expiry has already passed when it is written, or lies
//! beyond the year 9999, gets no TTL and stays until [`PurgeStore::purge`], which removes what
//! [`MemoryStore`]'s purge would. Timestamps inside records are the caller's clock, as
//! everywhere else in the store.
//!
//! The server must be Redis 5 or later (or a compatible server), standalone or a primary:
//! the scripts derive key names from ids, which Redis Cluster does not allow.
//!
//! [`MemoryStore`]: tower_passport_issuer::store::MemoryStore

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, clippy::too_long_first_doc_paragraph)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod bus;
mod codec;
mod codes;
mod devices;
mod error;
mod failures;
mod keys;
mod purge;
mod scripts;

pub use builder::{RedisStoreBuilder, DEFAULT_PREFIX};
pub use bus::RedisRevocationBus;

use std::fmt;
use std::sync::Arc;

use redis::aio::ConnectionManager;
use redis::{FromRedisValue, Script};

use self::codec::flag;
use self::error::Malformed;
use self::keys::{Keys, ACCESS, CLIENT, FAMILY, NOT_BEFORE, REFRESH, REVOKED};
use self::scripts::Scripts;
use tower_passport::error::BackendError;
use tower_passport_issuer::store::{
    AccessTokenRecord, ClientRecord, ClientStore, ClientTokens, ClientUpdate, FamilyRecord, Purge,
    PurgeCounts, PurgeStore, RefreshTokenRecord, RevocationStore, RevokedAccess, RevokedTokens, Rotation,
    RotationOutcome, SettingsStore, StoreError, TokenStore,
};

/// A [`Store`](tower_passport_issuer::store::Store) on a Redis server, shared by every node of
/// the issuer.
///
/// Cheap to clone: clones share one managed, multiplexed connection, which reconnects on its
/// own after the server or the network comes back (the commands in flight when it dropped fail
/// with a [`StoreError`]).
///
/// ```no_run
/// use tower_passport_issuer::store::RevocationStore;
/// use tower_passport_redis::RedisStore;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379").await?;
/// assert_eq!(store.prefix(), "passport:");
/// assert!(!store.is_revoked("some-jti").await?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    keys: Keys,
    scripts: Arc<Scripts>,
}

impl fmt::Debug for RedisStore {
    /// Shows the prefix only: the URL, which may carry a password, is not kept.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore").field("prefix", &self.keys.prefix()).finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to the server at `url` with the default prefix and timeouts; see
    /// [`RedisStoreBuilder::connect`].
    ///
    /// ```no_run
    /// use tower_passport_redis::RedisStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
    /// let store = RedisStore::connect("redis://:password@127.0.0.1:6379").await?;
    /// assert_eq!(format!("{store:?}"), r#"RedisStore { prefix: "passport:", .. }"#);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        RedisStoreBuilder::new().connect(url).await
    }

    /// A builder, to set the prefix or the timeouts.
    ///
    /// ```
    /// use tower_passport_redis::RedisStore;
    /// let builder = RedisStore::builder().prefix("auth:");
    /// ```
    pub fn builder() -> RedisStoreBuilder {
        RedisStoreBuilder::new()
    }

    /// The prefix of every key this store uses.
    ///
    /// ```no_run
    /// use tower_passport_redis::RedisStore;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), tower_passport_issuer::store::StoreError> {
    /// let store = RedisStore::builder().prefix("auth:").connect("redis://127.0.0.1").await?;
    /// assert_eq!(store.prefix(), "auth:");
    /// # Ok(())
    /// # }
    /// ```
    pub fn prefix(&self) -> &str {
        self.keys.prefix()
    }

    /// Runs `script` with the prefix as `ARGV[1]`, then `args`.
    async fn eval<T: FromRedisValue>(
        &self,
        script: &Script,
        keys: &[Vec<u8>],
        args: &[String],
    ) -> Result<T, StoreError> {
        let mut invocation = script.prepare_invoke();
        invocation.key(keys).arg(self.keys.prefix()).arg(args);
        let mut connection = self.connection.clone();
        invocation.invoke_async(&mut connection).await.map_err(StoreError::backend)
    }

    /// `HMGET` of `fields` of the key of `id` of `kind`.
    async fn fields<const N: usize>(
        &self,
        kind: &str,
        id: &str,
        fields: [&str; N],
    ) -> Result<[Option<String>; N], StoreError> {
        let mut connection = self.connection.clone();
        let values: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(self.keys.key(kind, id))
            .arg(&fields[..])
            .query_async(&mut connection)
            .await
            .map_err(StoreError::backend)?;
        values.try_into().map_err(|_| Malformed::error("HMGET reply"))
    }
}

impl ClientStore for RedisStore {
    async fn put_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        let args = [
            client.id.clone(),
            codec::client_json(&client)?,
            flag(client.revoked).to_owned(),
            codec::optional(client.owner.as_deref()),
        ];
        // A whole replacement and the owner index, atomically.
        let _: i64 = self.eval(&self.scripts.put_client, &[], &args).await?;
        Ok(())
    }

    async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let [record, revoked] = self.fields(CLIENT, id, ["record", "revoked"]).await?;
        codec::client(record, revoked)
    }

    async fn set_client_revoked(&self, id: &str, revoked: bool) -> Result<bool, StoreError> {
        let args = [id.to_owned(), flag(revoked).to_owned()];
        let found: i64 = self.eval(&self.scripts.set_client_revoked, &[], &args).await?;
        Ok(found == 1)
    }

    async fn update_client(
        &self,
        id: &str,
        update: ClientUpdate,
    ) -> Result<Option<ClientRecord>, StoreError> {
        // Read, apply, and write only if the record did not change meanwhile; a lost race
        // reads again. The revoked flag is a field of its own, set by the same script.
        for _ in 0..UPDATE_ATTEMPTS {
            let [record, revoked] = self.fields(CLIENT, id, ["record", "revoked"]).await?;
            let Some(read) = record.clone() else { return Ok(None) };
            let Some(mut client) = codec::client(record, revoked)? else { return Ok(None) };
            update.apply(&mut client);
            let args = [
                id.to_owned(),
                read,
                codec::client_json(&client)?,
                codec::optional(update.revoked.map(flag)),
            ];
            let reply: Vec<Option<String>> = self.eval(&self.scripts.update_client, &[], &args).await?;
            match reply.first().cloned().flatten().as_deref() {
                Some("0") => return Ok(None),
                Some("1") => {
                    client.revoked = reply.get(1).cloned().flatten().as_deref() == Some("1");
                    return Ok(Some(client));
                }
                Some("2") => continue,
                _ => return Err(Malformed::error("client update reply")),
            }
        }
        Err(StoreError::conflict("the client kept changing during the update"))
    }

    async fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        // No index of every client: SCAN the client keys (an operator's command, not a
        // request path), then read each through the one client decoder.
        let pattern = self.keys.pattern(CLIENT);
        let prefix = self.keys.key(CLIENT, "");
        let mut connection = self.connection.clone();
        let (mut cursor, mut ids) = (0u64, Vec::new());
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut connection)
                .await
                .map_err(StoreError::backend)?;
            ids.extend(keys.into_iter().filter_map(|key| key.strip_prefix(&prefix).map(str::to_owned)));
            if next == 0 {
                break;
            }
            cursor = next;
        }
        ids.sort();
        ids.dedup();
        let mut clients = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(client) = self.client(&id).await? {
                clients.push(client);
            }
        }
        clients.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(clients)
    }

    async fn clients_owned_by(&self, owner: &str) -> Result<Vec<ClientRecord>, StoreError> {
        let flat: Vec<Option<String>> =
            self.eval(&self.scripts.owner_clients, &[], &[owner.to_owned()]).await?;
        if flat.len() % 2 != 0 {
            return Err(Malformed::error("owner clients reply"));
        }
        let mut clients = Vec::with_capacity(flat.len() / 2);
        let mut flat = flat.into_iter();
        while let (Some(record), Some(revoked)) = (flat.next(), flat.next()) {
            if let Some(client) = codec::client(record, revoked)? {
                if client.owner.as_deref() == Some(owner) {
                    clients.push(client);
                }
            }
        }
        clients.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(clients)
    }
}

/// How often [`ClientStore::update_client`] reads again after losing a race.
const UPDATE_ATTEMPTS: usize = 16;

impl TokenStore for RedisStore {
    async fn put_access_token(&self, record: AccessTokenRecord) -> Result<(), StoreError> {
        let args = codec::access_args(&record)?;
        let stored: i64 = self.eval(&self.scripts.put_access, &[], &args).await?;
        match stored {
            1 => Ok(()),
            2 => Err(StoreError::conflict("the token's family is revoked or unknown")),
            _ => Err(StoreError::conflict("duplicate jti")),
        }
    }

    async fn access_token(&self, jti: &str) -> Result<Option<AccessTokenRecord>, StoreError> {
        let [record, revoked_at] = self.fields(ACCESS, jti, ["record", "revoked_at"]).await?;
        codec::access(record, revoked_at)
    }

    async fn personal_access_tokens(&self, user_id: &str) -> Result<Vec<AccessTokenRecord>, StoreError> {
        let flat: Vec<Option<String>> =
            self.eval(&self.scripts.personal_tokens, &[], &[user_id.to_owned()]).await?;
        if flat.len() % 2 != 0 {
            return Err(Malformed::error("personal access token reply"));
        }
        let mut tokens = Vec::with_capacity(flat.len() / 2);
        let mut flat = flat.into_iter();
        while let (Some(record), Some(revoked_at)) = (flat.next(), flat.next()) {
            if let Some(token) = codec::access(record, revoked_at)? {
                if token.personal && token.user_id.as_deref() == Some(user_id) {
                    tokens.push(token);
                }
            }
        }
        tokens.sort_by(|a, b| b.issued_at.cmp(&a.issued_at).then_with(|| a.jti.cmp(&b.jti)));
        Ok(tokens)
    }

    async fn revoke_access_token(
        &self,
        jti: &str,
        now: u64,
    ) -> Result<Option<AccessTokenRecord>, StoreError> {
        let args = [jti.to_owned(), now.to_string()];
        let (record, revoked_at): (Option<String>, Option<String>) =
            self.eval(&self.scripts.revoke_access, &[], &args).await?;
        codec::access(record, revoked_at)
    }

    async fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> Result<(), StoreError> {
        let mut args = codec::family_args(&family)?;
        args.extend(codec::refresh_args(&first)?);
        args.extend(codec::access_args(&access)?);
        let status: String = self.eval(&self.scripts.start_family, &[], &args).await?;
        match status.as_str() {
            "ok" => Ok(()),
            "duplicate-family" => Err(StoreError::conflict("duplicate family id")),
            "duplicate-token" => Err(StoreError::conflict("duplicate refresh-token id or jti")),
            _ => Err(Malformed::error("start_family reply")),
        }
    }

    async fn refresh_token(&self, id: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
        codec::refresh(self.fields(REFRESH, id, ["record", "used_at", "used_at_ms", "revoked_at"]).await?)
    }

    async fn family(&self, id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        let [record, current, previous, revoked_at] =
            self.fields(FAMILY, id, ["record", "current", "previous", "revoked_at"]).await?;
        codec::family(record, current, previous, revoked_at)
    }

    async fn rotate(&self, rotation: Rotation) -> Result<RotationOutcome, StoreError> {
        let mut args = vec![
            rotation.presented_id.clone(),
            rotation.presented_hash.to_hex(),
            rotation.now.to_string(),
            rotation.now_millis.to_string(),
            codec::optional(rotation.race_millis),
            codec::optional(rotation.grace_millis),
            flag(rotation.consume).to_owned(),
            flag(rotation.revoke_previous_access).to_owned(),
        ];
        args.extend(codec::refresh_args(&rotation.next)?);
        args.extend(codec::access_args(&rotation.next_access)?);
        let reply: Vec<String> = self.eval(&self.scripts.rotate, &[], &args).await?;
        let (outcome, family_id, revoked) = match reply.as_slice() {
            [outcome] => (outcome.as_str(), "", &[][..]),
            [outcome, family_id, revoked @ ..] => (outcome.as_str(), family_id.as_str(), revoked),
            [] => ("", "", &[][..]),
        };
        match outcome {
            "rotated" => Ok(RotationOutcome::Rotated { revoked: codec::revoked(revoked)? }),
            "grace" => Ok(RotationOutcome::GraceReissued { revoked: codec::revoked(revoked)? }),
            "reuse" => Ok(RotationOutcome::ReuseDetected {
                family_id: family_id.to_owned(),
                revoked: codec::revoked(revoked)?,
            }),
            "already" => Ok(RotationOutcome::AlreadyRotated),
            "invalid" => Ok(RotationOutcome::Invalid),
            "conflict" => Err(StoreError::conflict("duplicate refresh-token id or jti")),
            _ => Err(Malformed::error("rotate reply")),
        }
    }

    async fn revoke_family(&self, family_id: &str, now: u64) -> Result<Vec<RevokedAccess>, StoreError> {
        let args = [family_id.to_owned(), now.to_string()];
        let flat: Vec<String> = self.eval(&self.scripts.revoke_family, &[], &args).await?;
        codec::revoked(&flat)
    }

    async fn user_tokens(&self, user_id: &str, now: u64) -> Result<Vec<ClientTokens>, StoreError> {
        let args = [user_id.to_owned(), now.to_string()];
        let (access, refresh): (Vec<Option<String>>, Vec<Option<String>>) =
            self.eval(&self.scripts.user_tokens, &[], &args).await?;
        if access.len() % 2 != 0 || refresh.len() % 3 != 0 {
            return Err(Malformed::error("user tokens reply"));
        }
        let mut access_tokens = Vec::with_capacity(access.len() / 2);
        let mut access = access.into_iter();
        while let (Some(record), Some(revoked_at)) = (access.next(), access.next()) {
            access_tokens.extend(codec::access(record, revoked_at)?);
        }
        let mut refresh_tokens = Vec::with_capacity(refresh.len() / 3);
        let mut refresh = refresh.into_iter();
        while let (Some(record), Some(used_at), Some(revoked_at)) =
            (refresh.next(), refresh.next(), refresh.next())
        {
            // Unused tokens only: no `used_at_ms` to read.
            refresh_tokens.extend(codec::refresh([record, used_at, None, revoked_at])?);
        }
        // The indexes are the user's own, but a record says whose it is: trust that.
        let of_user = |user: &Option<String>| user.as_deref() == Some(user_id);
        access_tokens.retain(|a| of_user(&a.user_id));
        refresh_tokens.retain(|r| of_user(&r.user_id));
        Ok(ClientTokens::group_live(access_tokens, refresh_tokens, now))
    }

    async fn granted_scopes(
        &self,
        user_id: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let args = [user_id.to_owned(), client_id.to_owned(), now.to_string()];
        let reply: Vec<String> = self.eval(&self.scripts.granted_scopes, &[], &args).await?;
        let mut reply = reply.into_iter();
        match reply.next().as_deref() {
            Some("0") => Ok(None),
            Some("1") => {
                let mut granted: Vec<String> = reply.collect();
                granted.sort_unstable();
                Ok(Some(granted))
            }
            _ => Err(Malformed::error("granted scopes reply")),
        }
    }

    async fn revoke_user_tokens(
        &self,
        user_id: &str,
        client_id: Option<&str>,
        now: u64,
    ) -> Result<RevokedTokens, StoreError> {
        let args = [user_id.to_owned(), codec::optional(client_id), now.to_string()];
        let (families, revoked): (Vec<String>, Vec<String>) =
            self.eval(&self.scripts.revoke_user, &[], &args).await?;
        Ok(RevokedTokens::new(families, codec::revoked(&revoked)?))
    }
}

impl RevocationStore for RedisStore {
    async fn is_revoked(&self, jti: &str) -> Result<bool, BackendError> {
        let mut connection = self.connection.clone();
        redis::cmd("EXISTS")
            .arg(self.keys.key(REVOKED, jti))
            .query_async(&mut connection)
            .await
            .map_err(BackendError::new)
    }

    async fn set_user_not_before(
        &self,
        provider: &str,
        user_id: &str,
        not_before_ms: u64,
    ) -> Result<(), BackendError> {
        let args = [Keys::user_id(provider, user_id), not_before_ms.to_string()];
        let _: i64 = self.eval(&self.scripts.set_not_before, &[], &args).await.map_err(BackendError::new)?;
        Ok(())
    }

    async fn user_not_before(&self, provider: &str, user_id: &str) -> Result<Option<u64>, BackendError> {
        let mut connection = self.connection.clone();
        let stored: Option<String> = redis::cmd("GET")
            .arg(self.keys.key(NOT_BEFORE, &Keys::user_id(provider, user_id)))
            .query_async(&mut connection)
            .await
            .map_err(BackendError::new)?;
        stored
            .map(|text| text.parse::<u64>().map_err(|_| BackendError::new(Malformed::error("not-before"))))
            .transpose()
    }
}

// Codes are not swept: their keys always expire, a day after the codes do.
impl PurgeStore for RedisStore {
    async fn purge(&self, purge: Purge) -> Result<PurgeCounts, StoreError> {
        self.purge_batches(purge).await
    }
}

impl SettingsStore for RedisStore {
    async fn put_setting_if_absent(&self, name: &str, value: &str) -> Result<String, StoreError> {
        let args = [name.to_owned(), value.to_owned()];
        self.eval(&self.scripts.put_setting, &[], &args).await
    }

    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let mut connection = self.connection.clone();
        redis::cmd("GET")
            .arg(self.keys.key("setting", name))
            .query_async(&mut connection)
            .await
            .map_err(StoreError::backend)
    }
}
