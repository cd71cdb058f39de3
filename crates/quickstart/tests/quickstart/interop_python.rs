//! A real OAuth client library against the issuer over loopback: authlib's `OAuth2Session`
//! (Python, over requests) discovers the RFC 8414 metadata, gets client-credentials tokens
//! with `client_secret_basic` and `client_secret_post`, calls a guarded API, introspects and
//! revokes them (tests/interop/client_credentials.py asserts each step; this file checks
//! what it printed against the issuer). And against the quickstart app (on its default
//! store, SQLite), authlib performs the authorization code grant with PKCE and the RFC 9207
//! `iss` check, a requests session signing in and approving as the browser would, then
//! refreshes (tests/interop/authorization_code.py). Skips, with the reason printed, when
//! the interop virtualenv is missing, except under CI.

use crate::in_process as quickstart;
use crate::issuer_support as support;
use crate::python;

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use python::Python;
use serde_json::{json, Value};
use support::{claims, scopes, AUDIENCE};
use tower::ServiceBuilder;
use tower_passport::{guard::TokenOnly, BackendError, GuardLayer, Principal};
use tower_passport_issuer::endpoint::{OAuthServer, SignIn, SignInRequest};
use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{ClientRegistration, Issuer};

/// The guarded API route: who the guard let in.
async fn me(request: Request<axum::body::Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let principal = request.extensions().get::<Principal>();
    let body = json!({
        "client_id": principal.and_then(|p| p.client_id()),
        "scopes": principal.map(|p| p.scopes().iter().map(str::to_owned).collect::<Vec<_>>()),
    });
    Ok(Response::new(Full::new(Bytes::from(body.to_string()))))
}

/// The issuer at its real loopback address (so the metadata's endpoints are reachable),
/// with `/api/me` behind the guard.
async fn start() -> (String, Issuer) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let issuer = Issuer::builder(url.as_str(), Arc::new(MemoryStore::new()))
        .audience(AUDIENCE)
        .scopes(scopes())
        .build()
        .expect("issuer");
    // The flow is on, as on a full deployment, so that the metadata is complete; this test
    // signs nobody in.
    let oauth = OAuthServer::new(issuer.clone())
        .sign_in(|_: &SignInRequest<'_>| async { Ok::<_, BackendError>(SignIn::Redirect("/login".into())) })
        .build();
    let guard = GuardLayer::builder(issuer.verifier())
        .revocation(issuer.revocation_list())
        .resolver(issuer.resolver(TokenOnly))
        .build()
        .expect("guard");
    let app: Router = Router::new()
        .route_service("/api/me", ServiceBuilder::new().layer(guard).service_fn(me))
        .fallback_service(oauth);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, issuer)
}

/// A space-separated scope string as a set (the issuer answers in its registry's order).
fn words(scope: &Value) -> BTreeSet<String> {
    scope.as_str().expect("a scope string").split_whitespace().map(str::to_owned).collect()
}

#[tokio::test]
async fn authlib_discovers_gets_client_credentials_tokens_introspects_and_revokes() {
    let Some(python) = Python::find() else { return };
    let (url, issuer) = start().await;
    let registered = issuer
        .register_client(ClientRegistration::confidential("authlib").grants([GrantType::ClientCredentials]))
        .await
        .expect("registered");
    let id = registered.client.id.clone();
    let secret = registered.secret.as_ref().expect("a secret").expose().to_owned();
    let scope = "read-posts check-status";
    let api = format!("{url}/api/me");
    let env = [
        ("PASSPORT_ISSUER", url.as_str()),
        ("PASSPORT_CLIENT_ID", id.as_str()),
        ("PASSPORT_CLIENT_SECRET", secret.as_str()),
        ("PASSPORT_SCOPE", scope),
        ("PASSPORT_API", api.as_str()),
    ];
    let result = python.run("client_credentials.py", &env).await.json();

    // (a) The metadata authlib read, and what its RFC 8414 validators refused: nothing
    // (`response_types_supported` is `["code"]` since the authorization code grant).
    assert_eq!(result["metadata"]["issuer"], url.as_str());
    assert_eq!(result["metadata"]["token_endpoint"], format!("{url}/oauth/token"));
    let errors = result["metadata_errors"].as_object().expect("a map");
    assert!(errors.is_empty(), "authlib's metadata validators: {errors:?}");

    // (b), (c) Each grant authenticated as named, and its token is the issuer's own.
    for (method, scheme, posted) in [("basic", "Basic", false), ("post", "", true)] {
        let part = &result[method];
        let token_request = &part["requests"][0];
        assert_eq!(token_request["url"], format!("{url}/oauth/token"), "{method}");
        assert_eq!(token_request["authorization"], scheme, "{method}");
        assert_eq!(token_request["body_has_client_secret"], posted, "{method}");
        let access = part["token"]["access_token"].as_str().expect("an access token");
        let verified = issuer.verifier().verify(access).expect("the issuer verifies it");
        assert_eq!(verified.client_id(), Some(id.as_str()), "{method}");
        assert_eq!(claims(access)["sub"], id.as_str(), "{method}: sub is the client");
        assert_eq!(words(&part["token"]["scope"]), words(&json!(scope)), "{method}");
        assert_eq!(part["api"]["client_id"], id.as_str(), "{method}");
        let granted: Vec<&str> =
            part["api"]["scopes"].as_array().expect("scopes").iter().filter_map(Value::as_str).collect();
        assert_eq!(words(&json!(granted.join(" "))), words(&json!(scope)), "{method}: the guard's principal");
    }

    // (d) Introspection of the basic token.
    let introspection = &result["introspection"];
    assert_eq!(introspection["active"], true);
    assert_eq!(introspection["client_id"], id.as_str());
    assert_eq!(words(&introspection["scope"]), words(&json!(scope)));
    let basic_access = result["basic"]["token"]["access_token"].as_str().expect("token");
    assert_eq!(introspection["jti"], claims(basic_access)["jti"]);

    // (e) Both revocations: the tokens are inactive and the guard answers RFC 6750's challenge.
    for method in ["basic", "post"] {
        let revocation = &result["revocation"][method];
        assert_eq!(revocation["status"], 200, "{method}");
        assert_eq!(revocation["introspection_after"], json!({"active": false}), "{method}");
        assert_eq!(revocation["api_after"], 401, "{method}");
        let challenge = revocation["api_after_challenge"].as_str().unwrap_or_default();
        assert!(challenge.starts_with("Bearer") && challenge.contains("invalid_token"), "{challenge}");
    }
    let revoked: Vec<&Value> =
        ["basic", "post"].iter().map(|m| &result[*m]["token"]["access_token"]).collect();
    assert_ne!(revoked[0], revoked[1], "two grants, two tokens");
}

#[tokio::test]
async fn authlib_performs_the_authorization_code_flow_with_pkce_and_iss_then_refreshes() {
    let Some(python) = Python::find() else { return };
    let app = quickstart::start_sqlite(|_| {}).await;
    let scope = "read-posts write-posts";
    let api = format!("{}/api/user", app.base);
    let demo = &app.config.demo_app;
    let env = [
        ("PASSPORT_ISSUER", app.base.as_str()),
        ("PASSPORT_CLIENT_ID", demo.client_id.as_str()),
        ("PASSPORT_CLIENT_SECRET", demo.client_secret.as_str()),
        ("PASSPORT_REDIRECT_URI", demo.redirect_uri.as_str()),
        ("PASSPORT_SCOPE", scope),
        ("PASSPORT_USERNAME", app.config.username.as_str()),
        ("PASSPORT_PASSWORD", app.config.password.as_str()),
        ("PASSPORT_API", api.as_str()),
    ];
    let result = python.run("authorization_code.py", &env).await.json();
    let issuer = app.node.issuer.verifier();

    // (a) The metadata authlib validated advertises the flow.
    let metadata = &result["metadata"];
    assert_eq!(metadata["authorization_endpoint"], format!("{}/oauth/authorize", app.base));
    assert_eq!(metadata["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(metadata["authorization_response_iss_parameter_supported"], true);

    // (b) What authlib sent: PKCE S256, its own state.
    let sent = &result["authorization_request"];
    assert_eq!(sent["client_id"], demo.client_id.as_str());
    assert_eq!(sent["code_challenge_method"], "S256");
    assert_eq!(sent["redirect_uri"], demo.redirect_uri.as_str());

    // (e) The callback authlib parsed: a code, its state, and our iss.
    let callback = &result["callback"];
    assert_eq!(callback["state"], sent["state"]);
    assert_eq!(callback["iss"], app.base.as_str());
    assert!(callback["code"].as_str().is_some_and(|code| code.len() >= 32), "{callback}");

    // (f) The exchange: the issuer's token for the signed-in user and the demo app, which
    // the API took; reusing the code revoked it (the script saw 401).
    let first = &result["first"];
    let access = first["token"]["access_token"].as_str().expect("an access token");
    assert_eq!(claims(access)["sub"], "1");
    assert_eq!(claims(access)["client_id"], demo.client_id.as_str());
    assert_eq!(words(&first["token"]["scope"]), words(&json!(scope)));
    assert_eq!(first["api"]["sub"], "1");
    assert_eq!(first["api"]["kind"], "user");

    // (g) The refresh: a new pair the issuer verifies, for the same user and client.
    let refreshed = &result["second"]["refreshed"];
    let access = refreshed["access_token"].as_str().expect("a refreshed access token");
    let verified = issuer.verify(access).expect("the issuer verifies it");
    assert_eq!(verified.subject(), Some("1"));
    assert_eq!(verified.client_id(), Some(demo.client_id.as_str()));
    assert_ne!(refreshed["refresh_token"], result["second"]["token"]["refresh_token"]);
    assert_eq!(result["second"]["api"]["sub"], "1");

    // (h) The third round skipped the screen and still carried iss.
    assert_eq!(result["third"]["callback"]["iss"], app.base.as_str());

    // Every token request authenticated with client_secret_basic.
    let token_requests: Vec<&Value> = result["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter(|request| request["url"] == format!("{}/oauth/token", app.base))
        .collect();
    assert_eq!(token_requests.len(), 4, "three exchanges and a refresh: {token_requests:?}");
    assert!(token_requests.iter().all(|request| request["authorization"] == "Basic"));
}
