//! Against oidc-provider (a certified OpenID Provider, from npm): `tests/interop/node/
//! introspection_provider.mjs` runs it on loopback with opaque access tokens and
//! introspection on; the guard discovers its endpoint from its RFC 8414 metadata and
//! judges its tokens, before and after a revocation.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tower_passport::clock::ManualClock;
use tower_passport::error::Reason;
use tower_passport::introspection::{Introspector, IntrospectorBuilder};
use tower_passport::GuardLayer;

use crate::tools;
use crate::Guarded;

const WORKER_SECRET: &str = "worker-secret-for-the-introspection-test";
const RESOURCE_SECRET: &str = "resource-server-secret-for-the-introspection-test";

/// oidc-provider, running until dropped.
struct OidcProvider {
    issuer: String,
    _process: Child,
    /// Kept open: the script writes nothing more, but never to a closed pipe.
    _stdout: BufReader<tokio::process::ChildStdout>,
}

/// The node_modules `npm ci` installed (`PASSPORT_TEST_NODE_MODULES`, else the one beside
/// `package.json`), if oidc-provider is in it.
fn node_modules() -> Option<PathBuf> {
    const WHAT: &str = "the oidc-provider interop test";
    let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/node");
    let modules = std::env::var_os("PASSPORT_TEST_NODE_MODULES")
        .map_or_else(|| node_dir.join("node_modules"), PathBuf::from);
    if !modules.join("oidc-provider/package.json").is_file() {
        return tools::unavailable(
            WHAT,
            format!("no oidc-provider in {} (PASSPORT_TEST_NODE_MODULES)", modules.display()),
        );
    }
    match std::process::Command::new("node").arg("--version").output() {
        Ok(output) if output.status.success() => Some(modules),
        _ => tools::unavailable(WHAT, "node does not run"),
    }
}

impl OidcProvider {
    async fn start(modules: &Path) -> Self {
        let node_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/node");
        let mut process = Command::new("node")
            .arg("introspection_provider.mjs")
            .current_dir(&node_dir)
            .env("PASSPORT_TEST_NODE_MODULES", modules)
            .env("WORKER_SECRET", WORKER_SECRET)
            .env("RESOURCE_SECRET", RESOURCE_SECRET)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdout = process.stdout.take().expect("stdout");
        let (mut stdout, mut line) = (BufReader::new(stdout), String::new());
        let read = stdout.read_line(&mut line);
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .expect("oidc-provider started")
            .expect("a line");
        let started: Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("the start line: {line:?}"));
        let issuer = started["issuer"].as_str().expect("issuer").to_owned();
        Self { issuer, _process: process, _stdout: stdout }
    }

    /// A form `POST` to `path` as the client-credentials client; the status and JSON body.
    async fn post_as_worker(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        use base64::Engine;
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("worker:{WORKER_SECRET}"));
        let request = Request::post(format!("{}{path}", self.issuer))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(AUTHORIZATION, format!("Basic {basic}"))
            .body(Full::new(Bytes::from(body)))
            .expect("request");
        let client = Client::builder(TokioExecutor::new()).build_http();
        let response = client.request(request).await.expect("oidc-provider answers");
        let status = response.status();
        let body = response.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    async fn client_credentials_token(&self, scope: &str) -> String {
        let (status, body) =
            self.post_as_worker("/token", &[("grant_type", "client_credentials"), ("scope", scope)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let token = body["access_token"].as_str().expect("an access token").to_owned();
        assert!(!token.contains('.'), "an opaque token, not a JWT: {token}");
        token
    }

    fn introspector(&self, clock: &ManualClock) -> IntrospectorBuilder {
        Introspector::discover(self.issuer.clone())
            .audience("orders-api")
            .cache_max_ttl(Duration::from_secs(30))
            .clock(clock.clone())
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

#[tokio::test]
async fn oidc_providers_opaque_tokens_pass_through_its_introspection_until_revoked() {
    let Some(modules) = node_modules() else { return };
    let provider = OidcProvider::start(&modules).await;
    let token = provider.client_credentials_token("read-orders").await;
    let clock = ManualClock::new(now());
    let introspector = provider
        .introspector(&clock)
        .client_secret_basic("orders-api", RESOURCE_SECRET)
        .build()
        .expect("introspector");
    let service = Guarded::new(
        GuardLayer::introspecting(introspector.clone()).build().expect("guard"),
        &["read-orders"],
    );

    let answer = service.ask(&token).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["client_id"], "worker");
    assert_eq!(answer.json()["kind"], "Client");
    assert_eq!(answer.json()["issuer"], provider.issuer.as_str());
    assert_eq!(answer.json()["scopes"], serde_json::json!(["read-orders"]));
    // A scope it was not granted is still a 403.
    let writes =
        Guarded::new(GuardLayer::introspecting(introspector).build().expect("guard"), &["write-orders"]);
    assert_eq!(writes.ask(&token).await.reason, Some(Reason::MissingScope));
    // A token it never issued is inactive.
    service.ask("Q2F0IGFuZCBtb3VzZQ-never-issued").await.assert_invalid_token(Reason::InactiveToken);

    let (status, _) = provider.post_as_worker("/token/revocation", &[("token", &token)]).await;
    assert_eq!(status, StatusCode::OK);
    // Within the cache bound the cached answer stands; past it, the token is refused.
    assert_eq!(service.ask(&token).await.status, StatusCode::OK);
    clock.advance(30);
    service.ask(&token).await.assert_invalid_token(Reason::InactiveToken);
}

#[tokio::test]
async fn oidc_provider_takes_client_secret_post_and_refuses_a_wrong_secret() {
    let Some(modules) = node_modules() else { return };
    let provider = OidcProvider::start(&modules).await;
    let token = provider.client_credentials_token("read-orders write-orders").await;
    let clock = ManualClock::new(now());
    let post = provider
        .introspector(&clock)
        .client_secret_post("orders-api-post", RESOURCE_SECRET)
        .build()
        .expect("introspector");
    let service = Guarded::new(GuardLayer::introspecting(post).build().expect("guard"), &["write-orders"]);
    let answer = service.ask(&token).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");

    // The endpoint refuses the resource server itself (401 invalid_client): no answer, 503.
    let wrong = provider
        .introspector(&clock)
        .client_secret_basic("orders-api", "not-the-secret")
        .build()
        .expect("introspector");
    let refused = Guarded::new(GuardLayer::introspecting(wrong).build().expect("guard"), &[]);
    refused.ask(&token).await.assert_unavailable();
    assert_eq!(refused.reached(), 0);
}
