//! Passport's clients JSON API, and access to every JSON API (clients, personal access
//! tokens, authorized tokens) through the app's session (the `SignedInUser` hook, with an
//! `X-CSRF-TOKEN` for calls that change something) as well as first-party bearer tokens.
//! Mounted as the docs mount them: behind an optional guard, in axum.

use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::{BackendError, GuardLayer};
use tower_passport_issuer::endpoint::{OAuthRoutes, OAuthServer, SignIn, SignInRequest};
use tower_passport_issuer::store::{ClientStore, GrantType, MemoryStore};
use tower_passport_issuer::{
    ClientRegistration, Issuer, IssuerBuilder, IssuerErrorKind, ScopeRegistry, StaticUsers, TokenRequest,
};

const ISSUER: &str = "https://auth.test";

/// The app's session, as the test's hook reads it: a `session=<user>` cookie.
fn session_hook(
    request: &SignInRequest<'_>,
) -> impl std::future::Future<Output = Result<SignIn, BackendError>> {
    let user = request
        .parts()
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .find_map(|cookie| cookie.trim().strip_prefix("session=").map(str::to_owned));
    async move { Ok(user.map_or_else(|| SignIn::Redirect("/login".into()), SignIn::User)) }
}

fn builder() -> IssuerBuilder {
    Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
        .audience("api")
        .scopes(ScopeRegistry::new().scope("read", "Read").scope("write", "Write"))
        .enable_password_grant(
            StaticUsers::new(1_000)
                .user("ann", "ann-password", "7")
                .and_then(|u| u.user("bob", "bob-password", "8"))
                .expect("users"),
        )
}

struct App {
    issuer: Issuer,
    oauth: OAuthRoutes,
    router: Router,
}

/// The three JSON APIs, each mounted alone behind the optional guard.
fn mount(server: OAuthServer) -> App {
    let oauth = server.build();
    let issuer = oauth.issuer().clone();
    let guard = GuardLayer::builder(issuer.verifier())
        .revocation(issuer.revocation_list())
        .resolver(issuer.resolver(tower_passport::guard::TokenOnly))
        .optional()
        .build()
        .expect("guard");
    let clients = ServiceBuilder::new().layer(guard.clone()).service(oauth.clients());
    let personal = ServiceBuilder::new().layer(guard.clone()).service(oauth.personal_access_tokens());
    let tokens = ServiceBuilder::new().layer(guard).service(oauth.authorized_tokens());
    let router = Router::new()
        .route_service("/oauth/clients", clients.clone())
        .route_service("/oauth/clients/{*rest}", clients)
        .route_service("/oauth/personal-access-tokens", personal.clone())
        .route_service("/oauth/personal-access-tokens/{id}", personal)
        .route_service("/oauth/tokens", tokens.clone())
        .route_service("/oauth/tokens/{id}", tokens);
    App { issuer, oauth, router }
}

fn app() -> App {
    mount(OAuthServer::new(builder().build().expect("issuer")).sign_in(session_hook))
}

/// How a request is authenticated.
#[derive(Clone, Copy)]
enum As<'a> {
    /// The session of this user, with this CSRF token (if any).
    Session(&'a str, Option<&'a str>),
    /// A bearer token.
    Bearer(&'a str),
    Nobody,
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Value,
}

impl App {
    async fn call(&self, who: As<'_>, method: Method, path: &str, body: Option<&str>) -> Answer {
        let mut request = Request::builder().method(method).uri(path);
        match who {
            As::Session(user, csrf) => {
                request = request.header("cookie", format!("theme=dark; session={user}"));
                if let Some(csrf) = csrf {
                    request = request.header("x-csrf-token", csrf);
                }
            }
            As::Bearer(token) => request = request.header("authorization", format!("Bearer {token}")),
            As::Nobody => {}
        }
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(Body::from(body.unwrap_or_default().to_owned())).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
        Answer { status, headers, body }
    }

    /// A CSRF token for `user`'s session.
    async fn csrf(&self, user: &str) -> String {
        self.oauth.session_csrf_token(user).await.expect("csrf token")
    }

    /// Creates a client for `user` through the session; its JSON.
    async fn create(&self, user: &str, body: Value) -> Value {
        let csrf = self.csrf(user).await;
        let created = self
            .call(As::Session(user, Some(&csrf)), Method::POST, "/oauth/clients", Some(&body.to_string()))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        created.body
    }

    /// A first-party (or not) client's password-grant access token for `username`.
    async fn bearer(&self, first_party: bool, username: &str, password: &str) -> String {
        let registration = ClientRegistration::confidential(if first_party { "Web" } else { "Other" })
            .first_party(first_party)
            .grants([GrantType::Password]);
        let registered = self.issuer.register_client(registration).await.expect("client");
        let secret = registered.secret.as_ref().map(|s| s.expose());
        let client = self.issuer.authenticate_client(&registered.client.id, secret).await.expect("auth");
        self.issuer
            .grant(TokenRequest::password(client.clone(), username, password))
            .await
            .expect("grant")
            .access_token
    }
}

const PRINTER: &str = "https://printer.example.com/callback";

// ---- the clients API ------------------------------------------------------------------

#[tokio::test]
async fn a_user_registers_a_confidential_client_and_sees_its_secret_once() {
    let app = app();
    let created = app.create("7", json!({ "name": "Photo printer", "redirect": PRINTER })).await;
    assert_eq!(created["name"], "Photo printer");
    assert_eq!(created["user_id"], "7");
    assert_eq!(created["redirect"], PRINTER);
    assert_eq!(created["redirect_uris"], json!([PRINTER]));
    assert_eq!(created["confidential"], true);
    assert_eq!(created["first_party"], false);
    assert!(
        created.get("skips_authorization").is_none(),
        "Passport does not show it (a method, not a column)"
    );
    assert_eq!(created["revoked"], false);
    let id = created["id"].as_str().expect("id");
    let secret = created["secret"].as_str().expect("the secret, this once");

    // The client is real: it authenticates with the secret, and may run the browser flow.
    let client = app.issuer.authenticate_client(id, Some(secret)).await.expect("authenticates");
    assert!(
        client.allows_grant(GrantType::AuthorizationCode) && client.allows_grant(GrantType::RefreshToken)
    );
    assert_eq!(client.owner.as_deref(), Some("7"));

    // Never shown again: not in the list, not in the client.
    let listed = app.call(As::Session("7", None), Method::GET, "/oauth/clients", None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert_eq!(listed.body[0]["id"], id);
    assert!(listed.body[0].get("secret").is_none());
    assert!(!listed.body.to_string().contains(secret));
    let one = app.call(As::Session("7", None), Method::GET, &format!("/oauth/clients/{id}"), None).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["name"], "Photo printer");
    assert!(one.body.get("secret").is_none());
}

#[tokio::test]
async fn a_public_client_has_no_secret_and_several_redirect_uris_are_taken_as_passport_takes_them() {
    let app = app();
    let list = format!("{PRINTER},http://127.0.0.1/cb");
    let created = app.create("7", json!({ "name": "SPA", "redirect": list, "confidential": false })).await;
    assert_eq!(created["confidential"], false);
    assert!(created.get("secret").is_none());
    assert_eq!(created["redirect_uris"], json!([PRINTER, "http://127.0.0.1/cb"]));
    let array = app.create("7", json!({ "name": "App", "redirect": [PRINTER, "com.example.app:/cb"] })).await;
    assert_eq!(array["redirect"], format!("{PRINTER},com.example.app:/cb"));
    let id = created["id"].as_str().expect("id");
    assert!(app.issuer.authenticate_client(id, None).await.is_ok(), "a public client");
}

#[tokio::test]
async fn only_the_owner_sees_edits_regenerates_or_deletes_a_client() {
    let app = app();
    let created = app.create("7", json!({ "name": "Ann's app", "redirect": PRINTER })).await;
    let id = created["id"].as_str().expect("id");
    let path = format!("/oauth/clients/{id}");
    let secret_path = format!("{path}/secret");
    let csrf = app.csrf("8").await;
    let bob = As::Session("8", Some(&csrf));
    let edit = json!({ "name": "Bob's now", "redirect": PRINTER }).to_string();

    let listed = app.call(bob, Method::GET, "/oauth/clients", None).await;
    assert_eq!(listed.body, json!([]), "not in another user's list");
    assert_eq!(app.call(bob, Method::GET, &path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(bob, Method::PUT, &path, Some(&edit)).await.status, StatusCode::NOT_FOUND);
    // Even with fields that fail validation: the answer does not tell that the id exists.
    assert_eq!(
        app.call(bob, Method::PUT, &path, Some(r#"{"name": ""}"#)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.call(bob, Method::POST, &secret_path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(bob, Method::DELETE, &path, None).await.status, StatusCode::NOT_FOUND);
    // Nothing changed.
    let stored = app.issuer.store().client(id).await.expect("store").expect("client");
    assert_eq!(stored.name, "Ann's app");
    assert!(!stored.revoked);
    let old_secret = created["secret"].as_str().expect("secret");
    assert!(app.issuer.authenticate_client(id, Some(old_secret)).await.is_ok());
    // An unknown id is the same 404.
    let unknown = app.call(bob, Method::GET, "/oauth/clients/no-such-client", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_owner_edits_a_client() {
    let app = app();
    let created = app.create("7", json!({ "name": "App", "redirect": PRINTER })).await;
    let path = format!("/oauth/clients/{}", created["id"].as_str().expect("id"));
    let csrf = app.csrf("7").await;
    let ann = As::Session("7", Some(&csrf));
    let edit = json!({ "name": "App v2", "redirect": "https://app.example.com/a,https://app.example.com/b" });
    let edited = app.call(ann, Method::PUT, &path, Some(&edit.to_string())).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(edited.body["name"], "App v2");
    assert_eq!(
        edited.body["redirect_uris"],
        json!(["https://app.example.com/a", "https://app.example.com/b"])
    );
    assert!(edited.body.get("secret").is_none());
    let stored = app.call(ann, Method::GET, &path, None).await;
    assert_eq!(stored.body["redirect"], "https://app.example.com/a,https://app.example.com/b");
    assert_eq!(stored.body["confidential"], true, "confidentiality is not editable");
}

#[tokio::test]
async fn a_regenerated_secret_replaces_the_old_one_and_is_shown_once() {
    let app = app();
    let created = app.create("7", json!({ "name": "App", "redirect": PRINTER })).await;
    let id = created["id"].as_str().expect("id");
    let old = created["secret"].as_str().expect("secret");
    let csrf = app.csrf("7").await;
    let regenerated = app
        .call(As::Session("7", Some(&csrf)), Method::POST, &format!("/oauth/clients/{id}/secret"), None)
        .await;
    assert_eq!(regenerated.status, StatusCode::OK);
    let new = regenerated.body["secret"].as_str().expect("the new secret");
    assert_ne!(new, old);
    assert!(app.issuer.authenticate_client(id, Some(new)).await.is_ok());
    assert!(app.issuer.authenticate_client(id, Some(old)).await.is_err(), "the old secret stops at once");

    let public = app.create("7", json!({ "name": "SPA", "redirect": PRINTER, "confidential": false })).await;
    let path = format!("/oauth/clients/{}/secret", public["id"].as_str().expect("id"));
    let refused = app.call(As::Session("7", Some(&csrf)), Method::POST, &path, None).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body["errors"]["secret"].is_array());
}

#[tokio::test]
async fn a_deleted_client_is_gone_and_gets_no_more_tokens() {
    let app = app();
    let created = app.create("7", json!({ "name": "App", "redirect": PRINTER })).await;
    let id = created["id"].as_str().expect("id");
    let secret = created["secret"].as_str().expect("secret");
    let path = format!("/oauth/clients/{id}");
    let csrf = app.csrf("7").await;
    let ann = As::Session("7", Some(&csrf));
    let deleted = app.call(ann, Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.call(ann, Method::GET, &path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(ann, Method::DELETE, &path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(ann, Method::GET, "/oauth/clients", None).await.body, json!([]));
    assert!(app.issuer.authenticate_client(id, Some(secret)).await.is_err(), "revoked");
}

#[tokio::test]
async fn fields_that_fail_validation_answer_422_with_laravels_shape() {
    let app = app();
    let csrf = app.csrf("7").await;
    let ann = As::Session("7", Some(&csrf));
    let long = "n".repeat(256);
    for (body, fields) in [
        (json!({ "redirect": PRINTER }), vec!["name"]),
        (json!({ "name": "  ", "redirect": PRINTER }), vec!["name"]),
        (json!({ "name": long, "redirect": PRINTER }), vec!["name"]),
        (json!({ "name": "App" }), vec!["redirect"]),
        (json!({ "name": "App", "redirect": "" }), vec!["redirect"]),
        (json!({ "name": "App", "redirect": "http://printer.example.com/cb" }), vec!["redirect"]),
        (json!({ "name": "App", "redirect": "https://printer.example.com/cb#x" }), vec!["redirect"]),
        (json!({ "name": "App", "redirect": "/relative" }), vec!["redirect"]),
        (json!({}), vec!["name", "redirect"]),
    ] {
        let answer = app.call(ann, Method::POST, "/oauth/clients", Some(&body.to_string())).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(answer.body["message"].is_string(), "{body}");
        let mut named: Vec<&str> =
            answer.body["errors"].as_object().expect("errors").keys().map(String::as_str).collect();
        named.sort_unstable();
        assert_eq!(named, fields, "{body}");
    }
    // 255 characters (not bytes) is fine.
    app.create("7", json!({ "name": "é".repeat(255), "redirect": PRINTER })).await;

    let created = app.create("7", json!({ "name": "App", "redirect": PRINTER })).await;
    let path = format!("/oauth/clients/{}", created["id"].as_str().expect("id"));
    let answer = app.call(ann, Method::PUT, &path, Some(r#"{"name": "", "redirect": "ftp://x"}"#)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body["errors"]["name"].is_array() && answer.body["errors"]["redirect"].is_array());
    assert_eq!(app.call(ann, Method::GET, &path, None).await.body["name"], "App", "nothing changed");
}

#[tokio::test]
async fn bodies_are_parsed_strictly() {
    let app = app();
    let csrf = app.csrf("7").await;
    let ann = As::Session("7", Some(&csrf));
    for body in [
        r#"{"name": "App", "redirect": "https://printer.example.com/cb", "first_party": true}"#,
        r#"{"name": "App", "redirect": "https://printer.example.com/cb", "skips_authorization": true}"#,
        r#"{"name": "App", "redirect": "https://printer.example.com/cb", "user_id": "8"}"#,
        r#"{"name": 5, "redirect": "https://printer.example.com/cb"}"#,
        r#"{"name": "App", "redirect": "https://printer.example.com/cb", "confidential": "yes"}"#,
        r#"{"name": "App", "redirect": 7}"#,
        r#"["App"]"#,
        "not json",
    ] {
        let answer = app.call(ann, Method::POST, "/oauth/clients", Some(body)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.body["error"], "invalid_request", "{body}");
    }
    // Not declared as JSON.
    let request = Request::post("/oauth/clients")
        .header("cookie", "session=7")
        .header("x-csrf-token", &csrf)
        .header("content-type", "text/plain")
        .body(Body::from(r#"{"name": "App", "redirect": "https://printer.example.com/cb"}"#))
        .expect("request");
    let response = app.router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        app.call(ann, Method::GET, "/oauth/clients", None).await.body,
        json!([]),
        "nothing registered"
    );
    // Methods the routes do not serve.
    let patch = app.call(ann, Method::PATCH, "/oauth/clients", None).await;
    assert_eq!(patch.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(patch.headers["allow"], "GET, POST");
}

// ---- access: the session, its CSRF token, and bearer tokens ------------------------------

#[tokio::test]
async fn a_session_call_that_changes_something_needs_the_csrf_header() {
    let app = app();
    let body = json!({ "name": "App", "redirect": PRINTER }).to_string();
    let without = app.call(As::Session("7", None), Method::POST, "/oauth/clients", Some(&body)).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    assert_eq!(without.body["message"], "CSRF token mismatch.");
    let bobs = app.csrf("8").await;
    let other_user =
        app.call(As::Session("7", Some(&bobs)), Method::POST, "/oauth/clients", Some(&body)).await;
    assert_eq!(other_user.status, StatusCode::FORBIDDEN, "a token is bound to its user");
    let mut tampered = app.csrf("7").await;
    tampered.push('A');
    let tampered =
        app.call(As::Session("7", Some(&tampered)), Method::POST, "/oauth/clients", Some(&body)).await;
    assert_eq!(tampered.status, StatusCode::FORBIDDEN);
    assert_eq!(app.call(As::Session("7", None), Method::GET, "/oauth/clients", None).await.body, json!([]));

    // The token a session GET answers with works for the next change.
    let listed = app.call(As::Session("7", None), Method::GET, "/oauth/clients", None).await;
    let csrf = listed.headers["x-csrf-token"].to_str().expect("token").to_owned();
    let created = app.call(As::Session("7", Some(&csrf)), Method::POST, "/oauth/clients", Some(&body)).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let path = format!("/oauth/clients/{}", created.body["id"].as_str().expect("id"));
    let put = app.call(As::Session("7", None), Method::PUT, &path, Some(&body)).await;
    assert_eq!(put.status, StatusCode::FORBIDDEN);
    let delete = app.call(As::Session("7", None), Method::DELETE, &path, None).await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    let secret = app.call(As::Session("7", None), Method::POST, &format!("{path}/secret"), None).await;
    assert_eq!(secret.status, StatusCode::FORBIDDEN);
    assert_eq!(app.call(As::Session("7", None), Method::GET, &path, None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn first_party_bearer_tokens_need_no_csrf_header_and_third_party_ones_are_refused() {
    let app = app();
    let token = app.bearer(true, "ann", "ann-password").await;
    let body = json!({ "name": "App", "redirect": PRINTER }).to_string();
    let created = app.call(As::Bearer(&token), Method::POST, "/oauth/clients", Some(&body)).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["user_id"], "7");
    assert!(created.headers.get("x-csrf-token").is_none(), "no session, no token");
    let listed = app.call(As::Session("7", None), Method::GET, "/oauth/clients", None).await;
    assert_eq!(listed.body[0]["id"], created.body["id"], "the same user's clients either way");

    let third_party = app.bearer(false, "ann", "ann-password").await;
    let refused = app.call(As::Bearer(&third_party), Method::GET, "/oauth/clients", None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.headers["www-authenticate"].to_str().expect("challenge").contains("insufficient_scope"));

    let bad = app.call(As::Bearer("not-a-token"), Method::GET, "/oauth/clients", None).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED, "a bad token does not fall back to the session");
}

#[tokio::test]
async fn nobody_signed_in_is_401() {
    let app = app();
    for path in ["/oauth/clients", "/oauth/personal-access-tokens", "/oauth/tokens"] {
        let answer = app.call(As::Nobody, Method::GET, path, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(answer.headers.contains_key("www-authenticate"), "{path}");
    }
}

#[tokio::test]
async fn without_the_session_hook_only_tokens_get_in() {
    // No authorization code grant, so no hook: the session cookie means nothing.
    let app = mount(OAuthServer::new(builder().build().expect("issuer")));
    let answer = app.call(As::Session("7", None), Method::GET, "/oauth/clients", None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let refused = app.oauth.session_csrf_token("7").await.expect_err("no session hook");
    assert_eq!(refused.kind(), IssuerErrorKind::Config, "{refused:?}");
    let token = app.bearer(true, "ann", "ann-password").await;
    assert_eq!(
        app.call(As::Bearer(&token), Method::GET, "/oauth/clients", None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_personal_access_token_api_accepts_the_session() {
    let app = app();
    let listed = app.call(As::Session("7", None), Method::GET, "/oauth/personal-access-tokens", None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body, json!([]));
    let body = json!({ "name": "cli", "scopes": ["read"] }).to_string();
    let refused =
        app.call(As::Session("7", None), Method::POST, "/oauth/personal-access-tokens", Some(&body)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let csrf = listed.headers["x-csrf-token"].to_str().expect("token").to_owned();
    let created = app
        .call(As::Session("7", Some(&csrf)), Method::POST, "/oauth/personal-access-tokens", Some(&body))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let token = created.body["accessToken"].as_str().expect("token");
    let verified = app.issuer.verifier().verify(token).expect("a token of this issuer");
    assert_eq!(verified.subject(), Some("7"));
    let id = created.body["token"]["id"].as_str().expect("id");

    let path = format!("/oauth/personal-access-tokens/{id}");
    assert_eq!(
        app.call(As::Session("7", None), Method::DELETE, &path, None).await.status,
        StatusCode::FORBIDDEN
    );
    let revoked = app.call(As::Session("7", Some(&csrf)), Method::DELETE, &path, None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_authorized_tokens_api_accepts_the_session() {
    let app = app();
    let token = app.bearer(true, "ann", "ann-password").await;
    let listed = app.call(As::Session("7", None), Method::GET, "/oauth/tokens", None).await;
    assert_eq!(listed.status, StatusCode::OK);
    let client_id = listed.body[0]["client_id"].as_str().expect("the web client").to_owned();
    let path = format!("/oauth/tokens/{client_id}");
    assert_eq!(
        app.call(As::Session("7", None), Method::DELETE, &path, None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.call(As::Bearer(&token), Method::GET, "/oauth/tokens", None).await.status, StatusCode::OK);
    let csrf = app.csrf("7").await;
    let revoked = app.call(As::Session("7", Some(&csrf)), Method::DELETE, &path, None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(As::Bearer(&token), Method::GET, "/oauth/tokens", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn clients_survive_in_the_store_with_their_owner() {
    let app = app();
    let created = app.create("7", json!({ "name": "App", "redirect": PRINTER })).await;
    let owned = app.issuer.store().clients_owned_by("7").await.expect("store");
    assert_eq!(owned.len(), 1);
    assert_eq!(owned[0].id, created["id"].as_str().expect("id"));
    assert!(owned[0].secret_hash.as_ref().is_some_and(|hash| !hash.matches(b"")));
}
