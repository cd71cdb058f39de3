//! DPoP (RFC 9449) from an independent implementation against the guard: jose (npm) mints
//! a token bound to its own key and signs the proofs; the guard, behind axum on a loopback
//! socket, must take them, and refuse a replay, a bearer use, another URL, method or key.

use std::convert::Infallible;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use axum::Router;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use serde_json::Value;
use tower::ServiceBuilder;
use tower_passport::dpop::Dpop;
use tower_passport::{Algorithm, GuardLayer, KeySet, Principal, Verifier, VerifyingKey};

use crate::node::Node;

const ISSUER: &str = "https://auth.example.com";
const AUDIENCE: &str = "orders-api";
const KID: &str = "issuer-es256";
const ALGS: &str = r#"algs="ES256 ES384 EdDSA RS256 PS256""#;

async fn whoami(request: Request<axum::body::Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let principal = request.extensions().get::<Principal>();
    let body = format!(
        "{} {:?}",
        principal.and_then(Principal::subject).unwrap_or("-"),
        principal.map(Principal::credential)
    );
    Ok(Response::new(Full::new(Bytes::from(body))))
}

fn status(answer: &Value) -> u64 {
    answer["status"].as_u64().unwrap_or_default()
}

fn challenge(answer: &Value) -> &str {
    answer["challenge"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn tokens_and_proofs_made_with_jose_pass_the_guard_and_their_misuses_do_not() {
    let Some(node) = Node::find() else { return };
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    let key = VerifyingKey::from_der(pair.public_key().as_ref(), Algorithm::ES256).unwrap().with_kid(KID);
    let verifier =
        Verifier::builder(KeySet::new().with_key(key)).issuer(ISSUER).audience(AUDIENCE).build().unwrap();
    let guard = GuardLayer::builder(verifier).dpop(Dpop::new()).build().unwrap();
    let app: Router =
        Router::new().route_service("/orders", ServiceBuilder::new().layer(guard).service_fn(whoami));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}/orders", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let issuer_key = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.as_ref().to_vec()));

    let result = node
        .run(
            "dpop_guard.mjs",
            &[
                ("PASSPORT_API", &api),
                ("PASSPORT_ISSUER", ISSUER),
                ("PASSPORT_AUDIENCE", AUDIENCE),
                ("PASSPORT_ISSUER_KEY", &issuer_key),
                ("PASSPORT_ISSUER_KID", KID),
            ],
        )
        .await;

    assert_eq!(status(&result["ok"]), 200, "{result}");
    assert_eq!(result["ok"]["body"], "42 Some(Dpop)");
    assert_eq!(status(&result["again"]), 200, "a fresh proof, the query ignored: {result}");
    for (case, code) in [
        ("replay", "invalid_dpop_proof"),
        ("wrongUrl", "invalid_dpop_proof"),
        ("wrongMethod", "invalid_dpop_proof"),
        ("otherKey", "invalid_token"),
    ] {
        let answer = &result[case];
        assert_eq!(status(answer), 401, "{case}: {answer}");
        let expected = format!(r#"Bearer realm="api", DPoP realm="api", error="{code}""#);
        assert!(challenge(answer).starts_with(&expected), "{case}: {answer}");
        assert!(challenge(answer).ends_with(ALGS), "{case}: {answer}");
    }
    assert_eq!(status(&result["bearer"]), 401, "{result}");
    assert!(challenge(&result["bearer"]).contains(r#"error="invalid_token""#), "{result}");
}
