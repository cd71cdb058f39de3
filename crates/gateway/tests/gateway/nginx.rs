//! A real nginx (Debian's package, installed by `.ci/run`) in front of a loopback upstream,
//! asking the gateway in forward-auth mode through `auth_request`, with the configuration
//! the gateways guide (`docs/gateways.md`) shows (`nginx/forward-auth.conf`).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use http::StatusCode;
use tokio::process::{Child, Command};

use crate::support::{bearer, send, Gateway, TempDir, Tokens, Upstream};

/// The gateways guide's snippet, which this test runs.
const SNIPPET: &str = include_str!("../../nginx/forward-auth.conf");
const NGINX: &str = "/usr/sbin/nginx";

/// The gateway's file for nginx: forward-auth mode, the headers the snippet copies.
const FORWARD_AUTH: &str = r#"
[forward_auth]
protocol = "nginx"

[headers]
subject = "x-user-id"
client_id = "x-client-id"
scopes = "x-scopes"
kind = "x-principal-kind"

[[policy.route]]
path = "/health"
check = "public"

[[policy.route]]
method = "GET"
path = "/orders/{id}"
check = "any-scope"
scopes = ["check-status", "place-orders"]

[[policy.route]]
method = "POST"
path = "/orders"
check = ["user-only", "all-scopes"]
scopes = ["place-orders"]
"#;

/// nginx, killed when dropped.
struct Nginx {
    addr: std::net::SocketAddr,
    _child: Child,
    _dir: TempDir,
}

impl Nginx {
    /// `None` (and a note) when nginx is not installed, unless CI is set: then it fails.
    async fn start(gateway: std::net::SocketAddr, upstream: std::net::SocketAddr) -> Option<Self> {
        if !Path::new(NGINX).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{NGINX} is missing: `bash .ci/run --install-only` installs it"
            );
            eprintln!("skipped: {NGINX} is missing (`bash .ci/run --install-only` installs it)");
            return None;
        }
        // nginx binds its own port: take a free one, and try again if another process
        // took it between our check and nginx's bind.
        for _ in 0..5 {
            let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
            let dir = TempDir::new("nginx");
            let server = SNIPPET
                .replace("127.0.0.1:8080", &addr.to_string())
                .replace("127.0.0.1:4180", &gateway.to_string())
                .replace("127.0.0.1:9000", &upstream.to_string());
            let d = dir.path.display();
            let conf = format!(
                "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
                 events {{ worker_connections 64; }}\n\
                 http {{\n access_log off;\n client_body_temp_path {d}/client_body;\n proxy_temp_path {d}/proxy;\n\
                 fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n{server}\n}}\n"
            );
            let conf_path = dir.path.join("nginx.conf");
            std::fs::write(&conf_path, conf).unwrap();
            let mut child = Command::new(NGINX)
                .arg("-p")
                .arg(&dir.path)
                .arg("-e")
                .arg(dir.path.join("error.log"))
                .arg("-c")
                .arg(&conf_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            for _ in 0..100 {
                if tokio::net::TcpStream::connect(addr).await.is_ok() {
                    return Some(Self { addr, _child: child, _dir: dir });
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // it exited: the port was taken, or the configuration is wrong
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let log = std::fs::read_to_string(dir.path.join("error.log")).unwrap_or_default();
            eprintln!("nginx did not start on {addr}:\n{log}");
            let _ = child.kill().await;
        }
        panic!("nginx did not start");
    }
}

async fn setup() -> Option<(Tokens, Upstream, Gateway, Nginx)> {
    let (tokens, upstream) = (Tokens::new(), Upstream::start().await);
    let gateway =
        Gateway::start(&format!("mode = \"forward-auth\"\n{}{FORWARD_AUTH}", tokens.guard_toml())).await;
    let nginx = Nginx::start(gateway.addr, upstream.addr).await?;
    Some((tokens, upstream, gateway, nginx))
}

#[tokio::test]
async fn allowed_requests_reach_upstream_with_the_forwarded_headers_and_never_a_spoofed_one() {
    let Some((tokens, upstream, _gateway, nginx)) = setup().await else { return };
    let user = tokens.user("42", &["place-orders"]);
    let spoofed = |token: Option<&str>| {
        let mut headers = vec![
            ("x-user-id", "1".to_owned()),
            ("x-scopes", "admin".to_owned()),
            ("x-principal-kind", "client".to_owned()),
            ("x-client-id", "root".to_owned()),
        ];
        headers.extend(token.map(bearer));
        headers
    };

    let answer = send(nginx.addr, "GET", "/orders/7?full=1", &spoofed(Some(&user))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.body, "from upstream");
    let seen = upstream.seen_at("/orders/7?full=1");
    assert_eq!(seen.len(), 1);
    let headers = &seen[0].headers;
    assert_eq!(headers.get_all("x-user-id").iter().collect::<Vec<_>>(), ["42"]);
    assert_eq!(headers["x-client-id"], "test-client");
    assert_eq!(headers["x-scopes"], "place-orders");
    assert_eq!(headers["x-principal-kind"], "user");

    // The policy matched the original method: POST /orders is a route of its own.
    let answer = send(nginx.addr, "POST", "/orders", &[bearer(&user)]).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(upstream.seen_at("/orders")[0].method, "POST");

    // A public route without a token: through, and no spoofed identity with it.
    let answer = send(nginx.addr, "GET", "/health", &spoofed(None)).await;
    assert_eq!(answer.status, StatusCode::OK);
    let headers = &upstream.seen_at("/health")[0].headers;
    for name in ["x-user-id", "x-scopes", "x-principal-kind", "x-client-id"] {
        assert!(!headers.contains_key(name), "a spoofed {name} reached upstream");
    }
}

#[tokio::test]
async fn denied_requests_get_the_guards_status_and_challenge_from_nginx_and_never_reach_upstream() {
    let Some((tokens, upstream, _gateway, nginx)) = setup().await else { return };
    let reader = tokens.user("42", &["check-status"]);
    let client = tokens.client("billing", &["place-orders"]);
    let forged = format!("{}x", tokens.user("42", &["place-orders"]));
    let cases = [
        ("GET", "/orders/1", None, StatusCode::UNAUTHORIZED, Some("Bearer realm=\"api\"")),
        (
            "GET",
            "/orders/1",
            Some(forged.as_str()),
            StatusCode::UNAUTHORIZED,
            Some("error=\"invalid_token\""),
        ),
        (
            "POST",
            "/orders",
            Some(reader.as_str()),
            StatusCode::FORBIDDEN,
            Some("error=\"insufficient_scope\""),
        ),
        (
            "POST",
            "/orders",
            Some(client.as_str()),
            StatusCode::FORBIDDEN,
            Some("This resource requires a user token"),
        ),
        ("GET", "/admin", Some(reader.as_str()), StatusCode::FORBIDDEN, Some("No policy allows this route")),
        // The gateway's 400 for a path not in normal form: nginx makes any other status a 500.
        ("GET", "/health/../admin", Some(reader.as_str()), StatusCode::INTERNAL_SERVER_ERROR, None),
    ];
    for (method, path, token, status, challenge) in cases {
        let headers: Vec<_> = token.map(bearer).into_iter().collect();
        let answer = send(nginx.addr, method, path, &headers).await;
        assert_eq!(answer.status, status, "{method} {path}");
        let challenges: Vec<_> = answer.headers.get_all("www-authenticate").iter().collect();
        let Some(challenge) = challenge else {
            assert!(challenges.is_empty(), "{method} {path}: {challenges:?}");
            continue;
        };
        assert_eq!(challenges.len(), 1, "{method} {path}: {challenges:?}");
        let challenge_seen = challenges[0].to_str().unwrap();
        assert!(challenge_seen.contains(challenge), "{method} {path}: {challenge_seen}");
        if status == StatusCode::FORBIDDEN && path == "/orders" && token == Some(reader.as_str()) {
            assert!(challenge_seen.contains("scope=\"place-orders\""), "{challenge_seen}");
        }
    }
    assert!(upstream.seen().is_empty(), "denied requests reached upstream: {:?}", upstream.seen());
}

#[test]
fn the_gateways_guide_shows_the_snippet_this_test_runs() {
    let guide = include_str!("../../../../docs/gateways.md");
    assert!(
        guide.contains(SNIPPET.trim_end()),
        "docs/gateways.md must show crates/gateway/nginx/forward-auth.conf as it is"
    );
}
