//! The verifier's claims reader (`RawClaims::read`, issue 17) against serde_json's typed
//! parse of the same claims, the reader's reference: both accept or both refuse, and what
//! they read is the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_passport::fuzzing::{claims_read, claims_serde};

fuzz_target!(|data: &[u8]| {
    // The verifier reads claims only once they are UTF-8.
    let Ok(text) = std::str::from_utf8(data) else { return };
    assert_eq!(claims_read(text), claims_serde(text), "the claims reader and serde_json disagree on {text:?}");
});
