//! `examples/grpc`: a tonic service behind `GuardLayer` and `RequireLayer` with
//! `GrpcResponder`, served on loopback and called by a real tonic client. Every
//! rejection is a gRPC status (16 or 7), with the description in `grpc-message` and the
//! RFC 6750 challenge in the status's metadata, and no JSON body.

use crate::grpc_example;

use std::error::Error;

use bytes::Bytes;
use grpc_example::{get_request, serve, OrdersClient, OrdersServer, READ_ORDERS};
use http_body_util::BodyExt;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Endpoint, Server};
use tonic::{Code, Status};
use tower::ServiceExt;
use tower_passport::error::GrpcResponder;
use tower_passport::{GuardLayer, RequireLayer};
use tower_passport_issuer::testing::TestIssuer;

type TestResult = Result<(), Box<dyn Error + Send + Sync>>;

/// The example's server on `127.0.0.1:0`, its URL and the issuer whose tokens it takes.
/// It stops with the test's runtime.
async fn start() -> Result<(String, TestIssuer), Box<dyn Error + Send + Sync>> {
    let issuer = TestIssuer::new()?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(serve(listener, issuer.verifier()?, std::future::pending()));
    Ok((url, issuer))
}

/// A failed call's status, with the metadata every rejection carries checked: a gRPC
/// content type (so no JSON body came) and `no-store`.
async fn rejected(url: &str, token: Option<&str>) -> Result<Status, Box<dyn Error + Send + Sync>> {
    let mut client = OrdersClient::connect(url.to_owned()).await?;
    let status = match client.get(get_request("1001", token)?).await {
        Ok(response) => return Err(format!("expected a rejection, got {:?}", response.into_inner()).into()),
        Err(status) => status,
    };
    assert_eq!(metadata(&status, "content-type"), "application/grpc");
    assert_eq!(metadata(&status, "cache-control"), "no-store");
    Ok(status)
}

/// The status's metadata entry `name` (a response header tonic did not read itself), or
/// `""` when there is none.
fn metadata<'s>(status: &'s Status, name: &str) -> &'s str {
    status.metadata().get(name).and_then(|value| value.to_str().ok()).unwrap_or("")
}

/// The RFC 6750 challenge, as a tonic client receives it.
fn challenge(status: &Status) -> &str {
    metadata(status, "www-authenticate")
}

#[tokio::test]
async fn a_good_token_with_the_scope_reaches_the_service() -> TestResult {
    let (url, issuer) = start().await?;
    let token = issuer.user_token("42", [READ_ORDERS])?;
    let mut client = OrdersClient::connect(url).await?;
    let order = client.get(get_request("1001", Some(&token))?).await?.into_inner();
    assert_eq!(order.id, "1001");
    assert_eq!(order.customer, "42", "the handler read the guard's principal");
    assert_eq!(order.status, "shipped");
    Ok(())
}

#[tokio::test]
async fn no_token_is_unauthenticated_with_a_bare_challenge() -> TestResult {
    let (url, _issuer) = start().await?;
    let status = rejected(&url, None).await?;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.code() as i32, 16);
    assert_eq!(status.message(), "No bearer token was presented");
    assert_eq!(challenge(&status), r#"Bearer realm="orders""#);
    Ok(())
}

#[tokio::test]
async fn a_bad_token_is_unauthenticated_as_invalid_token() -> TestResult {
    let (url, _issuer) = start().await?;
    // Well formed and signed, but by a key this server does not know.
    let foreign = TestIssuer::new()?.user_token("42", [READ_ORDERS])?;
    let status = rejected(&url, Some(&foreign)).await?;
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.code() as i32, 16);
    assert_eq!(status.message(), "The access token was signed by an unknown key");
    assert_eq!(
        challenge(&status),
        r#"Bearer realm="orders", error="invalid_token", error_description="The access token was signed by an unknown key""#
    );

    let garbage = rejected(&url, Some("not-a-jwt")).await?;
    assert_eq!(garbage.code(), Code::Unauthenticated);
    assert_eq!(garbage.message(), "The access token is not a well-formed JWT");
    assert!(challenge(&garbage).contains(r#"error="invalid_token""#), "{}", challenge(&garbage));
    Ok(())
}

#[tokio::test]
async fn a_token_without_the_scope_is_permission_denied() -> TestResult {
    let (url, issuer) = start().await?;
    let token = issuer.user_token("43", ["orders:write"])?;
    let status = rejected(&url, Some(&token)).await?;
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(status.code() as i32, 7);
    assert_eq!(status.message(), "The access token lacks a required scope");
    assert_eq!(
        challenge(&status),
        r#"Bearer realm="orders", error="insufficient_scope", error_description="The access token lacks a required scope", scope="orders:read""#
    );
    Ok(())
}

/// tonic's client reads `grpc-status` from the headers whatever the HTTP status and
/// content type, so the wire shape is checked on the raw response, through the same
/// tonic channel: a Trailers-Only answer, `200 OK`, the status in the headers, no body.
#[tokio::test]
async fn on_the_wire_a_rejection_is_trailers_only() -> TestResult {
    let (url, _issuer) = start().await?;
    let channel = Endpoint::from_shared(url)?.connect().await?;
    // One gRPC frame: uncompressed, an empty GetOrderRequest.
    let frame = http_body_util::Full::new(Bytes::from_static(&[0, 0, 0, 0, 0]));
    let request = http::Request::post("/orders.Orders/Get")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(tonic::body::Body::new(frame))?;
    let response = channel.oneshot(request).await?;
    assert_eq!(response.status(), http::StatusCode::OK);
    assert_eq!(response.version(), http::Version::HTTP_2);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "application/grpc");
    assert_eq!(headers["grpc-status"], "16");
    // Percent-encoded as the gRPC spec says: spaces stay.
    assert_eq!(headers["grpc-message"], "No bearer token was presented");
    assert_eq!(headers["www-authenticate"], r#"Bearer realm="orders""#);
    let collected = response.into_body().collect().await?;
    assert!(collected.trailers().is_none(), "the status came in the headers, not in trailers");
    assert!(collected.to_bytes().is_empty(), "no body, so no JSON");
    Ok(())
}

/// The README's form: the layers around the whole server (every service in `Routes`)
/// rather than around one named service.
#[tokio::test]
async fn the_layers_also_guard_a_whole_server() -> TestResult {
    let issuer = TestIssuer::new()?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let server = Server::builder()
        .layer(GuardLayer::builder(issuer.verifier()?).responder(GrpcResponder).build()?)
        .layer(RequireLayer::all_scopes([READ_ORDERS]))
        .add_routes(Routes::new(OrdersServer));
    tokio::spawn(server.serve_with_incoming(TcpIncoming::from(listener)));

    let token = issuer.user_token("42", [READ_ORDERS])?;
    let mut client = OrdersClient::connect(url.clone()).await?;
    assert_eq!(client.get(get_request("7", Some(&token))?).await?.into_inner().customer, "42");

    let missing = rejected(&url, None).await?;
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert_eq!(challenge(&missing), r#"Bearer realm="api""#);

    let writer = issuer.user_token("43", ["orders:write"])?;
    let denied = rejected(&url, Some(&writer)).await?;
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(challenge(&denied).contains(r#"scope="orders:read""#), "{}", challenge(&denied));
    Ok(())
}
