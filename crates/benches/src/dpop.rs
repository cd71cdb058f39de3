//! The DPoP scenarios of the `instructions` bin: a warm request with a DPoP-bound token and
//! a fresh proof (RFC 9449), and the bare check of a proof's signature, so that the warm
//! path can be compared with the plain bearer one "proof signature aside".

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P256_SHA256_FIXED};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::{HeaderValue, Request, StatusCode};
use tower_layer::Layer;
use tower_passport::clock::ManualClock;
use tower_passport::dpop::{Dpop, ProofVerifier};
use tower_passport::testing::DpopProver;
use tower_passport::{Algorithm, GuardLayer};
use tower_service::Service;

use crate::fixture::{claims, Body, Inner, Step};
use crate::support;

/// The URL every proof names (the request's `Host` and path).
const URL: &str = "http://bench.example/orders";

/// What `warm_dpop` and `dpop_proof_floor` share: a proof key and a bound HS256 token.
struct Bound {
    prover: DpopProver,
    key: support::TestKey,
    token: String,
}

fn bound() -> Result<Bound, String> {
    let prover = DpopProver::new().map_err(|error| error.to_string())?;
    let key = support::TestKey::generate(Algorithm::HS256);
    let mut claims = claims("jti-dpop");
    claims["cnf"] = serde_json::json!({ "jkt": prover.thumbprint() });
    let token = key.sign(&claims);
    Ok(Bound { prover, key, token })
}

fn header(value: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(value).map_err(|error| error.to_string())
}

/// One request through a guard that takes DPoP (both schemes), with a DPoP-bound token in
/// the verified-token cache and a fresh ES256 proof each (`proofs` minted before the loop).
///
/// # Errors
/// When the setup fails.
pub fn warm_dpop(proofs: usize) -> Result<Step, String> {
    let Bound { prover, key, token } = bound()?;
    let clock = ManualClock::new(support::NOW);
    let verifier = support::verifier_for(&key);
    // Fill the verified-token cache: every measured request is a hit.
    verifier.verify_for_dpop(&token).map_err(|error| error.to_string())?;
    let checker = ProofVerifier::builder().clock(clock).build().map_err(|error| error.to_string())?;
    let guard =
        GuardLayer::builder(verifier).dpop(Dpop::new().proofs(checker)).build().map_err(|e| e.to_string())?;
    requests(guard.layer(Inner), &prover, &token, proofs)
}

/// The requests of `warm_dpop` (`Host`, `Authorization: DPoP` and a fresh proof each) to
/// the inner service alone: what building, sending and dropping them costs without a
/// guard, the DPoP counterpart of `inner`.
///
/// # Errors
/// When the setup fails.
pub fn dpop_inner(proofs: usize) -> Result<Step, String> {
    let Bound { prover, token, .. } = bound()?;
    requests(Inner, &prover, &token, proofs)
}

/// One `GET /orders` to `service` per step, with a proof of `prover` for `token` each
/// (`proofs` minted before the loop); a step passes when the answer is 200.
fn requests<S, B>(mut service: S, prover: &DpopProver, token: &str, proofs: usize) -> Result<Step, String>
where
    S: Service<Request<Body>, Response = http::Response<B>, Error = std::convert::Infallible> + 'static,
{
    let authorization = header(&format!("DPoP {token}"))?;
    let host = header("bench.example")?;
    let minted = (0..proofs)
        .map(|_| prover.proof("GET", URL, Some(token), support::NOW).map_err(|error| error.to_string()))
        .map(|proof| proof.and_then(|proof| header(&proof)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut next = minted.into_iter();
    Ok(Box::new(move || {
        let Some(proof) = next.next() else { return false };
        let mut request = Request::new(Body::new());
        *request.uri_mut() = http::Uri::from_static("/orders");
        let headers = request.headers_mut();
        headers.insert(http::header::HOST, host.clone());
        headers.insert(http::header::AUTHORIZATION, authorization.clone());
        headers.insert("dpop", proof);
        let mut cx = Context::from_waker(Waker::noop());
        if service.poll_ready(&mut cx).is_pending() {
            return false;
        }
        match pin!(service.call(black_box(request))).poll(&mut cx) {
            Poll::Ready(Ok(response)) => response.status() == StatusCode::OK,
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => false,
        }
    }))
}

/// The bare aws-lc-rs check of the ES256 signatures of `proofs` proofs like `warm_dpop`'s
/// (minted before the loop, each checked once), the key parsed once: what `warm_dpop`
/// spends on its proofs' signatures, to subtract. Distinct proofs, as `warm_dpop` sees: an
/// ECDSA check's cost depends on the signature (about ±0.2% here), so one proof checked
/// over and over is no fair floor.
///
/// # Errors
/// When the setup fails.
pub fn dpop_proof_floor(proofs: usize) -> Result<Step, String> {
    let Bound { prover, token, .. } = bound()?;
    let coordinate = |name: &str| {
        prover.jwk()[name]
            .as_str()
            .and_then(|value| URL_SAFE_NO_PAD.decode(value).ok())
            .ok_or("no coordinate")
    };
    let mut point = vec![0x04];
    point.extend(coordinate("x")?);
    point.extend(coordinate("y")?);
    let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point).map_err(|error| error.to_string())?;
    let minted = (0..proofs)
        .map(|_| {
            let proof =
                prover.proof("GET", URL, Some(&token), support::NOW).map_err(|error| error.to_string())?;
            let (signing_input, signature) = proof.rsplit_once('.').ok_or("not a compact JWS")?;
            let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|error| error.to_string())?;
            Ok((signing_input.as_bytes().to_vec(), signature))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut next = minted.into_iter();
    Ok(Box::new(move || {
        let Some((signing_input, signature)) = next.next() else { return false };
        parsed.verify_sig(black_box(&signing_input), &signature).is_ok()
    }))
}
