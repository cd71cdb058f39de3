//! What the instruction-count bins and the peer benches share, so that every figure is
//! taken on the same token and the same inner service: [`fixture`] (the token's claims,
//! the trivial service, one request through a service, the bare signature check) and
//! [`support`] (keys generated at run time and tokens minted with jsonwebtoken, the
//! integration tests' own helpers).
//!
//! Nothing here is published; `crates/peers` and the `instructions` bin depend on it.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod dpop;
pub mod fixture;

/// The integration tests' key and token helpers (`crates/integration/tests/support`).
#[allow(missing_docs)]
#[path = "../../integration/tests/support/mod.rs"]
pub mod support;
