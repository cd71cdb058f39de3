//! Row decoders, written once for every engine: generic over any sqlx row that can decode
//! the column types the schema uses ([`Columns`]).

use sqlx::error::BoxDynError;
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::convert;
use tower_passport_issuer::store::{
    AccessTokenRecord, AuthorizationCodeRecord, ClientRecord, FamilyRecord, IssuedFromCode,
    RefreshTokenRecord, StoreError,
};

/// Reading a row's columns by name, as the schema's types: `TEXT` (on MySQL also
/// `VARBINARY`, see [`Text`]), `BIGINT`, `BOOLEAN`, each maybe `NULL`. A column that is
/// missing or of another type is a backend error.
pub(crate) trait Columns {
    /// A `TEXT NOT NULL` column.
    fn text(&self, column: &str) -> Result<String, StoreError>;
    /// A `TEXT` column.
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    /// A `BIGINT NOT NULL` column.
    fn int(&self, column: &str) -> Result<i64, StoreError>;
    /// A `BIGINT` column.
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    /// A `BOOLEAN NOT NULL` column.
    fn flag(&self, column: &str) -> Result<bool, StoreError>;
}

impl<R> Columns for R
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    Text: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    bool: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.try_get(column).map(|Text(text)| text).map_err(StoreError::backend)
    }
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.try_get(column)
            .map(|text: Option<Text>| text.map(|Text(text)| text))
            .map_err(StoreError::backend)
    }
    fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.try_get(column).map_err(StoreError::backend)
    }
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        self.try_get(column).map_err(StoreError::backend)
    }
    fn flag(&self, column: &str) -> Result<bool, StoreError> {
        self.try_get(column).map_err(StoreError::backend)
    }
}

/// A text column's value, decoded as a `String` is, except on MySQL: there the ids and
/// hashes are `VARBINARY` (so that they compare byte for byte, see `schema.rs`), which sqlx
/// will not decode as a `String`; [`Text`] takes both and checks the UTF-8 itself.
pub(crate) struct Text(pub(crate) String);

/// [`Text`] as `String`, on an engine whose text columns are all text.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! text_as_string {
    ($engine:ty) => {
        impl Type<$engine> for Text {
            fn type_info() -> <$engine as sqlx::Database>::TypeInfo {
                <String as Type<$engine>>::type_info()
            }
            fn compatible(ty: &<$engine as sqlx::Database>::TypeInfo) -> bool {
                <String as Type<$engine>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, $engine> for Text {
            fn decode(value: <$engine as sqlx::Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                <String as Decode<'r, $engine>>::decode(value).map(Text)
            }
        }
    };
}

#[cfg(feature = "sqlite")]
text_as_string!(sqlx::Sqlite);
#[cfg(feature = "postgres")]
text_as_string!(sqlx::Postgres);

#[cfg(feature = "mysql")]
impl Type<sqlx::MySql> for Text {
    fn type_info() -> sqlx::mysql::MySqlTypeInfo {
        <String as Type<sqlx::MySql>>::type_info()
    }
    fn compatible(ty: &sqlx::mysql::MySqlTypeInfo) -> bool {
        <String as Type<sqlx::MySql>>::compatible(ty) || <[u8] as Type<sqlx::MySql>>::compatible(ty)
    }
}

#[cfg(feature = "mysql")]
impl<'r> Decode<'r, sqlx::MySql> for Text {
    fn decode(value: sqlx::mysql::MySqlValueRef<'r>) -> Result<Self, BoxDynError> {
        let bytes = <&[u8] as Decode<'r, sqlx::MySql>>::decode(value)?;
        Ok(Text(String::from_utf8(bytes.to_vec())?))
    }
}

/// A `{p}clients` row.
pub(crate) fn client(row: &impl Columns) -> Result<ClientRecord, StoreError> {
    Ok(ClientRecord {
        id: row.text("id")?,
        name: row.text("name")?,
        secret_hash: row
            .opt_text("secret_hash")?
            .map(|hash| convert::client_secret_hash(&hash))
            .transpose()?,
        grants: convert::grants(&row.text("grants")?)?,
        allowed_scopes: row.opt_text("allowed_scopes")?.map(|scopes| convert::split(&scopes)),
        first_party: row.flag("first_party")?,
        skips_authorization: row.flag("skips_authorization")?,
        revoked: row.flag("revoked")?,
        created_at: convert::uint(row.int("created_at")?),
        redirect_uris: convert::split(&row.text("redirect_uris")?),
        owner: row.opt_text("owner_id")?,
        require_pkce: row.flag("require_pkce")?,
        provider: row.opt_text("provider")?,
        allowed_resources: row.opt_text("allowed_resources")?.map(|resources| convert::split(&resources)),
    })
}

/// A `{p}access_tokens` row.
pub(crate) fn access(row: &impl Columns) -> Result<AccessTokenRecord, StoreError> {
    Ok(AccessTokenRecord {
        jti: row.text("jti")?,
        client_id: row.text("client_id")?,
        user_id: row.opt_text("user_id")?,
        scopes: convert::split(&row.text("scopes")?),
        family_id: row.opt_text("family_id")?,
        name: row.opt_text("name")?,
        personal: row.flag("personal")?,
        issued_at: convert::uint(row.int("issued_at")?),
        expires_at: convert::uint(row.int("expires_at")?),
        revoked_at: convert::opt_uint(row.opt_int("revoked_at")?),
    })
}

/// A `{p}refresh_tokens` row.
pub(crate) fn refresh(row: &impl Columns) -> Result<RefreshTokenRecord, StoreError> {
    Ok(RefreshTokenRecord {
        id: row.text("id")?,
        secret_hash: convert::hash(&row.text("secret_hash")?)?,
        family_id: row.text("family_id")?,
        client_id: row.text("client_id")?,
        user_id: row.opt_text("user_id")?,
        scopes: convert::split(&row.text("scopes")?),
        access_jti: row.text("access_jti")?,
        issued_at: convert::uint(row.int("issued_at")?),
        expires_at: convert::uint(row.int("expires_at")?),
        used_at: convert::opt_uint(row.opt_int("used_at")?),
        used_at_millis: convert::opt_uint(row.opt_int("used_at_ms")?),
        revoked_at: convert::opt_uint(row.opt_int("revoked_at")?),
        dpop_jkt: row.opt_text("dpop_jkt")?,
        resources: convert::split(&row.opt_text("resources")?.unwrap_or_default()),
    })
}

/// A `{p}families` row.
pub(crate) fn family(row: &impl Columns) -> Result<FamilyRecord, StoreError> {
    Ok(FamilyRecord {
        id: row.text("id")?,
        client_id: row.text("client_id")?,
        user_id: row.opt_text("user_id")?,
        created_at: convert::uint(row.int("created_at")?),
        revoked_at: convert::opt_uint(row.opt_int("revoked_at")?),
        current: row.text("current_id")?,
        previous: row.opt_text("previous_id")?,
    })
}

/// A `{p}authorization_codes` row.
pub(crate) fn code(row: &impl Columns) -> Result<AuthorizationCodeRecord, StoreError> {
    let issued = row.opt_text("issued_access_jti")?.map(|access_jti| -> Result<_, StoreError> {
        Ok(IssuedFromCode { access_jti, family_id: row.opt_text("issued_family_id")? })
    });
    Ok(AuthorizationCodeRecord {
        hash: convert::hash(&row.text("hash")?)?,
        client_id: row.text("client_id")?,
        user_id: row.text("user_id")?,
        redirect_uri: row.opt_text("redirect_uri")?,
        scopes: convert::split(&row.text("scopes")?),
        code_challenge: row.opt_text("code_challenge")?,
        nonce: row.opt_text("nonce")?,
        dpop_jkt: row.opt_text("dpop_jkt")?,
        issued_at: convert::uint(row.int("issued_at")?),
        expires_at: convert::uint(row.int("expires_at")?),
        used_at: convert::opt_uint(row.opt_int("used_at")?),
        reused_at: convert::opt_uint(row.opt_int("reused_at")?),
        issued: issued.transpose()?,
        resources: convert::split(&row.opt_text("resources")?.unwrap_or_default()),
    })
}
