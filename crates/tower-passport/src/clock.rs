//! Time, injectable so that tests can mint tokens with a controllable clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time: whole seconds since the Unix epoch for tokens, and
/// milliseconds where a second is too coarse (the refresh race and grace windows).
///
/// ```
/// use tower_passport::{clock::Clock, clock::SystemClock};
/// assert!(SystemClock.now() > 1_700_000_000);
/// assert!(SystemClock.now_millis() / 1_000 >= SystemClock.now() - 1);
/// ```
pub trait Clock: Send + Sync + 'static {
    /// Seconds since the Unix epoch.
    fn now(&self) -> u64;

    /// Milliseconds since the Unix epoch, for instants that must order events within one
    /// second (a sign-out and the cookies minted just before or after it). By default the
    /// start of the second [`now`](Self::now) reads.
    ///
    /// ```
    /// use tower_passport::clock::{Clock, ManualClock};
    /// assert_eq!(ManualClock::new(1_000).now_millis(), 1_000_000);
    /// ```
    fn now_millis(&self) -> u64 {
        self.now().saturating_mul(1000)
    }
}

/// The system's wall clock.
///
/// ```
/// use tower_passport::{clock::Clock, clock::SystemClock};
/// let now = SystemClock.now();
/// assert!(SystemClock.now() >= now);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        // A clock set before 1970 reads as the epoch; every token then looks "not yet valid",
        // which fails closed.
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
    }

    fn now_millis(&self) -> u64 {
        let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    }
}

/// A clock that only moves when told to, to the millisecond; cheap to clone, clones share
/// the time.
///
/// ```
/// use tower_passport::{clock::Clock, clock::ManualClock};
/// let clock = ManualClock::new(1_000);
/// let shared = clock.clone();
/// clock.advance(60);
/// assert_eq!(shared.now(), 1_060);
/// clock.advance_millis(1_500);
/// assert_eq!((shared.now(), shared.now_millis()), (1_061, 1_061_500));
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock that reads `now` seconds since the Unix epoch.
    pub fn new(now: u64) -> Self {
        Self(Arc::new(AtomicU64::new(now.saturating_mul(1_000))))
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: u64) {
        self.advance_millis(seconds.saturating_mul(1_000));
    }

    /// Moves the clock forward by `millis` milliseconds.
    pub fn advance_millis(&self, millis: u64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }

    /// Sets the clock to `now` seconds since the Unix epoch.
    pub fn set(&self, now: u64) {
        self.0.store(now.saturating_mul(1_000), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst) / 1_000
    }

    fn now_millis(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
