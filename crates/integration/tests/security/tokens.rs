//! Crafted tokens against the guard: every case is answered through a `GuardLayer` and
//! asserted by its exact status, `WWW-Authenticate` challenge and error description.
//!
//! Cases already in the verifier's own tests are not repeated here: `alg: none` in four
//! capitalisations (resource/verify.rs `alg_none_*`), HS256 keyed with the RSA PEM and DER
//! (`hs256_token_signed_with_the_rsa_public_key_*`), `crit` (`a_crit_header_*`), literal
//! duplicate members (`a_duplicate_header_member_*`, `every_duplicated_registered_claim_*`),
//! string dates (`an_exp_that_is_not_a_number_*`), fractional dates
//! (`fractional_numeric_dates_are_accepted`), and issuer A's claims under issuer B's key
//! with different kids (resource/issuers.rs). This file adds the missing variants.

use crate::issuer_support::{through_guard, Answer};
use crate::support::{self, raw_token, TestKey, AUDIENCE, ISSUER, NOW};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use http::StatusCode;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};
use tower_passport::clock::ManualClock;
use tower_passport::error::Reason;
use tower_passport::verify::TrustedIssuer;
use tower_passport::{Algorithm, GuardLayer, KeySet, Verifier};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn guard_for(keys: &[&TestKey]) -> GuardLayer<()> {
    let set = keys.iter().fold(KeySet::new(), |set, key| set.with_key(key.verifying_key()));
    let verifier = Verifier::builder(set)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .build()
        .expect("verifier");
    GuardLayer::new(verifier)
}

fn claims() -> Value {
    support::user_claims("42", "read-posts")
}

/// Asserts the guard refuses `token` with 401 `invalid_token` for `reason`.
async fn refused(guard: &GuardLayer<()>, token: &str, reason: Reason) -> Answer {
    let answer = through_guard(guard, token).await;
    answer.assert_invalid_token(reason.description());
    assert!(!answer.body.contains(token), "the token is never echoed");
    answer
}

/// Asserts the guard refuses `token` with 400 `invalid_request` for `reason`, before any
/// verification.
async fn invalid_request(guard: &GuardLayer<()>, token: &str, reason: Reason) {
    let answer = through_guard(guard, token).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    assert_eq!(answer.json()["error"], "invalid_request", "{answer:?}");
    assert_eq!(answer.json()["error_description"], reason.description(), "{answer:?}");
    let challenge = answer.challenge.as_deref().expect("a challenge");
    assert!(challenge.contains(r#"error="invalid_request""#), "{challenge}");
}

async fn admitted(guard: &GuardLayer<()>, token: &str) {
    let answer = through_guard(guard, token).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.json()["sub"], "42", "{answer:?}");
}

/// Every capitalisation of `word`.
fn capitalisations(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    (0..1u32 << chars.len())
        .map(|mask| {
            chars
                .iter()
                .enumerate()
                .map(|(i, c)| if mask & (1 << i) != 0 { c.to_ascii_uppercase() } else { *c })
                .collect()
        })
        .collect()
}

/// A token with exactly these header and payload JSON texts, signed by `key`.
fn signed_text(key: &TestKey, header: &str, payload: &str) -> String {
    key.sign_texts(header, payload)
}

fn claims_text() -> String {
    format!(
        r#"{{"iss":"{ISSUER}","aud":"{AUDIENCE}","sub":"42","client_id":"app","iat":{NOW},"exp":{},"jti":"t1","scope":"read-posts"}}"#,
        NOW + 600
    )
}

const HS_HEADER: &str = r#"{"alg":"HS256","typ":"at+jwt","kid":"hs256-key"}"#;

fn parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

// ---- alg: none ---------------------------------------------------------------------------

#[tokio::test]
async fn alg_none_in_every_capitalisation_is_refused() {
    let key = TestKey::generate(Algorithm::ES256);
    let guard = guard_for(&[&key]);
    let spellings = capitalisations("none");
    assert_eq!(spellings.len(), 16);
    for alg in spellings {
        for header in
            [json!({"alg": alg, "typ": "at+jwt"}), json!({"alg": alg, "typ": "at+jwt", "kid": key.kid})]
        {
            // An empty signature is not even a compact JWS (three non-empty parts).
            refused(&guard, &raw_token(&header, &claims(), b""), Reason::MalformedToken).await;
            // Any signature bytes: the algorithm is not one we accept.
            for signature in [&b"junk"[..], &[0u8; 64][..]] {
                refused(&guard, &raw_token(&header, &claims(), signature), Reason::UnsupportedAlgorithm)
                    .await;
            }
        }
    }
}

// ---- HS/RS and HS/ES confusion -----------------------------------------------------------

fn der_length(length: usize) -> Vec<u8> {
    if length < 0x80 {
        return vec![length as u8];
    }
    let bytes: Vec<u8> = length.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

fn der_integer(unsigned: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = unsigned.iter().copied().skip_while(|b| *b == 0).collect();
    let mut value = if trimmed.first().is_some_and(|b| b & 0x80 != 0) { vec![0] } else { vec![] };
    value.extend(if trimmed.is_empty() { vec![0] } else { trimmed });
    let mut out = vec![0x02];
    out.extend(der_length(value.len()));
    out.extend(value);
    out
}

fn der_sequence(content: &[u8]) -> Vec<u8> {
    let mut out = vec![0x30];
    out.extend(der_length(content.len()));
    out.extend(content);
    out
}

fn jwk_member(key: &TestKey, name: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(key.jwk[name].as_str().expect("member")).expect("base64url")
}

/// Every encoding of `key`'s public half an attacker could try as an HMAC secret.
fn public_key_encodings(key: &TestKey) -> Vec<(&'static str, Vec<u8>)> {
    let mut encodings = vec![
        ("SPKI PEM", key.public_pem.clone().into_bytes()),
        ("SPKI PEM with CRLF", key.public_pem.replace('\n', "\r\n").into_bytes()),
        ("SPKI PEM without its last newline", key.public_pem.trim_end().as_bytes().to_vec()),
        ("SPKI DER", key.public_der.clone()),
        ("SPKI DER in base64", STANDARD.encode(&key.public_der).into_bytes()),
        ("SPKI DER in base64url", b64(&key.public_der).into_bytes()),
        ("JWK", key.jwk.to_string().into_bytes()),
        ("JWK without kid", {
            let mut jwk = key.jwk.clone();
            jwk.as_object_mut().expect("object").remove("kid");
            jwk.to_string().into_bytes()
        }),
    ];
    if key.jwk["kty"] == "RSA" {
        let (n, e) = (jwk_member(key, "n"), jwk_member(key, "e"));
        let pkcs1 = der_sequence(&[der_integer(&n), der_integer(&e)].concat());
        let pkcs1_pem = pem::encode(&pem::Pem::new("RSA PUBLIC KEY", pkcs1.clone()));
        encodings.push(("PKCS#1 DER", pkcs1));
        encodings.push(("PKCS#1 PEM", pkcs1_pem.into_bytes()));
        encodings.push(("modulus", n));
    } else {
        let (x, y) = (jwk_member(key, "x"), jwk_member(key, "y"));
        let mut point = vec![0x04];
        point.extend(&x);
        point.extend(&y);
        let mut compressed = vec![0x02 | (y[y.len() - 1] & 1)];
        compressed.extend(&x);
        encodings.push(("SEC1 uncompressed point", point));
        encodings.push(("SEC1 compressed point", compressed));
        encodings.push(("x || y", [x, y].concat()));
    }
    encodings
}

#[tokio::test]
async fn hmac_keyed_with_an_asymmetric_public_key_in_any_encoding_is_refused() {
    for alg in [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::ES384] {
        let key = TestKey::generate(alg);
        let guard = guard_for(&[&key]);
        for (encoding, secret) in public_key_encodings(&key) {
            for hs in [
                jsonwebtoken::Algorithm::HS256,
                jsonwebtoken::Algorithm::HS384,
                jsonwebtoken::Algorithm::HS512,
            ] {
                let mut header = Header::new(hs);
                header.typ = Some("at+jwt".into());
                // With the victim key's kid: the key is found, and its algorithm is not HS*.
                header.kid = Some(key.kid.clone());
                let token = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&secret))
                    .expect("sign");
                let answer = through_guard(&guard, &token).await;
                assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{alg} {hs:?} {encoding}");
                answer.assert_invalid_token(Reason::AlgorithmMismatch.description());
                // Without a kid: no HS* key exists to choose.
                header.kid = None;
                let token = jsonwebtoken::encode(&header, &claims(), &EncodingKey::from_secret(&secret))
                    .expect("sign");
                refused(&guard, &token, Reason::AmbiguousKey).await;
            }
        }
    }
}

// ---- kid -----------------------------------------------------------------------------------

#[tokio::test]
async fn hostile_kid_values_are_unknown_keys() {
    let key = TestKey::generate(Algorithm::ES256);
    let guard = guard_for(&[&key]);
    let long = "k".repeat(4_000);
    let kids = [
        "../../../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "/dev/zero",
        "file:///etc/passwd",
        "' OR '1'='1' --",
        "es256-key' OR 1=1; DROP TABLE oauth_clients; --",
        "es256-key\u{0}",
        "\u{0}",
        "es256-key\u{0}evil",
        long.as_str(),
        "ключ",
        "es256-kеy", // Cyrillic е
        "🔑",
        "es256-key\u{200b}",
        "ES256-KEY",
        " es256-key",
        "",
    ];
    for kid in kids {
        let mut header = key.header();
        header.kid = Some(kid.to_owned());
        let token = key.sign_with(&header, &claims());
        assert!(token.len() <= 8 * 1024, "under the guard's cap");
        refused(&guard, &token, Reason::UnknownKid).await;
    }
    // A kid that makes the token longer than the guard's cap never reaches the verifier.
    let mut header = key.header();
    header.kid = Some("k".repeat(16 * 1024));
    let token = key.sign_with(&header, &claims());
    let answer = through_guard(&guard, &token).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{answer:?}");
    assert_eq!(answer.json()["error"], "invalid_request");
    assert_eq!(answer.json()["error_description"], Reason::TokenTooLong.description());
    // Baseline: the real kid passes.
    admitted(&guard, &key.sign(&claims())).await;
}

// ---- jku, x5u, jwk, x5c -----------------------------------------------------------------

/// A loopback listener that counts the connections it accepts.
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/keys", listener.local_addr().expect("addr"));
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (url, count)
}

#[tokio::test]
async fn jku_x5u_jwk_and_x5c_are_never_fetched_or_trusted() {
    let (url, connections) = counting_listener().await;
    let trusted = TestKey::generate(Algorithm::ES256);
    let attacker = TestKey::generate_with_kid(Algorithm::ES256, "attacker");
    let guard = guard_for(&[&trusted]);
    let certificate = STANDARD.encode(&attacker.public_der);
    let hostile = [
        ("jku", json!(url)),
        ("x5u", json!(url)),
        ("jwk", attacker.jwk.clone()),
        ("x5c", json!([certificate])),
        ("x5t", json!(b64(&[1; 20]))),
    ];
    for (name, value) in &hostile {
        // Signed by the attacker's key that the header points at or embeds.
        for kid in [Some("attacker"), None, Some(trusted.kid.as_str())] {
            let mut header = serde_json::to_value(attacker.header()).expect("header");
            header[*name] = value.clone();
            header["kid"] = kid.map_or(Value::Null, |kid| json!(kid));
            if kid.is_none() {
                header.as_object_mut().expect("object").remove("kid");
            }
            let token = attacker_token(&attacker, &header);
            // Its own kid is unknown; no kid picks the one trusted ES256 key, and so does
            // the trusted kid: either way the attacker's signature fails under it.
            let reason = if kid == Some("attacker") { Reason::UnknownKid } else { Reason::BadSignature };
            refused(&guard, &token, reason).await;
        }
        // The same header on a token the trusted key really signed changes nothing: the
        // member is ignored (RFC 7515 §4: unknown members are ignored unless in `crit`).
        let mut header = serde_json::to_value(trusted.header()).expect("header");
        header[*name] = value.clone();
        admitted(&guard, &attacker_token(&trusted, &header)).await;
    }
    // Give a stray fetch time to land before counting.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(connections.load(Ordering::SeqCst), 0, "no key URL was ever fetched");
}

/// `key` signing `claims()` under this exact header JSON.
fn attacker_token(key: &TestKey, header: &Value) -> String {
    key.sign_texts(&header.to_string(), &claims().to_string())
}

// ---- crit, b64, duplicate members ---------------------------------------------------------

#[tokio::test]
async fn b64_false_is_never_understood() {
    let hs = TestKey::generate(Algorithm::HS256);
    let guard = guard_for(&[&hs]);
    // With `crit` (as RFC 7797 §6 requires): an extension we do not understand, refused.
    let header = r#"{"alg":"HS256","typ":"at+jwt","kid":"hs256-key","b64":false,"crit":["b64"]}"#;
    refused(&guard, &signed_text(&hs, header, &claims_text()), Reason::MalformedHeaderParameters).await;
    // Unencoded payload signed as RFC 7797 would (over the raw JSON): not base64url.
    let raw_header = r#"{"alg":"HS256","typ":"at+jwt","kid":"hs256-key","b64":false}"#;
    let input = format!("{}.{}", b64(raw_header.as_bytes()), claims_text());
    let token = format!("{input}.{}", hs.sign_input(&input));
    // The raw JSON's commas make it a list of credentials to the guard (RFC 7235 §4.2: a
    // credential is a token68, and a comma separates credentials), refused before any
    // verification; the verifier alone finds a payload that is not base64url.
    invalid_request(&guard, &token, Reason::DuplicateCredentials).await;
    let verifier = support::verifier_for(&hs);
    let error = verifier.verify(&token).expect_err("refused");
    assert_eq!(error.reason(), Reason::MalformedToken);
    // `b64` outside `crit` has no meaning (RFC 7797 §6) and is ignored like any unknown
    // member (RFC 7515 §4): the payload is read as base64url, exactly what was signed.
    admitted(&guard, &signed_text(&hs, raw_header, &claims_text())).await;
}

#[tokio::test]
async fn crit_in_any_shape_is_refused() {
    let hs = TestKey::generate(Algorithm::HS256);
    let guard = guard_for(&[&hs]);
    for crit in [r#""b64""#, r#"["jku"]"#, r#"[]"#, r#"{}"#, r#"false"#, r#"0"#, r#"[null]"#] {
        let header = format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"hs256-key","crit":{crit}}}"#);
        refused(&guard, &signed_text(&hs, &header, &claims_text()), Reason::MalformedHeaderParameters).await;
        let escaped = format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"hs256-key","\u0063rit":{crit}}}"#);
        refused(&guard, &signed_text(&hs, &escaped, &claims_text()), Reason::MalformedHeaderParameters).await;
    }
}

#[tokio::test]
async fn duplicate_members_spelled_with_escapes_are_refused() {
    let hs = TestKey::generate(Algorithm::HS256);
    let guard = guard_for(&[&hs]);
    for header in [
        r#"{"alg":"HS256","\u0061lg":"none","typ":"at+jwt","kid":"hs256-key"}"#,
        r#"{"\u0061lg":"none","alg":"HS256","typ":"at+jwt","kid":"hs256-key"}"#,
        r#"{"alg":"HS256","typ":"at+jwt","kid":"hs256-key","\u006bid":"other"}"#,
        r#"{"alg":"HS256","typ":"at+jwt","\u0074\u0079\u0070":"JWT","kid":"hs256-key"}"#,
    ] {
        refused(&guard, &signed_text(&hs, header, &claims_text()), Reason::MalformedHeaderParameters).await;
    }
    let claims = claims_text();
    for (name, escaped, value) in [
        ("exp", r#""\u0065xp""#, format!("{}", NOW - 3600)),
        ("sub", r#""\u0073ub""#, r#""admin""#.to_owned()),
        ("iss", r#""i\u0073s""#, r#""https://evil.test""#.to_owned()),
        ("aud", r#""\u0061ud""#, r#""other-api""#.to_owned()),
        ("scope", r#""sc\u006fpe""#, r#""admin""#.to_owned()),
        ("client_id", r#""client\u005fid""#, r#""other""#.to_owned()),
    ] {
        // After the real member and before it.
        let after = claims.replacen('}', &format!(",{escaped}:{value}}}"), 1);
        let before = claims.replacen('{', &format!("{{{escaped}:{value},"), 1);
        for payload in [after, before] {
            assert_eq!(
                payload.matches(&format!("\"{name}\"")).count(),
                1,
                "the escaped twin is spelled apart"
            );
            let token = signed_text(&hs, HS_HEADER, &payload);
            refused(&guard, &token, Reason::MalformedClaims).await;
        }
    }
}

// ---- nesting bombs, NumericDate tricks, odd shapes ------------------------------------------

#[tokio::test]
async fn nesting_bombs_are_malformed_and_do_not_overflow_the_stack() {
    let hs = TestKey::generate(Algorithm::HS256);
    let guard = guard_for(&[&hs]);
    // Far past serde_json's 128 levels, within the guard's 8 KiB cap. A member the
    // verifier does not read is skipped without recursion (serde_json's `ignore_value`), so
    // balanced nesting there is well-formed JSON and admitted; what matters is that no
    // depth overflows the stack and that unbalanced nesting is refused.
    let balanced = [
        format!("{}{}", "[".repeat(2_500), "]".repeat(2_500)),
        format!("{}1{}", r#"{"a":"#.repeat(800), "}".repeat(800)),
    ];
    for bomb in &balanced {
        let payload = claims_text().replacen('{', &format!(r#"{{"x":{bomb},"#), 1);
        admitted(&guard, &signed_text(&hs, HS_HEADER, &payload)).await;
    }
    // In a member the verifier reads, nesting is refused at once.
    for (claim, bomb) in [("aud", &balanced[0]), ("scope", &balanced[0]), ("exp", &balanced[1])] {
        let payload = set_claim(&claims_text(), claim, bomb);
        refused(&guard, &signed_text(&hs, HS_HEADER, &payload), Reason::MalformedClaims).await;
    }
    for bomb in ["[".repeat(5_000), r#"{"a":"#.repeat(1_000), "]".repeat(5_000)] {
        let payload = claims_text().replacen('{', &format!(r#"{{"x":{bomb},"#), 1);
        let token = signed_text(&hs, HS_HEADER, &payload);
        assert!(token.len() < 8 * 1024, "{}", token.len());
        refused(&guard, &token, Reason::MalformedClaims).await;
        let header = HS_HEADER.replacen('{', &format!(r#"{{"x":{bomb},"#), 1);
        refused(&guard, &signed_text(&hs, &header, &claims_text()), Reason::MalformedHeaderParameters).await;
    }
}

#[tokio::test]
async fn numeric_date_tricks_are_refused() {
    let hs = TestKey::generate(Algorithm::HS256);
    let guard = guard_for(&[&hs]);
    let later = NOW + 600;
    let cases: Vec<(&str, String, Reason)> = vec![
        ("exp", format!(r#""{later}""#), Reason::MalformedClaims),
        ("exp", "NaN".into(), Reason::MalformedClaims),
        ("exp", "Infinity".into(), Reason::MalformedClaims),
        ("exp", "1e400".into(), Reason::MalformedClaims),
        ("exp", "-1e400".into(), Reason::MalformedClaims),
        // `null` is no value: the token has no expiry, which is refused.
        ("exp", "null".into(), Reason::MissingExpiry),
        ("exp", "true".into(), Reason::MalformedClaims),
        ("exp", format!("[{later}]"), Reason::MalformedClaims),
        ("exp", format!(r#"{{"$date":{later}}}"#), Reason::MalformedClaims),
        ("exp", format!("0x{later:x}"), Reason::MalformedClaims),
        ("exp", "-1".into(), Reason::Expired),
        ("exp", "0".into(), Reason::Expired),
        ("exp", "-18446744073709551616".into(), Reason::Expired),
        ("nbf", "1e400".into(), Reason::MalformedClaims),
        ("nbf", "NaN".into(), Reason::MalformedClaims),
        ("nbf", format!(r#""{NOW}""#), Reason::MalformedClaims),
        ("nbf", "18446744073709551616".into(), Reason::NotYetValid),
        ("iat", "1e400".into(), Reason::MalformedClaims),
        ("iat", format!(r#""{NOW}""#), Reason::MalformedClaims),
        ("iat", "18446744073709551616".into(), Reason::IssuedInFuture),
    ];
    for (claim, value, reason) in cases {
        let payload = set_claim(&claims_text(), claim, &value);
        let token = signed_text(&hs, HS_HEADER, &payload);
        let answer = through_guard(&guard, &token).await;
        assert_eq!(
            answer.json()["error_description"],
            reason.description(),
            "{claim}: {value} gave {answer:?}"
        );
        answer.assert_invalid_token(reason.description());
    }
}

/// `payload` with `claim` set to the JSON text `value` (replaced, or added first).
fn set_claim(payload: &str, claim: &str, value: &str) -> String {
    let mut object: serde_json::Map<String, Value> = serde_json::from_str(payload).expect("claims");
    object.remove(claim);
    let rest = Value::Object(object).to_string();
    rest.replacen('{', &format!(r#"{{"{claim}":{value},"#), 1)
}

#[tokio::test]
async fn odd_aud_iss_and_typ_shapes_are_refused() {
    let hs = TestKey::generate(Algorithm::HS256);
    let guard = guard_for(&[&hs]);
    let cases: Vec<(&str, String, Reason)> = vec![
        ("aud", "[]".into(), Reason::WrongAudience),
        ("aud", r#""""#.into(), Reason::WrongAudience),
        ("aud", format!(r#""{AUDIENCE} other""#), Reason::WrongAudience),
        ("aud", format!(r#""{}""#, AUDIENCE.to_uppercase()), Reason::WrongAudience),
        ("aud", format!(r#""{AUDIENCE}\u0000""#), Reason::WrongAudience),
        ("aud", format!(r#"{{"aud":"{AUDIENCE}"}}"#), Reason::MalformedClaims),
        ("aud", format!(r#"[["{AUDIENCE}"]]"#), Reason::MalformedClaims),
        ("aud", "[1]".into(), Reason::MalformedClaims),
        ("aud", "1".into(), Reason::MalformedClaims),
        ("iss", format!(r#"["{ISSUER}"]"#), Reason::MalformedClaims),
        ("iss", format!(r#"{{"iss":"{ISSUER}"}}"#), Reason::MalformedClaims),
        ("iss", format!(r#""{ISSUER}/""#), Reason::WrongIssuer),
        ("iss", r#""HTTPS://AUTH.TEST""#.into(), Reason::WrongIssuer),
        ("iss", format!(r#""{ISSUER}\u0000""#), Reason::WrongIssuer),
        ("iss", r#""""#.into(), Reason::WrongIssuer),
        ("iss", "1".into(), Reason::MalformedClaims),
    ];
    for (claim, value, reason) in cases {
        let token = signed_text(&hs, HS_HEADER, &set_claim(&claims_text(), claim, &value));
        let answer = through_guard(&guard, &token).await;
        assert_eq!(answer.json()["error_description"], reason.description(), "{claim}: {value}: {answer:?}");
        answer.assert_invalid_token(reason.description());
    }
    for (typ, reason) in [
        (r#""JWT""#, Some(Reason::WrongType)),
        (r#""at+jwt ""#, Some(Reason::WrongType)),
        (r#""at+jwt\u0000""#, Some(Reason::WrongType)),
        (r#""jwt+at""#, Some(Reason::WrongType)),
        (r#""""#, Some(Reason::WrongType)),
        (r#"["at+jwt"]"#, Some(Reason::MalformedHeaderParameters)),
        (r#"{"typ":"at+jwt"}"#, Some(Reason::MalformedHeaderParameters)),
        (r#"null"#, Some(Reason::WrongType)),
        // RFC 7515 §4.1.9 compares media types case-insensitively.
        (r#""AT+JWT""#, None),
        (r#""At+Jwt""#, None),
    ] {
        let header = format!(r#"{{"alg":"HS256","typ":{typ},"kid":"hs256-key"}}"#);
        let token = signed_text(&hs, &header, &claims_text());
        match reason {
            Some(reason) => {
                let answer = through_guard(&guard, &token).await;
                assert_eq!(answer.json()["error_description"], reason.description(), "typ {typ}: {answer:?}");
                answer.assert_invalid_token(reason.description());
            }
            None => admitted(&guard, &token).await,
        }
    }
}

// ---- malleable and invalid signatures -------------------------------------------------------

/// DER `ECDSA-Sig-Value` of a fixed-form (r || s) signature.
fn ecdsa_der(fixed: &[u8]) -> Vec<u8> {
    let (r, s) = fixed.split_at(fixed.len() / 2);
    der_sequence(&[der_integer(r), der_integer(s)].concat())
}

fn with_signature(token: &str, signature: &[u8]) -> String {
    let parts = parts(token);
    format!("{}.{}.{}", parts[0], parts[1], b64(signature))
}

fn signature_of(token: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(&parts(token)[2]).expect("signature")
}

#[tokio::test]
async fn psychic_der_and_wrong_length_ecdsa_signatures_are_bad_signatures() {
    for (alg, size) in [(Algorithm::ES256, 32), (Algorithm::ES384, 48)] {
        let key = TestKey::generate(alg);
        let guard = guard_for(&[&key]);
        let token = key.sign(&claims());
        admitted(&guard, &token).await;
        let fixed = signature_of(&token);
        assert_eq!(fixed.len(), 2 * size);
        let mut r_zero = fixed.clone();
        r_zero[..size].fill(0);
        let mut s_zero = fixed.clone();
        s_zero[size..].fill(0);
        let mut high_s = fixed.clone();
        high_s[size..].fill(0xff);
        let mut signatures = vec![
            ("r = s = 0 (CVE-2022-21449)", vec![0; 2 * size]),
            ("r = 0", r_zero),
            ("s = 0", s_zero),
            ("s = all ones (over the order)", high_s),
            ("r = s = all ones", vec![0xff; 2 * size]),
            ("DER instead of fixed", ecdsa_der(&fixed)),
            ("one byte short", fixed[..fixed.len() - 1].to_vec()),
            ("one byte long", [fixed.clone(), vec![0]].concat()),
            ("a leading zero", [vec![0], fixed.clone()].concat()),
            ("twice", [fixed.clone(), fixed.clone()].concat()),
            ("half", fixed[..size].to_vec()),
            ("one byte", vec![1]),
        ];
        // The other curve's length.
        signatures.push(("the other curve's length", vec![1; if size == 32 { 96 } else { 64 }]));
        for (what, signature) in signatures {
            let answer = through_guard(&guard, &with_signature(&token, &signature)).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{alg} {what}");
            answer.assert_invalid_token(Reason::BadSignature.description());
        }
    }
}

#[tokio::test]
async fn rsa_signatures_with_leading_zeros_or_the_wrong_length_are_bad_signatures() {
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let key = TestKey::generate(alg);
        let guard = guard_for(&[&key]);
        let token = key.sign(&claims());
        admitted(&guard, &token).await;
        let signature = signature_of(&token);
        assert_eq!(signature.len(), 256);
        let stripped: Vec<u8> = signature.iter().copied().skip_while(|b| *b == 0).collect();
        let mut low = signature.clone();
        low[0] = 0;
        for (what, forged) in [
            ("a leading zero byte added", [vec![0], signature.clone()].concat()),
            ("two leading zero bytes added", [vec![0, 0], signature.clone()].concat()),
            ("a trailing zero byte added", [signature.clone(), vec![0]].concat()),
            ("the last byte dropped", signature[..255].to_vec()),
            ("the first byte dropped", signature[1..].to_vec()),
            ("its first byte zeroed", low),
            ("all zeros", vec![0; 256]),
            ("one", [vec![0; 255], vec![1]].concat()),
            ("all ones (over the modulus)", vec![0xff; 256]),
        ] {
            if forged == stripped && stripped.len() == 256 {
                continue;
            }
            let answer = through_guard(&guard, &with_signature(&token, &forged)).await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{alg} {what}");
            answer.assert_invalid_token(Reason::BadSignature.description());
        }
    }
}

// ---- base64 -------------------------------------------------------------------------------

/// `part` re-encoded with the standard alphabet, if that changes it.
fn standard_alphabet(part: &str) -> Option<String> {
    let standard = part.replace('-', "+").replace('_', "/");
    (standard != part).then_some(standard)
}

/// `part` with its last character changed so that only its unused trailing bits differ.
fn with_trailing_bits(part: &str) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let unused_bits = match part.len() % 4 {
        2 => 4,
        3 => 2,
        _ => return None,
    };
    let last = *part.as_bytes().last()?;
    let index = ALPHABET.iter().position(|c| *c == last)?;
    let changed = ALPHABET[index | ((1 << unused_bits) - 1)];
    (changed != last).then(|| format!("{}{}", &part[..part.len() - 1], changed as char))
}

#[tokio::test]
async fn padding_the_standard_alphabet_and_trailing_bits_are_malformed() {
    let hs = TestKey::generate(Algorithm::HS256);
    let es = TestKey::generate(Algorithm::ES256);
    let guard = guard_for(&[&hs, &es]);
    let mut checked_trailing = 0;
    let mut checked_alphabet = 0;
    // Several tokens, so that every part length modulo 4 and both alphabets come up.
    for i in 0..24u64 {
        let mut claims = claims();
        claims["jti"] = json!("j".repeat(i as usize));
        claims["x"] = json!(i * 7919);
        for token in [hs.sign(&claims), es.sign(&claims)] {
            admitted(&guard, &token).await;
            for index in 0..3 {
                let mut parts = parts(&token);
                let original = parts[index].clone();
                parts[index] = format!("{original}{}", "=".repeat(((4 - original.len() % 4) % 4).max(1)));
                if index == 2 {
                    refused(&guard, &parts.join("."), Reason::MalformedToken).await;
                } else {
                    // RFC 6750 §2.1: a b64token has `=` only at its very end, so padding
                    // inside the token is not a Bearer credential at all.
                    invalid_request(&guard, &parts.join("."), Reason::MalformedHeader).await;
                }
                // The signature covers the header and payload exactly as sent, and is
                // checked before the payload is decoded: any change to the payload's text
                // is a bad signature, whatever the decoder would make of it.
                let changed_text = if index == 1 { Reason::BadSignature } else { Reason::MalformedToken };
                if let Some(standard) = standard_alphabet(&original) {
                    parts[index] = standard;
                    refused(&guard, &parts.join("."), changed_text).await;
                    checked_alphabet += 1;
                }
                if let Some(changed) = with_trailing_bits(&original) {
                    parts[index] = changed;
                    let forged = parts.join(".");
                    assert_eq!(
                        base64::engine::general_purpose::GeneralPurpose::new(
                            &base64::alphabet::URL_SAFE,
                            base64::engine::GeneralPurposeConfig::new()
                                .with_encode_padding(false)
                                .with_decode_allow_trailing_bits(true)
                                .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
                        )
                        .decode(&parts[index])
                        .expect("a lenient decoder reads the same bytes"),
                        URL_SAFE_NO_PAD.decode(&original).expect("original")
                    );
                    refused(&guard, &forged, changed_text).await;
                    checked_trailing += 1;
                }
            }
        }
    }
    assert!(checked_trailing > 10 && checked_alphabet > 10, "{checked_trailing} {checked_alphabet}");
}

// ---- issuer A's claims, issuer B's key -------------------------------------------------------

#[tokio::test]
async fn a_token_for_issuer_a_signed_with_issuer_bs_key_of_the_same_kid_is_refused() {
    // Both issuers name their key "k1" (kids are only unique within one key set).
    let key_a = TestKey::generate_with_kid(Algorithm::ES256, "k1");
    let key_b = TestKey::generate_with_kid(Algorithm::ES256, "k1");
    let partner = "https://partner.test";
    let verifier = Verifier::trusting(
        TrustedIssuer::new(ISSUER, KeySet::new().with_key(key_a.verifying_key())).audience(AUDIENCE),
    )
    .trust(TrustedIssuer::new(partner, KeySet::new().with_key(key_b.verifying_key())).audience(AUDIENCE))
    .clock(ManualClock::new(NOW))
    .build()
    .expect("verifier");
    let guard: GuardLayer<()> = GuardLayer::new(verifier);
    admitted(&guard, &key_a.sign(&claims())).await;
    let mut partner_claims = claims();
    partner_claims["iss"] = json!(partner);
    admitted(&guard, &key_b.sign(&partner_claims)).await;
    // Issuer A's claims under B's key, and B's claims under A's key.
    refused(&guard, &key_b.sign(&claims()), Reason::BadSignature).await;
    refused(&guard, &key_a.sign(&partner_claims), Reason::BadSignature).await;
}
