//! The warm path's shortcuts keep every check: a remembered proof header still has each
//! proof's signature checked and is remembered only once a proof under it verified; a
//! cached token's `ath` is still compared; claims with JSON escapes read as without.

use http::Method;

use super::*;
use crate::dpop::ProofTarget;

fn target(token: &str) -> ProofTarget<'_> {
    ProofTarget::new(Method::GET, URL).unwrap().access_token(token)
}

#[test]
fn a_remembered_header_does_not_spare_a_forged_proof_its_signature_check() {
    let (clock, client, forger) = (ManualClock::new(NOW), Client::new(), Client::new());
    let verifier = proofs(&clock);
    let token = token(Some(&client.thumbprint()));
    verifier.verify(&client.proof("GET", URL, &token, "p-1"), &target(&token)).unwrap();
    assert_eq!(verifier.known_headers(), 1);
    // The client's header, byte for byte, over claims the forger signed with its own key.
    let forged = forger.sign(&client.header(), &client.claims("GET", URL, &token, "p-2"));
    assert_eq!(forged.split('.').next(), client.proof("GET", URL, &token, "p-3").split('.').next());
    let error = verifier.verify(&forged, &target(&token)).unwrap_err();
    assert_eq!(error.reason(), Reason::DpopProofSignature);
    // A valid signature over other claims does not pass under the remembered header either.
    let mut tampered = client.proof("GET", URL, &token, "p-4");
    let other = client.proof("GET", URL, &token, "p-5");
    let signature = tampered.rsplit_once('.').unwrap().1.len();
    tampered.truncate(tampered.len() - signature);
    tampered.push_str(other.rsplit_once('.').unwrap().1);
    let error = verifier.verify(&tampered, &target(&token)).unwrap_err();
    assert_eq!(error.reason(), Reason::DpopProofSignature);
    verifier.verify(&client.proof("GET", URL, &token, "p-6"), &target(&token)).unwrap();
}

#[test]
fn proofs_that_do_not_verify_take_no_header_slot() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let verifier = proofs(&clock);
    let token = token(Some(&client.thumbprint()));
    for jti in ["f-1", "f-2", "f-3"] {
        // A fresh key's header, signed by another key: it parses and passes its own
        // checks, and its proof does not verify.
        let stranger = Client::new();
        let forged = client.sign(&stranger.header(), &client.claims("GET", URL, &token, jti));
        let error = verifier.verify(&forged, &target(&token)).unwrap_err();
        assert_eq!(error.reason(), Reason::DpopProofSignature);
    }
    assert_eq!(verifier.known_headers(), 0);
    verifier.verify(&client.proof("GET", URL, &token, "ok"), &target(&token)).unwrap();
    assert_eq!(verifier.known_headers(), 1);
}

#[test]
fn a_remembered_header_names_the_same_key_as_a_fresh_one() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let verifier = proofs(&clock);
    let token = token(Some(&client.thumbprint()));
    let fresh = verifier.verify(&client.proof("GET", URL, &token, "k-1"), &target(&token)).unwrap();
    let known = verifier.verify(&client.proof("GET", URL, &token, "k-2"), &target(&token)).unwrap();
    assert_eq!(fresh.thumbprint(), client.thumbprint());
    assert_eq!(known.thumbprint(), client.thumbprint());
}

#[tokio::test]
async fn an_ath_for_another_token_is_refused_when_the_token_is_cached() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let layer = guard(Some(Dpop::new().proofs(proofs(&clock))), &clock);
    let token = token(Some(&client.thumbprint()));
    let authorization = format!("DPoP {token}");
    let first = client.proof("GET", URL, &token, "c-1");
    let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &first)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.reason);
    // The token now comes from the verified-token cache, with its `ath` hashed then.
    for other in ["another-token", &token[..token.len() - 1]] {
        let proof = client.proof("GET", URL, other, &format!("c-{}", other.len()));
        let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &proof)]).await;
        assert_eq!(
            (answer.status, answer.reason),
            (StatusCode::UNAUTHORIZED, Some(Reason::DpopAccessTokenHash))
        );
    }
    let again = client.proof("GET", URL, &token, "c-2");
    let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &again)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.reason);
}

#[test]
fn claims_with_json_escapes_are_read_as_without() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let verifier = proofs(&clock);
    let token = token(Some(&client.thumbprint()));
    // The payload spells the `jti` with `\"` and `\\`: it is copied out, not borrowed.
    let proof = client.proof("GET", URL, &token, "quote\"d\\jti");
    verifier.verify(&proof, &target(&token)).unwrap();
    let error = verifier.verify(&proof, &target(&token)).unwrap_err();
    assert_eq!(error.reason(), Reason::DpopProofReplayed);
    let other = client.proof("GET", URL, &token, "quote\"d\\jti2");
    verifier.verify(&other, &target(&token)).unwrap();
}

#[test]
fn a_payload_that_is_no_json_object_is_malformed() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let verifier = proofs(&clock);
    let token = token(Some(&client.thumbprint()));
    let array = json!(["a-jti", "GET", URL, NOW, crate::dpop::access_token_hash(&token)]);
    let error = verifier.verify(&client.sign(&client.header(), &array), &target(&token)).unwrap_err();
    assert_eq!(error.reason(), Reason::DpopProofMalformed);
}
