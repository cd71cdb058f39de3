//! Column conversions shared by the SQL stores.

use tower_passport_issuer::store::{ClientSecretHash, GrantType, SecretHash, StoreError};

/// Timestamps are `u64` in the API and `BIGINT` in SQL.
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

pub(crate) fn opt_uint(value: Option<i64>) -> Option<u64> {
    value.map(uint)
}

pub(crate) fn join(items: &[String]) -> String {
    items.join(" ")
}

pub(crate) fn split(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

pub(crate) fn grants_text(grants: &[GrantType]) -> String {
    grants.iter().map(|g| g.name()).collect::<Vec<_>>().join(" ")
}

pub(crate) fn grants(text: &str) -> Result<Vec<GrantType>, StoreError> {
    text.split_whitespace()
        .map(|name| GrantType::from_name(name).ok_or_else(|| corrupt(format!("unknown grant {name:?}"))))
        .collect()
}

/// A client's stored secret hash: 64 hex digits (SHA-256) or an imported bcrypt hash.
pub(crate) fn client_secret_hash(text: &str) -> Result<ClientSecretHash, StoreError> {
    ClientSecretHash::from_stored(text)
        .ok_or_else(|| corrupt("a stored client secret hash is neither 64 hex digits nor bcrypt".into()))
}

pub(crate) fn hash(text: &str) -> Result<SecretHash, StoreError> {
    SecretHash::from_hex(text).ok_or_else(|| corrupt("a stored hash is not 64 hex digits".into()))
}

/// A row that does not decode into a record.
pub(crate) fn corrupt(message: String) -> StoreError {
    StoreError::backend(Corrupt(message))
}

#[derive(Debug)]
pub(crate) struct Corrupt(String);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt row: {}", self.0)
    }
}

impl std::error::Error for Corrupt {}
