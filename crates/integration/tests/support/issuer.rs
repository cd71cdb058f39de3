//! Test support for the issuer and its endpoints: a scope registry, token decoding, an
//! independent RFC 7638 thumbprint, verification with jsonwebtoken (an implementation
//! independent of the crate), and a guard driven as a tower service.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::convert::Infallible;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{json, Value};
use tower::{ServiceBuilder, ServiceExt};
use tower_passport::{GuardLayer, Principal};
use tower_passport_issuer::{ClientRegistration, Issuer, ScopeRegistry, TokenRequest};

pub const ISSUER: &str = "https://auth.test";
pub const AUDIENCE: &str = "test-api";
pub const NOW: u64 = 1_800_000_000;

/// A confidential client registered at `issuer`, and the token the client-credentials
/// grant gives it for `scope`: `(client id, access token)`.
pub async fn client_credentials_token(issuer: &Issuer, scope: Option<&str>) -> (String, String) {
    let registered =
        issuer.register_client(ClientRegistration::confidential("Orders")).await.expect("client");
    let secret = registered.secret.as_ref().map(|secret| secret.expose());
    let client = issuer.authenticate_client(&registered.client.id, secret).await.expect("authenticated");
    let request = TokenRequest::client_credentials(client);
    let request = match scope {
        Some(scope) => request.scope(scope),
        None => request,
    };
    let token = issuer.grant(request).await.expect("token").access_token;
    (registered.client.id, token)
}

/// The API's scopes.
pub fn scopes() -> ScopeRegistry {
    ScopeRegistry::new()
        .scope("read-posts", "Read posts")
        .scope("write-posts", "Write posts")
        .scope("admin", "Administer")
        .scope("check-status", "Check order status")
}

/// The JSON of one part (0: header, 1: claims) of a compact JWS, decoded without checks.
pub fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWS part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

pub fn header(token: &str) -> Value {
    jwt_part(token, 0)
}

pub fn claims(token: &str) -> Value {
    jwt_part(token, 1)
}

/// The RFC 7638 thumbprint of a public JWK, computed here from its required members:
/// lexicographically ordered, no whitespace, SHA-256, base64url.
pub fn thumbprint(jwk: &Value) -> String {
    let required: &[&str] = match jwk["kty"].as_str().expect("kty") {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        "OKP" => &["crv", "kty", "x"],
        other => panic!("unexpected kty {other}"),
    };
    let members: BTreeMap<&str, &str> =
        required.iter().map(|name| (*name, jwk[*name].as_str().expect("string member"))).collect();
    let canonical = serde_json::to_string(&members).expect("json");
    assert!(!canonical.contains(' '), "no whitespace in {canonical}");
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Verifies `token` with jsonwebtoken against a key of the published JWKS (chosen by
/// `kid`), requiring `alg`, the issuer and the audience. Returns the claims.
pub fn verify_with_jsonwebtoken(
    jwks: &Value,
    token: &str,
    alg: jsonwebtoken::Algorithm,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let set: JwkSet = serde_json::from_value(jwks.clone()).expect("a JWK set");
    let header = jsonwebtoken::decode_header(token)?;
    let kid = header.kid.expect("a kid");
    let jwk = set.find(&kid).expect("the token's key is published");
    let key = DecodingKey::from_jwk(jwk)?;
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).map(|data| data.claims)
}

/// A guard's answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub challenge: Option<String>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("json body")
    }

    /// Asserts a 401 `invalid_token` with this description, in the body and the challenge.
    pub fn assert_invalid_token(&self, description: &str) {
        assert_eq!(self.status, StatusCode::UNAUTHORIZED, "{self:?}");
        assert_eq!(self.json()["error"], "invalid_token", "{self:?}");
        assert_eq!(self.json()["error_description"], description, "{self:?}");
        let challenge = self.challenge.as_deref().expect("a challenge");
        assert!(challenge.contains(r#"error="invalid_token""#), "{challenge}");
    }
}

/// The service behind the guard: echoes the principal.
async fn echo<U: Clone + Send + Sync + 'static>(
    request: Request<Full<Bytes>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let principal = request.extensions().get::<Principal<U>>();
    let body = json!({
        "sub": principal.and_then(|p| p.subject()),
        "client_id": principal.and_then(|p| p.client_id()),
        "jti": principal.and_then(|p| p.jti()),
        "client": principal.map(|p| p.is_client()),
    });
    Ok(Response::new(Full::new(Bytes::from(body.to_string()))))
}

/// Calls a service behind `layer` with `token` as the bearer token.
pub async fn through_guard<U: Clone + Send + Sync + 'static>(layer: &GuardLayer<U>, token: &str) -> Answer {
    let service = ServiceBuilder::new().layer(layer.clone()).service_fn(echo::<U>);
    let request = Request::builder()
        .uri("/api/thing")
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = service.oneshot(request).await.expect("infallible");
    let status = response.status();
    let challenge = response.headers().get(WWW_AUTHENTICATE).map(|v| v.to_str().expect("ascii").to_owned());
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    Answer { status, challenge, body: String::from_utf8(bytes.to_vec()).expect("utf8") }
}

/// The hidden fields of the approval screen's Approve form (its first form), unescaped,
/// without the `decision` button.
pub fn approve_form_fields(screen: &str) -> Vec<(String, String)> {
    let approve = screen.split("</form>").next().expect("a form");
    approve
        .split("<input type=\"hidden\" ")
        .skip(1)
        .map(|input| {
            let attribute = |name: &str| {
                let start = input.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
                let end = start + input[start..].find('"').expect("closing quote");
                unescape_html(&input[start..end])
            };
            (attribute("name"), attribute("value"))
        })
        .filter(|(name, _)| name != "decision")
        .collect()
}

/// What `escape_html` escaped, back.
pub fn unescape_html(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
