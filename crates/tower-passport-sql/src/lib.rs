//! SQL stores (features `sqlite` and `postgres`), on sqlx, with one schema and one set of
//! queries for both engines.
//!
//! - Migrations are embedded and run by an explicit `migrate()` call, under a lock the
//!   engine provides (PostgreSQL: `pg_advisory_lock`; SQLite: `BEGIN IMMEDIATE`), so nodes
//!   started together on an empty database all come up and the schema is applied once. A
//!   step a previous run left unfinished is reported clearly, never re-run behind your back.
//! - Every table name starts with a configurable prefix (`passport_` by default).
//! - Rotation runs in one transaction: PostgreSQL locks the family row and the token row
//!   (`SELECT … FOR UPDATE`), SQLite takes the database write lock up front
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
//! clause, the migration lock) is one small `Engine` impl (`engine.rs`) in `sqlite.rs` and `postgres.rs`.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, clippy::too_long_first_doc_paragraph)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// With neither backend on, the shared engine has nothing to serve.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(dead_code, unused_imports, unused_macros)
)]

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
mod bus;
mod clients;
mod codes;
mod convert;
mod engine;
mod failures;
mod migrate;
mod queries;
mod rows;
mod schema;
mod store;
mod upkeep;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub use bus::PgRevocationBus;
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
