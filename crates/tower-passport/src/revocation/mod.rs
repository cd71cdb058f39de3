//! Revocation, where the two halves meet: the guard asks a [`RevocationCheck`], the caches
//! of a node drop what an [`Invalidation`] names, and invalidations come from an
//! [`InvalidationSource`] (the issuer's events) or from other nodes over a bus.
//!
//! - [`RevocationCheck`] and [`NoRevocation`]: the question the guard asks of every
//!   verified token.
//! - [`Invalidation`], [`Invalidate`] and [`LocalCaches`]: one word, *invalidate*, for
//!   dropping cached answers. The verifier, the guard layer and the revocation list
//!   implement [`Invalidate`].
//! - [`InvalidationSource`]: where invalidations come from.
//! - `RevocationList` (feature `issuer`): a moka cache in front of a store, implementing
//!   [`RevocationCheck`].
//! - [`HeardRevocations`]: the `jti`s a bus announced as revoked, for a resource server
//!   with no store to ask (it cannot see what was published while it was not listening).
//! - `PgRevocationBus` (feature `postgres`) and `RedisRevocationBus` (feature `redis`):
//!   every revocation one node makes reaches the caches of every other node.
//!
//! Edges run one way: this module knows nothing of the guard, the verifier or the issuer;
//! they name it. When a bus is lost, the caches fall back to a bounded staleness (the
//! revocation list's negative TTL) and, once it is back, drop everything they cached, so
//! answers are re-read from the store and no revocation is lost to a dropped message.
//!
//! ```
//! use tower_passport::revocation::{Invalidation, LocalCaches};
//! let caches = LocalCaches::new();
//! caches.apply(&Invalidation::AccessToken { jti: "abc".into() });
//! assert_eq!(Invalidation::decode(&Invalidation::Everything.encode()), Some(Invalidation::Everything));
//! ```

mod check;
mod heard;
mod invalidate;

#[cfg(feature = "bus")]
pub mod bus;

pub use check::{NoRevocation, RevocationCheck};
pub use heard::HeardRevocations;
pub use invalidate::{Invalidate, Invalidation, InvalidationSource, LocalCaches};

#[cfg(feature = "bus")]
#[cfg_attr(docsrs, doc(cfg(feature = "bus")))]
pub use bus::BusHandle;
