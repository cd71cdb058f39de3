//! A bounded soak of the quickstart (issue 21): its capacity measured with a short
//! closed-loop phase, then an open loop at a fraction of it (80 % by default) for a fixed
//! time, over loopback, with a mix of valid tokens (warm and cold), expired, revoked and
//! garbage tokens, refreshes (some racing on one token, some reusing a rotated one),
//! authorization-code exchanges and revocations. `crates/benches/soak.sh` builds and runs it.
//!
//! ```text
//! soak --quickstart target/release/quickstart --duration 300 --json soak.json   # the release binary
//! soak --duration 300 --max-growth 1                                          # in-process, counted
//! ```
//!
//! The report (stdout, and JSON with `--json`): requests by class and status, each class's
//! expected statuses and its unexpected ones, latency p50/p90/p99/max per class, RSS of the
//! server at start and end, and for every revocation acknowledged (a 200 from
//! `/oauth/revoke`, a refresh that replaced an access token, a reuse that revoked a family)
//! the next guard request with that token, which must be refused. The exit status is
//! non-zero when any answer was unexpected, any proof or refresh race violated, or (with
//! `--max-growth`) the live heap grew by more than that many bytes per request over the
//! last third of the run.
//!
//! Options: `--quickstart PATH` (the binary, run as a child; otherwise the same app runs
//! in this process, under the counting allocator of `src/counting.rs`), `--duration S`
//! (300), `--calibrate S` (10), `--clients N` (the calibration's closed-loop clients, 32),
//! `--load F` (0.8), `--rate R` (scenarios a second; replaces `--load`), `--window S` (10),
//! `--max-in-flight N` (256: below the quickstart's load-shedding limit of 512, so that an overloaded machine shows as skipped scenarios, not as 503s), `--server-threads N` (in process; one per core),
//! `--mix name=weight,…` (see `traffic.rs`), `--json PATH`, `--max-growth BYTES`.

mod http;
mod run;
mod server;
mod stats;
mod tokens;
mod traffic;

#[allow(dead_code)] // the memory bin reads the calling thread's counter
#[path = "../../counting.rs"]
mod counting;
// The quickstart's own app, as the `quickstart` binary builds and serves it.
#[path = "../../../../quickstart/src/demo/mod.rs"]
mod demo;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use counting::Counting;
use server::Server;
use tokens::ServerKey;
use traffic::Traffic;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The soak's settings.
#[derive(Clone, Debug)]
struct Options {
    quickstart: Option<PathBuf>,
    duration: Duration,
    calibrate: Duration,
    clients: usize,
    load: f64,
    rate: Option<f64>,
    window: Duration,
    max_in_flight: usize,
    server_threads: usize,
    mix: Option<String>,
    json: Option<PathBuf>,
    max_growth: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            quickstart: None,
            duration: Duration::from_secs(300),
            calibrate: Duration::from_secs(10),
            clients: 32,
            load: 0.8,
            rate: None,
            window: Duration::from_secs(10),
            max_in_flight: 256,
            server_threads: std::thread::available_parallelism().map_or(2, usize::from),
            mix: None,
            json: None,
            max_growth: None,
        }
    }
}

impl Options {
    fn parse(args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut options = Self::default();
        let mut args = args.peekable();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            let number =
                |text: String| text.parse::<f64>().map_err(|_| format!("{flag}: {text} is no number"));
            let seconds = |text: String| number(text).map(Duration::from_secs_f64);
            match flag.as_str() {
                "--quickstart" => options.quickstart = Some(PathBuf::from(value()?)),
                "--duration" => options.duration = seconds(value()?)?,
                "--calibrate" => options.calibrate = seconds(value()?)?,
                "--clients" => options.clients = number(value()?)? as usize,
                "--load" => options.load = number(value()?)?,
                "--rate" => options.rate = Some(number(value()?)?),
                "--window" => options.window = seconds(value()?)?.max(Duration::from_millis(100)),
                "--max-in-flight" => options.max_in_flight = (number(value()?)? as usize).max(1),
                "--server-threads" => options.server_threads = (number(value()?)? as usize).max(1),
                "--mix" => options.mix = Some(value()?),
                "--json" => options.json = Some(PathBuf::from(value()?)),
                "--max-growth" => options.max_growth = Some(number(value()?)?),
                other => return Err(format!("unknown option {other} (see the module docs of soak/main.rs)")),
            }
        }
        Ok(options)
    }
}

/// A soak's outcome: the report, and whether it passed.
struct Outcome {
    report: Value,
    passed: bool,
}

fn kib(value: Option<u64>) -> Value {
    value.map_or(Value::Null, Value::from)
}

/// Starts the server, runs both phases, and reports.
fn soak(options: &Options) -> Result<Outcome, String> {
    let key = ServerKey::generate()?;
    let mut server = match &options.quickstart {
        Some(binary) => Server::child(binary, &key.pem)?,
        None => Server::in_process(&key.pem, options.server_threads)?,
    };
    let rss_at_start = server.rss_kib();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("soak-client")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let weights = traffic::weights(options.mix.as_deref())?;
    let http = http::Http::new(&server.base);
    let outcome = runtime.block_on(async {
        let traffic = Arc::new(Traffic::prepare(http, &server.config, &key, weights.clone()).await?);
        let capacity = run::calibrate(&traffic, options.clients, options.calibrate).await;
        let rate = options.rate.unwrap_or(capacity.scenarios_per_second * options.load);
        let rss_after_calibration = server.rss_kib();
        let windows = (options.duration.as_secs_f64() / options.window.as_secs_f64()).ceil() as usize + 2;
        let samples = Arc::new(run::Samples::with_capacity(windows));
        let started = Instant::now();
        let requests_before = traffic.stats.requests();
        samples.take(started, traffic.stats.counts(), rss_after_calibration);
        let sampler = {
            let (samples, traffic, window) = (samples.clone(), traffic.clone(), options.window);
            let pid_rss = server_rss_reader(&server);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(window);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    samples.take(started, traffic.stats.counts(), pid_rss());
                }
            })
        };
        let open = run::open_loop(&traffic, rate, options.duration, options.max_in_flight).await;
        sampler.abort();
        let rss_at_end = server.rss_kib();
        samples.take(started, traffic.stats.counts(), rss_at_end);
        let samples = samples.all();
        let soak_requests = traffic.stats.requests() - requests_before;
        Ok::<_, String>((
            traffic,
            capacity,
            rate,
            open,
            samples,
            rss_after_calibration,
            rss_at_end,
            soak_requests,
        ))
    });
    let (traffic, capacity, rate, open, samples, rss_after_calibration, rss_at_end, soak_requests) = outcome?;
    let alive = server.is_alive();
    let in_process = server.is_in_process();
    let (growth, growth_per_revocation) = run::tail_growth(&samples, 1.0 / 3.0);
    let growth_ok = match (options.max_growth, growth, in_process) {
        (Some(limit), Some(growth), true) => growth <= limit,
        (Some(_), _, _) => false,
        (None, _, _) => true,
    };
    let stats = &traffic.stats;
    let passed = alive
        && stats.unexpected() == 0
        && stats.anomalies() == 0
        && stats.violations() == 0
        && stats.proofs_checked() > 0
        && open.unfinished == 0
        && growth_ok;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let report = json!({
        "server": match &options.quickstart {
            Some(binary) => format!("child process {}", binary.display()),
            None => "in process (counting allocator)".to_owned(),
        },
        "mix": weights.iter().map(|(s, w)| json!({"scenario": s.name(), "weight": w})).collect::<Vec<_>>(),
        "calibration": {
            "seconds": options.calibrate.as_secs_f64(),
            "clients": options.clients,
            "scenarios_per_second": capacity.scenarios_per_second,
            "requests_per_second": capacity.requests_per_second,
        },
        "open_loop": {
            "scenarios_per_second": rate,
            "load": if options.rate.is_some() { Value::Null } else { json!(options.load) },
            "seconds": open.elapsed.as_secs_f64(),
            "scenarios": open.scheduled,
            "skipped_at_max_in_flight": open.skipped,
            "unfinished": open.unfinished,
            "max_start_lag_ms": open.max_start_lag.as_secs_f64() * 1000.0,
            "requests": soak_requests,
            "requests_per_second": soak_requests as f64 / open.elapsed.as_secs_f64().max(1e-9),
        },
        "rss_kib": {
            "at_start": kib(rss_at_start),
            "after_calibration": kib(rss_after_calibration),
            "at_end": kib(rss_at_end),
            "measured": if in_process { "this process (server and client)" } else { "the child process" },
        },
        "memory": {
            "counted": if in_process { "server and client (one process)" } else { "client only" },
            "tail_growth_bytes_per_request": growth,
            "tail_growth_bytes_per_revocation": growth_per_revocation,
            "max_growth_bytes_per_request": options.max_growth,
            "windows": run::windows_json(&samples),
        },
        "server_alive_at_end": alive,
        "loadavg_at_end": load.trim(),
        "results": stats.json(),
        "passed": passed,
    });
    drop(server);
    Ok(Outcome { report, passed })
}

/// A reader of the server's RSS that the sampler task can own.
fn server_rss_reader(server: &Server) -> impl Fn() -> Option<u64> + Send + 'static {
    let path = match server.pid() {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    move || server::rss_kib(&path)
}

/// The report's summary for a terminal.
fn print_summary(report: &Value) {
    let results = &report["results"];
    println!("soak: {}", report["server"].as_str().unwrap_or_default());
    println!(
        "calibration: {:.0} scenarios/s ({:.0} requests/s) closed-loop; open loop at {:.0} scenarios/s for {:.0} s: {} requests ({:.0}/s), {} skipped, max start lag {:.1} ms",
        report["calibration"]["scenarios_per_second"].as_f64().unwrap_or(0.0),
        report["calibration"]["requests_per_second"].as_f64().unwrap_or(0.0),
        report["open_loop"]["scenarios_per_second"].as_f64().unwrap_or(0.0),
        report["open_loop"]["seconds"].as_f64().unwrap_or(0.0),
        report["open_loop"]["requests"],
        report["open_loop"]["requests_per_second"].as_f64().unwrap_or(0.0),
        report["open_loop"]["skipped_at_max_in_flight"],
        report["open_loop"]["max_start_lag_ms"].as_f64().unwrap_or(0.0),
    );
    println!(
        "{:<26} {:>8} {:>10} {:>8} {:>8} {:>8} {:>8}  statuses",
        "class", "count", "unexpected", "p50 µs", "p90 µs", "p99 µs", "max µs"
    );
    for class in results["classes"].as_array().into_iter().flatten() {
        let latency = &class["latency_us"];
        println!(
            "{:<26} {:>8} {:>10} {:>8} {:>8} {:>8} {:>8}  {}",
            class["class"].as_str().unwrap_or_default(),
            class["count"].as_u64().unwrap_or(0),
            class["unexpected"].as_u64().unwrap_or(0),
            latency["p50"].as_u64().unwrap_or(0),
            latency["p90"].as_u64().unwrap_or(0),
            latency["p99"].as_u64().unwrap_or(0),
            latency["max"].as_u64().unwrap_or(0),
            class["statuses"],
        );
    }
    println!("revocation proofs: {}", results["revocation_proofs"]);
    println!("refresh races: {}", results["refresh_races"]);
    println!("anomalies: {}", results["anomalies"]);
    println!("RSS KiB: {}", report["rss_kib"]);
    println!("memory ({}):", report["memory"]["counted"].as_str().unwrap_or_default());
    for window in report["memory"]["windows"].as_array().into_iter().flatten() {
        println!(
            "  {:>6.1}-{:>6.1} s  {:>8} requests  {:>6} revocations  RSS {:>8} KiB  live {:>12} B  growth {:>8.2} B/request  {:>6.1} allocations/request",
            window["from_s"].as_f64().unwrap_or(0.0),
            window["to_s"].as_f64().unwrap_or(0.0),
            window["requests"].as_u64().unwrap_or(0),
            window["revocations"].as_u64().unwrap_or(0),
            window["rss_kib"].as_u64().unwrap_or(0),
            window["live_bytes"].as_i64().unwrap_or(0),
            window["live_bytes_growth_per_request"].as_f64().unwrap_or(0.0),
            window["allocations_per_request"].as_f64().unwrap_or(0.0),
        );
    }
    println!(
        "tail growth (last third): {} B/request, {} B/revocation",
        report["memory"]["tail_growth_bytes_per_request"],
        report["memory"]["tail_growth_bytes_per_revocation"]
    );
    println!("passed: {}", report["passed"]);
}

fn main() -> ExitCode {
    let outcome = Options::parse(std::env::args().skip(1)).and_then(|options| {
        let outcome = soak(&options)?;
        if let Some(path) = &options.json {
            let text = serde_json::to_string_pretty(&outcome.report).map_err(|e| e.to_string())?;
            std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(outcome)
    });
    match outcome {
        Ok(outcome) => {
            print_summary(&outcome.report);
            if outcome.passed {
                ExitCode::SUCCESS
            } else {
                eprintln!("soak: FAILED (unexpected statuses, anomalies, violated proofs or races, unfinished scenarios, or heap growth)");
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("soak: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The short mode CI runs: the in-process quickstart for 8 s at a low fixed rate, with
    /// the scenarios that revoke weighted up so that every proof is exercised.
    #[test]
    fn a_short_soak_has_no_unexpected_status_and_honours_every_revocation() {
        let options = Options {
            duration: Duration::from_secs(8),
            calibrate: Duration::from_secs(1),
            clients: 4,
            rate: Some(40.0),
            window: Duration::from_secs(2),
            server_threads: 2,
            mix: Some("guard_warm=20,code=12,refresh=12,refresh_race=10,reuse=10,revoke=10".into()),
            ..Options::default()
        };
        let outcome = soak(&options).unwrap();
        let report = &outcome.report;
        let results = &report["results"];
        assert_eq!(results["unexpected"], 0, "{report:#}");
        assert_eq!(results["anomalies"], json!({}), "{report:#}");
        for proof in ["after_revoke", "after_rotation", "after_reuse"] {
            let proofs = &results["revocation_proofs"][proof];
            assert!(proofs["checked"].as_u64().unwrap() > 0, "no {proof} proof: {report:#}");
            assert_eq!(proofs["violated"], 0, "{proof}: {report:#}");
        }
        assert!(results["refresh_races"]["checked"].as_u64().unwrap() > 0, "{report:#}");
        assert_eq!(results["refresh_races"]["violated"], 0, "{report:#}");
        assert!(report["rss_kib"]["at_end"].as_u64().unwrap() > 0);
        assert!(report["memory"]["windows"].as_array().unwrap().len() >= 3, "{report:#}");
        assert!(outcome.passed, "{report:#}");
    }

    #[test]
    fn options_parse_and_refuse_unknown_flags() {
        let args = ["--duration", "12", "--rate", "50", "--mix", "reuse=0"].map(String::from);
        let options = Options::parse(args.into_iter()).unwrap();
        assert_eq!(options.duration, Duration::from_secs(12));
        assert_eq!(options.rate, Some(50.0));
        assert!(Options::parse(["--fast".to_owned()].into_iter()).is_err());
        assert!(traffic::weights(Some("nonsense=3")).is_err());
    }
}
