//! A key set that can be replaced while verifiers use it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::{Algorithm, KeySet, VerifyingKey};
use crate::error::AuthError;

/// A [`KeySet`] shared between its owner and any number of verifiers, replaced atomically at
/// run time.
///
/// Reads are lock-free (arc-swap). The issuer publishes its keys this way, so a guard built
/// before a signing-key rotation accepts the new key at once.
///
/// A replacement that drops a key (a retired signing key) also stops the verifiers'
/// caches from admitting tokens that key signed: their next hit verifies them again.
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
pub struct SharedKeySet(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    keys: ArcSwap<KeySet>,
    /// Counts the replacements that withdrew a key (see [`KeySource::epoch`](super::KeySource)).
    epoch: AtomicU64,
}

impl SharedKeySet {
    /// Shares `keys`.
    pub fn new(keys: KeySet) -> Self {
        Self(Arc::new(Inner { keys: ArcSwap::from_pointee(keys), epoch: AtomicU64::new(0) }))
    }

    /// Replaces the keys for every verifier reading this set.
    pub fn replace(&self, keys: KeySet) {
        let keys = Arc::new(keys);
        let previous = self.0.keys.swap(keys.clone());
        if !keys.keeps_every_key_of(&previous) {
            // After the store: a verifier that reads the new epoch also reads the new keys.
            self.0.epoch.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The current keys.
    pub fn snapshot(&self) -> Arc<KeySet> {
        self.0.keys.load_full()
    }

    /// How many replacements so far withdrew a key.
    #[inline]
    pub(crate) fn epoch(&self) -> u64 {
        self.0.epoch.load(Ordering::Acquire)
    }

    #[inline]
    pub(crate) fn with_key<R>(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
        verify: impl FnOnce(&VerifyingKey) -> Result<R, AuthError>,
    ) -> Result<R, AuthError> {
        let keys = self.0.keys.load();
        verify(keys.select(kid, alg).map_err(AuthError::invalid_token)?)
    }
}
