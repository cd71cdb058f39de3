//! The `passport` command line (Laravel Passport's Artisan commands) and [`AnyStore`], the
//! built-in store a URL names, for binaries configured by environment.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub, clippy::too_long_first_doc_paragraph)]

mod any;

pub use any::AnyStore;
