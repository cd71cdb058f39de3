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

/// The DPoP target's request, clock and proof key: a `POST` to [`dpop::URL`] at [`NOW`],
/// proofs signed with the ES256 fixture.
pub mod dpop {
    use aws_lc_rs::digest;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use http::Method;
    use serde_json::{json, Value};
    use tower_passport::clock::ManualClock;
    use tower_passport::dpop::{ProofTarget, ProofVerifier};

    /// The method of the request proofs are checked for.
    pub const METHOD: &str = "POST";
    /// Its URL.
    pub const URL: &str = "https://api.example/orders";
    /// The access token presented beside the proof, for the requests that carry one.
    pub const ACCESS_TOKEN: &str = "dpop-bound-access-token";

    /// A verifier at [`NOW`](super::NOW) with the default algorithms and a fresh replay
    /// memory: every input is checked as if first seen.
    pub fn verifier() -> ProofVerifier {
        ProofVerifier::builder()
            .clock(ManualClock::new(super::NOW))
            .replay_capacity(16)
            .build()
            .expect("the fuzzing proof verifier builds")
    }

    /// The request: `POST` [`URL`], with [`ACCESS_TOKEN`] when `with_token`.
    pub fn target(with_token: bool) -> ProofTarget<'static> {
        let target = ProofTarget::new(Method::POST, URL).expect("the fuzzing URL");
        if with_token {
            target.access_token(ACCESS_TOKEN)
        } else {
            target
        }
    }

    fn key() -> EcdsaKeyPair {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, super::ES256_PRIVATE_PKCS8)
            .expect("the ES256 fixture")
    }

    /// The fixture's public key as a JWK.
    pub fn jwk() -> Value {
        let key = key();
        let point = key.public_key().as_ref();
        json!({
            "kty": "EC", "crv": "P-256",
            "x": super::b64(&point[1..33]), "y": super::b64(&point[33..65]),
        })
    }

    /// A well-formed proof header: `typ: dpop+jwt`, `alg: ES256`, the fixture's [`jwk`].
    pub fn header() -> Value {
        json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": jwk() })
    }

    /// Claims the verifier accepts for the request (with `ath` when `with_token`).
    pub fn claims(jti: &str, with_token: bool) -> Value {
        let mut claims = json!({ "jti": jti, "htm": METHOD, "htu": URL, "iat": super::NOW });
        if with_token {
            claims["ath"] = json!(tower_passport::dpop::access_token_hash(ACCESS_TOKEN));
        }
        claims
    }

    /// A compact JWS of `header` and `claims` (any bytes) signed with the fixture key.
    pub fn sign(header: &[u8], claims: &[u8]) -> String {
        let input = format!("{}.{}", super::b64(header), super::b64(claims));
        let signature = key().sign(&SystemRandom::new(), input.as_bytes()).expect("ES256 signs");
        format!("{input}.{}", super::b64(signature.as_ref()))
    }

    /// The RFC 7638 SHA-256 thumbprint of `jwk`, computed here without the crate: the
    /// required members of its `kty`, in lexicographic order, no whitespace. `None` for a
    /// JWK without them.
    pub fn thumbprint(jwk: &Value) -> Option<String> {
        let member = |name: &'static str| jwk.get(name)?.as_str().map(|value| (name, value));
        let names: &[&str] = match jwk.get("kty")?.as_str()? {
            "EC" => &["crv", "kty", "x", "y"],
            "OKP" => &["crv", "kty", "x"],
            "RSA" => &["e", "kty", "n"],
            _ => return None,
        };
        let members = names.iter().map(|name| member(name)).collect::<Option<Vec<_>>>()?;
        let canonical = members
            .iter()
            .map(|(name, value)| format!("\"{name}\":{}", Value::from(*value)))
            .collect::<Vec<_>>()
            .join(",");
        Some(super::b64(digest::digest(&digest::SHA256, format!("{{{canonical}}}").as_bytes()).as_ref()))
    }

    /// `htu` reduced as RFC 9449 §4.3 compares it, by this crate's own rules: no query or
    /// fragment, scheme and host lower-cased, an empty or default port dropped, percent-escapes of
    /// unreserved characters decoded. `None` when it is no `http(s)` URL.
    pub fn normal_htu(htu: &str) -> Option<String> {
        let htu = htu.split(['#', '?']).next()?;
        let (scheme, rest) = htu.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let (authority, path) = rest.find('/').map_or((rest, "/"), |slash| rest.split_at(slash));
        let authority = authority.to_ascii_lowercase();
        let default = if scheme == "https" { ":443" } else { ":80" };
        let authority = authority.strip_suffix(default).unwrap_or(&authority);
        let authority = authority.strip_suffix(':').unwrap_or(authority);
        let mut normal = String::new();
        let mut bytes = path.bytes();
        while let Some(byte) = bytes.next() {
            if byte != b'%' {
                normal.push(char::from(byte));
                continue;
            }
            let digits: String = bytes.by_ref().take(2).map(char::from).collect();
            match u8::from_str_radix(&digits, 16) {
                Ok(octet) if octet.is_ascii_alphanumeric() || b"-._~".contains(&octet) => {
                    normal.push(char::from(octet))
                }
                _ => normal.push_str(&format!("%{}", digits.to_ascii_uppercase())),
            }
        }
        Some(format!("{scheme}://{authority}{normal}"))
    }
}

/// The introspection target's authorization server: an [`HttpClient`] that answers every
/// `POST` with the status and body the target set, and an introspector over it (issuer
/// [`ISSUER`], audience [`AUDIENCE`], clock [`NOW`], no cache, no leeway).
///
/// [`HttpClient`]: tower_passport::keys::remote::HttpClient
pub mod introspection {
    use std::sync::{Mutex, OnceLock};
    use std::time::Duration;

    use bytes::Bytes;
    use http::{Request, Response, StatusCode};
    use tower_passport::clock::ManualClock;
    use tower_passport::error::AuthError;
    use tower_passport::introspection::Introspector;
    use tower_passport::keys::remote::{FetchFuture, HttpClient};
    use tower_passport::{BackendError, VerifiedToken};

    /// The endpoint the introspector calls (never reached: the fake client answers).
    pub const ENDPOINT: &str = "https://issuer.example/oauth/introspect";
    /// The token introspected.
    pub const TOKEN: &str = "opaque-token";

    /// The next answer: status and body.
    static ANSWER: Mutex<Option<(StatusCode, Bytes)>> = Mutex::new(None);

    struct FakeServer;

    impl HttpClient for FakeServer {
        fn get(&self, _request: Request<()>) -> FetchFuture<'_> {
            Box::pin(async { Err(BackendError::msg("no discovery in the fuzzing server")) })
        }

        fn post(&self, _request: Request<Bytes>) -> FetchFuture<'_> {
            let answer = ANSWER.lock().map(|mut answer| answer.take()).ok().flatten();
            Box::pin(async move {
                let (status, body) = answer.ok_or_else(|| BackendError::msg("no answer set"))?;
                let mut response = Response::new(body);
                *response.status_mut() = status;
                Ok(response)
            })
        }
    }

    fn introspector() -> &'static Introspector {
        static INTROSPECTOR: OnceLock<Introspector> = OnceLock::new();
        INTROSPECTOR.get_or_init(|| {
            Introspector::builder(ENDPOINT)
                .issuer(super::ISSUER)
                .audience(super::AUDIENCE)
                .client_secret_basic("resource", "resource-secret")
                .clock(ManualClock::new(super::NOW))
                .leeway(Duration::ZERO)
                .cache_capacity(0)
                .http_client(FakeServer)
                .build()
                .expect("the fuzzing introspector builds")
        })
    }

    /// [`TOKEN`] introspected, the server answering `status` with `body`.
    ///
    /// # Errors
    /// The guard's rejection: 401 `invalid_token` or 503.
    pub fn introspect(status: StatusCode, body: &[u8]) -> Result<VerifiedToken, AuthError> {
        if let Ok(mut answer) = ANSWER.lock() {
            *answer = Some((status, Bytes::copy_from_slice(body)));
        }
        super::authorize::runtime().block_on(introspector().introspect(TOKEN))
    }
}
