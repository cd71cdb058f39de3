//! Instructions per token request of the issuer, counted with callgrind, beside the floors
//! they sit on: one signature, and one round trip to the store.
//!
//! ```text
//! crates/benches/issuer_callgrind.sh                 # every scenario, as a table
//! cargo build --release -p benches --features issuer --bin issuer_instructions
//! valgrind --tool=callgrind --toggle-collect='*run_measured*' \
//!     target/release/issuer_instructions grant_es256 1000
//! ```
//!
//! As the `instructions` bin: `issuer_instructions <scenario> <N>` sets everything up (keys,
//! store, issuer, client, refresh family), then runs the scenario `N` times inside
//! `run_measured`, the one function callgrind collects in, and instructions per request are
//! `(Ir(N2) - Ir(N1)) / (N2 - N1)`. Every request's outcome is checked (a token issued, a
//! 200, a client found) and the run fails otherwise, so an error path is never measured.
//!
//! Scenarios (`<alg>` is `es256`, `rs256` or `eddsa`, the issuer's signing algorithms;
//! `<store>` is `memory`, `sqlite`, `postgres` or `redis`, see `issuer_fixture.rs`):
//!
//! - `sign_<alg>`: the floor, aws-lc-rs's bare signature of a token's signing input (the key
//!   parsed once, as the issuer holds it).
//! - `mint_<alg>`: minting alone, claims to signed JWT (`TestIssuer`, which runs the issuer's
//!   own minting code).
//! - `grant_<alg>`: `Issuer::grant` of client credentials over a `MemoryStore`: minting, the
//!   access-token record stored, the event.
//! - `endpoint_<alg>`: the same grant through the token endpoint (`OAuthRoutes` as a tower
//!   service, one call per request): body read, form parsed, client authenticated (Basic),
//!   grant, JSON response.
//! - `refresh_<store>`: one refresh-token rotation (ES256) over that store.
//! - `roundtrip_<store>`: the store's own round trip: one client lookup by id.
//!
//! Network stores count the client's instructions only (sqlx, redis-rs, tokio's I/O): the
//! server's work and the wait are not in the count. Their time is in the
//! `issuer_throughput` bench.

use std::future::Future;
use std::hint::black_box;
use std::net::SocketAddr;
use std::process::ExitCode;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
};
use http::StatusCode;
use tokio::runtime::Runtime;
use tower_passport::Algorithm;
use tower_passport_issuer::endpoint::{OAuthServer, PeerAddr};
use tower_passport_issuer::testing::TestIssuer;
use tower_service::Service;

#[allow(dead_code)] // each user of the fixture takes the part it needs
#[path = "../issuer_fixture.rs"]
mod issuer_fixture;

use issuer_fixture::{fixture, key, STORES};

/// One request of a scenario: `true` when it got the answer it should.
type Step = Box<dyn FnMut() -> bool>;

/// The issuer's signing algorithms, by scenario suffix.
const ALGORITHMS: [(&str, Algorithm); 3] =
    [("es256", Algorithm::ES256), ("rs256", Algorithm::RS256), ("eddsa", Algorithm::EdDSA)];

fn runtime() -> Result<Runtime, String> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|error| error.to_string())
}

/// Runs `future` to completion on `runtime`.
fn block_on<F: Future>(runtime: &Runtime, future: F) -> F::Output {
    runtime.block_on(future)
}

/// The bare signature of a real token's signing input by a key parsed once.
fn sign(algorithm: Algorithm) -> Result<Step, String> {
    // The signing input of a client-credentials token as the issuer mints it.
    let token = TestIssuer::with_signing_key(key(algorithm)?)
        .client_token("9b2e7c41-0d6a-4f3b-8e5c-2a7d9f1b3c6e", ["a"])
        .map_err(|error| error.to_string())?;
    let (input, _) = token.rsplit_once('.').ok_or("not a compact JWS")?;
    let input = input.as_bytes().to_vec();
    let rng = SystemRandom::new();
    let failed = |_| "key generation failed".to_owned();
    match algorithm {
        Algorithm::ES256 => {
            let document =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(failed)?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, document.as_ref())
                .map_err(|_| "bad key")?;
            // The signature is taken as the issuer takes it (`black_box`), so that the
            // compiler cannot drop the work of handing it out.
            Ok(Box::new(move || {
                pair.sign(&rng, black_box(&input)).is_ok_and(|sig| black_box(sig).as_ref().len() == 64)
            }))
        }
        Algorithm::RS256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
            let mut signature = vec![0; pair.public_modulus_len()];
            Ok(Box::new(move || {
                pair.sign(&RSA_PKCS1_SHA256, &rng, black_box(&input), &mut signature).is_ok()
            }))
        }
        Algorithm::EdDSA => {
            let pair = Ed25519KeyPair::generate().map_err(failed)?;
            Ok(Box::new(move || black_box(pair.sign(black_box(&input))).as_ref().len() == 64))
        }
        other => Err(format!("the issuer does not sign {}", other.name())),
    }
}

/// Minting alone: claims to a signed JWT, no store.
fn mint(algorithm: Algorithm) -> Result<Step, String> {
    let issuer = TestIssuer::with_signing_key(key(algorithm)?);
    Ok(Box::new(move || {
        issuer
            .client_token(black_box("9b2e7c41-0d6a-4f3b-8e5c-2a7d9f1b3c6e"), ["a"])
            .is_ok_and(|t| t.len() > 100)
    }))
}

/// `Issuer::grant` of client credentials over a `MemoryStore`.
fn grant(algorithm: Algorithm) -> Result<Step, String> {
    let runtime = runtime()?;
    let fixture = block_on(&runtime, fixture("memory", key(algorithm)?))?;
    Ok(Box::new(move || {
        block_on(&runtime, fixture.issuer.grant(black_box(fixture.client_credentials())))
            .is_ok_and(|tokens| tokens.token_type == "Bearer")
    }))
}

/// The client-credentials grant through the token endpoint.
fn endpoint(algorithm: Algorithm) -> Result<Step, String> {
    let runtime = runtime()?;
    let fixture = block_on(&runtime, fixture("memory", key(algorithm)?))?;
    let mut routes = OAuthServer::new(fixture.issuer.clone()).build();
    let peer: SocketAddr = "192.0.2.1:50123".parse().map_err(|_| "bad peer")?;
    Ok(Box::new(move || {
        let Ok(mut request) = fixture.token_request() else { return false };
        request.extensions_mut().insert(PeerAddr(peer));
        block_on(&runtime, routes.call(black_box(request)))
            .is_ok_and(|response| response.status() == StatusCode::OK)
    }))
}

/// One refresh rotation (ES256) over `store`, each presenting the token the last one issued.
fn refresh(store: &str) -> Result<Step, String> {
    let runtime = runtime()?;
    let fixture = block_on(&runtime, fixture(store, key(Algorithm::ES256)?))?;
    let mut current = block_on(&runtime, fixture.refresh_family())?;
    Ok(Box::new(move || match block_on(&runtime, fixture.rotate(black_box(&current))) {
        Ok(next) => {
            current = next;
            true
        }
        Err(_) => false,
    }))
}

/// One client lookup by id over `store`.
fn round_trip(store: &str) -> Result<Step, String> {
    let runtime = runtime()?;
    let fixture = block_on(&runtime, fixture(store, key(Algorithm::ES256)?))?;
    Ok(Box::new(move || block_on(&runtime, fixture.round_trip()).is_ok()))
}

/// Sets up `scenario`: everything but the requests.
fn setup(scenario: &str) -> Result<Step, String> {
    let unknown = || format!("unknown scenario {scenario}");
    let (kind, what) = scenario.split_once('_').ok_or_else(unknown)?;
    if let Some(store) = STORES.into_iter().find(|store| *store == what) {
        return match kind {
            "refresh" => refresh(store),
            "roundtrip" => round_trip(store),
            _ => Err(unknown()),
        };
    }
    let (_, algorithm) = ALGORITHMS.into_iter().find(|(name, _)| *name == what).ok_or_else(unknown)?;
    match kind {
        "sign" => sign(algorithm),
        "mint" => mint(algorithm),
        "grant" => grant(algorithm),
        "endpoint" => endpoint(algorithm),
        _ => Err(unknown()),
    }
}

/// Every scenario's name.
fn scenarios() -> Vec<String> {
    let mut names = Vec::new();
    for (alg, _) in ALGORITHMS {
        names.extend(["sign", "mint", "grant", "endpoint"].map(|kind| format!("{kind}_{alg}")));
    }
    for store in STORES {
        names.extend(["refresh", "roundtrip"].map(|kind| format!("{kind}_{store}")));
    }
    names
}

fn main() -> ExitCode {
    benches::fixture::run_scenario_from_args("issuer_instructions", &scenarios(), |scenario, _| {
        setup(scenario)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use benches::fixture::run_measured;

    #[test]
    fn every_memory_scenario_answers_as_it_should() {
        let memory =
            scenarios().into_iter().filter(|name| !STORES[1..].iter().any(|store| name.ends_with(store)));
        for scenario in memory {
            let mut step = setup(&scenario).unwrap();
            assert_eq!(run_measured(&mut step, 2), 2, "{scenario}");
        }
    }

    #[test]
    fn the_sqlite_scenarios_answer_as_they_should() {
        for scenario in ["refresh_sqlite", "roundtrip_sqlite"] {
            let mut step = setup(scenario).unwrap();
            assert_eq!(run_measured(&mut step, 2), 2, "{scenario}");
        }
    }

    #[test]
    fn a_refused_request_does_not_count() {
        let runtime = runtime().unwrap();
        let fixture = block_on(&runtime, fixture("memory", key(Algorithm::ES256).unwrap())).unwrap();
        // A refresh token of the right shape that the store does not know.
        let unknown = format!("{}.{}", "a".repeat(22), "b".repeat(43));
        let mut step: Step = Box::new(move || block_on(&runtime, fixture.rotate(&unknown)).is_ok());
        assert_eq!(run_measured(&mut step, 2), 0);
    }

    #[test]
    fn an_unknown_scenario_is_refused() {
        for scenario in ["sign_hs256", "grant_ps256", "refresh_mysql", "roundtrip", "lukewarm_es256"] {
            assert!(setup(scenario).is_err(), "{scenario}");
        }
    }
}
