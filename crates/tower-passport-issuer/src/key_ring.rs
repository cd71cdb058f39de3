//! The issuer's keys: one current signing key, and retired keys that stay published in
//! the JWKS until every token they signed has expired.

use std::sync::Arc;

use super::{Issuer, IssuerError, IssuerErrorKind, Jwks, SigningKey};
use tower_passport::error::ConfigError;
use tower_passport::keys::KeySet;

pub(crate) struct KeyRing {
    /// Every key, oldest first, with the time from which it signs. The newest key whose
    /// time has come signs; newer ones are published ahead of use; older ones stay
    /// published until `retire_after` seconds after their successor started signing.
    keys: Vec<(Arc<SigningKey>, u64)>,
    /// The longest token lifetime plus a minute: how long a key may still have live tokens
    /// once it stopped signing.
    retire_after: u64,
}

impl KeyRing {
    pub(crate) fn new(current: SigningKey, retire_after: u64) -> Self {
        Self { keys: vec![(Arc::new(current), 0)], retire_after }
    }

    /// A ring of stored generations (oldest first, each with the time it signs from).
    /// `None` when there is none.
    pub(crate) fn from_generations(keys: Vec<(Arc<SigningKey>, u64)>, retire_after: u64) -> Option<Self> {
        (!keys.is_empty()).then_some(Self { keys, retire_after })
    }

    /// The index of the key that signs at `now`.
    fn signing_index(&self, now: u64) -> usize {
        self.keys.iter().rposition(|(_, from)| *from <= now).unwrap_or(0)
    }

    /// The key that signs at `now` (`None` only for an empty ring, which the constructors
    /// never make).
    pub(crate) fn current(&self, now: u64) -> Option<Arc<SigningKey>> {
        self.keys.get(self.signing_index(now)).map(|(key, _)| key.clone())
    }

    /// Makes `next` the signing key from `now`; the old one stays published until its
    /// tokens have expired.
    pub(crate) fn rotate(&mut self, next: SigningKey, now: u64) {
        if self.current(now).is_none_or(|current| current.kid() != next.kid()) {
            self.keys.push((Arc::new(next), now));
        }
    }

    /// Drops keys whose tokens have all expired.
    pub(crate) fn prune(&mut self, now: u64) {
        let signing = self.signing_index(now);
        let starts: Vec<u64> = self.keys.iter().map(|(_, from)| *from).collect();
        let retire_after = self.retire_after;
        let mut index = 0;
        self.keys.retain(|_| {
            let keep = index >= signing
                || starts.get(index + 1).is_some_and(|next| next.saturating_add(retire_after) > now);
            index += 1;
            keep
        });
    }

    fn published(&self, now: u64) -> impl Iterator<Item = &SigningKey> {
        let signing = self.signing_index(now);
        let retire_after = self.retire_after;
        let starts: Vec<u64> = self.keys.iter().map(|(_, from)| *from).collect();
        self.keys.iter().enumerate().filter_map(move |(index, (key, _))| {
            let live = index >= signing
                || starts.get(index + 1).is_some_and(|next| next.saturating_add(retire_after) > now);
            live.then_some(&**key)
        })
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

impl Issuer {
    /// Makes `key` the signing key. The old key stays published in the JWKS (and
    /// accepted by [`verifier`](Self::verifier)) until every token it signed has expired.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tower_passport_issuer::{Issuer, SigningKey};
    /// use tower_passport_issuer::store::MemoryStore;
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
        let mut keys = self
            .inner
            .keys
            .write()
            .map_err(|_| IssuerError::new(IssuerErrorKind::Internal, "key ring poisoned"))?;
        keys.prune(now);
        keys.rotate(key, now);
        self.inner.published.replace(keys.key_set(now)?);
        Ok(())
    }
}
