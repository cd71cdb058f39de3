//! Leakage: a whole run (client registration, the password, client-credentials, code and
//! refresh grants, the approval screen, the guard admitting and refusing, revocation,
//! introspection, and every kind of failure on the way) with tracing captured at TRACE,
//! spans included; then no log line and no response body may contain a token, a secret,
//! a password, a code, a verifier or the signing key's material.

use crate::harness::{authorize_query, builder, Auth, Harness, Reply, EMAIL, PASSWORD, VERIFIER};
use crate::issuer_support::{approve_form_fields, NOW};

use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use http::StatusCode;
use tower_passport::clock::ManualClock;
use tower_passport_issuer::SigningKey;
use tracing_subscriber::fmt::format::FmtSpan;

/// Everything written by the process-wide subscriber.
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
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

/// The process-wide TRACE subscriber (global, so that events from blocking threads, where
/// password hashes are checked, are captured too; a thread-local one would also race with
/// callsite interest caching).
fn captured() -> Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_span_events(FmtSpan::FULL)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
            captured
        })
        .clone()
}

/// A value that must never be seen, and what it is.
struct Secret {
    what: String,
    value: String,
}

#[derive(Default)]
struct Secrets(Vec<Secret>);

impl Secrets {
    fn add(&mut self, what: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        assert!(value.len() >= 8, "too short to grep for: {value}");
        self.0.push(Secret { what: what.into(), value });
    }

    /// A JWT: the whole token and its signature (its header and claims are not secret,
    /// but the signature is what makes it a credential).
    fn add_token(&mut self, what: &str, token: &str) {
        self.add(what, token);
        let signature = token.rsplit('.').next().expect("a signature");
        self.add(format!("{what}'s signature"), signature);
    }

    fn assert_absent(&self, place: &str, text: &str) {
        for secret in &self.0 {
            assert!(!text.contains(&secret.value), "{} found in {place}", secret.what);
        }
    }
}

/// A P-256 signing key generated here, so the test knows its private material.
fn signing_key(secrets: &mut Secrets) -> SigningKey {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("keygen");
    let pkcs8 = pair.to_pkcs8v1().expect("pkcs8").as_ref().to_vec();
    let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8.clone()));
    for (index, line) in pem.lines().filter(|line| !line.starts_with("-----")).enumerate() {
        if line.len() >= 16 {
            secrets.add(format!("PEM line {index} of the signing key"), line);
        }
    }
    secrets.add("the signing key in base64", STANDARD.encode(&pkcs8));
    secrets.add("the signing key in base64url", URL_SAFE_NO_PAD.encode(&pkcs8));
    let hex: String = pkcs8.iter().map(|b| format!("{b:02x}")).collect();
    secrets.add("the signing key in hex", hex);
    // The private scalar: the 32 bytes after the `04 20` OCTET STRING header in PKCS#8.
    let at = pkcs8.windows(2).position(|w| w == [0x04, 0x20]).expect("the private key") + 2;
    let scalar = &pkcs8[at..at + 32];
    secrets.add("the private scalar in hex", scalar.iter().map(|b| format!("{b:02x}")).collect::<String>());
    secrets.add("the private scalar in base64url", URL_SAFE_NO_PAD.encode(scalar));
    SigningKey::from_pem(pem.as_bytes()).expect("signing key")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_log_line_at_trace_or_response_body_carries_a_secret() {
    let captured = captured();
    let mut secrets = Secrets::default();
    let clock = ManualClock::new(NOW);
    let key = signing_key(&mut secrets);
    let h = Harness::start_with(builder(&clock).signing_key(key), clock).await;
    // Bodies that must hold no secret: every answer except the token responses, which
    // carry the tokens they issue, and the screen, which carries its own CSRF token.
    let mut bodies: Vec<(String, Reply)> = Vec::new();

    let (id, secret) = h.app().await;
    secrets.add("the client secret", &secret);
    secrets.add("the user's password", PASSWORD);
    let wrong_password = "not the password, but close";
    secrets.add("a wrong password", wrong_password);
    let wrong_secret = format!("{}-wrong", &secret[..secret.len() - 2]);
    secrets.add("a wrong client secret", &wrong_secret);
    secrets.add("the PKCE verifier", VERIFIER);

    // The password grant, right and wrong.
    let login = h.login(&id, &secret, "read-posts").await;
    let access = login["access_token"].as_str().expect("at").to_owned();
    let refresh = login["refresh_token"].as_str().expect("rt").to_owned();
    secrets.add_token("the password grant's access token", &access);
    secrets.add("the password grant's refresh token", &refresh);
    let wrong = [("grant_type", "password"), ("username", EMAIL), ("password", wrong_password)];
    bodies.push(("a wrong password".into(), h.token(Auth::Basic(&id, &secret), &wrong).await));
    bodies.push(("a wrong secret".into(), h.token(Auth::Basic(&id, &wrong_secret), &wrong).await));
    bodies.push((
        "a wrong secret in the body".into(),
        h.token(Auth::Post(&id, &wrong_secret), &[("grant_type", "client_credentials")]).await,
    ));

    // Client credentials.
    let machine =
        h.token(Auth::Basic(&id, &secret), &[("grant_type", "client_credentials")]).await.assert_tokens();
    let machine_token = machine["access_token"].as_str().expect("at").to_owned();
    secrets.add_token("the client-credentials token", &machine_token);

    // The code flow with PKCE, through the screen.
    let callback = "https://spa.example.com/cb";
    let spa = h.public("SPA", &[callback]).await;
    let screen = h.authorize(&authorize_query(&spa, callback, "st"), Some("7")).await;
    assert_eq!(screen.status, StatusCode::OK, "{screen:?}");
    let mut fields = approve_form_fields(&screen.body);
    fields.push(("decision".into(), "approve".into()));
    let approved = h.decide(&fields, Some("7")).await;
    let code = approved.redirect_param("code").expect("a code");
    secrets.add("the authorization code", &code);
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", callback),
        ("code_verifier", VERIFIER),
    ];
    let spa_tokens = h.token(Auth::Public(&spa), &exchange).await.assert_tokens();
    let spa_access = spa_tokens["access_token"].as_str().expect("at").to_owned();
    let spa_refresh = spa_tokens["refresh_token"].as_str().expect("rt").to_owned();
    secrets.add_token("the code grant's access token", &spa_access);
    secrets.add("the code grant's refresh token", &spa_refresh);
    bodies.push(("a replayed code".into(), h.token(Auth::Public(&spa), &exchange).await));
    let mut wrong_verifier = exchange;
    wrong_verifier[3].1 = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl";
    bodies.push(("a wrong verifier".into(), h.token(Auth::Public(&spa), &wrong_verifier).await));

    // Refresh, then replay the spent refresh token (which revokes the family).
    let rotate = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
    let rotated = h.token(Auth::Basic(&id, &secret), &rotate).await.assert_tokens();
    let rotated_access = rotated["access_token"].as_str().expect("at").to_owned();
    secrets.add_token("the refreshed access token", &rotated_access);
    secrets.add("the rotated refresh token", rotated["refresh_token"].as_str().expect("rt"));
    h.clock.advance(3_600);
    bodies.push(("a replayed refresh token".into(), h.token(Auth::Basic(&id, &secret), &rotate).await));

    // The guard: admitted, tampered, foreign, revoked.
    bodies.push(("the guard admitting".into(), h.api(&machine_token).await));
    let mut tampered = machine_token.clone();
    let last = tampered.pop().expect("a character");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    secrets.add_token("a tampered token", &tampered);
    bodies.push(("a tampered token".into(), h.api(&tampered).await));
    bodies.push((
        "a token without its signature".into(),
        h.api(&machine_token[..machine_token.rfind('.').expect("dot")]).await,
    ));
    bodies.push(("a revoked family's token".into(), h.api(&rotated_access).await));
    let revoke = [("token", machine_token.as_str())];
    bodies.push(("a revocation".into(), h.form("/oauth/revoke", Auth::Basic(&id, &secret), &revoke).await));
    bodies.push(("a revoked token".into(), h.api(&machine_token).await));

    // Introspection, right and wrong.
    bodies.push((
        "an introspection".into(),
        h.form("/oauth/introspect", Auth::Basic(&id, &secret), &[("token", spa_access.as_str())]).await,
    ));
    bodies.push((
        "a refresh token introspected".into(),
        h.form("/oauth/introspect", Auth::Basic(&id, &secret), &[("token", spa_refresh.as_str())]).await,
    ));
    bodies.push((
        "an introspection with a wrong secret".into(),
        h.form("/oauth/introspect", Auth::Basic(&id, &wrong_secret), &[("token", spa_access.as_str())]).await,
    ));
    bodies.push((
        "a revocation with a wrong secret".into(),
        h.form("/oauth/revoke", Auth::Basic(&id, &wrong_secret), &[("token", spa_refresh.as_str())]).await,
    ));

    // Every failure really failed, and every body is clean.
    for (what, reply) in &bodies {
        secrets.assert_absent(&format!("the body of {what}"), &reply.body);
        for (name, value) in &reply.headers {
            secrets.assert_absent(
                &format!("the {name} header of {what}"),
                &String::from_utf8_lossy(value.as_bytes()),
            );
        }
    }
    let statuses: Vec<u16> = bodies.iter().map(|(_, reply)| reply.status.as_u16()).collect();
    assert_eq!(
        statuses,
        [400, 401, 401, 400, 400, 400, 200, 401, 401, 401, 200, 401, 200, 200, 401, 401],
        "{bodies:#?}"
    );

    // Debug output of the issuer (its key ring, store and settings) holds none of it either.
    secrets.assert_absent("the issuer's Debug output", &format!("{:?}", h.issuer));
    secrets.assert_absent("the issuer's Debug output, pretty", &format!("{:#?}", h.issuer));

    // The log saw all of it, at every level, and holds none of it.
    let log = captured.text();
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "the capture runs below INFO");
    assert!(log.contains("tower_passport"), "the libraries' events were captured: {log}");
    secrets.assert_absent("the TRACE log", &log);
    assert!(secrets.0.len() > 25, "{} secrets", secrets.0.len());
}
