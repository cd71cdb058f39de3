use std::sync::Arc;

use serde::Deserialize;

use super::jwk::JwkDocument;
use super::{Algorithm, JwkOptions, VerifyingKey};
use crate::error::{ConfigError, ConfigErrorKind, Reason};

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
        let mut set = Self::new();
        let entries = jwks_entries_raw(json)
            .map_err(|e| ConfigError::new(ConfigErrorKind::InvalidKey, "invalid JWKS").with_source(e))?;
        for (index, value) in entries {
            let key = parse_entry(value, options).map_err(|refused| {
                let error = ConfigError::new(ConfigErrorKind::InvalidKey, format!("JWKS key #{index}"));
                match refused {
                    Refused::Shape(e) => error.with_source(e),
                    Refused::Key(e) => error.with_source(e),
                }
            })?;
            set.insert(key);
        }
        Ok(set)
    }

    /// Every usable key of a JWKS document, skipping (and reporting to `skipped`) each key
    /// that is malformed or refused, so that one bad key never costs the rest of the set.
    /// A remote set is someone else's document; a static one is configuration and uses
    /// the strict [`from_jwks_with`](Self::from_jwks_with).
    ///
    /// `skipped` gets the key's index, its `kid` if it has one, and why it was refused.
    /// The reason never holds key material: a shape error is reported without serde's
    /// text, which may quote the offending value.
    ///
    /// # Errors
    /// Only when the document itself is not a JWKS (`{"keys": [...]}`).
    #[cfg(feature = "jwks")]
    pub(crate) fn from_jwks_lenient(
        json: &str,
        options: &JwkOptions,
        mut skipped: impl FnMut(usize, Option<&str>, &str),
    ) -> Result<Self, ConfigError> {
        let mut set = Self::new();
        let entries = jwks_entries_raw(json).map_err(|e| {
            // Position only: serde's text may quote a fragment of the document.
            ConfigError::new(
                ConfigErrorKind::InvalidKey,
                format!(
                    "the document is not a JWKS (a JSON object with a \"keys\" array): line {}, column {}",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        for (index, entry) in entries {
            let kid = entry.get("kid").and_then(serde_json::Value::as_str).map(str::to_owned);
            match parse_entry(entry, options) {
                Ok(key) => set.insert(key),
                Err(Refused::Shape(_)) => {
                    skipped(index, kid.as_deref(), "not a JWK object of the expected shape");
                }
                Err(Refused::Key(e)) => skipped(index, kid.as_deref(), &e.to_string()),
            }
        }
        Ok(set)
    }

    /// The key with this `kid`.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.iter().find(|key| key.kid() == Some(kid)).map(|key| &**key)
    }

    /// The `kid`s of the keys that have one, in order.
    pub(crate) fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|key| key.kid())
    }

    /// Whether every key of `previous` is still in this set (same `kid`, algorithm and
    /// material): when not, a key was withdrawn.
    pub(crate) fn keeps_every_key_of(&self, previous: &KeySet) -> bool {
        previous.keys.iter().all(|old| self.keys.iter().any(|key| key.same_key(old)))
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

/// Why one JWKS entry was not loaded.
enum Refused {
    /// The entry is not a JWK object of the expected shape (serde's error may quote values).
    Shape(serde_json::Error),
    /// The JWK is well-formed but refused (unsupported type, encryption key, `oct`, …).
    Key(ConfigError),
}

/// The entries of a JWKS document, unparsed.
fn jwks_entries_raw(
    json: &str,
) -> Result<impl Iterator<Item = (usize, serde_json::Value)>, serde_json::Error> {
    let document: JwksDocument = serde_json::from_str(json)?;
    Ok(document.keys.into_iter().enumerate())
}

fn parse_entry(value: serde_json::Value, options: &JwkOptions) -> Result<VerifyingKey, Refused> {
    let jwk: JwkDocument = serde_json::from_value(value).map_err(Refused::Shape)?;
    VerifyingKey::from_jwk_document(&jwk, options).map_err(Refused::Key)
}
