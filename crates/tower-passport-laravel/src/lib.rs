//! Moving off Laravel Passport without logging anyone out: its tables read from Rust.
//!
//! The guide is `docs/migrating-from-passport.md`. This crate holds what needs Passport's
//! database (sqlx, features `mysql`, `postgres` and `sqlite`), so that the guard
//! (`tower-passport`) and the issuer (`tower-passport-issuer`) never depend on sqlx:
//!
//! - [`PassportRevocations`]: a [`RevocationCheck`](tower_passport::RevocationCheck) over
//!   `oauth_access_tokens` and `oauth_clients`, cached with a staleness bound and single
//!   flight per `jti`, failing closed. Rust services behind Passport's tokens honour a
//!   logout, a revoked client and a `passport:purge` within seconds (the strangler step).
//! - [`PassportRefreshTokens`]: the issuer's refresh grant redeems Passport's refresh
//!   tokens once (decrypted with the [`AppKey`], spent in `oauth_refresh_tokens`), so
//!   users keep their sessions through the cut-over.
//! - [`import_clients`]: Passport's `oauth_clients` copied into the issuer's store, ids
//!   (integers too), bcrypt secret hashes, redirect URIs and grants kept (the CLI's
//!   `passport import laravel --from <database URL>`).
//! - [`LaravelUsers`]: a user provider over Laravel's `users` table, verifying its
//!   bcrypt (`$2y$`) hashes off the executor: users sign in with the passwords they have.
//!
//! Every table name is configurable ([`PassportTables`]); the database is one
//! [`PassportDatabase`], a sqlx pool on any of the three engines Laravel supports.
//!
//! ```
//! use tower_passport_laravel::{MissingToken, PassportDatabase, PassportRevocations, PassportTables};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_passport_laravel::LaravelError> {
//! let database = PassportDatabase::connect_lazy("sqlite::memory:")?;
//! let revocations = PassportRevocations::builder(database)
//!     .tables(PassportTables::with_prefix("app_")?)
//!     .missing_token(MissingToken::Revoked)
//!     .build()?;
//! # let _ = revocations;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, clippy::too_long_first_doc_paragraph)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// With no engine on, the database has no pool to run anything on.
#![cfg_attr(
    not(any(feature = "mysql", feature = "postgres", feature = "sqlite")),
    allow(dead_code, unused_imports, unused_macros, unused_variables, unreachable_code)
)]

mod crypt;
mod database;
mod error;
mod import;
mod refresh;
mod revocation;
mod tables;
mod users;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use crypt::AppKey;
pub use refresh::PassportRefreshTokens;

pub use database::{Engine, PassportDatabase};
pub use error::{LaravelError, LaravelErrorKind};
pub use import::{import_clients, ImportReport, SkipReason};
pub use revocation::{
    MissingToken, OnDatabaseError, PassportRevocations, PassportRevocationsBuilder, DEFAULT_QUERY_TIMEOUT,
    DEFAULT_STALENESS,
};
pub use tables::PassportTables;
pub use users::{LaravelUsers, LaravelUsersBuilder, DEFAULT_DUMMY_COST};
