//! A `Bearer` credential folded into a `DPoP` `Authorization` header (`DPoP x, Bearer y`)
//! is looked for only once the token missed the verified-token cache, and is answered as
//! when it was looked for first: 400 `invalid_request`, the same challenges as for
//! `Basic x, Bearer y` (which is refused at once), whatever else is wrong with the request.

use super::*;

/// Status, reason and challenges: the whole answer but the body.
async fn answer(layer: &GuardLayer, headers: &[(&str, &str)]) -> (StatusCode, Option<Reason>, Vec<String>) {
    let answer = send(layer, "GET", URL, headers).await;
    (answer.status, answer.reason, answer.challenges)
}

#[tokio::test]
async fn a_folded_bearer_credential_is_answered_as_before_on_every_dpop_path() {
    let (clock, client) = (ManualClock::new(NOW), Client::new());
    for dpop in [Dpop::new(), Dpop::new().required()] {
        let layer = guard(Some(dpop.proofs(proofs(&clock))), &clock);
        let token = token(Some(&client.thumbprint()));
        let expected = answer(&layer, &[("authorization", "Basic x, Bearer y")]).await;
        assert_eq!((expected.0, expected.1), (StatusCode::BAD_REQUEST, Some(Reason::DuplicateCredentials)));
        // Warm the verified-token cache with the token.
        let proof = client.proof("GET", URL, &token, &format!("w-{}", expected.2.len()));
        let warm = format!("DPoP {token}");
        let ok = send(&layer, "GET", URL, &[("authorization", &warm), ("dpop", &proof)]).await;
        assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.reason);
        let proof = client.proof("GET", URL, &token, "folded");
        let long = format!("DPoP {}, Bearer y", "a".repeat(9000));
        let cases = [
            // The cached token, a Bearer credential after it: a miss (the comma is part of it).
            (format!("DPoP {token}, Bearer y"), Some(proof.as_str())),
            (format!("dpop {token},bearer"), Some(proof.as_str())),
            (format!("DPoP  {token} , Bearer y"), Some(proof.as_str())),
            // No proof, or an oversized token: still the folded credential first.
            (format!("DPoP {token}, Bearer y"), None),
            (long, Some(proof.as_str())),
            // A malformed token, a token never seen.
            ("DPoP a\"b, Bearer y".to_owned(), Some(proof.as_str())),
            ("DPoP abc.def.ghi, Bearer y".to_owned(), Some(proof.as_str())),
        ];
        for (authorization, proof) in cases {
            let mut headers = vec![("authorization", authorization.as_str())];
            headers.extend(proof.map(|proof| ("dpop", proof)));
            assert_eq!(answer(&layer, &headers).await, expected, "{authorization:.40}");
        }
        // With a comma and no Bearer word, the DPoP path answers as it did.
        let headers = [("authorization", "DPoP a,b"), ("dpop", proof.as_str())];
        let (status, reason, _) = answer(&layer, &headers).await;
        assert_eq!((status, reason), (StatusCode::BAD_REQUEST, Some(Reason::MalformedHeader)));
    }
}

#[tokio::test]
async fn a_guard_without_dpop_refuses_a_folded_bearer_credential_under_the_dpop_scheme() {
    let clock = ManualClock::new(NOW);
    let layer = guard(None, &clock);
    let expected = answer(&layer, &[("authorization", "Basic x, Bearer y")]).await;
    assert_eq!((expected.0, expected.1), (StatusCode::BAD_REQUEST, Some(Reason::DuplicateCredentials)));
    for authorization in ["DPoP abc, Bearer y", "dpop x,Bearer"] {
        assert_eq!(answer(&layer, &[("authorization", authorization)]).await, expected, "{authorization}");
    }
    // Without a folded credential, another scheme is no token, as before.
    let (status, reason, _) = answer(&layer, &[("authorization", "DPoP abc")]).await;
    assert_eq!((status, reason), (StatusCode::UNAUTHORIZED, Some(Reason::MissingToken)));
}
