//! Revocation, where the two halves meet.
//!
//! The guard asks a [`RevocationCheck`], the caches of a node drop what an [`Invalidation`]
//! names, and invalidations come from an [`InvalidationSource`] (the issuer's events) or from
//! other nodes over a bus.
//!
//! - [`RevocationCheck`] and [`NoRevocation`]: the question the guard asks of every
//!   verified token.
//! - [`Hub`]: one per node. Its caches register with it where they are made, the issuer
//!   publishes into it, and a bus started on it (`bus.start(&hub)`) carries the node's
//!   invalidations to the other nodes and applies theirs, each once.
//! - [`Invalidation`] and [`Invalidate`]: one word, *invalidate*, for dropping cached
//!   answers. The verifier, the guard layer and the revocation list implement [`Invalidate`].
//! - [`InvalidationSource`]: a stream of invalidations (the issuer's events are one).
//! - [`RevocationList`]: a moka cache in front of a [`RevocationStore`] (the port every
//!   store implements), implementing [`RevocationCheck`].
//! - [`HeardRevocations`]: the `jti`s a bus announced as revoked, for a resource server
//!   with no store to ask (it cannot see what was published while it was not listening).
//! - `PgRevocationBus` (in `tower-passport-sql`) and `RedisRevocationBus` (in `tower-passport-redis`) over
//!   the bus core (`Transport`, `start_bus`, `BusHandle`): every revocation one node makes
//!   reaches the caches of every other node, once.
//!
//! Edges run one way: this module knows nothing of the guard, the verifier, the issuer or
//! its stores; they name it. When a bus is lost (closed, or stalled: a listener that has
//! heard nothing for 5 s sends a heartbeat, and one unanswered for 5 s more counts as
//! lost), the caches fall back to a bounded staleness
//! (the revocation list's negative TTL) and, once it is back, drop everything they cached
//! but revocations, so answers are re-read from the store and no revocation is lost to a
//! dropped message.
//!
//! ```
//! use tower_passport::revocation::{HeardRevocations, Hub, Invalidation};
//! let hub = Hub::new();
//! let heard = HeardRevocations::new(&hub);
//! hub.publish(Invalidation::AccessToken { jti: "abc".into() });
//! assert!(heard.is_revoked("abc"));
//! assert_eq!(Invalidation::decode(&Invalidation::Everything.encode()), Some(Invalidation::Everything));
//! ```

mod check;
mod heard;
mod hub;
mod invalidate;
mod list;
mod port;

#[cfg(feature = "bus")]
mod bus;

pub use check::{NoRevocation, RevocationCheck};
pub use heard::HeardRevocations;
pub use hub::Hub;
pub use invalidate::{Invalidate, Invalidation, InvalidationSource};
pub use list::{RevocationList, DEFAULT_NOT_REVOKED_TTL};
pub use port::RevocationStore;

#[cfg(feature = "bus")]
#[cfg_attr(docsrs, doc(cfg(feature = "bus")))]
pub use bus::{start_bus, BusHandle, Transport};
