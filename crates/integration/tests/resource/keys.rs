//! Key loading: every key is bound to exactly one algorithm when it is loaded, from PEM,
//! DER, a JWK or a JWKS document, and nothing else loads.

use crate::issuer_support;
use crate::support;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};
use support::TestKey;
use tower_passport::error::{ConfigErrorKind, Reason};
use tower_passport::keys::JwkOptions;
use tower_passport::{clock::ManualClock, Algorithm, KeySet, Verifier, VerifyingKey};
use tower_passport_issuer::SigningKey;

const ASYMMETRIC: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

const HMAC: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

const RSA: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

fn all_algorithms() -> impl Iterator<Item = Algorithm> {
    ASYMMETRIC.into_iter().chain(HMAC)
}

/// The key family an algorithm needs: keys of one family never load for another.
fn family(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 => "P-256",
        Algorithm::ES384 => "P-384",
        Algorithm::EdDSA => "Ed25519",
        alg if alg.is_symmetric() => "HMAC",
        _ => "RSA",
    }
}

fn verifier(keys: KeySet) -> Verifier {
    Verifier::builder(keys)
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .clock(ManualClock::new(support::NOW))
        .build()
        .expect("verifier")
}

/// A valid token from `signer`, naming `kid` (or no kid at all).
fn token(signer: &TestKey, kid: Option<&str>) -> String {
    let mut header = signer.header();
    header.kid = kid.map(str::to_owned);
    signer.sign_with(&header, &support::user_claims("42", "read"))
}

/// `token` with the first byte of its signature flipped.
fn flip_signature(token: &str) -> String {
    let (signing_input, signature) = token.rsplit_once('.').expect("three parts");
    let mut signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url signature");
    signature[0] ^= 0x01;
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// `key` is bound to `signer`'s algorithm, verifies `signer`'s tokens (under the key's
/// own kid, or without kid when the key has none), and refuses a tampered signature.
fn assert_verifies(key: VerifyingKey, signer: &TestKey) {
    assert_eq!(key.algorithm(), signer.alg, "bound algorithm");
    let kid = key.kid().map(str::to_owned);
    let verifier = verifier(KeySet::new().with_key(key));
    let token = token(signer, kid.as_deref());
    let verified = verifier
        .verify(&token)
        .unwrap_or_else(|error| panic!("{} token refused: {:?}", signer.alg, error.reason()));
    assert_eq!(verified.subject(), Some("42"));
    assert_eq!(verified.key_id(), kid.as_deref());
    let forged = flip_signature(&token);
    assert_eq!(
        verifier.verify(&forged).unwrap_err().reason(),
        Reason::BadSignature,
        "{} accepted a flipped signature",
        signer.alg
    );
}

fn pem(tag: &str, der: &[u8]) -> String {
    pem::encode(&pem::Pem::new(tag, der.to_vec()))
}

/// The PKCS#1 `RSAPublicKey` DER inside an RSA SPKI.
fn pkcs1_from_spki(spki: &[u8]) -> Vec<u8> {
    aws_lc_rs::rsa::PublicKey::from_der(spki).expect("RSA SPKI").as_ref().to_vec()
}

fn jwks(keys: &[&Value]) -> String {
    json!({ "keys": keys }).to_string()
}

fn config_error(result: Result<VerifyingKey, tower_passport::ConfigError>) -> String {
    result.expect_err("the key must be refused").to_string()
}

// ---------------------------------------------------------------------------------------
// Every algorithm, every format
// ---------------------------------------------------------------------------------------

#[test]
fn every_asymmetric_algorithm_loads_from_spki_pem_and_verifies() {
    for alg in ASYMMETRIC {
        let signer = TestKey::generate(alg);
        assert!(signer.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        let key = VerifyingKey::from_pem(signer.public_pem.as_bytes(), alg).expect("SPKI PEM loads");
        assert_eq!(key.kid(), Some(issuer_support::thumbprint(&signer.jwk).as_str()), "{alg}");
        // Named by its thumbprint.
        assert_verifies(key, &signer);
        let key = VerifyingKey::from_pem(signer.public_pem.as_bytes(), alg).unwrap().with_kid("pem-kid");
        assert_verifies(key, &signer);
    }
}

// ---------------------------------------------------------------------------------------
// Key ids: a public key is named by its RFC 7638 thumbprint unless given a kid
// ---------------------------------------------------------------------------------------

#[test]
fn the_issuers_pem_public_key_is_named_by_the_issuers_kid() {
    for alg in [Algorithm::ES256, Algorithm::RS256, Algorithm::EdDSA] {
        let signing = SigningKey::generate(alg).expect("signing key");
        let public = signing.to_public_pem().expect("public PEM");
        let inferred = VerifyingKey::from_pem_infer_alg(public.as_bytes()).expect("PEM loads");
        assert_eq!(inferred.kid(), Some(signing.kid()), "{alg}: the thumbprint, as the issuer computes it");
        let named = VerifyingKey::from_pem(public.as_bytes(), alg).expect("PEM loads");
        assert_eq!(named.kid(), Some(signing.kid()), "{alg}");
        // Every form of the same key has the same kid.
        let spki = pem::parse(public.as_bytes()).expect("PEM").into_contents();
        assert_eq!(VerifyingKey::from_der(&spki, alg).expect("DER").kid(), Some(signing.kid()), "{alg}");
        let mut jwk = signing.public_jwk().clone();
        jwk.as_object_mut().expect("object").remove("kid");
        let from_jwk = VerifyingKey::from_jwk(&jwk.to_string()).expect("JWK without kid");
        assert_eq!(from_jwk.kid(), Some(signing.kid()), "{alg}");
    }
}

#[test]
fn with_kid_still_wins_over_the_thumbprint() {
    let signer = TestKey::generate(Algorithm::ES256);
    let thumbprint = issuer_support::thumbprint(&signer.jwk);
    let key = VerifyingKey::from_pem(signer.public_pem.as_bytes(), Algorithm::ES256).expect("PEM");
    let key = key.with_kid("2025-06");
    assert_eq!(key.kid(), Some("2025-06"));
    let verifier = verifier(KeySet::new().with_key(key));
    assert!(verifier.verify(&token(&signer, Some("2025-06"))).is_ok());
    let by_thumbprint = verifier.verify(&token(&signer, Some(&thumbprint))).expect_err("replaced");
    assert_eq!(by_thumbprint.reason(), Reason::UnknownKid);
}

#[test]
fn a_token_without_kid_still_finds_the_one_pem_key_of_its_alg() {
    // Laravel Passport's tokens carry no kid: the one key that fits the alg verifies them,
    // thumbprint or not.
    for alg in [Algorithm::RS256, Algorithm::ES256] {
        let signer = TestKey::generate(alg);
        let key = VerifyingKey::from_pem(signer.public_pem.as_bytes(), alg).expect("PEM");
        assert!(key.kid().is_some());
        let verified = verifier(KeySet::new().with_key(key)).verify(&token(&signer, None)).expect("no kid");
        assert_eq!(verified.key_id(), None);
    }
}

#[test]
fn an_hmac_secret_gets_no_kid_from_its_secret() {
    for alg in HMAC {
        let signer = TestKey::generate(alg);
        let key = VerifyingKey::from_hmac_secret(alg, &signer.public_der).expect("secret");
        assert_eq!(key.kid(), None, "{alg}: a kid derived from the secret would publish a hash of it");
        assert_eq!(key.with_kid("hs").kid(), Some("hs"));
    }
}

#[test]
fn every_asymmetric_algorithm_loads_from_spki_der_and_verifies() {
    for alg in ASYMMETRIC {
        let signer = TestKey::generate(alg);
        let key = VerifyingKey::from_der(&signer.public_der, alg).expect("SPKI DER loads");
        assert_verifies(key.with_kid(signer.kid.as_str()), &signer);
    }
}

#[test]
fn every_hmac_algorithm_loads_from_its_secret_and_verifies() {
    for alg in HMAC {
        let signer = TestKey::generate(alg);
        let key = VerifyingKey::from_hmac_secret(alg, &signer.public_der).expect("secret loads");
        assert_verifies(key.with_kid(signer.kid.as_str()), &signer);
    }
}

#[test]
fn every_algorithm_loads_from_its_jwk_and_verifies() {
    let symmetric = JwkOptions::default().allow_symmetric(true);
    for alg in all_algorithms() {
        let signer = TestKey::generate(alg);
        let jwk = signer.jwk.to_string();
        let key = if alg.is_symmetric() {
            VerifyingKey::from_jwk_with(&jwk, &symmetric)
        } else {
            VerifyingKey::from_jwk(&jwk)
        }
        .unwrap_or_else(|error| panic!("{alg} JWK refused: {error}"));
        assert_eq!(key.kid(), Some(signer.kid.as_str()), "the JWK kid is kept");
        assert_verifies(key, &signer);
    }
}

#[test]
fn jwks_with_every_algorithm_loads_and_verifies_each_key_by_kid() {
    let signers: Vec<TestKey> = all_algorithms().map(TestKey::generate).collect();
    let document = jwks(&signers.iter().map(|signer| &signer.jwk).collect::<Vec<_>>());
    let keys =
        KeySet::from_jwks_with(&document, &JwkOptions::default().allow_symmetric(true)).expect("JWKS loads");
    assert_eq!(keys.len(), 12);
    for signer in &signers {
        let key = keys.get(&signer.kid).expect("key by kid");
        assert_eq!(key.algorithm(), signer.alg);
    }
    let verifier = verifier(keys);
    for signer in &signers {
        let verified = verifier
            .verify(&token(signer, Some(&signer.kid)))
            .unwrap_or_else(|error| panic!("{} token refused: {:?}", signer.alg, error.reason()));
        assert_eq!(verified.key_id(), Some(signer.kid.as_str()));
    }
}

#[test]
fn jwks_of_several_public_keys_loads_with_default_options() {
    let signers: Vec<TestKey> = ASYMMETRIC.into_iter().map(TestKey::generate).collect();
    let document = jwks(&signers.iter().map(|signer| &signer.jwk).collect::<Vec<_>>());
    let keys = KeySet::from_jwks(&document).expect("JWKS loads");
    assert_eq!(keys.len(), ASYMMETRIC.len());
    assert!(!keys.is_empty());
    let verifier = verifier(keys);
    for signer in &signers {
        assert!(verifier.verify(&token(signer, Some(&signer.kid))).is_ok(), "{}", signer.alg);
    }
    // A forged kid is still unknown.
    let es256 = &signers[6];
    assert_eq!(
        verifier.verify(&token(es256, Some("not-in-the-set"))).unwrap_err().reason(),
        Reason::UnknownKid
    );
}

#[test]
fn rsa_loads_from_pkcs1_rsa_public_key_pem_and_der() {
    for alg in RSA {
        let signer = TestKey::generate(alg);
        let pkcs1 = pkcs1_from_spki(&signer.public_der);
        assert_ne!(pkcs1, signer.public_der, "PKCS#1 differs from SPKI");
        let pkcs1_pem = pem("RSA PUBLIC KEY", &pkcs1);
        let key = VerifyingKey::from_pem(pkcs1_pem.as_bytes(), alg).expect("PKCS#1 PEM loads");
        assert_verifies(key, &signer);
        let key = VerifyingKey::from_der(&pkcs1, alg).expect("PKCS#1 DER loads");
        assert_verifies(key.with_kid("pkcs1"), &signer);
    }
}

#[test]
fn rsa_loads_from_its_components() {
    let signer = TestKey::generate(Algorithm::PS384);
    let n = URL_SAFE_NO_PAD.decode(signer.jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(signer.jwk["e"].as_str().unwrap()).unwrap();
    let key = VerifyingKey::from_rsa_components(&n, &e, Algorithm::PS384).expect("components load");
    assert_verifies(key, &signer);
    let error = config_error(VerifyingKey::from_rsa_components(&n, &e, Algorithm::ES256));
    assert!(error.contains("not an RSA algorithm"), "{error}");
}

#[test]
fn ec_and_ed25519_load_from_raw_public_bytes() {
    // The uncompressed SEC1 point for ECDSA and the raw 32 bytes for Ed25519, as JWKs carry them.
    for alg in [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA] {
        let signer = TestKey::generate(alg);
        let x = URL_SAFE_NO_PAD.decode(signer.jwk["x"].as_str().unwrap()).unwrap();
        let raw = match signer.jwk["y"].as_str() {
            Some(y) => [&[0x04][..], &x, &URL_SAFE_NO_PAD.decode(y).unwrap()].concat(),
            None => x,
        };
        let key = VerifyingKey::from_der(&raw, alg).expect("raw public key loads");
        assert_verifies(key, &signer);
    }
}

// ---------------------------------------------------------------------------------------
// Inference and algorithm binding
// ---------------------------------------------------------------------------------------

#[test]
fn from_pem_infer_alg_picks_rs256_es256_es384_and_eddsa() {
    for (signer_alg, inferred) in [
        (Algorithm::RS256, Algorithm::RS256),
        (Algorithm::ES256, Algorithm::ES256),
        (Algorithm::ES384, Algorithm::ES384),
        (Algorithm::EdDSA, Algorithm::EdDSA),
    ] {
        let signer = TestKey::generate(signer_alg);
        let key = VerifyingKey::from_pem_infer_alg(signer.public_pem.as_bytes()).expect("inferred");
        assert_eq!(key.algorithm(), inferred, "inferred from a {signer_alg} key");
        assert_verifies(key, &signer);
    }
    // PKCS#1 RSA is inferred too.
    let rsa = TestKey::generate(Algorithm::RS256);
    let pkcs1 = pem("RSA PUBLIC KEY", &pkcs1_from_spki(&rsa.public_der));
    assert_eq!(VerifyingKey::from_pem_infer_alg(pkcs1.as_bytes()).unwrap().algorithm(), Algorithm::RS256);
}

#[test]
fn from_pem_infer_alg_refuses_private_keys_and_garbage() {
    let private = pem("PRIVATE KEY", &ec_private_pkcs8());
    let error = config_error(VerifyingKey::from_pem_infer_alg(private.as_bytes()));
    assert!(error.contains("private key"), "{error}");
    assert!(VerifyingKey::from_pem_infer_alg(b"garbage").is_err());
    let junk = pem("PUBLIC KEY", b"definitely not a key");
    assert!(VerifyingKey::from_pem_infer_alg(junk.as_bytes()).is_err());
}

#[test]
fn an_rsa_key_verifies_only_the_algorithm_it_was_loaded_for() {
    // The same RSA key pair signs RS256 and PS256; a key loaded for RS256 refuses PS256.
    let rs256 = TestKey::generate(Algorithm::RS256);
    let ps256 = TestKey::generate(Algorithm::PS256);
    let key = VerifyingKey::from_pem(rs256.public_pem.as_bytes(), Algorithm::RS256).unwrap().with_kid("rsa");
    let verifier = verifier(KeySet::new().with_key(key));
    assert!(verifier.verify(&token(&rs256, Some("rsa"))).is_ok());
    assert_eq!(verifier.verify(&token(&ps256, Some("rsa"))).unwrap_err().reason(), Reason::AlgorithmMismatch);
    assert_eq!(verifier.verify(&token(&ps256, None)).unwrap_err().reason(), Reason::AmbiguousKey);
}

// ---------------------------------------------------------------------------------------
// Wrong family, private keys, garbage
// ---------------------------------------------------------------------------------------

#[test]
fn p256_pem_is_refused_as_rs256() {
    let p256 = TestKey::generate(Algorithm::ES256);
    let error = config_error(VerifyingKey::from_pem(p256.public_pem.as_bytes(), Algorithm::RS256));
    assert!(error.contains("RS256"), "{error}");
}

#[test]
fn rsa_pem_is_refused_as_es256() {
    let rsa = TestKey::generate(Algorithm::RS256);
    let error = config_error(VerifyingKey::from_pem(rsa.public_pem.as_bytes(), Algorithm::ES256));
    assert!(error.contains("ES256"), "{error}");
}

#[test]
fn ed25519_pem_is_refused_as_es256() {
    let ed = TestKey::generate(Algorithm::EdDSA);
    let error = config_error(VerifyingKey::from_pem(ed.public_pem.as_bytes(), Algorithm::ES256));
    assert!(error.contains("ES256"), "{error}");
}

#[test]
fn no_public_key_loads_for_an_algorithm_outside_its_family() {
    let signers: Vec<TestKey> = [Algorithm::RS256, Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA]
        .into_iter()
        .map(TestKey::generate)
        .collect();
    for signer in &signers {
        for alg in all_algorithms() {
            let from_pem = VerifyingKey::from_pem(signer.public_pem.as_bytes(), alg);
            let from_der = VerifyingKey::from_der(&signer.public_der, alg);
            if family(alg) == family(signer.alg) {
                assert!(from_pem.is_ok(), "{} key as {alg}", signer.alg);
                assert!(from_der.is_ok(), "{} key as {alg}", signer.alg);
            } else {
                assert!(from_pem.is_err(), "{} key loaded as {alg}", signer.alg);
                assert!(from_der.is_err(), "{} key loaded as {alg}", signer.alg);
            }
        }
    }
}

fn ec_private_pkcs8() -> Vec<u8> {
    use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("keygen");
    pair.to_pkcs8v1().expect("pkcs8").as_ref().to_vec()
}

#[test]
fn private_key_pem_is_refused_with_a_clear_message() {
    let der = ec_private_pkcs8();
    for tag in ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY"] {
        let document = pem(tag, &der);
        for alg in [Algorithm::ES256, Algorithm::RS256] {
            let error = config_error(VerifyingKey::from_pem(document.as_bytes(), alg));
            assert!(error.contains("private key"), "{tag}: {error}");
            assert!(error.contains("public key only"), "{tag}: {error}");
        }
    }
}

#[test]
fn garbage_is_refused() {
    let error = config_error(VerifyingKey::from_pem(b"not a pem at all", Algorithm::ES256));
    assert!(error.contains("PEM"), "{error}");
    let error = config_error(VerifyingKey::from_pem(b"", Algorithm::RS256));
    assert!(error.contains("PEM"), "{error}");
    // Well-formed armour around a body that is not a key.
    let junk = pem("PUBLIC KEY", b"definitely not a key");
    for alg in ASYMMETRIC {
        let error = config_error(VerifyingKey::from_pem(junk.as_bytes(), alg));
        assert!(error.contains("does not fit"), "{alg}: {error}");
        assert!(VerifyingKey::from_der(b"definitely not a key", alg).is_err(), "{alg}");
        assert!(VerifyingKey::from_der(&[], alg).is_err(), "{alg}");
    }
    // Other PEM types.
    let certificate = pem("CERTIFICATE", b"whatever");
    let error = config_error(VerifyingKey::from_pem(certificate.as_bytes(), Algorithm::RS256));
    assert!(error.contains("unsupported PEM type"), "{error}");
    // Truncated DER of a real key.
    let es256 = TestKey::generate(Algorithm::ES256);
    let truncated = &es256.public_der[..es256.public_der.len() - 1];
    assert!(VerifyingKey::from_der(truncated, Algorithm::ES256).is_err());
}

// ---------------------------------------------------------------------------------------
// HMAC
// ---------------------------------------------------------------------------------------

#[test]
fn hmac_secret_shorter_than_the_hash_output_is_refused() {
    for (alg, min) in [(Algorithm::HS256, 32), (Algorithm::HS384, 48), (Algorithm::HS512, 64)] {
        let error = config_error(VerifyingKey::from_hmac_secret(alg, &vec![7; min - 1]));
        assert!(error.contains(&format!("at least {min} bytes")), "{alg}: {error}");
        assert!(VerifyingKey::from_hmac_secret(alg, &[]).is_err(), "{alg}: empty secret");
        let key = VerifyingKey::from_hmac_secret(alg, &vec![7; min]).expect("exactly the hash size");
        assert_eq!(key.algorithm(), alg);
    }
}

#[test]
fn hmac_secret_for_an_asymmetric_algorithm_is_refused() {
    let error = config_error(VerifyingKey::from_hmac_secret(Algorithm::RS256, &[7; 64]));
    assert!(error.contains("not an HMAC algorithm"), "{error}");
    for alg in ASYMMETRIC {
        assert!(VerifyingKey::from_hmac_secret(alg, &[7; 64]).is_err(), "{alg}");
    }
}

#[test]
fn der_or_pem_for_an_hmac_algorithm_is_refused() {
    let secret = TestKey::generate(Algorithm::HS256).public_der;
    let rsa = TestKey::generate(Algorithm::RS256);
    for alg in HMAC {
        let error = config_error(VerifyingKey::from_der(&secret, alg));
        assert!(error.contains("from_hmac_secret"), "{alg}: {error}");
        // An RSA public key can never become an HMAC secret.
        assert!(VerifyingKey::from_der(&rsa.public_der, alg).is_err(), "{alg}");
        assert!(VerifyingKey::from_pem(rsa.public_pem.as_bytes(), alg).is_err(), "{alg}");
    }
}

#[test]
fn jwks_oct_key_is_refused_by_default() {
    let hs = TestKey::generate(Algorithm::HS256);
    let error = config_error(VerifyingKey::from_jwk(&hs.jwk.to_string()));
    assert!(error.contains("oct"), "{error}");
    let es = TestKey::generate(Algorithm::ES256);
    let error = KeySet::from_jwks(&jwks(&[&es.jwk, &hs.jwk])).expect_err("oct refused").to_string();
    assert!(error.contains("#1") && error.contains("oct"), "{error}");
}

#[test]
fn jwks_oct_key_is_accepted_with_allow_symmetric() {
    let hs = TestKey::generate(Algorithm::HS384);
    let es = TestKey::generate(Algorithm::ES256);
    let options = JwkOptions::default().allow_symmetric(true);
    assert!(options.allows_symmetric());
    let keys = KeySet::from_jwks_with(&jwks(&[&es.jwk, &hs.jwk]), &options).expect("allowed");
    assert_eq!(keys.get(&hs.kid).unwrap().algorithm(), Algorithm::HS384);
    let verifier = verifier(keys);
    assert!(verifier.verify(&token(&hs, Some(&hs.kid))).is_ok());
    assert!(verifier.verify(&token(&es, Some(&es.kid))).is_ok());
}

#[test]
fn oct_jwk_without_alg_is_refused_even_when_allowed() {
    let hs = TestKey::generate(Algorithm::HS256);
    let mut jwk = hs.jwk.clone();
    jwk.as_object_mut().unwrap().remove("alg");
    let options = JwkOptions::default().allow_symmetric(true);
    let error = config_error(VerifyingKey::from_jwk_with(&jwk.to_string(), &options));
    assert!(error.contains("must name an HMAC alg"), "{error}");
    // Nor may it name an asymmetric algorithm.
    jwk["alg"] = json!("RS256");
    assert!(VerifyingKey::from_jwk_with(&jwk.to_string(), &options).is_err());
    // And its secret must still be long enough.
    let short = json!({"kty": "oct", "alg": "HS256", "k": URL_SAFE_NO_PAD.encode([7; 31])});
    assert!(VerifyingKey::from_jwk_with(&short.to_string(), &options).is_err());
}

// ---------------------------------------------------------------------------------------
// JWK rules
// ---------------------------------------------------------------------------------------

#[test]
fn jwk_with_use_enc_is_refused() {
    let es = TestKey::generate(Algorithm::ES256);
    let mut jwk = es.jwk.clone();
    jwk["use"] = json!("enc");
    let error = config_error(VerifyingKey::from_jwk(&jwk.to_string()));
    assert!(error.contains("not a signature key"), "{error}");
    jwk["use"] = json!("sig");
    assert!(VerifyingKey::from_jwk(&jwk.to_string()).is_ok());
    let rsa = TestKey::generate(Algorithm::RS256);
    let mut jwk = rsa.jwk.clone();
    jwk["use"] = json!("enc");
    assert!(VerifyingKey::from_jwk(&jwk.to_string()).is_err());
}

#[test]
fn ec_jwk_whose_alg_contradicts_its_curve_is_refused() {
    let p256 = TestKey::generate(Algorithm::ES256);
    let p384 = TestKey::generate(Algorithm::ES384);
    for (jwk, alg) in [(&p256.jwk, "ES384"), (&p384.jwk, "ES256"), (&p256.jwk, "RS256"), (&p256.jwk, "EdDSA")]
    {
        let mut jwk = jwk.clone();
        jwk["alg"] = json!(alg);
        let error = config_error(VerifyingKey::from_jwk(&jwk.to_string()));
        assert!(error.contains("does not fit"), "{alg}: {error}");
    }
    // An EC JWK without alg takes its curve's algorithm.
    let mut jwk = p384.jwk.clone();
    jwk.as_object_mut().unwrap().remove("alg");
    assert_eq!(VerifyingKey::from_jwk(&jwk.to_string()).unwrap().algorithm(), Algorithm::ES384);
    // An OKP key is EdDSA only.
    let ed = TestKey::generate(Algorithm::EdDSA);
    let mut jwk = ed.jwk.clone();
    jwk["alg"] = json!("ES256");
    assert!(VerifyingKey::from_jwk(&jwk.to_string()).is_err());
    jwk["alg"] = json!("EdDSA");
    assert!(VerifyingKey::from_jwk(&jwk.to_string()).is_ok());
}

#[test]
fn ec_jwk_with_bad_coordinates_is_refused() {
    let p256 = TestKey::generate(Algorithm::ES256);
    // Coordinates of the other curve's size.
    let mut jwk = p256.jwk.clone();
    jwk["x"] = json!(URL_SAFE_NO_PAD.encode([1; 48]));
    jwk["y"] = json!(URL_SAFE_NO_PAD.encode([1; 48]));
    let error = config_error(VerifyingKey::from_jwk(&jwk.to_string()));
    assert!(error.contains("wrong length"), "{error}");
    // A point that is not on the curve.
    let mut y = URL_SAFE_NO_PAD.decode(p256.jwk["y"].as_str().unwrap()).unwrap();
    y[31] ^= 0x01;
    let mut jwk = p256.jwk.clone();
    jwk["y"] = json!(URL_SAFE_NO_PAD.encode(y));
    assert!(VerifyingKey::from_jwk(&jwk.to_string()).is_err());
    // A missing or non-base64url coordinate.
    let mut jwk = p256.jwk.clone();
    jwk.as_object_mut().unwrap().remove("y");
    assert!(config_error(VerifyingKey::from_jwk(&jwk.to_string())).contains("\"y\""));
    let mut jwk = p256.jwk.clone();
    jwk["x"] = json!("not base64url!");
    assert!(config_error(VerifyingKey::from_jwk(&jwk.to_string())).contains("base64url"));
}

#[test]
fn rsa_jwk_without_alg_is_rs256_by_default() {
    let rsa = TestKey::generate(Algorithm::RS256);
    let mut jwk = rsa.jwk.clone();
    jwk.as_object_mut().unwrap().remove("alg");
    let key = VerifyingKey::from_jwk(&jwk.to_string()).expect("loads");
    assert_eq!(key.algorithm(), Algorithm::RS256);
    assert_verifies(key, &rsa);
}

#[test]
fn rsa_jwk_without_alg_follows_default_rsa_algorithm() {
    let ps256 = TestKey::generate(Algorithm::PS256);
    let mut jwk = ps256.jwk.clone();
    jwk.as_object_mut().unwrap().remove("alg");
    let options = JwkOptions::default().default_rsa_algorithm(Algorithm::PS256);
    let key = VerifyingKey::from_jwk_with(&jwk.to_string(), &options).expect("loads");
    assert_eq!(key.algorithm(), Algorithm::PS256);
    assert_verifies(key, &ps256);
    // Through a JWKS too.
    let keys = KeySet::from_jwks_with(&jwks(&[&jwk]), &options).unwrap();
    assert_eq!(keys.get(&ps256.kid).unwrap().algorithm(), Algorithm::PS256);
    // A named alg wins over the default.
    jwk["alg"] = json!("RS512");
    assert_eq!(
        VerifyingKey::from_jwk_with(&jwk.to_string(), &options).unwrap().algorithm(),
        Algorithm::RS512
    );
    // A non-RSA default is ignored.
    let ignored = JwkOptions::default().default_rsa_algorithm(Algorithm::ES256);
    jwk.as_object_mut().unwrap().remove("alg");
    assert_eq!(
        VerifyingKey::from_jwk_with(&jwk.to_string(), &ignored).unwrap().algorithm(),
        Algorithm::RS256
    );
}

#[test]
fn rsa_jwk_with_a_non_rsa_alg_is_refused() {
    let rsa = TestKey::generate(Algorithm::RS256);
    for alg in ["ES256", "EdDSA", "HS256"] {
        let mut jwk = rsa.jwk.clone();
        jwk["alg"] = json!(alg);
        let error = config_error(VerifyingKey::from_jwk(&jwk.to_string()));
        assert!(error.contains("not an RSA algorithm"), "{alg}: {error}");
    }
}

#[test]
fn unsupported_kty_crv_and_alg_are_refused() {
    let p256 = TestKey::generate(Algorithm::ES256);
    let ed = TestKey::generate(Algorithm::EdDSA);
    let cases = [
        (json!({"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}), "curve"),
        (json!({"kty": "EC", "crv": "secp256k1", "x": p256.jwk["x"], "y": p256.jwk["y"]}), "curve"),
        (json!({"kty": "EC", "x": p256.jwk["x"], "y": p256.jwk["y"]}), "curve"),
        (json!({"kty": "OKP", "crv": "X25519", "x": ed.jwk["x"]}), "curve"),
        (json!({"kty": "OKP", "crv": "Ed448", "x": ed.jwk["x"]}), "curve"),
        (json!({"kty": "AKP", "alg": "ML-DSA-44", "pub": "AA"}), "alg"),
        (json!({"kty": "AKP", "pub": "AA"}), "kty"),
        (json!({"kty": "oKp", "crv": "Ed25519", "x": ed.jwk["x"]}), "kty"),
        (json!({"kty": "EC", "crv": "P-256", "alg": "ES512", "x": p256.jwk["x"], "y": p256.jwk["y"]}), "alg"),
        (json!({"kty": "EC", "crv": "P-256", "alg": "none", "x": p256.jwk["x"], "y": p256.jwk["y"]}), "alg"),
        (json!({"kty": "OKP", "crv": "Ed448", "alg": "Ed448", "x": ed.jwk["x"]}), "alg"),
    ];
    for (jwk, word) in cases {
        let error = config_error(VerifyingKey::from_jwk(&jwk.to_string()));
        assert!(error.contains("unsupported") && error.contains(word), "{jwk}: {error}");
    }
    // Not a JWK at all.
    for json in ["", "[]", "{}", r#"{"kty": 1}"#, "not json"] {
        let error = config_error(VerifyingKey::from_jwk(json));
        assert!(error.contains("invalid JWK"), "{json}: {error}");
    }
}

#[test]
fn jwks_fails_loudly_naming_the_index_of_the_bad_key() {
    let es = TestKey::generate(Algorithm::ES256);
    let ed = TestKey::generate(Algorithm::EdDSA);
    let mut enc = es.jwk.clone();
    enc["use"] = json!("enc");
    enc["kid"] = json!("enc-key");
    let error = KeySet::from_jwks(&jwks(&[&es.jwk, &ed.jwk, &enc])).expect_err("refused").to_string();
    assert!(error.contains("#2"), "{error}");
    assert!(error.contains("not a signature key"), "{error}");

    let unknown = json!({"kty": "XYZ"});
    let error = KeySet::from_jwks(&jwks(&[&unknown, &es.jwk])).expect_err("refused").to_string();
    assert!(error.contains("#0") && error.contains("XYZ"), "{error}");

    // A member that does not deserialize at all.
    let not_an_object = json!("hello");
    let error = KeySet::from_jwks(&jwks(&[&es.jwk, &not_an_object])).expect_err("refused").to_string();
    assert!(error.contains("#1"), "{error}");
}

#[test]
fn malformed_jwks_documents_are_refused() {
    for json in ["", "not json", "{}", r#"{"keys": 1}"#, r#"{"keys": {}}"#, "[]"] {
        let error = KeySet::from_jwks(json).expect_err("refused").to_string();
        assert!(error.contains("invalid JWKS"), "{json}: {error}");
    }
    // An empty set loads but makes no verifier.
    let empty = KeySet::from_jwks(r#"{"keys": []}"#).unwrap();
    assert!(empty.is_empty());
    let error = Verifier::builder(empty)
        .issuer(support::ISSUER)
        .audience(support::AUDIENCE)
        .build()
        .expect_err("no keys")
        .to_string();
    assert!(error.contains("at least one key"), "{error}");
}

// ---------------------------------------------------------------------------------------
// Debug output
// ---------------------------------------------------------------------------------------

/// The forms key material could show up in.
fn renderings(bytes: &[u8]) -> Vec<String> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hex_upper = hex.to_uppercase();
    let debug = format!("{:?}", bytes);
    // A 12-byte slice from the middle is enough to recognise any encoding of it.
    let middle = &bytes[bytes.len() / 2..bytes.len() / 2 + 12];
    vec![
        URL_SAFE_NO_PAD.encode(middle)[..12].to_owned(),
        STANDARD.encode(middle)[..12].to_owned(),
        hex[..24].to_owned(),
        hex_upper[..24].to_owned(),
        debug[1..debug.len().min(40)].to_owned(),
        hex[hex.len() / 2..hex.len() / 2 + 24].to_owned(),
    ]
}

fn assert_no_material(debug: &str, material: &[u8], what: &str) {
    for needle in renderings(material) {
        assert!(!debug.contains(&needle), "{what}: Debug output contains {needle:?}: {debug}");
    }
}

#[test]
fn verifying_key_debug_contains_no_key_material() {
    for alg in all_algorithms() {
        let signer = TestKey::generate(alg);
        let key = signer.verifying_key();
        let debug = format!("{key:?}");
        assert!(debug.contains(alg.name()) && debug.contains(&signer.kid), "{debug}");
        assert_no_material(&debug, &signer.public_der, alg.name());
        if alg.is_symmetric() {
            assert!(!debug.contains(signer.jwk["k"].as_str().unwrap()), "{debug}");
        } else {
            // Not the PEM body, nor the JWK members.
            for line in signer.public_pem.lines().filter(|line| !line.starts_with("-----")) {
                assert!(!debug.contains(line), "{alg}: PEM body in {debug}");
            }
            for member in ["n", "x", "y"] {
                if let Some(value) = signer.jwk[member].as_str() {
                    assert!(!debug.contains(&value[..16]), "{alg}: JWK {member} in {debug}");
                    let raw = URL_SAFE_NO_PAD.decode(value).unwrap();
                    assert_no_material(&debug, &raw, alg.name());
                }
            }
        }
        let alternate = format!("{key:#?}");
        assert_no_material(&alternate, &signer.public_der, alg.name());
    }
}

#[test]
fn key_set_debug_contains_no_key_material() {
    let signers: Vec<TestKey> = all_algorithms().map(TestKey::generate).collect();
    let keys = KeySet::from_jwks_with(
        &jwks(&signers.iter().map(|signer| &signer.jwk).collect::<Vec<_>>()),
        &JwkOptions::default().allow_symmetric(true),
    )
    .unwrap();
    let debug = format!("{keys:?} {keys:#?}");
    for signer in &signers {
        assert!(debug.contains(&signer.kid), "{debug}");
        assert_no_material(&debug, &signer.public_der, signer.alg.name());
        for member in ["n", "x", "y", "k"] {
            if let Some(value) = signer.jwk[member].as_str() {
                assert!(!debug.contains(&value[..16]), "{}: JWK {member} in {debug}", signer.alg);
            }
        }
    }
    let verifier = verifier(keys);
    let debug = format!("{verifier:?}");
    for signer in &signers {
        assert_no_material(&debug, &signer.public_der, signer.alg.name());
    }
}

/// A 1024-bit modulus (odd, top bit set) and its PKCS#1 `RSAPublicKey` DER with e = 65537.
fn rsa_1024_bit_public_key() -> (Vec<u8>, Vec<u8>) {
    let n: Vec<u8> = (0..128u32)
        .map(|i| match i {
            0 => 0xC3,
            127 => 0x01,
            _ => (i * 37 % 251) as u8,
        })
        .collect();
    // SEQUENCE { INTEGER (0x00 || n), INTEGER 65537 }
    let mut der = vec![0x30, 0x81, 0x89, 0x02, 0x81, 0x81, 0x00];
    der.extend_from_slice(&n);
    der.extend_from_slice(&[0x02, 0x03, 0x01, 0x00, 0x01]);
    (n, der)
}

#[test]
fn rsa_key_shorter_than_2048_bits_is_refused_at_load() {
    let (n, pkcs1) = rsa_1024_bit_public_key();
    // The DER is a well-formed RSAPublicKey: aws-lc parses it.
    assert!(aws_lc_rs::rsa::PublicKey::from_der(&pkcs1).is_ok());
    assert!(
        VerifyingKey::from_rsa_components(&n, &[1, 0, 1], Algorithm::RS256).is_err(),
        "from_rsa_components documents refusing keys under 2048 bits"
    );
    let jwk = json!({"kty": "RSA", "alg": "RS256", "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB"});
    assert!(VerifyingKey::from_jwk(&jwk.to_string()).is_err(), "1024-bit JWK loaded");
    assert!(VerifyingKey::from_der(&pkcs1, Algorithm::RS256).is_err(), "1024-bit DER loaded");
    let pem = pem("RSA PUBLIC KEY", &pkcs1);
    assert!(
        VerifyingKey::from_pem_infer_alg(pem.as_bytes()).is_err(),
        "from_pem_infer_alg documents RSA keys of 2048 bits or more"
    );
}

// ---------------------------------------------------------------------------------------
// Configuration errors: a kind to match on, and the error behind them
// ---------------------------------------------------------------------------------------

#[test]
fn an_unreadable_key_file_keeps_its_io_error() {
    let path = std::env::temp_dir().join("tower-passport-no-such-key.pem");
    let error = tower_passport_issuer::SigningKey::from_pem_file(&path).expect_err("no such file");
    assert_eq!(error.kind(), ConfigErrorKind::KeyFile);
    assert!(error.to_string().contains("tower-passport-no-such-key.pem"), "{error}");
    let source = std::error::Error::source(&error).expect("the io::Error");
    let io = source.downcast_ref::<std::io::Error>().expect("an io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    // The Display text still tells the whole story.
    assert!(error.to_string().ends_with(&io.to_string()), "{error}");
}

#[test]
fn configuration_errors_say_what_they_are_about() {
    let pem = VerifyingKey::from_pem(b"not a pem", Algorithm::RS256).expect_err("bad PEM");
    assert_eq!(pem.kind(), ConfigErrorKind::InvalidKey);
    assert!(std::error::Error::source(&pem).is_some(), "the PEM parser's error is kept");
    let short = VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 8]).expect_err("too short");
    assert_eq!(short.kind(), ConfigErrorKind::InvalidKey);
    let family = VerifyingKey::from_hmac_secret(Algorithm::RS256, &[7; 64]).expect_err("not HMAC");
    assert_eq!(family.kind(), ConfigErrorKind::Algorithm);
    let unknown = "none".parse::<Algorithm>().expect_err("unsupported");
    assert_eq!(unknown.kind(), ConfigErrorKind::Algorithm);
    let jwks = KeySet::from_jwks("{\"keys\": [{\"kty\": \"RSA\"}]}").expect_err("no n");
    assert_eq!(jwks.kind(), ConfigErrorKind::InvalidKey);
    assert!(std::error::Error::source(&jwks).is_some(), "the entry's own error is kept");

    let keys =
        KeySet::new().with_key(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).expect("key"));
    let no_issuer = Verifier::builder(keys.clone()).audience("api").build().expect_err("no issuer");
    assert_eq!(no_issuer.kind(), ConfigErrorKind::Issuer);
    let no_audience =
        Verifier::builder(keys.clone()).issuer("https://i.test").build().expect_err("no audience");
    assert_eq!(no_audience.kind(), ConfigErrorKind::Audience);
    let verifier =
        Verifier::builder(keys).issuer("https://i.test").audience("api").build().expect("verifier");
    let realm = tower_passport::GuardLayer::builder(verifier.clone()).realm("a \"realm\"").build();
    assert_eq!(realm.expect_err("quoted realm").kind(), ConfigErrorKind::Realm);
    let cap = tower_passport::GuardLayer::builder(verifier).max_token_len(0).build();
    assert_eq!(cap.expect_err("zero cap").kind(), ConfigErrorKind::Limit);
    let http = tower_passport::RemoteKeySet::builder("http://idp.example/jwks.json").build();
    assert_eq!(http.expect_err("plain http").kind(), ConfigErrorKind::Url);
}
