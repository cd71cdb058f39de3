//! The authorization code grant with PKCE, end to end and in process: an axum router
//! serving the `OAuthServer`'s routes (the authorization endpoint, the approval screen, the token
//! endpoint) and an API behind the guard, driven with `oneshot`; a fake sign-in hook (the
//! user id in a header stands for the app's session); the memory store; a manual clock.
//!
//! Every error row of RFC 6749 §4.1.2.1 and §5.2 this grant can produce is here, except
//! `invalid_scope` at the token endpoint: the exchange takes no `scope`.

use crate::issuer_support as support;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use bytes::Bytes;
use http::header::{CONTENT_TYPE, LOCATION};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use support::{claims, scopes, AUDIENCE, ISSUER, NOW};
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::clock::ManualClock;
use tower_passport::{BackendError, GuardLayer, Principal};
use tower_passport_issuer::endpoint::{ApprovalContext, OAuthRoutes, OAuthServer, SignIn, SignInRequest};
use tower_passport_issuer::store::{GrantType, MemoryStore, RevocationStore};
use tower_passport_issuer::{ClientRegistration, Issuer, IssuerBuilder, IssuerEvent};

/// The fake session: who is signed in.
const USER: &str = "x-test-user";
/// The fake session's identifier, which the hook reports when present.
const SESSION: &str = "x-test-session";
/// Makes the hook fail, as a session store that is down would.
const HOOK_FAILS: &str = "x-test-hook-fails";
const SIGN_IN: &str = "https://app.auth.test/login";

/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

const WEB: &str = "web-app";
const WEB_SECRET: &str = "web-app-secret-of-at-least-32-characters";
const WEB_CALLBACK: &str = "https://web.example.com/callback";
const SPA: &str = "spa";
const SPA_CALLBACK: &str = "https://spa.example.com/cb";
const NATIVE: &str = "native";
const FIRST: &str = "first-party";
/// A confidential first-party client marked to skip the screen.
const OURS: &str = "our-web";
const OURS_SECRET: &str = "our-web-secret-of-at-least-32-characters";
const OURS_CALLBACK: &str = "https://ours.example.com/cb";
/// A public client marked to skip the screen knowingly.
const KIOSK: &str = "kiosk";
/// A confidential client registered with a loopback redirect URI.
const LOCAL_WEB: &str = "local-web";
const LOCAL_WEB_SECRET: &str = "local-web-secret-of-at-least-32-chars";
const LEGACY: &str = "legacy-web";
const LEGACY_SECRET: &str = "legacy-web-secret-of-at-least-32-chars";
const M2M: &str = "m2m";
const M2M_SECRET: &str = "m2m-secret-of-at-least-thirty-two-chars";

struct Harness {
    issuer: Issuer,
    oauth: OAuthRoutes,
    app: Router,
    clock: ManualClock,
}

/// The hook: the header is the session; `prompt=login` always goes to the sign-in page.
fn hook(request: &SignInRequest<'_>) -> impl std::future::Future<Output = Result<SignIn, BackendError>> {
    let headers = &request.parts().headers;
    let user = headers.get(USER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let session = headers.get(SESSION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let fails = headers.contains_key(HOOK_FAILS);
    let sign_in = format!("{SIGN_IN}?next={}", request.return_to_encoded());
    let reauthenticate = request.reauthenticate();
    async move {
        if fails {
            return Err(BackendError::msg("the session store is down"));
        }
        Ok(match (user, session) {
            (Some(user), Some(session)) if !reauthenticate => SignIn::user_in_session(user, session),
            (Some(user), None) if !reauthenticate => SignIn::User(user),
            _ => SignIn::Redirect(sign_in),
        })
    }
}

async fn me(request: Request<axum::body::Body>) -> Result<Response<Full<Bytes>>, Infallible> {
    let principal = request.extensions().get::<Principal>();
    let sub = principal.and_then(|p| p.subject()).unwrap_or_default().to_owned();
    Ok(Response::new(Full::new(Bytes::from(sub))))
}

fn builder(clock: &ManualClock) -> IssuerBuilder {
    Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
        .audience(AUDIENCE)
        .scopes(scopes())
        .clock(clock.clone())
}

/// The HTTP front with the sign-in hook: the authorization code flow enabled.
fn with_hook(server: OAuthServer) -> OAuthServer {
    server.sign_in(hook)
}

async fn harness_with(
    builder: IssuerBuilder,
    server: impl FnOnce(OAuthServer) -> OAuthServer,
    clock: ManualClock,
) -> Harness {
    let issuer = builder.build().expect("issuer");
    let oauth = server(OAuthServer::new(issuer.clone())).build();
    let both = [GrantType::AuthorizationCode, GrantType::RefreshToken];
    let registrations = [
        ClientRegistration::confidential("Web <b>App</b>")
            .id(WEB)
            .secret(WEB_SECRET)
            .grants(both)
            .redirect_uris([WEB_CALLBACK, "https://web.example.com/other"]),
        ClientRegistration::public("Single-page app").id(SPA).grants(both).redirect_uris([SPA_CALLBACK]),
        ClientRegistration::public("Desktop app")
            .id(NATIVE)
            .grants(both)
            .redirect_uris(["http://127.0.0.1/callback", "com.example.desktop:/oauth2redirect"]),
        ClientRegistration::public("Our own app")
            .id(FIRST)
            .grants(both)
            .first_party(true)
            .redirect_uris(["http://127.0.0.1:8000/callback"]),
        ClientRegistration::confidential("Our web app")
            .id(OURS)
            .secret(OURS_SECRET)
            .grants(both)
            .first_party(true)
            .skips_authorization(true)
            .redirect_uris([OURS_CALLBACK]),
        ClientRegistration::public("Kiosk")
            .id(KIOSK)
            .grants(both)
            .skips_authorization_even_if_public()
            .redirect_uris(["http://127.0.0.1/kiosk"]),
        ClientRegistration::confidential("Local web")
            .id(LOCAL_WEB)
            .secret(LOCAL_WEB_SECRET)
            .grants(both)
            .redirect_uris(["http://127.0.0.1:8000/callback"]),
        ClientRegistration::confidential("Legacy web")
            .id(LEGACY)
            .secret(LEGACY_SECRET)
            .grants([GrantType::AuthorizationCode])
            .require_pkce(false)
            .redirect_uris(["https://legacy.example.com/cb?tenant=blue"]),
        ClientRegistration::confidential("Machine")
            .id(M2M)
            .secret(M2M_SECRET)
            .grants([GrantType::ClientCredentials])
            .redirect_uris(["https://m2m.example.com/cb"]),
    ];
    for registration in registrations {
        issuer.register_client(registration).await.expect("register");
    }
    let guard =
        GuardLayer::builder(issuer.verifier()).revocation(issuer.revocation_list()).build().expect("guard");
    let app = Router::new()
        .route_service("/api/me", ServiceBuilder::new().layer(guard).service_fn(me))
        .fallback_service(oauth.clone());
    Harness { issuer, oauth, app, clock }
}

async fn harness() -> Harness {
    let clock = ManualClock::new(NOW);
    harness_with(builder(&clock), with_hook, clock).await
}

/// A response, read.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .map(|v| v.to_str().expect("ascii"))
            .unwrap_or_else(|| panic!("no Location: {self:?}"))
    }

    /// The query parameters of the Location.
    fn redirect_params(&self) -> HashMap<String, String> {
        let location = self.location();
        let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    /// Asserts a redirect to `base` with `error` (and `state` and `iss`).
    fn assert_error_redirect(&self, base: &str, error: &str, state: Option<&str>) {
        assert_eq!(self.status, StatusCode::FOUND, "{self:?}");
        assert!(self.location().starts_with(base), "{self:?}");
        let params = self.redirect_params();
        assert_eq!(params.get("error").map(String::as_str), Some(error), "{self:?}");
        assert_eq!(params.get("state").map(String::as_str), state, "{self:?}");
        assert_eq!(params.get("iss").map(String::as_str), Some(ISSUER), "{self:?}");
        assert!(!params.contains_key("code"), "{self:?}");
    }

    /// Asserts the 400 error page: no redirect, and HTML.
    fn assert_error_page(&self) {
        assert_eq!(self.status, StatusCode::BAD_REQUEST, "{self:?}");
        assert!(self.headers.get(LOCATION).is_none(), "{self:?}");
        assert!(self.headers[CONTENT_TYPE].to_str().expect("ascii").starts_with("text/html"));
        assert!(self.body.contains("cannot be completed"), "{}", self.body);
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("json")
    }

    /// The hidden fields of the approval screen's Approve form, unescaped.
    fn form_fields(&self) -> Vec<(String, String)> {
        support::approve_form_fields(&self.body)
    }
}

impl Harness {
    async fn send(&self, request: Request<axum::body::Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        Answer { status, headers, body: String::from_utf8(bytes.to_vec()).expect("utf8") }
    }

    /// `GET /oauth/authorize?<query>`, signed in as `user` if given.
    async fn authorize(&self, query: &str, user: Option<&str>) -> Answer {
        let mut request = Request::get(format!("/oauth/authorize?{query}"));
        if let Some(user) = user {
            request = request.header(USER, user);
        }
        self.send(request.body(axum::body::Body::empty()).expect("request")).await
    }

    /// `POST /oauth/authorize` with `fields`.
    async fn decide(&self, fields: &[(String, String)], user: Option<&str>) -> Answer {
        self.decide_in_session(fields, user, None).await
    }

    /// `POST /oauth/authorize` with `fields`, in the session `session` if given.
    async fn decide_in_session(
        &self,
        fields: &[(String, String)],
        user: Option<&str>,
        session: Option<&str>,
    ) -> Answer {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let mut request =
            Request::post("/oauth/authorize").header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(user) = user {
            request = request.header(USER, user);
        }
        if let Some(session) = session {
            request = request.header(SESSION, session);
        }
        self.send(request.body(axum::body::Body::from(body)).expect("request")).await
    }

    /// `GET /oauth/authorize?<query>`, signed in as `user` in the session `session`.
    async fn authorize_in_session(&self, query: &str, user: &str, session: &str) -> Answer {
        let request =
            Request::get(format!("/oauth/authorize?{query}")).header(USER, user).header(SESSION, session);
        self.send(request.body(axum::body::Body::empty()).expect("request")).await
    }

    /// `POST /oauth/token` with `fields` (client credentials in the form).
    async fn token(&self, fields: &[(&str, &str)]) -> Answer {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let request = Request::post("/oauth/token")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .expect("request");
        self.send(request).await
    }

    async fn api(&self, access_token: &str) -> StatusCode {
        let request = Request::get("/api/me")
            .header("authorization", format!("Bearer {access_token}"))
            .body(axum::body::Body::empty())
            .expect("request");
        self.send(request).await.status
    }

    /// The screen, approved by `user`: the redirect that carries the code.
    async fn approve(&self, query: &str, user: &str) -> Answer {
        let screen = self.authorize(query, Some(user)).await;
        assert_eq!(screen.status, StatusCode::OK, "{screen:?}");
        let mut fields = screen.form_fields();
        fields.push(("decision".into(), "approve".into()));
        let answer = self.decide(&fields, Some(user)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{answer:?}");
        answer
    }

    /// A code for `query` and `user`: through the screen, or at once if it is skipped.
    async fn code(&self, query: &str, user: &str) -> String {
        let screen = self.authorize(query, Some(user)).await;
        let answer =
            if screen.status == StatusCode::FOUND { screen } else { self.approve(query, user).await };
        answer.redirect_params()["code"].clone()
    }

    /// A code for the SPA, for user 7, with `scope`.
    async fn spa_code(&self, scope: &str) -> String {
        self.code(&spa_query(scope, "s1"), "7").await
    }

    async fn exchange_spa(&self, code: &str) -> Answer {
        self.token(&[
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", code),
            ("redirect_uri", SPA_CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .await
    }
}

fn spa_query(scope: &str, state: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", SPA),
            ("redirect_uri", SPA_CALLBACK),
            ("scope", scope),
            ("state", state),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish()
}

/// A PKCE request of `client` to `redirect`, asking for `read-posts`, with `state=q`.
fn query_for(client: &str, redirect: &str) -> String {
    format!(
        "response_type=code&client_id={client}&redirect_uri={}&scope=read-posts&state=q&code_challenge={CHALLENGE}&code_challenge_method=S256",
        form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
    )
}

fn web_query(extra: &str) -> String {
    format!(
        "response_type=code&client_id={WEB}&redirect_uri={}&state=w1&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        form_urlencoded::byte_serialize(WEB_CALLBACK.as_bytes()).collect::<String>()
    )
}

// ---- the whole flow -----------------------------------------------------------------

#[tokio::test]
async fn the_whole_flow_ends_with_tokens_that_call_the_api_and_refresh() {
    let h = harness().await;
    let screen = h.authorize(&spa_query("read-posts write-posts", "xyz"), Some("7")).await;
    assert_eq!(screen.status, StatusCode::OK, "{screen:?}");
    assert!(screen.body.contains("Single-page app") && screen.body.contains("Read posts"));
    assert!(screen.body.contains("Write posts") && screen.body.contains(">Approve</button>"));

    let mut fields = screen.form_fields();
    fields.push(("decision".into(), "approve".into()));
    let approved = h.decide(&fields, Some("7")).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{approved:?}");
    assert!(approved.location().starts_with(&format!("{SPA_CALLBACK}?code=")));
    let params = approved.redirect_params();
    assert_eq!(params["state"], "xyz");
    assert_eq!(params["iss"], ISSUER);
    let code = &params["code"];
    assert!(code.len() >= 43, "a 256-bit code");

    let tokens = h.exchange_spa(code).await;
    assert_eq!(tokens.status, StatusCode::OK, "{tokens:?}");
    assert_eq!(tokens.headers["cache-control"], "no-store");
    let body = tokens.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read-posts write-posts");
    let access = body["access_token"].as_str().expect("access token");
    let token_claims = claims(access);
    assert_eq!(token_claims["sub"], "7");
    assert_eq!(token_claims["client_id"], SPA);
    assert_eq!(h.api(access).await, StatusCode::OK);

    // The refresh token rotates as for every other grant.
    let refresh = body["refresh_token"].as_str().expect("refresh token");
    let refreshed =
        h.token(&[("grant_type", "refresh_token"), ("client_id", SPA), ("refresh_token", refresh)]).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{refreshed:?}");
    assert_ne!(refreshed.json()["refresh_token"], body["refresh_token"]);
}

#[tokio::test]
async fn a_confidential_client_authenticates_and_deny_sends_access_denied() {
    let h = harness().await;
    let answer = h.approve(&web_query(""), "7").await;
    let code = answer.redirect_params()["code"].clone();
    let exchange = |secret: &'static str| {
        let code = code.clone();
        let h = &h;
        async move {
            h.token(&[
                ("grant_type", "authorization_code"),
                ("client_id", WEB),
                ("client_secret", secret),
                ("code", &code),
                ("redirect_uri", WEB_CALLBACK),
                ("code_verifier", VERIFIER),
            ])
            .await
        }
    };
    let wrong = exchange("not-the-secret-of-the-web-app-at-all").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{wrong:?}");
    assert_eq!(wrong.json()["error"], "invalid_client");
    let right = exchange(WEB_SECRET).await;
    assert_eq!(
        right.status,
        StatusCode::OK,
        "a failed client authentication does not burn the code: {right:?}"
    );

    let screen = h.authorize(&web_query(""), Some("8")).await;
    let mut fields = screen.form_fields();
    fields.push(("decision".into(), "deny".into()));
    let denied = h.decide(&fields, Some("8")).await;
    assert_eq!(denied.status, StatusCode::SEE_OTHER);
    let params = denied.redirect_params();
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "w1");
    assert_eq!(params["iss"], ISSUER);
    assert!(!params.contains_key("code"));
}

#[tokio::test]
async fn a_confidential_client_without_its_secret_is_invalid_client() {
    let h = harness().await;
    let code = h.approve(&web_query(""), "7").await.redirect_params()["code"].clone();
    let answer = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", WEB),
            ("code", &code),
            ("redirect_uri", WEB_CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
    assert_eq!(answer.json()["error"], "invalid_client");
    assert!(!answer.headers.contains_key("www-authenticate"), "no Authorization header tried: no challenge");
}

// ---- the order of checks: client and redirect URI first, on a page ------------------

#[tokio::test]
async fn an_unknown_missing_or_revoked_client_is_a_page_never_a_redirect() {
    let h = harness().await;
    let redirect = form_urlencoded::byte_serialize(SPA_CALLBACK.as_bytes()).collect::<String>();
    for query in [
        format!("response_type=code&client_id=nobody&redirect_uri={redirect}"),
        format!("response_type=code&redirect_uri={redirect}"),
        format!("response_type=code&client_id=personal-access-client&redirect_uri={redirect}"),
    ] {
        h.authorize(&query, Some("7")).await.assert_error_page();
    }
    h.issuer.revoke_client(SPA).await.expect("revoke");
    h.authorize(&spa_query("read-posts", "s"), Some("7")).await.assert_error_page();
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_a_page_even_when_nearly_right() {
    let h = harness().await;
    for wrong in [
        "https://spa.example.com/cb/",
        "https://spa.example.com/cb?x=1",
        "https://SPA.example.com/cb",
        "https://spa.example.com.evil.test/cb",
        "https://evil.test/cb",
        "http://spa.example.com/cb",
    ] {
        let query = spa_query("read-posts", "s").replace(
            &form_urlencoded::byte_serialize(SPA_CALLBACK.as_bytes()).collect::<String>(),
            &form_urlencoded::byte_serialize(wrong.as_bytes()).collect::<String>(),
        );
        let answer = h.authorize(&query, Some("7")).await;
        answer.assert_error_page();
        assert!(answer.body.contains("redirect_uri is not registered"), "{wrong}");
    }
}

#[tokio::test]
async fn a_registered_redirect_uri_the_rules_refuse_is_never_redirected_to() {
    use tower_passport_issuer::store::ClientStore;
    let h = harness().await;
    let store = h.issuer.store();
    // Written to the store directly (or by an older version): registration never saw them.
    for (id, uri) in [
        ("bad-js", "javascript:alert(document.domain)//"),
        ("bad-fragment", "https://app.example.com/cb#fragment"),
        ("bad-http", "http://app.example.com/cb"),
    ] {
        let mut record = store.client(SPA).await.expect("store").expect("the SPA");
        record.id = id.to_owned();
        record.redirect_uris = vec![uri.to_owned()];
        store.put_client(record).await.expect("put");
        let named = query_for(id, uri);
        let implied = named.replace(
            &format!("&redirect_uri={}", form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()),
            "",
        );
        // Even errors that would go back to the client stay on the page (RFC 6749 §4.1.2.1).
        let unsupported = named.replace("response_type=code", "response_type=token");
        for query in [named, implied, unsupported] {
            let answer = h.authorize(&query, Some("7")).await;
            answer.assert_error_page();
            assert!(answer.body.contains("registered redirect URI is not valid"), "{id}: {}", answer.body);
        }
    }
}

#[tokio::test]
async fn a_repeated_client_id_or_redirect_uri_is_a_page() {
    let h = harness().await;
    h.authorize(&format!("{}&client_id={SPA}", spa_query("read-posts", "s")), Some("7"))
        .await
        .assert_error_page();
    h.authorize(&format!("{}&redirect_uri=x", spa_query("read-posts", "s")), Some("7"))
        .await
        .assert_error_page();
}

#[tokio::test]
async fn the_redirect_uri_may_be_left_out_only_when_one_is_registered() {
    let h = harness().await;
    let several =
        format!("response_type=code&client_id={WEB}&code_challenge={CHALLENGE}&code_challenge_method=S256");
    h.authorize(&several, Some("7")).await.assert_error_page();

    let one =
        format!("response_type=code&client_id={SPA}&code_challenge={CHALLENGE}&code_challenge_method=S256");
    let answer = h.approve(&one, "7").await;
    assert!(answer.location().starts_with(&format!("{SPA_CALLBACK}?code=")));
    let code = answer.redirect_params()["code"].clone();
    let tokens = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", &code),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(tokens.status, StatusCode::OK, "no redirect_uri asked, none needed: {tokens:?}");
}

#[tokio::test]
async fn the_sign_in_comes_after_the_client_checks() {
    let h = harness().await;
    // Nobody is signed in: a bad client is still a page, not a trip to the sign-in page.
    h.authorize("response_type=code&client_id=nobody", None).await.assert_error_page();
    let answer = h.authorize(&spa_query("read-posts", "s"), None).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert!(answer.location().starts_with(SIGN_IN), "{answer:?}");
}

#[tokio::test]
async fn loopback_redirect_uris_may_vary_only_in_the_port() {
    let h = harness().await;
    let query = |redirect: &str| {
        format!(
            "response_type=code&client_id={NATIVE}&redirect_uri={}&code_challenge={CHALLENGE}&code_challenge_method=S256",
            form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
        )
    };
    let answer = h.approve(&query("http://127.0.0.1:49152/callback"), "7").await;
    assert!(answer.location().starts_with("http://127.0.0.1:49152/callback?code="), "{answer:?}");
    let private_use = h.approve(&query("com.example.desktop:/oauth2redirect"), "7").await;
    assert!(private_use.location().starts_with("com.example.desktop:/oauth2redirect?code="));
    h.authorize(&query("http://127.0.0.1:49152/other"), Some("7")).await.assert_error_page();
    h.authorize(&query("http://localhost:49152/callback"), Some("7")).await.assert_error_page();
}

#[tokio::test]
async fn a_confidential_clients_loopback_redirect_uri_must_match_exactly() {
    let h = harness().await;
    let registered = h.authorize(&query_for(LOCAL_WEB, "http://127.0.0.1:8000/callback"), Some("7")).await;
    assert_eq!(registered.status, StatusCode::OK, "the registered URI: the screen: {registered:?}");
    // RFC 8252's any-port rule is for native (public) apps only.
    let other_port = h.authorize(&query_for(LOCAL_WEB, "http://127.0.0.1:49152/callback"), Some("7")).await;
    other_port.assert_error_page();
    assert!(other_port.body.contains("redirect_uri is not registered"), "{}", other_port.body);
}

// ---- errors that go back to the client (RFC 6749 §4.1.2.1) --------------------------

#[tokio::test]
async fn invalid_request_goes_back_with_state_and_iss() {
    let h = harness().await;
    let base = spa_query("read-posts", "s1");
    for broken in [
        base.replace("response_type=code&", ""),
        format!("{base}&scope=admin"),
        base.replace(&format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"), ""),
        base.replace("code_challenge_method=S256", "code_challenge_method=plain"),
        base.replace("&code_challenge_method=S256", ""),
        base.replace(&format!("&code_challenge={CHALLENGE}"), ""),
        base.replace(CHALLENGE, "too-short"),
        base.replace(CHALLENGE, &format!("{}~", &CHALLENGE[..42])),
        format!("{base}&prompt=none%20consent"),
        format!("{base}&prompt=select_account"),
        format!("{base}&response_mode=fragment"),
    ] {
        h.authorize(&broken, Some("7")).await.assert_error_redirect(
            SPA_CALLBACK,
            "invalid_request",
            Some("s1"),
        );
    }
}

#[tokio::test]
async fn the_implicit_grant_is_unsupported_response_type() {
    let h = harness().await;
    for response_type in ["token", "code%20id_token", "id_token"] {
        let query = spa_query("read-posts", "s1")
            .replace("response_type=code", &format!("response_type={response_type}"));
        h.authorize(&query, Some("7")).await.assert_error_redirect(
            SPA_CALLBACK,
            "unsupported_response_type",
            Some("s1"),
        );
    }
}

#[tokio::test]
async fn unknown_wildcard_or_unallowed_scopes_are_invalid_scope() {
    let clock = ManualClock::new(NOW);
    let h = harness_with(builder(&clock), with_hook, clock).await;
    let narrow = ClientRegistration::public("Narrow")
        .id("narrow")
        .grants([GrantType::AuthorizationCode])
        .allowed_scopes(["read-posts"])
        .redirect_uris(["https://narrow.example.com/cb"]);
    h.issuer.register_client(narrow).await.expect("register");
    for scope in ["unknown-scope", "*", "read-posts%20nope"] {
        let query = spa_query("x", "s1").replace("scope=x", &format!("scope={scope}"));
        h.authorize(&query, Some("7")).await.assert_error_redirect(SPA_CALLBACK, "invalid_scope", Some("s1"));
    }
    let query = format!(
        "response_type=code&client_id=narrow&scope=write-posts&state=n&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    h.authorize(&query, Some("7")).await.assert_error_redirect(
        "https://narrow.example.com/cb",
        "invalid_scope",
        Some("n"),
    );
}

#[tokio::test]
async fn a_client_without_the_grant_is_unauthorized_client() {
    let h = harness().await;
    let query = format!(
        "response_type=code&client_id={M2M}&state=m&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    h.authorize(&query, Some("7")).await.assert_error_redirect(
        "https://m2m.example.com/cb",
        "unauthorized_client",
        Some("m"),
    );
}

#[tokio::test]
async fn a_failing_hook_is_temporarily_unavailable() {
    let h = harness().await;
    let request = Request::get(format!("/oauth/authorize?{}", spa_query("read-posts", "s1")))
        .header(HOOK_FAILS, "1")
        .body(axum::body::Body::empty())
        .expect("request");
    h.send(request).await.assert_error_redirect(SPA_CALLBACK, "temporarily_unavailable", Some("s1"));
}

#[tokio::test]
async fn an_error_redirect_keeps_the_redirect_uris_own_query() {
    let h = harness().await;
    let answer = h.authorize(&format!("response_type=token&client_id={LEGACY}&state=q"), Some("7")).await;
    answer.assert_error_redirect(
        "https://legacy.example.com/cb?tenant=blue&error=",
        "unsupported_response_type",
        Some("q"),
    );
}

// ---- PKCE ---------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_missing_or_short_verifier_is_invalid_grant() {
    let h = harness().await;
    let short = &VERIFIER[..42];
    for verifier in [Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"), None, Some(short)] {
        let code = h.spa_code("read-posts").await;
        let mut fields = vec![
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", &code),
            ("redirect_uri", SPA_CALLBACK),
        ];
        fields.extend(verifier.map(|v| ("code_verifier", v)));
        let answer = h.token(&fields).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{verifier:?}: {answer:?}");
        assert_eq!(answer.json()["error"], "invalid_grant", "{verifier:?}");
    }
}

#[tokio::test]
async fn a_confidential_client_may_turn_pkce_off_and_then_a_verifier_is_a_downgrade() {
    let h = harness().await;
    // The web app (PKCE on by default) may not leave it out.
    let no_pkce = format!(
        "response_type=code&client_id={WEB}&redirect_uri={}&state=w",
        form_urlencoded::byte_serialize(WEB_CALLBACK.as_bytes()).collect::<String>()
    );
    h.authorize(&no_pkce, Some("7")).await.assert_error_redirect(WEB_CALLBACK, "invalid_request", Some("w"));

    let legacy = format!("response_type=code&client_id={LEGACY}&state=l");
    let exchange = |code: String, verifier: Option<&'static str>| {
        let h = &h;
        async move {
            let mut fields = vec![
                ("grant_type", "authorization_code"),
                ("client_id", LEGACY),
                ("client_secret", LEGACY_SECRET),
                ("code", code.as_str()),
            ];
            fields.extend(verifier.map(|v| ("code_verifier", v)));
            h.token(&fields).await
        }
    };
    let code = h.approve(&legacy, "7").await.redirect_params()["code"].clone();
    let ok = exchange(code, None).await;
    assert_eq!(ok.status, StatusCode::OK, "{ok:?}");
    assert!(ok.json().get("refresh_token").is_none(), "no refresh grant, no refresh token");

    let code = h.code(&legacy, "7").await;
    let downgrade = exchange(code, Some(VERIFIER)).await;
    assert_eq!(downgrade.json()["error"], "invalid_grant", "RFC 9700 §4.8.2: {downgrade:?}");
}

// ---- the token endpoint (RFC 6749 §5.2) ---------------------------------------------

#[tokio::test]
async fn a_missing_code_is_invalid_request() {
    let h = harness().await;
    let answer = h
        .token(&[("grant_type", "authorization_code"), ("client_id", SPA), ("code_verifier", VERIFIER)])
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json()["error"], "invalid_request");
}

#[tokio::test]
async fn an_unknown_code_another_clients_code_or_another_redirect_uri_is_invalid_grant() {
    let h = harness().await;
    let unknown = h.exchange_spa("no-such-code-anywhere-at-all-0123456789abcdef").await;
    assert_eq!(unknown.json()["error"], "invalid_grant");

    let code = h.spa_code("read-posts").await;
    let other_client = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", NATIVE),
            ("code", &code),
            ("redirect_uri", SPA_CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(other_client.json()["error"], "invalid_grant", "{other_client:?}");

    for redirect in [Some("https://spa.example.com/cb/"), None] {
        let code = h.spa_code("read-posts").await;
        let mut fields = vec![
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", code.as_str()),
            ("code_verifier", VERIFIER),
        ];
        fields.extend(redirect.map(|r| ("redirect_uri", r)));
        let answer = h.token(&fields).await;
        assert_eq!(answer.json()["error"], "invalid_grant", "{redirect:?}: {answer:?}");
    }
}

#[tokio::test]
async fn a_client_without_the_grant_is_unauthorized_client_at_the_token_endpoint() {
    let h = harness().await;
    let code = h.spa_code("read-posts").await;
    let answer = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", M2M),
            ("client_secret", M2M_SECRET),
            ("code", &code),
        ])
        .await;
    assert_eq!(answer.json()["error"], "unauthorized_client", "{answer:?}");
    assert_eq!(
        h.exchange_spa(&code).await.status,
        StatusCode::OK,
        "the refused client did not burn the code"
    );
}

#[tokio::test]
async fn without_the_flow_the_endpoint_is_404_and_the_grant_unsupported() {
    let clock = ManualClock::new(NOW);
    let h = harness_with(builder(&clock), |server| server, clock).await;
    assert_eq!(h.authorize(&spa_query("read-posts", "s"), Some("7")).await.status, StatusCode::NOT_FOUND);
    let answer = h.exchange_spa("whatever").await;
    assert_eq!(answer.json()["error"], "unsupported_grant_type");
    let metadata = h.oauth.metadata();
    assert_eq!(metadata.authorization_endpoint, None);
    assert!(metadata.response_types_supported.is_empty());
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let h = harness().await;
    let code = h.spa_code("read-posts").await;
    h.clock.advance(599);
    assert_eq!(h.exchange_spa(&code).await.status, StatusCode::OK);

    let code = h.spa_code("read-posts").await;
    h.clock.advance(600);
    let late = h.exchange_spa(&code).await;
    assert_eq!(late.json()["error"], "invalid_grant", "{late:?}");
}

#[tokio::test]
async fn the_code_lifetime_is_configurable() {
    let clock = ManualClock::new(NOW);
    let builder = builder(&clock).authorization_code_ttl(std::time::Duration::from_secs(30));
    let h = harness_with(builder, with_hook, clock).await;
    let code = h.spa_code("read-posts").await;
    h.clock.advance(30);
    assert_eq!(h.exchange_spa(&code).await.json()["error"], "invalid_grant");
}

// ---- single use ---------------------------------------------------------------------

#[tokio::test]
async fn a_second_presentation_fails_and_revokes_what_the_first_issued() {
    let h = harness().await;
    let code = h.spa_code("read-posts").await;
    let first = h.exchange_spa(&code).await;
    assert_eq!(first.status, StatusCode::OK);
    let access = first.json()["access_token"].as_str().expect("access").to_owned();
    let refresh = first.json()["refresh_token"].as_str().expect("refresh").to_owned();
    assert_eq!(h.api(&access).await, StatusCode::OK);

    let again = h.exchange_spa(&code).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.json()["error"], "invalid_grant");
    assert!(again.json()["error_description"].as_str().expect("description").contains("already used"));

    assert_eq!(h.api(&access).await, StatusCode::UNAUTHORIZED, "the access token was revoked");
    let jti = claims(&access)["jti"].as_str().expect("jti").to_owned();
    assert!(h.issuer.store().is_revoked(&jti).await.expect("store"));
    let refreshed =
        h.token(&[("grant_type", "refresh_token"), ("client_id", SPA), ("refresh_token", &refresh)]).await;
    assert_eq!(refreshed.json()["error"], "invalid_grant", "the refresh family was revoked");
}

#[tokio::test]
async fn a_wrong_verifier_burns_the_code() {
    let h = harness().await;
    let code = h.spa_code("read-posts").await;
    let wrong = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", &code),
            ("redirect_uri", SPA_CALLBACK),
            ("code_verifier", &"x".repeat(43)),
        ])
        .await;
    assert_eq!(wrong.json()["error"], "invalid_grant");
    assert_eq!(h.exchange_spa(&code).await.json()["error"], "invalid_grant", "a taken code stays taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_24_concurrent_exchanges_one_issues_and_its_tokens_end_revoked() {
    let h = Arc::new(harness().await);
    let code = h.spa_code("read-posts").await;
    let mut events = h.issuer.subscribe();
    let barrier = Arc::new(tokio::sync::Barrier::new(24));
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let (h, code, barrier) = (h.clone(), code.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                h.exchange_spa(&code).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    let succeeded: Vec<&Answer> = answers.iter().filter(|a| a.status == StatusCode::OK).collect();
    assert!(succeeded.len() <= 1, "{succeeded:?}");
    let refused = answers
        .iter()
        .filter(|a| a.status == StatusCode::BAD_REQUEST && a.json()["error"] == "invalid_grant")
        .count();
    assert_eq!(refused + succeeded.len(), 24);

    // Exactly one exchange got as far as issuing tokens...
    let mut issued = Vec::new();
    while let Ok(event) = events.try_recv() {
        if let IssuerEvent::AccessTokenCreated { jti, .. } = event {
            issued.push(jti);
        }
    }
    assert_eq!(issued.len(), 1, "exactly one winner: {issued:?}");
    // ...and the reuse revoked them, whichever came first.
    assert!(h.issuer.store().is_revoked(&issued[0]).await.expect("store"));
    for answer in succeeded {
        assert_eq!(
            h.api(answer.json()["access_token"].as_str().expect("access")).await,
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn the_code_is_stored_only_as_a_hash() {
    let clock = ManualClock::new(NOW);
    let store = Arc::new(MemoryStore::new());
    let builder =
        Issuer::builder(ISSUER, store.clone()).audience(AUDIENCE).scopes(scopes()).clock(clock.clone());
    let h = harness_with(builder, with_hook, clock).await;
    let code = h.spa_code("read-posts").await;
    let stored = format!("{store:?}");
    assert!(!stored.contains(&code), "the code itself is not stored");
    assert!(stored.contains("SecretHash(..)"));
}

// ---- prompt -------------------------------------------------------------------------

#[tokio::test]
async fn prompt_none_without_a_session_is_login_required() {
    let h = harness().await;
    let answer = h.authorize(&format!("{}&prompt=none", spa_query("read-posts", "s1")), None).await;
    answer.assert_error_redirect(SPA_CALLBACK, "login_required", Some("s1"));
}

#[tokio::test]
async fn prompt_none_needing_consent_is_consent_required_and_after_consent_answers_at_once() {
    let h = harness().await;
    let silent = format!("{}&prompt=none", spa_query("read-posts", "s1"));
    h.authorize(&silent, Some("7")).await.assert_error_redirect(SPA_CALLBACK, "consent_required", Some("s1"));

    let code = h.spa_code("read-posts").await;
    assert_eq!(h.exchange_spa(&code).await.status, StatusCode::OK);
    let answer = h.authorize(&silent, Some("7")).await;
    assert_eq!(answer.status, StatusCode::FOUND, "{answer:?}");
    assert!(answer.redirect_params().contains_key("code"));
}

#[tokio::test]
async fn without_a_session_the_browser_goes_to_sign_in_and_comes_back_to_the_request() {
    let h = harness().await;
    let answer = h.authorize(&spa_query("read-posts", "s1"), None).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    let location = answer.location();
    let next = form_urlencoded::parse(location.split_once('?').expect("query").1.as_bytes())
        .find(|(name, _)| name == "next")
        .map(|(_, value)| value.into_owned())
        .expect("next");
    let path = next.strip_prefix(ISSUER).expect("an absolute URL of the issuer");
    assert!(path.starts_with("/oauth/authorize?"), "{next}");
    // After signing in, the return URL shows the screen.
    let back = h.authorize(path.trim_start_matches("/oauth/authorize?"), Some("7")).await;
    assert_eq!(back.status, StatusCode::OK, "{back:?}");
    assert!(back.body.contains("Single-page app"));
}

#[tokio::test]
async fn prompt_login_asks_to_sign_in_again_and_the_return_does_not_ask_again() {
    let h = harness().await;
    let answer =
        h.authorize(&format!("{}&prompt=login%20consent", spa_query("read-posts", "s1")), Some("7")).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert!(answer.location().starts_with(SIGN_IN), "the hook was asked to reauthenticate: {answer:?}");
    let next: String = form_urlencoded::parse(answer.location().split_once('?').expect("query").1.as_bytes())
        .find(|(name, _)| name == "next")
        .map(|(_, value)| value.into_owned())
        .expect("next");
    assert!(!next.contains("login"), "{next}");
    assert!(next.contains("prompt=consent"), "{next}");
}

#[tokio::test]
async fn prompt_consent_shows_the_screen_even_when_it_could_be_skipped() {
    let h = harness().await;
    let ours = query_for(OURS, OURS_CALLBACK);
    assert_eq!(h.authorize(&ours, Some("7")).await.status, StatusCode::FOUND);
    let consent = h.authorize(&format!("{ours}&prompt=consent"), Some("7")).await;
    assert_eq!(consent.status, StatusCode::OK, "{consent:?}");
    assert!(consent.body.contains(">Approve</button>"));
}

// ---- skipping the screen -------------------------------------------------------------

#[tokio::test]
async fn a_client_marked_to_skip_the_screen_skips_it() {
    let h = harness().await;
    let answer = h.authorize(&query_for(OURS, OURS_CALLBACK), Some("7")).await;
    assert_eq!(answer.status, StatusCode::FOUND, "{answer:?}");
    assert!(answer.location().starts_with(&format!("{OURS_CALLBACK}?code=")), "{answer:?}");
    let params = answer.redirect_params();
    assert_eq!(params["state"], "q");
    assert_eq!(params["iss"], ISSUER);
}

#[tokio::test]
async fn a_first_party_public_client_on_a_loopback_uri_gets_the_screen_on_any_port() {
    let h = harness().await;
    // Any local process could open this URL with its own port (RFC 8252 §8.6).
    for port in ["8000", "49152"] {
        let redirect = format!("http://127.0.0.1:{port}/callback");
        let screen = h.authorize(&query_for(FIRST, &redirect), Some("7")).await;
        assert_eq!(screen.status, StatusCode::OK, "first-party is not enough: {screen:?}");
        assert!(screen.body.contains(">Approve</button>"));
        let silent = h.authorize(&format!("{}&prompt=none", query_for(FIRST, &redirect)), Some("7")).await;
        silent.assert_error_redirect(&redirect, "consent_required", Some("q"));
    }
}

#[tokio::test]
async fn a_public_client_skips_the_screen_only_when_marked_knowingly() {
    let h = harness().await;
    let answer = h.authorize(&query_for(KIOSK, "http://127.0.0.1:5123/kiosk"), Some("7")).await;
    assert_eq!(answer.status, StatusCode::FOUND, "{answer:?}");
    assert!(answer.location().starts_with("http://127.0.0.1:5123/kiosk?code="), "{answer:?}");
    // The plain setting is refused for a public client at registration.
    let quiet = ClientRegistration::public("Quiet CLI")
        .grants([GrantType::AuthorizationCode])
        .skips_authorization(true)
        .redirect_uris(["http://127.0.0.1/cb"]);
    let refused = h.issuer.register_client(quiet).await.expect_err("refused");
    assert!(refused.to_string().contains("skips_authorization_even_if_public"), "{refused}");
}

#[tokio::test]
async fn scopes_already_granted_skip_the_screen_and_wider_ones_do_not() {
    let h = harness().await;
    let code = h.spa_code("read-posts write-posts").await;
    let tokens = h.exchange_spa(&code).await;
    assert_eq!(tokens.status, StatusCode::OK);

    let again = h.authorize(&spa_query("read-posts", "s2"), Some("7")).await;
    assert_eq!(again.status, StatusCode::FOUND, "a subset: skipped: {again:?}");
    assert_eq!(again.redirect_params()["state"], "s2");
    assert!(again.redirect_params().contains_key("code"));

    let wider = h.authorize(&spa_query("read-posts admin", "s3"), Some("7")).await;
    assert_eq!(wider.status, StatusCode::OK, "a new scope: the screen");
    let other_user = h.authorize(&spa_query("read-posts", "s4"), Some("8")).await;
    assert_eq!(other_user.status, StatusCode::OK, "another user: the screen");
}

#[tokio::test]
async fn a_public_client_on_a_loopback_or_private_use_uri_always_gets_the_screen() {
    let h = harness().await;
    let query = format!(
        "response_type=code&client_id={NATIVE}&redirect_uri={}&scope=read-posts&code_challenge={CHALLENGE}&code_challenge_method=S256",
        form_urlencoded::byte_serialize(b"http://127.0.0.1:5000/callback").collect::<String>()
    );
    let code = h.code(&query, "7").await;
    let tokens = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", NATIVE),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:5000/callback"),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(tokens.status, StatusCode::OK, "{tokens:?}");
    // Any app on the device could claim this client's id (RFC 8252 §8.6): no skipping.
    assert_eq!(h.authorize(&query, Some("7")).await.status, StatusCode::OK);
    let silent = h.authorize(&format!("{query}&prompt=none&state=n"), Some("7")).await;
    silent.assert_error_redirect("http://127.0.0.1:5000/callback", "consent_required", Some("n"));
}

#[tokio::test]
async fn revoking_the_tokens_withdraws_the_consent() {
    let h = harness().await;
    let code = h.spa_code("read-posts").await;
    let tokens = h.exchange_spa(&code).await;
    assert_eq!(h.authorize(&spa_query("read-posts", "s"), Some("7")).await.status, StatusCode::FOUND);
    let refresh = tokens.json()["refresh_token"].as_str().expect("refresh").to_owned();
    let revoked = h
        .send(
            Request::post("/oauth/revoke")
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!("client_id={SPA}&token={refresh}")))
                .expect("request"),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(
        h.authorize(&spa_query("read-posts", "s"), Some("7")).await.status,
        StatusCode::OK,
        "the screen again"
    );
}

#[tokio::test]
async fn consent_lasts_as_long_as_a_live_token_and_ends_with_the_authorization() {
    let h = harness().await;
    let code = h.spa_code("read-posts write-posts").await;
    assert_eq!(h.exchange_spa(&code).await.status, StatusCode::OK);
    assert_eq!(h.authorize(&spa_query("write-posts", "s"), Some("7")).await.status, StatusCode::FOUND);
    // Revoked through the authorized-apps API: the screen again.
    assert!(h.issuer.revoke_authorized_client("7", SPA).await.expect("revoke"));
    assert_eq!(h.authorize(&spa_query("write-posts", "s"), Some("7")).await.status, StatusCode::OK);

    // Past the refresh token's 30 days, nothing is granted any more either.
    let code = h.spa_code("read-posts").await;
    assert_eq!(h.exchange_spa(&code).await.status, StatusCode::OK);
    assert_eq!(h.authorize(&spa_query("read-posts", "s"), Some("7")).await.status, StatusCode::FOUND);
    h.clock.advance(30 * 24 * 3600);
    assert_eq!(h.authorize(&spa_query("read-posts", "s"), Some("7")).await.status, StatusCode::OK);
}

// ---- CSRF ---------------------------------------------------------------------------

async fn approval_fields(h: &Harness, user: &str) -> Vec<(String, String)> {
    let screen = h.authorize(&spa_query("read-posts", "c1"), Some(user)).await;
    assert_eq!(screen.status, StatusCode::OK);
    let mut fields = screen.form_fields();
    fields.push(("decision".into(), "approve".into()));
    fields
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    fields.iter_mut().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}")).1 = value.to_owned();
}

fn assert_refused(answer: &Answer) {
    answer.assert_error_page();
    assert!(answer.body.contains("not made for you"), "{}", answer.body);
}

#[tokio::test]
async fn a_tampered_csrf_token_is_refused() {
    let h = harness().await;
    let mut fields = approval_fields(&h, "7").await;
    let token = fields.iter().find(|(n, _)| n == "csrf_token").expect("a csrf token").1.clone();
    let mut tampered = token.clone();
    let last = tampered.pop().expect("a character");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    set(&mut fields, "csrf_token", &tampered);
    assert_refused(&h.decide(&fields, Some("7")).await);
    set(&mut fields, "csrf_token", "");
    assert_refused(&h.decide(&fields, Some("7")).await);
    let (_, mac) = token.split_once('.').expect("time.mac");
    set(&mut fields, "csrf_token", &format!("{}.{mac}", NOW + 10));
    assert_refused(&h.decide(&fields, Some("7")).await);
}

#[tokio::test]
async fn another_users_csrf_token_is_refused() {
    let h = harness().await;
    let fields = approval_fields(&h, "7").await;
    assert_refused(&h.decide(&fields, Some("8")).await);
}

#[tokio::test]
async fn an_approval_form_is_bound_to_the_session_it_was_rendered_in() {
    let h = harness().await;
    let query = spa_query("read-posts", "c1");
    let screen = h.authorize_in_session(&query, "7", "session-a").await;
    assert_eq!(screen.status, StatusCode::OK, "{screen:?}");
    let mut fields = screen.form_fields();
    fields.push(("decision".into(), "approve".into()));
    // The same user, in another session (signed out and in again, or another browser).
    assert_refused(&h.decide_in_session(&fields, Some("7"), Some("session-b")).await);
    assert_refused(&h.decide_in_session(&fields, Some("7"), None).await);
    let approved = h.decide_in_session(&fields, Some("7"), Some("session-a")).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "the session it was made in: {approved:?}");
    // A form made without a session does not approve inside one either.
    let bare = approval_fields(&h, "7").await;
    assert_refused(&h.decide_in_session(&bare, Some("7"), Some("session-a")).await);
}

#[tokio::test]
async fn a_csrf_token_is_bound_to_its_request() {
    let h = harness().await;
    for (name, value) in [
        ("scope", "read-posts write-posts"),
        ("state", "other"),
        ("redirect_uri", "https://spa.example.com/cb"),
    ] {
        let mut fields = approval_fields(&h, "7").await;
        if name == "redirect_uri" {
            // Dropping the (single) redirect URI changes the request too.
            fields.retain(|(n, _)| n != "redirect_uri");
        } else {
            set(&mut fields, name, value);
        }
        let answer = h.decide(&fields, Some("7")).await;
        assert_refused(&answer);
        assert!(answer.headers.get(LOCATION).is_none(), "{name}");
    }
}

#[tokio::test]
async fn a_stale_approval_form_is_refused() {
    let h = harness().await;
    let fields = approval_fields(&h, "7").await;
    h.clock.advance(3601);
    assert_refused(&h.decide(&fields, Some("7")).await);
}

#[tokio::test]
async fn a_decision_without_a_session_goes_to_sign_in() {
    let h = harness().await;
    let fields = approval_fields(&h, "7").await;
    let answer = h.decide(&fields, None).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(answer.location().starts_with(SIGN_IN));
}

#[tokio::test]
async fn the_csrf_key_is_shared_by_every_node_on_one_store() {
    let clock = ManualClock::new(NOW);
    let store = Arc::new(MemoryStore::new());
    let node = |store: Arc<MemoryStore>| {
        Issuer::builder(ISSUER, store).audience(AUDIENCE).scopes(scopes()).clock(clock.clone())
    };
    let a = harness_with(node(store.clone()), with_hook, clock.clone()).await;
    let b_routes = OAuthServer::new(node(store).build().expect("second node")).sign_in(hook).build();
    let fields = approval_fields(&a, "7").await;
    let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(&fields).finish();
    let request = Request::post("/oauth/authorize")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(USER, "7")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let answer = b_routes.oneshot(request).await.expect("infallible");
    assert_eq!(
        answer.status(),
        StatusCode::SEE_OTHER,
        "the form rendered on one node is accepted on another"
    );
}

// ---- the screen ---------------------------------------------------------------------

#[tokio::test]
async fn the_screen_escapes_the_client_name_and_every_value() {
    let h = harness().await;
    h.issuer
        .register_client(
            ClientRegistration::public("<script>alert(1)</script>")
                .id("evil")
                .grants([GrantType::AuthorizationCode])
                .redirect_uris(["https://evil.example.com/cb"]),
        )
        .await
        .expect("register");
    let query = format!(
        "response_type=code&client_id=evil&state=%22%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    let screen = h.authorize(&query, Some("7")).await;
    assert_eq!(screen.status, StatusCode::OK);
    assert!(!screen.body.contains("<script>"), "{}", screen.body);
    assert!(screen.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(screen.body.contains("&quot;&gt;&lt;script&gt;alert(2)"));
    // The default screen of the harness client, whose name has markup too.
    let web = h.authorize(&web_query(""), Some("7")).await;
    assert!(web.body.contains("Web &lt;b&gt;App&lt;/b&gt;"));
}

#[tokio::test]
async fn the_screen_is_not_cached_not_framed_and_runs_no_script() {
    let h = harness().await;
    let screen = h.authorize(&spa_query("read-posts", "s"), Some("7")).await;
    assert_eq!(screen.headers["cache-control"], "no-store");
    assert_eq!(screen.headers["x-frame-options"], "DENY");
    let policy = screen.headers["content-security-policy"].to_str().expect("ascii");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(
        policy.contains("form-action 'self' https://spa.example.com"),
        "the redirect after the form: {policy}"
    );
    assert!(
        !policy.contains('*') && !policy.contains("unsafe-inline") && !policy.contains("script-src"),
        "{policy}"
    );
    assert!(!screen.body.contains("<script"), "no script at all");
    // The one inline style block is allowed by its hash.
    let style = screen
        .body
        .split("<style>")
        .nth(1)
        .and_then(|rest| rest.split("</style>").next())
        .expect("a style block");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, style.as_bytes());
    let hash = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, digest.as_ref());
    assert!(policy.contains(&format!("style-src 'sha256-{hash}'")), "{policy}");
    // Readable on a phone, and two plain forms.
    assert!(screen.body.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
    assert_eq!(screen.body.matches("<form method=\"post\"").count(), 2);
    assert!(screen.body.contains(">Approve</button>") && screen.body.contains(">Deny</button>"));
}

#[tokio::test]
async fn an_app_can_replace_the_screen() {
    let clock = ManualClock::new(NOW);
    let screen = |context: &ApprovalContext<'_>| {
        let scopes: Vec<&str> = context.scopes().iter().map(|s| s.id.as_str()).collect();
        format!(
            "<p>custom {} {}</p><form method=\"post\" action=\"{}\">{}<input type=\"hidden\" name=\"decision\" value=\"approve\"></form>",
            tower_passport_issuer::endpoint::escape_html(context.client_name()),
            scopes.join(","),
            context.form_action(),
            context.hidden_inputs()
        )
    };
    let h = harness_with(builder(&clock), |server| server.sign_in(hook).approval_screen(screen), clock).await;
    let page = h.authorize(&spa_query("read-posts", "s"), Some("7")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.starts_with("<p>custom Single-page app read-posts</p>"), "{}", page.body);
    let policy = page.headers["content-security-policy"].to_str().expect("ascii");
    assert!(policy.starts_with("default-src 'none'; style-src 'self'"), "{policy}");
    assert!(policy.ends_with("frame-ancestors 'none'"));
    // Its form works like the default one.
    let mut fields = page.form_fields();
    fields.push(("decision".into(), "approve".into()));
    assert_eq!(h.decide(&fields, Some("7")).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_screen_may_be_given_before_the_sign_in_hook() {
    let clock = ManualClock::new(NOW);
    let screen = |context: &ApprovalContext<'_>| format!("<p>early {}</p>", context.client_id());
    let h = harness_with(builder(&clock), |server| server.approval_screen(screen).sign_in(hook), clock).await;
    let page = h.authorize(&spa_query("read-posts", "s"), Some("7")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body, format!("<p>early {SPA}</p>"));
}

// ---- metadata and registration ------------------------------------------------------

#[tokio::test]
async fn the_metadata_advertises_the_flow() {
    let h = harness().await;
    let request = Request::get("/.well-known/oauth-authorization-server")
        .body(axum::body::Body::empty())
        .expect("request");
    let metadata = h.send(request).await.json();
    assert_eq!(metadata["authorization_endpoint"], format!("{ISSUER}/oauth/authorize"));
    assert_eq!(metadata["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(metadata["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(metadata["authorization_response_iss_parameter_supported"], true);
    let grants = metadata["grant_types_supported"].as_array().expect("grants");
    assert!(grants.contains(&serde_json::json!("authorization_code")));
}

#[tokio::test]
async fn registration_checks_redirect_uris_and_the_pkce_setting() {
    let h = harness().await;
    let code_grant = [GrantType::AuthorizationCode];
    for refused in [
        ClientRegistration::public("No URI").grants(code_grant),
        ClientRegistration::public("Plain http")
            .grants(code_grant)
            .redirect_uris(["http://app.example.com/cb"]),
        ClientRegistration::public("Fragment")
            .grants(code_grant)
            .redirect_uris(["https://app.example.com/cb#x"]),
        ClientRegistration::public("No PKCE")
            .grants(code_grant)
            .redirect_uris(["https://app.example.com/cb"])
            .require_pkce(false),
    ] {
        assert!(h.issuer.register_client(refused).await.is_err());
    }
    let registered = h
        .issuer
        .register_client(
            ClientRegistration::confidential("Owned")
                .grants(code_grant)
                .redirect_uris(["https://owned.example.com/cb", "https://owned.example.com/cb"])
                .owner("42"),
        )
        .await
        .expect("register");
    assert_eq!(registered.client.redirect_uris, ["https://owned.example.com/cb"], "deduplicated");
    assert_eq!(registered.client.owner.as_deref(), Some("42"));
    assert!(registered.client.requires_pkce());
}

// ---- resource indicators (RFC 8707) through the approval screen ---------------------------

#[tokio::test]
async fn the_resources_asked_at_authorize_survive_the_approval_screen_and_bind_the_code() {
    const ORDERS: &str = "https://orders.example.com";
    const BILLING: &str = "https://billing.example.com";
    let clock = ManualClock::new(NOW);
    let h = harness_with(builder(&clock).audience(ORDERS).audience(BILLING), with_hook, clock).await;
    let resource = |uri: &str| {
        format!("&resource={}", form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>())
    };
    let query = format!("{}{}", spa_query("read-posts", "r1"), resource(ORDERS));

    // The screen's form carries the resource back; the code is bound to it.
    let screen = h.authorize(&query, Some("7")).await;
    assert!(screen.form_fields().contains(&("resource".to_owned(), ORDERS.to_owned())), "{screen:?}");
    let code = h.approve(&query, "7").await.redirect_params()["code"].clone();
    let tokens = h.exchange_spa(&code).await;
    assert_eq!(tokens.status, StatusCode::OK, "{tokens:?}");
    let access = tokens.json()["access_token"].as_str().expect("access token").to_owned();
    assert_eq!(claims(&access)["aud"], ORDERS);
    assert_eq!(h.api(&access).await, StatusCode::OK);

    // An exchange asking for another resource than the code's is invalid_target (the user
    // approved this client already: no screen this time).
    let code = h.code(&query, "7").await;
    let wider = h
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", &code),
            ("redirect_uri", SPA_CALLBACK),
            ("code_verifier", VERIFIER),
            ("resource", BILLING),
        ])
        .await;
    assert_eq!(wider.status, StatusCode::BAD_REQUEST, "{wider:?}");
    assert_eq!(wider.json()["error"], "invalid_target");
}
