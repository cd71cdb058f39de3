//! The shared state of a remote key set: the snapshot requests read, the gates that
//! decide when a fetch is triggered, and the background task that fetches.
//!
//! Requests only ever touch the snapshot (an `ArcSwap` load) and atomics. The fetch
//! lock is taken by the background task and by `warm_up`, never by a request. The one
//! wait a request may have is for a [`Flight`]: the refetch its unknown `kid` triggered
//! (or joined), released when that fetch ends or at the wait bound, whichever is first,
//! by a notification; the request itself holds no lock and runs no timer.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::{ArcSwapOption, Guard};
use tokio::sync::{Mutex, Notify};

use super::builder::Config;
use super::fetch::{chain, fetch, FetchState, Outcome};
use super::status::{bump, Counters, KeySetStatus};
use crate::error::{AuthError, BackendError, Reason};
use crate::keys::unknown_kid::short;
use crate::keys::KeySet;

/// One fetched set, immutable once published.
pub(super) struct Snapshot {
    pub(super) keys: KeySet,
    /// Past this the set is stale beyond the bound; `None` when the bound is out of reach.
    usable_until: Option<Instant>,
    fetched_at: SystemTime,
    skipped: usize,
}

impl Snapshot {
    pub(super) fn usable(&self) -> bool {
        self.usable_until.is_none_or(|until| Instant::now() <= until)
    }
}

/// One unknown-`kid` refetch that requests wait for.
pub(super) struct Flight {
    /// The `kid` that triggered it: only requests naming the same one join.
    kid: Box<str>,
    done: AtomicBool,
    notify: Notify,
}

impl Flight {
    fn new(kid: &str) -> Self {
        Self { kid: kid.into(), done: AtomicBool::new(false), notify: Notify::new() }
    }

    /// Releases every waiter (once): the fetch ended, or the wait bound passed.
    fn finish(&self) {
        if !self.done.swap(true, Ordering::AcqRel) {
            self.notify.notify_waiters();
        }
    }

    fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}

/// Finishes its flight when dropped: at the wait bound, or when the task holding it ends
/// some other way (its runtime shutting down), so that no waiter is ever left behind.
struct Release(Arc<Flight>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// What a request whose unknown `kid` triggered or joined a refetch waits on.
pub(crate) struct KeyWait(Arc<Flight>);

impl KeyWait {
    /// Returns once the refetch ended (published or failed) or the wait bound passed.
    pub(crate) async fn wait(self) {
        let mut notified = pin!(self.0.notify.notified());
        // Registered before the check, so a `finish` in between is not missed.
        notified.as_mut().enable();
        if !self.0.is_done() {
            notified.await;
        }
    }
}

pub(super) struct Shared {
    pub(super) config: Config,
    snapshot: ArcSwapOption<Snapshot>,
    /// Counts the published sets that withdrew a key of the one before.
    key_epoch: AtomicU64,
    /// The latest unknown-`kid` refetch requests may wait for.
    flight: ArcSwapOption<Flight>,
    last_error: ArcSwapOption<BackendError>,
    /// The origin of the millisecond clocks below.
    epoch: Instant,
    /// When the next scheduled refresh is due.
    next_refresh_ms: AtomicU64,
    /// Before this, unknown `kid`s do not trigger a refetch (the cooldown).
    refetch_allowed_ms: AtomicU64,
    /// Taken while an unknown `kid` decides whether it starts a refetch and, if it does,
    /// publishes the flight: a request that loses that race then always finds the flight
    /// to join. Never held across I/O, an `.await` or a spawn.
    refetch_decision: std::sync::Mutex<()>,
    /// An unknown `kid` asked the task for a fetch.
    fetch_requested: AtomicBool,
    /// A background task is running (or being spawned).
    task_running: AtomicBool,
    wake: Arc<Notify>,
    /// Held across network I/O, so never taken on the request path.
    fetch: Mutex<FetchState>,
    pub(super) counters: Counters,
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Shared {
    pub(super) fn new(config: Config) -> Self {
        Self {
            config,
            snapshot: ArcSwapOption::empty(),
            key_epoch: AtomicU64::new(0),
            flight: ArcSwapOption::empty(),
            last_error: ArcSwapOption::empty(),
            epoch: Instant::now(),
            next_refresh_ms: AtomicU64::new(0),
            refetch_allowed_ms: AtomicU64::new(0),
            refetch_decision: std::sync::Mutex::new(()),
            fetch_requested: AtomicBool::new(false),
            task_running: AtomicBool::new(false),
            wake: Arc::new(Notify::new()),
            fetch: Mutex::new(FetchState::default()),
            counters: Counters::default(),
        }
    }

    fn now_ms(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    /// The current snapshot: a lock-free load.
    #[inline]
    pub(super) fn current(&self) -> Guard<Option<Arc<Snapshot>>> {
        self.snapshot.load()
    }

    /// The 503 for a request that finds no usable snapshot. Makes sure a task is
    /// fetching; the request itself never waits for it.
    pub(super) fn unavailable(self: &Arc<Self>) -> AuthError {
        self.ensure_task();
        let source = match self.last_error.load_full() {
            Some(error) => (*error).clone(),
            None if self.snapshot.load().is_none() => {
                BackendError::msg("the key set has not been fetched yet")
            }
            None => BackendError::msg("the key set is older than its stale bound"),
        };
        AuthError::unavailable(Reason::KeysUnavailable, source)
    }

    /// How many published sets so far withdrew a key of the set before them.
    #[inline]
    pub(super) fn epoch(&self) -> u64 {
        self.key_epoch.load(Ordering::Acquire)
    }

    /// A token named a `kid` the snapshot does not hold. The first such token after the
    /// cooldown asks the task for a refetch, starts a new cooldown and a [`Flight`] it and
    /// later tokens with the same `kid` may wait for (when `may_wait`); every other one
    /// only counts, and fails at once.
    pub(super) fn unknown_kid(self: &Arc<Self>, kid: Option<&str>, may_wait: bool) -> Option<KeyWait> {
        bump(&self.counters.kid_misses, 1);
        let (won, joined) = {
            // Poisoning cannot leave the state inconsistent: nothing below panics while
            // holding the lock, and what it guards is only the order of two stores.
            let _decision = self.refetch_decision.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = self.now_ms();
            if now >= self.refetch_allowed_ms.load(Ordering::Acquire) {
                let until = now.saturating_add(millis(self.config.settings.cooldown));
                self.refetch_allowed_ms.store(until, Ordering::Release);
                (true, self.start_flight(kid))
            } else {
                // The refetch another request with this `kid` started: still running, or
                // finished since this request missed the snapshot (then the wait returns at
                // once and the lookup is retried against the set that fetch published).
                let latest = self.flight.load_full();
                (false, latest.filter(|flight| kid.is_some_and(|kid| *flight.kid == *kid)))
            }
        };
        if won {
            if let Some(flight) = &joined {
                self.release_at_bound(flight);
            }
            bump(&self.counters.refetches, 1);
            crate::telemetry::jwks_unknown_kid("refetch");
            // The flight is published before the request flag, so the task that sees the
            // flag finds it.
            self.fetch_requested.store(true, Ordering::Release);
            self.ensure_task();
            self.wake.notify_one();
            tracing::info!(kid = ?kid.map(short), "unknown kid: refetching the key set");
            return joined.filter(|_| may_wait).map(|flight| self.waiting(flight));
        }
        if let Some(flight) = joined.filter(|_| may_wait) {
            tracing::debug!(kid = ?kid.map(short), "unknown kid: joining the refetch it triggered");
            return Some(self.waiting(flight));
        }
        bump(&self.counters.cooldown_rejections, 1);
        crate::telemetry::jwks_unknown_kid("cooldown");
        tracing::debug!(kid = ?kid.map(short), "unknown kid during the refetch cooldown: refused, no fetch");
        None
    }

    fn waiting(&self, flight: Arc<Flight>) -> KeyWait {
        bump(&self.counters.refetch_waits, 1);
        crate::telemetry::jwks_unknown_kid("joined");
        KeyWait(flight)
    }

    /// The flight of a refetch `kid` triggers, published for later requests with the same
    /// `kid` to join; `None` when waiting is off, the token named no `kid`, or there is no
    /// runtime. [`Shared::release_at_bound`] must follow for a flight it returns.
    fn start_flight(&self, kid: Option<&str>) -> Option<Arc<Flight>> {
        let settings = &self.config.settings;
        let waits = !settings.kid_wait.min(settings.timeout).is_zero();
        let started = match kid {
            Some(kid) if waits && tokio::runtime::Handle::try_current().is_ok() => {
                Some(Arc::new(Flight::new(kid)))
            }
            _ => None,
        };
        self.flight.store(started.clone());
        started
    }

    /// Releases `flight` at the wait bound, by a timer task on the current runtime, unless
    /// the background task finished it first when the fetch ended.
    fn release_at_bound(&self, flight: &Arc<Flight>) {
        let settings = &self.config.settings;
        let wait = settings.kid_wait.min(settings.timeout);
        let release = Release(flight.clone());
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(async move {
                tokio::time::sleep(wait).await;
                drop(release);
            })),
            // No runtime to time it: released now, so that no waiter is left behind.
            Err(_) => drop(release),
        }
    }

    /// Starts the background task unless one runs. It needs a tokio runtime; without one
    /// the failure is recorded as the last error.
    pub(super) fn ensure_task(self: &Arc<Self>) {
        if self.task_running.load(Ordering::Acquire) || self.task_running.swap(true, Ordering::AcqRel) {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(run(Arc::downgrade(self), self.wake.clone()))),
            Err(_) => {
                self.task_running.store(false, Ordering::Release);
                if self.last_error.load().is_none() {
                    let error = "no tokio runtime to fetch the key set on: call warm_up() from within one";
                    self.last_error.store(Some(Arc::new(BackendError::msg(error))));
                }
            }
        }
    }

    /// One fetch, under the fetch lock (single flight with the task and other warm-ups);
    /// publishes the result, schedules the next attempt, and logs the outcome.
    pub(super) async fn refresh(&self) -> Result<(), BackendError> {
        let mut state = self.fetch.lock().await;
        bump(&self.counters.fetches, 1);
        let location = &self.config.location;
        match fetch(&self.config, &mut state).await {
            Ok(Outcome::Fresh { keys, skipped, max_age }) => {
                state.failures = 0;
                bump(&self.counters.skipped_keys, u64::try_from(skipped).unwrap_or(u64::MAX));
                crate::telemetry::jwks_fetch("ok");
                let next = self.interval(max_age);
                let count = keys.len();
                self.publish(keys, skipped);
                self.last_error.store(None);
                self.schedule(next);
                tracing::info!(source = ?location, status = 200, keys = count, skipped, next_refresh_secs = next.as_secs(), "key set fetched");
                Ok(())
            }
            Ok(Outcome::NotModified { max_age }) => {
                state.failures = 0;
                bump(&self.counters.not_modified, 1);
                crate::telemetry::jwks_fetch("not_modified");
                let next = self.interval(max_age);
                if let Some(current) = self.snapshot.load_full() {
                    self.publish(current.keys.clone(), current.skipped);
                }
                self.last_error.store(None);
                self.schedule(next);
                tracing::debug!(source = ?location, status = 304, next_refresh_secs = next.as_secs(), "key set not modified");
                Ok(())
            }
            Err(error) => {
                state.failures = state.failures.saturating_add(1);
                bump(&self.counters.failures, 1);
                crate::telemetry::jwks_fetch("failed");
                let retry = self.backoff(state.failures);
                self.schedule(retry);
                let serving = self.snapshot.load().as_deref().is_some_and(Snapshot::usable);
                tracing::warn!(
                    source = ?location,
                    error = %chain(&error),
                    retry_in_ms = millis(retry),
                    serving_last_good_set = serving,
                    "key set fetch failed"
                );
                self.last_error.store(Some(Arc::new(error.clone())));
                Err(error)
            }
        }
    }

    fn publish(&self, keys: KeySet, skipped: usize) {
        let usable_until = Instant::now().checked_add(self.config.settings.max_stale);
        let snapshot = Arc::new(Snapshot { keys, usable_until, fetched_at: SystemTime::now(), skipped });
        let previous = self.snapshot.swap(Some(snapshot.clone()));
        if previous.is_some_and(|previous| !snapshot.keys.keeps_every_key_of(&previous.keys)) {
            // After the store: a verifier that reads the new epoch also reads the new set.
            self.key_epoch.fetch_add(1, Ordering::AcqRel);
            tracing::info!(source = ?self.config.location, "a key was withdrawn: cached tokens it signed are verified again");
        }
    }

    /// The refresh interval for a response's freshness: clamped, and at most half the
    /// stale bound so that a set is refreshed before it goes stale.
    fn interval(&self, max_age: Option<Duration>) -> Duration {
        let config = &self.config;
        max_age
            .unwrap_or(config.settings.default_refresh)
            .clamp(config.settings.min_refresh, config.settings.max_refresh)
            .min(config.settings.max_stale / 2)
    }

    /// The delay before retry number `failures`: exponential, capped, with jitter.
    fn backoff(&self, failures: u32) -> Duration {
        let doubled =
            self.config.settings.retry_initial.saturating_mul(1 << failures.saturating_sub(1).min(20));
        let delay = doubled.min(self.config.settings.retry_max);
        // Up to a quarter less, so that many instances do not retry in step.
        let jitter = u32::try_from(RandomState::new().hash_one(failures) % 1000).unwrap_or(0);
        delay.saturating_sub((delay / 4).checked_mul(jitter).unwrap_or(Duration::ZERO) / 1000)
    }

    fn schedule(&self, after: Duration) {
        self.next_refresh_ms.store(self.now_ms().saturating_add(millis(after)), Ordering::Release);
    }

    fn refresh_due(&self) -> bool {
        self.now_ms() >= self.next_refresh_ms.load(Ordering::Acquire)
    }

    fn until_next_refresh(&self) -> Duration {
        Duration::from_millis(self.next_refresh_ms.load(Ordering::Acquire).saturating_sub(self.now_ms()))
    }

    pub(super) fn status(&self) -> KeySetStatus {
        let snapshot = self.snapshot.load_full();
        let current = snapshot.as_deref();
        KeySetStatus {
            usable: current.is_some_and(Snapshot::usable),
            keys: current.map_or(0, |snapshot| snapshot.keys.len()),
            kids: current
                .map(|snapshot| snapshot.keys.kids().map(str::to_owned).collect())
                .unwrap_or_default(),
            skipped: current.map_or(0, |snapshot| snapshot.skipped),
            fetched_at: current.map(|snapshot| snapshot.fetched_at),
            next_refresh_in: self.until_next_refresh(),
            last_error: self.last_error.load_full().map(|error| (*error).clone()),
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Wake the task so that it sees the set is gone and ends.
        self.wake.notify_one();
    }
}

/// Clears `task_running` when the task ends, also when its runtime shuts down, so that
/// the next request or warm-up starts a new one.
struct Running(Weak<Shared>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(shared) = self.0.upgrade() {
            shared.task_running.store(false, Ordering::Release);
        }
    }
}

/// The background task: fetches when a refresh is due or an unknown `kid` asked, then
/// sleeps until the next one or a wake-up. It holds the set weakly and ends once every
/// handle is dropped.
async fn run(set: Weak<Shared>, wake: Arc<Notify>) {
    let _running = Running(set.clone());
    loop {
        let wait = {
            let Some(shared) = set.upgrade() else { return };
            let requested = shared.fetch_requested.swap(false, Ordering::AcqRel);
            if requested || shared.refresh_due() {
                // A requested fetch releases the requests waiting for it when it ends.
                let flight = if requested { shared.flight.load_full().map(Release) } else { None };
                // The outcome is published, counted and logged by `refresh`.
                let _outcome = shared.refresh().await;
                drop(flight);
            }
            shared.until_next_refresh()
        };
        let _woken = tokio::time::timeout(wait, wake.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::keys::remote::RemoteKeySet;

    /// Nothing listens on the discard port: the refetch fails, which these tests never
    /// wait for.
    fn unreachable_set() -> RemoteKeySet {
        RemoteKeySet::builder("http://127.0.0.1:9/jwks")
            .unknown_kid_wait(Duration::from_secs(2))
            .build()
            .expect("a valid configuration")
    }

    #[tokio::test]
    async fn a_request_that_missed_the_snapshot_joins_a_refetch_that_already_finished() {
        let keys = unreachable_set();
        let shared = &keys.shared;
        let first =
            shared.unknown_kid(Some("2025-02"), true).expect("the first unknown kid starts a refetch");
        // The refetch publishes (or fails) and releases its waiters before a second
        // request, which missed the snapshot just before, reports the same kid.
        first.0.finish();
        let late =
            shared.unknown_kid(Some("2025-02"), true).expect("the late request joins the finished flight");
        assert!(late.0.is_done(), "its wait returns at once, and its lookup is retried");
        assert_eq!(shared.counters.read().refetches, 1, "no second fetch");
    }

    #[tokio::test]
    async fn another_kid_during_the_cooldown_is_refused_without_a_wait() {
        let keys = unreachable_set();
        let shared = &keys.shared;
        assert!(shared.unknown_kid(Some("2025-02"), true).is_some());
        assert!(shared.unknown_kid(Some("random"), true).is_none(), "a flood of other kids never waits");
        assert!(shared.unknown_kid(Some("2025-02"), false).is_none(), "a caller that cannot wait is refused");
    }
}
