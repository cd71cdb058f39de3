//! The gateway in forward-auth mode over loopback, asked as Traefik and Envoy ask: the
//! `[forward_auth]` settings reach the service.

use http::StatusCode;

use crate::support::{bearer, send, Gateway, Tokens, POLICY_AND_HEADERS};

async fn forward_auth(tokens: &Tokens, settings: &str) -> Gateway {
    Gateway::start(&format!(
        "mode = \"forward-auth\"\n\n[forward_auth]\n{settings}\n{}{POLICY_AND_HEADERS}",
        tokens.guard_toml()
    ))
    .await
}

#[tokio::test]
async fn traefik_asks_with_x_forwarded_method_and_uri() {
    let tokens = Tokens::new();
    let gateway = forward_auth(&tokens, "protocol = \"traefik\"").await;
    let buyer = tokens.user("42", &["place-orders"]);
    let ask = |method: &str, uri: &str, token: &str| {
        vec![("x-forwarded-method", method.to_owned()), ("x-forwarded-uri", uri.to_owned()), bearer(token)]
    };
    let answer = send(gateway.addr, "GET", "/", &ask("POST", "/orders?draft=1", &buyer)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers["x-user-id"], "42");
    assert_eq!(answer.headers["x-scopes"], "place-orders");
    let reader = tokens.user("42", &["check-status"]);
    let answer = send(gateway.addr, "GET", "/", &ask("POST", "/orders", &reader)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.headers["www-authenticate"].to_str().unwrap().contains("scope=\"place-orders\""));
}

#[tokio::test]
async fn envoy_asks_with_the_original_method_and_path_after_its_prefix() {
    let tokens = Tokens::new();
    let gateway = forward_auth(&tokens, "protocol = \"envoy\"\npath_prefix = \"/authz\"").await;
    let client = tokens.client("billing", &[]);
    let answer = send(gateway.addr, "DELETE", "/authz/internal/jobs/3", &[bearer(&client)]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers["x-principal-kind"], "client");
    let answer = send(gateway.addr, "DELETE", "/authz/internal/jobs/3", &[]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.headers["www-authenticate"], "Bearer realm=\"api\"");
}

#[tokio::test]
async fn nginx_headers_can_be_renamed() {
    let tokens = Tokens::new();
    let settings = "protocol = \"nginx\"\nmethod_header = \"x-auth-method\"\nuri_header = \"x-auth-uri\"";
    let gateway = forward_auth(&tokens, settings).await;
    let asked = [("x-auth-method", "GET".to_owned()), ("x-auth-uri", "/health".to_owned())];
    assert_eq!(send(gateway.addr, "GET", "/auth", &asked).await.status, StatusCode::OK);
    let default_names = [("x-original-method", "GET".to_owned()), ("x-original-uri", "/health".to_owned())];
    assert_eq!(
        send(gateway.addr, "GET", "/auth", &default_names).await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}
