//! The store itself, written once for SQLite and PostgreSQL. The two differ only in how
//! a transaction takes its locks, so the body is one macro instantiated per backend.

/// Implements `migrate` and [`Store`](crate::store::Store) for `$store`, a struct with
/// `pool: sqlx::Pool<$db>` and `prefix: String`. `$begin` opens a write transaction
/// (SQLite: `BEGIN IMMEDIATE`, which takes the write lock up front); `$lock` is appended
/// to the row reads that must lock (PostgreSQL: `FOR UPDATE`).
macro_rules! sql_store {
    ($store:ident, $db:ty, begin = |$pool:ident| $begin:expr, lock = $lock:literal) => {
        impl $store {
            async fn begin(&self) -> Result<sqlx::Transaction<'static, $db>, StoreError> {
                let $pool = &self.pool;
                $begin.await.map_err(StoreError::backend)
            }

            fn sql(&self, template: &str) -> String {
                template.replace("{p}", &self.prefix)
            }

            /// Creates or upgrades the schema. Run it explicitly, once per deployment (it is
            /// safe to run again). A step that a previous run left unfinished is reported,
            /// never silently re-run.
            ///
            /// # Errors
            /// When the database is unreachable or a step fails or was left half-applied.
            pub async fn migrate(&self) -> Result<(), StoreError> {
                let create = self.sql(
                    "CREATE TABLE IF NOT EXISTS {p}migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
                     success BOOLEAN NOT NULL, applied_at BIGINT NOT NULL)",
                );
                sqlx::query(&create).execute(&self.pool).await.map_err(StoreError::backend)?;
                for migration in schema::MIGRATIONS {
                    let state: Option<bool> =
                        sqlx::query_scalar(&self.sql("SELECT success FROM {p}migrations WHERE version = $1"))
                            .bind(migration.version)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(StoreError::backend)?;
                    let failure = |problem| MigrationError {
                        version: migration.version,
                        description: migration.description,
                        problem,
                    };
                    match state {
                        Some(true) => continue,
                        Some(false) => return Err(StoreError::backend(failure(MigrationProblem::Interrupted))),
                        None => {}
                    }
                    // Mark the step as started in its own commit, then run it.
                    sqlx::query(&self.sql(
                        "INSERT INTO {p}migrations (version, description, success, applied_at) VALUES ($1, $2, FALSE, $3)",
                    ))
                    .bind(migration.version)
                    .bind(migration.description)
                    .bind(convert::int(now()))
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::backend)?;
                    let outcome: Result<(), sqlx::Error> = async {
                        let mut tx = self.pool.begin().await?;
                        for statement in schema::statements(migration, &self.prefix) {
                            sqlx::query(&statement).execute(&mut *tx).await?;
                        }
                        sqlx::query(&self.sql("UPDATE {p}migrations SET success = TRUE WHERE version = $1"))
                            .bind(migration.version)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await
                    }
                    .await;
                    if let Err(error) = outcome {
                        // The step rolled back: forget the marker so a fixed schema can retry.
                        let _ = sqlx::query(&self.sql("DELETE FROM {p}migrations WHERE version = $1"))
                            .bind(migration.version)
                            .execute(&self.pool)
                            .await;
                        return Err(StoreError::backend(failure(MigrationProblem::Failed(error))));
                    }
                    tracing::info!(version = migration.version, "applied migration");
                }
                Ok(())
            }
        }

        impl Store for $store {
            async fn put_client(&self, client: ClientRecord) -> Result<(), StoreError> {
                sqlx::query(&self.sql(
                    "INSERT INTO {p}clients (id, name, secret_hash, grants, allowed_scopes, first_party, revoked, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     secret_hash = excluded.secret_hash, grants = excluded.grants, allowed_scopes = excluded.allowed_scopes, \
                     first_party = excluded.first_party, revoked = excluded.revoked, created_at = excluded.created_at",
                ))
                .bind(&client.id)
                .bind(&client.name)
                .bind(client.secret_hash.map(|h| h.to_hex()))
                .bind(convert::grants_text(&client.grants))
                .bind(client.allowed_scopes.as_deref().map(convert::join))
                .bind(client.first_party)
                .bind(client.revoked)
                .bind(convert::int(client.created_at))
                .execute(&self.pool)
                .await
                .map_err(StoreError::backend)?;
                Ok(())
            }

            async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
                let row = sqlx::query(&self.sql("SELECT * FROM {p}clients WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::backend)?;
                row.map(|row| {
                    let get = |e: sqlx::Error| StoreError::backend(e);
                    Ok(ClientRecord {
                        id: row.try_get("id").map_err(get)?,
                        name: row.try_get("name").map_err(get)?,
                        secret_hash: row
                            .try_get::<Option<String>, _>("secret_hash")
                            .map_err(get)?
                            .map(|h| convert::hash(&h))
                            .transpose()?,
                        grants: convert::grants(&row.try_get::<String, _>("grants").map_err(get)?)?,
                        allowed_scopes: row
                            .try_get::<Option<String>, _>("allowed_scopes")
                            .map_err(get)?
                            .map(|s| convert::split(&s)),
                        first_party: row.try_get("first_party").map_err(get)?,
                        revoked: row.try_get("revoked").map_err(get)?,
                        created_at: convert::uint(row.try_get("created_at").map_err(get)?),
                    })
                })
                .transpose()
            }

            async fn set_client_revoked(&self, id: &str, revoked: bool) -> Result<bool, StoreError> {
                let done = sqlx::query(&self.sql("UPDATE {p}clients SET revoked = $1 WHERE id = $2"))
                    .bind(revoked)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::backend)?;
                Ok(done.rows_affected() > 0)
            }

            async fn put_access_token(&self, record: AccessTokenRecord) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                self.insert_access(&mut tx, &record).await?;
                tx.commit().await.map_err(StoreError::backend)
            }

            async fn access_token(&self, jti: &str) -> Result<Option<AccessTokenRecord>, StoreError> {
                let row = sqlx::query(&self.sql("SELECT * FROM {p}access_tokens WHERE jti = $1"))
                    .bind(jti)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::backend)?;
                row.as_ref().map(access_from_row).transpose()
            }

            async fn personal_access_tokens(&self, user_id: &str) -> Result<Vec<AccessTokenRecord>, StoreError> {
                let rows = sqlx::query(&self.sql(
                    "SELECT * FROM {p}access_tokens WHERE user_id = $1 AND personal = TRUE ORDER BY issued_at DESC, jti ASC",
                ))
                .bind(user_id)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::backend)?;
                rows.iter().map(access_from_row).collect()
            }

            async fn revoke_access_token(&self, jti: &str, now: u64) -> Result<Option<AccessTokenRecord>, StoreError> {
                let mut tx = self.begin().await?;
                self.revoke_access_in(&mut tx, jti, now).await?;
                let row = sqlx::query(&self.sql("SELECT * FROM {p}access_tokens WHERE jti = $1"))
                    .bind(jti)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::backend)?;
                tx.commit().await.map_err(StoreError::backend)?;
                row.as_ref().map(access_from_row).transpose()
            }

            async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
                let found: Option<i64> = sqlx::query_scalar(&self.sql("SELECT expires_at FROM {p}revocations WHERE jti = $1"))
                    .bind(jti)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::backend)?;
                Ok(found.is_some())
            }

            async fn start_family(
                &self,
                family: FamilyRecord,
                first: RefreshTokenRecord,
                access: AccessTokenRecord,
            ) -> Result<(), StoreError> {
                let mut tx = self.begin().await?;
                let inserted = sqlx::query(&self.sql(
                    "INSERT INTO {p}families (id, client_id, user_id, created_at, revoked_at, current_id, previous_id) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                ))
                .bind(&family.id)
                .bind(&family.client_id)
                .bind(&family.user_id)
                .bind(convert::int(family.created_at))
                .bind(family.revoked_at.map(convert::int))
                .bind(&family.current)
                .bind(&family.previous)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
                if inserted.rows_affected() == 0 {
                    return Err(StoreError::conflict("duplicate family id"));
                }
                self.insert_refresh(&mut tx, &first).await?;
                self.insert_access(&mut tx, &access).await?;
                tx.commit().await.map_err(StoreError::backend)
            }

            async fn refresh_token(&self, id: &str) -> Result<Option<RefreshTokenRecord>, StoreError> {
                let row = sqlx::query(&self.sql("SELECT * FROM {p}refresh_tokens WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::backend)?;
                row.as_ref().map(refresh_from_row).transpose()
            }

            async fn family(&self, id: &str) -> Result<Option<FamilyRecord>, StoreError> {
                let row = sqlx::query(&self.sql("SELECT * FROM {p}families WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::backend)?;
                row.as_ref().map(family_from_row).transpose()
            }

            async fn rotate(&self, rotation: Rotation) -> Result<RotationOutcome, StoreError> {
                // The family id never changes, so it can be read before locking; every
                // writer then locks the family row first, so writers of one family queue
                // instead of deadlocking.
                let family_id: Option<String> =
                    sqlx::query_scalar(&self.sql("SELECT family_id FROM {p}refresh_tokens WHERE id = $1"))
                        .bind(&rotation.presented_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(StoreError::backend)?;
                let Some(family_id) = family_id else { return Ok(RotationOutcome::Invalid) };
                let mut tx = self.begin().await?;
                let family = sqlx::query(&self.sql(concat!("SELECT * FROM {p}families WHERE id = $1 ", $lock)))
                    .bind(&family_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::backend)?;
                let Some(family) = family.as_ref().map(family_from_row).transpose()? else {
                    return Ok(RotationOutcome::Invalid);
                };
                let presented = sqlx::query(&self.sql(concat!("SELECT * FROM {p}refresh_tokens WHERE id = $1 ", $lock)))
                    .bind(&rotation.presented_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(StoreError::backend)?;
                let Some(presented) = presented.as_ref().map(refresh_from_row).transpose()? else {
                    return Ok(RotationOutcome::Invalid);
                };
                let now = rotation.now;
                if !presented.secret_hash.ct_eq(&rotation.presented_hash)
                    || family.revoked_at.is_some()
                    || presented.revoked_at.is_some()
                    || presented.expires_at <= now
                {
                    return Ok(RotationOutcome::Invalid);
                }
                let outcome = match presented.used_at {
                    None => {
                        self.insert_refresh(&mut tx, &rotation.next).await?;
                        self.insert_access(&mut tx, &rotation.next_access).await?;
                        let mut revoked = Vec::new();
                        if rotation.revoke_previous_access {
                            revoked.extend(self.revoke_access_in(&mut tx, &presented.access_jti, now).await?);
                        }
                        if rotation.consume {
                            sqlx::query(&self.sql("UPDATE {p}refresh_tokens SET used_at = $1 WHERE id = $2"))
                                .bind(convert::int(now))
                                .bind(&presented.id)
                                .execute(&mut *tx)
                                .await
                                .map_err(StoreError::backend)?;
                        }
                        let previous = if rotation.consume { Some(presented.id.clone()) } else { family.previous.clone() };
                        self.move_family(&mut tx, &family.id, &rotation.next.id, previous.as_deref()).await?;
                        RotationOutcome::Rotated { revoked }
                    }
                    Some(used_at) => {
                        let in_grace = rotation.grace_seconds.is_some_and(|grace| now <= used_at.saturating_add(grace))
                            && family.previous.as_deref() == Some(presented.id.as_str());
                        if in_grace {
                            self.insert_refresh(&mut tx, &rotation.next).await?;
                            self.insert_access(&mut tx, &rotation.next_access).await?;
                            let current: Option<String> = sqlx::query_scalar(&self.sql(
                                "UPDATE {p}refresh_tokens SET used_at = COALESCE(used_at, $1) WHERE id = $2 RETURNING access_jti",
                            ))
                            .bind(convert::int(now))
                            .bind(&family.current)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(StoreError::backend)?;
                            let mut revoked = Vec::new();
                            if let (true, Some(access_jti)) = (rotation.revoke_previous_access, current) {
                                revoked.extend(self.revoke_access_in(&mut tx, &access_jti, now).await?);
                            }
                            self.move_family(&mut tx, &family.id, &rotation.next.id, family.previous.as_deref()).await?;
                            RotationOutcome::GraceReissued { revoked }
                        } else {
                            let revoked = self.revoke_family_in(&mut tx, &family.id, now).await?;
                            RotationOutcome::ReuseDetected { family_id: family.id.clone(), revoked }
                        }
                    }
                };
                tx.commit().await.map_err(StoreError::backend)?;
                Ok(outcome)
            }

            async fn revoke_family(&self, family_id: &str, now: u64) -> Result<Vec<RevokedAccess>, StoreError> {
                let mut tx = self.begin().await?;
                let exists: Option<Option<i64>> =
                    sqlx::query_scalar(&self.sql(concat!("SELECT revoked_at FROM {p}families WHERE id = $1 ", $lock)))
                        .bind(family_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(StoreError::backend)?;
                let revoked = match exists {
                    Some(None) => self.revoke_family_in(&mut tx, family_id, now).await?,
                    _ => Vec::new(),
                };
                tx.commit().await.map_err(StoreError::backend)?;
                Ok(revoked)
            }

            async fn purge(&self, purge: Purge) -> Result<PurgeCounts, StoreError> {
                let mut tx = self.begin().await?;
                let before = convert::int(purge.before);
                let condition = "($1 AND revoked_at IS NOT NULL AND revoked_at < $2) OR ($3 AND expires_at < $2)";
                let mut counts = PurgeCounts::default();
                for (table, count) in [
                    ("{p}access_tokens", &mut counts.access_tokens),
                    ("{p}refresh_tokens", &mut counts.refresh_tokens),
                ] {
                    let done = sqlx::query(&self.sql(&format!("DELETE FROM {table} WHERE {condition}")))
                        .bind(purge.revoked)
                        .bind(before)
                        .bind(purge.expired)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::backend)?;
                    *count = done.rows_affected();
                }
                let families = sqlx::query(&self.sql(
                    "DELETE FROM {p}families WHERE NOT EXISTS (SELECT 1 FROM {p}refresh_tokens r WHERE r.family_id = {p}families.id) \
                     OR ($1 AND revoked_at IS NOT NULL AND revoked_at < $2)",
                ))
                .bind(purge.revoked)
                .bind(before)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
                counts.families = families.rows_affected();
                if purge.expired {
                    let done = sqlx::query(&self.sql("DELETE FROM {p}revocations WHERE expires_at < $1"))
                        .bind(before)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::backend)?;
                    counts.revocations = done.rows_affected();
                }
                tx.commit().await.map_err(StoreError::backend)?;
                Ok(counts)
            }

            async fn put_setting_if_absent(&self, name: &str, value: &str) -> Result<String, StoreError> {
                sqlx::query(&self.sql("INSERT INTO {p}settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"))
                    .bind(name)
                    .bind(value)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::backend)?;
                sqlx::query_scalar(&self.sql("SELECT value FROM {p}settings WHERE name = $1"))
                    .bind(name)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(StoreError::backend)
            }
        }

        impl $store {
            async fn insert_access(
                &self,
                tx: &mut sqlx::Transaction<'static, $db>,
                record: &AccessTokenRecord,
            ) -> Result<(), StoreError> {
                let inserted = sqlx::query(&self.sql(
                    "INSERT INTO {p}access_tokens (jti, client_id, user_id, scopes, family_id, name, personal, issued_at, expires_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (jti) DO NOTHING",
                ))
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
                .await
                .map_err(StoreError::backend)?;
                if inserted.rows_affected() == 0 {
                    return Err(StoreError::conflict("duplicate jti"));
                }
                Ok(())
            }

            async fn insert_refresh(
                &self,
                tx: &mut sqlx::Transaction<'static, $db>,
                record: &RefreshTokenRecord,
            ) -> Result<(), StoreError> {
                let inserted = sqlx::query(&self.sql(
                    "INSERT INTO {p}refresh_tokens (id, secret_hash, family_id, client_id, user_id, scopes, access_jti, issued_at, expires_at, used_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING",
                ))
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
                .execute(&mut **tx)
                .await
                .map_err(StoreError::backend)?;
                if inserted.rows_affected() == 0 {
                    return Err(StoreError::conflict("duplicate refresh-token id"));
                }
                Ok(())
            }

            async fn move_family(
                &self,
                tx: &mut sqlx::Transaction<'static, $db>,
                family_id: &str,
                current: &str,
                previous: Option<&str>,
            ) -> Result<(), StoreError> {
                sqlx::query(&self.sql("UPDATE {p}families SET current_id = $1, previous_id = $2 WHERE id = $3"))
                    .bind(current)
                    .bind(previous)
                    .bind(family_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(StoreError::backend)?;
                Ok(())
            }

            /// Revokes one access token and lists it, if it was live.
            async fn revoke_access_in(
                &self,
                tx: &mut sqlx::Transaction<'static, $db>,
                jti: &str,
                now: u64,
            ) -> Result<Option<RevokedAccess>, StoreError> {
                let expires_at: Option<i64> = sqlx::query_scalar(&self.sql(
                    "UPDATE {p}access_tokens SET revoked_at = $1 WHERE jti = $2 AND revoked_at IS NULL RETURNING expires_at",
                ))
                .bind(convert::int(now))
                .bind(jti)
                .fetch_optional(&mut **tx)
                .await
                .map_err(StoreError::backend)?;
                let Some(expires_at) = expires_at else { return Ok(None) };
                sqlx::query(&self.sql("INSERT INTO {p}revocations (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING"))
                    .bind(jti)
                    .bind(expires_at)
                    .execute(&mut **tx)
                    .await
                    .map_err(StoreError::backend)?;
                Ok(Some(RevokedAccess { jti: jti.to_owned(), expires_at: convert::uint(expires_at) }))
            }

            /// Revokes a family whose row this transaction holds.
            async fn revoke_family_in(
                &self,
                tx: &mut sqlx::Transaction<'static, $db>,
                family_id: &str,
                now: u64,
            ) -> Result<Vec<RevokedAccess>, StoreError> {
                let now_int = convert::int(now);
                sqlx::query(&self.sql("UPDATE {p}families SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL"))
                    .bind(now_int)
                    .bind(family_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(StoreError::backend)?;
                sqlx::query(&self.sql("UPDATE {p}refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL"))
                    .bind(now_int)
                    .bind(family_id)
                    .execute(&mut **tx)
                    .await
                    .map_err(StoreError::backend)?;
                let rows = sqlx::query(&self.sql(
                    "UPDATE {p}access_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL AND expires_at > $1 \
                     RETURNING jti, expires_at",
                ))
                .bind(now_int)
                .bind(family_id)
                .fetch_all(&mut **tx)
                .await
                .map_err(StoreError::backend)?;
                let mut revoked = Vec::with_capacity(rows.len());
                for row in rows {
                    let jti: String = row.try_get("jti").map_err(StoreError::backend)?;
                    let expires_at: i64 = row.try_get("expires_at").map_err(StoreError::backend)?;
                    sqlx::query(&self.sql("INSERT INTO {p}revocations (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING"))
                        .bind(&jti)
                        .bind(expires_at)
                        .execute(&mut **tx)
                        .await
                        .map_err(StoreError::backend)?;
                    revoked.push(RevokedAccess { jti, expires_at: convert::uint(expires_at) });
                }
                revoked.sort_by(|a, b| a.jti.cmp(&b.jti));
                Ok(revoked)
            }
        }

        fn access_from_row(row: &<$db as sqlx::Database>::Row) -> Result<AccessTokenRecord, StoreError> {
            let get = |e: sqlx::Error| StoreError::backend(e);
            Ok(AccessTokenRecord {
                jti: row.try_get("jti").map_err(get)?,
                client_id: row.try_get("client_id").map_err(get)?,
                user_id: row.try_get("user_id").map_err(get)?,
                scopes: convert::split(&row.try_get::<String, _>("scopes").map_err(get)?),
                family_id: row.try_get("family_id").map_err(get)?,
                name: row.try_get("name").map_err(get)?,
                personal: row.try_get("personal").map_err(get)?,
                issued_at: convert::uint(row.try_get("issued_at").map_err(get)?),
                expires_at: convert::uint(row.try_get("expires_at").map_err(get)?),
                revoked_at: convert::opt_uint(row.try_get("revoked_at").map_err(get)?),
            })
        }

        fn refresh_from_row(row: &<$db as sqlx::Database>::Row) -> Result<RefreshTokenRecord, StoreError> {
            let get = |e: sqlx::Error| StoreError::backend(e);
            Ok(RefreshTokenRecord {
                id: row.try_get("id").map_err(get)?,
                secret_hash: convert::hash(&row.try_get::<String, _>("secret_hash").map_err(get)?)?,
                family_id: row.try_get("family_id").map_err(get)?,
                client_id: row.try_get("client_id").map_err(get)?,
                user_id: row.try_get("user_id").map_err(get)?,
                scopes: convert::split(&row.try_get::<String, _>("scopes").map_err(get)?),
                access_jti: row.try_get("access_jti").map_err(get)?,
                issued_at: convert::uint(row.try_get("issued_at").map_err(get)?),
                expires_at: convert::uint(row.try_get("expires_at").map_err(get)?),
                used_at: convert::opt_uint(row.try_get("used_at").map_err(get)?),
                revoked_at: convert::opt_uint(row.try_get("revoked_at").map_err(get)?),
            })
        }

        fn family_from_row(row: &<$db as sqlx::Database>::Row) -> Result<FamilyRecord, StoreError> {
            let get = |e: sqlx::Error| StoreError::backend(e);
            Ok(FamilyRecord {
                id: row.try_get("id").map_err(get)?,
                client_id: row.try_get("client_id").map_err(get)?,
                user_id: row.try_get("user_id").map_err(get)?,
                created_at: convert::uint(row.try_get("created_at").map_err(get)?),
                revoked_at: convert::opt_uint(row.try_get("revoked_at").map_err(get)?),
                current: row.try_get("current_id").map_err(get)?,
                previous: row.try_get("previous_id").map_err(get)?,
            })
        }
    };
}

pub(crate) use sql_store;

/// Wall-clock seconds, for the migrations table only.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
