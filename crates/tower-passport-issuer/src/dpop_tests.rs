//! RFC 9449 in the issuer: DPoP-bound access tokens, public clients' refresh tokens bound
//! to the same key, the token endpoint's proof check and the metadata.

use std::sync::Arc;

use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;
use tower_passport::dpop::{ProofTarget, ProofVerifier, VerifiedProof};
use tower_passport::error::Reason;
use tower_passport::testing::DpopProver;

use crate::endpoint::OAuthServer;
use crate::store::{GrantType, MemoryStore};
use crate::{AuthenticatedClient, ClientRegistration, Issuer, OAuthErrorCode, StaticUsers, TokenRequest};

const ISSUER: &str = "https://auth.example.com";
const TOKEN_URL: &str = "https://auth.example.com/oauth/token";

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn issuer() -> Issuer {
    Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
        .audience("api")
        .enable_password_grant(StaticUsers::new(1_000).user("ann", "a-password", "7").unwrap())
        .build()
        .unwrap()
}

async fn client(issuer: &Issuer, registration: ClientRegistration) -> (AuthenticatedClient, Option<String>) {
    let registered = issuer.register_client(registration).await.unwrap();
    let secret = registered.secret.as_ref().map(|secret| secret.expose().to_owned());
    (issuer.authenticate_client(&registered.client.id, secret.as_deref()).await.unwrap(), secret)
}

fn proven(prover: &DpopProver) -> VerifiedProof {
    let proof = prover.proof("POST", TOKEN_URL, None, now()).unwrap();
    let target = ProofTarget::new(Method::POST, TOKEN_URL).unwrap();
    ProofVerifier::new().verify(&proof, &target).unwrap()
}

#[tokio::test]
async fn a_token_request_with_a_dpop_proof_gets_an_access_token_bound_to_its_key() {
    let issuer = issuer();
    let (billing, _) = client(&issuer, ClientRegistration::confidential("Billing")).await;
    let prover = DpopProver::new().unwrap();
    let tokens =
        issuer.grant(TokenRequest::client_credentials(billing.clone()).dpop(&proven(&prover))).await.unwrap();
    assert_eq!(tokens.token_type, "DPoP");
    let verifier = issuer.verifier();
    assert_eq!(verifier.verify(&tokens.access_token).unwrap_err().reason(), Reason::KeyBoundToken);
    let verified = verifier.verify_for_dpop(&tokens.access_token).unwrap();
    assert_eq!(verified.dpop_thumbprint(), Some(prover.thumbprint()));
    // Without a proof: a bearer token, as before.
    let plain = issuer.grant(TokenRequest::client_credentials(billing)).await.unwrap();
    assert_eq!(plain.token_type, "Bearer");
    assert_eq!(verifier.verify(&plain.access_token).unwrap().dpop_thumbprint(), None);
}

#[tokio::test]
async fn a_public_clients_refresh_token_is_bound_to_its_key_and_refused_from_another() {
    let issuer = issuer();
    let app = ClientRegistration::public("App").grants([GrantType::Password, GrantType::RefreshToken]);
    let (app, _) = client(&issuer, app).await;
    let (prover, thief) = (DpopProver::new().unwrap(), DpopProver::new().unwrap());
    let login = TokenRequest::password(app.clone(), "ann", "a-password").dpop(&proven(&prover));
    let refresh = issuer.grant(login).await.unwrap().refresh_token.unwrap();

    let without = issuer.grant(TokenRequest::refresh_token(app.clone(), &refresh)).await.unwrap_err();
    assert_eq!(without.code(), OAuthErrorCode::InvalidGrant);
    let stolen = TokenRequest::refresh_token(app.clone(), &refresh).dpop(&proven(&thief));
    assert_eq!(issuer.grant(stolen).await.unwrap_err().code(), OAuthErrorCode::InvalidGrant);

    let own = TokenRequest::refresh_token(app.clone(), &refresh).dpop(&proven(&prover));
    let rotated = issuer.grant(own).await.unwrap();
    assert_eq!(rotated.token_type, "DPoP");
    let verified = issuer.verifier().verify_for_dpop(&rotated.access_token).unwrap();
    assert_eq!(verified.dpop_thumbprint(), Some(prover.thumbprint()));
    // The next refresh token of the family is bound to the same key.
    let next = rotated.refresh_token.unwrap();
    let stolen = TokenRequest::refresh_token(app.clone(), &next).dpop(&proven(&thief));
    assert_eq!(issuer.grant(stolen).await.unwrap_err().code(), OAuthErrorCode::InvalidGrant);
    let own = TokenRequest::refresh_token(app, &next).dpop(&proven(&prover));
    assert!(issuer.grant(own).await.is_ok());
}

#[tokio::test]
async fn a_confidential_clients_refresh_token_is_bound_by_its_credentials_only() {
    let issuer = issuer();
    let web = ClientRegistration::confidential("Web").grants([GrantType::Password, GrantType::RefreshToken]);
    let (web, _) = client(&issuer, web).await;
    let login =
        TokenRequest::password(web.clone(), "ann", "a-password").dpop(&proven(&DpopProver::new().unwrap()));
    let refresh = issuer.grant(login).await.unwrap().refresh_token.unwrap();
    let tokens = issuer.grant(TokenRequest::refresh_token(web, &refresh)).await.unwrap();
    assert_eq!(tokens.token_type, "Bearer");
}

async fn post_token(
    routes: &crate::endpoint::OAuthRoutes,
    body: &str,
    secret_of: (&str, &str),
    dpop: &[&str],
) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = post_token_answer(routes, body, secret_of, dpop).await;
    (status, body)
}

async fn post_token_answer(
    routes: &crate::endpoint::OAuthRoutes,
    body: &str,
    secret_of: (&str, &str),
    dpop: &[&str],
) -> (StatusCode, http::HeaderMap, serde_json::Value) {
    let mut request = Request::post("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic(secret_of.0, secret_of.1));
    for proof in dpop {
        request = request.header("dpop", *proof);
    }
    let response = routes
        .clone()
        .oneshot(request.body(Full::new(bytes::Bytes::from(body.to_owned()))).unwrap())
        .await
        .unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, serde_json::from_slice(&body).unwrap())
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")))
}

#[tokio::test]
async fn the_token_endpoint_binds_tokens_to_the_dpop_header_and_refuses_a_bad_proof() {
    let issuer = issuer();
    let (billing, secret) = client(&issuer, ClientRegistration::confidential("Billing")).await;
    let routes = OAuthServer::new(issuer.clone()).build();
    let credentials = (billing.record().id.as_str(), secret.as_deref().unwrap());
    let prover = DpopProver::new().unwrap();
    let form = "grant_type=client_credentials";

    let proof = prover.proof("POST", TOKEN_URL, None, now()).unwrap();
    let (status, body) = post_token(&routes, form, credentials, &[&proof]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        issuer.verifier().verify_for_dpop(token).unwrap().dpop_thumbprint(),
        Some(prover.thumbprint())
    );

    // The same proof again is a replay; one for another URL, or two proofs, are refused.
    let (status, body) = post_token(&routes, form, credentials, &[&proof]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_dpop_proof")));
    let elsewhere = prover.proof("POST", "https://auth.example.com/other", None, now()).unwrap();
    let (status, body) = post_token(&routes, form, credentials, &[&elsewhere]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_dpop_proof")));
    let (first, second) = (
        prover.proof("POST", TOKEN_URL, None, now()).unwrap(),
        prover.proof("POST", TOKEN_URL, None, now()).unwrap(),
    );
    let (status, body) = post_token(&routes, form, credentials, &[&first, &second]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_dpop_proof")));

    // No proof: a bearer token.
    let (status, body) = post_token(&routes, form, credentials, &[]).await;
    assert_eq!((status, body["token_type"].as_str()), (StatusCode::OK, Some("Bearer")));
}

#[test]
fn the_metadata_advertises_the_dpop_proof_algorithms() {
    let routes = OAuthServer::new(issuer()).build();
    assert_eq!(
        routes.metadata().dpop_signing_alg_values_supported,
        ["ES256", "ES384", "EdDSA", "RS256", "PS256"]
    );
}

#[tokio::test]
async fn an_authorization_code_with_dpop_jkt_is_exchanged_only_with_a_proof_of_that_key() {
    let issuer = issuer();
    let app = ClientRegistration::public("App")
        .id("app")
        .grants([GrantType::AuthorizationCode, GrantType::RefreshToken])
        .redirect_uris(["https://app.example.com/cb"]);
    let (app, _) = client(&issuer, app).await;
    let (prover, thief) = (DpopProver::new().unwrap(), DpopProver::new().unwrap());
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let verifier = Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    let authorize = |jkt: &str| {
        format!(
            "response_type=code&client_id=app&code_challenge={challenge}&code_challenge_method=S256&dpop_jkt={jkt}"
        )
    };
    let code_for = |location: String| location.split(['=', '&']).nth(1).unwrap().to_owned();

    assert!(issuer.authorization_request(&authorize("not-a-thumbprint")).await.is_err());
    let request = issuer.authorization_request(&authorize(prover.thumbprint())).await.unwrap();
    assert_eq!(request.dpop_jkt(), Some(prover.thumbprint()));
    let code = code_for(issuer.approve_authorization(&request, "7").await.unwrap());
    let stolen = TokenRequest::authorization_code(app.clone(), &code, None, verifier).dpop(&proven(&thief));
    assert_eq!(issuer.grant(stolen).await.unwrap_err().code(), OAuthErrorCode::InvalidGrant);

    let request = issuer.authorization_request(&authorize(prover.thumbprint())).await.unwrap();
    let code = code_for(issuer.approve_authorization(&request, "7").await.unwrap());
    let without = TokenRequest::authorization_code(app.clone(), &code, None, verifier);
    assert_eq!(issuer.grant(without).await.unwrap_err().code(), OAuthErrorCode::InvalidGrant);

    let request = issuer.authorization_request(&authorize(prover.thumbprint())).await.unwrap();
    let code = code_for(issuer.approve_authorization(&request, "7").await.unwrap());
    let own = TokenRequest::authorization_code(app, &code, None, verifier).dpop(&proven(&prover));
    let tokens = issuer.grant(own).await.unwrap();
    assert_eq!(tokens.token_type, "DPoP");
    let verified = issuer.verifier().verify_for_dpop(&tokens.access_token).unwrap();
    assert_eq!(verified.dpop_thumbprint(), Some(prover.thumbprint()));
}

fn proof_with_nonce(prover: &DpopProver, iat: u64, nonce: &str) -> String {
    let mut claims = prover.claims("POST", TOKEN_URL, None, iat).unwrap();
    claims["nonce"] = serde_json::json!(nonce);
    prover.sign(&prover.header(), &claims).unwrap()
}

#[tokio::test]
async fn the_token_endpoint_requires_its_nonce_and_hands_one_out_with_use_dpop_nonce() {
    use tower_passport::clock::ManualClock;
    use tower_passport::dpop::Nonces;
    let issuer = issuer();
    let (billing, secret) = client(&issuer, ClientRegistration::confidential("Billing")).await;
    let clock = ManualClock::new(now());
    let nonces =
        Nonces::new(&[5; 32]).unwrap().lifetime(std::time::Duration::from_secs(60)).clock(clock.clone());
    let routes = OAuthServer::new(issuer.clone()).dpop_nonces(nonces).build();
    let credentials = (billing.record().id.as_str(), secret.as_deref().unwrap());
    let prover = DpopProver::new().unwrap();
    let form = "grant_type=client_credentials";

    // RFC 9449 §8: no nonce → 400 use_dpop_nonce, with one to use.
    let proof = prover.proof("POST", TOKEN_URL, None, now()).unwrap();
    let (status, headers, body) = post_token_answer(&routes, form, credentials, &[&proof]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "use_dpop_nonce");
    let nonce = headers["dpop-nonce"].to_str().unwrap().to_owned();

    // The retry with it gets a bound token; the nonce is fresh, so no new one.
    let (status, headers, body) =
        post_token_answer(&routes, form, credentials, &[&proof_with_nonce(&prover, now(), &nonce)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    assert!(!headers.contains_key("dpop-nonce"));

    // Past half its lifetime: still accepted, and the answer carries the next one.
    clock.advance(40);
    let (status, headers, _) =
        post_token_answer(&routes, form, credentials, &[&proof_with_nonce(&prover, now(), &nonce)]).await;
    assert_eq!(status, StatusCode::OK);
    let next = headers["dpop-nonce"].to_str().unwrap().to_owned();
    assert_ne!(next, nonce);

    // Expired, or forged: use_dpop_nonce again.
    clock.advance(30);
    let forged = Nonces::new(&[6; 32]).unwrap().clock(clock.clone()).issue();
    for stale in [nonce.as_str(), forged.as_str()] {
        let (status, headers, body) =
            post_token_answer(&routes, form, credentials, &[&proof_with_nonce(&prover, now(), stale)]).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("use_dpop_nonce")));
        assert!(headers.contains_key("dpop-nonce"));
    }
    // A token request without a proof is not affected.
    let (status, body) = post_token(&routes, form, credentials, &[]).await;
    assert_eq!((status, body["token_type"].as_str()), (StatusCode::OK, Some("Bearer")));
}
