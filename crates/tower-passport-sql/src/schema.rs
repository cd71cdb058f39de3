//! The SQL schema and its migrations: the same for SQLite and PostgreSQL (`migrations/`),
//! and MySQL/MariaDB's own text of each step (`migrations/mysql/`), with a configurable
//! table prefix.
//!
//! MySQL's text differs in the column types, nothing else. A key or an indexed column
//! cannot be `TEXT` there, and MySQL's string collations compare `abc` equal to `ABC` (and
//! to `abc `), so ids and hashes are `VARBINARY(255)`: compared byte for byte, as on the
//! other engines (`rows::Text` reads them back as UTF-8). A `TEXT` column takes no
//! `DEFAULT` on every MySQL version, so `redirect_uris` gets the implicit one (the empty
//! string). Every table is InnoDB (row locks, transactions) in `utf8mb4`. Timestamps stay
//! `BIGINT` seconds, as elsewhere.
//!
//! sqlx's migrator keeps one fixed `_sqlx_migrations` table and static SQL, so two
//! prefixes could not share a database; this runner (`migrate.rs`) keeps
//! `<prefix>migrations`, applies each step with its record in one transaction, under the
//! engine's migration lock, and reports a step an older version left marked as started.

use super::queries::Syntax;

/// One migration step: its version, what it does, and its SQL with `{p}` for the prefix,
/// for SQLite and PostgreSQL and for MySQL.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) description: &'static str,
    pub(crate) sql: &'static str,
    pub(crate) mysql: &'static str,
}

pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "clients, tokens, families, revocations, settings",
        sql: include_str!("migrations/0001_initial.sql"),
        mysql: include_str!("migrations/mysql/0001_initial.sql"),
    },
    Migration {
        version: 2,
        description: "families and refresh tokens by user",
        sql: include_str!("migrations/0002_user_indexes.sql"),
        mysql: include_str!("migrations/mysql/0002_user_indexes.sql"),
    },
    Migration {
        version: 3,
        description: "client redirect URIs, owner and PKCE requirement",
        sql: include_str!("migrations/0003_client_redirect_uris.sql"),
        mysql: include_str!("migrations/mysql/0003_client_redirect_uris.sql"),
    },
    Migration {
        version: 4,
        description: "authorization codes",
        sql: include_str!("migrations/0004_authorization_codes.sql"),
        mysql: include_str!("migrations/mysql/0004_authorization_codes.sql"),
    },
    Migration {
        version: 5,
        description: "the user provider of a client",
        sql: include_str!("migrations/0005_client_provider.sql"),
        mysql: include_str!("migrations/mysql/0005_client_provider.sql"),
    },
    Migration {
        version: 6,
        description: "when a refresh token was used, in milliseconds",
        sql: include_str!("migrations/0006_refresh_used_at_ms.sql"),
        mysql: include_str!("migrations/mysql/0006_refresh_used_at_ms.sql"),
    },
    Migration {
        version: 7,
        description: "each user's first-party cookie not-before instant",
        sql: include_str!("migrations/0007_user_not_before.sql"),
        mysql: include_str!("migrations/mysql/0007_user_not_before.sql"),
    },
    Migration {
        version: 8,
        description: "whether a client skips the approval screen",
        sql: include_str!("migrations/0008_client_skips_authorization.sql"),
        mysql: include_str!("migrations/mysql/0008_client_skips_authorization.sql"),
    },
    Migration {
        version: 9,
        description: "failed authentication attempts, for the throttle",
        sql: include_str!("migrations/0009_auth_failures.sql"),
        mysql: include_str!("migrations/mysql/0009_auth_failures.sql"),
    },
    Migration {
        version: 10,
        description: "device authorization requests (RFC 8628)",
        sql: include_str!("migrations/0010_device_codes.sql"),
        mysql: include_str!("migrations/mysql/0010_device_codes.sql"),
    },
    Migration {
        version: 11,
        description: "RFC 8707 resource indicators: clients' allowed resources, grants' resources",
        sql: include_str!("migrations/0011_resource_indicators.sql"),
        mysql: include_str!("migrations/mysql/0011_resource_indicators.sql"),
    },
    Migration {
        version: 12,
        description: "the DPoP key a refresh token or an authorization code is bound to",
        sql: include_str!("migrations/0012_dpop_jkt.sql"),
        mysql: include_str!("migrations/mysql/0012_dpop_jkt.sql"),
    },
    Migration {
        version: 13,
        description: "a user's tokens indexed by client, revocation, use and expiry",
        sql: include_str!("migrations/0013_user_client_indexes.sql"),
        mysql: include_str!("migrations/mysql/0013_user_client_indexes.sql"),
    },
];

/// The SQL of `migration` for `prefix` in `syntax`, split into statements.
pub(crate) fn statements(migration: &Migration, prefix: &str, syntax: Syntax) -> Vec<String> {
    let sql = match syntax {
        Syntax::Standard => migration.sql,
        Syntax::MySql => migration.mysql,
    };
    sql.split(';')
        .map(|statement| statement.trim())
        .filter(|statement| {
            !statement.is_empty()
                && !statement.lines().all(|l| l.trim().is_empty() || l.trim().starts_with("--"))
        })
        .map(|statement| statement.replace("{p}", prefix))
        .collect()
}

/// A table prefix must be a plain SQL identifier fragment.
pub(crate) fn valid_prefix(prefix: &str) -> bool {
    prefix.len() <= 32 && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_as_many_statements_for_mysql_as_for_the_others() {
        for migration in MIGRATIONS {
            let standard = statements(migration, "p_", Syntax::Standard);
            let mysql = statements(migration, "p_", Syntax::MySql);
            assert_eq!(standard.len(), mysql.len(), "migration {}", migration.version);
            for (standard, mysql) in standard.iter().zip(&mysql) {
                // The same statement: the same verb on the same table.
                let head = |sql: &str| {
                    let code = sql.lines().filter(|line| !line.trim_start().starts_with("--"));
                    code.flat_map(str::split_whitespace).take(3).collect::<Vec<_>>().join(" ")
                };
                assert_eq!(head(standard), head(mysql), "migration {}", migration.version);
                assert!(!mysql.contains(" TEXT PRIMARY KEY"), "{mysql}");
            }
        }
    }
}
