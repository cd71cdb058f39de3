//! The issuer tests, one binary (each module was its own test binary before the workspace split).

// The helper files the modules share, each compiled once.
#[path = "../../../quickstart/src/demo/mod.rs"]
mod demo;
#[path = "../support/quickstart.rs"]
mod in_process;
#[path = "../support/issuer.rs"]
mod issuer_support;
#[path = "../league/mod.rs"]
mod league;
#[path = "../support/node.rs"]
mod node;
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/tools.rs"]
mod tools;

mod authorization_code;
mod clients_api;
mod device_grant;
mod device_interop;
mod dpop_interop;
mod endpoints;
mod first_party_cookie;
mod issuer;
mod laravel_passport;
mod local_invalidation;
mod resource_discovery;
mod resource_indicators;
mod shared_keys;
