//! DPoP (RFC 9449) with a real client: openid-client (npm) discovers the issuer, gets a
//! DPoP-bound token with a proof of its own key, and calls an API behind the guard with it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::Router;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use std::convert::Infallible;
use tower::ServiceBuilder;
use tower_passport::dpop::{Dpop, Nonces};
use tower_passport::{GuardLayer, Principal};
use tower_passport_issuer::endpoint::OAuthServer;
use tower_passport_issuer::store::MemoryStore;
use tower_passport_issuer::{ClientRegistration, Issuer};

use crate::node::Node;

async fn whoami(request: Request<axum::body::Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let principal = request.extensions().get::<Principal>();
    let body =
        format!("{:?} {:?}", principal.and_then(Principal::client_id), principal.map(Principal::credential));
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// Which nonces the issuer's token endpoint and the guard require, if any.
struct NonceSetup {
    token_endpoint: Option<Nonces>,
    guard: Option<Nonces>,
}

#[tokio::test]
async fn openid_client_gets_a_dpop_bound_token_and_uses_it_against_the_guard() {
    let Some(node) = Node::find() else { return };
    let (result, _) = run(&node, NonceSetup { token_endpoint: None, guard: None }).await;
    assert_eq!(result["nonce_answers"], 0, "{result}");
}

/// RFC 9449 §8 and §9: both halves require their own nonces, and openid-client answers
/// each `use_dpop_nonce` with a retry carrying the `DPoP-Nonce` it was given.
#[tokio::test]
async fn openid_client_retries_with_the_nonces_the_token_endpoint_and_the_guard_require() {
    let Some(node) = Node::find() else { return };
    let setup = NonceSetup {
        token_endpoint: Some(Nonces::new(&[1; 32]).unwrap()),
        guard: Some(Nonces::new(&[2; 32]).unwrap()),
    };
    let (result, nonce_answers) = run(&node, setup).await;
    // One use_dpop_nonce from the token endpoint, one from the guard: each retried.
    assert_eq!(nonce_answers.load(Ordering::SeqCst), 2, "{result}");
}

/// Serves an issuer and a guarded API on one port, runs `dpop_issuer.mjs` against them,
/// checks what every run must show, and returns its result and the count of
/// `use_dpop_nonce` answers.
async fn run(node: &Node, setup: NonceSetup) -> (serde_json::Value, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let issuer = Issuer::builder(url.as_str(), Arc::new(MemoryStore::new())).audience("api").build().unwrap();
    let registered = issuer.register_client(ClientRegistration::confidential("Node")).await.unwrap();
    let secret = registered.secret.as_ref().map(|secret| secret.expose().to_owned()).unwrap();
    let mut dpop = Dpop::new();
    if let Some(nonces) = setup.guard {
        dpop = dpop.nonces(nonces);
    }
    let guard = GuardLayer::builder(issuer.verifier()).dpop(dpop).build().unwrap();
    let mut server = OAuthServer::new(issuer);
    if let Some(nonces) = setup.token_endpoint {
        server = server.dpop_nonces(nonces);
    }
    let nonce_answers = Arc::new(AtomicUsize::new(0));
    let counted = nonce_answers.clone();
    let app: Router = Router::new()
        .route_service("/api/me", ServiceBuilder::new().layer(guard).service_fn(whoami))
        .fallback_service(server.build())
        .layer(axum::middleware::map_response(move |response: axum::response::Response| {
            let counted = counted.clone();
            async move {
                if response.status().is_client_error() && response.headers().contains_key("dpop-nonce") {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
                response
            }
        }));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let api = format!("{url}/api/me");
    let result = node
        .run(
            "dpop_issuer.mjs",
            &[
                ("PASSPORT_ISSUER", &url),
                ("PASSPORT_CLIENT_ID", &registered.client.id),
                ("PASSPORT_CLIENT_SECRET", &secret),
                ("PASSPORT_API", &api),
            ],
        )
        .await;

    assert_eq!(result["algs"], serde_json::json!(["ES256", "ES384", "EdDSA", "RS256", "PS256"]), "{result}");
    assert_eq!(
        result["token_type"].as_str().map(str::to_ascii_lowercase).as_deref(),
        Some("dpop"),
        "{result}"
    );
    assert_eq!(result["cnf"]["jkt"], result["jkt"], "the token is bound to the client's key: {result}");
    assert_eq!(result["api"]["status"], 200, "{result}");
    assert_eq!(result["api"]["body"], format!("Some({:?}) Some(Dpop)", registered.client.id), "{result}");
    assert_eq!(result["bearer"]["status"], 401, "{result}");
    let answers = nonce_answers.load(Ordering::SeqCst);
    (serde_json::json!({ "nonce_answers": answers, "client": result }), nonce_answers)
}
