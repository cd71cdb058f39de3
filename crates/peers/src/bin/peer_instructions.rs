//! Instructions per request of the peers, counted with callgrind the way
//! `crates/benches/src/bin/instructions.rs` counts tower-passport's: same token, same
//! inner service, same request.
//!
//! ```text
//! crates/benches/callgrind.sh                  # tower-passport's scenarios and these, one table
//! cargo build --release -p peers --bin peer_instructions
//! valgrind --tool=callgrind --toggle-collect='*run_measured*' \
//!     target/release/peer_instructions jwt_authorizer_rs256 1000
//! ```
//!
//! `peer_instructions <scenario> <N>` sets everything up first (key, token, verifier, layer),
//! then runs the scenario `N` times inside `run_measured`, the one function callgrind
//! collects in. Every request's outcome is checked (200 from a layer, claims from
//! `decode`) and the run fails otherwise.
//!
//! Scenarios (`<alg>` is `rs256`, `es256` or `hs256`), all on the token
//! `benches::fixture::claims("jti-warm")` signed by `benches::support::TestKey`:
//!
//! - `jsonwebtoken_<alg>`: a bare `jsonwebtoken::decode` (11, aws-lc-rs) into typed claims.
//! - `jwt_authorizer_<alg>`: one request through jwt-authorizer 0.15's layer around
//!   `AxumInner` (it cannot wrap `Inner`: see `peers::jwt_authorizer_peer`).
//! - `aliri_<alg>`: one request through aliri_tower 0.6's `jwt_layer` around `Inner`.
//! - `guard_cold_<alg>`: one request through tower-passport's `GuardLayer` around `Inner`,
//!   the verifier's cache off: the layer-to-layer comparison with the two above.
//! - `axum_inner`: `AxumInner` alone, jwt-authorizer's inner service.

use std::hint::black_box;
use std::process::ExitCode;

use benches::fixture::{self, bearer, claims, service_step, Inner, Step, ALGORITHMS};
use benches::support::TestKey;
use peers::jsonwebtoken_peer::JsonwebtokenPeer;
use peers::{aliri_peer, jwt_authorizer_peer, passport};
use tower_layer::Layer;
use tower_passport::GuardLayer;

/// The scenario kinds that take an algorithm.
const KINDS: [&str; 4] = ["jsonwebtoken", "jwt_authorizer", "aliri", "guard_cold"];

/// Sets up `scenario`, everything but the requests.
fn setup(scenario: &str) -> Result<Step, String> {
    if scenario == "axum_inner" {
        let token = TestKey::generate(tower_passport::Algorithm::HS256).sign(&claims("jti-warm"));
        return Ok(service_step(jwt_authorizer_peer::AxumInner, bearer(&token)?));
    }
    let unknown = || format!("unknown scenario {scenario}");
    let (kind, alg) = scenario.rsplit_once('_').ok_or_else(unknown)?;
    let alg = fixture::algorithm(alg).ok_or_else(unknown)?;
    // ES256: a fixed key and deterministic signatures, the same token every run.
    let key = fixture::key(alg)?;
    let token = key.sign(&claims("jti-warm"));
    match kind {
        "jsonwebtoken" => {
            let peer = JsonwebtokenPeer::new(&key, &token)?;
            Ok(Box::new(move || peer.decode(black_box(&token)).is_ok()))
        }
        "jwt_authorizer" => Ok(service_step(jwt_authorizer_peer::service(&key)?, bearer(&token)?)),
        "aliri" => Ok(service_step(aliri_peer::wrap(&key, Inner)?, bearer(&token)?)),
        "guard_cold" => Ok(service_step(
            GuardLayer::new(passport::cold_verifier(&key, &token)?).layer(Inner),
            bearer(&token)?,
        )),
        _ => Err(unknown()),
    }
}

/// Every scenario's name.
fn scenarios() -> Vec<String> {
    let mut names = vec!["axum_inner".to_owned()];
    for alg in ALGORITHMS {
        let alg = alg.name().to_lowercase();
        names.extend(KINDS.map(|kind| format!("{kind}_{alg}")));
    }
    names
}

fn main() -> ExitCode {
    benches::fixture::run_scenario_from_args("peer_instructions", &scenarios(), |scenario, _| setup(scenario))
}

#[cfg(test)]
mod tests {
    use super::*;
    use benches::fixture::run_measured;
    use tower_passport::Algorithm;

    #[test]
    fn every_scenario_answers_as_a_valid_token_does() {
        for scenario in scenarios() {
            let mut step = setup(&scenario).unwrap();
            assert_eq!(run_measured(&mut step, 2), 2, "{scenario}");
        }
    }

    #[test]
    fn every_peer_refuses_a_token_signed_by_another_key() {
        for alg in [Algorithm::ES256, Algorithm::HS256] {
            let key = TestKey::generate(alg);
            let token = key.sign(&claims("jti-warm"));
            let (signing_input, _) = token.rsplit_once('.').unwrap();
            let other = key.sign(&claims("jti-other"));
            let (_, signature) = other.rsplit_once('.').unwrap();
            let forged = format!("{signing_input}.{signature}");
            let authorization = bearer(&forged).unwrap();

            let peer = JsonwebtokenPeer::new(&key, &token).unwrap();
            assert!(peer.decode(&forged).is_err(), "jsonwebtoken {alg:?}");
            let mut jwt_authorizer = jwt_authorizer_peer::service(&key).unwrap();
            assert!(!fixture::call_once(&mut jwt_authorizer, &authorization), "jwt-authorizer {alg:?}");
            let mut aliri = aliri_peer::wrap(&key, Inner).unwrap();
            assert!(!fixture::call_once(&mut aliri, &authorization), "aliri {alg:?}");
        }
    }

    #[test]
    fn an_unknown_scenario_is_refused() {
        assert!(setup("aliri_ps256").is_err());
        assert!(setup("jose_hs256").is_err());
    }
}
