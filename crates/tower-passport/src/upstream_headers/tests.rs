//! The header layer: spoofed copies stripped, the principal's headers set, `Authorization`
//! forwarded, removed or replaced.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http::{HeaderMap, Request, Response, StatusCode};
use tower::{service_fn, Layer, ServiceExt};

use super::{AuthorizationHeader, HeaderRules, UpstreamHeadersLayer};
use crate::error::{ConfigErrorKind, ResponseConfig};
use crate::guard::context::ContextEntry;
use crate::token::{Credential, PrincipalKind, Scopes, Synthetic, VerifiedToken};

fn token(kind: PrincipalKind) -> VerifiedToken {
    VerifiedToken::synthetic(Synthetic {
        issuer: "https://auth.example.com",
        subject: (kind == PrincipalKind::User).then_some("42"),
        client_id: Some("billing"),
        scopes: Scopes::from_space_delimited("read write"),
        kind,
        expires_at: 1_700_000_600,
        issued_at_ms: None,
        provider: None,
        credential: Credential::Bearer,
    })
}

/// The headers the upstream receives for a request with `headers`, behind a guard that
/// verified `token` (`Some(None)`: an optional guard that saw none; `None`: no guard), or
/// the status answered instead.
async fn upstream_sees(
    rules: HeaderRules,
    guard: Option<Option<VerifiedToken>>,
    headers: &[(&str, &str)],
) -> Result<HeaderMap, StatusCode> {
    let seen = Arc::new(Mutex::new(None));
    let upstream = {
        let seen = seen.clone();
        service_fn(move |request: Request<String>| {
            *seen.lock().unwrap() = Some(request.headers().clone());
            async { Ok::<_, Infallible>(Response::new(String::new())) }
        })
    };
    let mut request = Request::new(String::new());
    for (name, value) in headers {
        request
            .headers_mut()
            .append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }
    if let Some(token) = guard {
        request.extensions_mut().insert(ContextEntry::new::<()>(token, Arc::new(ResponseConfig::default())));
    }
    let response = UpstreamHeadersLayer::new(rules).layer(upstream).oneshot(request).await.unwrap();
    let seen = seen.lock().unwrap().take();
    match seen {
        Some(headers) if response.status() == StatusCode::OK => Ok(headers),
        _ => Err(response.status()),
    }
}

fn all_rules() -> HeaderRules {
    HeaderRules::builder()
        .subject("x-user-id")
        .client_id("x-client-id")
        .scopes("x-scopes")
        .kind("x-principal-kind")
        .claim("iss", "x-issuer")
        .claim("exp", "x-expires")
        .claim("absent", "x-absent")
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_spoofed_x_user_id_never_reaches_upstream() {
    let spoofed = [("x-user-id", "1"), ("x-user-id", "2"), ("X-Client-Id", "admin"), ("x-absent", "spoof")];
    let seen = upstream_sees(all_rules(), Some(Some(token(PrincipalKind::User))), &spoofed).await.unwrap();
    let values: Vec<_> = seen.get_all("x-user-id").iter().collect();
    assert_eq!(values, ["42"]);
    assert_eq!(seen["x-client-id"], "billing");
    // A claim the token lacks sets nothing, and its spoofed copy is gone too.
    assert!(!seen.contains_key("x-absent"));

    // Behind an optional guard that saw no token: every copy stripped, nothing set.
    let seen = upstream_sees(all_rules(), Some(None), &spoofed).await.unwrap();
    for name in ["x-user-id", "x-client-id", "x-absent"] {
        assert!(!seen.contains_key(name), "{name}");
    }
}

#[tokio::test]
async fn the_principal_travels_in_the_configured_headers() {
    let seen = upstream_sees(all_rules(), Some(Some(token(PrincipalKind::User))), &[]).await.unwrap();
    assert_eq!(seen["x-user-id"], "42");
    assert_eq!(seen["x-scopes"], "read write");
    assert_eq!(seen["x-principal-kind"], "user");
    assert_eq!(seen["x-issuer"], "https://auth.example.com"); // a string: as it is
    assert_eq!(seen["x-expires"], "1700000600"); // a number: JSON-encoded

    let seen = upstream_sees(all_rules(), Some(Some(token(PrincipalKind::Client))), &[]).await.unwrap();
    assert_eq!(seen["x-principal-kind"], "client");
    assert!(!seen.contains_key("x-user-id")); // this client token has no `sub`
}

#[tokio::test]
async fn authorization_is_forwarded_removed_or_replaced() {
    let bearer = [("authorization", "Bearer abc.def.ghi"), ("x-internal", "spoof")];
    let user = || Some(Some(token(PrincipalKind::User)));
    let rules = |rule| HeaderRules::builder().authorization(rule).build().unwrap();

    let seen = upstream_sees(rules(AuthorizationHeader::Forward), user(), &bearer).await.unwrap();
    assert_eq!(seen["authorization"], "Bearer abc.def.ghi");

    let seen = upstream_sees(rules(AuthorizationHeader::Remove), user(), &bearer).await.unwrap();
    assert!(!seen.contains_key("authorization"));

    let replace = AuthorizationHeader::replace("x-internal", "gateway-secret").unwrap();
    let seen = upstream_sees(rules(replace), user(), &bearer).await.unwrap();
    assert!(!seen.contains_key("authorization"));
    assert_eq!(seen.get_all("x-internal").iter().collect::<Vec<_>>(), ["gateway-secret"]);
    assert!(seen["x-internal"].is_sensitive());

    let replace = AuthorizationHeader::replace("authorization", "Basic Z2F0ZXdheTpzZWNyZXQ=").unwrap();
    let seen = upstream_sees(rules(replace), user(), &bearer).await.unwrap();
    assert_eq!(seen.get_all("authorization").iter().collect::<Vec<_>>(), ["Basic Z2F0ZXdheTpzZWNyZXQ="]);
}

#[tokio::test]
async fn without_a_guard_in_front_it_answers_500() {
    let answered = upstream_sees(all_rules(), None, &[("x-user-id", "1")]).await;
    assert_eq!(answered, Err(StatusCode::INTERNAL_SERVER_ERROR));
}

#[test]
fn bad_header_rules_are_configuration_errors() {
    let errors = [
        HeaderRules::builder().subject("x user").build(),
        HeaderRules::builder().subject("x-id").client_id("X-Id").build(),
        HeaderRules::builder().subject("authorization").build(),
        HeaderRules::builder()
            .subject("x-id")
            .authorization(AuthorizationHeader::replace("x-id", "s").unwrap())
            .build(),
    ];
    for error in errors {
        assert_eq!(error.unwrap_err().kind(), ConfigErrorKind::Header);
    }
    assert_eq!(
        AuthorizationHeader::replace("x-key", "bad\nvalue").unwrap_err().kind(),
        ConfigErrorKind::Header
    );
    let debug = format!("{:?}", AuthorizationHeader::replace("x-key", "the-secret").unwrap());
    assert!(!debug.contains("the-secret"), "{debug}");
}
