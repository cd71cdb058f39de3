//! What the fuzz targets share: a fixed key set and the verifier over it, token signing
//! for the seed corpora, a first-party cookie configuration, an issuer with registered
//! clients, and the splitting of a fuzzer's bytes into lines.
//!
//! The ES256 key pair in `fixtures/` exists only for fuzzing: it signs nothing else.

use std::sync::OnceLock;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use tower_passport::cookie::FirstPartyCookie;
use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};

/// The clock every target reads: a fixed instant, so a run is reproducible.
pub const NOW: u64 = 1_800_000_000;
/// The issuer the verifier trusts.
pub const ISSUER: &str = "https://issuer.example";
/// The audience the verifier expects.
pub const AUDIENCE: &str = "api";
/// The HS256 secret (kid `hs`).
pub const HS256_SECRET: &[u8; 32] = b"fuzzing secret, 32 bytes long!!!";
/// The ES256 public key (kid `es`).
pub const ES256_PUBLIC_PEM: &[u8] = include_bytes!("../fixtures/es256-public.pem");
/// Its private key, PKCS#8 DER: signs the seed tokens.
pub const ES256_PRIVATE_PKCS8: &[u8] = include_bytes!("../fixtures/es256-private.pk8");
/// The first-party cookie's secret.
pub const COOKIE_SECRET: &[u8; 32] = b"cookie secret for fuzzing only!!";
/// The origin first-party cookies are accepted from.
pub const COOKIE_ORIGIN: &str = "https://app.example";

/// The fixed key set: HS256 (`hs`) and ES256 (`es`).
pub fn key_set() -> KeySet {
    let hs = VerifyingKey::from_hmac_secret(Algorithm::HS256, HS256_SECRET).map(|key| key.with_kid("hs"));
    let es = VerifyingKey::from_pem(ES256_PUBLIC_PEM, Algorithm::ES256).map(|key| key.with_kid("es"));
    match (hs, es) {
        (Ok(hs), Ok(es)) => KeySet::new().with_key(hs).with_key(es),
        (hs, es) => panic!("the fixed keys do not load: {:?} {:?}", hs.err(), es.err()),
    }
}

/// The verifier over [`key_set`], for [`ISSUER`] and [`AUDIENCE`], without a cache.
pub fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        Verifier::builder(key_set())
            .issuer(ISSUER)
            .audience(AUDIENCE)
            .no_cache()
            .build()
            .expect("the fuzzing verifier builds")
    })
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A compact JWS of `claims` signed with the HS256 secret, kid `hs`.
pub fn sign_hs256(typ: &str, claims: &serde_json::Value) -> String {
    let header = serde_json::json!({ "alg": "HS256", "typ": typ, "kid": "hs" });
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, HS256_SECRET), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// A compact JWS of `claims` signed with the ES256 key, kid `es`.
pub fn sign_es256(typ: &str, claims: &serde_json::Value) -> String {
    let header = serde_json::json!({ "alg": "ES256", "typ": typ, "kid": "es" });
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, ES256_PRIVATE_PKCS8)
        .expect("the ES256 fixture");
    let signature = key.sign(&SystemRandom::new(), input.as_bytes()).expect("ES256 signs");
    format!("{input}.{}", b64(signature.as_ref()))
}

/// Claims the verifier accepts at [`NOW`].
pub fn valid_claims(scope: &str) -> serde_json::Value {
    serde_json::json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "42", "client_id": "client-1",
        "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 3600, "jti": "jti-1", "scope": scope,
    })
}

/// The first-party cookie configuration the cookie target checks against.
pub fn first_party_cookie() -> &'static FirstPartyCookie {
    static COOKIE: OnceLock<FirstPartyCookie> = OnceLock::new();
    COOKIE.get_or_init(|| {
        FirstPartyCookie::new(COOKIE_SECRET)
            .expect("the cookie secret")
            .allow_origin(COOKIE_ORIGIN)
            .clock(tower_passport::clock::ManualClock::new(NOW))
    })
}

/// `data` split at `\n`.
pub fn lines(data: &[u8]) -> Vec<&[u8]> {
    data.split(|&b| b == b'\n').collect()
}

/// A `Name: value` line split in two (the value without leading spaces).
pub fn header_line(line: &[u8]) -> Option<(&str, &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = std::str::from_utf8(&line[..colon]).ok()?;
    let mut value = &line[colon + 1..];
    while let [b' ', rest @ ..] = value {
        value = rest;
    }
    Some((name, value))
}

/// Laravel's `APP_KEY` the Passport refresh-token target decrypts with (32 bytes).
pub const APP_KEY: &[u8; 32] = b"laravel APP_KEY for fuzzing!!!!!";

/// The policy target's verified token.
pub mod policy {
    use std::sync::OnceLock;

    use tower_passport::VerifiedToken;

    /// A token with the scopes `read write`, verified by [`verifier`](super::verifier).
    pub fn token() -> &'static VerifiedToken {
        static TOKEN: OnceLock<VerifiedToken> = OnceLock::new();
        TOKEN.get_or_init(|| {
            let jwt = super::sign_hs256("at+jwt", &super::valid_claims("read write"));
            super::verifier().verify_uncached(&jwt, super::NOW).expect("the policy target's token verifies")
        })
    }
}

/// The authorize target's issuer.
pub mod authorize {
    use std::sync::{Arc, OnceLock};

    use tokio::runtime::Runtime;
    use tower_passport::clock::ManualClock;
    use tower_passport_issuer::store::{GrantType, MemoryStore};
    use tower_passport_issuer::{ClientRegistration, Issuer, ScopeRegistry};

    /// The runtime the target blocks on (current thread).
    pub fn runtime() -> &'static Runtime {
        static RUNTIME: OnceLock<Runtime> = OnceLock::new();
        RUNTIME.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
        })
    }

    /// An issuer with three clients: `spa` (public, `https://spa.example.com/cb`), `app`
    /// (public, loopback `http://127.0.0.1/cb`) and `web` (confidential,
    /// `https://web.example.com/cb`); scopes `read` and `write`.
    pub fn issuer() -> &'static Issuer {
        static ISSUER: OnceLock<Issuer> = OnceLock::new();
        ISSUER.get_or_init(|| {
            let issuer = Issuer::builder(super::ISSUER, Arc::new(MemoryStore::new()))
                .audience(super::AUDIENCE)
                .scopes(ScopeRegistry::new().scope("read", "Read").scope("write", "Write"))
                .clock(ManualClock::new(super::NOW))
                .build()
                .expect("the issuer builds");
            let code = [GrantType::AuthorizationCode];
            let clients = [
                ClientRegistration::public("SPA")
                    .id("spa")
                    .grants(code)
                    .redirect_uris(["https://spa.example.com/cb"]),
                ClientRegistration::public("App")
                    .id("app")
                    .grants(code)
                    .redirect_uris(["http://127.0.0.1/cb"]),
                ClientRegistration::confidential("Web")
                    .id("web")
                    .grants(code)
                    .redirect_uris(["https://web.example.com/cb"]),
            ];
            for client in clients {
                runtime().block_on(issuer.register_client(client)).expect("a client registers");
            }
            issuer
        })
    }
}
