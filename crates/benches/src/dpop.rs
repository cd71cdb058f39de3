//! The DPoP scenarios of the `instructions` bin: a warm request with a DPoP-bound token and
//! a fresh proof (RFC 9449), and the bare check of a proof's signature, so that the warm
//! path can be compared with the plain bearer one "proof signature aside".

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P256_SHA256_FIXED};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::{HeaderValue, Request, StatusCode};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::SigningKey;
use serde_json::json;
use tower_layer::Layer;
use tower_passport::clock::ManualClock;
use tower_passport::dpop::{Dpop, ProofVerifier};
use tower_passport::{Algorithm, GuardLayer};
use tower_service::Service;

use crate::fixture::{claims, Body, Inner, Step};
use crate::support;

/// The URL every proof names (the request's `Host` and path).
const URL: &str = "http://bench.example/orders";

/// The proof key's private scalar: a fixed key signing with RFC 6979 (deterministic)
/// ECDSA, so that `warm_dpop` and `dpop_proof_floor` check the very same signatures, run
/// after run (an ECDSA check's cost depends on the signature: with random proofs the two
/// scenarios' checks differed by a few hundred instructions a request).
const PROOF_SCALAR: [u8; 32] = [
    0x6d, 0x1c, 0xa4, 0x39, 0xe2, 0x58, 0x0f, 0xb7, 0x93, 0x4e, 0xc1, 0x2a, 0x75, 0xd8, 0x06, 0x8b, 0xf4,
    0x31, 0x9e, 0x62, 0x17, 0xcd, 0x5b, 0xa0, 0x48, 0xe9, 0x23, 0x7f, 0xb5, 0x0a, 0xd6, 0x3c,
];

/// What `warm_dpop`, `dpop_proof_floor` and `load_server`'s DPoP modes share: the proof
/// key, its proofs' header, and an HS256 token bound to the key (`cnf.jkt`).
pub struct DpopFixture {
    signing: SigningKey,
    /// The proofs' header, base64url.
    header: String,
    key: support::TestKey,
    token: String,
}

fn bound() -> Result<DpopFixture, String> {
    let signing = SigningKey::from_slice(&PROOF_SCALAR).map_err(|error| error.to_string())?;
    let point = signing.verifying_key().to_encoded_point(false);
    let (x, y) = (point.x().ok_or("no x")?, point.y().ok_or("no y")?);
    let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
    // RFC 7638: the required members, in lexicographic order, no whitespace.
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let thumbprint = URL_SAFE_NO_PAD.encode(digest(&SHA256, canonical.as_bytes()));
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y});
    let header = URL_SAFE_NO_PAD.encode(json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}).to_string());
    let key = support::TestKey::generate(Algorithm::HS256);
    let mut claims = claims("jti-dpop");
    claims["cnf"] = json!({ "jkt": thumbprint });
    let token = key.sign(&claims);
    Ok(DpopFixture { signing, header, key, token })
}

impl DpopFixture {
    /// A fresh fixture (the token's HMAC key is new each time; the proof key is fixed).
    ///
    /// # Errors
    /// When the setup fails.
    pub fn new() -> Result<Self, String> {
        bound()
    }

    /// The bound token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The `n`th proof of `GET http://bench.example/orders` for the token: the same every
    /// run (RFC 6979 signatures, `jti` from `n`).
    pub fn proof(&self, n: usize) -> String {
        let ath = URL_SAFE_NO_PAD.encode(digest(&SHA256, self.token.as_bytes()));
        let claims = json!({"jti": format!("bench-proof-{n:06}"), "htm": "GET", "htu": URL, "iat": support::NOW, "ath": ath});
        let input = format!("{}.{}", self.header, URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature: p256::ecdsa::Signature = self.signing.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
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
    let bound = bound()?;
    requests(bound.guard()?.layer(Inner), &bound, proofs)
}

impl DpopFixture {
    /// A guard that takes DPoP (both schemes) with the token in its verified-token cache,
    /// its clock at the proofs' `iat`.
    ///
    /// # Errors
    /// When the setup fails.
    pub fn guard(&self) -> Result<GuardLayer, String> {
        let clock = ManualClock::new(support::NOW);
        let verifier = support::verifier_for(&self.key);
        // Fill the verified-token cache: every measured request is a hit.
        verifier.verify_for_dpop(&self.token).map_err(|error| error.to_string())?;
        let checker = ProofVerifier::builder().clock(clock).build().map_err(|error| error.to_string())?;
        GuardLayer::builder(verifier).dpop(Dpop::new().proofs(checker)).build().map_err(|e| e.to_string())
    }

    /// The bare aws-lc-rs check of proofs' ES256 signatures, the key parsed once: a
    /// `ProofFloor` that checks `proofs` in turn (each decoded before, so that what it
    /// counts is the check alone), what a DPoP request spends on its proof's signature.
    ///
    /// # Errors
    /// When a proof is not a compact JWS or the key does not parse.
    pub fn signature_floor(&self, proofs: impl IntoIterator<Item = String>) -> Result<ProofFloor, String> {
        let point = self.signing.verifying_key().to_encoded_point(false);
        let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point.as_bytes())
            .map_err(|error| error.to_string())?;
        let proofs = proofs
            .into_iter()
            .map(|proof| {
                let (signing_input, signature) = proof.rsplit_once('.').ok_or("not a compact JWS")?;
                let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|error| error.to_string())?;
                Ok((signing_input.as_bytes().to_vec(), signature))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(ProofFloor { key, proofs, next: 0 })
    }
}

/// The proofs [`DpopFixture::signature_floor`] checks, in turn.
pub struct ProofFloor {
    key: ParsedPublicKey,
    /// Each proof's signing input and decoded signature.
    proofs: Vec<(Vec<u8>, Vec<u8>)>,
    next: usize,
}

impl ProofFloor {
    /// Checks the next proof's signature: `false` when it fails or none is left.
    pub fn check_next(&mut self) -> bool {
        // Borrowed: freeing the bench's own buffers is not the check's cost.
        let Some((signing_input, signature)) = self.proofs.get(self.next) else { return false };
        self.next += 1;
        self.key.verify_sig(black_box(signing_input), signature).is_ok()
    }
}

/// The requests of `warm_dpop` (`Host`, `Authorization: DPoP` and a fresh proof each) to
/// the inner service alone: what building, sending and dropping them costs without a
/// guard, the DPoP counterpart of `inner`.
///
/// # Errors
/// When the setup fails.
pub fn dpop_inner(proofs: usize) -> Result<Step, String> {
    requests(Inner, &bound()?, proofs)
}

/// One `GET /orders` to `service` per step, with `bound`'s token and its next proof each
/// (`proofs` minted before the loop); a step passes when the answer is 200.
fn requests<S, B>(mut service: S, bound: &DpopFixture, proofs: usize) -> Result<Step, String>
where
    S: Service<Request<Body>, Response = http::Response<B>, Error = std::convert::Infallible> + 'static,
{
    let authorization = header(&format!("DPoP {}", bound.token))?;
    let host = header("bench.example")?;
    let minted = (0..proofs).map(|n| header(&bound.proof(n))).collect::<Result<Vec<_>, _>>()?;
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

/// The bare aws-lc-rs check of the ES256 signatures of `warm_dpop`'s proofs (the same
/// proofs, minted before the loop, each checked once), the key parsed once: what
/// `warm_dpop` spends on its proofs' signatures, to subtract.
///
/// # Errors
/// When the setup fails.
pub fn dpop_proof_floor(proofs: usize) -> Result<Step, String> {
    let bound = bound()?;
    let mut floor = bound.signature_floor((0..proofs).map(|n| bound.proof(n)))?;
    Ok(Box::new(move || floor.check_next()))
}
