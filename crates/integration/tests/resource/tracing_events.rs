//! Tracing: each rejection emits an event with its reason and never the token. The
//! subscribers are thread-local, beside tests that hit the same callsites on other
//! threads: see [`keep_callsites_asking_every_subscriber`].

use crate::support;

use std::convert::Infallible;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{Request, Response};
use http_body_util::Full;
use serde_json::json;
use support::{user_claims, TestKey, ISSUER, NOW};
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::{Algorithm, GuardLayer, RequireLayer};

fn request(token: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .expect("request")
}

/// tracing-core takes "one dispatcher alive" for "the global one alone": a callsite first
/// hit then, on another test's thread, gets its interest from that thread's default (no
/// subscriber) and caches "never", and a thread-local subscriber set here never sees its
/// events. A second dispatcher alive for the whole process keeps every registration asking
/// every live subscriber. Call it before `set_default`.
pub(crate) fn keep_callsites_asking_every_subscriber() {
    static SECOND: OnceLock<tracing::Dispatch> = OnceLock::new();
    SECOND.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
}

/// Captures tracing output into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures this thread's events at DEBUG and above until the guard drops. Every test
    /// here uses the same level: different ones race with callsite interest caching.
    fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Self::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        keep_callsites_asking_every_subscriber();
        (captured, tracing::subscriber::set_default(subscriber))
    }
}

#[tokio::test]
async fn each_rejection_emits_a_tracing_event_with_its_reason_and_never_the_token() {
    let (captured, _guard) = Captured::start();
    let key = TestKey::generate(Algorithm::ES256);
    let verifier = support::verifier_for(&key);
    let service = ServiceBuilder::new()
        .layer(GuardLayer::new(verifier))
        .layer(RequireLayer::all_scopes(["admin"]))
        .service_fn(|_: Request<Full<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        });
    let expired_token = {
        let mut claims = user_claims("7", "a");
        claims["exp"] = json!(NOW - 3600);
        key.sign(&claims)
    };
    let scoped_token = key.sign(&user_claims("7", "a"));
    let expired = service.clone().oneshot(request(&expired_token)).await.expect("infallible");
    assert_eq!(expired.status(), 401);
    let forbidden = service.oneshot(request(&scoped_token)).await.expect("infallible");
    assert_eq!(forbidden.status(), 403);
    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    assert!(logs.contains("reason=Expired"), "{logs}");
    assert!(logs.contains("reason=MissingScope"), "{logs}");
    for token in [&expired_token, &scoped_token] {
        for part in token.split('.') {
            assert!(!logs.contains(part), "a token part leaked into the logs");
        }
    }
}

#[tokio::test]
async fn an_unknown_kid_is_logged_at_warn_once_per_kid_with_the_known_key_ids() {
    // The lines looked at are the WARN ones, what a deployment logs by default.
    let (captured, _guard) = Captured::start();
    let key = TestKey::generate_with_kid(Algorithm::ES256, "known-2025");
    let verifier = support::verifier_for(&key);
    let signed_as = |kid: &str| {
        let mut header = key.header();
        header.kid = Some(kid.to_owned());
        key.sign_with(&header, &user_claims("7", "a"))
    };
    let lines = || {
        let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
        logs.lines()
            .filter(|line| line.contains("WARN") && line.contains("kid"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    for _ in 0..2 {
        let refused = verifier.verify(&signed_as("rotated-in")).expect_err("unknown kid");
        assert_eq!(refused.reason(), tower_passport::error::Reason::UnknownKid);
    }
    let first = lines();
    assert_eq!(first.len(), 1, "one line for two tokens with the same kid: {first:?}");
    assert!(first[0].contains("rotated-in") && first[0].contains("known-2025"), "{first:?}");
    assert!(first[0].contains(ISSUER), "{first:?}");
    assert!(verifier.verify(&signed_as("another")).is_err());
    let second = lines();
    assert_eq!(second.len(), 2, "another kid, another line: {second:?}");
    assert!(second[1].contains("another") && second[1].contains("known-2025"), "{second:?}");
    assert!(verifier.verify(&signed_as("known-2025")).is_ok(), "the known kid passes");
    assert_eq!(lines().len(), 2);
}

#[derive(Clone)]
struct Admin;

#[tokio::test]
async fn an_axum_extractor_wiring_mistake_is_logged_at_warn_naming_the_principal_types() {
    use axum::routing::get;
    use tower_passport::Principal;
    let (captured, _guard) = Captured::start();
    let key = TestKey::generate(Algorithm::ES256);
    let handler = |_: Principal<Admin>| async { "never" };
    let mistyped =
        axum::Router::new().route("/", get(handler)).layer(GuardLayer::new(support::verifier_for(&key)));
    let unguarded = axum::Router::new().route("/", get(handler));
    let token = key.sign(&user_claims("7", "a"));
    let to_request = |request: Request<Full<Bytes>>| request.map(axum::body::Body::new);
    assert_eq!(mistyped.oneshot(to_request(request(&token))).await.expect("infallible").status(), 500);
    assert_eq!(unguarded.oneshot(to_request(request(&token))).await.expect("infallible").status(), 500);
    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    let warnings: Vec<&str> = logs.lines().filter(|line| line.contains("WARN")).collect();
    let asked = "Principal<resource::tracing_events::Admin>";
    assert!(
        warnings.iter().any(|line| line.contains(asked) && line.contains("Principal<()>")),
        "the mistyped extractor names both types: {warnings:?}"
    );
    assert!(
        warnings.iter().any(|line| line.contains(asked) && line.contains("no guard ran")),
        "the unguarded extractor names its type and that no guard ran: {warnings:?}"
    );
    assert!(!logs.contains(token.split('.').nth(2).expect("signature")), "the token never leaks");
}

#[tokio::test]
async fn a_resolver_past_its_timeout_is_logged_at_warn_as_a_503_with_the_deadline_and_never_the_token() {
    let (captured, _guard) = Captured::start();
    let key = TestKey::generate(Algorithm::ES256);
    // A user table that never answers.
    let stalled = |_: tower_passport::VerifiedToken| async {
        std::future::pending::<()>().await;
        Ok::<_, tower_passport::BackendError>(Some(()))
    };
    let guard = GuardLayer::builder(support::verifier_for(&key))
        .resolver(stalled)
        .resolve_timeout(std::time::Duration::from_millis(100))
        .build()
        .expect("guard");
    let service = ServiceBuilder::new().layer(guard).service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
    });
    let token = key.sign(&user_claims("7", "a"));
    let answered = tokio::time::timeout(std::time::Duration::from_secs(10), service.oneshot(request(&token)))
        .await
        .expect("answered at the resolver's deadline, not never")
        .expect("infallible");
    assert_eq!(answered.status(), 503);
    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    let rejected: Vec<&str> =
        logs.lines().filter(|line| line.contains("WARN") && line.contains("request rejected")).collect();
    assert_eq!(rejected.len(), 1, "{logs}");
    assert!(
        rejected[0].contains("status=503") && rejected[0].contains("reason=ResolverFailed"),
        "{rejected:?}"
    );
    assert!(rejected[0].contains("the resolver did not answer within 100ms"), "{rejected:?}");
    assert!(!logs.contains(token.split('.').nth(2).expect("signature")), "the token never leaks");
}
