//! DPoP (RFC 9449) with a real client: openid-client (npm) discovers the issuer, gets a
//! DPoP-bound token with a proof of its own key, and calls an API behind the guard with it.

use std::sync::Arc;

use axum::Router;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use std::convert::Infallible;
use tower::ServiceBuilder;
use tower_passport::dpop::Dpop;
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

#[tokio::test]
async fn openid_client_gets_a_dpop_bound_token_and_uses_it_against_the_guard() {
    let Some(node) = Node::find() else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let issuer = Issuer::builder(url.as_str(), Arc::new(MemoryStore::new())).audience("api").build().unwrap();
    let registered = issuer.register_client(ClientRegistration::confidential("Node")).await.unwrap();
    let secret = registered.secret.as_ref().map(|secret| secret.expose().to_owned()).unwrap();
    let guard = GuardLayer::builder(issuer.verifier()).dpop(Dpop::new()).build().unwrap();
    let app: Router = Router::new()
        .route_service("/api/me", ServiceBuilder::new().layer(guard).service_fn(whoami))
        .fallback_service(OAuthServer::new(issuer).build());
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
}
