//! Heap use of the guard, counted by a counting global allocator: allocations per request
//! on the warm path (against the inner service's own), and bytes per cached token.
//!
//! ```text
//! cargo run --release -p benches --bin memory            # the report
//! cargo test -p benches --bin memory                     # the same figures, asserted
//! ```
//!
//! A warm hit allocates only what hands the principal to the inner service: `http`'s
//! extensions map (the map's box and its table, when the request has no extension yet) and
//! one box for the `Principal`, through which the layers behind find the guard's context.
//! Nothing else, with or without the scope layer: three allocations on a bare request, one
//! on a request that carries an extension already (as behind axum's router).

use std::process::ExitCode;
use std::task::{Context, Poll};

use http::Request;
use tower_service::Service;

use benches::fixture::{bearer, claims, service_step, Inner, Step};
use benches::support;
use counting::{allocations, live_bytes, Counting};
use tower_layer::Layer;
use tower_passport::clock::ManualClock;
use tower_passport::{Algorithm, GuardLayer, KeySet, RequireLayer, Verifier};

#[allow(dead_code)] // the soak bin reads the all-threads counter
#[path = "../counting.rs"]
mod counting;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations per call of `step`, over `n` calls after one warm-up call.
fn allocations_per_request(step: &mut Step, n: usize) -> Result<f64, String> {
    if !step() {
        return Err("the warm-up request was refused".into());
    }
    let before = allocations();
    for _ in 0..n {
        if !step() {
            return Err("a request was refused".into());
        }
    }
    Ok((allocations() - before) as f64 / n as f64)
}

/// A verifier with its cache filled by `key`'s token.
fn warm_verifier(key: &support::TestKey, token: &str) -> Result<Verifier, String> {
    let verifier = support::verifier_for(key);
    verifier.verify(token).map_err(|error| error.to_string())?;
    Ok(verifier)
}

/// A service that puts one extension into each request before `S` sees it, as axum's router
/// does (`MatchedPath`, `OriginalUri`): the extensions map exists before the guard runs.
#[derive(Clone)]
struct WithExtension<S>(S);

/// The extension [`WithExtension`] puts in.
#[derive(Clone)]
struct RouteMark(#[allow(dead_code)] u64);

impl<S: Service<Request<B>>, B> Service<Request<B>> for WithExtension<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        request.extensions_mut().insert(RouteMark(7));
        self.0.call(request)
    }
}

/// `(inner, warm with scope)` allocations per request, HS256, on requests that carry an
/// extension before the guard sees them.
fn warm_allocations_behind_router(n: usize) -> Result<(f64, f64), String> {
    let key = support::TestKey::generate(Algorithm::HS256);
    let token = key.sign(&claims("jti-warm"));
    let mut inner = service_step(WithExtension(Inner), bearer(&token)?);
    let mut scoped = service_step(
        WithExtension(
            GuardLayer::new(warm_verifier(&key, &token)?)
                .layer(RequireLayer::all_scopes(["read-posts"]).layer(Inner)),
        ),
        bearer(&token)?,
    );
    Ok((allocations_per_request(&mut inner, n)?, allocations_per_request(&mut scoped, n)?))
}

/// `(inner, warm, warm with scope)` allocations per request, HS256.
fn warm_allocations(n: usize) -> Result<(f64, f64, f64), String> {
    let key = support::TestKey::generate(Algorithm::HS256);
    let token = key.sign(&claims("jti-warm"));
    let mut inner = service_step(Inner, bearer(&token)?);
    let mut warm = service_step(GuardLayer::new(warm_verifier(&key, &token)?).layer(Inner), bearer(&token)?);
    let mut scoped = service_step(
        GuardLayer::new(warm_verifier(&key, &token)?)
            .layer(RequireLayer::all_scopes(["read-posts"]).layer(Inner)),
        bearer(&token)?,
    );
    Ok((
        allocations_per_request(&mut inner, n)?,
        allocations_per_request(&mut warm, n)?,
        allocations_per_request(&mut scoped, n)?,
    ))
}

/// Live bytes per cached token, with `tokens` distinct HS256 tokens in a cache that
/// holds them all; and the token's own length.
fn bytes_per_cached_token(tokens: usize, budget: Option<u64>) -> Result<(f64, usize, u64), String> {
    let key = support::TestKey::generate(Algorithm::HS256);
    let minted: Vec<String> = (0..tokens).map(|i| key.sign(&claims(&format!("jti-memory-{i:07}")))).collect();
    let builder = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .clock(ManualClock::new(support::NOW));
    let builder = match budget {
        Some(bytes) => builder.cache_memory(bytes),
        None => builder.cache_capacity(tokens as u64 + 64),
    };
    let verifier = builder.build().map_err(|error| error.to_string())?;
    let before = live_bytes();
    for token in &minted {
        verifier.verify(token).map_err(|error| error.to_string())?;
    }
    let grown = (live_bytes() - before).max(0) as u64;
    Ok((grown as f64 / tokens as f64, minted.first().map_or(0, String::len), grown))
}

fn main() -> ExitCode {
    let report = || -> Result<(), String> {
        let (inner, warm, scoped) = warm_allocations(10_000)?;
        println!("allocations per request: inner {inner:.2}, guard + inner {warm:.2}, guard + scope + inner {scoped:.2}");
        let (inner, scoped) = warm_allocations_behind_router(10_000)?;
        println!(
            "with an extension already in the request: inner {inner:.2}, guard + scope + inner {scoped:.2}"
        );
        for tokens in [1_000, 100_000] {
            let (per_token, token_len, _) = bytes_per_cached_token(tokens, None)?;
            println!("{tokens} cached tokens of {token_len} bytes: {per_token:.0} bytes each");
        }
        let budget = 4 * 1024 * 1024;
        let (_, _, grown) = bytes_per_cached_token(20_000, Some(budget))?;
        println!("cache_memory({budget}) after 20000 tokens: {grown} bytes live");
        Ok(())
    };
    match report() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("memory: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counters are global: one test at a time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn alone() -> std::sync::MutexGuard<'static, ()> {
        ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The extensions map's box, its table, and one box for the principal: the only
    /// allocations a warm hit adds, scope layer or not.
    #[test]
    fn a_warm_hit_allocates_only_the_principals_extensions() {
        let _alone = alone();
        let (inner, warm, scoped) = warm_allocations(200).unwrap();
        assert_eq!(warm - inner, 3.0, "guard: {warm}, inner alone: {inner}");
        assert_eq!(scoped, warm, "the scope layer allocates nothing");
    }

    /// Behind a router that made the extensions map already: the principal's box alone.
    #[test]
    fn behind_a_router_a_warm_hit_allocates_only_the_principals_box() {
        let _alone = alone();
        let (inner, scoped) = warm_allocations_behind_router(200).unwrap();
        assert_eq!(scoped - inner, 1.0, "guard + scope: {scoped}, inner alone: {inner}");
    }

    #[test]
    fn a_cached_token_costs_between_one_and_four_times_its_length() {
        let _alone = alone();
        let (per_token, token_len, _) = bytes_per_cached_token(2_000, None).unwrap();
        // The budget counts the token, its claims and about 96 bytes of bookkeeping.
        assert!(per_token > token_len as f64, "{per_token} bytes for a {token_len}-byte token");
        assert!(per_token < 4.0 * token_len as f64, "{per_token} bytes for a {token_len}-byte token");
    }

    #[test]
    fn a_byte_budget_bounds_the_memory_the_cache_really_holds() {
        let _alone = alone();
        let budget = 1024 * 1024;
        let (_, _, grown) = bytes_per_cached_token(5_000, Some(budget)).unwrap();
        // The table's own slots are not counted: allow a third more than the budget.
        assert!(grown < budget + budget / 3, "{grown} bytes live under a {budget}-byte budget");
    }
}
