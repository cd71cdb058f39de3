//! Tracing: each rejection emits an event with its reason and never the token. Alone in
//! its own test binary, because a thread-local subscriber races with callsite interest
//! caching when other tests run on other threads.

mod support;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{Request, Response};
use http_body_util::Full;
use serde_json::json;
use support::{user_claims, TestKey, AUDIENCE, ISSUER, NOW};
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::{clock::ManualClock, Algorithm, GuardLayer, KeySet, RequireLayer, Verifier};

fn request(token: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .expect("request")
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

#[tokio::test]
async fn each_rejection_emits_a_tracing_event_with_its_reason_and_never_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let key = TestKey::generate(Algorithm::ES256);
    let verifier = Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .build()
        .expect("verifier");
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
