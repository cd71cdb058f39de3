//! The issuer's keys: one current signing key, and retired keys that stay published in
//! the JWKS until every token they signed has expired.

use std::sync::Arc;

use serde_json::{json, Value};

use super::SigningKey;
use crate::error::ConfigError;
use crate::keys::KeySet;

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
    pub(crate) fn jwks(&self, now: u64) -> Value {
        json!({ "keys": self.published(now).map(|key| key.public_jwk().clone()).collect::<Vec<_>>() })
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
