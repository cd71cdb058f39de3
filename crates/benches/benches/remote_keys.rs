//! A verification with a remote key set's snapshot costs what it costs with static keys:
//! the request path is one lock-free snapshot load and a staleness check more. Side by
//! side in one criterion group per algorithm: the same token verified with static keys,
//! with a remote set served by a JWKS server on loopback (warmed up before measuring),
//! and with static keys behind a verifier trusting two issuers (routing by `iss`).
//!
//! Every verifier is built with `.no_cache()`, so each iteration verifies the signature.
//!
//! ```text
//! cargo bench --bench remote_keys -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use tower_passport::{
    clock::ManualClock, verify::TrustedIssuer, verify::VerifierBuilder, Algorithm, KeySet, RemoteKeySet,
    Verifier,
};

#[path = "../../integration/tests/jwks_server/mod.rs"]
mod jwks_server;
#[path = "../../integration/tests/support/mod.rs"]
mod support;

const ALGORITHMS: [Algorithm; 3] = [Algorithm::ES256, Algorithm::RS256, Algorithm::EdDSA];

fn cold(builder: VerifierBuilder) -> Verifier {
    builder
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .clock(ManualClock::new(support::NOW))
        .no_cache()
        .build()
        .expect("verifier builds")
}

fn remote_keys(c: &mut Criterion) {
    // The JWKS server and the key set's background task live on this runtime.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    for algorithm in ALGORITHMS {
        let key = support::TestKey::generate(algorithm);
        let token = key.sign(&support::user_claims("1", "read-posts"));
        let remote = runtime.block_on(async {
            let server = jwks_server::JwksServer::start().await;
            server.serve("/jwks", jwks_server::Reply::json(&json!({ "keys": [key.jwk] })));
            let remote = RemoteKeySet::builder(server.url("/jwks")).build().expect("remote set");
            remote.warm_up().await.expect("warm-up");
            remote
        });

        let with_static = cold(Verifier::builder(KeySet::new().with_key(key.verifying_key())));
        let with_remote = cold(Verifier::builder(remote.clone()));
        let other = support::TestKey::generate(Algorithm::ES256);
        let two_issuers = cold(
            Verifier::builder(KeySet::new().with_key(key.verifying_key())).trust(
                TrustedIssuer::new("https://other.test", KeySet::new().with_key(other.verifying_key()))
                    .audience(support::AUDIENCE),
            ),
        );
        for verifier in [&with_static, &with_remote, &two_issuers] {
            verifier.verify(&token).expect("the token verifies");
        }

        let mut group = c.benchmark_group(format!("remote_keys/{algorithm}"));
        group.bench_function("static", |b| b.iter(|| with_static.verify(black_box(&token))));
        group.bench_function("remote_snapshot", |b| b.iter(|| with_remote.verify(black_box(&token))));
        group.bench_function("static_two_issuers", |b| b.iter(|| two_issuers.verify(black_box(&token))));
        group.finish();
        assert_eq!(remote.metrics().fetches, 1, "nothing was fetched while measuring");
    }
}

criterion_group!(benches, remote_keys);
criterion_main!(benches);
