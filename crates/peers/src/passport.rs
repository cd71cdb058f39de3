//! tower-passport's verifiers for the comparisons: with the verified-token cache, filled
//! with the token (every request a hit), and without it (every request checks the
//! signature). Both run on the manual clock at `support::NOW`; wrap either in
//! `tower_passport::GuardLayer::new`.

use benches::support::{self, TestKey};
use tower_passport::{clock::ManualClock, KeySet, Verifier};

/// A verifier with its cache on, `token` verified once so that it is cached.
pub fn warm_verifier(key: &TestKey, token: &str) -> Result<Verifier, String> {
    let verifier = support::verifier_for(key);
    verifier.verify(token).map_err(|error| error.to_string())?;
    Ok(verifier)
}

/// A verifier with its cache off, that accepts `token`.
pub fn cold_verifier(key: &TestKey, token: &str) -> Result<Verifier, String> {
    let verifier = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .clock(ManualClock::new(support::NOW))
        .no_cache()
        .build()
        .map_err(|error| error.to_string())?;
    verifier.verify(token).map_err(|error| error.to_string())?;
    Ok(verifier)
}
