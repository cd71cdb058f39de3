//! How a client's secret is kept: this issuer's SHA-256 of a generated secret, or the
//! bcrypt hash an imported client brought along (Laravel Passport's `hashClientSecrets`).

use std::fmt;

use super::SecretHash;

/// The stored hash of a client secret.
///
/// - [`Sha256`](Self::Sha256): what this issuer makes for the secrets it generates (256
///   bits of randomness: a fast hash is enough).
/// - [`Bcrypt`](Self::Bcrypt): a `$2y$`/`$2b$`/`$2a$` hash kept from an imported client
///   (Passport hashes client secrets with bcrypt), verified with bcrypt off the executor.
///
/// Stores keep it as text ([`to_stored`](Self::to_stored)): 64 hex digits, or the bcrypt
/// string.
///
/// ```
/// use tower_passport_issuer::store::{ClientSecretHash, SecretHash};
/// let ours = ClientSecretHash::from(SecretHash::of(b"s3cret"));
/// assert_eq!(ClientSecretHash::from_stored(&ours.to_stored()), Some(ours.clone()));
/// let imported = ClientSecretHash::from_stored("$2y$04$zjv7WVsfcDz0.SvHCsMW/.4N7rjTaIK0QXRCc/rcou4COdFJiXTmK").unwrap();
/// assert!(matches!(imported, ClientSecretHash::Bcrypt(_)));
/// assert_eq!(format!("{imported:?}"), "Bcrypt(..)");
/// assert_eq!(ClientSecretHash::from_stored("plaintext"), None);
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientSecretHash {
    /// The SHA-256 digest of a secret this issuer generated.
    Sha256(SecretHash),
    /// A bcrypt hash (`$2y$`, `$2b$` or `$2a$`), as imported.
    Bcrypt(String),
}

impl ClientSecretHash {
    /// The text a store keeps.
    pub fn to_stored(&self) -> String {
        match self {
            Self::Sha256(hash) => hash.to_hex(),
            Self::Bcrypt(hash) => hash.clone(),
        }
    }

    /// Parses what [`to_stored`](Self::to_stored) wrote; `None` for anything else.
    pub fn from_stored(stored: &str) -> Option<Self> {
        if is_bcrypt(stored) {
            Some(Self::Bcrypt(stored.to_owned()))
        } else {
            SecretHash::from_hex(stored).map(Self::Sha256)
        }
    }

    /// A bcrypt hash, checked to be one (`$2y$NN$` and 53 characters of salt and hash).
    pub fn bcrypt(hash: &str) -> Option<Self> {
        is_bcrypt(hash).then(|| Self::Bcrypt(hash.to_owned()))
    }

    /// Whether `secret` matches, in constant time. bcrypt is CPU-heavy: the issuer calls
    /// this off the executor for [`Bcrypt`](Self::Bcrypt) hashes.
    pub fn matches(&self, secret: &[u8]) -> bool {
        match self {
            Self::Sha256(hash) => hash.matches(secret),
            Self::Bcrypt(hash) => bcrypt::verify(secret, hash).unwrap_or(false),
        }
    }

    /// Whether checking it costs a bcrypt.
    pub fn is_slow(&self) -> bool {
        matches!(self, Self::Bcrypt(_))
    }
}

impl From<SecretHash> for ClientSecretHash {
    fn from(hash: SecretHash) -> Self {
        Self::Sha256(hash)
    }
}

impl fmt::Debug for ClientSecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sha256(_) => f.write_str("Sha256(..)"),
            Self::Bcrypt(_) => f.write_str("Bcrypt(..)"),
        }
    }
}

fn is_bcrypt(hash: &str) -> bool {
    let bytes = hash.as_bytes();
    hash.len() == 60
        && (hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$"))
        && bytes[4].is_ascii_digit()
        && bytes[5].is_ascii_digit()
        && bytes[6] == b'$'
        && bytes[7..].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'/')
}
