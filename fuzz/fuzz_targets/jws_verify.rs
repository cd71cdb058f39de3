//! JWS/JWT decoding and verification with a fixed key set (HS256 `hs`, ES256 `es`) at a
//! fixed instant. Whatever the input, the verifier answers; an accepted token names the
//! trusted issuer and audience.
#![no_main]

use libfuzzer_sys::fuzz_target;
use passport_fuzz::{verifier, ISSUER, NOW};

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    if let Ok(verified) = verifier().verify_uncached(token, NOW) {
        assert_eq!(verified.issuer(), ISSUER);
        let _ = verified.scopes().iter().count();
    }
});
