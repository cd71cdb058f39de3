//! RFC 9728 and RFC 8707 end to end, over real loopback HTTP: a client that knows only the
//! API's URL gets a 401, follows its challenge's `resource_metadata` to the API's metadata,
//! takes `authorization_servers[0]`, reads that issuer's RFC 8414 metadata, gets a token
//! for the API's `resource` at the token endpoint, and calls the API. Then the same walk by
//! a real client library, oauth4webapi (its `resourceDiscoveryRequest` and
//! `discoveryRequest`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tower::ServiceBuilder;
use tower_passport::resource_metadata::{ResourceMetadata, ResourceMetadataLayer};
use tower_passport::{GuardLayer, KeySet, Principal, Verifier};
use tower_passport_issuer::endpoint::OAuthServer;
use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{ClientRegistration, Issuer, ScopeRegistry};

use crate::node::Node;

/// Another API of the same issuer: a token narrowed to ours must not open it.
const OTHER_API: &str = "https://billing.example.com";

/// An issuer and an API on two loopback ports, and a client registered with the issuer.
struct Deployment {
    issuer_url: String,
    api_url: String,
    client_id: String,
    client_secret: String,
    issuer: Issuer,
}

async fn orders(request: Request<axum::body::Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let principal = request.extensions().get::<Principal>();
    let body = json!({ "client_id": principal.and_then(|p| p.client_id()) });
    Ok(Response::new(Full::new(Bytes::from(body.to_string()))))
}

/// The API's guard: a verifier that trusts the issuer's keys and accepts only tokens whose
/// `aud` names `audience`.
fn guard_for(issuer: &Issuer, audience: &str) -> GuardLayer {
    let jwks = serde_json::to_string(&issuer.jwks()).expect("jwks");
    let verifier = Verifier::builder(KeySet::from_jwks(&jwks).expect("keys"))
        .issuer(issuer.issuer_url())
        .audience(audience)
        .build()
        .expect("verifier");
    GuardLayer::new(verifier)
}

async fn deploy() -> Deployment {
    let issuer_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let issuer_url = format!("http://{}", issuer_listener.local_addr().expect("addr"));
    let api_url = format!("http://{}", api_listener.local_addr().expect("addr"));

    let issuer = Issuer::builder(&issuer_url, Arc::new(MemoryStore::new()))
        .audience(&api_url)
        .audience(OTHER_API)
        .scopes(ScopeRegistry::new().scope("orders", "Read orders"))
        .build()
        .expect("issuer");
    let registered = issuer
        .register_client(
            ClientRegistration::confidential("Discovering client").grants([GrantType::ClientCredentials]),
        )
        .await
        .expect("client");
    let oauth: Router = OAuthServer::new(issuer.clone()).build().into_router();
    tokio::spawn(async move {
        axum::serve(issuer_listener, oauth.into_make_service_with_connect_info::<SocketAddr>()).await
    });

    let metadata = ResourceMetadata::builder(&api_url)
        .authorization_server(&issuer_url)
        .scopes_supported(["orders"])
        .resource_documentation(format!("{api_url}/docs"))
        .build()
        .expect("metadata");
    let api: Router = Router::new()
        .route_service(
            "/orders",
            ServiceBuilder::new().layer(guard_for(&issuer, &api_url)).service_fn(orders),
        )
        .layer(ResourceMetadataLayer::new(metadata));
    tokio::spawn(async move { axum::serve(api_listener, api).await });

    let client_secret = registered.secret.as_ref().expect("a secret").expose().to_owned();
    Deployment { issuer_url, api_url, client_id: registered.client.id, client_secret, issuer }
}

struct Reply {
    status: StatusCode,
    challenge: Option<String>,
    content_type: Option<String>,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("JSON, not {:?}", self.body))
    }
}

async fn send(request: Request<Full<Bytes>>) -> Reply {
    let http: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let response = http.request(request).await.expect("a response");
    let header = |name| {
        response.headers().get(name).map(|v: &http::HeaderValue| v.to_str().expect("ascii").to_owned())
    };
    let (status, challenge, content_type) =
        (response.status(), header(WWW_AUTHENTICATE), header(CONTENT_TYPE));
    let body = response.into_body().collect().await.expect("body").to_bytes();
    Reply { status, challenge, content_type, body }
}

async fn get(url: &str, token: Option<&str>) -> Reply {
    let mut request = Request::get(url);
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    send(request.body(Full::default()).expect("request")).await
}

/// The value of `name` in a challenge (quoted-string parameters only, as the guard sends).
fn parameter<'a>(challenge: &'a str, name: &str) -> Option<&'a str> {
    let start = challenge.find(&format!("{name}=\""))? + name.len() + 2;
    let length = challenge[start..].find('"')?;
    Some(&challenge[start..start + length])
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

#[tokio::test]
async fn a_client_with_only_the_apis_url_finds_the_issuer_from_a_401_and_calls_the_api() {
    let deployment = deploy().await;
    let api = &deployment.api_url;

    // 1. The API, without a token: 401, and the challenge says where its metadata is.
    let refused = get(&format!("{api}/orders"), None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let challenge = refused.challenge.expect("a challenge");
    let metadata_url =
        parameter(&challenge, "resource_metadata").expect("resource_metadata in the challenge");
    assert_eq!(metadata_url, format!("{api}/.well-known/oauth-protected-resource"));

    // 2. The RFC 9728 document, without a token: its `resource` is the URL we started from.
    let metadata = get(metadata_url, None).await;
    assert_eq!(metadata.status, StatusCode::OK);
    assert_eq!(metadata.content_type.as_deref(), Some("application/json"));
    let metadata = metadata.json();
    assert_eq!(metadata["resource"], api.as_str(), "RFC 9728 §3.3");
    assert_eq!(metadata["scopes_supported"], json!(["orders"]));
    assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
    assert_eq!(metadata["resource_documentation"], format!("{api}/docs"));
    let issuer = metadata["authorization_servers"][0].as_str().expect("an authorization server");
    assert_eq!(issuer, deployment.issuer_url);

    // 3. The issuer's RFC 8414 metadata: its `issuer` is the one the API named.
    let server = get(&format!("{issuer}/.well-known/oauth-authorization-server"), None).await;
    assert_eq!(server.status, StatusCode::OK);
    let server = server.json();
    assert_eq!(server["issuer"], issuer, "RFC 8414 §3.3");
    let token_endpoint = server["token_endpoint"].as_str().expect("a token endpoint");

    // 4. A token for this API only (RFC 8707), at the endpoint the metadata named.
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", &deployment.client_id),
        ("client_secret", &deployment.client_secret),
        ("scope", "orders"),
        ("resource", api),
    ]);
    let request = Request::builder()
        .method(Method::POST)
        .uri(token_endpoint)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let tokens = send(request).await;
    assert_eq!(tokens.status, StatusCode::OK, "{:?}", tokens.body);
    let token = tokens.json()["access_token"].as_str().expect("a token").to_owned();
    let audience: Vec<String> =
        deployment.issuer.verifier().verify(&token).expect("valid").audience().map(str::to_owned).collect();
    assert_eq!(audience, [api.as_str()], "aud narrowed to the resource asked for");

    // 5. The API lets it in.
    let called = get(&format!("{api}/orders"), Some(&token)).await;
    assert_eq!(called.status, StatusCode::OK);
    assert_eq!(called.json()["client_id"], deployment.client_id.as_str());
}

#[tokio::test]
async fn a_token_narrowed_to_one_api_is_refused_by_another_of_the_same_issuer() {
    let deployment = deploy().await;
    let api = &deployment.api_url;
    let client = deployment
        .issuer
        .authenticate_client(&deployment.client_id, Some(&deployment.client_secret))
        .await
        .expect("client");
    let for_billing =
        tower_passport_issuer::TokenRequest::client_credentials(client.clone()).resource(OTHER_API);
    let token = deployment.issuer.grant(for_billing).await.expect("a token for the other API").access_token;

    // Replayed at our API: its audience is not ours.
    let replayed = get(&format!("{api}/orders"), Some(&token)).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);
    let challenge = replayed.challenge.expect("a challenge");
    assert_eq!(parameter(&challenge, "error"), Some("invalid_token"));
    assert!(parameter(&challenge, "resource_metadata").is_some(), "{challenge}");

    // Without `resource`, the token names every API of the issuer (as before RFC 8707).
    let broad = tower_passport_issuer::TokenRequest::client_credentials(client);
    let token = deployment.issuer.grant(broad).await.expect("a token").access_token;
    assert_eq!(get(&format!("{api}/orders"), Some(&token)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn oauth4webapi_discovers_the_issuer_from_the_api_and_calls_it() {
    let Some(node) = Node::find() else { return };
    let deployment = deploy().await;
    let result = node
        .run(
            "resource_discovery.mjs",
            &[
                ("PASSPORT_API", &deployment.api_url),
                ("PASSPORT_CLIENT_ID", &deployment.client_id),
                ("PASSPORT_CLIENT_SECRET", &deployment.client_secret),
            ],
        )
        .await;
    assert_eq!(result["issuer"], deployment.issuer_url.as_str());
    assert_eq!(
        result["resource_metadata"],
        format!("{}/.well-known/oauth-protected-resource", deployment.api_url)
    );
    assert_eq!(result["audience"], deployment.api_url.as_str(), "{result}");
    assert_eq!(result["status"], 200);
    assert_eq!(result["body"]["client_id"], deployment.client_id.as_str());
}

/// `POST /oauth/token` as a form from this deployment's client.
async fn token_request(deployment: &Deployment, resources: &[&str]) -> Reply {
    let mut pairs = vec![
        ("grant_type", "client_credentials"),
        ("client_id", deployment.client_id.as_str()),
        ("client_secret", deployment.client_secret.as_str()),
    ];
    pairs.extend(resources.iter().map(|resource| ("resource", *resource)));
    let request = Request::post(format!("{}/oauth/token", deployment.issuer_url))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form(&pairs))))
        .expect("request");
    send(request).await
}

#[tokio::test]
async fn the_token_endpoint_takes_resource_repeated_and_answers_invalid_target() {
    let deployment = deploy().await;
    let both = token_request(&deployment, &[&deployment.api_url, OTHER_API]).await;
    assert_eq!(both.status, StatusCode::OK, "{:?}", both.body);
    let token = both.json()["access_token"].as_str().expect("a token").to_owned();
    let audience: Vec<String> =
        deployment.issuer.verifier().verify(&token).expect("valid").audience().map(str::to_owned).collect();
    assert_eq!(audience, [deployment.api_url.clone(), OTHER_API.to_owned()]);

    for refused in
        [&["https://elsewhere.example.com"][..], &["relative/path"], &[OTHER_API, "https://x.test/#f"]]
    {
        let reply = token_request(&deployment, refused).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{refused:?}");
        assert_eq!(reply.json()["error"], "invalid_target", "{refused:?}");
    }
}
