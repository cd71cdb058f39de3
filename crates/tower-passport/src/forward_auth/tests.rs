//! The forward-auth service under each protocol's header mapping.

use http::{Request, StatusCode};
use tower::ServiceExt;

use super::{ForwardAuth, OriginalRequest};
use crate::policy::PolicyTable;
use crate::upstream_headers::{AuthorizationHeader, HeaderRules};
use crate::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};

const SECRET: &[u8] = b"a-shared-secret-of-at-least-32-bytes!!";

const POLICY: &str = r#"
[[route]]
path = "/health"
check = "public"

[[route]]
method = "DELETE"
path = "/orders/{id}"
check = "all-scopes"
scopes = ["cancel"]
"#;

fn token(scope: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    let claims = serde_json::json!({"iss": "https://auth.example.com", "aud": "api", "sub": "42", "client_id": "app",
        "exp": now + 600, "scope": scope});
    jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(SECRET)).unwrap()
}

fn service(original: OriginalRequest) -> ForwardAuth {
    let keys = KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, SECRET).unwrap());
    let verifier =
        Verifier::builder(keys).issuer("https://auth.example.com").audience("api").build().unwrap();
    let guard = GuardLayer::builder(verifier).optional().build().unwrap();
    let rules = HeaderRules::builder()
        .subject("x-user-id")
        .scopes("x-scopes")
        .authorization(AuthorizationHeader::replace("x-internal", "gateway-secret").unwrap())
        .build()
        .unwrap();
    ForwardAuth::new(guard, PolicyTable::from_toml(POLICY, "policy.toml").unwrap(), rules, original)
}

async fn ask(
    service: &ForwardAuth,
    request: http::request::Builder,
) -> http::Response<super::ForwardAuthBody> {
    service.clone().oneshot(request.body(String::new()).unwrap()).await.unwrap()
}

#[tokio::test]
async fn traefik_sends_the_original_request_in_x_forwarded_headers() {
    let traefik = service(OriginalRequest::traefik());
    let asked = |method: &str, uri: &str| {
        Request::get("/").header("x-forwarded-method", method).header("x-forwarded-uri", uri)
    };
    let answer = ask(
        &traefik,
        asked("DELETE", "/orders/7?force=1").header("authorization", format!("Bearer {}", token("cancel"))),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["x-user-id"], "42");
    assert_eq!(answer.headers()["x-scopes"], "cancel");
    assert_eq!(answer.headers()["x-internal"], "gateway-secret");

    // The method is the original's: GET is no route of `/orders/{id}`.
    let answer = ask(
        &traefik,
        asked("GET", "/orders/7").header("authorization", format!("Bearer {}", token("cancel"))),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);

    let answer = ask(
        &traefik,
        asked("DELETE", "/orders/7").header("authorization", format!("Bearer {}", token("read"))),
    )
    .await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let challenge = answer.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"cancel\""),
        "{challenge}"
    );

    // Public, no token: allowed, every forwarded header present and empty but the internal one.
    let answer = ask(&traefik, asked("GET", "/health")).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["x-user-id"], "");
    assert_eq!(answer.headers()["x-scopes"], "");
}

#[tokio::test]
async fn envoy_sends_the_original_method_and_path_after_its_prefix() {
    let envoy = service(OriginalRequest::envoy_with_prefix("/authz").unwrap());
    let bearer = format!("Bearer {}", token("cancel"));
    let answer =
        ask(&envoy, Request::delete("/authz/orders/7").header("authorization", bearer.as_str())).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["x-user-id"], "42");
    let answer = ask(&envoy, Request::delete("/orders/7").header("authorization", bearer.as_str())).await;
    assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR); // not under the prefix

    let envoy = service(OriginalRequest::envoy());
    let answer = ask(&envoy, Request::delete("/orders/7")).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(answer.headers()["www-authenticate"], "Bearer realm=\"api\"");
}

#[tokio::test]
async fn a_sub_request_without_its_request_is_a_500_and_one_that_does_not_parse_a_400() {
    let nginx = service(OriginalRequest::nginx());
    for request in [Request::get("/auth"), Request::get("/auth").header("x-original-method", "GET")] {
        let answer = ask(&nginx, request).await;
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!answer.headers().contains_key("x-user-id"));
    }
    // They came, but are not a method and a path: the client's request is at fault.
    for (method, uri) in [("GET", "http://evil/health"), ("GET", "health"), ("G E T", "/health")] {
        let request = Request::get("/auth").header("x-original-method", method).header("x-original-uri", uri);
        let answer = ask(&nginx, request).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{method} {uri}");
        assert!(!answer.headers().contains_key("x-user-id"));
    }
    let custom = service(OriginalRequest::headers("x-auth-method", "x-auth-uri").unwrap());
    let answer =
        ask(&custom, Request::get("/").header("x-auth-method", "GET").header("x-auth-uri", "/health")).await;
    assert_eq!(answer.status(), StatusCode::OK);
}
