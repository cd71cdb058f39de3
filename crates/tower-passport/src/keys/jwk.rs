//! JWK (RFC 7517) to [`VerifyingKey`], binding each key to one algorithm.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;

use super::{Algorithm, VerifyingKey};
use crate::error::{ConfigError, ConfigErrorKind};

/// How JWKs are turned into keys.
///
/// ```
/// use tower_passport::keys::JwkOptions;
/// use tower_passport::Algorithm;
/// let options = JwkOptions::default().default_rsa_algorithm(Algorithm::PS256);
/// assert!(!options.allows_symmetric());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct JwkOptions {
    allow_symmetric: bool,
    default_rsa: Algorithm,
}

impl Default for JwkOptions {
    fn default() -> Self {
        Self { allow_symmetric: false, default_rsa: Algorithm::RS256 }
    }
}

impl JwkOptions {
    /// Accept `oct` (HMAC) keys. Off by default: a shared secret in a key set is almost
    /// always a mistake. Even when on, an `oct` key must name its `alg`.
    #[must_use]
    pub fn allow_symmetric(mut self, allow: bool) -> Self {
        self.allow_symmetric = allow;
        self
    }

    /// Whether `oct` keys are accepted.
    pub fn allows_symmetric(&self) -> bool {
        self.allow_symmetric
    }

    /// The algorithm for an RSA JWK without `alg` (RS256 unless set). Must be an RSA
    /// algorithm; anything else is ignored.
    #[must_use]
    pub fn default_rsa_algorithm(mut self, algorithm: Algorithm) -> Self {
        if algorithm.rsa_parameters().is_some() {
            self.default_rsa = algorithm;
        }
        self
    }
}

/// The members of a JWK this crate reads.
#[derive(Deserialize)]
pub(crate) struct JwkDocument {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    key_use: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    k: Option<String>,
}

impl VerifyingKey {
    /// A key from a JWK JSON object, with default [`JwkOptions`].
    ///
    /// The algorithm comes from `alg`, or else only from an unambiguous `kty`/`crv`: RSA →
    /// RS256 (configurable), EC P-256 → ES256, P-384 → ES384, OKP Ed25519 → EdDSA. An OKP
    /// key may name its `alg` `EdDSA` or, as RFC 9864 registers it, `Ed25519`.
    ///
    /// ```
    /// use tower_passport::{Algorithm, VerifyingKey};
    /// let jwk = r#"{"kty":"OKP","crv":"Ed25519","kid":"k1",
    ///               "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    /// let key = VerifyingKey::from_jwk(jwk).unwrap();
    /// assert_eq!((key.algorithm(), key.kid()), (Algorithm::EdDSA, Some("k1")));
    /// let named = r#"{"kty":"OKP","crv":"Ed25519","alg":"Ed25519",
    ///                 "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    /// assert_eq!(VerifyingKey::from_jwk(named).unwrap().algorithm(), Algorithm::EdDSA);
    /// ```
    ///
    /// # Errors
    /// When the JWK is malformed, is an encryption key, has an unsupported
    /// `kty`/`crv`/`alg`, or is an `oct` key (see [`from_jwk_with`](Self::from_jwk_with)).
    pub fn from_jwk(json: &str) -> Result<Self, ConfigError> {
        Self::from_jwk_with(json, &JwkOptions::default())
    }

    /// A key from a JWK JSON object, with the given options.
    ///
    /// ```
    /// use tower_passport::{keys::JwkOptions, VerifyingKey};
    /// let jwk = r#"{"kty":"oct","alg":"HS256","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0"}"#;
    /// assert!(VerifyingKey::from_jwk(jwk).is_err());
    /// assert!(VerifyingKey::from_jwk_with(jwk, &JwkOptions::default().allow_symmetric(true)).is_ok());
    /// ```
    ///
    /// # Errors
    /// As [`from_jwk`](Self::from_jwk), except that `oct` keys are accepted when allowed.
    pub fn from_jwk_with(json: &str, options: &JwkOptions) -> Result<Self, ConfigError> {
        let document: JwkDocument = serde_json::from_str(json)
            .map_err(|e| ConfigError::new(ConfigErrorKind::InvalidKey, "invalid JWK").with_source(e))?;
        Self::from_jwk_document(&document, options)
    }

    pub(crate) fn from_jwk_document(jwk: &JwkDocument, options: &JwkOptions) -> Result<Self, ConfigError> {
        if jwk.key_use.as_deref().is_some_and(|key_use| key_use != "sig") {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidKey,
                "the JWK is not a signature key (use is not \"sig\")",
            ));
        }
        let named = jwk
            .alg
            .as_deref()
            .map(|alg| {
                Algorithm::from_name(alg).ok_or_else(|| {
                    ConfigError::new(ConfigErrorKind::Algorithm, format!("unsupported JWK alg {alg:?}"))
                })
            })
            .transpose()?;
        let key = match jwk.kty.as_str() {
            "RSA" => {
                let algorithm = named.unwrap_or(options.default_rsa);
                let n = decode_member(&jwk.n, "n")?;
                let e = decode_member(&jwk.e, "e")?;
                Self::from_rsa_components(&n, &e, algorithm)?
            }
            "EC" => {
                let (curve_alg, size) = match jwk.crv.as_deref() {
                    Some("P-256") => (Algorithm::ES256, 32),
                    Some("P-384") => (Algorithm::ES384, 48),
                    other => {
                        return Err(ConfigError::new(
                            ConfigErrorKind::InvalidKey,
                            format!("unsupported EC curve {other:?}"),
                        ))
                    }
                };
                let algorithm = agree(named, curve_alg)?;
                let x = decode_member(&jwk.x, "x")?;
                let y = decode_member(&jwk.y, "y")?;
                if x.len() != size || y.len() != size {
                    return Err(ConfigError::new(
                        ConfigErrorKind::InvalidKey,
                        "EC JWK coordinates have the wrong length",
                    ));
                }
                let mut point = Vec::with_capacity(1 + 2 * size);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Self::from_der(&point, algorithm)?
            }
            "OKP" => {
                if jwk.crv.as_deref() != Some("Ed25519") {
                    return Err(ConfigError::new(
                        ConfigErrorKind::InvalidKey,
                        format!("unsupported OKP curve {:?}", jwk.crv),
                    ));
                }
                let algorithm = agree(named, Algorithm::EdDSA)?;
                Self::from_der(&decode_member(&jwk.x, "x")?, algorithm)?
            }
            "oct" => {
                if !options.allow_symmetric {
                    return Err(ConfigError::new(
                        ConfigErrorKind::InvalidKey,
                        "oct (symmetric) JWKs are refused unless explicitly allowed",
                    ));
                }
                let algorithm = named.filter(|alg| alg.is_symmetric()).ok_or_else(|| {
                    ConfigError::new(ConfigErrorKind::Algorithm, "an oct JWK must name an HMAC alg")
                })?;
                Self::from_hmac_secret(algorithm, &decode_member(&jwk.k, "k")?)?
            }
            other => {
                return Err(ConfigError::new(
                    ConfigErrorKind::InvalidKey,
                    format!("unsupported JWK kty {other:?}"),
                ))
            }
        };
        Ok(match &jwk.kid {
            Some(kid) => key.with_kid(kid.as_str()),
            None => key,
        })
    }
}

/// A JWK's `alg`, when present, must be the one its `kty`/`crv` implies.
fn agree(named: Option<Algorithm>, implied: Algorithm) -> Result<Algorithm, ConfigError> {
    match named {
        Some(alg) if alg != implied => Err(ConfigError::new(
            ConfigErrorKind::Algorithm,
            format!("JWK alg {alg} does not fit its key type ({implied})"),
        )),
        _ => Ok(implied),
    }
}

fn decode_member(value: &Option<String>, name: &str) -> Result<Vec<u8>, ConfigError> {
    let value = value.as_deref().ok_or_else(|| {
        ConfigError::new(ConfigErrorKind::InvalidKey, format!("the JWK has no {name:?} member"))
    })?;
    URL_SAFE_NO_PAD.decode(value).map_err(|_| {
        ConfigError::new(ConfigErrorKind::InvalidKey, format!("the JWK member {name:?} is not base64url"))
    })
}
