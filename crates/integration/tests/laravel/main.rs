//! Moving off Laravel Passport (`tower-passport-laravel`): Passport's revocations honoured
//! by the guard, on MariaDB, PostgreSQL and SQLite, with Passport's tables shaped as its
//! migrations make them and its tokens as league builds them.

#[path = "../league/mod.rs"]
mod league;
#[path = "../support/python.rs"]
mod python;
#[path = "../support/tools.rs"]
mod tools;

mod fixtures;
mod import;
#[allow(dead_code)] // Each helper is used by some of the modules.
mod passport_db;
mod refresh_tokens;
mod revocations;
mod users;
mod whole_story;
