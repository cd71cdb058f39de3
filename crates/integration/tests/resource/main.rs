//! The resource tests, one binary (each module was its own test binary before the workspace split).

// The helper files the modules share, each compiled once.
#[path = "../faults/proxy.rs"]
mod faults_proxy;
#[allow(dead_code)]
#[path = "../../examples/grpc.rs"]
mod grpc_example;
#[path = "../support/issuer.rs"]
mod issuer_support;
#[path = "../jwks_server/mod.rs"]
mod jwks_server;
#[path = "../support/node.rs"]
mod node;
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/tools.rs"]
mod tools;

mod axum_extractors;
mod dpop_interop;
mod grpc;
mod guard;
mod hyper_only;
mod issuers;
mod keys;
mod remote_keys;
mod remote_keys_faults;
mod remote_keys_tracing;
mod tracing_events;
mod user_providers;
mod verify;
