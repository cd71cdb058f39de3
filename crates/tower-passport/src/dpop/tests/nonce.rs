//! Server nonces (RFC 9449 §8, §9) at the guard.

use super::*;

fn nonce_guard(clock: &ManualClock) -> GuardLayer {
    let nonces = crate::dpop::Nonces::new(&[9; 32]).unwrap().lifetime(std::time::Duration::from_secs(60));
    guard(Some(Dpop::new().required().proofs(proofs(clock)).nonces(nonces.clock(clock.clone()))), clock)
}

impl Client {
    fn proof_with_nonce(&self, token: &str, jti: &str, nonce: &str) -> String {
        let mut claims = self.claims("GET", URL, token, jti);
        claims["nonce"] = json!(nonce);
        self.sign(&self.header(), &claims)
    }
}

#[tokio::test]
async fn a_proof_without_the_nonce_gets_use_dpop_nonce_and_one_to_retry_with() {
    let clock = ManualClock::new(NOW);
    let layer = nonce_guard(&clock);
    let client = Client::new();
    let token = token(Some(&client.thumbprint()));
    let authorization = format!("DPoP {token}");
    let first = client.proof("GET", URL, &token, "n-1");
    let refused = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &first)]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.reason, Some(Reason::DpopNonceRequired));
    assert!(
        refused.challenges[0].starts_with(r#"DPoP realm="api", error="use_dpop_nonce""#),
        "{:?}",
        refused.challenges
    );
    let nonce = refused.nonce.expect("a DPoP-Nonce header");

    let retry = client.proof_with_nonce(&token, "n-2", &nonce);
    let admitted = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &retry)]).await;
    assert_eq!(admitted.status, StatusCode::OK, "{:?}", admitted.challenges);
}

#[tokio::test]
async fn an_expired_or_forged_nonce_gets_use_dpop_nonce() {
    let clock = ManualClock::new(NOW);
    let layer = nonce_guard(&clock);
    let client = Client::new();
    let token = token(Some(&client.thumbprint()));
    let authorization = format!("DPoP {token}");
    let refused = send(
        &layer,
        "GET",
        URL,
        &[("authorization", &authorization), ("dpop", &client.proof("GET", URL, &token, "e-1"))],
    )
    .await;
    let nonce = refused.nonce.unwrap();

    // Signed with another secret.
    let forged = crate::dpop::Nonces::new(&[8; 32]).unwrap().clock(clock.clone()).issue();
    let proof = client.proof_with_nonce(&token, "e-2", &forged);
    let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &proof)]).await;
    assert_eq!(answer.reason, Some(Reason::DpopNonceRequired));
    assert!(answer.nonce.is_some());

    // Past its 60 seconds (the proof itself still inside its `iat` window).
    clock.advance(61);
    let mut claims = client.claims("GET", URL, &token, "e-3");
    claims["nonce"] = json!(nonce);
    claims["iat"] = json!(NOW + 61);
    let proof = client.sign(&client.header(), &claims);
    let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &proof)]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.reason, Some(Reason::DpopNonceRequired));
    let fresh = answer.nonce.unwrap();
    assert_ne!(fresh, nonce);
}
