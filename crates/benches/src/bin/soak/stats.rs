//! What the soak counts: every request by class and status (each class knows the statuses
//! it expects), its latency in a fixed histogram (no memory grows with the run, so the
//! counting allocator sees only the server's and the client's own), the revocation proofs,
//! the refresh races, and the anomalies (an answer that should have carried a token and did
//! not, say). All preallocated at start.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

/// A kind of request, named in the report, with the statuses it may get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// `GET /api/m2m` with a token the guard has cached.
    GuardWarm,
    /// `GET /api/m2m` with a token the guard sees for the first time.
    GuardCold,
    /// `GET /api/user` with a user token (from a code exchange or a refresh).
    GuardUser,
    /// A guard request with a token signed by the server's key, expired an hour ago.
    Expired,
    /// A guard request with a malformed, truncated or tampered token.
    Garbage,
    /// A guard request with a token revoked a while ago (RFC 7009).
    Revoked,
    /// The guard request right after `POST /oauth/revoke` answered 200.
    AfterRevoke,
    /// The guard request with the access token a refresh just replaced.
    AfterRotation,
    /// The guard request with the family's access token right after its reuse was refused.
    AfterReuse,
    /// `POST /oauth/token`, client credentials.
    MintClient,
    /// `GET /oauth/authorize` in a signed-in session: a redirect with a code, or the screen.
    Authorize,
    /// `POST /oauth/authorize`, approve.
    Approve,
    /// `POST /oauth/token`, authorization code with PKCE.
    CodeExchange,
    /// `POST /oauth/token`, refresh token (alone).
    Refresh,
    /// `POST /oauth/token`, refresh token, several at once with the same token.
    RefreshRace,
    /// `POST /oauth/token` with a refresh token rotated more than the race window ago.
    Reuse,
    /// `POST /oauth/token` with the current refresh token of a family revoked by reuse.
    DeadFamily,
    /// `POST /oauth/revoke`.
    Revoke,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 18] = [
        Class::GuardWarm,
        Class::GuardCold,
        Class::GuardUser,
        Class::Expired,
        Class::Garbage,
        Class::Revoked,
        Class::AfterRevoke,
        Class::AfterRotation,
        Class::AfterReuse,
        Class::MintClient,
        Class::Authorize,
        Class::Approve,
        Class::CodeExchange,
        Class::Refresh,
        Class::RefreshRace,
        Class::Reuse,
        Class::DeadFamily,
        Class::Revoke,
    ];

    /// The class's name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Class::GuardWarm => "guard_warm",
            Class::GuardCold => "guard_cold",
            Class::GuardUser => "guard_user",
            Class::Expired => "expired",
            Class::Garbage => "garbage",
            Class::Revoked => "revoked",
            Class::AfterRevoke => "after_revoke",
            Class::AfterRotation => "after_rotation",
            Class::AfterReuse => "after_reuse",
            Class::MintClient => "mint_client_credentials",
            Class::Authorize => "authorize",
            Class::Approve => "approve",
            Class::CodeExchange => "code_exchange",
            Class::Refresh => "refresh",
            Class::RefreshRace => "refresh_race",
            Class::Reuse => "refresh_reuse",
            Class::DeadFamily => "refresh_dead_family",
            Class::Revoke => "revoke",
        }
    }

    /// The statuses this class may get; anything else is unexpected.
    pub fn expected(self) -> &'static [u16] {
        match self {
            Class::GuardWarm | Class::GuardCold | Class::GuardUser => &[200],
            Class::Expired
            | Class::Garbage
            | Class::Revoked
            | Class::AfterRevoke
            | Class::AfterRotation
            | Class::AfterReuse => &[401],
            Class::MintClient | Class::CodeExchange | Class::Refresh | Class::Revoke => &[200],
            // A redirect with the code when the user holds the app's tokens; the screen otherwise.
            Class::Authorize => &[200, 302],
            Class::Approve => &[303],
            // One of the racers wins; the others get `invalid_grant`.
            Class::RefreshRace => &[200, 400],
            Class::Reuse | Class::DeadFamily => &[400],
        }
    }

    fn index(self) -> usize {
        Class::ALL.iter().position(|class| *class == self).unwrap_or(0)
    }
}

/// The statuses counted one by one; others (and transport errors, status 0) share the last slot.
const STATUSES: [u16; 12] = [200, 302, 303, 400, 401, 403, 404, 408, 429, 500, 503, 0];

/// Latencies in microseconds: exact below 128, then 64 buckets per power of two (under 1.6 %
/// error), up to about 2^40 µs.
const SUB_BUCKETS: u64 = 64;
const BUCKETS: usize = (128 + 34 * SUB_BUCKETS) as usize;

fn bucket(micros: u64) -> usize {
    if micros < 128 {
        return micros as usize;
    }
    let power = 63 - u64::from(micros.leading_zeros()); // ≥ 7
    let sub = (micros >> (power - 6)) & (SUB_BUCKETS - 1);
    (128 + (power - 7) * SUB_BUCKETS + sub).min(BUCKETS as u64 - 1) as usize
}

/// The smallest latency (µs) bucket `index` holds.
fn bucket_floor(index: usize) -> u64 {
    if index < 128 {
        return index as u64;
    }
    let power = (index as u64 - 128) / SUB_BUCKETS + 7;
    let sub = (index as u64 - 128) % SUB_BUCKETS;
    (1 << power) | (sub << (power - 6))
}

/// One class's counts.
struct ClassStats {
    statuses: [u64; STATUSES.len()],
    histogram: Box<[u64; BUCKETS]>,
    max_micros: u64,
}

impl ClassStats {
    fn new() -> Self {
        Self { statuses: [0; STATUSES.len()], histogram: Box::new([0; BUCKETS]), max_micros: 0 }
    }

    fn count(&self) -> u64 {
        self.statuses.iter().sum()
    }

    /// The latency (µs) at quantile `q` (0–1): the floor of the bucket it falls in.
    fn quantile(&self, q: f64) -> u64 {
        let total = self.histogram.iter().sum::<u64>();
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, n) in self.histogram.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_floor(index).min(self.max_micros);
            }
        }
        self.max_micros
    }
}

/// Proofs of one kind: each a guard request that had to be refused.
#[derive(Default)]
pub struct Proofs {
    pub checked: AtomicU64,
    pub violated: AtomicU64,
}

impl Proofs {
    /// Counts one proof: `refused` is whether the guard refused (401).
    pub fn check(&self, refused: bool) {
        self.checked.fetch_add(1, Ordering::Relaxed);
        if !refused {
            self.violated.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn json(&self) -> Value {
        json!({
            "checked": self.checked.load(Ordering::Relaxed),
            "violated": self.violated.load(Ordering::Relaxed),
        })
    }
}

/// Everything the soak counts.
pub struct Stats {
    classes: Vec<Mutex<ClassStats>>,
    requests: AtomicU64,
    /// After `POST /oauth/revoke` said 200, the token's next guard request.
    pub revoke: Proofs,
    /// After a refresh said 200, the replaced access token's next guard request.
    pub rotation: Proofs,
    /// After a reuse was refused, the family's current access token's next guard request.
    pub reuse: Proofs,
    /// A token revoked earlier, presented again later.
    pub revoked_later: Proofs,
    /// Refresh races: `checked` races, `violated` those without exactly one winner.
    pub races: Proofs,
    anomalies: Mutex<Vec<(&'static str, u64)>>,
}

impl Stats {
    pub fn new() -> Self {
        Self {
            classes: Class::ALL.iter().map(|_| Mutex::new(ClassStats::new())).collect(),
            requests: AtomicU64::new(0),
            revoke: Proofs::default(),
            rotation: Proofs::default(),
            reuse: Proofs::default(),
            revoked_later: Proofs::default(),
            races: Proofs::default(),
            anomalies: Mutex::new(Vec::with_capacity(16)),
        }
    }

    /// Counts one request of `class` answered `status` (0: no answer) after `elapsed`.
    pub fn record(&self, class: Class, status: u16, elapsed: Duration) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let slot = STATUSES.iter().position(|s| *s == status).unwrap_or(STATUSES.len() - 1);
        let mut stats = self.classes[class.index()].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        stats.statuses[slot] += 1;
        stats.histogram[bucket(micros)] += 1;
        stats.max_micros = stats.max_micros.max(micros);
    }

    /// Counts an answer with the right status but the wrong content (`what` says which).
    pub fn anomaly(&self, what: &'static str) {
        let mut anomalies = self.anomalies.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match anomalies.iter_mut().find(|(name, _)| *name == what) {
            Some((_, n)) => *n += 1,
            None => anomalies.push((what, 1)),
        }
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Requests sent and revocations acknowledged (revoke, rotation, reuse) so far.
    pub fn counts(&self) -> (u64, u64) {
        let revocations = [&self.revoke, &self.rotation, &self.reuse]
            .iter()
            .map(|proofs| proofs.checked.load(Ordering::Relaxed))
            .sum();
        (self.requests(), revocations)
    }

    /// Answers outside their class's expected set, transport errors included.
    pub fn unexpected(&self) -> u64 {
        Class::ALL
            .iter()
            .map(|class| {
                let stats =
                    self.classes[class.index()].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                STATUSES
                    .iter()
                    .zip(stats.statuses.iter())
                    .filter(|(status, _)| !class.expected().contains(status))
                    .map(|(_, n)| n)
                    .sum::<u64>()
            })
            .sum()
    }

    /// Anomalies so far, all kinds.
    pub fn anomalies(&self) -> u64 {
        self.anomalies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().map(|(_, n)| n).sum()
    }

    /// Violated revocation proofs and races, all kinds.
    pub fn violations(&self) -> u64 {
        [&self.revoke, &self.rotation, &self.reuse, &self.revoked_later, &self.races]
            .iter()
            .map(|proofs| proofs.violated.load(Ordering::Relaxed))
            .sum()
    }

    /// Revocation proofs checked, all kinds.
    pub fn proofs_checked(&self) -> u64 {
        [&self.revoke, &self.rotation, &self.reuse, &self.revoked_later]
            .iter()
            .map(|proofs| proofs.checked.load(Ordering::Relaxed))
            .sum()
    }

    /// The counts, latencies (µs), proofs and anomalies as JSON.
    pub fn json(&self) -> Value {
        let classes: Vec<Value> = Class::ALL
            .iter()
            .map(|class| {
                let stats =
                    self.classes[class.index()].lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let statuses: serde_json::Map<String, Value> = STATUSES
                    .iter()
                    .zip(stats.statuses.iter())
                    .filter(|(_, n)| **n > 0)
                    .map(|(status, n)| {
                        let name = if *status == 0 { "other".to_owned() } else { status.to_string() };
                        (name, json!(n))
                    })
                    .collect();
                let unexpected: u64 = STATUSES
                    .iter()
                    .zip(stats.statuses.iter())
                    .filter(|(status, _)| !class.expected().contains(status))
                    .map(|(_, n)| n)
                    .sum();
                json!({
                    "class": class.name(),
                    "expected": class.expected(),
                    "count": stats.count(),
                    "statuses": statuses,
                    "unexpected": unexpected,
                    "latency_us": {
                        "p50": stats.quantile(0.50),
                        "p90": stats.quantile(0.90),
                        "p99": stats.quantile(0.99),
                        "max": stats.max_micros,
                    },
                })
            })
            .collect();
        let anomalies: serde_json::Map<String, Value> = self
            .anomalies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(name, n)| ((*name).to_owned(), json!(n)))
            .collect();
        json!({
            "requests": self.requests(),
            "unexpected": self.unexpected(),
            "classes": classes,
            "revocation_proofs": {
                "after_revoke": self.revoke.json(),
                "after_rotation": self.rotation.json(),
                "after_reuse": self.reuse.json(),
                "revoked_later": self.revoked_later.json(),
            },
            "refresh_races": self.races.json(),
            "anomalies": anomalies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_floor_is_within_two_percent_below_the_latency() {
        for micros in [0, 1, 127, 128, 129, 1_000, 12_345, 999_999, 3_600_000_000] {
            let floor = bucket_floor(bucket(micros));
            assert!(floor <= micros, "{micros}: floor {floor}");
            assert!(micros - floor <= micros / 50, "{micros}: floor {floor}");
        }
    }

    #[test]
    fn a_status_outside_the_class_set_is_unexpected() {
        let stats = Stats::new();
        stats.record(Class::GuardWarm, 200, Duration::from_micros(300));
        stats.record(Class::Expired, 401, Duration::from_micros(300));
        assert_eq!(stats.unexpected(), 0);
        stats.record(Class::Expired, 200, Duration::from_micros(300));
        stats.record(Class::Refresh, 0, Duration::from_micros(300));
        assert_eq!(stats.unexpected(), 2);
    }

    #[test]
    fn quantiles_come_from_the_histogram() {
        let stats = Stats::new();
        for micros in 1..=100 {
            stats.record(Class::GuardWarm, 200, Duration::from_micros(micros));
        }
        let report = stats.json();
        let latency = &report["classes"][0]["latency_us"];
        assert_eq!(latency["p50"], 50);
        assert_eq!(latency["p99"], 99);
        assert_eq!(latency["max"], 100);
    }
}
