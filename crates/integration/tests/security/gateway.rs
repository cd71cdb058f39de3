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
