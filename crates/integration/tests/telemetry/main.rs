//! The telemetry tests, one binary (each module was its own test binary before the workspace split).

// The helper files the modules share, each compiled once.
#[path = "../jwks_server/mod.rs"]
mod jwks_server;
#[path = "../support/mod.rs"]
mod support;

mod metrics;
