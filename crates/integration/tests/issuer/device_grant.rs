//! The device authorization grant (RFC 8628), end to end and in process: the `OAuthServer`'s
//! routes driven with `oneshot`; a fake sign-in hook (the user id in a header stands for the
//! app's session); the memory store; a manual clock, so the polling rules are driven to the
//! millisecond.

use crate::issuer_support as support;

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, LOCATION};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use support::{claims, scopes, AUDIENCE, ISSUER, NOW};
use tower::ServiceExt;
use tower_passport::clock::ManualClock;
use tower_passport::BackendError;
use tower_passport_issuer::endpoint::{OAuthRoutes, OAuthServer, SignIn, SignInRequest};
use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{ClientRegistration, Issuer};

/// The fake session: who is signed in.
const USER: &str = "x-test-user";
const SIGN_IN: &str = "https://app.auth.test/login";
/// A TV app: a public client with the device grant.
const TV: &str = "tv-app";
/// A confidential client with the device grant.
const CONSOLE: &str = "console";
const CONSOLE_SECRET: &str = "console-secret-of-at-least-32-characters";
/// A client without the device grant.
const WEB: &str = "web";

struct Harness {
    issuer: Issuer,
    oauth: OAuthRoutes,
    clock: ManualClock,
}

fn hook(request: &SignInRequest<'_>) -> impl std::future::Future<Output = Result<SignIn, BackendError>> {
    let user = request.parts().headers.get(USER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let sign_in = format!("{SIGN_IN}?next={}", request.return_to_encoded());
    async move {
        Ok(match user {
            Some(user) => SignIn::user_in_session(user, b"session-1"),
            None => SignIn::Redirect(sign_in),
        })
    }
}

async fn harness_with(hook_on: bool) -> Harness {
    let clock = ManualClock::new(NOW);
    let issuer = Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
        .audience(AUDIENCE)
        .scopes(scopes())
        .clock(clock.clone())
        .build()
        .expect("issuer");
    let server = OAuthServer::new(issuer.clone());
    let oauth = if hook_on { server.sign_in(hook) } else { server }.build();
    let device = [GrantType::DeviceCode, GrantType::RefreshToken];
    for registration in [
        ClientRegistration::public("Living-room <b>TV</b>").id(TV).grants(device),
        ClientRegistration::confidential("Game console").id(CONSOLE).secret(CONSOLE_SECRET).grants(device),
        ClientRegistration::public("Admin TV").id("admin-tv").grants(device).provider("admins"),
        ClientRegistration::public("Web")
            .id(WEB)
            .grants([GrantType::AuthorizationCode])
            .redirect_uris(["https://web.example.com/cb"]),
    ] {
        issuer.register_client(registration).await.expect("register");
    }
    Harness { issuer, oauth, clock }
}

async fn harness() -> Harness {
    harness_with(true).await
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    retry_after: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("JSON: {}", self.body))
    }

    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

impl Harness {
    async fn send(&self, request: Request<Full<Bytes>>) -> Answer {
        let response = self.oauth.clone().oneshot(request).await.expect("infallible");
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (status, location, retry_after) =
            (response.status(), header(LOCATION), header(http::header::RETRY_AFTER));
        let body = response.into_body().collect().await.expect("body").to_bytes();
        Answer { status, location, retry_after, body: String::from_utf8_lossy(&body).into_owned() }
    }

    async fn post(&self, path: &str, form: &[(&str, &str)], user: Option<&str>) -> Answer {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut request = Request::post(path).header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(user) = user {
            request = request.header(USER, user);
        }
        self.send(request.body(Full::new(Bytes::from(body))).expect("request")).await
    }

    async fn get(&self, path: &str, user: Option<&str>) -> Answer {
        let mut request = Request::get(path);
        if let Some(user) = user {
            request = request.header(USER, user);
        }
        self.send(request.body(Full::new(Bytes::new())).expect("request")).await
    }

    /// `POST /oauth/device/code` by the TV app.
    async fn start(&self, scope: &str) -> Value {
        let answer = self.post("/oauth/device/code", &[("client_id", TV), ("scope", scope)], None).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.json()
    }

    async fn poll(&self, client_id: &str, device_code: &str) -> Answer {
        let grant = ("grant_type", "urn:ietf:params:oauth:grant-type:device_code");
        self.post("/oauth/token", &[grant, ("client_id", client_id), ("device_code", device_code)], None)
            .await
    }

    /// The approval screen's hidden fields for `user` typing `typed`.
    async fn approval_fields(&self, typed: &str, user: &str) -> Vec<(String, String)> {
        let query = form_urlencoded::Serializer::new(String::new()).append_pair("user_code", typed).finish();
        let screen = self.get(&format!("/oauth/device?{query}"), Some(user)).await;
        assert_eq!(screen.status, StatusCode::OK, "{}", screen.body);
        hidden_fields(&screen.body)
    }

    async fn decide(&self, fields: &[(String, String)], decision: &str, user: &str) -> Answer {
        let mut form: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        form.push(("decision", decision));
        self.post("/oauth/device", &form, Some(user)).await
    }
}

/// The `<input type="hidden">` fields of the approval screen's first form.
fn hidden_fields(page: &str) -> Vec<(String, String)> {
    let form = page.split("</form>").next().unwrap_or_default();
    form.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|input| {
            let attribute = |name: &str| {
                let start = input.find(&format!("{name}=\""))? + name.len() + 2;
                let end = input[start..].find('"')? + start;
                Some(input[start..end].replace("&amp;", "&"))
            };
            Some((attribute("name")?, attribute("value")?))
        })
        .filter(|(name, _)| name != "decision")
        .collect()
}

#[tokio::test]
async fn the_device_polls_pending_then_slow_down_then_gets_the_tokens_once() {
    let h = harness().await;
    let started = h.start("read-posts").await;
    let device_code = started["device_code"].as_str().expect("device_code").to_owned();
    let user_code = started["user_code"].as_str().expect("user_code").to_owned();
    assert_eq!(started["verification_uri"], "https://auth.test/oauth/device");
    assert_eq!(
        started["verification_uri_complete"],
        format!("https://auth.test/oauth/device?user_code={user_code}")
    );
    assert_eq!((started["expires_in"].as_u64(), started["interval"].as_u64()), (Some(600), Some(5)));
    assert_eq!(user_code.len(), 9, "{user_code}");
    assert!(user_code.chars().all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c)), "{user_code}");

    // The first poll: nobody has decided.
    assert_eq!(h.poll(TV, &device_code).await.error(), "authorization_pending");
    // A second one a second later: too soon, and the interval grows to 10 s.
    h.clock.advance(1);
    let soon = h.poll(TV, &device_code).await;
    assert_eq!((soon.status, soon.error().as_str()), (StatusCode::BAD_REQUEST, "slow_down"));
    h.clock.advance(6);
    assert_eq!(h.poll(TV, &device_code).await.error(), "slow_down", "6 s after, with 10 s to wait");
    // Each slow_down adds five seconds: 15 now, counted from the last poll.
    h.clock.advance(14);
    assert_eq!(h.poll(TV, &device_code).await.error(), "slow_down", "14 s after, with 15 s to wait");
    h.clock.advance(20);
    assert_eq!(h.poll(TV, &device_code).await.error(), "authorization_pending");

    // The user types the code in lower case without the dash, and approves.
    let typed = user_code.replace('-', "").to_lowercase();
    let fields = h.approval_fields(&typed, "7").await;
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["user_code", "csrf_token"]);
    let done = h.decide(&fields, "approve", "7").await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Device connected"), "{}", done.body);

    h.clock.advance(20);
    let issued = h.poll(TV, &device_code).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let tokens = issued.json();
    let access = tokens["access_token"].as_str().expect("access token");
    let verified = h.issuer.verifier().verify(access).expect("valid");
    assert_eq!(verified.subject(), Some("7"));
    assert_eq!(claims(access)["client_id"], TV);
    assert_eq!(tokens["scope"], "read-posts");
    assert!(tokens["refresh_token"].is_string(), "the client may refresh");

    // Once: the device code is spent.
    h.clock.advance(20);
    assert_eq!(h.poll(TV, &device_code).await.error(), "invalid_grant");
}

#[tokio::test]
async fn the_verification_page_signs_in_first_and_keeps_the_typed_code() {
    let h = harness().await;
    let started = h.start("read-posts").await;
    let complete = started["verification_uri_complete"].as_str().expect("complete").to_owned();
    let path = complete.trim_start_matches(ISSUER);
    let away = h.get(path, None).await;
    assert_eq!(away.status, StatusCode::FOUND);
    let location = away.location.expect("a sign-in redirect");
    assert!(location.starts_with(&format!("{SIGN_IN}?next=")), "{location}");
    let user_code = started["user_code"].as_str().expect("user_code");
    assert!(location.contains(user_code), "the typed code comes back after the sign-in: {location}");

    // Signed in, without a code: the page to type it on.
    let entry = h.get("/oauth/device", Some("7")).await;
    assert_eq!(entry.status, StatusCode::OK);
    assert!(entry.body.contains("name=\"user_code\""), "{}", entry.body);

    // With it: the approval screen, the client's name escaped, the scope described.
    let screen = h.get(path, Some("7")).await;
    assert_eq!(screen.status, StatusCode::OK);
    assert!(screen.body.contains("Living-room &lt;b&gt;TV&lt;/b&gt;"), "{}", screen.body);
    assert!(screen.body.contains("Read posts"), "{}", screen.body);
}

#[tokio::test]
async fn a_denied_request_answers_access_denied_and_an_old_one_expired_token() {
    let h = harness().await;
    let started = h.start("").await;
    let device_code = started["device_code"].as_str().expect("device_code").to_owned();
    let fields = h.approval_fields(started["user_code"].as_str().expect("user_code"), "7").await;
    let denied = h.decide(&fields, "deny", "7").await;
    assert!(denied.body.contains("Request denied"), "{}", denied.body);
    assert_eq!(h.poll(TV, &device_code).await.error(), "access_denied");
    // Decided once: the form cannot turn it into an approval.
    let again = h.decide(&fields, "approve", "7").await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    h.clock.advance(10);
    assert_eq!(h.poll(TV, &device_code).await.error(), "access_denied");

    let late = h.start("").await;
    let device_code = late["device_code"].as_str().expect("device_code").to_owned();
    h.clock.advance(600);
    assert_eq!(h.poll(TV, &device_code).await.error(), "expired_token");
    let page = h
        .get(
            &format!("/oauth/device?user_code={}", late["user_code"].as_str().unwrap_or_default()),
            Some("7"),
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "an expired code is a wrong code on the page");
}

#[tokio::test]
async fn wrong_user_codes_are_throttled_per_user_even_before_a_right_one() {
    let h = harness().await;
    let started = h.start("").await;
    let right = started["user_code"].as_str().expect("user_code").to_owned();
    for wrong in ["BCDF-GHJK", "BCDF-GHJL", "BCDF-GHJM", "BCDF-GHJN", "BCDF-GHJP", "BCDF-GHJQ"] {
        let page = h.get(&format!("/oauth/device?user_code={wrong}"), Some("7")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{wrong}");
        assert!(page.body.contains("That code is wrong"), "{}", page.body);
    }
    let throttled = h.get(&format!("/oauth/device?user_code={right}"), Some("7")).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS, "{}", throttled.body);
    assert_eq!(throttled.retry_after.as_deref(), Some("1"));
    // Another user is not held back by the first one's guesses.
    assert_eq!(h.get(&format!("/oauth/device?user_code={right}"), Some("8")).await.status, StatusCode::OK);
    // Once the wait is over, the right code works for the first user too.
    h.clock.advance(1);
    assert_eq!(h.get(&format!("/oauth/device?user_code={right}"), Some("7")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_decision_form_is_bound_to_its_user_and_its_code() {
    let h = harness().await;
    let first = h.start("").await;
    let second = h.start("").await;
    let fields = h.approval_fields(first["user_code"].as_str().expect("user_code"), "7").await;
    let stolen = h.decide(&fields, "approve", "8").await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST);
    assert!(stolen.body.contains("not made for you"), "{}", stolen.body);
    let mut other_code = fields.clone();
    other_code[0].1 = second["user_code"].as_str().expect("user_code").replace('-', "");
    assert!(h.decide(&other_code, "approve", "7").await.body.contains("not made for you"));
    // Nothing was decided.
    let device_code = first["device_code"].as_str().expect("device_code");
    assert_eq!(h.poll(TV, device_code).await.error(), "authorization_pending");
}

#[tokio::test]
async fn a_device_code_works_only_for_its_client_and_only_for_clients_with_the_grant() {
    let h = harness().await;
    let started = h.start("").await;
    let device_code = started["device_code"].as_str().expect("device_code").to_owned();
    let fields = h.approval_fields(started["user_code"].as_str().expect("user_code"), "7").await;
    h.decide(&fields, "approve", "7").await;
    let grant = ("grant_type", "urn:ietf:params:oauth:grant-type:device_code");
    let console =
        [grant, ("client_id", CONSOLE), ("client_secret", CONSOLE_SECRET), ("device_code", &device_code)];
    assert_eq!(h.post("/oauth/token", &console, None).await.error(), "invalid_grant");
    // The refused poll changed nothing: the TV still gets its tokens.
    assert_eq!(h.poll(TV, &device_code).await.status, StatusCode::OK);

    let refused = h.post("/oauth/device/code", &[("client_id", WEB)], None).await;
    assert_eq!(refused.error(), "unauthorized_client");
    // The page signs users in through the default provider: a client of another is refused.
    let other_provider = h.post("/oauth/device/code", &[("client_id", "admin-tv")], None).await;
    assert_eq!(other_provider.error(), "unauthorized_client");
    assert_eq!(
        h.post("/oauth/device/code", &[("client_id", TV), ("scope", "nope")], None).await.error(),
        "invalid_scope"
    );
    let missing = h.post("/oauth/token", &[grant, ("client_id", TV)], None).await;
    assert_eq!(missing.error(), "invalid_request");
}

#[tokio::test]
async fn without_a_sign_in_hook_the_device_grant_is_not_served_and_with_one_it_is_advertised() {
    let h = harness_with(false).await;
    assert_eq!(h.post("/oauth/device/code", &[("client_id", TV)], None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.get("/oauth/device", Some("7")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(h.poll(TV, "anything").await.error(), "unsupported_grant_type");
    assert!(h.oauth.metadata().device_authorization_endpoint.is_none());

    let metadata = harness().await.oauth.metadata();
    assert_eq!(
        metadata.device_authorization_endpoint.as_deref(),
        Some("https://auth.test/oauth/device/code")
    );
    assert!(metadata.grant_types_supported.contains(&"urn:ietf:params:oauth:grant-type:device_code"));
}

#[tokio::test]
async fn the_response_and_the_request_never_show_the_codes_in_debug() {
    let h = harness().await;
    let client = h.issuer.authenticate_client(TV, None).await.expect("client");
    let started = h
        .issuer
        .device_authorization(&client, None, "https://auth.test/oauth/device")
        .await
        .expect("started");
    let shown = format!("{started:?}");
    assert!(!shown.contains(&started.device_code) && !shown.contains(&started.user_code), "{shown}");
    let request = h.issuer.device_request(&started.user_code, "7", None).await.expect("found");
    assert_eq!(request.client().id, TV);
    let shown = format!("{request:?}");
    assert!(!shown.contains(&started.user_code.replace('-', "")), "{shown}");
}

#[tokio::test]
async fn the_approval_screen_is_never_skipped_for_a_device_even_after_an_approval() {
    let h = harness().await;
    for _ in 0..2 {
        let started = h.start("read-posts").await;
        let fields = h.approval_fields(started["user_code"].as_str().expect("user_code"), "7").await;
        assert_eq!(h.decide(&fields, "approve", "7").await.status, StatusCode::OK);
        let tokens = h.poll(TV, started["device_code"].as_str().expect("device_code")).await;
        assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    }
}
