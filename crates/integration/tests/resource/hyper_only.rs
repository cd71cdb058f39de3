//! The guard in a plain hyper 1 server (no axum): the "hyper without axum" code of
//! `docs/servers.md`, exactly as printed (`tests/readme/hyper_without_axum.rs` is that
//! block, checked against the guide below), serving each connection of a real loopback
//! socket.

use crate::support;

// The guide's block: `serve`, with its imports.
include!("../readme/hyper_without_axum.rs");

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use support::{client_claims, user_claims, TestKey, AUDIENCE, ISSUER, NOW};
use tower_passport::{clock::ManualClock, Algorithm, KeySet};

#[test]
fn the_served_code_is_the_readme_block() {
    let readme = include_str!("../../../../docs/servers.md");
    let section = readme.find("## hyper without axum").expect("the guide's hyper section");
    let block = readme[section..]
        .split("```rust,no_run\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("its code block");
    assert_eq!(
        block,
        include_str!("../readme/hyper_without_axum.rs"),
        "the guide and the code it runs differ"
    );
}

#[tokio::test]
async fn the_readme_hyper_server_guards_and_checks_scopes() {
    let key = TestKey::generate(Algorithm::EdDSA);
    let verifier = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .build()
        .expect("verifier");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { break };
            tokio::spawn(serve(verifier.clone(), stream));
        }
    });

    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let get = |token: Option<String>| {
        let mut request = http::Request::builder().uri(format!("http://{addr}/"));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        client.request(request.body(Empty::new()).expect("request"))
    };
    let body = |response: http::Response<hyper::body::Incoming>| async move {
        response.into_body().collect().await.expect("body").to_bytes()
    };

    // read-posts and one more scope: the handler sees the principal with both.
    let ok = get(Some(key.sign(&user_claims("5", "read-posts write-posts")))).await.expect("response");
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(body(ok).await, "Some(2)");

    let client_token = get(Some(key.sign(&client_claims("svc", "read-posts")))).await.expect("response");
    assert_eq!(client_token.status(), StatusCode::OK, "all_scopes takes client tokens too");
    assert_eq!(body(client_token).await, "Some(1)");

    let without_scope = get(Some(key.sign(&user_claims("5", "write-posts")))).await.expect("response");
    assert_eq!(without_scope.status(), StatusCode::FORBIDDEN);
    let challenge = without_scope.headers()["www-authenticate"].to_str().expect("ascii").to_owned();
    assert!(challenge.contains(r#"error="insufficient_scope""#), "{challenge}");

    let anonymous = get(None).await.expect("response");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], r#"Bearer realm="api""#);
}
