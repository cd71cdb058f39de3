//! A valid token with any one bit flipped, or cut short anywhere, is refused: by HS256
//! and ES256 verifiers, with and without the verified-token cache (the original stays
//! valid and cached throughout).

use std::sync::OnceLock;

use proptest::prelude::*;
use tower_passport::{Algorithm, Verifier};

use super::config;
use super::support::{user_claims, verifier_for, TestKey};

struct Fixture {
    tokens: Vec<(String, Verifier)>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let tokens = [Algorithm::ES256, Algorithm::HS256, Algorithm::EdDSA]
            .into_iter()
            .map(|alg| {
                let key = TestKey::generate(alg);
                let verifier = verifier_for(&key);
                let token = key.sign(&user_claims("42", "read write"));
                verifier.verify(&token).expect("the untouched token verifies (and is cached)");
                (token, verifier)
            })
            .collect();
        Fixture { tokens }
    })
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn any_bit_flip_is_refused(which in 0usize..3, at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let (token, verifier) = &fixture().tokens[which];
        let mut bytes = token.clone().into_bytes();
        let at = at.index(bytes.len());
        bytes[at] ^= 1 << bit;
        // A flip that leaves invalid UTF-8 cannot even reach the verifier as a &str.
        if let Ok(tampered) = String::from_utf8(bytes) {
            prop_assert!(verifier.verify(&tampered).is_err(), "bit {} of byte {} flipped: accepted", bit, at);
            prop_assert!(verifier.verify_uncached(&tampered, super::support::NOW).is_err());
        }
        prop_assert!(verifier.verify(token).is_ok(), "the original still verifies");
    }

    #[test]
    fn any_truncation_is_refused(which in 0usize..3, keep in any::<prop::sample::Index>()) {
        let (token, verifier) = &fixture().tokens[which];
        let keep = keep.index(token.len());
        let truncated = &token[..keep];
        prop_assert!(verifier.verify(truncated).is_err(), "cut to {} bytes: accepted", keep);
        prop_assert!(verifier.verify_uncached(truncated, super::support::NOW).is_err());
    }
}

#[test]
fn every_single_bit_flip_and_every_truncation_of_one_token_is_refused() {
    // Exhaustively for one token: the sampled properties above, without sampling.
    let (token, verifier) = &fixture().tokens[0];
    for at in 0..token.len() {
        assert!(verifier.verify(&token[..at]).is_err(), "cut to {at} bytes");
        for bit in 0..8 {
            let mut bytes = token.clone().into_bytes();
            bytes[at] ^= 1 << bit;
            if let Ok(tampered) = String::from_utf8(bytes) {
                assert!(verifier.verify(&tampered).is_err(), "bit {bit} of byte {at}");
            }
        }
    }
}
