//! The crypto backend, chosen by measurement: signature verification with aws-lc-rs
//! against the pure-Rust RustCrypto crates (`rsa`, `p256`, `ed25519-dalek`), side by side
//! per algorithm in one run.
//!
//! Keys are generated and one JWT signing input is signed at run time, with aws-lc-rs.
//! Each group then times three verifications of that same signature:
//!
//! - `aws_lc_parsed`: `ParsedPublicKey` built once from the SPKI, `verify_sig` per call
//!   (what the crate does);
//! - `aws_lc_unparsed`: `UnparsedPublicKey::verify` per call, the key parsed every time
//!   from the bytes a JWT library holds (PKCS#1 for RSA, the EC point, the raw Ed25519 key);
//! - `rust_crypto`: the RustCrypto verifying key built once, the signature decoded and
//!   verified per call.
//!
//! ```text
//! cargo bench --bench crypto_backend -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, RsaEncoding, RsaKeyPair, UnparsedPublicKey,
    VerificationAlgorithm,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use rsa::pkcs8::DecodePublicKey;
use rsa::sha2::Sha256;
use rsa::signature::{Error as SignatureError, Verifier as _};
use serde_json::json;

/// One algorithm's key, signed message and aws-lc-rs verification algorithm.
struct Fixture {
    /// The JOSE name, also the criterion group's suffix.
    alg: &'static str,
    verification: &'static dyn VerificationAlgorithm,
    /// SubjectPublicKeyInfo DER, what the crate parses its keys from.
    spki: Vec<u8>,
    /// PKCS#1 `RSAPublicKey`, the uncompressed EC point or the raw Ed25519 key: the bytes
    /// jsonwebtoken hands to aws-lc-rs on every call.
    raw: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
}

/// A typical JWT signing input (`base64url(header) "." base64url(claims)`, ~350 bytes).
fn signing_input(alg: &str) -> Vec<u8> {
    let header = json!({ "alg": alg, "typ": "JWT", "kid": "2025-06-signing-key" });
    let claims = json!({
        "iss": "https://auth.example.com",
        "sub": "1042",
        "aud": "https://api.example.com",
        "exp": 4_000_000_000_u64,
        "iat": 1_700_000_000_u64,
        "nbf": 1_700_000_000_u64,
        "jti": "5f0c6a7e-3b1d-4c2a-9e8f-7a6b5c4d3e2f",
        "scope": "read-posts write-posts read-comments",
        "client_id": "9c1e6f2a-0b3d-4e5f-8a7b-6c5d4e3f2a1b",
    });
    let encode = |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
    format!("{}.{}", encode(&header), encode(&claims)).into_bytes()
}

fn rsa_fixture(
    alg: &'static str,
    padding: &'static dyn RsaEncoding,
    verification: &'static dyn VerificationAlgorithm,
) -> Fixture {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("rsa keygen");
    let message = signing_input(alg);
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(padding, &SystemRandom::new(), &message, &mut signature).expect("rsa signs");
    Fixture {
        alg,
        verification,
        spki: pair.public_key().as_der().expect("spki").as_ref().to_vec(),
        raw: pair.public_key().as_ref().to_vec(),
        message,
        signature,
    }
}

fn es256_fixture() -> Fixture {
    let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).expect("ec keygen");
    let message = signing_input("ES256");
    let signature = pair.sign(&SystemRandom::new(), &message).expect("ec signs").as_ref().to_vec();
    Fixture {
        alg: "ES256",
        verification: &signature::ECDSA_P256_SHA256_FIXED,
        spki: pair.public_key().as_der().expect("spki").as_ref().to_vec(),
        raw: pair.public_key().as_ref().to_vec(),
        message,
        signature,
    }
}

fn eddsa_fixture() -> Fixture {
    let pair = Ed25519KeyPair::generate().expect("ed keygen");
    let message = signing_input("EdDSA");
    let signature = pair.sign(&message).as_ref().to_vec();
    Fixture {
        alg: "EdDSA",
        verification: &signature::ED25519,
        spki: pair.public_key().as_der().expect("spki").as_ref().to_vec(),
        raw: pair.public_key().as_ref().to_vec(),
        message,
        signature,
    }
}

/// Asserts that `verify` accepts the fixture's signature and rejects it once a byte of the
/// message, or of the signature, is flipped.
fn assert_verifies(path: &str, fixture: &Fixture, verify: impl Fn(&[u8], &[u8]) -> bool) {
    assert!(verify(&fixture.message, &fixture.signature), "{} {path} accepts", fixture.alg);
    let mut message = fixture.message.clone();
    let middle = message.len() / 2;
    message[middle] ^= 1;
    assert!(!verify(&message, &fixture.signature), "{} {path} rejects a flipped message byte", fixture.alg);
    let mut signature = fixture.signature.clone();
    let middle = signature.len() / 2;
    signature[middle] ^= 1;
    assert!(!verify(&fixture.message, &signature), "{} {path} rejects a flipped signature byte", fixture.alg);
}

/// One group: the two aws-lc-rs paths and `rust_crypto`, which verifies a signature's bytes
/// against a key built once.
fn bench_fixture(
    c: &mut Criterion,
    fixture: &Fixture,
    rust_crypto: impl Fn(&[u8], &[u8]) -> Result<(), SignatureError>,
) {
    let parsed =
        ParsedPublicKey::new(fixture.verification, &fixture.spki).expect("aws-lc-rs parses the SPKI");
    let unparsed = |message: &[u8], signature: &[u8]| {
        UnparsedPublicKey::new(fixture.verification, &fixture.raw).verify(message, signature)
    };

    // Every path accepts the signature and rejects a flipped byte before anything is timed.
    assert_verifies("aws_lc_parsed", fixture, |m, s| parsed.verify_sig(m, s).is_ok());
    assert_verifies("aws_lc_unparsed", fixture, |m, s| unparsed(m, s).is_ok());
    assert_verifies("rust_crypto", fixture, |m, s| rust_crypto(m, s).is_ok());

    let (message, signature) = (fixture.message.as_slice(), fixture.signature.as_slice());
    let mut group = c.benchmark_group(format!("backend_{}", fixture.alg));
    group.bench_function("aws_lc_parsed", |b| {
        b.iter(|| black_box(parsed.verify_sig(black_box(message), black_box(signature))));
    });
    group.bench_function("aws_lc_unparsed", |b| {
        b.iter(|| black_box(unparsed(black_box(message), black_box(signature))));
    });
    group.bench_function("rust_crypto", |b| {
        b.iter(|| black_box(rust_crypto(black_box(message), black_box(signature))));
    });
    group.finish();
}

fn bench_rs256(c: &mut Criterion) {
    let fixture = rsa_fixture("RS256", &signature::RSA_PKCS1_SHA256, &signature::RSA_PKCS1_2048_8192_SHA256);
    let public = rsa::RsaPublicKey::from_public_key_der(&fixture.spki).expect("rsa parses the SPKI");
    let key = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(public);
    bench_fixture(c, &fixture, |message, signature| {
        key.verify(message, &rsa::pkcs1v15::Signature::try_from(signature)?)
    });
}

fn bench_ps256(c: &mut Criterion) {
    let fixture = rsa_fixture("PS256", &signature::RSA_PSS_SHA256, &signature::RSA_PSS_2048_8192_SHA256);
    let public = rsa::RsaPublicKey::from_public_key_der(&fixture.spki).expect("rsa parses the SPKI");
    // Salt length = digest length, as RFC 7518 requires for PS256.
    let key = rsa::pss::VerifyingKey::<Sha256>::new(public);
    bench_fixture(c, &fixture, |message, signature| {
        key.verify(message, &rsa::pss::Signature::try_from(signature)?)
    });
}

fn bench_es256(c: &mut Criterion) {
    let fixture = es256_fixture();
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&fixture.raw).expect("p256 parses the point");
    bench_fixture(c, &fixture, |message, signature| {
        key.verify(message, &p256::ecdsa::Signature::from_slice(signature)?)
    });
}

fn bench_eddsa(c: &mut Criterion) {
    let fixture = eddsa_fixture();
    let raw: &[u8; 32] = fixture.raw.as_slice().try_into().expect("32-byte Ed25519 key");
    let key = ed25519_dalek::VerifyingKey::from_bytes(raw).expect("ed25519-dalek decompresses the key");
    bench_fixture(c, &fixture, |message, signature| {
        key.verify(message, &ed25519_dalek::Signature::from_slice(signature)?)
    });
}

criterion_group!(benches, bench_rs256, bench_ps256, bench_es256, bench_eddsa);
criterion_main!(benches);
