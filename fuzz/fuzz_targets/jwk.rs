//! JWK and JWKS parsing: a single key, a strict key set and the remote key set's lenient
//! reading. A key set never holds more keys than the document listed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_passport::keys::JwkOptions;
use tower_passport::{KeySet, VerifyingKey};

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    let _ = VerifyingKey::from_jwk(json);
    let _ = VerifyingKey::from_jwk_with(json, &JwkOptions::default().allow_symmetric(true));
    let strict = KeySet::from_jwks(json);
    if let Ok((lenient, skipped)) = tower_passport::fuzzing::jwks_lenient(json) {
        if let Ok(strict) = strict {
            assert!(strict.len() <= lenient.len() + skipped);
        }
    }
});
