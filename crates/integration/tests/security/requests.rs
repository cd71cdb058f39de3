//! Hostile requests over a real hyper server on loopback, written byte by byte on a raw
//! TCP socket: oversized headers and bodies, bodies announced and never sent, several
//! `Authorization` headers, and every spacing of `Bearer`.
//!
//! Already covered elsewhere: two `Authorization` headers at the guard in process
//! (resource/guard.rs `two_authorization_headers_are_invalid_request`), the guard's 8 KiB
//! cap (`the_default_cap_is_eight_kib`), and a token-endpoint body announced over 16 KiB
//! (issuer/endpoints.rs `an_announced_oversized_body_is_413_before_any_of_it_is_sent`).

use crate::harness::{Auth, Harness};
use crate::issuer_support::{through_guard, AUDIENCE, ISSUER, NOW};
use crate::support::{user_claims, TestKey};

use std::net::SocketAddr;
use std::time::Duration;

use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;
use tower_passport::clock::ManualClock;
use tower_passport::error::Reason;
use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier};

/// How long a read may wait before the test calls the server hung (a bound on a hang, not
/// a performance assertion).
const HANG: Duration = Duration::from_secs(20);

/// Serves the harness's app (the OAuth routes and `/api/me` behind the guard) on loopback.
async fn serve(h: &Harness) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = h.app.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A raw HTTP/1.1 answer: its status and the whole text.
#[derive(Debug)]
struct Raw {
    status: u16,
    text: String,
}

/// Writes `request` and reads the answer's head and its `Content-Length` body (or up to
/// the close).
async fn exchange(addr: SocketAddr, request: &[u8]) -> Raw {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    read_answer(&mut stream).await
}

async fn read_answer(stream: &mut TcpStream) -> Raw {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(HANG, stream.read(&mut buffer))
            .await
            .expect("the server answers")
            .unwrap_or(0);
        if read == 0 {
            break;
        }
        bytes.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&bytes);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok());
            if length.is_some_and(|length| bytes.len() >= end + 4 + length) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {text:?}"));
    Raw { status, text }
}

fn get_api(headers: &str) -> Vec<u8> {
    format!("GET /api/me HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}\r\n").into_bytes()
}

// ---- oversized headers and bodies -------------------------------------------------------

#[tokio::test]
async fn oversized_headers_are_refused_by_hyper_or_the_guard() {
    let h = Harness::start().await;
    let addr = serve(&h).await;
    // Over the guard's 8 KiB cap, within hyper's head limit: the guard's 400.
    let answer =
        exchange(addr, &get_api(&format!("Authorization: Bearer {}\r\n", "a".repeat(9 * 1024)))).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert!(answer.text.contains(Reason::TokenTooLong.description()), "{answer:?}");
    assert!(answer.text.contains(r#"error="invalid_request""#), "{answer:?}");
    // A head far over hyper's limit: refused by the server before any service runs
    // (431, or hyper's bare close), never a 2xx.
    let answer =
        exchange(addr, &get_api(&format!("Authorization: Bearer {}\r\n", "a".repeat(1024 * 1024)))).await;
    assert!(answer.status == 431 || answer.status == 400, "{answer:?}");
    let many: String = (0..500).map(|i| format!("X-Junk-{i}: {}\r\n", "b".repeat(100))).collect();
    let answer = exchange(addr, &get_api(&many)).await;
    assert!(answer.status == 431 || answer.status == 400, "{answer:?}");
    // The server still serves after all of it.
    let ok = exchange(
        addr,
        b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(ok.status, 200, "{ok:?}");
}

#[tokio::test]
async fn a_body_announced_and_never_sent_does_not_hold_the_answer_or_the_server() {
    let h = Harness::start().await;
    let addr = serve(&h).await;
    // The guard answers without reading the body: 401 at once, though a gigabyte is
    // announced and nothing follows.
    let head = "GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc.def.ghi\r\nContent-Length: 1000000000\r\n\r\n";
    let mut stalled = TcpStream::connect(addr).await.expect("connect");
    stalled.write_all(head.as_bytes()).await.expect("write");
    let answer = read_answer(&mut stalled).await;
    assert_eq!(answer.status, 401, "{answer:?}");
    assert!(answer.text.contains(Reason::MalformedHeaderParameters.description()), "{answer:?}");
    // The token endpoint, announced 100 bytes of form and sent 20, then silence: that
    // connection waits, and every other client is served meanwhile.
    let (id, secret) = h.app().await;
    let mut partial = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: {}\r\nContent-Length: 100\r\n\r\ngrant_type=client_cr",
        crate::harness::basic(&id, &secret)
    );
    partial.write_all(head.as_bytes()).await.expect("write");
    let served = h.token(Auth::Basic(&id, &secret), &[("grant_type", "client_credentials")]).await;
    served.assert_tokens();
    let other = exchange(
        addr,
        b"GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(other.status, 200, "{other:?}");
    // Then the stalled client gives up (closes its write side): the body is short, so the
    // request is never treated as complete; no tokens come back.
    partial.shutdown().await.expect("shutdown");
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(HANG, partial.read_to_end(&mut rest)).await.expect("the server closes");
    let rest = String::from_utf8_lossy(&rest);
    assert!(!rest.contains("access_token"), "{rest}");
    assert!(rest.is_empty() || rest.starts_with("HTTP/1.1 4"), "{rest}");
}

// ---- several Authorization headers ------------------------------------------------------

#[tokio::test]
async fn several_authorization_headers_are_invalid_request_over_the_wire() {
    let h = Harness::start().await;
    let addr = serve(&h).await;
    let (id, secret) = h.app().await;
    let token =
        h.token(Auth::Basic(&id, &secret), &[("grant_type", "client_credentials")]).await.assert_tokens();
    let token = token["access_token"].as_str().expect("at").to_owned();
    let ok = exchange(addr, &get_api(&format!("Authorization: Bearer {token}\r\n"))).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    for headers in [
        format!("Authorization: Bearer {token}\r\nAuthorization: Bearer {token}\r\n"),
        format!("Authorization: Bearer {token}\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"),
        format!("Authorization: Basic dXNlcjpwYXNz\r\nAuthorization: Bearer {token}\r\n"),
        format!("Authorization: Bearer {token}\r\nauthorization: Bearer garbage\r\n"),
        format!("Authorization: Bearer {token}, Bearer {token}\r\n"),
        format!("Authorization: Basic dXNlcjpwYXNz, Bearer {token}\r\n"),
        format!("Authorization: Bearer {token}\r\nAuthorization: \r\n"),
    ] {
        let answer = exchange(addr, &get_api(&headers)).await;
        assert_eq!(answer.status, 400, "{headers}: {answer:?}");
        assert!(answer.text.contains(r#"error="invalid_request""#), "{headers}: {answer:?}");
        assert!(!answer.text.contains(&token), "the token is never echoed");
    }
    // An obsolete line folding (RFC 9112 §5.2) is refused by hyper itself.
    let folded = exchange(addr, &get_api(&format!("Authorization: Bearer\r\n {token}\r\n"))).await;
    assert_eq!(folded.status, 400, "{folded:?}");
}

// ---- every spacing of Bearer ------------------------------------------------------------

#[tokio::test]
async fn every_spacing_of_bearer() {
    let key = TestKey::generate(Algorithm::ES256);
    let verifier = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .build()
        .expect("verifier");
    let guard: GuardLayer<()> = GuardLayer::new(verifier);
    let token = key.sign(&user_claims("42", "read-posts"));
    assert_eq!(through_guard(&guard, &token).await.status, StatusCode::OK);
    // (the Authorization value, the status, the error code or None for a bare challenge)
    let cases: Vec<(String, u16, Option<&str>)> = vec![
        (format!("Bearer {token}"), 200, None),
        // RFC 9110 §11.1: the scheme is case-insensitive.
        (format!("bearer {token}"), 200, None),
        (format!("BEARER {token}"), 200, None),
        (format!("BeArEr {token}"), 200, None),
        // RFC 9110 §5.5: a field value's leading and trailing whitespace is not part of it;
        // extra spaces before the credential are tolerated, as most servers do.
        (format!(" Bearer {token}"), 200, None),
        (format!("Bearer {token} "), 200, None),
        (format!("Bearer  {token}"), 200, None),
        (format!("Bearer \t{token}"), 200, None),
        // No space at all, or a tab instead: not the Bearer scheme, so no bearer token.
        (format!("Bearer{token}"), 401, None),
        (format!("Bearer\t{token}"), 401, None),
        // The scheme alone, or with only whitespace: a Bearer credential that is empty,
        // malformed (RFC 6750 §3.1 `invalid_request`).
        ("Bearer".to_owned(), 400, Some("invalid_request")),
        ("Bearer ".to_owned(), 400, Some("invalid_request")),
        ("Bearer  \t ".to_owned(), 400, Some("invalid_request")),
        // Anything after the b64token is not a b64token (RFC 6750 §2.1).
        (format!("Bearer {token} extra"), 400, Some("invalid_request")),
        (format!("Bearer {token}\tx"), 400, Some("invalid_request")),
        (format!("Bearer \"{token}\""), 400, Some("invalid_request")),
        (format!("Bearer token={token}"), 400, Some("invalid_request")),
        // Another scheme entirely is no bearer token.
        (format!("Token {token}"), 401, None),
        (format!("JWT {token}"), 401, None),
        ("Basic dXNlcjpwYXNz".to_owned(), 401, None),
    ];
    let mut mismatches = Vec::new();
    for (value, status, code) in cases {
        let request = http::Request::builder()
            .uri("/api")
            .header(http::header::AUTHORIZATION, &value)
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .expect("request");
        let service = tower::ServiceBuilder::new().layer(guard.clone()).service_fn(|_| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                bytes::Bytes::new(),
            )))
        });
        let response = service.oneshot(request).await.expect("infallible");
        let challenge = response
            .headers()
            .get(http::header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().expect("ascii").to_owned());
        if response.status().as_u16() != status {
            mismatches.push(format!("{value:?}: {} {challenge:?}", response.status()));
            continue;
        }
        if status != 200 {
            let challenge = challenge.expect("a challenge");
            match code {
                Some(code) => {
                    assert!(challenge.contains(&format!("error=\"{code}\"")), "{value:?}: {challenge}")
                }
                None => assert!(!challenge.contains("error="), "{value:?}: {challenge}"),
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
