//! The gateway as a reverse proxy in front of a real upstream over loopback.

use std::time::Duration;

use http::StatusCode;

use crate::support::{bearer, jwks_server, send, Gateway, Tokens, Upstream, POLICY_AND_HEADERS};

fn config(tokens: &Tokens, upstream: &str, limits: &str) -> String {
    format!(
        "[upstream]\nurl = \"{upstream}\"\nconnect_timeout_ms = 500\n\n{limits}\n{}{POLICY_AND_HEADERS}",
        tokens.guard_toml()
    )
}

#[tokio::test]
async fn allowed_requests_arrive_with_the_forwarded_headers() {
    let (tokens, upstream) = (Tokens::new(), Upstream::start().await);
    let gateway = Gateway::start(&config(&tokens, &format!("http://{}", upstream.addr), "")).await;

    let user = tokens.user("42", &["check-status"]);
    let answer = send(gateway.addr, "GET", "/orders/7?full=1", &[bearer(&user)]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "from upstream");
    let seen = upstream.seen_at("/orders/7?full=1");
    assert_eq!(seen.len(), 1);
    let headers = &seen[0].headers;
    assert_eq!(headers["x-user-id"], "42");
    assert_eq!(headers["x-client-id"], "test-client");
    assert_eq!(headers["x-scopes"], "check-status");
    assert_eq!(headers["x-principal-kind"], "user");
    assert_eq!(headers["x-token-issuer"], "https://auth.example.com");
    assert_eq!(headers["host"], upstream.addr.to_string().as_str());

    let client = tokens.client("billing", &[]);
    let answer = send(gateway.addr, "GET", "/internal/jobs/run", &[bearer(&client)]).await;
    assert_eq!(answer.status, StatusCode::OK);
    let seen = upstream.seen_at("/internal/jobs/run");
    assert_eq!(seen[0].headers["x-principal-kind"], "client");
    assert_eq!(seen[0].headers["x-user-id"], "billing");

    // A public route, no token: through, with no identity.
    let answer = send(gateway.addr, "GET", "/health", &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(!upstream.seen_at("/health")[0].headers.contains_key("x-user-id"));
}

#[tokio::test]
async fn spoofed_headers_are_gone() {
    let (tokens, upstream) = (Tokens::new(), Upstream::start().await);
    let gateway = Gateway::start(&config(&tokens, &format!("http://{}", upstream.addr), "")).await;
    let spoofed = |token: Option<&str>| {
        let mut headers = vec![
            ("x-user-id", "1".to_owned()),
            ("x-scopes", "admin".to_owned()),
            ("x-principal-kind", "client".to_owned()),
            ("x-token-issuer", "https://evil.example.com".to_owned()),
        ];
        headers.extend(token.map(bearer));
        headers
    };
    let user = tokens.user("42", &["place-orders"]);
    assert_eq!(send(gateway.addr, "GET", "/orders/1", &spoofed(Some(&user))).await.status, StatusCode::OK);
    let headers = &upstream.seen_at("/orders/1")[0].headers;
    assert_eq!(headers.get_all("x-user-id").iter().collect::<Vec<_>>(), ["42"]);
    assert_eq!(headers["x-scopes"], "place-orders");
    assert_eq!(headers["x-principal-kind"], "user");
    assert_eq!(headers["x-token-issuer"], "https://auth.example.com");

    // Without a token, on a public route: every spoofed copy stripped, none set.
    assert_eq!(send(gateway.addr, "GET", "/health", &spoofed(None)).await.status, StatusCode::OK);
    let headers = &upstream.seen_at("/health")[0].headers;
    for name in ["x-user-id", "x-scopes", "x-principal-kind", "x-token-issuer"] {
        assert!(!headers.contains_key(name), "{name} reached upstream");
    }
}

#[tokio::test]
async fn denied_requests_never_reach_upstream() {
    let (tokens, upstream) = (Tokens::new(), Upstream::start().await);
    let gateway = Gateway::start(&config(&tokens, &format!("http://{}", upstream.addr), "")).await;
    let reader = tokens.user("42", &["check-status"]);
    let client = tokens.client("billing", &["place-orders"]);
    let forged = format!("{}x", tokens.user("42", &["place-orders"]));
    let cases = [
        ("GET", "/orders/1", None, StatusCode::UNAUTHORIZED, Some("Bearer realm=\"api\"")),
        ("GET", "/orders/1", Some(forged.as_str()), StatusCode::UNAUTHORIZED, Some("invalid_token")),
        ("POST", "/orders", Some(reader.as_str()), StatusCode::FORBIDDEN, Some("scope=\"place-orders\"")),
        ("POST", "/orders", Some(client.as_str()), StatusCode::FORBIDDEN, Some("insufficient_scope")),
        ("GET", "/internal/x", Some(reader.as_str()), StatusCode::FORBIDDEN, Some("insufficient_scope")),
        ("GET", "/admin", Some(reader.as_str()), StatusCode::FORBIDDEN, Some("No policy allows this route")),
        ("GET", "/health/../internal/x", None, StatusCode::BAD_REQUEST, Some("invalid_request")),
    ];
    for (method, path, token, status, challenge) in cases {
        let headers: Vec<_> = token.map(bearer).into_iter().collect();
        let answer = send(gateway.addr, method, path, &headers).await;
        assert_eq!(answer.status, status, "{method} {path}");
        let www_authenticate = answer.headers.get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
        if let Some(challenge) = challenge {
            assert!(
                www_authenticate.as_deref().unwrap_or("").contains(challenge),
                "{method} {path}: {www_authenticate:?}"
            );
        }
    }
    assert!(upstream.seen().is_empty(), "denied requests reached upstream: {:?}", upstream.seen());
}

#[tokio::test]
async fn the_upstream_being_down_gives_502_and_a_slow_one_504_not_a_hang() {
    let tokens = Tokens::new();
    // A port nobody listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let gateway = Gateway::start(&config(&tokens, &format!("http://{closed}"), "")).await;
    let answer = send(gateway.addr, "GET", "/health", &[]).await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);

    let upstream = Upstream::start().await;
    let limits = "[limits]\nrequest_timeout_ms = 300\n";
    let gateway = Gateway::start(&config(&tokens, &format!("http://{}", upstream.addr), limits)).await;
    let answer = send(gateway.addr, "GET", "/slow", &[]).await;
    assert_eq!(answer.status, StatusCode::GATEWAY_TIMEOUT);
}

#[tokio::test]
async fn past_the_concurrency_limit_requests_are_shed_with_503() {
    let (tokens, upstream) = (Tokens::new(), Upstream::start().await);
    let limits = "[limits]\nconcurrency = 1\n";
    let gateway = Gateway::start(&config(&tokens, &format!("http://{}", upstream.addr), limits)).await;
    let addr = gateway.addr;
    let held = tokio::spawn(async move { send(addr, "GET", "/hold", &[]).await });
    // Wait until the held request is in flight at the upstream.
    for _ in 0..200 {
        if !upstream.seen_at("/hold").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(upstream.seen_at("/hold").len(), 1);
    let shed = send(gateway.addr, "GET", "/health", &[]).await;
    assert_eq!(shed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(upstream.seen_at("/health").is_empty());
    upstream.release();
    assert_eq!(held.await.unwrap().status, StatusCode::OK);
    // The slot is free again.
    assert_eq!(send(gateway.addr, "GET", "/health", &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn keys_from_a_jwks_url_verify_tokens_too() {
    let (tokens, upstream) = (Tokens::new(), Upstream::start().await);
    let jwks = jwks_server(tokens.jwk.clone()).await;
    let config = format!(
        "[upstream]\nurl = \"http://{}\"\n\n[guard]\nissuer = \"https://auth.example.com\"\naudience = \"orders-api\"\n\
         jwks_url = \"http://{jwks}/.well-known/jwks.json\"\n{POLICY_AND_HEADERS}",
        upstream.addr
    );
    let gateway = Gateway::start(&config).await;
    let user = tokens.user("42", &["check-status"]);
    let answer = send(gateway.addr, "GET", "/orders/9", &[bearer(&user)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(upstream.seen_at("/orders/9")[0].headers["x-user-id"], "42");
    let other = Tokens::new().user("42", &["check-status"]); // another issuer's key
    let answer = send(gateway.addr, "GET", "/orders/9", &[bearer(&other)]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}
