//! The quickstart's curl walkthrough: the text the quickstart prints, pasted into `bash` as
//! one block against the quickstart process on its default store (SQLite), every commented
//! status checked; and the same steps over hyper against the app in-process. Then the
//! quickstart in a container (any bind address, any issuer URL), and on a store that
//! already holds its demo clients (a restart, a second node): what is stored stays.

use crate::demo;
use crate::process;
use crate::tools;
use crate::walkthrough;

use std::net::SocketAddr;

use base64::Engine;
use bytes::Bytes;
use demo::quickstart::{build, QuickstartConfig};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

struct App {
    addr: SocketAddr,
    config: QuickstartConfig,
    client: Client<HttpConnector, Full<Bytes>>,
}

struct Reply {
    status: StatusCode,
    body: Value,
}

async fn start() -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = QuickstartConfig::from_env(addr).expect("config");
    config.password_iterations = 1_000;
    config.store = "memory".into();
    let app = build(&config).await.expect("quickstart app").app;
    tokio::spawn(async move { axum::serve(listener, app).await });
    App { addr, config, client: Client::builder(TokioExecutor::new()).build_http() }
}

impl App {
    async fn send(&self, request: http::request::Builder, body: &str) -> Reply {
        let response = self
            .client
            .request(request.body(Full::new(Bytes::from(body.to_owned()))).expect("request"))
            .await
            .expect("response");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Reply { status, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
    }

    fn basic(&self) -> String {
        let credentials = format!("{}:{}", self.config.client_id, self.config.client_secret);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials))
    }

    async fn token(&self, form: &str) -> Reply {
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("http://{}/oauth/token", self.addr))
            .header("authorization", self.basic())
            .header("content-type", "application/x-www-form-urlencoded");
        self.send(request, form).await
    }

    async fn api(&self, method: Method, path: &str, token: &str) -> StatusCode {
        let request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr))
            .header("authorization", format!("Bearer {token}"));
        self.send(request, "").await.status
    }
}

fn text(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or_else(|| panic!("no {field} in {value}")).to_owned()
}

#[tokio::test]
async fn the_walkthrough_works_end_to_end() {
    let app = start().await;

    // 1. client credentials, the client-only route
    let m2m = app.token("grant_type=client_credentials&scope=check-status").await;
    assert_eq!(m2m.status, StatusCode::OK);
    let m2m = text(&m2m.body, "access_token");
    assert_eq!(app.api(Method::GET, "/api/m2m", &m2m).await, StatusCode::OK);
    assert_eq!(app.api(Method::GET, "/api/orders", &m2m).await, StatusCode::OK);

    // 2. the password grant for the demo user
    let form = format!(
        "grant_type=password&username={}&password={}&scope=read-posts+write-posts",
        form_urlencoded::byte_serialize(app.config.username.as_bytes()).collect::<String>(),
        form_urlencoded::byte_serialize(app.config.password.as_bytes()).collect::<String>()
    );
    let tokens = app.token(&form).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert_eq!(text(&tokens.body, "scope"), "read-posts write-posts");
    let (access, refresh) = (text(&tokens.body, "access_token"), text(&tokens.body, "refresh_token"));
    assert_eq!(app.api(Method::GET, "/api/user", &access).await, StatusCode::OK);
    assert_eq!(app.api(Method::GET, "/api/posts", &access).await, StatusCode::OK);
    assert_eq!(app.api(Method::DELETE, "/api/posts/1", &access).await, StatusCode::FORBIDDEN);
    assert_eq!(app.api(Method::GET, "/api/m2m", &access).await, StatusCode::FORBIDDEN);

    // 3. refresh: the old access token is revoked, the new one works
    let renewed = app.token(&format!("grant_type=refresh_token&refresh_token={refresh}")).await;
    assert_eq!(renewed.status, StatusCode::OK);
    let new_access = text(&renewed.body, "access_token");
    assert_ne!(text(&renewed.body, "refresh_token"), refresh);
    assert_eq!(app.api(Method::GET, "/api/user", &access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(app.api(Method::GET, "/api/user", &new_access).await, StatusCode::OK);

    // 4. reuse of the old refresh token, past the race window (3 s, in which a repeat is a
    //    second tab that lost the race and changes nothing), kills the family
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let reuse = app.token(&format!("grant_type=refresh_token&refresh_token={refresh}")).await;
    assert_eq!(reuse.status, StatusCode::BAD_REQUEST);
    assert_eq!(text(&reuse.body, "error"), "invalid_grant");
    assert_eq!(app.api(Method::GET, "/api/user", &new_access).await, StatusCode::UNAUTHORIZED);

    // 5. introspect and revoke
    let introspect = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{}/oauth/introspect", app.addr))
        .header("authorization", app.basic())
        .header("content-type", "application/x-www-form-urlencoded");
    let answer = app.send(introspect, &format!("token={m2m}")).await;
    assert_eq!(answer.body["active"], true);
    assert_eq!(answer.body["client_id"], app.config.client_id.as_str());
    let revoke = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{}/oauth/revoke", app.addr))
        .header("authorization", app.basic())
        .header("content-type", "application/x-www-form-urlencoded");
    assert_eq!(app.send(revoke, &format!("token={m2m}")).await.status, StatusCode::OK);
    assert_eq!(app.api(Method::GET, "/api/m2m", &m2m).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_demo_api_names_its_issuer_and_takes_tokens_for_its_resource() {
    let app = start().await;
    let api = demo::quickstart::api_resource(&app.config);
    assert_eq!(api, format!("http://{}/api", app.addr));

    // The 401 names the API's RFC 9728 metadata, which names this issuer.
    let response = app
        .client
        .request(
            Request::get(format!("http://{}/api/user", app.addr)).body(Full::default()).expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"].to_str().expect("ascii").to_owned();
    let metadata_url = format!("http://{}/.well-known/oauth-protected-resource/api", app.addr);
    assert_eq!(challenge, format!(r#"Bearer realm="demo", resource_metadata="{metadata_url}""#));
    let metadata = app.send(Request::get(&metadata_url), "").await;
    assert_eq!(metadata.status, StatusCode::OK);
    assert_eq!(metadata.body["resource"], api.as_str());
    assert_eq!(metadata.body["authorization_servers"], serde_json::json!([app.config.issuer]));
    // The guard takes DPoP: the metadata names its proof algorithms, as its challenges do.
    assert_eq!(
        metadata.body["dpop_signing_alg_values_supported"],
        serde_json::json!(["ES256", "ES384", "EdDSA", "RS256", "PS256"])
    );
    assert_eq!(metadata.body["bearer_methods_supported"], serde_json::json!(["header"]));

    // A token for the API's resource (RFC 8707) names it alone, and opens the API.
    let resource: String = form_urlencoded::byte_serialize(api.as_bytes()).collect();
    let tokens =
        app.token(&format!("grant_type=client_credentials&scope=check-status&resource={resource}")).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    let token = text(&tokens.body, "access_token");
    let claims = token.split('.').nth(1).expect("claims");
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).expect("b64"),
    )
    .expect("json");
    assert_eq!(claims["aud"], api.as_str());
    assert_eq!(app.api(Method::GET, "/api/orders", &token).await, StatusCode::OK);
    // Another resource is refused.
    let other = app.token("grant_type=client_credentials&resource=https%3A%2F%2Felsewhere.example.com").await;
    assert_eq!(
        (other.status, other.body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_target"))
    );
}

#[tokio::test]
async fn personal_access_tokens_work_in_the_quickstart() {
    let app = start().await;
    let form = format!(
        "grant_type=password&username={}&password={}&scope=read-posts",
        form_urlencoded::byte_serialize(app.config.username.as_bytes()).collect::<String>(),
        form_urlencoded::byte_serialize(app.config.password.as_bytes()).collect::<String>()
    );
    let access = text(&app.token(&form).await.body, "access_token");
    let create = Request::builder()
        .method(Method::POST)
        .uri(format!("http://{}/oauth/personal-access-tokens", app.addr))
        .header("authorization", format!("Bearer {access}"))
        .header("content-type", "application/json");
    let created = app.send(create, r#"{"name":"cli","scopes":["read-posts"]}"#).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let personal = text(&created.body, "accessToken");
    assert_eq!(app.api(Method::GET, "/api/posts", &personal).await, StatusCode::OK);
}

#[tokio::test]
async fn wrong_demo_credentials_are_refused() {
    let app = start().await;
    let bad = app.token("grant_type=password&username=taylor%40example.com&password=nope").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(text(&bad.body, "error"), "invalid_grant");
    let jwks =
        app.send(Request::builder().uri(format!("http://{}/.well-known/jwks.json", app.addr)), "").await;
    assert_eq!(jwks.body["keys"].as_array().map(Vec::len), Some(1));
}

#[test]
fn the_printed_walkthrough_holds_when_pasted_as_one_block() {
    for tool in ["bash", "curl", "jq"] {
        let found =
            std::process::Command::new(tool).arg("--version").output().is_ok_and(|out| out.status.success());
        if !found {
            let reason = format!("{tool} is not installed (apt-get install curl jq)");
            let _: Option<()> = tools::unavailable("the printed walkthrough", reason);
            return;
        }
    }
    // The default store, `sqlite://quickstart.db`, in a folder of this test's own.
    let dir =
        std::env::temp_dir().join(format!("passport-walkthrough-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let mut node = process::QuickstartProcess::start(&[("BIND", "127.0.0.1:0")], Some(&dir));
    let banner = node.banner(process::START).expect("the quickstart starts");
    assert_eq!(process::banner_field(&banner, "store"), "sqlite://quickstart.db", "the default store");
    assert!(dir.join("quickstart.db").exists());
    assert!(
        banner
            .iter()
            .any(|line| line
                .contains("Once you exchanged the code, opening the same URL again skips the screen")),
        "the banner says when the screen is skipped: {banner:#?}"
    );

    // Everything from step 0 to the last line before "Ctrl-C", as printed.
    let first = banner.iter().position(|line| line.starts_with("# 0.")).expect("step 0");
    let checked =
        walkthrough::run_and_check(&banner[first..banner.len() - 1]).unwrap_or_else(|why| panic!("{why}"));
    assert!(checked >= 10, "every step's lines are checked ({checked})");
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_walkthrough_check_reads_statuses_and_codes() {
    let unauthorized =
        "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer error=\"invalid_token\"\r\n\r\n";
    assert!(walkthrough::shows(unauthorized, "401: the family died").is_ok());
    assert!(walkthrough::shows(unauthorized, "200").is_err());
    let forbidden = "HTTP/1.1 403 Forbidden\r\nwww-authenticate: Bearer error=\"insufficient_scope\"\r\n";
    assert!(walkthrough::shows(forbidden, "403 insufficient_scope: admin is not").is_ok());
    assert!(walkthrough::shows(unauthorized, "403 insufficient_scope").is_err());
    assert!(walkthrough::shows(r#"{"active":true,"scope":"x"}"#, r#""active":true"#).is_ok());
    assert!(walkthrough::shows(r#"{"active":false}"#, r#""active":true"#).is_err());
    assert!(walkthrough::shows(r#"{"error":"invalid_request"}"#, "invalid_grant").is_err());
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

/// A configuration for `listening` from `vars` only (not this process's environment), on
/// the memory store unless `vars` names one, with quick password hashing.
fn config_of(listening: SocketAddr, vars: &[(&str, &str)]) -> QuickstartConfig {
    let lookup = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned());
    let mut config = QuickstartConfig::from_vars(listening, lookup).expect("config");
    config.password_iterations = 1_000;
    if lookup("PASSPORT_STORE").is_none() {
        config.store = "memory".into();
    }
    config
}

/// Serves `config`'s quickstart on `listener`.
async fn serve(listener: tokio::net::TcpListener, config: &QuickstartConfig) -> demo::quickstart::Quickstart {
    let node = build(config).await.expect("the quickstart starts");
    let app = node.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    node
}

#[tokio::test]
async fn a_container_bind_on_every_interface_gets_a_loopback_issuer() {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.expect("bind");
    let listening = listener.local_addr().expect("addr");
    let config = config_of(listening, &[]);
    assert_eq!(config.issuer, format!("http://127.0.0.1:{}", listening.port()), "never 0.0.0.0");
    assert!(config.notes.iter().any(|note| note.contains("PASSPORT_ISSUER")), "{:?}", config.notes);
    let v6 = config_of("[::]:8080".parse().expect("addr"), &[]);
    assert_eq!(
        (v6.issuer.as_str(), v6.demo_app.redirect_uri.as_str()),
        ("http://[::1]:8080", "http://[::1]:8080/demo-app/callback")
    );
    let node = serve(listener, &config).await;
    assert_eq!(node.issuer.issuer_url(), config.issuer);
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let jwks = Request::get(format!("{}/.well-known/jwks.json", config.issuer))
        .body(Full::default())
        .expect("request");
    assert_eq!(client.request(jwks).await.expect("the issuer URL answers").status(), StatusCode::OK);
}

#[test]
fn a_container_bind_starts_the_quickstart_process_with_a_loopback_issuer() {
    let dir =
        std::env::temp_dir().join(format!("passport-container-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let mut node = process::QuickstartProcess::start(&[("BIND", "0.0.0.0:0")], Some(&dir));
    let banner = node.banner(process::START).expect("the quickstart starts on 0.0.0.0");
    let issuer = process::banner_field(&banner, "issuer");
    let url = process::listening_url(&banner);
    assert!(issuer.starts_with("http://127.0.0.1:") && issuer == url, "{issuer} {url}");
    assert!(
        banner.iter().any(|line| line.starts_with("  note") && line.contains("PASSPORT_ISSUER")),
        "{banner:#?}"
    );
    let jwks = process::http("GET", &format!("{issuer}/.well-known/jwks.json"), &[], "");
    assert_eq!(jwks.map(|(status, _)| status), Some(200));
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_container_issuer_url_gets_a_loopback_demo_callback() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let listening = listener.local_addr().expect("addr");
    let config = config_of(listening, &[("PASSPORT_ISSUER", "http://auth.local")]);
    let callback = format!("http://{listening}/demo-app/callback");
    assert_eq!(config.demo_app.redirect_uri, callback, "not on http://auth.local, which is no redirect URI");
    assert!(config.notes.iter().any(|note| note.contains("DEMO_APP_REDIRECT_URI")), "{:?}", config.notes);
    let node = serve(listener, &config).await;
    assert_eq!(node.issuer.issuer_url(), "http://auth.local");
    assert_eq!(node.demo_app_redirect_uri, callback);
    // An https issuer keeps the callback on its own origin.
    let https = config_of(listening, &[("PASSPORT_ISSUER", "https://auth.example.com/")]);
    assert_eq!(https.demo_app.redirect_uri, "https://auth.example.com/demo-app/callback");
    assert!(https.notes.is_empty(), "{:?}", https.notes);
}

#[tokio::test]
async fn a_bad_demo_app_redirect_uri_is_blamed_on_its_variable() {
    let listening: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let config = config_of(listening, &[("DEMO_APP_REDIRECT_URI", "http://auth.local/callback")]);
    let Err(error) = build(&config).await else { panic!("a plain-http redirect URI is refused") };
    let message = error.to_string();
    assert!(message.contains("DEMO_APP_REDIRECT_URI=http://auth.local/callback"), "{message}");
    assert!(message.contains("cannot be a redirect URI"), "{message}");
}

/// A fresh SQLite store URL, and its files to remove.
fn temp_store() -> (String, Vec<std::path::PathBuf>) {
    let db = std::env::temp_dir().join(format!("passport-seed-{}-{}.db", std::process::id(), rand_suffix()));
    let files =
        ["", "-wal", "-shm"].map(|suffix| std::path::PathBuf::from(format!("{}{suffix}", db.display())));
    (format!("sqlite://{}", db.display()), files.to_vec())
}

#[tokio::test]
async fn a_revoked_demo_client_stays_revoked_after_a_restart() {
    use tower_passport_issuer::store::ClientStore;
    let (store, files) = temp_store();
    let listening: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let config = config_of(listening, &[("PASSPORT_STORE", &store)]);
    let first = build(&config).await.expect("first start");
    assert!(first.issuer.revoke_client("demo-app").await.expect("revoke"));
    drop(first);
    let restarted = build(&config).await.expect("restart");
    let stored = restarted.issuer.store().client("demo-app").await.expect("store").expect("the demo app");
    assert!(stored.revoked, "a restart does not un-revoke it");
    assert!(restarted.seed_conflicts.is_empty(), "{:?}", restarted.seed_conflicts);
    for file in files {
        let _ = std::fs::remove_file(file);
    }
}

#[tokio::test]
async fn a_second_node_with_other_demo_app_settings_changes_nothing_and_says_so() {
    use tower_passport_issuer::store::ClientStore;
    let (store, files) = temp_store();
    let listening: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let first = build(&config_of(listening, &[("PASSPORT_STORE", &store)])).await.expect("first node");
    let before = first.issuer.store().client("demo-app").await.expect("store").expect("the demo app");
    let elsewhere = "http://127.0.0.1:9/elsewhere";
    let secret = "another-demo-app-secret-0123456789-abc";
    let second_config = config_of(
        listening,
        &[
            ("PASSPORT_STORE", &store),
            ("DEMO_APP_REDIRECT_URI", elsewhere),
            ("DEMO_APP_CLIENT_SECRET", secret),
        ],
    );
    let second = build(&second_config).await.expect("the second node starts");
    let after = second.issuer.store().client("demo-app").await.expect("store").expect("the demo app");
    assert_eq!(after.redirect_uris, before.redirect_uris, "the stored redirect URI stays");
    let stored_secret = "demo-app-secret-0123456789-abcdefghij";
    assert!(second.issuer.authenticate_client("demo-app", Some(stored_secret)).await.is_ok());
    assert!(second.issuer.authenticate_client("demo-app", Some(secret)).await.is_err(), "not applied");
    assert_eq!(second.demo_app_redirect_uri, before.redirect_uris[0], "the one in force");
    let reported: Vec<(&str, &str, bool)> =
        second.seed_conflicts.iter().map(|c| (c.client_id.as_str(), c.field, c.variable.set)).collect();
    assert_eq!(reported, [("demo-app", "secret", true), ("demo-app", "redirect URI", true)]);
    let lines: Vec<String> = second.seed_conflicts.iter().map(ToString::to_string).collect();
    assert!(lines[0].contains("DEMO_APP_CLIENT_SECRET") && !lines[0].contains(secret), "{}", lines[0]);
    assert!(lines[1].contains("DEMO_APP_REDIRECT_URI") && lines[1].contains(elsewhere), "{}", lines[1]);
    for file in files {
        let _ = std::fs::remove_file(file);
    }
}

#[test]
fn the_banner_prints_a_store_url_without_its_password() {
    use demo::config::without_password;
    assert_eq!(
        without_password("postgres://app:s3cret@db:5432/passport"),
        "postgres://app:***@db:5432/passport"
    );
    assert_eq!(without_password("redis://:s3cret@cache:6379/0"), "redis://:***@cache:6379/0");
    assert_eq!(
        without_password("postgres://postgres@127.0.0.1:5432/test"),
        "postgres://postgres@127.0.0.1:5432/test"
    );
    assert_eq!(without_password("sqlite://quickstart.db"), "sqlite://quickstart.db");
}

#[test]
fn the_two_examples_default_to_different_ports() {
    assert_ne!(demo::serve::QUICKSTART_BIND, demo::serve::RESOURCE_SERVER_BIND);
}

#[test]
fn the_revocation_cache_capacity_is_read_and_a_bad_one_is_named() {
    let listening: SocketAddr = "127.0.0.1:8000".parse().expect("an address");
    assert_eq!(config_of(listening, &[]).revocation_cache_capacity, 100_000);
    let set = config_of(listening, &[("PASSPORT_REVOCATION_CACHE_CAPACITY", "5000")]);
    assert_eq!(set.revocation_cache_capacity, 5_000);
    for bad in ["0", "-1", "lots"] {
        let lookup = |name: &str| (name == "PASSPORT_REVOCATION_CACHE_CAPACITY").then(|| bad.to_owned());
        let error = QuickstartConfig::from_vars(listening, lookup).expect_err(bad);
        assert!(error.to_string().contains("PASSPORT_REVOCATION_CACHE_CAPACITY"), "{bad}: {error}");
    }
}
