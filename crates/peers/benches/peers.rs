//! Time per request, tower-passport and its peers side by side in one run, per algorithm:
//! the inner service alone, tower-passport's guard warm (cache hit) and cold (cache off),
//! the bare aws-lc-rs signature check (the floor), a bare `jsonwebtoken::decode`,
//! jwt-authorizer's layer and aliri_tower's layer, all on the token and inner service of
//! `benches::fixture` (jwt-authorizer around its own `AxumInner`, see
//! `peers::jwt_authorizer_peer`).
//!
//! ```text
//! cargo bench -p peers --bench peers -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! After criterion's own report it prints each group's medians and their ratios (read back
//! from criterion's `estimates.json`, for the functions this run measured) and writes them
//! to `<target>/bench-results/time.json` for `crates/benches/chart.py`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::SystemTime;

use benches::fixture::{self, bearer, call_once, claims, Inner, ALGORITHMS};
use benches::support::TestKey;
use criterion::Criterion;
use peers::jsonwebtoken_peer::JsonwebtokenPeer;
use peers::{aliri_peer, jwt_authorizer_peer, passport};
use serde_json::{json, Value};
use tower::Layer;
use tower_passport::GuardLayer;

/// Every function of a group, in the order the table prints them.
const FUNCTIONS: [&str; 8] = [
    "inner",
    "passport_warm",
    "passport_cold",
    "floor",
    "jsonwebtoken",
    "jwt_authorizer",
    "aliri",
    "axum_inner",
];

fn bench_algorithm(c: &mut Criterion, alg: tower_passport::Algorithm) {
    let key = TestKey::generate(alg);
    let token = key.sign(&claims("jti-warm"));
    let authorization = bearer(&token).expect("the token is a header value");

    let mut inner = Inner;
    let mut warm =
        GuardLayer::new(passport::warm_verifier(&key, &token).expect("warm verifier")).layer(Inner);
    let mut cold =
        GuardLayer::new(passport::cold_verifier(&key, &token).expect("cold verifier")).layer(Inner);
    let mut floor = fixture::floor(&key, &token).expect("floor");
    let jsonwebtoken = JsonwebtokenPeer::new(&key, &token).expect("jsonwebtoken accepts");
    let mut jwt_authorizer = jwt_authorizer_peer::service(&key).expect("jwt-authorizer builds");
    let mut aliri = aliri_peer::wrap(&key, Inner).expect("aliri builds");
    let mut axum_inner = jwt_authorizer_peer::AxumInner;

    // Every path accepts the token before anything is timed.
    assert!(call_once(&mut inner, &authorization));
    assert!(call_once(&mut warm, &authorization));
    assert!(call_once(&mut cold, &authorization));
    assert!(floor());
    assert!(call_once(&mut jwt_authorizer, &authorization));
    assert!(call_once(&mut aliri, &authorization));
    assert!(call_once(&mut axum_inner, &authorization));

    let mut group = c.benchmark_group(alg.name());
    group.bench_function("inner", |b| b.iter(|| call_once(&mut inner, black_box(&authorization))));
    group.bench_function("passport_warm", |b| b.iter(|| call_once(&mut warm, black_box(&authorization))));
    group.bench_function("passport_cold", |b| b.iter(|| call_once(&mut cold, black_box(&authorization))));
    group.bench_function("floor", |b| b.iter(&mut floor));
    group.bench_function("jsonwebtoken", |b| b.iter(|| jsonwebtoken.decode(black_box(&token)).is_ok()));
    group.bench_function("jwt_authorizer", |b| {
        b.iter(|| call_once(&mut jwt_authorizer, black_box(&authorization)))
    });
    group.bench_function("aliri", |b| b.iter(|| call_once(&mut aliri, black_box(&authorization))));
    group.bench_function("axum_inner", |b| b.iter(|| call_once(&mut axum_inner, black_box(&authorization))));
    group.finish();
}

/// Where criterion writes its estimates (its own rule: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else the target directory this bench was built in).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // <target>/release/deps/peers-<hash>
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn criterion_home() -> PathBuf {
    std::env::var_os("CRITERION_HOME").map_or_else(|| target_dir().join("criterion"), PathBuf::from)
}

/// The median criterion estimated for `group/function`, in nanoseconds, if this run
/// (started at `started`) measured it.
fn median(group: &str, function: &str, started: SystemTime) -> Option<f64> {
    let path = criterion_home().join(group).join(function).join("new").join("estimates.json");
    let modified = std::fs::metadata(&path).and_then(|metadata| metadata.modified()).ok()?;
    if modified < started {
        return None;
    }
    let estimates: Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

/// `a / b` when both were measured.
fn ratio(medians: &BTreeMap<&str, f64>, a: &str, b: &str) -> Option<f64> {
    Some(medians.get(a)? / medians.get(b)?)
}

fn format_time(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

fn format_ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |value| format!("{value:.3}"))
}

/// Prints the medians and ratios of every group this run measured and writes them to
/// `<target>/bench-results/time.json`.
fn report(started: SystemTime) {
    let mut results = serde_json::Map::new();
    println!("\nMedians, one run (÷ floor: over the bare signature check; cold ÷ peer: below 1 is faster)\n");
    println!("| alg | function | median | ÷ floor | passport_cold ÷ it |");
    println!("|---|---|---:|---:|---:|");
    for alg in ALGORITHMS {
        let group = alg.name();
        let medians: BTreeMap<&str, f64> = FUNCTIONS
            .iter()
            .filter_map(|function| Some((*function, median(group, function, started)?)))
            .collect();
        if medians.is_empty() {
            continue;
        }
        for function in FUNCTIONS {
            let Some(value) = medians.get(function) else { continue };
            let over_floor = match function {
                "inner" | "axum_inner" | "passport_warm" | "floor" => None,
                _ => ratio(&medians, function, "floor"),
            };
            let cold_over = match function {
                "jsonwebtoken" | "jwt_authorizer" | "aliri" => ratio(&medians, "passport_cold", function),
                _ => None,
            };
            println!(
                "| {group} | {function} | {} | {} | {} |",
                format_time(*value),
                format_ratio(over_floor),
                format_ratio(cold_over)
            );
        }
        if let Some(warm) = ratio(&medians, "passport_warm", "inner") {
            println!("| {group} | passport_warm ÷ inner | {warm:.2} | | |");
        }
        results.insert(group.to_owned(), json!(medians));
    }
    if results.is_empty() {
        // `cargo test --benches` runs each function once and estimates nothing.
        return;
    }
    let dir = target_dir().join("bench-results");
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(dir.join("time.json"), serde_json::to_vec_pretty(&json!({ "median_ns": results }))?)
    });
    match written {
        Ok(()) => println!("\nwritten to {}", dir.join("time.json").display()),
        Err(error) => eprintln!("could not write {}: {error}", dir.join("time.json").display()),
    }
}

fn main() {
    let started = SystemTime::now();
    let mut criterion = Criterion::default().configure_from_args();
    for alg in ALGORITHMS {
        bench_algorithm(&mut criterion, alg);
    }
    criterion.final_summary();
    report(started);
}
