//! What the crate counts, through the [`metrics`](https://docs.rs/metrics) facade (feature
//! `metrics`); without the feature every function here is empty and compiles away.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `passport_auth_decisions_total` | counter | `outcome`: `allowed` (the guard let a token in) or `rejected` (any rejection: guard, scope layer, extractor); `reason`: the rejection's `Reason`, `none` when allowed |
//! | `passport_verified_token_cache_total` | counter | `result` (`hit`, `miss`) |
//! | `passport_principal_cache_total` | counter | `kind` (`user`, `client`), `result` |
//! | `passport_revocation_cache_total` | counter | `result` |
//! | `passport_verify_cold_seconds` | histogram | — (signature and claims of a token not in the cache) |
//! | `passport_jwks_fetches_total` | counter | `result` (`ok`, `not_modified`, `failed`) |
//! | `passport_jwks_unknown_kid_total` | counter | `action` (`refetch`, `cooldown`, `joined`) |
//! | `passport_bus_reconnects_total` | counter | `bus` (`postgres`, `redis`) |
//!
//! No label carries a token, a secret, a user or a client id: every label value comes
//! from a fixed set. The warm path's counters are registered once and then only
//! incremented, so install the recorder before the first request.

#[cfg(feature = "metrics")]
// Some are only called with the features that own their sites (issuer, jwks, buses).
#[allow(dead_code)]
mod recorded {
    use std::sync::OnceLock;

    use metrics::{counter, histogram, Counter, Histogram};

    use crate::error::Reason;

    /// A counter registered on first use (the warm path then costs one atomic add).
    macro_rules! once {
        ($($name:literal $(, $key:literal => $value:literal)*);* $(;)?) => {{
            static HANDLE: OnceLock<Counter> = OnceLock::new();
            HANDLE.get_or_init(|| counter!($($name $(, $key => $value)*)*))
        }};
    }

    pub(crate) fn allowed() {
        once!("passport_auth_decisions_total", "outcome" => "allowed", "reason" => "none").increment(1);
    }

    pub(crate) fn rejected(reason: Reason) {
        counter!("passport_auth_decisions_total", "outcome" => "rejected", "reason" => format!("{reason:?}"))
            .increment(1);
    }

    pub(crate) fn verified_cache(hit: bool) {
        if hit {
            once!("passport_verified_token_cache_total", "result" => "hit").increment(1);
        } else {
            once!("passport_verified_token_cache_total", "result" => "miss").increment(1);
        }
    }

    pub(crate) fn principal_cache(client: bool, hit: bool) {
        match (client, hit) {
            (false, true) => once!("passport_principal_cache_total", "kind" => "user", "result" => "hit"),
            (false, false) => once!("passport_principal_cache_total", "kind" => "user", "result" => "miss"),
            (true, true) => once!("passport_principal_cache_total", "kind" => "client", "result" => "hit"),
            (true, false) => once!("passport_principal_cache_total", "kind" => "client", "result" => "miss"),
        }
        .increment(1);
    }

    pub(crate) fn revocation_cache(hit: bool) {
        if hit {
            once!("passport_revocation_cache_total", "result" => "hit").increment(1);
        } else {
            once!("passport_revocation_cache_total", "result" => "miss").increment(1);
        }
    }

    pub(crate) fn cold_verify(seconds: f64) {
        static HANDLE: OnceLock<Histogram> = OnceLock::new();
        HANDLE.get_or_init(|| histogram!("passport_verify_cold_seconds")).record(seconds);
    }

    pub(crate) fn jwks_fetch(result: &'static str) {
        counter!("passport_jwks_fetches_total", "result" => result).increment(1);
    }

    pub(crate) fn jwks_unknown_kid(action: &'static str) {
        counter!("passport_jwks_unknown_kid_total", "action" => action).increment(1);
    }

    pub(crate) fn bus_reconnect(bus: &'static str) {
        counter!("passport_bus_reconnects_total", "bus" => bus).increment(1);
    }
}

#[cfg(not(feature = "metrics"))]
#[allow(dead_code, clippy::missing_const_for_fn)]
mod recorded {
    use crate::error::Reason;

    #[inline(always)]
    pub(crate) fn allowed() {}
    #[inline(always)]
    pub(crate) fn rejected(_reason: Reason) {}
    #[inline(always)]
    pub(crate) fn verified_cache(_hit: bool) {}
    #[inline(always)]
    pub(crate) fn principal_cache(_client: bool, _hit: bool) {}
    #[inline(always)]
    pub(crate) fn revocation_cache(_hit: bool) {}
    #[inline(always)]
    pub(crate) fn cold_verify(_seconds: f64) {}
    #[inline(always)]
    pub(crate) fn jwks_fetch(_result: &'static str) {}
    #[inline(always)]
    pub(crate) fn jwks_unknown_kid(_action: &'static str) {}
    #[inline(always)]
    pub(crate) fn bus_reconnect(_bus: &'static str) {}
}

#[allow(unused_imports)]
pub(crate) use recorded::*;
