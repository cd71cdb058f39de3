//! The resource tests, one binary (each module was its own test binary before the workspace split).

mod axum_extractors;
mod grpc;
mod guard;
mod hyper_only;
mod issuers;
mod keys;
mod remote_keys;
mod remote_keys_tracing;
mod tracing_events;
mod user_providers;
mod verify;
