//! The `warn` line for a token refused because its `kid` names no known key: the usual
//! sign of a resource server given the wrong key, or of an issuer that rotated to a key
//! this server was never given.
//!
//! One line per `kid` per minute, naming the `kid` (not a secret: it is in every token
//! header) and the key ids that are known. A flood of random `kid`s cannot flood the log
//! or grow memory: the `kid`s remembered are bounded (a moka cache), and beyond
//! [`KIDS_PER_PERIOD`] new ones in a minute, one summary line stands for the rest. All of
//! it runs on the refusal path only; the cache is built at the first unknown `kid`.

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use moka::sync::Cache;

/// How long a `kid` stays quiet after its line.
const PERIOD: Duration = Duration::from_secs(60);
/// How many distinct `kid`s get a line of their own per period; the rest are summarised.
pub(crate) const KIDS_PER_PERIOD: u32 = 32;
/// How many key ids a line lists at most.
const KNOWN_SHOWN: usize = 16;

/// At most 64 bytes of a `kid` taken from a token or a document, for logs.
pub(crate) fn short(kid: &str) -> &str {
    let mut end = kid.len().min(64);
    while !kid.is_char_boundary(end) {
        end -= 1;
    }
    &kid[..end]
}

/// What to log for one refused `kid`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// Nothing: this `kid` (or the summary) was logged within the period.
    Quiet,
    /// A line naming this `kid`.
    Kid,
    /// The summary: from now until the period ends, new `kid`s get no line of their own.
    Flood,
    /// A line naming this `kid`, after a period in which this many refusals went unnamed.
    KidAfterFlood(u64),
}

/// Rate-limits the unknown-`kid` line of one verifier.
#[derive(Default)]
pub(crate) struct UnknownKidLog {
    /// The `kid`s logged within the period: bounded, each forgotten after it.
    logged: OnceLock<Cache<Box<str>, ()>>,
    period: Mutex<Period>,
}

#[derive(Default)]
struct Period {
    started: Option<Instant>,
    lines: u32,
    unnamed: u64,
}

impl UnknownKidLog {
    /// Logs, at most once per `kid` per period, that a token of `issuer` named `kid` and
    /// no key has it; `known` lists the key ids there are.
    pub(crate) fn refused(&self, issuer: &str, kid: &str, known: impl FnOnce() -> Vec<String>) {
        let line = self.line_for(kid, Instant::now());
        if line == Line::Quiet {
            return;
        }
        let mut known = known();
        let more = known.len().saturating_sub(KNOWN_SHOWN);
        known.truncate(KNOWN_SHOWN);
        let kid = short(kid);
        match line {
            Line::Quiet => {}
            Line::Kid => tracing::warn!(
                issuer, kid = ?kid, known = ?known, more_known = more,
                "token refused: its kid names no known key (wrong key configured, or an unshared rotation?)"
            ),
            Line::KidAfterFlood(unnamed) => tracing::warn!(
                issuer, kid = ?kid, known = ?known, more_known = more, unnamed_last_period = unnamed,
                "token refused: its kid names no known key (after a flood of unknown kids)"
            ),
            Line::Flood => tracing::warn!(
                issuer, kid = ?kid, known = ?known, more_known = more, kids_named = KIDS_PER_PERIOD,
                "tokens with many distinct unknown kids: no further line per kid for a minute"
            ),
        }
    }

    /// Decides the line for `kid` at `now`, and remembers it.
    pub(crate) fn line_for(&self, kid: &str, now: Instant) -> Line {
        let logged = self.logged.get_or_init(|| {
            Cache::builder().max_capacity(u64::from(KIDS_PER_PERIOD) * 4).time_to_live(PERIOD).build()
        });
        if logged.contains_key(kid) {
            return Line::Quiet;
        }
        let mut period = self.period.lock().unwrap_or_else(PoisonError::into_inner);
        let mut unnamed_before = 0;
        if period.started.is_none_or(|started| now.saturating_duration_since(started) >= PERIOD) {
            unnamed_before = period.unnamed;
            *period = Period { started: Some(now), lines: 0, unnamed: 0 };
        }
        if period.lines < KIDS_PER_PERIOD {
            period.lines += 1;
            drop(period);
            logged.insert(Box::from(kid), ());
            return if unnamed_before > 0 { Line::KidAfterFlood(unnamed_before) } else { Line::Kid };
        }
        period.unnamed += 1;
        if period.unnamed == 1 {
            Line::Flood
        } else {
            Line::Quiet
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_kid_per_period() {
        let log = UnknownKidLog::default();
        let start = Instant::now();
        assert_eq!(log.line_for("a", start), Line::Kid);
        assert_eq!(log.line_for("a", start), Line::Quiet);
        assert_eq!(log.line_for("b", start), Line::Kid);
    }

    #[test]
    fn a_flood_of_kids_is_summarised_once_per_period() {
        let log = UnknownKidLog::default();
        let start = Instant::now();
        let lines: Vec<Line> = (0..1000).map(|i| log.line_for(&format!("kid-{i}"), start)).collect();
        let named = lines.iter().filter(|line| **line == Line::Kid).count();
        assert_eq!(named, KIDS_PER_PERIOD as usize);
        assert_eq!(lines.iter().filter(|line| **line == Line::Flood).count(), 1);
        assert_eq!(lines.len() - named - 1, lines.iter().filter(|line| **line == Line::Quiet).count());
        // The next period names the first new kid with how many went unnamed.
        let later = start + PERIOD;
        let unnamed = 1000 - u64::from(KIDS_PER_PERIOD);
        assert_eq!(log.line_for("fresh", later), Line::KidAfterFlood(unnamed));
        assert_eq!(log.line_for("fresh-2", later), Line::Kid);
    }

    #[test]
    fn short_cuts_long_kids_on_a_char_boundary() {
        assert_eq!(short("k1"), "k1");
        let long = "é".repeat(40);
        assert_eq!(short(&long).len(), 64);
        assert!(short(&long).chars().all(|c| c == 'é'));
    }
}
