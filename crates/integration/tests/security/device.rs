//! The device authorization grant (RFC 8628) under attack: a device polling too fast, a
//! device code stolen by another client, redeemed twice or used late, user codes guessed
//! by one account or many from one address, markup in a client's name, and forged
//! decisions on the approval form. Every case asserts its exact status and OAuth error.
//!
//! `issuer/device_grant.rs` walks the flow and holds one case of each rule; this file holds
//! the attacker's variants and the bounds.

use crate::harness::{Auth, Harness, Reply, USER};
use crate::issuer_support::approve_form_fields;

use std::net::SocketAddr;

use axum::body::Body;
use http::header::CONTENT_TYPE;
use http::{Method, Request, StatusCode};
use serde_json::Value;
use tower_passport::clock::Clock;
use tower_passport_issuer::endpoint::PeerAddr;
use tower_passport_issuer::store::GrantType;
use tower_passport_issuer::ClientRegistration;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const FORM: &str = "application/x-www-form-urlencoded";

/// A public client with the device grant; its id.
async fn device_client(h: &Harness, name: &str) -> String {
    let registration =
        ClientRegistration::public(name).grants([GrantType::DeviceCode, GrantType::RefreshToken]);
    h.issuer.register_client(registration).await.expect("registered").client.id
}

/// `POST /oauth/device/code` by `client`: the device authorization response.
async fn start(h: &Harness, client: &str) -> (String, String) {
    let reply = h.form("/oauth/device/code", Auth::Public(client), &[("scope", "read-posts")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let json = reply.json();
    let text = |name: &str| json[name].as_str().expect(name).to_owned();
    (text("device_code"), text("user_code"))
}

async fn poll(h: &Harness, auth: Auth<'_>, device_code: &str) -> Reply {
    h.token(auth, &[("grant_type", GRANT), ("device_code", device_code)]).await
}

/// `GET /oauth/device?user_code=typed` signed in as `user`, from `peer` when given.
async fn page(h: &Harness, typed: &str, user: &str, peer: Option<SocketAddr>) -> Reply {
    let query = form_urlencoded::Serializer::new(String::new()).append_pair("user_code", typed).finish();
    let mut request = Request::get(format!("/oauth/device?{query}")).header(USER, user);
    if let Some(peer) = peer {
        request = request.extension(PeerAddr(peer));
    }
    h.send(request.body(Body::empty()).expect("request")).await
}

/// `POST /oauth/device` with `fields` as `content_type`, signed in as `user`.
async fn decide_as(h: &Harness, fields: &[(String, String)], user: &str, content_type: &str) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    let headers = [(CONTENT_TYPE.as_str(), content_type.to_owned()), (USER, user.to_owned())];
    h.raw(Method::POST, "/oauth/device", &headers, body).await
}

/// The approval screen's fields for `user` typing `user_code`, with `decision`.
async fn approval(h: &Harness, user_code: &str, user: &str, decision: &str) -> Vec<(String, String)> {
    let screen = page(h, user_code, user, None).await;
    assert_eq!(screen.status, StatusCode::OK, "{screen:?}");
    let mut fields = approve_form_fields(&screen.body);
    fields.push(("decision".into(), decision.into()));
    fields
}

fn field<'a>(fields: &'a mut [(String, String)], name: &str) -> &'a mut String {
    &mut fields.iter_mut().find(|(n, _)| n == name).expect(name).1
}

#[tokio::test]
async fn polling_faster_than_the_interval_is_slow_down_and_never_speeds_up_the_answer() {
    let h = Harness::start().await;
    let tv = device_client(&h, "TV").await;
    let (device_code, user_code) = start(&h, &tv).await;
    poll(&h, Auth::Public(&tv), &device_code)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "authorization_pending");
    // Hammering: ten polls in the same second, each one too soon.
    for _ in 0..10 {
        poll(&h, Auth::Public(&tv), &device_code)
            .await
            .assert_oauth_error(StatusCode::BAD_REQUEST, "slow_down");
    }
    // Approved meanwhile: a poll still too soon gets slow_down, not the tokens.
    let fields = approval(&h, &user_code, "7", "approve").await;
    assert_eq!(decide_as(&h, &fields, "7", FORM).await.status, StatusCode::OK);
    h.clock.advance(5);
    poll(&h, Auth::Public(&tv), &device_code).await.assert_oauth_error(StatusCode::BAD_REQUEST, "slow_down");
    // Each slow_down added five seconds, counted from the last poll: a patient device gets
    // its tokens once it waits the grown interval.
    h.clock.advance(5 + 5 * 12);
    poll(&h, Auth::Public(&tv), &device_code).await.assert_tokens();
}

#[tokio::test]
async fn a_device_code_is_redeemed_once_by_its_own_client_only() {
    let h = Harness::start().await;
    let tv = device_client(&h, "TV").await;
    let thief = device_client(&h, "Thief TV").await;
    let (console, console_secret) = h.confidential("Console", &[GrantType::DeviceCode], &[]).await;
    let (device_code, user_code) = start(&h, &tv).await;
    let fields = approval(&h, &user_code, "7", "approve").await;
    assert_eq!(decide_as(&h, &fields, "7", FORM).await.status, StatusCode::OK);
    // Other clients, public or confidential, with the stolen code: invalid_grant, and the
    // code is not spent by their tries.
    h.clock.advance(10);
    poll(&h, Auth::Public(&thief), &device_code)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    poll(&h, Auth::Basic(&console, &console_secret), &device_code)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    // A client without the device grant is refused before the code is looked at.
    let web = h.public("Web", &["https://web.example.com/cb"]).await;
    poll(&h, Auth::Public(&web), &device_code)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
    // The code changed by a character, or padded: no such code.
    let mut altered = device_code.clone().into_bytes();
    altered[0] = if altered[0] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).expect("ascii");
    for wrong in [altered, format!("{device_code}="), format!(" {device_code}"), "x".repeat(10_000)] {
        poll(&h, Auth::Public(&tv), &wrong)
            .await
            .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    // The owner redeems it, once; eight racing polls after that get nothing.
    let tokens = poll(&h, Auth::Public(&tv), &device_code).await.assert_tokens();
    let verified =
        h.issuer.verifier().verify(tokens["access_token"].as_str().expect("token")).expect("valid");
    assert_eq!(verified.subject(), Some("7"));
    h.clock.advance(60);
    let racing =
        futures_util::future::join_all((0..8).map(|_| poll(&h, Auth::Public(&tv), &device_code))).await;
    for reply in racing {
        reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
}

#[tokio::test]
async fn of_concurrent_polls_of_an_approved_code_exactly_one_gets_tokens() {
    let h = Harness::start().await;
    let tv = device_client(&h, "TV").await;
    let (device_code, user_code) = start(&h, &tv).await;
    let fields = approval(&h, &user_code, "7", "approve").await;
    assert_eq!(decide_as(&h, &fields, "7", FORM).await.status, StatusCode::OK);
    h.clock.advance(10);
    let replies =
        futures_util::future::join_all((0..16).map(|_| poll(&h, Auth::Public(&tv), &device_code))).await;
    let issued = replies.iter().filter(|reply| reply.status == StatusCode::OK).count();
    assert_eq!(issued, 1, "{replies:?}");
    for reply in replies.iter().filter(|reply| reply.status != StatusCode::OK) {
        let error = reply.json()["error"].as_str().map(str::to_owned);
        assert!(matches!(error.as_deref(), Some("invalid_grant" | "slow_down")), "{reply:?}");
    }
}

#[tokio::test]
async fn an_expired_device_code_is_expired_token_and_its_user_code_is_gone() {
    let h = Harness::start().await;
    let tv = device_client(&h, "TV").await;
    let (device_code, user_code) = start(&h, &tv).await;
    // Approved in time, but redeemed too late.
    let fields = approval(&h, &user_code, "7", "approve").await;
    assert_eq!(decide_as(&h, &fields, "7", FORM).await.status, StatusCode::OK);
    h.clock.advance(600);
    poll(&h, Auth::Public(&tv), &device_code)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "expired_token");
    let (late_code, late_user_code) = start(&h, &tv).await;
    h.clock.advance(600);
    let screen = page(&h, &late_user_code, "7", None).await;
    assert_eq!(screen.status, StatusCode::BAD_REQUEST, "an expired code is a wrong code: {screen:?}");
    assert!(screen.body.contains("That code is wrong"), "{}", screen.body);
    poll(&h, Auth::Public(&tv), &late_code)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "expired_token");
}

/// Guesses of wrong user codes during an hour by `users` (a new account every five
/// guesses when there are several) from `peer`, each waiting exactly the `Retry-After` it
/// is told: how many guesses were looked at.
async fn guesses_in_an_hour(h: &Harness, rotate_accounts: bool, peer: SocketAddr) -> usize {
    let (started, mut looked_at, mut guess) = (h.clock.now(), 0usize, 0u32);
    while h.clock.now() < started + 3600 {
        let user = if rotate_accounts { format!("sock-puppet-{}", looked_at / 5) } else { "attacker".into() };
        // Well-formed codes; none is pending while the attacker guesses.
        let code = format!("BBBB-{}", wrong_code(guess));
        let reply = page(h, &code, &user, Some(peer)).await;
        match reply.status {
            StatusCode::BAD_REQUEST => {
                assert!(reply.body.contains("That code is wrong"), "{}", reply.body);
                looked_at += 1;
                guess += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                let wait: u64 = reply.header("retry-after").expect("Retry-After").parse().expect("seconds");
                assert!(wait >= 1, "{reply:?}");
                h.clock.advance(wait);
            }
            status => panic!("{status}: {reply:?}"),
        }
    }
    looked_at
}

/// Four letters of the alphabet for `n`.
fn wrong_code(mut n: u32) -> String {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    (0..4)
        .map(|_| {
            let letter = ALPHABET[(n % 20) as usize];
            n /= 20;
            char::from(letter)
        })
        .collect()
}

#[tokio::test]
async fn user_code_guessing_is_bounded_per_account_and_per_address() {
    let h = Harness::start().await;
    let tv = device_client(&h, "TV").await;
    let one_account = guesses_in_an_hour(&h, false, "192.0.2.1:40000".parse().expect("address")).await;
    let many_accounts = guesses_in_an_hour(&h, true, "192.0.2.2:40000".parse().expect("address")).await;
    // Backoff::ACCOUNTS: 5 free failures, then waits doubling from 1 s to 15 minutes.
    assert!((6..=20).contains(&one_account), "one account looked at {one_account} codes in an hour");
    // Backoff::ADDRESSES: 20 free failures, then about one a minute, whatever the accounts.
    assert!(
        (21..=20 + 60 + 5).contains(&many_accounts),
        "one address looked at {many_accounts} codes in an hour"
    );
    // Against 20^8 codes, each pending ten minutes, one address's 85 guesses an hour hit
    // one of a thousand pending codes with a chance of about 3 in a million.
    // A right code works for a user who did not guess, from another address.
    let (_, user_code) = start(&h, &tv).await;
    let fresh = page(&h, &user_code, "7", Some("198.51.100.7:1".parse().expect("address"))).await;
    assert_eq!(fresh.status, StatusCode::OK, "{fresh:?}");
}

#[tokio::test]
async fn markup_in_a_client_name_is_escaped_on_the_device_pages() {
    let h = Harness::start().await;
    let name = r#"<script>alert("pwned")</script><img src=x onerror=alert(1)>"'&"#;
    let tv = device_client(&h, name).await;
    let (_, user_code) = start(&h, &tv).await;
    let screen = page(&h, &user_code, "7", None).await;
    assert_eq!(screen.status, StatusCode::OK, "{screen:?}");
    let fields = approval(&h, &user_code, "7", "approve").await;
    let done = decide_as(&h, &fields, "7", FORM).await;
    assert_eq!(done.status, StatusCode::OK, "{done:?}");
    for reply in [&screen, &done] {
        assert!(!reply.body.contains("<script>alert"), "{}", reply.body);
        assert!(!reply.body.contains("<img src=x"), "{}", reply.body);
        assert!(
            reply.body.contains("&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;"),
            "{}",
            reply.body
        );
        let policy = reply.header("content-security-policy").expect("a CSP");
        assert!(
            policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"),
            "{policy}"
        );
        assert_eq!(reply.header("x-frame-options"), Some("DENY"));
    }
    // A typed code with markup is not echoed as markup on the entry page either.
    let typed = page(&h, "<b>BCDF</b>", "7", None).await;
    assert_eq!(typed.status, StatusCode::BAD_REQUEST);
    assert!(!typed.body.contains("<b>BCDF"), "{}", typed.body);
}

#[tokio::test]
async fn a_forged_approval_decides_nothing() {
    let h = Harness::start().await;
    let tv = device_client(&h, "TV").await;
    let (device_code, user_code) = start(&h, &tv).await;
    let (_, other_user_code) = start(&h, &tv).await;
    let good = approval(&h, &user_code, "7", "approve").await;
    let refused = |reply: &Reply, case: &str| {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{case}: {reply:?}");
    };
    let forged = |reply: &Reply, case: &str| {
        refused(reply, case);
        assert!(reply.body.contains("not made for you"), "{case}: {}", reply.body);
    };
    // No token, an empty one, another user's, another code's, and a token of the
    // authorization code screen.
    let mut none = good.clone();
    none.retain(|(name, _)| name != "csrf_token");
    forged(&decide_as(&h, &none, "7", FORM).await, "no token");
    let mut empty = good.clone();
    *field(&mut empty, "csrf_token") = String::new();
    forged(&decide_as(&h, &empty, "7", FORM).await, "empty token");
    forged(&decide_as(&h, &good, "8", FORM).await, "another user");
    let mut other_code = good.clone();
    *field(&mut other_code, "user_code") = other_user_code.clone();
    forged(&decide_as(&h, &other_code, "7", FORM).await, "another code");
    let web = h.public("Web", &["https://web.example.com/cb"]).await;
    let screen = h
        .authorize(&crate::harness::authorize_query(&web, "https://web.example.com/cb", "s"), Some("7"))
        .await;
    let authorize_fields = approve_form_fields(&screen.body);
    let authorize_token =
        authorize_fields.iter().find(|(n, _)| n == "csrf_token").expect("a token").1.clone();
    let mut cross = good.clone();
    *field(&mut cross, "csrf_token") = authorize_token;
    forged(&decide_as(&h, &cross, "7", FORM).await, "the authorize screen's token");
    // A decision other than approve or deny, and the form posted as text/plain or JSON
    // (what a cross-site form or fetch sends without a preflight).
    let mut odd = good.clone();
    *field(&mut odd, "decision") = "APPROVE".into();
    refused(&decide_as(&h, &odd, "7", FORM).await, "decision case");
    refused(&decide_as(&h, &good, "7", "text/plain").await, "text/plain");
    let json: Value = good.iter().map(|(n, v)| (n.clone(), Value::from(v.as_str()))).collect();
    let headers = [(CONTENT_TYPE.as_str(), "application/json".to_owned()), (USER, "7".to_owned())];
    refused(&h.raw(Method::POST, "/oauth/device", &headers, json.to_string()).await, "json");
    // The decision in a GET's query: the page is shown again, nothing is decided.
    let query: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(&good).finish();
    let get =
        h.raw(Method::GET, &format!("/oauth/device?{query}"), &[(USER, "7".into())], String::new()).await;
    assert_eq!(get.status, StatusCode::OK, "{get:?}");
    // Nothing was decided: the device still waits.
    poll(&h, Auth::Public(&tv), &device_code)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "authorization_pending");
    // A token older than its hour is refused for what it is, before the code is looked at.
    h.clock.advance(3601);
    forged(&decide_as(&h, &good, "7", FORM).await, "stale token");
    // The form itself works: a new request, decided the right way.
    let (fresh_code, fresh_user_code) = start(&h, &tv).await;
    let fresh = approval(&h, &fresh_user_code, "7", "deny").await;
    assert_eq!(decide_as(&h, &fresh, "7", FORM).await.status, StatusCode::OK);
    h.clock.advance(10);
    poll(&h, Auth::Public(&tv), &fresh_code)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "access_denied");
}
