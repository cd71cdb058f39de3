//! The SQL schema and its migrations: the same for SQLite and PostgreSQL, with a
//! configurable table prefix.
//!
//! sqlx's migrator keeps one fixed `_sqlx_migrations` table and static SQL, so two
//! prefixes could not share a database; this runner (`migrate.rs`) keeps
//! `<prefix>migrations`, applies each step with its record in one transaction, under the
//! engine's migration lock, and reports a step an older version left marked as started.

/// One migration step: its version, what it does, and its SQL with `{p}` for the prefix.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) description: &'static str,
    pub(crate) sql: &'static str,
}

pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "clients, tokens, families, revocations, settings",
        sql: include_str!("migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        description: "families and refresh tokens by user",
        sql: include_str!("migrations/0002_user_indexes.sql"),
    },
    Migration {
        version: 3,
        description: "client redirect URIs, owner and PKCE requirement",
        sql: include_str!("migrations/0003_client_redirect_uris.sql"),
    },
    Migration {
        version: 4,
        description: "authorization codes",
        sql: include_str!("migrations/0004_authorization_codes.sql"),
    },
    Migration {
        version: 5,
        description: "the user provider of a client",
        sql: include_str!("migrations/0005_client_provider.sql"),
    },
    Migration {
        version: 6,
        description: "when a refresh token was used, in milliseconds",
        sql: include_str!("migrations/0006_refresh_used_at_ms.sql"),
    },
    Migration {
        version: 7,
        description: "each user's first-party cookie not-before instant",
        sql: include_str!("migrations/0007_user_not_before.sql"),
    },
    Migration {
        version: 8,
        description: "whether a client skips the approval screen",
        sql: include_str!("migrations/0008_client_skips_authorization.sql"),
    },
    Migration {
        version: 9,
        description: "failed authentication attempts, for the throttle",
        sql: include_str!("migrations/0009_auth_failures.sql"),
    },
];

/// The SQL of `migration` for `prefix`, split into statements.
pub(crate) fn statements(migration: &Migration, prefix: &str) -> Vec<String> {
    migration
        .sql
        .split(';')
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
