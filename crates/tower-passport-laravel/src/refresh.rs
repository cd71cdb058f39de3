//! Passport's refresh tokens, redeemed once by the issuer's refresh grant.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tower_passport::BackendError;
use tower_passport_issuer::{LegacyGrant, LegacyRedemption, LegacyRefreshTokens};

use crate::crypt::{decrypt_with_password, AppKey};
use crate::database::{on_pool, PassportDatabase};
use crate::error::LaravelError;
use crate::tables::PassportTables;

/// Laravel Passport's refresh tokens, for
/// [`IssuerBuilder::legacy_refresh_tokens`](tower_passport_issuer::IssuerBuilder::legacy_refresh_tokens):
/// a user's session survives the cut-over.
///
/// A Passport refresh token is league's payload (`client_id`, `refresh_token_id`,
/// `access_token_id`, `scopes`, `user_id`, `expire_time`) encrypted with the application's
/// `APP_KEY` (defuse/php-encryption, see [`AppKey`]). Redeeming one:
///
/// 1. decrypts it off the executor (a PBKDF2 of 100 000 rounds), refusing anything the key
///    does not authenticate;
/// 2. refuses it for another client than the one it was issued to, past its
///    `expire_time`, or without a user;
/// 3. marks its row in `oauth_refresh_tokens` revoked, in one statement that only succeeds
///    if it was not (so of two concurrent redemptions one wins), and revokes its access
///    token in `oauth_access_tokens`, as league's refresh grant does. A token whose row is
///    missing or revoked is refused.
///
/// The issuer then starts a new refresh family: a replay of the Passport token is refused.
///
/// ```
/// use tower_passport_issuer::Issuer;
/// use tower_passport_issuer::store::MemoryStore;
/// use tower_passport_laravel::{AppKey, PassportDatabase, PassportRefreshTokens};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let database = PassportDatabase::connect_lazy("sqlite:laravel/database/database.sqlite")?;
/// let app_key = AppKey::parse("base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
/// let issuer = Issuer::builder("https://auth.example.com", std::sync::Arc::new(MemoryStore::new()))
///     .audience("api")
///     .legacy_refresh_tokens(PassportRefreshTokens::new(database, app_key))
///     .build()?;
/// # let _ = issuer;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PassportRefreshTokens {
    database: PassportDatabase,
    app_key: AppKey,
    spend_refresh: String,
    revoke_access: String,
}

/// What league puts in a refresh token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Payload {
    client_id: String,
    refresh_token_id: String,
    access_token_id: String,
    scopes: Vec<String>,
    user_id: Option<String>,
    expire_time: u64,
}

impl PassportRefreshTokens {
    /// Over `database` (Passport's default table names), decrypting with `app_key`.
    pub fn new(database: PassportDatabase, app_key: AppKey) -> Self {
        Self::with_tables(database, app_key, &PassportTables::default())
    }

    /// With Passport's tables under other names.
    pub fn with_tables(database: PassportDatabase, app_key: AppKey, tables: &PassportTables) -> Self {
        let p = database.placeholder(1);
        let spend_refresh = format!(
            "UPDATE {} SET revoked = TRUE WHERE id = {p} AND revoked = FALSE",
            tables.refresh_tokens_table()
        );
        let revoke_access =
            format!("UPDATE {} SET revoked = TRUE WHERE id = {p}", tables.access_tokens_table());
        Self { database, app_key, spend_refresh, revoke_access }
    }

    /// Marks the refresh token spent and its access token revoked, in one transaction:
    /// `true` if this call spent it.
    async fn spend(&self, refresh_token_id: &str, access_token_id: &str) -> Result<bool, LaravelError> {
        let (spend, revoke) = (self.spend_refresh.as_str(), self.revoke_access.as_str());
        let result: Result<bool, sqlx::Error> = on_pool!(self.database, pool => async {
            let mut transaction = pool.begin().await?;
            let spent = sqlx::query(spend).bind(refresh_token_id).execute(&mut *transaction).await?.rows_affected();
            if spent != 1 {
                return Ok(false);
            }
            sqlx::query(revoke).bind(access_token_id).execute(&mut *transaction).await?;
            transaction.commit().await?;
            Ok(true)
        }.await);
        result.map_err(|e| LaravelError::database("spending a Passport refresh token", e))
    }
}

impl LegacyRefreshTokens for PassportRefreshTokens {
    async fn redeem(&self, token: &str, client_id: &str) -> Result<LegacyRedemption, BackendError> {
        // Not even shaped like one (league's tokens are hex of defuse's version 2): no KDF.
        if !token.starts_with("def50200") || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(LegacyRedemption::Invalid);
        }
        let (token, key) = (token.to_owned(), self.app_key.clone());
        let plaintext = tokio::task::spawn_blocking(move || decrypt_with_password(&token, key.bytes()))
            .await
            .map_err(|e| BackendError::msg(format!("the decryption task failed: {e}")))?;
        let Some(payload) = plaintext.as_deref().and_then(parse_payload) else {
            tracing::debug!("a refresh token that APP_KEY does not authenticate was refused");
            return Ok(LegacyRedemption::Invalid);
        };
        let Some(user_id) = payload.user_id.clone() else { return Ok(LegacyRedemption::Invalid) };
        if payload.client_id != client_id || payload.expire_time <= unix_now() {
            return Ok(LegacyRedemption::Invalid);
        }
        if !self.spend(&payload.refresh_token_id, &payload.access_token_id).await? {
            tracing::warn!(client_id, "a Passport refresh token already spent or revoked was presented");
            return Ok(LegacyRedemption::Spent { token_id: payload.refresh_token_id });
        }
        Ok(LegacyRedemption::Granted(LegacyGrant::new(
            payload.refresh_token_id,
            client_id,
            user_id,
            payload.scopes,
        )))
    }
}

impl fmt::Debug for PassportRefreshTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassportRefreshTokens").field("database", &self.database).finish_non_exhaustive()
    }
}

/// league's payload: ids are strings or (Passport's integer keys) numbers.
pub(crate) fn parse_payload(plaintext: &[u8]) -> Option<Payload> {
    let value: Value = serde_json::from_slice(plaintext).ok()?;
    let text = |field: &str| match value.get(field)? {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    let scopes = match value.get("scopes") {
        Some(Value::Array(scopes)) => {
            scopes.iter().map(|scope| scope.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>()?
        }
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return None,
    };
    Some(Payload {
        client_id: text("client_id")?,
        refresh_token_id: text("refresh_token_id")?,
        access_token_id: text("access_token_id")?,
        scopes,
        user_id: text("user_id"),
        expire_time: value.get("expire_time")?.as_u64()?,
    })
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn league_payloads_are_read_with_integer_or_string_ids() {
        let payload = parse_payload(
            br#"{"client_id":"3","refresh_token_id":"r1","access_token_id":"a1","scopes":["read"],"user_id":7,"expire_time":1900000000}"#,
        );
        assert_eq!(
            payload,
            Some(Payload {
                client_id: "3".into(),
                refresh_token_id: "r1".into(),
                access_token_id: "a1".into(),
                scopes: vec!["read".into()],
                user_id: Some("7".into()),
                expire_time: 1_900_000_000,
            })
        );
        assert_eq!(
            parse_payload(br#"{"client_id":3,"refresh_token_id":"r1","access_token_id":"a1","scopes":[],"user_id":null,"expire_time":1}"#)
                .map(|p| (p.client_id, p.user_id)),
            Some(("3".into(), None))
        );
        assert_eq!(parse_payload(br#"{"client_id":"3","scopes":[]}"#), None, "no ids");
        assert_eq!(parse_payload(b"not json"), None);
    }
}
