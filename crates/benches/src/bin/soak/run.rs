//! The soak's two phases and its sampler: a closed-loop calibration (a fixed number of
//! clients, each starting its next scenario when the last one ends: the capacity), then an
//! open loop at a fixed rate (scenarios start on schedule whether or not earlier ones
//! finished, as real clients arrive), sampled every window for RSS, live heap bytes and
//! allocations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::counting;
use crate::traffic::Traffic;

/// What the calibration measured.
pub struct Capacity {
    pub scenarios_per_second: f64,
    pub requests_per_second: f64,
}

/// Runs `clients` closed-loop clients for `duration`.
pub async fn calibrate(traffic: &Arc<Traffic>, clients: usize, duration: Duration) -> Capacity {
    let requests_before = traffic.stats.requests();
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..clients.max(1))
        .map(|_| {
            let traffic = traffic.clone();
            let done = done.clone();
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    traffic.run(traffic.pick()).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    Capacity {
        scenarios_per_second: done.load(Ordering::Relaxed) as f64 / elapsed,
        requests_per_second: (traffic.stats.requests() - requests_before) as f64 / elapsed,
    }
}

/// How the open loop kept its schedule.
pub struct OpenLoop {
    pub scheduled: u64,
    /// Scenarios not started because `max_in_flight` were still running (the client's bound).
    pub skipped: u64,
    /// The most a scenario started after its scheduled instant.
    pub max_start_lag: Duration,
    pub elapsed: Duration,
    /// Scenarios still running when the drain gave up.
    pub unfinished: usize,
}

/// Starts `rate` scenarios a second for `duration`, at most `max_in_flight` at once, then
/// waits for the last ones (up to 60 s).
pub async fn open_loop(
    traffic: &Arc<Traffic>,
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
) -> OpenLoop {
    let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let slots = Arc::new(Semaphore::new(max_in_flight));
    let started = tokio::time::Instant::now();
    let (mut scheduled, mut skipped, mut max_start_lag) = (0u64, 0u64, Duration::ZERO);
    loop {
        let due = started + period.mul_f64(scheduled as f64);
        if due.duration_since(started) >= duration {
            break;
        }
        tokio::time::sleep_until(due).await;
        max_start_lag = max_start_lag.max(tokio::time::Instant::now().saturating_duration_since(due));
        scheduled += 1;
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            skipped += 1;
            continue;
        };
        let traffic = traffic.clone();
        tokio::spawn(async move {
            traffic.run(traffic.pick()).await;
            drop(slot);
        });
    }
    let elapsed = started.elapsed();
    let all = u32::try_from(max_in_flight).unwrap_or(u32::MAX);
    let drained = tokio::time::timeout(Duration::from_secs(60), slots.acquire_many(all)).await;
    let unfinished = match drained {
        Ok(Ok(permits)) => {
            drop(permits);
            0
        }
        _ => max_in_flight - slots.available_permits(),
    };
    OpenLoop { scheduled, skipped, max_start_lag, elapsed, unfinished }
}

/// One sample of the server and the heap.
#[derive(Clone, Copy)]
pub struct Sample {
    pub at: Duration,
    pub requests: u64,
    /// Revocations acknowledged so far (each one an entry the revocation list keeps until
    /// the token's expiry, up to its capacity).
    pub revocations: u64,
    pub rss_kib: Option<u64>,
    pub live_bytes: isize,
    pub allocations: u64,
}

/// Samples taken every window, in a vector sized for the whole run (it never grows while
/// measured).
pub struct Samples {
    pub taken: std::sync::Mutex<Vec<Sample>>,
}

impl Samples {
    pub fn with_capacity(n: usize) -> Self {
        Self { taken: std::sync::Mutex::new(Vec::with_capacity(n)) }
    }

    /// Takes one sample now (if there is room).
    pub fn take(&self, started: Instant, (requests, revocations): (u64, u64), rss_kib: Option<u64>) {
        let sample = Sample {
            at: started.elapsed(),
            requests,
            revocations,
            rss_kib,
            live_bytes: counting::live_bytes(),
            allocations: counting::allocations_total(),
        };
        let mut taken = self.taken.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if taken.len() < taken.capacity() {
            taken.push(sample);
        }
    }

    pub fn all(&self) -> Vec<Sample> {
        self.taken.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// Each window's requests, RSS, live bytes and the growth and allocations per request.
pub fn windows_json(samples: &[Sample]) -> Vec<Value> {
    samples
        .windows(2)
        .map(|pair| {
            let (from, to) = (pair[0], pair[1]);
            let requests = to.requests.saturating_sub(from.requests);
            let per = |delta: f64| if requests == 0 { 0.0 } else { delta / requests as f64 };
            json!({
                "from_s": from.at.as_secs_f64(),
                "to_s": to.at.as_secs_f64(),
                "requests": requests,
                "revocations": to.revocations.saturating_sub(from.revocations),
                "rss_kib": to.rss_kib,
                "live_bytes": to.live_bytes,
                "live_bytes_growth_per_request": per((to.live_bytes - from.live_bytes) as f64),
                "allocations_per_request": per(to.allocations.saturating_sub(from.allocations) as f64),
            })
        })
        .collect()
}

/// Live-byte growth over the last `fraction` of the samples (at least two): per request,
/// and per revocation acknowledged meanwhile.
pub fn tail_growth(samples: &[Sample], fraction: f64) -> (Option<f64>, Option<f64>) {
    let n = samples.len();
    if n < 2 {
        return (None, None);
    }
    let from = n - ((n as f64 * fraction).ceil() as usize).clamp(2, n);
    let (first, last) = (samples[from], samples[n - 1]);
    let grown = (last.live_bytes - first.live_bytes) as f64;
    let per = |count: u64| (count > 0).then(|| grown / count as f64);
    (
        per(last.requests.saturating_sub(first.requests)),
        per(last.revocations.saturating_sub(first.revocations)),
    )
}
