use std::fmt;
use std::str::FromStr;

use aws_lc_rs::{hmac, signature};

use crate::error::{ConfigError, ConfigErrorKind};

/// A JWS algorithm this crate verifies. `none` is not one of them.
///
/// ```
/// use tower_passport::Algorithm;
/// assert_eq!("ES256".parse::<Algorithm>().ok(), Some(Algorithm::ES256));
/// assert!("none".parse::<Algorithm>().is_err());
/// assert_eq!(Algorithm::PS384.name(), "PS384");
/// // RFC 9864's fully specified name and the deprecated polymorphic one: the same key type.
/// assert_eq!("Ed25519".parse::<Algorithm>().ok(), Some(Algorithm::EdDSA));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(clippy::upper_case_acronyms)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (Passport's algorithm).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// Ed25519 signatures (RFC 8037). RFC 9864 registers the fully specified name
    /// `Ed25519` and deprecates the polymorphic `EdDSA`: both names are accepted in token
    /// headers and JWKs, and a key bound to this algorithm verifies tokens that say
    /// either. [`name`](Self::name) gives `EdDSA`, which every JOSE library knows.
    EdDSA,
    /// HMAC with SHA-256: symmetric, explicit opt-in only.
    HS256,
    /// HMAC with SHA-384: symmetric, explicit opt-in only.
    HS384,
    /// HMAC with SHA-512: symmetric, explicit opt-in only.
    HS512,
}

/// Every algorithm, for iteration in tests and tools.
pub(crate) const ALL: [Algorithm; 12] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
];

impl Algorithm {
    /// The JWS `alg` name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
        }
    }

    /// The algorithm named `name` in a JOSE header or a JWK, if this crate verifies it.
    /// `Ed25519` (RFC 9864) and `EdDSA` (RFC 8037, deprecated by RFC 9864) both name
    /// [`EdDSA`](Self::EdDSA).
    ///
    /// ```
    /// use tower_passport::Algorithm;
    /// assert_eq!(Algorithm::from_name("EdDSA"), Some(Algorithm::EdDSA));
    /// assert_eq!(Algorithm::from_name("Ed25519"), Some(Algorithm::EdDSA));
    /// assert_eq!(Algorithm::from_name("Ed448"), None); // not verified by this crate
    /// assert_eq!(Algorithm::from_name("rs256"), None); // names are case-sensitive
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "Ed25519" => Some(Self::EdDSA),
            name => ALL.into_iter().find(|alg| alg.name() == name),
        }
    }

    /// Whether this is an HMAC algorithm (a shared secret rather than a public key).
    ///
    /// ```
    /// assert!(tower_passport::Algorithm::HS256.is_symmetric());
    /// ```
    pub const fn is_symmetric(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    pub(crate) fn verification(self) -> Option<&'static dyn signature::VerificationAlgorithm> {
        Some(match self {
            Self::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Self::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Self::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Self::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Self::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
            Self::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
            Self::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            Self::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
            Self::EdDSA => &signature::ED25519,
            Self::HS256 | Self::HS384 | Self::HS512 => return None,
        })
    }

    pub(crate) fn rsa_parameters(self) -> Option<&'static signature::RsaParameters> {
        Some(match self {
            Self::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Self::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Self::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Self::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Self::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
            Self::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
            _ => return None,
        })
    }

    /// The HMAC algorithm and the minimum secret length RFC 7518 §3.2 asks for.
    pub(crate) fn hmac(self) -> Option<(hmac::Algorithm, usize)> {
        match self {
            Self::HS256 => Some((hmac::HMAC_SHA256, 32)),
            Self::HS384 => Some((hmac::HMAC_SHA384, 48)),
            Self::HS512 => Some((hmac::HMAC_SHA512, 64)),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = ConfigError;

    /// A configured name (`PASSPORT_ALG=es256`, `--alg ES256`), in any case; a token's
    /// header is read with the case-sensitive [`from_name`](Algorithm::from_name).
    ///
    /// ```
    /// use tower_passport::Algorithm;
    /// assert_eq!("es256".parse::<Algorithm>().ok(), Some(Algorithm::ES256));
    /// assert_eq!("EDDSA".parse::<Algorithm>().ok(), Some(Algorithm::EdDSA));
    /// assert_eq!("ed25519".parse::<Algorithm>().ok(), Some(Algorithm::EdDSA));
    /// assert!("NONE".parse::<Algorithm>().is_err());
    /// ```
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let trimmed = name.trim();
        let named = |alg: &Algorithm| alg.name().eq_ignore_ascii_case(trimmed);
        let found = if trimmed.eq_ignore_ascii_case("Ed25519") {
            Some(Self::EdDSA)
        } else {
            ALL.iter().copied().find(named)
        };
        found.ok_or_else(|| {
            ConfigError::new(ConfigErrorKind::Algorithm, format!("unsupported JWS algorithm {name:?}"))
        })
    }
}
