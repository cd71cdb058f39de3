//! The names of Passport's tables, configurable as Passport lets an app rename its models.

use crate::error::{LaravelError, LaravelErrorKind};

/// The names of Passport's tables, its defaults unless the app renamed them.
///
/// `oauth_access_tokens`, `oauth_refresh_tokens` and `oauth_clients` by default; an app
/// renames them with its own models (`Passport::useTokenModel` and friends) or a table
/// prefix in `config/database.php`.
///
/// Every name is checked to be a plain SQL identifier (letters, digits, `_`, optionally
/// one `.` for a schema), as it is written into the queries.
///
/// ```
/// use tower_passport_laravel::PassportTables;
/// # fn main() -> Result<(), tower_passport_laravel::LaravelError> {
/// let tables = PassportTables::default().access_tokens("app_oauth_access_tokens")?;
/// assert_eq!(tables.access_tokens_table(), "app_oauth_access_tokens");
/// assert_eq!(tables.clients_table(), "oauth_clients");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PassportTables {
    access_tokens: String,
    refresh_tokens: String,
    clients: String,
}

impl Default for PassportTables {
    fn default() -> Self {
        Self {
            access_tokens: "oauth_access_tokens".into(),
            refresh_tokens: "oauth_refresh_tokens".into(),
            clients: "oauth_clients".into(),
        }
    }
}

impl PassportTables {
    /// Every table name prefixed with `prefix` (Laravel's `prefix` connection option).
    ///
    /// # Errors
    /// When `prefix` is not made of letters, digits and `_`.
    pub fn with_prefix(prefix: &str) -> Result<Self, LaravelError> {
        let defaults = Self::default();
        Ok(Self {
            access_tokens: identifier(&format!("{prefix}{}", defaults.access_tokens))?,
            refresh_tokens: identifier(&format!("{prefix}{}", defaults.refresh_tokens))?,
            clients: identifier(&format!("{prefix}{}", defaults.clients))?,
        })
    }

    /// The access tokens' table (`oauth_access_tokens`).
    ///
    /// # Errors
    /// When `name` is not a plain SQL identifier.
    pub fn access_tokens(mut self, name: &str) -> Result<Self, LaravelError> {
        self.access_tokens = identifier(name)?;
        Ok(self)
    }

    /// The refresh tokens' table (`oauth_refresh_tokens`).
    ///
    /// # Errors
    /// When `name` is not a plain SQL identifier.
    pub fn refresh_tokens(mut self, name: &str) -> Result<Self, LaravelError> {
        self.refresh_tokens = identifier(name)?;
        Ok(self)
    }

    /// The clients' table (`oauth_clients`).
    ///
    /// # Errors
    /// When `name` is not a plain SQL identifier.
    pub fn clients(mut self, name: &str) -> Result<Self, LaravelError> {
        self.clients = identifier(name)?;
        Ok(self)
    }

    /// The access tokens' table name.
    pub fn access_tokens_table(&self) -> &str {
        &self.access_tokens
    }

    /// The refresh tokens' table name.
    pub fn refresh_tokens_table(&self) -> &str {
        &self.refresh_tokens
    }

    /// The clients' table name.
    pub fn clients_table(&self) -> &str {
        &self.clients
    }
}

/// `name` if it is a plain SQL identifier: ASCII letters, digits and `_`, not starting
/// with a digit, at most 64 bytes, optionally `schema.table`.
pub(crate) fn identifier(name: &str) -> Result<String, LaravelError> {
    let part_ok = |part: &str| {
        !part.is_empty()
            && part.len() <= 64
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !part.as_bytes()[0].is_ascii_digit()
    };
    let mut parts = name.split('.');
    let ok = match (parts.next(), parts.next(), parts.next()) {
        (Some(table), None, None) => part_ok(table),
        (Some(schema), Some(table), None) => part_ok(schema) && part_ok(table),
        _ => false,
    };
    if ok {
        Ok(name.to_owned())
    } else {
        Err(LaravelError::new(
            LaravelErrorKind::Identifier,
            format!("{name:?} is not a plain SQL identifier (letters, digits, _)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_identifiers_pass_and_anything_that_could_change_a_query_does_not() {
        for good in ["oauth_clients", "app.oauth_clients", "_t1", "OAuthClients"] {
            assert_eq!(identifier(good).as_deref().ok(), Some(good));
        }
        for bad in ["", "1table", "a b", "a;b", "a.b.c", "a.", "\"quoted\"", "t`", "tåble"] {
            assert!(identifier(bad).is_err(), "{bad:?} was taken");
        }
    }

    #[test]
    fn a_prefix_is_put_before_every_table() {
        let tables = PassportTables::with_prefix("app_").expect("prefix");
        assert_eq!(tables.access_tokens_table(), "app_oauth_access_tokens");
        assert_eq!(tables.refresh_tokens_table(), "app_oauth_refresh_tokens");
        assert_eq!(tables.clients_table(), "app_oauth_clients");
        assert!(PassportTables::with_prefix("app-").is_err());
    }
}
