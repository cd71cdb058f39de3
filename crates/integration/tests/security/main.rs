//! The attack suite (issue 21), one binary with one module per surface: crafted tokens,
//! hostile requests, the token endpoint, the authorization endpoint and its approval
//! screen, cookie authentication, leakage into bodies and logs, DPoP proofs, the device
//! grant, and introspection answers. Every case asserts the exact status, challenge or
//! OAuth error it gets.

// The helper files the modules share, each compiled once.
// The introspection tests' loopback authorization server; this binary uses part of it.
#[allow(dead_code)]
#[path = "../introspection/endpoint.rs"]
mod introspection_endpoint;
#[path = "../support/issuer.rs"]
mod issuer_support;
#[path = "../support/mod.rs"]
mod support;

mod authorize;
mod cookie;
mod device;
mod dpop;
mod gateway;
mod harness;
mod introspection;
mod leakage;
mod requests;
mod token_endpoint;
mod tokens;
