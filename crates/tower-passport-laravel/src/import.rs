//! `passport import laravel`: Passport's `oauth_clients` copied into the issuer's store,
//! ids, secrets and all, so that no client re-registers at the cut-over.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tower_passport_issuer::store::{ClientRecord, ClientSecretHash, ClientStore, GrantType, SecretHash};

use crate::database::{on_pool, Engine, PassportDatabase};
use crate::error::{LaravelError, LaravelErrorKind};
use crate::tables::PassportTables;

/// What [`import_clients`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportReport {
    /// The ids of the clients copied.
    pub copied: Vec<String>,
    /// The clients left out, each with why.
    pub skipped: Vec<(String, SkipReason)>,
}

/// Why a client was not copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// The store has a client with this id already (an earlier import): the import is
    /// idempotent, and never overwrites.
    Exists,
    /// Passport's personal access client: the issuer has its own (the tokens it minted
    /// keep passing through Passport's public key until they expire).
    PersonalAccessClient,
    /// A row without an id or a name.
    Incomplete,
}

impl SkipReason {
    /// A short sentence, for the CLI's report.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Exists => "already in the store",
            Self::PersonalAccessClient => "Passport's personal access client (the issuer has its own)",
            Self::Incomplete => "a row without an id or a name",
        }
    }
}

/// The columns of Passport's `oauth_clients` read, across versions: up to 12
/// (`user_id`, `redirect`, `personal_access_client`, `password_client`) and 13
/// (`owner_type`/`owner_id`, `redirect_uris`, `grant_types`).
const COLUMNS: [(&str, Kind); 13] = [
    ("id", Kind::Text),
    ("name", Kind::Text),
    ("secret", Kind::Text),
    ("provider", Kind::Text),
    ("user_id", Kind::Text),
    ("owner_id", Kind::Text),
    ("redirect", Kind::Text),
    ("redirect_uris", Kind::Text),
    ("grant_types", Kind::Text),
    ("personal_access_client", Kind::Flag),
    ("password_client", Kind::Flag),
    ("revoked", Kind::Flag),
    ("owner_type", Kind::Text),
];

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Flag,
}

/// Copies Passport's clients from `database` into `store`, reading only.
///
/// It keeps ids as they are
/// (Passport's integers too), names, owners (`user_id`, or Passport 13's `owner_id`),
/// providers, redirect URIs (≤ 12's comma-separated `redirect`, 13's JSON
/// `redirect_uris`), grants (13's `grant_types`; before, `password_client` gives the
/// password and refresh grants, any other client the authorization code and refresh
/// grants, and client credentials when confidential), and `revoked`. A client's bcrypt
/// secret hash is kept as it is (the issuer verifies it with bcrypt); a plaintext secret
/// (Passport without `hashClientSecrets`) is hashed here. A client without a secret is
/// public (PKCE). Clients already in the store are skipped: running it twice copies
/// nothing new.
///
/// ```
/// use std::sync::Arc;
/// use tower_passport_issuer::store::MemoryStore;
/// use tower_passport_laravel::{import_clients, PassportDatabase, PassportTables};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let laravel = PassportDatabase::connect_lazy("sqlite::memory:")?;
/// let store = Arc::new(MemoryStore::new());
/// // An empty database has no oauth_clients table: the import says so.
/// assert!(import_clients(&laravel, &PassportTables::default(), &store).await.is_err());
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// When Passport's table cannot be read, or the store refuses a write (the clients copied
/// before it stay copied; running it again goes on from there).
pub async fn import_clients(
    database: &PassportDatabase,
    tables: &PassportTables,
    store: &impl ClientStore,
) -> Result<ImportReport, LaravelError> {
    let present = columns_of(database, tables.clients_table()).await?;
    let selected: Vec<(&str, Kind)> =
        COLUMNS.into_iter().filter(|(name, _)| present.iter().any(|p| p == name)).collect();
    if !selected.iter().any(|(name, _)| *name == "id") {
        return Err(LaravelError::new(LaravelErrorKind::Database, "oauth_clients has no id column"));
    }
    let text = match database.engine() {
        Engine::MySql => "CHAR",
        Engine::Postgres | Engine::Sqlite => "TEXT",
    };
    let expressions: Vec<String> = selected
        .iter()
        .map(|(name, kind)| match kind {
            Kind::Text => format!("CAST({name} AS {text})"),
            Kind::Flag => format!("CASE WHEN {name} THEN '1' ELSE '0' END"),
        })
        .collect();
    let sql = format!("SELECT {} FROM {} ORDER BY id", expressions.join(", "), tables.clients_table());
    let count = selected.len();
    let rows: Result<Vec<Vec<Option<String>>>, sqlx::Error> = on_pool!(database, pool => async {
        use sqlx::Row;
        let rows = sqlx::query(&sql).fetch_all(pool).await?;
        rows.iter()
            .map(|row| (0..count).map(|i| row.try_get::<Option<String>, _>(i)).collect::<Result<Vec<_>, _>>())
            .collect::<Result<Vec<_>, _>>()
    }.await);
    let rows = rows.map_err(|e| LaravelError::database("reading oauth_clients", e))?;

    let mut report = ImportReport::default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
    for values in rows {
        let field = |name: &str| -> Option<&str> {
            let index = selected.iter().position(|(column, _)| *column == name)?;
            values.get(index)?.as_deref()
        };
        let flag = |name: &str| field(name) == Some("1");
        let (Some(id), Some(name)) = (field("id").filter(|id| !id.is_empty()), field("name")) else {
            report.skipped.push((field("id").unwrap_or_default().to_owned(), SkipReason::Incomplete));
            continue;
        };
        if flag("personal_access_client") || grant_types(field("grant_types")).contains(&"personal_access") {
            report.skipped.push((id.to_owned(), SkipReason::PersonalAccessClient));
            continue;
        }
        let existing = store.client(id).await.map_err(store_error)?;
        if existing.is_some() {
            report.skipped.push((id.to_owned(), SkipReason::Exists));
            continue;
        }
        let secret_hash = field("secret").filter(|secret| !secret.is_empty()).map(|secret| {
            ClientSecretHash::bcrypt(secret).unwrap_or_else(|| SecretHash::of(secret.as_bytes()).into())
        });
        let confidential = secret_hash.is_some();
        let grants = match field("grant_types") {
            Some(json) => grant_types(Some(json)).into_iter().filter_map(GrantType::from_name).collect(),
            None if flag("password_client") => vec![GrantType::Password, GrantType::RefreshToken],
            None if confidential => {
                vec![GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials]
            }
            None => vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        };
        let owner = field("owner_id").or_else(|| field("user_id")).filter(|owner| !owner.is_empty());
        let record = ClientRecord {
            id: id.to_owned(),
            name: name.to_owned(),
            secret_hash,
            grants,
            allowed_scopes: None,
            // Passport's `Client::firstParty()`: its password (and personal access) clients.
            first_party: flag("password_client"),
            skips_authorization: false,
            revoked: flag("revoked"),
            created_at: now,
            redirect_uris: redirect_uris(field("redirect_uris"), field("redirect")),
            owner: owner.map(str::to_owned),
            // A public client always must; Passport never asked it of confidential ones.
            require_pkce: !confidential,
            provider: field("provider").filter(|provider| !provider.is_empty()).map(str::to_owned),
            allowed_resources: None,
        };
        store.put_client(record).await.map_err(store_error)?;
        report.copied.push(id.to_owned());
    }
    Ok(report)
}

/// The column names of `table`.
async fn columns_of(database: &PassportDatabase, table: &str) -> Result<Vec<String>, LaravelError> {
    let sql = format!("SELECT * FROM {table} WHERE 1 = 0");
    let names: Result<Vec<String>, sqlx::Error> = on_pool!(database, pool => async {
        use sqlx::{Column, Executor, Statement};
        let statement = pool.prepare(sql.as_str()).await?;
        Ok(statement.columns().iter().map(|column| column.name().to_ascii_lowercase()).collect())
    }.await);
    names.map_err(|e| LaravelError::database("reading oauth_clients' columns", e))
}

/// Passport 13's `grant_types`: a JSON array of grant names.
pub(crate) fn grant_types(json: Option<&str>) -> Vec<&str> {
    let Some(json) = json else { return Vec::new() };
    let parsed: Option<Value> = serde_json::from_str(json).ok();
    let names: Vec<String> = parsed
        .as_ref()
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    // Borrowed back from the text: every name is a substring of it.
    names.iter().filter_map(|name| json.find(name.as_str()).map(|at| &json[at..at + name.len()])).collect()
}

/// Passport 13's JSON `redirect_uris`, else ≤ 12's comma-separated `redirect`.
pub(crate) fn redirect_uris(json: Option<&str>, comma_separated: Option<&str>) -> Vec<String> {
    if let Some(Value::Array(uris)) = json.and_then(|json| serde_json::from_str(json).ok()) {
        return uris.iter().filter_map(Value::as_str).map(str::to_owned).collect();
    }
    comma_separated
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|uri| !uri.is_empty())
        .map(str::to_owned)
        .collect()
}

fn store_error(error: tower_passport_issuer::store::StoreError) -> LaravelError {
    LaravelError::new(LaravelErrorKind::Store, "the issuer's store refused the import").with_source(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_come_from_either_passports_column() {
        assert_eq!(
            redirect_uris(None, Some("https://a.test/cb, https://b.test/cb,")),
            vec!["https://a.test/cb".to_owned(), "https://b.test/cb".to_owned()]
        );
        assert_eq!(
            redirect_uris(Some(r#"["https://c.test/cb"]"#), Some("https://a.test/cb")),
            vec!["https://c.test/cb".to_owned()]
        );
        assert!(redirect_uris(None, Some("")).is_empty());
    }

    #[test]
    fn passport_13_grant_types_are_read_from_json() {
        assert_eq!(
            grant_types(Some(r#"["authorization_code","refresh_token"]"#)),
            ["authorization_code", "refresh_token"]
        );
        assert!(grant_types(Some("not json")).is_empty());
        assert!(grant_types(None).is_empty());
    }

    #[test]
    fn a_passport_13_device_client_keeps_its_device_grant() {
        let device = r#"["urn:ietf:params:oauth:grant-type:device_code","refresh_token"]"#;
        let grants: Vec<GrantType> =
            grant_types(Some(device)).into_iter().filter_map(GrantType::from_name).collect();
        assert_eq!(grants, [GrantType::DeviceCode, GrantType::RefreshToken]);
    }
}
