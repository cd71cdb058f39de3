use std::sync::Arc;

use serde::Deserialize;

use super::jwk::JwkDocument;
use super::{Algorithm, JwkOptions, VerifyingKey};
use crate::error::{ConfigError, Reason};

/// A static set of verifying keys.
///
/// The key for a token is chosen by its `kid`. A token without `kid` is accepted only
/// when exactly one key in the set fits its `alg`, so there is never trial verification.
///
/// ```
/// use tower_passport::{Algorithm, KeySet, VerifyingKey};
/// let jwks = r#"{"keys":[
///   {"kty":"OKP","crv":"Ed25519","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
///   {"kty":"OKP","crv":"Ed25519","kid":"b","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
/// ]}"#;
/// let keys = KeySet::from_jwks(jwks).unwrap();
/// assert_eq!(keys.len(), 2);
/// assert!(keys.get("a").is_some());
/// ```
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    keys: Vec<Arc<VerifyingKey>>,
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<serde_json::Value>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The set with `key` added.
    #[must_use]
    pub fn with_key(mut self, key: VerifyingKey) -> Self {
        self.keys.push(Arc::new(key));
        self
    }

    /// Adds `key`.
    pub fn insert(&mut self, key: VerifyingKey) {
        self.keys.push(Arc::new(key));
    }

    /// Every key of a JWKS document (`{"keys": [...]}`), with default [`JwkOptions`].
    ///
    /// # Errors
    /// When the document is malformed or any key in it is refused: a static set is
    /// configuration, so it fails loudly rather than dropping a key.
    pub fn from_jwks(json: &str) -> Result<Self, ConfigError> {
        Self::from_jwks_with(json, &JwkOptions::default())
    }

    /// Every key of a JWKS document, with the given options.
    ///
    /// # Errors
    /// As [`from_jwks`](Self::from_jwks).
    pub fn from_jwks_with(json: &str, options: &JwkOptions) -> Result<Self, ConfigError> {
        let document: JwksDocument =
            serde_json::from_str(json).map_err(|e| ConfigError::new(format!("invalid JWKS: {e}")))?;
        let mut set = Self::new();
        for (index, value) in document.keys.into_iter().enumerate() {
            let jwk: JwkDocument = serde_json::from_value(value)
                .map_err(|e| ConfigError::new(format!("JWKS key #{index}: {e}")))?;
            let key = VerifyingKey::from_jwk_document(&jwk, options)
                .map_err(|e| ConfigError::new(format!("JWKS key #{index}: {e}")))?;
            set.insert(key);
        }
        Ok(set)
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.iter().find(|key| key.kid() == Some(kid)).map(|key| &**key)
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key for a token with this `kid` and `alg`.
    pub(crate) fn select(&self, kid: Option<&str>, alg: Algorithm) -> Result<&VerifyingKey, Reason> {
        match kid {
            Some(kid) => {
                let mut named = self.keys.iter().filter(|key| key.kid() == Some(kid)).peekable();
                if named.peek().is_none() {
                    return Err(Reason::UnknownKid);
                }
                named.find(|key| key.algorithm() == alg).map(|key| &**key).ok_or(Reason::AlgorithmMismatch)
            }
            None => {
                let mut fitting = self.keys.iter().filter(|key| key.algorithm() == alg);
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Ok(key),
                    _ => Err(Reason::AmbiguousKey),
                }
            }
        }
    }
}
