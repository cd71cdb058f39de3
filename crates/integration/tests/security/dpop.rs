//! Hostile DPoP proofs (RFC 9449) against a guard that takes both schemes: every case is
//! answered through a `GuardLayer` and asserted by its exact status, the error of the
//! `DPoP` challenge and the reason.
//!
//! The guard's own tests (`tower-passport/src/dpop/tests/`) hold one case of each check;
//! this file holds the variants an attacker tries: every way to make the proof's key
//! symmetric, private, missing or a stranger to its `alg`; URLs that smuggle the real one
//! in a query, fragment or userinfo; dates at the edges; replays; headers that point
//! elsewhere for the key; and sizes.

use crate::support::{AUDIENCE, ISSUER, NOW};

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{json, Value};
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::clock::ManualClock;
use tower_passport::dpop::{Dpop, Nonces, ProofVerifier};
use tower_passport::error::{AuthError, Reason};
use tower_passport::testing::DpopProver;
use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};

const SECRET: &[u8] = b"the dpop attack suite's hs256 secret";
const HOST: &str = "api.example.com";
const URL: &str = "http://api.example.com/orders";

/// An access token for user 42, bound to `jkt` when given.
fn token(jkt: Option<&str>) -> String {
    let mut claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "42", "client_id": "app",
        "exp": NOW + 600, "jti": "t-1", "scope": "orders"});
    if let Some(jkt) = jkt {
        claims["cnf"] = json!({"jkt": jkt});
    }
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(SECRET)).expect("token")
}

fn guard(dpop: Dpop, clock: &ManualClock) -> GuardLayer {
    let key = VerifyingKey::from_hmac_secret(Algorithm::HS256, SECRET).expect("key");
    let verifier = Verifier::builder(KeySet::new().with_key(key))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(clock.clone())
        .build()
        .expect("verifier");
    GuardLayer::builder(verifier).dpop(dpop).build().expect("guard")
}

/// Both schemes, proofs checked at the clock.
fn both_schemes(clock: &ManualClock) -> GuardLayer {
    let proofs = ProofVerifier::builder().clock(clock.clone()).build().expect("proofs");
    guard(Dpop::new().proofs(proofs), clock)
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    reason: Option<Reason>,
    challenges: Vec<String>,
    nonce: Option<String>,
}

impl Answer {
    /// 401 with this reason, the `DPoP` challenge carrying `error`.
    fn assert_refused(&self, error: &str, reason: Reason, case: &str) {
        assert_eq!((self.status, self.reason), (StatusCode::UNAUTHORIZED, Some(reason)), "{case}: {self:?}");
        let dpop = self.challenges.iter().find(|c| c.starts_with("DPoP ")).expect("a DPoP challenge");
        assert!(dpop.contains(&format!(r#"error="{error}""#)), "{case}: {dpop}");
        assert!(dpop.contains(&format!(r#"error_description="{}""#, reason.description())), "{case}: {dpop}");
    }

    fn assert_bad_proof(&self, reason: Reason, case: &str) {
        self.assert_refused("invalid_dpop_proof", reason, case);
    }
}

/// `method` to `URL`'s path with `Host: HOST` and `headers`, through `layer`.
async fn send(layer: &GuardLayer, method: &str, headers: &[(&str, &str)]) -> Answer {
    let service = ServiceBuilder::new().layer(layer.clone()).service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
    });
    let mut request = Request::builder().method(method).uri("/orders").header("host", HOST);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response =
        service.oneshot(request.body(Full::new(Bytes::new())).expect("request")).await.expect("ok");
    let header = |value: &http::HeaderValue| value.to_str().expect("ascii").to_owned();
    let challenges = response.headers().get_all("www-authenticate").iter().map(header).collect();
    let nonce = response.headers().get("dpop-nonce").map(header);
    let reason = response.extensions().get::<AuthError>().map(AuthError::reason);
    let status = response.status();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    if status == StatusCode::OK {
        assert_eq!(&body[..], b"ok");
    }
    Answer { status, reason, challenges, nonce }
}

/// A client: its key, its bound token and the `Authorization` value that presents it.
struct Client {
    prover: DpopProver,
    token: String,
    authorization: String,
}

impl Client {
    fn new() -> Self {
        let prover = DpopProver::new().expect("prover");
        let token = token(Some(prover.thumbprint()));
        let authorization = format!("DPoP {token}");
        Self { prover, token, authorization }
    }

    /// Claims of a good proof for `GET URL` with this client's token, `jti` given.
    fn claims(&self, jti: &str) -> Value {
        let mut claims = self.prover.claims("GET", URL, Some(&self.token), NOW).expect("claims");
        claims["jti"] = json!(jti);
        claims
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        self.prover.sign(header, claims).expect("signed")
    }

    /// A good proof with `claims` changed by `change`.
    fn with_claims(&self, jti: &str, change: impl FnOnce(&mut Value)) -> String {
        let mut claims = self.claims(jti);
        change(&mut claims);
        self.sign(&self.prover.header(), &claims)
    }

    /// A proof signed by this key whose header is changed by `change`.
    fn with_header(&self, jti: &str, change: impl FnOnce(&mut Value)) -> String {
        let mut header = self.prover.header();
        change(&mut header);
        self.sign(&header, &self.claims(jti))
    }

    async fn present(&self, layer: &GuardLayer, proof: &str) -> Answer {
        send(layer, "GET", &[("authorization", &self.authorization), ("dpop", proof)]).await
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `header` and `claims` joined with `signature` as they are, unsigned.
fn unsigned(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!("{}.{}.{}", b64(header.to_string()), b64(claims.to_string()), b64(signature))
}

#[tokio::test]
async fn a_symmetric_or_unsigned_proof_is_refused_for_its_algorithm() {
    let clock = ManualClock::new(NOW);
    let layer = both_schemes(&clock);
    let client = Client::new();
    let claims = client.claims("sym");
    let jwk = client.prover.jwk().clone();
    for alg in ["none", "None", "NONE", "nOnE", "HS256", "HS384", "HS512", "", "ES256K", "RS1"] {
        let header = json!({"typ": "dpop+jwt", "alg": alg, "jwk": jwk});
        // For HS*, a MAC keyed with the public key's own JSON: the key confusion attempt.
        let mac = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, jwk.to_string().as_bytes()),
            format!("{}.{}", b64(header.to_string()), b64(claims.to_string())).as_bytes(),
        );
        for signature in [&b""[..], mac.as_ref()] {
            let answer = client.present(&layer, &unsigned(&header, &claims, signature)).await;
            answer.assert_bad_proof(Reason::DpopProofAlgorithm, alg);
        }
    }
    // A symmetric key in the `jwk` under an accepted alg is no public key.
    let oct = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": {"kty": "oct", "k": b64(SECRET)}});
    client.present(&layer, &client.sign(&oct, &claims)).await.assert_bad_proof(Reason::DpopProofKey, "oct");
}

#[tokio::test]
async fn a_private_or_ill_fitting_jwk_is_refused() {
    let clock = ManualClock::new(NOW);
    let layer = both_schemes(&clock);
    let client = Client::new();
    let mut cases: Vec<(&str, String)> = Vec::new();
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        cases.push((member, client.with_header(member, |header| header["jwk"][member] = json!("AAAA"))));
    }
    cases.push(("alg-es384", client.with_header("es384", |h| h["alg"] = json!("ES384"))));
    cases.push(("alg-rs256", client.with_header("rs256", |h| h["alg"] = json!("RS256"))));
    cases.push(("alg-ps256", client.with_header("ps256", |h| h["alg"] = json!("PS256"))));
    cases.push(("alg-eddsa", client.with_header("eddsa", |h| h["alg"] = json!("EdDSA"))));
    cases.push(("jwk-alg-other", client.with_header("jwk-alg", |h| h["jwk"]["alg"] = json!("ES384"))));
    cases.push(("crv-p384", client.with_header("crv", |h| h["jwk"]["crv"] = json!("P-384"))));
    cases.push(("kty-okp", client.with_header("okp", |h| h["jwk"]["kty"] = json!("OKP"))));
    cases.push(("no-y", client.with_header("no-y", |h| h["jwk"]["y"] = json!(""))));
    cases.push(("x-not-a-point", client.with_header("x-bad", |h| h["jwk"]["x"] = json!(b64([7u8; 32])))));
    for (case, proof) in cases {
        client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofKey, case);
    }
    // No `jwk` at all, or one that is no object: the header is malformed.
    for case in ["no-jwk", "jwk-string"] {
        let proof = client.with_header(case, |h| match case {
            "no-jwk" => drop(h.as_object_mut().expect("object").remove("jwk")),
            _ => h["jwk"] = json!("https://attacker.example/key.json"),
        });
        client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofMalformed, case);
    }
}

#[tokio::test]
async fn a_wrong_typ_a_crit_or_duplicate_header_members_are_malformed() {
    let clock = ManualClock::new(NOW);
    let layer = both_schemes(&clock);
    let client = Client::new();
    for typ in
        [json!("JWT"), json!("at+jwt"), json!("dpop"), json!("dpop+jwt "), json!(null), json!(["dpop+jwt"])]
    {
        let proof = client.with_header(&format!("typ-{typ}"), |h| h["typ"] = typ.clone());
        client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofMalformed, &typ.to_string());
    }
    let proof = client.with_header("no-typ", |h| drop(h.as_object_mut().expect("object").remove("typ")));
    client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofMalformed, "no typ");
    let proof = client.with_header("crit", |h| h["crit"] = json!(["exp"]));
    client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofMalformed, "crit");
    // `"alg":"none"` after the real one, literally and escaped: never one of the two.
    let header = client.prover.header().to_string();
    for duplicate in [r#""alg":"none","#, r#""\u0061lg":"none","#, r#""jwk":{"kty":"oct","k":"AAAA"},"#] {
        let text = header.replacen('{', &format!("{{{duplicate}"), 1);
        let input = format!("{}.{}", b64(&text), b64(client.claims("dup").to_string()));
        // Signed for real, so only the duplicate can be what fails.
        let signed = client.sign(&serde_json::from_str::<Value>(&text).unwrap_or(json!({})), &json!({}));
        let signature = signed.rsplit('.').next().expect("a signature");
        let answer = client.present(&layer, &format!("{input}.{signature}")).await;
        answer.assert_bad_proof(Reason::DpopProofMalformed, duplicate);
    }
}

#[tokio::test]
async fn a_proof_is_single_use_whatever_is_changed_around_its_jti() {
    let clock = ManualClock::new(NOW);
    let layer = both_schemes(&clock);
    let client = Client::new();
    let proof = client.with_claims("once", |_| {});
    assert_eq!(client.present(&layer, &proof).await.status, StatusCode::OK);
    client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofReplayed, "the same proof");
    // Signed again (ECDSA signatures differ each time), a second later, with a nonce added:
    // the key's `jti` is spent all the same.
    clock.advance(1);
    let resigned = client.with_claims("once", |claims| {
        claims["iat"] = json!(NOW + 1);
        claims["nonce"] = json!("anything");
    });
    assert_ne!(resigned, proof);
    client.present(&layer, &resigned).await.assert_bad_proof(Reason::DpopProofReplayed, "the jti again");
    // Another key may use the same `jti`: replay is per key.
    let other = Client::new();
    assert_eq!(other.present(&layer, &other.with_claims("once", |_| {})).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_proof_for_another_method_or_url_is_refused() {
    let clock = ManualClock::new(NOW);
    let layer = both_schemes(&clock);
    let client = Client::new();
    let cases = [
        ("htm", "POST", URL),
        ("htm-lower-case", "get", URL),
        ("htm-head", "HEAD", URL),
        ("other-host", "GET", "http://evil.example/orders"),
        ("host-suffix", "GET", "http://api.example.com.evil.example/orders"),
        ("other-port", "GET", "http://api.example.com:8080/orders"),
        ("https-port-on-http", "GET", "http://api.example.com:443/orders"),
        ("userinfo", "GET", "http://user:pass@api.example.com/orders"),
        ("userinfo-host-swap", "GET", "http://api.example.com@evil.example/orders"),
        ("path-in-query", "GET", "http://api.example.com/?/orders"),
        ("url-in-query", "GET", "http://evil.example/?http://api.example.com/orders"),
        ("url-in-fragment", "GET", "http://evil.example/#http://api.example.com/orders"),
        ("other-path", "GET", "http://api.example.com/orders/7"),
        ("trailing-slash", "GET", "http://api.example.com/orders/"),
        ("dot-segment", "GET", "http://api.example.com/x/../orders"),
        ("encoded-slash", "GET", "http://api.example.com/%2Forders"),
        ("path-case", "GET", "http://api.example.com/Orders"),
        ("relative", "GET", "/orders"),
        ("scheme-relative", "GET", "//api.example.com/orders"),
        ("other-scheme", "GET", "ftp://api.example.com/orders"),
        ("empty", "GET", ""),
    ];
    for (case, htm, htu) in cases {
        let proof = client.with_claims(case, |claims| {
            claims["htm"] = json!(htm);
            claims["htu"] = json!(htu);
        });
        client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofTarget, case);
    }
    // RFC 9449 §4.3 compares `htu` without its query and fragment, after normalisation:
    // these name the request.
    for htu in [
        "http://api.example.com/orders?page=2",
        "http://api.example.com/orders#top",
        "HTTP://API.EXAMPLE.COM:80/%6Frders",
    ] {
        let proof = client.with_claims(htu, |claims| claims["htu"] = json!(htu));
        assert_eq!(client.present(&layer, &proof).await.status, StatusCode::OK, "{htu}");
    }
}

#[tokio::test]
async fn a_proof_issued_outside_the_window_or_with_an_odd_iat_is_refused() {
    let clock = ManualClock::new(NOW);
    let layer = both_schemes(&clock);
    let client = Client::new();
    let stale = [
        ("past", json!(NOW - 301)),
        ("future", json!(NOW + 301)),
        ("zero", json!(0)),
        ("negative", json!(-1)),
        ("far-future", json!(1e300)),
        ("beyond-u64", json!(18_446_744_073_709_551_616.0_f64)),
        ("fraction-past", json!(NOW as f64 - 300.5)),
    ];
    for (case, iat) in stale {
        let proof = client.with_claims(case, |claims| claims["iat"] = iat.clone());
        client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofStale, case);
    }
    let malformed = [
        ("string", json!(NOW.to_string())),
        ("null", json!(null)),
        ("list", json!([NOW])),
        ("missing", Value::Null),
    ];
    for (case, iat) in malformed {
        let proof = client.with_claims(case, |claims| match case {
            "missing" => drop(claims.as_object_mut().expect("object").remove("iat")),
            _ => claims["iat"] = iat.clone(),
        });
        client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofMalformed, case);
    }
    // The edges of the window pass.
    for (case, iat) in [("300-s-old", NOW - 300), ("300-s-ahead", NOW + 300)] {
        let proof = client.with_claims(case, |claims| claims["iat"] = json!(iat));
        assert_eq!(client.present(&layer, &proof).await.status, StatusCode::OK, "{case}");
    }
}

#[tokio::test]
async fn a_proof_bound_to_another_token_or_signed_by_another_key_is_refused() {
    let clock = ManualClock::new(NOW);
    let layer = both_schemes(&clock);
    let (client, thief) = (Client::new(), Client::new());
    // `ath` of another token, of the token with a byte changed, missing, or not a string.
    let other_ath = tower_passport::dpop::access_token_hash(&thief.token);
    let cases = [
        ("other-token", json!(other_ath)),
        ("padded", json!(format!("{}=", tower_passport::dpop::access_token_hash(&client.token)))),
        ("empty", json!("")),
        ("number", json!(1)),
    ];
    for (case, ath) in cases {
        let proof = client.with_claims(case, |claims| claims["ath"] = ath.clone());
        let reason = if case == "number" { Reason::DpopProofMalformed } else { Reason::DpopAccessTokenHash };
        client.present(&layer, &proof).await.assert_bad_proof(reason, case);
    }
    // The thief's good proof for the client's token: the key is not the token's.
    let mut claims = thief.prover.claims("GET", URL, Some(&client.token), NOW).expect("claims");
    claims["jti"] = json!("stolen");
    let proof = thief.sign(&thief.prover.header(), &claims);
    let answer = send(&layer, "GET", &[("authorization", &client.authorization), ("dpop", &proof)]).await;
    answer.assert_refused("invalid_token", Reason::DpopKeyMismatch, "another key");
    // The client's key in the header, the thief's signature: the signature fails.
    let forged = client.prover.header();
    let proof = thief.sign(&forged, &client.claims("forged"));
    client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofSignature, "forged");
    // An unbound token under the DPoP scheme.
    let unbound = token(None);
    let mut claims = client.prover.claims("GET", URL, Some(&unbound), NOW).expect("claims");
    claims["jti"] = json!("unbound");
    let proof = client.sign(&client.prover.header(), &claims);
    let answer =
        send(&layer, "GET", &[("authorization", &format!("DPoP {unbound}")), ("dpop", &proof)]).await;
    answer.assert_refused("invalid_token", Reason::DpopUnboundToken, "unbound");
}

#[tokio::test]
async fn the_schemes_and_the_proof_header_cannot_be_mixed_or_repeated() {
    let clock = ManualClock::new(NOW);
    let layer = both_schemes(&clock);
    let client = Client::new();
    let bearer = format!("Bearer {}", client.token);
    // A bound token under `Bearer`, with or without a proof beside it.
    let answer = send(&layer, "GET", &[("authorization", &bearer)]).await;
    assert_eq!((answer.status, answer.reason), (StatusCode::UNAUTHORIZED, Some(Reason::KeyBoundToken)));
    let proof = client.with_claims("beside", |_| {});
    let answer = send(&layer, "GET", &[("authorization", &bearer), ("dpop", &proof)]).await;
    assert_eq!((answer.status, answer.reason), (StatusCode::BAD_REQUEST, Some(Reason::DpopProofWithBearer)));
    assert!(answer.challenges.iter().any(|c| c.contains(r#"error="invalid_request""#)), "{answer:?}");
    // An unbound bearer token with a proof beside it: refused too.
    let plain = format!("Bearer {}", token(None));
    let answer = send(&layer, "GET", &[("authorization", &plain), ("dpop", &proof)]).await;
    assert_eq!(answer.reason, Some(Reason::DpopProofWithBearer));
    // Two proofs: two headers, or two in one header.
    let (first, second) = (client.with_claims("one", |_| {}), client.with_claims("two", |_| {}));
    let twice = [("authorization", client.authorization.as_str()), ("dpop", &first), ("dpop", &second)];
    send(&layer, "GET", &twice).await.assert_bad_proof(Reason::DpopProofMissing, "two headers");
    let joined = format!("{first}, {second}");
    client
        .present(&layer, &joined)
        .await
        .assert_bad_proof(Reason::DpopProofMalformed, "one header, two proofs");
    // No proof, or an empty one.
    let answer = send(&layer, "GET", &[("authorization", &client.authorization)]).await;
    answer.assert_bad_proof(Reason::DpopProofMissing, "none");
    client.present(&layer, "").await.assert_bad_proof(Reason::DpopProofMalformed, "empty");
    // Two `Authorization` headers, one of each scheme.
    let answer = send(
        &layer,
        "GET",
        &[("authorization", &client.authorization), ("authorization", &bearer), ("dpop", &first)],
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    let other = Client::new();
    let answer = send(
        &layer,
        "GET",
        &[
            ("authorization", &client.authorization),
            ("authorization", &other.authorization),
            ("dpop", &first),
        ],
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "two DPoP credentials: {answer:?}");
}

#[tokio::test]
async fn without_the_servers_nonce_a_proof_gets_use_dpop_nonce() {
    let clock = ManualClock::new(NOW);
    let nonces =
        Nonces::new(&[9; 32]).expect("nonces").lifetime(Duration::from_secs(60)).clock(clock.clone());
    let proofs = ProofVerifier::builder().clock(clock.clone()).build().expect("proofs");
    let layer = guard(Dpop::new().required().proofs(proofs).nonces(nonces.clone()), &clock);
    let client = Client::new();
    let forged = Nonces::new(&[8; 32]).expect("nonces").clock(clock.clone()).issue();
    let issued = nonces.issue();
    let tampered = {
        let mut bytes = issued.clone().into_bytes();
        let last = bytes.len() - 1;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).expect("ascii")
    };
    let cases = [
        ("missing", None),
        ("empty", Some(String::new())),
        ("forged", Some(forged)),
        ("tampered", Some(tampered)),
        ("not-a-nonce", Some("nonce".to_owned())),
    ];
    for (case, nonce) in cases {
        let proof = client.with_claims(case, |claims| {
            if let Some(nonce) = &nonce {
                claims["nonce"] = json!(nonce);
            }
        });
        let answer = client.present(&layer, &proof).await;
        answer.assert_refused("use_dpop_nonce", Reason::DpopNonceRequired, case);
        assert!(answer.nonce.is_some(), "{case}: a fresh nonce comes with the refusal");
    }
    // Expired: past its lifetime, in a proof that is itself fresh.
    clock.advance(61);
    let proof = client.with_claims("expired", |claims| {
        claims["nonce"] = json!(issued);
        claims["iat"] = json!(NOW + 61);
    });
    let answer = client.present(&layer, &proof).await;
    answer.assert_refused("use_dpop_nonce", Reason::DpopNonceRequired, "expired");
    // The fresh nonce from the refusal works.
    let fresh = answer.nonce.expect("a fresh nonce");
    let proof = client.with_claims("fresh", |claims| {
        claims["nonce"] = json!(fresh);
        claims["iat"] = json!(NOW + 61);
    });
    assert_eq!(client.present(&layer, &proof).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_oversized_proof_is_refused_before_any_key_is_parsed() {
    let clock = ManualClock::new(NOW);
    let layer = both_schemes(&clock);
    let client = Client::new();
    // A well-signed proof padded past 8 KiB in its claims, and in its header.
    let claims_padded =
        client.with_claims("big-claims", |claims| claims["pad"] = json!("x".repeat(8 * 1024)));
    let header_padded =
        client.with_header("big-header", |header| header["pad"] = json!("x".repeat(8 * 1024)));
    for (case, proof) in [("claims", claims_padded), ("header", header_padded)] {
        assert!(proof.len() > 8 * 1024);
        client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofMalformed, case);
    }
    // A 64 KiB header of dots and of base64.
    for (case, proof) in [("dots", ".".repeat(64 * 1024)), ("base64", "A".repeat(64 * 1024))] {
        client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofMalformed, case);
    }
    // An RSA `jwk` with a 16 384-bit modulus fits in 8 KiB but is no key to parse.
    let huge_rsa = client.with_header("rsa", |header| {
        header["alg"] = json!("RS256");
        header["jwk"] = json!({"kty": "RSA", "e": "AQAB", "n": b64(vec![0xffu8; 2048])});
    });
    assert!(huge_rsa.len() <= 8 * 1024, "{}", huge_rsa.len());
    let answer = client.present(&layer, &huge_rsa).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
    assert!(matches!(answer.reason, Some(Reason::DpopProofKey | Reason::DpopProofSignature)), "{answer:?}");
}

#[tokio::test]
async fn jku_x5u_and_x5c_are_never_fetched_nor_trusted() {
    // A key server on loopback that counts every request it gets.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let clock = ManualClock::new(NOW);
    let layer = both_schemes(&clock);
    let (client, attacker) = (Client::new(), Client::new());
    let url = format!("http://{address}/keys");
    let pointers = [
        ("jku", json!(url)),
        ("x5u", json!(url)),
        ("x5c", json!([b64(attacker.prover.jwk().to_string())])),
        ("kid", json!("../../keys/attacker")),
    ];
    for (member, value) in &pointers {
        // The attacker signs, its key named only by the pointer; the `jwk` is the client's.
        let mut header = client.prover.header();
        header[*member] = value.clone();
        let proof = attacker.sign(&header, &client.claims(member));
        client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofSignature, member);
        // With no `jwk` the pointer is not a way to name the key.
        header.as_object_mut().expect("object").remove("jwk");
        let proof = attacker.sign(&header, &client.claims(&format!("{member}-alone")));
        client.present(&layer, &proof).await.assert_bad_proof(Reason::DpopProofMalformed, member);
    }
    // Beside the client's own key and signature, the pointers change nothing.
    let mut header = client.prover.header();
    for (member, value) in &pointers {
        header[*member] = value.clone();
    }
    let proof = client.sign(&header, &client.claims("pointers-ignored"));
    assert_eq!(client.present(&layer, &proof).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing was fetched");
}

#[tokio::test]
async fn the_token_endpoint_refuses_the_same_hostile_proofs() {
    use crate::harness::{basic, Harness, FORM};
    let h = Harness::start().await;
    let (id, secret) = h.app().await;
    let prover = DpopProver::new().expect("prover");
    let url = format!("{ISSUER}/oauth/token");
    let claims = |jti: &str| {
        let mut claims = prover.claims("POST", &url, None, NOW).expect("claims");
        claims["jti"] = json!(jti);
        claims
    };
    let request = |proofs: Vec<String>| {
        let mut headers = vec![("content-type", FORM.to_owned()), ("authorization", basic(&id, &secret))];
        headers.extend(proofs.into_iter().map(|proof| ("dpop", proof)));
        let headers: Vec<(&str, String)> = headers;
        let h = &h;
        async move {
            h.raw(http::Method::POST, "/oauth/token", &headers, "grant_type=client_credentials".into()).await
        }
    };
    let good = prover.sign(&prover.header(), &claims("good")).expect("signed");
    let mut none = prover.header();
    none["alg"] = json!("none");
    let mut private = prover.header();
    private["jwk"]["d"] = json!("AAAA");
    let mut elsewhere = claims("elsewhere");
    elsewhere["htu"] = json!(format!("{ISSUER}/oauth/authorize"));
    let mut stale = claims("stale");
    stale["iat"] = json!(NOW - 301);
    let mut get = claims("get");
    get["htm"] = json!("GET");
    let cases = [
        ("two proofs", vec![good.clone(), prover.sign(&prover.header(), &claims("second")).expect("signed")]),
        ("alg none", vec![unsigned(&none, &claims("none"), b"")]),
        ("private jwk", vec![prover.sign(&private, &claims("private")).expect("signed")]),
        ("another endpoint", vec![prover.sign(&prover.header(), &elsewhere).expect("signed")]),
        ("another method", vec![prover.sign(&prover.header(), &get).expect("signed")]),
        ("stale", vec![prover.sign(&prover.header(), &stale).expect("signed")]),
        ("empty", vec![String::new()]),
    ];
    for (case, proofs) in cases {
        let reply = request(proofs).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{case}: {reply:?}");
        assert_eq!(reply.json()["error"], "invalid_dpop_proof", "{case}: {reply:?}");
    }
    // The good proof gets a DPoP-bound token, once.
    let issued = request(vec![good.clone()]).await;
    assert_eq!(issued.status, StatusCode::OK, "{issued:?}");
    assert_eq!(issued.json()["token_type"], "DPoP");
    let replayed = request(vec![good]).await;
    assert_eq!(
        (replayed.status, replayed.json()["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_dpop_proof"))
    );
}
