//! The SQL store's token operations, written once for SQLite, PostgreSQL and MySQL, generic
//! over the sqlx engine: access tokens and the revocation list, refresh tokens and their
//! families (rotation: lock, read, ask [`plan`], carry the plan out). Clients are in
//! `clients.rs`, authorization codes in `codes.rs`, a user's live tokens and the scopes
//! they grant in `user_tokens.rs`, purge, settings and the users' cookie not-before
//! instants in `upkeep.rs`.

use sqlx::{Encode, Executor, IntoArguments, Transaction, Type};

use super::convert;
use super::engine::{Engine, Sql};
use super::rows::{self, Columns};
use tower_passport_issuer::store::rotation::{plan, RotationPlan};
use tower_passport_issuer::store::{
    AccessTokenRecord, FamilyRecord, RefreshTokenRecord, RevokedAccess, RevokedTokens, Rotation,
    RotationOutcome, StoreError,
};

impl<DB> Sql<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> String: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> i64: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'q> bool: Encode<'q, DB>,
    str: Type<DB>,
    String: Type<DB>,
    i64: Type<DB>,
    bool: Type<DB>,
    DB::Row: Columns,
{
    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        DB::migrate(&self.pool, &self.queries).await
    }

    pub(crate) async fn begin(&self) -> Result<Transaction<'static, DB>, StoreError> {
        DB::begin_write(&self.pool).await.map_err(StoreError::backend)
    }

    /// The row `query` finds for its one parameter, `key`.
    pub(crate) async fn find(&self, query: &str, key: &str) -> Result<Option<DB::Row>, StoreError> {
        sqlx::query(query).bind(key).fetch_optional(&self.pool).await.map_err(StoreError::backend)
    }

    pub(crate) async fn put_access_token(&self, record: AccessTokenRecord) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        if let Some(family_id) = &record.family_id {
            // Locked as a rotation or a revocation locks it: the family cannot be revoked
            // between this check and the insert.
            let family = self.locked(&mut tx, &self.queries.lock_family_revoked, family_id).await?;
            if !matches!(family.map(|row| row.opt_int("revoked_at")).transpose()?, Some(None)) {
                return Err(StoreError::conflict("the token's family is revoked or unknown"));
            }
        }
        self.insert_access(&mut tx, &record).await?;
        tx.commit().await.map_err(StoreError::backend)
    }

    pub(crate) async fn access_token(&self, jti: &str) -> Result<Option<AccessTokenRecord>, StoreError> {
        self.find(&self.queries.access_token, jti).await?.as_ref().map(rows::access).transpose()
    }

    pub(crate) async fn personal_access_tokens(
        &self,
        user_id: &str,
    ) -> Result<Vec<AccessTokenRecord>, StoreError> {
        let found = sqlx::query(&self.queries.personal_tokens)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        found.iter().map(rows::access).collect()
    }

    pub(crate) async fn revoke_access_token(
        &self,
        jti: &str,
        now: u64,
    ) -> Result<Option<AccessTokenRecord>, StoreError> {
        let mut tx = self.begin().await?;
        self.revoke_access_in(&mut tx, jti, now).await?;
        let row = sqlx::query(&self.queries.access_token)
            .bind(jti)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        tx.commit().await.map_err(StoreError::backend)?;
        row.as_ref().map(rows::access).transpose()
    }

    pub(crate) async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.find(&self.queries.is_revoked, jti).await?.is_some())
    }

    /// Inserts an access-token record; a taken `jti` is a conflict.
    pub(crate) async fn insert_access(
        &self,
        tx: &mut Transaction<'static, DB>,
        record: &AccessTokenRecord,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(&self.queries.insert_access)
            .bind(&record.jti)
            .bind(&record.client_id)
            .bind(&record.user_id)
            .bind(convert::join(&record.scopes))
            .bind(&record.family_id)
            .bind(&record.name)
            .bind(record.personal)
            .bind(convert::int(record.issued_at))
            .bind(convert::int(record.expires_at))
            .bind(record.revoked_at.map(convert::int))
            .execute(&mut **tx)
            .await;
        if !inserted::<DB>(result)? {
            return Err(StoreError::conflict("duplicate jti"));
        }
        Ok(())
    }

    /// Revokes one access token and puts it on the revocation list, if it was live: its row
    /// is locked and read, then updated.
    pub(crate) async fn revoke_access_in(
        &self,
        tx: &mut Transaction<'static, DB>,
        jti: &str,
        now: u64,
    ) -> Result<Option<RevokedAccess>, StoreError> {
        let row = self.locked(tx, &self.queries.lock_live_access, jti).await?;
        let Some(expires_at) = row.map(|row| row.int("expires_at")).transpose()? else { return Ok(None) };
        sqlx::query(&self.queries.revoke_access)
            .bind(convert::int(now))
            .bind(jti)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::backend)?;
        self.list_revoked(tx, jti, expires_at).await?;
        Ok(Some(RevokedAccess { jti: jti.to_owned(), expires_at: convert::uint(expires_at) }))
    }

    /// Puts `jti` on the revocation list until `expires_at`.
    pub(crate) async fn list_revoked(
        &self,
        tx: &mut Transaction<'static, DB>,
        jti: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(&self.queries.insert_revocation)
            .bind(jti)
            .bind(expires_at)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    pub(crate) async fn start_family(
        &self,
        family: FamilyRecord,
        first: RefreshTokenRecord,
        access: AccessTokenRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let result = sqlx::query(&self.queries.insert_family)
            .bind(&family.id)
            .bind(&family.client_id)
            .bind(&family.user_id)
            .bind(convert::int(family.created_at))
            .bind(family.revoked_at.map(convert::int))
            .bind(&family.current)
            .bind(&family.previous)
            .execute(&mut *tx)
            .await;
        if !inserted::<DB>(result)? {
            return Err(StoreError::conflict("duplicate family id"));
        }
        self.insert_refresh(&mut tx, &first).await?;
        self.insert_access(&mut tx, &access).await?;
        tx.commit().await.map_err(StoreError::backend)
    }

    pub(crate) async fn refresh_token(&self, id: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
        self.find(&self.queries.refresh_token, id).await?.as_ref().map(rows::refresh).transpose()
    }

    pub(crate) async fn family(&self, id: &str) -> Result<Option<FamilyRecord>, StoreError> {
        self.find(&self.queries.family, id).await?.as_ref().map(rows::family).transpose()
    }

    pub(crate) async fn rotate(&self, rotation: Rotation) -> Result<RotationOutcome, StoreError> {
        // The family id never changes, so it can be read before locking; every writer then
        // locks the family row first, so writers of one family queue instead of deadlocking.
        let family_id = self.find(&self.queries.family_of_token, &rotation.presented_id).await?;
        let Some(family_id) = family_id.map(|row| row.text("family_id")).transpose()? else {
            return Ok(RotationOutcome::Invalid);
        };
        let mut tx = self.begin().await?;
        let family = self.locked(&mut tx, &self.queries.lock_family, &family_id).await?;
        let family = family.as_ref().map(rows::family).transpose()?;
        let presented = self.locked(&mut tx, &self.queries.lock_refresh, &rotation.presented_id).await?;
        let presented = presented.as_ref().map(rows::refresh).transpose()?;
        let now = rotation.now;
        let outcome = match plan(presented.as_ref(), family.as_ref(), &rotation) {
            RotationPlan::Invalid => return Ok(RotationOutcome::Invalid),
            RotationPlan::AlreadyRotated => return Ok(RotationOutcome::AlreadyRotated),
            RotationPlan::Rotate { family_id, revoke_access, mark_used, previous } => {
                self.insert_refresh(&mut tx, &rotation.next).await?;
                self.insert_access(&mut tx, &rotation.next_access).await?;
                let mut revoked = Vec::new();
                if let Some(jti) = revoke_access {
                    revoked.extend(self.revoke_access_in(&mut tx, jti, now).await?);
                }
                if let Some(id) = mark_used {
                    sqlx::query(&self.queries.mark_used)
                        .bind(convert::int(now))
                        .bind(convert::int(rotation.now_millis))
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::backend)?;
                }
                self.move_family(&mut tx, family_id, &rotation.next.id, previous).await?;
                RotationOutcome::Rotated { revoked }
            }
            RotationPlan::ReissueInGrace { family_id, superseded, revoke_access, previous } => {
                self.insert_refresh(&mut tx, &rotation.next).await?;
                self.insert_access(&mut tx, &rotation.next_access).await?;
                // The family's row lock covers its tokens; the superseded one is locked too.
                let current = self.locked(&mut tx, &self.queries.lock_access_of_refresh, superseded).await?;
                sqlx::query(&self.queries.supersede)
                    .bind(convert::int(rotation.now_millis))
                    .bind(convert::int(now))
                    .bind(superseded)
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::backend)?;
                let mut revoked = Vec::new();
                if let (true, Some(current)) = (revoke_access, current) {
                    let access_jti = current.text("access_jti")?;
                    revoked.extend(self.revoke_access_in(&mut tx, &access_jti, now).await?);
                }
                self.move_family(&mut tx, family_id, &rotation.next.id, previous).await?;
                RotationOutcome::GraceReissued { revoked }
            }
            RotationPlan::RevokeFamily { family_id } => {
                let revoked = self.revoke_family_in(&mut tx, family_id, now).await?;
                RotationOutcome::ReuseDetected { family_id: family_id.to_owned(), revoked }
            }
        };
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(outcome)
    }

    pub(crate) async fn revoke_family(
        &self,
        family_id: &str,
        now: u64,
    ) -> Result<Vec<RevokedAccess>, StoreError> {
        let mut tx = self.begin().await?;
        let family = self.locked(&mut tx, &self.queries.lock_family_revoked, family_id).await?;
        let revoked = match family.map(|row| row.opt_int("revoked_at")).transpose()? {
            Some(None) => self.revoke_family_in(&mut tx, family_id, now).await?,
            _ => Vec::new(),
        };
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(revoked)
    }

    pub(crate) async fn revoke_user_tokens(
        &self,
        user_id: &str,
        client_id: Option<&str>,
        now: u64,
    ) -> Result<RevokedTokens, StoreError> {
        let mut tx = self.begin().await?;
        let families = sqlx::query(&self.queries.lock_user_families)
            .bind(user_id)
            .bind(client_id)
            .bind(client_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        let families = families.iter().map(|row| row.text("id")).collect::<Result<Vec<_>, _>>()?;
        let mut revoked = Vec::new();
        for family_id in &families {
            revoked.extend(self.revoke_family_in(&mut tx, family_id, now).await?);
        }
        // Tokens past `exp` by less than the margin are still admitted by a guard's leeway.
        let live_after = convert::int(tower_passport_issuer::store::live_after(now));
        let now = convert::int(now);
        let live = sqlx::query(&self.queries.lock_user_access)
            .bind(user_id)
            .bind(client_id)
            .bind(client_id)
            .bind(live_after)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        sqlx::query(&self.queries.revoke_user_access)
            .bind(now)
            .bind(user_id)
            .bind(client_id)
            .bind(client_id)
            .bind(live_after)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        for row in &live {
            let (jti, expires_at) = (row.text("jti")?, row.int("expires_at")?);
            self.list_revoked(&mut tx, &jti, expires_at).await?;
            revoked.push(RevokedAccess { jti, expires_at: convert::uint(expires_at) });
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(RevokedTokens::new(families, revoked))
    }

    /// The row `query` (a locking read) finds for `key`, inside `tx`.
    pub(super) async fn locked(
        &self,
        tx: &mut Transaction<'static, DB>,
        query: &str,
        key: &str,
    ) -> Result<Option<DB::Row>, StoreError> {
        sqlx::query(query).bind(key).fetch_optional(&mut **tx).await.map_err(StoreError::backend)
    }

    /// Inserts a refresh-token record; a taken id is a conflict.
    async fn insert_refresh(
        &self,
        tx: &mut Transaction<'static, DB>,
        record: &RefreshTokenRecord,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(&self.queries.insert_refresh)
            .bind(&record.id)
            .bind(record.secret_hash.to_hex())
            .bind(&record.family_id)
            .bind(&record.client_id)
            .bind(&record.user_id)
            .bind(convert::join(&record.scopes))
            .bind(&record.access_jti)
            .bind(convert::int(record.issued_at))
            .bind(convert::int(record.expires_at))
            .bind(record.used_at.map(convert::int))
            .bind(record.revoked_at.map(convert::int))
            .bind(record.used_at_millis.map(convert::int))
            .bind(&record.dpop_jkt)
            .bind(convert::join(&record.resources))
            .execute(&mut **tx)
            .await;
        if !inserted::<DB>(result)? {
            return Err(StoreError::conflict("duplicate refresh-token id"));
        }
        Ok(())
    }

    /// Moves the family on to `current`, with `previous` before it.
    async fn move_family(
        &self,
        tx: &mut Transaction<'static, DB>,
        family_id: &str,
        current: &str,
        previous: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(&self.queries.move_family)
            .bind(current)
            .bind(previous)
            .bind(family_id)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    /// Revokes a family whose row this transaction holds: the family, its refresh tokens,
    /// and its access tokens still live at `now`, which go on the revocation list.
    async fn revoke_family_in(
        &self,
        tx: &mut Transaction<'static, DB>,
        family_id: &str,
        now: u64,
    ) -> Result<Vec<RevokedAccess>, StoreError> {
        // Tokens past `exp` by less than the margin are still admitted by a guard's leeway.
        let live_after = convert::int(tower_passport_issuer::store::live_after(now));
        let now = convert::int(now);
        for query in [&self.queries.revoke_family, &self.queries.revoke_family_refresh] {
            sqlx::query(query)
                .bind(now)
                .bind(family_id)
                .execute(&mut **tx)
                .await
                .map_err(StoreError::backend)?;
        }
        let live = sqlx::query(&self.queries.lock_family_access)
            .bind(family_id)
            .bind(live_after)
            .fetch_all(&mut **tx)
            .await
            .map_err(StoreError::backend)?;
        sqlx::query(&self.queries.revoke_family_access)
            .bind(now)
            .bind(family_id)
            .bind(live_after)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::backend)?;
        let mut revoked = Vec::with_capacity(live.len());
        for row in &live {
            let (jti, expires_at) = (row.text("jti")?, row.int("expires_at")?);
            self.list_revoked(tx, &jti, expires_at).await?;
            revoked.push(RevokedAccess { jti, expires_at: convert::uint(expires_at) });
        }
        revoked.sort_by(|a, b| a.jti.cmp(&b.jti));
        Ok(revoked)
    }
}

/// Whether an insert without a conflict clause inserted its row: a unique violation (the
/// key is taken) is `false`, any other failure an error.
pub(crate) fn inserted<DB: Engine>(result: Result<DB::QueryResult, sqlx::Error>) -> Result<bool, StoreError> {
    match result {
        Ok(done) => Ok(DB::rows_affected(&done) > 0),
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(false),
        Err(error) => Err(StoreError::backend(error)),
    }
}
