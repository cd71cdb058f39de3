//! The token, the inner service and the request every instruction count and peer
//! comparison uses.
//!
//! [`claims`] are about 330 bytes (a Laravel Passport access token's size), signed with a
//! `kid` and `typ: at+jwt` by [`support::TestKey::sign`]. They are valid both at
//! [`support::NOW`], the manual clock tower-passport's verifiers run on, and on the real
//! clock the peers read (`exp` is [`FAR_FUTURE`]), so the same token is accepted by every
//! verifier measured. [`Inner`] answers 200 at once; [`call_once`] sends one request
//! through a service and polls its response once, with no runtime.
//!
//! ```
//! use benches::fixture::{bearer, call_once, claims, Inner};
//! use benches::support::TestKey;
//! use tower_passport::Algorithm;
//!
//! let token = TestKey::generate(Algorithm::HS256).sign(&claims("jti-doc"));
//! assert!(call_once(&mut Inner, &bearer(&token).unwrap()));
//! ```

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::hint::black_box;
use std::pin::pin;
use std::process::ExitCode;
use std::task::{Context, Poll, Waker};

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Empty;
use serde_json::{json, Value};
use tower_passport::Algorithm;
use tower_service::Service;

use crate::support;

/// The request body every service here takes.
pub type Body = Empty<Bytes>;

/// One request of a scenario: `true` when it got the answer a valid token gets.
pub type Step = Box<dyn FnMut() -> bool>;

/// The algorithms the token scenarios run for.
pub const ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::HS256];

/// The tokens' `exp`: far beyond both [`support::NOW`] and the real clock, which the peers
/// read (ten digits, like `NOW + 3600`, so the token's size does not change).
pub const FAR_FUTURE: u64 = 4_000_000_000;
const _: () = assert!(FAR_FUTURE > support::NOW + 3600);

/// The algorithm of [`ALGORITHMS`] named `name` (`rs256`, `ES256`, ...).
pub fn algorithm(name: &str) -> Option<Algorithm> {
    ALGORITHMS.into_iter().find(|candidate| candidate.name().eq_ignore_ascii_case(name))
}

/// A service answering every request 200 with an empty body, without waiting.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inner;

impl<B> Service<Request<B>> for Inner {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<B>) -> Self::Future {
        ready(Ok(Response::new(Body::new())))
    }
}

/// What a router leaves in a request before the layers of the route it picked run (axum's
/// `MatchedPath`, say): one extension, so the request's extension map exists already.
#[derive(Clone, Copy)]
pub struct RouteMark(pub &'static str);

/// `service` behind a router: every request reaches it carrying a [`RouteMark`], as a
/// guard mounted with axum's `route_layer` sees it.
pub struct Routed<S>(pub S);

impl<S, B> Service<Request<B>> for Routed<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        request.extensions_mut().insert(RouteMark("/posts"));
        self.0.call(request)
    }
}

/// Access-token claims of about 330 bytes (Passport's size), `jti` and all.
pub fn claims(jti: &str) -> Value {
    json!({
        "iss": support::ISSUER, "aud": support::AUDIENCE,
        "sub": "8d3c5f0e-4a1b-4c7e-9f2d-6b8a1e3c5d7f", "client_id": "9b2e7c41-0d6a-4f3b-8e5c-2a7d9f1b3c6e",
        "iat": support::NOW, "nbf": support::NOW, "exp": FAR_FUTURE, "jti": jti,
        "scope": "read-posts write-posts read-comments profile email",
        "email": "bench.user.0001@example.com", "amr": ["pwd"],
    })
}

/// `Bearer <token>` as a header value.
pub fn bearer(token: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|error| error.to_string())
}

/// Builds the request with its `Authorization` header, readies `service`, calls it and
/// polls the response future once with a no-op waker: `true` if it answered 200.
pub fn call_once<S, B>(service: &mut S, authorization: &HeaderValue) -> bool
where
    S: Service<Request<Body>, Response = Response<B>, Error = Infallible>,
{
    let mut request = Request::new(Body::new());
    request.headers_mut().insert(AUTHORIZATION, authorization.clone());
    let mut cx = Context::from_waker(Waker::noop());
    if service.poll_ready(&mut cx).is_pending() {
        return false;
    }
    match pin!(service.call(request)).poll(&mut cx) {
        Poll::Ready(Ok(response)) => response.status() == StatusCode::OK,
        Poll::Ready(Err(never)) => match never {},
        Poll::Pending => false,
    }
}

/// `service` as a step, on the same request every time.
pub fn service_step<S, B>(mut service: S, authorization: HeaderValue) -> Step
where
    S: Service<Request<Body>, Response = Response<B>, Error = Infallible> + 'static,
{
    Box::new(move || call_once(&mut service, black_box(&authorization)))
}

/// The ES256 scenarios' private scalar: a fixed key, so that its tokens are the same every
/// run (an ECDSA check's cost depends on the key and the signature).
const ES256_SCALAR: [u8; 32] = [
    0x3b, 0x5e, 0x91, 0x0c, 0x7a, 0x22, 0xd4, 0x68, 0x1f, 0xa9, 0x53, 0xe0, 0x8c, 0x37, 0xb2, 0x4d, 0x95,
    0x06, 0xcf, 0x71, 0x2a, 0xe8, 0x44, 0x9b, 0x60, 0x1d, 0xf3, 0x87, 0x5c, 0xba, 0x19, 0x02,
];

/// The key the scenarios sign with: for ES256 a fixed one signing with RFC 6979
/// (deterministic) ECDSA, so that the same claims make the same token every run; the others
/// as `TestKey::generate` makes them (RSA PKCS#1 v1.5 and HMAC are deterministic already).
pub fn key(alg: Algorithm) -> Result<support::TestKey, String> {
    if alg != Algorithm::ES256 {
        return Ok(support::TestKey::generate(alg));
    }
    use p256::ecdsa::signature::Signer as _;
    let signing = p256::ecdsa::SigningKey::from_slice(&ES256_SCALAR).map_err(|error| error.to_string())?;
    let point = signing.verifying_key().to_encoded_point(false);
    // PKCS#8 v1 of a P-256 key (RFC 5915's ECPrivateKey, its public key included).
    let mut pkcs8 = vec![
        0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
        0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01,
        0x04, 0x20,
    ];
    pkcs8.extend_from_slice(&ES256_SCALAR);
    pkcs8.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00]);
    pkcs8.extend_from_slice(point.as_bytes());
    let kid = format!("{}-key", alg.name().to_lowercase());
    let signer: support::Signer = Box::new(move |input: &[u8]| {
        let signature: p256::ecdsa::Signature = signing.sign(input);
        signature.to_bytes().to_vec()
    });
    Ok(support::TestKey::from_ec_pkcs8(alg, &kid, &pkcs8).with_signer(signer))
}

/// A compact JWS's signing input and decoded signature.
fn signed_parts(token: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    let (signing_input, signature_b64) = token.rsplit_once('.').ok_or("not a compact JWS")?;
    let signature = URL_SAFE_NO_PAD.decode(signature_b64).map_err(|error| error.to_string())?;
    Ok((signing_input.as_bytes().to_vec(), signature))
}

/// Whether a signature (the second) is good for a signing input (the first).
type SignatureCheck = Box<dyn Fn(&[u8], &[u8]) -> bool>;

/// aws-lc-rs's bare check of a signing input's signature under `key`, the key parsed once.
fn signature_check(key: &support::TestKey) -> Result<SignatureCheck, String> {
    if key.alg == Algorithm::HS256 {
        let hmac_key = hmac::Key::new(hmac::HMAC_SHA256, &key.public_der);
        return Ok(Box::new(move |input, signature| hmac::verify(&hmac_key, input, signature).is_ok()));
    }
    let algorithm: &'static dyn VerificationAlgorithm = match key.alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        other => return Err(format!("no floor for {}", other.name())),
    };
    let parsed = ParsedPublicKey::new(algorithm, &key.public_der).map_err(|error| error.to_string())?;
    Ok(Box::new(move |input, signature| parsed.verify_sig(input, signature).is_ok()))
}

/// The bare signature check of `token` by aws-lc-rs, the key parsed once: the floor every
/// verifier sits on.
pub fn floor(key: &support::TestKey, token: &str) -> Result<Step, String> {
    let (signing_input, signature) = signed_parts(token)?;
    let check = signature_check(key)?;
    Ok(Box::new(move || check(black_box(&signing_input), &signature)))
}

/// [`floor`] of each of `tokens` in turn, one per step: the floor of a scenario that
/// verifies those same tokens (an ECDSA check's cost depends on the signature).
pub fn floor_each(key: &support::TestKey, tokens: &[String]) -> Result<Step, String> {
    let parts = tokens.iter().map(|token| signed_parts(token)).collect::<Result<Vec<_>, _>>()?;
    let check = signature_check(key)?;
    let mut next = 0;
    Ok(Box::new(move || {
        let Some((signing_input, signature)) = parts.get(next) else { return false };
        next += 1;
        check(black_box(signing_input), signature)
    }))
}

/// Runs `step` `n` times: the only function callgrind collects in (`callgrind.sh` passes
/// `--toggle-collect='*run_measured*'`). Returns how many requests got the expected answer.
#[inline(never)]
pub fn run_measured(step: &mut dyn FnMut() -> bool, n: usize) -> usize {
    let mut answered = 0;
    for _ in 0..n {
        answered += usize::from(step());
    }
    answered
}

/// The command line every instruction-count bin shares: `<bin> <scenario> <N>`. Sets the
/// scenario up with `setup(scenario, N)` (outside the measured part), runs it `N` times in
/// [`run_measured`], and fails unless every request got the expected answer.
pub fn run_scenario_from_args(
    bin: &str,
    scenarios: &[String],
    setup: impl FnOnce(&str, usize) -> Result<Step, String>,
) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(scenario), Some(n)) = (args.first(), args.get(1).and_then(|n| n.parse::<usize>().ok())) else {
        eprintln!("usage: {bin} <scenario> <N>\nscenarios: {}", scenarios.join(" "));
        return ExitCode::from(2);
    };
    let mut step = match setup(scenario, n) {
        Ok(step) => step,
        Err(error) => {
            eprintln!("{error}\nscenarios: {}", scenarios.join(" "));
            return ExitCode::from(2);
        }
    };
    let answered = run_measured(&mut step, n);
    if answered != n {
        eprintln!("{scenario}: only {answered} of {n} requests got the expected answer");
        return ExitCode::FAILURE;
    }
    println!("{scenario} n={n} ok");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_passport_sized() {
        let length = claims("jti-cold-000000").to_string().len();
        assert!((300..=360).contains(&length), "{length} bytes of claims");
    }

    #[test]
    fn the_token_is_valid_on_the_real_clock_too() {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert!(FAR_FUTURE > now + 10 * 365 * 24 * 3600);
    }

    #[test]
    fn the_floor_refuses_another_tokens_signature() {
        for alg in ALGORITHMS {
            let key = support::TestKey::generate(alg);
            let token = key.sign(&claims("jti-floor"));
            assert!(floor(&key, &token).unwrap()(), "{alg:?}");
            let (signing_input, _) = token.rsplit_once('.').unwrap();
            let other = key.sign(&claims("jti-other"));
            let (_, signature) = other.rsplit_once('.').unwrap();
            assert!(!floor(&key, &format!("{signing_input}.{signature}")).unwrap()(), "{alg:?}");
        }
    }

    #[test]
    fn the_es256_key_signs_the_same_token_every_time_and_it_verifies() {
        let key = key(Algorithm::ES256).unwrap();
        let token = key.sign(&claims("jti-fixed"));
        assert_eq!(token, self::key(Algorithm::ES256).unwrap().sign(&claims("jti-fixed")));
        assert!(floor(&key, &token).unwrap()());
        assert!(support::verifier_for(&key).verify(&token).is_ok());
        let other = key.sign(&claims("jti-other"));
        assert_ne!(token, other);
        let mut each = floor_each(&key, &[token, other]).unwrap();
        assert!(each() && each() && !each());
    }

    #[test]
    fn algorithms_are_found_by_name_in_any_case() {
        assert_eq!(algorithm("rs256"), Some(Algorithm::RS256));
        assert_eq!(algorithm("ES256"), Some(Algorithm::ES256));
        assert_eq!(algorithm("ps256"), None);
    }
}
