//! Test support: keys generated at run time and tokens minted with jsonwebtoken (an
//! implementation independent of the verifier under test), on a controllable clock.
#![allow(dead_code, unreachable_pub)]

use std::sync::OnceLock;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};
use tower_passport::{clock::ManualClock, Algorithm, KeySet, Verifier, VerifyingKey};

pub const ISSUER: &str = "https://auth.test";
pub const AUDIENCE: &str = "test-api";
pub const NOW: u64 = 1_800_000_000;

/// Signs a signing input into a JWS signature's bytes, in place of jsonwebtoken.
pub type Signer = Box<dyn Fn(&[u8]) -> Vec<u8> + Send + Sync>;

/// A signing key with its public half in every form the crate loads.
pub struct TestKey {
    pub alg: Algorithm,
    pub kid: String,
    encoding: EncodingKey,
    /// Signs instead of jsonwebtoken when set (the benches' deterministic ECDSA).
    signer: Option<Signer>,
    /// SPKI DER (HMAC: the secret).
    pub public_der: Vec<u8>,
    pub public_pem: String,
    pub jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_pair() -> &'static (Vec<u8>, Vec<u8>) {
    // One RSA key per test binary: generation is the slow part.
    static PAIR: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("rsa keygen");
        let private =
            AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).expect("pkcs8").as_ref().to_vec();
        let public = pair.public_key().as_der().expect("spki").as_ref().to_vec();
        (private, public)
    })
}

impl TestKey {
    pub fn generate(alg: Algorithm) -> Self {
        Self::generate_with_kid(alg, &format!("{}-key", alg.name().to_lowercase()))
    }

    pub fn generate_with_kid(alg: Algorithm, kid: &str) -> Self {
        let (encoding, public_der, jwk) = match alg {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => {
                let (private, public) = rsa_pair();
                let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", private.clone()));
                let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("rsa pem");
                let parsed = RsaKeyPair::from_pkcs8(private).expect("rsa");
                let components: aws_lc_rs::rsa::PublicKeyComponents<Vec<u8>> = parsed.public_key().into();
                let jwk = json!({"kty": "RSA", "kid": kid, "alg": alg.name(), "use": "sig",
                    "n": b64(&components.n), "e": b64(&components.e)});
                (encoding, public.clone(), jwk)
            }
            Algorithm::ES256 | Algorithm::ES384 => {
                let pair = EcdsaKeyPair::generate(ec_signing(alg)).expect("ec keygen");
                let pkcs8 = pair.to_pkcs8v1().expect("pkcs8");
                return Self::from_ec_pkcs8(alg, kid, pkcs8.as_ref());
            }
            Algorithm::EdDSA => {
                let pair = Ed25519KeyPair::generate().expect("ed keygen");
                let pkcs8 = pair.to_pkcs8().expect("pkcs8");
                let raw = pair.public_key().as_ref().to_vec();
                let spki = pair.public_key().as_der().expect("spki").as_ref().to_vec();
                let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(&raw)});
                (EncodingKey::from_ed_der(pkcs8.as_ref()), spki, jwk)
            }
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                let secret: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
                let jwk = json!({"kty": "oct", "kid": kid, "alg": alg.name(), "k": b64(&secret)});
                (EncodingKey::from_secret(&secret), secret, jwk)
            }
        };
        Self::assemble(alg, kid, encoding, public_der, jwk)
    }

    /// An ES256 or ES384 key from its PKCS#8 DER (the benches' fixed key).
    pub fn from_ec_pkcs8(alg: Algorithm, kid: &str, pkcs8: &[u8]) -> Self {
        let (crv, size) = if alg == Algorithm::ES256 { ("P-256", 32) } else { ("P-384", 48) };
        let pair = EcdsaKeyPair::from_pkcs8(ec_signing(alg), pkcs8).expect("ec pkcs8");
        let point = pair.public_key().as_ref().to_vec();
        let spki = pair.public_key().as_der().expect("spki").as_ref().to_vec();
        let jwk = json!({"kty": "EC", "crv": crv, "kid": kid, "alg": alg.name(),
            "x": b64(&point[1..1 + size]), "y": b64(&point[1 + size..])});
        Self::assemble(alg, kid, EncodingKey::from_ec_der(pkcs8), spki, jwk)
    }

    fn assemble(alg: Algorithm, kid: &str, encoding: EncodingKey, public_der: Vec<u8>, jwk: Value) -> Self {
        let public_pem = pem::encode(&pem::Pem::new("PUBLIC KEY", public_der.clone()));
        Self { alg, kid: kid.to_owned(), encoding, signer: None, public_der, public_pem, jwk }
    }

    /// This key, signing with `signer` instead of jsonwebtoken.
    pub fn with_signer(mut self, signer: Signer) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The verifying key as the crate loads it (from PEM, or the secret for HMAC).
    pub fn verifying_key(&self) -> VerifyingKey {
        let key = if self.alg.is_symmetric() {
            VerifyingKey::from_hmac_secret(self.alg, &self.public_der)
        } else {
            VerifyingKey::from_pem(self.public_pem.as_bytes(), self.alg)
        };
        key.expect("test key loads").with_kid(self.kid.as_str())
    }

    pub fn header(&self) -> Header {
        let mut header = Header::new(self.alg.name().parse().expect("jsonwebtoken alg"));
        header.typ = Some("at+jwt".into());
        header.kid = Some(self.kid.clone());
        header
    }

    /// Signs `claims` with the default header (`typ: at+jwt`, this key's `kid`).
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with(&self.header(), claims)
    }

    pub fn sign_with(&self, header: &Header, claims: &Value) -> String {
        if self.signer.is_some() {
            // What jsonwebtoken's `encode` signs: both as compact JSON, base64url.
            let header = serde_json::to_string(header).expect("header json");
            return self.sign_texts(&header, &claims.to_string());
        }
        jsonwebtoken::encode(header, claims, &self.encoding).expect("sign")
    }

    /// The base64url signature of `input` (a `header.payload` signing input of any
    /// header text, with members jsonwebtoken's `Header` would drop).
    pub fn sign_input(&self, input: &str) -> String {
        if let Some(signer) = &self.signer {
            return b64(&signer(input.as_bytes()));
        }
        let alg = self.alg.name().parse().expect("jsonwebtoken alg");
        jsonwebtoken::crypto::sign(input.as_bytes(), &self.encoding, alg).expect("sign")
    }

    /// A token of exactly these header and payload JSON texts, signed by this key.
    pub fn sign_texts(&self, header: &str, payload: &str) -> String {
        let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let signature = self.sign_input(&input);
        format!("{input}.{signature}")
    }
}

fn ec_signing(alg: Algorithm) -> &'static signature::EcdsaSigningAlgorithm {
    if alg == Algorithm::ES256 {
        &signature::ECDSA_P256_SHA256_FIXED_SIGNING
    } else {
        &signature::ECDSA_P384_SHA384_FIXED_SIGNING
    }
}

/// A verifier for `key`'s tokens of `ISSUER` for `AUDIENCE`, at `NOW`.
pub fn verifier_for(key: &TestKey) -> Verifier {
    Verifier::builder(KeySet::new().with_key(key.verifying_key()))
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .clock(ManualClock::new(NOW))
        .build()
        .expect("verifier")
}

/// Valid user-token claims at `NOW`, for user `sub` of client `app`.
pub fn user_claims(sub: &str, scope: &str) -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "client_id": "app",
        "iat": NOW, "exp": NOW + 600, "jti": format!("jti-{sub}-{scope}"), "scope": scope,
    })
}

/// Valid client-credentials claims at `NOW`: `sub == client_id`.
pub fn client_claims(client: &str, scope: &str) -> Value {
    json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": client, "client_id": client,
        "iat": NOW, "exp": NOW + 600, "jti": format!("jti-{client}"), "scope": scope,
    })
}

/// A token in compact form from raw header JSON, payload JSON and signature bytes.
pub fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}
