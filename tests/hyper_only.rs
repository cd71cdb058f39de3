//! The guard in a plain hyper 1 server (no axum): `TowerToHyperService` over a
//! `ServiceBuilder` stack, on a real loopback socket.

mod support;

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use support::{client_claims, user_claims, TestKey, AUDIENCE, ISSUER, NOW};
use tower::ServiceBuilder;
use tower_passport::{clock::ManualClock, Algorithm, GuardLayer, KeySet, Principal, RequireLayer, Verifier};

async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let who = request
        .extensions()
        .get::<Principal>()
        .and_then(|p| p.subject().map(str::to_owned))
        .unwrap_or_default();
    Ok(Response::new(Full::new(Bytes::from(format!("hello {who}")))))
}

#[tokio::test]
async fn guard_and_scope_layers_serve_plain_hyper() {
    let key = TestKey::generate(Algorithm::EdDSA);
    let verifier = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .build()
        .expect("verifier");
    let service = ServiceBuilder::new()
        .layer(GuardLayer::new(verifier))
        .layer(RequireLayer::user_only())
        .service_fn(hello);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { break };
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });

    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let get = |token: Option<String>| {
        let mut request = Request::builder().uri(format!("http://{addr}/"));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        client.request(request.body(Empty::new()).expect("request"))
    };

    let ok = get(Some(key.sign(&user_claims("5", "a")))).await.expect("response");
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.into_body().collect().await.expect("body").to_bytes(), "hello 5");

    let anonymous = get(None).await.expect("response");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], r#"Bearer realm="api""#);

    let client_token = get(Some(key.sign(&client_claims("svc", "a")))).await.expect("response");
    assert_eq!(client_token.status(), StatusCode::FORBIDDEN);
}
