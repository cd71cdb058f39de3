//! The back-off arithmetic of [`Throttle`](super::Throttle): how long failures under one key
//! hold further attempts back. Pure: the time is an argument, so it is tested with any
//! clock.

use std::time::Duration;

use crate::store::Failures;

/// How failures under one key (an account, a client, an address) slow further attempts.
///
/// The first `free_failures` cost nothing; each one past them makes the next attempt wait,
/// `first_wait` and then twice as long each time, up to `max_wait`.
///
/// Failures are forgotten one per `forget_every`, and all at once by a success (for an account
/// or a client, not for an address).
///
/// ```
/// use std::time::Duration;
/// use tower_passport_issuer::Backoff;
/// let accounts = Backoff::ACCOUNTS;
/// // Three typos cost a legitimate user nothing.
/// assert_eq!(accounts.wait_after(3), Duration::ZERO);
/// assert_eq!(accounts.wait_after(6), Duration::from_secs(1));
/// assert_eq!(accounts.wait_after(7), Duration::from_secs(2));
/// assert_eq!(accounts.wait_after(40), Duration::from_secs(15 * 60));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    free_failures: u32,
    first_wait: Duration,
    max_wait: Duration,
    forget_every: Duration,
}

impl Backoff {
    /// Per account and per client: 5 free failures, then 1 s, 2 s, 4 s … up to 15 minutes;
    /// one failure forgotten every 15 minutes. A guesser on one account settles at about
    /// one guess per 15 minutes; a user who mistypes a few times never waits.
    pub const ACCOUNTS: Self =
        Self::new(5, Duration::from_secs(1), Duration::from_secs(15 * 60), Duration::from_secs(15 * 60));

    /// Per client address (an IPv6 address by its /64): 20 free failures, then 1 s, 2 s,
    /// 4 s … up to 15 minutes; one failure forgotten every minute. Spraying one password
    /// over many accounts from one address settles at about one guess a minute, while an
    /// office behind one NAT address that mistypes less than once a minute never waits.
    pub const ADDRESSES: Self =
        Self::new(20, Duration::from_secs(1), Duration::from_secs(15 * 60), Duration::from_secs(60));

    /// A policy; durations are counted in whole seconds (`forget_every` at least one).
    pub const fn new(
        free_failures: u32,
        first_wait: Duration,
        max_wait: Duration,
        forget_every: Duration,
    ) -> Self {
        Self { free_failures, first_wait, max_wait, forget_every }
    }

    /// The wait after `count` failures in a row.
    pub fn wait_after(&self, count: u32) -> Duration {
        let Some(past_free) = count.checked_sub(self.free_failures).filter(|past| *past > 0) else {
            return Duration::ZERO;
        };
        let doublings = past_free - 1;
        let factor = 1u32.checked_shl(doublings).unwrap_or(u32::MAX);
        self.first_wait.checked_mul(factor).map_or(self.max_wait, |wait| wait.min(self.max_wait))
    }

    /// Seconds after which one failure is forgotten (at least one).
    pub(crate) fn forget_every_secs(&self) -> u64 {
        self.forget_every.as_secs().max(1)
    }

    /// How long an attempt at `now` must still wait, given the failures recorded; `None`
    /// when it may go ahead.
    pub(crate) fn retry_after(&self, failures: Option<Failures>, now: u64) -> Option<Duration> {
        let failures = failures?;
        let until = failures.last_at.saturating_add(self.wait_after(failures.count).as_secs());
        (now < until).then(|| Duration::from_secs(until - now))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Backoff;
    use crate::store::Failures;

    const POLICY: Backoff =
        Backoff::new(3, Duration::from_secs(2), Duration::from_secs(60), Duration::from_secs(600));

    #[test]
    fn waits_double_past_the_free_failures_up_to_the_cap() {
        let waits: Vec<u64> = (0..=12).map(|count| POLICY.wait_after(count).as_secs()).collect();
        assert_eq!(waits, [0, 0, 0, 0, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        assert_eq!(POLICY.wait_after(u32::MAX), Duration::from_secs(60), "no overflow");
    }

    #[test]
    fn an_attempt_waits_out_the_back_off_of_the_last_failure() {
        let after_five = Some(Failures { count: 5, last_at: 1_000 });
        assert_eq!(POLICY.retry_after(after_five, 1_000), Some(Duration::from_secs(4)));
        assert_eq!(POLICY.retry_after(after_five, 1_003), Some(Duration::from_secs(1)));
        assert_eq!(POLICY.retry_after(after_five, 1_004), None);
        assert_eq!(POLICY.retry_after(Some(Failures { count: 3, last_at: 1_000 }), 1_000), None);
        assert_eq!(POLICY.retry_after(None, 1_000), None);
    }

    #[test]
    fn a_run_of_failures_under_a_controlled_clock() {
        // An attacker who always retries as soon as allowed: the waits double.
        let (mut now, mut failures, mut waits) = (10_000u64, None, Vec::new());
        for _ in 0..8 {
            if let Some(wait) = POLICY.retry_after(failures, now) {
                waits.push(wait.as_secs());
                now += wait.as_secs();
            }
            assert_eq!(POLICY.retry_after(failures, now), None);
            failures = Some(Failures::after(failures, now, POLICY.forget_every_secs()));
        }
        assert_eq!(waits, [2, 4, 8, 16]);
        // Quiet time forgets failures one per `forget_every`: 600 s later, one fewer.
        let later = Failures::after(failures, now + 600, POLICY.forget_every_secs());
        assert_eq!(later.count, 8);
    }
}
