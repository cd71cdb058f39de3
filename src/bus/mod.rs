//! Cross-node cache invalidation: the revocation bus.
//!
//! Every revocation an issuer makes (an access token, each token of a family, a client)
//! is published as an [`Invalidation`] on a channel — Redis pub/sub (feature `redis`) or
//! PostgreSQL `LISTEN/NOTIFY` (feature `postgres`). Every node applies the messages it
//! receives to its [`LocalCaches`]: the revocation cache, the verified-token cache and the
//! principal cache drop what the message names.
//!
//! When the channel is lost, the caches fall back to a bounded staleness (the revocation
//! list's negative TTL) and, once it is back, drop everything they cached, so answers
//! are re-read from the store and no revocation is lost to a dropped message.
//!
//! ```
//! use tower_passport::bus::{Invalidation, LocalCaches};
//! let caches = LocalCaches::new();
//! caches.apply(&Invalidation::AccessToken { jti: "abc".into() });
//! assert_eq!(Invalidation::decode(&Invalidation::Everything.encode()), Some(Invalidation::Everything));
//! ```

#[cfg(any(feature = "postgres", feature = "redis"))]
mod forward;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use self::redis::RedisRevocationBus;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::PgRevocationBus;

#[cfg(any(feature = "postgres", feature = "redis"))]
pub use forward::BusHandle;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One message on the revocation bus. No token or secret travels on it: only `jti`s and
/// client ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Invalidation {
    /// An access token was revoked.
    AccessToken {
        /// Its `jti`.
        jti: String,
    },
    /// A client was revoked (or changed).
    Client {
        /// Its id.
        client_id: String,
    },
    /// Drop everything cached (a publisher lost track of what it revoked).
    Everything,
}

impl Invalidation {
    /// The wire form (JSON).
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| r#"{"kind":"everything"}"#.to_owned())
    }

    /// Reads the wire form; `None` for anything else (it is then ignored and logged).
    pub fn decode(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// A cache that can drop what an [`Invalidation`] names.
pub trait Forget: Send + Sync + 'static {
    /// Drops what is cached about the access token `jti`.
    fn forget_access_token(&self, jti: &str);
    /// Drops what is cached about the client `client_id`.
    fn forget_client(&self, client_id: &str);
    /// Drops everything.
    fn forget_everything(&self);
    /// The bus went up (`true`) or down (`false`). Caches whose staleness depends on it
    /// adjust; the default does nothing.
    fn bus_connected(&self, connected: bool) {
        let _ = connected;
    }
}

/// The caches of one node that bus messages apply to. Cheap to clone.
///
/// ```
/// use std::sync::Arc;
/// use tower_passport::bus::LocalCaches;
/// use tower_passport::issuer::RevocationList;
/// use tower_passport::store::MemoryStore;
/// let list = RevocationList::new(Arc::new(MemoryStore::new()));
/// let caches = LocalCaches::new().with(list);
/// assert_eq!(caches.len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct LocalCaches {
    targets: Vec<Arc<dyn Forget>>,
}

impl LocalCaches {
    /// No caches yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a cache.
    #[must_use]
    pub fn with(mut self, target: impl Forget) -> Self {
        self.targets.push(Arc::new(target));
        self
    }

    /// How many caches are registered.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Applies `message` to every cache.
    pub fn apply(&self, message: &Invalidation) {
        for target in &self.targets {
            match message {
                Invalidation::AccessToken { jti } => target.forget_access_token(jti),
                Invalidation::Client { client_id } => target.forget_client(client_id),
                Invalidation::Everything => target.forget_everything(),
            }
        }
    }

    /// Tells every cache the bus went up or down.
    pub fn bus_connected(&self, connected: bool) {
        for target in &self.targets {
            target.bus_connected(connected);
        }
    }
}

impl fmt::Debug for LocalCaches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalCaches").field("targets", &self.targets.len()).finish()
    }
}
