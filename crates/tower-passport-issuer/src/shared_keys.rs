//! The signing keys every node of a deployment shares, kept in the store and rotated on
//! one node for all: generation 1 under the setting `name` (what
//! [`SigningKey::load_or_generate`] writes), generation `n ≥ 2` under `name.n`, as
//! `{"pem": …, "signs_from": …}`. A rotation writes the next generation (the first writer
//! wins, so two nodes rotating at once agree on one key) and announces it with
//! [`IssuerEvent::SigningKeysChanged`], which the revocation bus carries to every node as
//! [`Invalidation::SigningKeys`](tower_passport::revocation::Invalidation::SigningKeys); each node
//! then reloads the ring from the store. Every node publishes the new key at once, accepts
//! its tokens, and signs with it from its `signs_from` time; the previous key stays
//! published until every token it signed has expired.

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::key_ring::KeyRing;
use super::{Issuer, IssuerError, IssuerErrorKind, IssuerEvent, IssuerInner, SigningKey};
use crate::store::SettingsStore;
use tower_passport::revocation::Invalidate;

/// One stored generation after the first.
#[derive(Serialize, Deserialize)]
struct Generation {
    pem: String,
    /// Seconds since the epoch from which this key signs.
    signs_from: u64,
}

impl Issuer {
    /// Follows the key ring kept in the store under `name`: loads every generation now,
    /// and reloads on [`Invalidation::SigningKeys`](tower_passport::revocation::Invalidation::SigningKeys)
    /// (which a revocation bus started on the issuer's [`hub`](Issuer::hub) applies). If the store holds no ring yet, this issuer's signing key becomes its
    /// first generation.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower_passport_issuer::{Issuer, SigningKey};
    /// use tower_passport_issuer::store::MemoryStore;
    /// use tower_passport::Algorithm;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = Arc::new(MemoryStore::new());
    /// let key = SigningKey::load_or_generate(&*store, "signing_key", Algorithm::ES256).await?;
    /// let issuer = Issuer::builder("https://auth.example.com", store).audience("api").signing_key(key).build()?;
    /// issuer.share_signing_keys("signing_key").await?;
    /// issuer.rotate_shared_signing_key(SigningKey::generate(Algorithm::ES256)?, Duration::ZERO).await?;
    /// assert_eq!(issuer.jwks().keys.len(), 2); // the new key, and the old one until its tokens expire
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the store fails or holds something that is not a key.
    pub async fn share_signing_keys(&self, name: &str) -> Result<(), IssuerError> {
        match self.inner.shared_keys.write() {
            Ok(mut shared) => *shared = Some(name.to_owned()),
            Err(poisoned) => *poisoned.into_inner() = Some(name.to_owned()),
        }
        self.reload_signing_keys().await
    }

    /// Rotates the shared ring: `key` becomes the next generation in the store, published
    /// by every node at once and signing from `signs_after` from now (give resource
    /// servers that cache the JWKS time to see it first: its `max-age`). Returns the key
    /// the ring took, which is another node's if it rotated at the same moment.
    ///
    /// # Errors
    /// When [`share_signing_keys`](Self::share_signing_keys) was not called, or the store
    /// fails.
    pub async fn rotate_shared_signing_key(
        &self,
        key: SigningKey,
        signs_after: Duration,
    ) -> Result<SigningKey, IssuerError> {
        let name = self.shared_keys_name().ok_or_else(|| {
            IssuerError::new(
                IssuerErrorKind::Config,
                "rotate_shared_signing_key needs share_signing_keys first",
            )
        })?;
        let generations = self.load_generations(&name).await?;
        let next = Generation {
            pem: key.to_pkcs8_pem(),
            signs_from: self.now().saturating_add(signs_after.as_secs()),
        };
        let value = serde_json::to_string(&next).map_err(|_| IssuerError::crypto())?;
        let setting = format!("{name}.{}", generations.len() + 1);
        let stored = self.inner.store.put_setting_if_absent(&setting, &value).await?;
        let taken = parse_generation(&stored)?.0;
        self.reload_signing_keys().await?;
        self.emit(IssuerEvent::SigningKeysChanged { kid: taken.kid().to_owned() });
        Ok(taken)
    }

    /// Reads the shared ring from the store and makes it this issuer's: what a node does
    /// when told the keys changed. Nothing happens before
    /// [`share_signing_keys`](Self::share_signing_keys).
    ///
    /// # Errors
    /// When the store fails or holds something that is not a key.
    pub async fn reload_signing_keys(&self) -> Result<(), IssuerError> {
        let Some(name) = self.shared_keys_name() else { return Ok(()) };
        let generations = self.load_generations(&name).await?;
        let now = self.now();
        let retire_after = self.inner.access_ttl.max(self.inner.personal_ttl).saturating_add(60);
        let ring = KeyRing::from_generations(generations, retire_after)
            .ok_or_else(|| IssuerError::new(IssuerErrorKind::NotFound, "the store holds no signing key"))?;
        let mut keys = self
            .inner
            .keys
            .write()
            .map_err(|_| IssuerError::new(IssuerErrorKind::Internal, "key ring poisoned"))?;
        *keys = ring;
        self.inner.published.replace(keys.key_set(now)?);
        Ok(())
    }

    fn shared_keys_name(&self) -> Option<String> {
        match self.inner.shared_keys.read() {
            Ok(name) => name.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Every stored generation, oldest first, with the time from which each signs.
    async fn load_generations(&self, name: &str) -> Result<Vec<(Arc<SigningKey>, u64)>, IssuerError> {
        let store = &self.inner.store;
        let first = match store.setting(name).await? {
            Some(pem) => pem,
            None => {
                let own = self.current_key().ok_or(IssuerError::crypto())?;
                store.put_setting_if_absent(name, &own.to_pkcs8_pem()).await?
            }
        };
        let mut generations = vec![(Arc::new(SigningKey::from_pem(first.as_bytes())?), 0)];
        for n in 2.. {
            let Some(value) = store.setting(&format!("{name}.{n}")).await? else { break };
            let (key, signs_from) = parse_generation(&value)?;
            generations.push((Arc::new(key), signs_from));
        }
        Ok(generations)
    }
}

fn parse_generation(value: &str) -> Result<(SigningKey, u64), IssuerError> {
    let generation: Generation = serde_json::from_str(value).map_err(|error| {
        IssuerError::new(IssuerErrorKind::Store, "a stored signing-key generation is not readable")
            .with_source(error)
    })?;
    Ok((SigningKey::from_pem(generation.pem.as_bytes())?, generation.signs_from))
}

/// The issuer's key-ring reload, registered with its hub at build: told by a bus that the
/// shared keys changed (or that it missed messages), the issuer reloads them from the
/// store, in the background. Weak, as the issuer holds the hub.
pub(super) struct KeyReload(Weak<IssuerInner>);

impl KeyReload {
    pub(super) fn of(issuer: &Issuer) -> Self {
        Self(Arc::downgrade(&issuer.inner))
    }
}

impl Invalidate for KeyReload {
    fn invalidate_jti(&self, _jti: &str) {}

    fn invalidate_client(&self, _client_id: &str) {}

    fn invalidate_everything(&self) {
        self.signing_keys_changed();
    }

    fn signing_keys_changed(&self) {
        let Some(inner) = self.0.upgrade() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("signing keys changed, but no runtime to reload them on");
            return;
        };
        let issuer = Issuer { inner };
        runtime.spawn(async move {
            if let Err(error) = issuer.reload_signing_keys().await {
                tracing::warn!(%error, "could not reload the shared signing keys");
            }
        });
    }
}
