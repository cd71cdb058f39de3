//! One revocation hub per node: the caches an invalidation reaches, and the way out to a
//! bus.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, RwLock, Weak};

use super::{Invalidate, Invalidation};

/// The revocation hub of one node.
///
/// Every cache of the node registers with it, the issuer publishes its invalidations into it,
/// and a bus (`bus.start(&hub)`) carries them to the other nodes and brings theirs back.
///
/// Each invalidation reaches each cache of the node once. Cheap to clone.
///
/// Caches register themselves where they are made: a
/// [`RevocationList`](super::RevocationList) and [`HeardRevocations`](super::HeardRevocations)
/// take the hub, the guard registers its layer at `build()` with the hub of its revocation
/// check, and the issuer registers its list and its key-ring reload at its build. A cache
/// of your own registers with [`register`](Self::register).
///
/// A node whose caches are not registered cannot be built: a revocation list or heard
/// list cannot be made without a hub, and a guard built with one (or with
/// `Issuer::resolver`) is registered by its `build()`. This does not compile:
///
/// ```compile_fail
/// use std::sync::Arc;
/// use tower_passport::revocation::{RevocationList, RevocationStore};
/// use tower_passport::BackendError;
///
/// struct NothingRevoked;
///
/// impl RevocationStore for NothingRevoked {
///     async fn is_revoked(&self, _jti: &str) -> Result<bool, BackendError> {
///         Ok(false)
///     }
/// }
///
/// let list = RevocationList::new(Arc::new(NothingRevoked)); // no hub: refused
/// ```
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use tower_passport::revocation::{Hub, Invalidate, Invalidation};
///
/// #[derive(Default)]
/// struct Count(AtomicUsize);
///
/// impl Invalidate for Count {
///     fn invalidate_jti(&self, _jti: &str) {
///         self.0.fetch_add(1, Ordering::SeqCst);
///     }
///     fn invalidate_client(&self, _client_id: &str) {}
///     fn invalidate_everything(&self) {}
/// }
///
/// let hub = Hub::new();
/// let count = Arc::new(Count::default());
/// hub.register(count.clone());
/// hub.publish(Invalidation::AccessToken { jti: "abc".into() });
/// assert_eq!(count.0.load(Ordering::SeqCst), 1);
/// ```
#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

struct HubInner {
    /// Tags what this node sends, so its own messages coming back are ignored.
    node_id: Box<str>,
    targets: RwLock<Vec<Arc<dyn Invalidate>>>,
    /// Where this node's own invalidations go on to other nodes (a running bus); an outlet
    /// answering `false` is closed and removed.
    outlets: RwLock<Vec<Outlet>>,
}

/// A way out of the node for its own invalidations: `false` once closed.
pub(super) type Outlet = Box<dyn Fn(&Invalidation) -> bool + Send + Sync>;

/// A hub not kept alive by what holds it (a cache the hub itself holds).
#[derive(Clone)]
pub(super) struct WeakHub(Weak<HubInner>);

impl WeakHub {
    /// The hub, while anything else keeps it.
    pub(super) fn upgrade(&self) -> Option<Hub> {
        self.0.upgrade().map(|inner| Hub { inner })
    }
}

impl Hub {
    /// A hub with no cache and no bus yet, under a fresh random node id.
    pub fn new() -> Self {
        let inner = HubInner {
            node_id: random_node_id().into_boxed_str(),
            targets: RwLock::new(Vec::new()),
            outlets: RwLock::new(Vec::new()),
        };
        Self { inner: Arc::new(inner) }
    }

    /// This node's id on the bus (random, 16 hex digits): messages carrying it are its own.
    pub fn node_id(&self) -> &str {
        &self.inner.node_id
    }

    /// Registers a cache: every invalidation from now on reaches it.
    pub fn register(&self, target: impl Invalidate) {
        write(&self.inner.targets).push(Arc::new(target));
    }

    /// How many caches are registered.
    pub fn len(&self) -> usize {
        read(&self.inner.targets).len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An invalidation made on this node (the issuer's revocations): applied to every cache
    /// of the node at once, before this returns, then handed to the bus for the other
    /// nodes.
    pub fn publish(&self, invalidation: Invalidation) {
        self.apply(&invalidation);
        write(&self.inner.outlets).retain(|outlet| outlet(&invalidation));
    }

    /// An invalidation from another node (what a bus does with a message): applied to every
    /// cache of this node, and sent nowhere.
    pub fn apply(&self, invalidation: &Invalidation) {
        for target in read(&self.inner.targets).iter() {
            match invalidation {
                Invalidation::AccessToken { jti } => target.invalidate_jti(jti),
                Invalidation::Client { client_id } => target.invalidate_client(client_id),
                Invalidation::User { provider, user_id } => target.invalidate_user(provider, user_id),
                Invalidation::Everything => target.invalidate_everything(),
                Invalidation::SigningKeys => target.signing_keys_changed(),
            }
        }
    }

    /// Tells every cache the bus went up or down.
    #[cfg_attr(not(feature = "bus"), allow(dead_code))]
    pub(super) fn bus_connected(&self, connected: bool) {
        for target in read(&self.inner.targets).iter() {
            target.bus_connected(connected);
        }
    }

    /// Adds a way out for this node's own invalidations (a bus's publisher).
    #[cfg_attr(not(feature = "bus"), allow(dead_code))]
    pub(super) fn add_outlet(&self, outlet: Outlet) {
        write(&self.inner.outlets).push(outlet);
    }

    /// A handle that does not keep the hub alive.
    pub(super) fn downgrade(&self) -> WeakHub {
        WeakHub(Arc::downgrade(&self.inner))
    }

    /// Whether both handles are the same hub.
    pub fn same_as(&self, other: &Hub) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub").field("node_id", &self.node_id()).field("targets", &self.len()).finish()
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// 64 random bits in hex: from the system's generator, else from std's randomly keyed
/// hasher (an id, not a secret).
fn random_node_id() -> String {
    let mut bytes = [0u8; 8];
    let value = match aws_lc_rs::rand::fill(&mut bytes) {
        Ok(()) => u64::from_be_bytes(bytes),
        Err(_) => {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u128(std::time::SystemTime::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_nanos()));
            hasher.finish()
        }
    };
    format!("{value:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hub_has_its_own_node_id() {
        let (a, b) = (Hub::new(), Hub::new());
        assert_eq!(a.node_id().len(), 16);
        assert_ne!(a.node_id(), b.node_id());
        assert!(a.same_as(&a.clone()) && !a.same_as(&b));
    }

    #[test]
    fn a_closed_outlet_is_dropped() {
        let hub = Hub::new();
        let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = sent.clone();
        hub.add_outlet(Box::new(move |_| counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0));
        hub.publish(Invalidation::Everything);
        hub.publish(Invalidation::Everything);
        hub.publish(Invalidation::Everything);
        assert_eq!(sent.load(std::sync::atomic::Ordering::SeqCst), 2, "asked twice, then gone");
    }

    #[test]
    fn a_weak_hub_does_not_keep_it_alive() {
        let hub = Hub::new();
        let weak = hub.downgrade();
        assert!(weak.upgrade().is_some());
        drop(hub);
        assert!(weak.upgrade().is_none());
    }
}
