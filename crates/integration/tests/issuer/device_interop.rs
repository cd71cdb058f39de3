//! A real client library does the device flow against the issuer over loopback: openid-client
//! (Node) discovers the RFC 8414 metadata, calls `initiateDeviceAuthorization` and then
//! `pollDeviceAuthorizationGrant` until the user (played by the script through the
//! verification page's HTML forms, signed in by a header this test's hook reads) approves
//! (tests/interop/node/device_flow.mjs). Skips, with the reason printed, when Node or the
//! packages are missing, except under CI.

use crate::issuer_support as support;
use crate::node::Node;

use std::sync::Arc;
use std::time::Duration;

use support::{claims, scopes, AUDIENCE};
use tower_passport::BackendError;
use tower_passport_issuer::endpoint::{OAuthServer, SignIn, SignInRequest};
use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{ClientRegistration, Issuer};

const USER_HEADER: &str = "x-test-user";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_does_the_device_flow() {
    let Some(node) = Node::find() else { return };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let issuer = Issuer::builder(url.as_str(), Arc::new(MemoryStore::new()))
        .audience(AUDIENCE)
        .scopes(scopes())
        .device_code_interval(Duration::from_secs(1))
        .build()
        .expect("issuer");
    let oauth = OAuthServer::new(issuer.clone())
        .sign_in(|request: &SignInRequest<'_>| {
            let user =
                request.parts().headers.get(USER_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
            async move {
                Ok::<_, BackendError>(user.map_or_else(|| SignIn::Redirect("/login".into()), SignIn::User))
            }
        })
        .build();
    let app: axum::Router = axum::Router::new().fallback_service(oauth);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let tv =
        ClientRegistration::public("TV").id("tv").grants([GrantType::DeviceCode, GrantType::RefreshToken]);
    issuer.register_client(tv).await.expect("register");

    let env = [
        ("PASSPORT_ISSUER", url.as_str()),
        ("PASSPORT_CLIENT_ID", "tv"),
        ("PASSPORT_USER_HEADER", USER_HEADER),
        ("PASSPORT_USER", "42"),
        ("PASSPORT_SCOPE", "read-posts"),
    ];
    let got = node.run("device_flow.mjs", &env).await;
    assert_eq!(got["interval"], 1);
    assert_eq!(got["token_type"].as_str().map(str::to_ascii_lowercase).as_deref(), Some("bearer"));
    assert_eq!(got["scope"], "read-posts");
    assert!(got["refresh_token"].is_string(), "{got}");
    let access = got["access_token"].as_str().expect("an access token");
    let verified = issuer.verifier().verify(access).expect("the issuer's own token");
    assert_eq!(verified.subject(), Some("42"));
    assert_eq!(claims(access)["client_id"], "tv");
}
