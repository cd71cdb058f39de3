//! The authorization endpoint and its approval screen under attack.
//!
//! Already covered elsewhere and not repeated (issuer/authorization_code.rs): a trailing
//! slash, an added query, an upper-case host, a suffix domain and plain http
//! (`an_unregistered_redirect_uri_is_a_page_even_when_nearly_right`); `javascript:` and
//! fragment URIs smuggled into the store (`a_registered_redirect_uri_the_rules_refuse_*`);
//! a wrong, missing or short verifier (`a_wrong_missing_or_short_verifier_is_invalid_grant`);
//! another client's code (`an_unknown_code_another_clients_code_*`); a tampered, another
//! user's or another session's CSRF token on approve (`a_tampered_csrf_token_is_refused`,
//! `another_users_csrf_token_is_refused`, `an_approval_form_is_bound_to_*`); the screen's
//! headers and the client name's escaping (`the_screen_is_not_cached_not_framed_*`,
//! `the_screen_escapes_the_client_name_and_every_value`).

use crate::harness::{authorize_query, Auth, Harness, Reply, CHALLENGE, VERIFIER};
use crate::issuer_support::{approve_form_fields, scopes, AUDIENCE, ISSUER, NOW};

use std::sync::Arc;

use http::header::{CONTENT_TYPE, LOCATION};
use http::StatusCode;
use tower_passport::clock::ManualClock;
use tower_passport_issuer::store::{GrantType, MemoryStore};
use tower_passport_issuer::{ClientRegistration, Issuer, ScopeRegistry};

const CALLBACK: &str = "https://spa.example.com/cb";

/// Asserts the 400 error page: no redirect anywhere.
fn assert_error_page(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert!(reply.headers.get(LOCATION).is_none(), "{reply:?}");
    assert!(reply.header(CONTENT_TYPE.as_str()).is_some_and(|t| t.starts_with("text/html")), "{reply:?}");
    assert_eq!(reply.header("x-frame-options"), Some("DENY"), "even the error page is not framed");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

/// The SPA's screen for user `user`, with its Approve form's fields.
async fn screen_fields(h: &Harness, client: &str, state: &str, user: &str) -> Vec<(String, String)> {
    let screen = h.authorize(&authorize_query(client, CALLBACK, state), Some(user)).await;
    assert_eq!(screen.status, StatusCode::OK, "{screen:?}");
    approve_form_fields(&screen.body)
}

fn with_decision(mut fields: Vec<(String, String)>, decision: &str) -> Vec<(String, String)> {
    fields.push(("decision".into(), decision.into()));
    fields
}

/// Asserts the decision was refused as not made for this user: the page, no redirect.
fn assert_refused(reply: &Reply) {
    assert_error_page(reply);
    assert!(reply.body.contains("not made for you"), "{}", reply.body);
}

async fn code_for(h: &Harness, client: &str, state: &str) -> String {
    let fields = with_decision(screen_fields(h, client, state, "7").await, "approve");
    let approved = h.decide(&fields, Some("7")).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{approved:?}");
    approved.redirect_param("code").expect("a code")
}

// ---- open redirects --------------------------------------------------------------------

#[tokio::test]
async fn every_open_redirect_attempt_is_a_page_never_a_redirect() {
    let h = Harness::start().await;
    let spa = h.public("SPA", &[CALLBACK]).await;
    for attempt in [
        "https://spa.example.com/cb/evil",
        "https://spa.example.com/cb/../evil",
        "https://spa.example.com/cb/..%2Fevil",
        "https://spa.example.com/c%62",
        "https://spa.example.com/CB",
        "https://spa.example.com/cb?",
        "https://spa.example.com/cb?next=https://evil.test",
        "https://spa.example.com/cb#",
        "https://spa.example.com/cb#https://evil.test",
        "https://evil.test@spa.example.com/cb",
        "https://spa.example.com@evil.test/cb",
        "https://spa.example.com:443@evil.test/cb",
        "https://spa.example.com\\@evil.test/cb",
        "https://spa.example.com%2F@evil.test/cb",
        "https://spa.example.com./cb",
        "https://spa.example.com:443/cb",
        "https://spa.example.com:8443/cb",
        "https://spа.example.com/cb", // Cyrillic а
        "https://xn--sp-8kc.example.com/cb",
        "https://spa.exаmple.com/cb",
        "//evil.test/cb",
        "/cb",
        "javascript:alert(document.domain)//https://spa.example.com/cb",
        "javascript://spa.example.com/cb%0aalert(1)",
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://spa.example.com/cb\r\nSet-Cookie: x=y",
        "https://spa.example.com/cb\u{0}",
        " https://spa.example.com/cb",
        "https://spa.example.com/cb ",
    ] {
        let reply = h.authorize(&authorize_query(&spa, attempt, "s"), Some("7")).await;
        assert_error_page(&reply);
        assert!(!reply.body.contains("<script>"), "{attempt}: {}", reply.body);
    }
    // An empty value is an omitted parameter (RFC 6749 §3.1), and with one URI registered
    // an omitted redirect_uri means that one (RFC 6749 §3.1.2.3): the screen, whose form
    // names no other URI.
    let empty = h.authorize(&authorize_query(&spa, "", "s"), Some("7")).await;
    assert_eq!(empty.status, StatusCode::OK, "{empty:?}");
    assert!(!approve_form_fields(&empty.body).iter().any(|(n, v)| n == "redirect_uri" && v != CALLBACK));
    // Registration refuses the same shapes up front.
    for uri in [
        "javascript:alert(1)",
        "https://app.example.com/cb#fragment",
        "https://user:pass@app.example.com/cb",
        "data:text/html,x",
    ] {
        let registration =
            ClientRegistration::public("Bad").grants([GrantType::AuthorizationCode]).redirect_uris([uri]);
        assert!(h.issuer.register_client(registration).await.is_err(), "{uri}");
    }
    // Baseline: the registered URI itself is redirected to.
    let code = code_for(&h, &spa, "s").await;
    assert!(!code.is_empty());
}

// ---- state ----------------------------------------------------------------------------

#[tokio::test]
async fn state_is_echoed_exactly_and_never_checked_by_the_server() {
    let h = Harness::start().await;
    let spa = h.public("SPA", &[CALLBACK]).await;
    // Missing: PKCE protects the code (RFC 9700 §2.1), so the server does not require a
    // state, and the redirect carries none.
    let query = authorize_query(&spa, CALLBACK, "s").replace("&state=s", "");
    let fields = with_decision(approve_form_fields(&h.authorize(&query, Some("7")).await.body), "approve");
    let approved = h.decide(&fields, Some("7")).await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{approved:?}");
    assert!(approved.redirect_param("code").is_some());
    assert_eq!(approved.redirect_param("state"), None);
    // Replayed: the state is the client's CSRF defence, matched by the client against its
    // own session (RFC 6749 §10.12); the server echoes it and answers both requests, each
    // with its own code.
    let first = code_for(&h, &spa, "same").await;
    let second = code_for(&h, &spa, "same").await;
    assert_ne!(first, second);
    // Hostile state values go back percent-encoded: no header injection, no markup.
    for state in
        ["x\r\nSet-Cookie: a=b", "\"><script>alert(1)</script>", "a&code=forged&iss=https://evil.test"]
    {
        let fields = with_decision(screen_fields(&h, &spa, state, "7").await, "approve");
        let approved = h.decide(&fields, Some("7")).await;
        assert_eq!(approved.status, StatusCode::SEE_OTHER, "{approved:?}");
        assert!(!approved.location().contains('\r') && !approved.location().contains('<'));
        assert_eq!(approved.redirect_param("state").as_deref(), Some(state));
        let codes = approved.redirect_params().into_iter().filter(|(n, _)| n == "code").count();
        assert_eq!(codes, 1, "{}", approved.location());
        assert_eq!(approved.redirect_param("iss").as_deref(), Some(ISSUER));
    }
}

// ---- PKCE downgrade ---------------------------------------------------------------------

#[tokio::test]
async fn pkce_plain_a_missing_method_and_bad_challenges_are_refused() {
    let h = Harness::start().await;
    let spa = h.public("SPA", &[CALLBACK]).await;
    let good = authorize_query(&spa, CALLBACK, "p");
    for (what, query) in [
        ("plain", good.replace("code_challenge_method=S256", "code_challenge_method=plain")),
        ("PLAIN", good.replace("code_challenge_method=S256", "code_challenge_method=PLAIN")),
        ("s256", good.replace("code_challenge_method=S256", "code_challenge_method=s256")),
        ("no method (RFC 7636 §4.3 reads plain)", good.replace("&code_challenge_method=S256", "")),
        ("no challenge", good.replace(&format!("&code_challenge={CHALLENGE}"), "")),
        ("a short challenge", good.replace(CHALLENGE, &CHALLENGE[..42])),
        ("a long challenge", good.replace(CHALLENGE, &"A".repeat(129))),
        ("a challenge with padding", good.replace(CHALLENGE, &format!("{}%3D", &CHALLENGE[..42]))),
        ("a repeated challenge", format!("{good}&code_challenge={CHALLENGE}")),
    ] {
        let reply = h.authorize(&query, Some("7")).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{what}: {reply:?}");
        assert!(reply.location().starts_with(CALLBACK), "{what}");
        assert_eq!(
            reply.redirect_param("error").as_deref(),
            Some("invalid_request"),
            "{what}: {}",
            reply.location()
        );
        assert_eq!(reply.redirect_param("code"), None, "{what}");
    }
    // The verifier itself sent as a `plain` challenge is refused too, and the right
    // verifier for an S256 challenge cannot be replaced by the challenge.
    let code = code_for(&h, &spa, "p").await;
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", CHALLENGE),
    ];
    h.token(Auth::Public(&spa), &exchange).await.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    // The failed attempt burnt the code (RFC 6749 §4.1.2: used at most once).
    let retry = [("code_verifier", VERIFIER)];
    let mut exchange = exchange.to_vec();
    exchange[3] = retry[0];
    h.token(Auth::Public(&spa), &exchange).await.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
}

// ---- code injection across clients -------------------------------------------------------

#[tokio::test]
async fn a_code_injected_into_another_clients_exchange_is_invalid_grant_and_burnt() {
    let h = Harness::start().await;
    let victim = h.public("Victim", &[CALLBACK]).await;
    let attacker = h.public("Attacker", &[CALLBACK]).await;
    let code = code_for(&h, &victim, "v").await;
    let exchange = |client: &str| {
        [
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", client.to_owned()),
            ("code", code.clone()),
            ("redirect_uri", CALLBACK.to_owned()),
            ("code_verifier", VERIFIER.to_owned()),
        ]
    };
    let injected = exchange(&attacker);
    let params: Vec<(&str, &str)> = injected.iter().map(|(n, v)| (*n, v.as_str())).collect();
    h.token(Auth::None, &params).await.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    // The victim's own exchange still works once: the injection did not spend it for them
    // (or, if it did, it is refused; it must never give the attacker tokens).
    let own = exchange(&victim);
    let params: Vec<(&str, &str)> = own.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let reply = h.token(Auth::None, &params).await;
    if reply.status == StatusCode::OK {
        let body = reply.json();
        assert_eq!(
            crate::issuer_support::claims(body["access_token"].as_str().expect("at"))["client_id"],
            victim.as_str()
        );
    } else {
        reply.assert_oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
}

// ---- CSRF on approve and deny -----------------------------------------------------------

#[tokio::test]
async fn deny_needs_the_csrf_token_as_much_as_approve() {
    let h = Harness::start().await;
    let spa = h.public("SPA", &[CALLBACK]).await;
    let fields = screen_fields(&h, &spa, "d", "7").await;
    for decision in ["deny", "approve"] {
        let without: Vec<_> = fields.iter().filter(|(n, _)| n != "csrf_token").cloned().collect();
        assert_refused(&h.decide(&with_decision(without, decision), Some("7")).await);
        let forged: Vec<_> = fields
            .iter()
            .map(|(n, v)| {
                if n == "csrf_token" {
                    (n.clone(), format!("{NOW}.forged"))
                } else {
                    (n.clone(), v.clone())
                }
            })
            .collect();
        assert_refused(&h.decide(&with_decision(forged, decision), Some("7")).await);
        assert_refused(&h.decide(&with_decision(fields.clone(), decision), Some("8")).await);
    }
    // A repeated csrf_token (one real, one forged) is not read either way.
    let mut doubled = fields.clone();
    doubled.push(("csrf_token".into(), "forged".into()));
    let reply = h.decide(&with_decision(doubled, "approve"), Some("7")).await;
    assert_error_page(&reply);
    // A decision by GET is no decision.
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(with_decision(fields.clone(), "approve"))
        .finish();
    let reply = h.authorize(&query, Some("7")).await;
    assert_eq!(reply.status, StatusCode::OK, "only the screen again: {reply:?}");
    assert!(reply.headers.get(LOCATION).is_none());
    // Baseline: the real form denies, with access_denied back at the client.
    let denied = h.decide(&with_decision(fields, "deny"), Some("7")).await;
    assert_eq!(denied.status, StatusCode::SEE_OTHER, "{denied:?}");
    assert_eq!(denied.redirect_param("error").as_deref(), Some("access_denied"));
}

// ---- HTML injection ---------------------------------------------------------------------

#[tokio::test]
async fn client_names_and_scope_descriptions_cannot_inject_markup() {
    let clock = ManualClock::new(NOW);
    let registry: ScopeRegistry = scopes()
        .scope("evil", "<img src=x onerror=alert(1)>\"' onmouseover='alert(2)")
        .scope("quote\"scope", "A scope whose name has a quote");
    let builder = Issuer::builder(ISSUER, Arc::new(MemoryStore::new()))
        .audience(AUDIENCE)
        .scopes(registry)
        .clock(clock.clone());
    let h = Harness::start_with(builder, clock).await;
    let name = "</title><script>alert(3)</script><a href=\"javascript:alert(4)\">'x";
    let client = h
        .issuer
        .register_client(
            ClientRegistration::public(name).grants([GrantType::AuthorizationCode]).redirect_uris([CALLBACK]),
        )
        .await
        .expect("registered")
        .client
        .id;
    let query = authorize_query(&client, CALLBACK, "h").replace("scope=read-posts", "scope=read-posts+evil");
    let screen = h.authorize(&query, Some("7")).await;
    assert_eq!(screen.status, StatusCode::OK, "{screen:?}");
    for raw in ["<script", "<img", "<a href", "' onmouseover='", "\"' onmouseover", "</title><"] {
        assert!(!screen.body.contains(raw), "{raw} in {}", screen.body);
    }
    assert!(screen.body.contains("&lt;img src=x onerror=alert(1)&gt;"), "{}", screen.body);
    assert!(screen.body.contains("&lt;/title&gt;&lt;script&gt;"), "{}", screen.body);
    // The escaped values survive the round trip through the form unchanged.
    let fields = approve_form_fields(&screen.body);
    let scope = &fields.iter().find(|(n, _)| n == "scope").expect("a scope field").1;
    let mut scope: Vec<&str> = scope.split(' ').collect();
    scope.sort_unstable();
    assert_eq!(scope, ["evil", "read-posts"], "{fields:?}");
}
