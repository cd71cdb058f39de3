//! Writes the seed corpora (`seeds/<target>/`) and checks that the valid ones are valid:
//! every token it signs verifies, the cookie opens, the refresh token decrypts.
//!
//! `cargo run --bin seed` from `fuzz/` (any toolchain); `fuzz/run.sh` copies the seeds
//! into the working corpora before it fuzzes.

use std::fs;
use std::num::NonZeroU32;
use std::path::Path;

use aws_lc_rs::cipher::{EncryptingKey, EncryptionContext, UnboundCipherKey, AES_256};
use aws_lc_rs::{digest, hkdf, hmac, pbkdf2};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use passport_fuzz::*;
use serde_json::json;
use tower_passport::cookie::{CookieClaims, CsrfToken};

fn write(target: &str, name: &str, data: impl AsRef<[u8]>) {
    let dir = Path::new("seeds").join(target);
    fs::create_dir_all(&dir).expect("the seed directory");
    fs::write(dir.join(name), data).expect("a seed file");
}

fn main() {
    let hs = sign_hs256("at+jwt", &valid_claims("read write"));
    let es = sign_es256("at+jwt", &valid_claims("*"));
    for token in [&hs, &es] {
        verifier().verify_uncached(token, NOW).expect("a seed token verifies");
    }
    tokens(&hs, &es);
    bearer(&hs);
    scopes();
    claims();
    jwk();
    token_form();
    authorize();
    cookie();
    policy();
    passport_refresh();
    laravel_import();
    dpop_proof();
    device_grant();
    introspection_response();
    println!("seeds written to fuzz/seeds/");
}

fn tokens(hs: &str, es: &str) {
    write("jws_verify", "hs256", hs);
    write("jws_verify", "es256", es);
    let mut client = valid_claims("read");
    client["sub"] = json!("client-1");
    write("jws_verify", "client", sign_es256("at+jwt", &client));
    let mut aud_list = valid_claims("read");
    aud_list["aud"] = json!(["api", "other"]);
    aud_list["scopes"] = json!(["read", "write"]);
    write("jws_verify", "aud-list", sign_hs256("JWT", &aud_list));
    let mut expired = valid_claims("read");
    expired["exp"] = json!(NOW - 1);
    write("jws_verify", "expired", sign_hs256("at+jwt", &expired));
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#),
        URL_SAFE_NO_PAD.encode(valid_claims("read").to_string())
    );
    write("jws_verify", "alg-none", none);
}

fn bearer(token: &str) {
    write("bearer", "plain", format!("Bearer {token}"));
    write("bearer", "spaces", "bearer \t abc.def-ghi_~+/==  ");
    write("bearer", "two-schemes", "Basic dXNlcjpwYXNz, Bearer abc");
    write("bearer", "two-headers", "Bearer abc\nBearer def");
    write("bearer", "query", "?access_token=abc.def&x=1");
    write("bearer", "header-and-query", "Bearer abc\n?access_token=abc");
}

fn scopes() {
    write("scopes", "all", "read write\nread write");
    write("scopes", "wildcard", "*\nadmin users:read");
    write("scopes", "inherit", "users users:read\nusers:read:email users");
    write("scopes", "odd", "  a!b  #[]~ \n\"q\" \\");
}

/// Claims objects as issuers write them, and the corners the reader must treat as
/// serde_json does (escaped names, duplicates, dates as fractions, `cnf` shapes).
fn claims() {
    write("claims", "typical", valid_claims("read write").to_string());
    write(
        "claims",
        "lists",
        r#"{"iss":"https://issuer.example","aud":["api","other"],"scopes":["a","b"],"scp":[],"exp":1700000600}"#,
    );
    write("claims", "escapes", r#"{"\u0069ss":"\u00e9\ud83d\ude00","sub":"a\"b\\c\/\n","jti":"\uD83D\uDE00"}"#);
    write("claims", "duplicate", r#"{"iss":"a","iss":null}"#);
    write("claims", "dates", r#"{"exp":1.7e9,"nbf":-5,"iat":18446744073709551616}"#);
    write("claims", "cnf", r#"{"cnf":{"jkt":"thumb","x5t#S256":"other"},"x":[[{"y":"\ud800"}]]}"#);
    write("claims", "cnf-null", r#" {"cnf":null,"scope":"read","provider":"users"} "#);
}

fn ec_jwk() -> serde_json::Value {
    let text = std::str::from_utf8(ES256_PUBLIC_PEM).expect("PEM is text");
    let body: String = text.lines().filter(|line| !line.starts_with("-----")).collect();
    let der = STANDARD.decode(body).expect("PEM base64");
    let point = &der[der.len() - 64..];
    json!({
        "kty": "EC", "crv": "P-256", "kid": "es", "alg": "ES256", "use": "sig",
        "x": URL_SAFE_NO_PAD.encode(&point[..32]), "y": URL_SAFE_NO_PAD.encode(&point[32..]),
    })
}

fn jwk() {
    let ec = ec_jwk();
    write("jwk", "ec", ec.to_string());
    let oct = json!({ "kty": "oct", "kid": "hs", "alg": "HS256", "k": URL_SAFE_NO_PAD.encode(HS256_SECRET) });
    // RFC 7517 appendix A.1's RSA public key.
    let rsa = json!({
        "kty": "RSA", "kid": "2011-04-29", "alg": "RS256", "e": "AQAB",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    });
    let okp = json!({ "kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" });
    write("jwk", "rsa", rsa.to_string());
    write("jwk", "okp", okp.to_string());
    write("jwk", "oct", oct.to_string());
    write("jwk", "jwks", json!({ "keys": [ec, rsa, okp, oct] }).to_string());
    write("jwk", "jwks-odd", json!({ "keys": [{ "kty": "EC" }, 1, null, { "kid": "x" }] }).to_string());
}

fn token_form() {
    let form = "content-type: application/x-www-form-urlencoded";
    let basic = format!("authorization: Basic {}", STANDARD.encode("client%3A1:s3cr+t"));
    write(
        "token_form",
        "client-credentials",
        format!("{form}\n{basic}\n\ngrant_type=client_credentials&scope=read+write"),
    );
    write(
        "token_form",
        "code",
        format!("{form}\n\ngrant_type=authorization_code&client_id=spa&code=abc&redirect_uri=https%3A%2F%2Fspa.example.com%2Fcb&code_verifier=xyz"),
    );
    write(
        "token_form",
        "refresh",
        format!("{form}\n\ngrant_type=refresh_token&client_id=c&client_secret=s&refresh_token=r"),
    );
    write("token_form", "password", format!("{form}\n{basic}\n\ngrant_type=password&username=u&password=p"));
    write("token_form", "repeated", format!("{form}\n\ngrant_type=password&grant_type=client_credentials"));
    write("token_form", "json", "content-type: application/json\n\n{}");
}

fn authorize() {
    let challenge = URL_SAFE_NO_PAD
        .encode(digest::digest(&digest::SHA256, b"verifier-verifier-verifier-verifier-verifier").as_ref());
    write(
        "authorize",
        "spa",
        format!("response_type=code&client_id=spa&redirect_uri=https%3A%2F%2Fspa.example.com%2Fcb&scope=read%20write&state=s&code_challenge={challenge}&code_challenge_method=S256"),
    );
    write(
        "authorize",
        "app-loopback-port",
        format!("response_type=code&client_id=app&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcb&code_challenge={challenge}&code_challenge_method=S256&prompt=consent&nonce=n"),
    );
    write(
        "authorize",
        "web",
        format!(
            "response_type=code&client_id=web&state=x&code_challenge={challenge}&code_challenge_method=S256"
        ),
    );
    write("authorize", "implicit", "response_type=token&client_id=spa&state=s");
    write(
        "authorize",
        "plain-pkce",
        "response_type=code&client_id=spa&code_challenge=abc&code_challenge_method=plain",
    );
    write("authorize", "repeated", "client_id=spa&client_id=web&response_type=code");
}

fn cookie() {
    let cookie = first_party_cookie();
    let csrf = CsrfToken::from_presented("csrf-token-value");
    let claims =
        CookieClaims { sub: "42".into(), prv: None, iat_ms: NOW * 1000, exp: NOW + 600, csrf: csrf.hash() };
    let sealed = claims.seal(cookie).0;
    CookieClaims::open(cookie, &sealed).expect("the seed cookie opens");
    let name = cookie.cookie_name();
    write("cookie", "get", format!("GET\n/api/user\ncookie: {name}={sealed}\nsec-fetch-site: same-origin"));
    write(
        "cookie",
        "post-csrf",
        format!("POST\n/api/user\ncookie: {name}={sealed}\norigin: {COOKIE_ORIGIN}\nx-csrf-token: csrf-token-value"),
    );
    write(
        "cookie",
        "post-xsrf",
        format!("POST\n/api/user\ncookie: {name}={sealed}; XSRF-TOKEN=csrf-token-value\norigin: {COOKIE_ORIGIN}\nx-xsrf-token: csrf-token-value"),
    );
    write("cookie", "twice", format!("GET\n/\ncookie: {name}=a; {name}=b\ncookie: other=\"q\""));
}

fn policy() {
    let table = r#"unmatched = "deny"

[[route]]
path = "/health"
check = "public"

[[route]]
method = ["GET", "HEAD"]
path = "/orders/{id}"
check = "any-scope"
scopes = ["read", "place-orders"]

[[route]]
method = "POST"
path = "/orders"
check = ["user-only", "all-scopes"]
scopes = ["write"]

[[route]]
path = "/internal/{*rest}"
check = ["client-only"]
#--
GET /health
GET /orders/7
POST /orders
DELETE /internal/a/b
GET /public/../admin
GET /a%2Fb
GET //admin
GET /%C3%A9t%C3%A9/
"#;
    tower_passport::policy::PolicyTable::from_toml(table.split("#--").next().unwrap_or(""), "seed.toml")
        .expect("the seed policy loads");
    write("policy", "table", table);
    write("policy", "token-unmatched", "unmatched = \"token\"\n#--\nGET /x\n");
}

/// defuse/php-encryption version 2, from its format (as the library's own test does).
fn encrypt(plaintext: &[u8], password: &[u8], salt: [u8; 32], iv: [u8; 16]) -> String {
    let prehash = digest::digest(&digest::SHA256, password);
    let mut prekey = [0u8; 32];
    let iterations = NonZeroU32::new(100_000).expect("non-zero");
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, prehash.as_ref(), &mut prekey);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(&prekey);
    let derive = |info: &[u8]| {
        let mut key = [0u8; 32];
        prk.expand(&[info], hkdf::HKDF_SHA256).expect("hkdf").fill(&mut key).expect("hkdf fill");
        key
    };
    let key = UnboundCipherKey::new(&AES_256, &derive(b"DefusePHP|V2|KeyForEncryption")).expect("aes key");
    let key = EncryptingKey::ctr(key).expect("ctr");
    let mut encrypted = plaintext.to_vec();
    key.less_safe_encrypt(&mut encrypted, EncryptionContext::Iv128(iv.into())).expect("encrypts");
    let mut message = [&[0xDE, 0xF5, 0x02, 0x00][..], &salt, &iv, &encrypted].concat();
    let mac = hmac::Key::new(hmac::HMAC_SHA256, &derive(b"DefusePHP|V2|KeyForAuthentication"));
    message.extend_from_slice(hmac::sign(&mac, &message).as_ref());
    message.iter().map(|b| format!("{b:02x}")).collect()
}

fn passport_refresh() {
    let payload = json!({
        "client_id": "3", "refresh_token_id": "abc", "access_token_id": "def", "scopes": ["read"],
        "user_id": 42, "expire_time": NOW + 3600,
    })
    .to_string();
    let hex = encrypt(payload.as_bytes(), APP_KEY, [1; 32], [2; 16]);
    let opened =
        tower_passport_laravel::fuzzing::decrypt_refresh_token(&hex, APP_KEY).expect("the seed decrypts");
    assert!(tower_passport_laravel::fuzzing::refresh_payload_is_valid(&opened));
    write("passport_refresh", "encrypted", [b"\0", hex.as_bytes()].concat());
    write("passport_refresh", "payload", [b"\x01", payload.as_bytes()].concat());
    write("passport_refresh", "payload-string-ids", [&b"\x01"[..], br#"{"client_id":1,"refresh_token_id":"r","access_token_id":2,"user_id":"u","expire_time":1,"scopes":null}"#].concat());
}

fn laravel_import() {
    // bcrypt("password", cost 4) in PHP's `$2y$` spelling.
    let hash = "$2y$04$atse5QAuYovtXKKp8q7Qv.A6CklZzSXn4hKxEGXl/N6gu0zJ/8iNy";
    assert!(tower_passport_laravel::fuzzing::bcrypt_matches("password", hash), "the seed hash");
    write(
        "laravel_import",
        "hash",
        format!("password\n{hash}\n[\"authorization_code\",\"refresh_token\"]\n[\"https://a.example/cb\",\"http://127.0.0.1/cb\"]"),
    );
    write("laravel_import", "app-key", "base64:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n$2b$04$x\n[]\nhttps://a.example/cb, https://b.example/cb");
}

fn dpop_proof() {
    use passport_fuzz::dpop;
    let header = dpop::header().to_string();
    for (name, mode, with_token) in [("signed", 1u8, false), ("signed-ath", 3, true)] {
        let claims = dpop::claims(name, with_token).to_string();
        let proof = dpop::sign(header.as_bytes(), claims.as_bytes());
        dpop::verifier().verify(&proof, &dpop::target(with_token)).expect("the seed proof verifies");
        write("dpop_proof", name, [&[mode][..], header.as_bytes(), b"\n", claims.as_bytes()].concat());
        write("dpop_proof", &format!("raw-{name}"), [&[mode - 1][..], proof.as_bytes()].concat());
    }
    let claims = dpop::claims("odd", true);
    let mut odd = claims.clone();
    odd["htu"] = json!("HTTPS://API.example:443/%6Frders?q=1#f");
    odd["iat"] = json!(NOW as f64 + 0.5);
    odd["nonce"] = json!("n-1");
    let mut private = dpop::header();
    private["jwk"]["d"] = json!("AAAA");
    let mut symmetric = dpop::header();
    symmetric["alg"] = json!("HS256");
    symmetric["jku"] = json!("https://attacker.example/jwks");
    let cases = [
        ("odd-claims", dpop::header(), odd),
        ("private-jwk", private, claims.clone()),
        ("hs256", symmetric, claims),
    ];
    for (name, header, claims) in cases {
        write(
            "dpop_proof",
            name,
            [&[3u8][..], header.to_string().as_bytes(), b"\n", claims.to_string().as_bytes()].concat(),
        );
    }
}

fn device_grant() {
    use tower_passport_issuer::fuzzing::{device_csrf_token, device_decision, normalize_user_code};
    let form = "content-type: application/x-www-form-urlencoded";
    write("device_grant", "typed", b"\0 bcdf-ghjk ");
    write(
        "device_grant",
        "round-trip",
        b"\x01\x00\x01\x02\x03\x04\x05\x06\x07\x05\x06\x07\x00\x01\x02\x03\x04",
    );
    write("device_grant", "authorization", format!("\x02{form}\n\nclient_id=tv&scope=read+write"));
    let basic = format!("authorization: Basic {}", STANDARD.encode("tv:s3cret"));
    write("device_grant", "authorization-basic", format!("\x02{form}\n{basic}\n\nscope=read"));
    write(
        "device_grant",
        "poll",
        format!("\x03{form}\n\ngrant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=abc&client_id=tv"),
    );
    let code = normalize_user_code("BCDF-GHJK").expect("the seed code");
    let token = device_csrf_token(b"device approval key for fuzzing!", "42", &code, NOW);
    let body = format!("decision=approve&user_code=bcdf-ghjk&csrf_token={token}");
    let read = device_decision(
        Some(b"application/x-www-form-urlencoded"),
        body.as_bytes(),
        b"device approval key for fuzzing!",
        "42",
        NOW,
    )
    .expect("the seed decision reads");
    assert!(read.csrf_valid && read.approve, "the seed CSRF token is valid");
    write("device_grant", "decision", format!("\x04{form}\n\n{body}"));
    write("device_grant", "fresh", b"\x05");
}

fn introspection_response() {
    let active = json!({
        "active": true, "iss": ISSUER, "aud": AUDIENCE, "sub": "42", "client_id": "client-1",
        "scope": "read write", "exp": NOW + 3600, "iat": NOW - 60, "jti": "j-1", "token_type": "Bearer",
    });
    passport_fuzz::introspection::introspect(http::StatusCode::OK, active.to_string().as_bytes())
        .expect("the seed answer is accepted");
    write("introspection_response", "active", [&[0u8][..], active.to_string().as_bytes()].concat());
    let minimal = json!({ "active": true, "aud": [AUDIENCE, "other"], "exp": NOW + 1 });
    write("introspection_response", "minimal", [&[0u8][..], minimal.to_string().as_bytes()].concat());
    write("introspection_response", "inactive", b"\0{\"active\":false}");
    write(
        "introspection_response",
        "string-active",
        b"\0{\"active\":\"true\",\"exp\":1800003600,\"aud\":\"api\"}",
    );
    write("introspection_response", "hydra", b"\0{\"active\":true,\"token_use\":\"access_token\",\"exp\":1800003600.5,\"aud\":\"api\",\"cnf\":{\"jkt\":\"x\"}}");
    write("introspection_response", "redirect", b"\x05{\"active\":true}");
}
