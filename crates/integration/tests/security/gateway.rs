//! The gateway's route policy (feature `gateway`) under path tricks: every spelling of a
//! protected path that an upstream might read as that path either gets the protected
//! route's policy, or is refused; none falls to a laxer route.
//!
//! Already covered (tower-passport's policy/path.rs and policy/tests.rs): `.` and `..`
//! segments raw and encoded, encoded `/` and `\`, `//`, NUL and invalid UTF-8.

use http::{Method, StatusCode};
use tower_passport::error::Reason;
use tower_passport::policy::PolicyTable;

const POLICY: &str = r#"
[[route]]
path = "/public/{*rest}"
check = "public"

[[route]]
path = "/admin"
check = "client-only"

[[route]]
path = "/admin/{*rest}"
check = "client-only"
"#;

/// The anonymous request's outcome: 200 when let through, else the status and reason.
fn anonymous(table: &PolicyTable, method: &Method, path: &str) -> Result<(), (StatusCode, Reason)> {
    table.check(method, path, None).map_err(|error| (error.status(), error.reason()))
}

#[test]
fn no_spelling_of_a_protected_path_borrows_a_public_routes_policy() {
    let table = PolicyTable::from_toml(POLICY, "policy.toml").expect("policy");
    assert_eq!(anonymous(&table, &Method::GET, "/public/page"), Ok(()));
    // The protected routes themselves: a token is needed.
    for path in ["/admin", "/admin/users", "/%61dmin", "/admin/%75sers"] {
        let refused = anonymous(&table, &Method::GET, path).expect_err(path);
        assert_eq!(refused.0, StatusCode::UNAUTHORIZED, "{path}: {refused:?}");
    }
    // Paths an upstream could resolve to /admin through /public: refused as not in normal
    // form (400), before any route is looked at.
    for path in [
        "/public/../admin",
        "/public/%2e%2e/admin",
        "/public/.%2E/admin",
        "/public%2f..%2fadmin",
        "/public/..%5cadmin",
        "/public/..\\admin",
        "/public//../admin",
        "/public/%2E%2E%2Fadmin",
        "/public/%252e%252e/admin",
    ] {
        let answer = anonymous(&table, &Method::GET, path);
        match answer {
            Err((StatusCode::BAD_REQUEST, Reason::UnnormalizedPath)) => {}
            // Double encoding decodes once to a literal "%2e%2e" segment: a public path
            // whose name is that text, which no upstream decoding once reads as "..".
            Ok(()) if path.contains("%25") => {}
            other => panic!("{path}: {other:?}"),
        }
    }
    // Near spellings the table does not match: with the default `unmatched = "deny"`
    // they are 403, never the public route's pass.
    for path in
        ["/admin/", "/Admin", "/ADMIN/users", "/admin;jsessionid=1", "/admin%20", "/admin.json", "/admin%09"]
    {
        let answer = anonymous(&table, &Method::GET, path);
        assert!(
            matches!(
                answer,
                Err((StatusCode::FORBIDDEN, Reason::RouteNotAllowed))
                    | Err((StatusCode::UNAUTHORIZED, _))
                    | Err((StatusCode::BAD_REQUEST, Reason::UnnormalizedPath))
            ),
            "{path}: {answer:?}"
        );
    }
    // Methods are matched as written: an odd method is no route's, so denied.
    for method in ["get", "GeT", "PROPFIND"] {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let answer = anonymous(&table, &method, "/admin");
        assert!(answer.is_err(), "{method}: {answer:?}");
    }
}

/// The forward-auth service in nginx's mode, over [`POLICY`], behind an optional guard.
fn forward_auth() -> tower_passport::forward_auth::ForwardAuth {
    use tower_passport::forward_auth::{ForwardAuth, OriginalRequest};
    use tower_passport::upstream_headers::HeaderRules;
    use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier, VerifyingKey};
    let keys =
        KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).expect("key"));
    let verifier =
        Verifier::builder(keys).issuer("https://auth.example.com").audience("api").build().expect("verifier");
    let guard = GuardLayer::builder(verifier).optional().build().expect("guard");
    let table = PolicyTable::from_toml(POLICY, "policy.toml").expect("policy");
    let rules = HeaderRules::builder().subject("x-user-id").build().expect("rules");
    ForwardAuth::new(guard, table, rules, OriginalRequest::nginx())
}

#[tokio::test]
async fn forward_auth_sub_requests_cannot_smuggle_another_path_or_method() {
    use tower::ServiceExt;
    let auth = forward_auth();
    let ask = |headers: Vec<(&'static str, &'static str)>| {
        let auth = auth.clone();
        async move {
            let mut request = http::Request::get("/auth");
            for (name, value) in headers {
                request = request.header(name, value);
            }
            auth.oneshot(request.body(String::new()).expect("request")).await.expect("infallible")
        }
    };
    // Baseline: the public route is allowed, and a spoofed subject header is overwritten.
    let allowed =
        ask(vec![("x-original-method", "GET"), ("x-original-uri", "/public/x"), ("x-user-id", "admin")])
            .await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(allowed.headers()["x-user-id"], "");
    // Two original URIs or methods (one public, one not): the first used to be judged, so
    // a client whose copy a proxy passed along beside its own chose the path judged.
    // Refused now, as a request that does not say which it is (400).
    for headers in [
        vec![("x-original-method", "GET"), ("x-original-uri", "/public/x"), ("x-original-uri", "/admin")],
        vec![("x-original-method", "GET"), ("x-original-uri", "/admin"), ("x-original-uri", "/public/x")],
        vec![("x-original-method", "GET"), ("x-original-method", "DELETE"), ("x-original-uri", "/public/x")],
    ] {
        let answer = ask(headers.clone()).await;
        assert!(
            answer.status().is_client_error() || answer.status().is_server_error(),
            "{headers:?}: {}",
            answer.status()
        );
    }
    // A path that leaves /public once the upstream resolves it: 400, never the public pass.
    for uri in
        ["/public/../admin", "/public/%2e%2e/admin", "/public%2f..%2fadmin", "/public/x/../../admin?y=1"]
    {
        let answer = ask(vec![("x-original-method", "GET"), ("x-original-uri", uri)]).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{uri}");
        assert!(!answer.headers().contains_key("x-user-id"), "{uri}");
    }
    // The query is not the path: a protected path with a public-looking query is protected.
    let answer = ask(vec![("x-original-method", "GET"), ("x-original-uri", "/admin?/public/x")]).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
}
