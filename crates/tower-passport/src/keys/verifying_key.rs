use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::hmac;
use aws_lc_rs::rsa::PublicEncryptingKey;
use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents};

use super::thumbprint::PublicJwk;
use super::Algorithm;
use crate::error::{ConfigError, ConfigErrorKind};

/// A public key (or, by explicit opt-in, an HMAC secret) bound to exactly one algorithm.
///
/// The key is parsed once, when it is loaded, so verifying costs one signature check and
/// no key decoding.
///
/// A public key loaded from PEM, DER or JWK components has a key id from the start: its
/// RFC 7638 JWK thumbprint, the `kid` this crate's issuer gives its signing keys, so a
/// resource server given the issuer's PEM public key finds the key its tokens name.
/// [`with_kid`](Self::with_kid) (or a JWK's own `kid`) replaces it. A token without
/// `kid` (Laravel Passport's) still picks the one key that fits its `alg` (see
/// [`KeySet`](crate::KeySet)). An HMAC secret gets no thumbprint, which would be derived
/// from the secret and sent in every token header: it has a `kid` only when given one.
///
/// ```
/// use tower_passport::{Algorithm, VerifyingKey};
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let pem = b"-----BEGIN PUBLIC KEY-----
/// MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
/// -----END PUBLIC KEY-----";
/// let key = VerifyingKey::from_pem(pem, Algorithm::EdDSA)?.with_kid("2025-06");
/// assert_eq!(key.algorithm(), Algorithm::EdDSA);
/// assert_eq!(key.kid(), Some("2025-06"));
/// // The same key cannot be loaded for another algorithm family.
/// assert!(VerifyingKey::from_pem(pem, Algorithm::ES256).is_err());
/// # Ok(())
/// # }
/// ```
pub struct VerifyingKey {
    algorithm: Algorithm,
    kid: Option<Box<str>>,
    material: Material,
    /// SHA-256 of the key material (SPKI DER, or the HMAC secret): which key this is, to
    /// tell whether a refreshed set still holds it. Never shown.
    fingerprint: [u8; 32],
}

fn fingerprint(bytes: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let mut out = [0; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

enum Material {
    Public(ParsedPublicKey),
    Hmac(Box<hmac::Key>),
}

impl VerifyingKey {
    /// A key from a PEM document: `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1).
    ///
    /// # Errors
    /// When the document is not PEM, holds a private key or certificate, or holds a key
    /// that does not fit `algorithm`.
    pub fn from_pem(pem: &[u8], algorithm: Algorithm) -> Result<Self, ConfigError> {
        Self::from_der(&pem_to_der(pem)?, algorithm)
    }

    /// A key from a PEM document, with the algorithm inferred from the key itself: RS256
    /// for RSA, ES256 for P-256, ES384 for P-384 and EdDSA for Ed25519.
    ///
    /// ```
    /// use tower_passport::{Algorithm, VerifyingKey};
    /// let pem = b"-----BEGIN PUBLIC KEY-----
    /// MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
    /// -----END PUBLIC KEY-----";
    /// assert_eq!(VerifyingKey::from_pem_infer_alg(pem).unwrap().algorithm(), Algorithm::EdDSA);
    /// ```
    ///
    /// # Errors
    /// When the document is not a PEM public key of one of those types.
    pub fn from_pem_infer_alg(pem: &[u8]) -> Result<Self, ConfigError> {
        let der = pem_to_der(pem)?;
        [Algorithm::RS256, Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA]
            .into_iter()
            .find_map(|algorithm| Self::from_der(&der, algorithm).ok())
            .ok_or_else(|| {
                ConfigError::new(
                    ConfigErrorKind::InvalidKey,
                    "the PEM key is not an RSA (2048 bits or more), P-256, P-384 or Ed25519 public key",
                )
            })
    }

    /// A key from DER: SPKI for every family, PKCS#1 `RSAPublicKey` for RSA, and the raw
    /// 32 bytes for Ed25519.
    ///
    /// # Errors
    /// When `der` is not a public key that fits `algorithm`, or `algorithm` is an HMAC
    /// algorithm (use [`from_hmac_secret`](Self::from_hmac_secret)).
    pub fn from_der(der: &[u8], algorithm: Algorithm) -> Result<Self, ConfigError> {
        let verification = algorithm.verification().ok_or_else(|| {
            ConfigError::new(
                ConfigErrorKind::Algorithm,
                format!("{algorithm} is symmetric: load its secret with VerifyingKey::from_hmac_secret"),
            )
        })?;
        let parsed = ParsedPublicKey::new(verification, der).map_err(|rejected| {
            ConfigError::new(ConfigErrorKind::InvalidKey, format!("the key does not fit {algorithm}"))
                .with_source(rejected)
        })?;
        Self::public(algorithm, parsed, der)
    }

    /// Wraps a parsed public key, refusing RSA keys outside 2048..=8192 bits at load time
    /// (aws-lc would otherwise only refuse them at verification, as a bad signature).
    /// `source` is what the key was parsed from, fingerprinted when the key has no SPKI form.
    fn public(algorithm: Algorithm, parsed: ParsedPublicKey, source: &[u8]) -> Result<Self, ConfigError> {
        if algorithm.rsa_parameters().is_some() {
            let size = parsed
                .as_der()
                .ok()
                .and_then(|spki| PublicEncryptingKey::from_der(spki.as_ref()).ok())
                .map(|key| key.key_size_bits());
            if !size.is_some_and(|bits| (2048..=8192).contains(&bits)) {
                return Err(ConfigError::new(
                    ConfigErrorKind::InvalidKey,
                    "an RSA key must have 2048 to 8192 bits",
                ));
            }
        }
        let fingerprint = match parsed.as_der() {
            Ok(spki) => fingerprint(spki.as_ref()),
            Err(_) => fingerprint(source),
        };
        let kid = PublicJwk::of(&parsed, algorithm).map(|jwk| jwk.thumbprint().into_boxed_str());
        Ok(Self { algorithm, kid, material: Material::Public(parsed), fingerprint })
    }

    /// An RSA key from its JWK components: the big-endian modulus and exponent.
    ///
    /// # Errors
    /// When `algorithm` is not an RSA algorithm or the components do not form a key of
    /// 2048 bits or more.
    pub fn from_rsa_components(n: &[u8], e: &[u8], algorithm: Algorithm) -> Result<Self, ConfigError> {
        let params = algorithm.rsa_parameters().ok_or_else(|| {
            ConfigError::new(ConfigErrorKind::Algorithm, format!("{algorithm} is not an RSA algorithm"))
        })?;
        let parsed = RsaPublicKeyComponents { n, e }.to_parsed_public_key(params).map_err(|rejected| {
            ConfigError::new(ConfigErrorKind::InvalidKey, "invalid RSA key").with_source(rejected)
        })?;
        let mut source = Vec::with_capacity(n.len() + e.len());
        source.extend_from_slice(n);
        source.extend_from_slice(e);
        Self::public(algorithm, parsed, &source)
    }

    /// An HMAC secret for HS256, HS384 or HS512. Symmetric keys are an explicit opt-in:
    /// this is the only way to make one, and JWKS `oct` keys are refused unless
    /// [`JwkOptions::allow_symmetric`](super::JwkOptions::allow_symmetric) is set.
    ///
    /// ```
    /// use tower_passport::{Algorithm, VerifyingKey};
    /// assert!(VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).is_ok());
    /// // RFC 7518 §3.2: the secret must be at least as long as the hash output.
    /// assert!(VerifyingKey::from_hmac_secret(Algorithm::HS256, b"short").is_err());
    /// assert!(VerifyingKey::from_hmac_secret(Algorithm::RS256, &[7; 32]).is_err());
    /// ```
    ///
    /// # Errors
    /// When `algorithm` is not HS256/384/512, or the secret is shorter than its hash output.
    pub fn from_hmac_secret(algorithm: Algorithm, secret: &[u8]) -> Result<Self, ConfigError> {
        let (hmac_algorithm, min_len) = algorithm.hmac().ok_or_else(|| {
            ConfigError::new(ConfigErrorKind::Algorithm, format!("{algorithm} is not an HMAC algorithm"))
        })?;
        if secret.len() < min_len {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidKey,
                format!("an {algorithm} secret must be at least {min_len} bytes (RFC 7518 §3.2)"),
            ));
        }
        let key = Box::new(hmac::Key::new(hmac_algorithm, secret));
        Ok(Self { algorithm, kid: None, material: Material::Hmac(key), fingerprint: fingerprint(secret) })
    }

    /// The same key with this key id (`kid`), in place of its thumbprint.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<Box<str>>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The one algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key id: the one given ([`with_kid`](Self::with_kid), a JWK's `kid`), else a
    /// public key's RFC 7638 thumbprint; `None` only for an HMAC secret never given one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether `other` is this key: the same `kid`, algorithm and material.
    pub(crate) fn same_key(&self, other: &Self) -> bool {
        self.algorithm == other.algorithm && self.kid == other.kid && self.fingerprint == other.fingerprint
    }

    /// Whether `signature` is a valid signature of `message` under this key. HMAC tags are
    /// compared in constant time.
    ///
    /// ```
    /// use tower_passport::{Algorithm, VerifyingKey};
    /// let key = VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).unwrap();
    /// assert!(!key.verify(b"message", b"not a tag"));
    /// ```
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            Material::Public(key) => key.verify_sig(message, signature).is_ok(),
            Material::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No key material, public or secret.
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn pem_to_der(pem: &[u8]) -> Result<Vec<u8>, ConfigError> {
    let parsed = pem::parse(pem)
        .map_err(|e| ConfigError::new(ConfigErrorKind::InvalidKey, "invalid PEM").with_source(e))?;
    match parsed.tag() {
        "PUBLIC KEY" | "RSA PUBLIC KEY" => Ok(parsed.into_contents()),
        tag if tag.contains("PRIVATE") => Err(ConfigError::new(
            ConfigErrorKind::InvalidKey,
            "the PEM holds a private key; give the guard the public key only",
        )),
        tag => Err(ConfigError::new(
            ConfigErrorKind::InvalidKey,
            format!("unsupported PEM type {tag:?}; expected PUBLIC KEY or RSA PUBLIC KEY"),
        )),
    }
}
