//! A key set that can be replaced while verifiers use it.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::{Algorithm, KeySet, VerifyingKey};
use crate::error::AuthError;

/// A [`KeySet`] shared between its owner and any number of verifiers, replaced atomically
/// at run time. Reads are lock-free (arc-swap). The issuer publishes its keys this way, so
/// a guard built before a signing-key rotation accepts the new key at once.
///
/// ```
/// use tower_passport::keys::SharedKeySet;
/// use tower_passport::{Algorithm, KeySet, Verifier, VerifyingKey};
/// # fn main() -> Result<(), tower_passport::ConfigError> {
/// let key = |kid: &str| VerifyingKey::from_hmac_secret(Algorithm::HS256, &[7; 32]).map(|k| k.with_kid(kid));
/// let shared = SharedKeySet::new(KeySet::new().with_key(key("old")?));
/// let verifier = Verifier::builder(shared.clone()).issuer("i").audience("a").build()?;
/// shared.replace(KeySet::new().with_key(key("old")?).with_key(key("new")?));
/// assert_eq!(shared.snapshot().len(), 2); // the verifier sees both from now on
/// # let _ = verifier;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SharedKeySet(Arc<ArcSwap<KeySet>>);

impl SharedKeySet {
    /// Shares `keys`.
    pub fn new(keys: KeySet) -> Self {
        Self(Arc::new(ArcSwap::from_pointee(keys)))
    }

    /// Replaces the keys for every verifier reading this set.
    pub fn replace(&self, keys: KeySet) {
        self.0.store(Arc::new(keys));
    }

    /// The current keys.
    pub fn snapshot(&self) -> Arc<KeySet> {
        self.0.load_full()
    }

    #[inline]
    pub(crate) fn with_key<R>(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        verify: impl FnOnce(&VerifyingKey) -> Result<R, AuthError>,
    ) -> Result<R, AuthError> {
        let keys = self.0.load();
        verify(keys.select(kid, alg).map_err(AuthError::invalid_token)?)
    }
}
