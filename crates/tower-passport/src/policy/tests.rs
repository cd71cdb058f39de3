//! The policy table: its checks, table-driven, and every kind of bad file refused with its line.

use http::{Method, StatusCode};

use super::{PolicyFileError, PolicyTable};
use crate::error::{ConfigErrorKind, Reason};
use crate::token::{Credential, PrincipalKind, Scopes, Synthetic, VerifiedToken};

const POLICY: &str = r#"
[[route]]
path = "/health"
check = "public"

[[route]]
method = ["GET", "HEAD"]
path = "/orders/{id}"
check = "any-scope"
scopes = ["check-status", "place-orders"]

[[route]]
method = "POST"
path = "/orders"
check = ["user-only", "all-scopes"]
scopes = ["place-orders", "pay"]

[[route]]
path = "/internal/{*rest}"
check = "client-only"

[[route]]
path = "/me"
check = "token"

[[route]]
method = "DELETE"
path = "/me"
check = "all-scopes"
scopes = ["delete-account"]
"#;

fn token(kind: PrincipalKind, scopes: &str) -> VerifiedToken {
    VerifiedToken::synthetic(Synthetic {
        issuer: "https://auth.example.com",
        subject: (kind == PrincipalKind::User).then_some("42"),
        client_id: Some("app"),
        scopes: Scopes::from_space_delimited(scopes),
        kind,
        expires_at: u64::MAX,
        issued_at_ms: None,
        provider: None,
        credential: Credential::Bearer,
    })
}

/// The status `table` answers, 200 when it lets the request through.
fn status(table: &PolicyTable, method: Method, path: &str, token: Option<&VerifiedToken>) -> StatusCode {
    table.check(&method, path, token).map_or_else(|error| error.status(), |()| StatusCode::OK)
}

#[test]
fn each_check_lets_through_what_it_names_and_nothing_else() {
    let table = PolicyTable::from_toml(POLICY, "policy.toml").unwrap();
    let user = token(PrincipalKind::User, "check-status");
    let buyer = token(PrincipalKind::User, "place-orders pay");
    let half_buyer = token(PrincipalKind::User, "place-orders");
    let client = token(PrincipalKind::Client, "place-orders pay");
    use StatusCode as S;
    let cases: &[(Method, &str, Option<&VerifiedToken>, StatusCode)] = &[
        // public
        (Method::GET, "/health", None, S::OK),
        (Method::POST, "/health", Some(&user), S::OK),
        // any-scope, per method
        (Method::GET, "/orders/7", None, S::UNAUTHORIZED),
        (Method::GET, "/orders/7", Some(&user), S::OK),
        (Method::HEAD, "/orders/7", Some(&half_buyer), S::OK),
        (Method::GET, "/orders/7", Some(&token(PrincipalKind::User, "other")), S::FORBIDDEN),
        (Method::PUT, "/orders/7", Some(&user), S::FORBIDDEN), // no PUT route: unmatched, denied
        // user-only and all-scopes
        (Method::POST, "/orders", Some(&buyer), S::OK),
        (Method::POST, "/orders", Some(&half_buyer), S::FORBIDDEN),
        (Method::POST, "/orders", Some(&client), S::FORBIDDEN),
        // client-only, with a catch-all
        (Method::GET, "/internal/a/b", Some(&client), S::OK),
        (Method::GET, "/internal/a/b", Some(&user), S::FORBIDDEN),
        // token, and a method-specific route beside the every-method one
        (Method::PATCH, "/me", Some(&client), S::OK),
        (Method::PATCH, "/me", None, S::UNAUTHORIZED),
        (Method::DELETE, "/me", Some(&user), S::FORBIDDEN),
        (Method::DELETE, "/me", Some(&token(PrincipalKind::User, "delete-account")), S::OK),
        // unmatched: denied by default, token or not
        (Method::GET, "/admin", None, S::FORBIDDEN),
        (Method::GET, "/admin", Some(&buyer), S::FORBIDDEN),
        // paths an upstream could read as another route
        (Method::GET, "/health/../internal/x", Some(&user), S::BAD_REQUEST),
        (Method::GET, "//internal/x", Some(&user), S::BAD_REQUEST),
        // decoded before matching: `%68ealth` is `/health`
        (Method::GET, "/%68ealth", None, S::OK),
    ];
    for (method, path, token, expected) in cases {
        assert_eq!(status(&table, method.clone(), path, *token), *expected, "{method} {path}");
    }
    assert_eq!(table.len(), 7);
}

#[test]
fn a_denied_unmatched_route_says_why() {
    let table = PolicyTable::from_toml(POLICY, "policy.toml").unwrap();
    let error = table.check(&Method::GET, "/admin", None).unwrap_err();
    assert_eq!(error.reason(), Reason::RouteNotAllowed);
    let error = table.check(&Method::GET, "/a/../b", None).unwrap_err();
    assert_eq!(error.reason(), Reason::UnnormalizedPath);
}

#[test]
fn unmatched_routes_follow_the_file_when_it_says_so() {
    let public = PolicyTable::from_toml("unmatched = \"public\"", "p.toml").unwrap();
    assert_eq!(status(&public, Method::GET, "/anything", None), StatusCode::OK);
    let token_only = PolicyTable::from_toml("unmatched = \"token\"", "p.toml").unwrap();
    assert_eq!(status(&token_only, Method::GET, "/anything", None), StatusCode::UNAUTHORIZED);
    let user = token(PrincipalKind::User, "");
    assert_eq!(status(&token_only, Method::GET, "/anything", Some(&user)), StatusCode::OK);
    let deny = PolicyTable::from_toml("unmatched = \"deny\"", "p.toml").unwrap();
    assert_eq!(status(&deny, Method::GET, "/anything", Some(&user)), StatusCode::FORBIDDEN);
}

/// The file error behind a refused policy file.
fn refused(text: &str) -> (usize, String) {
    let error = match PolicyTable::from_toml(text, "gateway/policy.toml") {
        Ok(table) => panic!("accepted: {table:?}"),
        Err(error) => error,
    };
    assert_eq!(error.kind(), ConfigErrorKind::Policy);
    let source =
        std::error::Error::source(&error).and_then(|source| source.downcast_ref::<PolicyFileError>());
    let found = source.expect("a PolicyFileError as the source");
    assert_eq!(found.file(), std::path::Path::new("gateway/policy.toml"));
    let line = found.line().expect("a line");
    assert!(error.to_string().contains(&format!("gateway/policy.toml:{line}: ")), "{error}");
    (line, found.problem().to_owned())
}

#[test]
fn bad_files_fail_with_the_file_the_line_and_the_reason() {
    let route = |n: usize| format!("[[route]]\npath = \"/r{n}\"\ncheck = \"token\"\n\n");
    let two = format!("{}{}", route(1), route(2)); // lines 1-3 and 5-7; the next route starts on line 9
    let cases: &[(String, usize, &str)] = &[
        (format!("{two}[[route]]\npath = \"/x\"\ncheck = \"admins-only\"\n"), 11, "unknown check `admins-only`"),
        (format!("{two}[[route]]\npath = \"/x\"\ncheck = [\"token\", \"superuser\"]\n"), 11, "unknown check `superuser`"),
        (format!("{two}[[route]]\npath = \"/x/{{id\"\ncheck = \"token\"\n"), 10, "bad path pattern `/x/{id`"),
        (format!("{two}[[route]]\npath = \"/x/{{*rest}}/y\"\ncheck = \"token\"\n"), 10, "bad path pattern"),
        (format!("{two}[[route]]\npath = \"/r1/{{id}}\"\ncheck = \"token\"\n\n[[route]]\npath = \"/r1/{{name}}\"\ncheck = \"token\"\n"), 14, "bad path pattern `/r1/{name}`"),
        (format!("{two}[[route]]\npath = \"relative\"\ncheck = \"token\"\n"), 10, "does not start with `/`"),
        (format!("{two}[[route]]\npath = \"/r2\"\ncheck = \"public\"\n"), 9, "duplicate route: every method /r2 is already declared at line 5"),
        (format!("{two}[[route]]\nmethod = \"GET\"\npath = \"/x\"\ncheck = \"token\"\n\n[[route]]\nmethod = [\"POST\", \"GET\"]\npath = \"/x\"\ncheck = \"public\"\n"), 14, "duplicate route: GET /x is already declared at line 9"),
        (format!("{two}[[route]]\nmethod = \"get\"\npath = \"/x\"\ncheck = \"token\"\n"), 10, "bad method `get`"),
        (format!("{two}[[route]]\npath = \"/x\"\ncheck = \"any-scope\"\n"), 11, "`any-scope` needs a `scopes` list"),
        (format!("{two}[[route]]\npath = \"/x\"\ncheck = \"token\"\nscopes = [\"a\"]\n"), 12, "`scopes` without"),
        (format!("{two}[[route]]\npath = \"/x\"\ncheck = [\"public\", \"user-only\"]\n"), 11, "`public` cannot be combined"),
        (format!("{two}[[route]]\npath = \"/x\"\ncheck = [\"client-only\", \"user-only\"]\n"), 11, "one of `client-only` and `user-only`"),
        (format!("{two}[[route]]\npath = \"/x\"\ncheck = \"token\"\nscope = [\"a\"]\n"), 12, "unknown field `scope`"),
        (format!("{two}[[route]]\npath = \"/x\"\n"), 9, "missing field `check`"),
        (format!("\nunmatched = \"allow\"\n{two}"), 2, "unknown `unmatched` value `allow`"),
        (format!("{two}[[route]\n"), 9, ""),
    ];
    for (text, line, problem) in cases {
        let (found_line, found_problem) = refused(text);
        assert_eq!(found_line, *line, "{problem}: {found_problem}\n{text}");
        assert!(found_problem.contains(problem), "{found_problem} lacks {problem}");
    }
}

#[test]
fn an_unreadable_file_names_itself() {
    let error = PolicyTable::from_file("/nonexistent/policy.toml").unwrap_err();
    assert_eq!(error.kind(), ConfigErrorKind::Policy);
    assert!(error.to_string().contains("/nonexistent/policy.toml"), "{error}");
}
