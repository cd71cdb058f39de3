//! Property tests (issue 21): the scope-set algebra, parse(format(x)) == x for scopes and
//! claims, tampered tokens refused, and refresh rotation never rotating a token twice; and
//! (issue 17) the verifier's claims reader agreeing with serde_json's typed parse; (issue
//! 19) the DPoP proof claims reader agreeing with its general reader and with serde_json.
//! The coverage-guided fuzz targets are in `fuzz/` at the repository root (HARDENING.md).

#[path = "../support/mod.rs"]
mod support;

mod claims;
mod claims_reader;
mod json_literals;
mod proof_claims;
mod rotation;
mod scopes;
mod tampering;

use proptest::prelude::ProptestConfig;

/// No regression files: these suites write nothing to the source tree.
pub(crate) fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}
