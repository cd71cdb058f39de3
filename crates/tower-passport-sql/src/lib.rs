//! SQL stores (features `sqlite`, `postgres` and `mysql`), on sqlx, with one schema and one
//! set of queries for every engine.
//!
//! - [`SqliteStore`]: one file, the embedded default. [`PostgresStore`]: shared by every
//!   node, with revocations sent to the other nodes by LISTEN/NOTIFY ([`PgRevocationBus`]).
//!   [`MySqlStore`] (MySQL or MariaDB, InnoDB; tested on MariaDB 10.11): shared by every node, the
//!   database a Laravel application usually has. MySQL has no LISTEN/NOTIFY, so there
//!   revocations reach the other nodes through another bus (Redis:
//!   `tower_passport_redis::RedisRevocationBus`), or within the revocation cache's TTL.
//! - Migrations are embedded and run by an explicit `migrate()` call, under a lock the
//!   engine provides (PostgreSQL: `pg_advisory_lock`; SQLite: `BEGIN IMMEDIATE`; MySQL:
//!   `GET_LOCK`), so nodes started together on an empty database all come up and the schema
//!   is applied once. A step a previous run left unfinished is reported clearly, never
//!   re-run behind your back (MySQL cannot roll DDL back, so a step that fails there is
//!   left marked as started, for the operator to check).
//! - Every table name starts with a configurable prefix (`passport_` by default).
//! - Rotation runs in one transaction: PostgreSQL and MySQL lock the family row and the
//!   token row (`SELECT … FOR UPDATE`), SQLite takes the database write lock up front
//!   (`BEGIN IMMEDIATE`), so concurrent refreshes, on one node or several, have exactly
//!   one winner. Which way a rotation goes is `store::rotation::plan`, as for every store.
//! - Authorization codes ([`CodeStore`](tower_passport_issuer::store::CodeStore)) are taken the same way:
//!   one write transaction locks the code's row, so of concurrent exchanges exactly one
//!   finds the code unused. A code's record is kept a day past its expiry, then
//!   [`PurgeStore::purge`](tower_passport_issuer::store::PurgeStore::purge) (with `expired`) removes it.
//!
//! - Failed authentication attempts ([`FailureStore`](tower_passport_issuer::store::FailureStore), for the
//!   issuer's [`Throttle`](tower_passport_issuer::Throttle)) are one row per hashed key, recorded by
//!   one atomic upsert, so every node of a deployment counts the same failures.
//!
//! The code is written once, generic over the sqlx engine: the statements are constants in
//! `queries.rs` (rendered for the table prefix once per store), the row decoders are generic
//! functions in `rows.rs`, the migration runner is `migrate.rs`, and the store's operations
//! are `store.rs`. What differs per engine (how a write transaction begins, the row-lock
//! clause, the dialect, the migration lock) is one small `Engine` impl (`engine.rs`) in
//! `sqlite.rs`, `postgres.rs` and `mysql.rs`; MySQL's upserts and column types are its
//! own (`queries.rs`, `migrations/mysql/`).

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, clippy::too_long_first_doc_paragraph)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// With neither backend on, the shared engine has nothing to serve.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_imports, unused_macros)
)]

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
mod bus;
mod clients;
mod codes;
mod convert;
mod devices;
mod engine;
mod failures;
mod migrate;
mod queries;
mod rows;
mod schema;
mod store;
mod upkeep;
mod user_tokens;

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use bus::PgRevocationBus;
#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
pub use mysql::MySqlStore;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteStore;

/// The default table prefix.
pub const DEFAULT_PREFIX: &str = "passport_";

/// `prefix`, if it is a plain identifier fragment; a configuration error otherwise.
fn checked_prefix(prefix: &str) -> Result<String, tower_passport_issuer::store::StoreError> {
    if schema::valid_prefix(prefix) {
        Ok(prefix.to_owned())
    } else {
        Err(tower_passport_issuer::store::StoreError::config(
            "a table prefix may hold only ASCII letters, digits and '_' (32 at most)",
        ))
    }
}
