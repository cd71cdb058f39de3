//! Instructions per request, counted with callgrind: the guard's cold and warm paths per
//! algorithm, the bare signature check they sit on, and a client-credentials grant.
//!
//! ```text
//! crates/benches/callgrind.sh                       # every scenario, as a table
//! cargo build --release -p benches --bin instructions
//! valgrind --tool=callgrind --toggle-collect='*run_measured*' \
//!     target/release/instructions warm_rs256 1000
//! ```
//!
//! `instructions <scenario> <N>` does all its setup first (keys, tokens, verifier, issuer),
//! then runs the scenario `N` times inside `run_measured`, the one function callgrind
//! collects in. Instructions per request are `(Ir(N2) - Ir(N1)) / (N2 - N1)`, which drops
//! what the first request alone costs. Every request's outcome is checked (the guard
//! answered 200, the verifier or grant succeeded), and the run fails otherwise, so an error
//! path is never measured by mistake.
//!
//! Scenarios (`<alg>` is `rs256`, `es256` or `hs256`):
//!
//! - `floor_<alg>`: the bare aws-lc-rs check of the signatures of `cold_<alg>`'s tokens,
//!   the key parsed once, one token per request (an ECDSA check's cost depends on the
//!   signature; ES256 signs with a fixed key and RFC 6979 nonces, `fixture::key`, so the
//!   tokens and the counts are the same every run).
//! - `cold_<alg>`: `Verifier::verify` on a token it has not seen (distinct `jti` each, the
//!   tokens minted before the loop and borrowed: at most 3000 requests).
//! - `warm_<alg>`: one request through `GuardLayer` around a trivial service, the token in
//!   the verified-token cache.
//! - `warm_scope_<alg>`: the same with `RequireLayer::all_scopes` inside the guard.
//! - `warm_scope_routed_<alg>` and `inner_routed`: the same two behind a router, the request
//!   reaching them with one extension already (as axum's `MatchedPath` behind
//!   `route_layer`), so its extension map exists before the guard runs.
//! - `inner`: the trivial service alone, with the same request.
//! - `grant_memory`: `Issuer::grant` of client credentials over a `MemoryStore`.
//! - `warm_cached_1k`, `warm_cached_100k`, `warm_cached_1m`: a warm hit (HS256) with that
//!   many other tokens cached (filled with `testing::cache_as_verified`, seconds even for a
//!   million); the cost must not grow with the cache.
//! - `cold_scopes_10`, `cold_scopes_200`, `cold_claims_4k`: cold verification (HS256) of
//!   tokens with 10 or 200 scopes, or 4 KB more claims.
//! - `warm_dpop`: one request through a guard that takes DPoP, with a DPoP-bound token
//!   (HS256) in the verified-token cache and a fresh ES256 proof each (minted before the
//!   loop: at most 3000 requests); `dpop_proof_floor`: the bare check of the ES256
//!   signatures of as many proofs like them. `warm_dpop - dpop_proof_floor` against
//!   `warm_hs256` is the bound path's cost, proof signature aside; `dpop_inner`: the same
//!   requests (three headers, a fresh proof each) to the trivial service alone.

use std::hint::black_box;
use std::process::ExitCode;
use std::sync::Arc;

use benches::fixture::{self, bearer, claims, service_step, Inner, Routed, Step, ALGORITHMS};
use benches::support;
use tower_layer::Layer;
use tower_passport::clock::ManualClock;
use tower_passport::{GuardLayer, KeySet, RequireLayer, Verifier};
use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{ClientRegistration, Issuer, ScopeRegistry, TokenRequest};

/// The largest `N` of the scenarios that mint a token (or proof) per request before their
/// loop.
const COLD_TOKENS: usize = 3000;

/// `Verifier::verify` on `tokens` distinct tokens, one per step (a cache miss each).
fn cold(key: &support::TestKey, tokens: usize) -> Result<Step, String> {
    // The cache off: every token verified in full, nothing inserted.
    let verifier = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .clock(ManualClock::new(support::NOW))
        .no_cache()
        .build()
        .map_err(|error| error.to_string())?;
    let minted = mint_cold(key, tokens);
    let mut next = 0;
    Ok(Box::new(move || {
        // Borrowed: freeing the bench's own token is not the verifier's cost.
        let Some(token) = minted.get(next) else { return false };
        next += 1;
        verifier.verify(black_box(token)).is_ok()
    }))
}

/// The `cold_<alg>` scenario's tokens, the same every run (see `fixture::key`): its floor
/// checks these same signatures.
fn mint_cold(key: &support::TestKey, tokens: usize) -> Vec<String> {
    (0..tokens).map(|i| key.sign(&claims(&format!("jti-cold-{i:06}")))).collect()
}

/// A client-credentials grant over a `MemoryStore`, on a current-thread runtime.
fn grant_memory() -> Result<Step, String> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(|error| error.to_string())?;
    let (issuer, client) = runtime.block_on(async {
        let issuer = Issuer::builder(support::ISSUER, Arc::new(MemoryStore::new()))
            .audience(support::AUDIENCE)
            .scopes(ScopeRegistry::new().scope("a", "A").scope("b", "B"))
            .build()
            .map_err(|error| error.to_string())?;
        let registered = issuer
            .register_client(
                ClientRegistration::confidential("bench")
                    .grants([GrantType::ClientCredentials])
                    .allowed_scopes(["a", "b"]),
            )
            .await
            .map_err(|error| error.to_string())?;
        let secret = registered.secret.as_ref().map(|secret| secret.expose().to_owned());
        let client = issuer
            .authenticate_client(&registered.client.id, secret.as_deref())
            .await
            .map_err(|error| error.to_string())?;
        Ok::<_, String>((issuer, client))
    })?;
    Ok(Box::new(move || {
        let request = TokenRequest::client_credentials(client.clone()).scope("a");
        runtime.block_on(issuer.grant(black_box(request))).is_ok_and(|tokens| tokens.token_type == "Bearer")
    }))
}

/// Sets up `scenario` (everything but the requests), with `cold_tokens` tokens for `cold_*`.
fn setup(scenario: &str, cold_tokens: usize) -> Result<Step, String> {
    match scenario {
        "inner" => {
            let key = support::TestKey::generate(tower_passport::Algorithm::HS256);
            Ok(service_step(Inner, bearer(&key.sign(&claims("jti-warm")))?))
        }
        "inner_routed" => {
            let key = support::TestKey::generate(tower_passport::Algorithm::HS256);
            Ok(service_step(Routed(Inner), bearer(&key.sign(&claims("jti-warm")))?))
        }
        "grant_memory" => grant_memory(),
        "warm_dpop" => benches::dpop::warm_dpop(cold_tokens),
        "dpop_proof_floor" => benches::dpop::dpop_proof_floor(cold_tokens),
        "dpop_inner" => benches::dpop::dpop_inner(cold_tokens),
        "warm_cached_1k" => warm_among(1_000),
        "warm_cached_100k" => warm_among(100_000),
        "warm_cached_1m" => warm_among(1_000_000),
        "cold_scopes_10" => cold_shaped(10, 0, cold_tokens),
        "cold_scopes_200" => cold_shaped(200, 0, cold_tokens),
        "cold_claims_4k" => cold_shaped(5, 4096, cold_tokens),
        "floor_scopes_10" => floor_shaped(10, 0),
        "floor_scopes_200" => floor_shaped(200, 0),
        "floor_claims_4k" => floor_shaped(5, 4096),
        _ => {
            let (kind, alg) =
                scenario.rsplit_once('_').ok_or_else(|| format!("unknown scenario {scenario}"))?;
            let alg = fixture::algorithm(alg).ok_or_else(|| format!("unknown scenario {scenario}"))?;
            let key = fixture::key(alg)?;
            let token = key.sign(&claims("jti-warm"));
            let warm = || {
                let verifier = support::verifier_for(&key);
                // Fill the cache: every measured request is a hit.
                verifier.verify(&token).map(|_| verifier).map_err(|error| error.to_string())
            };
            match kind {
                "floor" => fixture::floor_each(&key, &mint_cold(&key, cold_tokens)),
                "cold" => cold(&key, cold_tokens),
                "warm" => Ok(service_step(GuardLayer::new(warm()?).layer(Inner), bearer(&token)?)),
                "warm_scope" => Ok(service_step(
                    GuardLayer::new(warm()?).layer(RequireLayer::all_scopes(["read-posts"]).layer(Inner)),
                    bearer(&token)?,
                )),
                "warm_scope_routed" => Ok(service_step(
                    Routed(
                        GuardLayer::new(warm()?).layer(RequireLayer::all_scopes(["read-posts"]).layer(Inner)),
                    ),
                    bearer(&token)?,
                )),
                _ => Err(format!("unknown scenario {scenario}")),
            }
        }
    }
}

/// A warm hit (HS256, through the guard) with `cached` other tokens in the cache: the
/// cost must not grow with the cache. The others are aliases of one verified token
/// (`testing::cache_as_verified`), each the token's length with its own tail: a million
/// real verifications would take hours under valgrind, and a hit's cost does not depend
/// on how the other entries got there.
fn warm_among(cached: usize) -> Result<Step, String> {
    let key = support::TestKey::generate(tower_passport::Algorithm::HS256);
    let verifier = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .clock(ManualClock::new(support::NOW))
        .cache_capacity(cached as u64 + 1_024)
        .build()
        .map_err(|error| error.to_string())?;
    let others = key.sign(&claims("jti-among"));
    let stem = &others[..others.len() - 8];
    let aliases = (0..cached).map(|i| format!("{stem}{i:08}"));
    let filled = tower_passport::testing::cache_as_verified(&verifier, &others, aliases)
        .map_err(|error| error.to_string())?;
    if filled != cached {
        return Err(format!("cached {filled} of {cached} tokens"));
    }
    let token = key.sign(&claims("jti-warm"));
    verifier.verify(&token).map_err(|error| error.to_string())?;
    Ok(service_step(GuardLayer::new(verifier).layer(Inner), bearer(&token)?))
}

/// Cold verification (HS256, cache off) of tokens with `scopes` scopes and `padding` more
/// bytes of claims (one extra string claim): how the cold cost grows with the token.
fn cold_shaped(scopes: usize, padding: usize, tokens: usize) -> Result<Step, String> {
    let key = support::TestKey::generate(tower_passport::Algorithm::HS256);
    let minted: Vec<String> = (0..tokens).map(|i| shaped_token(&key, scopes, padding, i)).collect();
    let verifier = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .clock(ManualClock::new(support::NOW))
        .no_cache()
        .build()
        .map_err(|error| error.to_string())?;
    let mut next = minted.into_iter();
    Ok(Box::new(move || next.next().is_some_and(|token| verifier.verify(black_box(&token)).is_ok())))
}

/// A token of `cold_shaped`'s: `scopes` scopes, `padding` more bytes of claims.
fn shaped_token(key: &support::TestKey, scopes: usize, padding: usize, nth: usize) -> String {
    let mut claims = claims(&format!("jti-shaped-{nth:06}"));
    claims["scope"] = (0..scopes).map(|i| format!("scope-{i:03}")).collect::<Vec<_>>().join(" ").into();
    if padding > 0 {
        claims["profile"] = "x".repeat(padding).into();
    }
    key.sign(&claims)
}

/// The bare signature check of a `cold_shaped` token: the floor grows with the token too.
fn floor_shaped(scopes: usize, padding: usize) -> Result<Step, String> {
    let key = support::TestKey::generate(tower_passport::Algorithm::HS256);
    fixture::floor(&key, &shaped_token(&key, scopes, padding, 0))
}

/// Every scenario's name.
fn scenarios() -> Vec<String> {
    let mut names = ["inner", "inner_routed", "grant_memory", "warm_dpop", "dpop_proof_floor", "dpop_inner"]
        .map(str::to_owned)
        .to_vec();
    names.extend(
        [
            "warm_cached_1k",
            "warm_cached_100k",
            "warm_cached_1m",
            "cold_scopes_10",
            "cold_scopes_200",
            "cold_claims_4k",
        ]
        .map(str::to_owned),
    );
    for alg in ALGORITHMS {
        let alg = alg.name().to_lowercase();
        names.extend(
            ["floor", "cold", "warm", "warm_scope", "warm_scope_routed"].map(|kind| format!("{kind}_{alg}")),
        );
    }
    names
}

fn main() -> ExitCode {
    fixture::run_scenario_from_args("instructions", &scenarios(), |scenario, n| {
        let mints =
            ["cold_", "floor_rs", "floor_es", "floor_hs"].iter().any(|kind| scenario.starts_with(kind));
        if (mints || scenario.contains("dpop")) && n > COLD_TOKENS {
            return Err(format!("cold scenarios run at most {COLD_TOKENS} requests"));
        }
        // Exactly the N tokens the run verifies: minting 3000 RS256 tokens under valgrind
        // for a run of 500 took most of callgrind.sh's time.
        setup(scenario, n.max(1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use benches::fixture::run_measured;
    use tower_passport::Algorithm;

    #[test]
    fn every_scenario_answers_as_a_valid_token_does() {
        // The two largest caches take minutes to fill in a debug build: 1k stands for them.
        for scenario in
            scenarios().into_iter().filter(|name| !name.ends_with("100k") && !name.ends_with("1m"))
        {
            let mut step = setup(&scenario, 2).unwrap();
            assert_eq!(run_measured(&mut step, 2), 2, "{scenario}");
        }
    }

    #[test]
    fn a_request_the_guard_refuses_does_not_count() {
        let key = support::TestKey::generate(Algorithm::HS256);
        let other = support::TestKey::generate_with_kid(Algorithm::HS256, "other");
        let token = other.sign(&claims("jti-other"));
        let guard = GuardLayer::new(support::verifier_for(&key)).layer(Inner);
        let mut step = service_step(guard, bearer(&token).unwrap());
        assert_eq!(run_measured(&mut step, 2), 0);
    }

    #[test]
    fn cold_runs_out_of_distinct_tokens() {
        let mut step = setup("cold_hs256", 2).unwrap();
        assert_eq!(run_measured(&mut step, 3), 2);
    }

    #[test]
    fn an_unknown_scenario_is_refused() {
        assert!(setup("warm_ps256", 2).is_err());
        assert!(setup("lukewarm_hs256", 2).is_err());
    }
}
