//! A bound token's remembered proof header ([`HeaderMemo`]): filled only by a proof that
//! verified under the token's own key, never sparing a proof its signature check, and
//! matched only by the same header, byte for byte.

use http::Method;

use super::*;
use crate::dpop::proof::BoundToken;
use crate::dpop::{Binding, HeaderMemo, ProofTarget};

fn target(token: &str) -> ProofTarget<'_> {
    ProofTarget::new(Method::GET, URL).unwrap().access_token(token)
}

fn verify(
    verifier: &ProofVerifier,
    proof: &str,
    token: &str,
    memo: &HeaderMemo<'_>,
    jkt: &str,
) -> Result<crate::dpop::VerifiedProof, AuthError> {
    verifier
        .verify_bytes(proof.as_bytes(), &target(token), Some(BoundToken { memo: *memo, jkt }))
        .map(|(proof, _)| proof)
}

fn binding(verifier: &ProofVerifier, proof: &str, token: &str, memo: &HeaderMemo<'_>, jkt: &str) -> Binding {
    verifier.verify_bytes(proof.as_bytes(), &target(token), Some(BoundToken { memo: *memo, jkt })).unwrap().1
}

#[test]
fn only_a_proof_under_the_remembered_header_skips_the_binding_compare() {
    let (clock, client, stranger) = (ManualClock::new(NOW), Client::new(), Client::new());
    let verifier = proofs(&clock);
    let (token, jkt) = (token(Some(&client.thumbprint())), client.thumbprint());
    let slot = crate::token::Slot::default();
    let memo = HeaderMemo::of(&slot);
    // The proof that fills the memo, and a stranger's proof before and after: compared.
    let strange = stranger.proof("GET", URL, &token, "b-0");
    assert_eq!(binding(&verifier, &strange, &token, &memo, &jkt), Binding::ToCheck);
    let first = client.proof("GET", URL, &token, "b-1");
    assert_eq!(binding(&verifier, &first, &token, &memo, &jkt), Binding::ToCheck);
    let strange = stranger.proof("GET", URL, &token, "b-2");
    assert_eq!(binding(&verifier, &strange, &token, &memo, &jkt), Binding::ToCheck);
    // The client's proofs under its remembered header: its key is the token's.
    let next = client.proof("GET", URL, &token, "b-3");
    assert_eq!(binding(&verifier, &next, &token, &memo, &jkt), Binding::Remembered);
    // Without a bound token, never.
    let plain =
        verifier.verify_bytes(client.proof("GET", URL, &token, "b-4").as_bytes(), &target(&token), None);
    assert_eq!(plain.unwrap().1, Binding::ToCheck);
}

#[test]
fn only_a_proof_of_the_tokens_own_key_fills_the_memo() {
    let (clock, client, stranger) = (ManualClock::new(NOW), Client::new(), Client::new());
    let verifier = proofs(&clock);
    let (token, jkt) = (token(Some(&client.thumbprint())), client.thumbprint());
    let slot = crate::token::Slot::default();
    let memo = HeaderMemo::of(&slot);
    // A stranger's proof verifies (the binding check is the caller's) and is not remembered.
    let proof = verify(&verifier, &stranger.proof("GET", URL, &token, "s-1"), &token, &memo, &jkt).unwrap();
    assert_eq!(proof.thumbprint(), stranger.thumbprint());
    assert!(!memo.is_set());
    // A proof under the client's header that does not verify is not remembered either.
    let forged = stranger.sign(&client.header(), &client.claims("GET", URL, &token, "s-2"));
    let error = verify(&verifier, &forged, &token, &memo, &jkt).unwrap_err();
    assert_eq!(error.reason(), Reason::DpopProofSignature);
    assert!(!memo.is_set());
    // The client's proof is.
    let proof = verify(&verifier, &client.proof("GET", URL, &token, "c-1"), &token, &memo, &jkt).unwrap();
    assert_eq!(proof.thumbprint(), jkt);
    assert!(memo.is_set());
    // And then answers for the client's header, naming the same key.
    let proof = verify(&verifier, &client.proof("GET", URL, &token, "c-2"), &token, &memo, &jkt).unwrap();
    assert_eq!(proof.thumbprint(), jkt);
    // A stranger's proof still verifies as its own key's, not the remembered one's.
    let proof = verify(&verifier, &stranger.proof("GET", URL, &token, "s-3"), &token, &memo, &jkt).unwrap();
    assert_eq!(proof.thumbprint(), stranger.thumbprint());
}

#[test]
fn a_remembered_header_still_has_every_proof_checked() {
    let (clock, client, forger) = (ManualClock::new(NOW), Client::new(), Client::new());
    let verifier = proofs(&clock);
    let (token, jkt) = (token(Some(&client.thumbprint())), client.thumbprint());
    let slot = crate::token::Slot::default();
    let memo = HeaderMemo::of(&slot);
    verify(&verifier, &client.proof("GET", URL, &token, "m-1"), &token, &memo, &jkt).unwrap();
    assert!(memo.is_set());
    // The client's header over claims the forger signed: refused by the signature check.
    let forged = forger.sign(&client.header(), &client.claims("GET", URL, &token, "m-2"));
    let error = verify(&verifier, &forged, &token, &memo, &jkt).unwrap_err();
    assert_eq!(error.reason(), Reason::DpopProofSignature);
    // Replay, another method, another token's `ath`: each refused as without the memo.
    let proof = client.proof("GET", URL, &token, "m-3");
    verify(&verifier, &proof, &token, &memo, &jkt).unwrap();
    let error = verify(&verifier, &proof, &token, &memo, &jkt).unwrap_err();
    assert_eq!(error.reason(), Reason::DpopProofReplayed);
    let error =
        verify(&verifier, &client.proof("POST", URL, &token, "m-4"), &token, &memo, &jkt).unwrap_err();
    assert_eq!(error.reason(), Reason::DpopProofTarget);
    let error =
        verify(&verifier, &client.proof("GET", URL, "another", "m-5"), &token, &memo, &jkt).unwrap_err();
    assert_eq!(error.reason(), Reason::DpopAccessTokenHash);
}

#[test]
fn a_header_that_differs_in_any_byte_is_read_and_checked_afresh() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let verifier = proofs(&clock);
    let (token, jkt) = (token(Some(&client.thumbprint())), client.thumbprint());
    let slot = crate::token::Slot::default();
    let memo = HeaderMemo::of(&slot);
    verify(&verifier, &client.proof("GET", URL, &token, "h-1"), &token, &memo, &jkt).unwrap();
    // The same key under `typ: JWT`, signed by the client: its header checks refuse it.
    let mut header = client.header();
    header["typ"] = json!("JWT");
    let proof = client.sign(&header, &client.claims("GET", URL, &token, "h-2"));
    let error = verify(&verifier, &proof, &token, &memo, &jkt).unwrap_err();
    assert_eq!(error.reason(), Reason::DpopProofMalformed);
    // The same key under an algorithm the verifier does not take.
    let mut header = client.header();
    header["alg"] = json!("ES384");
    let proof = client.sign(&header, &client.claims("GET", URL, &token, "h-3"));
    assert!(verify(&verifier, &proof, &token, &memo, &jkt).is_err());
    // The same header with its members in another order: read afresh, and it passes.
    let header = client.header();
    let mut reordered = serde_json::Map::new();
    for name in ["jwk", "alg", "typ"] {
        reordered.insert(name.to_owned(), header[name].clone());
    }
    let proof = client.sign(&Value::Object(reordered), &client.claims("GET", URL, &token, "h-4"));
    assert_eq!(verify(&verifier, &proof, &token, &memo, &jkt).unwrap().thumbprint(), jkt);
    // The memo still answers for the first header.
    verify(&verifier, &client.proof("GET", URL, &token, "h-5"), &token, &memo, &jkt).unwrap();
}

#[tokio::test]
async fn a_cached_token_refuses_another_keys_proof_once_its_header_is_remembered() {
    let (clock, client, stranger) = (ManualClock::new(NOW), Client::new(), Client::new());
    let layer = guard(Some(Dpop::new().proofs(proofs(&clock))), &clock);
    let token = token(Some(&client.thumbprint()));
    let authorization = format!("DPoP {token}");
    for jti in ["g-1", "g-2"] {
        let proof = client.proof("GET", URL, &token, jti);
        let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &proof)]).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.reason);
    }
    let proof = stranger.proof("GET", URL, &token, "g-3");
    let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &proof)]).await;
    assert_eq!((answer.status, answer.reason), (StatusCode::UNAUTHORIZED, Some(Reason::DpopKeyMismatch)));
    let forged = stranger.sign(&client.header(), &client.claims("GET", URL, &token, "g-4"));
    let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &forged)]).await;
    assert_eq!((answer.status, answer.reason), (StatusCode::UNAUTHORIZED, Some(Reason::DpopProofSignature)));
    let proof = client.proof("GET", URL, &token, "g-5");
    let answer = send(&layer, "GET", URL, &[("authorization", &authorization), ("dpop", &proof)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.reason);
}

#[test]
fn a_proof_that_starts_with_the_remembered_header_is_split_as_any_other() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    let verifier = proofs(&clock);
    let (token, jkt) = (token(Some(&client.thumbprint())), client.thumbprint());
    let slot = crate::token::Slot::default();
    let memo = HeaderMemo::of(&slot);
    let proof = client.proof("GET", URL, &token, "split-1");
    verify(&verifier, &proof, &token, &memo, &jkt).unwrap();
    assert!(memo.is_set());
    let next = client.proof("GET", URL, &token, "split-2");
    let (header, rest) = next.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let shapes = [
        format!("{header}."),
        format!("{header}.."),
        format!("{header}.{payload}"),
        format!("{header}.{payload}."),
        format!("{header}..{signature}"),
        format!("{header}.{payload}.{signature}.{signature}"),
        format!("{header}.{payload}.x{signature}"),
        format!("{header}x.{payload}.{signature}"),
        format!("{}.{payload}.{signature}", &header[..header.len() - 1]),
        header.to_owned(),
        // Dots where a P-256 signature's 86 characters would start, or inside them.
        format!("{header}.{payload}.{}.{}", &signature[..40], &signature[41..]),
        format!("{header}.{payload}.{}.{}", &signature[..1], &signature[2..]),
        format!("{header}.{payload}.{}.", &signature[..85]),
        format!("{header}.{}.{}", &signature[..40], &signature[41..]),
        format!("{header}.{payload}.{}", &signature[1..]),
        format!("{header}.{payload}.{signature}A"),
        format!("{header}.{payload}x.{signature}"),
        format!("{header}.{payload}..{}", &signature[1..]),
    ];
    assert_eq!(signature.len(), 86, "ES256");
    for shape in shapes {
        // The same answer with the memo as without it (failures spend no `jti`).
        let plain = verifier.verify(&shape, &target(&token)).map_err(|error| error.reason());
        let remembered = verify(&verifier, &shape, &token, &memo, &jkt).map_err(|error| error.reason());
        assert!(plain.is_err(), "{shape}");
        assert_eq!(remembered, plain, "{shape}");
    }
    verify(&verifier, &next, &token, &memo, &jkt).unwrap();
}
