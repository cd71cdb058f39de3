//! The token, revocation and introspection endpoints under attack.
//!
//! Already covered elsewhere and not repeated: `scope` and `grant_type` repeated, a JSON
//! or untyped body (issuer/endpoints.rs `a_repeated_parameter_is_invalid_request`,
//! `a_body_that_is_not_form_encoded_is_invalid_request`), Basic and `client_secret` at
//! once (`two_client_authentication_methods_at_once_are_invalid_request`), the
//! form-encoding of Basic credentials (`basic_credentials_are_form_decoded_*`), throttling
//! (`wrong_client_secrets_at_token_revoke_and_introspect_are_throttled`), another client's
//! code (issuer/authorization_code.rs `an_unknown_code_another_clients_code_*`) and another
//! client's access token at the revocation endpoint
//! (`revoking_another_clients_token_is_unauthorized_client`).

use crate::harness::{basic, form_encode, Auth, Harness, EMAIL, FORM, PASSWORD};
use crate::issuer_support::claims;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::{Method, StatusCode};
use tower_passport::clock::ManualClock;
use tower_passport::BackendError;
use tower_passport_issuer::{AuthAttempt, AuthLimiter, Verdict};

const CC: (&str, &str) = ("grant_type", "client_credentials");

// ---- duplicate parameters -------------------------------------------------------------------

#[tokio::test]
async fn every_repeated_parameter_is_invalid_request_even_with_the_same_value() {
    let h = Harness::start().await;
    let (id, secret) = h.app().await;
    let login = h.login(&id, &secret, "read-posts").await;
    let refresh = login["refresh_token"].as_str().expect("refresh token").to_owned();
    let grants: [Vec<(&str, &str)>; 3] = [
        vec![CC, ("scope", "read-posts")],
        vec![
            ("grant_type", "password"),
            ("username", EMAIL),
            ("password", PASSWORD),
            ("scope", "read-posts"),
        ],
        vec![("grant_type", "refresh_token"), ("refresh_token", &refresh), ("scope", "read-posts")],
    ];
    for params in &grants {
        for index in 0..params.len() {
            // The same value twice (RFC 6749 §3.2: no parameter more than once).
            let mut twice = params.clone();
            twice.push(params[index]);
            h.token(Auth::Basic(&id, &secret), &twice)
                .await
                .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
        }
        // The client's own credentials repeated in the body.
        let mut posted = params.clone();
        posted.extend([
            ("client_id", id.as_str()),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ]);
        h.token(Auth::None, &posted).await.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
        let mut posted = params.clone();
        posted.extend([
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
            ("client_secret", "guess"),
        ]);
        h.token(Auth::None, &posted).await.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    // The refresh token was never spent by any of the refused requests.
    h.token(Auth::Basic(&id, &secret), &[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await
        .assert_tokens();
}

// ---- content types --------------------------------------------------------------------------

#[tokio::test]
async fn only_a_form_body_is_read() {
    let h = Harness::start().await;
    let (id, secret) = h.app().await;
    let body = "grant_type=client_credentials".to_owned();
    for content_type in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded-x",
        "application/x-www-form-urlencodedx",
        "application/json; x=application/x-www-form-urlencoded",
        "x-application/x-www-form-urlencoded",
        "",
    ] {
        let headers = [("authorization", basic(&id, &secret)), ("content-type", content_type.to_owned())];
        let reply = h.raw(Method::POST, "/oauth/token", &headers, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{content_type:?}: {reply:?}");
        reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    // RFC 9110 §8.3.1: the type and subtype are case-insensitive, whitespace is allowed
    // around parameters.
    for content_type in
        ["APPLICATION/X-WWW-FORM-URLENCODED", "application/x-www-form-urlencoded ; charset=utf-8"]
    {
        let headers = [("authorization", basic(&id, &secret)), ("content-type", content_type.to_owned())];
        h.raw(Method::POST, "/oauth/token", &headers, body.clone()).await.assert_tokens();
    }
    // Parameters in the query string are not the body (RFC 6749 §3.2: POST only, and the
    // parameters in the entity-body).
    let headers = [("authorization", basic(&id, &secret)), ("content-type", FORM.to_owned())];
    h.raw(Method::POST, "/oauth/token?grant_type=client_credentials", &headers, String::new())
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
}

// ---- client credentials in both places, and Basic encoding ------------------------------------

#[tokio::test]
async fn basic_with_any_client_field_in_the_body_never_authenticates_as_the_body() {
    let h = Harness::start().await;
    let (a, a_secret) = h.app().await;
    let (b, b_secret) = h.app().await;
    // Basic as A, and B's id (with or without B's secret) in the body.
    for extra in [
        vec![("client_id", b.as_str())],
        vec![("client_id", b.as_str()), ("client_secret", b_secret.as_str())],
    ] {
        let mut params = vec![CC];
        params.extend(extra);
        let reply = h.token(Auth::Basic(&a, &a_secret), &params).await;
        assert_ne!(reply.status, StatusCode::OK, "{reply:?}");
        reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    }
    // Basic as A with A's own secret again in the body: two methods, refused.
    h.token(Auth::Basic(&a, &a_secret), &[CC, ("client_secret", a_secret.as_str())])
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn malformed_basic_credentials_are_invalid_client() {
    let h = Harness::start().await;
    let (id, secret) = h.app().await;
    let encoded = |raw: &str| format!("Basic {}", STANDARD.encode(raw));
    let cases = [
        (
            "a bad percent escape in the id",
            encoded(&format!("{}%zz:{}", form_encode(&id), form_encode(&secret))),
        ),
        ("a lone percent in the secret", encoded(&format!("{}:{}%", form_encode(&id), form_encode(&secret)))),
        ("an encoded NUL", encoded(&format!("{}%00:{}", form_encode(&id), form_encode(&secret)))),
        ("an overlong UTF-8 slash", encoded(&format!("{}%C0%AF:{}", form_encode(&id), form_encode(&secret)))),
        (
            "an encoded colon splitting the secret",
            encoded(&format!("{}%3A{}", form_encode(&id), form_encode(&secret))),
        ),
        ("no colon", encoded(&id)),
        (
            "the secret's first byte as a plus",
            encoded(&format!("{}:+{}", form_encode(&id), &form_encode(&secret)[1..])),
        ),
    ];
    let more = [
        ("not base64", "Basic !!!!".to_owned()),
        ("base64 of invalid UTF-8", format!("Basic {}", STANDARD.encode([0xff, b':', 0xfe]))),
        ("an empty credential", "Basic ".to_owned()),
        ("padding inside", format!("Basic {}=", STANDARD.encode(format!("{id}:{secret}")))),
    ];
    // RFC 6749 §5.2: client authentication through the Authorization header failed, so
    // 401 `invalid_client` with a Basic challenge, whatever was wrong with it.
    for (what, header) in cases.into_iter().chain(more) {
        let headers = [("authorization", header), ("content-type", FORM.to_owned())];
        let reply =
            h.raw(Method::POST, "/oauth/token", &headers, "grant_type=client_credentials".into()).await;
        reply.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
        assert_eq!(reply.header("www-authenticate"), Some(r#"Basic realm="oauth""#), "{what}");
    }
}

// ---- secret guessing ------------------------------------------------------------------------

/// Counts the limiter's checks and failures, and admits everything.
#[derive(Clone, Default)]
struct Counting {
    checks: Arc<AtomicUsize>,
    failures: Arc<AtomicUsize>,
}

impl AuthLimiter for Counting {
    async fn check(&self, _: &AuthAttempt<'_>) -> Result<Verdict, BackendError> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        Ok(Verdict::Allow)
    }
    async fn failed(&self, _: &AuthAttempt<'_>) -> Result<(), BackendError> {
        self.failures.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn every_wrong_guess_gets_the_same_answer_and_goes_through_the_rate_limit_hook() {
    let clock = ManualClock::new(crate::issuer_support::NOW);
    let counting = Counting::default();
    let h = Harness::start_with(crate::harness::builder(&clock).auth_limiter(counting.clone()), clock).await;
    let (id, secret) = h.app().await;
    let public = h.public("Public", &["https://public.example.com/cb"]).await;
    let (revoked, revoked_secret) = h.app().await;
    h.issuer.revoke_client(&revoked).await.expect("revoked");
    let near_miss = format!("{}x", &secret[..secret.len() - 1]);
    let guesses: Vec<(&str, String, String)> = vec![
        ("a wrong secret", id.clone(), "guess".into()),
        ("a secret one character off", id.clone(), near_miss),
        ("the secret with a suffix", id.clone(), format!("{secret}x")),
        ("the secret's prefix", id.clone(), secret[..secret.len() / 2].to_owned()),
        ("an empty secret", id.clone(), String::new()),
        ("an unknown client", "no-such-client".into(), secret.clone()),
        ("a revoked client with its secret", revoked, revoked_secret),
        ("a public client with a secret", public, "guess".into()),
    ];
    let mut answers = Vec::new();
    for (what, guess_id, guess_secret) in &guesses {
        for path in ["/oauth/token", "/oauth/revoke", "/oauth/introspect"] {
            let reply = h.form(path, Auth::Basic(guess_id, guess_secret), &[CC, ("token", "t")]).await;
            reply.assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
            assert_eq!(reply.header("www-authenticate"), Some(r#"Basic realm="oauth""#), "{what}");
            answers.push((what, reply.body));
        }
    }
    // Nothing in the answer tells an unknown id from a wrong secret.
    let first = &answers[0].1;
    for (what, body) in &answers {
        assert_eq!(body, first, "{what}");
    }
    assert_eq!(counting.checks.load(Ordering::SeqCst), guesses.len() * 3, "every attempt was checked");
    assert_eq!(counting.failures.load(Ordering::SeqCst), guesses.len() * 3, "every failure was reported");
}

// ---- other clients' refresh tokens, scope widening ---------------------------------------

#[tokio::test]
async fn another_clients_refresh_token_is_invalid_grant_and_stays_usable_by_its_owner() {
    let h = Harness::start().await;
    let (owner, owner_secret) = h.app().await;
    let (thief, thief_secret) = h.app().await;
    let login = h.login(&owner, &owner_secret, "read-posts").await;
    let refresh = login["refresh_token"].as_str().expect("refresh token");
    let params = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    h.token(Auth::Basic(&thief, &thief_secret), &params)
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    // Presented with the owner's id but no secret: no client authentication.
    h.token(Auth::Public(&owner), &params)
        .await
        .assert_oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    let body = h.token(Auth::Basic(&owner, &owner_secret), &params).await.assert_tokens();
    assert_eq!(claims(body["access_token"].as_str().expect("token"))["client_id"], owner.as_str());
}

#[tokio::test]
async fn a_refresh_cannot_widen_the_scope() {
    let h = Harness::start().await;
    let (id, secret) = h.app().await;
    let login = h.login(&id, &secret, "read-posts").await;
    let refresh = login["refresh_token"].as_str().expect("refresh token");
    for wider in ["read-posts write-posts", "admin", "*", "read-posts read-posts admin", "READ-POSTS"] {
        let params = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", wider)];
        h.token(Auth::Basic(&id, &secret), &params)
            .await
            .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    }
    // A narrower or equal scope is fine (RFC 6749 §6), and the refused attempts did not spend it.
    let params = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "read-posts")];
    let body = h.token(Auth::Basic(&id, &secret), &params).await.assert_tokens();
    assert_eq!(body["scope"], "read-posts");
}

#[tokio::test]
async fn client_credentials_cannot_ask_for_a_scope_outside_the_registry() {
    let h = Harness::start().await;
    let (id, secret) = h.app().await;
    for scope in ["nope", "read-posts nope", "read-posts\u{0}admin", "read-posts\tadmin"] {
        h.token(Auth::Basic(&id, &secret), &[CC, ("scope", scope)])
            .await
            .assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_scope");
    }
}

// ---- revocation and introspection by clients that do not own the token --------------------

#[tokio::test]
async fn revoking_another_clients_refresh_token_is_unauthorized_client_and_revokes_nothing() {
    let h = Harness::start().await;
    let (owner, owner_secret) = h.app().await;
    let (intruder, intruder_secret) = h.app().await;
    let login = h.login(&owner, &owner_secret, "read-posts").await;
    let (access, refresh) =
        (login["access_token"].as_str().expect("at"), login["refresh_token"].as_str().expect("rt"));
    for hint in [None, Some("refresh_token"), Some("access_token")] {
        let mut params = vec![("token", refresh)];
        params.extend(hint.map(|hint| ("token_type_hint", hint)));
        h.form("/oauth/revoke", Auth::Basic(&intruder, &intruder_secret), &params)
            .await
            .assert_oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
    }
    assert_eq!(h.api(access).await.status, StatusCode::OK, "the access token lives");
    h.token(
        Auth::Basic(&owner, &owner_secret),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await
    .assert_tokens();
}

#[tokio::test]
async fn introspecting_another_clients_tokens() {
    let h = Harness::start().await;
    let (owner, owner_secret) = h.app().await;
    let (resource, resource_secret) = h.app().await;
    let login = h.login(&owner, &owner_secret, "read-posts").await;
    let (access, refresh) =
        (login["access_token"].as_str().expect("at"), login["refresh_token"].as_str().expect("rt"));
    // A refresh token is the owner's business only: to anyone else it is not active.
    for hint in [None, Some("refresh_token")] {
        let mut params = vec![("token", refresh)];
        params.extend(hint.map(|hint| ("token_type_hint", hint)));
        let reply = h.form("/oauth/introspect", Auth::Basic(&resource, &resource_secret), &params).await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(reply.body, r#"{"active":false}"#);
        let own = h.form("/oauth/introspect", Auth::Basic(&owner, &owner_secret), &params).await;
        assert_eq!(own.json()["active"], true, "{own:?}");
    }
    // An access token is introspected by the protected resource, which is another client
    // than the one it was issued to: RFC 7662 §2.1 (the caller is "the protected
    // resource"), so any authenticated confidential client gets the answer.
    let reply =
        h.form("/oauth/introspect", Auth::Basic(&resource, &resource_secret), &[("token", access)]).await;
    assert_eq!(reply.json()["active"], true, "{reply:?}");
    assert_eq!(reply.json()["client_id"], owner.as_str());
    // A public client may not introspect at all.
    let public = h.public("Public", &["https://public.example.com/cb"]).await;
    h.form("/oauth/introspect", Auth::Public(&public), &[("token", access)])
        .await
        .assert_oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
}

// ---- revocation inside the guard's leeway ------------------------------------------------

/// Regression: a family revoked for refresh-token reuse (or a user's tokens revoked) used to
/// skip access tokens already past `exp`, which the guard still admits for its leeway
/// (60 s): such a token kept working after the revocation.
#[tokio::test]
async fn a_reuse_revokes_the_familys_access_token_even_inside_the_guards_leeway() {
    let h = Harness::start().await;
    let (id, secret) = h.app().await;
    let login = h.login(&id, &secret, "read-posts").await;
    let refresh = login["refresh_token"].as_str().expect("rt");
    let rotate = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let rotated = h.token(Auth::Basic(&id, &secret), &rotate).await.assert_tokens();
    let access = rotated["access_token"].as_str().expect("at");
    let exp = claims(access)["exp"].as_u64().expect("exp");
    // Thirty seconds past `exp`: inside the default leeway, so the guard still admits it.
    h.clock.advance(exp + 30 - crate::issuer_support::NOW);
    assert_eq!(h.api(access).await.status, StatusCode::OK, "admitted inside the leeway");
    // The spent refresh token comes back: reuse, and the family is revoked.
    let replay = h.token(Auth::Basic(&id, &secret), &rotate).await;
    replay.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    let refused = h.api(access).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{refused:?}");
    assert_eq!(refused.json()["error_description"], "The access token was revoked");
}
