//! Cold verification, side by side per algorithm: the whole guard layer, the verifier
//! alone, jsonwebtoken's `decode`, and the bare aws-lc-rs signature check underneath.
//!
//! Every verifier here is built with `.no_cache()`, so each iteration verifies the
//! signature. Keys are generated and tokens minted at run time by the test support module.
//!
//! ```text
//! cargo bench --bench verify -- --warm-up-time 1 --measurement-time 3
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey, UnparsedPublicKey, VerificationAlgorithm};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Empty;
use jsonwebtoken::{DecodingKey, DecodingKeyKind, Validation};
use serde_json::json;
use tower::{service_fn, Layer, Service};
use tower_passport::{clock::ManualClock, Algorithm, GuardLayer, KeySet, Verifier};

#[path = "../../integration/tests/support/mod.rs"]
mod support;

/// The algorithms compared, one criterion group each.
const ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::HS256,
];

/// `exp` far beyond both the verifier clock (`support::NOW`) and the real clock, which
/// jsonwebtoken reads.
const FAR_FUTURE: u64 = 4_000_000_000;
/// `iat` before both clocks.
const LONG_AGO: u64 = 1_700_000_000;

/// The request body every service here takes.
type Body = Empty<Bytes>;

/// A user token valid at `support::NOW` and on the real clock, with scope `read-posts`.
fn mint(key: &support::TestKey) -> String {
    let mut claims = support::user_claims("1", "read-posts");
    claims["exp"] = json!(FAR_FUTURE);
    claims["iat"] = json!(LONG_AGO);
    key.sign(&claims)
}

fn cold_verifier(key: &support::TestKey) -> Verifier {
    Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .clock(ManualClock::new(support::NOW))
        .no_cache()
        .build()
        .expect("verifier builds")
}

/// A `GET` with the bearer token, as a server would hand it to the service.
fn request(authorization: &HeaderValue) -> Request<Body> {
    let mut request = Request::new(Body::new());
    request.headers_mut().insert(AUTHORIZATION, authorization.clone());
    request
}

/// Readies `service`, calls it and polls the response future once, with no runtime.
fn call_once<S, B>(service: &mut S, request: Request<Body>) -> Poll<Result<Response<B>, Infallible>>
where
    S: Service<Request<Body>, Response = Response<B>, Error = Infallible>,
{
    let mut cx = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_ready(), "the service is always ready");
    pin!(service.call(request)).poll(&mut cx)
}

fn assert_ok<B>(outcome: &Poll<Result<Response<B>, Infallible>>) {
    match outcome {
        Poll::Ready(Ok(response)) => assert_eq!(response.status(), StatusCode::OK),
        Poll::Ready(Err(never)) => match *never {},
        Poll::Pending => panic!("the guard completed without waiting"),
    }
}

/// The aws-lc-rs algorithm the crate binds to `alg` (`None` for HMAC).
fn aws_lc_algorithm(alg: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &signature::ED25519,
        Algorithm::HS256 => return None,
        other => unreachable!("{other} is not benchmarked"),
    })
}

/// jsonwebtoken's decoding key and validation for `key`'s algorithm.
fn jsonwebtoken_setup(key: &support::TestKey) -> (DecodingKey, Validation) {
    let pem = key.public_pem.as_bytes();
    let decoding = match key.alg {
        Algorithm::RS256 | Algorithm::PS256 => DecodingKey::from_rsa_pem(pem),
        Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
        _ => Ok(DecodingKey::from_secret(&key.public_der)),
    }
    .expect("jsonwebtoken loads the public key");
    let mut validation = Validation::new(key.alg.name().parse().expect("jsonwebtoken alg"));
    validation.set_issuer(&[support::ISSUER]);
    validation.set_audience(&[support::AUDIENCE]);
    (decoding, validation)
}

fn bench_algorithm(c: &mut Criterion, alg: Algorithm) {
    let key = support::TestKey::generate(alg);
    let token = mint(&key);
    let verifier = cold_verifier(&key);

    let (signing_input, signature_b64) = token.rsplit_once('.').expect("compact JWS");
    let signing_input = signing_input.as_bytes();
    let signature = URL_SAFE_NO_PAD.decode(signature_b64).expect("base64url signature");

    let (decoding_key, validation) = jsonwebtoken_setup(&key);
    // The bytes jsonwebtoken hands to aws-lc-rs (PKCS#1, EC point, raw Ed25519, secret).
    let DecodingKeyKind::SecretOrDer(jsonwebtoken_key_bytes) = decoding_key.kind() else {
        unreachable!("PEM and secret keys are stored as bytes");
    };

    let mut guard = GuardLayer::new(verifier.clone())
        .layer(service_fn(|_: Request<Body>| async { Ok::<_, Infallible>(Response::new(Body::new())) }));
    let authorization = HeaderValue::from_str(&format!("Bearer {token}")).expect("token is a header value");

    // Every path accepts the token before anything is timed.
    assert_ok(&call_once(&mut guard, request(&authorization)));
    verifier.verify(&token).expect("verifier accepts");
    jsonwebtoken::decode::<serde_json::Value>(&token, &decoding_key, &validation)
        .expect("jsonwebtoken accepts");

    let mut group = c.benchmark_group(alg.name());
    group.bench_function("guard_cold", |b| {
        b.iter(|| black_box(call_once(&mut guard, request(black_box(&authorization)))));
    });
    group.bench_function("verifier_cold", |b| {
        // `.no_cache()` and a manual clock: exactly one uncached verification at `NOW`.
        b.iter(|| black_box(verifier.verify(black_box(&token))));
    });
    group.bench_function("jsonwebtoken_decode", |b| {
        b.iter(|| {
            black_box(jsonwebtoken::decode::<serde_json::Value>(
                black_box(&token),
                &decoding_key,
                &validation,
            ))
        });
    });
    match aws_lc_algorithm(alg) {
        Some(algorithm) => {
            let parsed = ParsedPublicKey::new(algorithm, &key.public_der).expect("SPKI parses");
            parsed.verify_sig(signing_input, &signature).expect("aws-lc-rs accepts");
            UnparsedPublicKey::new(algorithm, jsonwebtoken_key_bytes)
                .verify(signing_input, &signature)
                .expect("aws-lc-rs accepts the unparsed key");
            group.bench_function("aws_lc_verify", |b| {
                b.iter(|| black_box(parsed.verify_sig(black_box(signing_input), &signature)));
            });
            group.bench_function("aws_lc_verify_unparsed", |b| {
                b.iter(|| {
                    let key = UnparsedPublicKey::new(algorithm, black_box(jsonwebtoken_key_bytes));
                    black_box(key.verify(black_box(signing_input), &signature))
                });
            });
        }
        None => {
            let hmac_key = hmac::Key::new(hmac::HMAC_SHA256, &key.public_der);
            hmac::verify(&hmac_key, signing_input, &signature).expect("aws-lc-rs accepts");
            group.bench_function("aws_lc_verify", |b| {
                b.iter(|| black_box(hmac::verify(&hmac_key, black_box(signing_input), &signature)));
            });
            // jsonwebtoken builds the HMAC key on every decode.
            group.bench_function("aws_lc_verify_unparsed", |b| {
                b.iter(|| {
                    let key = hmac::Key::new(hmac::HMAC_SHA256, black_box(jsonwebtoken_key_bytes));
                    black_box(hmac::verify(&key, black_box(signing_input), &signature))
                });
            });
        }
    }
    group.finish();
}

fn bench_verify(c: &mut Criterion) {
    for alg in ALGORITHMS {
        bench_algorithm(c, alg);
    }
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
