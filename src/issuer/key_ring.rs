//! The issuer's keys: one current signing key, and retired keys that stay published in
//! the JWKS until every token they signed has expired.

use std::sync::Arc;

use super::{Issuer, IssuerError, Jwks, SigningKey};
use crate::error::ConfigError;
use crate::keys::KeySet;
use crate::store::Store;

pub(crate) struct KeyRing {
    current: Arc<SigningKey>,
    /// Retired keys and the time until which they stay published.
    retired: Vec<(Arc<SigningKey>, u64)>,
}

impl KeyRing {
    pub(crate) fn new(current: SigningKey) -> Self {
        Self { current: Arc::new(current), retired: Vec::new() }
    }

    pub(crate) fn current(&self) -> Arc<SigningKey> {
        self.current.clone()
    }

    /// Makes `next` the signing key; the old one stays published until `publish_until`.
    pub(crate) fn rotate(&mut self, next: SigningKey, publish_until: u64) {
        let previous = std::mem::replace(&mut self.current, Arc::new(next));
        if previous.kid() != self.current.kid() {
            self.retired.push((previous, publish_until));
        }
    }

    /// Drops retired keys whose tokens have all expired.
    pub(crate) fn prune(&mut self, now: u64) {
        self.retired.retain(|(_, until)| *until > now);
    }

    fn published(&self, now: u64) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&*self.current)
            .chain(self.retired.iter().filter(move |(_, until)| *until > now).map(|(key, _)| &**key))
    }

    /// The JWKS document of every published key.
    pub(crate) fn jwks(&self, now: u64) -> Jwks {
        Jwks { keys: self.published(now).map(|key| key.public_jwk().clone()).collect() }
    }

    /// Every published key as a verifying key set.
    pub(crate) fn key_set(&self, now: u64) -> Result<KeySet, ConfigError> {
        let mut set = KeySet::new();
        for key in self.published(now) {
            set.insert(key.verifying_key()?);
        }
        Ok(set)
    }
}

impl<S: Store> Issuer<S> {
    /// Makes `key` the signing key. The old key stays published in the JWKS (and
    /// accepted by [`verifier`](Self::verifier)) until every token it signed has expired.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport::issuer::{Issuer, SigningKey};
    /// use tower_passport::store::MemoryStore;
    /// use tower_passport::Algorithm;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let issuer = Issuer::builder("https://auth.example.com", Arc::new(MemoryStore::new())).audience("api").build()?;
    /// issuer.rotate_signing_key(SigningKey::generate(Algorithm::ES256)?)?;
    /// assert_eq!(issuer.jwks().keys.len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the verifier cannot be rebuilt.
    pub fn rotate_signing_key(&self, key: SigningKey) -> Result<(), IssuerError> {
        let now = self.now();
        let longest = self.inner.access_ttl.max(self.inner.personal_ttl);
        let mut keys =
            self.inner.keys.write().map_err(|_| IssuerError::Invalid("key ring poisoned".into()))?;
        keys.prune(now);
        keys.rotate(key, now.saturating_add(longest).saturating_add(60));
        self.inner.published.replace(keys.key_set(now)?);
        Ok(())
    }
}
