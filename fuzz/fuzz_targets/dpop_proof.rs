//! DPoP proofs (RFC 9449 §4.3) through the public `ProofVerifier`, at a fixed instant, for
//! a fixed request (`POST https://api.example/orders`, with or without an access token).
//! The first byte picks: bit 0 set signs the rest (`header JSON \n claims JSON`) with the
//! ES256 fixture, so the fuzzer reaches the checks behind the signature; clear reads the
//! rest as the `DPoP` header's value. Bit 1 adds the access token (`ath` required).
//!
//! An accepted proof's thumbprint is the RFC 7638 thumbprint of the `jwk` in its header
//! (computed here, without the crate), its `htm` is the request's method and its `htu`
//! names the request's URL; the same proof a second time is refused as a replay.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use passport_fuzz::dpop::{self, METHOD, URL};
use serde_json::Value;
use tower_passport::error::Reason;

fuzz_target!(|data: &[u8]| {
    let [mode, rest @ ..] = data else { return };
    let proof = if mode & 1 == 1 {
        let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let (header, claims) = rest.split_at(split);
        dpop::sign(header, claims.get(1..).unwrap_or_default())
    } else {
        match std::str::from_utf8(rest) {
            Ok(text) => text.to_owned(),
            Err(_) => return,
        }
    };
    let verifier = dpop::verifier();
    let target = dpop::target(mode & 2 == 2);
    let Ok(verified) = verifier.verify(&proof, &target) else { return };

    let part = |index: usize| -> Option<Value> {
        let text = proof.split('.').nth(index).expect("an accepted proof has three parts");
        let json = URL_SAFE_NO_PAD.decode(text).expect("an accepted proof's parts are base64url");
        match serde_json::from_slice(&json) {
            Ok(value) => Some(value),
            // A member nobody reads may nest deeper than `Value` reads (128): the verifier
            // skips it without recursion. Nothing else may fail here.
            Err(error) if error.to_string().contains("recursion limit") => None,
            Err(error) => panic!("an accepted proof's part is not JSON: {error}"),
        }
    };
    let (Some(header), Some(claims)) = (part(0), part(1)) else { return };
    assert_eq!(Some(verified.thumbprint()), dpop::thumbprint(&header["jwk"]).as_deref(), "{header}");
    assert_eq!(claims["htm"], METHOD, "{claims}");
    let htu = claims["htu"].as_str().expect("an accepted htu is a string");
    assert_eq!(dpop::normal_htu(htu).as_deref(), Some(URL), "{htu}");
    let again = verifier.verify(&proof, &target).expect_err("a proof is single-use");
    assert_eq!(again.reason(), Reason::DpopProofReplayed);
});
