//! The guard's `DPoP` path, driven through `ServiceBuilder` with proofs signed here
//! (aws-lc-rs) and tokens minted by jsonwebtoken.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use serde_json::{json, Value};
use tower::{ServiceBuilder, ServiceExt};

use super::{Dpop, ProofVerifier};
use crate::clock::ManualClock;
use crate::error::{AuthError, Reason};
use crate::testing::DpopProver;
use crate::token::Credential;
use crate::{Algorithm, GuardLayer, KeySet, Principal, Verifier, VerifyingKey};

const NOW: u64 = 1_700_000_000;
const SECRET: &[u8] = b"a-shared-secret-of-at-least-32-bytes!!";
const URL: &str = "http://api.example.com/orders";

/// A DPoP client: a P-256 key pair, with proofs at `NOW` and explicit `jti`s.
struct Client(DpopProver);

impl Client {
    fn new() -> Self {
        Self(DpopProver::new().unwrap())
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        self.0.sign(header, claims).unwrap()
    }

    fn header(&self) -> Value {
        self.0.header()
    }

    fn thumbprint(&self) -> String {
        self.0.thumbprint().to_owned()
    }

    fn claims(&self, method: &str, url: &str, token: &str, jti: &str) -> Value {
        let mut claims = self.0.claims(method, url, Some(token), NOW).unwrap();
        claims["jti"] = json!(jti);
        claims
    }

    fn proof(&self, method: &str, url: &str, token: &str, jti: &str) -> String {
        self.sign(&self.header(), &self.claims(method, url, token, jti))
    }
}

fn token(jkt: Option<&str>) -> String {
    let mut claims = json!({"iss": "https://auth.example.com", "aud": "api", "sub": "42", "client_id": "app",
        "exp": NOW + 600, "jti": "t-1", "scope": "orders"});
    if let Some(jkt) = jkt {
        claims["cnf"] = json!({"jkt": jkt});
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(SECRET)).unwrap()
}

fn guard(dpop: Option<Dpop>, clock: &ManualClock) -> GuardLayer {
    let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, SECRET).unwrap());
    let verifier = Verifier::builder(keys)
        .issuer("https://auth.example.com")
        .audience("api")
        .clock(clock.clone())
        .build()
        .unwrap();
    let builder = GuardLayer::builder(verifier);
    match dpop {
        Some(dpop) => builder.dpop(dpop).build().unwrap(),
        None => builder.build().unwrap(),
    }
}

fn proofs(clock: &ManualClock) -> ProofVerifier {
    ProofVerifier::builder().clock(clock.clone()).build().unwrap()
}

struct Answer {
    status: StatusCode,
    challenges: Vec<String>,
    reason: Option<Reason>,
    credential: Option<String>,
    nonce: Option<String>,
}

async fn send(layer: &GuardLayer, method: &str, url: &str, headers: &[(&str, &str)]) -> Answer {
    let service =
        ServiceBuilder::new().layer(layer.clone()).service_fn(|request: Request<Full<Bytes>>| async move {
            let principal = request.extensions().get::<Principal>().unwrap();
            let credential = format!("{:?}", principal.credential());
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(credential))))
        });
    let uri: http::Uri = url.parse().unwrap();
    let mut request = Request::builder().method(method).uri(uri.path());
    request = request.header("host", uri.authority().unwrap().as_str());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = service.oneshot(request.body(Full::new(Bytes::new())).unwrap()).await.unwrap();
    let challenges = response
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let reason = response.extensions().get::<AuthError>().map(AuthError::reason);
    let nonce = response.headers().get("dpop-nonce").map(|v| v.to_str().unwrap().to_owned());
    let status = response.status();
    let credential = if status == StatusCode::OK {
        let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        Some(String::from_utf8(body.to_vec()).unwrap())
    } else {
        None
    };
    Answer { status, challenges, reason, credential, nonce }
}

const ALGS: &str = r#"algs="ES256 ES384 EdDSA RS256 PS256""#;

#[tokio::test]
async fn a_bound_token_with_a_proof_of_its_key_is_admitted_as_dpop() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let layer = guard(Some(Dpop::new().proofs(proofs(&clock))), &clock);
    let token = token(Some(&client.thumbprint()));
    let proof = client.proof("GET", URL, &token, "p-1");
    let answer =
        send(&layer, "GET", URL, &[("authorization", &format!("DPoP {token}")), ("dpop", &proof)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.reason);
    assert_eq!(answer.credential.as_deref(), Some("Dpop"));
    // Again, from the verified-token cache, with a fresh proof; the query is ignored.
    let proof = client.proof("GET", "http://api.example.com/orders?page=2", &token, "p-2");
    let answer = send(
        &layer,
        "GET",
        "http://api.example.com/orders?x=1",
        &[("authorization", &format!("dpop {token}")), ("dpop", &proof)],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.reason);
}

#[tokio::test]
async fn a_bound_token_under_the_bearer_scheme_is_refused_even_once_verified_for_dpop() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let layer = guard(Some(Dpop::new().proofs(proofs(&clock))), &clock);
    let token = token(Some(&client.thumbprint()));
    let bearer = format!("Bearer {token}");
    let answer = send(&layer, "GET", URL, &[("authorization", &bearer)]).await;
    assert_eq!((answer.status, answer.reason), (StatusCode::UNAUTHORIZED, Some(Reason::KeyBoundToken)));
    let proof = client.proof("GET", URL, &token, "p-1");
    let dpop =
        send(&layer, "GET", URL, &[("authorization", &format!("DPoP {token}")), ("dpop", &proof)]).await;
    assert_eq!(dpop.status, StatusCode::OK);
    let answer = send(&layer, "GET", URL, &[("authorization", &bearer)]).await;
    assert_eq!((answer.status, answer.reason), (StatusCode::UNAUTHORIZED, Some(Reason::KeyBoundToken)));
    // Without DPoP, as before: refused.
    let plain = guard(None, &clock);
    let answer = send(&plain, "GET", URL, &[("authorization", &bearer)]).await;
    assert_eq!(answer.reason, Some(Reason::KeyBoundToken));
}

#[tokio::test]
async fn a_dpop_proof_beside_a_bearer_token_is_refused() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let layer = guard(Some(Dpop::new().proofs(proofs(&clock))), &clock);
    let token = token(None);
    let proof = client.proof("GET", URL, &token, "p-1");
    let answer =
        send(&layer, "GET", URL, &[("authorization", &format!("Bearer {token}")), ("dpop", &proof)]).await;
    assert_eq!((answer.status, answer.reason), (StatusCode::BAD_REQUEST, Some(Reason::DpopProofWithBearer)));
    // And an unbound token alone under Bearer still passes when both schemes are offered.
    let answer = send(&layer, "GET", URL, &[("authorization", &format!("Bearer {token}"))]).await;
    assert_eq!(answer.credential.as_deref(), Some("Bearer"));
}

#[tokio::test]
async fn binding_failures_are_invalid_token_under_the_dpop_challenge() {
    let (clock, client, thief) = (ManualClock::new(NOW), Client::new(), Client::new());
    let layer = guard(Some(Dpop::new().proofs(proofs(&clock))), &clock);
    let unbound = token(None);
    let proof = client.proof("GET", URL, &unbound, "p-1");
    let answer =
        send(&layer, "GET", URL, &[("authorization", &format!("DPoP {unbound}")), ("dpop", &proof)]).await;
    assert_eq!((answer.status, answer.reason), (StatusCode::UNAUTHORIZED, Some(Reason::DpopUnboundToken)));
    assert_eq!(answer.challenges[0], r#"Bearer realm="api""#);
    assert_eq!(
        answer.challenges[1],
        format!(
            r#"DPoP realm="api", error="invalid_token", error_description="The access token is not bound to a DPoP key", {ALGS}"#
        )
    );
    // A stolen bound token, with a proof of the thief's own key.
    let bound = token(Some(&client.thumbprint()));
    let proof = thief.proof("GET", URL, &bound, "p-2");
    let answer =
        send(&layer, "GET", URL, &[("authorization", &format!("DPoP {bound}")), ("dpop", &proof)]).await;
    assert_eq!((answer.status, answer.reason), (StatusCode::UNAUTHORIZED, Some(Reason::DpopKeyMismatch)));
    assert!(answer.challenges[1].contains(r#"error="invalid_token""#));
}

#[tokio::test]
async fn a_proof_that_fails_its_own_checks_is_invalid_dpop_proof() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let layer = guard(Some(Dpop::new().proofs(proofs(&clock))), &clock);
    let token = token(Some(&client.thumbprint()));
    let authorization = format!("DPoP {token}");
    let with = |proof: String| async move { proof };
    let mut cases: Vec<(String, Reason)> = vec![
        (client.proof("POST", URL, &token, "m"), Reason::DpopProofTarget),
        (client.proof("GET", "http://api.example.com/other", &token, "u"), Reason::DpopProofTarget),
        (client.proof("GET", "https://other.example.com/orders", &token, "h"), Reason::DpopProofTarget),
        (client.proof("GET", URL, "another-token", "a"), Reason::DpopAccessTokenHash),
        ("not.a.proof".into(), Reason::DpopProofMalformed),
    ];
    let mut no_ath = client.claims("GET", URL, &token, "n");
    no_ath.as_object_mut().unwrap().remove("ath");
    cases.push((client.sign(&client.header(), &no_ath), Reason::DpopAccessTokenHash));
    let mut stale = client.claims("GET", URL, &token, "s");
    stale["iat"] = json!(NOW - 301);
    cases.push((client.sign(&client.header(), &stale), Reason::DpopProofStale));
    let mut ahead = client.claims("GET", URL, &token, "f");
    ahead["iat"] = json!(NOW + 301);
    cases.push((client.sign(&client.header(), &ahead), Reason::DpopProofStale));
    let claims = client.claims("GET", URL, &token, "t");
    let mut typ = client.header();
    typ["typ"] = json!("JWT");
    cases.push((client.sign(&typ, &claims), Reason::DpopProofMalformed));
    let mut alg = client.header();
    alg["alg"] = json!("HS256");
    cases.push((client.sign(&alg, &claims), Reason::DpopProofAlgorithm));
    let mut private = client.header();
    private["jwk"]["d"] = json!("AAAA");
    cases.push((client.sign(&private, &claims), Reason::DpopProofKey));
    let mut other_key = client.header();
    other_key["jwk"] = Client::new().0.jwk().clone();
    cases.push((client.sign(&other_key, &claims), Reason::DpopProofSignature));
    for (proof, reason) in cases {
        let proof = with(proof).await;
        let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &proof)]).await;
        assert_eq!((answer.status, answer.reason), (StatusCode::UNAUTHORIZED, Some(reason)), "{reason:?}");
        assert!(
            answer.challenges[1].starts_with(r#"DPoP realm="api", error="invalid_dpop_proof""#),
            "{reason:?}"
        );
        assert!(answer.challenges[1].ends_with(ALGS));
    }
    let answer = send(&layer, "GET", URL, &[("authorization", &authorization)]).await;
    assert_eq!(answer.reason, Some(Reason::DpopProofMissing));
    let proof = client.proof("GET", URL, &token, "two");
    let answer =
        send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &proof), ("dpop", &proof)])
            .await;
    assert_eq!(answer.reason, Some(Reason::DpopProofMissing));
}

#[tokio::test]
async fn a_proof_is_single_use() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let layer = guard(Some(Dpop::new().proofs(proofs(&clock))), &clock);
    let token = token(Some(&client.thumbprint()));
    let headers =
        [("authorization", format!("DPoP {token}")), ("dpop", client.proof("GET", URL, &token, "once"))];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    assert_eq!(send(&layer, "GET", URL, &headers).await.status, StatusCode::OK);
    let replay = send(&layer, "GET", URL, &headers).await;
    assert_eq!((replay.status, replay.reason), (StatusCode::UNAUTHORIZED, Some(Reason::DpopProofReplayed)));
}

#[tokio::test]
async fn the_iat_window_is_configurable() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let narrow = ProofVerifier::builder()
        .clock(clock.clone())
        .iat_window(std::time::Duration::from_secs(10), std::time::Duration::from_secs(2))
        .build()
        .unwrap();
    let layer = guard(Some(Dpop::new().proofs(narrow)), &clock);
    let token = token(Some(&client.thumbprint()));
    let authorization = format!("DPoP {token}");
    clock.set(NOW + 11);
    let proof = client.proof("GET", URL, &token, "old");
    let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &proof)]).await;
    assert_eq!(answer.reason, Some(Reason::DpopProofStale));
    clock.set(NOW + 10);
    let proof = client.proof("GET", URL, &token, "just-in-time");
    let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &proof)]).await;
    assert_eq!(answer.status, StatusCode::OK);
    clock.set(NOW - 3);
    let proof = client.proof("GET", URL, &token, "ahead");
    let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &proof)]).await;
    assert_eq!(answer.reason, Some(Reason::DpopProofStale));
}

#[tokio::test]
async fn both_schemes_offered_send_both_challenges_and_the_used_one_carries_the_error() {
    let clock = ManualClock::new(NOW);
    let layer = guard(Some(Dpop::new().proofs(proofs(&clock))), &clock);
    let answer = send(&layer, "GET", URL, &[]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenges,
        [r#"Bearer realm="api""#.to_owned(), format!(r#"DPoP realm="api", {ALGS}"#)]
    );
    let answer = send(&layer, "GET", URL, &[("authorization", "Bearer not-a-jwt")]).await;
    assert!(answer.challenges[0].starts_with(r#"Bearer realm="api", error="invalid_token""#));
    assert_eq!(answer.challenges[1], format!(r#"DPoP realm="api", {ALGS}"#));
}

#[tokio::test]
async fn when_dpop_is_required_only_its_challenge_is_sent_and_bearer_is_refused() {
    let clock = ManualClock::new(NOW);
    let layer = guard(Some(Dpop::new().required().proofs(proofs(&clock))), &clock);
    let answer = send(&layer, "GET", URL, &[]).await;
    assert_eq!(answer.challenges, [format!(r#"DPoP realm="api", {ALGS}"#)]);
    let answer = send(&layer, "GET", URL, &[("authorization", &format!("Bearer {}", token(None)))]).await;
    assert_eq!((answer.status, answer.reason), (StatusCode::UNAUTHORIZED, Some(Reason::DpopRequired)));
    assert_eq!(answer.challenges.len(), 1);
    assert!(answer.challenges[0].starts_with(r#"DPoP realm="api", error="invalid_token""#));
}

#[tokio::test]
async fn behind_a_proxy_htu_is_the_public_url() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let dpop = Dpop::new().public_url("https://api.example.com/v1").proofs(proofs(&clock));
    let layer = guard(Some(dpop), &clock);
    let token = token(Some(&client.thumbprint()));
    let authorization = format!("DPoP {token}");
    // The proxy forwards https://api.example.com/v1/orders to http://10.0.0.7:8080/orders.
    let internal = "http://10.0.0.7:8080/orders";
    let proof = client.proof("GET", "https://api.example.com/v1/orders", &token, "public");
    let answer = send(&layer, "GET", internal, &[("authorization", &authorization), ("dpop", &proof)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.reason);
    let proof = client.proof("GET", internal, &token, "internal");
    let answer = send(&layer, "GET", internal, &[("authorization", &authorization), ("dpop", &proof)]).await;
    assert_eq!(answer.reason, Some(Reason::DpopProofTarget));
    let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, SECRET).unwrap());
    let verifier =
        Verifier::builder(keys).issuer("https://auth.example.com").audience("api").build().unwrap();
    assert!(GuardLayer::builder(verifier).dpop(Dpop::new().public_url("not a url")).build().is_err());
}

#[test]
fn hmac_proof_algorithms_are_refused_at_build() {
    assert!(ProofVerifier::builder().algorithms([Algorithm::HS256]).build().is_err());
    assert!(ProofVerifier::builder().algorithms([]).build().is_err());
    let proofs =
        ProofVerifier::builder().algorithms([Algorithm::EdDSA, Algorithm::ES256, Algorithm::EdDSA]).build();
    assert_eq!(proofs.unwrap().algorithms(), "EdDSA ES256");
}

#[test]
fn the_verifier_refuses_a_bound_token_and_verify_for_dpop_names_its_key() {
    let clock = ManualClock::new(NOW);
    let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, SECRET).unwrap());
    let verifier = Verifier::builder(keys)
        .issuer("https://auth.example.com")
        .audience("api")
        .clock(clock)
        .build()
        .unwrap();
    let bound = token(Some("thumbprint-of-a-key-0000000000000000000000"));
    assert_eq!(verifier.verify(&bound).unwrap_err().reason(), Reason::KeyBoundToken);
    let verified = verifier.verify_for_dpop(&bound).unwrap();
    assert_eq!(verified.dpop_thumbprint(), Some("thumbprint-of-a-key-0000000000000000000000"));
    assert_eq!(verified.credential(), Credential::Dpop);
    // Cached now, and still refused as a bearer token.
    assert_eq!(verifier.verify(&bound).unwrap_err().reason(), Reason::KeyBoundToken);
    assert_eq!(verifier.verify_for_dpop(&token(None)).unwrap().dpop_thumbprint(), None);
}

#[cfg(feature = "axum")]
#[tokio::test]
async fn inside_a_nested_axum_router_htu_is_the_url_before_the_prefix_was_stripped() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let layer = guard(Some(Dpop::new().proofs(proofs(&clock))), &clock);
    let api = axum::Router::new().route("/orders", axum::routing::get(|| async { "ok" })).route_layer(layer);
    let app = axum::Router::new().nest("/api", api);
    let token = token(Some(&client.thumbprint()));
    let call = |htu: &str, jti: &str| {
        let proof = client.proof("GET", htu, &token, jti);
        Request::get("/api/orders")
            .header("host", "api.example.com")
            .header("authorization", format!("DPoP {token}"))
            .header("dpop", proof)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let response = app.clone().oneshot(call("http://api.example.com/api/orders", "full")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.oneshot(call("http://api.example.com/orders", "stripped")).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.extensions().get::<AuthError>().map(AuthError::reason),
        Some(Reason::DpopProofTarget)
    );
}

#[tokio::test]
async fn a_dpop_bound_token_is_an_access_token_to_the_bearer_token_requirement() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let layer = guard(Some(Dpop::new().proofs(proofs(&clock))), &clock);
    let service = ServiceBuilder::new().layer(layer).layer(crate::RequireLayer::bearer_token()).service_fn(
        |_: Request<Full<Bytes>>| async { Ok::<_, Infallible>(Response::new(Full::new(Bytes::new()))) },
    );
    let token = token(Some(&client.thumbprint()));
    let request = Request::get("/orders")
        .header("host", "api.example.com")
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", client.proof("GET", URL, &token, "required-bearer"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(service.oneshot(request).await.unwrap().status(), StatusCode::OK);
}

mod folded;
mod header_memo;
mod nonce;
mod warm;
