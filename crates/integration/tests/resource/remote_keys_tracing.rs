//! The tracing events of a remote key set: fetch outcome, status, key count, next refresh,
//! skipped keys and kid misses, and never key material. The subscriber is thread-local,
//! beside tests that hit the same callsites on other threads (the remote key set faults):
//! see `tracing_events::keep_callsites_asking_every_subscriber`.

use crate::jwks_server;
use crate::support;

use std::fs::File;
use std::sync::Arc;
use std::time::Duration;

use jwks_server::{JwksServer, Reply};
use serde_json::json;
use support::{user_claims, TestKey, AUDIENCE, ISSUER, NOW};
use tower_passport::error::Reason;
use tower_passport::{clock::ManualClock, Algorithm, RemoteKeySet, Verifier};

#[tokio::test]
async fn fetches_skipped_keys_failures_and_kid_misses_are_logged_without_key_material() {
    // The events go to a file (`Arc<File>` is a writer factory) and are read back.
    let path = std::env::temp_dir().join(format!("tower-passport-remote-keys-{}.log", std::process::id()));
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(Arc::new(File::create(&path).expect("log file")))
        .finish();
    crate::tracing_events::keep_callsites_asking_every_subscriber();
    let _guard = tracing::subscriber::set_default(subscriber);

    let key = TestKey::generate(Algorithm::ES256);
    let secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0";
    let modulus = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";
    let document = json!({"keys": [
        key.jwk,
        {"kty": "oct", "kid": "shared-secret", "alg": "HS256", "k": secret},
        {"kty": "RSA", "kid": "enc-rsa", "use": "enc", "n": modulus, "e": "AQAB"},
    ]});
    let server = JwksServer::start().await;
    server.serve("/jwks", Reply::json(&document).header("cache-control", "max-age=120"));
    let keys = RemoteKeySet::builder(server.url("/jwks"))
        .retry_backoff(Duration::from_secs(30), Duration::from_secs(60))
        .build()
        .expect("remote set");
    keys.warm_up().await.expect("warm-up");

    let verifier = Verifier::builder(keys.clone())
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .no_cache()
        .build()
        .expect("verifier");
    let mut header = key.header();
    header.kid = Some("rotated-in".into());
    let unknown = key.sign_with(&header, &user_claims("7", "read"));
    server.serve("/jwks", Reply::status(502));
    assert_eq!(verifier.verify(&unknown).expect_err("unknown kid").reason(), Reason::UnknownKid);
    assert_eq!(verifier.verify(&unknown).expect_err("unknown kid").reason(), Reason::UnknownKid);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while keys.metrics().failures == 0 {
        assert!(std::time::Instant::now() < deadline, "the refetch never failed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let logs = std::fs::read_to_string(&path).expect("logs");
    let _ = std::fs::remove_file(&path);
    assert!(logs.contains("key set fetched"), "{logs}");
    assert!(logs.contains("status=200") && logs.contains("keys=1") && logs.contains("skipped=2"), "{logs}");
    assert!(logs.contains("next_refresh_secs=120"), "{logs}");
    assert_eq!(logs.matches("JWKS key skipped").count(), 2, "{logs}");
    assert!(
        logs.contains("shared-secret") && logs.contains("enc-rsa"),
        "skipped keys are named by kid: {logs}"
    );
    assert!(logs.contains("unknown kid: refetching"), "{logs}");
    assert!(logs.contains("unknown kid during the refetch cooldown"), "{logs}");
    assert!(logs.contains("rotated-in"), "{logs}");
    assert!(logs.contains("key set fetch failed") && logs.contains("answered 502"), "{logs}");
    for material in [secret, modulus, key.jwk["x"].as_str().expect("x"), key.jwk["y"].as_str().expect("y")] {
        assert!(!logs.contains(material), "key material in the logs: {logs}");
    }
    assert!(!logs.contains(&unknown), "a token in the logs");
}
